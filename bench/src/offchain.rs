//! Table 4: receipts built, signed and verified by the client library on one core, against
//! ed25519-dalek signing and verifying the same 247 bytes directly.

use anyhow::{Context, Result};
use ed25519_dalek::{Signer as _, SigningKey};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tessera::state::UnitKind;
use tessera_client::flows;
use tessera_client::receipt::{Receipt, SignedReceipt};

/// Operations per timed loop.
pub const ITERATIONS: u32 = 10_000;
/// Timed loops of each side, alternating library and raw so both see the same machine.
pub const ROUNDS: usize = 5;
/// Operations run before each timed loop, untimed.
pub const WARM_UP: u32 = 1_000;
/// The worker's secret key: the library and the raw signer use the same key.
const WORKER_SEED: [u8; 32] = [7; 32];

/// One operation timed through the library and directly: the median of `ROUNDS` loops of
/// `ITERATIONS` each.
pub struct Comparison {
    pub operation: &'static str,
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
    operation: &'static str,
    mut library: impl FnMut(u32) -> Result<()>,
    mut raw: impl FnMut(u32) -> Result<()>,
) -> Result<Comparison> {
    let mut library_times = Vec::with_capacity(ROUNDS);
    let mut raw_times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        library_times.push(time(&mut library)?);
        raw_times.push(time(&mut raw)?);
    }
    Ok(Comparison {
        operation,
        library: median(library_times),
        raw: median(raw_times),
    })
}

impl Comparison {
    /// Operations per second through the library, on one core.
    pub fn library_per_second(&self) -> f64 {
        f64::from(ITERATIONS) / self.library.as_secs_f64()
    }

    /// Operations per second directly with ed25519-dalek, on one core.
    pub fn raw_per_second(&self) -> f64 {
        f64::from(ITERATIONS) / self.raw.as_secs_f64()
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

/// Runs `operation` `WARM_UP` times untimed, then `ITERATIONS` times timed.
fn time(mut operation: impl FnMut(u32) -> Result<()>) -> Result<Duration> {
    for i in 0..WARM_UP {
        operation(i)?;
    }
    let started = Instant::now();
    for i in 0..ITERATIONS {
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
        .map(|_| time(&mut encode))
        .collect::<Result<Vec<_>>>()?;
    Ok(f64::from(ITERATIONS) / median(times).as_secs_f64())
}

/// Signing and verifying, each through the library and directly, with one key.
pub fn measure() -> Result<Vec<Comparison>> {
    let worker = Keypair::new_from_array(WORKER_SEED);
    let raw_key = SigningKey::from_bytes(&WORKER_SEED);
    assert_eq!(
        raw_key.verifying_key().to_bytes(),
        worker.pubkey().to_bytes(),
        "the library and the raw signer must use the same key"
    );
    Ok(vec![sign(&worker, &raw_key)?, verify(&worker, &raw_key)?])
}
