//! create_job, accept_job, top_up, complete_job, cancel_job, close_job on SPL Token and
//! Token-2022, in mints other than the reward mint. After every successful step the job's
//! vault holds exactly deposited - paid out - fees - refunded (invariant 1).

use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use spl_token_2022_interface::extension::ExtensionType;
use tessera::state::{Job, JobStatus, PauseFlags, Provider, ProviderClass, ProviderStatus};
use tessera::TesseraError;
use tessera_client::instructions::{self as ix, CloseJobAccounts, MintRef};
use tessera_client::pda;
use tessera_tests::*;

const FUNDS: u64 = 1_000 * ONE;

/// A network, an SPL Token payment mint that is not the reward mint, a funded client and a
/// staked Inference provider.
async fn setup(token_program: Pubkey) -> (TestFixture, MintRef, TestClient, TestProvider) {
    let mut fixture = TestFixture::new().await;
    let mint = fixture.create_mint(token_program).await;
    assert_ne!(mint.mint, fixture.reward_mint.mint);
    let client = fixture.client(mint, FUNDS).await;
    let provider = fixture.staked_provider(ProviderClass::Inference).await;
    (fixture, mint, client, provider)
}

fn close_accounts(
    fixture: &TestFixture,
    job: &TestJob,
    client: &TestClient,
    cranker: &Keypair,
) -> CloseJobAccounts {
    CloseJobAccounts {
        cranker: cranker.pubkey(),
        network: fixture.network,
        job: job.address,
        client: client.wallet.pubkey(),
        client_token: client.token_account,
        treasury_token: None,
        payment_mint: job.mint,
    }
}

async fn accept(fixture: &mut TestFixture, provider: &TestProvider, job: &TestJob) -> TxResult {
    let instruction = ix::accept_job(&provider.owner.pubkey(), &fixture.network, &job.address);
    fixture.send(&[instruction], &[&provider.owner]).await
}

async fn complete(fixture: &mut TestFixture, provider: &TestProvider, job: &TestJob) -> TxResult {
    let instruction = ix::complete_job(
        &provider.owner.pubkey(),
        &fixture.network,
        &job.address,
        [5; 32],
    );
    fixture.send(&[instruction], &[&provider.owner]).await
}

async fn full_lifecycle(token_program: Pubkey) {
    let (mut fixture, mint, client, provider) = setup(token_program).await;
    let args = fixture.job_args(None);
    let deposit = args.price_per_unit * args.max_units;
    let (result, job) = fixture.create_job(&client, mint, args.clone()).await;
    assert_ok(result);
    fixture.assert_job_balanced(&job).await;
    let state: Job = fixture.decode(&job.address).await;
    assert_eq!(state.status, JobStatus::Open);
    assert_eq!(
        (state.client, state.job_id, state.payment_mint),
        (client.wallet.pubkey(), args.job_id, mint.mint)
    );
    assert_eq!(
        (state.deposited, state.max_units, state.provider),
        (deposit, args.max_units, Pubkey::default())
    );
    assert_eq!(fixture.balance(&job.vault).await, deposit);
    assert_eq!(
        fixture.balance(&client.token_account).await,
        FUNDS - deposit
    );
    assert_eq!(
        fixture.account(&job.vault).await.unwrap().owner,
        token_program
    );
    assert_eq!(fixture.network_account().await.totals.open_jobs, 1);

    assert_ok(accept(&mut fixture, &provider, &job).await);
    fixture.assert_job_balanced(&job).await;
    let state: Job = fixture.decode(&job.address).await;
    assert_eq!(
        (state.status, state.provider, state.accepted_at),
        (JobStatus::Running, provider.address, fixture.now)
    );
    assert_eq!(
        fixture
            .decode::<Provider>(&provider.address)
            .await
            .active_jobs,
        1
    );

    let top_up = ix::top_up(
        &client.wallet.pubkey(),
        &job.address,
        mint,
        &client.token_account,
        50,
    );
    assert_ok(fixture.send(&[top_up], &[&client.wallet]).await);
    fixture.assert_job_balanced(&job).await;
    let state: Job = fixture.decode(&job.address).await;
    assert_eq!((state.max_units, state.deposited), (150, 150 * ONE));

    assert_ok(complete(&mut fixture, &provider, &job).await);
    fixture.assert_job_balanced(&job).await;
    let state: Job = fixture.decode(&job.address).await;
    assert_eq!(
        (state.status, state.result_hash, state.ended_at),
        (JobStatus::Completed, [5; 32], fixture.now)
    );
    let provider_state: Provider = fixture.decode(&provider.address).await;
    assert_eq!(
        (provider_state.active_jobs, provider_state.jobs_completed),
        (0, 1)
    );

    let cranker = fixture.wallet().await;
    let close = ix::close_job(close_accounts(&fixture, &job, &client, &cranker));
    assert_err(
        fixture
            .send(std::slice::from_ref(&close), &[&cranker])
            .await,
        TesseraError::DisputeWindowOpen,
    );
    fixture.advance(default_params().dispute_window_secs).await;

    let rent = fixture.lamports(&job.address).await + fixture.lamports(&job.vault).await;
    let client_lamports = fixture.lamports(&client.wallet.pubkey()).await;
    assert_ok(fixture.send(&[close], &[&cranker]).await);
    assert!(fixture.account(&job.address).await.is_none());
    assert!(fixture.account(&job.vault).await.is_none());
    assert_eq!(
        fixture.balance(&client.token_account).await,
        FUNDS,
        "the unspent escrow came back"
    );
    assert_eq!(
        fixture.lamports(&client.wallet.pubkey()).await,
        client_lamports + rent,
        "rent went to the client"
    );
    assert_eq!(fixture.network_account().await.totals.open_jobs, 0);
}

