//! The co-signing service's front door, shared by `tessera attest serve` and the
//! `tessera-attest` binary: its flags, and the service run on an opened ledger.

use crate::gate::Limits;
use crate::group::ShareFile;
use crate::review::Sampling;
use crate::server::{self, Identity, ServeConfig};
use anchor_lang::prelude::Pubkey;
use anyhow::Result;
use clap::Args;
use solana_signer::Signer;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tessera_ledger::{signals, Ledger};

/// `attest serve`'s flags.
#[derive(Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:7800")]
    pub listen: SocketAddr,
    /// Keypair file to sign with (a per-key attestor, or a client co-signing its own jobs).
    #[arg(long, conflicts_with = "share", required_unless_present = "share")]
    pub key: Option<PathBuf>,
    /// The service's share of a group key; when the file does not exist yet, the service
    /// takes part in a key generation (`tessera attest dkg`) and writes it there (mode 0600).
    #[arg(long)]
    pub share: Option<PathBuf>,
    /// Run by a job's client with its own --key: co-sign only the jobs that key funded
    /// (payment, no emission). It checks evidence where a workload has some (the built-in
    /// workload); for an external command, which has none, it signs at most the device-time
    /// its own clock allows since the job was accepted (seconds x the spec's devices), the
    /// spec read from --specs. Anything else without evidence is refused.
    #[arg(long, requires = "key")]
    pub client: bool,
    /// With --client: sign whatever units a receipt of the client's jobs states, up to the
    /// job's max units, even without evidence or past the clock's bound: the client trusts
    /// the provider (its own machine, or one it has a contract with).
    #[arg(long, requires = "client")]
    pub trust_provider: bool,
    /// Check this many rounds of each request's new rounds with Freivalds' test, drawn at
    /// random, instead of every one (every round's digest is still chained). With w wrong
    /// rounds among m, a request passes with probability C(m-w, k) / C(m, k): one wrong round
    /// in 40 passes a sample of 10 three times in four. Default: every round.
    #[arg(long, value_name = "K")]
    pub sample: Option<u32>,
    /// Folder of the spec documents of the client's jobs (default: specs/ in --data-dir).
    #[arg(long, env = "TESSERA_SPECS")]
    pub specs: Option<PathBuf>,
    /// With --client: run the far end of the client's bandwidth jobs here (the address their
    /// spec names as the relay's target, `job create --relay ADDR`): it takes and counts every
    /// byte that arrives, and the service signs a bandwidth receipt for at most the bytes
    /// that arrived since it started (less what the client's other jobs to the same address
    /// settled). Without it, a client's service signs bandwidth only with --trust-provider.
    #[arg(long, value_name = "ADDR", requires = "client")]
    pub far_end: Option<SocketAddr>,
    /// Serve `/metrics` (Prometheus) and `/health` (200 while the ledger answers) here, apart
    /// from --listen; keep it off the internet (e.g. 127.0.0.1:9800).
    #[arg(long, value_name = "ADDR", env = "TESSERA_ATTEST_METRICS")]
    pub metrics: Option<SocketAddr>,
    /// With --share: the public key of the one coordinator whose key generations this service
    /// takes part in (`tessera attest dkg --key`); without it, it takes part in none.
    #[arg(long, value_name = "KEY", requires = "share")]
    pub dkg_coordinator: Option<Pubkey>,
    /// Serve HTTPS with this certificate chain (PEM), so that the service can face a network
    /// without a proxy in front of it.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// What the service lets in: connections, time, memory and rates.
#[derive(Args)]
pub struct LimitArgs {
    /// Connections open at once; more are closed when accepted.
    #[arg(long, default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,
    /// Connections one address may hold open at once.
    #[arg(long, default_value_t = Limits::default().connections_per_address)]
    pub max_connections_per_address: usize,
    /// Seconds a connection may take to send a request's headers (also how long an idle one
    /// is kept).
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().header_timeout.as_secs())]
    pub header_timeout: u64,
    /// Seconds a request may take from its headers to the answer, its body included.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().request_timeout.as_secs())]
    pub request_timeout: u64,
    /// MiB of memory for request bodies being read, all callers together (half of it is kept
    /// for callers whose signed requests it reviewed in the last 15 minutes); at least 64.
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().body_memory >> 20)]
    pub body_memory: usize,
    /// Requests per second that callers the service does not know yet may make together.
    #[arg(long, value_name = "N", default_value_t = Limits::default().strangers_per_second)]
    pub strangers_per_second: u32,
}

impl LimitArgs {
    /// The limits these flags set; refused when the bodies' memory cannot hold a request of
    /// the largest size in each half.
    pub fn limits(&self) -> Result<Limits> {
        let least = 2 * (crate::wire::MAX_REQUEST_BYTES >> 20);
        anyhow::ensure!(
            self.body_memory >= least,
            "--body-memory {} MiB is too little: a co-signing request may be {} MiB, and each half \
             of the bodies' memory (one for everyone, one kept for callers the service knows) \
             must hold one; give at least {least}",
            self.body_memory,
            least / 2
        );
        Ok(Limits {
            max_connections: self.max_connections.max(1),
            connections_per_address: self.max_connections_per_address.max(1),
            header_timeout: Duration::from_secs(self.header_timeout.max(1)),
            request_timeout: Duration::from_secs(self.request_timeout.max(1)),
            body_memory: self.body_memory << 20,
            strangers_per_second: self.strangers_per_second.max(1),
        })
    }
}

/// `attest serve` on the opened ledger: serves until stopped.
pub fn serve(ledger: &Ledger, network: Pubkey, args: &ServeArgs) -> Result<()> {
    let mut client = None;
    let identity = match (&args.key, &args.share) {
        (Some(path), _) => {
            let keypair = tessera_ledger::read_keypair(path)?;
            client = args.client.then(|| keypair.pubkey());
            Identity::Key(keypair)
        }
        (None, Some(path)) if path.exists() => Identity::Group {
            share: Some(Box::new(ShareFile::load(path)?)),
            path: path.clone(),
        },
        (None, Some(path)) => Identity::Group {
            share: None,
            path: path.clone(),
        },
        (None, None) => unreachable!("clap requires --key or --share"),
    };
    let rpc_url = {
        ledger.rpc()?;
        ledger.url()
    };
    signals::catch_stop();
    let config = ServeConfig {
        listen: args.listen,
        identity,
        network,
        rpc_url,
        client,
        trust_provider: args.trust_provider,
        sampling: match args.sample {
            Some(rounds) if rounds > 0 => Sampling::Rounds(rounds),
            _ => Sampling::Every,
        },
        specs: args
            .specs
            .clone()
            .unwrap_or_else(|| PathBuf::from(".tessera/specs")),
        far_end: args.far_end,
        metrics: args.metrics,
        dkg_coordinator: args.dkg_coordinator,
        limits: args.limits.limits()?,
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
    };
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    server::serve(config, |listening| {
        let mut line =
            serde_json::json!({ "listening": format!("{scheme}://{}", listening.service) });
        if let Some(far_end) = listening.far_end {
            line["far_end"] = far_end.to_string().into();
        }
        if let Some(metrics) = listening.metrics {
            line["metrics"] = format!("http://{metrics}").into();
        }
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    })
}
