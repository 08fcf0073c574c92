//! The worker's loop.

use crate::events::{Event, Events};
use crate::metrics::{self, Metrics};
use crate::store::{JobRecord, JobState, Pending, Store};
use crate::{command, cosign, relay};
use anchor_lang::prelude::Pubkey;
use anyhow::{ensure, Context, Result};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera::state::{Job, JobStatus, Network, ProviderClass, UnitKind};
use tessera_attest::coordinator::Coordinator;
use tessera_attest::wire::Evidence;
use tessera_client::filters;
use tessera_client::receipt::{ReceiptFile, SignedReceipt};
use tessera_ledger::actions::receipt::{self, Work};
use tessera_ledger::actions::{claim, job};
use tessera_ledger::session::{Foreseen, Session};
use tessera_ledger::signals;
use tessera_ledger::{ProgramRefused, Remedy, Unconfirmed};
use tessera_work::matmul;
use tessera_work::publish;
use tessera_work::spec::{Spec, Workload};

/// When a receipt is due: after this many new units, or this many seconds after the last one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettleEvery {
    Units(u64),
    Seconds(i64),
}

impl FromStr for SettleEvery {
    type Err = String;

    /// `120s` is seconds; `500` (or `500u`) is units.
    fn from_str(text: &str) -> Result<Self, String> {
        let wrong = || format!("{text:?} is neither units (e.g. 500) nor seconds (e.g. 120s)");
        let every = if let Some(seconds) = text.strip_suffix('s') {
            SettleEvery::Seconds(seconds.parse().map_err(|_| wrong())?)
        } else {
            SettleEvery::Units(text.trim_end_matches('u').parse().map_err(|_| wrong())?)
        };
        match every {
            SettleEvery::Units(0) | SettleEvery::Seconds(..=0) => Err(format!(
                "{text:?}: settle at least every 1 unit or 1 second"
            )),
            every => Ok(every),
        }
    }
}

/// Which open jobs the worker accepts besides those named for its provider.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Accept open jobs of the provider's class at all.
    pub accept_open: bool,
    /// Least price per unit, in the job's payment mint tokens (e.g. 0.25).
    pub min_price: Option<String>,
    /// Most units a job may ask for.
    pub max_units: Option<u64>,
    /// Only jobs counting this unit.
    pub unit_kind: Option<UnitKind>,
}

/// Where the worker keeps its record and finds and publishes documents.
#[derive(Clone, Debug)]
pub struct Paths {
    /// The worker's durable store.
    pub store: PathBuf,
    /// Spec documents, by hash.
    pub specs: PathBuf,
    /// Published results, by job.
    pub results: PathBuf,
    /// Where receipts wait for co-signatures.
    pub cosign_dir: PathBuf,
}

/// Everything `worker run` was told.
pub struct Config {
    /// Signs receipts; must be the provider's current worker key.
    pub worker_key: Keypair,
    pub paths: Paths,
    pub policy: Policy,
    pub settle_every: SettleEvery,
    /// One pass until nothing can move, then exit.
    pub once: bool,
    /// Pause between passes that found nothing to do.
    pub poll: Duration,
    /// Where bandwidth jobs' relays listen (each on a port of its own).
    pub relay_listen: std::net::IpAddr,
    /// Relays may reach loopback, private and link-local targets.
    pub relay_allow_private: bool,
    /// Command lines a spec's external command may be; no other runs.
    pub allowed_commands: Vec<command::Allowed>,
    /// Co-signing services to ask (`tessera attest serve`); none: the cosign folder.
    pub attestors: Vec<String>,
    /// Where to serve `/metrics` (Prometheus) and `/health`.
    pub metrics: Option<std::net::SocketAddr>,
    /// Where the built-in workload's products run.
    pub device: Device,
}

/// Where the built-in workload's products run (`--device`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Device {
    /// A hardware GPU when there is one, else the CPU.
    Auto,
    /// The best adapter wgpu finds, a software one included; none stops the worker.
    Gpu,
    /// The CPU.
    Cpu,
}

/// The device a worker computes on, opened.
enum Computer {
    Cpu,
    Gpu(Box<tessera_gpu::Gpu>),
}

impl Computer {
    /// Opens what `choice` asks for; with the reason it is the CPU when `auto` found no GPU.
    fn open(choice: Device) -> Result<(Self, String)> {
        let cpu = || (Computer::Cpu, "cpu".to_string());
        match choice {
            Device::Cpu => Ok(cpu()),
            Device::Gpu => {
                let computer =
                    Self::Gpu(Box::new(tessera_gpu::Gpu::open().context("--device gpu")?));
                let named = computer.name();
                Ok((computer, named))
            }
            Device::Auto => match tessera_gpu::Gpu::open() {
                Ok(gpu) if gpu.info().kind != tessera_gpu::DeviceKind::Cpu => {
                    let computer = Self::Gpu(Box::new(gpu));
                    let named = computer.name();
                    Ok((computer, named))
                }
                Ok(gpu) => Ok((
                    Computer::Cpu,
                    format!(
                        "cpu (--device auto: the only adapter, {}, is a software one; \
                         --device gpu uses it)",
                        gpu.info().name
                    ),
                )),
                Err(error) => Ok((Computer::Cpu, format!("cpu (--device auto: {error})"))),
            },
        }
    }

