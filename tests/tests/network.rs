//! initialize_network, update_parameters, propose/accept_authority, set_pause, set_attestors.

use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use spl_token_2022_interface::extension::ExtensionType;
use tessera::state::{AttestorSet, Network, PauseFlags, ProviderClass, MAX_ATTESTORS};
use tessera::TesseraError;
use tessera_client::instructions as ix;
use tessera_client::pda;
use tessera_tests::*;

/// A bare fixture whose reward mint is ready for `initialize_network`.
async fn ready_to_initialize() -> TestFixture {
    let mut fixture = TestFixture::bare().await;
    fixture.reward_mint = fixture.faucet_reward_mint(TOKEN).await;
    fixture
}

#[tokio::test]
async fn initialize_network_records_everything() {
    let mut fixture = TestFixture::new().await;
    let network: Network = fixture.network_account().await;
    assert_eq!(network.network_id, 1);
    assert_eq!(network.authority, fixture.authority.pubkey());
    assert_eq!(network.pending_authority, Pubkey::default());
    assert_eq!(network.reward_mint, fixture.reward_mint.mint);
    assert_eq!(network.treasury, fixture.treasury.pubkey());
    assert_eq!(network.params, default_params());
    assert_eq!(network.emission, default_emission());
    assert_eq!(network.genesis_at, GENESIS);
    assert_eq!(network.pause, PauseFlags::default());
    assert_eq!(network.version, Network::VERSION);

    assert_eq!(network.attestors, AttestorSet::default());
    assert_eq!(network.pending_treasury, Pubkey::default());

    // The mint authority moved to the network's PDA in the same instruction.
    let mint = fixture.reward_mint.mint;
    let data = fixture.account(&mint).await.expect("reward mint").data;
    let mint_state = spl_token_interface::state::Mint::unpack(&data).expect("mint");
    assert_eq!(
        mint_state.mint_authority,
        Some(pda::mint_authority(&fixture.network)).into()
    );
}

#[tokio::test]
async fn initialize_network_accepts_a_token_2022_reward_mint() {
    let mut fixture = TestFixture::bare().await;
    fixture.reward_mint = fixture.faucet_reward_mint(TOKEN_2022).await;
    assert_ok(fixture.initialize_network(fixture.initialize_args()).await);
    let network: Network = fixture.network_account().await;
    assert_eq!(network.reward_mint, fixture.reward_mint.mint);
}

#[tokio::test]
async fn initialize_network_refuses_bad_parameters() {
    let mut fixture = ready_to_initialize().await;
    let cases: Vec<(
        Spoil<tessera::instructions::InitializeNetworkArgs>,
        TesseraError,
    )> = vec![
        (
            Box::new(|a| a.params.protocol_fee_bps = 10_001),
            TesseraError::InvalidFeeBps,
        ),
        (
            Box::new(|a| a.params.epoch_length_secs = 0),
            TesseraError::InvalidPeriod,
        ),
        (
            Box::new(|a| a.params.unbonding_period_secs = -1),
            TesseraError::InvalidPeriod,
        ),
        (
            Box::new(|a| a.params.dispute_window_secs = 0),
            TesseraError::InvalidPeriod,
        ),
        (
            Box::new(|a| a.params.receipt_max_age_secs = 11 * 365 * 86_400),
            TesseraError::InvalidPeriod,
        ),
        (
            Box::new(|a| a.params.unbonding_period_secs = a.params.dispute_window_secs - 1),
            TesseraError::InvalidPeriod,
        ),
        (
            Box::new(|a| a.params.start_timeout_secs = 0),
            TesseraError::InvalidPeriod,
        ),
        (
            Box::new(|a| a.params.classes[1].stake_per_job = 0),
            TesseraError::InvalidStakePerJob,
        ),
        (
            Box::new(|a| a.params.jail_after_lost_disputes = 0),
            TesseraError::InvalidJailThreshold,
        ),
        (
            Box::new(|a| a.params.classes[2].emission_weight_bps = 0),
            TesseraError::InvalidClassWeight,
        ),
        (
            Box::new(|a| a.params.classes[3].emission_weight_bps = 1_000_001),
            TesseraError::InvalidClassWeight,
        ),
        (
            Box::new(|a| a.emission.decay_bps = 10_001),
            TesseraError::InvalidEmissionSchedule,
        ),
        (
            Box::new(|a| a.emission.decay_every_epochs = 0),
            TesseraError::InvalidEmissionSchedule,
        ),
        (
            Box::new(|a| a.emission.initial_per_epoch = a.emission.supply_cap + 1),
            TesseraError::InvalidEmissionSchedule,
        ),
        (
            Box::new(|a| a.treasury = Pubkey::default()),
            TesseraError::InvalidTreasury,
        ),
    ];
    for (spoil, expected) in cases {
        let mut args = fixture.initialize_args();
        spoil(&mut args);
        assert_err(fixture.initialize_network(args).await, expected);
    }
    // Nothing was created by the refused attempts; a valid one still succeeds.
    assert!(fixture.account(&fixture.network.clone()).await.is_none());
    assert_ok(fixture.initialize_network(fixture.initialize_args()).await);
}

