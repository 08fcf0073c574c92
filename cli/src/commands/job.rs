//! `tessera job …` and `tessera dispute …`: escrowed jobs from creation to close, and the
//! client's recourse.

use super::{
    default_unit, ensure_measures, ensure_open, parse_hash, when, Activity, ClassArg, Outcome,
    Session, UnitArg,
};
use crate::view::{as_name, as_text, as_unit_name, Indented};
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, ensure, Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use tessera::instructions::CreateJobArgs;
use tessera::state::{Job, JobRequirement, JobStatus, Network, Provider, ProviderClass, UnitKind};
use tessera_client::instructions::{self as ix, CloseJobAccounts, ResolveDisputeAccounts};
use tessera_client::{filters, pda};
use tessera_ledger::actions::{self, job::status_verb};
use tessera_ledger::tokens::{associated_account, Mint};
use tessera_work::spec::{Spec, Workload};
use tessera_work::{matmul, publish};

#[derive(Subcommand)]
pub enum JobCommand {
    /// Funds a job's escrow from --keypair's token account: price x max units of --mint.
    Create(Box<CreateArgs>),
    /// Accepts an open job as --keypair's provider; its stake must cover one more running job.
    Accept {
        /// The job account.
        job: Pubkey,
    },
    /// Adds units to a job's escrow, paid by its client (--keypair).
    TopUp {
        /// The job account.
        job: Pubkey,
        /// Additional units.
        #[arg(long)]
        units: u64,
        /// Source token account (default: --keypair's associated account).
        #[arg(long)]
        from: Option<Pubkey>,
    },
    /// Marks a running job done, as its provider (--keypair).
    Complete {
        /// The job account.
        job: Pubkey,
        /// SHA-256 of the final result, 64 hex digits.
        #[arg(long, value_parser = parse_hash)]
        result_hash: Option<[u8; 32]>,
    },
    /// Cancels a job as its client: an open one past its accept-by, a running one past its
    /// deadline, or one that settled nothing within its start timeout (a no-show, a strike
    /// against the provider).
    Cancel {
        /// The job account.
        job: Pubkey,
    },
    /// Closes an ended job (anyone) once receipts can no longer settle on it and its client can
    /// no longer dispute: unspent escrow and rent to the client, fees to the treasury.
    Close {
        /// The job account.
        job: Pubkey,
    },
    /// Shows one job, and when it may be cancelled, settled on and closed.
    Show {
        /// The job account.
        job: Pubkey,
    },
    /// Prints a bandwidth job's relay token, signed by its client (--keypair), in hex: each
    /// connection to the provider's relay sends the 64 bytes it decodes to before anything
    /// else, within 5 s (the relay carries nothing for a connection without them).
    RelayToken {
        /// The job account.
        job: Pubkey,
    },
    /// Checks the result a job's worker published for the built-in workload: every round's
    /// product by Freivalds' test against the inputs the spec derives, and their chain against
    /// the result hash the job completed with. Exits 1 when it does not check.
    CheckResult {
        /// The job account.
        job: Pubkey,
        /// Folder the worker published results in (default: results/ in --data-dir).
        #[arg(long, env = "TESSERA_RESULTS")]
        results: Option<PathBuf>,
        /// Folder of spec documents (default: specs/ in --data-dir).
        #[arg(long, env = "TESSERA_SPECS")]
        specs: Option<PathBuf>,
    },
    /// Lists the jobs of --network (or of one client).
    List {
        /// Only this client's jobs.
        #[arg(long)]
        client: Option<Pubkey>,
    },
}

impl JobCommand {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        match self {
            JobCommand::Create(args) => Outcome::view(&create(session, args)?),
            JobCommand::Accept { job } => Outcome::view(&accept(session, job)?),
            JobCommand::TopUp { job, units, from } => {
                Outcome::view(&top_up(session, job, *units, *from)?)
            }
            JobCommand::Complete { job, result_hash } => {
                Outcome::view(&complete(session, job, *result_hash)?)
            }
            JobCommand::Cancel { job } => Outcome::view(&cancel(session, job)?),
            JobCommand::Close { job } => Outcome::view(&close(session, job)?),
            JobCommand::Show { job } => Outcome::view(&show(session, job)?),
            JobCommand::RelayToken { job } => Outcome::view(&relay_token(session, job)?),
            JobCommand::List { client } => Outcome::view(&list(session, *client)?),
            JobCommand::CheckResult {
                job,
                results,
                specs,
            } => {
                let folders = (results.clone(), specs.clone());
                let checked = check_result(session, job, folders)?;
                let failure = checked.failure.clone();
                Ok(Outcome::view(&checked)?.failing_with(failure))
            }
        }
    }
}

