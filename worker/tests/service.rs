//! `tessera-worker`, the worker as a program of its own: it takes the connection flags and
//! `tessera worker run`'s from its command line, opens the ledger they name, and refuses to
//! start on a network that does not exist, saying what to do.

use std::process::Command;

#[test]
fn the_worker_binary_opens_its_ledger_and_names_what_is_missing() {
    let folder = std::env::temp_dir().join(format!("tessera-worker-bin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    let mut worker = Command::new(env!("CARGO_BIN_EXE_tessera-worker"));
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("TESSERA_")) {
        worker.env_remove(name);
    }
    let output = worker
        .args(["--once", "--network", "9", "--data-dir"])
        .arg(&folder)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("there is no network 9") && stderr.contains("tessera network init"),
        "{stderr}"
    );
    // The embedded ledger it opened is the folder's: its payer was made there.
    assert!(folder.join("payer.json").exists(), "{stderr}");
    let _ = std::fs::remove_dir_all(&folder);
}
