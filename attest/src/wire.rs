//! What a co-signing service and its callers send each other, as JSON over HTTP.
//!
//! | request | body | answer |
//! |---|---|---|
//! | `POST /v1/cosign` | [`CosignRequest`] | [`Cosigned`]: the service's own signature (per-key sets, clients) |
//! | `POST /v1/group/commit` | [`CosignRequest`] | [`Committed`]: round one of a group signature |
//! | `POST /v1/group/sign` | [`SignRequest`] | [`Shared`]: round two |
//! | `POST /v1/dkg/start` | [`DkgStart`] | [`DkgStarted`] |
//! | `POST /v1/dkg/round1` | [`DkgRound1`] | `{}`: the service sends its round-two packages to its peers itself |
//! | `POST /v1/dkg/round2` | [`DkgRound2`] | `{}`: a peer's package for this service |
//! | `POST /v1/dkg/finish` | [`DkgFinish`] | [`DkgFinished`] |
//! | `GET /v1/info` | | [`Info`] |
//!
//! A refusal is an HTTP error status with a [`Refusal`] body saying why.
//!
//! Every `POST` says who sends it: [`KEY_HEADER`] names a key, [`TIME_HEADER`] when it signed
//! (Unix seconds, and a random nonce), and [`SIGNATURE_HEADER`] holds its Ed25519 signature
//! of [`request_message`] (that time, the path and the body's SHA-256). A service takes a
//! signature once, within [`SIGNED_FOR_SECS`] of its own clock. A co-signing request is signed
//! by the receipt's worker key, a key generation's requests by its coordinator
//! (`--dkg-coordinator`), and a round-two package by the member it names.

use crate::group::SigningPackage;
use crate::group::{dkg_round1, dkg_round2, Identifier, SignatureShare, SigningCommitments};
use anchor_lang::prelude::Pubkey;
use serde::{Deserialize, Serialize};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::BTreeMap;
use tessera_client::receipt::ReceiptFile;

/// The header naming the key that signed a request (base58).
pub const KEY_HEADER: &str = "tessera-key";
/// The header holding that key's signature of [`request_message`] (hex).
pub const SIGNATURE_HEADER: &str = "tessera-signature";
/// The header saying when the request was signed: Unix seconds, a dot, and 16 random bytes in
/// hex (so that two requests signed in one second differ).
pub const TIME_HEADER: &str = "tessera-time";
/// How far a request's signing time may be from the service's clock, either way.
pub const SIGNED_FOR_SECS: u64 = 60;

/// What a request's sender signs: when (the [`TIME_HEADER`]'s value), the path and the body's
/// SHA-256, so that a signature is good for that request alone, and for a minute.
pub fn request_message(time: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut message = format!("tessera request v1\n{time}\n{path}\n").into_bytes();
    message.extend_from_slice(&tessera_work::spec::hash(body));
    message
}

/// Now, in Unix seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The headers that sign a request to `path` with `body` as `signer`, now.
pub fn signed_headers(signer: &Keypair, path: &str, body: &[u8]) -> [(&'static str, String); 3] {
    let time = format!("{}.{}", unix_now(), new_session());
    let signature = signer.sign_message(&request_message(&time, path, body));
    [
        (KEY_HEADER, signer.pubkey().to_string()),
        (TIME_HEADER, time),
        (SIGNATURE_HEADER, hex::encode(signature.as_ref())),
    ]
}

/// A request's signature headers, as they came.
pub struct Signed<'a> {
    pub key: &'a str,
    pub time: &'a str,
    pub signature: &'a str,
}

/// A request's signature, read from its headers and made within [`SIGNED_FOR_SECS`] of the
/// service's clock: what can be checked before the body is read.
pub struct RequestSignature {
    pub signer: Pubkey,
    /// The [`TIME_HEADER`]'s value, and its seconds.
    pub time: String,
    pub secs: u64,
    pub bytes: [u8; 64],
}