    /// "cpu", or "gpu: <adapter> (<kind>, <backend>)".
    fn name(&self) -> String {
        match self {
            Computer::Cpu => "cpu".into(),
            Computer::Gpu(gpu) => {
                let info = gpu.info();
                format!(
                    "gpu: {} ({}, {})",
                    info.name,
                    info.kind.name(),
                    info.backend
                )
            }
        }
    }
}

/// How long a failing submission waits before the next try: doubling from one second to a
/// minute.
struct Backoff {
    failures: u32,
    next_try: Instant,
}

/// Submissions refused by a check before the program saw them are tried this many times
/// before the job is set aside (a pause or a slow ledger can pass; a wrong receipt cannot).
const MAX_CHECK_FAILURES: u32 = 5;

/// Seconds before a pending receipt's expiry at which it is re-issued.
const REISSUE_MARGIN_SECS: i64 = 60;

/// How often the worker looks whether a running command has ended.
const COMMAND_POLL: Duration = Duration::from_millis(100);

/// How often a long-running worker looks for emissions to claim.
const CLAIM_EVERY: Duration = Duration::from_secs(30);

/// The running worker.
pub struct Worker<'a> {
    /// Signs as the provider's owner: accept, complete, claim; pays for settlements.
    owner: Session<'a>,
    /// Signs receipts as the provider's worker key.
    signer: Session<'a>,
    config: &'a Config,
    network: Pubkey,
    provider: Pubkey,
    class: ProviderClass,
    store: Store,
    events: Events,
    backoff: HashMap<Pubkey, Backoff>,
    /// Jobs already reported as not taken, so each is reported once.
    skipped: HashSet<Pubkey>,
    relays: HashMap<Pubkey, relay::Relay>,
    commands: HashMap<Pubkey, command::Running>,
    last_claim: Option<Instant>,
    /// What it counts, for `/metrics`.
    metrics: Arc<Metrics>,
    /// Where the built-in workload's products run.
    computer: Computer,
}

/// Runs the worker until a signal stops it (or, with `--once`, until nothing can move).
pub fn run(session: &Session, config: &Config, events: Events) -> Result<()> {
    let mut worker = Worker::start(session, config, events)?;
    if let Some(listen) = config.metrics {
        // A pass that has not ended well for this long makes the worker unhealthy.
        let stale = config.poll * 10 + Duration::from_secs(120);
        let address = metrics::serve(worker.metrics.clone(), listen, stale)?;
        worker.emit(Event::Serving {
            metrics: format!("http://{address}/metrics"),
            health: format!("http://{address}/health"),
        });
    }
    signals::catch_stop();
    let reason = loop {
        let progressed = match worker.pass() {
            Ok(progressed) => {
                worker.count_jobs();
                progressed
            }
            Err(error) if !config.once => {
                worker.emit(Event::PassFailed {
                    error: format!("{error:#}"),
                });
                false
            }
            Err(error) => return Err(error),
        };
        if signals::stop_requested() {
            break "stopped by a signal; the store is consistent";
        }
        let waiting_for_commands = !worker.commands.is_empty();
        if config.once && !progressed && !waiting_for_commands {
            break "--once: nothing more can move now";
        }
        let pause = if waiting_for_commands {
            COMMAND_POLL.min(config.poll)
        } else {
            config.poll
        };
        if !progressed && signals::sleep_unless_stopped(pause) {
            break "stopped by a signal; the store is consistent";
        }
    };
    worker.emit(Event::Stopped {
        reason: reason.into(),
    });
    Ok(())
}

impl<'a> Worker<'a> {
    /// Checks the keys against the ledger and opens the store.
    fn start(session: &Session<'a>, config: &'a Config, events: Events) -> Result<Self> {
        let (network, network_state) = session.network()?;
        let (provider, state) = session.provider_of(&network, &session.signer())?;
        let worker_key = config.worker_key.pubkey();
        ensure!(
            state.worker_key == worker_key,
            "the worker key {worker_key} (--worker-key) is not provider {provider}'s current \
             worker key {}: pass the keypair the provider registered, or point the provider at \
             this key with `tessera provider rotate-key`",
            state.worker_key
        );
        if let Some(folder) = config.paths.store.parent() {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
        }
        let store = Store::open(&config.paths.store)?;
        let (computer, device) = Computer::open(config.device)?;
        let mut worker = Self {
            owner: *session,
            signer: session.signed_by(&config.worker_key),
            config,
            network,
            provider,
            class: state.class,
            store,
            events,
            backoff: HashMap::new(),
            skipped: HashSet::new(),
            relays: HashMap::new(),
            commands: HashMap::new(),
            last_claim: None,
            metrics: Metrics::new(),
            computer,
        };
        // What the store holds was done before this process: its units are not counted again.
        worker.metrics.baseline(&worker.store.jobs()?);
        worker.emit(Event::Started {
            provider: provider.to_string(),
            worker_key: worker_key.to_string(),
            network: network_state.network_id,
            store: config.paths.store.display().to_string(),
            device,
        });
        Ok(worker)
    }

