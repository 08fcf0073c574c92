//! A connection to a ledger: the RPC client, the signer that pays, and, for the embedded
//! ledger, the running surfpool and the lock on its data folder.

use crate::embedded::{Claim, EmbeddedLedger, Folder, Store};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{AccountDeserialize, Discriminator};
use anyhow::{anyhow, bail, Context, Result};
use solana_account::Account;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::{CommitmentConfig, CommitmentLevel};
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;
use std::cell::{OnceCell, RefCell};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the commands go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The embedded ledger in a data folder.
    Embedded(PathBuf),
    /// A JSON-RPC endpoint.
    Rpc(String),
}

impl Target {
    /// Reads `--url`: `embedded` (or nothing), a moniker (`devnet`, `mainnet-beta`, `testnet`,
    /// `localnet`), or an http(s) URL.
    pub fn parse(url: Option<&str>, data_dir: &Path) -> Result<Self> {
        Ok(match url.unwrap_or("embedded") {
            "embedded" => Target::Embedded(data_dir.to_path_buf()),
            "devnet" | "d" => Target::Rpc("https://api.devnet.solana.com".into()),
            "mainnet-beta" | "m" => Target::Rpc("https://api.mainnet-beta.solana.com".into()),
            "testnet" | "t" => Target::Rpc("https://api.testnet.solana.com".into()),
            "localnet" | "l" | "localhost" => Target::Rpc("http://127.0.0.1:8899".into()),
            url if url.starts_with("http://") || url.starts_with("https://") => Target::Rpc(url.into()),
            other => bail!("--url {other:?} is neither `embedded`, a moniker (devnet, mainnet-beta, testnet, localnet) nor an http(s) URL"),
        })
    }
}

/// An open ledger.
pub struct Ledger {
    /// Pays fees and rent; signs as authority, owner or client where a command needs it.
    pub payer: Keypair,
    /// Set when no keypair was given or found for a JSON-RPC ledger: `payer` is then a throwaway
    /// key, reads work as for anyone (an auditor holds no key) and sends are refused.
    keyless: bool,
    commitment: CommitmentConfig,
    source: Source,
}

/// Where a [`Ledger`] reads and sends.
enum Source {
    /// A JSON-RPC endpoint: a cluster, or the `tessera localnet` that serves the data folder.
    Rpc(RpcClient),
    /// The embedded ledger in a data folder this process holds.
    Folder(Box<Embedded>),
}

/// An embedded ledger that starts on first need: reads come from its store until something
/// (a transaction, a sysvar, an account the store does not hold) needs the running ledger.
/// Fields drop in order: the ledger stops before the folder's lock is released.
struct Embedded {
    node: OnceCell<Node>,
    store: RefCell<Option<Store>>,
    folder: Folder,
}

/// The started ledger and its RPC client.
struct Node {
    ledger: EmbeddedLedger,
    rpc: RpcClient,
}

/// SOL the embedded ledger's payer is topped up to when it runs low.
const EMBEDDED_PAYER_LAMPORTS: u64 = 10_000_000_000;
/// How often a sent transaction's status is polled.
const CONFIRM_POLL: Duration = Duration::from_millis(20);
/// How often a transaction not yet confirmed is checked for an expired blockhash.
const EXPIRY_CHECK: Duration = Duration::from_secs(1);
/// Most addresses one `getMultipleAccounts` request may name.
const MULTIPLE_ACCOUNTS_PAGE: usize = 100;
/// Longest wait for a sent transaction to reach the commitment asked for.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(90);

impl Ledger {
    /// Opens `target`. For the embedded ledger this claims the data folder (one process at a
    /// time; a folder that a `tessera localnet` serves is reached through it) and, when no
    /// keypair is given, uses (and if need be creates) the data folder's own `payer.json`,
    /// funded by airdrop. The embedded ledger itself starts on first need.
    pub fn open(
        target: &Target,
        keypair: Option<&Path>,
        commitment: CommitmentConfig,
    ) -> Result<Self> {
        match target {
            Target::Embedded(data_dir) => Self::open_folder(data_dir, keypair, commitment),
            Target::Rpc(url) => Self::open_rpc(url, keypair, commitment),
        }
    }

