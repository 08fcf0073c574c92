//! open_dispute and resolve_dispute: slashing to the client, jailing, and how disputes hold
//! a job open; and how close_job pays the accrued fees to the treasury.

use solana_signer::Signer;
use tessera::state::{Dispute, Job, Provider, ProviderClass, ProviderStatus};
use tessera::TesseraError;
use tessera_client::instructions::{self as ix, CloseJobAccounts, ResolveDisputeAccounts};
use tessera_client::pda;
use tessera_tests::*;

const FUNDS: u64 = 10_000 * ONE;

struct Scene {
    fixture: TestFixture,
    client: TestClient,
    client_reward: solana_pubkey::Pubkey,
    provider: TestProvider,
    job: TestJob,
}

/// A running job of 1,000 units whose first 100 units were settled on the attestors' word.
async fn attested_job(class: ProviderClass) -> Scene {
    let mut fixture = TestFixture::new().await;
    fixture.set_attestors(3, 2).await;
    let mint = fixture.create_mint(TOKEN).await;
    let client = fixture.client(mint, FUNDS).await;
    let client_reward = fixture.reward_tokens(&client.wallet.pubkey(), 0).await;
    let provider = fixture.staked_provider(class).await;
    let mut args = fixture.job_args(Some(provider.address));
    args.max_units = 1_000;
    let (result, job) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    let accept = ix::accept_job(&provider.owner.pubkey(), &fixture.network, &job.address);
    assert_ok(fixture.send(&[accept], &[&provider.owner]).await);
    let (a, b) = (
        fixture.attestors[0].insecure_clone(),
        fixture.attestors[1].insecure_clone(),
    );
    let receipt = fixture.receipt(&job, &provider, 100).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&a, &b]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);
    Scene {
        fixture,
        client,
        client_reward,
        provider,
        job,
    }
}

impl Scene {
    async fn open(&mut self) -> TxResult {
        let instruction = ix::open_dispute(
            &self.client.wallet.pubkey(),
            &self.fixture.network,
            &self.job.address,
            &self.provider.address,
            [4; 32],
        );
        self.fixture
            .send(&[instruction], &[&self.client.wallet])
            .await
    }

    fn resolve_accounts(&self) -> ResolveDisputeAccounts {
        ResolveDisputeAccounts {
            authority: self.fixture.authority.pubkey(),
            network: self.fixture.network,
            job: self.job.address,
            client: self.client.wallet.pubkey(),
            provider: self.provider.address,
            client_reward_token: self.client_reward,
            reward_mint: self.fixture.reward_mint,
        }
    }

    async fn resolve(&mut self, slash: u64) -> TxResult {
        let authority = self.fixture.authority.insecure_clone();
        let instruction = ix::resolve_dispute(self.resolve_accounts(), slash);
        self.fixture.send(&[instruction], &[&authority]).await
    }

    fn close_accounts(&self, treasury_token: Option<solana_pubkey::Pubkey>) -> CloseJobAccounts {
        CloseJobAccounts {
            cranker: self.fixture.context.payer.pubkey(),
            network: self.fixture.network,
            job: self.job.address,
            client: self.client.wallet.pubkey(),
            client_token: self.client.token_account,
            treasury_token,
            payment_mint: self.job.mint,
        }
    }
}