    /// Counts the store's jobs by state for `/metrics`, when it is served.
    fn count_jobs(&mut self) {
        if self.config.metrics.is_none() {
            return;
        }
        match self.store.jobs() {
            Ok(jobs) => self.metrics.count_jobs(&jobs),
            Err(error) => self.emit(Event::PassFailed {
                error: format!("cannot count the store's jobs for /metrics: {error}"),
            }),
        }
    }

    fn emit(&mut self, event: Event) {
        self.metrics.observe(&event);
        self.events.emit(event);
    }

    /// One look at the ledger: accepts what it may, moves every job one step, claims what is
    /// due. Returns whether anything moved.
    fn pass(&mut self) -> Result<bool> {
        let (_, network) = self.owner.network()?;
        // The ledger answered: the worker is alive to it (`/health`).
        self.metrics.heard_from_ledger();
        let now = self.owner.ledger.now()?;
        let named = self.jobs()?;
        let mut progressed = self.accept_named(&named)?;
        progressed |= self.accept_open(&network)?;
        // What was just accepted runs now.
        let jobs = if progressed { self.jobs()? } else { named };
        for (address, job) in &jobs {
            if signals::stop_requested() {
                return Ok(progressed);
            }
            if job.status == JobStatus::Running {
                progressed |= self.step(&network, *address, job, now)?;
            }
        }
        progressed |= self.set_aside_vanished(&jobs)?;
        progressed |= self.claim_due()?;
        Ok(progressed)
    }

    /// The jobs this provider runs or is named for.
    fn jobs(&self) -> Result<Vec<(Pubkey, Job)>> {
        self.owner
            .ledger
            .all_where(&filters::jobs_of_provider(self.network, self.provider))
    }

    /// Accepts the open jobs named for this provider whose spec it can run.
    fn accept_named(&mut self, jobs: &[(Pubkey, Job)]) -> Result<bool> {
        let mut progressed = false;
        for (address, job) in jobs {
            if job.status == JobStatus::Open && !self.skipped.contains(address) {
                progressed |= self.try_accept(*address, job, false)?;
            }
        }
        Ok(progressed)
    }

    /// With `--accept-open`, accepts the open jobs of the provider's class the policy allows.
    fn accept_open(&mut self, network: &Network) -> Result<bool> {
        if !self.config.policy.accept_open || network.pause.new_jobs {
            return Ok(false);
        }
        let open: Vec<(Pubkey, Job)> = self
            .owner
            .ledger
            .all_where(&filters::jobs_of_provider(self.network, Pubkey::default()))?;
        let mut progressed = false;
        for (address, job) in &open {
            if job.status == JobStatus::Open
                && job.requirement.class == self.class
                && !self.skipped.contains(address)
            {
                progressed |= self.try_accept(*address, job, true)?;
            }
        }
        Ok(progressed)
    }

    /// Accepts `job` unless its spec cannot be run here or (for an open job) the policy says
    /// no; a job not taken is reported once and left as it is.
    fn try_accept(&mut self, address: Pubkey, job: &Job, open: bool) -> Result<bool> {
        let checked = self.runnable(job).and_then(|_| {
            if open {
                self.policy_allows(job)
            } else {
                Ok(())
            }
        });
        let accepted = checked.and_then(|_| job::accept(&self.owner, &address).map(|_| ()));
        if let Err(reason) = accepted {
            self.skipped.insert(address);
            self.emit(Event::Skipped {
                job: address.to_string(),
                reason: format!("{reason:#}"),
            });
            return Ok(false);
        }
        let now = self.owner.ledger.now()?;
        self.store
            .update::<anyhow::Error>(&address.to_bytes(), |record| {
                let mut record = record.unwrap_or_else(|| JobRecord::new(job.spec_hash));
                record.last_receipt_at = now;
                Ok(record)
            })?;
        self.emit(Event::Accepted {
            job: address.to_string(),
        });
        Ok(true)
    }

    /// The job's spec document, found and checked, and one this worker can run for the job's
    /// unit.
    fn runnable(&self, job: &Job) -> Result<Spec> {
        let spec = publish::load_spec(&self.config.paths.specs, &job.spec_hash)?;
        let counts = match spec.workload {
            Workload::Matmul { .. } | Workload::Command { .. } => {
                matches!(job.unit_kind, UnitKind::CpuSeconds | UnitKind::GpuSeconds)
            }
            Workload::Relay { .. } => job.unit_kind == UnitKind::Bytes,
        };
        ensure!(
            counts,
            "its spec's {} workload is not metered in {}",
            workload_name(&spec.workload),
            tessera_client::receipt::unit_kind_name(job.unit_kind)
        );
        if let Workload::Relay { target } = &spec.workload {
            let target = target
                .parse()
                .with_context(|| format!("its relay target {target:?} is not an address"))?;
            relay::check_target(target, self.config.relay_allow_private)?;
        }
        if let Workload::Command { program, args, .. } = &spec.workload {
            command::admitted(&self.config.allowed_commands, program, args).map_err(|why| {
                let line = std::iter::once(program).chain(args).cloned();
                anyhow::anyhow!(
                    "its spec runs `{}`: {why}",
                    line.collect::<Vec<_>>().join(" ")
                )
            })?;
        }
        Ok(spec)
    }

