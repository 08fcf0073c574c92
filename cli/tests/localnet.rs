//! `tessera localnet` driven from separate processes: a whole scenario through the `tessera`
//! commands over JSON-RPC (network, attestors, provider, stake, job, receipts reviewed and
//! co-signed, pause, dispute, no-show, close, unstake, claim, treasury, migrate), bad input
//! refused with a clear message and the ledger left unchanged, then a restart that finds every
//! account as it was.

use crate::common::{fresh_folder, json, Localnet};
use anchor_lang::prelude::Pubkey;
use serde_json::Value;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_signer::Signer;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

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

/// Everyone taking part.
struct Cast {
    /// Creates and runs the networks.
    authority: Actor,
    /// Registers the provider and holds its stake.
    owner: Actor,
    /// The provider's worker key: signs receipts.
    worker: Actor,
    /// Pays for jobs and disputes one.
    client: Actor,
    /// The network's two attestors: review and co-sign receipts.
    attestor_a: Actor,
    attestor_b: Actor,
    /// Anyone: submits receipts, closes jobs, warps the clock, and ends up the treasury.
    stranger: Actor,
}

impl Cast {
    fn new(dir: &Path) -> Self {
        let [authority, owner, worker, client, attestor_a, attestor_b, stranger] = [
            "authority",
            "owner",
            "worker",
            "client",
            "attestor-a",
            "attestor-b",
            "stranger",
        ]
        .map(|name| Actor::new(dir, name));
        Self {
            authority,
            owner,
            worker,
            client,
            attestor_a,
            attestor_b,
            stranger,
        }
    }
}

/// The scenario's world: its folder (keypairs, receipts, the ledger), the localnet serving that
/// ledger, the cast, the network the commands address, and the accounts besides Tessera's own
/// that a refused command must leave as they were.
struct Scenario {
    dir: PathBuf,
    localnet: Localnet,
    cast: Cast,
    network: u64,
    watched: Vec<Pubkey>,
}

impl Scenario {
    /// A fresh folder, a localnet on a ledger in it, and SOL for everyone who pays fees (the
    /// attestors only sign).
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("tessera-localnet-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let localnet = Localnet::start(&dir.join("ledger"));
        let rpc = localnet.rpc();
        let cast = Cast::new(&dir);
        let Cast {
            authority,
            owner,
            client,
            stranger,
            ..
        } = &cast;
        for actor in [authority, owner, &cast.worker, client, stranger] {
            airdrop(&rpc, &actor.key());
        }
        Self {
            dir,
            localnet,
            cast,
            network: 1,
            watched: vec![],
        }
    }

    /// The same scenario on a localnet restarted on the same ledger.
    fn restart(mut self) -> Self {
        self.localnet = self.localnet.restart();
        self
    }

    /// Stops the localnet (a clean exit) and removes the folder.
    fn stop(self) {
        self.localnet.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// Runs `tessera` with `command` split on spaces (no argument here contains one).
    fn tessera(&self, signer: &Actor, command: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["--url", &self.localnet.url, "--output", "json"])
            .arg("--keypair")
            .arg(&signer.path)
            .args(["--network", &self.network.to_string()])
            .args(command.split_whitespace())
            .output()
            .expect("tessera runs")
    }

