//! The `tessera` binary as a user runs it: quickstart on a fresh embedded ledger, then other
//! commands against the same data folder, and bad input refused with a clear message.

use crate::common::{fresh_folder, json, tessera, texts, Localnet};
use std::path::Path;
use std::process::Command;

#[test]
fn quickstart_then_list_show_and_audit_the_same_ledger() {
    let data_dir = fresh_folder("commands");
    quickstart_registers_a_provider_of_each_class_and_audits_clean(&data_dir);
    provider_list_and_audit_find_the_four_providers(&data_dir);
    a_reader_that_stops_early_ends_the_output_quietly(&data_dir);
    an_unknown_account_is_refused_and_the_ledger_stays_as_it_was(&data_dir);
    let clock = the_clock_moves_forward_on_demand_and_stays_there(&data_dir);
    the_saved_clock_is_a_floor_for_the_next_start(&data_dir, clock);
    an_unknown_network_says_how_to_get_one(&data_dir);
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[test]
fn readme_provider_path_after_the_quickstart() {
    let data_dir = fresh_folder("readme");
    quickstart_registers_a_provider_of_each_class_and_audits_clean(&data_dir);
    the_readme_provider_path_works_with_an_epoch_between_the_workers_passes(&data_dir);
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// The same path with the folder served by `tessera localnet`, as README tells a provider to
/// run it: every command after the quickstart goes through the localnet's JSON-RPC.
#[test]
fn readme_provider_path_through_a_localnet() {
    let data_dir = fresh_folder("readme-localnet");
    quickstart_registers_a_provider_of_each_class_and_audits_clean(&data_dir);
    let localnet = Localnet::start(&data_dir);
    the_readme_provider_path_works_with_an_epoch_between_the_workers_passes(&data_dir);
    localnet.stop();
    let _ = std::fs::remove_dir_all(&data_dir);
    let _ = std::fs::remove_file(data_dir.with_extension("log"));
}

/// README's "A provider's path", command by command, on the quickstart's ledger (epochs of
/// 20 s), with a pause longer than an epoch between the worker's passes: the job settles,
/// completes, checks, and pays exactly units x price less the 2.5% fee.
fn the_readme_provider_path_works_with_an_epoch_between_the_workers_passes(data_dir: &Path) {
    let keys = data_dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (owner_file, worker_file) = (keys.join("owner.json"), keys.join("worker.json"));
    let (owner_file, worker_file) = (owner_file.to_str().unwrap(), worker_file.to_str().unwrap());
    let owner = json(data_dir, &["key", "new", "--out", owner_file])["pubkey"].clone();
    let worker = json(data_dir, &["key", "new", "--out", worker_file])["pubkey"].clone();
    let (owner, worker) = (owner.as_str().unwrap(), worker.as_str().unwrap());
    let reward_mint = json(data_dir, &["network", "show"])[0]["reward_mint"].clone();
    json(
        data_dir,
        &[
            "token",
            "transfer",
            "--mint",
            reward_mint.as_str().unwrap(),
            "--to",
            owner,
            "200",
        ],
    );
    let provider = json(
        data_dir,
        &[
            "provider",
            "register",
            "--class",
            "edge",
            "--worker",
            worker,
            "--stake",
            "200",
            "--keypair",
            owner_file,
        ],
    )["address"]
        .clone();
    let mint = json(data_dir, &["token", "create-mint"])["mint"].clone();
    let mint = mint.as_str().unwrap();
    let job = json(
        data_dir,
        &[
            "job",
            "create",
            "--mint",
            mint,
            "--price",
            "0.01",
            "--provider",
            provider.as_str().unwrap(),
            "--matmul",
            "512x8",
        ],
    )["address"]
        .clone();
    let job = job.as_str().unwrap();
    let worker_run = [
        "worker",
        "run",
        "--once",
        "--keypair",
        owner_file,
        "--worker-key",
        worker_file,
        "--settle-every",
        "120s",
    ];
    let output = tessera(data_dir, &worker_run);
    assert!(output.status.success(), "{:?}", texts(&output));
    let waiting = data_dir.join("cosign").join(format!("{job}.json"));
    json(
        data_dir,
        &["receipt", "cosign", waiting.to_str().unwrap(), "--yes"],
    );

    // Longer than an epoch later, anyone submits the co-signed receipt in the epoch the
    // program is in (the command's clock is the program's), and the worker's next pass
    // completes the job.
    // More than an epoch after the clock the ledger saved when it last stopped (which a warp
    // could have moved ahead of the wall clock), so that it restarts on the wall clock, an
    // epoch or more after its last block.
    let saved_secs: u64 = std::fs::read_to_string(data_dir.join("clock"))
        .map(|millis| millis.trim().parse::<u64>().unwrap_or(0) / 1_000)
        .unwrap_or(0);
    let wall_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let wait = saved_secs.saturating_sub(wall_secs) + 21;
    println!("waiting {wait} s, past the ledger's saved clock and an epoch");
    std::thread::sleep(std::time::Duration::from_secs(wait));
    json(data_dir, &["receipt", "submit", waiting.to_str().unwrap()]);
    let output = tessera(data_dir, &worker_run);
    assert!(output.status.success(), "{:?}", texts(&output));
    let shown = json(data_dir, &["job", "show", job]);
    assert_eq!(
        shown["status"],
        "Completed",
        "{shown}\n{:?}",
        texts(&output)
    );
    assert_eq!(shown["settled_units"], 2);
    let checked = json(data_dir, &["job", "check-result", job]);
    assert_eq!(
        (checked["failure"].clone(), checked["units"].clone()),
        (serde_json::Value::Null, 2.into())
    );
    let paid = json(
        data_dir,
        &["token", "balance", "--mint", mint, "--owner", owner],
    );
    // 2 units x 0.01, less the 2.5% fee.
    assert_eq!(paid["balance"], "0.019500", "{paid}");
}

fn quickstart_registers_a_provider_of_each_class_and_audits_clean(data_dir: &Path) {
    let output = tessera(data_dir, &["quickstart"]);
    let (stdout, stderr) = texts(&output);
    assert!(
        output.status.success(),
        "quickstart failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("audit clean"), "{stdout}");
    for class in ["Training", "Inference", "Edge", "Bandwidth"] {
        assert!(stdout.contains(class), "{class} missing from\n{stdout}");
    }
}

/// `tessera --output json network show | head -c 100`: the reader goes away before the
/// output is written, and the command still ends quietly and successfully.
fn a_reader_that_stops_early_ends_the_output_quietly(data_dir: &Path) {
    for args in [
        &["--output", "json", "network", "show"][..],
        &["job", "list"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("tessera runs");
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let (_, stderr) = texts(&output);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} wrote to stderr: {stderr}");
    }
}

fn provider_list_and_audit_find_the_four_providers(data_dir: &Path) {
    let output = tessera(data_dir, &["provider", "list", "--output", "json"]);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    let providers: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON alone");
    assert_eq!(providers.as_array().map(Vec::len), Some(4));

    let output = tessera(data_dir, &["audit", "--output", "json"]);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["networks"][0]["providers"], 4);
    assert_eq!(report["violations"].as_array().map(Vec::len), Some(0));
}

/// An unknown account: a clear error, exit 2, and the ledger as it was.
fn an_unknown_account_is_refused_and_the_ledger_stays_as_it_was(data_dir: &Path) {
    let output = tessera(
        data_dir,
        &["job", "show", "US517G5965aydkZ46HS38QLi7UQiSojurfbQfKCELFx"],
    );
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("no job at"), "{stderr}");
    let output = tessera(data_dir, &["audit", "--output", "json"]);
    let report: serde_json::Value = serde_json::from_str(&texts(&output).0).unwrap();
    assert_eq!(report["networks"][0]["providers"], 4);
}

/// The clock moves forward on demand and stays there across the process that ran it; returns
/// the clock the last warp reached (Unix seconds).
fn the_clock_moves_forward_on_demand_and_stays_there(data_dir: &Path) -> i64 {
    let output = tessera(
        data_dir,
        &["ledger", "warp", "--by", "600", "--output", "json"],
    );
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    let warped: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let reached = warped["to"].as_i64().unwrap();
    assert!(
        reached >= warped["from"].as_i64().unwrap() + 600,
        "{warped}"
    );
    let output = tessera(
        data_dir,
        &["ledger", "warp", "--by", "1", "--output", "json"],
    );
    let again: serde_json::Value = serde_json::from_str(&texts(&output).0).unwrap();
    assert!(
        again["from"].as_i64().unwrap() >= reached,
        "{again} after {warped}"
    );
    again["to"].as_i64().unwrap()
}

/// The saved clock is a floor for the next start: a day ahead of `clock` (Unix seconds) here, as
/// a warp that surfpool's slot checkpoint missed would leave it.
fn the_saved_clock_is_a_floor_for_the_next_start(data_dir: &Path, clock: i64) {
    let floor = clock + 86_400;
    std::fs::write(data_dir.join("clock"), (floor * 1_000).to_string()).unwrap();
    let output = tessera(
        data_dir,
        &["ledger", "warp", "--by", "1", "--output", "json"],
    );
    let resumed: serde_json::Value = serde_json::from_str(&texts(&output).0).unwrap();
    assert!(
        resumed["from"].as_i64().unwrap() >= floor,
        "{resumed}: started before the saved clock {floor}"
    );
}

/// Unknown network: says how to get one.
fn an_unknown_network_says_how_to_get_one(data_dir: &Path) {
    let output = tessera(data_dir, &["--network", "9", "provider", "list"]);
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("there is no network 9"), "{stderr}");
}

