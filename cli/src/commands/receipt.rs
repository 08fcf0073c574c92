//! `tessera receipt …`: a worker signs a receipt to a file, attestors (or the client) review and
//! co-sign it, anyone verifies it, anyone submits it for settlement.

use super::{
    default_unit, ensure_measures, ensure_open, parse_hash, Activity, Outcome, Session, UnitArg,
};
use crate::tokens::Mint;
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, ensure, Context, Result};
use clap::Subcommand;
use serde_json::json;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use tessera::state::{Job, JobStatus, Network, Provider, UnitKind};
use tessera_client::flows;
use tessera_client::receipt::{unit_kind_name, Receipt, ReceiptFile, SignedReceipt};

/// What `receipt cosign` says when it did not get a yes.
pub const NOT_SIGNED: &str = "not signed: pass --yes to co-sign without a prompt";

#[derive(Subcommand)]
pub enum ReceiptCommand {
    /// Signs a receipt as the provider's worker (--keypair) and writes it to --out.
    Sign {
        /// The job the units were delivered on.
        #[arg(long, required_unless_present = "service")]
        job: Option<Pubkey>,
        /// A service receipt (bandwidth served, no job) for this provider account.
        #[arg(long, conflicts_with = "job")]
        service: Option<Pubkey>,
        /// Units delivered on the job (or served) since it began, in total.
        #[arg(long)]
        units: u64,
        /// What a unit is. A job receipt takes the job's; a service receipt a kind the
        /// provider's class counts (default: bytes for Bandwidth, gpu-seconds for Training and
        /// Inference, cpu-seconds for Edge).
        #[arg(long, value_enum)]
        unit: Option<UnitArg>,
        /// SHA-256 of the outputs or evidence so far, 64 hex digits.
        #[arg(long, value_parser = parse_hash)]
        result_hash: Option<[u8; 32]>,
        /// Seconds the receipt stays valid (default and maximum: the network's receipt max age).
        #[arg(long)]
        expires_in: Option<i64>,
        /// File to write; refused if it exists.
        #[arg(long)]
        out: PathBuf,
    },
    /// Shows a receipt file, checks it against the ledger (its job, the units, the price, who
    /// may co-sign), then adds --keypair's signature (an attestor's, or the job's client's)
    /// once confirmed. The file is left as it was unless it is signed.
    Cosign {
        /// The receipt file.
        file: PathBuf,
        /// Sign without asking (for scripts); otherwise type `yes` at the prompt.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Co-sign without a ledger: show the receipt and ask, but check nothing on chain.
        #[arg(long)]
        offline: bool,
    },
    /// Checks every signature of a receipt file, offline, and prints what it says.
    Verify {
        /// The receipt file.
        file: PathBuf,
    },
    /// Sends a receipt file for settlement (anyone may; --keypair pays the fee).
    Submit {
        /// The receipt file.
        file: PathBuf,
    },
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

fn describe(signed: &SignedReceipt) -> (String, serde_json::Value) {
    let r = &signed.receipt;
    let keys: Vec<String> = signed
        .signatures
        .iter()
        .map(|(key, _)| key.to_string())
        .collect();
    (
        format!(
            "receipt for {} on network {}: {} {} in total by provider {}\n  \
                issued {}, expires {}, attestor set version {}\n  signed by {}",
            r.subject,
            r.network,
            r.cumulative_units,
            unit_kind_name(r.unit_kind),
            r.provider,
            r.issued_at,
            r.expires_at,
            r.attestor_set_version,
            keys.join(", ")
        ),
        serde_json::to_value(ReceiptFile::from_signed(signed)).unwrap_or_default(),
    )
}

/// What a co-signer is asked to vouch for beyond the receipt itself, in words (lines that
/// follow [`describe`]) and JSON (merged into the receipt's JSON).
struct Review {
    details: String,
    json: serde_json::Value,
}

/// The review of a receipt read from its file alone (`cosign --offline`).
fn offline_review() -> Review {
    Review {
        details: "\n  offline: the job, its price and the units already settled are not checked"
            .into(),
        json: json!({"checked_against_ledger": false}),
    }
}

/// Refuses a receipt whose existing signatures do not verify, or that `signer` already signed.
fn ensure_cosignable(signed: &SignedReceipt, signer: &Pubkey) -> Result<()> {
    signed.verify().context(
        "the receipt's existing signatures do not verify: it was altered, do not co-sign it",
    )?;
    ensure!(
        !signed.signatures.iter().any(|(key, _)| key == signer),
        "{signer} has already signed this receipt"
    );
    Ok(())
}

/// Shows the receipt and its review, then asks for a typed `yes` on the terminal unless `yes`;
/// refuses without a terminal.
fn confirm(signed: &SignedReceipt, review: &Review, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    eprintln!("{}{}", describe(signed).0, review.details);
    if !stdin.is_terminal() {
        bail!(NOT_SIGNED);
    }
    eprint!("Type yes to co-sign: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    let read = stdin.lock().read_line(&mut answer)?;
    ensure!(read > 0 && answer.trim() == "yes", NOT_SIGNED);
    Ok(())
}

/// Signs `signed` with `signer`, writes it back to `file` and says so.
fn cosign(
    file: &Path,
    mut signed: SignedReceipt,
    signer: &Keypair,
    review: Review,
) -> Result<Outcome> {
    signed.sign(signer)?;
    write(file, &signed, true)?;
    let (text, mut json) = describe(&signed);
    if let (Some(fields), Some(extra)) = (json.as_object_mut(), review.json.as_object()) {
        fields.extend(extra.clone());
    }
    Ok(Outcome::new(
        format!(
            "co-signed by {} and written to {}\n{text}{}",
            signer.pubkey(),
            file.display(),
            review.details
        ),
        json,
    ))
}

/// `verify` and `cosign --offline`: no ledger needed.
pub fn run_offline(
    command: &ReceiptCommand,
    keypair: impl FnOnce() -> Result<Keypair>,
) -> Result<Outcome> {
    match command {
        ReceiptCommand::Cosign {
            file,
            yes,
            offline: true,
        } => {
            let signed = read(file)?;
            let signer = keypair()?;
            ensure_cosignable(&signed, &signer.pubkey())?;
            let review = offline_review();
            confirm(&signed, &review, *yes)?;
            cosign(file, signed, &signer, review)
        }
        ReceiptCommand::Verify { file } => {
            let signed = read(file)?;
            signed.verify()?;
            let (text, json) = describe(&signed);
            Ok(Outcome::new(
                format!("every signature verifies\n{text}"),
                json,
            ))
        }
        _ => unreachable!("sign, submit and cosign without --offline need a ledger"),
    }
}

/// Refuses a receipt that is not for this program or whose expiry (lengthened by a settlement
/// pause it lived through) has passed.
fn ensure_current(r: &Receipt, network: &Network, now: i64) -> Result<()> {
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
    ensure!(
        now <= expires_at,
        "the receipt expired at {expires_at} (ledger time {now}): ask the worker to sign a \
         fresh one"
    );
    Ok(())
}

/// Refuses a job receipt the program would not settle on `job` now, saying why.
fn ensure_settles_on_job(
    r: &Receipt,
    job: &Job,
    provider: &Provider,
    network: &Network,
    now: i64,
) -> Result<()> {
    let subject = r.subject;
    ensure!(
        job.network == r.network && job.nonce == r.subject_nonce,
        "job {subject} is not the job this receipt was signed for (job number {} on network \
         {}, the receipt names number {} on {}): a closed job's address was reused",
        job.nonce,
        job.network,
        r.subject_nonce,
        r.network
    );
    ensure!(
        job.provider == r.provider,
        "job {subject} is run by provider {}, not by the receipt's provider {}",
        job.provider,
        r.provider
    );
    ensure!(
        provider.worker_key == r.worker_key,
        "the receipt was signed by worker key {}, but provider {} now takes {}: ask the worker \
         to sign a fresh one",
        r.worker_key,
        r.provider,
        provider.worker_key
    );
    ensure!(
        r.unit_kind == job.unit_kind,
        "the receipt counts {} but job {subject} counts {}",
        unit_kind_name(r.unit_kind),
        unit_kind_name(job.unit_kind)
    );
    match job.status {
        JobStatus::Running => {}
        JobStatus::Open => bail!("job {subject} has not been accepted: nothing settles on it"),
        JobStatus::Completed | JobStatus::Cancelled if job.no_show => {
            bail!("job {subject} was cancelled as a no-show: nothing settles on it any more")
        }
        JobStatus::Completed | JobStatus::Cancelled => {
            ensure!(
                r.issued_at <= job.ended_at,
                "the receipt was issued at {}, after job {subject} ended at {}: only work done \
                 before the end settles",
                r.issued_at,
                job.ended_at
            );
            let paused_secs = network.settlement_pauses.paused_secs_at(now)?;
            let window_ends = job.settlement_window_ends(paused_secs)?;
            ensure!(
                now < window_ends,
                "job {subject} ended at {} and receipts could settle on it until {window_ends} \
                 (ledger time {now}): this one no longer can",
                job.ended_at
            );
        }
    }
    ensure!(
        r.cumulative_units <= job.max_units,
        "the receipt's {} units exceed job {subject}'s {} max units: its client tops it up \
         first (`tessera job top-up`)",
        r.cumulative_units,
        job.max_units
    );
    ensure!(
        r.cumulative_units > job.settled_units,
        "job {subject} has already settled {} units: this receipt's {} add nothing",
        job.settled_units,
        r.cumulative_units
    );
    Ok(())
}

/// Refuses a service receipt the program would not record for `provider`, saying why.
fn ensure_settles_as_service(r: &Receipt, provider: &Provider) -> Result<()> {
    ensure!(
        provider.nonce == r.subject_nonce && provider.network == r.network,
        "provider {} is not the registration this receipt was signed for (it deregistered and \
         registered again)",
        r.provider
    );
    ensure!(
        provider.worker_key == r.worker_key,
        "the receipt was signed by worker key {}, but provider {} now takes {}",
        r.worker_key,
        r.provider,
        provider.worker_key
    );
    ensure_measures(provider.class, r.unit_kind, "the receipt's unit")?;
    ensure!(
        r.cumulative_units > provider.service_units,
        "provider {} has already recorded {} service units: this receipt's {} add nothing",
        r.provider,
        provider.service_units,
        r.cumulative_units
    );
    Ok(())
}

/// What a receipt pays on its job, in the payment mint's decimals.
fn payment_review(r: &Receipt, job: &Job, mint: &Mint) -> Result<(String, serde_json::Value)> {
    let new_units = r.cumulative_units - job.settled_units;
    let to_pay = job.gross(new_units)?;
    let total = job.gross(r.cumulative_units)?;
    Ok((
        format!(
            "  units: {} {} in total; {} already settled, {new_units} new\n  price: {} per \
             unit of mint {}\n  to be paid from escrow now: {} ({} in total on this job)",
            r.cumulative_units,
            unit_kind_name(r.unit_kind),
            job.settled_units,
            mint.format(job.price_per_unit),
            mint.key.mint,
            mint.format(to_pay),
            mint.format(total)
        ),
        json!({
            "settled_units": job.settled_units,
            "new_units": new_units,
            "price_per_unit": mint.format(job.price_per_unit),
            "payment_mint": mint.key.mint.to_string(),
            "to_be_paid": mint.format(to_pay),
            "cumulative_total": mint.format(total),
        }),
    ))
}

impl ReceiptCommand {
    /// Whether the command runs without a ledger.
    pub fn offline(&self) -> bool {
        matches!(
            self,
            ReceiptCommand::Cosign { offline: true, .. } | ReceiptCommand::Verify { .. }
        )
    }

    pub fn run(&self, session: &Session) -> Result<Outcome> {
        let ledger = session.ledger;
        match self {
            ReceiptCommand::Sign {
                job,
                service,
                units,
                unit,
                result_hash,
                expires_in,
                out,
            } => {
                if out.exists() {
                    bail!(
                        "{} already exists: choose another --out or remove it",
                        out.display()
                    );
                }
                let (network_key, network) = session.network()?;
                let (job_state, provider, unit_kind) = match (job, service) {
                    (Some(job), _) => {
                        let state = session.job(job)?;
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
                            *units <= state.max_units,
                            "--units {units} is more than the job's {} max units",
                            state.max_units
                        );
                        if let Some(unit) = unit {
                            let kind = UnitKind::from(*unit);
                            ensure!(
                                kind == state.unit_kind,
                                "--unit {} is not job {job}'s unit {}: drop --unit",
                                unit_kind_name(kind),
                                unit_kind_name(state.unit_kind)
                            );
                        }
                        let (provider, kind) = (state.provider, state.unit_kind);
                        (Some((*job, state)), provider, kind)
                    }
                    (None, Some(provider)) => {
                        let state = session.provider_at(provider)?;
                        let kind = unit.map_or(default_unit(state.class), Into::into);
                        ensure_measures(state.class, kind, "--unit")?;
                        (None, *provider, kind)
                    }
                    (None, None) => {
                        bail!("say what the receipt is for: --job JOB or --service PROVIDER")
                    }
                };
                let p = session.provider_at(&provider)?;
                let worker = session.signer();
                ensure!(
                    p.worker_key == worker,
                    "--keypair {worker} is not provider {provider}'s worker key {}: sign \
                    with the worker's keypair",
                    p.worker_key
                );
                let max_age = network.params.receipt_max_age_secs;
                let lifetime = expires_in.unwrap_or(max_age);
                ensure!(
                    (1..=max_age).contains(&lifetime),
                    "--expires-in {lifetime} must be 1..={max_age} seconds (the network's \
                    receipt max age)"
                );
                let metered = flows::Metered {
                    cumulative_units: *units,
                    result_hash: result_hash.unwrap_or_default(),
                    issued_at: ledger.now()?,
                    valid_for_secs: lifetime,
                };
                let network_ref = flows::NetworkRef {
                    address: network_key,
                    state: &network,
                };
                let receipt = match job_state {
                    Some((job, state)) => {
                        flows::job_receipt(network_ref, job, &state, worker, metered)
                    }
                    None => flows::service_receipt(network_ref, provider, &p, unit_kind, metered),
                };
                let mut signed = SignedReceipt::new(receipt);
                signed.sign(session.keypair())?;
                write(out, &signed, false)?;
                let (text, json) = describe(&signed);
                let needs = network.attestors.threshold;
                Ok(Outcome::new(
                    format!(
                        "wrote {}\n{text}\n  next: {needs} attestors (or, for a job, its \
                    client) run `tessera receipt cosign {}`",
                        out.display(),
                        out.display()
                    ),
                    json,
                ))
            }
            ReceiptCommand::Cosign {
                file,
                yes,
                offline: false,
            } => {
                let signed = read(file)?;
                let signer = session.signer();
                ensure_cosignable(&signed, &signer)?;
                let review = ledger_review(session, &signed)?;
                confirm(&signed, &review, *yes)?;
                cosign(file, signed, session.keypair(), review)
            }
            ReceiptCommand::Submit { file } => {
                let signed = read(file)?;
                signed.verify()?;
                let r = signed.receipt;
                let (network_key, network) = session.network()?;
                ensure!(
                    r.network == network_key,
                    "the receipt is for network {}, not --network {} ({network_key})",
                    r.network,
                    network.network_id
                );
                ensure_open(&network, Activity::Settlements)?;
                let now = ledger.now()?;
                ensure_current(&r, &network, now)?;
                let epoch = network.epoch_at(now)?;
                let me = session.signer();
                let provider = session.provider_at(&r.provider)?;
                let settle = if r.subject == r.provider {
                    ensure_settles_as_service(&r, &provider)?;
                    flows::settle_service(me, &signed, epoch)
                } else {
                    let job = session.job(&r.subject)?;
                    ensure_settles_on_job(&r, &job, &provider, &network, now)?;
                    let by_client = signed.signatures[1..]
                        .iter()
                        .any(|(key, _)| *key == job.client);
                    if !by_client && job.has_ended() {
                        let min_stake = network.params.class(provider.class).min_stake;
                        let reward = session.reward_mint(&network)?;
                        ensure!(
                            provider.vault_liability()? >= min_stake,
                            "provider {} holds {} staked and unbonding, below its class \
                             minimum {}: an attested receipt on an ended job settles only while \
                             there is stake to slash; it stakes more, or the client co-signs",
                            r.provider,
                            reward.format(provider.vault_liability()?),
                            reward.format(min_stake)
                        );
                    }
                    let owner = provider.owner;
                    let mint = ledger.mint(&job.payment_mint)?;
                    // The payment goes to the owner's associated account, created when the job
                    // was accepted; creating it here would not fit beside 3 signatures.
                    let provider_token = mint.associated(&owner);
                    ensure!(
                        ledger.exists(&provider_token)?,
                        "provider owner {owner} has no token account for mint {} to be paid \
                        into: create {provider_token} (`spl-token create-account`, or it is \
                        created by `tessera job accept`)",
                        mint.key.mint
                    );
                    let payee = flows::Payee {
                        payment_mint: mint.key,
                        provider_token,
                    };
                    flows::settle_job(me, &signed, payee, epoch)
                };
                let signature = ledger.send(&settle, &[])?;
                Ok(Outcome::new(
                    format!(
                        "receipt settled in epoch {epoch}: {} units in total on {} ({signature})",
                        r.cumulative_units, r.subject
                    ),
                    json!({
                        "subject": r.subject.to_string(),
                        "cumulative_units": r.cumulative_units,
                        "epoch": epoch,
                        "signature": signature,
                    }),
                ))
            }
            _ => unreachable!("verify and cosign --offline run without a ledger"),
        }
    }
}

/// Checks a receipt against the ledger for the session's signer to co-sign: the receipt's
/// network, subject and provider exist and match it, the signer may vouch for it, its
/// signature will count, and the receipt would settle now. Returns what the signer vouches
/// for.
fn ledger_review(session: &Session, signed: &SignedReceipt) -> Result<Review> {
    let ledger = session.ledger;
    let r = &signed.receipt;
    let signer = session.signer();
    let network: Network = ledger.fetch(&r.network)?.with_context(|| {
        format!(
            "the receipt names network {}, which is not on {}: check --url",
            r.network,
            ledger.url()
        )
    })?;
    let now = ledger.now()?;
    ensure_current(r, &network, now)?;
    let provider = session.provider_at(&r.provider)?;
    let is_attestor = network.attestors.contains(&signer);
    let mut lines = Vec::new();
    let mut review = json!({"checked_against_ledger": true});
    let signs_as_client = if r.subject == r.provider {
        ensure!(
            is_attestor,
            "{signer} is not an attestor of network {}: only attestors co-sign service \
             receipts; check --keypair",
            network.network_id
        );
        ensure_settles_as_service(r, &provider)?;
        let new_units = r.cumulative_units - provider.service_units;
        lines.push(format!(
            "  service of provider {} ({:?}): {new_units} new {}; earns emission only, \
             nobody pays",
            r.provider,
            provider.class,
            unit_kind_name(r.unit_kind)
        ));
        review["new_units"] = json!(new_units);
        false
    } else {
        let job: Job = ledger.fetch(&r.subject)?.with_context(|| {
            format!(
                "the receipt's job {} does not exist (never created, or closed): it can \
                 never settle",
                r.subject
            )
        })?;
        ensure!(
            signer == job.client || is_attestor,
            "{signer} is neither job {}'s client {} nor an attestor of network {}: only \
             they may co-sign; check --keypair",
            r.subject,
            job.client,
            network.network_id
        );
        ensure_settles_on_job(r, &job, &provider, &network, now)?;
        let mint = ledger.mint(&job.payment_mint)?;
        let (text, json) = payment_review(r, &job, &mint)?;
        lines.push(format!(
            "  job {} of client {}, run by provider {} ({:?})",
            r.subject, job.client, r.provider, provider.class
        ));
        lines.push(text);
        review["payment"] = json;
        signer == job.client && !is_attestor
    };
    // The program takes either the client's co-signature alone, or exactly `threshold`
    // attestors' under the current set: a signature beyond that would spoil the receipt.
    let cosigners: Vec<Pubkey> = signed.signatures[1..].iter().map(|(key, _)| *key).collect();
    if signs_as_client {
        ensure!(
            cosigners.is_empty(),
            "the receipt already carries co-signatures ({}): the client's co-signature \
             settles a receipt only alone; submit it with the attestors' instead",
            keys_text(&cosigners)
        );
    } else {
        if let Some(outsider) = cosigners
            .iter()
            .find(|key| !network.attestors.contains(key))
        {
            bail!(
                "the receipt is already co-signed by {outsider}, who is not an attestor: \
                 attestor signatures cannot be added to it; it settles as it is"
            );
        }
        let threshold = network.attestors.threshold as usize;
        ensure!(
            cosigners.len() < threshold,
            "the receipt already carries the {threshold} attestor signatures it needs: \
             another would spoil it; submit it (`tessera receipt submit`)"
        );
        ensure!(
            r.attestor_set_version == network.attestors.version,
            "the receipt names attestor set version {}, but network {} is at version {}: \
             attestor signatures would not count; ask the worker to sign a fresh receipt",
            r.attestor_set_version,
            network.network_id,
            network.attestors.version
        );
    }
    lines.push(format!(
        "  {signer} co-signs as {}",
        if signs_as_client {
            "the job's client"
        } else {
            "an attestor"
        }
    ));
    Ok(Review {
        details: lines.iter().map(|line| format!("\n{line}")).collect(),
        json: review,
    })
}

fn keys_text(keys: &[Pubkey]) -> String {
    keys.iter()
        .map(Pubkey::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