    /// Whether the policy flags allow an open job.
    fn policy_allows(&self, job: &Job) -> Result<()> {
        let policy = &self.config.policy;
        if let Some(kind) = policy.unit_kind {
            ensure!(
                job.unit_kind == kind,
                "it counts {}, not --unit-kind {}",
                tessera_client::receipt::unit_kind_name(job.unit_kind),
                tessera_client::receipt::unit_kind_name(kind)
            );
        }
        if let Some(max) = policy.max_units {
            ensure!(
                job.max_units <= max,
                "it asks for {} units, above --max-units {max}",
                job.max_units
            );
        }
        if let Some(min_price) = &policy.min_price {
            let mint = self.owner.ledger.mint(&job.payment_mint)?;
            let floor = mint.parse_amount(min_price).context("--min-price")?;
            ensure!(
                job.price_per_unit >= floor,
                "it pays {} per unit, below --min-price {min_price}",
                mint.format(job.price_per_unit)
            );
        }
        Ok(())
    }

    /// Moves the running job at `address` one step; returns whether it moved.
    fn step(&mut self, network: &Network, address: Pubkey, job: &Job, now: i64) -> Result<bool> {
        let key = address.to_bytes();
        let record = match self.store.job(&key)? {
            Some(record) => record,
            // Accepted, then killed before the store heard of it: start from nothing.
            None => self.store.update::<anyhow::Error>(&key, |_| {
                let mut record = JobRecord::new(job.spec_hash);
                record.last_receipt_at = now;
                Ok(record)
            })?,
        };
        if record.state != JobState::Running {
            return Ok(false);
        }
        let spec = match self.runnable(job) {
            Ok(spec) => spec,
            Err(reason) => {
                return self
                    .set_aside(address, format!("{reason:#}"), false)
                    .map(|_| true)
            }
        };
        if let Some(pending) = &record.pending {
            if job.settled_units >= pending.cumulative_units {
                return self.settled(address, job).map(|_| true);
            }
            let stale =
                pending_receipt(pending)?.receipt.attestor_set_version != network.attestors.version;
            if stale || now >= pending.expires_at - REISSUE_MARGIN_SECS {
                return self.sign(address, &record, now).map(|_| true);
            }
            if self.submit(network, address, job, pending)? {
                return Ok(true);
            }
        } else if self.receipt_due(&spec, &record, job, now) {
            return self.sign(address, &record, now).map(|_| true);
        }
        if !self.work_done(&spec, &record, job)
            && self.may_run_ahead(&spec, &record)
            && self.work(address, job, &spec, &record)?
        {
            return Ok(true);
        }
        if self.work_done(&spec, &record, job)
            && record.pending.is_none()
            && record.units_settled >= record.units_metered
        {
            return self.complete(address, &record).map(|_| true);
        }
        Ok(false)
    }

    /// Whether the job needs no more work: every round done, or its max units metered.
    fn work_done(&self, spec: &Spec, record: &JobRecord, job: &Job) -> bool {
        let finished = match spec.workload {
            Workload::Matmul { rounds, .. } => record.rounds_done >= rounds,
            Workload::Command { .. } => record.rounds_done >= 1,
            Workload::Relay { .. } => false,
        };
        finished || record.units_metered >= job.max_units
    }

    /// Whether a receipt for the units metered is due now.
    fn receipt_due(&self, spec: &Spec, record: &JobRecord, job: &Job, now: i64) -> bool {
        let unsettled = record.units_metered.saturating_sub(record.units_settled);
        if unsettled == 0 {
            return false;
        }
        self.work_done(spec, record, job)
            || evidence_full(spec, record)
            || match self.config.settle_every {
                SettleEvery::Units(units) => unsettled >= units,
                SettleEvery::Seconds(seconds) => now - record.last_receipt_at >= seconds,
            }
    }

    /// Whether the worker may do more work before its earlier work is paid: at most two
    /// settlement intervals of units stay unsettled, which bounds what a client who never
    /// co-signs gets for free, and no more unpaid rounds than one co-signing request can
    /// bring as evidence.
    fn may_run_ahead(&self, spec: &Spec, record: &JobRecord) -> bool {
        if evidence_full(spec, record) {
            return false;
        }
        match self.config.settle_every {
            SettleEvery::Units(units) => {
                record.units_metered.saturating_sub(record.units_settled) < units.saturating_mul(2)
            }
            SettleEvery::Seconds(_) => true,
        }
    }

    /// Does the job's next piece of work and records it; returns whether there was any.
    fn work(
        &mut self,
        address: Pubkey,
        job: &Job,
        spec: &Spec,
        record: &JobRecord,
    ) -> Result<bool> {
        match spec.workload {
            Workload::Matmul { n, rounds } => self
                .matmul_round(address, job, n, rounds, record)
                .map(|_| true),
            Workload::Relay { ref target } => self.relay_bytes(address, job, target, record),
            Workload::Command {
                ref program,
                ref args,
                devices,
            } => self.run_command(address, job, (program, args, devices), record),
        }
    }