    /// Runs `tessera` with `input` on its standard input (a pipe, not a terminal).
    fn tessera_with_input(&self, signer: &Actor, command: &str, input: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["--url", &self.localnet.url, "--output", "json"])
            .arg("--keypair")
            .arg(&signer.path)
            .args(["--network", &self.network.to_string()])
            .args(command.split_whitespace())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tessera runs");
        // The command may refuse before it reads: a closed pipe is no failure here.
        let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
        child.wait_with_output().expect("tessera ends")
    }

    /// Runs a command that must succeed; returns its JSON.
    fn ok(&self, signer: &Actor, command: &str) -> Value {
        let output = self.tessera(signer, command);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "`{command}` failed:\n{stdout}\n{stderr}"
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|_| panic!("`{command}`: stdout is not JSON alone:\n{stdout}"))
    }

    /// Runs a command that must be refused with `expected` in its message, leaving every
    /// Tessera account and every watched account exactly as it was.
    fn refused(&self, signer: &Actor, command: &str, expected: &str) {
        let before = self.fingerprint();
        let output = self.tessera(signer, command);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "`{command}` was not refused: {stderr}"
        );
        assert!(
            stderr.contains(expected),
            "`{command}`: expected {expected:?} in\n{stderr}"
        );
        assert_eq!(before, self.fingerprint(), "`{command}` changed the ledger");
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
    let mut s = Scenario::start();
    s.the_localnet_migration_creates_network_1();
    let reward = s.the_authority_sets_up_network_2();
    s.network_3_adopts_a_mint_of_the_authoritys();
    s.back_on_network_2_watching_the_wallets(&reward);
    s.the_authority_names_two_attestors();
    s.the_authority_sends_tokens_to_the_provider_and_the_client(&reward);
    let provider = s.a_provider_registers_staked();
    let (job, second) = s.the_provider_accepts_one_job_of_two(&reward, &provider);
    let receipt = s.the_worker_signs_a_receipt(&job);
    s.two_attestors_review_and_cosign_it(&receipt);
    s.it_settles_once_settlements_are_unpaused(&job, &receipt);
    s.paused_new_jobs_refuse_a_create(&reward);
    s.the_job_is_completed_disputed_slashed_and_closed(&job, &second);
    s.the_second_job_is_cancelled_as_a_no_show(&second);
    s.the_provider_unstakes_and_withdraws();
    s.the_provider_claims_the_emissions_of_epoch_0(&provider);
    s.the_authority_changes_the_fee_not_the_epoch_length();
    s.the_provider_rotates_its_worker_key_and_deregisters();
    s.a_job_nobody_accepts_is_topped_up_cancelled_and_closed(&reward);
    s.a_job_in_a_token_2022_mint_is_left_open();
    s.the_treasury_moves_in_two_steps();
    s.another_deployment_or_an_unreachable_ledger_is_named();
    s.a_restart_finds_every_account_as_it_was().stop();
}

/// The phases of the scenario, in the order the test runs them: one command a line.
#[rustfmt::skip]
impl Scenario {
    /// The committed localnet migration creates network 1; a second run finds it in place.
    fn the_localnet_migration_creates_network_1(&self) {
        let authority = &self.cast.authority;
        let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/localnet.toml");
        let plan = self.ok(authority, &format!("migrate --config {config} --dry-run"));
        assert_eq!(plan["steps"][0]["state"], "would run");
        assert!(self.localnet.rpc().get_program_accounts(&tessera_client::PROGRAM_ID).unwrap().is_empty(), "a dry run sends nothing");
        assert_eq!(self.ok(authority, &format!("migrate --config {config}"))["steps"][0]["state"], "done");
        let again = self.ok(authority, &format!("migrate --config {config}"));
        for step in again["steps"].as_array().unwrap() {
            assert_eq!(step["state"], "in place", "{again}");
        }
    }

    /// Network 2 by hand, with short windows; returns its reward mint.
    fn the_authority_sets_up_network_2(&mut self) -> Pubkey {
        let authority = &self.cast.authority;
        self.network = 2;
        let init = self.ok(authority, "network init --epoch-secs 300 --unbonding-secs 30 --dispute-window-secs 30 --min-stake edge=100 --stake-per-job edge=60 --start-timeout-secs 60 --allocation 10000");
        let reward: Pubkey = text(&init, "reward_mint").parse().unwrap();
        let shown = &self.ok(authority, "network show --only")[0];
        assert_eq!(shown["params"]["start_timeout_secs"], 60);
        assert_eq!(shown["params"]["classes"][2]["stake_per_job"], "60.000000");
        assert_eq!(shown["params"]["classes"][0]["stake_per_job"], "250.000000", "a quarter of the class minimum");
        assert_eq!(shown["pending_treasury"], Value::Null);
        assert_eq!(shown["settlement_pauses"]["running"], false);
        reward
    }

    /// Network 3 adopts a mint of the authority's: its mint authority signs the handover.
    fn network_3_adopts_a_mint_of_the_authoritys(&mut self) {
        let Cast { authority, owner, .. } = &self.cast;
        self.network = 3;
        let adopted = self.ok(authority, "token create-mint --decimals 6 --supply 100");
        let adopted = text(&adopted, "mint").to_string();
        self.refused(authority, &format!("network init --reward-mint {adopted} --mint-authority {}", owner.path.display()), &format!("the mint authority of {adopted} is {}, not {}", authority.key(), owner.key()));
        self.refused(authority, "network init --mint-authority /nonexistent/id.json", "--reward-mint");
        assert_eq!(self.ok(authority, &format!("network init --reward-mint {adopted}"))["reward_mint"], adopted);
        let mint_account = self.localnet.rpc().get_account(&adopted.parse().unwrap()).unwrap();
        assert_eq!(&mint_account.data[4..36], tessera_client::pda::mint_authority(&tessera_client::pda::network(3)).as_ref());
        self.network = 4;
        self.refused(authority, &format!("network init --reward-mint {adopted}"), "the mint's current mint authority signs the handover");
    }

