//! One data folder, one ledger: a command on a folder that a `tessera localnet` serves goes
//! through that localnet, a localnet waits for the command that holds its folder, a second
//! localnet on a served folder is refused, and what each wrote is there after the others.
//! Then sixty commands on one folder: the store grows with transactions, not with use.

use crate::common::{free_port, store_bytes};
use serde_json::Value;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// Longest a single command may take here before the test calls it hung.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `tessera` on `data_dir`; kills it, and fails, when it hangs (a command waiting forever
/// for a folder is one of the failures these tests look for).
fn tessera(data_dir: &Path, args: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tessera runs");
    let pid = child.id() as i32;
    let (send, done) = channel();
    std::thread::spawn(move || send.send(child.wait_with_output()));
    match done.recv_timeout(COMMAND_TIMEOUT) {
        Ok(output) => output.expect("tessera ends"),
        Err(_) => {
            // SAFETY: signals our own child process.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("tessera {args:?} did not end within {COMMAND_TIMEOUT:?}");
        }
    }
}

/// Runs a command that must succeed and print JSON.
fn json(data_dir: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let output = tessera(data_dir, &all);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "tessera {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

fn fresh_folder(name: &str) -> PathBuf {
    let data_dir = std::env::temp_dir().join(format!("tessera-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).unwrap();
    data_dir
}

/// A `tessera localnet` child, its standard output read line by line on a thread.
struct Localnet {
    child: Child,
    lines: Receiver<String>,
    stderr: PathBuf,
}

impl Localnet {
    fn spawn(data_dir: &Path, log: &str) -> Self {
        let stderr = data_dir.with_extension(log);
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["localnet", "--rpc-port", &free_port().to_string()])
            .args(["--ws-port", &free_port().to_string()])
            .stdout(Stdio::piped())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .expect("tessera localnet starts");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            stderr,
        }
    }

    /// The ready line, if it comes within `wait`.
    fn ready_within(&self, wait: Duration) -> Option<String> {
        self.lines
            .recv_timeout(wait)
            .ok()
            .filter(|line| line.contains("embedded ledger at"))
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// SIGTERM and a clean exit.
    fn stop(mut self) {
        // SAFETY: signals our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        assert!(status.success(), "localnet exited with {status}");
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mint_of(created: &Value) -> String {
    created["mint"]
        .as_str()
        .unwrap_or_else(|| panic!("no mint in {created}"))
        .to_string()
}

fn balance(data_dir: &Path, mint: &str) -> Value {
    json(data_dir, &["token", "balance", "--mint", mint])
}

#[test]
fn a_command_on_a_served_folder_goes_through_the_localnet() {
    let data_dir = fresh_folder("served-folder");
    // Command first: a mint written by a command that opened the folder itself.
    let before = mint_of(&json(&data_dir, &["token", "create-mint"]));

    let localnet = Localnet::spawn(&data_dir, "served-log");
    let ready = localnet.ready_within(Duration::from_secs(60));
    assert!(ready.is_some(), "localnet: {}", localnet.stderr());
    // The localnet sees the command's mint, and a command on its folder goes through it.
    assert!(balance(&data_dir, &before)["balance"].is_string());
    let during = mint_of(&json(&data_dir, &["token", "create-mint"]));
    assert!(balance(&data_dir, &during)["balance"].is_string());

    // A second ledger on the served folder is refused, with the way out.
    let second = tessera(&data_dir, &["localnet"]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success());
    assert!(
        stderr.contains("is already served by a tessera localnet at http://127.0.0.1:"),
        "{stderr}"
    );

    localnet.stop();
    assert!(
        !data_dir.join("localnet-url").exists(),
        "the stopped localnet still advertises itself"
    );
    // What went through the localnet was written to the folder's one store.
    for mint in [&before, &during] {
        assert!(
            balance(&data_dir, mint)["balance"].is_string(),
            "{mint} lost"
        );
    }
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[test]
fn a_localnet_waits_for_the_command_that_holds_its_folder() {
    let data_dir = fresh_folder("held-folder");
    let mint = mint_of(&json(&data_dir, &["token", "create-mint"]));

    // This test holds the folder the way a running command does.
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(data_dir.join("lock"))
        .unwrap();
    lock.lock().unwrap();
    let localnet = Localnet::spawn(&data_dir, "held-log");
    assert!(
        localnet.ready_within(Duration::from_secs(2)).is_none(),
        "the localnet started on a folder another process holds"
    );
    let waited = Instant::now();
    while !localnet
        .stderr()
        .contains("waiting for the other tessera process")
    {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the localnet does not say what it waits for: {}",
            localnet.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    lock.unlock().unwrap();
    let ready = localnet.ready_within(Duration::from_secs(60));
    assert!(ready.is_some(), "localnet: {}", localnet.stderr());
    assert!(balance(&data_dir, &mint)["balance"].is_string());
    localnet.stop();
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[test]
fn sixty_commands_on_one_folder_grow_the_store_by_their_transactions_only() {
    let data_dir = fresh_folder("sixty-commands");
    const ROUNDS: usize = 20;
    // Warm-up: the first mint and the folder's own payer.
    let mint = mint_of(&json(&data_dir, &["token", "create-mint"]));
    let start = store_bytes(&data_dir);
    let mut times = Vec::with_capacity(3 * ROUNDS);
    let mut transactions = 0;
    for _ in 0..ROUNDS {
        // A write of one transaction, and two reads.
        let commands: [(&[&str], u64); 3] = [
            (&["token", "create-mint", "--supply", "1"], 1),
            (&["token", "balance", "--mint", &mint], 0),
            (&["audit"], 0),
        ];
        for (command, sent) in commands {
            let began = Instant::now();
            json(&data_dir, command);
            times.push(began.elapsed());
            transactions += sent;
        }
    }
    let grown = store_bytes(&data_dir).saturating_sub(start);
    println!(
        "{} commands, {transactions} transactions: the store grew {grown} bytes; second write \
         {:?}, last write {:?}, second read {:?}, last read {:?} (timings are printed, not \
         asserted: `cargo bench -p tessera-bench` measures them)",
        times.len(),
        times[3],
        times[times.len() - 3],
        times[4],
        times[times.len() - 1],
    );
    assert_eq!(times.len(), 60);
    assert!(
        grown / transactions < 50_000,
        "the store grew by {} bytes per transaction",
        grown / transactions
    );
    // Reads never start the ledger, so they never write the store.
    let before_reads = store_bytes(&data_dir);
    for _ in 0..5 {
        json(&data_dir, &["audit"]);
    }
    assert_eq!(
        store_bytes(&data_dir),
        before_reads,
        "a read wrote the store"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}
