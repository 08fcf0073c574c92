//! The built-in workload: products of square integer matrices over the prime field of
//! [`MODULUS`] (2^31 - 1). Each round's two inputs are derived from a seed bound to the job (its
//! spec hash, its address and its nonce: [`job_seed`]), so anyone can recompute them and no
//! two jobs share them; the product of a round is published, and anyone can check it
//! against the inputs with Freivalds' test in O(n²) instead of redoing the O(n³) product: for
//! a uniformly random vector `r`, `A(Br) = Cr` holds for a wrong `C` with probability at most
//! 1/p per trial.
//!
//! Inputs: entry `(i, j)` of round `r`'s matrix `A` (or `B`) is the `i·n + j`-th output of
//! ChaCha20 seeded with SHA-256(`"tessera/matmul/v1"` ‖ seed ‖ `"A"` (or `"B"`) ‖ `r` as u32
//! LE), each output a u64 reduced mod p, where the seed is [`job_seed`] for a job and
//! [`service_seed`] for a provider's service work. Digest of a matrix: SHA-256 of the domain, `n` as
//! u32 LE and its entries as u32 LE in row-major order. The job's result hash chains the
//! rounds: `h_0` = 32 zero bytes, `h_{r+1}` = SHA-256(`h_r` ‖ digest(C_r)).
//!
//! Units: a round of side `n` is `n³` multiply-adds modulo p, and one unit (a CPU-second, or a
//! GPU-second for a GPU job) is [`MULTIPLY_ADDS_PER_UNIT`] of them, so `r` rounds are worth
//! `floor(r·n³ / 2^29)` units ([`units_for`]) on every machine: the work, not the time a
//! machine took, is what a receipt states and what a co-signer recomputes.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The field's prime, 2^31 - 1.
pub const MODULUS: u64 = (1 << 31) - 1;
/// Domain of every hash this workload takes.
pub const DOMAIN: &[u8] = b"tessera/matmul/v1";

/// An `n`×`n` matrix over the field, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    n: usize,
    entries: Vec<u64>,
}

impl Matrix {
    /// Round `round`'s input `label` (`b"A"` or `b"B"`) for the job whose spec hashes to
    /// `spec_hash`.
    pub fn derived(spec_hash: &[u8; 32], label: &[u8], round: u32, n: usize) -> Self {
        let seed: [u8; 32] = Sha256::new()
            .chain_update(DOMAIN)
            .chain_update(spec_hash)
            .chain_update(label)
            .chain_update(round.to_le_bytes())
            .finalize()
            .into();
        let mut rng = ChaCha20Rng::from_seed(seed);
        let entries = (0..n * n).map(|_| rng.next_u64() % MODULUS).collect();
        Self { n, entries }
    }

    /// Side length.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The entries, row-major, each below [`MODULUS`].
    pub fn entries(&self) -> &[u64] {
        &self.entries
    }

    /// The `n`×`n` matrix of `entries` (row-major); `None` unless there are `n²` of them, each
    /// below [`MODULUS`].
    pub fn from_entries(n: usize, entries: Vec<u64>) -> Option<Self> {
        (n.checked_mul(n) == Some(entries.len()) && entries.iter().all(|entry| *entry < MODULUS))
            .then_some(Self { n, entries })
    }

    /// `self · other`, the O(n³) work a worker is paid for.
    pub fn product(&self, other: &Matrix) -> Matrix {
        assert_eq!(self.n, other.n, "matrices of different sizes");
        let n = self.n;
        let mut entries = Vec::with_capacity(n * n);
        // Row by row, in i-k-j order so both inputs are read sequentially; each term is below
        // 2^62, so a u128 accumulator never overflows for any n this crate accepts.
        let mut row = vec![0u128; n];
        for i in 0..n {
            row.iter_mut().for_each(|sum| *sum = 0);
            for k in 0..n {
                let a = self.entries[i * n + k] as u128;
                let b_row = &other.entries[k * n..(k + 1) * n];
                for (sum, b) in row.iter_mut().zip(b_row) {
                    *sum += a * *b as u128;
                }
            }
            entries.extend(row.iter().map(|sum| (sum % MODULUS as u128) as u64));
        }
        Matrix { n, entries }
    }

