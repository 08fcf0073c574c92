//! `tessera job …` and `tessera dispute …`: escrowed jobs from creation to close, and the
//! client's recourse.

use super::{
    default_unit, ensure_measures, ensure_open, name, parse_hash, when, Activity, ClassArg,
    Outcome, Session, UnitArg,
};
use crate::tokens::{associated_account, Mint};
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, ensure, Context, Result};
use clap::Subcommand;
use serde_json::json;
use tessera::instructions::CreateJobArgs;
use tessera::state::{Job, JobRequirement, JobStatus, Network, Provider, ProviderStatus};
use tessera_client::instructions::{self as ix, CloseJobAccounts, ResolveDisputeAccounts};
use tessera_client::pda;
use tessera_client::receipt::unit_kind_name;

#[derive(Subcommand)]
pub enum JobCommand {
    /// Funds a job's escrow from --keypair's token account: price x max units of --mint.
    Create {
        /// Payment mint (SPL Token or Token-2022).
        #[arg(long)]
        mint: Pubkey,
        /// Price of one unit, in the mint's tokens (e.g. 0.25).
        #[arg(long)]
        price: String,
        /// Units the deposit pays for.
        #[arg(long)]
        max_units: u64,
        /// Only this provider account may accept (otherwise any provider of --class).
        #[arg(long)]
        provider: Option<Pubkey>,
        /// Class of provider that may accept (default: the named provider's).
        #[arg(long, value_enum)]
        class: Option<ClassArg>,
        /// What a unit is; the class must count it (Training and Inference: gpu-seconds, Edge:
        /// cpu-seconds or gpu-seconds, Bandwidth: bytes). Default: the first of these.
        #[arg(long, value_enum)]
        unit: Option<UnitArg>,
        /// Least number of GPUs of an accepting provider.
        #[arg(long, default_value_t = 0)]
        min_gpus: u16,
        /// Least memory per GPU of an accepting provider, GiB.
        #[arg(long, default_value_t = 0)]
        min_vram_gib: u16,
        /// Least uplink of an accepting provider, Mbit/s.
        #[arg(long, default_value_t = 0)]
        min_bandwidth_mbps: u32,
        /// SHA-256 of the job specification, 64 hex digits.
        #[arg(long, value_parser = parse_hash)]
        spec_hash: Option<[u8; 32]>,
        /// Seconds a provider has to accept.
        #[arg(long, default_value_t = 3_600)]
        accept_within: i64,
        /// Seconds until the deadline.
        #[arg(long, default_value_t = 86_400)]
        deadline_in: i64,
        /// The client's id for the job (default: one more than its highest on this network).
        #[arg(long)]
        job_id: Option<u64>,
        /// Source token account (default: --keypair's associated account).
        #[arg(long)]
        from: Option<Pubkey>,
    },
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
    /// Lists the jobs of --network (or of one client).
    List {
        /// Only this client's jobs.
        #[arg(long)]
        client: Option<Pubkey>,
    },
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
                .then(|| job.start_timeout_ends())
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

/// A job in JSON, amounts in the payment mint's decimals.
pub fn job_json(
    address: &Pubkey,
    j: &Job,
    mint: &Mint,
    vault: u64,
    times: &JobTimes,
) -> serde_json::Value {
    json!({
        "address": address.to_string(),
        "job_id": j.job_id,
        "client": j.client.to_string(),
        "provider": j.provider.to_string(),
        "status": name(j.status),
        "class": name(j.requirement.class),
        "unit": name(j.unit_kind),
        "unit_kind": unit_kind_name(j.unit_kind),
        "payment_mint": j.payment_mint.to_string(),
        "price_per_unit": mint.format(j.price_per_unit),
        "max_units": j.max_units,
        "settled_units": j.settled_units,
        "deposited": mint.format(j.deposited),
        "paid_out": mint.format(j.paid_out),
        "fees_accrued": mint.format(j.fees_accrued),
        "fees_paid": mint.format(j.fees_paid),
        "refunded": mint.format(j.refunded),
        "vault": mint.format(vault),
        "accept_by": j.accept_by,
        "deadline": j.deadline,
        "accepted_at": j.accepted_at,
        "start_timeout_secs": j.start_timeout_secs,
        "start_timeout_ends": times.start_timeout_ends,
        "ended_at": j.ended_at,
        "no_show": j.no_show,
        "last_attested_at": j.last_attested_at,
        "settlement_window_ends": times.settlement_window_ends,
        "dispute_window_ends": times.dispute_window_ends,
        "closes_at": times.closes_at,
        "dispute_open": j.dispute_open,
    })
}

/// The times of a job in words, for `job show`.
fn times_text(job: &Job, times: &JobTimes, now: i64) -> String {
    let mut lines = Vec::new();
    match job.status {
        JobStatus::Open => lines.push(format!(
            "a provider may accept until {}; the client may cancel after that",
            job.accept_by
        )),
        JobStatus::Running => {
            if let (0, Some(ends)) = (job.settled_units, times.start_timeout_ends) {
                lines.push(format!(
                    "nothing settled yet: unless something settles, the client may cancel it as \
                     a no-show {}",
                    when(ends + 1, now)
                ));
            }
            lines.push(format!(
                "deadline {}: the client may cancel after it",
                job.deadline
            ));
        }
        JobStatus::Completed | JobStatus::Cancelled => {
            lines.push(format!(
                "ended at {}{}",
                job.ended_at,
                if job.no_show {
                    " as a no-show: nothing more settles on it"
                } else {
                    ""
                }
            ));
            if let (false, Some(ends)) = (job.no_show, times.settlement_window_ends) {
                lines.push(format!(
                    "receipts issued by its end settle until {ends}{}",
                    if ends <= now { " (over)" } else { "" }
                ));
            }
        }
    }
    if let Some(ends) = times.dispute_window_ends {
        lines.push(format!(
            "the client may dispute the last attested settlement until {ends}{}",
            if ends <= now { " (over)" } else { "" }
        ));
    }
    if job.dispute_open {
        lines.push("a dispute is open: the network authority resolves it".into());
    }
    if let Some(closes_at) = times.closes_at {
        lines.push(format!("anyone may close it {}", when(closes_at, now)));
    }
    lines
        .iter()
        .map(|line| format!("\n  {line}"))
        .collect::<String>()
}

fn status_verb(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Open => "open",
        JobStatus::Running => "running",
        JobStatus::Completed => "completed",
        JobStatus::Cancelled => "cancelled",
    }
}

