//! Receipts: the one a worker issues for its metered work, receipt files, and the settlement
//! of a co-signed receipt, with the checks the program would make of it first.

use super::{default_unit, ensure_measures};
use crate::session::{ensure_open, Activity, Foreseen, Session};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anyhow::{bail, ensure, Context, Result};
use std::path::Path;
use tessera::receipt::Receipt;
use tessera::state::{Job, JobStatus, Network, Provider, UnitKind};
use tessera_client::flows;
use tessera_client::receipt::{unit_kind_name, ReceiptFile, SignedReceipt};
use tessera_client::settles;

/// The work a receipt states: on a job or as a service, in total so far.
#[derive(Clone, Debug, Default)]
pub struct Work {
    /// The job the units were delivered on.
    pub job: Option<Pubkey>,
    /// A service receipt (bandwidth served, no job) for this provider account.
    pub service: Option<Pubkey>,
    /// Units delivered on the job (or served) since it began, in total.
    pub units: u64,
    /// What a unit is: a job receipt takes the job's (this, when given, must be it); a
    /// service receipt a kind the provider's class counts (default: its class's usual unit).
    pub unit: Option<UnitKind>,
    /// SHA-256 of the outputs or evidence so far (default: zeros).
    pub result_hash: Option<[u8; 32]>,
    /// Seconds the receipt stays valid (default and maximum: the network's receipt max age).
    pub expires_in: Option<i64>,
}

/// A receipt settled: on what, how many units in all, in which epoch and transaction.
#[derive(Clone, Debug)]
pub struct Settled {
    pub subject: Pubkey,
    pub cumulative_units: u64,
    pub epoch: u64,
    pub signature: String,
}

/// Reads a receipt file.
pub fn read(path: &Path) -> Result<SignedReceipt> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the receipt file {}", path.display()))?;
    let file: ReceiptFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a receipt file (JSON)", path.display()))?;
    file.to_signed()
        .with_context(|| format!("receipt file {}", path.display()))
}

