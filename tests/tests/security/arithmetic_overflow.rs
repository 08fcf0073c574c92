//! Arithmetic at the u64 limits: products that overflow are refused with MathOverflow; the
//! largest amounts that fit settle exactly (multiplications go through u128).

use solana_signer::Signer;
use tessera::state::{Job, ProviderClass};
use tessera::TesseraError;
use tessera_client::instructions as ix;
use tessera_tests::*;

#[tokio::test]
async fn deposits_past_u64_are_refused_and_u64_max_settles_exactly() {
    let mut fixture = TestFixture::new().await;
    let mint = fixture.create_mint(TOKEN).await;
    let client = fixture.client(mint, u64::MAX).await;
    let provider = fixture.staked_provider(ProviderClass::Inference).await;

    let mut args = fixture.job_args(Some(provider.address));
    args.price_per_unit = 2;
    args.max_units = u64::MAX / 2 + 1;
    let (result, _) = fixture.create_job(&client, mint, args).await;
    assert_err(result, TesseraError::MathOverflow);

    // Price 1, u64::MAX units: the whole supply in escrow.
    let mut args = fixture.job_args(Some(provider.address));
    args.price_per_unit = 1;
    args.max_units = u64::MAX - 1;
    let (result, job) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    let top_up = ix::top_up(
        &client.wallet.pubkey(),
        &job.address,
        mint,
        &client.token_account,
        2,
    );
    assert_err(
        fixture.send(&[top_up], &[&client.wallet]).await,
        TesseraError::MathOverflow,
    );
    let top_up = ix::top_up(
        &client.wallet.pubkey(),
        &job.address,
        mint,
        &client.token_account,
        1,
    );
    assert_ok(fixture.send(&[top_up], &[&client.wallet]).await);
    let accept = ix::accept_job(&provider.owner.pubkey(), &fixture.network, &job.address);
    assert_ok(fixture.send(&[accept], &[&provider.owner]).await);

    let receipt = fixture.receipt(&job, &provider, u64::MAX).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);
    let state: Job = fixture.decode(&job.address).await;
    let fee = (u64::MAX as u128 * 250 / 10_000) as u64;
    assert_eq!(
        (state.settled_units, state.fees_accrued, state.paid_out),
        (u64::MAX, fee, u64::MAX - fee)
    );
    fixture.assert_job_balanced(&job).await;
}