impl JobCommand {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        let (network_key, network) = session.network()?;
        let ledger = session.ledger;
        let me = session.signer();
        let show = |address: &Pubkey, verb: &str| -> Result<Outcome> {
            let job = session.job(address)?;
            let mint = ledger.mint(&job.payment_mint)?;
            let vault = ledger.token_balance(&job.vault)?;
            let now = ledger.now()?;
            let times = JobTimes::of(&job, &network, now)?;
            let text = format!(
                "job {address}: {verb}\n  status {}\n  client {}\n  provider {}\n  {} \
                    of {} {} settled at {} per unit\n  deposited {}, paid {}, fees {}, \
                    refunded {}, vault {}{}",
                status_verb(job.status),
                job.client,
                job.provider,
                job.settled_units,
                job.max_units,
                unit_kind_name(job.unit_kind),
                mint.format(job.price_per_unit),
                mint.format(job.deposited),
                mint.format(job.paid_out),
                mint.format(job.fees_accrued),
                mint.format(job.refunded),
                mint.format(vault),
                times_text(&job, &times, now)
            );
            Ok(Outcome::new(
                text,
                job_json(address, &job, &mint, vault, &times),
            ))
        };
        match self {
            JobCommand::Create {
                mint,
                price,
                max_units,
                provider,
                class,
                unit,
                min_gpus,
                min_vram_gib,
                min_bandwidth_mbps,
                spec_hash,
                accept_within,
                deadline_in,
                job_id,
                from,
            } => {
                ensure_open(&network, Activity::NewJobs)?;
                let mint = ledger.mint(mint)?;
                let price = mint.parse_amount(price).context("--price")?;
                ensure!(
                    price > 0 && *max_units > 0,
                    "--price and --max-units must both be above 0"
                );
                let deposit = price
                    .checked_mul(*max_units)
                    .context("--price x --max-units overflows a token amount")?;
                let named = provider
                    .map(|address| session.provider_at(&address))
                    .transpose()?;
                let class = match (&named, class) {
                    (Some(named), None) => named.class,
                    (_, Some(class)) => (*class).into(),
                    (None, None) => {
                        bail!("say who may accept: --provider ADDRESS or --class CLASS")
                    }
                };
                if let (Some(named), Some(address)) = (&named, provider) {
                    ensure!(
                        named.class == class,
                        "provider {address} is of class {:?}, not --class {class:?}: it could \
                         never accept the job; drop --class or name another provider",
                        named.class
                    );
                }
                let unit_kind = unit.map_or(default_unit(class), Into::into);
                ensure_measures(class, unit_kind, "--unit")?;
                ensure!(
                    *accept_within > 0 && deadline_in > accept_within,
                    "--deadline-in must be later than --accept-within, both above 0"
                );
                let source = from.unwrap_or(mint.associated(&me));
                session.ensure_balance(
                    &source,
                    &mint,
                    deposit,
                    "the deposit (price x max units)",
                )?;
                let job_id = match job_id {
                    Some(id) => *id,
                    None => {
                        let mine: Vec<(Pubkey, Job)> =
                            ledger.all_where(&[(8, network_key), (40, me)])?;
                        mine.iter().map(|(_, j)| j.job_id).max().unwrap_or(0) + 1
                    }
                };
                let address = pda::job(&network_key, &me, job_id);
                ensure!(
                    !ledger.exists(&address)?,
                    "job {job_id} of {me} already exists at {address}: pick another --job-id"
                );
                let now = ledger.now()?;
                let args = CreateJobArgs {
                    job_id,
                    provider: *provider,
                    requirement: JobRequirement {
                        class,
                        min_gpu_count: *min_gpus,
                        min_vram_gib: *min_vram_gib,
                        min_bandwidth_mbps: *min_bandwidth_mbps,
                    },
                    unit_kind,
                    price_per_unit: price,
                    max_units: *max_units,
                    spec_hash: spec_hash.unwrap_or_default(),
                    accept_by: now + accept_within,
                    deadline: now + deadline_in,
                };
                ledger.send(
                    &[ix::create_job(&me, &network_key, mint.key, &source, args)],
                    &[],
                )?;
                show(
                    &address,
                    &format!("created, {} in escrow", mint.format(deposit)),
                )
            }
            JobCommand::Accept { job } => {
                ensure_open(&network, Activity::NewJobs)?;
                let state = session.job(job)?;
                ensure!(
                    state.status == JobStatus::Open,
                    "job {job} is {}, not open",
                    status_verb(state.status)
                );
                let (provider, p) = session.provider_of(&network_key, &me)?;
                ensure!(
                    p.status != ProviderStatus::Jailed,
                    "provider {provider} is jailed after {} lost disputes and {} no-shows: it \
                     can take no more work",
                    p.lost_disputes,
                    p.no_shows
                );
                ensure!(
                    !state.has_provider() || state.provider == provider,
                    "job {job} is reserved for provider {}, not --keypair's {provider}",
                    state.provider
                );
                ensure!(
                    state.requirement.class == p.class,
                    "job {job} is for class {:?} providers; {provider} is {:?}",
                    state.requirement.class,
                    p.class
                );
                ensure_measures(p.class, state.unit_kind, &format!("job {job}'s unit"))?;
                let class = network.params.class(p.class);
                let reward = session.reward_mint(&network)?;
                ensure!(
                    p.meets_min_stake(class),
                    "provider {provider} has {} staked; class {:?} needs {} to accept jobs \
                     (`tessera stake add`)",
                    reward.format(p.stake),
                    p.class,
                    reward.format(class.min_stake)
                );
                let running_after = p.active_jobs.saturating_add(1);
                let needed = class.stake_for_jobs(running_after)?;
                ensure!(
                    p.stake >= needed,
                    "provider {provider}'s stake covers no more running jobs: it has {} staked \
                     and {} running, and {running_after} need {} ({} each, at least the class \
                     minimum); stake more (`tessera stake add`) or finish a job first",
                    reward.format(p.stake),
                    p.active_jobs,
                    reward.format(needed),
                    reward.format(class.stake_per_job)
                );
                // The account the provider's payments will go to, so receipts can settle.
                let mint = ledger.mint(&state.payment_mint)?;
                let (_, create) = associated_account(&me, &me, mint.key);
                ledger.send(&[create, ix::accept_job(&me, &network_key, job)], &[])?;
                show(job, &format!("accepted by {provider}"))
            }
            JobCommand::TopUp { job, units, from } => {
                let state = session.job(job)?;
                ensure!(
                    state.client == me,
                    "only the job's client {} may top it up; --keypair is {me}",
                    state.client
                );
                let mint = ledger.mint(&state.payment_mint)?;
                let cost = state
                    .price_per_unit
                    .checked_mul(*units)
                    .context("--units x price overflows")?;
                let source = from.unwrap_or(mint.associated(&me));
                session.ensure_balance(&source, &mint, cost, "the top-up")?;
                ledger.send(&[ix::top_up(&me, job, mint.key, &source, *units)], &[])?;
                show(
                    job,
                    &format!("topped up by {units} units ({})", mint.format(cost)),
                )
            }
            JobCommand::Complete { job, result_hash } => {
                let state = session.job(job)?;
                let (provider, _) = session.provider_of(&network_key, &me)?;
                ensure!(
                    state.provider == provider,
                    "job {job} is not run by --keypair's provider {provider}"
                );
                ensure!(
                    state.status == JobStatus::Running,
                    "job {job} is {}, not running: only a running job completes",
                    status_verb(state.status)
                );
                ledger.send(
                    &[ix::complete_job(
                        &me,
                        &network_key,
                        job,
                        result_hash.unwrap_or_default(),
                    )],
                    &[],
                )?;
                show(job, "completed")
            }
            JobCommand::Cancel { job } => {
                let state = session.job(job)?;
                ensure!(
                    state.client == me,
                    "only the job's client {} may cancel it; --keypair is {me}",
                    state.client
                );
                let now = ledger.now()?;
                let no_show = state.is_no_show_at(now)?;
                match state.status {
                    JobStatus::Open => ensure!(
                        now > state.accept_by,
                        "job {job} is open to providers until {}: its client may cancel it {}",
                        state.accept_by,
                        when(state.accept_by + 1, now)
                    ),
                    JobStatus::Running => {
                        let times = JobTimes::of(&state, &network, now)?;
                        let no_show_hint = match (state.settled_units, times.start_timeout_ends) {
                            (0, Some(ends)) => format!(
                                ", or as a no-show {} if nothing settles before",
                                when(ends + 1, now)
                            ),
                            _ => String::new(),
                        };
                        ensure!(
                            now > state.deadline || no_show,
                            "job {job} is running until its deadline {}: its client may cancel \
                             it {}{no_show_hint}",
                            state.deadline,
                            when(state.deadline + 1, now)
                        );
                    }
                    JobStatus::Completed | JobStatus::Cancelled => bail!(
                        "job {job} already ended ({}): nothing to cancel; `tessera job close` \
                         returns its escrow",
                        status_verb(state.status)
                    ),
                }
                // Only a running job's provider has a job slot to release; a named job's
                // provider may have deregistered while the job waited.
                let provider = (state.status == JobStatus::Running).then_some(state.provider);
                ledger.send(&[ix::cancel_job(&me, &network_key, job, provider)], &[])?;
                let cancelled = session.job(job)?;
                show(
                    job,
                    if cancelled.no_show {
                        "cancelled as a no-show: a strike against its provider; it may close now"
                    } else {
                        "cancelled"
                    },
                )
            }
            JobCommand::Close { job } => {
                let state = session.job(job)?;
                ensure!(
                    state.has_ended(),
                    "job {job} is {}: it closes once completed or cancelled",
                    status_verb(state.status)
                );
                ensure!(
                    !state.dispute_open,
                    "job {job} has an open dispute: it closes once the network authority \
                     resolves it"
                );
                let now = ledger.now()?;
                let closes_at = JobTimes::of(&state, &network, now)?
                    .closes_at
                    .context("an ended job has a closing time")?;
                ensure!(
                    now >= closes_at,
                    "job {job} closes {}: until then receipts issued before its end may still \
                     settle and its client may still dispute",
                    when(closes_at, now)
                );
                let mint = ledger.mint(&state.payment_mint)?;
                let (client_token, create_client) =
                    associated_account(&me, &state.client, mint.key);
                let (treasury_token, create_treasury) =
                    associated_account(&me, &network.treasury, mint.key);
                let mut instructions = vec![create_client];
                let fees_due = state.fees_accrued > state.fees_paid;
                if fees_due {
                    instructions.push(create_treasury);
                }
                instructions.push(ix::close_job(CloseJobAccounts {
                    cranker: me,
                    network: network_key,
                    job: *job,
                    client: state.client,
                    client_token,
                    treasury_token: fees_due.then_some(treasury_token),
                    payment_mint: mint.key,
                }));
                let refund =
                    ledger.token_balance(&state.vault)? - (state.fees_accrued - state.fees_paid);
                ledger.send(&instructions, &[])?;
                Ok(Outcome::new(
                    format!(
                        "job {job} closed: {} refunded to {}, {} fees to the treasury",
                        mint.format(refund),
                        state.client,
                        mint.format(state.fees_accrued - state.fees_paid)
                    ),
                    json!({
                        "address": job.to_string(),
                        "closed": true,
                        "refunded": mint.format(refund),
                        "fees": mint.format(state.fees_accrued - state.fees_paid),
                    }),
                ))
            }
            JobCommand::Show { job } => show(job, "as recorded"),
            JobCommand::List { client } => {
                let mut filters = vec![(8, network_key)];
                if let Some(client) = client {
                    filters.push((40, *client));
                }
                let jobs: Vec<(Pubkey, Job)> = ledger.all_where(&filters)?;
                let now = ledger.now()?;
                let mut text = format!(
                    "{:<45} {:>4} {:<10} {:>12} {:>12}",
                    "job", "id", "status", "settled", "max units"
                );
                let mut rows = Vec::new();
                for (address, j) in &jobs {
                    let mint = ledger.mint(&j.payment_mint)?;
                    text += &format!(
                        "\n{:<45} {:>4} {:<10} {:>12} {:>12}",
                        address.to_string(),
                        j.job_id,
                        status_verb(j.status),
                        j.settled_units,
                        j.max_units
                    );
                    let times = JobTimes::of(j, &network, now)?;
                    let vault = ledger.token_balance(&j.vault)?;
                    rows.push(job_json(address, j, &mint, vault, &times));
                }
                if jobs.is_empty() {
                    text = format!(
                        "no jobs on network {}: `tessera job create`",
                        network.network_id
                    );
                }
                Ok(Outcome::new(text, json!(rows)))
            }
        }
    }
}

