//! `tessera-sbf-lane`: Tessera's main flows against the program as built for the SBF virtual
//! machine (`scripts/build-sbf` writes `target/sbf/tessera.so`), in LiteSVM, once with SPL Token
//! mints and once with Token-2022 mints. It asserts the outcomes the native tests assert, prints
//! the compute units each instruction took as a Markdown table, and checks them against the
//! budgets: under 200,000 CU for every instruction, and every settlement, its Ed25519
//! instruction included, within its transaction's limit.
//!
//! A failure, including one only the SBF VM shows (a stack frame over 4 KB, a heap over 32 KB,
//! an access violation), stops the lane with the instruction named and the transaction's log,
//! and the exit status is 1.
//!
//! Usage: `cargo run -p tessera-sbf-lane -- [PROGRAM.so]`.

mod ledger;
mod report;
mod scenario;

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("SBF lane failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let program = match std::env::args_os().nth(1) {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/sbf/tessera.so"
        )),
    };
    let program = program.canonicalize().with_context(|| {
        format!(
            "no SBF build at {}: run scripts/build-sbf first",
            program.display()
        )
    })?;
    let size = std::fs::metadata(&program)?.len();

    let mut runs = Vec::new();
    let mut batches = Vec::new();
    let mut every_batch = Vec::new();
    for (name, token_program) in report::TOKEN_PROGRAMS {
        eprintln!("== SBF lane: {name} mints");
        let ledger = ledger::SbfLedger::start(&program)?;
        let ledger = scenario::Scenario::new(ledger, token_program)
            .run()
            .with_context(|| format!("with {name} mints"))?;
        runs.push(ledger.costs);
        if batches.is_empty() {
            batches = ledger.batches.clone();
        }
        every_batch.extend(ledger.batches);
    }
    let table = report::CostTable::new(&runs);
    println!("{}", table.markdown(&program, size));
    println!("{}", table.write_locks());
    println!("{}", report::batch_table(&batches));
    table.check_budgets()?;
    report::check_batch_budgets(&every_batch)?;
    eprintln!("== SBF lane: every flow passed and fits its budget");
    Ok(())
}
