//! `tessera localnet` driven from separate processes: a whole scenario through the `tessera`
//! commands over JSON-RPC (network, attestors, provider, stake, job, receipts, pause, dispute,
//! close, unstake, claim, migrate), bad input refused with a clear message and the ledger left
//! unchanged, then a restart that finds every account as it was.

use anchor_lang::prelude::Pubkey;
use serde_json::Value;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_signer::Signer;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

struct Localnet {
    child: Child,
    url: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Localnet {
    fn start(data_dir: &Path) -> Self {
        let (rpc, ws) = (free_port(), free_port());
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("--data-dir")
            .arg(data_dir)
            .args([
                "localnet",
                "--rpc-port",
                &rpc.to_string(),
                "--ws-port",
                &ws.to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(data_dir.with_extension("log")).unwrap())
            .spawn()
            .expect("tessera localnet starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.contains("embedded ledger at"),
            "localnet said {line:?}"
        );
        Self {
            child,
            url: format!("http://127.0.0.1:{rpc}"),
        }
    }

    /// SIGTERM, as a service manager or Ctrl-C would, and a clean exit.
    fn stop(mut self) {
        // SAFETY: signals our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        assert!(status.success(), "localnet exited with {status}");
    }

    fn rpc(&self) -> RpcClient {
        RpcClient::new_with_commitment(
            self.url.clone(),
            solana_commitment_config::CommitmentConfig::confirmed(),
        )
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

struct Actor {
    keypair: Keypair,
    path: PathBuf,
}

impl Actor {
    fn new(dir: &Path, name: &str) -> Self {
        let keypair = Keypair::new();
        let path = dir.join(format!("{name}.json"));
        solana_keypair::write_keypair_file(&keypair, &path).unwrap();
        Self { keypair, path }
    }

    fn key(&self) -> Pubkey {
        self.keypair.pubkey()
    }
}

struct Scenario<'a> {
    localnet: &'a Localnet,
    network: u64,
    watched: Vec<Pubkey>,
}

impl Scenario<'_> {
    fn tessera(&self, signer: &Actor, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["--url", &self.localnet.url, "--output", "json"])
            .arg("--keypair")
            .arg(&signer.path)
            .args(["--network", &self.network.to_string()])
            .args(args)
            .output()
            .expect("tessera runs")
    }

    /// Runs a command that must succeed; returns its JSON.
    fn ok(&self, signer: &Actor, args: &[&str]) -> Value {
        let output = self.tessera(signer, args);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{args:?} failed:\n{stdout}\n{stderr}"
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|_| panic!("{args:?}: stdout is not JSON alone:\n{stdout}"))
    }

    /// Runs a command that must be refused with `expected` in its message, leaving every
    /// Tessera account and every watched account exactly as it was.
    fn refused(&self, signer: &Actor, args: &[&str], expected: &str) {
        let before = self.fingerprint();
        let output = self.tessera(signer, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?} was not refused: {stderr}"
        );
        assert!(
            stderr.contains(expected),
            "{args:?}: expected {expected:?} in\n{stderr}"
        );
        assert_eq!(before, self.fingerprint(), "{args:?} changed the ledger");
    }

    /// Every Tessera account and every watched account (wallets, token accounts): address,
    /// lamports and data.
    fn fingerprint(&self) -> Vec<(Pubkey, u64, Vec<u8>)> {
        let rpc = self.localnet.rpc();
        let mut accounts: Vec<(Pubkey, u64, Vec<u8>)> = rpc
            .get_program_accounts(&tessera_client::PROGRAM_ID)
            .unwrap()
            .into_iter()
            .map(|(key, account)| (key, account.lamports, account.data))
            .collect();
        for key in &self.watched {
            if let Ok(account) = rpc.get_account(key) {
                accounts.push((*key, account.lamports, account.data));
            }
        }
        accounts.sort();
        accounts
    }
}

fn airdrop(rpc: &RpcClient, to: &Pubkey) {
    let signature = rpc.request_airdrop(to, 10_000_000_000).unwrap();
    for _ in 0..100 {
        if rpc.confirm_transaction(&signature).unwrap_or(false) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("airdrop to {to} not confirmed");
}

fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {value}"))
}

fn ata(owner: &Pubkey, mint: &Pubkey) -> Pubkey {
    tessera_client::pda::associated_token(owner, mint, &spl_token_interface::ID)
}