#[tokio::test]
async fn initialize_network_refuses_a_mint_it_cannot_mint_or_that_can_freeze() {
    let mut fixture = TestFixture::bare().await;
    let holder = Keypair::new();
    let args = fixture.initialize_args();

    // The signer must be the mint's current mint authority.
    let stranger = Keypair::new();
    fixture.reward_mint = fixture
        .create_mint_with_authority(TOKEN, &holder.pubkey())
        .await;
    assert_err(
        fixture
            .initialize_network_signed_by(args.clone(), &stranger)
            .await,
        TesseraError::RewardMintAuthorityMismatch,
    );

    // A mint whose authority already is the network's PDA was handed over outside Tessera:
    // whoever did that cannot be told apart from a stranger, so it is refused.
    let mint_authority = pda::mint_authority(&fixture.network);
    fixture.reward_mint = fixture
        .create_mint_with_authority(TOKEN, &mint_authority)
        .await;
    assert_err(
        fixture
            .initialize_network_signed_by(args.clone(), &holder)
            .await,
        TesseraError::RewardMintAlreadyHandedOver,
    );

    let freezer = Keypair::new().pubkey();
    fixture.reward_mint = fixture
        .create_mint_full(TOKEN, &holder.pubkey(), Some(&freezer), &[])
        .await;
    assert_err(
        fixture
            .initialize_network_signed_by(args.clone(), &holder)
            .await,
        TesseraError::RewardMintFreezable,
    );

    fixture.reward_mint = fixture
        .create_mint_full(
            TOKEN_2022,
            &holder.pubkey(),
            None,
            &[ExtensionType::TransferFeeConfig],
        )
        .await;
    assert_err(
        fixture.initialize_network_signed_by(args, &holder).await,
        TesseraError::UnsupportedMintExtension,
    );
}

#[tokio::test]
async fn initialize_network_cannot_be_repeated() {
    let mut fixture = TestFixture::new().await;
    let before: Network = fixture.network_account().await;
    let mut args = fixture.initialize_args();
    args.params.protocol_fee_bps = 0;
    assert_failed(
        fixture.initialize_network(args).await,
        "the network account already exists",
    );
    let after: Network = fixture.network_account().await;
    assert_eq!(after.params, before.params);
}

#[tokio::test]
async fn update_parameters_by_authority_only_and_validated() {
    let mut fixture = TestFixture::new().await;
    let authority = fixture.authority.insecure_clone();
    let network = fixture.network;
    let mut params = default_params();
    params.protocol_fee_bps = 500;
    params.classes[0].min_stake = 5;

    let stranger = fixture.wallet().await;
    let result = fixture
        .send(
            &[ix::update_parameters(&stranger.pubkey(), &network, params)],
            &[&stranger],
        )
        .await;
    assert_err(result, TesseraError::NotAuthority);

    let mut bad = params;
    bad.epoch_length_secs = 0;
    let result = fixture
        .send(
            &[ix::update_parameters(&authority.pubkey(), &network, bad)],
            &[&authority],
        )
        .await;
    assert_err(result, TesseraError::InvalidPeriod);

    // Epochs already numbered would move: the epoch length stays as it was at genesis.
    let mut longer_epochs = params;
    longer_epochs.epoch_length_secs *= 2;
    let result = fixture
        .send(
            &[ix::update_parameters(
                &authority.pubkey(),
                &network,
                longer_epochs,
            )],
            &[&authority],
        )
        .await;
    assert_err(result, TesseraError::EpochLengthFixed);
    assert_eq!(fixture.network_account().await.params, default_params());

    let result = fixture
        .send(
            &[ix::update_parameters(&authority.pubkey(), &network, params)],
            &[&authority],
        )
        .await;
    assert_ok(result);
    assert_eq!(fixture.network_account().await.params, params);
}

