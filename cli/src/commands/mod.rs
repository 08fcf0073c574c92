//! The `tessera` subcommands, one file per group. Each group parses its own flags (clap) and
//! runs against a [`Session`]: an open ledger, the chosen network and the signer.
//!
//! Every subcommand is one function, `fn create(session, args) -> Result<JobReport>`, that
//! returns one view: a struct that is both the command's JSON (`Serialize`) and its text
//! (`Display`), see [`crate::view`]. A group's `run` only matches the subcommand to its
//! function. The quickstart calls the same functions, so each flow has one code path.
//!
//! A command checks what it can before it sends anything (the account exists, the network is
//! not paused, the balance covers the amount), so bad input is refused with a message that
//! says what to fix, and it sends each change as one transaction, so a refusal by the program
//! leaves the ledger as it was.

pub mod attest;
pub mod claim;
pub mod emissions;
pub mod history;
pub mod inspect;
pub mod job;
pub mod key;
pub mod ledger;
pub mod migrate;
pub mod network;
pub mod provider;
pub mod receipt;
pub mod token;
pub mod worker;

use crate::ledger::Ledger;
use crate::tokens::Mint;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera::state::{Job, Network, PauseFlags, Provider, ProviderClass, UnitKind};
use tessera_client::pda;
use tessera_client::receipt::unit_kind_name;

pub use crate::view::Outcome;

/// An open ledger, the network the command is about, and who signs.
#[derive(Clone, Copy)]
pub struct Session<'a> {
    pub ledger: &'a Ledger,
    pub network_id: u64,
    /// Signs as authority, owner, client or worker; the ledger's payer pays the fees.
    keypair: &'a Keypair,
}

impl<'a> Session<'a> {
    /// A session on network `network_id` whose signer is the ledger's payer (`--keypair`).
    pub fn new(ledger: &'a Ledger, network_id: u64) -> Self {
        Self {
            ledger,
            network_id,
            keypair: &ledger.payer,
        }
    }

    /// This session signed by `keypair` instead: the quickstart acts as each of its owners,
    /// clients and workers, while the ledger's payer still pays the fees.
    pub fn signed_by(self, keypair: &'a Keypair) -> Self {
        Self { keypair, ..self }
    }

    /// This session on network `network_id`.
    pub fn on_network(self, network_id: u64) -> Self {
        Self { network_id, ..self }
    }

    /// The signer's keypair.
    pub fn keypair(&self) -> &'a Keypair {
        self.keypair
    }

    /// Sends `instructions` in one transaction signed by the signer and `others`; the ledger's
    /// payer pays.
    pub fn send_with(&self, instructions: &[Instruction], others: &[&Keypair]) -> Result<String> {
        let mut signers = others.to_vec();
        // The payer always signs; a second signature by the same key would not be asked for.
        if self.keypair.pubkey() != self.ledger.payer.pubkey() {
            signers.push(self.keypair);
        }
        self.ledger.send(instructions, &signers)
    }

    /// Sends `instructions` in one transaction signed by the signer.
    pub fn send(&self, instructions: &[Instruction]) -> Result<String> {
        self.send_with(instructions, &[])
    }

    /// The signer's public key (`--keypair`).
    pub fn signer(&self) -> Pubkey {
        self.keypair.pubkey()
    }

    /// The network's address and state.
    pub fn network(&self) -> Result<(Pubkey, Network)> {
        let address = pda::network(self.network_id);
        let state = self.ledger.fetch(&address)?.with_context(|| {
            format!(
                "there is no network {} on {}: create it with `tessera network init`, run \
                 `tessera quickstart`, or choose another with --network",
                self.network_id,
                self.ledger.url()
            )
        })?;
        Ok((address, state))
    }

    /// The network's reward mint.
    pub fn reward_mint(&self, network: &Network) -> Result<Mint> {
        self.ledger.mint(&network.reward_mint)
    }

    /// The provider account of `owner` on this network.
    pub fn provider_of(&self, network: &Pubkey, owner: &Pubkey) -> Result<(Pubkey, Provider)> {
        let address = pda::provider(network, owner);
        let state = self.ledger.fetch(&address)?.with_context(|| {
            format!(
                "{owner} has no provider on network {}: register one with `tessera provider \
                 register` (signed by the owner's --keypair)",
                self.network_id
            )
        })?;
        Ok((address, state))
    }

    /// A provider account by address.
    pub fn provider_at(&self, address: &Pubkey) -> Result<Provider> {
        self.ledger.fetch(address)?.with_context(|| {
            format!("no provider at {address}: list them with `tessera provider list`")
        })
    }

    /// A job by address.
    pub fn job(&self, address: &Pubkey) -> Result<Job> {
        self.ledger
            .fetch(address)?
            .with_context(|| format!("no job at {address}: list them with `tessera job list`"))
    }

    /// Refuses when `account` holds less than `needed` of `mint`.
    pub fn ensure_balance(
        &self,
        account: &Pubkey,
        mint: &Mint,
        needed: u64,
        what: &str,
    ) -> Result<()> {
        let have = self.ledger.token_balance(account)?;
        if have < needed {
            bail!(
                "insufficient funds: {what} needs {} but {account} holds {} of mint {}; fund \
                 it first",
                mint.format(needed),
                mint.format(have),
                mint.key.mint
            );
        }
        Ok(())
    }
}

/// What a pause can stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    /// New jobs, registrations and stake (`PauseFlags::new_jobs`).
    NewJobs,
    Settlements,
    Claims,
}

