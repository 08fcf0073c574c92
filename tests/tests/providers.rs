//! register_provider, update_provider, rotate_worker_key, stake, request_unstake,
//! withdraw_unstaked, deregister. After every successful step the stake vault must hold exactly
//! stake + unbonding (invariant 2).

use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use tessera::instructions::RegisterProviderArgs;
use tessera::state::{PauseFlags, Provider, ProviderClass, ProviderStatus};
use tessera::TesseraError;
use tessera_client::instructions as ix;
use tessera_client::pda;
use tessera_tests::*;

const STAKE: u64 = 2_000 * ONE;

#[tokio::test]
async fn register_creates_provider_and_stake_vault() {
    let mut fixture = TestFixture::new().await;
    let provider = fixture.provider(ProviderClass::Training, 0).await;
    let state: Provider = fixture.decode(&provider.address).await;
    assert_eq!(state.owner, provider.owner.pubkey());
    assert_eq!(state.worker_key, provider.worker.pubkey());
    assert_eq!(state.network, fixture.network);
    assert_eq!(state.class, ProviderClass::Training);
    assert_eq!(state.status, ProviderStatus::Active);
    assert_eq!(state.spec, gpu_spec());
    assert_eq!(
        (state.stake, state.unbonding_amount, state.active_jobs),
        (0, 0, 0)
    );
    assert_eq!(state.registered_at, fixture.now);

    let vault = pda::stake_vault(&provider.address);
    let vault_account = fixture.account(&vault).await.expect("stake vault exists");
    assert_eq!(vault_account.owner, TOKEN);
    let token =
        spl_token_interface::state::Account::unpack_from_slice(&vault_account.data).unwrap();
    assert_eq!(token.mint, fixture.reward_mint.mint);
    assert_eq!(
        token.owner, provider.address,
        "the provider PDA owns its vault"
    );
    assert_eq!(fixture.network_account().await.totals.providers, 1);
}

use solana_program_pack::Pack;

#[tokio::test]
async fn register_refuses_bad_input() {
    let mut fixture = TestFixture::new().await;
    let owner = fixture.wallet().await;
    let network = fixture.network;
    let reward_mint = fixture.reward_mint;
    let register = |class: ProviderClass, spec, worker_key| {
        ix::register_provider(
            &owner.pubkey(),
            &network,
            reward_mint,
            RegisterProviderArgs {
                class,
                spec,
                worker_key,
            },
        )
    };

    let mut no_gpu = gpu_spec();
    no_gpu.gpu_count = 0;
    for class in [ProviderClass::Training, ProviderClass::Inference] {
        let result = fixture
            .send(&[register(class, no_gpu, owner.pubkey())], &[&owner])
            .await;
        assert_err(result, TesseraError::InvalidSpec);
    }
    let mut no_bandwidth = gpu_spec();
    no_bandwidth.bandwidth_mbps = 0;
    let result = fixture
        .send(
            &[register(
                ProviderClass::Bandwidth,
                no_bandwidth,
                owner.pubkey(),
            )],
            &[&owner],
        )
        .await;
    assert_err(result, TesseraError::InvalidSpec);

    let result = fixture
        .send(
            &[register(ProviderClass::Edge, no_gpu, Pubkey::default())],
            &[&owner],
        )
        .await;
    assert_err(result, TesseraError::InvalidKey);

    // A reward mint other than the network's.
    let other_mint = fixture.create_mint(TOKEN).await;
    let mut instruction = register(ProviderClass::Edge, no_gpu, owner.pubkey());
    swap_account(&mut instruction, &reward_mint.mint, &other_mint.mint);
    assert_err(
        fixture.send(&[instruction], &[&owner]).await,
        TesseraError::WrongMint,
    );

    // Nothing above created anything; an Edge provider needs no GPU.
    assert!(fixture
        .account(&pda::provider(&network, &owner.pubkey()))
        .await
        .is_none());
    assert_ok(
        fixture
            .send(
                &[register(ProviderClass::Edge, no_gpu, owner.pubkey())],
                &[&owner],
            )
            .await,
    );
    let result = fixture
        .send(
            &[register(
                ProviderClass::Training,
                gpu_spec(),
                owner.pubkey(),
            )],
            &[&owner],
        )
        .await;
    assert_failed(result, "a second registration of the same owner");
    let state: Provider = fixture
        .decode(&pda::provider(&network, &owner.pubkey()))
        .await;
    assert_eq!(state.class, ProviderClass::Edge);
}