    /// Starts the job's command, or, once it has ended, records its metered work; returns
    /// whether either happened.
    fn run_command(
        &mut self,
        address: Pubkey,
        job: &Job,
        (program, args, devices): (&str, &[String], u32),
        record: &JobRecord,
    ) -> Result<bool> {
        let output =
            publish::job_results(&self.config.paths.results, &address.to_string()).join("output");
        let Some(running) = self.commands.get_mut(&address) else {
            let gpu_time = (job.unit_kind == UnitKind::GpuSeconds)
                .then(|| (crate::gpu_time::Sampler::open(), devices));
            let running = command::Running::start(program, args, &output, gpu_time)?;
            self.commands.insert(address, running);
            self.emit(Event::CommandStarted {
                job: address.to_string(),
                program: program.to_string(),
            });
            return Ok(true);
        };
        let Some(finished) = running.finished()? else {
            return Ok(false);
        };
        self.commands.remove(&address);
        if let Some(failure) = finished.failure {
            let reason = format!("{failure}; its output is in {}", output.display());
            return self.set_aside(address, reason, false).map(|_| true);
        }
        let wall_time_billed = || command::billed_units(finished.wall_time, devices);
        let wall_device_ms = (finished.wall_time.as_millis() as u64).saturating_mul(devices as u64);
        let (billed, measured_ms, metered_by) = match &finished.gpu_time {
            Some(Ok(metered)) => (
                metered.gpu_seconds(),
                (metered.device_nanos / 1_000_000).min(u64::MAX as u128) as u64,
                format!(
                    "NVML: GPUs {:?} held for {} GPU-seconds, mean SM utilization {}",
                    metered.gpus,
                    metered.gpu_seconds(),
                    metered
                        .mean_sm_utilization
                        .map_or("not reported".into(), |percent| format!("{percent} %")),
                ),
            ),
            Some(Err(why)) => (
                wall_time_billed(),
                wall_device_ms,
                format!("wall time x {devices} devices: {why}"),
            ),
            None => (
                wall_time_billed(),
                wall_device_ms,
                format!("wall time x {devices} devices"),
            ),
        };
        let units = billed
            .saturating_add(record.units_metered)
            .min(job.max_units);
        self.store
            .update::<anyhow::Error>(&address.to_bytes(), |stored| {
                let mut stored = stored.context("the job's record vanished")?;
                stored.rounds_done = 1;
                stored.units_metered = units;
                stored.measured_ms = measured_ms;
                stored.result_hash = finished.output_hash;
                Ok(stored)
            })?;
        self.emit(Event::CommandFinished {
            job: address.to_string(),
            units,
            wall_ms: finished.wall_time.as_millis() as u64,
            result_hash: hex::encode(finished.output_hash),
            metered_by,
        });
        Ok(true)
    }

    /// Runs the next round of the built-in workload, publishes its product, then records it.
    fn matmul_round(
        &mut self,
        address: Pubkey,
        job: &Job,
        n: u32,
        rounds: u32,
        record: &JobRecord,
    ) -> Result<()> {
        let round = record.rounds_done;
        let seed = matmul::job_seed(&job.spec_hash, &address.to_bytes(), job.nonce);
        // The same product on either device (`tessera_gpu`): what the receipt states and what
        // check-result recomputes do not depend on it.
        let on_gpu = match &self.computer {
            Computer::Gpu(gpu) => Some(gpu.run_round(&seed, round, n as usize)),
            Computer::Cpu => None,
        };
        let (product, measured, device) = match on_gpu {
            Some(Ok(done)) => (done.product, done.product_time, self.computer.name()),
            failed_or_cpu => {
                if let Some(Err(error)) = failed_or_cpu {
                    // A device that failed once (lost, out of memory) is not trusted again:
                    // this round and the rest run on the CPU, whose products are the same.
                    self.emit(Event::DeviceFailed {
                        device: self.computer.name(),
                        error: error.to_string(),
                    });
                    self.computer = Computer::Cpu;
                }
                let done = matmul::run_round(&seed, round, n as usize);
                let measured = match job.unit_kind {
                    UnitKind::GpuSeconds => done.wall_time,
                    _ => done.cpu_time,
                };
                (done.product, measured, "cpu".to_string())
            }
        };
        // The product is on disk before the store counts the round: a round recorded is
        // always published.
        publish::publish_product(
            &self.config.paths.results,
            &address.to_string(),
            round,
            &product,
        )?;
        // The rounds' work, not the time they took, is what they are worth (`units_for`); the
        // device's time is reported beside it.
        let units = matmul::units_for(n, round + 1).min(job.max_units);
        let result_hash = matmul::chain(&record.result_hash, &product);
        self.store
            .update::<anyhow::Error>(&address.to_bytes(), |stored| {
                let mut stored = stored.context("the job's record vanished")?;
                stored.rounds_done = round + 1;
                stored.units_metered = units;
                stored.measured_ms = stored
                    .measured_ms
                    .saturating_add(measured.as_millis() as u64);
                stored.result_hash = result_hash;
                stored.device = Some(device.clone());
                Ok(stored)
            })?;
        self.emit(Event::Round {
            job: address.to_string(),
            round,
            rounds,
            units,
            cpu_ms: measured.as_millis() as u64,
            device,
        });
        test_hook(&mut self.events, &format!("after-round:{round}"));
        Ok(())
    }