    /// Opens the embedded ledger in `data_dir` (see [`Ledger::open`]).
    fn open_folder(
        data_dir: &Path,
        keypair: Option<&Path>,
        commitment: CommitmentConfig,
    ) -> Result<Self> {
        // Read a named keypair before touching the data folder: a bad path changes nothing.
        let named = keypair.map(read_keypair).transpose()?;
        let claim = Folder::claim(data_dir)?;
        let payer = match named {
            Some(keypair) => keypair,
            None => data_dir_payer(data_dir)?,
        };
        let source = match claim {
            Claim::Owned(folder) => Source::Folder(Box::new(Embedded {
                node: OnceCell::new(),
                store: RefCell::new(Store::open(data_dir)?),
                folder,
            })),
            Claim::Served(url) => {
                let rpc = RpcClient::new_with_commitment(url.clone(), commitment);
                ensure_sol(&rpc, &payer.pubkey(), EMBEDDED_PAYER_LAMPORTS).with_context(|| {
                    format!(
                        "the tessera localnet serving {} at {url} does not answer",
                        data_dir.display()
                    )
                })?;
                Source::Rpc(rpc)
            }
        };
        Ok(Self {
            payer,
            keyless: false,
            commitment,
            source,
        })
    }

    /// Opens the cluster at `url` and checks that the program is deployed there.
    fn open_rpc(url: &str, keypair: Option<&Path>, commitment: CommitmentConfig) -> Result<Self> {
        // A named keypair must be readable; without one, the Solana CLI's if it exists, else
        // none: reading needs no key.
        let (payer, keyless) = match keypair {
            Some(path) => (read_keypair(path)?, false),
            None => match default_keypair_path() {
                Ok(path) if path.exists() => (read_keypair(&path)?, false),
                _ => (Keypair::new(), true),
            },
        };
        let rpc = RpcClient::new_with_commitment(url.to_string(), commitment);
        let program = tessera_client::program_id();
        let deployed = rpc
            .get_account_with_commitment(&program, commitment)
            .map_err(|error| {
                anyhow!(
                    "cannot reach the ledger at {url}: {error}; check --url, or start a local \
                     one with `tessera localnet`"
                )
            })?
            .value
            .is_some_and(|account| account.executable);
        if !deployed {
            bail!(
                "the Tessera program is not deployed at {program} on {url}: deploy it (`anchor \
                 deploy`), or pass the --program-id of the deployment"
            );
        }
        Ok(Self {
            payer,
            keyless,
            commitment,
            source: Source::Rpc(rpc),
        })
    }

    /// The commitment reads and confirmations wait for.
    pub fn commitment(&self) -> CommitmentConfig {
        self.commitment
    }

    /// The RPC client of the ledger; starts the embedded ledger if it is not running yet.
    pub fn rpc(&self) -> Result<&RpcClient> {
        match &self.source {
            Source::Rpc(rpc) => Ok(rpc),
            Source::Folder(embedded) => Ok(&self.node(embedded)?.rpc),
        }
    }

