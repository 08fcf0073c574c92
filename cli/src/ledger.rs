//! A connection to a ledger: the RPC client, the signer that pays, and, for the embedded
//! ledger, the running surfpool and the lock on its data folder.

use crate::embedded::EmbeddedLedger;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{AccountDeserialize, Discriminator};
use anyhow::{anyhow, bail, Context, Result};
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_signer::Signer;
use solana_transaction::Transaction;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    pub rpc: RpcClient,
    /// Pays fees and rent; signs as authority, owner or client where a command needs it.
    pub payer: Keypair,
    embedded: Option<EmbeddedLedger>,
    _lock: Option<File>,
}

impl Ledger {
    /// Opens `target`. For the embedded ledger this takes the data folder's lock (one command
    /// at a time), starts surfpool and, when no keypair is given, uses (and if need be creates)
    /// the data folder's own `payer.json`, funded by airdrop.
    pub fn open(
        target: &Target,
        keypair: Option<&Path>,
        commitment: CommitmentConfig,
    ) -> Result<Self> {
        match target {
            Target::Embedded(data_dir) => {
                // Read a named keypair before touching the data folder: a bad path changes nothing.
                let named = keypair.map(read_keypair).transpose()?;
                std::fs::create_dir_all(data_dir).with_context(|| {
                    format!("cannot create the data folder {}", data_dir.display())
                })?;
                let lock = File::create(data_dir.join("lock"))
                    .context("cannot create the data folder's lock file")?;
                lock.lock().context("cannot lock the data folder")?;
                let payer = match named {
                    Some(keypair) => keypair,
                    None => data_dir_payer(data_dir)?,
                };
                let embedded = EmbeddedLedger::start(data_dir, None)?;
                let rpc = RpcClient::new_with_commitment(embedded.rpc_url.clone(), commitment);
                let ledger = Self {
                    rpc,
                    payer,
                    embedded: Some(embedded),
                    _lock: Some(lock),
                };
                ledger.ensure_sol(10_000_000_000)?;
                Ok(ledger)
            }
            Target::Rpc(url) => {
                let path = match keypair {
                    Some(path) => path.to_path_buf(),
                    None => default_keypair_path()?,
                };
                let payer = read_keypair(&path)?;
                let rpc = RpcClient::new_with_commitment(url.clone(), commitment);
                let program = tessera_client::program_id();
                let deployed = rpc
                    .get_account_with_commitment(&program, commitment)
                    .map_err(|error| {
                        anyhow!(
                            "cannot reach the ledger at {url}: {error}; check --url, or start a \
                             local one with `tessera localnet`"
                        )
                    })?
                    .value
                    .is_some_and(|account| account.executable);
                if !deployed {
                    bail!(
                        "the Tessera program is not deployed at {program} on {url}: deploy it \
                         (`anchor deploy`), or pass the --program-id of the deployment"
                    );
                }
                Ok(Self {
                    rpc,
                    payer,
                    embedded: None,
                    _lock: None,
                })
            }
        }
    }

    /// The RPC endpoint in use.
    pub fn url(&self) -> String {
        self.rpc.url()
    }

    /// Saves the embedded ledger's clock to its data folder (after a warp), so that even a crash
    /// never moves time back.
    pub fn save_clock(&self) -> Result<()> {
        match &self.embedded {
            Some(embedded) => embedded.save_clock(),
            None => Ok(()),
        }
    }

    /// Stops the embedded ledger, if any, flushing it to disk.
    pub fn close(mut self) -> Result<()> {
        match self.embedded.take() {
            Some(embedded) => embedded.stop(),
            None => Ok(()),
        }
    }

    /// Tops the payer up to `lamports` by airdrop when it has less (embedded ledger only).
    pub fn ensure_sol(&self, lamports: u64) -> Result<()> {
        let balance = self
            .rpc
            .get_balance(&self.payer.pubkey())
            .context("cannot read the payer's balance")?;
        if balance >= lamports / 2 {
            return Ok(());
        }
        self.airdrop(&self.payer.pubkey(), lamports - balance)
    }

