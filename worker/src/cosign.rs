//! Co-signatures through a folder (`--cosign-dir`): the worker writes each receipt it wants
//! co-signed as `<job>.json`, in the receipt file format, and co-signers (the job's client, or
//! the network's attestors) add their signatures to that file with `tessera receipt cosign`.
//! The worker takes the file back once it carries enough of them.

use anchor_lang::prelude::Pubkey;
use anyhow::Result;
use std::path::{Path, PathBuf};
use tessera::state::{AttestorMode, Job, Network};
use tessera_client::receipt::SignedReceipt;
use tessera_ledger::actions::receipt;

/// What the folder holds for a receipt.
pub enum Cosigning {
    /// The receipt with the worker's signature and exactly the co-signatures the program
    /// takes: a quorum of attestors (emissions and payment), else the client's (payment).
    Ready(Box<SignedReceipt>),
    /// Not enough co-signatures yet; `written` when the worker has just (re)written the file.
    Waiting { path: PathBuf, written: bool },
}

/// The co-signed version of `pending` (signed by the worker alone) for the job at `address`,
/// from `dir`; writes `pending` there first when the folder holds another receipt or none.
pub fn collect(
    dir: &Path,
    address: &Pubkey,
    pending: &SignedReceipt,
    job: &Job,
    network: &Network,
) -> Result<Cosigning> {
    let path = dir.join(format!("{address}.json"));
    if let Ok(file) = receipt::read(&path) {
        // A co-signer's file whose signatures do not verify is rewritten, not submitted.
        if file.receipt == pending.receipt && file.verify().is_ok() {
            if let Some(ready) = quorum(&file, job, network) {
                return Ok(Cosigning::Ready(Box::new(ready)));
            }
            return Ok(Cosigning::Waiting {
                path,
                written: false,
            });
        }
    }
    std::fs::create_dir_all(dir)?;
    receipt::write(&path, pending, true)?;
    Ok(Cosigning::Waiting {
        path,
        written: true,
    })
}

/// The worker's signature and the co-signatures the program takes from `file`: the first
/// `threshold` distinct attestors of the current set when that many signed, else the client's
/// alone; `None` when neither is there.
fn quorum(file: &SignedReceipt, job: &Job, network: &Network) -> Option<SignedReceipt> {
    let (worker, cosigners) = file.signatures.split_first()?;
    let attestors = &network.attestors;
    // A group signs as one key, whatever its threshold.
    let needed = match attestors.mode {
        AttestorMode::Keys => attestors.threshold as usize,
        AttestorMode::Group => 1,
    };
    let attesting: Vec<_> = cosigners
        .iter()
        .filter(|(key, _)| attestors.contains(key))
        .take(needed)
        .collect();
    let chosen: Vec<_> = if needed > 0
        && attesting.len() == needed
        && file.receipt.attestor_set_version == attestors.version
    {
        attesting.into_iter().copied().collect()
    } else {
        cosigners
            .iter()
            .filter(|(key, _)| *key == job.client)
            .copied()
            .collect()
    };
    if chosen.is_empty() {
        return None;
    }
    let mut ready = SignedReceipt::new(file.receipt);
    ready.signatures.push(*worker);
    ready.signatures.extend(chosen);
    Some(ready)
}

/// Removes the folder's file for the job at `address` once its receipt has settled.
pub fn settled(dir: &Path, address: &Pubkey) {
    let _ = std::fs::remove_file(dir.join(format!("{address}.json")));
}
