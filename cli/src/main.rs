//! `tessera`: providers register and stake, clients fund jobs, workers settle receipts and
//! claim emissions, auditors check every account. Runs on the embedded ledger by default.

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use solana_commitment_config::CommitmentConfig;
use std::path::PathBuf;
use tessera::state::EmissionSchedule;
use tessera_cli::commands::claim::ClaimArgs;
use tessera_cli::commands::job::{DisputeCommand, JobCommand};
use tessera_cli::commands::ledger::LedgerCommand;
use tessera_cli::commands::network::NetworkCommand;
use tessera_cli::commands::provider::{ProviderCommand, StakeCommand};
use tessera_cli::commands::receipt::ReceiptCommand;
use tessera_cli::commands::token::TokenCommand;
use tessera_cli::commands::{migrate, Outcome, Session};
use tessera_cli::ledger::{Ledger, Target};
use tessera_cli::tokens::format_amount;

/// Settlement for decentralized compute and bandwidth on Solana.
#[derive(Parser)]
#[command(name = "tessera", version)]
struct Cli {
    /// Ledger: `embedded` (default: surfpool in this process, state in --data-dir), a moniker
    /// (devnet, mainnet-beta, testnet, localnet) or a JSON-RPC URL.
    #[arg(long, short = 'u', global = true, env = "TESSERA_URL")]
    url: Option<String>,
    /// Keypair that pays and signs. Default: the embedded ledger's own, else the Solana CLI's
    /// (`keypair_path` of ~/.config/solana/cli/config.yml, else ~/.config/solana/id.json).
    #[arg(long, short = 'k', global = true, env = "TESSERA_KEYPAIR")]
    keypair: Option<PathBuf>,
    /// Folder of the embedded ledger's state.
    #[arg(
        long,
        global = true,
        env = "TESSERA_DATA_DIR",
        default_value = ".tessera"
    )]
    data_dir: PathBuf,
    /// The Tessera network (its numeric id) the command is about.
    #[arg(long, global = true, env = "TESSERA_NETWORK", default_value_t = 1)]
    network: u64,
    /// Commitment of reads and confirmations.
    #[arg(long, global = true, value_enum, default_value_t = Commitment::Confirmed)]
    commitment: Commitment,
    /// Address of the Tessera program (a deployment built with that id); default: this
    /// build's id.
    #[arg(long, global = true, env = "TESSERA_PROGRAM_ID")]
    program_id: Option<Pubkey>,
    /// How to print results.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Commitment {
    Processed,
    Confirmed,
    Finalized,
}

