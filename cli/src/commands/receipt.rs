//! `tessera receipt …`: a worker signs a receipt to a file, attestors (or the client) review and
//! co-sign it, anyone verifies it, anyone submits it for settlement.

use super::{parse_hash, Outcome, Session, UnitArg};
use crate::view::as_text;
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, ensure, Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::fmt;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use tessera::state::{Job, Network, Provider, ProviderClass, UnitKind};
use tessera_attest::wire::Evidence;
use tessera_client::receipt::{unit_kind_name, Receipt, ReceiptFile, SignedReceipt};
use tessera_ledger::actions::receipt::{
    ensure_current, ensure_settles_as_service, ensure_settles_on_job,
};
pub use tessera_ledger::actions::receipt::{issue, read, settlement, write, Settlement, Work};
use tessera_ledger::tokens::Mint;

/// What `receipt cosign` says when it did not get a yes.
pub const NOT_SIGNED: &str = "not signed: pass --yes to co-sign without a prompt";

#[derive(Subcommand)]
pub enum ReceiptCommand {
    /// Signs a receipt as the provider's worker (--keypair) and writes it to --out.
    Sign(SignArgs),
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
        /// Instead of signing with --keypair, ask these co-signing services (`tessera attest
        /// serve`) for the signatures the network's attestor set takes; repeat for each. The
        /// requests are signed with --keypair, which must be the receipt's worker key.
        #[arg(long = "attestor", value_name = "URL", conflicts_with = "offline")]
        attestors: Vec<String>,
        /// With --attestor: the evidence of the work, a JSON file ({"kind":"matmul","spec":
        /// …,"products":[…]} or {"kind":"relay","address":…}); default: a job's published
        /// built-in workload results, else none.
        #[arg(long, requires = "attestors")]
        evidence: Option<PathBuf>,
        /// Folders of spec documents and of published results the evidence is read from when
        /// --evidence is not given: specs/ and results/ in --data-dir (not a flag).
        #[arg(skip)]
        folders: Option<(PathBuf, PathBuf)>,
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

impl ReceiptCommand {
    /// Whether the command runs without a ledger.
    pub fn offline(&self) -> bool {
        matches!(
            self,
            ReceiptCommand::Cosign { offline: true, .. } | ReceiptCommand::Verify { .. }
        )
    }

