//! The worker's durable record of its jobs: what it has metered, the receipt it signed and has
//! not yet seen settled, and what the ledger confirmed. Every receipt is written here, in a
//! committed (fsynced) redb transaction, before it leaves the machine; after a crash the worker
//! resumes each job from this record and the ledger. Receipts are cumulative, so sending the
//! pending one again can never pay twice.

use redb::{
    ConcurrencyMode, Database, ReadOnlyDatabase, ReadableDatabase, ReadableTable, TableDefinition,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Job account address → its record, as JSON.
const JOBS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("jobs");

/// Where a job stands for this worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum JobState {
    /// Accepted and being worked on.
    Running,
    /// All work settled and the job completed on the ledger.
    Completed,
    /// Refused by the program or unrunnable; not tried again until `tessera worker retry`.
    SetAside {
        reason: String,
        /// Whether trying again can help without a change to the job (a check that failed
        /// for a while: a co-signing service down, the ledger's answer missing), as opposed
        /// to a refusal that stays true (the job cancelled, a spec this worker cannot run).
        #[serde(default)]
        retry_helps: bool,
    },
}

/// A receipt signed and stored, not yet seen settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The units it settles up to.
    pub cumulative_units: u64,
    /// When it stops being valid, ledger unix seconds.
    pub expires_at: i64,
    /// The signed receipt, in the receipt file format of `tessera-client`.
    pub receipt: Vec<u8>,
}

/// One job's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub state: JobState,
    /// The job's spec hash, which the work is derived from.
    pub spec_hash: [u8; 32],
    /// Rounds of the workload done and published.
    pub rounds_done: u32,
    /// Units metered so far: for the built-in workload the rounds' worth, the same on every
    /// machine; for a command its device-time; for a relay its bytes.
    pub units_metered: u64,
    /// Milliseconds the work took on this machine (CPU time of the built-in workload's
    /// rounds, or their wall time on a GPU-second job; a command's device-time), beside the
    /// units as information: it is not what the receipts state.
    #[serde(default)]
    pub measured_ms: u64,
    /// The result hash chained over the rounds done.
    pub result_hash: [u8; 32],
    /// The receipt in flight, if any.
    pub pending: Option<Pending>,
    /// Units the ledger has confirmed settled.
    pub units_settled: u64,
    /// Ledger time the last receipt was signed (or the job accepted), for `--settle-every`
    /// in seconds.
    #[serde(default)]
    pub last_receipt_at: i64,
    /// The device the built-in workload's last round ran on ("cpu", or "gpu: <adapter>").
    #[serde(default)]
    pub device: Option<String>,
}

impl JobRecord {
    /// A job just accepted, nothing done.
    pub fn new(spec_hash: [u8; 32]) -> Self {
        Self {
            state: JobState::Running,
            spec_hash,
            rounds_done: 0,
            units_metered: 0,
            measured_ms: 0,
            result_hash: [0; 32],
            pending: None,
            units_settled: 0,
            last_receipt_at: 0,
            device: None,
        }
    }
}

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the worker's store {path} cannot be opened: {source}; is another worker using it?")]
    Open {
        path: String,
        source: redb::DatabaseError,
    },
    #[error("the worker's store failed: {0}")]
    Storage(String),
    #[error("the worker's store holds a record it cannot read: {0}")]
    Corrupt(#[from] serde_json::Error),
}

fn storage(error: impl std::fmt::Display) -> StoreError {
    StoreError::Storage(error.to_string())
}