#[tokio::test]
async fn a_client_disputes_attested_work_and_the_authority_slashes() {
    let mut scene = attested_job(ProviderClass::Inference).await;
    assert_ok(scene.open().await);
    let dispute: Dispute = scene
        .fixture
        .decode(&pda::dispute(&scene.job.address))
        .await;
    assert_eq!(
        (dispute.client, dispute.provider, dispute.settled_units),
        (scene.client.wallet.pubkey(), scene.provider.address, 100)
    );
    assert!(
        scene
            .fixture
            .decode::<Job>(&scene.job.address)
            .await
            .dispute_open
    );
    assert_eq!(
        scene.fixture.network_account().await.totals.open_disputes,
        1
    );
    assert_err(scene.open().await, TesseraError::DisputeOpen);

    // Only the authority resolves, and only up to what the provider has at stake.
    let stranger = scene.fixture.wallet().await;
    let mut accounts = scene.resolve_accounts();
    accounts.authority = stranger.pubkey();
    let result = scene
        .fixture
        .send(&[ix::resolve_dispute(accounts, 1)], &[&stranger])
        .await;
    assert_err(result, TesseraError::NotAuthority);
    let stake = default_params().classes[1].min_stake;
    assert_err(
        scene.resolve(stake + 1).await,
        TesseraError::SlashExceedsStake,
    );

    // The slash must reach the client, in the reward mint.
    let thief = scene.fixture.reward_tokens(&stranger.pubkey(), 0).await;
    let mut accounts = scene.resolve_accounts();
    accounts.client_reward_token = thief;
    let authority = scene.fixture.authority.insecure_clone();
    let result = scene
        .fixture
        .send(&[ix::resolve_dispute(accounts, 1)], &[&authority])
        .await;
    assert_err(result, TesseraError::WrongTokenAccountOwner);
    let mut accounts = scene.resolve_accounts();
    accounts.client_reward_token = scene.client.token_account;
    let result = scene
        .fixture
        .send(&[ix::resolve_dispute(accounts, 1)], &[&authority])
        .await;
    assert_err(result, TesseraError::WrongMint);

    let client_lamports = scene.fixture.lamports(&scene.client.wallet.pubkey()).await;
    let dispute_rent = scene
        .fixture
        .lamports(&pda::dispute(&scene.job.address))
        .await;
    assert_ok(scene.resolve(stake / 4).await);
    assert_eq!(scene.fixture.balance(&scene.client_reward).await, stake / 4);
    let provider: Provider = scene.fixture.decode(&scene.provider.address).await;
    assert_eq!(
        (
            provider.stake,
            provider.slashed_total,
            provider.lost_disputes
        ),
        (stake - stake / 4, stake / 4, 1)
    );
    assert_eq!(provider.status, ProviderStatus::Active);
    scene
        .fixture
        .assert_provider_balanced(&scene.provider.address)
        .await;
    assert!(scene
        .fixture
        .account(&pda::dispute(&scene.job.address))
        .await
        .is_none());
    assert_eq!(
        scene.fixture.lamports(&scene.client.wallet.pubkey()).await,
        client_lamports + dispute_rent
    );
    let totals = scene.fixture.network_account().await.totals;
    assert_eq!(
        (totals.open_disputes, totals.slashed, totals.staked),
        (0, stake / 4, stake - stake / 4)
    );
    assert!(
        !scene
            .fixture
            .decode::<Job>(&scene.job.address)
            .await
            .dispute_open
    );
}

#[tokio::test]
async fn disputes_need_attested_work_inside_the_window() {
    let mut fixture = TestFixture::new().await;
    let (client, provider, job) = fixture.accepted_job(FUNDS, 100).await;
    let receipt = fixture.receipt(&job, &provider, 10).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);
    let open = ix::open_dispute(
        &client.wallet.pubkey(),
        &fixture.network,
        &job.address,
        &provider.address,
        [0; 32],
    );
    assert_err(
        fixture
            .send(std::slice::from_ref(&open), &[&client.wallet])
            .await,
        TesseraError::NothingToDispute,
    );

    let mut scene = attested_job(ProviderClass::Inference).await;
    let stranger = scene.fixture.wallet().await;
    let not_client = ix::open_dispute(
        &stranger.pubkey(),
        &scene.fixture.network,
        &scene.job.address,
        &scene.provider.address,
        [0; 32],
    );
    assert_err(
        scene.fixture.send(&[not_client], &[&stranger]).await,
        TesseraError::NotJobClient,
    );
    scene
        .fixture
        .advance(default_params().dispute_window_secs + 1)
        .await;
    assert_err(scene.open().await, TesseraError::DisputeWindowClosed);
}