    pub fn run(&self, session: &Session) -> Result<Outcome> {
        match self {
            ReceiptCommand::Sign(args) => Outcome::view(&sign(session, args)?),
            ReceiptCommand::Cosign {
                file,
                attestors,
                evidence,
                folders,
                ..
            } if !attestors.is_empty() => {
                let evidence = match (evidence, folders) {
                    (Some(path), _) => EvidenceFrom::File(path),
                    (None, Some((specs, results))) => EvidenceFrom::Published { specs, results },
                    (None, None) => EvidenceFrom::Nothing,
                };
                Outcome::view(&cosign_by_services(session, file, attestors, evidence)?)
            }
            ReceiptCommand::Cosign {
                file,
                yes,
                offline: false,
                ..
            } => Outcome::view(&cosign(session, file, *yes)?),
            ReceiptCommand::Submit { file } => Outcome::view(&submit(session, file)?),
            _ => unreachable!("verify and cosign --offline run without a ledger"),
        }
    }
}

/// `verify` and `cosign --offline`: no ledger needed; `keypair` reads the signer's.
pub fn run_offline(
    command: &ReceiptCommand,
    keypair: impl FnOnce() -> Result<Keypair>,
) -> Result<Outcome> {
    match command {
        ReceiptCommand::Cosign {
            file,
            yes,
            offline: true,
            ..
        } => Outcome::view(&cosign_offline(file, *yes, &keypair()?)?),
        ReceiptCommand::Verify { file } => Outcome::view(&verify(file)?),
        _ => unreachable!("sign, submit and cosign without --offline need a ledger"),
    }
}

/// `receipt sign`: the work to sign for, and the file to write.
#[derive(Args)]
pub struct SignArgs {
    #[command(flatten)]
    pub work: WorkArgs,
    /// File to write; refused if it exists.
    #[arg(long)]
    pub out: PathBuf,
}

/// The work a receipt states: on a job or as a service, in total so far.
#[derive(Args)]
pub struct WorkArgs {
    /// The job the units were delivered on.
    #[arg(long, required_unless_present = "service")]
    pub job: Option<Pubkey>,
    /// A service receipt (bandwidth served, no job) for this provider account.
    #[arg(long, conflicts_with = "job")]
    pub service: Option<Pubkey>,
    /// Units delivered on the job (or served) since it began, in total.
    #[arg(long)]
    pub units: u64,
    /// What a unit is. A job receipt takes the job's; a service receipt a kind the
    /// provider's class counts (default: bytes for Bandwidth, gpu-seconds for Training and
    /// Inference, cpu-seconds for Edge).
    #[arg(long, value_enum)]
    pub unit: Option<UnitArg>,
    /// SHA-256 of the outputs or evidence so far, 64 hex digits.
    #[arg(long, value_parser = parse_hash)]
    pub result_hash: Option<[u8; 32]>,
    /// Seconds the receipt stays valid (default and maximum: the network's receipt max age).
    #[arg(long)]
    pub expires_in: Option<i64>,
}

impl WorkArgs {
    /// The work as the ledger's actions take it.
    pub fn work(&self) -> Work {
        Work {
            job: self.job,
            service: self.service,
            units: self.units,
            unit: self.unit.map(Into::into),
            result_hash: self.result_hash,
            expires_in: self.expires_in,
        }
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
    eprintln!("{}{review}", ReceiptView::of(signed));
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

/// `receipt sign`: the worker signs a receipt for `args.work` and writes it to `args.out`.
pub fn sign(session: &Session, args: &SignArgs) -> Result<ReceiptSigned> {
    let out = &args.out;
    if out.exists() {
        bail!(
            "{} already exists: choose another --out or remove it",
            out.display()
        );
    }
    let signed = issue(session, &args.work.work())?;
    write(out, &signed, false)?;
    let (_, network) = session.network()?;
    Ok(ReceiptSigned {
        receipt: ReceiptView::of(&signed),
        out: out.clone(),
        threshold: network.attestors.threshold,
    })
}

/// `receipt cosign`: the signer reviews the receipt against the ledger, confirms, and signs.
pub fn cosign(session: &Session, file: &Path, yes: bool) -> Result<Cosigned> {
    let signed = read(file)?;
    ensure_cosignable(&signed, &session.signer())?;
    let review = ledger_review(session, &signed)?;
    confirm(&signed, &review, yes)?;
    add_signature(file, signed, session.keypair(), review)
}

/// Where `receipt cosign --attestor` takes the evidence of the work from.
pub enum EvidenceFrom<'a> {
    /// An evidence file (JSON).
    File(&'a Path),
    /// A job's published built-in workload results, when there are any.
    Published { specs: &'a Path, results: &'a Path },
    /// None.
    Nothing,
}

/// `receipt cosign --attestor URL…`: the services' signatures, as the network's attestor set
/// takes them, added to the file.
pub fn cosign_by_services(
    session: &Session,
    file: &Path,
    services: &[String],
    evidence: EvidenceFrom,
) -> Result<ServicesCosigned> {
    let signed = read(file)?;
    signed
        .verify()
        .context("the receipt's signatures do not verify: it was altered")?;
    let (network_key, network) = session.network()?;
    let r = &signed.receipt;
    ensure!(
        r.network == network_key,
        "the receipt is for network {}, not --network {} ({network_key})",
        r.network,
        network.network_id
    );
    let job = (r.subject != r.provider)
        .then(|| session.job(&r.subject))
        .transpose()?;
    let evidence = match (evidence, &job) {
        (EvidenceFrom::File(path), _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the evidence file {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not an evidence file", path.display()))?
        }
        (EvidenceFrom::Published { specs, results }, Some(job)) => Evidence::published_matmul(
            specs,
            results,
            &r.subject.to_string(),
            (&job.spec_hash, &r.result_hash),
            job.settled_units,
        )
        .unwrap_or(Evidence::None),
        _ => Evidence::None,
    };
    let client = job.map(|job| job.client);
    let worker = signed.signatures.first().map(|(key, _)| *key);
    let signer = session.keypair();
    ensure!(
        worker == Some(signer.pubkey()),
        "co-signing services take a receipt from its worker only: sign the request with the \
         worker key that signed the receipt ({}), e.g. --keypair worker.json; --keypair is {}",
        worker.map_or("none".to_string(), |key| key.to_string()),
        signer.pubkey()
    );
    let coordinator = tessera_attest::coordinator::Coordinator::new(services)?.signing_as(signer);
    let cosigned = coordinator.cosign(&signed, &evidence, &network, client)?;
    write(file, &cosigned, true)?;
    Ok(ServicesCosigned {
        receipt: ReceiptView::of(&cosigned),
        file: file.to_path_buf(),
    })
}

/// `receipt cosign --attestor`: the receipt with the services' signatures.
#[derive(Serialize)]
pub struct ServicesCosigned {
    #[serde(flatten)]
    pub receipt: ReceiptView,
    #[serde(skip)]
    pub file: PathBuf,
}

impl fmt::Display for ServicesCosigned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "co-signed by the services and written to {}\n{}",
            self.file.display(),
            self.receipt
        )
    }
}

/// `receipt cosign --offline`: the signer confirms the receipt as the file states it, and signs.
pub fn cosign_offline(file: &Path, yes: bool, signer: &Keypair) -> Result<Cosigned> {
    let signed = read(file)?;
    ensure_cosignable(&signed, &signer.pubkey())?;
    let review = Review {
        checked_against_ledger: false,
        work: None,
        cosigner: None,
    };
    confirm(&signed, &review, yes)?;
    add_signature(file, signed, signer, review)
}

/// Signs `signed` with `signer` and writes it back to `file`.
fn add_signature(
    file: &Path,
    mut signed: SignedReceipt,
    signer: &Keypair,
    review: Review,
) -> Result<Cosigned> {
    signed.sign(signer)?;
    write(file, &signed, true)?;
    Ok(Cosigned {
        receipt: ReceiptView::of(&signed),
        review,
        signer: signer.pubkey(),
        file: file.to_path_buf(),
    })
}

/// `receipt verify`: every signature of the file checks.
pub fn verify(file: &Path) -> Result<Verified> {
    let signed = read(file)?;
    signed.verify()?;
    Ok(Verified(ReceiptView::of(&signed)))
}

/// `receipt submit`: settles the receipt file.
pub fn submit(session: &Session, file: &Path) -> Result<Settled> {
    settle(session, &read(file)?)
}

/// Settles `signed` in the current epoch, paid for by the session's signer, once its
/// signatures verify and the program would take it now.
pub fn settle(session: &Session, signed: &SignedReceipt) -> Result<Settled> {
    let settled = settlement(session, signed)?.send(session)?;
    Ok(Settled {
        subject: settled.subject,
        cumulative_units: settled.cumulative_units,
        epoch: settled.epoch,
        signature: settled.signature,
    })
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
    let (work, role) = if r.subject == r.provider {
        ensure!(
            is_attestor,
            "{signer} is not an attestor of network {}: only attestors co-sign service \
             receipts; check --keypair",
            network.network_id
        );
        ensure_settles_as_service(r, &provider)?;
        (ReviewedWork::service(r, &provider), CosignsAs::Attestor)
    } else {
        review_job(session, r, &network, &provider, now)?
    };
    ensure_cosignatures_fit(signed, &network, role)?;
    Ok(Review {
        checked_against_ledger: true,
        work: Some(work),
        cosigner: Some((signer, role)),
    })
}

/// The job a receipt settles on, as its client or an attestor (the signer) reviews it.
fn review_job(
    session: &Session,
    r: &Receipt,
    network: &Network,
    provider: &Provider,
    now: i64,
) -> Result<(ReviewedWork, CosignsAs)> {
    let signer = session.signer();
    let job: Job = session.ledger.fetch(&r.subject)?.with_context(|| {
        format!(
            "the receipt's job {} does not exist (never created, or closed): it can never settle",
            r.subject
        )
    })?;
    let is_attestor = network.attestors.contains(&signer);
    ensure!(
        signer == job.client || is_attestor,
        "{signer} is neither job {}'s client {} nor an attestor of network {}: only they may \
         co-sign; check --keypair",
        r.subject,
        job.client,
        network.network_id
    );
    ensure_settles_on_job(r, &job, provider, network, now)?;
    let mint = session.ledger.mint(&job.payment_mint)?;
    let work = ReviewedWork::Job {
        payment: PaymentReview::of(r, &job, &mint)?,
        job: r.subject,
        client: job.client,
        provider: r.provider,
        class: provider.class,
    };
    let role = if signer == job.client && !is_attestor {
        CosignsAs::Client
    } else {
        CosignsAs::Attestor
    };
    Ok((work, role))
}

/// Refuses a co-signature that would not count: the program takes either the client's
/// co-signature alone, or exactly `threshold` attestors' under the current set, so a signature
/// beyond that would spoil the receipt.
fn ensure_cosignatures_fit(
    signed: &SignedReceipt,
    network: &Network,
    role: CosignsAs,
) -> Result<()> {
    let r = &signed.receipt;
    let cosigners: Vec<Pubkey> = signed.signatures[1..].iter().map(|(key, _)| *key).collect();
    if role == CosignsAs::Client {
        ensure!(
            cosigners.is_empty(),
            "the receipt already carries co-signatures ({}): the client's co-signature settles a \
             receipt only alone; submit it with the attestors' instead",
            keys_text(&cosigners)
        );
        return Ok(());
    }
    if let Some(outsider) = cosigners
        .iter()
        .find(|key| !network.attestors.contains(key))
    {
        bail!(
            "the receipt is already co-signed by {outsider}, who is not an attestor: attestor \
             signatures cannot be added to it; it settles as it is"
        );
    }
    let threshold = network.attestors.threshold as usize;
    ensure!(
        cosigners.len() < threshold,
        "the receipt already carries the {threshold} attestor signatures it needs: another \
         would spoil it; submit it (`tessera receipt submit`)"
    );
    ensure!(
        r.attestor_set_version == network.attestors.version,
        "the receipt names attestor set version {}, but network {} is at version {}: attestor \
         signatures would not count; ask the worker to sign a fresh receipt",
        r.attestor_set_version,
        network.network_id,
        network.attestors.version
    );
    Ok(())
}

fn keys_text(keys: &[Pubkey]) -> String {
    keys.iter()
        .map(Pubkey::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A receipt as its file states it.
#[derive(Serialize)]
#[serde(transparent)]
pub struct ReceiptView(pub ReceiptFile);

impl ReceiptView {
    pub fn of(signed: &SignedReceipt) -> Self {
        Self(ReceiptFile::from_signed(signed))
    }
}

impl fmt::Display for ReceiptView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.0;
        let keys: Vec<&str> = r.signatures.iter().map(|s| s.key.as_str()).collect();
        write!(
            f,
            "receipt for {} on network {}: {} {} in total by provider {}\n  issued {}, expires \
             {}, attestor set version {}\n  signed by {}",
            r.subject,
            r.network,
            r.cumulative_units,
            r.unit_kind,
            r.provider,
            r.issued_at,
            r.expires_at,
            r.attestor_set_version,
            keys.join(", ")
        )
    }
}

/// `receipt sign`: the receipt written, and who signs next.
#[derive(Serialize)]
pub struct ReceiptSigned {
    #[serde(flatten)]
    pub receipt: ReceiptView,
    #[serde(skip)]
    pub out: PathBuf,
    /// Attestor signatures the receipt needs (text only).
    #[serde(skip)]
    pub threshold: u8,
}

impl fmt::Display for ReceiptSigned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let out = self.out.display();
        write!(
            f,
            "wrote {out}\n{}\n  next: {} attestors (or, for a job, its client) run `tessera \
             receipt cosign {out}`",
            self.receipt, self.threshold
        )
    }
}

