//! A service's log: the `tracing` events of Tessera's crates, on stderr, as lines for people or
//! as one JSON object per event for log shippers (`--log-format`). Other crates' events (the
//! embedded ledger's, the RPC client's) are left out.

use clap::{Args, ValueEnum};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// How a service logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `--log-format`, flattened into a service's flags.
#[derive(Args, Clone, Debug)]
pub struct LogArgs {
    /// How the service logs on stderr: lines, or one JSON object per event (for log shippers).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "TESSERA_LOG_FORMAT")]
    pub log_format: LogFormat,
}

impl LogArgs {
    /// Sends the log events of Tessera's crates, at info and above, to stderr in the chosen
    /// format. Call it once, first thing.
    pub fn init(&self) {
        let ours = Targets::new()
            .with_target("tessera_worker", LevelFilter::INFO)
            .with_target("tessera_attest", LevelFilter::INFO)
            .with_target("tessera_ledger", LevelFilter::INFO);
        let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
        let installed = match self.log_format {
            LogFormat::Text => tracing_subscriber::registry()
                .with(lines.with_filter(ours))
                .try_init(),
            LogFormat::Json => tracing_subscriber::registry()
                .with(lines.json().with_filter(ours))
                .try_init(),
        };
        // Already installed (a second call): the first one stands.
        drop(installed);
    }
}
