//! Surfpool's account indexes, held in memory while the ledger runs and written to its store
//! when it stops.
//!
//! Surfpool keeps four indexes (accounts by owner; token accounts by owner, by mint and by
//! delegate) as one list of addresses per key, each list one JSON row of its sqlite store. For
//! every account a transaction changes, it reads the list of the account's owner, removes the
//! account, writes the list back, reads it again, adds the account and writes it again. So a
//! transaction cost more with every account its program owned: a `tessera localnet` that had
//! created 2,000 jobs settled 53 receipts a second instead of 146 (perf: sqlite writes and
//! JSON). Here the lists live in memory for the life of the ledger: a change costs a copy of
//! the list, and the store gets each changed list once, when the ledger stops
//! ([`Indexes::save`]).
//!
//! From its start until it has stopped with every change saved, a ledger keeps the file
//! [`UNSAVED_FILE`] in its folder. One that was killed leaves it behind: the next start
//! rebuilds the four indexes from the accounts themselves (and deletes the store's lists that
//! no account backs), and until then a read without a ledger ([`super::Store`]) does not trust
//! the store's index.

use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, Context, Result};
use solana_account::ReadableAccount;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use surfpool_core::storage::{Storage, StorageResult};
use surfpool_core::surfnet::locker::is_supported_token_program;
use surfpool_core::surfnet::svm::SurfnetSvm;
use surfpool_core::types::TokenAccount;

/// The file that says the store's indexes may be behind its accounts.
pub const UNSAVED_FILE: &str = "indexes-unsaved";

/// Whether the indexes in `data_dir`'s store were saved when its ledger last stopped.
pub fn saved(data_dir: &Path) -> bool {
    !data_dir.join(UNSAVED_FILE).exists()
}

/// Which of the four indexes.
#[derive(Clone, Copy)]
enum Which {
    AccountsByOwner,
    TokenAccountsByOwner,
    TokenAccountsByMint,
    TokenAccountsByDelegate,
}

type Lists = HashMap<String, Vec<String>>;

/// One index: its lists, the keys changed since the last save, and its table in the store.
struct Index {
    lists: Lists,
    changed: HashSet<String>,
    table: Box<dyn Storage<String, Vec<String>>>,
}

impl Index {
    fn change(&mut self, key: &str) {
        if !self.changed.contains(key) {
            self.changed.insert(key.to_string());
        }
    }

    /// Replaces every list; the keys that were there and those that are now are changed.
    fn replace(&mut self, lists: Lists) {
        let keys: Vec<String> = self.lists.keys().chain(lists.keys()).cloned().collect();
        self.changed.extend(keys);
        self.lists = lists;
    }

    fn save(&mut self) -> StorageResult<()> {
        for key in self.changed.drain() {
            match self.lists.get(&key) {
                Some(list) => self.table.store(key, list.clone())?,
                None => {
                    self.table.take(&key)?;
                }
            }
        }
        Ok(())
    }
}

/// The four indexes and the file that marks them unsaved.
struct Shared {
    indexes: [Index; 4],
    unsaved_file: PathBuf,
}

/// The in-memory indexes of one running ledger. Dropping it saves nothing: call
/// [`Indexes::save`] before the ledger stops.
#[derive(Clone)]
pub struct Indexes(Arc<Mutex<Shared>>);

impl Indexes {
    /// Takes the four indexes of `svm` (opened on `data_dir`'s store) into memory, loaded from
    /// the store, or rebuilt from the accounts when the last run did not save them, and marks
    /// them unsaved until [`Indexes::finish`].
    pub fn install(svm: &mut SurfnetSvm, data_dir: &Path) -> Result<Self> {
        let unsaved_file = data_dir.join(UNSAVED_FILE);
        let rebuild = unsaved_file.exists();
        let unreadable = |error| anyhow!("cannot read the ledger's account index: {error}");
        let load = |table: Box<dyn Storage<String, Vec<String>>>| -> Result<Index> {
            if rebuild {
                // Every list the store holds is rewritten, or deleted if no account backs it.
                let changed = table.keys().map_err(unreadable)?.into_iter().collect();
                return Ok(Index {
                    lists: Lists::new(),
                    changed,
                    table,
                });
            }
            let lists = table.into_iter().map_err(unreadable)?.collect();
            Ok(Index {
                lists,
                changed: HashSet::new(),
                table,
            })
        };
        let mut indexes = [
            load(svm.accounts_by_owner.clone_box())?,
            load(svm.token_accounts_by_owner.clone_box())?,
            load(svm.token_accounts_by_mint.clone_box())?,
            load(svm.token_accounts_by_delegate.clone_box())?,
        ];
        if rebuild {
            let accounts = svm
                .inner
                .get_all_accounts()
                .map_err(|error| anyhow!("cannot read the ledger's accounts: {error}"))?;
            for (index, lists) in indexes.iter_mut().zip(rebuilt(&accounts)) {
                index.replace(lists);
            }
        }
        // Before surfpool writes anything: it writes an account to the store before it indexes
        // it, so a kill in between must find the mark already there.
        std::fs::File::create(&unsaved_file)
            .and_then(|file| file.sync_all())
            .with_context(|| format!("cannot write {}", unsaved_file.display()))?;
        let installed = Self(Arc::new(Mutex::new(Shared {
            indexes,
            unsaved_file,
        })));
        svm.accounts_by_owner = installed.handle(Which::AccountsByOwner);
        svm.token_accounts_by_owner = installed.handle(Which::TokenAccountsByOwner);
        svm.token_accounts_by_mint = installed.handle(Which::TokenAccountsByMint);
        svm.token_accounts_by_delegate = installed.handle(Which::TokenAccountsByDelegate);
        Ok(installed)
    }

