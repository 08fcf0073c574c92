//! Reads the rules' [`Books`] from a ledger: every network, then each network's accounts by the
//! key they hold (one filtered `getProgramAccounts` per account type and network, so that no
//! answer holds more than one network's share), then the vaults and mints they point at, a
//! page of 100 addresses per request.

use anchor_lang::prelude::Pubkey;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use tessera::state::{Dispute, Epoch, Job, Network, Provider, WorkRecord};
use tessera_client::filters;
use tessera_client::rules::Books;
use tessera_ledger::tokens::{self, Mint};
use tessera_ledger::Ledger;

/// Every Tessera account on the ledger, with the balances and supplies the rules compare them
/// with, and the mints' decimals for showing amounts.
pub struct Ledgered {
    pub books: Books,
    /// Every mint the accounts name (reward and payment mints), by address.
    pub mints: BTreeMap<Pubkey, Mint>,
}

/// Reads everything the audit looks at.
pub fn read(ledger: &Ledger) -> Result<Ledgered> {
    let mut books = Books {
        now: ledger.now()?,
        ..Books::default()
    };
    books.networks = ledger.all::<Network>()?.into_iter().collect();
    for network in books.networks.keys() {
        let network = *network;
        books
            .providers
            .extend(ledger.all_where::<Provider>(&filters::providers_of(network))?);
        books
            .jobs
            .extend(ledger.all_where::<Job>(&filters::jobs_of(network))?);
        books
            .epochs
            .extend(ledger.all_where::<Epoch>(&filters::epochs_of(network))?);
        books
            .work_records
            .extend(ledger.all_where::<WorkRecord>(&filters::work_records_on(network))?);
    }
    // Disputes name no network; there are few, and those of jobs on no network read are dropped.
    books.disputes = ledger
        .all::<Dispute>()?
        .into_iter()
        .filter(|(_, dispute)| books.jobs.contains_key(&dispute.job))
        .collect();

    let vaults = books.vaults();
    for (vault, account) in vaults.iter().zip(ledger.accounts(&vaults)?) {
        if let Some(account) = account {
            let balance = tokens::amount(&account.data)
                .with_context(|| format!("{vault} is not a token account"))?;
            books.balances.insert(*vault, balance);
        }
    }

    let mut wanted: Vec<Pubkey> = books
        .networks
        .values()
        .map(|network| network.reward_mint)
        .chain(books.jobs.values().map(|job| job.payment_mint))
        .collect();
    wanted.sort();
    wanted.dedup();
    let mut mints = BTreeMap::new();
    for (address, account) in wanted.iter().zip(ledger.accounts(&wanted)?) {
        let Some(account) = account else { continue };
        let (mint, state) = Mint::unpack(address, &account.owner, &account.data)?;
        books.supplies.insert(*address, state.supply);
        mints.insert(*address, mint);
    }
    Ok(Ledgered { books, mints })
}