#[tokio::test]
async fn full_lifecycle_spl_token() {
    full_lifecycle(TOKEN).await;
}

#[tokio::test]
async fn full_lifecycle_token_2022() {
    full_lifecycle(TOKEN_2022).await;
}

#[tokio::test]
async fn create_job_refuses_mints_that_break_accounting() {
    let mut fixture = TestFixture::new().await;
    let payer = fixture.context.payer.pubkey();
    for extension in [
        ExtensionType::TransferFeeConfig,
        ExtensionType::MintCloseAuthority,
    ] {
        let mint = fixture
            .create_mint_full(TOKEN_2022, &payer, None, &[extension])
            .await;
        let client = fixture.wallet().await;
        let client = TestClient {
            token_account: fixture.token_account(mint, &client.pubkey()).await,
            wallet: client,
        };
        let args = fixture.job_args(None);
        let (result, job) = fixture.create_job(&client, mint, args).await;
        assert_err(result, TesseraError::UnsupportedMintExtension);
        assert!(
            fixture.account(&job.address).await.is_none(),
            "{extension:?}: nothing created"
        );
    }

    // Metadata changes nothing about balances: allowed.
    let authority = Keypair::new();
    let mint = fixture
        .create_mint_full(
            TOKEN_2022,
            &authority.pubkey(),
            None,
            &[ExtensionType::MetadataPointer],
        )
        .await;
    let wallet = fixture.wallet().await;
    let token_account = fixture.token_account(mint, &wallet.pubkey()).await;
    let mint_to = spl_token_2022_interface::instruction::mint_to(
        &TOKEN_2022,
        &mint.mint,
        &token_account,
        &authority.pubkey(),
        &[],
        FUNDS,
    )
    .unwrap();
    assert_ok(fixture.send(&[mint_to], &[&authority]).await);
    let client = TestClient {
        wallet,
        token_account,
    };
    let args = fixture.job_args(None);
    let (result, job) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    fixture.assert_job_balanced(&job).await;
}

