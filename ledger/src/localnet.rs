//! `tessera localnet`: the embedded ledger kept up on fixed ports for other tools, until
//! SIGINT or SIGTERM stops it cleanly (state and clock saved). While it runs, it holds the
//! data folder and publishes its URL there: `tessera` commands on the folder go through it.

use crate::embedded::{EmbeddedLedger, Folder};
use crate::stdio::{print_line, StdoutToStderr};
use crate::Target;
use anyhow::{bail, Result};
use serde::Serialize;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Runs the embedded ledger of `target` on `rpc_port` and `ws_port` until a signal stops it.
/// Its first line on stdout says where it listens (as JSON with `json`), for whoever waits
/// for it to be ready.
pub fn serve(target: &Target, rpc_port: u16, ws_port: u16, json: bool) -> Result<()> {
    let Target::Embedded(data_dir) = target else {
        bail!("localnet runs the embedded ledger: drop --url")
    };
    crate::signals::catch_stop();
    let mut folder = Folder::claim_to_serve(data_dir)?;
    let ledger = EmbeddedLedger::start(data_dir, Some((rpc_port, ws_port)))?;
    // From here on, commands on this folder go through this ledger's RPC.
    folder.publish(&ledger.rpc_url)?;
    let serving = Serving {
        rpc_url: ledger.rpc_url.clone(),
        ws_url: ledger.ws_url.clone(),
        data_dir: data_dir.clone(),
    };
    if json {
        print_line(&serde_json::to_string(&serving)?)?;
    } else {
        print_line(&serving.to_string())?;
    }
    std::io::stdout().flush()?;
    // From here on, what the natively run program logs (`msg!` prints to stdout) goes to
    // stderr: stdout carried the ready line above, and whoever reads it may close it.
    std::mem::forget(StdoutToStderr::new());
    while !crate::signals::sleep_unless_stopped(Duration::from_millis(100)) {}
    ledger.stop()?;
    drop(folder);
    eprintln!("{}", Stopped(data_dir));
    Ok(())
}

/// Where a localnet listens: its ready line.
#[derive(Serialize)]
pub struct Serving {
    pub rpc_url: String,
    pub ws_url: String,
    pub data_dir: PathBuf,
}

impl fmt::Display for Serving {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "embedded ledger at {} (websocket {}), state in {}; Ctrl-C stops it",
            self.rpc_url,
            self.ws_url,
            self.data_dir.display()
        )
    }
}

/// The line a localnet leaves on stderr once stopped.
struct Stopped<'a>(&'a Path);

impl fmt::Display for Stopped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "embedded ledger stopped; state kept in {}",
            self.0.display()
        )
    }
}
