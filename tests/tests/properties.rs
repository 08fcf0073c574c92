//! Property run: random sequences of instructions from several clients, providers and
//! attestors (a set of keys or a group key, replaced now and then), with every account invariant checked after every step, and no token created or
//! destroyed outside settlement, fees, slashing and emission. The economic rules are checked
//! too: a provider's stake stays slashable over every open dispute window of its attested work,
//! its running jobs are what its accounts say and never more than its stake covers when it
//! accepts, and no withdrawal happens while its stake is still slashable.
//!
//! Seeded and reproducible: `TESSERA_PROPERTY_SEED` (default 0x7e55e7a) and
//! `TESSERA_PROPERTY_STEPS` (default 300; the long run is 10,000). The seed and step count are
//! printed, so any failure can be replayed exactly.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::collections::BTreeMap;
use tessera::state::{Job, JobStatus, PauseFlags, Provider, ProviderClass};
use tessera_client::instructions::{self as ix, CloseJobAccounts, MintRef, ResolveDisputeAccounts};
use tessera_client::pda;
use tessera_client::rules;
use tessera_tests::*;

const CLIENT_FUNDS: u64 = 1_000_000 * ONE;

struct Client {
    inner: TestClient,
    /// The client's account in each payment mint, by mint.
    accounts: BTreeMap<Pubkey, Pubkey>,
    reward_account: Pubkey,
}

struct LiveJob {
    job: TestJob,
    client: usize,
    provider: usize,
}

struct World {
    fixture: TestFixture,
    mints: Vec<MintRef>,
    clients: Vec<Client>,
    providers: Vec<TestProvider>,
    jobs: Vec<LiveJob>,
    treasury_accounts: BTreeMap<Pubkey, Pubkey>,
    /// Tokens minted per payment mint at set-up; they must all still be somewhere.
    minted: BTreeMap<Pubkey, u64>,
    /// Epochs that have an account.
    epochs: Vec<u64>,
    outcomes: BTreeMap<&'static str, (u32, u32)>,
}

impl World {
    async fn new() -> Self {
        let mut fixture = TestFixture::new().await;
        fixture.set_attestors(3, 2).await;
        let mints = vec![
            fixture.create_mint(TOKEN).await,
            fixture.create_mint(TOKEN_2022).await,
        ];
        let mut clients = Vec::new();
        let mut minted = BTreeMap::new();
        for _ in 0..3 {
            let wallet = fixture.wallet().await;
            let mut accounts = BTreeMap::new();
            for mint in &mints {
                let account = fixture
                    .funded_token_account(*mint, &wallet.pubkey(), CLIENT_FUNDS)
                    .await;
                accounts.insert(mint.mint, account);
                *minted.entry(mint.mint).or_insert(0) += CLIENT_FUNDS;
            }
            let reward_account = fixture.reward_tokens(&wallet.pubkey(), 0).await;
            let token_account = accounts[&mints[0].mint];
            clients.push(Client {
                inner: TestClient {
                    wallet,
                    token_account,
                },
                accounts,
                reward_account,
            });
        }
        let mut providers = Vec::new();
        for class in [
            ProviderClass::Inference,
            ProviderClass::Inference,
            ProviderClass::Edge,
        ] {
            let provider = fixture.provider(class, 5_000 * ONE).await;
            providers.push(provider);
        }
        let mut treasury_accounts = BTreeMap::new();
        let treasury = fixture.treasury.pubkey();
        for mint in &mints {
            treasury_accounts.insert(mint.mint, fixture.token_account(*mint, &treasury).await);
        }
        let mut world = World {
            fixture,
            mints,
            clients,
            providers,
            jobs: Vec::new(),
            treasury_accounts,
            minted,
            epochs: Vec::new(),
            outcomes: BTreeMap::new(),
        };
        for i in 0..world.providers.len() {
            for mint in world.mints.clone() {
                let provider = world.providers[i].owner.insecure_clone();
                let provider = TestProvider {
                    owner: provider,
                    worker: Keypair::new(),
                    address: world.providers[i].address,
                    reward_account: Pubkey::default(),
                };
                world.fixture.provider_token(&provider, mint).await;
            }
        }
        world
    }