#[tokio::test]
async fn update_provider_and_rotate_worker_key() {
    let mut fixture = TestFixture::new().await;
    let network = fixture.network;
    let provider = fixture.provider(ProviderClass::Inference, 0).await;
    let owner = &provider.owner;

    let mut spec = gpu_spec();
    spec.gpu_count = 2;
    spec.metadata_hash = [1; 32];
    assert_ok(
        fixture
            .send(
                &[ix::update_provider(&owner.pubkey(), &network, spec)],
                &[owner],
            )
            .await,
    );
    assert_eq!(
        fixture.decode::<Provider>(&provider.address).await.spec,
        spec
    );

    spec.gpu_count = 0;
    let result = fixture
        .send(
            &[ix::update_provider(&owner.pubkey(), &network, spec)],
            &[owner],
        )
        .await;
    assert_err(result, TesseraError::InvalidSpec);

    let stranger = fixture.wallet().await;
    let mut instruction = ix::update_provider(&stranger.pubkey(), &network, gpu_spec());
    impersonate(
        &mut instruction,
        &network,
        &stranger.pubkey(),
        &provider.address,
    );
    assert_err(
        fixture.send(&[instruction], &[&stranger]).await,
        TesseraError::NotProviderOwner,
    );

    let new_worker = Keypair::new().pubkey();
    assert_ok(
        fixture
            .send(
                &[ix::rotate_worker_key(
                    &owner.pubkey(),
                    &network,
                    &new_worker,
                )],
                &[owner],
            )
            .await,
    );
    assert_eq!(
        fixture
            .decode::<Provider>(&provider.address)
            .await
            .worker_key,
        new_worker
    );

    let result = fixture
        .send(
            &[ix::rotate_worker_key(
                &owner.pubkey(),
                &network,
                &new_worker,
            )],
            &[owner],
        )
        .await;
    assert_err(result, TesseraError::SameWorkerKey);
    let result = fixture
        .send(
            &[ix::rotate_worker_key(
                &owner.pubkey(),
                &network,
                &Pubkey::default(),
            )],
            &[owner],
        )
        .await;
    assert_err(result, TesseraError::InvalidKey);

    let mut instruction = ix::rotate_worker_key(&stranger.pubkey(), &network, &stranger.pubkey());
    impersonate(
        &mut instruction,
        &network,
        &stranger.pubkey(),
        &provider.address,
    );
    assert_err(
        fixture.send(&[instruction], &[&stranger]).await,
        TesseraError::NotProviderOwner,
    );
    assert_eq!(
        fixture
            .decode::<Provider>(&provider.address)
            .await
            .worker_key,
        new_worker
    );
}

#[tokio::test]
async fn stake_moves_tokens_into_the_vault() {
    let mut fixture = TestFixture::new().await;
    let network = fixture.network;
    let reward_mint = fixture.reward_mint;
    let provider = fixture.provider(ProviderClass::Training, STAKE).await;
    let owner = &provider.owner;

    let stake = |amount| {
        ix::stake(
            &owner.pubkey(),
            &network,
            reward_mint,
            &provider.reward_account,
            amount,
        )
    };
    assert_ok(fixture.send(&[stake(STAKE / 4)], &[owner]).await);
    assert_ok(fixture.send(&[stake(STAKE / 4)], &[owner]).await);
    fixture.assert_provider_balanced(&provider.address).await;
    assert_eq!(
        fixture.decode::<Provider>(&provider.address).await.stake,
        STAKE / 2
    );
    assert_eq!(fixture.balance(&provider.reward_account).await, STAKE / 2);
    assert_eq!(fixture.network_account().await.totals.staked, STAKE / 2);

    assert_err(
        fixture.send(&[stake(0)], &[owner]).await,
        TesseraError::ZeroAmount,
    );
    assert_failed(
        fixture.send(&[stake(STAKE)], &[owner]).await,
        "more than the owner holds",
    );

    // A source account in another mint.
    let other_mint = fixture.create_mint(TOKEN).await;
    let other = fixture
        .funded_token_account(other_mint, &owner.pubkey(), STAKE)
        .await;
    let mut instruction = stake(ONE);
    swap_account(&mut instruction, &provider.reward_account, &other);
    assert_err(
        fixture.send(&[instruction], &[owner]).await,
        TesseraError::WrongMint,
    );

    // A vault that is not this provider's PDA.
    let fake_vault = fixture.reward_tokens(&provider.address, 0).await;
    let mut instruction = stake(ONE);
    swap_account(
        &mut instruction,
        &pda::stake_vault(&provider.address),
        &fake_vault,
    );
    assert_anchor_err(
        fixture.send(&[instruction], &[owner]).await,
        AnchorErrorCode::ConstraintSeeds,
    );

    // Somebody else's provider: the signer is not its owner.
    let stranger = fixture.wallet().await;
    let stranger_tokens = fixture.reward_tokens(&stranger.pubkey(), ONE).await;
    let mut instruction = ix::stake(
        &stranger.pubkey(),
        &network,
        reward_mint,
        &stranger_tokens,
        ONE,
    );
    impersonate(
        &mut instruction,
        &network,
        &stranger.pubkey(),
        &provider.address,
    );
    assert_err(
        fixture.send(&[instruction], &[&stranger]).await,
        TesseraError::NotProviderOwner,
    );

    // Paused.
    fixture
        .pause(PauseFlags {
            new_jobs: true,
            ..Default::default()
        })
        .await;
    assert_err(
        fixture.send(&[stake(ONE)], &[owner]).await,
        TesseraError::NewJobsPaused,
    );

    fixture.assert_provider_balanced(&provider.address).await;
    assert_eq!(
        fixture.decode::<Provider>(&provider.address).await.stake,
        STAKE / 2
    );
}

