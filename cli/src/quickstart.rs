//! `tessera quickstart`: Tessera's main job end to end on whatever ledger the command opened
//! (the embedded one by default). Every step runs the function its command runs (`network
//! init`, `provider register`, `job create`, `receipt sign` and `submit`, `claim`, …), acting
//! as each owner, client and worker in turn, so the quickstart shows exactly what the commands
//! do.

use crate::commands::claim::{self, ClaimArgs};
use crate::commands::job::{self, CreateArgs, JobSpecArgs};
use crate::commands::network::{self, AttestorsArgs, InitArgs, ParamsArgs};
use crate::commands::provider::{self, RegisterArgs, SpecArgs};
use crate::commands::receipt::{self, Work};
use crate::commands::token::{self, CreateMintArgs, TransferArgs};
use crate::commands::{ClassArg, Outcome, Session};
use crate::progress::Progress;
use crate::view::{as_name, as_text};
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::fmt;
use std::time::{Duration, Instant};
use tessera::state::ProviderClass;
use tessera_ledger::tokens::format_amount;
use tessera_ledger::Ledger;

/// Decimals of every mint the quickstart creates.
const DECIMALS: u8 = 6;
/// Short periods, so that the whole life of a job and an epoch fits in a minute.
const EPOCH_SECS: i64 = 20;
const WINDOW_SECS: i64 = 3;
/// How long receipts and a first settlement may take, seconds.
const RECEIPT_SECS: i64 = 600;
/// SOL, in lamports, for the rent of what each owner and client creates (the ledger's payer
/// pays the fees).
const ACTOR_LAMPORTS: u64 = 50_000_000;

/// Runs the scenario and says what it did; it fails (exit 1) when its audit finds problems.
pub fn run(session: &Session, quiet: bool) -> Result<Outcome> {
    let progress = Progress::new(9, quiet);
    let summary = scenario(session, &progress);
    progress.finish();
    let summary = summary?;
    let failure = (!summary.audit_findings.is_empty())
        .then(|| "the quickstart's audit found problems".to_string());
    Ok(Outcome::view(&summary)?.failing_with(failure))
}

fn scenario(session: &Session, progress: &Progress) -> Result<Summary> {
    let started = Instant::now();
    let mut scene = Scene::create_network(session, progress)?;
    scene.register_providers(progress)?;
    scene.fund_clients(progress)?;
    let jobs = scene.create_jobs(progress)?;
    scene.settle_jobs(&jobs, progress)?;
    let work_epoch = scene.serve_bandwidth(progress)?;
    let treasury_fees = scene.close_jobs(&jobs, progress)?;
    let providers = scene.claim_emissions(work_epoch, progress)?;
    let audit = crate::audit::run(session.ledger)?;
    let (address, network) = scene.session.network()?;
    Ok(Summary {
        network: address,
        network_id: network.network_id,
        providers,
        treasury_fees: format_amount(treasury_fees, DECIMALS),
        emitted: format_amount(network.totals.emitted, DECIMALS),
        audit_findings: audit.violations.iter().map(ToString::to_string).collect(),
        seconds: started.elapsed().as_secs_f64(),
        ledger: session.ledger.url(),
    })
}

/// A provider the quickstart registered, and what its jobs settled.
struct Actor {
    class: ProviderClass,
    owner: Keypair,
    worker: Keypair,
    address: Pubkey,
    units: u64,
    paid: u64,
}

/// A client and the payment mint it created.
struct Client {
    keypair: Keypair,
    mint: Pubkey,
}

/// A job the quickstart funded: its account, the provider running it and its client
/// (indices into the scene's actors and clients).
struct QuickJob {
    address: Pubkey,
    actor: usize,
    client: usize,
}

/// The network the quickstart created and everyone acting on it. The session's own signer (the
/// ledger's payer) is the network's authority and treasury and cranks what anyone may.
struct Scene<'a> {
    session: Session<'a>,
    reward_mint: Pubkey,
    attestors: Vec<Keypair>,
    actors: Vec<Actor>,
    clients: Vec<Client>,
}

