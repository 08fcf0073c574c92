//! The auditor, as a new one would work, against a `tessera localnet` over JSON-RPC and with no
//! keypair: a busy ledger (the quickstart's network with its claims, and a second network with
//! running jobs, attested work in the current epoch and a dispute) audits clean; each of six
//! corruptions written into the ledger is reported as exactly its violation; a gift to a vault
//! is information and exit 0. On the way: a settlement's `ReceiptSettled` event read from its
//! `Program data:` line through plain JSON-RPC, `history`, `inspect`, `--csv` and `--report`.

use crate::common::Localnet;
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, AccountSerialize};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::request::RpcRequest;
use solana_signer::Signer;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;
use tessera::events::ReceiptSettled;
use tessera::state::{Epoch, Job, WorkRecord};
use tessera_client::pda;

/// The test's folder, its localnet, and everyone's keypair files.
struct Auditor {
    dir: PathBuf,
    localnet: Localnet,
    /// An empty home: no Solana CLI keypair to fall back on.
    home: PathBuf,
    keys: std::collections::BTreeMap<&'static str, (Keypair, PathBuf)>,
}

impl Auditor {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("tessera-auditor-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let home = dir.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let localnet = Localnet::start(&dir.join("ledger"));
        let mut keys = std::collections::BTreeMap::new();
        for name in [
            "authority",
            "owner",
            "worker",
            "client",
            "attestor-a",
            "attestor-b",
        ] {
            let keypair = Keypair::new();
            let path = dir.join(format!("{name}.json"));
            solana_keypair::write_keypair_file(&keypair, &path).unwrap();
            keys.insert(name, (keypair, path));
        }
        let auditor = Self {
            dir,
            localnet,
            home,
            keys,
        };
        for name in ["authority", "owner", "worker", "client"] {
            auditor.airdrop(&auditor.key(name));
        }
        auditor
    }

    fn rpc(&self) -> RpcClient {
        RpcClient::new_with_commitment(
            self.localnet.url.clone(),
            solana_commitment_config::CommitmentConfig::confirmed(),
        )
    }

    fn key(&self, name: &str) -> Pubkey {
        self.keys[name].0.pubkey()
    }

