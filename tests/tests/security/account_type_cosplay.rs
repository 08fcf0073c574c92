//! Account type cosplay: one Tessera account passed where another Tessera type is expected.

use crate::scene;
use solana_signer::Signer;
use tessera_client::instructions as ix;
use tessera_tests::*;

#[tokio::test]
async fn a_provider_cannot_pose_as_a_job_nor_a_job_as_a_network() {
    let mut scene = scene().await;
    let fixture = &mut scene.fixture;
    let client = scene.client.wallet.insecure_clone();

    // The provider account (owned by Tessera, right size class) where the job should be.
    let mut cancel = ix::cancel_job(&client.pubkey(), &fixture.network, &scene.job.address, None);
    swap_account(&mut cancel, &scene.job.address, &scene.provider.address);
    assert_anchor_err(
        fixture.send(&[cancel], &[&client]).await,
        AnchorErrorCode::AccountDiscriminatorMismatch,
    );

    // The job where the network should be.
    let owner = scene.provider.owner.insecure_clone();
    let network = fixture.network;
    let mut unstake = ix::request_unstake(&owner.pubkey(), &network, 1);
    swap_account(&mut unstake, &network, &scene.job.address);
    assert_anchor_err(
        fixture.send(&[unstake], &[&owner]).await,
        AnchorErrorCode::AccountDiscriminatorMismatch,
    );
}