    fn node<'a>(&self, embedded: &'a Embedded) -> Result<&'a Node> {
        if let Some(node) = embedded.node.get() {
            return Ok(node);
        }
        // The ledger takes the store over; this process never reads it beside the ledger.
        drop(embedded.store.borrow_mut().take());
        let ledger = EmbeddedLedger::start(&embedded.folder.path, None)?;
        let rpc = RpcClient::new_with_commitment(ledger.rpc_url.clone(), self.commitment);
        ensure_sol(&rpc, &self.payer.pubkey(), EMBEDDED_PAYER_LAMPORTS)?;
        Ok(embedded.node.get_or_init(|| Node { ledger, rpc }))
    }

    /// The embedded ledger's store, while the ledger is not running.
    fn store(&self) -> Option<std::cell::Ref<'_, Store>> {
        match &self.source {
            Source::Folder(embedded) if embedded.node.get().is_none() => {
                std::cell::Ref::filter_map(embedded.store.borrow(), Option::as_ref).ok()
            }
            _ => None,
        }
    }

    /// Where the ledger is: its RPC URL, or the data folder of an embedded ledger not started.
    pub fn url(&self) -> String {
        match &self.source {
            Source::Rpc(rpc) => rpc.url(),
            Source::Folder(embedded) => match embedded.node.get() {
                Some(node) => node.rpc.url(),
                None => format!("the embedded ledger in {}", embedded.folder.path.display()),
            },
        }
    }

    /// Saves the embedded ledger's clock to its data folder (after a warp), so that even a crash
    /// never moves time back.
    pub fn save_clock(&self) -> Result<()> {
        match &self.source {
            Source::Folder(embedded) => match embedded.node.get() {
                Some(node) => node.ledger.save_clock(),
                None => Ok(()),
            },
            Source::Rpc(_) => Ok(()),
        }
    }

    /// Stops the embedded ledger, if it runs, flushing it to disk.
    pub fn close(self) -> Result<()> {
        match self.source {
            Source::Folder(embedded) => {
                let Embedded { node, folder, .. } = *embedded;
                let stopped = match node.into_inner() {
                    Some(node) => node.ledger.stop(),
                    None => Ok(()),
                };
                drop(folder);
                stopped
            }
            Source::Rpc(_) => Ok(()),
        }
    }

    /// Requests an airdrop and waits for it.
    pub fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<()> {
        airdrop(self.rpc()?, to, lamports)
    }

    /// Signs `instructions` with the payer and `signers`, sends, and waits for confirmation;
    /// retries with a fresh blockhash when the first one expired. The ledger simulates the
    /// transaction first (preflight): one that would fail is refused before it lands, and
    /// costs nothing.
    pub fn send(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<String> {
        if self.keyless {
            bail!(
                "this command sends a transaction, and no keypair was given or found: pass \
                 --keypair FILE (or create the Solana CLI's with `solana-keygen new`)"
            );
        }
        let rpc = self.rpc()?;
        let mut all: Vec<&Keypair> = vec![&self.payer];
        all.extend_from_slice(signers);
        let mut last_error = None;
        for _ in 0..3 {
            let blockhash = rpc.get_latest_blockhash().map_err(|error| {
                Unconfirmed(format!("cannot fetch a recent blockhash: {error}"))
            })?;
            let transaction = Transaction::new_signed_with_payer(
                instructions,
                Some(&self.payer.pubkey()),
                &all,
                blockhash,
            );
            match self.send_and_confirm(rpc, &transaction) {
                Ok(Some(signature)) => return Ok(signature.to_string()),
                Ok(None) => last_error = Some("the blockhash expired".to_string()),
                Err(SendFailure::Refused(error)) if error.contains("Blockhash not found") => {
                    last_error = Some(error)
                }
                Err(SendFailure::Refused(error)) => return Err(explain(&error)),
                Err(SendFailure::Unconfirmed(error)) => return Err(Unconfirmed(error).into()),
            }
        }
        Err(Unconfirmed(format!(
            "the transaction kept expiring: {}",
            last_error.unwrap_or_default()
        ))
        .into())
    }

    /// Sends `transaction` and polls its status until it reaches the ledger's commitment;
    /// `None` when its blockhash expired first.
    fn send_and_confirm(
        &self,
        rpc: &RpcClient,
        transaction: &Transaction,
    ) -> Result<Option<Signature>, SendFailure> {
        let config = RpcSendTransactionConfig {
            preflight_commitment: Some(CommitmentLevel::Processed),
            ..RpcSendTransactionConfig::default()
        };
        let signature = rpc
            .send_transaction_with_config(transaction, config)
            .map_err(SendFailure::of)?;
        let deadline = Instant::now() + CONFIRM_TIMEOUT;
        let mut next_expiry_check = Instant::now() + EXPIRY_CHECK;
        while Instant::now() < deadline {
            let status = rpc
                .get_signature_status_with_commitment(&signature, self.commitment)
                .map_err(SendFailure::of)?;
            match status {
                Some(Ok(())) => return Ok(Some(signature)),
                Some(Err(error)) => return Err(SendFailure::Refused(error.to_string())),
                None => {
                    // A blockhash lives about a minute: asking at every 20 ms poll would
                    // double the requests for nothing.
                    if Instant::now() >= next_expiry_check {
                        let blockhash = transaction.message.recent_blockhash;
                        let valid = rpc
                            .is_blockhash_valid(&blockhash, CommitmentConfig::processed())
                            .map_err(SendFailure::of)?;
                        if !valid {
                            return Ok(None);
                        }
                        next_expiry_check = Instant::now() + EXPIRY_CHECK;
                    }
                    std::thread::sleep(CONFIRM_POLL);
                }
            }
        }
        Err(SendFailure::Unconfirmed(format!(
            "transaction {signature} was not confirmed within {} s",
            CONFIRM_TIMEOUT.as_secs()
        )))
    }

    /// The account at `address`; `None` when it does not exist.
    pub fn account(&self, address: &Pubkey) -> Result<Option<Account>> {
        if let Some(store) = self.store() {
            if let Some(account) = store.account(address)? {
                return Ok(Some(account));
            }
        }
        Ok(self
            .rpc()?
            .get_account_with_commitment(address, self.commitment)
            .with_context(|| format!("cannot read account {address}"))?
            .value)
    }

    /// The accounts at `addresses`, in order; `None` where none exists. A JSON-RPC node is asked
    /// in pages of 100 addresses (`getMultipleAccounts`' limit).
    pub fn accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>> {
        if self.store().is_some() {
            return addresses
                .iter()
                .map(|address| self.account(address))
                .collect();
        }
        let rpc = self.rpc()?;
        let mut accounts = Vec::with_capacity(addresses.len());
        for page in addresses.chunks(MULTIPLE_ACCOUNTS_PAGE) {
            let answer = rpc
                .get_multiple_accounts_with_commitment(page, self.commitment)
                .context("cannot read accounts")?;
            accounts.extend(answer.value);
        }
        Ok(accounts)
    }

    /// Writes `account` at `address` as it stands, through surfpool's `surfnet_setAccount`:
    /// only the embedded ledger and `tessera localnet` accept it. The tests use it to corrupt
    /// accounts and see the audit find it.
    pub fn write_account(&self, address: &Pubkey, account: &Account) -> Result<()> {
        let params = serde_json::json!([
            address.to_string(),
            {
                "lamports": account.lamports,
                "data": hex::encode(&account.data),
                "owner": account.owner.to_string(),
                "executable": account.executable,
            }
        ]);
        let request = solana_rpc_client_api::request::RpcRequest::Custom {
            method: "surfnet_setAccount",
        };
        self.rpc()?
            .send::<serde_json::Value>(request, params)
            .with_context(|| {
                format!("cannot write {address}: only a surfpool ledger (embedded, localnet) can")
            })?;
        Ok(())
    }

    /// Reads and decodes a Tessera account; `None` when it does not exist.
    pub fn fetch<T: AccountDeserialize + Discriminator>(
        &self,
        address: &Pubkey,
    ) -> Result<Option<T>> {
        match self.account(address)? {
            None => Ok(None),
            Some(account) => {
                if account.owner != tessera_client::program_id() {
                    bail!(
                        "{address} is not a Tessera account (owner {})",
                        account.owner
                    );
                }
                Ok(Some(
                    T::try_deserialize(&mut account.data.as_slice())
                        .with_context(|| format!("{address} is not the account type expected"))?,
                ))
            }
        }
    }

    /// Every Tessera account of type `T`.
    pub fn all<T: AccountDeserialize + Discriminator>(&self) -> Result<Vec<(Pubkey, T)>> {
        self.all_where(&[])
    }

    /// Every Tessera account of type `T` whose data holds each `(offset, key)` of `fields`;
    /// a node filters (getProgramAccounts memcmp), so only matches cross the wire.
    pub fn all_where<T: AccountDeserialize + Discriminator>(
        &self,
        fields: &[(usize, Pubkey)],
    ) -> Result<Vec<(Pubkey, T)>> {
        let filters = type_filters::<T>(fields);
        let program = tessera_client::program_id();
        let accounts = match self.store() {
            Some(store) => store
                .owned_by(&program)?
                .into_iter()
                .filter(|(_, account)| {
                    filters.iter().all(|(offset, bytes)| {
                        account.data.get(*offset..offset + bytes.len()) == Some(bytes.as_slice())
                    })
                })
                .map(|(address, account)| (address, account.data))
                .collect(),
            None => self.program_accounts(&program, filters)?,
        };
        Ok(accounts
            .into_iter()
            .filter_map(|(address, data)| {
                T::try_deserialize(&mut data.as_slice())
                    .ok()
                    .map(|state| (address, state))
            })
            .collect())
    }

    fn program_accounts(
        &self,
        program: &Pubkey,
        filters: Vec<(usize, Vec<u8>)>,
    ) -> Result<Vec<(Pubkey, Vec<u8>)>> {
        let config = program_accounts_config(filters, self.commitment);
        let accounts = self
            .rpc()?
            .get_program_ui_accounts_with_config(program, config)
            .context("cannot list the program's accounts")?;
        Ok(accounts
            .into_iter()
            .filter_map(|(address, account)| Some((address, account.data.decode()?)))
            .collect())
    }

    /// Whether an account exists at `address`.
    pub fn exists(&self, address: &Pubkey) -> Result<bool> {
        Ok(self.account(address)?.is_some())
    }

    /// The ledger's clock as the program sees it: unix seconds of the last block.
    pub fn now(&self) -> Result<i64> {
        if let Some(store) = self.store() {
            return Ok(store.unix_timestamp());
        }
        let clock = self
            .account(&solana_sdk_ids::sysvar::clock::ID)?
            .context("the ledger has no clock sysvar")?;
        let clock: solana_clock::Clock =
            bincode::deserialize(&clock.data).context("the clock sysvar is malformed")?;
        Ok(clock.unix_timestamp)
    }

    /// Lamports an account of `len` bytes needs to be rent-exempt.
    pub fn rent_exempt(&self, len: usize) -> Result<u64> {
        self.rpc()?
            .get_minimum_balance_for_rent_exemption(len)
            .context("cannot read the rent")
    }

    /// A mint, its token program and its decimals.
    pub fn mint(&self, mint: &Pubkey) -> Result<crate::tokens::Mint> {
        let account = self
            .account(mint)?
            .with_context(|| format!("no mint at {mint}: check the address"))?;
        crate::tokens::Mint::parse(mint, &account.owner, &account.data)
    }

    /// The balance of a token account, in base units; 0 when it does not exist.
    pub fn token_balance(&self, address: &Pubkey) -> Result<u64> {
        match self.account(address)? {
            None => Ok(0),
            Some(account) => crate::tokens::amount(&account.data),
        }
    }
}