/// A new job: its payment, who may accept it, what a unit is, and its times.
#[derive(Args)]
pub struct CreateArgs {
    /// Payment mint (SPL Token or Token-2022).
    #[arg(long)]
    pub mint: Pubkey,
    /// Price of one unit, in the mint's tokens (e.g. 0.25).
    #[arg(long)]
    pub price: String,
    /// Units the deposit pays for. With --matmul (or a --spec of the built-in workload) it is
    /// at most what the rounds are worth, floor(rounds x n^3 / 2^29), and that by default.
    #[arg(long)]
    pub max_units: Option<u64>,
    /// Only this provider account may accept (otherwise any provider of --class).
    #[arg(long)]
    pub provider: Option<Pubkey>,
    /// Class of provider that may accept (default: the named provider's).
    #[arg(long, value_enum)]
    pub class: Option<ClassArg>,
    /// What a unit is; the class must count it (Training and Inference: gpu-seconds, Edge:
    /// cpu-seconds or gpu-seconds, Bandwidth: bytes). Default: the first of these.
    #[arg(long, value_enum)]
    pub unit: Option<UnitArg>,
    /// Least number of GPUs of an accepting provider.
    #[arg(long, default_value_t = 0)]
    pub min_gpus: u16,
    /// Least memory per GPU of an accepting provider, GiB.
    #[arg(long, default_value_t = 0)]
    pub min_vram_gib: u16,
    /// Least uplink of an accepting provider, Mbit/s.
    #[arg(long, default_value_t = 0)]
    pub min_bandwidth_mbps: u32,
    #[command(flatten)]
    pub spec: JobSpecArgs,
    /// Seconds a provider has to accept.
    #[arg(long, default_value_t = 3_600)]
    pub accept_within: i64,
    /// Seconds until the deadline.
    #[arg(long, default_value_t = 86_400)]
    pub deadline_in: i64,
    /// The client's id for the job (default: one more than its highest on this network).
    #[arg(long)]
    pub job_id: Option<u64>,
    /// Source token account (default: --keypair's associated account).
    #[arg(long)]
    pub from: Option<Pubkey>,
}

/// What a job runs: a spec document written (or read) here and published for workers, or the
/// hash of one published elsewhere.
#[derive(Args, Clone, Debug, Default)]
pub struct JobSpecArgs {
    /// The built-in workload: ROUNDS products of two N x N integer matrices, written NxROUNDS
    /// (e.g. 128x40), checkable by anyone with Freivalds' test; metered in CPU-seconds.
    #[arg(long, conflicts_with_all = ["relay", "spec", "spec_hash"])]
    pub matmul: Option<MatmulSize>,
    /// A bandwidth job: the provider relays TCP to this HOST:PORT; metered in bytes.
    #[arg(long, conflicts_with_all = ["spec", "spec_hash"])]
    pub relay: Option<String>,
    /// A spec document (tessera-spec/v1 JSON) to check, hash and publish.
    #[arg(long, conflicts_with = "spec_hash")]
    pub spec: Option<PathBuf>,
    /// SHA-256 of a spec document published elsewhere, 64 hex digits.
    #[arg(long, value_parser = parse_hash)]
    pub spec_hash: Option<[u8; 32]>,
    /// Folder the spec document is published in, under its hash, for workers (default:
    /// specs/ in --data-dir).
    #[arg(long, env = "TESSERA_SPECS")]
    pub specs: Option<PathBuf>,
}

/// `--matmul NxROUNDS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulSize {
    pub n: u32,
    pub rounds: u32,
}

impl std::str::FromStr for MatmulSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (n, rounds) = text
            .split_once('x')
            .and_then(|(n, rounds)| Some((n.parse().ok()?, rounds.parse().ok()?)))
            .ok_or_else(|| format!("{text:?} is not NxROUNDS, e.g. 128x40"))?;
        Ok(Self { n, rounds })
    }
}

impl JobSpecArgs {
    /// The spec document these flags give, checked; `None` with only a hash, or nothing.
    pub fn document(&self) -> Result<Option<Vec<u8>>> {
        let bytes = if let Some(MatmulSize { n, rounds }) = self.matmul {
            Spec::matmul(n, rounds).to_bytes()
        } else if let Some(target) = &self.relay {
            Spec::relay(target).to_bytes()
        } else if let Some(path) = &self.spec {
            std::fs::read(path)
                .with_context(|| format!("cannot read the spec document {}", path.display()))?
        } else {
            return Ok(None);
        };
        Spec::parse(&bytes).context("the job's spec")?;
        Ok(Some(bytes))
    }

    /// The folder spec documents are published in.
    fn folder(&self) -> PathBuf {
        self.specs
            .clone()
            .unwrap_or_else(|| PathBuf::from(".tessera/specs"))
    }
}

/// The units a job's deposit pays for: `--max-units`, which for the built-in workload may not
/// pass what its rounds are worth (a deposit no work could earn), and is that by default.
fn max_units(spec: Option<&Spec>, asked: Option<u64>) -> Result<u64> {
    let Some(&Workload::Matmul { n, rounds }) = spec.map(|spec| &spec.workload) else {
        return asked.context(
            "--max-units is needed: how many units the deposit pays for (only a --matmul job \
             has a default, what its rounds are worth)",
        );
    };
    let worth = matmul::units_for(n, rounds);
    ensure!(
        worth > 0,
        "{rounds} rounds of side {n} are worth no unit: a unit is 2^29 multiply-adds and a round \
         n^3, so ask for more rounds or a larger n (512x4 is one unit, 1024x1 two)"
    );
    ensure!(
        matmul::units_for(n, tessera_attest::wire::rounds_per_request(n)) > 0,
        "rounds of side {n} are too small to attest: the products one co-signing request can \
         carry are worth no unit; use n of 256 or more"
    );
    let max_units = asked.unwrap_or(worth);
    ensure!(
        max_units <= worth,
        "--max-units {max_units} is more than the {rounds} rounds of side {n} are worth \
         ({worth} units, floor(rounds x n^3 / 2^29)): the rest of the deposit could never be \
         earned; pass --max-units {worth} or less, or leave it out"
    );
    Ok(max_units)
}