#[tokio::test]
async fn create_job_refuses_bad_terms() {
    let (mut fixture, mint, client, _) = setup(TOKEN).await;
    let now = fixture.now;
    let cases: Vec<(Spoil<tessera::instructions::CreateJobArgs>, TesseraError)> = vec![
        (Box::new(|a| a.price_per_unit = 0), TesseraError::ZeroAmount),
        (Box::new(|a| a.max_units = 0), TesseraError::ZeroAmount),
        (
            Box::new(move |a| a.accept_by = now),
            TesseraError::InvalidJobTimes,
        ),
        (
            Box::new(|a| a.deadline = a.accept_by),
            TesseraError::InvalidJobTimes,
        ),
        (
            Box::new(|a| {
                a.price_per_unit = u64::MAX / 2;
                a.max_units = 3;
            }),
            TesseraError::MathOverflow,
        ),
    ];
    for (spoil, expected) in cases {
        let mut args = fixture.job_args(None);
        spoil(&mut args);
        let (result, job) = fixture.create_job(&client, mint, args).await;
        assert_err(result, expected);
        assert!(fixture.account(&job.address).await.is_none());
    }

    let mut args = fixture.job_args(None);
    args.max_units = FUNDS / ONE + 1;
    let (result, _) = fixture.create_job(&client, mint, args).await;
    assert_failed(result, "a deposit larger than the client's balance");

    // The source must hold the payment mint.
    let other_mint = fixture.create_mint(TOKEN).await;
    let other = fixture
        .funded_token_account(other_mint, &client.wallet.pubkey(), FUNDS)
        .await;
    let args = fixture.job_args(None);
    let mut instruction = ix::create_job(
        &client.wallet.pubkey(),
        &fixture.network,
        mint,
        &client.token_account,
        args,
    );
    swap_account(&mut instruction, &client.token_account, &other);
    assert_err(
        fixture.send(&[instruction], &[&client.wallet]).await,
        TesseraError::WrongMint,
    );

    // A job id is used once per client.
    let args = fixture.job_args(None);
    let (result, first) = fixture.create_job(&client, mint, args.clone()).await;
    assert_ok(result);
    let (result, _) = fixture.create_job(&client, mint, args).await;
    assert_failed(result, "a second job with the same id");
    fixture.assert_job_balanced(&first).await;

    // Paused.
    fixture
        .pause(PauseFlags {
            new_jobs: true,
            ..Default::default()
        })
        .await;
    let args = fixture.job_args(None);
    let (result, _) = fixture.create_job(&client, mint, args).await;
    assert_err(result, TesseraError::NewJobsPaused);
    assert_eq!(
        fixture.balance(&client.token_account).await,
        FUNDS - 100 * ONE,
        "only the one good job was paid for"
    );
}

#[tokio::test]
async fn jobs_of_one_client_never_share_a_vault() {
    let (mut fixture, mint, client, provider) = setup(TOKEN).await;
    let args = fixture.job_args(None);
    let (result, first) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    let args = fixture.job_args(None);
    let (result, second) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    assert_ne!(first.vault, second.vault);
    assert_eq!(fixture.balance(&first.vault).await, 100 * ONE);
    assert_eq!(fixture.balance(&second.vault).await, 100 * ONE);

    // Closing the first job while naming the second job's vault is refused.
    assert_ok(accept(&mut fixture, &provider, &first).await);
    assert_ok(complete(&mut fixture, &provider, &first).await);
    fixture.advance(default_params().dispute_window_secs).await;
    let cranker = fixture.wallet().await;
    let mut close = ix::close_job(close_accounts(&fixture, &first, &client, &cranker));
    swap_account(&mut close, &first.vault, &second.vault);
    assert_anchor_err(
        fixture.send(&[close], &[&cranker]).await,
        AnchorErrorCode::ConstraintHasOne,
    );

    // So is topping up one job into another job's vault.
    let mut top_up = ix::top_up(
        &client.wallet.pubkey(),
        &second.address,
        mint,
        &client.token_account,
        1,
    );
    swap_account(&mut top_up, &second.vault, &first.vault);
    assert_anchor_err(
        fixture.send(&[top_up], &[&client.wallet]).await,
        AnchorErrorCode::ConstraintHasOne,
    );

    let close = ix::close_job(close_accounts(&fixture, &first, &client, &cranker));
    assert_ok(fixture.send(&[close], &[&cranker]).await);
    assert_eq!(
        fixture.balance(&second.vault).await,
        100 * ONE,
        "the other job's escrow is untouched"
    );
    fixture.assert_job_balanced(&second).await;
}

