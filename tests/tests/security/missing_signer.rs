//! Missing signer: an instruction names the authority, owner or client without its signature.

use crate::scene;
use solana_signer::Signer;
use tessera::state::PauseFlags;
use tessera_client::instructions as ix;
use tessera_tests::*;

/// Clears the signer flag of `key` in `instruction`, as an attacker who cannot sign would.
fn unsigned(
    mut instruction: solana_instruction::Instruction,
    key: &solana_pubkey::Pubkey,
) -> solana_instruction::Instruction {
    for meta in instruction
        .accounts
        .iter_mut()
        .filter(|meta| meta.pubkey == *key)
    {
        meta.is_signer = false;
    }
    instruction
}

#[tokio::test]
async fn authority_owner_and_client_must_sign() {
    let mut scene = scene().await;
    let fixture = &mut scene.fixture;
    let network = fixture.network;
    let authority = fixture.authority.pubkey();
    let owner = scene.provider.owner.pubkey();
    let client = scene.client.wallet.pubkey();

    let attempts = [
        unsigned(
            ix::set_pause(
                &authority,
                &network,
                PauseFlags {
                    new_jobs: true,
                    ..Default::default()
                },
            ),
            &authority,
        ),
        unsigned(
            ix::update_parameters(&authority, &network, default_params()),
            &authority,
        ),
        unsigned(
            ix::propose_authority(&authority, &network, &client),
            &authority,
        ),
        unsigned(ix::request_unstake(&owner, &network, ONE), &owner),
        unsigned(ix::rotate_worker_key(&owner, &network, &client), &owner),
        unsigned(
            ix::complete_job(&owner, &network, &scene.job.address, [0; 32]),
            &owner,
        ),
        unsigned(
            ix::cancel_job(&client, &network, &scene.job.address, None),
            &client,
        ),
        unsigned(
            ix::top_up(
                &client,
                &scene.job.address,
                scene.job.mint,
                &scene.client.token_account,
                1,
            ),
            &client,
        ),
    ];
    for attempt in attempts {
        assert_anchor_err(
            fixture.send(&[attempt], &[]).await,
            AnchorErrorCode::AccountNotSigner,
        );
    }
    assert!(!fixture.network_account().await.pause.new_jobs);
}
