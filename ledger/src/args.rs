//! The flags every Tessera command and service shares, with their environment variables: where
//! the ledger is (`--url`, `--data-dir`), who pays and signs (`--keypair`), the network
//! (`--network`), the commitment and the program's deployment (`--program-id`).

use crate::connection::{default_keypair_path, read_keypair, Ledger, Target};
use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, bail, Result};
use clap::{Args, ValueEnum};
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use std::path::PathBuf;
use tessera::state::{ProviderClass, UnitKind};

/// Where the ledger is, who signs, and which network.
#[derive(Args, Clone, Debug)]
pub struct Connection {
    /// Ledger: `embedded` (default: surfpool in this process, state in --data-dir), a moniker
    /// (devnet, mainnet-beta, testnet, localnet) or a JSON-RPC URL.
    #[arg(long, short = 'u', global = true, env = "TESSERA_URL")]
    pub url: Option<String>,
    /// Keypair that pays and signs. Default: the embedded ledger's own, else the Solana CLI's
    /// (`keypair_path` of ~/.config/solana/cli/config.yml, else ~/.config/solana/id.json).
    #[arg(long, short = 'k', global = true, env = "TESSERA_KEYPAIR")]
    pub keypair: Option<PathBuf>,
    /// Folder of the embedded ledger's state.
    #[arg(
        long,
        global = true,
        env = "TESSERA_DATA_DIR",
        default_value = ".tessera"
    )]
    pub data_dir: PathBuf,
    /// The Tessera network (its numeric id) the command is about.
    #[arg(long, global = true, env = "TESSERA_NETWORK", default_value_t = 1)]
    pub network: u64,
    /// Commitment of reads and confirmations.
    #[arg(long, global = true, value_enum, default_value_t = Commitment::Confirmed)]
    pub commitment: Commitment,
    /// Address of the Tessera program (a deployment built with that id); default: this
    /// build's id.
    #[arg(long, global = true, env = "TESSERA_PROGRAM_ID")]
    pub program_id: Option<Pubkey>,
}

/// Commitment levels as typed on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Commitment {
    Processed,
    Confirmed,
    Finalized,
}

impl From<Commitment> for CommitmentConfig {
    fn from(commitment: Commitment) -> Self {
        match commitment {
            Commitment::Processed => CommitmentConfig::processed(),
            Commitment::Confirmed => CommitmentConfig::confirmed(),
            Commitment::Finalized => CommitmentConfig::finalized(),
        }
    }
}

impl Connection {
    /// The ledger `--url` names, and points the client library at `--program-id` (the
    /// embedded ledger runs this build's program only).
    pub fn target(&self) -> Result<Target> {
        let target = Target::parse(self.url.as_deref(), &self.data_dir)?;
        if let Some(id) = self.program_id {
            if matches!(target, Target::Embedded(_)) && id != tessera_client::PROGRAM_ID {
                bail!(
                    "the embedded ledger runs this build's program at {}: drop --program-id or \
                     use --url",
                    tessera_client::PROGRAM_ID
                );
            }
            tessera_client::use_program_id(id)
                .map_err(|chosen| anyhow!("program id already set to {chosen}"))?;
        }
        Ok(target)
    }

    /// Opens `target` (from [`Connection::target`]) with `--keypair` and `--commitment`.
    pub fn open(&self, target: &Target) -> Result<Ledger> {
        Ledger::open(target, self.keypair.as_deref(), self.commitment.into())
    }

    /// `--keypair`, else the Solana CLI's, for what signs without a ledger.
    pub fn signer_keypair(&self) -> Result<Keypair> {
        let path = match &self.keypair {
            Some(path) => path.clone(),
            None => default_keypair_path()?,
        };
        read_keypair(&path)
    }

    /// The address of network `--network`.
    pub fn network_address(&self) -> Pubkey {
        tessera_client::pda::network(self.network)
    }
}

/// Provider classes as typed on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClassArg {
    Training,
    Inference,
    Edge,
    Bandwidth,
}

impl From<ClassArg> for ProviderClass {
    fn from(class: ClassArg) -> Self {
        match class {
            ClassArg::Training => ProviderClass::Training,
            ClassArg::Inference => ProviderClass::Inference,
            ClassArg::Edge => ProviderClass::Edge,
            ClassArg::Bandwidth => ProviderClass::Bandwidth,
        }
    }
}

/// Units as typed on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum UnitArg {
    GpuSeconds,
    CpuSeconds,
    Bytes,
}

impl From<UnitArg> for UnitKind {
    fn from(unit: UnitArg) -> Self {
        match unit {
            UnitArg::GpuSeconds => UnitKind::GpuSeconds,
            UnitArg::CpuSeconds => UnitKind::CpuSeconds,
            UnitArg::Bytes => UnitKind::Bytes,
        }
    }
}

/// How to print results: text for people, JSON for machines (`--output`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}