/// Refuses a spec whose workload is not metered in the job's unit.
fn ensure_spec_counts(spec: &Spec, unit_kind: UnitKind) -> Result<()> {
    let fits = match spec.workload {
        Workload::Relay { .. } => unit_kind == UnitKind::Bytes,
        Workload::Matmul { .. } | Workload::Command { .. } => unit_kind != UnitKind::Bytes,
    };
    ensure!(
        fits,
        "the spec's workload is not metered in {}: a relay counts bytes (--unit bytes, a \
         Bandwidth job), other work counts cpu-seconds or gpu-seconds",
        tessera_client::receipt::unit_kind_name(unit_kind)
    );
    Ok(())
}

#[derive(Subcommand)]
pub enum DisputeCommand {
    /// Disputes a job's attested work, as its client (--keypair), within the dispute window
    /// of its last attested settlement.
    Open {
        /// The job account.
        job: Pubkey,
        /// SHA-256 of the evidence, 64 hex digits.
        #[arg(long, value_parser = parse_hash)]
        evidence_hash: [u8; 32],
    },
    /// Resolves a dispute as the network authority: --slash 0 dismisses it.
    Resolve {
        /// The job account.
        job: Pubkey,
        /// Reward tokens taken from the provider's stake and given to the client.
        #[arg(long)]
        slash: String,
    },
}

impl DisputeCommand {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        match self {
            DisputeCommand::Open { job, evidence_hash } => {
                Outcome::view(&open_dispute(session, job, *evidence_hash)?)
            }
            DisputeCommand::Resolve { job, slash } => {
                Outcome::view(&resolve_dispute(session, job, slash)?)
            }
        }
    }
}

/// When the program lets things happen to a job, from the job's own rules (`Job` methods and
/// the network's settlement-pause clock); `None` where a time does not apply yet.
pub struct JobTimes {
    /// After it, the client may cancel a running job that settled nothing as a no-show.
    pub start_timeout_ends: Option<i64>,
    /// Until it, receipts issued before the job ended may settle.
    pub settlement_window_ends: Option<i64>,
    /// Until it, the client may dispute the last attested settlement.
    pub dispute_window_ends: Option<i64>,
    /// From it, anyone may close the ended job.
    pub closes_at: Option<i64>,
}

impl JobTimes {
    /// The times of `job` on `network` as of the ledger time `now` (settlement pauses up to
    /// `now` lengthen the windows of ended jobs).
    pub fn of(job: &Job, network: &Network, now: i64) -> Result<Self> {
        let paused_secs = network.settlement_pauses.paused_secs_at(now)?;
        Ok(Self {
            start_timeout_ends: job
                .was_accepted()
                .then(|| job.start_timeout_ends(paused_secs))
                .transpose()?,
            settlement_window_ends: job
                .has_ended()
                .then(|| job.settlement_window_ends(paused_secs))
                .transpose()?,
            dispute_window_ends: (job.last_attested_at != 0)
                .then(|| job.dispute_window_ends())
                .transpose()?,
            closes_at: job
                .has_ended()
                .then(|| job.closes_at(paused_secs))
                .transpose()?,
        })
    }
}

impl CreateArgs {
    /// The program's arguments for this job: the client's `job_id`, accepted by a provider of
    /// `class`, counted in `unit_kind`, with times from the ledger's `now`.
    fn job(
        &self,
        job_id: u64,
        class: ProviderClass,
        unit_kind: UnitKind,
        price_per_unit: u64,
        (max_units, spec_hash): (u64, [u8; 32]),
        now: i64,
    ) -> CreateJobArgs {
        CreateJobArgs {
            job_id,
            provider: self.provider,
            requirement: JobRequirement {
                class,
                min_gpu_count: self.min_gpus,
                min_vram_gib: self.min_vram_gib,
                min_bandwidth_mbps: self.min_bandwidth_mbps,
            },
            unit_kind,
            price_per_unit,
            max_units,
            spec_hash,
            accept_by: now + self.accept_within,
            deadline: now + self.deadline_in,
        }
    }
}

