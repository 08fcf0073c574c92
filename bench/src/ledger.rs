//! The two ledgers the throughput workloads run on, behind one trait: the test bank
//! (`TestFixture`, solana-program-test running the program natively) and the embedded ledger
//! (surfpool in this process, reached over JSON-RPC like a real cluster).

use anchor_lang::AccountDeserialize;
use anyhow::{anyhow, bail, Context, Result};
use solana_commitment_config::CommitmentConfig;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_rpc_client::api::request::RpcRequest;
use solana_rpc_client::rpc_client::RpcClient;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tessera_ledger::embedded::EmbeddedLedger;
use tessera_tests::TestFixture;

/// A transaction before it is signed: its instructions and every signer besides the payer.
pub struct Unsigned {
    pub instructions: Vec<Instruction>,
    pub signers: Vec<Keypair>,
}

impl Unsigned {
    /// A transaction the payer alone signs.
    pub fn by_payer(instructions: Vec<Instruction>) -> Self {
        Self {
            instructions,
            signers: Vec::new(),
        }
    }

    /// Signs with `payer` (first, paying) and the transaction's own signers.
    pub fn sign(&self, payer: &Keypair, blockhash: solana_hash::Hash) -> Transaction {
        let mut signers: Vec<&Keypair> = vec![payer];
        signers.extend(self.signers.iter());
        Transaction::new_signed_with_payer(
            &self.instructions,
            Some(&payer.pubkey()),
            &signers,
            blockhash,
        )
    }
}

/// What the workloads need of a ledger.
pub trait Ledger {
    /// Pays the fees and rent of every transaction and signs first.
    fn payer(&self) -> &Keypair;

    /// Signs with the payer and `signers`, sends, and fails unless it succeeded.
    fn send(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<()>;

    /// Signs and sends `transactions` in order, one after the other, and returns the time that
    /// took; fails unless every one succeeded (checked after the clock stops).
    fn send_timed(&mut self, transactions: &[Unsigned]) -> Result<Duration>;

    /// The data of the account at `address`, if it exists.
    fn account_data(&mut self, address: &Pubkey) -> Result<Option<Vec<u8>>>;

    /// The ledger's clock as the program sees it, unix seconds.
    fn now(&mut self) -> Result<i64>;

    /// Moves the clock forward by `seconds`.
    fn advance(&mut self, seconds: i64) -> Result<()>;

    /// Sends a transaction built as [`Unsigned`].
    fn send_unsigned(&mut self, transaction: &Unsigned) -> Result<()> {
        let signers: Vec<&Keypair> = transaction.signers.iter().collect();
        self.send(&transaction.instructions, &signers)
    }

    /// Decodes the Anchor account of type `T` at `address`.
    fn read<T: AccountDeserialize>(&mut self, address: &Pubkey) -> Result<T>
    where
        Self: Sized,
    {
        let data = self
            .account_data(address)?
            .with_context(|| format!("no account at {address}"))?;
        T::try_deserialize(&mut data.as_slice())
            .map_err(|error| anyhow!("the account at {address} does not decode: {error}"))
    }
}

/// The test bank: a `TestFixture` and the runtime its async calls run on.
pub struct BankLedger {
    pub fixture: TestFixture,
    runtime: tokio::runtime::Runtime,
    payer: Keypair,
}

impl BankLedger {
    /// A new bank with the fixture's network 1, which the measurements written against the
    /// fixture's helpers use; the workloads create networks of their own.
    pub fn start() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start a runtime for the test bank")?;
        let fixture = runtime.block_on(TestFixture::new());
        let payer = fixture.context.payer.insecure_clone();
        Ok(Self {
            fixture,
            runtime,
            payer,
        })
    }

    /// Runs `work` on the fixture, for measurements written against the fixture's own helpers.
    pub fn run<R>(&mut self, work: impl AsyncFnOnce(&mut TestFixture) -> R) -> R {
        self.runtime.block_on(work(&mut self.fixture))
    }

    fn send_in_slot(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<()> {
        self.runtime
            .block_on(self.fixture.send_in_slot(instructions, signers))
            .map_err(|error| anyhow!("the test bank refused a transaction: {error:?}"))
    }
}

impl Ledger for BankLedger {
    fn payer(&self) -> &Keypair {
        &self.payer
    }

