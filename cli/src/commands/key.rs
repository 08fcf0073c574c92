//! `tessera key new`: a keypair file in the Solana CLI's format (a JSON array of the 64 secret
//! and public key bytes), for the owner, worker, client and attestor keys the other commands
//! take, on a machine without the Solana CLI.

use anyhow::{Context, Result};
use clap::Subcommand;
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Makes a new keypair and writes it to --out (readable by its owner only), printing its
    /// public key. Never overwrites a file: an existing one is refused, untouched.
    New {
        /// The keypair file to write (e.g. owner.json).
        #[arg(long)]
        out: PathBuf,
    },
}

impl KeyCommand {
    pub fn run(&self) -> Result<KeyMade> {
        match self {
            KeyCommand::New { out } => new(out),
        }
    }
}

/// `key new`: the new key's file and public key.
#[derive(Debug, Serialize)]
pub struct KeyMade {
    pub pubkey: String,
    pub file: PathBuf,
}

impl fmt::Display for KeyMade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} written to {}", self.pubkey, self.file.display())
    }
}

fn new(out: &Path) -> Result<KeyMade> {
    let keypair = Keypair::new();
    let bytes = serde_json::to_vec(&keypair.to_bytes().to_vec())?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(out) {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
            "{} already exists: keypair files are never overwritten; pick another --out",
            out.display()
        ),
        opened => opened.with_context(|| format!("cannot create {}", out.display()))?,
    };
    if let Err(error) = file.write_all(&bytes).and_then(|_| file.sync_all()) {
        // Half a key is no key: leave nothing behind.
        let _ = std::fs::remove_file(out);
        return Err(error).with_context(|| format!("cannot write {}", out.display()));
    }
    Ok(KeyMade {
        pubkey: keypair.pubkey().to_string(),
        file: out.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_reads_back_as_the_solana_cli_writes_it_and_is_never_overwritten() {
        let folder = std::env::temp_dir().join(format!("tessera-key-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join("owner.json");
        let made = new(&path).unwrap();
        let read = solana_keypair::read_keypair_file(&path).unwrap();
        assert_eq!(read.pubkey().to_string(), made.pubkey);
        let before = std::fs::read(&path).unwrap();
        let refused = new(&path).unwrap_err().to_string();
        assert!(refused.contains("never overwritten"), "{refused}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the file is as it was"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