    /// `self · v`, in O(n²).
    pub fn times_vector(&self, v: &[u64]) -> Vec<u64> {
        self.entries
            .chunks(self.n)
            .map(|row| {
                let sum: u128 = row
                    .iter()
                    .zip(v)
                    .map(|(a, b)| *a as u128 * *b as u128)
                    .sum();
                (sum % MODULUS as u128) as u64
            })
            .collect()
    }

    /// SHA-256 of the domain, `n` and the entries (see the module docs).
    pub fn digest(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(DOMAIN);
        hasher.update((self.n as u32).to_le_bytes());
        for entry in &self.entries {
            hasher.update((*entry as u32).to_le_bytes());
        }
        hasher.finalize().into()
    }

    /// The published form: `n` as u32 LE, then the entries as u32 LE.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(4 + 4 * self.entries.len());
        bytes.extend((self.n as u32).to_le_bytes());
        for entry in &self.entries {
            bytes.extend((*entry as u32).to_le_bytes());
        }
        bytes
    }

    /// Reads the published form; `None` unless it is exactly one matrix of field elements.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let n = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
        let body = bytes.get(4..)?;
        if body.len() != n.checked_mul(n)?.checked_mul(4)? {
            return None;
        }
        let entries: Vec<u64> = body
            .chunks_exact(4)
            .map(|chunk| u32::from_le_bytes(chunk.try_into().expect("4 bytes")) as u64)
            .collect();
        entries
            .iter()
            .all(|entry| *entry < MODULUS)
            .then_some(Self { n, entries })
    }
}

/// One round's work: its product, the CPU time this thread spent on it and the wall time it
/// took.
pub struct Round {
    pub product: Matrix,
    pub cpu_time: Duration,
    pub wall_time: Duration,
}

/// Computes round `round` of side `n` of the work whose inputs `seed` derives ([`job_seed`],
/// [`service_seed`]).
pub fn run_round(seed: &[u8; 32], round: u32, n: usize) -> Round {
    let (started, wall) = (thread_cpu_time(), std::time::Instant::now());
    let a = Matrix::derived(seed, b"A", round, n);
    let b = Matrix::derived(seed, b"B", round, n);
    let product = a.product(&b);
    Round {
        product,
        cpu_time: thread_cpu_time().saturating_sub(started),
        wall_time: wall.elapsed(),
    }
}

/// Multiply-adds modulo p in one unit of the built-in workload: 2^29 (537 million). A unit is a
/// fixed amount of work, not of time: one core of the 2-core machine docs/benchmarks.md
/// describes does one in about 0.45 s with this crate's loop (a round of side 512, a quarter
/// unit, takes it 110 ms of CPU), a slower core in more. Each unit is the same work everywhere.
pub const MULTIPLY_ADDS_PER_UNIT: u64 = 1 << 29;

/// Units that `rounds` rounds of side `n` are worth: `floor(rounds × n³ / 2^29)`.
pub fn units_for(n: u32, rounds: u32) -> u64 {
    let work = rounds as u128 * (n as u128).pow(3);
    (work / MULTIPLY_ADDS_PER_UNIT as u128) as u64
}

/// The fewest rounds of side `n` worth `units` (so `units_for(n, r) >= units`): the rounds a
/// job that has settled `units` surely had checked. Any round past them may not have been,
/// even when it adds no whole unit, so a co-signer sees its product.
pub fn rounds_for(n: u32, units: u64) -> u32 {
    let work = units as u128 * MULTIPLY_ADDS_PER_UNIT as u128;
    let rounds = work.div_ceil((n.max(1) as u128).pow(3));
    rounds.min(u32::MAX as u128) as u32
}

/// The next link of the result hash chain (see the module docs).
pub fn chain(previous: &[u8; 32], product: &Matrix) -> [u8; 32] {
    chain_digest(previous, &product.digest())
}

/// The next link of the result hash chain from a product's digest alone.
pub fn chain_digest(previous: &[u8; 32], digest: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(previous)
        .chain_update(digest)
        .finalize()
        .into()
}