    /// Uses the fixture's bulk path (`send_in_slot`): every transaction of a run differs from
    /// every other, and the fixture moves to a new slot every few sends all the same.
    fn send(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<()> {
        self.send_in_slot(instructions, signers)
    }

    fn send_timed(&mut self, transactions: &[Unsigned]) -> Result<Duration> {
        let started = Instant::now();
        for transaction in transactions {
            self.send_unsigned(transaction)?;
        }
        Ok(started.elapsed())
    }

    fn account_data(&mut self, address: &Pubkey) -> Result<Option<Vec<u8>>> {
        let account = self.runtime.block_on(self.fixture.account(address));
        Ok(account.map(|account| account.data))
    }

    fn now(&mut self) -> Result<i64> {
        Ok(self.fixture.now)
    }

    fn advance(&mut self, seconds: i64) -> Result<()> {
        self.runtime.block_on(self.fixture.advance(seconds));
        Ok(())
    }
}

/// Lamports the bench's payer gets on the embedded ledger.
const RPC_PAYER_LAMPORTS: u64 = 1_000_000_000_000;
/// How often, and how many times, to ask the embedded ledger whether something happened yet.
const POLL_EVERY: Duration = Duration::from_millis(50);
const POLLS: u32 = 400;

/// The embedded ledger over JSON-RPC: one this process started, in a data folder of its own
/// that is removed when it closes, or one another process serves ([`RpcLedger::connect`]).
pub struct RpcLedger {
    rpc: RpcClient,
    payer: Keypair,
    ledger: Option<EmbeddedLedger>,
    data_dir: Option<PathBuf>,
}

impl RpcLedger {
    /// Starts the embedded ledger in a fresh temporary folder and funds a payer by airdrop.
    pub fn start() -> Result<Self> {
        let data_dir = std::env::temp_dir().join(format!("tessera-bench-{}", std::process::id()));
        if data_dir.exists() {
            std::fs::remove_dir_all(&data_dir).with_context(|| {
                format!("cannot clear the old data folder {}", data_dir.display())
            })?;
        }
        let ledger = EmbeddedLedger::start(&data_dir, None)?;
        // The ledger answers `sendTransaction` once it executed the transaction, but reports
        // it as confirmed only a slot later; reads need not wait for that.
        let rpc =
            RpcClient::new_with_commitment(ledger.rpc_url.clone(), CommitmentConfig::processed());
        let mut opened = Self {
            rpc,
            payer: Keypair::new(),
            ledger: Some(ledger),
            data_dir: Some(data_dir),
        };
        opened.fund_payer()?;
        Ok(opened)
    }

    /// Reaches a ledger another process serves at `rpc_url` (a `tessera localnet`) and funds a
    /// payer there by airdrop. Closing it leaves that ledger and its folder alone.
    pub fn connect(rpc_url: &str) -> Result<Self> {
        let mut connected = Self {
            rpc: RpcClient::new_with_commitment(rpc_url.to_string(), CommitmentConfig::processed()),
            payer: Keypair::new(),
            ledger: None,
            data_dir: None,
        };
        connected.fund_payer()?;
        Ok(connected)
    }

    /// The JSON-RPC client, for calls the [`Ledger`] trait does not make.
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    fn fund_payer(&mut self) -> Result<()> {
        let payer = self.payer.pubkey();
        self.rpc
            .request_airdrop(&payer, RPC_PAYER_LAMPORTS)
            .context("the embedded ledger refused the airdrop")?;
        for _ in 0..POLLS {
            if self.rpc.get_balance(&payer).unwrap_or(0) > 0 {
                return Ok(());
            }
            std::thread::sleep(POLL_EVERY);
        }
        bail!("the airdrop to the bench's payer never arrived")
    }

    /// Stops the ledger and removes its data folder, if this process started it.
    pub fn close(mut self) -> Result<()> {
        if let Some(ledger) = self.ledger.take() {
            ledger.stop()?;
        }
        match self.data_dir.take() {
            Some(data_dir) => std::fs::remove_dir_all(&data_dir)
                .with_context(|| format!("cannot remove {}", data_dir.display())),
            None => Ok(()),
        }
    }

