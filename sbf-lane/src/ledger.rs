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
}

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
        let cost = tessera_cost(label, &meta)?;
        if let Some(cost) = &cost {
            self.costs.push(cost.clone());
        }
        Ok(cost)
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
    }))
}
