//! `tessera worker` as a provider runs it, on the embedded ledger: a client funds a job, the
//! worker takes it from there. Co-signers sign the receipts the worker leaves in its cosign
//! folder with `tessera receipt cosign`, as they would by hand.

use crate::common::{text, texts, Localnet};
use serde_json::Value;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

/// A keypair file and its public key.
struct Key {
    path: PathBuf,
    pubkey: String,
}

impl Key {
    fn new(folder: &Path, name: &str) -> Self {
        let keypair = Keypair::new();
        let path = folder.join(format!("{name}.json"));
        std::fs::write(
            &path,
            serde_json::to_string(&keypair.to_bytes().to_vec()).unwrap(),
        )
        .unwrap();
        Self {
            path,
            pubkey: keypair.pubkey().to_string(),
        }
    }

    fn arg(&self) -> &str {
        self.path.to_str().unwrap()
    }
}

/// A network with one attestor (threshold 1), a staked provider of `class` whose worker
/// signs with its own key, and a client holding a payment mint of 6 decimals.
struct Scene {
    folder: PathBuf,
    owner: Key,
    worker: Key,
    attestor: Key,
    client: Key,
    reward_mint: String,
    payment_mint: String,
    provider: String,
    /// The worker's `--device` (TESSERA_WORKER_DEVICE): "cpu" unless a test says otherwise.
    device: &'static str,
}

/// Epochs long enough that a test's jobs stay in one.
const EPOCH_SECS: i64 = 600;

impl Scene {
    fn new(name: &str, class: &str) -> Self {
        Self::with_epochs(name, class, EPOCH_SECS)
    }