#[tokio::test]
async fn accept_job_checks_provider_and_state() {
    let (mut fixture, mint, client, provider) = setup(TOKEN).await;
    let network = fixture.network;

    // Named job: only the named provider.
    let other = fixture.staked_provider(ProviderClass::Inference).await;
    let args = fixture.job_args(Some(provider.address));
    let (result, named) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    assert_err(
        accept(&mut fixture, &other, &named).await,
        TesseraError::NotNamedProvider,
    );
    assert_ok(accept(&mut fixture, &provider, &named).await);
    assert_err(
        accept(&mut fixture, &provider, &named).await,
        TesseraError::JobNotOpen,
    );
    assert_eq!(
        fixture
            .decode::<Provider>(&provider.address)
            .await
            .active_jobs,
        1
    );

    // Open job: class and spec must match.
    let args = fixture.job_args(None);
    let (result, open) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    let training = fixture.staked_provider(ProviderClass::Training).await;
    assert_err(
        accept(&mut fixture, &training, &open).await,
        TesseraError::ProviderClassMismatch,
    );
    let mut small = gpu_spec();
    small.vram_gib = 16;
    let update = ix::update_provider(&other.owner.pubkey(), &network, small);
    assert_ok(fixture.send(&[update], &[&other.owner]).await);
    assert_err(
        accept(&mut fixture, &other, &open).await,
        TesseraError::ProviderSpecTooLow,
    );

    // Enough stake, not jailed.
    let unstaked = fixture.provider(ProviderClass::Inference, 0).await;
    assert_err(
        accept(&mut fixture, &unstaked, &open).await,
        TesseraError::StakeBelowMinimum,
    );
    let jailed = fixture.staked_provider(ProviderClass::Inference).await;
    fixture
        .mutate::<Provider>(&jailed.address, |p| p.status = ProviderStatus::Jailed)
        .await;
    assert_err(
        accept(&mut fixture, &jailed, &open).await,
        TesseraError::ProviderJailed,
    );

    // Somebody else's provider account.
    let stranger = fixture.wallet().await;
    let mut instruction = ix::accept_job(&stranger.pubkey(), &network, &open.address);
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

    // Paused, then too late.
    fixture
        .pause(PauseFlags {
            new_jobs: true,
            ..Default::default()
        })
        .await;
    assert_err(
        accept(&mut fixture, &provider, &open).await,
        TesseraError::NewJobsPaused,
    );
    fixture.pause(PauseFlags::default()).await;
    fixture.advance(3_601).await;
    assert_err(
        accept(&mut fixture, &provider, &open).await,
        TesseraError::AcceptWindowClosed,
    );
    assert_eq!(
        fixture.decode::<Job>(&open.address).await.status,
        JobStatus::Open
    );
    fixture.assert_job_balanced(&open).await;
}

#[tokio::test]
async fn a_job_of_another_network_cannot_be_accepted() {
    let (mut fixture, mint, client, provider) = setup(TOKEN).await;
    let args = fixture.job_args(None);
    let (result, job) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);

    // A second network with the same program; the provider registers only on network 1.
    let first_network = fixture.network;
    fixture.network_id = 2;
    fixture.network = pda::network(2);
    fixture.reward_mint = fixture.faucet_reward_mint(TOKEN).await;
    assert_ok(fixture.initialize_network(fixture.initialize_args()).await);
    let mut instruction = ix::accept_job(&provider.owner.pubkey(), &first_network, &job.address);
    swap_account(&mut instruction, &first_network, &fixture.network);
    let result = fixture.send(&[instruction], &[&provider.owner]).await;
    assert_anchor_err(result, AnchorErrorCode::ConstraintHasOne);
}

#[tokio::test]
async fn top_up_rules() {
    let (mut fixture, mint, client, provider) = setup(TOKEN_2022).await;
    let args = fixture.job_args(Some(provider.address));
    let (result, job) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    let top_up = |units| {
        ix::top_up(
            &client.wallet.pubkey(),
            &job.address,
            mint,
            &client.token_account,
            units,
        )
    };

    assert_ok(fixture.send(&[top_up(10)], &[&client.wallet]).await);
    fixture.assert_job_balanced(&job).await;
    assert_err(
        fixture.send(&[top_up(0)], &[&client.wallet]).await,
        TesseraError::ZeroAmount,
    );
    assert_err(
        fixture.send(&[top_up(u64::MAX)], &[&client.wallet]).await,
        TesseraError::MathOverflow,
    );

    let stranger = fixture.client(mint, FUNDS).await;
    let instruction = ix::top_up(
        &stranger.wallet.pubkey(),
        &job.address,
        mint,
        &stranger.token_account,
        1,
    );
    assert_err(
        fixture.send(&[instruction], &[&stranger.wallet]).await,
        TesseraError::NotJobClient,
    );

    let other_mint = fixture.create_mint(TOKEN_2022).await;
    let other = fixture
        .funded_token_account(other_mint, &client.wallet.pubkey(), FUNDS)
        .await;
    let mut instruction = top_up(1);
    swap_account(&mut instruction, &mint.mint, &other_mint.mint);
    swap_account(&mut instruction, &client.token_account, &other);
    assert_err(
        fixture.send(&[instruction], &[&client.wallet]).await,
        TesseraError::WrongMint,
    );

    assert_ok(accept(&mut fixture, &provider, &job).await);
    assert_ok(fixture.send(&[top_up(5)], &[&client.wallet]).await);
    assert_ok(complete(&mut fixture, &provider, &job).await);
    assert_err(
        fixture.send(&[top_up(1)], &[&client.wallet]).await,
        TesseraError::JobNotActive,
    );
    let state: Job = fixture.decode(&job.address).await;
    assert_eq!(state.max_units, 115);
    fixture.assert_job_balanced(&job).await;
}