#[test]
fn a_scenario_through_localnet_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("tessera-localnet-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data_dir = dir.join("ledger");
    let localnet = Localnet::start(&data_dir);
    let rpc = localnet.rpc();

    let [authority, owner, worker, client, attestor_a, attestor_b, stranger] = [
        "authority",
        "owner",
        "worker",
        "client",
        "attestor-a",
        "attestor-b",
        "stranger",
    ]
    .map(|name| Actor::new(&dir, name));
    for actor in [&authority, &owner, &worker, &client, &stranger] {
        airdrop(&rpc, &actor.key());
    }
    let mut s = Scenario {
        localnet: &localnet,
        network: 1,
        watched: vec![],
    };

    // The committed localnet migration creates network 1; a second run finds it in place.
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/localnet.toml");
    let plan = s.ok(&authority, &["migrate", "--config", config, "--dry-run"]);
    assert_eq!(plan["steps"][0]["state"], "would run");
    assert!(
        rpc.get_program_accounts(&tessera_client::PROGRAM_ID)
            .unwrap()
            .is_empty(),
        "a dry run sends nothing"
    );
    let done = s.ok(&authority, &["migrate", "--config", config]);
    assert_eq!(done["steps"][0]["state"], "done");
    let again = s.ok(&authority, &["migrate", "--config", config]);
    for step in again["steps"].as_array().unwrap() {
        assert_eq!(step["state"], "in place", "{again}");
    }

    // Network 2 by hand, with short windows.
    s.network = 2;
    let init = s.ok(
        &authority,
        &[
            "network",
            "init",
            "--epoch-secs",
            "300",
            "--unbonding-secs",
            "30",
            "--dispute-window-secs",
            "30",
            "--min-stake",
            "edge=100",
            "--allocation",
            "10000",
        ],
    );
    let reward: Pubkey = text(&init, "reward_mint").parse().unwrap();
    s.watched = [&authority, &owner, &client, &stranger]
        .iter()
        .flat_map(|a| [a.key(), ata(&a.key(), &reward)])
        .collect();
    s.refused(&authority, &["network", "init"], "already exists");
    s.refused(
        &stranger,
        &[
            "network",
            "set-attestors",
            "--attestor",
            &attestor_a.key().to_string(),
            "--threshold",
            "1",
        ],
        "only network 2's authority",
    );
    s.refused(
        &authority,
        &[
            "network",
            "set-attestors",
            "--attestor",
            &attestor_a.key().to_string(),
            "--threshold",
            "2",
        ],
        "--threshold 2 must be between 1 and the 1 attestors",
    );
    s.ok(
        &authority,
        &[
            "network",
            "set-attestors",
            "--attestor",
            &attestor_a.key().to_string(),
            "--attestor",
            &attestor_b.key().to_string(),
            "--threshold",
            "2",
        ],
    );
    let shown = s.ok(&authority, &["network", "show", "--only"]);
    assert_eq!(shown[0]["attestor_threshold"], 2);

    // Tokens for the provider and the client.
    s.refused(
        &authority,
        &[
            "token",
            "transfer",
            "--mint",
            &reward.to_string(),
            "--to",
            &owner.key().to_string(),
            "1.0000001",
        ],
        "has 7 decimals but the mint has 6",
    );
    s.refused(
        &authority,
        &[
            "token",
            "transfer",
            "--mint",
            &reward.to_string(),
            "--to",
            &owner.key().to_string(),
            "20000",
        ],
        "insufficient funds",
    );
    s.ok(
        &authority,
        &[
            "token",
            "transfer",
            "--mint",
            &reward.to_string(),
            "--to",
            &owner.key().to_string(),
            "500",
        ],
    );
    s.ok(
        &authority,
        &[
            "token",
            "transfer",
            "--mint",
            &reward.to_string(),
            "--to",
            &client.key().to_string(),
            "1000",
        ],
    );

    // A provider, staked at registration.
    s.refused(
        &owner,
        &["provider", "register", "--class", "edge", "--stake", "600"],
        "insufficient funds",
    );
    s.refused(
        &owner,
        &[
            "provider",
            "register",
            "--class",
            "edge",
            "--region",
            "far-too-long-region",
        ],
        "at most 8",
    );
    let registered = s.ok(
        &owner,
        &[
            "provider",
            "register",
            "--class",
            "edge",
            "--worker",
            &worker.key().to_string(),
            "--gpus",
            "1",
            "--vram-gib",
            "24",
            "--stake",
            "100",
        ],
    );
    let provider = text(&registered, "address").to_string();
    assert_eq!(registered["stake"], "100.000000");
    s.refused(&owner, &["stake", "add", "10000"], "insufficient funds");
    s.refused(
        &owner,
        &["provider", "show", &Pubkey::new_unique().to_string()],
        "no provider at",
    );
    s.ok(
        &owner,
        &[
            "provider",
            "update",
            "--gpus",
            "2",
            "--vram-gib",
            "24",
            "--region",
            "eu-west",
        ],
    );
    assert_eq!(s.ok(&owner, &["provider", "show"])["gpus"], 2);

    // A job in the reward mint, accepted by the provider.
    s.refused(
        &client,
        &[
            "job",
            "create",
            "--mint",
            &reward.to_string(),
            "--provider",
            &provider,
            "--price=-1",
            "--max-units",
            "100",
        ],
        "is negative",
    );
    s.refused(
        &client,
        &[
            "job",
            "create",
            "--mint",
            &reward.to_string(),
            "--provider",
            &provider,
            "--price",
            "0.0000001",
            "--max-units",
            "100",
        ],
        "has 7 decimals",
    );
    s.refused(
        &client,
        &[
            "job",
            "create",
            "--mint",
            &reward.to_string(),
            "--provider",
            &provider,
            "--price",
            "5",
            "--max-units",
            "1000",
        ],
        "insufficient funds",
    );
    s.refused(
        &client,
        &[
            "job",
            "create",
            "--mint",
            &provider,
            "--provider",
            &provider,
            "--price",
            "1",
            "--max-units",
            "1",
        ],
        "is not a mint",
    );
    let job = s.ok(
        &client,
        &[
            "job",
            "create",
            "--mint",
            &reward.to_string(),
            "--provider",
            &provider,
            "--price",
            "0.5",
            "--max-units",
            "100",
        ],
    );
    let job_address = text(&job, "address").to_string();
    assert_eq!(job["deposited"], "50.000000");
    s.refused(
        &stranger,
        &["job", "accept", &job_address],
        "has no provider on network 2",
    );
    s.ok(&owner, &["job", "accept", &job_address]);

    // Receipt: the worker signs, two attestors co-sign offline, anyone submits.
    let receipt = dir.join("receipt-40.json");
    let receipt_path = receipt.to_str().unwrap();
    s.refused(
        &owner,
        &[
            "receipt",
            "sign",
            "--job",
            &job_address,
            "--units",
            "40",
            "--out",
            receipt_path,
        ],
        "is not provider",
    );
    s.ok(
        &worker,
        &[
            "receipt",
            "sign",
            "--job",
            &job_address,
            "--units",
            "40",
            "--out",
            receipt_path,
        ],
    );
    s.refused(
        &worker,
        &[
            "receipt",
            "sign",
            "--job",
            &job_address,
            "--units",
            "40",
            "--out",
            receipt_path,
        ],
        "already exists",
    );
    s.ok(&attestor_a, &["receipt", "cosign", receipt_path]);
    s.refused(
        &stranger,
        &["receipt", "submit", receipt_path],
        "SignatureCountMismatch",
    );
    s.ok(&attestor_b, &["receipt", "cosign", receipt_path]);
    s.refused(
        &attestor_b,
        &["receipt", "cosign", receipt_path],
        "has already signed",
    );
    assert_eq!(
        s.ok(&stranger, &["receipt", "verify", receipt_path])["signatures"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let tampered = dir.join("tampered.json");
    std::fs::write(
        &tampered,
        std::fs::read_to_string(&receipt)
            .unwrap()
            .replace("\"cumulative_units\": 40", "\"cumulative_units\": 99"),
    )
    .unwrap();
    s.refused(
        &stranger,
        &["receipt", "submit", tampered.to_str().unwrap()],
        "does not verify",
    );

    // Paused settlements refuse the receipt and change nothing; unpaused, it settles.
    s.ok(&authority, &["network", "pause", "--settlements"]);
    s.refused(
        &stranger,
        &["receipt", "submit", receipt_path],
        "paused for settlements",
    );
    s.ok(&authority, &["network", "unpause"]);
    let settled = s.ok(&stranger, &["receipt", "submit", receipt_path]);
    assert_eq!(settled["epoch"], 0);
    let job_now = s.ok(&stranger, &["job", "show", &job_address]);
    assert_eq!(job_now["settled_units"], 40);
    assert_eq!(job_now["paid_out"], "19.500000");
    assert_eq!(job_now["fees_accrued"], "0.500000");

    // New jobs paused: create is refused before anything is sent.
    s.ok(&authority, &["network", "pause", "--new-jobs"]);
    s.refused(
        &client,
        &[
            "job",
            "create",
            "--mint",
            &reward.to_string(),
            "--class",
            "edge",
            "--price",
            "0.1",
            "--max-units",
            "10",
        ],
        "paused for new jobs",
    );
    s.ok(&authority, &["network", "unpause", "--new-jobs"]);

    // Completed, disputed within the window, upheld with a slash, closed after the window.
    s.ok(&owner, &["job", "complete", &job_address]);
    s.refused(
        &stranger,
        &[
            "dispute",
            "open",
            &job_address,
            "--evidence-hash",
            &"ab".repeat(32),
        ],
        "only the job's client",
    );
    s.ok(
        &client,
        &[
            "dispute",
            "open",
            &job_address,
            "--evidence-hash",
            &"ab".repeat(32),
        ],
    );
    s.refused(&owner, &["stake", "unstake", "10"], "open disputes");
    s.refused(
        &authority,
        &["dispute", "resolve", &job_address, "--slash", "1000"],
        "more than provider",
    );
    s.ok(
        &authority,
        &["dispute", "resolve", &job_address, "--slash", "10"],
    );
    s.refused(
        &stranger,
        &["job", "close", &job_address],
        "DisputeWindowOpen",
    );
    s.ok(&stranger, &["ledger", "warp", "--by", "31"]);
    let closed = s.ok(&stranger, &["job", "close", &job_address]);
    assert_eq!(closed["refunded"], "30.000000");

    // Unstake, wait out the unbonding, withdraw.
    s.ok(&owner, &["stake", "unstake", "40"]);
    s.refused(&owner, &["stake", "withdraw"], "ends in");
    s.ok(&stranger, &["ledger", "warp", "--by", "31"]);
    let withdrawn = s.ok(&owner, &["stake", "withdraw"]);
    assert_eq!(withdrawn["stake"], "50.000000");

    // Emissions: nothing before epoch 0 ends, the whole attested share after.
    s.refused(&owner, &["claim", "--epoch", "0"], "is not over");
    s.ok(&stranger, &["ledger", "warp", "--to-epoch", "1"]);
    let claimed = s.ok(&stranger, &["claim", "--provider", &provider]);
    assert_eq!(claimed["epochs"], serde_json::json!([0]));
    assert_eq!(
        claimed["amount"], "10000.000000",
        "the only attested work takes the epoch"
    );

    // An open job left on the ledger, and a clean audit.
    s.ok(
        &client,
        &[
            "job",
            "create",
            "--mint",
            &reward.to_string(),
            "--class",
            "edge",
            "--price",
            "0.1",
            "--max-units",
            "10",
        ],
    );
    assert_eq!(
        s.ok(&stranger, &["audit"])["findings"],
        serde_json::json!([])
    );

    // Restart: every account as it was, and the clock not behind the warps.
    let before = s.fingerprint();
    let lists = |s: &Scenario| {
        [
            s.ok(&stranger, &["network", "show"]),
            s.ok(&stranger, &["provider", "list"]),
            s.ok(&stranger, &["job", "list"]),
        ]
    };
    let listed = lists(&s);
    let clock_before = s.ok(&stranger, &["ledger", "warp", "--by", "1"])["to"]
        .as_i64()
        .unwrap();
    let before_warp_fingerprint = s.fingerprint();
    drop(s);
    localnet.stop();
    let localnet = Localnet::start(&data_dir);
    let s = Scenario {
        localnet: &localnet,
        network: 2,
        watched: [&authority, &owner, &client, &stranger]
            .iter()
            .flat_map(|a| [a.key(), ata(&a.key(), &reward)])
            .collect(),
    };
    assert_eq!(
        before_warp_fingerprint,
        s.fingerprint(),
        "an account changed across the restart"
    );
    assert_eq!(before.len(), s.fingerprint().len());
    assert_eq!(listed, lists(&s));
    let clock_after = s.ok(&stranger, &["ledger", "warp", "--by", "1"])["from"]
        .as_i64()
        .unwrap();
    assert!(
        clock_after >= clock_before,
        "the clock went back from {clock_before} to {clock_after}"
    );
    assert_eq!(
        s.ok(&stranger, &["audit"])["findings"],
        serde_json::json!([])
    );
    drop(s);
    localnet.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
