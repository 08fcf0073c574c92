//! Table 4: receipts built, signed and verified by the client library on one core, against
//! ed25519-dalek signing and verifying the same 247 bytes directly; and a group's signing
//! round (FROST through `tessera-attest`), every member and the coordinator in one thread,
//! against one key's signature of the same bytes.

use anyhow::{Context, Result};
use ed25519_dalek::{Signer as _, SigningKey};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tessera::state::UnitKind;
use tessera_attest::group;
use tessera_client::flows;
use tessera_client::receipt::{Receipt, SignedReceipt};

/// Operations per timed loop.
pub const ITERATIONS: u32 = 10_000;
/// Timed loops of each side, alternating library and raw so both see the same machine.
pub const ROUNDS: usize = 5;
/// Operations run before each timed loop, untimed.
pub const WARM_UP: u32 = 1_000;
/// Signing rounds per timed loop of a group, and untimed before each: a round takes
/// hundreds of single signatures' time.
pub const GROUP_ITERATIONS: u32 = 200;
pub const GROUP_WARM_UP: u32 = 20;
/// The groups whose signing round is timed, as (threshold, members).
pub const GROUPS: [(u16, u16); 2] = [(3, 5), (7, 10)];
/// The worker's secret key: the library and the raw signer use the same key.
const WORKER_SEED: [u8; 32] = [7; 32];

/// One operation timed through the library and directly: the median of `ROUNDS` loops of
/// `iterations` each.
pub struct Comparison {
    pub operation: String,
    /// For a group's signing round, the group as (threshold, members).
    pub group: Option<(u16, u16)>,
    /// Operations per timed loop.
    pub iterations: u32,
    pub library: Duration,
    pub raw: Duration,
}

/// The median of `times`.
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Times `library` and `raw` in alternating loops and keeps each side's median loop.
fn compare(
    operation: impl Into<String>,
    (iterations, warm_up): (u32, u32),
    mut library: impl FnMut(u32) -> Result<()>,
    mut raw: impl FnMut(u32) -> Result<()>,
) -> Result<Comparison> {
    let mut library_times = Vec::with_capacity(ROUNDS);
    let mut raw_times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        library_times.push(time(&mut library, iterations, warm_up)?);
        raw_times.push(time(&mut raw, iterations, warm_up)?);
    }
    Ok(Comparison {
        operation: operation.into(),
        group: None,
        iterations,
        library: median(library_times),
        raw: median(raw_times),
    })
}

impl Comparison {
    /// Operations per second through the library, on one core.
    pub fn library_per_second(&self) -> f64 {
        f64::from(self.iterations) / self.library.as_secs_f64()
    }

    /// Operations per second directly with ed25519-dalek, on one core.
    pub fn raw_per_second(&self) -> f64 {
        f64::from(self.iterations) / self.raw.as_secs_f64()
    }

    /// How many times longer the library takes than the raw operation.
    pub fn slowdown(&self) -> f64 {
        self.library.as_secs_f64() / self.raw.as_secs_f64()
    }
}

/// A receipt with every field set, as a worker would issue it.
fn receipt(worker: &Pubkey, cumulative_units: u64) -> Receipt {
    flows::receipt_for(
        flows::Binding {
            network: Pubkey::new_from_array([1; 32]),
            subject: Pubkey::new_from_array([2; 32]),
            subject_nonce: 42,
            provider: Pubkey::new_from_array([3; 32]),
            worker_key: *worker,
            unit_kind: UnitKind::GpuSeconds,
            attestor_set_version: 1,
        },
        flows::Metered {
            cumulative_units,
            result_hash: [4; 32],
            issued_at: 1_796_083_200,
            valid_for_secs: 600,
        },
    )
}

/// Runs `operation` `warm_up` times untimed, then `iterations` times timed.
fn time(
    mut operation: impl FnMut(u32) -> Result<()>,
    iterations: u32,
    warm_up: u32,
) -> Result<Duration> {
    for i in 0..warm_up {
        operation(i)?;
    }
    let started = Instant::now();
    for i in 0..iterations {
        operation(i)?;
    }
    Ok(started.elapsed())
}

