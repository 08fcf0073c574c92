//! `tessera-attest`: the co-signing service as a program of its own, for an attestor's (or a
//! client's) machine. It takes the flags of `tessera attest serve` and the connection flags
//! every `tessera` command takes (`--url`, `--keypair`, `--data-dir`, `--network`, ...), each
//! also from its environment variable, or from a TOML file (`--config FILE`; `--print-config`
//! shows the settings in effect). Its first line on stdout says where it listens;
//! Ctrl-C or SIGTERM stops it.

use anyhow::Result;
use clap::Parser;
use tessera_attest::service::{self, ServeArgs};
use tessera_ledger::args::Connection;
use tessera_ledger::config::{self, ConfigArgs};
use tessera_ledger::logs::LogArgs;

/// Tessera's co-signing service: reviews each receipt it is sent against the ledger and the
/// receipt's evidence, then signs as a per-key attestor, a job's client, or a member of an
/// attestor group.
#[derive(Parser)]
#[command(name = "tessera-attest", version)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    logs: LogArgs,
    #[command(flatten)]
    serve: ServeArgs,
}

fn main() {
    config::service_main(run);
}

fn run(mut cli: Cli) -> Result<()> {
    cli.logs.init();
    let target = cli.connection.target()?;
    if cli.serve.specs.is_none() {
        cli.serve.specs = Some(cli.connection.data_dir.join("specs"));
    }
    let ledger = cli.connection.open(&target)?;
    let served = service::serve(&ledger, cli.connection.network_address(), &cli.serve);
    ledger.close()?;
    served
}
