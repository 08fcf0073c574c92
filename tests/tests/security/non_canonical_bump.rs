//! Non-canonical bump: a PDA derived with a bump other than the canonical one.

use solana_pubkey::Pubkey;
use solana_signer::Signer;
use tessera::instructions::RegisterProviderArgs;
use tessera::state::{Provider, ProviderClass};
use tessera_client::instructions as ix;
use tessera_client::pda;
use tessera_tests::*;

/// The address of `seeds` under the highest bump below the canonical one that is off the curve.
fn non_canonical(seeds: &[&[u8]]) -> Pubkey {
    let (_, canonical) = Pubkey::find_program_address(seeds, &tessera::ID);
    (0..canonical)
        .rev()
        .find_map(|bump| {
            let mut with_bump: Vec<&[u8]> = seeds.to_vec();
            let bump = [bump];
            with_bump.push(&bump);
            Pubkey::create_program_address(&with_bump, &tessera::ID).ok()
        })
        .expect("some lower bump is off the curve")
}

#[tokio::test]
async fn a_stake_vault_at_a_non_canonical_bump_is_refused() {
    let mut fixture = TestFixture::new().await;
    let owner = fixture.wallet().await;
    let network = fixture.network;
    let provider = pda::provider(&network, &owner.pubkey());
    let mut register = ix::register_provider(
        &owner.pubkey(),
        &network,
        fixture.reward_mint,
        RegisterProviderArgs {
            class: ProviderClass::Edge,
            spec: gpu_spec(),
            worker_key: owner.pubkey(),
        },
    );
    let other_vault = non_canonical(&[Provider::VAULT_SEED, provider.as_ref()]);
    swap_account(&mut register, &pda::stake_vault(&provider), &other_vault);
    assert_anchor_err(
        fixture.send(&[register], &[&owner]).await,
        AnchorErrorCode::ConstraintSeeds,
    );
    assert!(fixture.account(&provider).await.is_none());
}