/// `receipt verify`: the receipt whose signatures all verify.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Verified(pub ReceiptView);

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "every signature verifies\n{}", self.0)
    }
}

/// `receipt cosign`: the receipt with the new signature, and what the signer vouched for.
#[derive(Serialize)]
pub struct Cosigned {
    #[serde(flatten)]
    pub receipt: ReceiptView,
    #[serde(flatten)]
    pub review: Review,
    #[serde(skip)]
    pub signer: Pubkey,
    #[serde(skip)]
    pub file: PathBuf,
}

impl fmt::Display for Cosigned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "co-signed by {} and written to {}\n{}{}",
            self.signer,
            self.file.display(),
            self.receipt,
            self.review
        )
    }
}

/// What a co-signer is asked to vouch for beyond the receipt itself: what the ledger says of
/// the work (nothing offline) and in which role it signs.
#[derive(Serialize)]
pub struct Review {
    pub checked_against_ledger: bool,
    #[serde(flatten)]
    pub work: Option<ReviewedWork>,
    #[serde(skip)]
    pub cosigner: Option<(Pubkey, CosignsAs)>,
}

impl fmt::Display for Review {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.work {
            None => write!(
                f,
                "\n  offline: the job, its price and the units already settled are not checked"
            )?,
            Some(work) => write!(f, "{work}")?,
        }
        if let Some((signer, role)) = &self.cosigner {
            write!(f, "\n  {signer} co-signs as {role}")?;
        }
        Ok(())
    }
}