/// Tops `payer` up to `lamports` by airdrop when it has less than half of it.
fn ensure_sol(rpc: &RpcClient, payer: &Pubkey, lamports: u64) -> Result<()> {
    let balance = rpc
        .get_balance(payer)
        .context("cannot read the payer's balance")?;
    if balance >= lamports / 2 {
        return Ok(());
    }
    airdrop(rpc, payer, lamports - balance)
}

/// Requests an airdrop and waits for it.
fn airdrop(rpc: &RpcClient, to: &Pubkey, lamports: u64) -> Result<()> {
    let signature = rpc
        .request_airdrop(to, lamports)
        .context("the airdrop was refused")?;
    let deadline = Instant::now() + CONFIRM_TIMEOUT;
    while Instant::now() < deadline {
        if rpc.confirm_transaction(&signature).unwrap_or(false) {
            return Ok(());
        }
        std::thread::sleep(CONFIRM_POLL);
    }
    bail!("the airdrop to {to} was not confirmed")
}

/// The byte filters that pick accounts of type `T` (its discriminator at 0) whose data holds
/// each `(offset, key)` of `fields`.
pub fn type_filters<T: Discriminator>(fields: &[(usize, Pubkey)]) -> Vec<(usize, Vec<u8>)> {
    let mut filters = vec![(0, T::DISCRIMINATOR.to_vec())];
    filters.extend(
        fields
            .iter()
            .map(|(offset, key)| (*offset, key.to_bytes().to_vec())),
    );
    filters
}

