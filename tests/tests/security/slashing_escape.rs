//! Leaving before the last work can be disputed: a provider completes its job, unstakes, waits
//! out the unbonding period, then settles a large attested receipt on the ended job and
//! withdraws right after, so that the client's dispute window opens on an empty stake.

use solana_signer::Signer;
use tessera::state::Provider;
use tessera::TesseraError;
use tessera_client::instructions::{self as ix, ResolveDisputeAccounts};
use tessera_client::pda;
use tessera_tests::*;

use crate::{scene, Scene};

/// The attack suite's scene (a running job of 1,000 units named to a staked provider, 100
/// units settled with the client's co-signature) and the provider's stake.
async fn running_job() -> (Scene, u64) {
    let mut scene = scene().await;
    let stake = scene
        .fixture
        .decode::<Provider>(&scene.provider.address)
        .await
        .stake;
    (scene, stake)
}

/// `running_job` after the authority shortened unbonding and the dispute window to a day (the
/// job keeps its two-day window) and let receipts live three days: the worker holds an attested
/// receipt issued before the end, the job completed, the whole stake is unbonding and a day
/// has passed.
async fn ended_with_a_late_receipt() -> (Scene, u64, SignedReceipt) {
    let (mut scene, stake) = running_job().await;
    let fixture = &mut scene.fixture;
    assert_ok(
        fixture
            .change_params(|params| {
                params.unbonding_period_secs = 86_400;
                params.dispute_window_secs = 86_400;
                params.receipt_max_age_secs = 3 * 86_400;
            })
            .await,
    );
    let mut receipt = fixture.receipt(&scene.job, &scene.provider, 900).await;
    receipt.expires_at = receipt.issued_at + 3 * 86_400;
    let signed = fixture.attested(receipt, &scene.provider).await;
    assert_ok(fixture.complete(&scene.provider, &scene.job).await);
    assert_ok(fixture.request_unstake(&scene.provider, stake).await);
    fixture.advance(86_400 + 1).await;
    (scene, stake, signed)
}

#[tokio::test]
async fn an_ended_job_settles_no_receipt_after_its_window_nor_one_issued_after_its_end() {
    let (mut scene, stake) = running_job().await;
    let fixture = &mut scene.fixture;
    let early = fixture.receipt(&scene.job, &scene.provider, 900).await;
    assert_ok(fixture.complete(&scene.provider, &scene.job).await);
    assert_ok(fixture.request_unstake(&scene.provider, stake).await);
    fixture
        .advance(default_params().unbonding_period_secs + 1)
        .await;

    // The attack: a large attested receipt on the Completed job, then withdraw and leave.
    let late = fixture.receipt(&scene.job, &scene.provider, 900).await;
    let signed = fixture.attested(late, &scene.provider).await;
    assert_err(
        fixture.settle(&scene.job, &scene.provider, &signed).await,
        TesseraError::ReceiptIssuedAfterJobEnded,
    );
    // A receipt issued before the end is refused too: the job's window has closed.
    let signed = fixture.attested(early, &scene.provider).await;
    assert_err(
        fixture.settle(&scene.job, &scene.provider, &signed).await,
        TesseraError::SettlementWindowClosed,
    );
    let job: tessera::state::Job = fixture.decode(&scene.job.address).await;
    assert_eq!(job.settled_units, 100, "nothing more was paid");
    assert_ok(fixture.withdraw(&scene.provider).await);
    let provider: Provider = fixture.decode(&scene.provider.address).await;
    assert_eq!(provider.settled_units, 100);
    assert_ok(fixture.deregister(&scene.provider).await);
    // Its units stay in the network's totals once its account is gone.
    let totals = fixture.network_account().await.totals;
    assert_eq!(totals.deregistered_settled_units, 100);
}

#[tokio::test]
async fn a_late_attested_settlement_keeps_the_stake_until_its_dispute_window_closes() {
    let (mut scene, stake, signed) = ended_with_a_late_receipt().await;
    let fixture = &mut scene.fixture;

    // Unbonding is over; the receipt, issued before the end, settles within the job's window.
    assert_ok(fixture.settle(&scene.job, &scene.provider, &signed).await);
    let provider: Provider = fixture.decode(&scene.provider.address).await;
    assert_eq!(provider.slashable_until, fixture.now + 2 * 86_400);
    assert_err(
        fixture.withdraw(&scene.provider).await,
        TesseraError::StakeStillSlashable,
    );

    // The client disputes within the window and the authority slashes the unbonding stake.
    let client = scene.client.wallet.insecure_clone();
    let open = ix::open_dispute(
        &client.pubkey(),
        &fixture.network,
        &scene.job.address,
        &scene.provider.address,
        [4; 32],
    );
    assert_ok(fixture.send(&[open], &[&client]).await);
    let client_reward = fixture.reward_tokens(&client.pubkey(), 0).await;
    let authority = fixture.authority.insecure_clone();
    let resolve = ix::resolve_dispute(
        ResolveDisputeAccounts {
            authority: authority.pubkey(),
            network: fixture.network,
            job: scene.job.address,
            client: client.pubkey(),
            provider: scene.provider.address,
            client_reward_token: client_reward,
            reward_mint: fixture.reward_mint,
        },
        stake,
    );
    assert_ok(fixture.send(&[resolve], &[&authority]).await);
    assert_eq!(fixture.balance(&client_reward).await, stake);

    // Slashed to nothing, it still may not leave while the window is open.
    assert_err(
        fixture.deregister(&scene.provider).await,
        TesseraError::StakeStillSlashable,
    );
    fixture.advance(2 * 86_400).await;
    assert_ok(fixture.deregister(&scene.provider).await);
    assert!(fixture.account(&scene.provider.address).await.is_none());
    assert!(fixture
        .account(&pda::stake_vault(&scene.provider.address))
        .await
        .is_none());
}

#[tokio::test]
async fn withdrawing_first_leaves_no_stake_to_settle_attested_work_against() {
    let (mut scene, stake, signed) = ended_with_a_late_receipt().await;
    let fixture = &mut scene.fixture;
    assert_ok(fixture.withdraw(&scene.provider).await);

    // The stake is gone: attested work on the ended job would be undisputable, so it waits
    // until the provider stakes its class minimum again.
    assert_err(
        fixture.settle(&scene.job, &scene.provider, &signed).await,
        TesseraError::StakeBelowMinimum,
    );
    let stake = ix::stake(
        &scene.provider.owner.pubkey(),
        &fixture.network,
        fixture.reward_mint,
        &scene.provider.reward_account,
        stake,
    );
    assert_ok(fixture.send(&[stake], &[&scene.provider.owner]).await);
    assert_ok(fixture.settle(&scene.job, &scene.provider, &signed).await);
    let provider: Provider = fixture.decode(&scene.provider.address).await;
    assert_eq!(provider.slashable_until, fixture.now + 2 * 86_400);
}
