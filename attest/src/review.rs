//! What a co-signer checks before it signs a receipt: that the receipt is for this program and
//! network, that its subject exists as the ledger has it, that its units neither exceed what
//! the job pays for nor go backwards, that the worker signed it, and that the evidence
//! supports the work. A receipt whose work cannot be checked is refused: an attestor vouches
//! only for what it checked.

use crate::wire::Evidence;
use anchor_lang::prelude::Pubkey;
use tessera::state::{Job, Network, Provider};
use tessera_client::receipt::SignedReceipt;
use tessera_worker::matmul::{self, Matrix};
use tessera_worker::spec::{self, Spec, Workload};

/// Why a receipt is refused, and the HTTP status that says so.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refused {
    pub status: u16,
    pub reason: String,
}

fn refuse(status: u16, reason: impl Into<String>) -> Refused {
    Refused {
        status,
        reason: reason.into(),
    }
}

/// What the ledger holds about a receipt's subject.
pub enum Subject<'a> {
    /// A job, and the provider account that runs it.
    Job {
        job: &'a Job,
        provider: &'a Provider,
    },
    /// A provider's service (the provider account is the subject).
    Service { provider: &'a Provider },
}

/// The network the reviewer attests for.
pub struct Attesting<'a> {
    pub address: Pubkey,
    pub network: &'a Network,
}

/// Checks that `signed` is bound to this program, this network and its current attestor set:
/// what can be refused before its subject is read.
pub fn check_binding(signed: &SignedReceipt, on: &Attesting) -> Result<(), Refused> {
    let r = &signed.receipt;
    if r.program_id != tessera_client::program_id() {
        return Err(refuse(
            422,
            format!(
                "the receipt is for program {}, not {}",
                r.program_id,
                tessera_client::program_id()
            ),
        ));
    }
    if r.network != on.address {
        return Err(refuse(
            422,
            format!(
                "the receipt is for network {}; this service attests network {} ({})",
                r.network, on.network.network_id, on.address
            ),
        ));
    }
    if r.attestor_set_version != on.network.attestors.version {
        return Err(refuse(
            422,
            format!(
                "the receipt names attestor set version {}, the network is at {}: ask the worker \
                 to sign a fresh one",
                r.attestor_set_version, on.network.attestors.version
            ),
        ));
    }
    Ok(())
}

/// Checks `signed` against the ledger; the evidence is checked by [`check_evidence`].
pub fn review(signed: &SignedReceipt, on: &Attesting, subject: &Subject) -> Result<(), Refused> {
    check_binding(signed, on)?;
    let r = &signed.receipt;
    let provider = match subject {
        Subject::Job { provider, .. } | Subject::Service { provider } => provider,
    };
    let worker_signed = signed
        .signatures
        .first()
        .is_some_and(|(key, _)| *key == provider.worker_key);
    if !worker_signed || signed.verify().is_err() {
        return Err(refuse(
            422,
            format!(
                "the receipt is not signed first by the provider's worker key {}, or a \
                 signature does not verify",
                provider.worker_key
            ),
        ));
    }
    match subject {
        Subject::Job { job, .. } => review_job(r, job),
        Subject::Service { provider } => {
            if r.cumulative_units <= provider.service_units {
                return Err(refuse(
                    409,
                    format!(
                        "the provider has already recorded {} service units: {} go backwards or \
                         add nothing",
                        provider.service_units, r.cumulative_units
                    ),
                ));
            }
            Ok(())
        }
    }
}

fn review_job(r: &tessera_client::receipt::Receipt, job: &Job) -> Result<(), Refused> {
    if job.nonce != r.subject_nonce || job.provider != r.provider || job.unit_kind != r.unit_kind {
        return Err(refuse(
            422,
            format!(
                "job {} is not the job this receipt was signed for",
                r.subject
            ),
        ));
    }
    if r.cumulative_units > job.max_units {
        return Err(refuse(
            422,
            format!(
                "the receipt's {} units are past job {}'s max units {}",
                r.cumulative_units, r.subject, job.max_units
            ),
        ));
    }
    if r.cumulative_units <= job.settled_units {
        return Err(refuse(
            409,
            format!(
                "job {} has already settled {} units: {} go backwards or add nothing",
                r.subject, job.settled_units, r.cumulative_units
            ),
        ));
    }
    Ok(())
}

/// Checks the evidence of the built-in workload: the spec is the job's (when `spec_hash` is
/// given), every product passes Freivalds' test against the inputs the spec derives, and the
/// products chain to the receipt's result hash. Relay evidence is checked by the service
/// itself (it takes a network transfer).
pub fn check_evidence(
    signed: &SignedReceipt,
    evidence: &Evidence,
    spec_hash: Option<&[u8; 32]>,
) -> Result<(), Refused> {
    match evidence {
        Evidence::None => Err(refuse(
            422,
            "no evidence: this service vouches only for work it can check (the built-in \
             workload's products, a relay it can time)",
        )),
        Evidence::Relay { .. } => Ok(()),
        Evidence::Matmul { spec, products } => check_matmul(signed, spec, products, spec_hash),
    }
}

fn check_matmul(
    signed: &SignedReceipt,
    document: &str,
    products: &[String],
    spec_hash: Option<&[u8; 32]>,
) -> Result<(), Refused> {
    let bytes = document.as_bytes();
    let parsed = match spec_hash {
        Some(hash) => Spec::parse_for(bytes, hash),
        None => Spec::parse(bytes),
    }
    .map_err(|error| refuse(422, format!("the evidence's spec: {error}")))?;
    let Workload::Matmul { n, rounds } = parsed.workload else {
        return Err(refuse(
            422,
            "the evidence's spec is not the built-in workload",
        ));
    };
    if products.is_empty() || products.len() > rounds as usize {
        return Err(refuse(
            422,
            format!(
                "the evidence has {} products; the spec has {rounds} rounds",
                products.len()
            ),
        ));
    }
    let matrices = products
        .iter()
        .map(|text| {
            hex::decode(text)
                .ok()
                .and_then(|bytes| Matrix::from_bytes(&bytes))
        })
        .collect::<Option<Vec<Matrix>>>()
        .filter(|matrices| matrices.iter().all(|m| m.n() == n as usize))
        .ok_or_else(|| refuse(400, format!("the products are not {n} x {n} matrices")))?;
    let spec_hash = spec::hash(bytes);
    matmul::check_result(
        &spec_hash,
        &matrices,
        &signed.receipt.result_hash,
        &mut rand::thread_rng(),
    )
    .map_err(|failure| refuse(422, format!("the evidence does not check: {failure}")))
}