    /// Records the bytes a bandwidth job's relay has carried since the last look, starting
    /// the relay first if it is not running; returns whether there were any.
    fn relay_bytes(
        &mut self,
        address: Pubkey,
        job: &Job,
        target: &str,
        record: &JobRecord,
    ) -> Result<bool> {
        if !self.relays.contains_key(&address) {
            let admits = relay::Admits {
                job: address,
                client: job.client,
            };
            let relay = relay::Relay::start(
                self.config.relay_listen,
                target,
                admits,
                (record.units_metered, job.max_units),
            )?;
            self.emit(Event::Listening {
                job: address.to_string(),
                address: relay.address().to_string(),
            });
            self.relays.insert(address, relay);
            return Ok(true);
        }
        let relayed = self.relays[&address].relayed();
        if relayed <= record.units_metered {
            return Ok(false);
        }
        self.store
            .update::<anyhow::Error>(&address.to_bytes(), |stored| {
                let mut stored = stored.context("the job's record vanished")?;
                stored.units_metered = relayed;
                Ok(stored)
            })?;
        self.emit(Event::Relayed {
            job: address.to_string(),
            units: relayed,
        });
        Ok(true)
    }

    /// Signs a cumulative receipt for every unit metered and stores it as pending before it
    /// goes anywhere.
    fn sign(&mut self, address: Pubkey, record: &JobRecord, now: i64) -> Result<()> {
        let work = Work {
            job: Some(address),
            service: None,
            units: record.units_metered,
            unit: None,
            result_hash: Some(record.result_hash),
            expires_in: None,
        };
        let signed = receipt::issue(&self.signer, &work)?;
        let bytes = serde_json::to_vec(&ReceiptFile::from_signed(&signed))?;
        let expires_at = signed.receipt.expires_at;
        self.store
            .update::<anyhow::Error>(&address.to_bytes(), |stored| {
                let mut stored = stored.context("the job's record vanished")?;
                stored.pending = Some(Pending {
                    cumulative_units: signed.receipt.cumulative_units,
                    expires_at,
                    receipt: bytes,
                });
                stored.last_receipt_at = now;
                Ok(stored)
            })?;
        self.backoff.remove(&address);
        self.emit(Event::Signed {
            job: address.to_string(),
            units: record.units_metered,
            expires_at,
        });
        test_hook(&mut self.events, "after-signing");
        Ok(())
    }

    /// Gets the pending receipt co-signed and settles it; returns whether anything moved.
    fn submit(
        &mut self,
        network: &Network,
        address: Pubkey,
        job: &Job,
        pending: &Pending,
    ) -> Result<bool> {
        if self
            .backoff
            .get(&address)
            .is_some_and(|backoff| Instant::now() < backoff.next_try)
        {
            return Ok(false);
        }
        let signed = pending_receipt(pending)?;
        let ready = if self.config.attestors.is_empty() {
            let dir = &self.config.paths.cosign_dir;
            match cosign::collect(dir, &address, &signed, job, network)? {
                cosign::Cosigning::Ready(ready) => *ready,
                cosign::Cosigning::Waiting { path, written } => {
                    if written {
                        self.emit(Event::Awaiting {
                            job: address.to_string(),
                            units: pending.cumulative_units,
                            path: path.display().to_string(),
                        });
                    }
                    return Ok(false);
                }
            }
        } else {
            let cosigned = self.evidence(address, job, &signed).and_then(|evidence| {
                Coordinator::new(&self.config.attestors)?
                    .signing_as(&self.config.worker_key)
                    .cosign(&signed, &evidence, network, Some(job.client))
            });
            match cosigned {
                Ok(ready) => ready,
                Err(error) => return self.failed(address, error),
            }
        };
        test_hook(&mut self.events, "before-submit");
        let sent = receipt::settlement(&self.owner, &ready).and_then(|settlement| {
            // Between the epoch the settlement names and its arrival, the epoch may pass.
            test_hook(&mut self.events, "settlement-built");
            settlement.send(&self.owner)
        });
        match sent {
            Ok(_) => {
                test_hook(&mut self.events, "after-submit");
                let job = self.owner.job(&address)?;
                self.settled(address, &job)?;
                Ok(true)
            }
            Err(error) => self.failed(address, error),
        }
    }

    /// The evidence of the work `signed` states, for co-signing services.
    fn evidence(&self, address: Pubkey, job: &Job, signed: &SignedReceipt) -> Result<Evidence> {
        let spec = self.runnable(job)?;
        Ok(match spec.workload {
            Workload::Matmul { .. } => Evidence::published_matmul(
                &self.config.paths.specs,
                &self.config.paths.results,
                &address.to_string(),
                (&job.spec_hash, &signed.receipt.result_hash),
                job.settled_units,
            )
            .map_err(anyhow::Error::msg)?,
            // A relay's bytes and a command's time are the worker's own count: nothing a
            // service could check (the job's client signs them on its word).
            Workload::Relay { .. } | Workload::Command { .. } => Evidence::None,
        })
    }

