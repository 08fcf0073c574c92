//! The worker's flags, shared by `tessera worker run` and the `tessera-worker` binary.

use crate::events::{Events, Live};
use crate::{Config, Paths, Policy, SettleEvery};
use anyhow::Result;
use clap::Args;
use solana_keypair::Keypair;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tessera_ledger::args::{Connection, UnitArg};
use tessera_ledger::session::Session;
use tessera_ledger::stdio::StdoutToStderr;
use tessera_ledger::Target;

/// `worker run`'s flags.
#[derive(Args)]
pub struct RunArgs {
    /// Keypair file of the key that signs receipts: the provider's registered worker key
    /// (default: --keypair, the owner's own key).
    #[arg(long, env = "TESSERA_WORKER_KEY")]
    pub worker_key: Option<PathBuf>,
    /// Also accept open jobs of the provider's class that the flags below allow.
    #[arg(long)]
    pub accept_open: bool,
    /// With --accept-open: least price per unit, in the job's payment tokens (e.g. 0.25).
    #[arg(long)]
    pub min_price: Option<String>,
    /// With --accept-open: most units an accepted job may ask for.
    #[arg(long)]
    pub max_units: Option<u64>,
    /// With --accept-open: only jobs counting this unit.
    #[arg(long, value_enum)]
    pub unit_kind: Option<UnitArg>,
    /// Sign a receipt after this many new units (e.g. 500), or this many seconds after the
    /// last one (e.g. 120s). Counted in units, at most two intervals of work stay unpaid.
    #[arg(long, default_value = "120s")]
    pub settle_every: SettleEvery,
    /// A co-signing service to ask for co-signatures (`tessera attest serve`), with the
    /// receipt and its evidence; repeat for each. Without any, receipts wait in --cosign-dir.
    #[arg(long = "attestor", value_name = "URL")]
    pub attestors: Vec<String>,
    /// Folder where receipts wait for co-signatures: co-signers run `tessera receipt cosign`
    /// on the files there (default: cosign/ in --data-dir).
    #[arg(long, env = "TESSERA_COSIGN_DIR")]
    pub cosign_dir: Option<PathBuf>,
    /// Folder of spec documents, named by their SHA-256 (default: specs/ in --data-dir).
    #[arg(long, env = "TESSERA_SPECS")]
    pub specs: Option<PathBuf>,
    /// Folder where results are published, one folder per job (default: results/ in
    /// --data-dir).
    #[arg(long, env = "TESSERA_RESULTS")]
    pub results: Option<PathBuf>,
    /// The worker's store (default: worker.redb in --data-dir).
    #[arg(long, env = "TESSERA_WORKER_STORE")]
    pub store: Option<PathBuf>,
    /// Address bandwidth jobs' relays listen on, each on a free port it reports. Each
    /// connection must begin with the job's relay token, signed by its client (`tessera job
    /// relay-token`).
    #[arg(long, default_value = "127.0.0.1")]
    pub relay_listen: std::net::IpAddr,
    /// Take bandwidth jobs whose relay target is a loopback, private or link-local address,
    /// or one of this machine's own (the provider's own machine or network); without it only
    /// public targets of other machines are relayed.
    #[arg(long)]
    pub relay_allow_private: bool,
    /// A command line a spec's external command may be, word for word, where `{}` (or
    /// `{name}`) is a slot the spec fills with one argument not beginning with -; repeatable.
    /// E.g. '/usr/bin/docker run --rm --network=none --gpus device=0 registry.example/infer:1
    /// {model}'. A spec's command that no line admits is not taken, and the worker says why.
    #[arg(long = "allow-command", value_name = "LINE")]
    pub allowed_commands: Vec<crate::command::Allowed>,
    /// Where the built-in workload's matrix products run: `auto` on a hardware GPU when wgpu
    /// finds one (Vulkan, Metal or DX12), else the CPU; `gpu` on the best adapter there is,
    /// a software one such as lavapipe included, and the worker stops when there is none;
    /// `cpu` on the CPU. The products are the same bit for bit on every device.
    #[arg(long, value_enum, default_value_t = crate::Device::Auto, env = "TESSERA_WORKER_DEVICE")]
    pub device: crate::Device,
    /// Seconds between looks at the ledger when nothing moved.
    #[arg(long, default_value_t = 2)]
    pub poll_secs: u64,
    /// One pass: do everything that can be done now, then exit.
    #[arg(long)]
    pub once: bool,
    /// Serve `/metrics` (Prometheus: jobs by state, units metered and settled, events, ledger
    /// errors) and `/health` (200 while the ledger answers the worker) here, e.g.
    /// 127.0.0.1:9700.
    #[arg(long, value_name = "ADDR", env = "TESSERA_WORKER_METRICS")]
    pub metrics: Option<std::net::SocketAddr>,
}

impl RunArgs {
    /// The configuration these flags give, with default folders under `data_dir` and the
    /// worker key read (default: `owner`, the provider owner's own key).
    pub fn config(&self, data_dir: &Path, owner: &Keypair) -> Result<Config> {
        let worker_key = match &self.worker_key {
            Some(path) => tessera_ledger::read_keypair(path)?,
            None => owner.insecure_clone(),
        };
        let under = |flag: &Option<PathBuf>, name: &str| {
            flag.clone().unwrap_or_else(|| data_dir.join(name))
        };
        Ok(Config {
            worker_key,
            paths: Paths {
                store: under(&self.store, "worker.redb"),
                specs: under(&self.specs, "specs"),
                results: under(&self.results, "results"),
                cosign_dir: under(&self.cosign_dir, "cosign"),
            },
            policy: Policy {
                accept_open: self.accept_open,
                min_price: self.min_price.clone(),
                max_units: self.max_units,
                unit_kind: self.unit_kind.map(Into::into),
            },
            settle_every: self.settle_every,
            once: self.once,
            poll: Duration::from_secs(self.poll_secs.max(1)),
            relay_listen: self.relay_listen,
            relay_allow_private: self.relay_allow_private,
            allowed_commands: self.allowed_commands.clone(),
            attestors: self.attestors.clone(),
            metrics: self.metrics,
            device: self.device,
        })
    }
}

/// Where a running worker's events go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventsTo {
    /// Lines on stderr (and a live line per job on a terminal).
    Terminal,
    /// JSON lines on stdout.
    Json,
    /// The service's log (`tracing`).
    Log,
}

impl RunArgs {
    /// Runs the worker these flags describe on `target` (from `connection`) until it is
    /// stopped, or with `--once` until nothing can move, its events going `to` where it says.
    pub fn run(&self, connection: &Connection, target: &Target, to: EventsTo) -> Result<()> {
        let stdout = StdoutToStderr::new();
        let events = match to {
            EventsTo::Json => Events::Json(Box::new(stdout.original()?)),
            EventsTo::Log => Events::Log,
            EventsTo::Terminal if std::io::stderr().is_terminal() => Events::Live(Live::new()),
            EventsTo::Terminal => Events::Text,
        };
        let ledger = connection.open(target)?;
        let config = self.config(&connection.data_dir, &ledger.payer)?;
        let session = Session::new(&ledger, connection.network);
        let result = crate::run(&session, &config, events);
        ledger.close()?;
        result
    }
}
