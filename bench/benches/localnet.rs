//! `cargo bench -p tessera-bench --bench localnet`: a long-running `tessera localnet` over
//! 20,000 transactions, block by block (table 8 of `docs/benchmarks.md`, see
//! [`tessera_bench::localnet`]). The binary is also the localnet's process: it starts itself
//! with the localnet's arguments.

use std::time::Instant;
use tessera_bench::ledger::RpcLedger;
use tessera_bench::localnet::{self, LocalnetProcess};
use tessera_bench::report;

// The allocator the `tessera` binary runs on: this binary is also the localnet's process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    if let Some(served) = localnet::serve_if_asked() {
        return served;
    }
    let started = Instant::now();
    let localnet = LocalnetProcess::start()?;
    eprintln!("localnet at {}", localnet.rpc_url);
    let mut ledger = RpcLedger::connect(&localnet.rpc_url)?;
    let run = localnet::measure(&mut ledger, &localnet, |what| {
        eprintln!("[{:>6.1} s] {what}", started.elapsed().as_secs_f64());
    })?;
    println!("{}", report::long_run(&run));
    println!("{}", report::growth(&run));
    Ok(())
}
