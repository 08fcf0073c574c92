//! Attestation on loopback: co-signing services (`tessera attest serve`) on a `tessera
//! localnet`, an attestor group made by distributed key generation among them, receipts
//! co-signed 3-of-5 and 7-of-10 as one Ed25519 signature, and the services' refusals.

use crate::common::{free_port, text, texts};

#[path = "attest/abuse.rs"]
pub(crate) mod abuse;
use anchor_lang::prelude::Pubkey;
use serde_json::Value;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use tessera_attest::wire::Evidence;
use tessera_client::flows;
use tessera_client::instructions::MintRef;
use tessera_client::receipt::{ReceiptFile, SignedReceipt};
use tessera_work::matmul;
use tessera_work::spec::{self, Spec};

/// A process the test started, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `tessera localnet` serving a data folder, and the files of one test.
struct Ledger {
    folder: PathBuf,
    /// The keypair files made by [`Ledger::key`], by public key.
    keys: RefCell<HashMap<Pubkey, PathBuf>>,
    _localnet: Process,
}

impl Ledger {
    fn start(name: &str) -> Self {
        let folder =
            std::env::temp_dir().join(format!("tessera-attest-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("--data-dir")
            .arg(folder.join("ledger"))
            .args(["localnet", "--rpc-port", &free_port().to_string()])
            .args(["--ws-port", &free_port().to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("localnet starts");
        first_line(&mut child);
        Self {
            folder,
            keys: RefCell::default(),
            _localnet: Process(child),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
        command
            .arg("--data-dir")
            .arg(self.folder.join("ledger"))
            .args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("tessera runs")
    }

    fn json(&self, args: &[&str]) -> Value {
        let output = self.run(&[args, &["--output", "json"]].concat());
        let (stdout, stderr) = texts(&output);
        assert!(
            output.status.success(),
            "{args:?} failed:\n{stdout}\n{stderr}"
        );
        serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{args:?}: not JSON: {stdout}"))
    }

    fn key(&self, name: &str) -> (PathBuf, Pubkey) {
        let keypair = Keypair::new();
        let path = self.folder.join(format!("{name}.json"));
        solana_keypair::write_keypair_file(&keypair, &path).unwrap();
        self.keys
            .borrow_mut()
            .insert(keypair.pubkey(), path.clone());
        (path, keypair.pubkey())
    }

    /// `receipt sign` for `units` of the job at `job` by the worker keypair file `worker`,
    /// written to `<name>.json`; the receipt file's JSON.
    fn job_receipt(&self, name: &str, job: &str, units: &str, worker: &Path) -> Value {
        let file = self.folder.join(format!("{name}.json"));
        self.json(&[
            "receipt",
            "sign",
            "--job",
            job,
            "--units",
            units,
            "--keypair",
            worker.to_str().unwrap(),
            "--out",
            file.to_str().unwrap(),
        ]);
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
    }

    /// The keypair of `key`, made by [`Ledger::key`].
    fn keypair_of(&self, key: &Pubkey) -> Keypair {
        let path = self.keys.borrow()[key].clone();
        solana_keypair::read_keypair_file(path).unwrap()
    }

    /// The keypair file of the worker that signed the receipt file at `receipt`.
    fn worker_of(&self, receipt: &Path) -> PathBuf {
        let worker = read_receipt(receipt).signatures[0].0;
        self.keys.borrow()[&worker].clone()
    }

    /// The key that runs key generations: each group service takes part in its alone.
    fn coordinator(&self) -> (PathBuf, Pubkey) {
        let path = self.folder.join("coordinator.json");
        if !path.exists() {
            return self.key("coordinator");
        }
        let keypair = solana_keypair::read_keypair_file(&path).unwrap();
        (path, keypair.pubkey())
    }

    /// `attest dkg` among `urls` with `threshold`, as the coordinator.
    fn dkg(&self, urls: &[String], threshold: &str) -> Value {
        let coordinator = self.coordinator().0;
        let mut dkg = vec!["attest", "dkg", "--threshold", threshold];
        dkg.extend(["--key", coordinator.to_str().unwrap()]);
        for url in urls {
            dkg.extend(["--service", url.as_str()]);
        }
        self.json(&dkg)
    }

    /// A POST of a co-signing request `body`, signed by its receipt's worker.
    fn post(&self, url: &str, path: &str, body: &[u8]) -> (String, String) {
        let request: Value = serde_json::from_slice(body).unwrap();
        let file: ReceiptFile = serde_json::from_value(request["receipt"].clone()).unwrap();
        let worker = file.to_signed().unwrap().signatures[0].0;
        post(url, path, body, Some(&self.keypair_of(&worker)))
    }

    /// Starts a co-signing service signing with `identity` (`--key FILE` or `--share FILE`);
    /// returns it and its URL.
    fn service(&self, identity: &[&str]) -> (Process, String) {
        let mut child = self
            .command(&["attest", "serve", "--listen", "127.0.0.1:0"])
            .args(identity)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the service starts");
        let line: Value = serde_json::from_str(&first_line(&mut child)).unwrap();
        let url = text(&line["listening"]);
        (Process(child), url)
    }

    /// `count` services awaiting a key generation, their shares under `name`.
    fn group_services(&self, name: &str, count: usize) -> Vec<(Process, String)> {
        let coordinator = self.coordinator().1.to_string();
        (1..=count)
            .map(|i| {
                let share = self.folder.join(format!("{name}-share-{i}.json"));
                let share = share.to_str().unwrap();
                self.service(&["--share", share, "--dkg-coordinator", &coordinator])
            })
            .collect()
    }

    /// Network 1 with an edge provider whose worker key is `worker`; the provider's address.
    fn network_with_provider(&self, worker: &Pubkey, owner: &Path) -> String {
        self.network_with(worker, owner, "edge")
    }

    /// Network 1 with a provider of `class` whose worker key is `worker`; its address.
    fn network_with(&self, worker: &Pubkey, owner: &Path, class: &str) -> String {
        let network = self.json(&[
            "network",
            "init",
            "--epoch-secs",
            "600",
            "--dispute-window-secs",
            "5",
        ]);
        let reward_mint = text(&network["reward_mint"]);
        let owner_key = solana_keypair::read_keypair_file(owner).unwrap().pubkey();
        self.json(&[
            "token",
            "transfer",
            "--mint",
            &reward_mint,
            "--to",
            &owner_key.to_string(),
            "500",
        ]);
        let provider = self.json(&[
            "provider",
            "register",
            "--class",
            class,
            "--worker",
            &worker.to_string(),
            "--stake",
            "200",
            "--bandwidth-mbps",
            "100",
            "--keypair",
            owner.to_str().unwrap(),
        ]);
        text(&provider["address"])
    }

    /// A job `client` funds in a mint of its own for `provider`, `max_units` cpu-seconds at
    /// `price`, for the workload `workload` names (`--matmul NxR` or `--spec FILE`); its
    /// address.
    fn job(
        &self,
        client: &Path,
        provider: &str,
        (price, max_units): (&str, &str),
        workload: [&str; 2],
    ) -> String {
        self.job_in(
            client,
            provider,
            (price, max_units, "cpu-seconds"),
            workload,
        )
    }

    /// [`Ledger::job`] counting `unit` (`cpu-seconds`, `bytes`, ...).
    fn job_in(
        &self,
        client: &Path,
        provider: &str,
        (price, max_units, unit): (&str, &str, &str),
        workload: [&str; 2],
    ) -> String {
        let client = client.to_str().unwrap();
        let mint = self.json(&["token", "create-mint", "--keypair", client]);
        let job = self.json(&[
            "job",
            "create",
            "--mint",
            &text(&mint["mint"]),
            "--price",
            price,
            "--max-units",
            max_units,
            "--provider",
            provider,
            "--unit",
            unit,
            workload[0],
            workload[1],
            "--keypair",
            client,
        ]);
        text(&job["address"])
    }

    /// One pass of the worker (`worker run --once`) for `owner` with `worker`, and `extra`.
    fn worker_once(&self, owner: &Path, worker: &Path, extra: &[&str]) -> Output {
        let mut args = vec![
            "worker",
            "run",
            "--once",
            "--keypair",
            owner.to_str().unwrap(),
            "--worker-key",
            worker.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// A service receipt for `units` of the network's service workload, signed by `worker`,
    /// with its evidence (the rounds the provider's recorded service units cover by digest);
    /// the receipt file and the evidence file.
    fn service_receipt(
        &self,
        name: &str,
        provider: &str,
        worker: &Path,
        units: u64,
    ) -> (PathBuf, PathBuf) {
        let fields = self.json(&["inspect", provider])["fields"].clone();
        let (nonce, recorded) = (number(&fields["nonce"]), number(&fields["service_units"]));
        let provider: Pubkey = provider.parse().unwrap();
        let (evidence, result_hash) = service_evidence(&provider, nonce, (recorded, units));
        let evidence_file = self.folder.join(format!("{name}-evidence.json"));
        std::fs::write(&evidence_file, serde_json::to_string(&evidence).unwrap()).unwrap();
        let receipt = self.folder.join(format!("{name}.json"));
        self.sign_service(&provider.to_string(), units, result_hash, worker, &receipt);
        (receipt, evidence_file)
    }

    /// `receipt sign --service PROVIDER` for `units` cpu-seconds chaining to `result_hash`,
    /// signed by `worker`, written to `out`.
    fn sign_service(
        &self,
        provider: &str,
        units: u64,
        result_hash: [u8; 32],
        worker: &Path,
        out: &Path,
    ) {
        self.json(&[
            "receipt",
            "sign",
            "--service",
            provider,
            "--units",
            &units.to_string(),
            "--unit",
            "cpu-seconds",
            "--result-hash",
            &hex::encode(result_hash),
            "--keypair",
            worker.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
    }

    /// `receipt cosign FILE --attestor URL… --evidence FILE`.
    fn cosign(&self, receipt: &Path, services: &[String], evidence: &Path) -> Output {
        let worker = self.worker_of(receipt);
        let mut args = vec!["receipt", "cosign", receipt.to_str().unwrap()];
        args.extend(["--keypair", worker.to_str().unwrap()]);
        for url in services {
            args.extend(["--attestor", url.as_str()]);
        }
        args.extend(["--evidence", evidence.to_str().unwrap()]);
        self.run(&args)
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line
}

/// Evidence of the first `done` rounds of the spec `n`x`rounds` for the job at `job` with
/// nonce `nonce` (one of them wrong with `wrong_round`), and the result hash they chain to.
fn matmul_evidence(
    n: u32,
    (rounds, done): (u32, u32),
    wrong_round: Option<u32>,
    (job, nonce): (&Pubkey, u64),
) -> (Evidence, [u8; 32]) {
    let document = Spec::matmul(n, rounds).to_bytes();
    let spec_hash = spec::hash(&document);
    let seed = matmul::job_seed(&spec_hash, &job.to_bytes(), nonce);
    let mut link = [0; 32];
    let mut products = Vec::new();
    for round in 0..done {
        let product = matmul::run_round(&seed, round, n as usize).product;
        let mut bytes = product.to_bytes();
        if wrong_round == Some(round) {
            bytes[4] ^= 1;
        }
        let published = matmul::Matrix::from_bytes(&bytes).unwrap();
        link = matmul::chain(&link, &published);
        products.push(hex::encode(bytes));
    }
    let spec = String::from_utf8(document).unwrap();
    let digests = Vec::new();
    (
        Evidence::Matmul {
            spec,
            digests,
            products,
        },
        link,
    )
}

/// Evidence of a provider's first `units` units of service work (the network's service
/// workload, inputs bound to the provider and its registration `nonce`), the rounds its
/// `recorded` units cover by digest; and the result hash they chain to.
fn service_evidence(
    provider: &Pubkey,
    nonce: u64,
    (recorded, units): (u64, u64),
) -> (Evidence, [u8; 32]) {
    let seed = matmul::service_seed(&provider.to_bytes(), nonce);
    let n = matmul::SERVICE_N;
    let rounds = (0..).find(|r| matmul::units_for(n, *r) >= units).unwrap();
    let paid = matmul::rounds_for(n, recorded).min(rounds);
    let (mut link, mut digests, mut products) = ([0; 32], Vec::new(), Vec::new());
    for round in 0..rounds {
        let product = matmul::run_round(&seed, round, n as usize).product;
        link = matmul::chain(&link, &product);
        if round < paid {
            digests.push(hex::encode(product.digest()));
        } else {
            products.push(hex::encode(product.to_bytes()));
        }
    }
    let spec = String::from_utf8(Spec::service().to_bytes()).unwrap();
    (
        Evidence::Matmul {
            spec,
            digests,
            products,
        },
        link,
    )
}

/// A JSON number, or a number written as text (how `inspect` shows a u64).
fn number(value: &Value) -> u64 {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

fn read_receipt(path: &Path) -> SignedReceipt {
    let file: ReceiptFile = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    file.to_signed().unwrap()
}

/// Bytes of the `[ed25519, settle_receipt]` transaction that settles `signed` on a job whose
/// client is `client`.
fn job_settlement_bytes(signed: &SignedReceipt, client: Pubkey) -> usize {
    let payer = Keypair::new().pubkey();
    let payee = flows::Payee {
        payment_mint: MintRef {
            mint: Pubkey::new_unique(),
            token_program: Pubkey::new_unique(),
        },
        provider_token: Pubkey::new_unique(),
        client,
    };
    let instructions = flows::settle_job(payer, signed, payee, 0);
    let transaction = Transaction::new_with_payer(&instructions, Some(&payer));
    bincode::serialize(&transaction).unwrap().len()
}

/// Bytes of the `[ed25519, settle_service]` transaction that settles `signed`.
fn service_settlement_bytes(signed: &SignedReceipt) -> usize {
    let payer = Keypair::new().pubkey();
    let instructions = flows::settle_service(payer, signed, 0);
    let transaction = Transaction::new_with_payer(&instructions, Some(&payer));
    bincode::serialize(&transaction).unwrap().len()
}

/// The largest transaction a cluster takes.
const PACKET_BYTES: usize = 1_232;

#[test]
fn a_group_made_by_dkg_attests_3_of_5_and_7_of_10_in_transactions_of_one_size() {
    let ledger = Ledger::start("group");
    let (owner, _) = ledger.key("owner");
    let (worker, worker_key) = ledger.key("worker");
    let provider = ledger.network_with_provider(&worker_key, &owner);

    // Five services make a 3-of-5 group; nobody holds its secret.
    let five = ledger.group_services("five", 5);
    let urls: Vec<String> = five.iter().map(|(_, url)| url.clone()).collect();
    let group = ledger.dkg(&urls, "3");
    let group_key = text(&group["group_key"]);
    // A member holds its share: it joins no other group unless its operator starts it anew.
    let coordinator = ledger.coordinator().0;
    let mut again = vec!["attest", "dkg", "--threshold", "3"];
    again.extend(["--key", coordinator.to_str().unwrap()]);
    for url in &urls {
        again.extend(["--service", url.as_str()]);
    }
    let stderr = texts(&ledger.run(&again)).1;
    assert!(stderr.contains("already holds a share"), "{stderr}");
    ledger.json(&[
        "network",
        "set-attestors",
        "--group-key",
        &group_key,
        "--threshold",
        "3",
        "--members",
        "5",
    ]);

    let (first, evidence) = ledger.service_receipt("first", &provider, &worker, 1);
    let output = ledger.cosign(&first, &urls, &evidence);
    assert!(output.status.success(), "{:?}", texts(&output));
    let three_of_five = read_receipt(&first);
    assert_eq!(three_of_five.signatures.len(), 2, "worker and group");
    assert_eq!(three_of_five.signatures[1].0.to_string(), group_key);
    ledger.json(&["receipt", "submit", first.to_str().unwrap()]);

    // A receipt co-signed by the 3-of-5 group, kept while the set rotates.
    let (stale, evidence) = ledger.service_receipt("stale", &provider, &worker, 2);
    let output = ledger.cosign(&stale, &urls, &evidence);
    assert!(output.status.success(), "{:?}", texts(&output));

    // Ten services make a 7-of-10 group, which replaces the first.
    let ten = ledger.group_services("ten", 10);
    let urls: Vec<String> = ten.iter().map(|(_, url)| url.clone()).collect();
    let group = ledger.dkg(&urls, "7");
    let new_key = text(&group["group_key"]);
    assert_ne!(new_key, group_key);
    ledger.json(&[
        "network",
        "set-attestors",
        "--group-key",
        &new_key,
        "--threshold",
        "7",
        "--members",
        "10",
    ]);
    let output = ledger.run(&["receipt", "submit", stale.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        texts(&output).1.contains("StaleAttestorSet"),
        "{:?}",
        texts(&output)
    );

    let (second, evidence) = ledger.service_receipt("second", &provider, &worker, 3);
    let output = ledger.cosign(&second, &urls, &evidence);
    assert!(output.status.success(), "{:?}", texts(&output));
    let seven_of_ten = read_receipt(&second);
    ledger.json(&["receipt", "submit", second.to_str().unwrap()]);

    // Both settle in transactions of one size: fee payer, worker and group signatures.
    let sizes = (
        service_settlement_bytes(&three_of_five),
        service_settlement_bytes(&seven_of_ten),
    );
    println!(
        "service settlement, worker + group 3-of-5: {} bytes; 7-of-10: {} bytes",
        sizes.0, sizes.1
    );
    assert_eq!(sizes.0, sizes.1);
    assert!(sizes.0 <= PACKET_BYTES);

    // The attested work earned emission, claimed after the epoch.
    ledger.json(&["ledger", "warp", "--by", "601"]);
    let claimed = ledger.json(&["claim", "--provider", &provider]);
    assert_eq!(claimed["epochs"], serde_json::json!([0]), "{claimed}");
    assert_ne!(text(&claimed["amount"]), "0.000000", "{claimed}");
}

#[test]
fn services_refuse_what_they_cannot_vouch_for_and_say_why() {
    let ledger = Ledger::start("refusals");
    let (owner, _) = ledger.key("owner");
    let (worker, worker_key) = ledger.key("worker");
    let (client, _) = ledger.key("client");
    let provider = ledger.network_with_provider(&worker_key, &owner);

    // A per-key set of three attestors, two of whom must sign.
    let keys: Vec<(PathBuf, Pubkey)> = (0..3)
        .map(|i| ledger.key(&format!("attestor-{i}")))
        .collect();
    let services: Vec<(Process, String)> = keys
        .iter()
        .map(|(path, _)| ledger.service(&["--key", path.to_str().unwrap()]))
        .collect();
    let urls: Vec<String> = services.iter().map(|(_, url)| url.clone()).collect();
    let mut set = vec!["network", "set-attestors", "--threshold", "2"];
    let names: Vec<String> = keys.iter().map(|(_, key)| key.to_string()).collect();
    for name in &names {
        set.extend(["--attestor", name.as_str()]);
    }
    ledger.json(&set);

    // A job for the built-in workload, accepted by the provider: 12 rounds of side 512,
    // four to a unit.
    let job = ledger.job(&client, &provider, ("0.5", "3"), ["--matmul", "512x12"]);
    ledger.json(&["job", "accept", &job, "--keypair", owner.to_str().unwrap()]);

    let sign = |name: &str, units: &str, result_hash: [u8; 32]| {
        let file = ledger.folder.join(format!("{name}.json"));
        ledger.json(&[
            "receipt",
            "sign",
            "--job",
            &job,
            "--units",
            units,
            "--result-hash",
            &hex::encode(result_hash),
            "--keypair",
            worker.to_str().unwrap(),
            "--out",
            file.to_str().unwrap(),
        ]);
        file
    };
    let evidence_file = |name: &str, evidence: &Evidence| {
        let file = ledger.folder.join(format!("{name}-evidence.json"));
        std::fs::write(&file, serde_json::to_string(evidence).unwrap()).unwrap();
        file
    };

    // A wrong product: every service refuses, and the coordinator says who and why.
    let job_key: Pubkey = job.parse().unwrap();
    let bound = (
        &job_key,
        number(&ledger.json(&["inspect", &job])["fields"]["nonce"]),
    );
    let (wrong, result_hash) = matmul_evidence(512, (12, 8), Some(5), bound);
    let receipt = sign("wrong", "2", result_hash);
    let output = ledger.cosign(&receipt, &urls, &evidence_file("wrong", &wrong));
    let stderr = texts(&output).1;
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("only 0 of the 2 co-signatures"), "{stderr}");
    for url in &urls {
        assert!(stderr.contains(url.as_str()), "{url} not named: {stderr}");
    }
    assert!(stderr.contains("round 5"), "{stderr}");
    assert_eq!(
        read_receipt(&receipt).signatures.len(),
        1,
        "the file is left as it was"
    );

    // Without --evidence, nothing is published for this job in --data-dir: no evidence.
    let bare = sign("bare", "1", result_hash);
    let mut args = vec!["receipt", "cosign", bare.to_str().unwrap()];
    args.extend(["--keypair", worker.to_str().unwrap()]);
    for url in &urls {
        args.extend(["--attestor", url.as_str()]);
    }
    let stderr = texts(&ledger.run(&args)).1;
    assert!(stderr.contains("no evidence"), "{stderr}");

    // One unit of right work does not vouch for three: the units are what the rounds are
    // worth, and the refusal gives both figures.
    let (one_unit, result_hash) = matmul_evidence(512, (12, 4), None, bound);
    let receipt = sign("inflated", "3", result_hash);
    let output = ledger.cosign(&receipt, &urls, &evidence_file("one-unit", &one_unit));
    let stderr = texts(&output).1;
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("states 3 units, but its evidence supports 1"),
        "{stderr}"
    );

    // Past max units: a receipt the worker signed for 4 of the job's 3 units.
    let (right, result_hash) = matmul_evidence(512, (12, 12), None, bound);
    let receipt = sign("past-max", "3", result_hash);
    let mut past = read_receipt(&receipt);
    past.receipt.cumulative_units = 4;
    past.signatures.clear();
    past.sign(&solana_keypair::read_keypair_file(&worker).unwrap())
        .unwrap();
    std::fs::write(
        &receipt,
        serde_json::to_string(&ReceiptFile::from_signed(&past)).unwrap(),
    )
    .unwrap();
    let output = ledger.cosign(&receipt, &urls, &evidence_file("right", &right));
    assert!(
        texts(&output).1.contains("past job"),
        "{:?}",
        texts(&output)
    );

    // A receipt for another network.
    ledger.json(&["network", "init", "--network", "2"]);
    let other = ledger.key("other-worker");
    let provider_two = ledger.json(&[
        "provider",
        "register",
        "--network",
        "2",
        "--class",
        "edge",
        "--worker",
        &other.1.to_string(),
        "--keypair",
        owner.to_str().unwrap(),
    ]);
    let foreign = ledger.folder.join("foreign.json");
    ledger.json(&[
        "receipt",
        "sign",
        "--network",
        "2",
        "--service",
        &text(&provider_two["address"]),
        "--units",
        "1",
        "--keypair",
        other.0.to_str().unwrap(),
        "--out",
        foreign.to_str().unwrap(),
    ]);
    let request = serde_json::json!({
        "receipt": serde_json::from_str::<Value>(&std::fs::read_to_string(&foreign).unwrap()).unwrap(),
        "evidence": right,
    });
    let (status, body) = ledger.post(&urls[0], "/v1/cosign", request.to_string().as_bytes());
    assert!(status.starts_with("HTTP/1.1 422"), "{status}");
    assert!(body.contains("this service attests network"), "{body}");

    // A service receipt's work is the network's service workload, not a spec its requester
    // picks (a 1 x 1 matrix is worth nothing, however many rounds).
    let (tiny, tiny_hash) = matmul_evidence(1, (u32::MAX, 2), None, bound);
    let service = ledger.folder.join("tiny-service.json");
    ledger.sign_service(&provider, 1000, tiny_hash, &worker, &service);
    let receipt_json: Value =
        serde_json::from_str(&std::fs::read_to_string(&service).unwrap()).unwrap();
    let request = serde_json::json!({ "receipt": receipt_json, "evidence": tiny });
    let (status, body) = ledger.post(&urls[0], "/v1/cosign", request.to_string().as_bytes());
    assert!(status.starts_with("HTTP/1.1 422"), "{status}");
    assert!(body.contains("the network's service workload"), "{body}");

    // Only the receipt's worker may send it: unsigned, or signed by another key, the service
    // reviews nothing (so no one can send a worker's receipt with evidence of their own).
    let bytes = request.to_string().into_bytes();
    let (status, body) = post(&urls[0], "/v1/cosign", &bytes, None);
    assert!(status.starts_with("HTTP/1.1 401"), "{status}");
    assert!(body.contains("sign the request"), "{body}");
    let (status, body) = post(&urls[0], "/v1/cosign", &bytes, Some(&Keypair::new()));
    assert!(status.starts_with("HTTP/1.1 403"), "{status}");
    assert!(body.contains("the receipt's worker key"), "{body}");
    assert!(body.contains(&worker_key.to_string()), "{body}");

    // Relay evidence is nobody's but the provider's: refused, and the service connects to no
    // address its caller names.
    let bait = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    bait.set_nonblocking(true).unwrap();
    let relay =
        serde_json::json!({ "kind": "relay", "address": bait.local_addr().unwrap().to_string() });
    let request = serde_json::json!({ "receipt": receipt_json, "evidence": relay });
    let (status, body) = ledger.post(&urls[0], "/v1/cosign", request.to_string().as_bytes());
    assert!(status.starts_with("HTTP/1.1 422"), "{status}");
    assert!(body.contains("relay evidence is refused"), "{body}");
    assert!(
        bait.accept().is_err(),
        "the service connected to the address in the request"
    );

    // An oversized request is refused.
    let (status, _) = post(&urls[0], "/v1/cosign", &vec![b' '; 33 * 1024 * 1024], None);
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");

    // A service that samples one round a request: once it catches a wrong product, it signs
    // nothing more of the job, so asking again for a luckier draw gets nowhere.
    let (_sampling, sampling_url) =
        ledger.service(&["--key", keys[0].0.to_str().unwrap(), "--sample", "1"]);
    let (caught, caught_hash) = matmul_evidence(512, (12, 1), Some(0), bound);
    let caught_receipt = sign("caught", "1", caught_hash);
    let as_json = |path: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let request = serde_json::json!({ "receipt": as_json(&caught_receipt), "evidence": caught });
    let (status, body) = ledger.post(&sampling_url, "/v1/cosign", request.to_string().as_bytes());
    assert!(status.starts_with("HTTP/1.1 422"), "{status}");
    assert!(body.contains("round 0 is not the product"), "{body}");
    let good = sign("good", "3", result_hash);
    let request = serde_json::json!({ "receipt": as_json(&good), "evidence": right });
    let (status, body) = ledger.post(&sampling_url, "/v1/cosign", request.to_string().as_bytes());
    assert!(status.starts_with("HTTP/1.1 422"), "{status}");
    assert!(body.contains("held a wrong product before"), "{body}");

    // The right evidence: two of three attestors sign, and the job settles.
    let receipt = sign("right", "3", result_hash);
    let output = ledger.cosign(&receipt, &urls, &evidence_file("right3", &right));
    assert!(output.status.success(), "{:?}", texts(&output));
    let cosigned = read_receipt(&receipt);
    assert_eq!(cosigned.signatures.len(), 3, "worker and two attestors");
    ledger.json(&["receipt", "submit", receipt.to_str().unwrap()]);
    assert_eq!(ledger.json(&["job", "show", &job])["settled_units"], 3);
}

/// A plain HTTP/1.1 POST of `body` to a service, signed by `signer` if given; the status
/// line and the answer's body.
pub fn post(url: &str, path: &str, body: &[u8], signer: Option<&Keypair>) -> (String, String) {
    let headers: Vec<(&str, String)> = signer
        .map(|signer| tessera_attest::wire::signed_headers(signer, path, body))
        .into_iter()
        .flatten()
        .collect();
    post_with(url, path, body, &headers)
}

/// `headers` as lines of an HTTP request's head.
pub fn header_lines(headers: &[(&str, String)]) -> String {
    headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect()
}

/// A plain HTTP/1.1 POST of `body` to a service with `headers`; the status line and the
/// answer's body.
pub fn post_with(
    url: &str,
    path: &str,
    body: &[u8],
    headers: &[(&str, String)],
) -> (String, String) {
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let signed = header_lines(headers);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         {signed}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // The service may answer and close before it has read a body it refuses.
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.lines().next().unwrap_or_default().to_string();
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

#[test]
fn strangers_cannot_drive_a_key_generation() {
    use tessera_attest::group::{self, DkgMember};
    let ledger = Ledger::start("strangers");
    let stranger = Keypair::new();
    let services = ledger.group_services("strangers", 2);
    let urls: Vec<String> = services.iter().map(|(_, url)| url.clone()).collect();
    let info = |url: &str| -> Value {
        reqwest::blocking::get(format!("{url}/v1/info"))
            .unwrap()
            .json()
            .unwrap()
    };
    let peers = serde_json::json!({
        "1": { "url": urls[0], "key": text(&info(&urls[0])["dkg_key"]) },
        "2": { "url": urls[1], "key": text(&info(&urls[1])["dkg_key"]) },
    });
    let start = serde_json::json!({ "session": "s", "index": 1, "threshold": 2, "peers": peers });
    let start = start.to_string().into_bytes();

    // Unsigned, or signed by anyone but the coordinator: refused, and the start names who.
    let (status, body) = post(&urls[0], "/v1/dkg/start", &start, None);
    assert!(status.starts_with("HTTP/1.1 401"), "{status} {body}");
    assert!(body.contains("sign the request"), "{body}");
    let (status, body) = post(&urls[0], "/v1/dkg/start", &start, Some(&stranger));
    assert!(status.starts_with("HTTP/1.1 403"), "{status}");
    assert!(body.contains("the key generation's coordinator"), "{body}");

    // The coordinator starts one; a round-two package is taken from the member the start
    // named alone, not from a stranger claiming to be it.
    let coordinator = ledger.keypair_of(&ledger.coordinator().1);
    let signed = tessera_attest::wire::signed_headers(&coordinator, "/v1/dkg/start", &start);
    let (status, body) = post_with(&urls[0], "/v1/dkg/start", &start, &signed);
    assert!(status.starts_with("HTTP/1.1 200"), "{status} {body}");
    // Sent again, the same signed start is a replay: refused, the generation stays.
    let (status, again) = post_with(&urls[0], "/v1/dkg/start", &start, &signed);
    assert!(status.starts_with("HTTP/1.1 401"), "{status} {again}");
    assert!(again.contains("taken before"), "{again}");
    let first: Value = serde_json::from_str(&body).unwrap();
    let (mut second, _) = DkgMember::start(group::identifier(2).unwrap(), 2, 2).unwrap();
    let one = group::identifier(1).unwrap();
    let package = serde_json::from_value(first["package"].clone()).unwrap();
    let outgoing = second
        .round2(std::collections::BTreeMap::from([(one, package)]))
        .unwrap();
    let round2 = serde_json::json!({ "session": "s", "from": 2, "package": outgoing[&one] });
    let round2 = round2.to_string().into_bytes();
    let (status, body) = post(&urls[0], "/v1/dkg/round2", &round2, Some(&stranger));
    assert!(status.starts_with("HTTP/1.1 403"), "{status} {body}");
    assert!(body.contains("no member of a key generation"), "{body}");

    // A group service started without --dkg-coordinator takes part in no key generation.
    let share = ledger.folder.join("lone-share.json");
    let (_lone, lone_url) = ledger.service(&["--share", share.to_str().unwrap()]);
    assert!(info(&lone_url)["dkg_key"].is_null());
    let (status, body) = post(&lone_url, "/v1/dkg/start", &start, Some(&coordinator));
    assert!(status.starts_with("HTTP/1.1 403"), "{status}");
    assert!(body.contains("--dkg-coordinator"), "{body}");
    assert!(!share.exists());
}

#[test]
fn settlement_sizes_by_who_co_signs() {
    let receipt = tessera_client::codec_checks::sample_receipt(3, 100);
    let signed_by = |signers: usize| {
        let mut signed = SignedReceipt::new(receipt);
        for _ in 0..signers {
            signed.sign(&Keypair::new()).unwrap();
        }
        signed
    };
    let client_signed = signed_by(2);
    let client = job_settlement_bytes(&client_signed, client_signed.signatures[1].0);
    let stranger = Pubkey::new_unique();
    let per_key = job_settlement_bytes(&signed_by(3), stranger);
    let group = job_settlement_bytes(&signed_by(2), stranger);
    println!("job settlement, worker + client: {client} bytes");
    println!("job settlement, worker + per-key 2-of-3: {per_key} bytes");
    println!("job settlement, worker + group (any t-of-n): {group} bytes");
    // Each Ed25519 signature in the instruction is 14 bytes of offsets, a 32-byte key and a
    // 64-byte signature.
    assert_eq!(per_key - group, 14 + 32 + 64);
    // Work only the client co-signed earns no emission, so its settlement names no epoch and
    // no work record: two 32-byte keys fewer.
    assert_eq!(group - client, 2 * 32);
    assert!(per_key <= PACKET_BYTES, "{per_key}");
}

#[test]
fn the_worker_gets_its_receipts_attested_by_a_dealer_made_group() {
    let ledger = Ledger::start("worker");
    let (owner, _) = ledger.key("owner");
    let (worker, worker_key) = ledger.key("worker");
    let (client, _) = ledger.key("client");
    let provider = ledger.network_with_provider(&worker_key, &owner);

    // A 2-of-3 group from a dealer (local ledgers only), served by three services.
    let shares = ledger.folder.join("shares");
    let made = ledger.json(&[
        "attest",
        "dkg",
        "--dealer",
        "--threshold",
        "2",
        "--members",
        "3",
        "--out",
        shares.to_str().unwrap(),
    ]);
    let services: Vec<(Process, String)> = (1..=3)
        .map(|i| {
            let share = shares.join(format!("share-{i}.json"));
            ledger.service(&["--share", share.to_str().unwrap()])
        })
        .collect();
    ledger.json(&[
        "network",
        "set-attestors",
        "--group-key",
        &text(&made["group_key"]),
        "--threshold",
        "2",
        "--members",
        "3",
    ]);

    let job = ledger.job(&client, &provider, ("0.5", "2"), ["--matmul", "512x8"]);

    // The first service is down: the worker asks the next ones.
    let mut args = vec![
        "--settle-every",
        "2",
        "--output",
        "json",
        "--attestor",
        "http://127.0.0.1:9",
    ];
    for (_, url) in &services {
        args.extend(["--attestor", url.as_str()]);
    }
    let output = ledger.worker_once(&owner, &worker, &args);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let shown = ledger.json(&["job", "show", &job]);
    assert_eq!(shown["status"], "Completed", "{stdout}");
    assert_eq!(shown["settled_units"], 2, "8 rounds of side 512: {shown}");
    // Attested work: the job's last attested settlement is recorded, and emission is due.
    assert_ne!(shown["last_attested_at"], 0, "{shown}");
    ledger.json(&["ledger", "warp", "--by", "601"]);
    let claimed = ledger.json(&["claim", "--provider", &provider]);
    assert_eq!(claimed["epochs"], serde_json::json!([0]), "{claimed}");
}

#[test]
fn a_clients_service_co_signs_its_own_jobs_within_its_clock_and_nothing_else() {
    let ledger = Ledger::start("client");
    let (owner, _) = ledger.key("owner");
    let (worker, worker_key) = ledger.key("worker");
    let (client, _) = ledger.key("client");
    let provider = ledger.network_with_provider(&worker_key, &owner);
    let (_service, url) = ledger.service(&["--key", client.to_str().unwrap(), "--client"]);

    // A command job: no evidence a service could check; the client co-signs on its word.
    let (spec, line) = crate::common::command_spec(&ledger.folder, "hi", "printf hi", 1);
    let job = ledger.job(
        &client,
        &provider,
        ("1", "5"),
        ["--spec", spec.to_str().unwrap()],
    );
    let output = ledger.worker_once(
        &owner,
        &worker,
        &["--allow-command", line.as_str(), "--attestor", &url],
    );
    assert!(output.status.success(), "{:?}", texts(&output));
    let shown = ledger.json(&["job", "show", &job]);
    assert_eq!(shown["status"], "Completed", "{:?}", texts(&output));
    assert_eq!(shown["settled_units"], 1);
    // Paid, not attested: the client's word earns no emission.
    assert_eq!(shown["last_attested_at"], 0, "{shown}");

    // A built-in job has evidence to give: without it the client's service signs nothing,
    // not even for a job with no round published.
    let built_in = ledger.job(&client, &provider, ("1", "2"), ["--matmul", "512x8"]);
    ledger.json(&[
        "job",
        "accept",
        &built_in,
        "--keypair",
        owner.to_str().unwrap(),
    ]);
    let sign = |name: &str, job: &str, units: &str| ledger.job_receipt(name, job, units, &worker);
    let no_evidence = serde_json::json!({ "kind": "none" });
    let request =
        serde_json::json!({ "receipt": sign("all", &built_in, "2"), "evidence": no_evidence });
    let (status, body) = ledger.post(&url, "/v1/cosign", request.to_string().as_bytes());
    assert!(status.starts_with("HTTP/1.1 422"), "{status}");
    assert!(body.contains("has some to give"), "{body}");

    // A command's device-time is bounded by the client's own clock since acceptance: on one
    // device, a receipt for 5000 units a few seconds in is refused with both figures.
    let long = ledger.job(
        &client,
        &provider,
        ("1", "5000"),
        ["--spec", spec.to_str().unwrap()],
    );
    ledger.json(&["job", "accept", &long, "--keypair", owner.to_str().unwrap()]);
    let inflated = sign("long", &long, "5000");
    let request = serde_json::json!({ "receipt": inflated, "evidence": no_evidence });
    let (status, body) = ledger.post(&url, "/v1/cosign", request.to_string().as_bytes());
    assert!(status.starts_with("HTTP/1.1 422"), "{status}");
    assert!(
        body.contains("states 5000 units") && body.contains("on 1 devices: at most"),
        "{body}"
    );
    // A client that trusts its provider says so, and its service signs.
    let (_trusting, trusting_url) = ledger.service(&[
        "--key",
        client.to_str().unwrap(),
        "--client",
        "--trust-provider",
    ]);
    let (status, body) = ledger.post(&trusting_url, "/v1/cosign", request.to_string().as_bytes());
    assert!(status.starts_with("HTTP/1.1 200"), "{status} {body}");

    // A service receipt is not the client's to vouch for.
    let (receipt, evidence) = ledger.service_receipt("service", &provider, &worker, 1);
    let request = serde_json::json!({
        "receipt": serde_json::from_str::<Value>(&std::fs::read_to_string(&receipt).unwrap()).unwrap(),
        "evidence": serde_json::from_str::<Value>(&std::fs::read_to_string(&evidence).unwrap()).unwrap(),
    });
    let (status, body) = ledger.post(&url, "/v1/cosign", request.to_string().as_bytes());
    assert!(status.starts_with("HTTP/1.1 403"), "{status}");
    assert!(body.contains("co-signs its jobs"), "{body}");
}

#[test]
fn a_bandwidth_job_is_paid_for_the_bytes_its_clients_far_end_received_and_no_more() {
    let ledger = Ledger::start("bandwidth");
    let (owner, _) = ledger.key("owner");
    let (worker, worker_key) = ledger.key("worker");
    let (client, _) = ledger.key("client");
    let provider = ledger.network_with(&worker_key, &owner, "bandwidth");
    let client_arg = client.to_str().unwrap();

    // The client's service runs the job's far end: the relay's target is its address.
    let far_end = format!("127.0.0.1:{}", free_port());
    let (_service, url) = ledger.service(&["--key", client_arg, "--client", "--far-end", &far_end]);
    let job = ledger.job_in(
        &client,
        &provider,
        ("0.001", "10000", "bytes"),
        ["--relay", &far_end],
    );

    // The worker relays 6,000 bytes to the far end and gets its receipt signed there.
    let mut running = Process(
        ledger
            .command(&[
                "worker",
                "run",
                "--keypair",
                owner.to_str().unwrap(),
                "--worker-key",
                worker.to_str().unwrap(),
                "--attestor",
                &url,
                "--relay-allow-private",
                "--settle-every",
                "1000",
                "--poll-secs",
                "1",
                "--output",
                "json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the worker starts"),
    );
    let mut events = BufReader::new(running.0.stdout.take().unwrap());
    let relay = loop {
        let mut line = String::new();
        assert!(
            events.read_line(&mut line).unwrap() > 0,
            "the worker exited"
        );
        let event: Value = serde_json::from_str(&line).unwrap();
        if event["event"] == "listening" {
            break text(&event["address"]);
        }
    };
    // The client connects with the job's relay token, as `job relay-token` prints it.
    let token = ledger.json(&["job", "relay-token", &job, "--keypair", client_arg]);
    let mut stream = std::net::TcpStream::connect(&relay).unwrap();
    stream
        .write_all(&hex::decode(text(&token["token"])).unwrap())
        .unwrap();
    stream.write_all(&[7u8; 6_000]).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let settled = (0..120).find_map(|_| {
        let shown = ledger.json(&["job", "show", &job]);
        if shown["settled_units"] == 6_000 {
            return Some(shown);
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        None
    });
    let settled = settled.expect("the relayed bytes settle within a minute");
    assert_eq!(
        settled["last_attested_at"], 0,
        "the client's word: payment, no emission"
    );
    drop(running);

    // A receipt for more bytes than arrived is refused with both figures.
    let receipt = ledger.job_receipt("inflated", &job, "10000", &worker);
    let request = serde_json::json!({ "receipt": receipt, "evidence": { "kind": "none" } });
    let (status, body) = ledger.post(&url, "/v1/cosign", request.to_string().as_bytes());
    assert!(status.starts_with("HTTP/1.1 422"), "{status}");
    assert!(
        body.contains("states 10000 bytes, but 6000 arrived at the far end"),
        "{body}"
    );

    // A client's service that runs no far end signs no bytes.
    let (_plain, plain_url) = ledger.service(&["--key", client_arg, "--client"]);
    let (status, body) = ledger.post(&plain_url, "/v1/cosign", request.to_string().as_bytes());
    assert!(status.starts_with("HTTP/1.1 422"), "{status}");
    assert!(body.contains("running the job's far end"), "{body}");
}

impl Ledger {
    /// A co-signing service signing with the key at `key`, its metrics served: it, its URL and
    /// its metrics' URL.
    fn service_with_metrics(&self, key: &Path) -> (Process, String, String) {
        let mut service = self
            .command(&["attest", "serve", "--listen", "127.0.0.1:0"])
            .args(["--key", key.to_str().unwrap(), "--metrics", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the service starts");
        let line: Value = serde_json::from_str(&first_line(&mut service)).unwrap();
        let (url, metrics) = (text(&line["listening"]), text(&line["metrics"]));
        (Process(service), url, metrics)
    }

    /// The worker of `owner`, signing with `worker`, co-signed by the service at `attestor`,
    /// running (not `--once`) with its metrics served; it and its metrics' URL.
    fn worker_with_metrics(
        &self,
        owner: &Path,
        worker: &Path,
        attestor: &str,
    ) -> (Process, String) {
        let mut running = self
            .command(&[
                "worker",
                "run",
                "--keypair",
                owner.to_str().unwrap(),
                "--worker-key",
                worker.to_str().unwrap(),
                "--settle-every",
                "1",
                "--poll-secs",
                "1",
                "--attestor",
                attestor,
                "--metrics",
                "127.0.0.1:0",
                "--output",
                "json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the worker starts");
        // Its events, read on (so that it never waits on a full pipe) until it says where its
        // metrics are.
        let events = BufReader::new(running.stdout.take().unwrap());
        let worker = Process(running);
        let (served, serving) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in events.lines().map_while(Result::ok) {
                let event: Value = serde_json::from_str(&line).unwrap_or_default();
                if event["event"] == "serving" {
                    let _ = served.send(text(&event["metrics"]));
                }
            }
        });
        let worker_metrics = serving
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("the worker says where its metrics are");
        (worker, worker_metrics)
    }
}

/// The value of the sample `name` (with its labels, as the text format writes them) in a
/// Prometheus scrape, if it is there.
fn sample(scrape: &str, name: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let (sample, value) = line.rsplit_once(' ')?;
        (sample == name).then(|| value.parse().ok()).flatten()
    })
}

/// `GET url`: its status and body, or nothing while nothing answers.
fn get(url: &str) -> Option<(u16, String)> {
    let response = reqwest::blocking::get(url).ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().ok()?))
}

#[test]
fn the_worker_and_its_attestor_count_their_work_for_prometheus() {
    let ledger = Ledger::start("metrics");
    let (owner, _) = ledger.key("owner");
    let (worker, worker_key) = ledger.key("worker");
    let (client, _) = ledger.key("client");
    let (attestor, attestor_key) = ledger.key("attestor");
    let provider = ledger.network_with_provider(&worker_key, &owner);
    let (_service, url, service_metrics) = ledger.service_with_metrics(&attestor);
    ledger.json(&[
        "network",
        "set-attestors",
        "--threshold",
        "1",
        "--attestor",
        &attestor_key.to_string(),
    ]);
    let (status, health) = get(&format!("{service_metrics}/health")).expect("health answers");
    assert_eq!(status, 200, "{health}");
    let (_, before) = get(&format!("{service_metrics}/metrics")).unwrap();
    assert_eq!(
        sample(&before, "tessera_attest_receipts_cosigned_total"),
        Some(0.0),
        "{before}"
    );

    // 8 rounds of side 512, four to a unit: two units, settled one at a time.
    let job = ledger.job(&client, &provider, ("0.5", "2"), ["--matmul", "512x8"]);
    let (_worker, worker_metrics) = ledger.worker_with_metrics(&owner, &worker, &url);
    let worker_health = worker_metrics.replace("/metrics", "/health");
    // Scraped while the worker runs, until the job's two units are settled.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    let scraped = loop {
        let scrape = get(&worker_metrics).map(|(_, text)| text);
        if let Some(text) = scrape.filter(|text| {
            sample(text, "tessera_worker_units_settled_total").is_some_and(|units| units >= 2.0)
        }) {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker's metrics never showed 2 units settled on {job}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    assert_eq!(
        sample(&scraped, "tessera_worker_units_metered_total"),
        Some(2.0),
        "{scraped}"
    );
    assert_eq!(
        sample(&scraped, "tessera_worker_events_total{event=\"accepted\"}"),
        Some(1.0),
        "{scraped}"
    );
    assert!(
        sample(&scraped, "tessera_worker_events_total{event=\"round\"}").is_some_and(|n| n >= 8.0),
        "{scraped}"
    );
    let (status, health) = get(&worker_health).unwrap();
    assert_eq!(status, 200, "{health}");

    // The service signed each of the worker's receipts and timed each request.
    let (_, after) = get(&format!("{service_metrics}/metrics")).unwrap();
    let cosigned = sample(&after, "tessera_attest_receipts_cosigned_total").unwrap_or(0.0);
    assert!(cosigned >= 1.0, "{after}");
    let timed = sample(
        &after,
        "tessera_attest_request_seconds_count{route=\"/v1/cosign\"}",
    );
    assert!(timed.is_some_and(|count| count >= cosigned), "{after}");
}