/// Builds a receipt, encodes it and has the worker sign it, through the library; against
/// ed25519-dalek signing the encoded bytes of one receipt.
fn sign(worker: &Keypair, raw_key: &SigningKey) -> Result<Comparison> {
    let worker_key = worker.pubkey();
    let bytes = receipt(&worker_key, 1).to_bytes();
    compare(
        "build + encode + sign (worker)",
        (ITERATIONS, WARM_UP),
        |i| {
            let mut signed = SignedReceipt::new(receipt(&worker_key, u64::from(i)));
            signed.sign(worker).context("the worker signs")?;
            black_box(signed);
            Ok(())
        },
        |_| {
            black_box(raw_key.sign(black_box(&bytes)));
            Ok(())
        },
    )
}

/// Verifies a receipt signed by the worker through the library (which re-encodes it and reads
/// the key each time); against ed25519-dalek's strict verification of the same bytes.
fn verify(worker: &Keypair, raw_key: &SigningKey) -> Result<Comparison> {
    let mut signed = SignedReceipt::new(receipt(&worker.pubkey(), 1));
    signed.sign(worker).context("the worker signs")?;
    let bytes = signed.receipt.to_bytes();
    let signature = raw_key.sign(&bytes);
    let verifying_key = raw_key.verifying_key();
    compare(
        "verify (one signature)",
        (ITERATIONS, WARM_UP),
        |_| {
            black_box(&signed)
                .verify()
                .context("the library verifies its own receipt")
        },
        |_| {
            verifying_key
                .verify_strict(black_box(&bytes), black_box(&signature))
                .context("ed25519-dalek verifies the same signature")
        },
    )
}

/// Receipts built and encoded (borsh, 247 bytes) per second on one core, unsigned: the share of
/// the library's cost that is not ed25519.
pub fn encodes_per_second() -> Result<f64> {
    let worker = Pubkey::new_from_array([5; 32]);
    let mut encode = |i: u32| {
        black_box(receipt(&worker, u64::from(i)).to_bytes());
        Ok(())
    };
    let times = (0..ROUNDS)
        .map(|_| time(&mut encode, ITERATIONS, WARM_UP))
        .collect::<Result<Vec<_>>>()?;
    Ok(f64::from(ITERATIONS) / median(times).as_secs_f64())
}

/// One signing round of a dealer-made `threshold`-of-`members` group over a receipt's bytes,
/// against ed25519-dalek signing the same bytes with one key.
fn group_round((threshold, members): (u16, u16), raw_key: &SigningKey) -> Result<Comparison> {
    let shares = group::dealer(threshold, members)
        .with_context(|| format!("a dealer makes a {threshold}-of-{members} group"))?;
    let signers = &shares[..usize::from(threshold)];
    let bytes = receipt(&Pubkey::new_from_array([6; 32]), 1).to_bytes();
    let mut comparison = compare(
        format!("group signing round, {threshold}-of-{members}"),
        (GROUP_ITERATIONS, GROUP_WARM_UP),
        |_| {
            black_box(group::sign_together(signers, black_box(&bytes))?);
            Ok(())
        },
        |_| {
            black_box(raw_key.sign(black_box(&bytes)));
            Ok(())
        },
    )?;
    comparison.group = Some((threshold, members));
    Ok(comparison)
}

/// Signing and verifying, each through the library and directly, with one key; then a
/// group's signing round for each of [`GROUPS`].
pub fn measure() -> Result<Vec<Comparison>> {
    let worker = Keypair::new_from_array(WORKER_SEED);
    let raw_key = SigningKey::from_bytes(&WORKER_SEED);
    assert_eq!(
        raw_key.verifying_key().to_bytes(),
        worker.pubkey().to_bytes(),
        "the library and the raw signer must use the same key"
    );
    let mut comparisons = vec![sign(&worker, &raw_key)?, verify(&worker, &raw_key)?];
    for group in GROUPS {
        comparisons.push(group_round(group, &raw_key)?);
    }
    Ok(comparisons)
}