impl<'a> Scene<'a> {
    /// `network init` on the first free network id, with short periods, then a 2-of-3
    /// attestor set.
    fn create_network(session: &Session<'a>, progress: &Progress) -> Result<Self> {
        let mut network_id = 1;
        while session
            .ledger
            .exists(&tessera_client::pda::network(network_id))?
        {
            network_id += 1;
        }
        let session = session.on_network(network_id);
        let address = tessera_client::pda::network(network_id);
        progress.step(&format!("network {network_id} at {address}"));
        let created = network::init(&session, &network_args())?;
        let attestors: Vec<Keypair> = (0..3).map(|_| Keypair::new()).collect();
        let set = AttestorsArgs {
            attestors: attestors.iter().map(Keypair::pubkey).collect(),
            group_key: None,
            members: None,
            threshold: 2,
        };
        network::set_attestors(&session, &set)?;
        progress.step("  reward mint, network and a 2-of-3 attestor set created");
        Ok(Self {
            session,
            reward_mint: created.reward_mint,
            attestors,
            actors: Vec::new(),
            clients: Vec::new(),
        })
    }

    /// Sends [`ACTOR_LAMPORTS`] of the payer's SOL to `to`.
    fn fund(&self, to: &Pubkey) -> Result<()> {
        let payer = self.session.signer();
        let transfer = solana_system_interface::instruction::transfer(&payer, to, ACTOR_LAMPORTS);
        self.session.send(&[transfer])?;
        Ok(())
    }

    /// `provider register` for one provider of each class, funded and staked at its minimum.
    fn register_providers(&mut self, progress: &Progress) -> Result<()> {
        for (class, stake) in [
            (ClassArg::Training, "1000"),
            (ClassArg::Inference, "500"),
            (ClassArg::Edge, "100"),
            (ClassArg::Bandwidth, "100"),
        ] {
            let actor = self
                .register(class, stake)
                .with_context(|| format!("registering the {class:?} provider"))?;
            self.actors.push(actor);
        }
        progress.step("  4 providers registered and staked (Training, Inference, Edge, Bandwidth)");
        Ok(())
    }

    fn register(&self, class: ClassArg, stake: &str) -> Result<Actor> {
        let owner = Keypair::new();
        let worker = Keypair::new();
        self.fund(&owner.pubkey())?;
        let tokens = TransferArgs {
            mint: self.reward_mint,
            to: owner.pubkey(),
            amount: stake.into(),
        };
        token::transfer(&self.session, &tokens)?;
        let args = RegisterArgs {
            class,
            worker: Some(worker.pubkey()),
            stake: Some(stake.into()),
            spec: SpecArgs {
                gpu_model: String::new(),
                gpus: 8,
                vram_gib: 80,
                bandwidth_mbps: 10_000,
                region: String::new(),
                metadata_hash: None,
            },
        };
        let registered = provider::register(&self.session.signed_by(&owner), &args)?;
        Ok(Actor {
            class: class.into(),
            owner,
            worker,
            address: registered.provider.address,
            units: 0,
            paid: 0,
        })
    }

    /// Two clients, each with a payment mint of its own: one SPL Token, one Token-2022.
    fn fund_clients(&mut self, progress: &Progress) -> Result<()> {
        for token_2022 in [false, true] {
            let keypair = Keypair::new();
            self.fund(&keypair.pubkey())?;
            let args = CreateMintArgs {
                decimals: DECIMALS,
                supply: "50000".into(),
                token_2022,
            };
            let created = token::create_mint(&self.session.signed_by(&keypair), &args)?;
            self.clients.push(Client {
                keypair,
                mint: created.mint,
            });
        }
        progress.step("  2 clients funded (SPL Token and Token-2022)");
        Ok(())
    }