impl DisputeCommand {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        let (network_key, network) = session.network()?;
        let ledger = session.ledger;
        let me = session.signer();
        match self {
            DisputeCommand::Open { job, evidence_hash } => {
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
                    "job {job} has no attested settlement: only work the attestors vouched for \
                     (not co-signed by the client) can be disputed"
                );
                let ends = state.dispute_window_ends()?;
                let now = ledger.now()?;
                ensure!(
                    now < ends,
                    "the dispute window of job {job} closed at {ends} (ledger time {now})"
                );
                ledger.send(
                    &[ix::open_dispute(
                        &me,
                        &network_key,
                        job,
                        &state.provider,
                        *evidence_hash,
                    )],
                    &[],
                )?;
                Ok(Outcome::new(
                    format!(
                        "dispute opened on job {job} against provider {}; the network authority \
                    resolves it",
                        state.provider
                    ),
                    json!({
                        "job": job.to_string(),
                        "dispute": pda::dispute(job).to_string(),
                        "provider": state.provider.to_string(),
                    }),
                ))
            }
            DisputeCommand::Resolve { job, slash } => {
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
                let (client_reward_token, create) =
                    associated_account(&me, &state.client, reward.key);
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
                ledger.send(&[create, resolve], &[])?;
                let verdict = if amount == 0 {
                    "dismissed".to_string()
                } else {
                    format!("upheld: {} slashed to the client", reward.format(amount))
                };
                Ok(Outcome::new(
                    format!("dispute on job {job} {verdict}"),
                    json!({"job": job.to_string(), "slashed": reward.format(amount)}),
                ))
            }
        }
    }
}
