//! `tessera-worker`: the worker as a program of its own, for a provider's machine. It takes
//! the flags of `tessera worker run` and the connection flags every `tessera` command takes
//! (`--url`, `--keypair`, `--data-dir`, `--network`, ...), each also from its environment
//! variable, or from a TOML file (`--config FILE`; `--print-config` shows the settings in
//! effect). Ctrl-C or SIGTERM stops it with its store consistent; run it again and it
//! resumes.

use anyhow::Result;
use clap::Parser;
use tessera_ledger::args::{Connection, Output};
use tessera_ledger::config::{self, ConfigArgs};
use tessera_ledger::logs::LogArgs;
use tessera_worker::args::{EventsTo, RunArgs};

/// Tessera's worker: accepts the jobs named for --keypair's provider (and with --accept-open,
/// open ones the policy allows), runs the work their spec documents describe, meters it,
/// signs cumulative receipts, gets them co-signed, settles them, completes each job, and
/// claims finished epochs' emissions.
#[derive(Parser)]
#[command(name = "tessera-worker", version)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    logs: LogArgs,
    /// `json`: events as JSON lines on stdout, as `tessera worker run --output json` prints
    /// them, instead of in the log; `text`: events in the log.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    run: RunArgs,
}

fn main() {
    config::service_main(run);
}

fn run(cli: Cli) -> Result<()> {
    cli.logs.init();
    let target = cli.connection.target()?;
    let to = match cli.output {
        Output::Json => EventsTo::Json,
        Output::Text => EventsTo::Log,
    };
    cli.run.run(&cli.connection, &target, to)
}
