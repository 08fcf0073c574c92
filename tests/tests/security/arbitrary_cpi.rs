//! Arbitrary CPI: a program that is not a token program passed as the token program, or
//! something else as the system program.

use crate::scene;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use tessera_client::instructions::{self as ix, CloseJobAccounts, MintRef};
use tessera_tests::*;

#[tokio::test]
async fn a_fake_token_program_is_refused_before_any_call() {
    let mut scene = scene().await;
    let fixture = &mut scene.fixture;
    let fake_program = solana_sdk_ids::system_program::ID;
    let mint = MintRef {
        mint: scene.job.mint.mint,
        token_program: fake_program,
    };

    let top_up = ix::top_up(
        &scene.client.wallet.pubkey(),
        &scene.job.address,
        mint,
        &scene.client.token_account,
        1,
    );
    assert_anchor_err(
        fixture.send(&[top_up], &[&scene.client.wallet]).await,
        AnchorErrorCode::InvalidProgramId,
    );

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
        treasury_token: None,
        payment_mint: MintRef {
            mint: scene.job.mint.mint,
            token_program: Pubkey::new_unique(),
        },
    });
    assert_anchor_err(
        fixture.send(&[close], &[]).await,
        AnchorErrorCode::InvalidProgramId,
    );
    fixture.assert_job_balanced(&scene.job).await;
}

#[tokio::test]
async fn a_fake_system_program_is_refused() {
    let mut fixture = TestFixture::new().await;
    let mint = fixture.create_mint(TOKEN).await;
    let client = fixture.client(mint, ONE * 1_000).await;
    let args = fixture.job_args(None);
    let mut create = ix::create_job(
        &client.wallet.pubkey(),
        &fixture.network,
        mint,
        &client.token_account,
        args,
    );
    swap_account(
        &mut create,
        &solana_sdk_ids::system_program::ID,
        &spl_token_interface::ID,
    );
    assert_anchor_err(
        fixture.send(&[create], &[&client.wallet]).await,
        AnchorErrorCode::InvalidProgramId,
    );
}
