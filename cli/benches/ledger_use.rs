//! The embedded ledger as it is used: sixty `tessera` commands on one data folder (a write of
//! one transaction and two reads, twenty times), timed one by one, with the store's size.
//! Prints the second and the last of each kind, so that a slowdown with use shows, and the
//! store's growth per transaction. Run: `cargo bench -p tessera-cli --bench ledger_use`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tessera_ledger::embedded::ledger::store_bytes;

const ROUNDS: usize = 20;

fn tessera(data_dir: &Path, args: &[&str]) -> (Duration, String) {
    let began = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .args(["--output", "json"])
        .output()
        .expect("tessera runs");
    let elapsed = began.elapsed();
    assert!(
        output.status.success(),
        "tessera {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        elapsed,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn millis(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1_000.0)
}

fn main() {
    let data_dir = std::env::temp_dir().join(format!("tessera-ledger-use-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let (_, created) = tessera(&data_dir, &["token", "create-mint"]);
    let mint: serde_json::Value = serde_json::from_str(&created).expect("JSON");
    let mint = mint["mint"].as_str().expect("a mint").to_string();
    let start_bytes = store_bytes(&data_dir);

    let mut writes = Vec::with_capacity(ROUNDS);
    let mut balances = Vec::with_capacity(ROUNDS);
    let mut audits = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        writes.push(tessera(&data_dir, &["token", "create-mint", "--supply", "1"]).0);
        balances.push(tessera(&data_dir, &["token", "balance", "--mint", &mint]).0);
        audits.push(tessera(&data_dir, &["audit"]).0);
    }
    let grown = store_bytes(&data_dir).saturating_sub(start_bytes);

    println!("embedded ledger over {} commands on one folder", 3 * ROUNDS);
    println!("{:<34} {:>10} {:>10}", "command", "second", "last");
    for (name, times) in [
        ("write: token create-mint (1 tx)", &writes),
        ("read: token balance", &balances),
        ("read: audit", &audits),
    ] {
        println!(
            "{name:<34} {:>10} {:>10}",
            millis(times[1]),
            millis(times[times.len() - 1])
        );
    }
    println!(
        "store growth: {} bytes per transaction ({} transactions)",
        grown / ROUNDS as u64,
        ROUNDS
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}