/// Writes `signed` to `path` through a temporary file and a rename, so a crash never leaves
/// half a receipt; `replace` allows overwriting.
pub fn write(path: &Path, signed: &SignedReceipt, replace: bool) -> Result<()> {
    if !replace && path.exists() {
        bail!(
            "{} already exists: choose another --out or remove it",
            path.display()
        );
    }
    let text = serde_json::to_string_pretty(&ReceiptFile::from_signed(signed))?;
    let temporary = path.with_extension("json.partial");
    std::fs::write(&temporary, text + "\n")
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Refuses a receipt that is not for this program or whose expiry (lengthened by a settlement
/// pause it lived through) has passed.
pub fn ensure_current(r: &Receipt, network: &Network, now: i64) -> Result<()> {
    ensure!(
        r.program_id == tessera_client::program_id(),
        "the receipt is for program {}, not {}",
        r.program_id,
        tessera_client::program_id()
    );
    let paused = network
        .settlement_pauses
        .latest_extension(r.issued_at, r.expires_at);
    let expires_at = r.expires_at.saturating_add(paused);
    if now > expires_at {
        return Err(Foreseen {
            error: "ReceiptExpired",
            message: format!(
                "the receipt expired at {expires_at} (ledger time {now}): ask the worker to \
                 sign a fresh one"
            ),
        }
        .into());
    }
    Ok(())
}

/// Refuses a job receipt the program would not settle on `job` now, saying why.
pub fn ensure_settles_on_job(
    r: &Receipt,
    job: &Job,
    provider: &Provider,
    network: &Network,
    now: i64,
) -> Result<()> {
    settles::on_job(r, job, provider)?;
    ensure_window_open(r, job, network, now)
}

/// Refuses a receipt on a job that ended (and would settle by its status,
/// [`settles::on_job`]) once the job's settlement window has closed.
fn ensure_window_open(r: &Receipt, job: &Job, network: &Network, now: i64) -> Result<()> {
    if !matches!(job.status, JobStatus::Completed | JobStatus::Cancelled) {
        return Ok(());
    }
    let paused_secs = network.settlement_pauses.paused_secs_at(now)?;
    let window_ends = job.settlement_window_ends(paused_secs)?;
    ensure!(
        now < window_ends,
        "job {} ended at {} and receipts could settle on it until {window_ends} (ledger time \
         {now}): this one no longer can",
        r.subject,
        job.ended_at
    );
    Ok(())
}

/// Refuses a service receipt the program would not record for `provider`, saying why.
pub fn ensure_settles_as_service(r: &Receipt, provider: &Provider) -> Result<()> {
    ensure_measures(provider.class, r.unit_kind, "the receipt's unit")?;
    Ok(settles::as_service(r, provider)?)
}

/// The receipt the session's signer, a provider's worker, issues for `work`, signed by it:
/// bound to the job (or the provider, for a service) as the ledger has it now.
pub fn issue(session: &Session, work: &Work) -> Result<SignedReceipt> {
    let (network_key, network) = session.network()?;
    let subject = Subject::of(session, network_key, &network, work)?;
    let provider = session.provider_at(&subject.provider)?;
    let worker = session.signer();
    ensure!(
        provider.worker_key == worker,
        "--keypair {worker} is not provider {}'s worker key {}: sign with the worker's keypair",
        subject.provider,
        provider.worker_key
    );
    let max_age = network.params.receipt_max_age_secs;
    let lifetime = work.expires_in.unwrap_or(max_age);
    ensure!(
        (1..=max_age).contains(&lifetime),
        "--expires-in {lifetime} must be 1..={max_age} seconds (the network's receipt max age)"
    );
    let metered = flows::Metered {
        cumulative_units: work.units,
        result_hash: work.result_hash.unwrap_or_default(),
        issued_at: session.ledger.now()?,
        valid_for_secs: lifetime,
    };
    let network = flows::NetworkRef {
        address: network_key,
        state: &network,
    };
    let receipt = match subject.job {
        Some((job, state)) => flows::job_receipt(network, job, &state, worker, metered),
        None => flows::service_receipt(
            network,
            subject.provider,
            &provider,
            subject.unit_kind,
            metered,
        ),
    };
    let mut signed = SignedReceipt::new(receipt);
    signed.sign(session.keypair())?;
    Ok(signed)
}

/// What a receipt is about: a job (with its account), or a provider's service; and its unit.
struct Subject {
    job: Option<(Pubkey, Job)>,
    provider: Pubkey,
    unit_kind: UnitKind,
}

impl Subject {
    /// The subject `work` names, checked against the ledger.
    fn of(session: &Session, network_key: Pubkey, network: &Network, work: &Work) -> Result<Self> {
        match (work.job, work.service) {
            (Some(job), _) => Self::job(session, network_key, network, job, work),
            (None, Some(provider)) => {
                let state = session.provider_at(&provider)?;
                let unit_kind = work.unit.unwrap_or(default_unit(state.class));
                ensure_measures(state.class, unit_kind, "--unit")?;
                Ok(Self {
                    job: None,
                    provider,
                    unit_kind,
                })
            }
            (None, None) => bail!("say what the receipt is for: --job JOB or --service PROVIDER"),
        }
    }

    /// The running job `job` of `network`, which `work` must fit.
    fn job(
        session: &Session,
        network_key: Pubkey,
        network: &Network,
        job: Pubkey,
        work: &Work,
    ) -> Result<Self> {
        let state = session.job(&job)?;
        ensure!(
            state.network == network_key,
            "job {job} belongs to another network than --network {}",
            network.network_id
        );
        ensure!(
            state.status == JobStatus::Running,
            "job {job} is not running (no provider accepted it, or it ended)"
        );
        ensure!(
            work.units <= state.max_units,
            "--units {} is more than the job's {} max units",
            work.units,
            state.max_units
        );
        if let Some(kind) = work.unit {
            ensure!(
                kind == state.unit_kind,
                "--unit {} is not job {job}'s unit {}: drop --unit",
                unit_kind_name(kind),
                unit_kind_name(state.unit_kind)
            );
        }
        Ok(Self {
            provider: state.provider,
            unit_kind: state.unit_kind,
            job: Some((job, state)),
        })
    }
}

/// A settlement built for the epoch it was built in, not sent yet: what [`settle`] sends.
pub struct Settlement {
    instructions: Vec<Instruction>,
    subject: Pubkey,
    cumulative_units: u64,
    epoch: u64,
}

impl Settlement {
    /// Sends it, paid for by the session's signer.
    pub fn send(self, session: &Session) -> Result<Settled> {
        let signature = session.send(&self.instructions)?;
        Ok(Settled {
            subject: self.subject,
            cumulative_units: self.cumulative_units,
            epoch: self.epoch,
            signature,
        })
    }
}

/// Builds the settlement of `signed` in the current epoch once its signatures verify and the
/// program would take it now; refusals the program would make are [`Foreseen`].
pub fn settlement(session: &Session, signed: &SignedReceipt) -> Result<Settlement> {
    signed.verify()?;
    let r = &signed.receipt;
    let (network_key, network) = session.network()?;
    ensure!(
        r.network == network_key,
        "the receipt is for network {}, not --network {} ({network_key})",
        r.network,
        network.network_id
    );
    ensure_open(&network, Activity::Settlements)?;
    let now = session.ledger.now()?;
    ensure_current(r, &network, now)?;
    let index = network.epoch_at(now)?;
    // Once the provider's work record for the epoch exists, attested work is added to it
    // alone: the settlement leaves the epoch out and shares no write lock with other
    // providers' settlements (docs/design.md, "Settling in parallel"). Lamports anyone sent
    // to the record's address do not make it a record.
    let record = session
        .ledger
        .account(&tessera_client::pda::work_record(&r.provider, index))?;
    let epoch = flows::WorkEpoch {
        index,
        record_open: record.is_some_and(|account| account.owner == tessera::ID),
    };
    let provider = session.provider_at(&r.provider)?;
    let instructions = if r.subject == r.provider {
        ensure_settles_as_service(r, &provider)?;
        flows::settle_service(session.signer(), signed, epoch).to_vec()
    } else {
        let job = session.job(&r.subject)?;
        ensure_settles_on_job(r, &job, &provider, &network, now)?;
        ensure_stake_backs(session, &network, signed, &job, &provider)?;
        job_settlement(session, signed, &job, &provider, epoch)?.to_vec()
    };
    Ok(Settlement {
        instructions,
        subject: r.subject,
        cumulative_units: r.cumulative_units,
        epoch: index,
    })
}

/// Refuses an attested receipt on an ended job while the provider holds less than its class
/// minimum: its work could no longer be slashed if disputed.
fn ensure_stake_backs(
    session: &Session,
    network: &Network,
    signed: &SignedReceipt,
    job: &Job,
    provider: &Provider,
) -> Result<()> {
    let by_client = signed.signatures[1..]
        .iter()
        .any(|(key, _)| *key == job.client);
    if by_client || !job.has_ended() {
        return Ok(());
    }
    let min_stake = network.params.class(provider.class).min_stake;
    let reward = session.reward_mint(network)?;
    let held = provider.vault_liability()?;
    ensure!(
        held >= min_stake,
        "provider {} holds {} staked and unbonding, below its class minimum {}: an attested \
         receipt on an ended job settles only while there is stake to slash; it stakes more, or \
         the client co-signs",
        signed.receipt.provider,
        reward.format(held),
        reward.format(min_stake)
    );
    Ok(())
}

/// The instructions that settle `signed` on `job` in `epoch`, paying the provider's owner.
fn job_settlement(
    session: &Session,
    signed: &SignedReceipt,
    job: &Job,
    provider: &Provider,
    epoch: flows::WorkEpoch,
) -> Result<[Instruction; 2]> {
    let owner = provider.owner;
    let mint = session.ledger.mint(&job.payment_mint)?;
    // The payment goes to the owner's associated account, created when the job was accepted;
    // creating it here would not fit beside 3 signatures.
    let provider_token = mint.associated(&owner);
    ensure!(
        session.ledger.exists(&provider_token)?,
        "provider owner {owner} has no token account for mint {} to be paid into: create \
         {provider_token} (`spl-token create-account`, or it is created by `tessera job accept`)",
        mint.key.mint
    );
    let payee = flows::Payee {
        payment_mint: mint.key,
        provider_token,
        client: job.client,
    };
    Ok(flows::settle_job(session.signer(), signed, payee, epoch))
}