    /// A scene whose network's epochs last `epoch_secs`.
    fn with_epochs(name: &str, class: &str, epoch_secs: i64) -> Self {
        let folder =
            std::env::temp_dir().join(format!("tessera-worker-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        let mut scene = Self {
            owner: Key::new(&folder, "owner"),
            worker: Key::new(&folder, "worker"),
            attestor: Key::new(&folder, "attestor"),
            client: Key::new(&folder, "client"),
            folder,
            reward_mint: String::new(),
            payment_mint: String::new(),
            provider: String::new(),
            device: "cpu",
        };
        let network = scene.json(&[
            "network",
            "init",
            "--epoch-secs",
            &epoch_secs.to_string(),
            "--dispute-window-secs",
            "5",
            "--unbonding-secs",
            "10",
            "--receipt-max-age-secs",
            "600",
        ]);
        scene.reward_mint = text(&network["reward_mint"]);
        let attestor = scene.attestor.pubkey.clone();
        scene.json(&[
            "network",
            "set-attestors",
            "--attestor",
            &attestor,
            "--threshold",
            "1",
        ]);
        let owner = scene.owner.pubkey.clone();
        let reward_mint = scene.reward_mint.clone();
        scene.json(&[
            "token",
            "transfer",
            "--mint",
            &reward_mint,
            "--to",
            &owner,
            "1000",
        ]);
        let worker = scene.worker.pubkey.clone();
        let provider = scene.json(&[
            "provider",
            "register",
            "--class",
            class,
            "--worker",
            &worker,
            "--stake",
            "200",
            "--bandwidth-mbps",
            "100",
            "--keypair",
            scene.owner.arg(),
        ]);
        scene.provider = text(&provider["address"]);
        let mint = scene.json(&[
            "token",
            "create-mint",
            "--decimals",
            "6",
            "--supply",
            "1000",
            "--keypair",
            scene.client.arg(),
        ]);
        scene.payment_mint = text(&mint["mint"]);
        scene
    }

    fn data_dir(&self) -> PathBuf {
        self.folder.join("ledger")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
        command
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(args)
            .env("TESSERA_WORKER_DEVICE", self.device);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("tessera runs")
    }

    /// Runs a command that must succeed; its JSON output.
    fn json(&self, args: &[&str]) -> Value {
        let output = self.run(&[args, &["--output", "json"]].concat());
        let (stdout, stderr) = texts(&output);
        assert!(
            output.status.success(),
            "{args:?} failed:\n{stdout}\n{stderr}"
        );
        serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{args:?}: not JSON: {stdout}"))
    }

    /// The client funds a job for this provider; `spec` are the spec flags. Its address.
    fn job(&self, unit: &str, price: &str, max_units: &str, spec: &[&str]) -> String {
        let job = self.json(
            &[
                &[
                    "job",
                    "create",
                    "--mint",
                    &self.payment_mint,
                    "--price",
                    price,
                    "--max-units",
                    max_units,
                    "--provider",
                    &self.provider,
                    "--unit",
                    unit,
                    "--keypair",
                    self.client.arg(),
                ][..],
                spec,
            ]
            .concat(),
        );
        text(&job["address"])
    }

    fn worker_args(&self) -> Vec<&str> {
        vec![
            "worker",
            "run",
            "--keypair",
            self.owner.arg(),
            "--worker-key",
            self.worker.arg(),
            "--settle-every",
            "2",
            "--output",
            "json",
        ]
    }

    /// One `worker run --once`; its events.
    fn worker_once(&self) -> Vec<Value> {
        let output = self.run(&[&self.worker_args()[..], &["--once"]].concat());
        let (stdout, stderr) = texts(&output);
        assert!(
            output.status.success(),
            "worker failed:\n{stdout}\n{stderr}"
        );
        events(&stdout)
    }

    /// Starts `worker run` with the test hook `pause` (if any): it pauses there until killed,
    /// or until [`Scene::resume`].
    fn spawn_worker(&self, extra: &[&str], pause: Option<&str>) -> Running {
        let mut command = self.command(&[&self.worker_args()[..], extra].concat());
        if let Some(point) = pause {
            command
                .env("TESSERA_WORKER_TEST_PAUSE", point)
                .env("TESSERA_WORKER_TEST_RESUME", self.folder.join("resume"));
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the worker starts");
        let events = BufReader::new(child.stdout.take().expect("piped"));
        Running { child, events }
    }

    /// Lets a worker paused by its test hook go on.
    fn resume(&self) {
        std::fs::write(self.folder.join("resume"), b"").unwrap();
    }

    /// Co-signs every receipt waiting in the worker's cosign folder as `key`; how many.
    fn cosign_waiting(&self, key: &Key, offline: bool) -> usize {
        let Ok(entries) = std::fs::read_dir(self.data_dir().join("cosign")) else {
            return 0;
        };
        let mut signed = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            if path
                .extension()
                .is_some_and(|extension| extension == "json")
            {
                let file = path.to_str().unwrap();
                let mut args = vec!["receipt", "cosign", file, "--yes", "--keypair", key.arg()];
                if offline {
                    args.push("--offline");
                }
                self.json(&args);
                signed += 1;
            }
        }
        signed
    }

    /// Balance of `owner` in `mint`, in base units (both mints have 6 decimals).
    fn balance(&self, mint: &str, owner: &str) -> u64 {
        base_units(&self.json(&["token", "balance", "--mint", mint, "--owner", owner])["balance"])
    }

    fn show_job(&self, job: &str) -> Value {
        self.json(&["job", "show", job])
    }

    /// Alternates worker passes that may run the command line `allowed` and attestor
    /// co-signatures until the job completes (six passes at most); every event seen.
    fn command_to_completion(&self, job: &str, allowed: &str) -> Vec<Value> {
        let allow = ["--once", "--allow-command", allowed];
        let mut seen = Vec::new();
        for _ in 0..6 {
            let output = self.run(&[&self.worker_args()[..], &allow].concat());
            assert!(output.status.success(), "{:?}", texts(&output));
            seen.extend(events(&texts(&output).0));
            if self.show_job(job)["status"] == "Completed" {
                break;
            }
            self.cosign_waiting(&self.attestor, false);
        }
        seen
    }

    /// Alternates worker passes and attestor co-signatures until the job completes; every
    /// event seen.
    fn work_to_completion(&self, job: &str) -> Vec<Value> {
        let mut seen = Vec::new();
        for _ in 0..12 {
            seen.extend(self.worker_once());
            if self.show_job(job)["status"] == "Completed" {
                return seen;
            }
            self.cosign_waiting(&self.attestor, false);
        }
        panic!("job {job} did not complete; events: {seen:#?}");
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// "2.925000" (6 decimals) as 2925000.
fn base_units(value: &Value) -> u64 {
    let amount = text(value);
    let (whole, fraction) = amount.split_once('.').unwrap_or((&amount, ""));
    let fraction = format!("{fraction:0<6}");
    whole.parse::<u64>().unwrap() * 1_000_000 + fraction.parse::<u64>().unwrap()
}

fn events(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not an event: {line}")))
        .collect()
}

fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|event| event["event"] == kind)
        .collect()
}

/// A worker process and its events.
struct Running {
    child: Child,
    events: BufReader<ChildStdout>,
}

impl Running {
    /// Reads events until one of `kind` (returned); panics when the worker exits first.
    fn wait_for(&mut self, kind: &str) -> Value {
        let mut line = String::new();
        loop {
            line.clear();
            if self.events.read_line(&mut line).unwrap() == 0 {
                panic!("the worker exited before a {kind} event");
            }
            let event: Value = serde_json::from_str(line.trim()).unwrap();
            if event["event"] == kind {
                return event;
            }
        }
    }

