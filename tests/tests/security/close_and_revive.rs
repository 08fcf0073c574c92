//! Closing and reviving an account in one transaction: close a job, send its address rent in
//! the same transaction, and try to use it again.

use crate::scene;
use solana_signer::Signer;
use tessera_client::instructions::{self as ix, CloseJobAccounts};
use tessera_tests::*;

#[tokio::test]
async fn a_closed_job_revived_with_lamports_is_dead() {
    let mut scene = scene().await;
    let fixture = &mut scene.fixture;
    let complete = ix::complete_job(
        &scene.provider.owner.pubkey(),
        &fixture.network,
        &scene.job.address,
        [0; 32],
    );
    assert_ok(fixture.send(&[complete], &[&scene.provider.owner]).await);
    fixture.advance(default_params().dispute_window_secs).await;
    let treasury = fixture.treasury.pubkey();
    let treasury_token = fixture.token_account(scene.job.mint, &treasury).await;
    let close = ix::close_job(CloseJobAccounts {
        cranker: fixture.context.payer.pubkey(),
        network: fixture.network,
        job: scene.job.address,
        client: scene.client.wallet.pubkey(),
        client_token: scene.client.token_account,
        treasury_token: Some(treasury_token),
        payment_mint: scene.job.mint,
    });
    let rent = fixture.lamports(&scene.job.address).await;
    let revive = solana_system_interface::instruction::transfer(
        &fixture.context.payer.pubkey(),
        &scene.job.address,
        rent,
    );
    let reuse = ix::cancel_job(
        &scene.client.wallet.pubkey(),
        &fixture.network,
        &scene.job.address,
        Some(scene.provider.address),
    );
    let result = fixture
        .send(&[close, revive, reuse], &[&scene.client.wallet])
        .await;
    // The revived address is a plain system account: the third instruction cannot read a job in it.
    assert_eq!(
        result.as_ref().err().and_then(|error| match error {
            solana_program_test::BanksClientError::TransactionError(
                solana_transaction_error::TransactionError::InstructionError(index, _),
            ) => Some(*index),
            _ => None,
        }),
        Some(2),
        "{result:?}"
    );
    assert_anchor_err(result, AnchorErrorCode::AccountOwnedByWrongProgram);
    fixture.assert_job_balanced(&scene.job).await;
}
