//! The SBF ledger the lane runs on: LiteSVM with Tessera loaded from its `.so`, beside the SPL
//! Token, Token-2022 and associated-token programs LiteSVM ships, and the Ed25519 precompile.
//!
//! Every transaction goes through [`SbfLedger::send`], which names the instruction it is about,
//! reads the compute units the VM charged Tessera from the transaction's log, and turns any
//! failure into an error that names that instruction and carries the log. Nothing here runs
//! Tessera natively.

use anchor_lang::{AccountDeserialize, Discriminator};
use anyhow::{anyhow, bail, Context, Result};
use litesvm::types::TransactionMetadata;
use litesvm::LiteSVM;
use solana_clock::Clock;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use spl_token_2022_interface::extension::StateWithExtensions;
use std::path::Path;
use tessera_client::instructions::MintRef;

/// Decimals of every mint the lane makes.
pub const DECIMALS: u8 = 6;
/// One whole token in base units at [`DECIMALS`].
pub const ONE: u64 = 1_000_000;
/// The clock the lane starts at (2026-01-01T00:00:00Z), as the native fixture does.
pub const GENESIS: i64 = 1_767_225_600;
/// SOL given to each wallet the lane makes, in lamports.
const WALLET_LAMPORTS: u64 = 10_000_000_000;

/// What the VM charged one Tessera instruction.
#[derive(Clone, Debug)]
pub struct Cost {
    /// The instruction and, where one instruction has several paths, which one.
    pub label: String,
    /// Compute units Tessera's top-level invocation consumed, its CPIs included.
    pub units: u64,
    /// Compute units of the whole transaction (the Ed25519 precompile and any other instruction).
    pub transaction_units: u64,
    /// For a settlement: the accounts it write-locks and its cost in a block.
    pub footprint: Option<Footprint>,
}

/// What a settlement's transaction takes from a block: the accounts it write-locks and its
/// cost as the cost model counts it against the block's and each account's limit.
#[derive(Clone, Debug)]
pub struct Footprint {
    /// The accounts it writes besides the fee payer, named, with whose settlements write
    /// them too.
    pub writes: Vec<(&'static str, Sharers)>,
    /// The transaction's cost: executed compute units, 720 a signature, 2,400 a precompile
    /// signature, 300 a write lock, a unit per 4 bytes of instruction data and 8 per 32 KiB of
    /// account data loaded (Agave 4.2's cost model, `solana-cost-model`).
    pub block_cost: u64,
}

/// Which other settlements write an account a settlement writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sharers {
    /// Only settlements of the same job.
    Job,
    /// Settlements of any of the same provider's jobs (and its service).
    Provider,
    /// Settlements of the kind across the whole network.
    Network,
}

/// One batch settlement's figures: its size on the wire both ways and what it costs.
#[derive(Clone, Debug)]
pub struct BatchFigure {
    /// Receipts it settled.
    pub receipts: usize,
    /// Bytes of its transaction as a legacy transaction.
    pub legacy_bytes: usize,
    /// Bytes as a v0 transaction whose accounts, but the signer and the programs, come from
    /// one address lookup table.
    pub v0_bytes: usize,
    /// Signatures the fee counts: the transaction's and the Ed25519 instruction's.
    pub signatures: u64,
    /// Compute units of Tessera's instruction, and of the whole transaction.
    pub units: u64,
    pub transaction_units: u64,
    /// Its cost in a block (see [`Footprint::block_cost`]).
    pub block_cost: u64,
}

/// The largest transaction the network takes, in bytes (`PACKET_DATA_SIZE`).
pub const TRANSACTION_BYTES: usize = 1_232;

/// LiteSVM with Tessera's SBF build, a fee payer and a clock the lane moves.
pub struct SbfLedger {
    svm: LiteSVM,
    payer: Keypair,
    /// Keys handed out so far; see [`SbfLedger::key`].
    keys_made: u64,
    /// Unix seconds every transaction runs at.
    pub now: i64,
    /// Compute units of every Tessera instruction sent so far, in order.
    pub costs: Vec<Cost>,
    /// The batch settlements sent with [`SbfLedger::send_batch`], in order.
    pub batches: Vec<BatchFigure>,
}

