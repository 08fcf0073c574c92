//! Sysvar spoofing: an account posing as the instructions sysvar, carrying a forged Ed25519
//! instruction that the runtime never verified.

use crate::scene;
use solana_account::{Account, AccountSharedData};
use solana_pubkey::Pubkey;
use tessera::TesseraError;
use tessera_tests::*;

#[tokio::test]
async fn a_fake_instructions_sysvar_is_refused() {
    let mut scene = scene().await;
    let signed = scene.cosigned(300).await;
    let fixture = &mut scene.fixture;
    let mut pair = fixture
        .settle_now_instructions(&scene.job, &scene.provider, &signed)
        .await;
    // A look-alike account holding instructions-sysvar bytes, owned by the sysvar program.
    let forged = Pubkey::new_unique();
    let fake = Account {
        lamports: 1_000_000_000,
        data: vec![0; 1_024],
        owner: solana_sdk_ids::sysvar::ID,
        executable: false,
        rent_epoch: 0,
    };
    fixture
        .context
        .set_account(&forged, &AccountSharedData::from(fake));
    swap_account(
        &mut pair[1],
        &solana_sdk_ids::sysvar::instructions::ID,
        &forged,
    );
    // Without the real Ed25519 instruction in the transaction at all.
    assert_err(
        fixture.send(&pair[1..], &[]).await,
        TesseraError::InvalidInstructionsSysvar,
    );
    assert_eq!(
        fixture
            .decode::<tessera::state::Job>(&scene.job.address)
            .await
            .settled_units,
        100
    );
}