impl From<Commitment> for CommitmentConfig {
    fn from(commitment: Commitment) -> Self {
        match commitment {
            Commitment::Processed => CommitmentConfig::processed(),
            Commitment::Confirmed => CommitmentConfig::confirmed(),
            Commitment::Finalized => CommitmentConfig::finalized(),
        }
    }
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
    /// Claims a provider's emissions for finished epochs.
    Claim(ClaimArgs),
    /// The emission schedule.
    #[command(subcommand)]
    Emissions(EmissionsCommand),
    /// Recomputes every balance from the program's accounts and checks every invariant;
    /// exits 1 when one does not hold.
    Audit,
    /// Brings a cluster to a config's state through numbered, idempotent steps.
    Migrate {
        /// The config, e.g. migrations/devnet.toml.
        #[arg(long)]
        config: PathBuf,
        /// Print what each step would do; send nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Token moves: transfer, balance, create a mint (for local ledgers and tests).
    #[command(subcommand)]
    Token(TokenCommand),
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

#[derive(Subcommand)]
enum EmissionsCommand {
    /// Prints the curve of a schedule, epoch by epoch, until it ends or `--epochs`.
    Schedule {
        /// Emission of each early epoch, in whole reward tokens (6 decimals).
        #[arg(long, default_value = "10000")]
        initial: String,
        /// Cut every `--every` epochs, in basis points (5000 halves).
        #[arg(long, default_value_t = 5_000)]
        decay_bps: u16,
        /// Epochs between cuts.
        #[arg(long, default_value_t = 100)]
        every: u32,
        /// Cap on the total, in whole reward tokens.
        #[arg(long, default_value = "100000000")]
        cap: String,
        /// Epochs to print at most.
        #[arg(long, default_value_t = 20)]
        epochs: u64,
        /// Print the schedule of --network on the ledger instead (amounts in its reward
        /// mint's decimals; the other schedule flags are ignored).
        #[arg(long)]
        from_network: bool,
    },
}

fn main() {
    if let Err(error) = run(Cli::parse()) {
        eprintln!("error: {error:#}");
        std::process::exit(2);
    }
}

fn print(output: Output, outcome: &Outcome) -> Result<()> {
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&outcome.json)?),
        Output::Text => println!("{}", outcome.text),
    }
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    let target = Target::parse(cli.url.as_deref(), &cli.data_dir)?;
    if let Some(id) = cli.program_id {
        if matches!(target, Target::Embedded(_)) && id != tessera_client::PROGRAM_ID {
            bail!(
                "the embedded ledger runs this build's program at {}: drop --program-id or use --url",
                tessera_client::PROGRAM_ID
            );
        }
        tessera_client::use_program_id(id)
            .map_err(|chosen| anyhow::anyhow!("program id already set to {chosen}"))?;
    }
    // Commands that need no ledger.
    match &cli.command {
        Command::Emissions(EmissionsCommand::Schedule {
            initial,
            decay_bps,
            every,
            cap,
            epochs,
            from_network: false,
        }) => {
            let schedule = EmissionSchedule {
                initial_per_epoch: tessera_cli::tokens::parse_amount(initial, 6)
                    .context("--initial")?,
                decay_bps: *decay_bps,
                decay_every_epochs: *every,
                supply_cap: tessera_cli::tokens::parse_amount(cap, 6).context("--cap")?,
            };
            tessera_cli::commands::network::check_emission(&schedule)?;
            return print(cli.output, &schedule_table(&schedule, 6, *epochs));
        }
        Command::Receipt(command) if command.offline() => {
            let keypair = || {
                let path = match &cli.keypair {
                    Some(path) => path.clone(),
                    None => tessera_cli::ledger::default_keypair_path()?,
                };
                tessera_cli::ledger::read_keypair(&path)
            };
            return print(
                cli.output,
                &tessera_cli::commands::receipt::run_offline(command, keypair)?,
            );
        }
        Command::Localnet { rpc_port, ws_port } => {
            let Target::Embedded(data_dir) = target else {
                bail!("localnet runs the embedded ledger: drop --url")
            };
            return localnet(&data_dir, *rpc_port, *ws_port);
        }
        _ => {}
    }
    // The program runs natively inside this process, and a native `msg!` prints to stdout;
    // with --output json, stdout must hold the JSON alone, so everything else goes to stderr.
    let stdout = (cli.output == Output::Json).then(StdoutToStderr::new);
    let ledger = Ledger::open(&target, cli.keypair.as_deref(), cli.commitment.into())?;
    let session = Session {
        ledger: &ledger,
        network_id: cli.network,
    };
    let result = command(&session, &cli.command, cli.output);
    ledger.close()?;
    drop(stdout);
    let outcome = result?;
    print(cli.output, &outcome)?;
    if let Some(problem) = &outcome.failure {
        eprintln!("error: {problem}");
        std::process::exit(1);
    }
    Ok(())
}

/// The emission of each of the first `epochs` epochs under `schedule`.
fn schedule_table(schedule: &EmissionSchedule, decimals: u8, epochs: u64) -> Outcome {
    let rows: Vec<(u64, String)> = (0..epochs)
        .map(|epoch| {
            let amount = schedule.emission_for_epoch(epoch);
            (epoch, format_amount(amount, decimals))
        })
        .collect();
    let mut text = format!("{:>8} {:>24}", "epoch", "emission");
    for (epoch, amount) in &rows {
        text += &format!("\n{epoch:>8} {amount:>24}");
    }
    Outcome::new(text, serde_json::json!(rows))
}

