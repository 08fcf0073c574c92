//! The job spec document: a small JSON file that says what a job runs. A job commits to it by
//! its SHA-256 (`Job::spec_hash`), so a worker that fetched the document from anywhere can tell
//! whether it is the one the client paid for.
//!
//! ```json
//! {"format":"tessera-spec/v1","workload":{"kind":"matmul","n":128,"rounds":40}}
//! ```

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a spec document may ask a worker to run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Workload {
    /// The built-in workload: `rounds` products of two `n`×`n` integer matrices over the prime
    /// field of [`crate::matmul::MODULUS`], inputs derived from the spec hash
    /// ([`crate::matmul`]). Metered in CPU-seconds.
    Matmul { n: u32, rounds: u32 },
    /// An external program run with `args`, holding `devices` devices; metered in wall time
    /// times devices, its standard output's digest as the result hash.
    Command {
        program: String,
        #[serde(default)]
        args: Vec<String>,
        #[serde(default = "one")]
        devices: u32,
    },
    /// A TCP relay to `target` (`host:port`); metered in bytes relayed.
    Relay { target: String },
}

fn one() -> u32 {
    1
}

/// A job spec document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Always [`Spec::FORMAT`].
    pub format: String,
    pub workload: Workload,
}

/// Why a spec document cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("the spec document is not JSON of the tessera-spec/v1 format: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("the spec document's format is {found:?}; this worker reads tessera-spec/v1")]
    Format { found: String },
    #[error(
        "the spec document's SHA-256 is {found}, not the job's spec hash {expected}: it is not \
         the document the job was created with"
    )]
    HashMismatch { expected: String, found: String },
    #[error("{0}")]
    Unrunnable(String),
}

/// The largest matrix the built-in workload multiplies: 1024 × 1024 entries of 8 bytes is
/// 8 MiB per matrix, and a round stays within seconds.
pub const MAX_MATMUL_N: u32 = 1024;

impl Spec {
    /// The format this crate reads and writes.
    pub const FORMAT: &'static str = "tessera-spec/v1";

    /// A spec for the built-in workload.
    pub fn matmul(n: u32, rounds: u32) -> Self {
        Self {
            format: Self::FORMAT.to_string(),
            workload: Workload::Matmul { n, rounds },
        }
    }

    /// The workload of every provider's service work: rounds of side
    /// [`crate::matmul::SERVICE_N`] (a quarter unit each), as many as the provider runs, their inputs derived from
    /// [`crate::matmul::service_seed`] instead of this document's hash.
    pub fn service() -> Self {
        Self::matmul(crate::matmul::SERVICE_N, u32::MAX)
    }

    /// A spec for a bandwidth job relaying to `target` (`host:port`).
    pub fn relay(target: &str) -> Self {
        Self {
            format: Self::FORMAT.to_string(),
            workload: Workload::Relay {
                target: target.to_string(),
            },
        }
    }

    /// The document's bytes, as `job create` writes them and as the hash covers them.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a spec always serializes")
    }

    /// Reads a document and checks that it is one this worker can run.
    pub fn parse(bytes: &[u8]) -> Result<Self, SpecError> {
        let spec: Spec = serde_json::from_slice(bytes)?;
        if spec.format != Self::FORMAT {
            return Err(SpecError::Format { found: spec.format });
        }
        spec.check()?;
        Ok(spec)
    }

    /// Reads a document and checks it against the job's `spec_hash`.
    pub fn parse_for(bytes: &[u8], spec_hash: &[u8; 32]) -> Result<Self, SpecError> {
        let found = hash(bytes);
        if found != *spec_hash {
            return Err(SpecError::HashMismatch {
                expected: hex(spec_hash),
                found: hex(&found),
            });
        }
        Self::parse(bytes)
    }

    fn check(&self) -> Result<(), SpecError> {
        match &self.workload {
            Workload::Matmul { n, rounds } => {
                if !(1..=MAX_MATMUL_N).contains(n) || *rounds == 0 {
                    return Err(SpecError::Unrunnable(format!(
                        "matmul needs 1 <= n <= {MAX_MATMUL_N} and at least one round; the spec \
                         asks for n = {n}, rounds = {rounds}"
                    )));
                }
            }
            Workload::Command {
                program, devices, ..
            } => {
                if program.is_empty() || *devices == 0 {
                    return Err(SpecError::Unrunnable(
                        "a command workload needs a program and at least one device".into(),
                    ));
                }
            }
            Workload::Relay { target } => {
                if target.parse::<std::net::SocketAddr>().is_err() {
                    return Err(SpecError::Unrunnable(format!(
                        "the relay target {target:?} is not an address and port such as \
                         127.0.0.1:9000"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// SHA-256 of `bytes`.
pub fn hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// `bytes` as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_round_trips_and_is_bound_to_its_hash() {
        let spec = Spec::matmul(64, 3);
        let bytes = spec.to_bytes();
        assert_eq!(Spec::parse_for(&bytes, &hash(&bytes)).unwrap(), spec);
        let other = Spec::matmul(64, 4).to_bytes();
        let error = Spec::parse_for(&other, &hash(&bytes)).unwrap_err();
        assert!(matches!(error, SpecError::HashMismatch { .. }), "{error}");
    }

    #[test]
    fn specs_a_worker_cannot_run_are_refused_with_the_reason() {
        let cases = [
            (
                r#"{"format":"tessera-spec/v2","workload":{"kind":"matmul","n":4,"rounds":1}}"#,
                "format",
            ),
            (
                r#"{"format":"tessera-spec/v1","workload":{"kind":"matmul","n":0,"rounds":1}}"#,
                "1 <= n",
            ),
            (
                r#"{"format":"tessera-spec/v1","workload":{"kind":"matmul","n":4,"rounds":0}}"#,
                "one round",
            ),
            (
                r#"{"format":"tessera-spec/v1","workload":{"kind":"relay","target":"nowhere"}}"#,
                "not an address",
            ),
            (
                r#"{"format":"tessera-spec/v1","workload":{"kind":"command","program":""}}"#,
                "needs a program",
            ),
            (
                r#"{"format":"tessera-spec/v1","workload":{"kind":"teleport"}}"#,
                "not JSON",
            ),
            (
                r#"{"format":"tessera-spec/v1","workload":{"kind":"matmul","n":4,"rounds":1},"x":1}"#,
                "not JSON",
            ),
        ];
        for (document, says) in cases {
            let error = Spec::parse(document.as_bytes()).unwrap_err().to_string();
            assert!(error.contains(says), "{document}: {error}");
        }
    }
}
