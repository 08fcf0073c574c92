//! The co-signing service under abuse: the suite of `cli/tests/attest/abuse.rs` (stalled
//! connections, oversized and malformed bodies, a flood from fifty addresses) while the job's
//! worker keeps asking, its figures checked against their targets: every honest request
//! answered within 2 s, the service's memory under 100 MiB. Exits 1 when one is missed.
//! Run: `cargo bench -p tessera-cli --bench abuse`.

// The test files, built here without their tests: what only the tests use goes unused.
#[allow(dead_code, unused_imports)]
#[path = "../tests/attest.rs"]
mod attest;
#[allow(dead_code, unused_imports)]
#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

/// The slowest an honest request may be answered, and the most memory the service may use.
const MOST_LATENCY: Duration = Duration::from_secs(2);
const MOST_MEMORY_MIB: u64 = 100;

fn main() {
    let figures = attest::abuse::run();
    println!("{figures}");
    let slowest = *figures.latencies.last().expect("honest requests");
    let peak_mib = figures.peak_kib / 1024;
    let mut missed = Vec::new();
    if slowest > MOST_LATENCY {
        missed.push(format!(
            "an honest request waited {} ms (target: within {} ms)",
            slowest.as_millis(),
            MOST_LATENCY.as_millis()
        ));
    }
    if peak_mib >= MOST_MEMORY_MIB {
        missed.push(format!(
            "the service peaked at {peak_mib} MiB (target: under {MOST_MEMORY_MIB} MiB)"
        ));
    }
    if !missed.is_empty() {
        eprintln!("missed: {}", missed.join("; "));
        std::process::exit(1);
    }
    println!("targets met: every honest request within 2 s, memory under 100 MiB");
}
