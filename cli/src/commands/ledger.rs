//! `tessera ledger warp`: moves the clock of the embedded ledger (or of a surfpool `tessera
//! localnet`) forward, so epochs end and windows pass without waiting.

use super::{Outcome, Session};
use anyhow::{anyhow, bail, ensure, Result};
use clap::{ArgGroup, Subcommand};
use serde_json::json;
use solana_rpc_client_api::request::RpcRequest;

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
        let ledger = session.ledger;
        let now = ledger.now()?;
        let target = match (by, to, to_epoch) {
            (Some(by), _, _) => {
                ensure!(*by > 0, "--by {by}: the clock only moves forward");
                now + by
            }
            (_, Some(to), _) => *to,
            (_, _, Some(epoch)) => {
                let (_, network) = session.network()?;
                network
                    .epoch_start(*epoch)
                    .map_err(|_| anyhow!("--to-epoch {epoch} is too far"))?
            }
            _ => bail!("say where to: --by SECONDS, --to UNIX_TIME or --to-epoch N"),
        };
        ensure!(
            target > now,
            "the ledger clock is already at {now}, past {target}: the clock only moves forward"
        );
        // Surfpool's cheatcode, in milliseconds; a tick between the read above and this call
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
                Ok(_) => {
                    last_error = None;
                    break;
                }
                Err(error) => last_error = Some(error),
            }
        }
        if let Some(error) = last_error {
            let text = error.to_string();
            if text.contains("Method not found") || text.contains("-32601") {
                return Err(anyhow!(
                    "{} cannot move its clock: warping needs the embedded ledger or a `tessera \
                     localnet`, not a real cluster",
                    ledger.url()
                ));
            }
            return Err(anyhow!("the ledger refused to warp: {text}"));
        }
        ledger.save_clock()?;
        let reached = ledger.now()?;
        Ok(Outcome::new(
            format!(
                "ledger clock moved from {now} to {reached} (+{} s)",
                reached - now
            ),
            json!({"from": now, "to": reached}),
        ))
    }
}
