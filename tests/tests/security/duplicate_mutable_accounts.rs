//! Duplicate mutable accounts: the same account in two writable roles of one instruction.

use crate::scene;
use solana_signer::Signer;
use tessera_client::instructions::{self as ix, CloseJobAccounts};
use tessera_tests::*;

#[tokio::test]
async fn one_account_in_two_writable_roles_is_refused() {
    let mut scene = scene().await;

    // Paying the provider into the job's own vault.
    let signed = scene.cosigned(200).await;
    let fixture = &mut scene.fixture;
    let mut pair = fixture
        .settle_now_instructions(&scene.job, &scene.provider, &signed)
        .await;
    let provider_token = fixture
        .provider_token(&scene.provider, scene.job.mint)
        .await;
    swap_account(&mut pair[1], &provider_token, &scene.job.vault);
    assert_anchor_err(
        fixture.send(&pair, &[]).await,
        AnchorErrorCode::ConstraintDuplicateMutableAccount,
    );

    // Topping up from the job's own vault.
    let mut top_up = ix::top_up(
        &scene.client.wallet.pubkey(),
        &scene.job.address,
        scene.job.mint,
        &scene.client.token_account,
        1,
    );
    swap_account(&mut top_up, &scene.client.token_account, &scene.job.vault);
    assert_anchor_err(
        fixture.send(&[top_up], &[&scene.client.wallet]).await,
        AnchorErrorCode::ConstraintDuplicateMutableAccount,
    );

    // The client's account as the treasury's.
    let complete = ix::complete_job(
        &scene.provider.owner.pubkey(),
        &fixture.network,
        &scene.job.address,
        [0; 32],
    );
    assert_ok(fixture.send(&[complete], &[&scene.provider.owner]).await);
    fixture.advance(default_params().dispute_window_secs).await;
    let close = ix::close_job(CloseJobAccounts {
        cranker: fixture.context.payer.pubkey(),
        network: fixture.network,
        job: scene.job.address,
        client: scene.client.wallet.pubkey(),
        client_token: scene.client.token_account,
        treasury_token: Some(scene.client.token_account),
        payment_mint: scene.job.mint,
    });
    assert_anchor_err(
        fixture.send(&[close], &[]).await,
        AnchorErrorCode::ConstraintDuplicateMutableAccount,
    );
    fixture.assert_job_balanced(&scene.job).await;
}