#[tokio::test]
async fn unstake_unbonds_then_withdraws_after_the_period() {
    let mut fixture = TestFixture::new().await;
    let network = fixture.network;
    let reward_mint = fixture.reward_mint;
    let provider = fixture.provider(ProviderClass::Edge, STAKE).await;
    let owner = &provider.owner;
    let stake = ix::stake(
        &owner.pubkey(),
        &network,
        reward_mint,
        &provider.reward_account,
        STAKE,
    );
    assert_ok(fixture.send(&[stake], &[owner]).await);
    let unbonding_period = default_params().unbonding_period_secs;

    let unstake = |amount| ix::request_unstake(&owner.pubkey(), &network, amount);
    let withdraw = ix::withdraw_unstaked(
        &owner.pubkey(),
        &network,
        reward_mint,
        &provider.reward_account,
    );

    assert_err(
        fixture.send(&[unstake(0)], &[owner]).await,
        TesseraError::ZeroAmount,
    );
    assert_err(
        fixture.send(&[unstake(STAKE + 1)], &[owner]).await,
        TesseraError::UnstakeExceedsStake,
    );
    assert_err(
        fixture
            .send(std::slice::from_ref(&withdraw), &[owner])
            .await,
        TesseraError::NothingToWithdraw,
    );

    assert_ok(fixture.send(&[unstake(STAKE / 2)], &[owner]).await);
    let state: Provider = fixture.decode(&provider.address).await;
    assert_eq!(
        (state.stake, state.unbonding_amount),
        (STAKE / 2, STAKE / 2)
    );
    assert_eq!(state.unbonding_ends_at, fixture.now + unbonding_period);
    fixture.assert_provider_balanced(&provider.address).await;
    let totals = fixture.network_account().await.totals;
    assert_eq!((totals.staked, totals.unbonding), (STAKE / 2, STAKE / 2));

    fixture.advance(unbonding_period - 1).await;
    assert_err(
        fixture
            .send(std::slice::from_ref(&withdraw), &[owner])
            .await,
        TesseraError::UnbondingNotFinished,
    );

    // Unbonding more restarts the clock for the whole unbonding amount.
    assert_ok(fixture.send(&[unstake(STAKE / 4)], &[owner]).await);
    let state: Provider = fixture.decode(&provider.address).await;
    assert_eq!(state.unbonding_amount, 3 * STAKE / 4);
    assert_eq!(state.unbonding_ends_at, fixture.now + unbonding_period);
    fixture.advance(unbonding_period).await;

    // A destination in another mint is refused.
    let other_mint = fixture.create_mint(TOKEN).await;
    let other = fixture.token_account(other_mint, &owner.pubkey()).await;
    let mut instruction = withdraw.clone();
    swap_account(&mut instruction, &provider.reward_account, &other);
    assert_err(
        fixture.send(&[instruction], &[owner]).await,
        TesseraError::WrongMint,
    );

    // A stranger cannot withdraw somebody else's unbonded stake.
    let stranger = fixture.wallet().await;
    let stranger_tokens = fixture.reward_tokens(&stranger.pubkey(), 0).await;
    let mut instruction =
        ix::withdraw_unstaked(&stranger.pubkey(), &network, reward_mint, &stranger_tokens);
    impersonate(
        &mut instruction,
        &network,
        &stranger.pubkey(),
        &provider.address,
    );
    assert_err(
        fixture.send(&[instruction], &[&stranger]).await,
        TesseraError::NotProviderOwner,
    );
    let mut instruction = ix::request_unstake(&stranger.pubkey(), &network, ONE);
    impersonate(
        &mut instruction,
        &network,
        &stranger.pubkey(),
        &provider.address,
    );
    assert_err(
        fixture.send(&[instruction], &[&stranger]).await,
        TesseraError::NotProviderOwner,
    );

    // Withdrawals stay open while new work is paused.
    fixture
        .pause(PauseFlags {
            new_jobs: true,
            settlements: true,
            claims: true,
        })
        .await;
    assert_ok(
        fixture
            .send(std::slice::from_ref(&withdraw), &[owner])
            .await,
    );
    let state: Provider = fixture.decode(&provider.address).await;
    assert_eq!(
        (state.stake, state.unbonding_amount, state.unbonding_ends_at),
        (STAKE / 4, 0, 0)
    );
    assert_eq!(
        fixture.balance(&provider.reward_account).await,
        3 * STAKE / 4
    );
    fixture.assert_provider_balanced(&provider.address).await;
    assert_eq!(fixture.network_account().await.totals.unbonding, 0);
    assert_err(
        fixture.send(&[withdraw], &[owner]).await,
        TesseraError::NothingToWithdraw,
    );
}

