//! Voiding receipts the client already co-signed: the client cancels one second after the
//! deadline, or waits out a settlement pause, so that the worker's unsettled receipts can no
//! longer settle and the whole escrow comes back to the client.

use solana_signer::Signer;
use tessera::state::{Job, PauseFlags, ProviderClass};
use tessera::TesseraError;
use tessera_client::instructions::{self as ix, CloseJobAccounts};
use tessera_tests::*;

const FUNDS: u64 = 10_000 * ONE;

struct Scene {
    fixture: TestFixture,
    client: TestClient,
    provider: TestProvider,
    job: TestJob,
    treasury_token: solana_pubkey::Pubkey,
}

/// A running job of 100 units with 10 settled, named to a staked Inference provider.
async fn running_job() -> Scene {
    let mut fixture = TestFixture::new().await;
    let mint = fixture.create_mint(TOKEN).await;
    let client = fixture.client(mint, FUNDS).await;
    let provider = fixture.staked_provider(ProviderClass::Inference).await;
    let args = fixture.job_args(Some(provider.address));
    let (result, job) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    assert_ok(fixture.accept(&provider, &job).await);
    let receipt = fixture.receipt(&job, &provider, 10).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);
    let treasury = fixture.treasury.pubkey();
    let treasury_token = fixture.token_account(mint, &treasury).await;
    Scene {
        fixture,
        client,
        provider,
        job,
        treasury_token,
    }
}

impl Scene {
    async fn close(&mut self) -> TxResult {
        let close = ix::close_job(CloseJobAccounts {
            cranker: self.fixture.context.payer.pubkey(),
            network: self.fixture.network,
            job: self.job.address,
            client: self.client.wallet.pubkey(),
            client_token: self.client.token_account,
            treasury_token: Some(self.treasury_token),
            payment_mint: self.job.mint,
        });
        self.fixture.send(&[close], &[]).await
    }

    async fn set_settlements_paused(&mut self, paused: bool) {
        self.fixture
            .pause(PauseFlags {
                settlements: paused,
                ..PauseFlags::default()
            })
            .await;
    }
}

#[tokio::test]
async fn cancelling_after_the_deadline_does_not_void_cosigned_receipts() {
    let mut scene = running_job().await;
    let fixture = &mut scene.fixture;
    let deadline = scene.job.args.deadline;
    fixture.advance(deadline - fixture.now - 60).await;
    let receipt = fixture.receipt(&scene.job, &scene.provider, 90).await;
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
    assert_eq!(job.settled_units, 90, "the co-signed work is paid");
    fixture.assert_job_balanced(&scene.job).await;

    // Work after the end does not settle.
    let mut after = fixture.receipt(&scene.job, &scene.provider, 100).await;
    after.issued_at = job.ended_at + 1;
    let after = TestFixture::sign(after, &scene.provider.worker, &[&scene.client.wallet]);
    assert_err(
        fixture.settle(&scene.job, &scene.provider, &after).await,
        TesseraError::ReceiptIssuedAfterJobEnded,
    );
}

#[tokio::test]
async fn a_settlement_pause_shortens_neither_a_receipt_nor_a_job_window() {
    let mut scene = running_job().await;
    let receipt = scene.fixture.receipt(&scene.job, &scene.provider, 60).await;
    let cosigned = TestFixture::sign(receipt, &scene.provider.worker, &[&scene.client.wallet]);
    scene.fixture.advance(100).await;
    scene.set_settlements_paused(true).await;

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
    assert_err(scene.close().await, TesseraError::DisputeWindowOpen);
    scene.set_settlements_paused(false).await;

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
        60
    );
    // The job's window restarts its count after the pause: still open for almost two days.
    assert_err(scene.close().await, TesseraError::DisputeWindowOpen);
    scene.fixture.advance(2 * 86_400).await;
    assert_ok(scene.close().await);
}

#[tokio::test]
async fn a_receipt_that_expired_before_the_pause_gains_nothing() {
    let mut scene = running_job().await;
    let receipt = scene.fixture.receipt(&scene.job, &scene.provider, 60).await;
    let cosigned = TestFixture::sign(receipt, &scene.provider.worker, &[&scene.client.wallet]);
    scene.fixture.advance(601).await;
    scene.set_settlements_paused(true).await;
    scene.fixture.advance(3_600).await;
    scene.set_settlements_paused(false).await;
    assert_err(
        scene
            .fixture
            .settle(&scene.job, &scene.provider, &cosigned)
            .await,
        TesseraError::ReceiptExpired,
    );
}