/// The work a receipt states, as the ledger has it.
#[derive(Serialize)]
#[serde(untagged)]
pub enum ReviewedWork {
    /// Service of a provider: emission only, nobody pays.
    Service {
        new_units: u64,
        #[serde(skip)]
        provider: Pubkey,
        #[serde(skip)]
        class: ProviderClass,
        #[serde(skip)]
        unit_kind: UnitKind,
    },
    /// Work on a job, paid from its escrow.
    Job {
        payment: PaymentReview,
        #[serde(skip)]
        job: Pubkey,
        #[serde(skip)]
        client: Pubkey,
        #[serde(skip)]
        provider: Pubkey,
        #[serde(skip)]
        class: ProviderClass,
    },
}

impl ReviewedWork {
    fn service(r: &Receipt, provider: &Provider) -> Self {
        ReviewedWork::Service {
            new_units: r.cumulative_units - provider.service_units,
            provider: r.provider,
            class: provider.class,
            unit_kind: r.unit_kind,
        }
    }
}

impl fmt::Display for ReviewedWork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReviewedWork::Service {
                new_units,
                provider,
                class,
                unit_kind,
            } => write!(
                f,
                "\n  service of provider {provider} ({class:?}): {new_units} new {}; earns \
                 emission only, nobody pays",
                unit_kind_name(*unit_kind)
            ),
            ReviewedWork::Job {
                payment,
                job,
                client,
                provider,
                class,
            } => write!(
                f,
                "\n  job {job} of client {client}, run by provider {provider} ({class:?})\n{payment}"
            ),
        }
    }
}

