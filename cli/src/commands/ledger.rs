//! `tessera ledger warp`: moves the clock of the embedded ledger (or of a surfpool `tessera
//! localnet`) forward, so epochs end and windows pass without waiting.

use super::{Outcome, Session};
use anyhow::{anyhow, bail, ensure, Result};
use clap::{ArgGroup, Subcommand};
use serde::Serialize;
use serde_json::json;
use solana_rpc_client_api::request::RpcRequest;
use std::fmt;
use tessera_ledger::Ledger;

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Moves the ledger clock forward (never back); slots and epochs follow.
    #[command(group(ArgGroup::new("when").required(true).args(["by", "to", "to_epoch"])))]
    Warp {
        /// Seconds to move forward.
        #[arg(long)]
        by: Option<i64>,
        /// Unix time (seconds) to move to.
        #[arg(long)]
        to: Option<i64>,
        /// Start of this Tessera epoch of --network.
        #[arg(long)]
        to_epoch: Option<u64>,
    },
}

impl LedgerCommand {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        let LedgerCommand::Warp { by, to, to_epoch } = self;
        Outcome::view(&warp(session, *by, *to, *to_epoch)?)
    }
}

/// `ledger warp`: moves the ledger clock forward by `by` seconds, to the unix time `to`, or
/// to the start of epoch `to_epoch` of --network.
pub fn warp(
    session: &Session,
    by: Option<i64>,
    to: Option<i64>,
    to_epoch: Option<u64>,
) -> Result<Warped> {
    let ledger = session.ledger;
    let now = ledger.now()?;
    let target = match (by, to, to_epoch) {
        (Some(by), _, _) => {
            ensure!(by > 0, "--by {by}: the clock only moves forward");
            now + by
        }
        (_, Some(to), _) => to,
        (_, _, Some(epoch)) => {
            let (_, network) = session.network()?;
            network
                .epoch_start(epoch)
                .map_err(|_| anyhow!("--to-epoch {epoch} is too far"))?
        }
        _ => bail!("say where to: --by SECONDS, --to UNIX_TIME or --to-epoch N"),
    };
    ensure!(
        target > now,
        "the ledger clock is already at {now}, past {target}: the clock only moves forward"
    );
    time_travel(ledger, target)?;
    ledger.save_clock()?;
    Ok(Warped {
        from: now,
        to: ledger.now()?,
    })
}

/// Asks the ledger (surfpool) to move its clock to `target`, unix seconds.
fn time_travel(ledger: &Ledger, target: i64) -> Result<()> {
    // Surfpool's cheatcode, in milliseconds; a tick between the read of the clock and this call
    // can make the first attempt land in the past by a few hundred milliseconds.
    let mut last_error = None;
    for _ in 0..3 {
        let result: Result<serde_json::Value, _> = ledger.rpc()?.send(
            RpcRequest::Custom {
                method: "surfnet_timeTravel",
            },
            json!([{ "absoluteTimestamp": target as u64 * 1_000 + 500 }]),
        );
        match result {
            Ok(_) => return Ok(()),
            Err(error) => last_error = Some(error),
        }
    }
    let text = last_error
        .map(|error| error.to_string())
        .unwrap_or_default();
    if text.contains("Method not found") || text.contains("-32601") {
        bail!(
            "{} cannot move its clock: warping needs the embedded ledger or a `tessera \
             localnet`, not a real cluster",
            ledger.url()
        );
    }
    bail!("the ledger refused to warp: {text}")
}

/// `ledger warp`: where the clock was and where it is now, unix seconds.
#[derive(Serialize)]
pub struct Warped {
    pub from: i64,
    pub to: i64,
}

impl fmt::Display for Warped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ledger clock moved from {} to {} (+{} s)",
            self.from,
            self.to,
            self.to - self.from
        )
    }
}