/// `job create`: --keypair funds a job's escrow.
pub fn create(session: &Session, args: &CreateArgs) -> Result<JobReport> {
    let (network_key, network) = session.network()?;
    ensure_open(&network, Activity::NewJobs)?;
    let ledger = session.ledger;
    let me = session.signer();
    let mint = ledger.mint(&args.mint)?;
    let price = mint.parse_amount(&args.price).context("--price")?;
    let class = accepting_class(session, args)?;
    let unit_kind = args.unit.map_or(default_unit(class), Into::into);
    ensure_measures(class, unit_kind, "--unit")?;
    let document = args.spec.document()?;
    let spec = document.as_deref().map(Spec::parse).transpose()?;
    if let Some(spec) = &spec {
        ensure_spec_counts(spec, unit_kind)?;
    }
    let max_units = max_units(spec.as_ref(), args.max_units)?;
    ensure!(
        price > 0 && max_units > 0,
        "--price and --max-units must both be above 0"
    );
    let deposit = price
        .checked_mul(max_units)
        .context("--price x --max-units overflows a token amount")?;
    let spec_hash = document
        .as_deref()
        .map(tessera_work::spec::hash)
        .or(args.spec.spec_hash)
        .unwrap_or_default();
    ensure!(
        args.accept_within > 0 && args.deadline_in > args.accept_within,
        "--deadline-in must be later than --accept-within, both above 0"
    );
    let source = args.from.unwrap_or(mint.associated(&me));
    session.ensure_balance(&source, &mint, deposit, "the deposit (price x max units)")?;
    let job_id = match args.job_id {
        Some(id) => id,
        None => next_job_id(session, network_key, me)?,
    };
    let address = pda::job(&network_key, &me, job_id);
    ensure!(
        !ledger.exists(&address)?,
        "job {job_id} of {me} already exists at {address}: pick another --job-id"
    );
    let job = args.job(
        job_id,
        class,
        unit_kind,
        price,
        (max_units, spec_hash),
        ledger.now()?,
    );
    session.send(&[ix::create_job(&me, &network_key, mint.key, &source, job)])?;
    let mut verb = format!("created, {} in escrow", mint.format(deposit));
    if let Some(document) = document {
        let folder = args.spec.folder();
        publish::publish_spec(&folder, &document).with_context(|| {
            format!(
                "job {address} was created, but its spec document could not be published: \
                 write it to {} yourself",
                publish::spec_path(&folder, &spec_hash).display()
            )
        })?;
        verb += &format!(
            "; spec published at {}",
            publish::spec_path(&folder, &spec_hash).display()
        );
    }
    report(session, &network, &address, verb)
}

/// The class of provider that may accept the job `job create` describes: --class, or the
/// named --provider's, which must agree.
fn accepting_class(session: &Session, args: &CreateArgs) -> Result<ProviderClass> {
    let named = args
        .provider
        .map(|address| session.provider_at(&address))
        .transpose()?;
    let class = match (&named, args.class) {
        (Some(named), None) => named.class,
        (_, Some(class)) => class.into(),
        (None, None) => bail!("say who may accept: --provider ADDRESS or --class CLASS"),
    };
    if let (Some(named), Some(address)) = (&named, args.provider) {
        ensure!(
            named.class == class,
            "provider {address} is of class {:?}, not --class {class:?}: it could never accept \
             the job; drop --class or name another provider",
            named.class
        );
    }
    Ok(class)
}

/// One more than the highest job id `client` has on `network`.
fn next_job_id(session: &Session, network: Pubkey, client: Pubkey) -> Result<u64> {
    let mine: Vec<(Pubkey, Job)> = session
        .ledger
        .all_where(&filters::jobs_of_client(network, client))?;
    Ok(mine.iter().map(|(_, job)| job.job_id).max().unwrap_or(0) + 1)
}

/// `job accept`: --keypair's provider accepts the open job.
pub fn accept(session: &Session, job: &Pubkey) -> Result<JobReport> {
    let accepted = actions::job::accept(session, job)?;
    let (_, network) = session.network()?;
    report(
        session,
        &network,
        job,
        format!("accepted by {}", accepted.provider),
    )
}

/// `job top-up`: the client adds `units` to the job's escrow.
pub fn top_up(
    session: &Session,
    job: &Pubkey,
    units: u64,
    from: Option<Pubkey>,
) -> Result<JobReport> {
    let (_, network) = session.network()?;
    let me = session.signer();
    let state = session.job(job)?;
    ensure!(
        state.client == me,
        "only the job's client {} may top it up; --keypair is {me}",
        state.client
    );
    let mint = session.ledger.mint(&state.payment_mint)?;
    let cost = state
        .price_per_unit
        .checked_mul(units)
        .context("--units x price overflows")?;
    let source = from.unwrap_or(mint.associated(&me));
    session.ensure_balance(&source, &mint, cost, "the top-up")?;
    session.send(&[ix::top_up(&me, job, mint.key, &source, units)])?;
    let verb = format!("topped up by {units} units ({})", mint.format(cost));
    report(session, &network, job, verb)
}

/// `job complete`: the provider marks its running job done.
pub fn complete(
    session: &Session,
    job: &Pubkey,
    result_hash: Option<[u8; 32]>,
) -> Result<JobReport> {
    actions::job::complete(session, job, result_hash)?;
    let (_, network) = session.network()?;
    report(session, &network, job, "completed")
}

/// `job cancel`: the client cancels a job nobody accepted in time, one past its deadline, or a
/// no-show.
pub fn cancel(session: &Session, job: &Pubkey) -> Result<JobReport> {
    let (network_key, network) = session.network()?;
    let me = session.signer();
    let state = session.job(job)?;
    ensure!(
        state.client == me,
        "only the job's client {} may cancel it; --keypair is {me}",
        state.client
    );
    ensure_cancellable(job, &state, &network, session.ledger.now()?)?;
    // Only a running job's provider has a job slot to release; a named job's provider may
    // have deregistered while the job waited.
    let provider = (state.status == JobStatus::Running).then_some(state.provider);
    session.send(&[ix::cancel_job(&me, &network_key, job, provider)])?;
    let verb = if session.job(job)?.no_show {
        "cancelled as a no-show: a strike against its provider; it may close now"
    } else {
        "cancelled"
    };
    report(session, &network, job, verb)
}