#[test]
fn bad_input_says_what_to_fix() {
    let data_dir = std::env::temp_dir().join(format!("tessera-bad-input-{}", std::process::id()));
    let cases: [(&[&str], &str); 9] = [
        (
            &[
                "--program-id",
                "US517G5965aydkZ46HS38QLi7UQiSojurfbQfKCELFx",
                "audit",
            ],
            "the embedded ledger runs this build's program",
        ),
        (
            &["--keypair", "/nonexistent/id.json", "provider", "list"],
            "cannot read the keypair file /nonexistent/id.json",
        ),
        (
            &["receipt", "verify", "/nonexistent/receipt.json"],
            "cannot read the receipt file",
        ),
        (
            &[
                "network",
                "set-attestors",
                "--attestor",
                "not-a-key",
                "--threshold",
                "1",
            ],
            "invalid value 'not-a-key'",
        ),
        (
            &["emissions", "schedule", "--initial", "1.0000001"],
            "has 7 decimals but the mint has 6",
        ),
        (&["emissions", "schedule", "--initial=-5"], "is negative"),
        (
            &["emissions", "schedule", "--cap", "lots"],
            "is not a number",
        ),
        (
            &[
                "--url",
                "localnet",
                "--keypair",
                "/nonexistent/id.json",
                "audit",
            ],
            "cannot read the keypair file /nonexistent/id.json",
        ),
        (
            &["--url", "ftp://example", "audit"],
            "is neither `embedded`",
        ),
    ];
    for (args, expected) in cases {
        let output = tessera(&data_dir, args);
        let (_, stderr) = texts(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected {expected:?} in {stderr}"
        );
    }
    assert!(!data_dir.exists(), "refused commands create no ledger");
}

