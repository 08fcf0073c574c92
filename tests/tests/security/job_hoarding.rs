//! Hoarding open jobs: a provider staked at its class minimum accepts every open job it can
//! and does nothing, locking clients' escrow until the deadline plus the dispute window at no
//! cost to itself.

use tessera::state::{Job, JobStatus, Provider, ProviderClass, ProviderStatus};
use tessera::TesseraError;
use tessera_client::instructions::{self as ix, CloseJobAccounts};
use tessera_tests::*;

const FUNDS: u64 = 10_000 * ONE;

#[tokio::test]
async fn one_minimum_stake_holds_a_bounded_number_of_jobs_and_no_shows_strike_out() {
    let mut fixture = TestFixture::new().await;
    let mint = fixture.create_mint(TOKEN).await;
    let client = fixture.client(mint, FUNDS).await;
    let hoarder = fixture.staked_provider(ProviderClass::Inference).await;
    let class = default_params().classes[ProviderClass::Inference.index()];
    let capacity = (class.min_stake / class.stake_per_job) as usize;
    assert_eq!(capacity, 4);

    let mut jobs = Vec::new();
    for _ in 0..=capacity {
        let mut args = fixture.job_args(None);
        args.accept_by = args.deadline - 1;
        let (result, job) = fixture.create_job(&client, mint, args).await;
        assert_ok(result);
        jobs.push(job);
    }
    for job in &jobs[..capacity] {
        assert_ok(fixture.accept(&hoarder, job).await);
    }
    assert_err(
        fixture.accept(&hoarder, &jobs[capacity]).await,
        TesseraError::JobLimitReached,
    );
    // The stake the running jobs hold cannot leave either.
    assert_err(
        fixture.request_unstake(&hoarder, 1).await,
        TesseraError::StakeLockedByActiveJobs,
    );

    // Within the start timeout the client must wait; after it, a job with nothing settled is a
    // no-show the client may cancel at once.
    assert_err(
        fixture.cancel(&client, &jobs[0], Some(&hoarder)).await,
        TesseraError::CancelTooEarly,
    );
    let receipt = fixture.receipt(&jobs[0], &hoarder, 10).await;
    let late_work = TestFixture::sign(receipt, &hoarder.worker, &[&client.wallet]);
    fixture
        .advance(default_params().start_timeout_secs + 1)
        .await;
    assert_ok(fixture.cancel(&client, &jobs[0], Some(&hoarder)).await);
    let state: Job = fixture.decode(&jobs[0].address).await;
    assert!(state.no_show && state.status == JobStatus::Cancelled);
    let provider: Provider = fixture.decode(&hoarder.address).await;
    assert_eq!((provider.no_shows, provider.active_jobs), (1, 3));

    // Nothing settles on a no-show, and it closes at once with the whole escrow refunded.
    assert_err(
        fixture.settle(&jobs[0], &hoarder, &late_work).await,
        TesseraError::JobNotSettleable,
    );
    let cranker = fixture.wallet().await;
    let close = ix::close_job(CloseJobAccounts {
        cranker: solana_signer::Signer::pubkey(&cranker),
        network: fixture.network,
        job: jobs[0].address,
        client: solana_signer::Signer::pubkey(&client.wallet),
        client_token: client.token_account,
        treasury_token: None,
        payment_mint: mint,
    });
    let before = fixture.balance(&client.token_account).await;
    assert_ok(fixture.send(&[close], &[&cranker]).await);
    assert_eq!(
        fixture.balance(&client.token_account).await,
        before + state.deposited
    );

    // Two more no-shows reach jail_after_lost_disputes (3): the hoarder is jailed.
    for job in &jobs[1..3] {
        assert_ok(fixture.cancel(&client, job, Some(&hoarder)).await);
    }
    let provider: Provider = fixture.decode(&hoarder.address).await;
    assert_eq!(provider.no_shows, 3);
    assert_eq!(provider.status, ProviderStatus::Jailed);
    assert_err(
        fixture.accept(&hoarder, &jobs[capacity]).await,
        TesseraError::ProviderJailed,
    );
}