/// Refuses to cancel a job before its client may: open until its accept-by, running until
/// its deadline unless it is a no-show, or already ended.
fn ensure_cancellable(job: &Pubkey, state: &Job, network: &Network, now: i64) -> Result<()> {
    match state.status {
        JobStatus::Open => ensure!(
            now > state.accept_by,
            "job {job} is open to providers until {}: its client may cancel it {}",
            state.accept_by,
            when(state.accept_by + 1, now)
        ),
        JobStatus::Running => {
            let times = JobTimes::of(state, network, now)?;
            let no_show_hint = match (state.settled_units, times.start_timeout_ends) {
                (0, Some(ends)) => format!(
                    ", or as a no-show {} if nothing settles before",
                    when(ends + 1, now)
                ),
                _ => String::new(),
            };
            ensure!(
                now > state.deadline
                    || state.is_no_show_at(now, network.settlement_pauses.paused_secs_at(now)?)?,
                "job {job} is running until its deadline {}: its client may cancel it \
                 {}{no_show_hint}",
                state.deadline,
                when(state.deadline + 1, now)
            );
        }
        JobStatus::Completed | JobStatus::Cancelled => bail!(
            "job {job} already ended ({}): nothing to cancel; `tessera job close` returns its \
             escrow",
            status_verb(state.status)
        ),
    }
    Ok(())
}

/// `job close`: anyone closes an ended job whose windows have closed.
pub fn close(session: &Session, job: &Pubkey) -> Result<JobClosed> {
    let (network_key, network) = session.network()?;
    let state = session.job(job)?;
    ensure_closable(job, &state, &network, session.ledger.now()?)?;
    let me = session.signer();
    let mint = session.ledger.mint(&state.payment_mint)?;
    let (client_token, create_client) = associated_account(&me, &state.client, mint.key);
    let (treasury_token, create_treasury) = associated_account(&me, &network.treasury, mint.key);
    let fees = state.fees_accrued - state.fees_paid;
    let mut instructions = vec![create_client];
    if fees > 0 {
        instructions.push(create_treasury);
    }
    instructions.push(ix::close_job(CloseJobAccounts {
        cranker: me,
        network: network_key,
        job: *job,
        client: state.client,
        client_token,
        treasury_token: (fees > 0).then_some(treasury_token),
        payment_mint: mint.key,
    }));
    let refund = session.ledger.token_balance(&state.vault)? - fees;
    session.send(&instructions)?;
    Ok(JobClosed {
        address: *job,
        closed: true,
        refunded: mint.format(refund),
        fees: mint.format(fees),
        client: state.client,
    })
}

/// Refuses to close a job that has not ended, has an open dispute, or on which receipts may
/// still settle or disputes still open.
fn ensure_closable(job: &Pubkey, state: &Job, network: &Network, now: i64) -> Result<()> {
    ensure!(
        state.has_ended(),
        "job {job} is {}: it closes once completed or cancelled",
        status_verb(state.status)
    );
    ensure!(
        !state.dispute_open,
        "job {job} has an open dispute: it closes once the network authority resolves it"
    );
    let closes_at = JobTimes::of(state, network, now)?
        .closes_at
        .context("an ended job has a closing time")?;
    ensure!(
        now >= closes_at,
        "job {job} closes {}: until then receipts issued before its end may still settle and \
         its client may still dispute",
        when(closes_at, now)
    );
    Ok(())
}

/// `job show`: one job as recorded.
/// `job check-result`: checks the result published for `job` in the folders given as
/// `(results, specs)`, each defaulting to a folder in .tessera.
pub fn check_result(
    session: &Session,
    job: &Pubkey,
    (results, specs): (Option<PathBuf>, Option<PathBuf>),
) -> Result<ResultChecked> {
    let state = session.job(job)?;
    let specs = specs.unwrap_or_else(|| PathBuf::from(".tessera/specs"));
    let results = results.unwrap_or_else(|| PathBuf::from(".tessera/results"));
    let spec = publish::load_spec(&specs, &state.spec_hash)?;
    let Workload::Matmul { n, rounds } = spec.workload else {
        bail!("job {job} does not run the built-in workload: only its results can be checked")
    };
    ensure!(
        state.status == JobStatus::Completed,
        "job {job} is {}: its result hash is final once its provider completes it",
        status_verb(state.status)
    );
    let checked = publish::check_published(
        &results,
        &job.to_string(),
        &matmul::job_seed(&state.spec_hash, &job.to_bytes(), state.nonce),
        rounds,
        &state.result_hash,
    );
    let rounds_checked = *checked.as_ref().unwrap_or(&0);
    let units = matmul::units_for(n, rounds_checked);
    // The result checks only if what the job paid for is what its published rounds are worth.
    let failure = match checked {
        Err(error) => Some(error.to_string()),
        Ok(_) if state.settled_units > units => Some(format!(
            "the job settled {} units, but its {rounds_checked} published rounds of side {n} \
             are worth {units}",
            state.settled_units
        )),
        Ok(_) => None,
    };
    Ok(ResultChecked {
        job: *job,
        rounds: rounds_checked,
        of_rounds: rounds,
        units,
        settled_units: state.settled_units,
        result_hash: hex::encode(state.result_hash),
        failure,
    })
}