/// A role that moves in two steps: the authority proposes, the new key accepts.
struct TwoStep {
    propose: fn(&Pubkey, &Pubkey, &Pubkey) -> Instruction,
    accept: fn(&Pubkey, &Pubkey) -> Instruction,
    /// The error of an accept by anyone but the proposed key.
    not_pending: TesseraError,
    /// (current holder, proposed holder) in the network account.
    holders: fn(&Network) -> (Pubkey, Pubkey),
}

/// Walks `role` through refused proposals and accepts, a withdrawn proposal and a handover to
/// `successor`; returns the fixture after the handover.
async fn hand_over(role: TwoStep, successor: &Keypair) -> TestFixture {
    let mut fixture = TestFixture::new().await;
    let authority = fixture.authority.insecure_clone();
    let network = fixture.network;
    let stranger = fixture.wallet().await;
    let propose = |signer: &Keypair, to: &Pubkey| (role.propose)(&signer.pubkey(), &network, to);
    let accept = |signer: &Keypair| (role.accept)(&signer.pubkey(), &network);

    let result = fixture
        .send(&[propose(&stranger, &stranger.pubkey())], &[&stranger])
        .await;
    assert_err(result, TesseraError::NotAuthority);
    // Nobody can accept before a proposal (the default pubkey cannot sign).
    let result = fixture.send(&[accept(successor)], &[successor]).await;
    assert_err(result, role.not_pending);

    // A proposal withdrawn with the default pubkey cannot be accepted.
    let result = fixture
        .send(&[propose(&authority, &stranger.pubkey())], &[&authority])
        .await;
    assert_ok(result);
    let result = fixture
        .send(&[propose(&authority, &Pubkey::default())], &[&authority])
        .await;
    assert_ok(result);
    let result = fixture.send(&[accept(&stranger)], &[&stranger]).await;
    assert_err(result, role.not_pending);

    let result = fixture
        .send(&[propose(&authority, &successor.pubkey())], &[&authority])
        .await;
    assert_ok(result);
    let (before, pending) = (role.holders)(&fixture.network_account().await);
    assert_eq!(pending, successor.pubkey());
    let result = fixture.send(&[accept(&stranger)], &[&stranger]).await;
    assert_err(result, role.not_pending);
    let result = fixture.send(&[accept(successor)], &[successor]).await;
    assert_ok(result);
    let (after, pending) = (role.holders)(&fixture.network_account().await);
    assert_ne!(before, after);
    assert_eq!((after, pending), (successor.pubkey(), Pubkey::default()));
    fixture
}

#[tokio::test]
async fn authority_moves_in_two_steps() {
    let successor = Keypair::new();
    let role = TwoStep {
        propose: ix::propose_authority,
        accept: ix::accept_authority,
        not_pending: TesseraError::NotPendingAuthority,
        holders: |network| (network.authority, network.pending_authority),
    };
    let mut fixture = hand_over(role, &successor).await;

    // The old authority has lost its powers.
    let authority = fixture.authority.insecure_clone();
    let pause = PauseFlags {
        claims: true,
        ..Default::default()
    };
    let result = fixture
        .send(
            &[ix::set_pause(&authority.pubkey(), &fixture.network, pause)],
            &[&authority],
        )
        .await;
    assert_err(result, TesseraError::NotAuthority);
}

#[tokio::test]
async fn treasury_moves_in_two_steps() {
    let successor = Keypair::new();
    let role = TwoStep {
        propose: ix::propose_treasury,
        accept: ix::accept_treasury,
        not_pending: TesseraError::NotPendingTreasury,
        holders: |network| (network.treasury, network.pending_treasury),
    };
    hand_over(role, &successor).await;
}

