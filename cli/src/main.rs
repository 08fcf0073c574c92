//! `tessera`: providers register and stake, clients fund jobs, workers settle receipts and
//! claim emissions, auditors check every account. Runs on the embedded ledger by default.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use tessera::state::{EmissionSchedule, Job, Network, Provider};
use tessera_cli::ledger::{Ledger, Target};
use tessera_cli::tokens::format_amount;

/// Settlement for decentralized compute and bandwidth on Solana.
#[derive(Parser)]
#[command(name = "tessera", version, about)]
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

#[derive(Subcommand)]
enum Command {
    /// Runs Tessera's main job end to end and prints a summary: a network, providers of all
    /// four classes, funded jobs, signed receipts settled, an epoch's emissions claimed, an audit.
    Quickstart,
    /// Networks.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Providers.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Jobs.
    #[command(subcommand)]
    Job(JobCommand),
    /// The emission schedule.
    #[command(subcommand)]
    Emissions(EmissionsCommand),
    /// Recomputes every balance from the program's accounts and checks every invariant;
    /// exits 1 when one does not hold.
    Audit,
    /// Keeps the embedded ledger running in the foreground on fixed ports, for other tools.
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
enum NetworkCommand {
    /// Shows every network on the ledger.
    Show,
}

#[derive(Subcommand)]
enum ProviderCommand {
    /// Lists every provider.
    List,
}

#[derive(Subcommand)]
enum JobCommand {
    /// Lists every job.
    List,
    /// Shows one job.
    Show {
        /// The job account.
        job: anchor_lang::prelude::Pubkey,
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
    },
}

fn main() {
    if let Err(error) = run(Cli::parse()) {
        eprintln!("error: {error:#}");
        std::process::exit(2);
    }
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Appends `value` as JSON to what the command prints once the ledger is closed.
fn json_into(printed: &mut Vec<u8>, value: &impl serde::Serialize) -> Result<()> {
    printed.extend(serde_json::to_vec_pretty(value)?);
    printed.push(b'\n');
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    if let Command::Emissions(EmissionsCommand::Schedule {
        initial,
        decay_bps,
        every,
        cap,
        epochs,
    }) = &cli.command
    {
        let schedule = EmissionSchedule {
            initial_per_epoch: tessera_cli::tokens::parse_amount(initial, 6)?,
            decay_bps: *decay_bps,
            decay_every_epochs: *every,
            supply_cap: tessera_cli::tokens::parse_amount(cap, 6)?,
        };
        let rows: Vec<(u64, String)> = (0..*epochs)
            .map(|epoch| (epoch, format_amount(schedule.emission_for_epoch(epoch), 6)))
            .collect();
        if cli.output == Output::Json {
            return print_json(&rows);
        }
        println!("{:>8} {:>24}", "epoch", "emission");
        for (epoch, amount) in rows {
            println!("{epoch:>8} {amount:>24}");
        }
        return Ok(());
    }
    let target = Target::parse(cli.url.as_deref(), &cli.data_dir)?;
    if let Command::Localnet { rpc_port, ws_port } = cli.command {
        let Target::Embedded(data_dir) = target else {
            anyhow::bail!("localnet runs the embedded ledger: drop --url")
        };
        let ledger =
            tessera_cli::embedded::EmbeddedLedger::start(&data_dir, Some((rpc_port, ws_port)))?;
        println!(
            "embedded ledger at {} (websocket {}), state in {}; Ctrl-C stops it",
            ledger.rpc_url,
            ledger.ws_url,
            data_dir.display()
        );
        loop {
            std::thread::park();
        }
    }
    // The program runs natively inside this process, and a native `msg!` prints to stdout;
    // with --output json, stdout must hold the JSON alone, so everything else goes to stderr.
    let stdout = (cli.output == Output::Json).then(StdoutToStderr::new);
    let ledger = Ledger::open(&target, cli.keypair.as_deref())?;
    let mut printed = Vec::new();
    let result = command(&ledger, &cli.command, cli.output, &mut printed);
    ledger.close()?;
    drop(stdout);
    print!("{}", String::from_utf8_lossy(&printed));
    result
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

fn command(
    ledger: &Ledger,
    command: &Command,
    output: Output,
    printed: &mut Vec<u8>,
) -> Result<()> {
    let json = output == Output::Json;
    match command {
        Command::Quickstart => {
            let summary = tessera_cli::quickstart::run(ledger, json)?;
            if json {
                return json_into(printed, &summary);
            }
            println!();
            println!(
                "network {} ({}) on {}",
                summary.network_id,
                summary.network,
                ledger.url()
            );
            println!(
                "{:<10} {:>12} {:>12} {:>14} {:>14}",
                "class", "stake", "units", "paid", "emission"
            );
            for line in &summary.providers {
                println!(
                    "{:<10} {:>12} {:>12} {:>14} {:>14}",
                    line.class, line.stake, line.units, line.paid, line.emission
                );
            }
            println!(
                "treasury fees {}; emitted {}; audit {}; {:.1} s",
                summary.treasury_fees,
                summary.emitted,
                if summary.audit_findings.is_empty() {
                    "clean".to_string()
                } else {
                    summary.audit_findings.join("; ")
                },
                summary.seconds
            );
            anyhow::ensure!(
                summary.audit_findings.is_empty(),
                "the audit found problems"
            );
        }
        Command::Network(NetworkCommand::Show) => {
            let networks: Vec<(_, Network)> = ledger.all()?;
            if json {
                let rows: Vec<_> = networks.iter().map(|(address, n)| serde_json::json!({"address": address.to_string(), "network_id": n.network_id, "authority": n.authority.to_string(), "reward_mint": n.reward_mint.to_string(), "providers": n.totals.providers, "open_jobs": n.totals.open_jobs, "staked": n.totals.staked, "emitted": n.totals.emitted})).collect();
                return json_into(printed, &rows);
            }
            for (address, n) in networks {
                println!("network {} {address}: authority {}, reward mint {}, {} providers, {} open jobs, staked {}, emitted {}", n.network_id, n.authority, n.reward_mint, n.totals.providers, n.totals.open_jobs, format_amount(n.totals.staked, 6), format_amount(n.totals.emitted, 6));
            }
        }
        Command::Provider(ProviderCommand::List) => {
            let providers: Vec<(_, Provider)> = ledger.all()?;
            if json {
                let rows: Vec<_> = providers.iter().map(|(address, p)| serde_json::json!({"address": address.to_string(), "network": p.network.to_string(), "owner": p.owner.to_string(), "class": format!("{:?}", p.class), "status": format!("{:?}", p.status), "stake": p.stake, "unbonding": p.unbonding_amount, "settled_units": p.settled_units, "service_units": p.service_units})).collect();
                return json_into(printed, &rows);
            }
            println!(
                "{:<45} {:<10} {:<7} {:>14} {:>14}",
                "provider", "class", "status", "stake", "settled units"
            );
            for (address, p) in providers {
                println!(
                    "{:<45} {:<10} {:<7} {:>14} {:>14}",
                    address.to_string(),
                    format!("{:?}", p.class),
                    format!("{:?}", p.status),
                    format_amount(p.stake, 6),
                    p.settled_units
                );
            }
        }
        Command::Job(JobCommand::List) => {
            let jobs: Vec<(_, Job)> = ledger.all()?;
            if json {
                let rows: Vec<_> = jobs.iter().map(|(address, j)| serde_json::json!({"address": address.to_string(), "client": j.client.to_string(), "provider": j.provider.to_string(), "status": format!("{:?}", j.status), "settled_units": j.settled_units, "max_units": j.max_units})).collect();
                return json_into(printed, &rows);
            }
            for (address, j) in jobs {
                println!(
                    "{address} {:?}: {} of {} units, paid {}",
                    j.status, j.settled_units, j.max_units, j.paid_out
                );
            }
        }
        Command::Job(JobCommand::Show { job }) => {
            let state: Job = ledger.fetch(job)?.with_context(|| {
                format!("no job at {job}: check the address with `tessera job list`")
            })?;
            let vault = ledger.token_balance(&state.vault)?;
            if json {
                return json_into(
                    printed,
                    &serde_json::json!({"address": job.to_string(), "client": state.client.to_string(), "provider": state.provider.to_string(), "status": format!("{:?}", state.status), "payment_mint": state.payment_mint.to_string(), "price_per_unit": state.price_per_unit, "max_units": state.max_units, "settled_units": state.settled_units, "deposited": state.deposited, "paid_out": state.paid_out, "fees_accrued": state.fees_accrued, "vault": vault}),
                );
            }
            println!("job {job}\n  status {:?}\n  client {}\n  provider {}\n  mint {}\n  price {} per unit, {} of {} units settled\n  deposited {}, paid {}, fees {}, vault {}", state.status, state.client, state.provider, state.payment_mint, state.price_per_unit, state.settled_units, state.max_units, state.deposited, state.paid_out, state.fees_accrued, vault);
        }
        Command::Audit => {
            let report = tessera_cli::audit::run(ledger)?;
            if json {
                json_into(printed, &report)?;
            } else {
                println!(
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
                for finding in &report.findings {
                    println!("  {finding}");
                }
            }
            anyhow::ensure!(report.clean(), "the audit found problems");
        }
        Command::Emissions(_) | Command::Localnet { .. } => {
            unreachable!("handled before opening a ledger")
        }
    }
    Ok(())
}