impl RequestSignature {
    /// Reads the headers' values, checking their form and the time against `now`.
    pub fn read(
        Signed {
            key,
            time,
            signature,
        }: Signed,
        now: u64,
    ) -> Result<Self, String> {
        let signer: Pubkey = key
            .parse()
            .map_err(|_| format!("{KEY_HEADER} {key:?} is not a base58 public key"))?;
        let bytes: [u8; 64] = hex::decode(signature)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| format!("{SIGNATURE_HEADER} is not 64 bytes of hex"))?;
        let secs = match time.split_once('.') {
            Some((secs, nonce)) if nonce.len() == 32 && hex::decode(nonce).is_ok() => {
                secs.parse::<u64>().ok()
            }
            _ => None,
        }
        .ok_or_else(|| {
            format!(
                "{TIME_HEADER} {time:?} is not Unix seconds, a dot and a nonce of 32 hex digits \
                 (tessera_attest::wire::signed_headers makes it)"
            )
        })?;
        if secs.abs_diff(now) > SIGNED_FOR_SECS {
            return Err(format!(
                "the request was signed at {secs}, {} s from this service's clock ({now}); it \
                 takes requests signed within {SIGNED_FOR_SECS} s: check the clocks, and sign it \
                 again",
                secs.abs_diff(now)
            ));
        }
        Ok(Self {
            signer,
            time: time.to_string(),
            secs,
            bytes,
        })
    }

    /// Whether the signature is the signer's, of the request to `path` with `body`.
    pub fn verify(&self, path: &str, body: &[u8]) -> Result<(), String> {
        let signer = self.signer;
        let verifying = ed25519_dalek::VerifyingKey::from_bytes(&signer.to_bytes())
            .map_err(|_| format!("{KEY_HEADER} {signer} is not an Ed25519 key"))?;
        verifying
            .verify_strict(
                &request_message(&self.time, path, body),
                &ed25519_dalek::Signature::from_bytes(&self.bytes),
            )
            .map_err(|_| {
                format!("{SIGNATURE_HEADER} is not {signer}'s signature of this request to {path}")
            })
    }
}

/// Largest request a co-signing service takes: a receipt and its evidence.
pub const MAX_REQUEST_BYTES: usize = 32 * 1024 * 1024;

/// Room for the products in one request, leaving the rest for the digests and the receipt.
const PRODUCT_BUDGET_BYTES: usize = 24 * 1024 * 1024;

/// How many rounds of side `n` one request can bring as products (hex of `4 + 4n²` bytes
/// each), at least one: a worker signs a receipt before more rounds than this are unpaid.
pub fn rounds_per_request(n: u32) -> u32 {
    let product_hex = 2 * (4 + 4 * (n as usize).pow(2));
    (PRODUCT_BUDGET_BYTES / product_hex).clamp(1, u32::MAX as usize) as u32
}

/// A receipt to co-sign and the evidence of its work.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CosignRequest {
    pub receipt: ReceiptFile,
    pub evidence: Evidence,
}

/// What shows that a receipt's work was done.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Evidence {
    /// Nothing: only a job's client may co-sign on its own word.
    None,
    /// The built-in workload: the spec document (JSON text), the digests (hex) of the first
    /// rounds, which the units the job already settled cover, and the product (hex of the
    /// published form) of every round after them; all of them chain to the receipt's result
    /// hash.
    Matmul {
        spec: String,
        #[serde(default)]
        digests: Vec<String>,
        products: Vec<String>,
    },
    /// A bandwidth provider's relay. No reviewer accepts it: the bytes are counted by the
    /// provider alone (kept so that such a request is refused with that reason).
    Relay { address: String },
}

