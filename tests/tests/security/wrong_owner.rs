//! Wrong owner: an account with the right bytes, owned by a program other than the one that
//! must own it (a copy of the network owned by the system program; a token account owned by a
//! program that is not a token program).

use crate::scene;
use solana_account::{Account, AccountSharedData};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use tessera::state::PauseFlags;
use tessera_client::instructions as ix;
use tessera_tests::*;

#[tokio::test]
async fn a_copy_of_the_network_owned_by_another_program_is_refused() {
    let mut scene = scene().await;
    let fixture = &mut scene.fixture;
    let network = fixture.network;
    let real = fixture.account(&network).await.unwrap();
    let impostor = Pubkey::new_unique();
    let copy = Account {
        owner: solana_sdk_ids::system_program::ID,
        ..real
    };
    fixture
        .context
        .set_account(&impostor, &AccountSharedData::from(copy));

    let authority = fixture.authority.insecure_clone();
    let mut pause = ix::set_pause(
        &authority.pubkey(),
        &network,
        PauseFlags {
            claims: true,
            ..Default::default()
        },
    );
    swap_account(&mut pause, &network, &impostor);
    assert_anchor_err(
        fixture.send(&[pause], &[&authority]).await,
        AnchorErrorCode::AccountOwnedByWrongProgram,
    );
}

#[tokio::test]
async fn a_token_account_owned_by_a_fake_token_program_is_refused() {
    let mut scene = scene().await;
    let fixture = &mut scene.fixture;
    // The client's token account, byte for byte, but owned by a program that is not SPL Token.
    let real = fixture.account(&scene.client.token_account).await.unwrap();
    let fake = Pubkey::new_unique();
    let copy = Account {
        owner: Pubkey::new_unique(),
        ..real
    };
    fixture
        .context
        .set_account(&fake, &AccountSharedData::from(copy));
    let mut top_up = ix::top_up(
        &scene.client.wallet.pubkey(),
        &scene.job.address,
        scene.job.mint,
        &scene.client.token_account,
        1,
    );
    swap_account(&mut top_up, &scene.client.token_account, &fake);
    let result = fixture.send(&[top_up], &[&scene.client.wallet]).await;
    assert_anchor_err(result, AnchorErrorCode::AccountOwnedByWrongProgram);
}
