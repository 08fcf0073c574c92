//! `tessera`: providers register and stake, clients fund jobs, workers settle receipts and
//! claim emissions, auditors check every account. Runs on the embedded ledger by default.

use anyhow::Result;
use clap::{Parser, Subcommand};
use tessera_cli::audit::AuditArgs;
use tessera_cli::commands::attest::{self, AttestCommand};
use tessera_cli::commands::claim::ClaimArgs;
use tessera_cli::commands::emissions::EmissionsCommand;
use tessera_cli::commands::history::{self, HistoryArgs};
use tessera_cli::commands::inspect::{self, InspectArgs};
use tessera_cli::commands::job::{DisputeCommand, JobCommand};
use tessera_cli::commands::key::KeyCommand;
use tessera_cli::commands::ledger::LedgerCommand;
use tessera_cli::commands::migrate::MigrateArgs;
use tessera_cli::commands::network::NetworkCommand;
use tessera_cli::commands::provider::{ProviderCommand, StakeCommand};
use tessera_cli::commands::receipt::{self, ReceiptCommand};
use tessera_cli::commands::token::TokenCommand;
use tessera_cli::commands::worker::{self, WorkerCommand};
use tessera_cli::commands::{Outcome, Session};
use tessera_cli::{audit, quickstart};
use tessera_ledger::args::{Connection, Output};
use tessera_ledger::localnet;
use tessera_ledger::stdio::StdoutToStderr;
use tessera_ledger::Target;
use tessera_worker::args::EventsTo;

// Surfpool copies its lists of accounts by owner at every account a transaction writes (see
// `tessera_ledger::embedded::index`): with mimalloc, a localnet with 4,000 open jobs settled 89
// receipts a second, against 57 on the system allocator (docs/benchmarks.md, table 8b).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Settlement for decentralized compute and bandwidth on Solana.
#[derive(Parser)]
#[command(name = "tessera", version)]
struct Cli {
    #[command(flatten)]
    connection: Connection,
    /// How to print results.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs Tessera's main job end to end and prints a summary: a network, providers of all
    /// four classes, funded jobs, signed receipts settled, an epoch's emissions claimed, an audit.
    Quickstart,
    /// Networks: create, show, and the authority's parameters, attestors, pause and treasury.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Providers: register, update, rotate the worker key, show, list, deregister.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// A provider's stake: add, unstake, withdraw, show.
    #[command(subcommand)]
    Stake(StakeCommand),
    /// Jobs: create (fund the escrow), accept, top up, complete, cancel, close, show, list.
    #[command(subcommand)]
    Job(JobCommand),
    /// Disputes: a client opens one, the network authority resolves it.
    #[command(subcommand)]
    Dispute(DisputeCommand),
    /// Work receipts: sign (worker), review and co-sign (attestors or client), verify, submit.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// Claims a provider's emissions for finished epochs, first tallying every work record of
    /// those epochs not yet in the epoch's total (anyone's: claims wait for all of them).
    Claim(ClaimArgs),
    /// The emission schedule.
    #[command(subcommand)]
    Emissions(EmissionsCommand),
    /// Checks every rule of the program's accounts, alone and together (vaults against the
    /// books, epochs against work records and claims, network totals, reward supply); prints
    /// a summary per network and each violation, and exits 1 when a rule does not hold.
    /// Needs no keypair.
    Audit(AuditArgs),
    /// Decodes any Tessera account, and the token vault or mint it points at, with every
    /// field named and amounts in the mint's decimals.
    Inspect(InspectArgs),
    /// The events that touched a job, a provider or (by default) the network, in order, from
    /// the transaction logs.
    History(HistoryArgs),
    /// Brings a cluster to a config's state through numbered, idempotent steps.
    Migrate(MigrateArgs),
    /// Token moves: transfer, balance, create a mint (for local ledgers and tests).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Attestation: a co-signing service, and an attestor group's key.
    #[command(subcommand)]
    Attest(AttestCommand),
    /// Keypair files in the Solana CLI's format, for owners, workers, clients and attestors.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The provider's worker: runs jobs, meters them, settles receipts, claims emissions.
    #[command(subcommand)]
    Worker(WorkerCommand),
    /// The ledger itself: clock control.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Keeps the embedded ledger running in the foreground on fixed ports, for other tools;
    /// Ctrl-C (or SIGTERM) stops it cleanly.
    Localnet {
        /// JSON-RPC port.
        #[arg(long, default_value_t = 8899)]
        rpc_port: u16,
        /// WebSocket port.
        #[arg(long, default_value_t = 8900)]
        ws_port: u16,
    },
}