/// Refuses when the network pauses `activity`.
pub fn ensure_open(network: &Network, activity: Activity) -> Result<()> {
    if let Some((what, error)) = paused(network.pause, activity) {
        return Err(Foreseen {
            error,
            message: format!(
                "network {} is paused for {what}: wait for its authority ({}) to run `tessera \
                 network unpause`",
                network.network_id, network.authority
            ),
        }
        .into());
    }
    Ok(())
}

/// What `pause` stops of `activity`, in words, and the error the program would refuse it with.
fn paused(pause: PauseFlags, activity: Activity) -> Option<(&'static str, &'static str)> {
    let (paused, what, error) = match activity {
        Activity::NewJobs => (
            pause.new_jobs,
            "new jobs, registrations and stake",
            "NewJobsPaused",
        ),
        Activity::Settlements => (pause.settlements, "settlements", "SettlementsPaused"),
        Activity::Claims => (pause.claims, "claims", "ClaimsPaused"),
    };
    paused.then_some((what, error))
}

/// A refusal a command saw coming and did not send: the program would have refused the
/// transaction with the error named `error` (its name in the IDL). Whoever retries treats it
/// as the program's own refusal ([`crate::ledger::Remedy::of`]): the worker waits out a pause
/// and signs an expired receipt again.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Foreseen {
    pub error: &'static str,
    pub message: String,
}

impl Foreseen {
    /// What can make the same work succeed later.
    pub fn remedy(&self) -> crate::ledger::Remedy {
        crate::ledger::Remedy::of(self.error)
    }
}

/// A 32-byte hash typed as 64 hex digits (clap value parser).
pub fn parse_hash(text: &str) -> Result<[u8; 32], String> {
    hex::decode(text.trim_start_matches("0x"))
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| format!("{text:?} is not 32 bytes written as 64 hex digits"))
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

/// Every class, in the order of `NetworkParams::classes`.
pub const CLASSES: [ProviderClass; ProviderClass::COUNT] = [
    ProviderClass::Training,
    ProviderClass::Inference,
    ProviderClass::Edge,
    ProviderClass::Bandwidth,
];

const UNIT_KINDS: [UnitKind; 3] = [UnitKind::GpuSeconds, UnitKind::CpuSeconds, UnitKind::Bytes];

/// The unit a class counts when the command line does not say: GPU-seconds for Training and
/// Inference, CPU-seconds for Edge (which may count GPU-seconds too), bytes for Bandwidth.
pub fn default_unit(class: ProviderClass) -> UnitKind {
    match class {
        ProviderClass::Training | ProviderClass::Inference => UnitKind::GpuSeconds,
        ProviderClass::Edge => UnitKind::CpuSeconds,
        ProviderClass::Bandwidth => UnitKind::Bytes,
    }
}

/// Refuses a unit kind `class` does not measure (`ProviderClass::measures`), naming those it
/// does; `what` says where the kind came from.
pub fn ensure_measures(class: ProviderClass, kind: UnitKind, what: &str) -> Result<()> {
    if class.measures(kind) {
        return Ok(());
    }
    let fitting: Vec<&str> = UNIT_KINDS
        .into_iter()
        .filter(|candidate| class.measures(*candidate))
        .map(unit_kind_name)
        .collect();
    bail!(
        "{what} is {} but class {class:?} counts {}: a unit must be what the class sells",
        unit_kind_name(kind),
        fitting.join(" or ")
    )
}

/// `at` relative to `now`, for messages: "in 12 s (at 1767225612)", or "now" once reached.
pub fn when(at: i64, now: i64) -> String {
    if at <= now {
        "now".into()
    } else {
        format!("in {} s (at {at})", at - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The program error named `name` in the IDL, if there is one.
    fn named(name: &str) -> Option<crate::errors::ProgramError> {
        (6000..7000)
            .filter_map(crate::errors::lookup)
            .find(|error| error.name == name)
    }

    #[test]
    fn a_foreseen_refusal_names_the_programs_error_and_its_remedy() {
        use crate::ledger::Remedy;
        let all = PauseFlags {
            new_jobs: true,
            settlements: true,
            claims: true,
        };
        for activity in [Activity::NewJobs, Activity::Settlements, Activity::Claims] {
            assert_eq!(paused(PauseFlags::default(), activity), None);
            let (_, error) = paused(all, activity).unwrap();
            assert!(named(error).is_some(), "{error} is not in the IDL");
            let foreseen = Foreseen {
                error,
                message: String::new(),
            };
            assert_eq!(foreseen.remedy(), Remedy::Wait, "{error}");
        }
        // The one `receipt` foresees for an expired receipt.
        assert!(named("ReceiptExpired").is_some());
        let expired = Foreseen {
            error: "ReceiptExpired",
            message: String::new(),
        };
        assert_eq!(expired.remedy(), Remedy::SignAgain);
    }

    #[test]
    fn every_class_counts_its_default_unit_and_mismatches_name_the_fitting_ones() {
        for class in CLASSES {
            ensure_measures(class, default_unit(class), "the default").unwrap();
        }
        let error = ensure_measures(ProviderClass::Edge, UnitKind::Bytes, "--unit")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("--unit is bytes but class Edge counts gpu-seconds or cpu-seconds"),
            "{error}"
        );
        assert_eq!(when(10, 4), "in 6 s (at 10)");
        assert_eq!(when(10, 10), "now");
    }
}