/// The getProgramAccounts request for the accounts `filters` pick (memcmp, so a node sends only
/// matches), in base64 at `commitment`: what the ledger and a co-signing service ask.
pub fn program_accounts_config(
    filters: Vec<(usize, Vec<u8>)>,
    commitment: CommitmentConfig,
) -> RpcProgramAccountsConfig {
    RpcProgramAccountsConfig {
        filters: Some(
            filters
                .into_iter()
                .map(|(offset, bytes)| RpcFilterType::Memcmp(Memcmp::new_raw_bytes(offset, bytes)))
                .collect(),
        ),
        account_config: RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(commitment),
            ..RpcAccountInfoConfig::default()
        },
        ..RpcProgramAccountsConfig::default()
    }
}

/// A transaction that may or may not have reached the ledger: the RPC could not be reached,
/// or did not confirm it in time. Whoever sent it reads the ledger before sending it again.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unconfirmed(pub String);

/// Why a transaction was not confirmed.
enum SendFailure {
    /// The ledger refused it (preflight or execution).
    Refused(String),
    /// No answer from the ledger.
    Unconfirmed(String),
}

impl SendFailure {
    fn of(error: solana_rpc_client_api::client_error::Error) -> Self {
        use solana_rpc_client_api::client_error::ErrorKind;
        match error.kind() {
            ErrorKind::Io(_) | ErrorKind::Reqwest(_) => Self::Unconfirmed(error.to_string()),
            _ => Self::Refused(error.to_string()),
        }
    }
}