fn main() {
    if let Err(error) = run(Cli::parse()) {
        eprintln!("error: {error:#}");
        std::process::exit(2);
    }
}

fn run(mut cli: Cli) -> Result<()> {
    default_folders(&mut cli);
    let target = cli.connection.target()?;
    let json = cli.output == Output::Json;
    let outcome = match &cli.command {
        Command::Localnet { rpc_port, ws_port } => {
            return localnet::serve(&target, *rpc_port, *ws_port, json);
        }
        Command::Emissions(command) if command.offline() => command.run_offline()?,
        Command::Receipt(command) if command.offline() => {
            receipt::run_offline(command, || cli.connection.signer_keypair())?
        }
        Command::Worker(WorkerCommand::Status { store }) => {
            let store = store
                .clone()
                .unwrap_or(cli.connection.data_dir.join("worker.redb"));
            Outcome::view(&worker::status(&store)?)?
        }
        Command::Worker(WorkerCommand::Run(args)) => {
            let to = match cli.output {
                Output::Json => EventsTo::Json,
                Output::Text => EventsTo::Terminal,
            };
            return args.run(&cli.connection, &target, to);
        }
        Command::Worker(WorkerCommand::Devices) => Outcome::view(&worker::devices())?,
        Command::Worker(WorkerCommand::Retry { job, store }) => {
            let store = store
                .clone()
                .unwrap_or(cli.connection.data_dir.join("worker.redb"));
            Outcome::view(&worker::retry(&store, job)?)?
        }
        Command::Attest(AttestCommand::Dkg(args)) => Outcome::view(&attest::dkg(args)?)?,
        Command::Key(command) => Outcome::view(&command.run()?)?,
        Command::Attest(AttestCommand::Serve(args)) => {
            let ledger = cli.connection.open(&target)?;
            let served = attest::serve(&ledger, cli.connection.network_address(), args);
            ledger.close()?;
            return served;
        }
        _ => on_ledger(&cli, &target)?,
    };
    outcome.print(json)?;
    if let Some(problem) = &outcome.failure {
        eprintln!("error: {problem}");
        std::process::exit(1);
    }
    Ok(())
}

/// Spec documents and results live in --data-dir unless a flag says otherwise.
fn default_folders(cli: &mut Cli) {
    let under = |name: &str| Some(cli.connection.data_dir.join(name));
    match &mut cli.command {
        Command::Job(JobCommand::Create(args)) if args.spec.specs.is_none() => {
            args.spec.specs = under("specs")
        }
        Command::Job(JobCommand::CheckResult { results, specs, .. }) => {
            results.get_or_insert_with(|| cli.connection.data_dir.join("results"));
            specs.get_or_insert_with(|| cli.connection.data_dir.join("specs"));
        }
        Command::Receipt(ReceiptCommand::Cosign { folders, .. }) => {
            *folders = Some((
                cli.connection.data_dir.join("specs"),
                cli.connection.data_dir.join("results"),
            ))
        }
        Command::Attest(AttestCommand::Serve(args)) if args.specs.is_none() => {
            args.specs = under("specs")
        }
        _ => {}
    }
}

/// Opens the ledger, runs the command on it, and closes the ledger.
fn on_ledger(cli: &Cli, target: &Target) -> Result<Outcome> {
    let stdout = (cli.output == Output::Json).then(StdoutToStderr::new);
    let ledger = cli.connection.open(target)?;
    let session = Session::new(&ledger, cli.connection.network);
    let result = dispatch(&session, &cli.command, cli.output);
    ledger.close()?;
    drop(stdout);
    result
}

fn dispatch(session: &Session, command: &Command, output: Output) -> Result<Outcome> {
    match command {
        Command::Quickstart => quickstart::run(session, output == Output::Json),
        Command::Network(command) => command.run(session),
        Command::Provider(command) => command.run(session),
        Command::Stake(command) => command.run(session),
        Command::Job(command) => command.run(session),
        Command::Dispute(command) => command.run(session),
        Command::Receipt(command) => command.run(session),
        Command::Claim(args) => args.run(session),
        Command::Emissions(command) => command.run(session),
        Command::Audit(args) => audit::audit(session, args),
        Command::Inspect(args) => inspect::inspect(session, args),
        Command::History(args) => history::history(session, args),
        Command::Migrate(args) => args.run(session),
        Command::Token(command) => command.run(session),
        Command::Ledger(command) => command.run(session),
        Command::Localnet { .. } | Command::Worker(_) | Command::Attest(_) | Command::Key(_) => {
            unreachable!("localnet, worker, attest and key commands run before a ledger is opened")
        }
    }
}