    /// Decides what a failed submission means, by what failed, not by its words: a refusal
    /// the program would not repeat is rebuilt at once (an epoch that passed), waited out (a
    /// pause) or signed again (an expired receipt, a replaced attestor set); one it would
    /// repeat sets the job aside; a ledger out of reach is tried again with backoff, and a
    /// check that keeps failing sets the job aside after a few tries.
    fn failed(&mut self, address: Pubkey, error: anyhow::Error) -> Result<bool> {
        let text = format!("{error:#}");
        let unreachable = error.chain().any(|cause| cause.is::<Unconfirmed>());
        let remedy = remedy(&error);
        let backoff = self.backoff.entry(address).or_insert(Backoff {
            failures: 0,
            next_try: Instant::now(),
        });
        backoff.failures += 1;
        let failures = backoff.failures;
        match remedy {
            Some(Remedy::None) => {
                self.set_aside(address, text, false)?;
                return Ok(true);
            }
            Some(Remedy::SignAgain) => {
                // The next pass signs a fresh receipt for the same units.
                self.store
                    .update::<anyhow::Error>(&address.to_bytes(), |stored| {
                        let mut stored = stored.context("the job's record vanished")?;
                        stored.pending = None;
                        // Due at once, whatever --settle-every says.
                        stored.last_receipt_at = 0;
                        Ok(stored)
                    })?;
                self.emit(Event::Retrying {
                    job: address.to_string(),
                    error: format!("{text}; signing a fresh receipt"),
                    in_secs: 0,
                });
                // Not progress: the next pass signs again, so a receipt refused at every try
                // (co-signing slower than a receipt lives) costs a try a poll, not a loop.
                return Ok(false);
            }
            // An epoch that keeps being wrong is a clock out of step, not a passing epoch.
            Some(Remedy::Rebuild) if failures >= MAX_CHECK_FAILURES => {
                self.set_aside(address, text, true)?;
                return Ok(true);
            }
            Some(Remedy::Rebuild) | Some(Remedy::Wait) => {}
            None if !unreachable && failures >= MAX_CHECK_FAILURES => {
                self.set_aside(address, text, true)?;
                return Ok(true);
            }
            None => {}
        }
        // A transaction for the new epoch can be built at once; anything else waits.
        let rebuild = remedy == Some(Remedy::Rebuild);
        let wait = match rebuild {
            true => Duration::ZERO,
            false => Duration::from_secs((1u64 << failures.min(6)).min(60)),
        };
        if let Some(backoff) = self.backoff.get_mut(&address) {
            backoff.next_try = Instant::now() + wait;
        }
        self.emit(Event::Retrying {
            job: address.to_string(),
            error: text,
            in_secs: wait.as_secs(),
        });
        Ok(rebuild)
    }

    /// Records what the ledger settled on the job and drops the pending receipt it covers.
    fn settled(&mut self, address: Pubkey, job: &Job) -> Result<()> {
        let settled_units = job.settled_units;
        self.store
            .update::<anyhow::Error>(&address.to_bytes(), |stored| {
                let mut stored = stored.context("the job's record vanished")?;
                stored.units_settled = stored.units_settled.max(settled_units);
                if stored
                    .pending
                    .as_ref()
                    .is_some_and(|pending| pending.cumulative_units <= settled_units)
                {
                    stored.pending = None;
                }
                Ok(stored)
            })?;
        self.backoff.remove(&address);
        cosign::settled(&self.config.paths.cosign_dir, &address);
        let mint = self.owner.ledger.mint(&job.payment_mint)?;
        self.emit(Event::Settled {
            job: address.to_string(),
            units: settled_units,
            paid: mint.format(job.paid_out),
        });
        Ok(())
    }

    /// Marks the job done on the ledger with the result hash, and in the store.
    fn complete(&mut self, address: Pubkey, record: &JobRecord) -> Result<()> {
        job::complete(&self.owner, &address, Some(record.result_hash))?;
        self.store
            .update::<anyhow::Error>(&address.to_bytes(), |stored| {
                let mut stored = stored.context("the job's record vanished")?;
                stored.state = JobState::Completed;
                Ok(stored)
            })?;
        self.relays.remove(&address);
        self.emit(Event::Completed {
            job: address.to_string(),
            units: record.units_metered,
            result_hash: hex::encode(record.result_hash),
        });
        Ok(())
    }

    /// Sets the job aside: the worker does nothing more for it.
    fn set_aside(&mut self, address: Pubkey, reason: String, retry_helps: bool) -> Result<()> {
        let why = reason.clone();
        self.store
            .update::<anyhow::Error>(&address.to_bytes(), |stored| {
                let mut stored = stored.context("the job's record vanished")?;
                stored.state = JobState::SetAside {
                    reason: why,
                    retry_helps,
                };
                Ok(stored)
            })?;
        self.relays.remove(&address);
        self.commands.remove(&address);
        self.emit(Event::SetAside {
            job: address.to_string(),
            reason,
        });
        Ok(())
    }