    /// `job create` for the three compute classes, each named for its provider, who runs
    /// `job accept`.
    fn create_jobs(&self, progress: &Progress) -> Result<Vec<QuickJob>> {
        let plans = [
            (0, 0, "2", 3_600),
            (1, 1, "0.5", 1_800),
            (2, 0, "0.1", 7_200),
        ];
        let mut jobs = Vec::new();
        for (index, (actor, client, price, max_units)) in plans.into_iter().enumerate() {
            let job_id = index as u64 + 1;
            let args = CreateArgs {
                mint: self.clients[client].mint,
                price: price.into(),
                max_units: Some(max_units),
                provider: Some(self.actors[actor].address),
                class: None,
                unit: None,
                min_gpus: 0,
                min_vram_gib: 0,
                min_bandwidth_mbps: 0,
                spec: JobSpecArgs {
                    spec_hash: Some([job_id as u8; 32]),
                    ..JobSpecArgs::default()
                },
                accept_within: 600,
                deadline_in: 3_600,
                job_id: Some(job_id),
                from: None,
            };
            let client_session = self.session.signed_by(&self.clients[client].keypair);
            let address = job::create(&client_session, &args)?.job.address;
            job::accept(&self.session.signed_by(&self.actors[actor].owner), &address)?;
            jobs.push(QuickJob {
                address,
                actor,
                client,
            });
        }
        progress.step("  3 jobs funded in escrow and accepted");
        Ok(jobs)
    }

    /// Workers sign cumulative receipts (`receipt sign`), the attestor quorum (or, for
    /// training, the client) co-signs, the payer submits them (`receipt submit`); then each
    /// provider completes its job.
    fn settle_jobs(&mut self, jobs: &[QuickJob], progress: &Progress) -> Result<()> {
        for job in jobs {
            let actor = &self.actors[job.actor];
            let max_units = self.session.job(&job.address)?.max_units;
            for cumulative in [max_units / 4, max_units / 2, max_units * 9 / 10] {
                let work = Work {
                    job: Some(job.address),
                    service: None,
                    units: cumulative,
                    unit: None,
                    result_hash: Some([cumulative as u8; 32]),
                    expires_in: Some(300),
                };
                let mut signed = receipt::issue(&self.session.signed_by(&actor.worker), &work)?;
                if actor.class == ProviderClass::Training {
                    signed.sign(&self.clients[job.client].keypair)?;
                } else {
                    signed.sign(&self.attestors[0])?;
                    signed.sign(&self.attestors[2])?;
                }
                receipt::settle(&self.session, &signed).context("settling a receipt")?;
            }
            job::complete(
                &self.session.signed_by(&actor.owner),
                &job.address,
                Some([9; 32]),
            )?;
        }
        for job in jobs {
            let state = self.session.job(&job.address)?;
            self.actors[job.actor].units = state.settled_units;
            self.actors[job.actor].paid = state.paid_out;
        }
        progress.step("  receipts settled: providers paid from escrow, fees kept for the treasury");
        Ok(())
    }

    /// Bandwidth served, attested, for emissions only; returns the epoch it was recorded in.
    fn serve_bandwidth(&mut self, progress: &Progress) -> Result<u64> {
        let bandwidth = &self.actors[3];
        let relayed = 40_000_000;
        let work = Work {
            job: None,
            service: Some(bandwidth.address),
            units: relayed,
            unit: None,
            result_hash: Some([1; 32]),
            expires_in: Some(300),
        };
        let mut signed = receipt::issue(&self.session.signed_by(&bandwidth.worker), &work)?;
        signed.sign(&self.attestors[1])?;
        signed.sign(&self.attestors[2])?;
        let settled = receipt::settle(&self.session, &signed)?;
        self.actors[3].units = relayed;
        progress.step("  bandwidth service attested");
        Ok(settled.epoch)
    }

    /// After the dispute window, `job close` for each job: fees to the treasury (the payer),
    /// the rest back to the client. Returns the fees, in base units.
    fn close_jobs(&self, jobs: &[QuickJob], progress: &Progress) -> Result<u64> {
        let ledger = self.session.ledger;
        let window_passed = ledger.now()? + WINDOW_SECS + 1;
        wait_until(
            ledger,
            window_passed,
            progress,
            "the dispute window to pass",
        )?;
        let mut treasury_fees = 0;
        for job in jobs {
            let mint = ledger.mint(&self.clients[job.client].mint)?;
            let treasury_tokens = mint.associated(&self.session.signer());
            let before = ledger.token_balance(&treasury_tokens)?;
            job::close(&self.session, &job.address)?;
            treasury_fees += ledger.token_balance(&treasury_tokens)? - before;
        }
        progress.step("  jobs closed: escrow refunded, fees paid to the treasury");
        Ok(treasury_fees)
    }

