//! Reading the embedded ledger's state without starting it.
//!
//! Surfpool writes every account it changes to its sqlite store as it goes; its index of
//! accounts by owner (the one its `getProgramAccounts` reads) reaches the store when the ledger
//! stops ([`super::index`]). A command that only reads, with the data folder locked so that
//! nothing else writes, answers from those two tables through surfpool's own storage types: no
//! SVM to build, no programs to compile, no server to start. What the store does not hold (programs, sysvars, the native mint: surfpool
//! keeps them in memory) is reported missing; callers then ask the started ledger.

use super::ledger::{ledger_clock_millis, read_clock, DATABASE_FILE, SURFNET_ID};
use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, Result};
use solana_account::{Account, AccountSharedData};
use std::path::Path;
use std::str::FromStr;
use surfpool_core::storage::{Storage, StorageBackend};

/// The accounts of a stopped embedded ledger.
pub struct Store {
    accounts: Box<dyn Storage<String, AccountSharedData>>,
    accounts_by_owner: Box<dyn Storage<String, Vec<String>>>,
    backend: StorageBackend,
    /// The clock the ledger saved when it last stopped (milliseconds), if any.
    saved_clock: Option<u64>,
}

impl Store {
    /// Opens the store of the ledger in `data_dir`; `None` when the folder has none yet, or
    /// when its ledger stopped without saving its account index (killed): the ledger then
    /// answers, and rebuilds the index as it starts.
    pub fn open(data_dir: &Path) -> Result<Option<Self>> {
        let database = data_dir.join(DATABASE_FILE);
        if !database.exists() || !super::index::saved(data_dir) {
            return Ok(None);
        }
        let url = database
            .to_str()
            .ok_or_else(|| anyhow!("the data folder path {} is not UTF-8", data_dir.display()))?;
        let unreadable =
            |error| anyhow!("cannot read the ledger in {}: {error}", data_dir.display());
        let backend = StorageBackend::open(&Some(url), SURFNET_ID).map_err(unreadable)?;
        let accounts = backend.open_store("accounts").map_err(unreadable)?;
        let accounts_by_owner = backend
            .open_store("accounts_by_owner")
            .map_err(unreadable)?;
        Ok(Some(Self {
            accounts,
            accounts_by_owner,
            backend,
            saved_clock: read_clock(data_dir),
        }))
    }

    /// The account at `address`, when the store holds it.
    pub fn account(&self, address: &Pubkey) -> Result<Option<Account>> {
        let stored = self
            .accounts
            .get(&address.to_string())
            .map_err(|error| anyhow!("cannot read account {address} from the ledger: {error}"))?;
        Ok(stored
            .map(Account::from)
            .filter(|account| account.lamports > 0))
    }

    /// Every live account owned by `owner`.
    pub fn owned_by(&self, owner: &Pubkey) -> Result<Vec<(Pubkey, Account)>> {
        let addresses = self
            .accounts_by_owner
            .get(&owner.to_string())
            .map_err(|error| anyhow!("cannot read the ledger's account index: {error}"))?
            .unwrap_or_default();
        let mut owned = Vec::with_capacity(addresses.len());
        for address in addresses {
            let Ok(address) = Pubkey::from_str(&address) else {
                continue;
            };
            if let Some(account) = self.account(&address)? {
                if account.owner == *owner {
                    owned.push((address, account));
                }
            }
        }
        Ok(owned)
    }

    /// Unix seconds on the ledger's clock, as the program would read them if the ledger
    /// started now: what `EmbeddedLedger::start` sets, from the wall clock at this call (a
    /// long-running command's reads follow time), or the saved clock when a warp moved it
    /// later.
    pub fn unix_timestamp(&self) -> i64 {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as u64)
            .unwrap_or_default();
        (ledger_clock_millis(wall, self.saved_clock) / 1_000) as i64
    }
}

impl Drop for Store {
    /// Closes the store the way the ledger does on stop: sqlite's side files folded back in.
    fn drop(&mut self) {
        self.backend.shutdown();
    }
}
