//! `tessera receipt …`: a worker signs a receipt to a file, attestors (or the client) co-sign
//! it offline, anyone verifies it, anyone submits it for settlement.

use super::{ensure_open, parse_hash, Activity, Outcome, Session};
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, ensure, Context, Result};
use clap::Subcommand;
use serde_json::json;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::path::{Path, PathBuf};
use tessera::state::JobStatus;
use tessera_client::instructions::{self as ix, SettleReceiptAccounts};
use tessera_client::receipt::{Receipt, ReceiptFile, SignedReceipt, RECEIPT_DOMAIN};

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
    /// Adds --keypair's signature (an attestor's, or the client's) to a receipt file, offline.
    Cosign { file: PathBuf },
    /// Checks every signature of a receipt file, offline, and prints what it says.
    Verify { file: PathBuf },
    /// Sends a receipt file for settlement (anyone may; --keypair pays the fee).
    Submit { file: PathBuf },
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
            "receipt for {} on network {}: {} units in total by provider {}\n  \
                issued {}, expires {}, attestor set version {}\n  signed by {}",
            r.subject,
            r.network,
            r.cumulative_units,
            r.provider,
            r.issued_at,
            r.expires_at,
            r.attestor_set_version,
            keys.join(", ")
        ),
        serde_json::to_value(ReceiptFile::from_signed(signed)).unwrap_or_default(),
    )
}

/// `cosign` and `verify`: no ledger needed.
pub fn run_offline(
    command: &ReceiptCommand,
    keypair: impl FnOnce() -> Result<Keypair>,
) -> Result<Outcome> {
    match command {
        ReceiptCommand::Cosign { file } => {
            let mut signed = read(file)?;
            signed.verify().context(
                "the receipt's existing signatures do not verify: it was altered, do \
                not co-sign it",
            )?;
            let signer = keypair()?;
            signed.sign(&signer)?;
            write(file, &signed, true)?;
            let (text, json) = describe(&signed);
            Ok(Outcome::new(
                format!("co-signed by {}\n{text}", signer.pubkey()),
                json,
            ))
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
        _ => unreachable!("sign and submit need a ledger"),
    }
}

impl ReceiptCommand {
    /// Whether the command runs without a ledger.
    pub fn offline(&self) -> bool {
        matches!(
            self,
            ReceiptCommand::Cosign { .. } | ReceiptCommand::Verify { .. }
        )
    }

    pub fn run(&self, session: &Session) -> Result<Outcome> {
        let ledger = session.ledger;
        match self {
            ReceiptCommand::Sign {
                job,
                service,
                units,
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
                let (subject, subject_nonce, provider) = match (job, service) {
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
                        (*job, state.nonce, state.provider)
                    }
                    (None, Some(provider)) => {
                        (*provider, session.provider_at(provider)?.nonce, *provider)
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
                let issued_at = ledger.now()?;
                let receipt = Receipt {
                    domain: RECEIPT_DOMAIN,
                    program_id: tessera_client::program_id(),
                    network: network_key,
                    subject,
                    subject_nonce,
                    provider,
                    worker_key: worker,
                    cumulative_units: *units,
                    result_hash: result_hash.unwrap_or_default(),
                    attestor_set_version: network.attestors.version,
                    issued_at,
                    expires_at: issued_at + lifetime,
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
            ReceiptCommand::Submit { file } => {
                let signed = read(file)?;
                signed.verify()?;
                let r = signed.receipt;
                ensure!(
                    r.program_id == tessera_client::program_id(),
                    "the receipt is for program {}, not {}",
                    r.program_id,
                    tessera_client::program_id()
                );
                let (network_key, network) = session.network()?;
                ensure!(
                    r.network == network_key,
                    "the receipt is for network {}, not --network {} ({network_key})",
                    r.network,
                    network.network_id
                );
                ensure_open(&network, Activity::Settlements)?;
                let now = ledger.now()?;
                ensure!(
                    now <= r.expires_at,
                    "the receipt expired at {} (ledger time {now}): ask the worker to sign \
                    a fresh one",
                    r.expires_at
                );
                let epoch = network.epoch_at(now)?;
                let args = ix::receipt_args(&r, epoch);
                let me = session.signer();
                let settle = if r.subject == r.provider {
                    vec![
                        signed.ed25519_instruction(),
                        ix::settle_service(&me, &network_key, &r.provider, args),
                    ]
                } else {
                    let job = session.job(&r.subject)?;
                    let owner = session.provider_at(&r.provider)?.owner;
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
                    vec![
                        signed.ed25519_instruction(),
                        ix::settle_receipt(
                            SettleReceiptAccounts {
                                submitter: me,
                                network: network_key,
                                job: r.subject,
                                provider: r.provider,
                                provider_token,
                                payment_mint: mint.key,
                            },
                            args,
                        ),
                    ]
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
            _ => unreachable!("cosign and verify run offline"),
        }
    }
}