    /// Once the epoch of the last work is over, `claim` for each provider.
    fn claim_emissions(&self, work_epoch: u64, progress: &Progress) -> Result<Vec<ProviderLine>> {
        let (_, network) = self.session.network()?;
        let epoch_over = network.epoch_start(work_epoch + 1)?;
        wait_until(
            self.session.ledger,
            epoch_over,
            progress,
            "the epoch to end",
        )?;
        let mut lines = Vec::new();
        for actor in &self.actors {
            let args = ClaimArgs {
                provider: Some(actor.address),
                epoch: None,
            };
            let claimed = claim::claim(&self.session, &args)?;
            let provider = self.session.provider_at(&actor.address)?;
            lines.push(ProviderLine {
                class: actor.class,
                provider: actor.address,
                stake: format_amount(provider.stake, DECIMALS),
                units: actor.units,
                paid: format_amount(actor.paid, DECIMALS),
                emission: claimed.amount,
            });
        }
        progress.step("  emissions claimed");
        Ok(lines)
    }
}

/// `network init` as the quickstart runs it: the defaults, with periods short enough to watch.
fn network_args() -> InitArgs {
    InitArgs {
        params: ParamsArgs {
            epoch_secs: Some(EPOCH_SECS),
            unbonding_secs: Some(WINDOW_SECS),
            dispute_window_secs: Some(WINDOW_SECS),
            receipt_max_age_secs: Some(RECEIPT_SECS),
            start_timeout_secs: Some(RECEIPT_SECS),
            ..ParamsArgs::default()
        },
        reward_mint: None,
        mint_authority: None,
        decimals: DECIMALS,
        allocation: "1000000".into(),
        treasury: None,
        initial_emission: "10000".into(),
        decay_bps: 5_000,
        decay_every: 100,
        supply_cap: "100000000".into(),
    }
}

/// Waits until the ledger's clock reaches `timestamp`.
fn wait_until(ledger: &Ledger, timestamp: i64, progress: &Progress, why: &str) -> Result<()> {
    progress.doing(&format!("waiting for {why}"));
    let started = Instant::now();
    loop {
        let unix = ledger.now()?;
        if unix >= timestamp {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("the ledger clock did not reach {timestamp} (at {unix}) for {why}");
        }
        std::thread::sleep(Duration::from_millis(400));
    }
}

/// One provider's line of the summary.
#[derive(Debug, Serialize)]
pub struct ProviderLine {
    #[serde(serialize_with = "as_name")]
    pub class: ProviderClass,
    #[serde(serialize_with = "as_text")]
    pub provider: Pubkey,
    pub stake: String,
    pub units: u64,
    pub paid: String,
    pub emission: String,
}

/// What the quickstart did.
#[derive(Debug, Serialize)]
pub struct Summary {
    #[serde(serialize_with = "as_text")]
    pub network: Pubkey,
    pub network_id: u64,
    pub providers: Vec<ProviderLine>,
    pub treasury_fees: String,
    pub emitted: String,
    pub audit_findings: Vec<String>,
    pub seconds: f64,
    /// Where it ran (text only).
    #[serde(skip)]
    pub ledger: String,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\nnetwork {} ({}) on {}\n{:<10} {:>12} {:>12} {:>14} {:>14}",
            self.network_id,
            self.network,
            self.ledger,
            "class",
            "stake",
            "units",
            "paid",
            "emission"
        )?;
        for line in &self.providers {
            write!(
                f,
                "\n{:<10} {:>12} {:>12} {:>14} {:>14}",
                format!("{:?}", line.class),
                line.stake,
                line.units,
                line.paid,
                line.emission
            )?;
        }
        let audit = if self.audit_findings.is_empty() {
            "clean".to_string()
        } else {
            self.audit_findings.join("; ")
        };
        write!(
            f,
            "\ntreasury fees {}; emitted {}; audit {audit}; {:.1} s",
            self.treasury_fees, self.emitted, self.seconds
        )
    }
}
