//! Tessera's benchmarks: `cargo bench -p tessera-bench` runs [`run`], which measures and prints
//! the tables that `docs/benchmarks.md` explains.
//!
//! 1. settlement transaction sizes against the packet limit, for keys that sign one by one and
//!    for a group's one signature ([`settlement`]);
//! 2. the footprint of every account the program creates ([`footprint`]);
//! 3. throughput on the test bank and on the embedded ledger, against an SPL Token transfer
//!    ([`throughput`]);
//! 4. receipts signed and verified off-chain against raw ed25519, and a group's FROST signing
//!    round ([`offchain`]);
//! 5. one claim against 1, 100 and 2,000 providers in its epoch ([`claims`]);
//! 6. the worker's metering overhead: a round of the built-in workload against what the worker
//!    adds to publish and record it, and a pending receipt's write to its store ([`metering`]).
//!
//! Table 8, a long-running `tessera localnet` over 20,000 transactions, is a bench of its own
//! (`cargo bench -p tessera-bench --bench localnet`, [`localnet`]).
//!
//! Order matters: the test bank and the embedded ledger each install the program's syscall
//! stubs for the whole process, once, and the embedded ledger's replace the bank's. So every
//! measurement on the bank runs first, the embedded ledger runs last, and the tables are
//! printed once everything is measured. No figure here is a compute-unit count: the program
//! runs natively on both ledgers and is not metered.

pub mod claims;
pub mod footprint;
pub mod ledger;
pub mod localnet;
pub mod metering;
pub mod network;
pub mod offchain;
pub mod report;
pub mod settlement;
pub mod table;
pub mod throughput;

use anyhow::Result;
use ledger::{BankLedger, RpcLedger};
use std::time::Instant;

/// The network id the throughput workloads create on each ledger (the fixture owns 1).
const THROUGHPUT_NETWORK: u64 = 2;
/// The network id of the claims measurement on the bank.
const CLAIMS_NETWORK: u64 = 3;

/// Says on stderr what is being measured, and how long the run has taken so far.
fn progress(started: Instant, what: &str) {
    eprintln!("[{:>6.1} s] {what}", started.elapsed().as_secs_f64());
}

/// Measures everything, then prints the tables to stdout.
pub fn run() -> Result<()> {
    let started = Instant::now();
    progress(started, "starting the test bank");
    let mut bank = BankLedger::start()?;
    progress(started, "table 1: settlement transactions");
    let settlements = bank.run(settlement::measure)?;
    progress(started, "table 2: account footprint");
    let sizes = bank.run(footprint::measure)?;
    progress(started, "table 3: throughput on the test bank");
    let bank_throughput = throughput::measure(&mut bank, THROUGHPUT_NETWORK)?;
    progress(started, "table 5: claims with 1, 100 and 2,000 providers");
    let claim_samples = claims::measure(&mut bank, CLAIMS_NETWORK)?;
    drop(bank);

    progress(
        started,
        "table 4: receipts off-chain and group signing rounds",
    );
    let comparisons = offchain::measure()?;
    let encodes_per_second = offchain::encodes_per_second()?;
    progress(started, "table 6: worker metering overhead");
    let metered = metering::measure()?;

    // Last, see the module documentation.
    progress(started, "table 3: throughput on the embedded ledger");
    let mut embedded = RpcLedger::start()?;
    let embedded_throughput = throughput::measure(&mut embedded, THROUGHPUT_NETWORK)?;
    embedded.close()?;
    progress(started, "done");

    let tables = [
        report::settlement(&settlements),
        report::footprint(&sizes),
        report::footprint_totals(&sizes),
        report::throughput(&bank_throughput, &embedded_throughput),
        report::throughput_rounds(&bank_throughput, &embedded_throughput),
        report::offchain(&comparisons, encodes_per_second),
        report::claims(&claim_samples),
        report::metering(&metered),
        report::pending_writes(&metered),
    ];
    println!(
        "## Tessera benchmarks ({} cores available to this process)\n",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    for table in tables {
        println!("{table}");
    }
    Ok(())
}