    fn airdrop(&self, to: &Pubkey) {
        let rpc = self.rpc();
        let signature = rpc.request_airdrop(to, 10_000_000_000).unwrap();
        for _ in 0..100 {
            if rpc.confirm_transaction(&signature).unwrap_or(false) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("airdrop to {to} not confirmed");
    }

    /// `tessera --url <localnet> --output json [--keypair <signer's>] <command>`, in a home
    /// with no Solana CLI keypair.
    fn tessera(&self, signer: Option<&str>, command: &str) -> Output {
        let mut tessera = Command::new(env!("CARGO_BIN_EXE_tessera"));
        tessera
            .env("HOME", &self.home)
            .env_remove("TESSERA_KEYPAIR")
            .args([
                "--url",
                &self.localnet.url,
                "--output",
                "json",
                "--network",
                "2",
            ]);
        if let Some(signer) = signer {
            tessera.arg("--keypair").arg(&self.keys[signer].1);
        }
        tessera
            .args(command.split_whitespace())
            .output()
            .expect("tessera runs")
    }

    /// A command that must succeed; its JSON.
    fn ok(&self, signer: Option<&str>, command: &str) -> Value {
        let output = self.tessera(signer, command);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "`{command}` failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("`{command}`: not JSON:\n{stdout}"))
    }

    /// `tessera audit` with no keypair: its exit code and its JSON.
    fn audit(&self) -> (i32, Value) {
        let output = self.tessera(None, "audit");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report = serde_json::from_str(&stdout)
            .unwrap_or_else(|_| panic!("audit printed no JSON:\n{stdout}"));
        (output.status.code().unwrap_or(-1), report)
    }

    /// Writes `account` into the ledger through surfpool's cheat code.
    fn write(&self, address: &Pubkey, account: &solana_account::Account) {
        let params = json!([address.to_string(), {
            "lamports": account.lamports,
            "data": hex::encode(&account.data),
            "owner": account.owner.to_string(),
        }]);
        self.rpc()
            .send::<Value>(
                RpcRequest::Custom {
                    method: "surfnet_setAccount",
                },
                params,
            )
            .expect("surfnet_setAccount");
    }

    /// Corrupts the account at `address` with `change`, audits, puts the account back.
    fn corrupted(&self, address: &Pubkey, change: impl FnOnce(&mut [u8])) -> (i32, Value) {
        let original = self.rpc().get_account(address).unwrap();
        let mut corrupt = original.clone();
        change(&mut corrupt.data);
        self.write(address, &corrupt);
        let audit = self.audit();
        self.write(address, &original);
        audit
    }
}

/// The account's state with `change` applied, serialized back.
fn rewrite<T: AccountDeserialize + AccountSerialize>(data: &mut [u8], change: impl FnOnce(&mut T)) {
    let mut state = T::try_deserialize(&mut &data[..]).unwrap();
    change(&mut state);
    let mut bytes = Vec::new();
    state.try_serialize(&mut bytes).unwrap();
    data[..bytes.len()].copy_from_slice(&bytes);
}

/// Adds `delta` to the little-endian u64 at `offset` (a token account's amount at 64, a mint's
/// supply at 36).
fn add_u64(data: &mut [u8], offset: usize, delta: i64) {
    let value = u64::from_le_bytes(data[offset..offset + 8].try_into().unwrap());
    let value = value.checked_add_signed(delta).unwrap();
    data[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
}

/// The violations of an audit report as `(rule, account)`.
fn violations(report: &Value) -> Vec<(String, String)> {
    report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| {
            (
                finding["rule"].as_str().unwrap().to_string(),
                finding["account"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn text(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {value}"))
        .to_string()
}

/// A corruption: what it is, the account it rewrites and how, and the one violation it must
/// cause: `(rule, account)`.
type Corruption = (
    &'static str,
    Pubkey,
    Box<dyn FnOnce(&mut [u8])>,
    &'static str,
    Pubkey,
);

/// What the second network holds for the corruptions to aim at.
struct Busy {
    reward: Pubkey,
    provider: Pubkey,
    running: Pubkey,
    disputed: Pubkey,
    epoch: u64,
}

#[test]
fn an_auditor_without_a_key_finds_each_corruption_and_only_it() {
    let auditor = Auditor::start();
    the_quickstart_builds_network_1(&auditor);
    let busy = network_2_has_running_jobs_attested_work_and_a_dispute(&auditor);
    a_settlements_event_is_read_from_its_program_data_line(&auditor, &busy);
    history_and_inspect_tell_the_jobs_story(&auditor, &busy);
    a_write_without_a_keypair_says_what_to_pass(&auditor);
    the_busy_ledger_audits_clean_and_each_corruption_is_found_alone(&auditor, &busy);
    a_gift_to_a_vault_is_information(&auditor, &busy);
    the_report_and_the_tables_are_written(&auditor);
    let _ = std::fs::remove_dir_all(&auditor.dir);
}

fn the_quickstart_builds_network_1(auditor: &Auditor) {
    let output = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("--data-dir")
        .arg(auditor.dir.join("ledger"))
        .args(["--output", "json", "quickstart"])
        .output()
        .expect("quickstart runs");
    assert!(
        output.status.success(),
        "quickstart failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn network_2_has_running_jobs_attested_work_and_a_dispute(auditor: &Auditor) -> Busy {
    let a = |name| Some(name);
    let init = auditor.ok(a("authority"), "network init --epoch-secs 3600 --unbonding-secs 600 --dispute-window-secs 600 --min-stake edge=100 --stake-per-job edge=10 --allocation 10000");
    let reward: Pubkey = text(&init, "reward_mint").parse().unwrap();
    let (attestor_a, attestor_b) = (auditor.key("attestor-a"), auditor.key("attestor-b"));
    auditor.ok(
        a("authority"),
        &format!(
            "network set-attestors --attestor {attestor_a} --attestor {attestor_b} --threshold 2"
        ),
    );
    for to in ["owner", "client"] {
        auditor.ok(
            a("authority"),
            &format!(
                "token transfer --mint {reward} --to {} 1000",
                auditor.key(to)
            ),
        );
    }
    let worker = auditor.key("worker");
    let registered = auditor.ok(
        a("owner"),
        &format!(
            "provider register --class edge --worker {worker} --gpus 1 --vram-gib 24 --stake 100"
        ),
    );
    let provider: Pubkey = text(&registered, "address").parse().unwrap();
    let mut jobs = Vec::new();
    for units in [40, 20] {
        let job = auditor.ok(
            a("client"),
            &format!(
                "job create --mint {reward} --provider {provider} --price 0.5 --max-units 100"
            ),
        );
        let job = text(&job, "address");
        auditor.ok(a("owner"), &format!("job accept {job}"));
        let receipt = auditor.dir.join(format!("receipt-{units}.json"));
        let receipt = receipt.to_str().unwrap();
        auditor.ok(
            a("worker"),
            &format!("receipt sign --job {job} --units {units} --out {receipt}"),
        );
        auditor.ok(a("attestor-a"), &format!("receipt cosign {receipt} --yes"));
        auditor.ok(a("attestor-b"), &format!("receipt cosign {receipt} --yes"));
        auditor.ok(a("client"), &format!("receipt submit {receipt}"));
        jobs.push(job.parse::<Pubkey>().unwrap());
    }
    let evidence = "ab".repeat(32);
    auditor.ok(
        a("client"),
        &format!("dispute open {} --evidence-hash {evidence}", jobs[1]),
    );
    let record: WorkRecord = {
        let records = auditor
            .rpc()
            .get_program_accounts(&tessera_client::PROGRAM_ID)
            .unwrap();
        let (_, account) = records
            .into_iter()
            .find(|(address, _)| (0..4).any(|epoch| *address == pda::work_record(&provider, epoch)))
            .expect("a work record of the provider's attested work");
        WorkRecord::try_deserialize(&mut account.data.as_slice()).unwrap()
    };
    Busy {
        reward,
        provider,
        running: jobs[0],
        disputed: jobs[1],
        epoch: record.epoch,
    }
}

/// A settlement's event, read through JSON-RPC from its `Program data:` line (base64,
/// discriminator, borsh: `tessera_client::events::decode`, as Anchor's event parser reads it).
fn a_settlements_event_is_read_from_its_program_data_line(auditor: &Auditor, busy: &Busy) {
    let rpc = auditor.rpc();
    let signatures = rpc.get_signatures_for_address(&busy.running).unwrap();
    let mut settled = Vec::new();
    let mut program_logs = Vec::new();
    for entry in &signatures {
        let transaction: Value = rpc
            .send(
                RpcRequest::GetTransaction,
                json!([entry.signature, {"encoding": "json", "maxSupportedTransactionVersion": 0}]),
            )
            .unwrap();
        let logs: Vec<String> = transaction["meta"]["logMessages"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|line| line.as_str().map(String::from))
            .collect();
        settled.extend(tessera_client::events::decode::<ReceiptSettled>(&logs).unwrap());
        program_logs.extend(
            logs.into_iter()
                .filter(|line| line.starts_with("Program log: ")),
        );
    }
    assert_eq!(settled.len(), 1, "one settlement on the job");
    let event = &settled[0];
    assert_eq!((event.job, event.provider), (busy.running, busy.provider));
    assert_eq!((event.units, event.cumulative_units), (40, 40));
    assert_eq!(event.payment + event.fee, 40 * 500_000, "40 units at 0.5");
    assert!(event.attestation.by_attestors && !event.attestation.by_client);
    assert_eq!(event.epoch, busy.epoch);
    assert!(event.weighted_units > 0);
    for instruction in ["CreateJob", "AcceptJob", "SettleReceipt"] {
        let line = format!("Program log: Instruction: {instruction}");
        assert!(program_logs.contains(&line), "{line} in {program_logs:?}");
    }

    // A refused instruction logs Anchor's error lines, as a deployed program does.
    let (client, _) = &auditor.keys["client"];
    let pause = tessera::state::PauseFlags {
        new_jobs: true,
        ..Default::default()
    };
    let not_the_authority =
        tessera_client::instructions::set_pause(&client.pubkey(), &pda::network(2), pause);
    let transaction = solana_transaction::Transaction::new_signed_with_payer(
        &[not_the_authority],
        Some(&client.pubkey()),
        &[client],
        rpc.get_latest_blockhash().unwrap(),
    );
    let simulated = rpc.simulate_transaction(&transaction).unwrap().value;
    let logs = simulated.logs.unwrap_or_default();
    assert!(simulated.err.is_some(), "{logs:?}");
    let expected = "Program log: AnchorError caused by account: network. Error Code: \
                    NotAuthority. Error Number: 6001. Error Message: Only the network authority";
    assert!(
        logs.iter().any(|line| line.starts_with(expected)),
        "{expected} in {logs:?}"
    );
    assert!(
        logs.contains(&format!("Program log: {}", client.pubkey())),
        "{logs:?}"
    );
}

fn history_and_inspect_tell_the_jobs_story(auditor: &Auditor, busy: &Busy) {
    let history = auditor.ok(None, &format!("history --job {}", busy.disputed));
    let names: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "JobCreated",
            "JobAccepted",
            "ReceiptSettled",
            "DisputeOpened"
        ],
        "{history}"
    );
    assert_eq!(history["events"][2]["fields"]["units"], 20);

    let job = auditor.ok(None, &format!("inspect {}", busy.running));
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["fields"]["settled_units"], 40);
    let deposited = job["amounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|amount| amount["field"] == "deposited")
        .expect("the deposit in tokens");
    assert_eq!(deposited["tokens"], "50.000000");
    assert_eq!(job["related"][0]["kind"], "TokenAccount");
    assert_eq!(
        job["related"][0]["fields"]["amount"],
        50_000_000 - 19_500_000
    );
}

/// Without a keypair, reads work and a command that would send says what to pass.
fn a_write_without_a_keypair_says_what_to_pass(auditor: &Auditor) {
    let output = auditor.tessera(None, "provider register --class edge --gpus 1");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no keypair was given or found: pass --keypair FILE"),
        "{stderr}"
    );
}

fn the_busy_ledger_audits_clean_and_each_corruption_is_found_alone(auditor: &Auditor, busy: &Busy) {
    let (code, report) = auditor.audit();
    assert_eq!(code, 0, "{report}");
    assert_eq!(violations(&report), vec![], "{report}");
    assert_eq!(report["networks"].as_array().unwrap().len(), 2);
    assert_eq!(report["networks"][1]["open_disputes"], 1);

    let network = pda::network(2);
    let job: Job = {
        let account = auditor.rpc().get_account(&busy.running).unwrap();
        Job::try_deserialize(&mut account.data.as_slice()).unwrap()
    };
    let epoch = pda::epoch(&network, busy.epoch);
    let record = pda::work_record(&busy.provider, busy.epoch);
    let cases: Vec<Corruption> = vec![
        (
            "a vault drained",
            job.vault,
            Box::new(|data| add_u64(data, 64, -30_500_000)),
            "job-vault",
            busy.running,
        ),
        (
            "a job's paid_out changed",
            busy.running,
            Box::new(|data| rewrite::<Job>(data, |job| job.paid_out += 1)),
            "job-payments",
            busy.running,
        ),
        (
            "a stake vault short",
            pda::stake_vault(&busy.provider),
            Box::new(|data| add_u64(data, 64, -1)),
            "stake-vault",
            busy.provider,
        ),
        (
            "an epoch's total changed",
            epoch,
            Box::new(|data| rewrite::<Epoch>(data, |epoch| epoch.total_units += 7)),
            "epoch-units",
            epoch,
        ),
        (
            "a reward mint over-minted",
            busy.reward,
            Box::new(|data| add_u64(data, 36, 1)),
            "reward-supply",
            network,
        ),
        (
            // The epoch still runs: its records are not tallied, and their units have no
            // total to be checked against until they are (docs/design.md, the auditor).
            "a work record marked tallied",
            record,
            Box::new(|data| rewrite::<WorkRecord>(data, |record| record.tallied = true)),
            "epoch-tally",
            epoch,
        ),
    ];
    for (corruption, address, change, rule, account) in cases {
        let (code, report) = auditor.corrupted(&address, change);
        assert_eq!(code, 1, "{corruption}: {report}");
        assert_eq!(
            violations(&report),
            vec![(rule.to_string(), account.to_string())],
            "{corruption}: {report}"
        );
        let finding = &report["violations"][0];
        assert_ne!(
            finding["expected"], finding["actual"],
            "{corruption}: {finding}"
        );
    }
    let (code, report) = auditor.audit();
    assert_eq!(
        (code, violations(&report)),
        (0, vec![]),
        "restored: {report}"
    );
}

/// One base unit sent to a job's vault by its client, as anyone may.
fn a_gift_to_a_vault_is_information(auditor: &Auditor, busy: &Busy) {
    let rpc = auditor.rpc();
    let (client, _) = &auditor.keys["client"];
    let job: Job = {
        let account = rpc.get_account(&busy.running).unwrap();
        Job::try_deserialize(&mut account.data.as_slice()).unwrap()
    };
    let source = pda::associated_token(&client.pubkey(), &busy.reward, &spl_token_interface::ID);
    let gift = spl_token_interface::instruction::transfer(
        &spl_token_interface::ID,
        &source,
        &job.vault,
        &client.pubkey(),
        &[],
        1,
    )
    .unwrap();
    let transaction = solana_transaction::Transaction::new_signed_with_payer(
        &[gift],
        Some(&client.pubkey()),
        &[client],
        rpc.get_latest_blockhash().unwrap(),
    );
    rpc.send_and_confirm_transaction(&transaction).unwrap();

    let (code, report) = auditor.audit();
    assert_eq!(code, 0, "a gift is no violation: {report}");
    let information = report["information"].as_array().unwrap();
    assert_eq!(information.len(), 1, "{report}");
    assert_eq!(information[0]["rule"], "job-vault-surplus");
    assert_eq!(information[0]["account"], busy.running.to_string());
    assert!(text(&information[0], "note").contains(&client.pubkey().to_string()));
}

fn the_report_and_the_tables_are_written(auditor: &Auditor) {
    let html = auditor.dir.join("report.html");
    let csv = auditor.dir.join("csv");
    let written = auditor.ok(
        None,
        &format!("audit --report {} --csv {}", html.display(), csv.display()),
    );
    assert_eq!(written["written"].as_array().unwrap().len(), 5, "{written}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(
        page.matches("<svg").count(),
        6,
        "three pictures per network"
    );
    assert!(
        !page.contains("<script") && !page.contains("src=\"http"),
        "self-contained"
    );
    let claims = std::fs::read_to_string(csv.join("claims.csv")).unwrap();
    assert!(
        claims.lines().any(|line| line.contains(",claimed,")),
        "{claims}"
    );
    assert!(
        claims.lines().any(|line| line.contains(",unclaimed,")),
        "{claims}"
    );
    let jobs = std::fs::read_to_string(csv.join("jobs.csv")).unwrap();
    assert_eq!(
        jobs.lines().count(),
        3,
        "a header and network 2's two jobs: {jobs}"
    );
    if let Ok(keep) = std::env::var("TESSERA_KEEP_REPORT") {
        std::fs::copy(&html, keep).unwrap();
    }
}
