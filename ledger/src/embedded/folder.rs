//! One data folder, one ledger. A process that opens the store holds the folder's lock for as
//! long as it does; a `tessera localnet` also publishes its RPC URL in the folder, and commands
//! that find the folder served go through that URL. Nothing ever writes the store beside the
//! ledger that holds it.

use super::ledger::SERVED_FILE;
use anyhow::{bail, Context, Result};
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often a waiting process looks at the folder again.
const POLL: Duration = Duration::from_millis(50);
/// How long a process waits quietly before saying what it waits for.
const QUIET_WAIT: Duration = Duration::from_millis(300);

/// What a command may do with a data folder.
pub enum Claim {
    /// This process holds the folder: it may open the store and start the ledger.
    Owned(Folder),
    /// A `tessera localnet` serves the folder at this JSON-RPC URL.
    Served(String),
}

/// A data folder this process holds.
pub struct Folder {
    /// The folder.
    pub path: PathBuf,
    lock: File,
    published: bool,
}

impl Folder {
    /// Claims `data_dir` (created if missing) for one command: waits while another command
    /// holds it, and hands back the URL when a `tessera localnet` serves it.
    pub fn claim(data_dir: &Path) -> Result<Claim> {
        Self::claim_unless_served(data_dir, |url| Ok(Claim::Served(url)))
    }

    /// Claims `data_dir` to serve it (`tessera localnet`): waits for a command that holds it,
    /// refuses when another localnet serves it.
    pub fn claim_to_serve(data_dir: &Path) -> Result<Self> {
        let claim = Self::claim_unless_served(data_dir, |url| {
            bail!(
                "{} is already served by a tessera localnet at {url}: stop that one first, or \
                 give this one another --data-dir",
                data_dir.display()
            )
        })?;
        match claim {
            Claim::Owned(folder) => Ok(folder),
            Claim::Served(_) => unreachable!("a served folder is refused above"),
        }
    }

    /// Takes the folder's lock, waiting while another command holds it; when a localnet
    /// holds it, returns what `served` makes of its URL instead.
    fn claim_unless_served(
        data_dir: &Path,
        served: impl Fn(String) -> Result<Claim>,
    ) -> Result<Claim> {
        let lock = open_lock(data_dir)?;
        let mut waiting = Waiting::new(data_dir);
        loop {
            match lock.try_lock() {
                Ok(()) => {
                    // A localnet that was killed leaves its URL behind; the lock says it is gone.
                    let _ = std::fs::remove_file(data_dir.join(SERVED_FILE));
                    return Ok(Claim::Owned(Self::held(data_dir, lock)));
                }
                Err(TryLockError::WouldBlock) => match served_url(data_dir) {
                    Some(url) => return served(url),
                    None => waiting.tick(),
                },
                Err(TryLockError::Error(error)) => {
                    return Err(error).context("cannot lock the data folder")
                }
            }
        }
    }

    fn held(data_dir: &Path, lock: File) -> Self {
        Self {
            path: data_dir.to_path_buf(),
            lock,
            published: false,
        }
    }

    /// Publishes the URL at which this process serves the folder.
    pub fn publish(&mut self, url: &str) -> Result<()> {
        let path = self.path.join(SERVED_FILE);
        let partial = path.with_extension("partial");
        std::fs::write(&partial, url)
            .and_then(|()| std::fs::rename(&partial, &path))
            .with_context(|| format!("cannot write {}", path.display()))?;
        self.published = true;
        Ok(())
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        if self.published {
            let _ = std::fs::remove_file(self.path.join(SERVED_FILE));
        }
        let _ = self.lock.unlock();
    }
}

fn open_lock(data_dir: &Path) -> Result<File> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data folder {}", data_dir.display()))?;
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data_dir.join("lock"))
        .context("cannot create the data folder's lock file")
}

/// The URL a running localnet published in `data_dir`.
fn served_url(data_dir: &Path) -> Option<String> {
    let url = std::fs::read_to_string(data_dir.join(SERVED_FILE)).ok()?;
    let url = url.trim();
    url.starts_with("http://").then(|| url.to_string())
}

/// Paces a wait for the folder, and says once, on stderr, what it waits for.
struct Waiting<'a> {
    data_dir: &'a Path,
    since: Instant,
    said: bool,
}

impl<'a> Waiting<'a> {
    fn new(data_dir: &'a Path) -> Self {
        Self {
            data_dir,
            since: Instant::now(),
            said: false,
        }
    }

    fn tick(&mut self) {
        if !self.said && self.since.elapsed() >= QUIET_WAIT {
            eprintln!(
                "waiting for the other tessera process using {} to finish",
                self.data_dir.display()
            );
            self.said = true;
        }
        std::thread::sleep(POLL);
    }
}