#[test]
fn a_crash_mid_command_leaves_a_consistent_ledger_and_commands_take_turns() {
    let data_dir = std::env::temp_dir().join(format!("tessera-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);

    // Kill -9 the quickstart part way through (once its providers are registered): whatever
    // landed is whole transactions.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("quickstart")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let progress = std::io::BufReader::new(child.stderr.take().unwrap());
    let reached = std::io::BufRead::lines(progress)
        .map_while(Result::ok)
        .any(|line| line.contains("providers registered"));
    assert!(reached, "the quickstart never registered its providers");
    child.kill().unwrap();
    child.wait().unwrap();

    // Two commands at once on the folder: the lock makes the second wait, both succeed, and
    // the ledger the crash left audits clean.
    let spawn = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("--data-dir")
            .arg(&data_dir)
            .args(args)
            .output()
    };
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| spawn(&["audit", "--output", "json"]).unwrap());
        let second = scope.spawn(|| spawn(&["network", "show", "--output", "json"]).unwrap());
        (first.join().unwrap(), second.join().unwrap())
    });
    let (stdout, stderr) = texts(&first);
    assert!(
        first.status.success(),
        "audit after a crash: {stdout}\n{stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["violations"], serde_json::json!([]), "{report}");
    assert!(
        !report["networks"].as_array().unwrap().is_empty(),
        "the crash came after the network: {report}"
    );
    assert!(second.status.success(), "{}", texts(&second).1);
    let _ = std::fs::remove_dir_all(&data_dir);
}