/// The program refused a transaction with one of its errors (or Anchor's on its behalf):
/// the error, typed, for callers that act on which one it was.
#[derive(Debug, thiserror::Error)]
#[error("the program refused: {} ({}, error {})", .0.message, .0.name, .0.code)]
pub struct ProgramRefused(pub tessera_client::errors::ProgramError);

/// What can make a refused transaction succeed later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Remedy {
    /// Build it again: it named an epoch that has passed (`WrongEpoch`), or left out an epoch
    /// it took a work record as open in (`WorkAccountsMissing`).
    Rebuild,
    /// Wait: the authority paused what it does (`SettlementsPaused`, `ClaimsPaused`,
    /// `NewJobsPaused`).
    Wait,
    /// Sign the receipt again: it expired, or names a replaced attestor set
    /// (`ReceiptExpired`, `StaleAttestorSet`).
    SignAgain,
    /// Nothing that can change by itself: the job or the receipt is wrong for the program.
    None,
}

impl Remedy {
    /// What can make a transaction the program refused with the error named `error` (its
    /// name in the IDL) succeed later.
    pub fn of(error: &str) -> Self {
        match error {
            // The work record the settlement took as open was not there after all (a stale
            // read): built again, the settlement names the epoch too.
            "WrongEpoch" | "WorkAccountsMissing" => Self::Rebuild,
            "SettlementsPaused" | "ClaimsPaused" | "NewJobsPaused" => Self::Wait,
            "ReceiptExpired" | "StaleAttestorSet" => Self::SignAgain,
            _ => Self::None,
        }
    }
}

impl ProgramRefused {
    /// What can make the same work succeed later.
    pub fn remedy(&self) -> Remedy {
        Remedy::of(&self.0.name)
    }
}