    fn handle(&self, which: Which) -> Box<dyn Storage<String, Vec<String>>> {
        Box::new(Handle {
            shared: self.0.clone(),
            which,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panic while holding the lock leaves lists that are still whole: go on with them.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes every list changed since the last save to the store. Call it while the ledger
    /// can still write to its store (before surfpool's own shutdown closes it).
    pub fn save(&self) -> Result<()> {
        let mut shared = self.lock();
        for index in &mut shared.indexes {
            index
                .save()
                .map_err(|error| anyhow!("cannot save the ledger's account index: {error}"))?;
        }
        Ok(())
    }

    /// Once the ledger has stopped: removes the unsaved mark, unless something changed after
    /// the last [`Indexes::save`] (a transaction between it and the stop), which the next
    /// start then rebuilds.
    pub fn finish(&self) -> Result<()> {
        let shared = self.lock();
        if shared.indexes.iter().any(|index| !index.changed.is_empty()) {
            return Ok(());
        }
        std::fs::remove_file(&shared.unsaved_file)
            .or_else(|error| match error.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(error),
            })
            .with_context(|| format!("cannot remove {}", shared.unsaved_file.display()))
    }
}

/// The four indexes of `accounts`, as surfpool keeps them: every account under its owner, and
/// every token account under its owner, its mint and its delegate.
fn rebuilt(accounts: &[(Pubkey, impl ReadableAccount)]) -> [Lists; 4] {
    let mut lists: [Lists; 4] = Default::default();
    let mut add = |which: Which, key: Pubkey, address: &str| {
        lists[which as usize]
            .entry(key.to_string())
            .or_default()
            .push(address.to_string());
    };
    for (address, account) in accounts {
        if account.lamports() == 0 {
            continue;
        }
        let address = address.to_string();
        add(Which::AccountsByOwner, *account.owner(), &address);
        if !is_supported_token_program(account.owner()) {
            continue;
        }
        if let Ok(token) = TokenAccount::unpack(account.data()) {
            add(Which::TokenAccountsByOwner, token.owner(), &address);
            add(Which::TokenAccountsByMint, token.mint(), &address);
            if let Some(delegate) = Option::<Pubkey>::from(token.delegate()) {
                add(Which::TokenAccountsByDelegate, delegate, &address);
            }
        }
    }
    lists
}

/// One index as surfpool's storage: reads and writes go to the lists in memory.
struct Handle {
    shared: Arc<Mutex<Shared>>,
    which: Which,
}

impl Handle {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Storage<String, Vec<String>> for Handle {
    fn store(&mut self, key: String, value: Vec<String>) -> StorageResult<()> {
        let mut shared = self.lock();
        let index = &mut shared.indexes[self.which as usize];
        index.change(&key);
        index.lists.insert(key, value);
        Ok(())
    }

    fn clear(&mut self) -> StorageResult<()> {
        self.lock().indexes[self.which as usize].replace(Lists::new());
        Ok(())
    }

    fn get(&self, key: &String) -> StorageResult<Option<Vec<String>>> {
        Ok(self.lock().indexes[self.which as usize]
            .lists
            .get(key)
            .cloned())
    }

    fn take(&mut self, key: &String) -> StorageResult<Option<Vec<String>>> {
        let mut shared = self.lock();
        let index = &mut shared.indexes[self.which as usize];
        index.change(key);
        Ok(index.lists.remove(key))
    }

    fn keys(&self) -> StorageResult<Vec<String>> {
        Ok(self.lock().indexes[self.which as usize]
            .lists
            .keys()
            .cloned()
            .collect())
    }

    fn into_iter(&self) -> StorageResult<Box<dyn Iterator<Item = (String, Vec<String>)> + '_>> {
        let lists = self.lock().indexes[self.which as usize].lists.clone();
        Ok(Box::new(lists.into_iter()))
    }

    fn contains_key(&self, key: &String) -> StorageResult<bool> {
        Ok(self.lock().indexes[self.which as usize]
            .lists
            .contains_key(key))
    }

    fn count(&self) -> StorageResult<u64> {
        Ok(self.lock().indexes[self.which as usize].lists.len() as u64)
    }

    fn clone_box(&self) -> Box<dyn Storage<String, Vec<String>>> {
        Box::new(Handle {
            shared: self.shared.clone(),
            which: self.which,
        })
    }
}
