//! Voiding receipts the client already co-signed: the client cancels one second after the
//! deadline, waits out a settlement pause, or cancels as a no-show while a pause keeps the
//! provider from settling, so that the worker's unsettled receipts can no longer settle and the
//! whole escrow comes back to the client.

use solana_pubkey::Pubkey;
use solana_signer::Signer;
use tessera::state::{Job, PauseFlags, Provider};
use tessera::TesseraError;
use tessera_client::instructions::{self as ix, CloseJobAccounts};
use tessera_tests::*;

use crate::{scene, Scene, FUNDS};

/// Sends `close_job` for the scene's job.
async fn close(scene: &mut Scene, treasury_token: Pubkey) -> TxResult {
    let close = ix::close_job(CloseJobAccounts {
        cranker: scene.fixture.context.payer.pubkey(),
        network: scene.fixture.network,
        job: scene.job.address,
        client: scene.client.wallet.pubkey(),
        client_token: scene.client.token_account,
        treasury_token: Some(treasury_token),
        payment_mint: scene.job.mint,
    });
    scene.fixture.send(&[close], &[]).await
}

/// Pauses or resumes settlements, and nothing else.
async fn set_settlements_paused(fixture: &mut TestFixture, paused: bool) {
    fixture
        .pause(PauseFlags {
            settlements: paused,
            ..PauseFlags::default()
        })
        .await;
}

#[tokio::test]
async fn cancelling_after_the_deadline_does_not_void_cosigned_receipts() {
    let mut scene = scene().await;
    let fixture = &mut scene.fixture;
    let deadline = scene.job.args.deadline;
    fixture.advance(deadline - fixture.now - 60).await;
    let receipt = fixture.receipt(&scene.job, &scene.provider, 190).await;
    let cosigned = TestFixture::sign(receipt, &scene.provider.worker, &[&scene.client.wallet]);

    // The client cancels one second after the deadline, before the worker submits.
    fixture.advance(61).await;
    assert_ok(
        fixture
            .cancel(&scene.client, &scene.job, Some(&scene.provider))
            .await,
    );
    assert_ok(fixture.settle(&scene.job, &scene.provider, &cosigned).await);
    let job: Job = fixture.decode(&scene.job.address).await;
    assert_eq!(job.settled_units, 190, "the co-signed work is paid");
    fixture.assert_job_balanced(&scene.job).await;

    // Work after the end does not settle.
    let mut after = fixture.receipt(&scene.job, &scene.provider, 200).await;
    after.issued_at = job.ended_at + 1;
    let after = TestFixture::sign(after, &scene.provider.worker, &[&scene.client.wallet]);
    assert_err(
        fixture.settle(&scene.job, &scene.provider, &after).await,
        TesseraError::ReceiptIssuedAfterJobEnded,
    );
}

#[tokio::test]
async fn a_settlement_pause_shortens_neither_a_receipt_nor_a_job_window() {
    let mut scene = scene().await;
    let treasury = scene.fixture.treasury.pubkey();
    let treasury_token = scene.fixture.token_account(scene.job.mint, &treasury).await;
    let receipt = scene
        .fixture
        .receipt(&scene.job, &scene.provider, 160)
        .await;
    let cosigned = TestFixture::sign(receipt, &scene.provider.worker, &[&scene.client.wallet]);
    scene.fixture.advance(100).await;
    set_settlements_paused(&mut scene.fixture, true).await;

    // While settlements are paused for three days, the deadline passes and the client cancels.
    let deadline = scene.job.args.deadline;
    scene
        .fixture
        .advance(deadline - scene.fixture.now + 1)
        .await;
    assert_ok(
        scene
            .fixture
            .cancel(&scene.client, &scene.job, Some(&scene.provider))
            .await,
    );
    scene.fixture.advance(3 * 86_400).await;
    assert_err(
        close(&mut scene, treasury_token).await,
        TesseraError::DisputeWindowOpen,
    );
    set_settlements_paused(&mut scene.fixture, false).await;

    // The receipt expired by the wall clock long ago, but the pause froze its life.
    assert!(scene.fixture.now > cosigned.receipt.expires_at + 86_400);
    assert_ok(
        scene
            .fixture
            .settle(&scene.job, &scene.provider, &cosigned)
            .await,
    );
    assert_eq!(
        scene
            .fixture
            .decode::<Job>(&scene.job.address)
            .await
            .settled_units,
        160
    );
    // The job's window restarts its count after the pause: still open for almost two days.
    assert_err(
        close(&mut scene, treasury_token).await,
        TesseraError::DisputeWindowOpen,
    );
    scene.fixture.advance(2 * 86_400).await;
    assert_ok(close(&mut scene, treasury_token).await);
}

#[tokio::test]
async fn a_receipt_that_expired_before_the_pause_gains_nothing() {
    let mut scene = scene().await;
    let receipt = scene
        .fixture
        .receipt(&scene.job, &scene.provider, 160)
        .await;
    let cosigned = TestFixture::sign(receipt, &scene.provider.worker, &[&scene.client.wallet]);
    scene.fixture.advance(601).await;
    set_settlements_paused(&mut scene.fixture, true).await;
    scene.fixture.advance(3_600).await;
    set_settlements_paused(&mut scene.fixture, false).await;
    assert_err(
        scene
            .fixture
            .settle(&scene.job, &scene.provider, &cosigned)
            .await,
        TesseraError::ReceiptExpired,
    );
}

#[tokio::test]
async fn a_settlement_pause_cannot_make_a_provider_a_no_show() {
    let mut fixture = TestFixture::new().await;
    let (client, provider, job) = fixture.accepted_job(FUNDS, 1_000).await;
    let timeout = fixture.decode::<Job>(&job.address).await.start_timeout_secs;
    let receipt = fixture.receipt(&job, &provider, 50).await;
    let cosigned = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);

    // The provider has its co-signed receipt a minute after accepting, but settlements are
    // paused before it submits, for longer than the whole start timeout.
    fixture.advance(60).await;
    set_settlements_paused(&mut fixture, true).await;
    fixture.advance(timeout + 600).await;
    assert_err(
        fixture.cancel(&client, &job, Some(&provider)).await,
        TesseraError::CancelTooEarly,
    );
    set_settlements_paused(&mut fixture, false).await;

    // The pause did not count: the provider settles as soon as it ends.
    assert_ok(fixture.settle(&job, &provider, &cosigned).await);
    assert_eq!(fixture.decode::<Job>(&job.address).await.settled_units, 50);

    // A job accepted during a pause starts its count when the pause ends, and then runs out
    // as usual: the client cancels it as a no-show one second after.
    let mut args = fixture.job_args(Some(provider.address));
    args.deadline = fixture.now + 30 * 86_400;
    let (created, idle) = fixture.create_job(&client, job.mint, args).await;
    assert_ok(created);
    set_settlements_paused(&mut fixture, true).await;
    assert_ok(fixture.accept(&provider, &idle).await);
    fixture.advance(2 * timeout).await;
    set_settlements_paused(&mut fixture, false).await;
    fixture.advance(timeout).await;
    assert_err(
        fixture.cancel(&client, &idle, Some(&provider)).await,
        TesseraError::CancelTooEarly,
    );
    fixture.advance(1).await;
    assert_ok(fixture.cancel(&client, &idle, Some(&provider)).await);
    let idle_job: Job = fixture.decode(&idle.address).await;
    assert!(
        idle_job.no_show,
        "settled nothing in its own time: a no-show"
    );
    assert_eq!(
        fixture.decode::<Provider>(&provider.address).await.no_shows,
        1
    );
}