/// Runs the embedded ledger until SIGINT or SIGTERM, then stops it cleanly (state and clock
/// saved). While it runs, it holds the data folder and publishes its URL there: `tessera`
/// commands on the folder go through it.
fn localnet(data_dir: &std::path::Path, rpc_port: u16, ws_port: u16) -> Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    static STOP: AtomicBool = AtomicBool::new(false);
    extern "C" fn on_signal(_: libc::c_int) {
        STOP.store(true, Ordering::SeqCst);
    }
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
    let mut folder = tessera_cli::embedded::Folder::claim_to_serve(data_dir)?;
    let ledger = tessera_cli::embedded::EmbeddedLedger::start(data_dir, Some((rpc_port, ws_port)))?;
    // From here on, commands on this folder go through this ledger's RPC.
    folder.publish(&ledger.rpc_url)?;
    println!(
        "embedded ledger at {} (websocket {}), state in {}; Ctrl-C stops it",
        ledger.rpc_url,
        ledger.ws_url,
        data_dir.display()
    );
    use std::io::Write;
    std::io::stdout().flush()?;
    // From here on, what the natively run program logs (`msg!` prints to stdout) goes to
    // stderr: stdout carried the ready line above, and whoever reads it may close it.
    std::mem::forget(StdoutToStderr::new());
    while !STOP.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    ledger.stop()?;
    drop(folder);
    eprintln!(
        "embedded ledger stopped; state kept in {}",
        data_dir.display()
    );
    Ok(())
}

/// Points file descriptor 1 at standard error until dropped.
struct StdoutToStderr(i32);

impl StdoutToStderr {
    fn new() -> Self {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: plain descriptor duplication; restored in `drop`.
        unsafe {
            let saved = libc::dup(1);
            libc::dup2(2, 1);
            Self(saved)
        }
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: restores the descriptor saved in `new`.
        unsafe {
            libc::dup2(self.0, 1);
            libc::close(self.0);
        }
    }
}

fn command(session: &Session, command: &Command, output: Output) -> Result<Outcome> {
    match command {
        Command::Quickstart => quickstart(session, output),
        Command::Network(command) => command.run(session),
        Command::Provider(command) => command.run(session),
        Command::Stake(command) => command.run(session),
        Command::Job(command) => command.run(session),
        Command::Dispute(command) => command.run(session),
        Command::Receipt(command) => command.run(session),
        Command::Claim(args) => args.run(session),
        Command::Migrate { config, dry_run } => migrate::run(session, config, *dry_run),
        Command::Ledger(command) => command.run(session),
        Command::Token(command) => command.run(session),
        Command::Audit => {
            let report = tessera_cli::audit::run(session.ledger)?;
            let mut text = format!(
                "audited {} networks, {} providers, {} jobs, {} epochs: {}",
                report.networks,
                report.providers,
                report.jobs,
                report.epochs,
                if report.clean() {
                    "every invariant holds".to_string()
                } else {
                    format!("{} problems", report.findings.len())
                }
            );
            if report.closable_jobs > 0 {
                text += &format!(
                    "\n  {} ended jobs may be closed now (`tessera job close JOB`)",
                    report.closable_jobs
                );
            }
            for finding in &report.findings {
                text += &format!("\n  {finding}");
            }
            let failure = (!report.clean()).then(|| "the audit found problems".to_string());
            Ok(Outcome::new(text, serde_json::to_value(&report)?).failing_with(failure))
        }
        Command::Emissions(EmissionsCommand::Schedule {
            epochs,
            from_network: true,
            ..
        }) => {
            let (_, network) = session.network()?;
            let reward = session.reward_mint(&network)?;
            Ok(schedule_table(&network.emission, reward.decimals, *epochs))
        }
        Command::Emissions(_) | Command::Localnet { .. } => {
            unreachable!("handled before opening a ledger")
        }
    }
}

fn quickstart(session: &Session, output: Output) -> Result<Outcome> {
    let ledger = session.ledger;
    let summary = tessera_cli::quickstart::run(ledger, output == Output::Json)?;
    let mut text = format!(
        "\nnetwork {} ({}) on {}\n{:<10} {:>12} {:>12} {:>14} {:>14}",
        summary.network_id,
        summary.network,
        ledger.url(),
        "class",
        "stake",
        "units",
        "paid",
        "emission"
    );
    for line in &summary.providers {
        text += &format!(
            "\n{:<10} {:>12} {:>12} {:>14} {:>14}",
            line.class, line.stake, line.units, line.paid, line.emission
        );
    }
    text += &format!(
        "\ntreasury fees {}; emitted {}; audit {}; {:.1} s",
        summary.treasury_fees,
        summary.emitted,
        if summary.audit_findings.is_empty() {
            "clean".to_string()
        } else {
            summary.audit_findings.join("; ")
        },
        summary.seconds
    );
    let failure = (!summary.audit_findings.is_empty())
        .then(|| "the quickstart's audit found problems".to_string());
    Ok(Outcome::new(text, serde_json::to_value(&summary)?).failing_with(failure))
}