/// Freivalds' test, `trials` times: whether `c` is `a · b`. A wrong product passes with
/// probability at most (1/p)^trials.
pub fn freivalds(a: &Matrix, b: &Matrix, c: &Matrix, trials: u32, rng: &mut impl Rng) -> bool {
    if a.n != b.n || b.n != c.n {
        return false;
    }
    (0..trials).all(|_| {
        let r: Vec<u64> = (0..a.n).map(|_| rng.gen_range(0..MODULUS)).collect();
        a.times_vector(&b.times_vector(&r)) == c.times_vector(&r)
    })
}

/// Whether `product` is round `round`'s product of the inputs `seed` derives (a job's spec
/// hash, or a provider's [`service_seed`]): Freivalds' test, twice.
pub fn check_round(seed: &[u8; 32], round: u32, product: &Matrix, rng: &mut impl Rng) -> bool {
    let a = Matrix::derived(seed, b"A", round, product.n);
    let b = Matrix::derived(seed, b"B", round, product.n);
    freivalds(&a, &b, product, 2, rng)
}

/// What a job's rounds derive their inputs from: SHA-256(`"tessera/matmul/job/v1"` ‖ spec
/// hash ‖ job address ‖ job nonce as u64 LE). Bound to the job, so two jobs of one spec (every
/// `--matmul 512x40` job has the same spec document) have different inputs: no provider bills
/// one computation twice or presents another's published products, and a job created again at
/// the same address (a new nonce) starts afresh.
pub fn job_seed(spec_hash: &[u8; 32], job: &[u8; 32], job_nonce: u64) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"tessera/matmul/job/v1")
        .chain_update(spec_hash)
        .chain_update(job)
        .chain_update(job_nonce.to_le_bytes())
        .finalize()
        .into()
}

/// Side of the rounds of a provider's service work (service receipts), fixed for every
/// network so that no requester picks what a service unit is.
pub const SERVICE_N: u32 = 512;

/// What a provider's service rounds derive their inputs from, in place of a spec hash:
/// SHA-256(`"tessera/service/v1"` ‖ provider ‖ registration nonce as u64 LE). Bound to the
/// provider and its registration, so no provider can present another's products, or its own
/// from before it registered again.
pub fn service_seed(provider: &[u8; 32], registration_nonce: u64) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"tessera/service/v1")
        .chain_update(provider)
        .chain_update(registration_nonce.to_le_bytes())
        .finalize()
        .into()
}

/// Checks a published job result: each round's product against the inputs `seed` derives
/// ([`job_seed`]; Freivalds), and the chain of their digests against the job's `result_hash`.
/// Returns the first round that fails, if any; `Err(rounds)` when the chain does not match.
pub fn check_result(
    seed: &[u8; 32],
    products: &[Matrix],
    result_hash: &[u8; 32],
    rng: &mut impl Rng,
) -> Result<(), CheckFailure> {
    let mut link = [0; 32];
    for (round, product) in products.iter().enumerate() {
        if !check_round(seed, round as u32, product, rng) {
            return Err(CheckFailure::WrongProduct(round as u32));
        }
        link = chain(&link, product);
    }
    if link != *result_hash {
        return Err(CheckFailure::ResultHashMismatch);
    }
    Ok(())
}

/// How a published result fails its check.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckFailure {
    #[error("the product of round {0} is not the product of that round's inputs")]
    WrongProduct(u32),
    #[error("the products are right but do not chain to the job's result hash")]
    ResultHashMismatch,
}