    /// Sets aside the jobs the store has running that the ledger no longer runs (cancelled by
    /// their client past the deadline, or closed).
    fn set_aside_vanished(&mut self, jobs: &[(Pubkey, Job)]) -> Result<bool> {
        let mut progressed = false;
        for (key, record) in self.store.jobs()? {
            let address = Pubkey::new_from_array(key);
            let on_ledger = jobs.iter().find(|(job, _)| *job == address);
            let running = on_ledger.is_some_and(|(_, job)| job.status == JobStatus::Running);
            if record.state == JobState::Running && !running {
                let status = on_ledger.map_or("closed".to_string(), |(_, job)| {
                    format!("{:?}", job.status).to_lowercase()
                });
                self.set_aside(address, format!("the job is {status} on the ledger"), false)?;
                progressed = true;
            }
        }
        Ok(progressed)
    }

    /// Claims the provider's emissions for finished epochs, at most every
    /// [`CLAIM_EVERY`] (every run of `--once`).
    fn claim_due(&mut self) -> Result<bool> {
        if self
            .last_claim
            .is_some_and(|last| last.elapsed() < CLAIM_EVERY)
        {
            return Ok(false);
        }
        self.last_claim = Some(Instant::now());
        let claimed = match claim::claim(&self.owner, Some(self.provider), None) {
            Ok(claimed) => claimed,
            // Paused: waited out like a settlement pause; the next try is a claim period away.
            Err(error) if remedy(&error) == Some(Remedy::Wait) => {
                self.emit(Event::ClaimsWaiting {
                    reason: format!("{error:#}"),
                    in_secs: CLAIM_EVERY.as_secs(),
                });
                return Ok(false);
            }
            Err(error) => return Err(error),
        };
        if claimed.epochs.is_empty() {
            return Ok(false);
        }
        self.emit(Event::Claimed {
            epochs: claimed.epochs,
            amount: claimed.amount,
        });
        Ok(true)
    }
}

/// What can make the work that failed with `error` succeed later, when the program refused it
/// or a command foresaw that it would.
fn remedy(error: &anyhow::Error) -> Option<Remedy> {
    error.chain().find_map(|cause| {
        cause
            .downcast_ref::<ProgramRefused>()
            .map(ProgramRefused::remedy)
            .or_else(|| cause.downcast_ref::<Foreseen>().map(Foreseen::remedy))
    })
}

/// Whether a built-in job's unpaid rounds (done, and not covered by the units settled) fill
/// one co-signing request's evidence while they are worth a unit: then a receipt is due and no
/// more rounds run until it settles.
fn evidence_full(spec: &Spec, record: &JobRecord) -> bool {
    let Workload::Matmul { n, .. } = spec.workload else {
        return false;
    };
    let unpaid = record
        .rounds_done
        .saturating_sub(matmul::rounds_for(n, record.units_settled));
    record.units_metered > record.units_settled
        && unpaid >= tessera_attest::wire::rounds_per_request(n)
}

/// The signed receipt a pending record holds.
fn pending_receipt(pending: &Pending) -> Result<SignedReceipt> {
    let file: ReceiptFile = serde_json::from_slice(&pending.receipt)
        .context("the store's pending receipt is not a receipt file")?;
    Ok(file.to_signed()?)
}

fn workload_name(workload: &Workload) -> &'static str {
    match workload {
        Workload::Matmul { .. } => "matmul",
        Workload::Command { .. } => "command",
        Workload::Relay { .. } => "relay",
    }
}

/// Tests only: when `TESSERA_WORKER_TEST_PAUSE` names `point`, says so and sleeps there, so
/// that a test can kill the worker exactly there, or change the world under it. When
/// `TESSERA_WORKER_TEST_RESUME` names a file, the worker goes on once that file appears (and
/// removes it), and pauses no more.
fn test_hook(events: &mut Events, point: &str) {
    static RESUMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if std::env::var("TESSERA_WORKER_TEST_PAUSE").as_deref() != Ok(point)
        || RESUMED.load(std::sync::atomic::Ordering::Relaxed)
    {
        return;
    }
    events.emit(Event::Paused { at: point.into() });
    let resume = std::env::var_os("TESSERA_WORKER_TEST_RESUME").map(PathBuf::from);
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if let Some(resume) = resume.as_deref().filter(|file| file.exists()) {
            let _ = std::fs::remove_file(resume);
            RESUMED.store(true, std::sync::atomic::Ordering::Relaxed);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settle_every_reads_units_or_seconds() {
        assert_eq!("500".parse(), Ok(SettleEvery::Units(500)));
        assert_eq!("500u".parse(), Ok(SettleEvery::Units(500)));
        assert_eq!("90s".parse(), Ok(SettleEvery::Seconds(90)));
        for wrong in ["0", "0s", "-3s", "ten", "5m"] {
            assert!(wrong.parse::<SettleEvery>().is_err(), "{wrong}");
        }
    }
}