    fn record(&mut self, action: &'static str, result: &TxResult) {
        if let Err(error) = result {
            if std::env::var_os("TESSERA_PROPERTY_VERBOSE").is_some() {
                println!(
                    "    {action} refused: {:?}",
                    custom_code(result).map(|code| code as i64).unwrap_or(-1)
                );
                let _ = error;
            }
        }
        let entry = self.outcomes.entry(action).or_insert((0, 0));
        if result.is_ok() {
            entry.0 += 1
        } else {
            entry.1 += 1
        }
    }

    async fn step(&mut self, rng: &mut ChaCha8Rng) -> String {
        let choice = rng.gen_range(0..100);
        let network = self.fixture.network;
        match choice {
            0..=11 => {
                if self.jobs.len() >= 40 {
                    return "skip (40 live jobs)".into();
                }
                let (c, m) = (
                    rng.gen_range(0..self.clients.len()),
                    rng.gen_range(0..self.mints.len()),
                );
                let p = rng.gen_range(0..self.providers.len());
                let mint = self.mints[m];
                let mut args = self
                    .fixture
                    .job_args(rng.gen_bool(0.5).then_some(self.providers[p].address));
                if self.providers[p].address != args.provider.unwrap_or_default() {
                    args.requirement.class = if rng.gen_bool(0.7) {
                        ProviderClass::Inference
                    } else {
                        ProviderClass::Edge
                    };
                    args.requirement.min_vram_gib = 0;
                }
                args.accept_by = self.fixture.now + rng.gen_range(1..=4) * 86_400;
                args.deadline = args.accept_by + rng.gen_range(1..=10) * 86_400;
                args.price_per_unit = rng.gen_range(1..=3 * ONE);
                args.max_units = rng.gen_range(1..=500);
                let client = TestClient {
                    wallet: self.clients[c].inner.wallet.insecure_clone(),
                    token_account: self.clients[c].accounts[&mint.mint],
                };
                let (result, job) = self.fixture.create_job(&client, mint, args).await;
                self.record("create_job", &result);
                if result.is_ok() {
                    self.jobs.push(LiveJob {
                        job,
                        client: c,
                        provider: p,
                    });
                }
                format!("create_job client {c} mint {m}")
            }
            12..=19 => {
                let Some((j, job)) = self
                    .pick_job_where(rng, |job| job.status == JobStatus::Open)
                    .await
                else {
                    return "skip".into();
                };
                let named = self
                    .providers
                    .iter()
                    .position(|p| p.address == job.provider);
                let p = match named {
                    Some(p) if rng.gen_bool(0.8) => p,
                    _ => rng.gen_range(0..self.providers.len()),
                };
                let owner = self.providers[p].owner.insecure_clone();
                let result = self
                    .fixture
                    .send(
                        &[ix::accept_job(
                            &owner.pubkey(),
                            &network,
                            &self.jobs[j].job.address,
                        )],
                        &[&owner],
                    )
                    .await;
                self.record("accept_job", &result);
                if result.is_ok() {
                    self.jobs[j].provider = p;
                    let state: Provider = self.fixture.decode(&self.providers[p].address).await;
                    let params = self.fixture.network_account().await.params;
                    let class = params.class(state.class);
                    assert!(
                        state.stake >= class.stake_for_jobs(state.active_jobs).unwrap(),
                        "accepted job {j}: provider {p} holds {} jobs on {} staked",
                        state.active_jobs,
                        state.stake
                    );
                }
                format!("accept job {j} by provider {p}")
            }
            20..=23 => {
                let Some(j) = self.pick_job(rng) else {
                    return "skip".into();
                };
                let live = &self.jobs[j];
                let client = &self.clients[live.client];
                let wallet = client.inner.wallet.insecure_clone();
                let source = client.accounts[&live.job.mint.mint];
                let units = rng.gen_range(0..=100);
                let result = self
                    .fixture
                    .send(
                        &[ix::top_up(
                            &wallet.pubkey(),
                            &live.job.address,
                            live.job.mint,
                            &source,
                            units,
                        )],
                        &[&wallet],
                    )
                    .await;
                self.record("top_up", &result);
                format!("top_up job {j} by {units}")
            }
            24..=43 => {
                let Some((j, state)) = self
                    .pick_job_where(rng, |job| job.status != JobStatus::Open)
                    .await
                else {
                    return "skip".into();
                };
                let live = &self.jobs[j];
                let provider = &self.providers[live.provider];
                let units = state.settled_units + rng.gen_range(0..=60);
                let mut receipt = self.fixture.receipt(&live.job, provider, units).await;
                if state.ended_at != 0 && rng.gen_bool(0.8) {
                    // Work done before the end, submitted late.
                    receipt.issued_at = state.ended_at;
                    receipt.expires_at = state.ended_at + 3_600;
                }
                let by_attestors = rng.gen_bool(0.4);
                let signed = if by_attestors {
                    // The current set's quorum: keys one by one, or the group's one key.
                    self.fixture.attested(receipt, provider).await
                } else {
                    TestFixture::sign(
                        receipt,
                        &provider.worker,
                        &[&self.clients[live.client].inner.wallet],
                    )
                };
                let job = TestJob {
                    address: live.job.address,
                    vault: live.job.vault,
                    client: live.job.client,
                    args: live.job.args.clone(),
                    mint: live.job.mint,
                };
                let provider = TestProvider {
                    owner: provider.owner.insecure_clone(),
                    worker: provider.worker.insecure_clone(),
                    address: provider.address,
                    reward_account: provider.reward_account,
                };
                let result = self.fixture.settle(&job, &provider, &signed).await;
                self.record("settle_receipt", &result);
                if result.is_ok() {
                    self.note_epoch().await;
                }
                format!(
                    "settle job {j} to {units} ({})",
                    if by_attestors { "attestors" } else { "client" }
                )
            }
            44..=48 => {
                let Some((j, _)) = self
                    .pick_job_where(rng, |job| job.status == JobStatus::Running)
                    .await
                else {
                    return "skip".into();
                };
                let owner = self.providers[self.jobs[j].provider].owner.insecure_clone();
                let result = self
                    .fixture
                    .send(
                        &[ix::complete_job(
                            &owner.pubkey(),
                            &network,
                            &self.jobs[j].job.address,
                            [2; 32],
                        )],
                        &[&owner],
                    )
                    .await;
                self.record("complete_job", &result);
                format!("complete job {j}")
            }
            49..=52 => {
                let Some(j) = self.pick_job(rng) else {
                    return "skip".into();
                };
                let live = &self.jobs[j];
                let wallet = self.clients[live.client].inner.wallet.insecure_clone();
                let provider = self.providers[live.provider].address;
                let result = self
                    .fixture
                    .send(
                        &[ix::cancel_job(
                            &wallet.pubkey(),
                            &self.fixture.network,
                            &live.job.address,
                            Some(provider),
                        )],
                        &[&wallet],
                    )
                    .await;
                let result = match result {
                    Err(_) => {
                        self.fixture
                            .send(
                                &[ix::cancel_job(
                                    &wallet.pubkey(),
                                    &self.fixture.network,
                                    &live.job.address,
                                    None,
                                )],
                                &[&wallet],
                            )
                            .await
                    }
                    ok => ok,
                };
                self.record("cancel_job", &result);
                format!("cancel job {j}")
            }
            53..=58 => {
                let Some((j, _)) = self
                    .pick_job_where(rng, |job| {
                        matches!(job.status, JobStatus::Completed | JobStatus::Cancelled)
                    })
                    .await
                else {
                    return "skip".into();
                };
                let live = &self.jobs[j];
                let client = &self.clients[live.client];
                let close = ix::close_job(CloseJobAccounts {
                    cranker: self.fixture.context.payer.pubkey(),
                    network,
                    job: live.job.address,
                    client: client.inner.wallet.pubkey(),
                    client_token: client.accounts[&live.job.mint.mint],
                    treasury_token: Some(self.treasury_accounts[&live.job.mint.mint]),
                    payment_mint: live.job.mint,
                });
                let result = self.fixture.send(&[close], &[]).await;
                self.record("close_job", &result);
                if result.is_ok() {
                    self.jobs.remove(j);
                }
                format!("close job {j}")
            }
            59..=66 => {
                let p = rng.gen_range(0..self.providers.len());
                let provider = &self.providers[p];
                let owner = provider.owner.insecure_clone();
                let amount = rng.gen_range(0..=1_500) * ONE;
                let result = self
                    .fixture
                    .send(
                        &[ix::stake(
                            &owner.pubkey(),
                            &network,
                            self.fixture.reward_mint,
                            &provider.reward_account,
                            amount,
                        )],
                        &[&owner],
                    )
                    .await;
                self.record("stake", &result);
                format!("stake {amount} by provider {p}")
            }
            67..=71 => {
                let p = rng.gen_range(0..self.providers.len());
                let owner = self.providers[p].owner.insecure_clone();
                let amount = rng.gen_range(0..=800) * ONE;
                let result = self
                    .fixture
                    .send(
                        &[ix::request_unstake(&owner.pubkey(), &network, amount)],
                        &[&owner],
                    )
                    .await;
                self.record("request_unstake", &result);
                format!("unstake {amount} by provider {p}")
            }
            72..=75 => {
                let p = rng.gen_range(0..self.providers.len());
                let before: Provider = self.fixture.decode(&self.providers[p].address).await;
                let provider = &self.providers[p];
                let owner = provider.owner.insecure_clone();
                let result = self
                    .fixture
                    .send(
                        &[ix::withdraw_unstaked(
                            &owner.pubkey(),
                            &network,
                            self.fixture.reward_mint,
                            &provider.reward_account,
                        )],
                        &[&owner],
                    )
                    .await;
                self.record("withdraw_unstaked", &result);
                if result.is_ok() {
                    assert!(
                        self.fixture.now >= before.slashable_until,
                        "provider {p} withdrew at {} while slashable until {}",
                        self.fixture.now,
                        before.slashable_until
                    );
                }
                format!("withdraw by provider {p}")
            }
            76..=80 => {
                let Some((j, _)) = self
                    .pick_job_where(rng, |job| job.last_attested_at > 0)
                    .await
                else {
                    return "skip".into();
                };
                let live = &self.jobs[j];
                let wallet = self.clients[live.client].inner.wallet.insecure_clone();
                let result = self
                    .fixture
                    .send(
                        &[ix::open_dispute(
                            &wallet.pubkey(),
                            &network,
                            &live.job.address,
                            &self.providers[live.provider].address,
                            [3; 32],
                        )],
                        &[&wallet],
                    )
                    .await;
                self.record("open_dispute", &result);
                format!("dispute job {j}")
            }
            81..=84 => {
                let Some((j, _)) = self.pick_job_where(rng, |job| job.dispute_open).await else {
                    return "skip".into();
                };
                let slash = if rng.gen_bool(0.5) {
                    0
                } else {
                    rng.gen_range(1..=200) * ONE
                };
                let job_address = self.jobs[j].job.address;
                let state: Option<Job> = self.try_decode(&job_address).await;
                let provider = state.map(|job| job.provider).unwrap_or_default();
                let live = &self.jobs[j];
                let client = &self.clients[live.client];
                let authority = self.fixture.authority.insecure_clone();
                let resolve = ix::resolve_dispute(
                    ResolveDisputeAccounts {
                        authority: authority.pubkey(),
                        network,
                        job: live.job.address,
                        client: client.inner.wallet.pubkey(),
                        provider,
                        client_reward_token: client.reward_account,
                        reward_mint: self.fixture.reward_mint,
                    },
                    slash,
                );
                let result = self.fixture.send(&[resolve], &[&authority]).await;
                self.record("resolve_dispute", &result);
                format!("resolve dispute on job {j}, slash {slash}")
            }
            85..=88 => {
                let p = rng.gen_range(0..self.providers.len());
                let state: Provider = self.fixture.decode(&self.providers[p].address).await;
                let units = state.service_units + rng.gen_range(0..=1_000);
                let provider = &self.providers[p];
                let provider = TestProvider {
                    owner: provider.owner.insecure_clone(),
                    worker: provider.worker.insecure_clone(),
                    address: provider.address,
                    reward_account: provider.reward_account,
                };
                let instructions = self.fixture.service_instructions(&provider, units).await;
                let result = self.fixture.send(&instructions, &[]).await;
                self.record("settle_service", &result);
                if result.is_ok() {
                    self.note_epoch().await;
                }
                format!("service by provider {p} to {units}")
            }
            89..=93 => {
                let p = rng.gen_range(0..self.providers.len());
                let current = self.fixture.current_epoch().await;
                let Some(&epoch) = self.epochs.iter().find(|epoch| **epoch < current) else {
                    return "skip".into();
                };
                let work = pda::work_record(&self.providers[p].address, epoch);
                if self.fixture.account(&work).await.is_none() {
                    return "skip".into();
                }
                // A record not yet in its epoch's total is tallied first; claims on the epoch
                // are refused until every record of it is.
                let record: tessera::state::WorkRecord = self.fixture.decode(&work).await;
                if !record.tallied && rng.gen_bool(0.8) {
                    let tally = ix::tally_work(&network, &self.providers[p].address, epoch);
                    let result = self.fixture.send(&[tally], &[]).await;
                    self.record("tally_work", &result);
                    return format!("tally epoch {epoch} for provider {p}");
                }
                let provider = &self.providers[p];
                let provider = TestProvider {
                    owner: provider.owner.insecure_clone(),
                    worker: provider.worker.insecure_clone(),
                    address: provider.address,
                    reward_account: provider.reward_account,
                };
                let (claim, _) = self.fixture.claim_instruction(&provider, epoch).await;
                let result = self.fixture.send(&[claim], &[]).await;
                self.record("claim_emission", &result);
                format!("claim epoch {epoch} for provider {p}")
            }
            94..=95 if rng.gen_bool(0.5) => {
                // A new attestor set: receipts signed under the old one go stale.
                if rng.gen_bool(0.5) {
                    self.fixture.set_attestors(3, 2).await;
                    "new attestor set: 2 of 3 keys".into()
                } else {
                    self.fixture.set_attestor_group(2, 3).await;
                    "new attestor set: a 2-of-3 group key".into()
                }
            }
            94..=95 => {
                let authority = self.fixture.authority.insecure_clone();
                let pause = PauseFlags {
                    new_jobs: rng.gen_bool(0.2),
                    settlements: rng.gen_bool(0.2),
                    claims: rng.gen_bool(0.2),
                };
                let result = self
                    .fixture
                    .send(
                        &[ix::set_pause(&authority.pubkey(), &network, pause)],
                        &[&authority],
                    )
                    .await;
                self.record("set_pause", &result);
                format!("pause {pause:?}")
            }
            _ => {
                let seconds =
                    [60, 1_800, 3_600, 86_400, 3 * 86_400, 7 * 86_400][rng.gen_range(0..6)];
                self.fixture.advance(seconds).await;
                format!("advance {seconds}s")
            }
        }
    }