/// In which role a co-signer signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CosignsAs {
    Client,
    Attestor,
}

impl fmt::Display for CosignsAs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CosignsAs::Client => "the job's client",
            CosignsAs::Attestor => "an attestor",
        })
    }
}

/// What a receipt pays on its job, in the payment mint's decimals.
#[derive(Serialize)]
pub struct PaymentReview {
    pub settled_units: u64,
    pub new_units: u64,
    pub price_per_unit: String,
    #[serde(serialize_with = "as_text")]
    pub payment_mint: Pubkey,
    pub to_be_paid: String,
    pub cumulative_total: String,
    #[serde(skip)]
    pub cumulative_units: u64,
    #[serde(skip)]
    pub unit_kind: UnitKind,
}

impl PaymentReview {
    fn of(r: &Receipt, job: &Job, mint: &Mint) -> Result<Self> {
        let new_units = r.cumulative_units - job.settled_units;
        Ok(Self {
            settled_units: job.settled_units,
            new_units,
            price_per_unit: mint.format(job.price_per_unit),
            payment_mint: mint.key.mint,
            to_be_paid: mint.format(job.gross(new_units)?),
            cumulative_total: mint.format(job.gross(r.cumulative_units)?),
            cumulative_units: r.cumulative_units,
            unit_kind: r.unit_kind,
        })
    }
}

impl fmt::Display for PaymentReview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "  units: {} {} in total; {} already settled, {} new\n  price: {} per unit of mint \
             {}\n  to be paid from escrow now: {} ({} in total on this job)",
            self.cumulative_units,
            unit_kind_name(self.unit_kind),
            self.settled_units,
            self.new_units,
            self.price_per_unit,
            self.payment_mint,
            self.to_be_paid,
            self.cumulative_total
        )
    }
}

/// `receipt submit`: the settlement.
#[derive(Serialize)]
pub struct Settled {
    #[serde(serialize_with = "as_text")]
    pub subject: Pubkey,
    pub cumulative_units: u64,
    pub epoch: u64,
    pub signature: String,
}

impl fmt::Display for Settled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "receipt settled in epoch {}: {} units in total on {} ({})",
            self.epoch, self.cumulative_units, self.subject, self.signature
        )
    }
}
