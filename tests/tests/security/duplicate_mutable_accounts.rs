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

/// Accounts a settlement leaves out of Anchor's duplicate check (`dup`) are kept apart by
/// their types: one account in two of those roles fails as the wrong type, and nothing moves.
#[tokio::test]
async fn accounts_left_out_of_the_duplicate_check_are_kept_apart_by_type() {
    let mut scene = scene().await;
    let signed = scene.cosigned(200).await;
    let fixture = &mut scene.fixture;
    let pair = fixture
        .settle_now_instructions(&scene.job, &scene.provider, &signed)
        .await;
    let (job, provider) = (scene.job.address, scene.provider.address);
    let before: tessera::state::Job = fixture.decode(&job).await;
    for (role, stand_in) in [(job, provider), (provider, job)] {
        let mut pair = pair.clone();
        swap_account(&mut pair[1], &role, &stand_in);
        assert_anchor_err(
            fixture.send(&pair, &[]).await,
            AnchorErrorCode::AccountDiscriminatorMismatch,
        );
    }
    let after: tessera::state::Job = fixture.decode(&job).await;
    assert_eq!(
        after.settled_units, before.settled_units,
        "nothing was paid"
    );
    fixture.assert_job_balanced(&scene.job).await;
}