    /// Back on network 2, where from now on a refused command must also leave the wallets and
    /// their reward token accounts as they were.
    fn back_on_network_2_watching_the_wallets(&mut self, reward: &Pubkey) {
        let Cast { authority, owner, client, stranger, .. } = &self.cast;
        self.network = 2;
        self.watched = [authority, owner, client, stranger].iter().flat_map(|a| [a.key(), ata(&a.key(), reward)]).collect();
    }

    /// Two attestors, both needed; the emission schedule as the network has it.
    fn the_authority_names_two_attestors(&self) {
        let Cast { authority, attestor_a, attestor_b, stranger, .. } = &self.cast;
        let (a, b) = (attestor_a.key(), attestor_b.key());
        self.refused(authority, "network init", "already exists");
        self.refused(stranger, &format!("network set-attestors --attestor {a} --threshold 1"), "only network 2's authority");
        self.refused(authority, &format!("network set-attestors --attestor {a} --threshold 2"), "--threshold 2 must be between 1 and the 1 attestors");
        self.ok(authority, &format!("network set-attestors --attestor {a} --attestor {b} --threshold 2"));
        assert_eq!(self.ok(authority, "network show --only")[0]["attestor_threshold"], 2);
        let curve = self.ok(stranger, "emissions schedule --from-network --epochs 3");
        assert_eq!(curve, serde_json::json!([[0, "10000.000000"], [1, "10000.000000"], [2, "10000.000000"]]));
    }

    /// Tokens for the provider and the client.
    fn the_authority_sends_tokens_to_the_provider_and_the_client(&self, reward: &Pubkey) {
        let Cast { authority, owner, client, .. } = &self.cast;
        let (o, c) = (owner.key(), client.key());
        self.refused(authority, &format!("token transfer --mint {reward} --to {o} 1.0000001"), "has 7 decimals but the mint has 6");
        self.refused(authority, &format!("token transfer --mint {reward} --to {o} 20000"), "insufficient funds");
        self.ok(authority, &format!("token transfer --mint {reward} --to {o} 500"));
        self.ok(authority, &format!("token transfer --mint {reward} --to {c} 1000"));
    }

    /// A provider, staked at registration; returns its address.
    fn a_provider_registers_staked(&self) -> String {
        let Cast { owner, worker, .. } = &self.cast;
        self.refused(owner, "provider register --class edge --stake 600", "insufficient funds");
        self.refused(owner, "provider register --class edge --region far-too-long-region", "at most 8");
        let registered = self.ok(owner, &format!("provider register --class edge --worker {} --gpus 1 --vram-gib 24 --stake 100", worker.key()));
        let provider = text(&registered, "address").to_string();
        assert_eq!(registered["stake"], "100.000000");
        self.refused(owner, "stake add 10000", "insufficient funds");
        self.refused(owner, &format!("provider show {}", Pubkey::new_unique()), "no provider at");
        self.ok(owner, "provider update --gpus 2 --vram-gib 24 --region eu-west");
        assert_eq!(self.ok(owner, "provider show")["gpus"], 2);
        provider
    }

