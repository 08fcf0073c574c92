//! A session: an open ledger, the network a command or service is about, and who signs; and
//! the refusals a caller sees coming before it sends (a paused network, an expired receipt),
//! typed like the program's own.

use crate::connection::{Ledger, Remedy};
use crate::tokens::Mint;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anyhow::{bail, Context, Result};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera::state::{Job, Network, PauseFlags, Provider};
use tessera_client::pda;

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
/// as the program's own refusal ([`Remedy::of`]): the worker waits out a pause
/// and signs an expired receipt again.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Foreseen {
    pub error: &'static str,
    pub message: String,
}

impl Foreseen {
    /// What can make the same work succeed later.
    pub fn remedy(&self) -> Remedy {
        Remedy::of(self.error)
    }
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
    fn named(name: &str) -> Option<tessera_client::errors::ProgramError> {
        (6000..7000)
            .filter_map(tessera_client::errors::lookup)
            .find(|error| error.name == name)
    }

    #[test]
    fn a_foreseen_refusal_names_the_programs_error_and_its_remedy() {
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
    fn a_moment_is_said_as_how_long_until_it_or_now() {
        assert_eq!(when(10, 4), "in 6 s (at 10)");
        assert_eq!(when(10, 10), "now");
    }
}