impl SbfLedger {
    /// A ledger with the program at `so_path` deployed at Tessera's address.
    pub fn start(so_path: &Path) -> Result<Self> {
        let mut svm = LiteSVM::new().with_log_bytes_limit(None);
        svm.add_program_from_file(tessera::ID, so_path)
            .map_err(|error| anyhow!("loading {} into the SBF VM: {error:?}", so_path.display()))?;
        let payer = numbered_key(0);
        svm.airdrop(&payer.pubkey(), 100 * WALLET_LAMPORTS)
            .map_err(|failed| anyhow!("airdrop to the payer: {:?}", failed.err))?;
        let mut ledger = Self {
            svm,
            payer,
            keys_made: 1,
            now: GENESIS,
            costs: Vec::new(),
            batches: Vec::new(),
        };
        ledger.set_clock();
        Ok(ledger)
    }

    /// A new keypair, the same in every run: a program address derived from random keys
    /// takes a varying number of bump tries (about 1,500 CU each) to find, which would make
    /// the compute units differ from run to run.
    pub fn key(&mut self) -> Keypair {
        self.keys_made += 1;
        numbered_key(self.keys_made)
    }

    /// The fee payer, which also submits settlements and cranks.
    pub fn payer(&self) -> Pubkey {
        self.payer.pubkey()
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&mut self, seconds: i64) {
        self.now += seconds;
        self.set_clock();
    }

    fn set_clock(&mut self) {
        let mut clock: Clock = self.svm.get_sysvar();
        clock.unix_timestamp = self.now;
        self.svm.set_sysvar(&clock);
    }