    /// SIGKILL: no chance to clean up.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// What a job pays its provider for `units` at `price` base units, less the 2.5% fee
/// (rounded down, as the program takes it).
fn net_pay(units: u64, price: u64) -> u64 {
    let gross = units * price;
    gross - gross * 250 / 10_000
}

#[test]
fn a_funded_job_is_run_settled_in_three_receipts_completed_checked_and_its_emission_claimed() {
    let scene = Scene::new("e2e", "edge");
    // 24 rounds of side 512 are 24 x 2^27 multiply-adds: 6 units of 2^29.
    let job = scene.job("cpu-seconds", "0.5", "6", &["--matmul", "512x24"]);
    let events = scene.work_to_completion(&job);

    assert_eq!(of_kind(&events, "accepted").len(), 1, "{events:#?}");
    let settled = of_kind(&events, "settled");
    assert!(
        settled.len() >= 3,
        "fewer than three settlements: {events:#?}"
    );
    let units: Vec<u64> = settled
        .iter()
        .map(|event| event["units"].as_u64().unwrap())
        .collect();
    assert!(units.windows(2).all(|pair| pair[0] < pair[1]), "{units:?}");

    // The units are the work, whatever time it took here: exactly 6, though 24 rounds were
    // run (billed by the second, at least one a round, they were 24 or more).
    let shown = scene.show_job(&job);
    let settled_units = shown["settled_units"].as_u64().unwrap();
    assert_eq!(settled_units, 6, "{shown}");
    assert_eq!(settled_units, *units.last().unwrap());
    assert_eq!(units, [2, 4, 6], "every two units, as --settle-every says");
    let owner = scene.owner.pubkey.clone();
    assert_eq!(
        scene.balance(&scene.payment_mint, &owner),
        net_pay(settled_units, 500_000)
    );

    let checked = scene.json(&["job", "check-result", &job]);
    assert_eq!(checked["failure"], Value::Null, "{checked}");
    assert_eq!(checked["rounds"], 24);
    assert_eq!(
        checked["units"], 6,
        "check-result recomputes the units: {checked}"
    );

    // A product tampered with after the fact no longer checks.
    let product = scene
        .data_dir()
        .join("results")
        .join(&job)
        .join("round-000003.bin");
    let mut bytes = std::fs::read(&product).unwrap();
    bytes[8] ^= 1;
    std::fs::write(&product, bytes).unwrap();
    let output = scene.run(&["job", "check-result", &job]);
    assert_eq!(output.status.code(), Some(1), "{:?}", texts(&output));
    assert!(texts(&output).1.contains("round 3"), "{:?}", texts(&output));

    // After the epoch, the worker claims the emission its attested work earned.
    let before = scene.balance(&scene.reward_mint, &owner);
    scene.json(&["ledger", "warp", "--by", &(EPOCH_SECS + 1).to_string()]);
    let events = scene.worker_once();
    let claimed = of_kind(&events, "claimed");
    assert_eq!(claimed.len(), 1, "{events:#?}");
    assert_eq!(claimed[0]["epochs"], serde_json::json!([0]));
    assert!(scene.balance(&scene.reward_mint, &owner) > before);

    let status = scene.json(&["worker", "status"]);
    assert_eq!(status[0]["state"], "completed", "{status}");
    assert_eq!(status[0]["units_settled"].as_u64(), Some(settled_units));
}

#[test]
fn a_built_in_job_on_the_gpu_path_settles_and_checks_as_a_cpu_one_does() {
    let mut scene = Scene::new("gpu", "edge");
    scene.device = "gpu";
    let devices = scene.json(&["worker", "devices"]);
    assert!(
        !devices["gpus"].as_array().unwrap().is_empty(),
        "no GPU adapter: scripts/lavapipe installs Vulkan on the CPU: {devices}"
    );
    // 8 rounds of side 512 are 8 x 2^27 multiply-adds: 2 units of 2^29.
    let job = scene.job("gpu-seconds", "0.5", "2", &["--matmul", "512x8"]);
    let events = scene.work_to_completion(&job);

    let started = of_kind(&events, "started");
    assert!(
        text(&started[0]["device"]).starts_with("gpu: "),
        "{started:#?}"
    );
    let rounds = of_kind(&events, "round");
    assert_eq!(rounds.len(), 8, "{events:#?}");
    assert!(
        rounds
            .iter()
            .all(|round| text(&round["device"]).starts_with("gpu: ")),
        "{rounds:#?}"
    );
    let shown = scene.show_job(&job);
    assert_eq!(shown["settled_units"].as_u64(), Some(2), "{shown}");
    let owner = scene.owner.pubkey.clone();
    assert_eq!(
        scene.balance(&scene.payment_mint, &owner),
        net_pay(2, 500_000)
    );

    // The products the GPU published check against the inputs as the CPU's do.
    let checked = scene.json(&["job", "check-result", &job]);
    assert_eq!(checked["failure"], Value::Null, "{checked}");
    assert_eq!(
        (checked["rounds"].as_u64(), checked["units"].as_u64()),
        (Some(8), Some(2))
    );
    let status = scene.json(&["worker", "status"]);
    assert!(text(&status[0]["device"]).starts_with("gpu: "), "{status}");
}

#[test]
fn a_worker_killed_between_signing_and_submitting_or_mid_job_resumes_and_is_paid_once() {
    let scene = Scene::new("crash", "edge");
    let job = scene.job("cpu-seconds", "0.5", "6", &["--matmul", "512x24"]);

    // Killed right after a round was recorded: the store says three rounds are done.
    let mut worker = scene.spawn_worker(&["--once"], Some("after-round:2"));
    worker.wait_for("paused");
    worker.kill();
    let status = scene.json(&["worker", "status"]);
    assert_eq!(status[0]["rounds_done"], 3, "{status}");

    // The restarted worker goes on from round 4 and leaves a receipt to co-sign.
    let events = scene.worker_once();
    let rounds: Vec<u64> = of_kind(&events, "round")
        .iter()
        .map(|event| event["round"].as_u64().unwrap())
        .collect();
    assert_eq!(rounds.first(), Some(&3), "{events:#?}");
    assert_eq!(scene.cosign_waiting(&scene.attestor, false), 1);

    // Killed with the co-signed receipt in hand, before sending it; then killed again right
    // after the ledger settled it, before the store heard.
    for point in ["before-submit", "after-submit"] {
        let mut worker = scene.spawn_worker(&["--once"], Some(point));
        worker.wait_for("paused");
        worker.kill();
    }
    let settled_once = scene.show_job(&job)["settled_units"].as_u64().unwrap();
    assert!(settled_once > 0);

    let events = scene.work_to_completion(&job);
    assert!(!of_kind(&events, "completed").is_empty(), "{events:#?}");
    let shown = scene.show_job(&job);
    let settled_units = shown["settled_units"].as_u64().unwrap();
    let status = scene.json(&["worker", "status"]);
    assert_eq!(
        status[0]["units_metered"].as_u64(),
        Some(settled_units),
        "{status}"
    );
    assert_eq!(status[0]["rounds_done"], 24);
    assert_eq!(status[0]["units_metered"], 6);
    assert_eq!(
        scene.balance(&scene.payment_mint, &scene.owner.pubkey),
        net_pay(settled_units, 500_000),
        "paid more or less than once for each unit"
    );
    let checked = scene.json(&["job", "check-result", &job]);
    assert_eq!(checked["failure"], Value::Null, "{checked}");
}

#[test]
fn a_bandwidth_job_is_paid_for_exactly_the_bytes_relayed() {
    let scene = Scene::new("relay", "bandwidth");
    let sink = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = sink.local_addr().unwrap().to_string();
    let received = std::thread::spawn(move || {
        let (mut stream, _) = sink.accept().unwrap();
        let mut all = Vec::new();
        stream.read_to_end(&mut all).unwrap();
        all.len()
    });
    const BYTES: usize = 10_000;
    let job = scene.job("bytes", "0.001", &BYTES.to_string(), &["--relay", &target]);

    // Its target is on the provider's own machine: not taken without the operator's word.
    let skipped = scene.worker_once();
    let skipped = of_kind(&skipped, "skipped");
    assert!(
        text(&skipped[0]["reason"]).contains("not a public address"),
        "{skipped:?}"
    );

    // The worker runs on; the job's client co-signs offline (the worker holds the ledger).
    // The operator allows the target.
    let mut worker = scene.spawn_worker(&["--poll-secs", "1", "--relay-allow-private"], None);
    let listening = worker.wait_for("listening");
    let mut client = TcpStream::connect(text(&listening["address"])).unwrap();
    // The client's connection begins with the job's relay token.
    let client_key = solana_keypair::read_keypair_file(&scene.client.path).unwrap();
    let job_key: anchor_lang::prelude::Pubkey = job.parse().unwrap();
    let token = client_key.sign_message(&tessera_client::relay::token_message(&job_key));
    client.write_all(token.as_ref()).unwrap();
    client.write_all(&[42u8; BYTES]).unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(received.join().unwrap(), BYTES);

    let awaiting = worker.wait_for("awaiting");
    assert_eq!(awaiting["units"].as_u64(), Some(BYTES as u64));
    assert_eq!(scene.cosign_waiting(&scene.client, true), 1);
    let completed = worker.wait_for("completed");
    assert_eq!(completed["units"].as_u64(), Some(BYTES as u64));
    // SIGTERM stops it cleanly.
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(worker.child.id() as i32, libc::SIGTERM) };
    worker.wait_for("stopped");
    assert!(worker.child.wait().unwrap().success());