/// `job check-result`: what was checked and whether it held.
#[derive(Serialize)]
pub struct ResultChecked {
    #[serde(serialize_with = "as_text")]
    pub job: Pubkey,
    /// Rounds whose products passed Freivalds' test and chain to the result hash.
    pub rounds: u32,
    /// Rounds the spec asks for (a job that reached its max units stops earlier).
    pub of_rounds: u32,
    /// Units the rounds checked are worth: floor(rounds × n³ / 2^29), what every co-signer
    /// computes from the same published results.
    pub units: u64,
    /// Units the job settled; the result fails the check if they are more than `units`.
    pub settled_units: u64,
    pub result_hash: String,
    /// Why the result does not check, if it does not.
    pub failure: Option<String>,
}

impl fmt::Display for ResultChecked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            None => write!(
                f,
                "job {}: the published result checks: {} of {} rounds, each product passes \
                 Freivalds' test, and they chain to the result hash {}; they are worth {} \
                 units, and the job settled {}",
                self.job,
                self.rounds,
                self.of_rounds,
                self.result_hash,
                self.units,
                self.settled_units
            ),
            Some(failure) => write!(f, "job {}: the published result does not check", self.job)
                .and_then(|_| write!(f, ": {failure}")),
        }
    }
}

pub fn show(session: &Session, job: &Pubkey) -> Result<JobReport> {
    let (_, network) = session.network()?;
    report(session, &network, job, "as recorded")
}

/// `job relay-token`: the job's relay token, as its client signs it.
pub fn relay_token(session: &Session, address: &Pubkey) -> Result<RelayToken> {
    use solana_signer::Signer;
    let job = session.job(address)?;
    ensure!(
        job.unit_kind == UnitKind::Bytes,
        "job {address} counts {}, not bytes: only a bandwidth job has a relay",
        tessera_client::receipt::unit_kind_name(job.unit_kind)
    );
    let signer = session.keypair();
    ensure!(
        signer.pubkey() == job.client,
        "job {address} is client {}'s: its relay token is signed by that key, and --keypair is \
         {}",
        job.client,
        signer.pubkey()
    );
    let message = tessera_client::relay::token_message(address);
    Ok(RelayToken {
        job: address.to_string(),
        token: hex::encode(signer.sign_message(&message).as_ref()),
    })
}

/// `job relay-token`.
#[derive(Serialize)]
pub struct RelayToken {
    pub job: String,
    /// 64 bytes, hex.
    pub token: String,
}

impl fmt::Display for RelayToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.token)
    }
}

/// `job list`: the jobs of --network, or of one client.
pub fn list(session: &Session, client: Option<Pubkey>) -> Result<JobList> {
    let (network_key, network) = session.network()?;
    let filter = match client {
        Some(client) => filters::jobs_of_client(network_key, client),
        None => filters::jobs_of(network_key),
    };
    let jobs: Vec<(Pubkey, Job)> = session.ledger.all_where(&filter)?;
    let now = session.ledger.now()?;
    let views = jobs
        .iter()
        .map(|(address, job)| JobView::read(session, &network, address, job, now))
        .collect::<Result<_>>()?;
    Ok(JobList {
        network_id: network.network_id,
        jobs: views,
    })
}

/// The job at `address` as the ledger has it now, after `verb`.
fn report(
    session: &Session,
    network: &Network,
    address: &Pubkey,
    verb: impl Into<String>,
) -> Result<JobReport> {
    let job = session.job(address)?;
    let now = session.ledger.now()?;
    Ok(JobReport {
        job: JobView::read(session, network, address, &job, now)?,
        verb: verb.into(),
        now,
    })
}

/// `dispute open`: the client disputes the job's attested work.
pub fn open_dispute(
    session: &Session,
    job: &Pubkey,
    evidence_hash: [u8; 32],
) -> Result<DisputeOpened> {
    let (network_key, _) = session.network()?;
    let me = session.signer();
    let state = session.job(job)?;
    ensure!(
        state.client == me,
        "only the job's client {} may dispute it; --keypair is {me}",
        state.client
    );
    ensure!(!state.dispute_open, "job {job} already has an open dispute");
    ensure!(
        state.has_provider(),
        "job {job} was never accepted: nothing to dispute"
    );
    ensure!(
        state.last_attested_at != 0,
        "job {job} has no attested settlement: only work the attestors vouched for (not \
         co-signed by the client) can be disputed"
    );
    let ends = state.dispute_window_ends()?;
    let now = session.ledger.now()?;
    ensure!(
        now < ends,
        "the dispute window of job {job} closed at {ends} (ledger time {now})"
    );
    let provider = state.provider;
    session.send(&[ix::open_dispute(
        &me,
        &network_key,
        job,
        &provider,
        evidence_hash,
    )])?;
    Ok(DisputeOpened {
        job: *job,
        dispute: pda::dispute(job),
        provider,
    })
}

