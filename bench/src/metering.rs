//! Table 6: what the worker adds to a round of the built-in workload. The work is
//! `matmul::run_round`; on top of it the worker does what `tessera worker run` does after each
//! round: it publishes the product (a file written, fsynced and renamed into place), chains
//! the product's digest into the result hash, and commits the round to its store (a redb
//! transaction, fsynced). Apart from the rounds, the worker writes each receipt it signs to
//! the store as pending before it sends it; that write is timed on its own.

use anyhow::{Context, Result};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tessera::state::UnitKind;
use tessera_client::flows;
use tessera_client::receipt::{ReceiptFile, SignedReceipt};
use tessera_work::matmul;
use tessera_work::publish;
use tessera_worker::store::{JobRecord, Pending, Store};

/// Side lengths of the workload's matrices, one row each.
pub const SIZES: [usize; 3] = [64, 128, 256];
/// Rounds timed at each size, after one untimed.
pub const ROUNDS: u32 = 15;
/// Pending receipts written, each timed.
pub const PENDING_WRITES: u32 = 50;

/// The rounds at one size, each part's times in round order.
pub struct RoundCosts {
    /// Side length.
    pub n: usize,
    /// Bytes of one published product.
    pub product_bytes: usize,
    /// `run_round`: deriving the inputs and multiplying them.
    pub work: Vec<Duration>,
    /// `publish_product`: the file written, fsynced and renamed.
    pub publish: Vec<Duration>,
    /// `matmul::chain`: the product's digest chained into the result hash.
    pub chain: Vec<Duration>,
    /// `Store::update` committing the round.
    pub record: Vec<Duration>,
}

impl RoundCosts {
    /// What the worker added to each round: publish + chain + record.
    pub fn added(&self) -> Vec<Duration> {
        (0..self.work.len())
            .map(|round| self.publish[round] + self.chain[round] + self.record[round])
            .collect()
    }
}

/// Table 6's measurements.
pub struct Metering {
    pub rounds: Vec<RoundCosts>,
    /// Bytes of the pending receipt as stored (a receipt file, JSON).
    pub pending_bytes: usize,
    /// Each `Store::update` that stored a pending receipt.
    pub pending_writes: Vec<Duration>,
}

/// The median of `times`.
pub fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn timed<T>(operation: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = operation();
    (value, started.elapsed())
}

/// A folder of its own under the system's temporary folder, emptied first.
fn scratch_folder() -> Result<PathBuf> {
    let folder = std::env::temp_dir().join(format!("tessera-bench-worker-{}", std::process::id()));
    if folder.exists() {
        std::fs::remove_dir_all(&folder)
            .with_context(|| format!("cannot clear {}", folder.display()))?;
    }
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    Ok(folder)
}

/// One job of side `n`, `ROUNDS + 1` rounds as the worker runs them, each part timed.
fn rounds_at(n: usize, results: &Path, store: &Store) -> Result<RoundCosts> {
    let spec_hash = [n as u8; 32];
    let job_key = [n as u8; 32];
    let job = Pubkey::new_from_array(job_key).to_string();
    store.update::<anyhow::Error>(&job_key, |_| Ok(JobRecord::new(spec_hash)))?;
    let mut costs = RoundCosts {
        n,
        product_bytes: 0,
        work: Vec::new(),
        publish: Vec::new(),
        chain: Vec::new(),
        record: Vec::new(),
    };
    let mut result_hash = [0; 32];
    for round in 0..=ROUNDS {
        let (done, work) = timed(|| matmul::run_round(&spec_hash, round, n));
        let (published, publish) =
            timed(|| publish::publish_product(results, &job, round, &done.product));
        published.context("the worker publishes its product")?;
        let (chained, chain) = timed(|| matmul::chain(&result_hash, &done.product));
        result_hash = chained;
        let units = matmul::units_for(n as u32, round + 1);
        let (recorded, record) = timed(|| {
            store.update::<anyhow::Error>(&job_key, |stored| {
                let mut stored = stored.context("the job's record vanished")?;
                stored.rounds_done = round + 1;
                stored.units_metered = units;
                stored.measured_ms += done.cpu_time.as_millis() as u64;
                stored.result_hash = result_hash;
                Ok(stored)
            })
        });
        recorded?;
        if round == 0 {
            costs.product_bytes = done.product.to_bytes().len();
            continue;
        }
        costs.work.push(work);
        costs.publish.push(publish);
        costs.chain.push(chain);
        costs.record.push(record);
    }
    Ok(costs)
}

/// Stores `PENDING_WRITES` signed receipts as pending, one commit each, as the worker does
/// before a receipt leaves the machine.
fn pending_writes(store: &Store) -> Result<(usize, Vec<Duration>)> {
    let worker = Keypair::new_from_array([9; 32]);
    let job_key = [1; 32];
    store.update::<anyhow::Error>(&job_key, |_| Ok(JobRecord::new([2; 32])))?;
    let mut times = Vec::with_capacity(PENDING_WRITES as usize);
    let mut bytes = 0;
    for units in 1..=u64::from(PENDING_WRITES) + 1 {
        let receipt = flows::receipt_for(
            flows::Binding {
                network: Pubkey::new_from_array([3; 32]),
                subject: Pubkey::new_from_array(job_key),
                subject_nonce: 1,
                provider: Pubkey::new_from_array([4; 32]),
                worker_key: worker.pubkey(),
                unit_kind: UnitKind::CpuSeconds,
                attestor_set_version: 1,
            },
            flows::Metered {
                cumulative_units: units,
                result_hash: [5; 32],
                issued_at: 1_796_083_200,
                valid_for_secs: 600,
            },
        );
        let mut signed = SignedReceipt::new(receipt);
        signed.sign(&worker).context("the worker signs")?;
        let file = serde_json::to_vec(&ReceiptFile::from_signed(&signed))?;
        bytes = file.len();
        let expires_at = signed.receipt.expires_at;
        let (written, time) = timed(|| {
            store.update::<anyhow::Error>(&job_key, |stored| {
                let mut stored = stored.context("the job's record vanished")?;
                stored.pending = Some(Pending {
                    cumulative_units: units,
                    expires_at,
                    receipt: file,
                });
                Ok(stored)
            })
        });
        written?;
        // The first write is untimed, as the first round is.
        if units > 1 {
            times.push(time);
        }
    }
    Ok((bytes, times))
}

/// Runs the rounds at each of [`SIZES`] and the pending writes in a temporary folder, which
/// it removes.
pub fn measure() -> Result<Metering> {
    let folder = scratch_folder()?;
    let results = folder.join("results");
    let store = Store::open(&folder.join("worker.redb"))?;
    let rounds = SIZES
        .iter()
        .map(|&n| rounds_at(n, &results, &store))
        .collect::<Result<Vec<_>>>()?;
    let (pending_bytes, pending_writes) = pending_writes(&store)?;
    drop(store);
    std::fs::remove_dir_all(&folder)
        .with_context(|| format!("cannot remove {}", folder.display()))?;
    Ok(Metering {
        rounds,
        pending_bytes,
        pending_writes,
    })
}