    assert_eq!(
        scene.show_job(&job)["settled_units"].as_u64(),
        Some(BYTES as u64)
    );
    assert_eq!(
        scene.balance(&scene.payment_mint, &scene.owner.pubkey),
        net_pay(BYTES as u64, 1_000)
    );
}

#[test]
fn bad_input_is_refused_with_the_reason_and_changes_nothing() {
    let scene = Scene::new("refusals", "edge");

    // A worker key that is not the provider's: refused before anything is opened.
    let stranger = Key::new(&scene.folder, "stranger");
    let mut args = scene.worker_args();
    args[5] = stranger.arg();
    let output = scene.run(&[&args[..], &["--once"]].concat());
    assert_eq!(output.status.code(), Some(2));
    let stderr = texts(&output).1;
    assert!(
        stderr.contains("is not provider") && stderr.contains(&stranger.pubkey),
        "{stderr}"
    );
    assert!(!scene.data_dir().join("worker.redb").exists());

    // An allowed command line whose slot follows a flag would let a spec choose what the flag
    // does: refused before anything is opened.
    let open_ended = ["--once", "--allow-command", "/bin/sh -c {script}"];
    let output = scene.run(&[&scene.worker_args()[..], &open_ended].concat());
    assert_eq!(output.status.code(), Some(2));
    let stderr = texts(&output).1;
    assert!(stderr.contains("follows the flag -c"), "{stderr}");
    assert!(!scene.data_dir().join("worker.redb").exists());

    // A spec document that is not the one the job's hash names.
    let published = scene.data_dir().join("specs");
    let forged_hash = "ab".repeat(32);
    let forged = scene.job("cpu-seconds", "0.5", "10", &["--spec-hash", &forged_hash]);
    std::fs::create_dir_all(&published).unwrap();
    std::fs::write(
        published.join(format!("{forged_hash}.json")),
        r#"{"format":"tessera-spec/v1","workload":{"kind":"matmul","n":8,"rounds":1}}"#,
    )
    .unwrap();
    // A spec the worker cannot run, and a job whose spec was never published.
    let command = scene.folder.join("command.json");
    std::fs::write(
        &command,
        r#"{"format":"tessera-spec/v1","workload":{"kind":"command","program":"train.sh"}}"#,
    )
    .unwrap();
    let unrunnable = scene.job(
        "cpu-seconds",
        "0.5",
        "10",
        &["--spec", command.to_str().unwrap()],
    );
    let unpublished = scene.job(
        "cpu-seconds",
        "0.5",
        "10",
        &["--spec-hash", &"cd".repeat(32)],
    );

    let events = scene.worker_once();
    let skipped = of_kind(&events, "skipped");
    let reason = |job: &str| {
        skipped
            .iter()
            .find(|event| event["job"] == job)
            .map(|event| text(&event["reason"]))
            .unwrap_or_else(|| panic!("{job} not skipped: {events:#?}"))
    };
    assert!(
        reason(&forged).contains("not the job's spec hash"),
        "{}",
        reason(&forged)
    );
    assert!(
        reason(&unrunnable).contains("runs `train.sh`: this worker runs no external command"),
        "{}",
        reason(&unrunnable)
    );
    assert!(
        reason(&unpublished).contains("no spec document"),
        "{}",
        reason(&unpublished)
    );
    for job in [&forged, &unrunnable, &unpublished] {
        assert_eq!(scene.show_job(job)["status"], "Open");
    }
    assert_eq!(scene.json(&["worker", "status"]), serde_json::json!([]));

    // `job create` refuses a spec that cannot be run, and writes nothing; a built-in job's
    // deposit is what its rounds are worth, never more.
    let create = |matmul: &str, max_units: Option<&str>| {
        let mut args = vec![
            "job",
            "create",
            "--mint",
            &scene.payment_mint,
            "--price",
            "1",
            "--provider",
            &scene.provider,
            "--matmul",
            matmul,
            "--keypair",
            scene.client.arg(),
        ];
        if let Some(max_units) = max_units {
            args.extend(["--max-units", max_units]);
        }
        scene.run(&args)
    };
    let output = create("0x3", Some("5"));
    assert_eq!(output.status.code(), Some(2));
    assert!(texts(&output).1.contains("1 <= n"), "{:?}", texts(&output));
    let output = create("128x40", None);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        texts(&output).1.contains("worth no unit"),
        "{:?}",
        texts(&output)
    );
    let output = create("512x8", Some("3"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = texts(&output).1;
    assert!(
        stderr.contains("--max-units 3 is more than") && stderr.contains("(2 units"),
        "{stderr}"
    );
    let output = create("64x1000000", None);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        texts(&output).1.contains("too small to attest"),
        "{:?}",
        texts(&output)
    );
    assert_eq!(scene.json(&["job", "list"]).as_array().unwrap().len(), 3);
}

#[test]
fn an_allowed_command_runs_once_metered_in_wall_time_times_its_devices() {
    let scene = Scene::new("command", "edge");
    let (spec, line) = crate::common::command_spec(&scene.folder, "hello", "printf hello", 2);
    let job = scene.job(
        "cpu-seconds",
        "0.5",
        "10",
        &["--spec", spec.to_str().unwrap()],
    );
    let seen = scene.command_to_completion(&job, &line);
    let finished = of_kind(&seen, "command-finished");
    assert_eq!(finished.len(), 1, "{seen:#?}");
    // Its device-time over the whole run (wall time on two devices), rounded up once: well
    // under a second of wall time is one or two units, not a second for each device.
    let device_ms = 2 * finished[0]["wall_ms"].as_u64().unwrap();
    let units = finished[0]["units"].as_u64().unwrap();
    assert!(
        units == device_ms.div_ceil(1_000) || units == (device_ms + 1).div_ceil(1_000),
        "{device_ms} ms of device-time billed as {units} units"
    );
    // SHA-256 of "hello", the command's output.
    let hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    assert_eq!(finished[0]["result_hash"], hello);
    assert_eq!(finished[0]["metered_by"], "wall time x 2 devices");
    assert_eq!(scene.show_job(&job)["settled_units"], units);
    assert_eq!(scene.json(&["worker", "status"])[0]["result_hash"], hello);
}

#[test]
fn a_gpu_second_command_is_metered_from_nvml_or_says_it_is_wall_time() {
    let scene = Scene::new("command-gpu", "edge");
    let (spec, line) = crate::common::command_spec(&scene.folder, "sleepy", "sleep 0.3", 2);
    let job = scene.job(
        "gpu-seconds",
        "0.5",
        "10",
        &["--spec", spec.to_str().unwrap()],
    );
    let seen = scene.command_to_completion(&job, &line);
    let finished = of_kind(&seen, "command-finished");
    assert_eq!(finished.len(), 1, "{seen:#?}");
    // `sleep` holds no GPU: without NVML the worker says NVML is not there, on an NVIDIA
    // machine that NVML saw no GPU held by the command; either way it meters wall time times
    // the spec's devices, and says so.
    let metered_by = text(&finished[0]["metered_by"]);
    assert!(
        [
            "wall time x 2 devices: NVML is not available",
            "wall time x 2 devices: NVML saw no GPU held by the command's processes",
        ]
        .iter()
        .any(|why| metered_by.starts_with(why)),
        "{metered_by}"
    );
    let units = finished[0]["units"].as_u64().unwrap();
    let device_ms = 2 * finished[0]["wall_ms"].as_u64().unwrap();
    assert!(
        units >= device_ms / 1_000 && units <= device_ms.div_ceil(1_000) + 1,
        "{device_ms} ms of device-time billed as {units} units"
    );
}

#[test]
fn a_settlement_pause_is_waited_out_and_a_set_aside_job_taken_back_with_worker_retry() {
    let scene = Scene::new("pause", "edge");
    let job = scene.job("cpu-seconds", "0.5", "2", &["--matmul", "512x8"]);
    let events = scene.worker_once();
    assert_eq!(of_kind(&events, "awaiting").len(), 1, "{events:#?}");
    assert_eq!(scene.cosign_waiting(&scene.attestor, false), 1);

    // Settlements paused: refused before sending; the worker waits and keeps the job.
    scene.json(&["network", "pause", "--settlements"]);
    let events = scene.worker_once();
    let retrying = of_kind(&events, "retrying");
    assert!(
        retrying
            .iter()
            .any(|event| text(&event["error"]).contains("paused for settlements")),
        "{events:#?}"
    );
    assert!(of_kind(&events, "set-aside").is_empty(), "{events:#?}");
    assert_eq!(scene.json(&["worker", "status"])[0]["state"], "running");

    // Claims paused too: the worker says it waits, and the pass goes on.
    scene.json(&["network", "pause", "--claims"]);
    let events = scene.worker_once();
    assert_eq!(of_kind(&events, "claims-waiting").len(), 1, "{events:#?}");
    scene.json(&["network", "unpause", "--claims"]);

    // Lifted: the next pass settles the same receipt and completes the job.
    scene.json(&["network", "unpause", "--settlements"]);
    let events = scene.work_to_completion(&job);
    assert!(!of_kind(&events, "completed").is_empty(), "{events:#?}");
    assert_eq!(scene.show_job(&job)["settled_units"], 2);

    // A set-aside job comes back with `worker retry`, which a running job refuses.
    let store_path = scene.data_dir().join("worker.redb");
    let other = "11111111111111111111111111111112";
    {
        let store = tessera_worker::store::Store::open(&store_path).unwrap();
        let key = other
            .parse::<anchor_lang::prelude::Pubkey>()
            .unwrap()
            .to_bytes();
        store
            .update::<anyhow::Error>(&key, |_| {
                let mut record = tessera_worker::store::JobRecord::new([1; 32]);
                record.state = tessera_worker::store::JobState::SetAside {
                    reason: "a co-signing service was down".into(),
                    retry_helps: true,
                };
                Ok(record)
            })
            .unwrap();
    }
    let status = scene.json(&["worker", "status"]);
    let set_aside = status
        .as_array()
        .unwrap()
        .iter()
        .find(|job| job["job"] == other)
        .unwrap();
    assert_eq!(set_aside["retry_helps"], true, "{status}");
    let retried = scene.json(&["worker", "retry", other]);
    assert_eq!(retried["was"], "a co-signing service was down");
    let output = scene.run(&["worker", "retry", other]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        texts(&output).1.contains("is not set aside"),
        "{:?}",
        texts(&output)
    );
}

#[test]
fn an_expired_receipt_and_a_replaced_attestor_set_are_signed_again_by_the_worker_itself() {
    let scene = Scene::new("resign", "edge");
    let job = scene.job("cpu-seconds", "0.5", "2", &["--matmul", "512x8"]);
    let mut seen = scene.worker_once();
    assert_eq!(scene.cosign_waiting(&scene.attestor, false), 1);

    // The co-signed receipt outlives the network's receipt max age (600 s) before it is
    // submitted: the worker signs a fresh one for the same units and waits for its co-signature.
    scene.json(&["ledger", "warp", "--by", "601"]);
    let events = scene.worker_once();
    assert_eq!(of_kind(&events, "signed").len(), 1, "{events:#?}");
    assert_eq!(of_kind(&events, "awaiting").len(), 1, "{events:#?}");
    assert_eq!(scene.show_job(&job)["settled_units"], 0);
    seen.extend(events);
    assert_eq!(scene.cosign_waiting(&scene.attestor, false), 1);

    // Co-signed, then the authority replaces the attestor set: the signature no longer counts,
    // and the worker signs for the new set.
    let attestor = Key::new(&scene.folder, "new-attestor");
    scene.json(&[
        "network",
        "set-attestors",
        "--attestor",
        &attestor.pubkey,
        "--threshold",
        "1",
    ]);
    let events = scene.worker_once();
    assert_eq!(of_kind(&events, "signed").len(), 1, "{events:#?}");
    assert_eq!(of_kind(&events, "awaiting").len(), 1, "{events:#?}");
    seen.extend(events);
    assert_eq!(scene.cosign_waiting(&attestor, false), 1);
    seen.extend(scene.worker_once());

    assert!(of_kind(&seen, "set-aside").is_empty(), "{seen:#?}");
    assert!(!of_kind(&seen, "completed").is_empty(), "{seen:#?}");
    assert_eq!(scene.show_job(&job)["settled_units"], 2);
    assert_eq!(
        scene.balance(&scene.payment_mint, &scene.owner.pubkey),
        net_pay(2, 500_000)
    );
}

#[test]
fn a_settlement_refused_because_its_epoch_passed_is_rebuilt_for_the_next_one() {
    // Epochs shorter than a receipt lives, so that the receipt outlasts the epoch it was
    // co-signed in; the folder served by a localnet, so that the clock can move while the
    // worker holds a settlement it built.
    let scene = Scene::with_epochs("epoch", "edge", 300);
    let job = scene.job("cpu-seconds", "0.5", "2", &["--matmul", "512x8"]);
    let localnet = Localnet::start(&scene.data_dir());
    scene.worker_once();
    assert_eq!(scene.cosign_waiting(&scene.attestor, false), 1);

    let mut worker = scene.spawn_worker(&["--once"], Some("settlement-built"));
    worker.wait_for("paused");
    let genesis_at = scene.json(&["network", "show", "--only"])[0]["genesis_at"]
        .as_i64()
        .unwrap();
    let warped = scene.json(&["ledger", "warp", "--to-epoch", "1"]);
    // The settlement was built in the network's first epoch (300 s leave room for a slow
    // machine), so the program now sees it a whole epoch late.
    assert!(
        warped["from"].as_i64().unwrap() < genesis_at + 300,
        "{warped}"
    );
    scene.resume();
    // The program refuses the settlement built for epoch 0, and the worker builds it again
    // at once for epoch 1, with the same co-signed receipt.
    let retrying = worker.wait_for("retrying");
    assert!(
        text(&retrying["error"]).contains("WrongEpoch"),
        "{retrying}"
    );
    assert_eq!(retrying["in_secs"], 0, "{retrying}");
    let settled = worker.wait_for("settled");
    assert_eq!(settled["units"], 2, "{settled}");
    worker.wait_for("completed");
    assert!(worker.child.wait().unwrap().success());

    let shown = scene.show_job(&job);
    assert_eq!(shown["status"], "Completed", "{shown}");
    assert_eq!(shown["settled_units"], 2);
    let history = scene.json(&["history", "--job", &job]);
    let settlements: Vec<&Value> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["event"] == "ReceiptSettled")
        .collect();
    assert_eq!(settlements.len(), 1, "{history}");
    assert_eq!(settlements[0]["fields"]["epoch"], 1, "{history}\n{warped}");
    assert_eq!(
        scene.balance(&scene.payment_mint, &scene.owner.pubkey),
        net_pay(2, 500_000)
    );
    localnet.stop();
}
