//! Taking over someone else's reward mint: the owner of a mint prepares it for a network, and
//! a stranger who sees that tries to create the network first, with itself as authority and an
//! emission schedule of its own, to mint to itself forever.

use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_signer::Signer;
use tessera::TesseraError;
use tessera_client::instructions as ix;
use tessera_client::pda;
use tessera_tests::*;

/// The mint authority of `fixture`'s reward mint, read from the chain.
async fn mint_authority(fixture: &mut TestFixture) -> Option<solana_pubkey::Pubkey> {
    let mint = fixture.reward_mint.mint;
    let data = fixture.account(&mint).await.expect("reward mint").data;
    spl_token_interface::state::Mint::unpack(&data)
        .expect("mint")
        .mint_authority
        .into()
}

#[tokio::test]
async fn a_stranger_cannot_create_a_network_on_another_wallets_mint() {
    let mut fixture = TestFixture::bare().await;
    fixture.reward_mint = fixture.faucet_reward_mint(TOKEN).await;
    let owner = fixture.mint_authority_of(&fixture.reward_mint.mint);

    // The stranger sends initialize_network for the owner's mint, naming itself as authority
    // and as the mint's authority, with a schedule that emits the whole cap at once.
    let stranger = fixture.wallet().await;
    let mut args = fixture.initialize_args();
    args.emission.initial_per_epoch = args.emission.supply_cap;
    let attack = ix::initialize_network(
        &stranger.pubkey(),
        &stranger.pubkey(),
        fixture.reward_mint,
        args.clone(),
    );
    assert_err(
        fixture.send(&[attack], &[&stranger]).await,
        TesseraError::RewardMintAuthorityMismatch,
    );
    assert!(fixture.account(&fixture.network.clone()).await.is_none());
    assert_eq!(mint_authority(&mut fixture).await, Some(owner.pubkey()));

    // Naming the real owner as mint authority without its signature fails before the program.
    let mut unsigned = ix::initialize_network(
        &stranger.pubkey(),
        &owner.pubkey(),
        fixture.reward_mint,
        args,
    );
    for meta in &mut unsigned.accounts {
        if meta.pubkey == owner.pubkey() {
            meta.is_signer = false;
        }
    }
    assert_anchor_err(
        fixture.send(&[unsigned], &[&stranger]).await,
        AnchorErrorCode::AccountNotSigner,
    );

    // The owner creates the network and hands the authority over in one step.
    assert_ok(fixture.initialize_network(fixture.initialize_args()).await);
    let network = fixture.network_account().await;
    assert_eq!(network.authority, fixture.authority.pubkey());
    assert_eq!(
        mint_authority(&mut fixture).await,
        Some(pda::mint_authority(&fixture.network))
    );
}

#[tokio::test]
async fn a_mint_handed_over_beforehand_cannot_be_adopted_by_anyone() {
    // The old two-step flow: the owner hands the authority to the PDA, then someone (the owner
    // or the stranger who raced it) calls initialize_network. Nobody can sign for the PDA, so
    // the mint is refused for everyone instead of going to whoever is first.
    let mut fixture = TestFixture::bare().await;
    fixture.reward_mint = fixture
        .create_mint_with_authority(TOKEN, &pda::mint_authority(&fixture.network))
        .await;
    let stranger = fixture.wallet().await;
    let attack = ix::initialize_network(
        &stranger.pubkey(),
        &stranger.pubkey(),
        fixture.reward_mint,
        fixture.initialize_args(),
    );
    assert_err(
        fixture.send(&[attack], &[&stranger]).await,
        TesseraError::RewardMintAlreadyHandedOver,
    );
    let owner = Keypair::new();
    assert_err(
        fixture
            .initialize_network_signed_by(fixture.initialize_args(), &owner)
            .await,
        TesseraError::RewardMintAlreadyHandedOver,
    );
    assert!(fixture.account(&fixture.network.clone()).await.is_none());
}
