//! Funds stranded by the rules themselves: a named job nobody accepted waiting a full dispute
//! window, and emissions of a provider that deregistered before claiming them.

use solana_signer::Signer;
use tessera::state::{Provider, ProviderClass};
use tessera_client::instructions::{self as ix, CloseJobAccounts};
use tessera_client::pda;
use tessera_tests::*;

#[tokio::test]
async fn a_named_job_nobody_accepted_closes_right_after_cancellation() {
    let mut fixture = TestFixture::new().await;
    let mint = fixture.create_mint(TOKEN).await;
    let client = fixture.client(mint, 1_000 * ONE).await;
    let provider = fixture.staked_provider(ProviderClass::Inference).await;
    let args = fixture.job_args(Some(provider.address));
    let (result, job) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    fixture.advance(3_601).await;
    assert_ok(fixture.cancel(&client, &job, None).await);
    let close = ix::close_job(CloseJobAccounts {
        cranker: fixture.context.payer.pubkey(),
        network: fixture.network,
        job: job.address,
        client: client.wallet.pubkey(),
        client_token: client.token_account,
        treasury_token: None,
        payment_mint: mint,
    });
    assert_ok(fixture.send(&[close], &[]).await);
    assert_eq!(fixture.balance(&client.token_account).await, 1_000 * ONE);
}

#[tokio::test]
async fn a_provider_that_deregistered_is_still_paid_its_emissions() {
    let mut fixture = TestFixture::new().await;
    fixture.set_attestors(3, 2).await;
    let provider = fixture.staked_provider(ProviderClass::Bandwidth).await;
    let service = fixture.service_instructions(&provider, 1_000_000).await;
    assert_ok(fixture.send(&service, &[]).await);
    let epoch = fixture.current_epoch().await;

    // Service receipts open no dispute window: the provider may leave after unbonding.
    let stake = fixture.decode::<Provider>(&provider.address).await.stake;
    assert_ok(fixture.request_unstake(&provider, stake).await);
    fixture
        .advance(default_params().unbonding_period_secs)
        .await;
    assert_ok(fixture.withdraw(&provider).await);
    assert_ok(fixture.deregister(&provider).await);
    assert!(fixture.account(&provider.address).await.is_none());

    // Anyone cranks the tally and the claim; the emission goes to the former owner.
    fixture.tally(&[provider.address], epoch).await;
    let (claim, reward_account) = fixture.claim_instruction(&provider, epoch).await;
    assert_ok(fixture.send(&[claim], &[]).await);
    let emission = default_emission().initial_per_epoch;
    assert_eq!(fixture.balance(&reward_account).await, emission);
    assert!(fixture
        .account(&pda::work_record(&provider.address, epoch))
        .await
        .is_none());
}