    /// A job in the reward mint, accepted by the provider, and a second job that waits for
    /// stake; returns both.
    fn the_provider_accepts_one_job_of_two(&self, reward: &Pubkey, provider: &str) -> (String, String) {
        let Cast { owner, client, stranger, .. } = &self.cast;
        self.refused(client, &format!("job create --mint {reward} --provider {provider} --price=-1 --max-units 100"), "is negative");
        self.refused(client, &format!("job create --mint {reward} --provider {provider} --price 0.0000001 --max-units 100"), "has 7 decimals");
        self.refused(client, &format!("job create --mint {reward} --provider {provider} --price 5 --max-units 1000"), "insufficient funds");
        self.refused(client, &format!("job create --mint {provider} --provider {provider} --price 1 --max-units 1"), "is not a mint");
        self.refused(client, &format!("job create --mint {reward} --class bandwidth --unit gpu-seconds --price 0.1 --max-units 10"), "is gpu-seconds but class Bandwidth counts bytes");
        self.refused(client, &format!("job create --mint {reward} --provider {provider} --class training --price 0.1 --max-units 10"), "is of class Edge, not --class Training");
        let job = self.ok(client, &format!("job create --mint {reward} --provider {provider} --price 0.5 --max-units 100"));
        assert_eq!(job["unit_kind"], "cpu-seconds", "an Edge job counts CPU-seconds unless told");
        let job = text(&job, "address").to_string();
        self.refused(stranger, &format!("job accept {job}"), "has no provider on network 2");
        assert_eq!(self.ok(owner, &format!("job accept {job}"))["deposited"], "50.000000");
        // 100 staked at 60 per job holds one running job: a second waits.
        let second = self.ok(client, &format!("job create --mint {reward} --provider {provider} --price 0.1 --max-units 10"));
        let second = text(&second, "address").to_string();
        self.refused(owner, &format!("job accept {second}"), "covers no more running jobs");
        (job, second)
    }

    /// Receipt: the worker signs (two attestors review and co-sign next, anyone submits);
    /// returns the receipt file's path.
    fn the_worker_signs_a_receipt(&self, job: &str) -> String {
        let Cast { owner, worker, .. } = &self.cast;
        let receipt = self.dir.join("receipt-40.json");
        let receipt = receipt.to_str().unwrap();
        self.refused(owner, &format!("receipt sign --job {job} --units 40 --out {receipt}"), "is not provider");
        self.refused(worker, &format!("receipt sign --job {job} --units 40 --unit bytes --out {receipt}"), "is not job");
        self.ok(worker, &format!("receipt sign --job {job} --units 40 --out {receipt}"));
        self.refused(worker, &format!("receipt sign --job {job} --units 40 --out {receipt}"), "already exists");
        receipt.to_string()
    }