#[tokio::test]
async fn deregister_only_when_empty_and_returns_rent_and_stray_tokens() {
    let mut fixture = TestFixture::new().await;
    let network = fixture.network;
    let reward_mint = fixture.reward_mint;
    let provider = fixture.provider(ProviderClass::Bandwidth, STAKE).await;
    let owner = &provider.owner;
    let vault = pda::stake_vault(&provider.address);
    let deregister = ix::deregister(
        &owner.pubkey(),
        &network,
        reward_mint,
        &provider.reward_account,
    );

    assert_ok(
        fixture
            .send(
                &[ix::stake(
                    &owner.pubkey(),
                    &network,
                    reward_mint,
                    &provider.reward_account,
                    STAKE,
                )],
                &[owner],
            )
            .await,
    );
    assert_err(
        fixture
            .send(std::slice::from_ref(&deregister), &[owner])
            .await,
        TesseraError::DeregisterWithStake,
    );

    assert_ok(
        fixture
            .send(
                &[ix::request_unstake(&owner.pubkey(), &network, STAKE)],
                &[owner],
            )
            .await,
    );
    assert_err(
        fixture
            .send(std::slice::from_ref(&deregister), &[owner])
            .await,
        TesseraError::DeregisterWithUnbonding,
    );

    fixture
        .advance(default_params().unbonding_period_secs)
        .await;
    let withdraw = ix::withdraw_unstaked(
        &owner.pubkey(),
        &network,
        reward_mint,
        &provider.reward_account,
    );
    assert_ok(fixture.send(&[withdraw], &[owner]).await);

    // A jailed provider cannot leave (and so cannot shed its record by registering anew).
    fixture
        .mutate::<Provider>(&provider.address, |p| p.status = ProviderStatus::Jailed)
        .await;
    assert_err(
        fixture
            .send(std::slice::from_ref(&deregister), &[owner])
            .await,
        TesseraError::ProviderJailed,
    );
    fixture
        .mutate::<Provider>(&provider.address, |p| p.status = ProviderStatus::Active)
        .await;

    let stranger = fixture.wallet().await;
    let stranger_tokens = fixture.reward_tokens(&stranger.pubkey(), 0).await;
    let mut instruction =
        ix::deregister(&stranger.pubkey(), &network, reward_mint, &stranger_tokens);
    impersonate(
        &mut instruction,
        &network,
        &stranger.pubkey(),
        &provider.address,
    );
    assert_err(
        fixture.send(&[instruction], &[&stranger]).await,
        TesseraError::NotProviderOwner,
    );

    // Somebody sends tokens to the vault; deregistering still works and returns them.
    fixture.gift_reward_tokens(&vault, 5 * ONE).await;
    let rent = fixture.lamports(&provider.address).await + fixture.lamports(&vault).await;
    let lamports_before = fixture.lamports(&owner.pubkey()).await;
    assert_ok(fixture.send(&[deregister], &[owner]).await);
    assert!(fixture.account(&provider.address).await.is_none());
    assert!(fixture.account(&vault).await.is_none());
    assert_eq!(
        fixture.lamports(&owner.pubkey()).await,
        lamports_before + rent
    );
    assert_eq!(
        fixture.balance(&provider.reward_account).await,
        STAKE + 5 * ONE
    );
    assert_eq!(fixture.network_account().await.totals.providers, 0);
}