/// CPU time this thread has used.
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if status != 0 {
        return Duration::ZERO;
    }
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;

    fn naive(a: &Matrix, b: &Matrix) -> Matrix {
        let n = a.n;
        let entries = (0..n * n)
            .map(|at| {
                let (i, j) = (at / n, at % n);
                (0..n).fold(0, |sum, k| {
                    (sum + a.entries[i * n + k] * b.entries[k * n + j]) % MODULUS
                })
            })
            .collect();
        Matrix { n, entries }
    }

    #[test]
    fn a_matrix_from_entries_takes_n_squared_field_elements_only() {
        let m = Matrix::from_entries(2, vec![0, 1, 2, MODULUS - 1]).expect("a 2 x 2 matrix");
        assert_eq!((m.n(), m.entries()), (2, &[0, 1, 2, MODULUS - 1][..]));
        assert_eq!(
            Matrix::from_entries(2, vec![0, 1, 2]),
            None,
            "three entries"
        );
        assert_eq!(
            Matrix::from_entries(1, vec![MODULUS]),
            None,
            "p is not a residue"
        );
    }

    #[test]
    fn the_product_matches_the_schoolbook_one_and_inputs_are_reproducible() {
        let hash = [7; 32];
        let a = Matrix::derived(&hash, b"A", 3, 17);
        let b = Matrix::derived(&hash, b"B", 3, 17);
        assert_eq!(a, Matrix::derived(&hash, b"A", 3, 17));
        assert_ne!(a, Matrix::derived(&hash, b"A", 4, 17));
        assert_ne!(a, b);
        assert!(a.entries.iter().all(|entry| *entry < MODULUS));
        assert_eq!(a.product(&b), naive(&a, &b));
    }

    #[test]
    fn units_are_the_work_of_the_rounds_and_rounds_for_inverts_them() {
        // 2^29 multiply-adds a unit: a round of side 1024 is two, of 512 a quarter.
        assert_eq!(units_for(1024, 1), 2);
        assert_eq!(units_for(512, 3), 0);
        assert_eq!(units_for(512, 4), 1);
        assert_eq!(units_for(512, 40), 10);
        assert_eq!(units_for(256, 40), 1, "a 256x40 job is 1/32 unit a round");
        assert_eq!(units_for(128, 40), 0, "a 128x40 job is 1/256 unit a round");
        assert_eq!(rounds_for(512, 0), 0);
        assert_eq!(rounds_for(512, 1), 4);
        assert_eq!(rounds_for(512, 3), 12);
        assert_eq!(rounds_for(1024, 2), 1);
        assert_eq!(rounds_for(1024, 3), 2);
        assert_eq!(units_for(1024, u32::MAX), 2 * u32::MAX as u64);
        for n in [1, 7, 128, 256, 300, 1024] {
            for units in [0, 1, 2, 5, 77] {
                let rounds = rounds_for(n, units);
                if rounds == u32::MAX {
                    // More rounds than a spec can have: capped.
                    continue;
                }
                assert!(units_for(n, rounds) >= units, "n {n}, {units} units");
                if rounds > 0 {
                    assert!(units_for(n, rounds - 1) < units, "n {n}, {units} units");
                }
            }
        }
    }

    #[test]
    fn freivalds_accepts_the_product_and_rejects_a_single_wrong_entry() {
        let mut rng = StdRng::seed_from_u64(1);
        let round = run_round(&[9; 32], 0, 24);
        let a = Matrix::derived(&[9; 32], b"A", 0, 24);
        let b = Matrix::derived(&[9; 32], b"B", 0, 24);
        assert!(freivalds(&a, &b, &round.product, 2, &mut rng));
        let mut wrong = round.product.clone();
        wrong.entries[24 * 5 + 7] = (wrong.entries[24 * 5 + 7] + 1) % MODULUS;
        assert!(!freivalds(&a, &b, &wrong, 2, &mut rng));
    }

    #[test]
    fn a_published_result_is_checked_round_by_round_and_against_the_chain() {
        let mut rng = StdRng::seed_from_u64(2);
        let spec_hash = [3; 32];
        let products: Vec<Matrix> = (0..3)
            .map(|r| run_round(&spec_hash, r, 8).product)
            .collect();
        let result_hash = products.iter().fold([0; 32], |link, c| chain(&link, c));
        assert_eq!(
            check_result(&spec_hash, &products, &result_hash, &mut rng),
            Ok(())
        );

        let published: Vec<Matrix> = products
            .iter()
            .map(|c| Matrix::from_bytes(&c.to_bytes()).unwrap())
            .collect();
        assert_eq!(published, products);

        let mut swapped = products.clone();
        swapped.swap(0, 1);
        assert_eq!(
            check_result(&spec_hash, &swapped, &result_hash, &mut rng),
            Err(CheckFailure::WrongProduct(0))
        );
        assert_eq!(
            check_result(&spec_hash, &products, &[0; 32], &mut rng),
            Err(CheckFailure::ResultHashMismatch)
        );
        assert!(Matrix::from_bytes(&[2, 0, 0, 0, 1]).is_none());
    }
}