/// Turns an RPC error into the program's own error ([`ProgramRefused`]) when it carries a
/// program error number, or into a message that says what to do.
fn explain(error: &str) -> anyhow::Error {
    if error.contains("found no record of a prior credit") || error.contains("AccountNotFound") {
        return anyhow!(
            "the fee payer (--keypair) has no SOL on this ledger: fund it first ({error})"
        );
    }
    if let Some(position) = error.find("custom program error: 0x") {
        let hex: String = error[position + 24..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        if let Some(known) = u32::from_str_radix(&hex, 16)
            .ok()
            .and_then(tessera_client::errors::lookup)
        {
            return ProgramRefused(known).into();
        }
    }
    anyhow!("{error}")
}

pub fn read_keypair(path: &Path) -> Result<Keypair> {
    solana_keypair::read_keypair_file(path).map_err(|error| {
        anyhow!(
            "cannot read the keypair file {}: {error}; create one with `solana-keygen new -o {}`",
            path.display(),
            path.display()
        )
    })
}

/// The data folder's own keypair, created on first use. Two processes may get here at once
/// (both through a localnet): the keypair is written aside and linked into place, so the first
/// link wins and both read the same key.
fn data_dir_payer(data_dir: &Path) -> Result<Keypair> {
    let path = data_dir.join("payer.json");
    if path.exists() {
        return read_keypair(&path);
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data folder {}", data_dir.display()))?;
    let aside = data_dir.join(format!("payer.json.{}", std::process::id()));
    solana_keypair::write_keypair_file(&Keypair::new(), &aside)
        .map_err(|error| anyhow!("cannot write {}: {error}", aside.display()))?;
    let linked = std::fs::hard_link(&aside, &path);
    let _ = std::fs::remove_file(&aside);
    match linked {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => {
            return Err(error).with_context(|| format!("cannot write {}", path.display()))
        }
    }
    read_keypair(&path)
}

/// The Solana CLI's keypair: `keypair_path` of `~/.config/solana/cli/config.yml`, else `~/.config/solana/id.json`.
pub fn default_keypair_path() -> Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("HOME is not set: pass --keypair"))?;
    let config = home.join(".config/solana/cli/config.yml");
    if let Ok(text) = std::fs::read_to_string(&config) {
        if let Some(line) = text
            .lines()
            .find(|line| line.trim_start().starts_with("keypair_path:"))
        {
            let value = line
                .split_once(':')
                .map(|(_, value)| value.trim().trim_matches('"').trim_matches('\''))
                .unwrap_or_default();
            if !value.is_empty() {
                return Ok(PathBuf::from(value));
            }
        }
    }
    Ok(home.join(".config/solana/id.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The program error named `name`, as an RPC error would carry it.
    fn refused(name: &str) -> ProgramRefused {
        let code = (6000..7000)
            .find(|code| {
                tessera_client::errors::lookup(*code).is_some_and(|error| error.name == name)
            })
            .unwrap_or_else(|| panic!("no program error named {name}"));
        let error = explain(&format!(
            "Error processing Instruction 1: custom program error: 0x{code:x}"
        ));
        match error.downcast::<ProgramRefused>() {
            Ok(refused) => refused,
            Err(other) => panic!("{name} was not typed: {other}"),
        }
    }

    #[test]
    fn a_refusal_is_typed_with_its_code_and_says_what_can_make_it_pass() {
        let wrong_epoch = refused("WrongEpoch");
        assert_eq!(wrong_epoch.0.code, 6067);
        assert!(wrong_epoch.to_string().starts_with("the program refused: "));
        assert_eq!(wrong_epoch.remedy(), Remedy::Rebuild);
        assert_eq!(refused("WorkAccountsMissing").remedy(), Remedy::Rebuild);
        for name in ["SettlementsPaused", "ClaimsPaused", "NewJobsPaused"] {
            assert_eq!(refused(name).remedy(), Remedy::Wait, "{name}");
        }
        for name in ["ReceiptExpired", "StaleAttestorSet"] {
            assert_eq!(refused(name).remedy(), Remedy::SignAgain, "{name}");
        }
        for name in [
            "JobNotSettleable",
            "UnitsExceedMax",
            "ReceiptNotNewer",
            "MissingCosignature",
        ] {
            assert_eq!(refused(name).remedy(), Remedy::None, "{name}");
        }
        // Anything else stays an error with its own words.
        let other = explain("connection reset");
        assert!(other.downcast_ref::<ProgramRefused>().is_none());
        assert_eq!(other.to_string(), "connection reset");
    }
}