/// `dispute resolve`: the network authority slashes the provider for the client, or
/// dismisses the dispute (`slash` 0).
pub fn resolve_dispute(session: &Session, job: &Pubkey, slash: &str) -> Result<DisputeResolved> {
    let (network_key, network) = session.network()?;
    let me = session.signer();
    ensure!(
        network.authority == me,
        "only network {}'s authority {} resolves disputes; --keypair is {me}",
        network.network_id,
        network.authority
    );
    let state = session.job(job)?;
    ensure!(state.dispute_open, "job {job} has no open dispute");
    let reward = session.reward_mint(&network)?;
    let amount = reward.parse_amount(slash).context("--slash")?;
    let provider: Provider = session.provider_at(&state.provider)?;
    let slashable = provider.stake + provider.unbonding_amount;
    ensure!(
        amount <= slashable,
        "--slash {} is more than provider {} holds ({} staked and unbonding)",
        reward.format(amount),
        state.provider,
        reward.format(slashable)
    );
    let (client_reward_token, create) = associated_account(&me, &state.client, reward.key);
    let resolve = ix::resolve_dispute(
        ResolveDisputeAccounts {
            authority: me,
            network: network_key,
            job: *job,
            client: state.client,
            provider: state.provider,
            client_reward_token,
            reward_mint: reward.key,
        },
        amount,
    );
    session.send(&[create, resolve])?;
    Ok(DisputeResolved {
        job: *job,
        slashed: reward.format(amount),
        dismissed: amount == 0,
    })
}

/// A job, amounts in its payment mint's decimals, with the times its rules give it.
#[derive(Serialize)]
pub struct JobView {
    #[serde(serialize_with = "as_text")]
    pub address: Pubkey,
    pub job_id: u64,
    #[serde(serialize_with = "as_text")]
    pub client: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub provider: Pubkey,
    #[serde(serialize_with = "as_name")]
    pub status: JobStatus,
    #[serde(serialize_with = "as_name")]
    pub class: ProviderClass,
    /// The unit as the program names it (`GpuSeconds`).
    #[serde(serialize_with = "as_name")]
    pub unit: UnitKind,
    /// The unit as receipt files name it (`gpu-seconds`).
    #[serde(serialize_with = "as_unit_name")]
    pub unit_kind: UnitKind,
    #[serde(serialize_with = "as_text")]
    pub payment_mint: Pubkey,
    pub price_per_unit: String,
    pub max_units: u64,
    pub settled_units: u64,
    pub deposited: String,
    pub paid_out: String,
    pub fees_accrued: String,
    pub fees_paid: String,
    pub refunded: String,
    pub vault: String,
    pub accept_by: i64,
    pub deadline: i64,
    pub accepted_at: i64,
    pub start_timeout_secs: i64,
    pub start_timeout_ends: Option<i64>,
    pub ended_at: i64,
    pub no_show: bool,
    pub last_attested_at: i64,
    pub settlement_window_ends: Option<i64>,
    pub dispute_window_ends: Option<i64>,
    pub closes_at: Option<i64>,
    pub dispute_open: bool,
}

impl JobView {
    /// The view of `job` at `address` on `network` as of the ledger time `now`: its payment
    /// mint and vault read from the ledger.
    pub fn read(
        session: &Session,
        network: &Network,
        address: &Pubkey,
        job: &Job,
        now: i64,
    ) -> Result<Self> {
        let mint = session.ledger.mint(&job.payment_mint)?;
        let vault = session.ledger.token_balance(&job.vault)?;
        let times = JobTimes::of(job, network, now)?;
        Ok(Self::of(address, job, &mint, vault, &times))
    }

    fn of(address: &Pubkey, job: &Job, mint: &Mint, vault: u64, times: &JobTimes) -> Self {
        Self {
            address: *address,
            job_id: job.job_id,
            client: job.client,
            provider: job.provider,
            status: job.status,
            class: job.requirement.class,
            unit: job.unit_kind,
            unit_kind: job.unit_kind,
            payment_mint: job.payment_mint,
            price_per_unit: mint.format(job.price_per_unit),
            max_units: job.max_units,
            settled_units: job.settled_units,
            deposited: mint.format(job.deposited),
            paid_out: mint.format(job.paid_out),
            fees_accrued: mint.format(job.fees_accrued),
            fees_paid: mint.format(job.fees_paid),
            refunded: mint.format(job.refunded),
            vault: mint.format(vault),
            accept_by: job.accept_by,
            deadline: job.deadline,
            accepted_at: job.accepted_at,
            start_timeout_secs: job.start_timeout_secs,
            start_timeout_ends: times.start_timeout_ends,
            ended_at: job.ended_at,
            no_show: job.no_show,
            last_attested_at: job.last_attested_at,
            settlement_window_ends: times.settlement_window_ends,
            dispute_window_ends: times.dispute_window_ends,
            closes_at: times.closes_at,
            dispute_open: job.dispute_open,
        }
    }