#[tokio::test]
async fn an_open_dispute_holds_the_job_and_dismissal_releases_it() {
    let mut scene = attested_job(ProviderClass::Inference).await;
    assert_ok(scene.open().await);
    let complete = ix::complete_job(
        &scene.provider.owner.pubkey(),
        &scene.fixture.network,
        &scene.job.address,
        [1; 32],
    );
    let owner = scene.provider.owner.insecure_clone();
    assert_ok(scene.fixture.send(&[complete], &[&owner]).await);
    scene
        .fixture
        .advance(default_params().dispute_window_secs)
        .await;

    let treasury = scene.fixture.treasury.pubkey();
    let treasury_token = scene.fixture.token_account(scene.job.mint, &treasury).await;
    let close = ix::close_job(scene.close_accounts(Some(treasury_token)));
    assert_err(
        scene.fixture.send(std::slice::from_ref(&close), &[]).await,
        TesseraError::DisputeOpen,
    );

    assert_ok(scene.resolve(0).await);
    let provider: Provider = scene.fixture.decode(&scene.provider.address).await;
    assert_eq!(
        (provider.lost_disputes, provider.slashed_total),
        (0, 0),
        "dismissed: no penalty"
    );

    // Fees are owed: the treasury's account is required, and must be the treasury's.
    let no_treasury = ix::close_job(scene.close_accounts(None));
    assert_err(
        scene.fixture.send(&[no_treasury], &[]).await,
        TesseraError::TreasuryAccountRequired,
    );
    let impostor = scene.fixture.client(scene.job.mint, 0).await;
    let not_treasury = ix::close_job(scene.close_accounts(Some(impostor.token_account)));
    assert_err(
        scene.fixture.send(&[not_treasury], &[]).await,
        TesseraError::WrongTokenAccountOwner,
    );
    // The client's own account in both roles is refused as a duplicate.
    let twice = ix::close_job(scene.close_accounts(Some(scene.client.token_account)));
    assert_anchor_err(
        scene.fixture.send(&[twice], &[]).await,
        AnchorErrorCode::ConstraintDuplicateMutableAccount,
    );

    assert_ok(scene.fixture.send(&[close], &[]).await);
    let fees = 100 * ONE * 250 / 10_000;
    assert_eq!(scene.fixture.balance(&treasury_token).await, fees);
    assert_eq!(
        scene.fixture.balance(&scene.client.token_account).await,
        FUNDS - 100 * ONE
    );
    assert!(scene.fixture.account(&scene.job.address).await.is_none());
}

#[tokio::test]
async fn repeated_lost_disputes_jail_and_unbonding_is_no_escape() {
    let mut scene = attested_job(ProviderClass::Edge).await;
    let stake = default_params().classes[2].min_stake;
    let network = scene.fixture.network;
    let owner = scene.provider.owner.insecure_clone();

    // The provider tries to run with its stake: it is unbonding, and still slashable.
    let unstake = ix::request_unstake(&owner.pubkey(), &network, stake);
    assert_failed(
        scene
            .fixture
            .send(std::slice::from_ref(&unstake), &[&owner])
            .await,
        "locked by its running job",
    );
    scene
        .fixture
        .mutate::<Provider>(&scene.provider.address, |p| p.active_jobs = 0)
        .await;
    assert_ok(scene.fixture.send(&[unstake], &[&owner]).await);

    let jail_after = default_params().jail_after_lost_disputes as u64;
    for lost in 1..=jail_after {
        assert_ok(scene.open().await);
        assert_ok(scene.resolve(ONE).await);
        let provider: Provider = scene.fixture.decode(&scene.provider.address).await;
        assert_eq!(provider.lost_disputes as u64, lost);
        assert_eq!(
            provider.unbonding_amount,
            stake - lost * ONE,
            "slashed from unbonding stake"
        );
        let expected = if lost == jail_after {
            ProviderStatus::Jailed
        } else {
            ProviderStatus::Active
        };
        assert_eq!(provider.status, expected);
        scene
            .fixture
            .assert_provider_balanced(&scene.provider.address)
            .await;
        // Fresh attested work reopens the window for the next dispute.
        let (a, b) = (
            scene.fixture.attestors[0].insecure_clone(),
            scene.fixture.attestors[1].insecure_clone(),
        );
        let receipt = scene
            .fixture
            .receipt(&scene.job, &scene.provider, 100 + lost)
            .await;
        let signed = TestFixture::sign(receipt, &scene.provider.worker, &[&a, &b]);
        assert_ok(
            scene
                .fixture
                .settle(&scene.job, &scene.provider, &signed)
                .await,
        );
    }
    assert_eq!(
        scene.fixture.balance(&scene.client_reward).await,
        jail_after * ONE
    );

    // Jailed: its work earns no emissions from now on.
    let epoch = scene.fixture.current_epoch().await;
    let work: tessera::state::WorkRecord = scene
        .fixture
        .decode(&pda::work_record(&scene.provider.address, epoch))
        .await;
    assert!(work.ineligible_units > 0);
}