    /// Sends `instructions` signed by the payer and `signers`; `label` names the Tessera
    /// instruction among them (or the set-up step). Returns Tessera's cost, if it ran.
    pub fn send(
        &mut self,
        label: &str,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Option<Cost>> {
        let meta = self.submit(instructions, signers).map_err(|failure| {
            anyhow!(
                "{label} failed in the SBF VM: {}\n{}",
                failure.error,
                failure.log()
            )
        })?;
        let mut cost = tessera_cost(label, &meta)?;
        if let Some(cost) = cost
            .as_mut()
            .filter(|cost| cost.label.starts_with("settle_"))
        {
            cost.footprint = Some(self.footprint(instructions, signers.len() + 1, cost));
        }
        if let Some(cost) = &cost {
            self.costs.push(cost.clone());
        }
        Ok(cost)
    }

    /// Sends a set-up step: like [`SbfLedger::send`], but what Tessera costs in it stays out
    /// of the tables.
    pub fn set_up(
        &mut self,
        label: &str,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<()> {
        self.submit(instructions, signers).map_err(|failure| {
            anyhow!(
                "{label} failed in the SBF VM: {}\n{}",
                failure.error,
                failure.log()
            )
        })?;
        Ok(())
    }

    /// Sends a `settle_batch` of `receipts` receipts (`instructions`: its Ed25519 instruction
    /// and itself) and keeps its figures for the batch table.
    pub fn send_batch(&mut self, receipts: usize, instructions: &[Instruction]) -> Result<()> {
        let label = format!("settle_batch ({receipts} receipts)");
        let (legacy_bytes, v0_bytes) = self.transaction_bytes(instructions)?;
        let meta = self.submit(instructions, &[]).map_err(|failure| {
            anyhow!(
                "{label} failed in the SBF VM: {}\n{}",
                failure.error,
                failure.log()
            )
        })?;
        let cost = tessera_cost(&label, &meta)?.context("Tessera did not run")?;
        let footprint = self.footprint(instructions, 1, &cost);
        let precompile_signatures = instructions[0].data.first().copied().unwrap_or(0) as u64;
        self.batches.push(BatchFigure {
            receipts,
            legacy_bytes,
            v0_bytes,
            signatures: 1 + precompile_signatures,
            units: cost.units,
            transaction_units: cost.transaction_units,
            block_cost: footprint.block_cost,
        });
        Ok(())
    }

    /// The bytes of a transaction of `instructions` signed by the payer alone: as a legacy
    /// transaction, and as a v0 transaction whose other accounts (all but the programs) sit in
    /// one address lookup table.
    fn transaction_bytes(&self, instructions: &[Instruction]) -> Result<(usize, usize)> {
        use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
        let payer = self.payer.pubkey();
        let blockhash = self.svm.latest_blockhash();
        let legacy = solana_transaction::Transaction::new_with_payer(instructions, Some(&payer));
        let signatures = legacy.message.header.num_required_signatures as usize;
        let programs: Vec<Pubkey> = instructions.iter().map(|ix| ix.program_id).collect();
        let mut table: Vec<Pubkey> = instructions
            .iter()
            .flat_map(|ix| &ix.accounts)
            .filter(|meta| !meta.is_signer && !programs.contains(&meta.pubkey))
            .map(|meta| meta.pubkey)
            .collect();
        table.sort();
        table.dedup();
        let table = AddressLookupTableAccount {
            key: Pubkey::new_from_array([7; 32]),
            addresses: table,
        };
        let v0 = v0::Message::try_compile(&payer, instructions, &[table], blockhash)
            .map_err(|error| anyhow!("compiling a v0 message: {error}"))?;
        // A transaction is its signatures (a one-byte count and 64 bytes each) and its message.
        let wire = |message_bytes: usize| 1 + 64 * signatures + message_bytes;
        Ok((
            wire(legacy.message.serialize().len()),
            wire(VersionedMessage::V0(v0).serialize().len()),
        ))
    }

    /// Sends `instructions` and expects the program to refuse them with `expected`.
    pub fn send_refused(
        &mut self,
        label: &str,
        instructions: &[Instruction],
        signers: &[&Keypair],
        expected: tessera::TesseraError,
    ) -> Result<()> {
        let expected_code = anchor_lang::error::ERROR_CODE_OFFSET + expected as u32;
        match self.submit(instructions, signers) {
            Ok(_) => bail!("{label} succeeded in the SBF VM; expected TesseraError::{expected:?}"),
            Err(failure) if failure.custom_code() == Some(expected_code) => Ok(()),
            Err(failure) => bail!(
                "{label} failed in the SBF VM with {}; expected TesseraError::{expected:?} \
                 ({expected_code})\n{}",
                failure.error,
                failure.log()
            ),
        }
    }

    fn submit(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TransactionMetadata, Failure> {
        let mut all_signers: Vec<&Keypair> = vec![&self.payer];
        all_signers.extend_from_slice(signers);
        let transaction = Transaction::new_signed_with_payer(
            instructions,
            Some(&self.payer.pubkey()),
            &all_signers,
            self.svm.latest_blockhash(),
        );
        let result = self.svm.send_transaction(transaction);
        // A fresh blockhash for the next one, so that identical transactions both run.
        self.svm.expire_blockhash();
        result.map_err(|failed| Failure {
            error: failed.err,
            logs: failed.meta.logs,
        })
    }

    // ---- write locks and block cost ---------------------------------------------------------

    /// The accounts `instructions` write besides the fee payer, and the cost in a block of
    /// their transaction, signed `signatures` times, which ran at `cost`.
    fn footprint(&self, instructions: &[Instruction], signatures: usize, cost: &Cost) -> Footprint {
        let payer = self.payer.pubkey();
        let mut accounts: Vec<Pubkey> = vec![payer];
        let mut writable: Vec<Pubkey> = Vec::new();
        let (mut data_bytes, mut precompile_signatures) = (0, 0);
        for instruction in instructions {
            data_bytes += instruction.data.len() as u64;
            if instruction.program_id == solana_sdk_ids::ed25519_program::ID {
                precompile_signatures += instruction.data.first().copied().unwrap_or(0) as u64;
            }
            accounts.push(instruction.program_id);
            for meta in &instruction.accounts {
                accounts.push(meta.pubkey);
                if meta.is_writable && meta.pubkey != payer && !writable.contains(&meta.pubkey) {
                    writable.push(meta.pubkey);
                }
            }
        }
        accounts.sort();
        accounts.dedup();
        let loaded: u64 = accounts.iter().map(|key| self.loaded_bytes(key)).sum();
        let block_cost = 720 * signatures as u64
            + 2_400 * precompile_signatures
            + 300 * (writable.len() as u64 + 1)
            + data_bytes / 4
            + cost.transaction_units
            + loaded.div_ceil(32 * 1024) * 8;
        let mut writes: Vec<_> = writable.iter().map(|key| self.describe(key)).collect();
        writes.sort_by_key(|(name, sharers)| (*sharers, *name));
        Footprint { writes, block_cost }
    }

    /// What loading `address` adds to a transaction's loaded account data: its data and 64
    /// bytes, and an upgradeable program's program-data account with it.
    fn loaded_bytes(&self, address: &Pubkey) -> u64 {
        let Some(account) = self.svm.get_account(address) else {
            return 0;
        };
        let own = account.data.len() as u64 + 64;
        if account.owner != solana_sdk_ids::bpf_loader_upgradeable::ID || !account.executable {
            return own;
        }
        let (program_data, _) = Pubkey::find_program_address(
            &[address.as_ref()],
            &solana_sdk_ids::bpf_loader_upgradeable::ID,
        );
        own + self
            .svm
            .get_account(&program_data)
            .map_or(0, |data| data.data.len() as u64 + 64)
    }

    /// What the account at `address` is, and whose settlements write it too.
    fn describe(&self, address: &Pubkey) -> (&'static str, Sharers) {
        use tessera::state::{Epoch, Job, Network, Provider, WorkRecord};
        let Some(account) = self.svm.get_account(address) else {
            return ("an account that does not exist", Sharers::Network);
        };
        if account.owner == tessera::ID {
            let kinds: [(&[u8], &'static str, Sharers); 5] = [
                (Network::DISCRIMINATOR, "network", Sharers::Network),
                (Epoch::DISCRIMINATOR, "epoch", Sharers::Network),
                (Provider::DISCRIMINATOR, "provider", Sharers::Provider),
                (WorkRecord::DISCRIMINATOR, "work record", Sharers::Provider),
                (Job::DISCRIMINATOR, "job", Sharers::Job),
            ];
            return kinds
                .into_iter()
                .find(|(discriminator, _, _)| account.data.starts_with(discriminator))
                .map_or(
                    ("a Tessera account", Sharers::Network),
                    |(_, name, sharers)| (name, sharers),
                );
        }
        if account.owner == spl_token_interface::ID || account.owner == spl_token_2022_interface::ID
        {
            let holder = StateWithExtensions::<spl_token_2022_interface::state::Account>::unpack(
                &account.data,
            )
            .map(|state| state.base.owner);
            if holder.is_ok_and(|holder| self.decode::<Job>(&holder).is_ok()) {
                return ("job vault", Sharers::Job);
            }
            return ("payee's token account", Sharers::Provider);
        }
        ("another program's account", Sharers::Network)
    }

    // ---- wallets and tokens ----------------------------------------------------------------

    /// A new keypair with SOL for fees and rent.
    pub fn wallet(&mut self) -> Result<Keypair> {
        let wallet = self.key();
        self.fund(&wallet.pubkey())?;
        Ok(wallet)
    }

    /// Gives `address` SOL for fees and rent.
    pub fn fund(&mut self, address: &Pubkey) -> Result<()> {
        self.svm
            .airdrop(address, WALLET_LAMPORTS)
            .map_err(|failed| anyhow!("airdrop to {address}: {:?}", failed.err))?;
        Ok(())
    }

    /// A new mint of `token_program` with [`DECIMALS`], mint authority `authority`, no freeze
    /// authority.
    pub fn create_mint(&mut self, token_program: Pubkey, authority: &Pubkey) -> Result<MintRef> {
        let mint = self.key();
        let space = spl_token_interface::state::Mint::LEN;
        let instructions = [
            solana_system_interface::instruction::create_account(
                &self.payer(),
                &mint.pubkey(),
                self.svm.minimum_balance_for_rent_exemption(space),
                space as u64,
                &token_program,
            ),
            spl_token_2022_interface::instruction::initialize_mint2(
                &token_program,
                &mint.pubkey(),
                authority,
                None,
                DECIMALS,
            )?,
        ];
        self.send("create a mint", &instructions, &[&mint])?;
        Ok(MintRef {
            mint: mint.pubkey(),
            token_program,
        })
    }

    /// A new token account of `mint` owned by `owner`.
    pub fn token_account(&mut self, mint: MintRef, owner: &Pubkey) -> Result<Pubkey> {
        let account = self.key();
        let space = spl_token_interface::state::Account::LEN;
        let instructions = [
            solana_system_interface::instruction::create_account(
                &self.payer(),
                &account.pubkey(),
                self.svm.minimum_balance_for_rent_exemption(space),
                space as u64,
                &mint.token_program,
            ),
            spl_token_2022_interface::instruction::initialize_account3(
                &mint.token_program,
                &account.pubkey(),
                &mint.mint,
                owner,
            )?,
        ];
        self.send("create a token account", &instructions, &[&account])?;
        Ok(account.pubkey())
    }

    /// Mints `amount` of `mint` into `destination`, signed by the mint's `authority`.
    pub fn mint_to(
        &mut self,
        mint: MintRef,
        authority: &Keypair,
        destination: &Pubkey,
        amount: u64,
    ) -> Result<()> {
        let instruction = spl_token_2022_interface::instruction::mint_to(
            &mint.token_program,
            &mint.mint,
            destination,
            &authority.pubkey(),
            &[],
            amount,
        )?;
        self.send("mint tokens", &[instruction], &[authority])?;
        Ok(())
    }

    /// Moves `amount` of `mint` from `source` (owned by `owner`) to `destination`.
    pub fn transfer(
        &mut self,
        mint: MintRef,
        (source, owner): (&Pubkey, &Keypair),
        destination: &Pubkey,
        amount: u64,
    ) -> Result<()> {
        let instruction = spl_token_2022_interface::instruction::transfer_checked(
            &mint.token_program,
            source,
            &mint.mint,
            destination,
            &owner.pubkey(),
            &[],
            amount,
            DECIMALS,
        )?;
        self.send("transfer tokens", &[instruction], &[owner])?;
        Ok(())
    }

    // ---- reading accounts ------------------------------------------------------------------

    /// Whether an account exists at `address`.
    pub fn exists(&self, address: &Pubkey) -> bool {
        self.svm
            .get_account(address)
            .is_some_and(|account| account.lamports > 0)
    }

    /// Decodes a Tessera account (checking its owner and discriminator).
    pub fn decode<T: AccountDeserialize + Discriminator>(&self, address: &Pubkey) -> Result<T> {
        let account = self
            .svm
            .get_account(address)
            .with_context(|| format!("no account at {address}"))?;
        if account.owner != tessera::ID {
            bail!("{address} is not owned by Tessera");
        }
        Ok(T::try_deserialize(&mut account.data.as_slice())?)
    }

    /// The balance of a token account of either token program, in base units.
    pub fn balance(&self, token_account: &Pubkey) -> Result<u64> {
        let account = self
            .svm
            .get_account(token_account)
            .with_context(|| format!("no token account at {token_account}"))?;
        let state =
            StateWithExtensions::<spl_token_2022_interface::state::Account>::unpack(&account.data)?;
        Ok(state.base.amount)
    }

    /// The supply of a mint of either token program, in base units.
    pub fn supply(&self, mint: &Pubkey) -> Result<u64> {
        let account = self
            .svm
            .get_account(mint)
            .with_context(|| format!("no mint at {mint}"))?;
        let state =
            StateWithExtensions::<spl_token_2022_interface::state::Mint>::unpack(&account.data)?;
        Ok(state.base.supply)
    }
}

/// The keypair whose secret is `number`, little-endian, under a fixed prefix.
fn numbered_key(number: u64) -> Keypair {
    let mut secret = *b"tessera sbf lane key ...........";
    secret[24..].copy_from_slice(&number.to_le_bytes());
    Keypair::new_from_array(secret)
}

/// A transaction the VM refused or that failed.
struct Failure {
    error: TransactionError,
    logs: Vec<String>,
}

impl Failure {
    fn custom_code(&self) -> Option<u32> {
        use solana_instruction::error::InstructionError;
        match &self.error {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(*code),
            _ => None,
        }
    }

    /// The transaction's log, one line each, indented under the error.
    fn log(&self) -> String {
        let lines: Vec<String> = self.logs.iter().map(|line| format!("    {line}")).collect();
        lines.join("\n")
    }
}

/// Tessera's top-level cost in the transaction `meta` describes: the runtime logs
/// `Program <id> consumed <units> of <limit> compute units` when an invocation returns, and the
/// first such line for Tessera at depth 1 is its own (CPIs log theirs before it returns).
fn tessera_cost(label: &str, meta: &TransactionMetadata) -> Result<Option<Cost>> {
    let invoke = format!("Program {} invoke [1]", tessera::ID);
    let consumed = format!("Program {} consumed ", tessera::ID);
    let Some(start) = meta.logs.iter().position(|line| *line == invoke) else {
        return Ok(None);
    };
    let line = meta.logs[start..]
        .iter()
        .find_map(|line| line.strip_prefix(&consumed))
        .with_context(|| format!("{label}: no compute-unit line for Tessera in the log"))?;
    // "<units> of <limit> compute units"
    let units = line.split(' ').next().unwrap_or_default().parse()?;
    Ok(Some(Cost {
        label: label.to_string(),
        units,
        transaction_units: meta.compute_units_consumed,
        footprint: None,
    }))
}