impl Evidence {
    /// The built-in workload's evidence for a receipt whose result hash is `result_hash`,
    /// from the spec and results folders: the spec document, and the rounds whose chain
    /// reaches that hash (the worker may have published more since it signed): the rounds
    /// the job's `settled_units` surely cover (`matmul::rounds_for`) by digest, the rest by
    /// product.
    pub fn published_matmul(
        specs: &std::path::Path,
        results: &std::path::Path,
        job: &str,
        (spec_hash, result_hash): (&[u8; 32], &[u8; 32]),
        settled_units: u64,
    ) -> Result<Self, String> {
        use tessera_work::{matmul, publish, spec::Workload};
        let path = publish::spec_path(specs, spec_hash);
        let spec = std::fs::read_to_string(&path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let parsed = publish::load_spec(specs, spec_hash).map_err(|error| error.to_string())?;
        let Workload::Matmul { n, rounds } = parsed.workload else {
            return Err("the job's spec is not the built-in workload".into());
        };
        let paid_rounds = matmul::rounds_for(n, settled_units) as usize;
        let products =
            publish::load_products(results, job, rounds).map_err(|error| error.to_string())?;
        let mut link = [0; 32];
        for (done, product) in products.iter().enumerate() {
            link = matmul::chain(&link, product);
            if link == *result_hash {
                let (paid, new) = products[..=done].split_at(paid_rounds.min(done));
                return Ok(Evidence::Matmul {
                    spec,
                    digests: paid.iter().map(|p| hex::encode(p.digest())).collect(),
                    products: new.iter().map(|p| hex::encode(p.to_bytes())).collect(),
                });
            }
        }
        Err(format!(
            "no prefix of the {} products published for job {job} chains to the receipt's result \
             hash",
            products.len()
        ))
    }
}

/// The service's signature of a receipt.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cosigned {
    /// The service's key, base58.
    pub key: String,
    /// Ed25519 signature of the receipt bytes, hex.
    pub signature: String,
}

/// Round one of a group signature: the service reviewed the receipt and commits to nonces
/// kept for `session`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Committed {
    pub session: String,
    pub identifier: Identifier,
    pub commitments: SigningCommitments,
}

/// Round two: the package every signer signs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignRequest {
    pub session: String,
    pub package: SigningPackage,
}

/// A member's signature share.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Shared {
    pub identifier: Identifier,
    pub share: SignatureShare,
}

/// Starts a distributed key generation: this service is member `index` (1-based) of the
/// members at `peers` (index → service), with threshold `threshold`. Sent by the coordinator
/// the service was started to take key generations from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DkgStart {
    pub session: String,
    pub index: u16,
    pub threshold: u16,
    pub peers: BTreeMap<u16, Peer>,
}

/// A member of a key generation: where its service is, and the key it signs its round-two
/// packages with (its `dkg_key` in [`Info`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    pub url: String,
    pub key: String,
}

/// The service's public round-one package.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DkgStarted {
    pub package: dkg_round1::Package,
}

/// Every member's round-one package, relayed by the coordinator (they are public).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DkgRound1 {
    pub session: String,
    pub packages: BTreeMap<u16, dkg_round1::Package>,
}

/// A peer's round-two package for this service (secret: sent by the peer itself).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DkgRound2 {
    pub session: String,
    pub from: u16,
    pub package: dkg_round2::Package,
}

/// Ends a distributed key generation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DkgFinish {
    pub session: String,
}

/// The group key this service now holds a share of.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DkgFinished {
    pub group_key: String,
    pub index: u16,
}

/// What a service is.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Info {
    /// `key` (per-key) or `group`.
    pub mode: String,
    /// Its own key, or its group's key.
    pub key: String,
    /// The network it attests for, by address.
    pub network: String,
    /// A group member's public key package (the group key and every member's verifying
    /// share), which a coordinator needs to aggregate and to name a bad share.
    pub public_key_package: Option<crate::group::PublicKeyPackage>,
    /// A group-mode service's key for key generations (made when it starts): it signs the
    /// round-two packages it sends its peers, and its peers take theirs only from the keys the
    /// coordinator named.
    #[serde(default)]
    pub dkg_key: Option<String>,
}

/// Why a request was refused.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Refusal {
    pub reason: String,
}

/// A fresh random id for a signing session or a key generation.
pub fn new_session() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}