    /// Signs and sends `transactions` as [`Ledger::send_timed`] does, and also returns their
    /// signatures, in order.
    pub fn send_timed_signatures(
        &mut self,
        transactions: &[Unsigned],
    ) -> Result<(Duration, Vec<Signature>)> {
        let blockhash = self.blockhash()?;
        let mut signatures = Vec::with_capacity(transactions.len());
        let started = Instant::now();
        for transaction in transactions {
            let signed = transaction.sign(&self.payer, blockhash);
            let signature = self
                .rpc
                .send_transaction(&signed)
                .map_err(|error| anyhow!("the embedded ledger refused a transaction: {error}"))?;
            signatures.push(signature);
        }
        let elapsed = started.elapsed();
        self.confirm_all(&signatures)?;
        Ok((elapsed, signatures))
    }

    fn blockhash(&self) -> Result<solana_hash::Hash> {
        self.rpc
            .get_latest_blockhash()
            .context("the embedded ledger gave no blockhash")
    }

    /// Waits until every one of `signatures` is confirmed, failing on the first that failed.
    fn confirm_all(&self, signatures: &[Signature]) -> Result<()> {
        // The RPC method takes at most 256 signatures a call.
        for chunk in signatures.chunks(256) {
            let mut confirmed = false;
            for _ in 0..POLLS {
                let statuses = self
                    .rpc
                    .get_signature_statuses(chunk)
                    .context("cannot read transaction statuses")?
                    .value;
                if let Some(failed) = statuses
                    .iter()
                    .flatten()
                    .find(|status| status.err.is_some())
                {
                    bail!("a timed transaction failed: {:?}", failed.err);
                }
                if statuses.iter().all(Option::is_some) {
                    confirmed = true;
                    break;
                }
                std::thread::sleep(POLL_EVERY);
            }
            if !confirmed {
                bail!("timed transactions were still unconfirmed after {POLLS} polls");
            }
        }
        Ok(())
    }
}

impl Drop for RpcLedger {
    fn drop(&mut self) {
        if let Some(ledger) = self.ledger.take() {
            // Best effort on an error path; `close` reports failures.
            let _ = ledger.stop();
        }
        if let Some(data_dir) = self.data_dir.take() {
            let _ = std::fs::remove_dir_all(data_dir);
        }
    }
}

impl Ledger for RpcLedger {
    fn payer(&self) -> &Keypair {
        &self.payer
    }

    /// `sendTransaction` with preflight, as the RPC client does by default: the embedded
    /// ledger simulates, then executes, and answers after executing.
    fn send(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<()> {
        let transaction = Unsigned {
            instructions: instructions.to_vec(),
            signers: signers.iter().map(|key| key.insecure_clone()).collect(),
        }
        .sign(&self.payer, self.blockhash()?);
        self.rpc
            .send_transaction(&transaction)
            .map(|_| ())
            .map_err(|error| anyhow!("the embedded ledger refused a transaction: {error}"))
    }

    fn send_timed(&mut self, transactions: &[Unsigned]) -> Result<Duration> {
        Ok(self.send_timed_signatures(transactions)?.0)
    }

    fn account_data(&mut self, address: &Pubkey) -> Result<Option<Vec<u8>>> {
        let response = self
            .rpc
            .get_account_with_commitment(address, CommitmentConfig::processed())
            .with_context(|| format!("cannot read the account {address}"))?;
        Ok(response.value.map(|account| account.data))
    }

    fn now(&mut self) -> Result<i64> {
        let data = self
            .account_data(&solana_sdk_ids::sysvar::clock::ID)?
            .context("the embedded ledger has no clock sysvar")?;
        let clock: solana_clock::Clock =
            bincode::deserialize(&data).context("the clock sysvar does not decode")?;
        Ok(clock.unix_timestamp)
    }

    /// Surfpool's `surfnet_timeTravel` cheatcode, then waits until the clock got there.
    fn advance(&mut self, seconds: i64) -> Result<()> {
        let target = self.now()? + seconds;
        let _: serde_json::Value = self
            .rpc
            .send(
                RpcRequest::Custom {
                    method: "surfnet_timeTravel",
                },
                serde_json::json!([{ "absoluteTimestamp": target * 1_000 + 500 }]),
            )
            .context("the embedded ledger refused to move its clock")?;
        for _ in 0..POLLS {
            if self.now()? >= target {
                return Ok(());
            }
            std::thread::sleep(POLL_EVERY);
        }
        bail!("the embedded ledger's clock never reached {target}")
    }
}
