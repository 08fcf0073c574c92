//! `tessera-worker`: the worker as a program of its own, for a provider's machine. It takes
//! the flags of `tessera worker run` and the connection flags every `tessera` command takes
//! (`--url`, `--keypair`, `--data-dir`, `--network`, ...), each also from its environment
//! variable. Ctrl-C or SIGTERM stops it with its store consistent; run it again and it
//! resumes.

use anyhow::Result;
use clap::Parser;
use tessera_ledger::args::{Connection, Output};
use tessera_worker::args::RunArgs;

/// Tessera's worker: accepts the jobs named for --keypair's provider (and with --accept-open,
/// open ones the policy allows), runs the work their spec documents describe, meters it,
/// signs cumulative receipts, gets them co-signed, settles them, completes each job, and
/// claims finished epochs' emissions.
#[derive(Parser)]
#[command(name = "tessera-worker", version)]
struct Cli {
    #[command(flatten)]
    connection: Connection,
    /// How to print events: lines on stderr, or JSON lines on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    run: RunArgs,
}

fn main() {
    if let Err(error) = run(Cli::parse()) {
        eprintln!("error: {error:#}");
        std::process::exit(2);
    }
}

fn run(cli: Cli) -> Result<()> {
    let target = cli.connection.target()?;
    cli.run
        .run(&cli.connection, &target, cli.output == Output::Json)
}
