//! Where a client's spec documents and a worker's results are published: plain folders, one
//! file per document, named by what identifies it. A client writes the spec document it paid
//! for under its hash (`job create --matmul`, `--spec`); the worker reads it there and writes
//! each round's product under the job's address, where the client (or an attestor) reads it
//! to check the result. Serve or copy the folders between machines as you like: every file is
//! checked against the ledger (the spec against the job's `spec_hash`, the products against
//! its `result_hash`), so nothing in them has to be trusted.

use crate::matmul::Matrix;
use crate::spec::{self, Spec, SpecError};
use std::path::{Path, PathBuf};

/// What went wrong with a published file.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "no spec document {path}: the job's client publishes it there (`tessera job create \
         --matmul`, `--spec`); copy it into the spec folder"
    )]
    MissingSpec { path: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("spec document {path}: {source}")]
    Spec { path: String, source: SpecError },
    #[error("{path} is not a published product (n as u32 LE, then n² field elements)")]
    BadProduct { path: String },
}

/// The path of the spec document whose SHA-256 is `spec_hash` in the folder `specs`.
pub fn spec_path(specs: &Path, spec_hash: &[u8; 32]) -> PathBuf {
    specs.join(format!("{}.json", spec::hex(spec_hash)))
}

/// Writes `bytes` (a checked spec document) under its hash in `specs`; returns its hash.
pub fn publish_spec(specs: &Path, bytes: &[u8]) -> Result<[u8; 32], PublishError> {
    let hash = spec::hash(bytes);
    write_atomically(&spec_path(specs, &hash), bytes)?;
    Ok(hash)
}

/// Reads the spec document of `spec_hash` from `specs` and checks it against the hash.
pub fn load_spec(specs: &Path, spec_hash: &[u8; 32]) -> Result<Spec, PublishError> {
    let path = spec_path(specs, spec_hash);
    let shown = path.display().to_string();
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(PublishError::MissingSpec { path: shown })
        }
        Err(source) => {
            return Err(PublishError::Read {
                path: shown,
                source,
            })
        }
    };
    Spec::parse_for(&bytes, spec_hash).map_err(|source| PublishError::Spec {
        path: shown,
        source,
    })
}

/// The folder of `job`'s (base58 address) products in `results`.
pub fn job_results(results: &Path, job: &str) -> PathBuf {
    results.join(job)
}

fn product_path(results: &Path, job: &str, round: u32) -> PathBuf {
    job_results(results, job).join(format!("round-{round:06}.bin"))
}

/// Publishes round `round`'s product of `job`.
pub fn publish_product(
    results: &Path,
    job: &str,
    round: u32,
    product: &Matrix,
) -> Result<(), PublishError> {
    write_atomically(&product_path(results, job, round), &product.to_bytes())
}

/// Reads the products of `job`'s rounds in order, from round 0 to the first one missing,
/// at most `rounds` of them.
pub fn load_products(results: &Path, job: &str, rounds: u32) -> Result<Vec<Matrix>, PublishError> {
    let mut products = Vec::new();
    for round in 0..rounds {
        let path = product_path(results, job, round);
        let shown = path.display().to_string();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => break,
            Err(source) => {
                return Err(PublishError::Read {
                    path: shown,
                    source,
                })
            }
        };
        products.push(Matrix::from_bytes(&bytes).ok_or(PublishError::BadProduct { path: shown })?);
    }
    Ok(products)
}

/// Checks the result `job` published in `results` for the built-in workload (at most `rounds`
/// rounds, their inputs from `seed`, the job's `matmul::job_seed`) against its on-chain
/// `result_hash`: every round's product by Freivalds' test, and their chain. Returns the
/// number of rounds checked.
pub fn check_published(
    results: &Path,
    job: &str,
    seed: &[u8; 32],
    rounds: u32,
    result_hash: &[u8; 32],
) -> Result<u32, CheckError> {
    let products = load_products(results, job, rounds)?;
    if products.is_empty() {
        return Err(CheckError::Nothing {
            folder: job_results(results, job).display().to_string(),
        });
    }
    crate::matmul::check_result(seed, &products, result_hash, &mut rand::thread_rng())?;
    Ok(products.len() as u32)
}

/// Why a published result does not check.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Published(#[from] PublishError),
    #[error("no product is published in {folder}")]
    Nothing { folder: String },
    #[error(transparent)]
    Wrong(#[from] crate::matmul::CheckFailure),
}

/// Writes through a temporary file, synced, and a rename: a reader never sees half a file,
/// and a crash leaves either the old file or the new one.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    use std::io::Write;
    let failed = |source| PublishError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(failed)?;
    }
    let temporary = path.with_extension("partial");
    let mut file = std::fs::File::create(&temporary).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    std::fs::rename(&temporary, path).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_is_found_by_its_hash_and_a_tampered_one_is_refused() {
        let folder = std::env::temp_dir().join(format!("tessera-specs-{}", std::process::id()));
        let bytes = Spec::matmul(8, 2).to_bytes();
        let hash = publish_spec(&folder, &bytes).unwrap();
        assert_eq!(load_spec(&folder, &hash).unwrap(), Spec::matmul(8, 2));
        let error = load_spec(&folder, &[9; 32]).unwrap_err();
        assert!(matches!(error, PublishError::MissingSpec { .. }), "{error}");
        std::fs::write(spec_path(&folder, &hash), Spec::matmul(8, 3).to_bytes()).unwrap();
        let error = load_spec(&folder, &hash).unwrap_err().to_string();
        assert!(error.contains("not the job's spec hash"), "{error}");
        let _ = std::fs::remove_dir_all(&folder);
    }
}