/// The store, one file.
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::builder()
            .set_concurrency_mode(ConcurrencyMode::SingleWriter)
            .create(path)
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        let store = Self { db };
        // Create the table up front, so that readers never meet a store without it.
        store.write(|_| Ok(()))?;
        Ok(store)
    }

    /// The record of `job`, if the worker has one.
    pub fn job(&self, job: &[u8; 32]) -> Result<Option<JobRecord>, StoreError> {
        let read = self.db.begin_read().map_err(storage)?;
        let table = read.open_table(JOBS).map_err(storage)?;
        let Some(value) = table.get(job).map_err(storage)? else {
            return Ok(None);
        };
        Ok(Some(serde_json::from_slice(value.value())?))
    }

    /// Every job's record, by job address.
    pub fn jobs(&self) -> Result<Vec<([u8; 32], JobRecord)>, StoreError> {
        all_jobs(&self.db)
    }

    /// Changes `job`'s record with `change` (which sees the record, if any) in one committed
    /// transaction: when `change` fails, nothing is written.
    pub fn update<E: From<StoreError>>(
        &self,
        job: &[u8; 32],
        change: impl FnOnce(Option<JobRecord>) -> Result<JobRecord, E>,
    ) -> Result<JobRecord, E> {
        let mut outcome = None;
        self.write(|table| {
            let current = match table.get(job).map_err(storage)? {
                Some(value) => Some(serde_json::from_slice(value.value())?),
                None => None,
            };
            match change(current) {
                Ok(record) => {
                    let bytes = serde_json::to_vec(&record)?;
                    table.insert(job, bytes.as_slice()).map_err(storage)?;
                    outcome = Some(Ok(record));
                }
                Err(error) => outcome = Some(Err(error)),
            }
            Ok(())
        })
        .map_err(E::from)?;
        outcome.expect("the change ran")
    }

    /// Runs `body` in a write transaction and commits it, unless the change it made failed.
    fn write(
        &self,
        body: impl FnOnce(&mut redb::Table<[u8; 32], &[u8]>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let transaction = self.db.begin_write().map_err(storage)?;
        {
            let mut table = transaction.open_table(JOBS).map_err(storage)?;
            body(&mut table)?;
        }
        transaction.commit().map_err(storage)
    }
}

/// Every job's record in the store at `path`: read beside a running worker, or, when the
/// last worker was killed and the store needs the repair only a writer may do, opened for
/// writing (which repairs it; committed records are never lost).
pub fn read_jobs(path: &Path) -> Result<Vec<([u8; 32], JobRecord)>, StoreError> {
    match StoreReader::open(path) {
        Ok(reader) => reader.jobs(),
        Err(StoreError::Open {
            source: redb::DatabaseError::RepairAborted,
            ..
        }) => Store::open(path)?.jobs(),
        Err(error) => Err(error),
    }
}

/// The store opened read-only beside the worker that writes it (`tessera worker status`).
pub struct StoreReader {
    db: ReadOnlyDatabase,
}

impl StoreReader {
    /// Opens the store at `path`, which a running worker may hold for writing.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::builder()
            .set_concurrency_mode(ConcurrencyMode::SingleWriter)
            .open_read_only(path)
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        Ok(Self { db })
    }

    /// Every job's record, by job address, as of the writer's last commit.
    pub fn jobs(&self) -> Result<Vec<([u8; 32], JobRecord)>, StoreError> {
        all_jobs(&self.db)
    }
}

fn all_jobs(db: &impl ReadableDatabase) -> Result<Vec<([u8; 32], JobRecord)>, StoreError> {
    let read = db.begin_read().map_err(storage)?;
    let table = read.open_table(JOBS).map_err(storage)?;
    let mut jobs = Vec::new();
    for entry in table.iter().map_err(storage)? {
        let (key, value) = entry.map_err(storage)?;
        jobs.push((key.value(), serde_json::from_slice(value.value())?));
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary(name: &str) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("tessera-worker-{name}-{}.redb", std::process::id()));
        let _ = std::fs::remove_file(&path);
        path
    }

    #[test]
    fn a_pending_receipt_survives_a_reopen() {
        let path = temporary("reopen");
        let job = [5; 32];
        {
            let store = Store::open(&path).unwrap();
            store
                .update::<StoreError>(&job, |record| {
                    let mut record = record.unwrap_or_else(|| JobRecord::new([1; 32]));
                    record.units_metered = 40;
                    record.pending = Some(Pending {
                        cumulative_units: 40,
                        expires_at: 99,
                        receipt: b"signed".to_vec(),
                    });
                    Ok(record)
                })
                .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let record = store.job(&job).unwrap().unwrap();
        assert_eq!(record.pending.unwrap().receipt, b"signed");
        assert_eq!(store.jobs().unwrap().len(), 1);
        assert!(store.job(&[6; 32]).unwrap().is_none());
        // A reader beside the open writer sees the same record.
        let reader = StoreReader::open(&path).unwrap();
        assert_eq!(reader.jobs().unwrap()[0].1.units_metered, 40);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_failed_change_writes_nothing() {
        let path = temporary("failed-change");
        let store = Store::open(&path).unwrap();
        let job = [7; 32];
        store
            .update::<StoreError>(&job, |_| Ok(JobRecord::new([2; 32])))
            .unwrap();
        let refused = store.update(&job, |record| {
            let mut record = record.unwrap();
            record.units_settled = 1_000;
            Err::<JobRecord, StoreError>(StoreError::Storage("refused".into()))
        });
        assert!(refused.is_err());
        assert_eq!(store.job(&job).unwrap().unwrap().units_settled, 0);
        let _ = std::fs::remove_file(&path);
    }
}