#[tokio::test]
async fn an_open_dispute_pins_the_providers_stake() {
    let mut scene = attested_job(ProviderClass::Edge).await;
    let network = scene.fixture.network;
    let owner = scene.provider.owner.insecure_clone();
    // Unbond some stake first, then the client disputes.
    scene
        .fixture
        .mutate::<Provider>(&scene.provider.address, |p| p.active_jobs = 0)
        .await;
    let unstake = ix::request_unstake(&owner.pubkey(), &network, ONE);
    assert_ok(scene.fixture.send(&[unstake], &[&owner]).await);
    assert_ok(scene.open().await);
    scene
        .fixture
        .advance(default_params().unbonding_period_secs)
        .await;

    let reward_mint = scene.fixture.reward_mint;
    let attempts = [
        ix::request_unstake(&owner.pubkey(), &network, ONE),
        ix::withdraw_unstaked(
            &owner.pubkey(),
            &network,
            reward_mint,
            &scene.provider.reward_account,
        ),
        ix::deregister(
            &owner.pubkey(),
            &network,
            reward_mint,
            &scene.provider.reward_account,
        ),
    ];
    for attempt in attempts {
        assert_err(
            scene.fixture.send(&[attempt], &[&owner]).await,
            TesseraError::DisputePending,
        );
    }
    assert_ok(scene.resolve(0).await);
    let withdraw = ix::withdraw_unstaked(
        &owner.pubkey(),
        &network,
        reward_mint,
        &scene.provider.reward_account,
    );
    assert_ok(scene.fixture.send(&[withdraw], &[&owner]).await);
}

#[tokio::test]
async fn a_client_who_attested_as_an_attestor_cannot_dispute() {
    let mut fixture = TestFixture::new().await;
    let mint = fixture.create_mint(TOKEN).await;
    let client = fixture.client(mint, FUNDS).await;
    let provider = fixture.staked_provider(ProviderClass::Inference).await;
    // The client is also one of the two attestors.
    let other = solana_keypair::Keypair::new();
    let authority = fixture.authority.insecure_clone();
    let keys = vec![client.wallet.pubkey(), other.pubkey()];
    let set = ix::set_attestors(&authority.pubkey(), &fixture.network, keys, 2);
    assert_ok(fixture.send(&[set], &[&authority]).await);
    let args = fixture.job_args(Some(provider.address));
    let (result, job) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    let accept = ix::accept_job(&provider.owner.pubkey(), &fixture.network, &job.address);
    assert_ok(fixture.send(&[accept], &[&provider.owner]).await);
    let receipt = fixture.receipt(&job, &provider, 10).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&other, &client.wallet]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);
    let state: Job = fixture.decode(&job.address).await;
    assert_eq!(state.last_attested_at, 0, "the client signed it");
    let open = ix::open_dispute(
        &client.wallet.pubkey(),
        &fixture.network,
        &job.address,
        &provider.address,
        [0; 32],
    );
    assert_err(
        fixture.send(&[open], &[&client.wallet]).await,
        TesseraError::NothingToDispute,
    );
}