    /// Each attestor reviews and co-signs; no answer but yes, and no one else, signs.
    fn two_attestors_review_and_cosign_it(&self, receipt: &str) {
        let Cast { owner, attestor_a, attestor_b, stranger, .. } = &self.cast;
        let signed_by_worker = std::fs::read(receipt).unwrap();
        for (signer, command, input, expected) in [
            (attestor_a, format!("receipt cosign {receipt}"), "no\n", "not signed: pass --yes to co-sign without a prompt"),
            (attestor_a, format!("receipt cosign {receipt}"), "yes\n", "not signed: pass --yes"),
            (attestor_a, format!("receipt cosign {receipt} --offline"), "", "not signed: pass --yes"),
            (stranger, format!("receipt cosign {receipt} --yes"), "", "is neither job"),
            (owner, format!("receipt cosign {receipt} --yes"), "", "is neither job"),
        ] {
            let output = self.tessera_with_input(signer, &command, input);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "`{command}` was not refused: {stderr}");
            assert!(stderr.contains(expected), "`{command}`: expected {expected:?} in\n{stderr}");
            assert_eq!(std::fs::read(receipt).unwrap(), signed_by_worker, "`{command}` changed the receipt file");
        }
        let cosigned = self.ok(attestor_a, &format!("receipt cosign {receipt} --yes"));
        assert_eq!(cosigned["payment"]["new_units"], 40);
        assert_eq!(cosigned["payment"]["to_be_paid"], "20.000000");
        assert_eq!(cosigned["unit_kind"], "cpu-seconds");
        self.refused(stranger, &format!("receipt submit {receipt}"), "SignatureCountMismatch");
        self.ok(attestor_b, &format!("receipt cosign {receipt} --yes"));
        self.refused(attestor_b, &format!("receipt cosign {receipt} --yes"), "has already signed");
        assert_eq!(self.ok(stranger, &format!("receipt verify {receipt}"))["signatures"].as_array().unwrap().len(), 3);
        let tampered = self.dir.join("tampered.json");
        std::fs::write(&tampered, std::fs::read_to_string(receipt).unwrap().replace("\"cumulative_units\": 40", "\"cumulative_units\": 99")).unwrap();
        self.refused(stranger, &format!("receipt submit {}", tampered.display()), "does not verify");
    }

    /// Paused settlements refuse the receipt and change nothing; unpaused, it settles.
    fn it_settles_once_settlements_are_unpaused(&self, job: &str, receipt: &str) {
        let Cast { authority, stranger, .. } = &self.cast;
        self.ok(authority, "network pause --settlements");
        self.refused(stranger, &format!("receipt submit {receipt}"), "paused for settlements");
        self.ok(authority, "network unpause");
        assert_eq!(self.ok(stranger, &format!("receipt submit {receipt}"))["epoch"], 0);
        let settled = self.ok(stranger, &format!("job show {job}"));
        assert_eq!(settled["settled_units"], 40);
        assert_eq!(settled["paid_out"], "19.500000");
        assert_eq!(settled["fees_accrued"], "0.500000");
    }

    /// New jobs paused: create is refused before anything is sent.
    fn paused_new_jobs_refuse_a_create(&self, reward: &Pubkey) {
        let Cast { authority, client, .. } = &self.cast;
        self.ok(authority, "network pause --new-jobs");
        self.refused(client, &format!("job create --mint {reward} --class edge --price 0.1 --max-units 10"), "paused for new jobs");
        self.ok(authority, "network unpause --new-jobs");
    }

    /// Completed (the second job takes its slot), disputed within the window, upheld with a
    /// slash, closed after the window.
    fn the_job_is_completed_disputed_slashed_and_closed(&self, job: &str, second: &str) {
        let Cast { authority, owner, client, stranger, .. } = &self.cast;
        let evidence = "ab".repeat(32);
        self.ok(owner, &format!("job complete {job}"));
        assert_eq!(self.ok(owner, &format!("job accept {second}"))["status"], "Running");
        self.refused(client, &format!("job cancel {second}"), "or as a no-show in");
        self.refused(stranger, &format!("dispute open {job} --evidence-hash {evidence}"), "only the job's client");
        self.ok(client, &format!("dispute open {job} --evidence-hash {evidence}"));
        self.refused(owner, "stake unstake 10", "open disputes");
        self.refused(authority, &format!("dispute resolve {job} --slash 1000"), "more than provider");
        self.ok(authority, &format!("dispute resolve {job} --slash 10"));
        self.refused(stranger, &format!("job close {job}"), "closes in");
        self.ok(stranger, "ledger warp --by 31");
        assert_eq!(self.ok(stranger, &format!("job close {job}"))["refunded"], "30.000000");
    }

    /// The second job settled nothing within its start timeout: the client cancels it as a
    /// no-show, a strike against the provider, and it closes at once.
    fn the_second_job_is_cancelled_as_a_no_show(&self, second: &str) {
        let Cast { owner, client, stranger, .. } = &self.cast;
        self.refused(owner, "stake unstake 40", "running jobs need 100.000000 staked");
        self.ok(stranger, "ledger warp --by 31");
        let cancelled = self.ok(client, &format!("job cancel {second}"));
        assert_eq!(cancelled["no_show"], true);
        assert_eq!(self.ok(stranger, &format!("job close {second}"))["refunded"], "1.000000");
        let struck = self.ok(owner, "provider show");
        assert_eq!((struck["no_shows"].as_u64(), struck["lost_disputes"].as_u64(), struck["active_jobs"].as_u64()), (Some(1), Some(1), Some(0)));
    }

    /// Unstake, wait out the unbonding, withdraw.
    fn the_provider_unstakes_and_withdraws(&self) {
        let Cast { owner, stranger, .. } = &self.cast;
        self.ok(owner, "stake unstake 40");
        self.refused(owner, "stake withdraw", "ends in");
        self.ok(stranger, "ledger warp --by 31");
        assert_eq!(self.ok(owner, "stake withdraw")["stake"], "50.000000");
    }

    /// Emissions: nothing before epoch 0 ends, the whole attested share after.
    fn the_provider_claims_the_emissions_of_epoch_0(&self, provider: &str) {
        let Cast { owner, stranger, .. } = &self.cast;
        self.refused(owner, "claim --epoch 0", "is not over");
        self.ok(stranger, "ledger warp --to-epoch 1");
        let claimed = self.ok(stranger, &format!("claim --provider {provider}"));
        assert_eq!(claimed["epochs"], serde_json::json!([0]));
        assert_eq!(claimed["amount"], "10000.000000", "the only attested work takes the epoch");
    }

    /// Parameters: the epoch length stays, the fee changes.
    fn the_authority_changes_the_fee_not_the_epoch_length(&self) {
        let authority = &self.cast.authority;
        self.refused(authority, "network set-params --epoch-secs 60", "epoch length of a running network is fixed");
        self.refused(authority, "network set-params --unbonding-secs 5", "shorter than --dispute-window-secs");
        assert_eq!(self.ok(authority, "network set-params --fee-bps 300")["protocol_fee_bps"], 300);

        // An emission price floor: the authority's alone, in reward tokens, shown per class.
        let stranger = &self.cast.stranger;
        self.refused(stranger, "network set-emission-floor --class inference --price 0.25", "may do this");
        self.refused(authority, "network set-emission-floor --class inference --price 0.1234567", "decimals");
        let set = self.ok(authority, "network set-emission-floor --class inference --price 0.25");
        assert_eq!(set["classes"][1]["class"], "Inference");
        assert_eq!(set["classes"][1]["emission_price_floor"], "0.250000");
        assert_eq!(set["classes"][0]["emission_price_floor"], "0.000000");
        let shown = self.ok(stranger, "network show --only");
        assert_eq!(shown[0]["params"]["classes"][1]["emission_price_floor"], "0.250000", "{shown}");
        self.ok(authority, "network set-emission-floor --class inference --price 0");
    }

    /// More stake, a new worker key, then everything out and the provider closed.
    fn the_provider_rotates_its_worker_key_and_deregisters(&self) {
        let Cast { owner, stranger, .. } = &self.cast;
        let o = owner.key();
        self.ok(owner, "stake add 5.5");
        assert_eq!(self.ok(stranger, &format!("stake show --owner {o}"))["stake"], "55.500000");
        let new_worker = Actor::new(&self.dir, "new-worker").key();
        self.ok(owner, &format!("provider rotate-key --worker {new_worker}"));
        assert_eq!(self.ok(owner, "provider show")["worker_key"], new_worker.to_string());
        self.refused(owner, "provider deregister", "still holds");
        self.ok(owner, "stake unstake 55.5");
        self.ok(stranger, "ledger warp --by 31");
        self.ok(owner, "stake withdraw");
        self.ok(owner, "provider deregister");
        self.refused(owner, "provider show", "has no provider on network 2");
    }

    /// A job nobody accepts: topped up, cancelled after its accept-by, closed.
    fn a_job_nobody_accepts_is_topped_up_cancelled_and_closed(&self, reward: &Pubkey) {
        let Cast { client, stranger, .. } = &self.cast;
        let idle = self.ok(client, &format!("job create --mint {reward} --class edge --price 0.1 --max-units 10 --accept-within 60"));
        let idle = text(&idle, "address").to_string();
        self.refused(stranger, &format!("job top-up {idle} --units 5"), "only the job's client");
        assert_eq!(self.ok(client, &format!("job top-up {idle} --units 5"))["deposited"], "1.500000");
        self.refused(client, &format!("job cancel {idle}"), "is open to providers until");
        self.ok(stranger, "ledger warp --by 61");
        assert_eq!(self.ok(client, &format!("job cancel {idle}"))["status"], "Cancelled");
        self.ok(stranger, "ledger warp --by 31");
        assert_eq!(self.ok(stranger, &format!("job close {idle}"))["refunded"], "1.500000");
    }

    /// A Token-2022 payment mint of the client's own, and a job in it left open.
    fn a_job_in_a_token_2022_mint_is_left_open(&self) {
        let Cast { client, stranger, .. } = &self.cast;
        let payment = self.ok(client, "token create-mint --decimals 2 --supply 500 --token-2022");
        let payment = text(&payment, "mint").to_string();
        assert_eq!(self.ok(client, &format!("token balance --mint {payment}"))["balance"], "500.00");
        self.refused(client, &format!("job create --mint {payment} --class inference --price 0.125 --max-units 10"), "has 3 decimals but the mint has 2");
        self.ok(client, &format!("job create --mint {payment} --class inference --price 0.25 --max-units 100"));
        assert_eq!(self.ok(client, &format!("token balance --mint {payment}"))["balance"], "475.00");
        assert_eq!(self.ok(stranger, "audit")["violations"], serde_json::json!([]));
    }

    /// The treasury moves in two steps: the authority proposes, the proposed wallet accepts.
    fn the_treasury_moves_in_two_steps(&self) {
        let Cast { authority, client, stranger, .. } = &self.cast;
        let c = client.key();
        self.refused(stranger, &format!("network propose-treasury {}", stranger.key()), "only network 2's authority");
        self.refused(stranger, "network accept-treasury", "has no proposed treasury");
        self.refused(authority, &format!("network propose-treasury {}", authority.key()), "already is network 2's treasury");
        self.ok(authority, &format!("network propose-treasury {c}"));
        assert_eq!(self.ok(stranger, "network show --only")[0]["pending_treasury"], c.to_string());
        self.ok(authority, "network propose-treasury --withdraw");
        self.refused(client, "network accept-treasury", "has no proposed treasury");
        self.ok(authority, &format!("network propose-treasury {}", stranger.key()));
        self.refused(client, "network accept-treasury", "only the proposed treasury");
        assert_eq!(self.ok(stranger, "network accept-treasury")["treasury"], stranger.key().to_string());
        let shown = &self.ok(stranger, "network show --only")[0];
        assert_eq!((shown["treasury"].as_str(), &shown["pending_treasury"]), (Some(stranger.key().to_string().as_str()), &Value::Null));
    }

    /// Another deployment's address: not on this ledger; an unreachable ledger: said so.
    fn another_deployment_or_an_unreachable_ledger_is_named(&self) {
        let stranger = &self.cast.stranger;
        self.refused(stranger, &format!("--program-id {} network show", Pubkey::new_unique()), "the Tessera program is not deployed at");
        let output = Command::new(env!("CARGO_BIN_EXE_tessera")).args(["--url", "http://127.0.0.1:9", "--keypair"]).arg(&stranger.path).args(["network", "show"]).output().unwrap();
        assert!(String::from_utf8_lossy(&output.stderr).contains("cannot reach the ledger at http://127.0.0.1:9"), "{output:?}");
    }

    /// Restart: every account as it was, and the clock not behind the warps.
    fn a_restart_finds_every_account_as_it_was(self) -> Self {
        let lists = |s: &Scenario| ["network show", "provider list", "job list"].map(|command| s.ok(&s.cast.stranger, command));
        let listed = lists(&self);
        let clock_before = self.ok(&self.cast.stranger, "ledger warp --by 1")["to"].as_i64().unwrap();
        let before = self.fingerprint();
        let s = self.restart();
        assert_eq!(before, s.fingerprint(), "an account changed across the restart");
        assert_eq!(listed, lists(&s));
        let clock_after = s.ok(&s.cast.stranger, "ledger warp --by 1")["from"].as_i64().unwrap();
        assert!(clock_after >= clock_before, "the clock went back from {clock_before} to {clock_after}");
        assert_eq!(s.ok(&s.cast.stranger, "audit")["violations"], serde_json::json!([]));
        s
    }
}