#[tokio::test]
async fn complete_job_only_by_its_provider_while_running() {
    let (mut fixture, mint, client, provider) = setup(TOKEN).await;
    let network = fixture.network;
    let args = fixture.job_args(None);
    let (result, job) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    assert_err(
        complete(&mut fixture, &provider, &job).await,
        TesseraError::JobNotRunning,
    );
    assert_ok(accept(&mut fixture, &provider, &job).await);

    let other = fixture.staked_provider(ProviderClass::Inference).await;
    assert_err(
        complete(&mut fixture, &other, &job).await,
        TesseraError::NotJobProvider,
    );

    let stranger = fixture.wallet().await;
    let mut instruction = ix::complete_job(&stranger.pubkey(), &network, &job.address, [0; 32]);
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

    // A provider with a running job can neither leave nor drop below its minimum stake.
    let owner = provider.owner.insecure_clone();
    let unstake = ix::request_unstake(&owner.pubkey(), &network, 1);
    assert_err(
        fixture.send(&[unstake], &[&owner]).await,
        TesseraError::StakeLockedByActiveJobs,
    );
    let deregister = ix::deregister(
        &owner.pubkey(),
        &network,
        fixture.reward_mint,
        &provider.reward_account,
    );
    fixture
        .mutate::<Provider>(&provider.address, |p| p.stake = 0)
        .await;
    assert_err(
        fixture.send(&[deregister], &[&owner]).await,
        TesseraError::DeregisterWithActiveJobs,
    );
    fixture
        .mutate::<Provider>(&provider.address, |p| {
            p.stake = default_params().classes[1].min_stake
        })
        .await;

    assert_ok(complete(&mut fixture, &provider, &job).await);
    assert_err(
        complete(&mut fixture, &provider, &job).await,
        TesseraError::JobNotRunning,
    );
    let unstake = ix::request_unstake(&owner.pubkey(), &network, 1);
    assert_ok(fixture.send(&[unstake], &[&owner]).await);
}

