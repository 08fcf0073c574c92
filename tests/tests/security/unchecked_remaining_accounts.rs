//! Unchecked remaining accounts: extra accounts appended to an instruction, hoping the program
//! acts on them. Only `settle_batch` reads remaining accounts, and checks each one as
//! `settle_receipt` checks its typed accounts (`settle_batch.rs` tries every substitution);
//! appended to any other instruction, they change nothing.

use crate::scene;
use solana_instruction::AccountMeta;
use tessera_tests::*;

#[tokio::test]
async fn extra_accounts_are_ignored() {
    let mut scene = scene().await;
    let mut args = scene.fixture.job_args(Some(scene.provider.address));
    args.max_units = 50;
    let (result, other) = scene
        .fixture
        .create_job(&scene.client, scene.job.mint, args)
        .await;
    assert_ok(result);
    let signed = scene.cosigned(200).await;
    let fixture = &mut scene.fixture;
    let mut pair = fixture
        .settle_now_instructions(&scene.job, &scene.provider, &signed)
        .await;
    pair[1].accounts.push(AccountMeta::new(other.vault, false));
    pair[1]
        .accounts
        .push(AccountMeta::new(other.address, false));
    assert_ok(fixture.send(&pair, &[]).await);
    assert_eq!(
        fixture.balance(&other.vault).await,
        50 * ONE,
        "the other job's escrow is untouched"
    );
    fixture.assert_job_balanced(&other).await;
    fixture.assert_job_balanced(&scene.job).await;
}