/// A localnet killed outright has no chance to save the account index it keeps in memory: the
/// next command that reads the folder starts the ledger, which rebuilds the index from the
/// accounts, so nothing made through the localnet goes missing.
#[test]
fn a_localnet_killed_outright_loses_no_account_from_its_index() {
    let data_dir = fresh_folder("localnet-killed");
    let networks = |shown: &Value| shown.as_array().map_or(0, Vec::len);
    // Network 1 on the embedded ledger, which saves its index as it stops.
    json(&data_dir, &["network", "init"]);
    let unsaved = data_dir.join(tessera_ledger::embedded::index::UNSAVED_FILE);
    assert!(!unsaved.exists());

    // Network 2 through a localnet, which is then killed.
    let mut localnet = Localnet::start(&data_dir);
    json(&data_dir, &["--network", "2", "network", "init"]);
    assert!(
        unsaved.exists(),
        "the running localnet marks its index unsaved"
    );
    localnet.child.kill().unwrap();
    localnet.child.wait().unwrap();
    drop(localnet);

    // Read without a localnet: the ledger starts for it, rebuilds the index, and saves it as
    // it stops; a second read answers from the store.
    assert_eq!(networks(&json(&data_dir, &["network", "show"])), 2);
    assert!(!unsaved.exists(), "the index was saved after the rebuild");
    assert_eq!(networks(&json(&data_dir, &["network", "show"])), 2);
    let _ = std::fs::remove_dir_all(&data_dir);
    let _ = std::fs::remove_file(data_dir.with_extension("log"));
}