    /// Remembers the current epoch once a settlement created its account (attested work only).
    async fn note_epoch(&mut self) {
        let epoch = self.fixture.current_epoch().await;
        let address = pda::epoch(&self.fixture.network, epoch);
        if !self.epochs.contains(&epoch) && self.fixture.account(&address).await.is_some() {
            self.epochs.push(epoch);
        }
    }

    fn pick_job(&self, rng: &mut ChaCha8Rng) -> Option<usize> {
        (!self.jobs.is_empty()).then(|| rng.gen_range(0..self.jobs.len()))
    }

    /// A live job, chosen at random: nine times in ten among those that `wanted` picks (so that
    /// most attempts are meaningful), otherwise among all of them (so that refusals get tried too).
    async fn pick_job_where(
        &mut self,
        rng: &mut ChaCha8Rng,
        wanted: impl Fn(&Job) -> bool,
    ) -> Option<(usize, Job)> {
        let mut states = Vec::with_capacity(self.jobs.len());
        for live in &self.jobs {
            let address = live.job.address;
            states.push(self.fixture.decode::<Job>(&address).await);
        }
        let candidates: Vec<usize> = (0..states.len()).filter(|i| wanted(&states[*i])).collect();
        let j = if !candidates.is_empty() && rng.gen_bool(0.9) {
            candidates[rng.gen_range(0..candidates.len())]
        } else {
            self.pick_job(rng)?
        };
        Some((j, states.swap_remove(j)))
    }

