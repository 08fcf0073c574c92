//! Rounding that favours the caller: splitting one settlement into many tiny ones must not
//! shave the protocol fee (floor per piece would round every piece's fee down to zero).

use solana_signer::Signer;
use tessera::state::{Job, ProviderClass};
use tessera_client::instructions as ix;
use tessera_tests::*;

#[tokio::test]
async fn tiny_settlements_pay_the_same_fee_as_one_big_one() {
    let mut fixture = TestFixture::new().await;
    let mint = fixture.create_mint(TOKEN).await;
    let client = fixture.client(mint, 1_000).await;
    let provider = fixture.staked_provider(ProviderClass::Inference).await;
    let mut args = fixture.job_args(Some(provider.address));
    // 1 base unit per unit at 250 bps: each single unit's own fee would floor to 0.
    args.price_per_unit = 1;
    args.max_units = 1_000;
    let (result, job) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    let accept = ix::accept_job(&provider.owner.pubkey(), &fixture.network, &job.address);
    assert_ok(fixture.send(&[accept], &[&provider.owner]).await);
    for units in 1..=80 {
        let receipt = fixture.receipt(&job, &provider, units).await;
        let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
        assert_ok(fixture.settle(&job, &provider, &signed).await);
    }
    let state: Job = fixture.decode(&job.address).await;
    assert_eq!(
        state.fees_accrued,
        80 * 250 / 10_000,
        "the fee on 80 units, not 80 fees on 1 unit"
    );
    assert_eq!(state.paid_out, 80 - 2);
    fixture.assert_job_balanced(&job).await;
}