#[tokio::test]
async fn cancel_job_timing_and_rights() {
    let (mut fixture, mint, client, provider) = setup(TOKEN).await;
    let network = fixture.network;
    let cancel = |job: &TestJob, provider: Option<Pubkey>| {
        ix::cancel_job(&client.wallet.pubkey(), &network, &job.address, provider)
    };

    // Open: only after accept-by, only by the client.
    let args = fixture.job_args(None);
    let (result, open) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    assert_err(
        fixture
            .send(&[cancel(&open, None)], &[&client.wallet])
            .await,
        TesseraError::CancelTooEarly,
    );
    let stranger = fixture.wallet().await;
    let instruction = ix::cancel_job(&stranger.pubkey(), &fixture.network, &open.address, None);
    assert_err(
        fixture.send(&[instruction], &[&stranger]).await,
        TesseraError::NotJobClient,
    );

    // Running, with work settled: only after the deadline, naming the provider.
    let args = fixture.job_args(None);
    let (result, running) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    assert_ok(accept(&mut fixture, &provider, &running).await);
    let receipt = fixture.receipt(&running, &provider, 10).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    assert_ok(fixture.settle(&running, &provider, &signed).await);
    assert_err(
        fixture
            .send(
                &[cancel(&running, Some(provider.address))],
                &[&client.wallet],
            )
            .await,
        TesseraError::CancelTooEarly,
    );

    fixture.advance(3_601).await;
    assert_ok(
        fixture
            .send(&[cancel(&open, None)], &[&client.wallet])
            .await,
    );
    fixture.assert_job_balanced(&open).await;
    let state: Job = fixture.decode(&open.address).await;
    assert_eq!(
        (state.status, state.ended_at),
        (JobStatus::Cancelled, fixture.now)
    );
    assert_err(
        fixture
            .send(&[cancel(&open, None)], &[&client.wallet])
            .await,
        TesseraError::JobNotActive,
    );

    // A job nobody accepted closes at once: there is nothing to dispute.
    let cranker = fixture.wallet().await;
    let close = ix::close_job(close_accounts(&fixture, &open, &client, &cranker));
    assert_ok(fixture.send(&[close], &[&cranker]).await);

    fixture.advance(86_400).await;
    assert_err(
        fixture
            .send(&[cancel(&running, None)], &[&client.wallet])
            .await,
        TesseraError::NotJobProvider,
    );
    let other = fixture.staked_provider(ProviderClass::Inference).await;
    assert_err(
        fixture
            .send(&[cancel(&running, Some(other.address))], &[&client.wallet])
            .await,
        TesseraError::NotJobProvider,
    );
    assert_ok(
        fixture
            .send(
                &[cancel(&running, Some(provider.address))],
                &[&client.wallet],
            )
            .await,
    );
    fixture.assert_job_balanced(&running).await;
    let provider_state = fixture.decode::<Provider>(&provider.address).await;
    assert_eq!(provider_state.active_jobs, 0);
    assert_eq!(
        provider_state.no_shows, 0,
        "work was settled: not a no-show"
    );

    // An accepted job waits out the window in which its receipts may still settle.
    let treasury = fixture.treasury.pubkey();
    let treasury_token = fixture.token_account(mint, &treasury).await;
    let close = ix::close_job(CloseJobAccounts {
        treasury_token: Some(treasury_token),
        ..close_accounts(&fixture, &running, &client, &cranker)
    });
    assert_err(
        fixture
            .send(std::slice::from_ref(&close), &[&cranker])
            .await,
        TesseraError::DisputeWindowOpen,
    );
    fixture.advance(default_params().dispute_window_secs).await;
    assert_ok(fixture.send(&[close], &[&cranker]).await);
    assert_eq!(
        fixture.balance(&client.token_account).await,
        FUNDS - 10 * ONE,
        "everything but the 10 settled units comes back"
    );
}

#[tokio::test]
async fn close_job_refunds_only_the_client() {
    let (mut fixture, mint, client, provider) = setup(TOKEN).await;
    let args = fixture.job_args(None);
    let (result, job) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    let cranker = fixture.wallet().await;
    let close = ix::close_job(close_accounts(&fixture, &job, &client, &cranker));
    assert_err(
        fixture
            .send(std::slice::from_ref(&close), &[&cranker])
            .await,
        TesseraError::JobNotEnded,
    );
    assert_ok(accept(&mut fixture, &provider, &job).await);
    assert_err(
        fixture
            .send(std::slice::from_ref(&close), &[&cranker])
            .await,
        TesseraError::JobNotEnded,
    );
    assert_ok(complete(&mut fixture, &provider, &job).await);
    fixture.advance(default_params().dispute_window_secs).await;

    // The refund account must be the client's, in the payment mint.
    let thief = fixture.client(mint, 0).await;
    let mut instruction = close.clone();
    swap_account(
        &mut instruction,
        &client.token_account,
        &thief.token_account,
    );
    assert_err(
        fixture.send(&[instruction], &[&cranker]).await,
        TesseraError::WrongTokenAccountOwner,
    );
    let other_mint = fixture.create_mint(TOKEN).await;
    let other = fixture
        .token_account(other_mint, &client.wallet.pubkey())
        .await;
    let mut instruction = close.clone();
    swap_account(&mut instruction, &client.token_account, &other);
    assert_err(
        fixture.send(&[instruction], &[&cranker]).await,
        TesseraError::WrongMint,
    );

    // Tokens sent to the vault by a third party go back to the client too.
    let donor = fixture.client(mint, 7 * ONE).await;
    let gift = spl_token_2022_interface::instruction::transfer_checked(
        &TOKEN,
        &donor.token_account,
        &mint.mint,
        &job.vault,
        &donor.wallet.pubkey(),
        &[],
        7 * ONE,
        DECIMALS,
    )
    .unwrap();
    assert_ok(fixture.send(&[gift], &[&donor.wallet]).await);
    assert_ok(fixture.send(&[close], &[&cranker]).await);
    assert_eq!(
        fixture.balance(&client.token_account).await,
        FUNDS + 7 * ONE
    );
    assert_eq!(fixture.balance(&thief.token_account).await, 0);
}