    async fn try_decode<T: anchor_lang::AccountDeserialize + anchor_lang::Discriminator>(
        &mut self,
        address: &Pubkey,
    ) -> Option<T> {
        self.fixture.account(address).await?;
        Some(self.fixture.decode(address).await)
    }

    /// Every rule of docs/design.md, from the accounts alone, as `tessera audit` checks them
    /// (`tessera_client::rules::audit`), then conservation of every token.
    async fn check(&mut self, context: &str) {
        let jobs: Vec<Pubkey> = self.jobs.iter().map(|live| live.job.address).collect();
        let providers: Vec<Pubkey> = self.providers.iter().map(|p| p.address).collect();
        let epochs = self.epochs.clone();
        let books = self.fixture.books(&jobs, &providers, &epochs).await;
        assert_nothing_found(&rules::audit(&books), context);
        let network = &books.networks[&self.fixture.network];
        let (totals, genesis_supply) = (network.totals, network.genesis_supply);

        // Conservation: every payment token minted at set-up is in a client, vault, provider or
        // treasury account; every reward token is in the faucet, a stake vault or a wallet, and
        // the supply grew by exactly the claims.
        for mint in self.mints.clone() {
            let mut held = 0;
            for client in &self.clients {
                held += self.fixture.balance(&client.accounts[&mint.mint]).await;
            }
            for live in self.jobs.iter().filter(|live| live.job.mint == mint) {
                held += self.fixture.balance(&live.job.vault).await;
            }
            for provider in &self.providers {
                let probe = TestProvider {
                    owner: provider.owner.insecure_clone(),
                    worker: Keypair::new(),
                    address: provider.address,
                    reward_account: provider.reward_account,
                };
                let account = self.fixture.provider_token(&probe, mint).await;
                held += self.fixture.balance(&account).await;
            }
            held += self
                .fixture
                .balance(&self.treasury_accounts[&mint.mint])
                .await;
            assert_eq!(
                held, self.minted[&mint.mint],
                "{context}: payment tokens conserved in {}",
                mint.mint
            );
        }
        let supply = self.fixture.reward_supply().await;
        assert_eq!(
            supply,
            genesis_supply + totals.emitted,
            "{context}: reward supply"
        );
        let faucet = self.fixture.faucet();
        let mut reward_held = self.fixture.balance(&faucet).await;
        for provider in &self.providers {
            reward_held += self.fixture.balance(&provider.reward_account).await;
            reward_held += self
                .fixture
                .balance(&pda::stake_vault(&provider.address))
                .await;
            let ata = pda::associated_token(
                &provider.owner.pubkey(),
                &self.fixture.reward_mint.mint,
                &TOKEN,
            );
            if self.fixture.account(&ata).await.is_some() {
                reward_held += self.fixture.balance(&ata).await;
            }
        }
        for client in &self.clients {
            reward_held += self.fixture.balance(&client.reward_account).await;
        }
        assert_eq!(reward_held, supply, "{context}: reward tokens conserved");
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => {
            let value = value.trim();
            let parsed = match value.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => value.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("{name} must be a number, got {value:?}"))
        }
        Err(_) => default,
    }
}

#[tokio::test]
async fn random_operations_keep_every_invariant() {
    let seed = env_u64("TESSERA_PROPERTY_SEED", 0x7e55e7a);
    let steps = env_u64("TESSERA_PROPERTY_STEPS", 300);
    println!("property run: seed {seed:#x}, {steps} steps");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut world = World::new().await;
    // Providers start with their class minimum staked, as a live network would.
    for p in 0..world.providers.len() {
        let provider = &world.providers[p];
        let owner = provider.owner.insecure_clone();
        let stake = ix::stake(
            &owner.pubkey(),
            &world.fixture.network,
            world.fixture.reward_mint,
            &provider.reward_account,
            1_000 * ONE,
        );
        assert_ok(world.fixture.send(&[stake], &[&owner]).await);
    }
    world.check("set-up").await;
    for step in 0..steps {
        let action = world.step(&mut rng).await;
        world
            .check(&format!("seed {seed:#x} step {step} ({action})"))
            .await;
    }
    for (action, (ok, refused)) in &world.outcomes {
        println!("  {action:<18} {ok:>5} succeeded {refused:>5} refused");
    }
    println!(
        "property run passed: seed {seed:#x}, {steps} steps, every invariant checked after each"
    );
}