#[tokio::test]
async fn pause_flags_are_separate_and_authority_only() {
    let mut fixture = TestFixture::new().await;
    let network = fixture.network;
    let stranger = fixture.wallet().await;
    let pause = PauseFlags {
        new_jobs: true,
        settlements: false,
        claims: true,
    };

    let result = fixture
        .send(
            &[ix::set_pause(&stranger.pubkey(), &network, pause)],
            &[&stranger],
        )
        .await;
    assert_err(result, TesseraError::NotAuthority);

    fixture.pause(pause).await;
    assert_eq!(fixture.network_account().await.pause, pause);

    // Paused: a new provider cannot register.
    let owner = fixture.wallet().await;
    let register = ix::register_provider(
        &owner.pubkey(),
        &network,
        fixture.reward_mint,
        tessera::instructions::RegisterProviderArgs {
            class: ProviderClass::Edge,
            spec: gpu_spec(),
            worker_key: owner.pubkey(),
        },
    );
    assert_err(
        fixture
            .send(std::slice::from_ref(&register), &[&owner])
            .await,
        TesseraError::NewJobsPaused,
    );

    fixture.pause(PauseFlags::default()).await;
    assert_ok(fixture.send(&[register], &[&owner]).await);
}

#[tokio::test]
async fn set_attestors_validates_and_bumps_the_version() {
    let mut fixture = TestFixture::new().await;
    let authority = fixture.authority.insecure_clone();
    let network = fixture.network;
    let keys: Vec<Pubkey> = (0..3).map(|_| Keypair::new().pubkey()).collect();
    let send = |keys: Vec<Pubkey>, threshold: u8, signer: Keypair| {
        let instruction = ix::set_attestors(&signer.pubkey(), &network, keys, threshold);
        (instruction, signer)
    };

    let stranger = fixture.wallet().await;
    let (instruction, signer) = send(keys.clone(), 2, stranger);
    assert_err(
        fixture.send(&[instruction], &[&signer]).await,
        TesseraError::NotAuthority,
    );

    let nine: Vec<Pubkey> = (0..MAX_ATTESTORS + 1)
        .map(|_| Keypair::new().pubkey())
        .collect();
    let refused = [
        (nine, 2, TesseraError::TooManyAttestors),
        (
            vec![keys[0], keys[1], keys[0]],
            2,
            TesseraError::DuplicateAttestor,
        ),
        (
            vec![keys[0], Pubkey::default()],
            1,
            TesseraError::InvalidKey,
        ),
        (keys.clone(), 0, TesseraError::InvalidThreshold),
        (keys.clone(), 4, TesseraError::InvalidThreshold),
        (vec![], 1, TesseraError::InvalidThreshold),
    ];
    for (keys, threshold, expected) in refused {
        let (instruction, signer) = send(keys, threshold, authority.insecure_clone());
        assert_err(fixture.send(&[instruction], &[&signer]).await, expected);
    }
    let set: AttestorSet = fixture.network_account().await.attestors;
    assert_eq!(set.version, 0, "refused changes leave the version alone");

    let (instruction, signer) = send(keys.clone(), 2, authority.insecure_clone());
    assert_ok(fixture.send(&[instruction], &[&signer]).await);
    let set: AttestorSet = fixture.network_account().await.attestors;
    assert_eq!((set.version, set.threshold, set.count), (1, 2, 3));
    assert_eq!(set.members(), keys.as_slice());
    assert!(set.keys[3..].iter().all(|key| *key == Pubkey::default()));

    let full: Vec<Pubkey> = (0..MAX_ATTESTORS)
        .map(|_| Keypair::new().pubkey())
        .collect();
    let (instruction, signer) = send(full.clone(), 8, authority.insecure_clone());
    assert_ok(fixture.send(&[instruction], &[&signer]).await);
    let (instruction, signer) = send(vec![], 0, authority.insecure_clone());
    assert_ok(fixture.send(&[instruction], &[&signer]).await);
    let set: AttestorSet = fixture.network_account().await.attestors;
    assert_eq!((set.version, set.threshold, set.count), (3, 0, 0));
}