    /// Requests an airdrop and waits for it.
    pub fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<()> {
        let signature = self
            .rpc
            .request_airdrop(to, lamports)
            .context("the airdrop was refused")?;
        for _ in 0..200 {
            if self.rpc.confirm_transaction(&signature).unwrap_or(false) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("the airdrop to {to} was not confirmed")
    }

    /// Signs `instructions` with the payer and `signers`, sends, and waits for confirmation;
    /// retries with a fresh blockhash when the first one expired.
    pub fn send(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<String> {
        let mut all: Vec<&Keypair> = vec![&self.payer];
        all.extend_from_slice(signers);
        let mut last_error = None;
        for _ in 0..3 {
            let blockhash = self
                .rpc
                .get_latest_blockhash()
                .context("cannot fetch a recent blockhash")?;
            let transaction = Transaction::new_signed_with_payer(
                instructions,
                Some(&self.payer.pubkey()),
                &all,
                blockhash,
            );
            match self.rpc.send_and_confirm_transaction(&transaction) {
                Ok(signature) => return Ok(signature.to_string()),
                Err(error) if error.to_string().contains("Blockhash not found") => {
                    last_error = Some(error)
                }
                Err(error) => return Err(anyhow!(explain(&error.to_string()))),
            }
        }
        Err(anyhow!(
            "the transaction kept expiring: {}",
            last_error.map(|e| e.to_string()).unwrap_or_default()
        ))
    }

    /// Reads and decodes a Tessera account; `None` when it does not exist.
    pub fn fetch<T: AccountDeserialize + Discriminator>(
        &self,
        address: &Pubkey,
    ) -> Result<Option<T>> {
        let account = self
            .rpc
            .get_account_with_commitment(address, self.rpc.commitment())
            .context("cannot read an account")?
            .value;
        match account {
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
    /// the node filters (getProgramAccounts memcmp), so only matches cross the wire.
    pub fn all_where<T: AccountDeserialize + Discriminator>(
        &self,
        fields: &[(usize, Pubkey)],
    ) -> Result<Vec<(Pubkey, T)>> {
        let mut filters = vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
            0,
            T::DISCRIMINATOR.to_vec(),
        ))];
        filters.extend(fields.iter().map(|(offset, key)| {
            RpcFilterType::Memcmp(Memcmp::new_raw_bytes(*offset, key.to_bytes().to_vec()))
        }));
        let config = RpcProgramAccountsConfig {
            filters: Some(filters),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(self.rpc.commitment()),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let accounts = self
            .rpc
            .get_program_ui_accounts_with_config(&tessera_client::program_id(), config)
            .context("cannot list the program's accounts")?;
        Ok(accounts
            .into_iter()
            .filter_map(|(address, account)| {
                let data = account.data.decode()?;
                T::try_deserialize(&mut data.as_slice())
                    .ok()
                    .map(|state| (address, state))
            })
            .collect())
    }

    /// Whether an account exists at `address`.
    pub fn exists(&self, address: &Pubkey) -> Result<bool> {
        Ok(self
            .rpc
            .get_account_with_commitment(address, self.rpc.commitment())
            .context("cannot read an account")?
            .value
            .is_some())
    }

    /// The ledger's clock as the program sees it: unix seconds of the last block.
    pub fn now(&self) -> Result<i64> {
        let clock = self
            .rpc
            .get_account_with_commitment(&solana_sdk_ids::sysvar::clock::ID, self.rpc.commitment())
            .context("cannot read the clock")?
            .value
            .context("the ledger has no clock sysvar")?;
        clock
            .data
            .get(32..40)
            .and_then(|bytes| bytes.try_into().ok())
            .map(i64::from_le_bytes)
            .context("the clock sysvar is malformed")
    }

    /// A mint, its token program and its decimals.
    pub fn mint(&self, mint: &Pubkey) -> Result<crate::tokens::Mint> {
        let account = self
            .rpc
            .get_account_with_commitment(mint, self.rpc.commitment())
            .context("cannot read the mint")?
            .value
            .with_context(|| format!("no mint at {mint}: check the address"))?;
        crate::tokens::Mint::parse(mint, &account.owner, &account.data)
    }

    /// The balance of a token account, in base units; 0 when it does not exist.
    pub fn token_balance(&self, address: &Pubkey) -> Result<u64> {
        match self
            .rpc
            .get_account_with_commitment(address, self.rpc.commitment())?
            .value
        {
            None => Ok(0),
            Some(account) => crate::tokens::amount(&account.data),
        }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        if let Some(embedded) = self.embedded.take() {
            let _ = embedded.stop();
        }
    }
}

/// Turns a program error number in an RPC error into the program's own message.
fn explain(error: &str) -> String {
    if error.contains("found no record of a prior credit") || error.contains("AccountNotFound") {
        return format!(
            "the fee payer (--keypair) has no SOL on this ledger: fund it first ({error})"
        );
    }
    if let Some(position) = error.find("custom program error: 0x") {
        let hex: String = error[position + 24..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        if let Ok(code) = u32::from_str_radix(&hex, 16) {
            if let Some(known) = crate::errors::lookup(code) {
                return format!(
                    "the program refused: {} ({}, error {code})",
                    known.message, known.name
                );
            }
        }
    }
    error.to_string()
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

fn data_dir_payer(data_dir: &Path) -> Result<Keypair> {
    let path = data_dir.join("payer.json");
    if path.exists() {
        return read_keypair(&path);
    }
    let keypair = Keypair::new();
    solana_keypair::write_keypair_file(&keypair, &path)
        .map_err(|error| anyhow!("cannot write {}: {error}", path.display()))?;
    Ok(keypair)
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