    /// What may happen to the job next and when, relative to `now`, one sentence a line.
    fn times(&self, now: i64) -> Vec<String> {
        let over = |ends: i64| if ends <= now { " (over)" } else { "" };
        let mut lines = Vec::new();
        match self.status {
            JobStatus::Open => lines.push(format!(
                "a provider may accept until {}; the client may cancel after that",
                self.accept_by
            )),
            JobStatus::Running => {
                if let (0, Some(ends)) = (self.settled_units, self.start_timeout_ends) {
                    lines.push(format!(
                        "nothing settled yet: unless something settles, the client may cancel \
                         it as a no-show {}",
                        when(ends + 1, now)
                    ));
                }
                lines.push(format!(
                    "deadline {}: the client may cancel after it",
                    self.deadline
                ));
            }
            JobStatus::Completed | JobStatus::Cancelled => lines.extend(self.end(now)),
        }
        if let Some(ends) = self.dispute_window_ends {
            lines.push(format!(
                "the client may dispute the last attested settlement until {ends}{}",
                over(ends)
            ));
        }
        if self.dispute_open {
            lines.push("a dispute is open: the network authority resolves it".into());
        }
        if let Some(closes_at) = self.closes_at {
            lines.push(format!("anyone may close it {}", when(closes_at, now)));
        }
        lines
    }

    /// How an ended job ended and until when receipts settle on it.
    fn end(&self, now: i64) -> Vec<String> {
        let no_show = if self.no_show {
            " as a no-show: nothing more settles on it"
        } else {
            ""
        };
        let mut lines = vec![format!("ended at {}{no_show}", self.ended_at)];
        if let (false, Some(ends)) = (self.no_show, self.settlement_window_ends) {
            let over = if ends <= now { " (over)" } else { "" };
            lines.push(format!(
                "receipts issued by its end settle until {ends}{over}"
            ));
        }
        lines
    }
}

/// A job after a command: what the command did, then the job and what may happen to it next.
#[derive(Serialize)]
pub struct JobReport {
    #[serde(flatten)]
    pub job: JobView,
    /// What the command did: "accepted by …" (text only).
    #[serde(skip)]
    pub verb: String,
    /// Ledger time the text's "in 12 s" are relative to.
    #[serde(skip)]
    pub now: i64,
}

impl fmt::Display for JobReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let job = &self.job;
        write!(
            f,
            "job {}: {}\n  status {}\n  client {}\n  provider {}\n  {} of {} {} settled at {} \
             per unit\n  deposited {}, paid {}, fees {}, refunded {}, vault {}{}",
            job.address,
            self.verb,
            status_verb(job.status),
            job.client,
            job.provider,
            job.settled_units,
            job.max_units,
            tessera_client::receipt::unit_kind_name(job.unit_kind),
            job.price_per_unit,
            job.deposited,
            job.paid_out,
            job.fees_accrued,
            job.refunded,
            job.vault,
            Indented(&job.times(self.now))
        )
    }
}

/// `job list`: the jobs of a network, or of one client.
#[derive(Serialize)]
#[serde(transparent)]
pub struct JobList {
    #[serde(skip)]
    pub network_id: u64,
    pub jobs: Vec<JobView>,
}

impl fmt::Display for JobList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.jobs.is_empty() {
            return write!(
                f,
                "no jobs on network {}: `tessera job create`",
                self.network_id
            );
        }
        write!(
            f,
            "{:<45} {:>4} {:<10} {:>12} {:>12}",
            "job", "id", "status", "settled", "max units"
        )?;
        for job in &self.jobs {
            write!(
                f,
                "\n{:<45} {:>4} {:<10} {:>12} {:>12}",
                job.address.to_string(),
                job.job_id,
                status_verb(job.status),
                job.settled_units,
                job.max_units
            )?;
        }
        Ok(())
    }
}

/// `job close`: what went back to the client and to the treasury.
#[derive(Serialize)]
pub struct JobClosed {
    #[serde(serialize_with = "as_text")]
    pub address: Pubkey,
    pub closed: bool,
    pub refunded: String,
    pub fees: String,
    /// Who the refund went to (text only).
    #[serde(skip)]
    pub client: Pubkey,
}

impl fmt::Display for JobClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "job {} closed: {} refunded to {}, {} fees to the treasury",
            self.address, self.refunded, self.client, self.fees
        )
    }
}

/// `dispute open`: the dispute and whom it is against.
#[derive(Serialize)]
pub struct DisputeOpened {
    #[serde(serialize_with = "as_text")]
    pub job: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub dispute: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub provider: Pubkey,
}

impl fmt::Display for DisputeOpened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dispute opened on job {} against provider {}; the network authority resolves it",
            self.job, self.provider
        )
    }
}

/// `dispute resolve`: the verdict.
#[derive(Serialize)]
pub struct DisputeResolved {
    #[serde(serialize_with = "as_text")]
    pub job: Pubkey,
    pub slashed: String,
    /// Whether nothing was slashed (text only).
    #[serde(skip)]
    pub dismissed: bool,
}

impl fmt::Display for DisputeResolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dismissed {
            write!(f, "dispute on job {} dismissed", self.job)
        } else {
            write!(
                f,
                "dispute on job {} upheld: {} slashed to the client",
                self.job, self.slashed
            )
        }
    }
}
