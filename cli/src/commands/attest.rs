//! `tessera attest …`: an attestor's co-signing service, and the making of an attestor
//! group's key.

use crate::attest::coordinator::Coordinator;
use crate::attest::server::{self, Identity, ServeConfig};
use crate::ledger::{self, Ledger};
use anyhow::{ensure, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use solana_signer::Signer;
use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use tessera_attest::group::{self, ShareFile};
use tessera_attest::review::Sampling;

#[derive(Subcommand)]
pub enum AttestCommand {
    /// Runs a co-signing service for --network: it reviews each receipt it is sent against
    /// the ledger and the receipt's evidence, then signs with --key (a per-key attestor, or a
    /// job's client) or as a member of an attestor group (--share). Its first line on stdout
    /// says where it listens. Ctrl-C or SIGTERM stops it.
    Serve(ServeArgs),
    /// Makes an attestor group's key by distributed key generation among running services
    /// (`attest serve --share FILE`, each in member order): no one ever holds the group's
    /// secret. Prints the group key for `network set-attestors --group-key`. With --dealer, one
    /// process makes every share instead (local ledgers and tests only).
    Dkg(DkgArgs),
}

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
}

/// `attest dkg`'s flags.
#[derive(Args)]
pub struct DkgArgs {
    /// Base URL of a member's service (`http://127.0.0.1:7801`); repeat for each, in member
    /// order.
    #[arg(
        long = "service",
        value_name = "URL",
        required_unless_present = "dealer"
    )]
    pub services: Vec<String>,
    /// Signatures of members the group needs.
    #[arg(long)]
    pub threshold: u16,
    /// Make every share in this process (local ledgers and tests only): the dealer sees the
    /// group's secret.
    #[arg(long, requires_all = ["members", "out"])]
    pub dealer: bool,
    /// With --dealer: members of the group.
    #[arg(long)]
    pub members: Option<u16>,
    /// With --dealer: folder to write share-1.json … share-N.json in.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `attest serve` on the opened ledger: serves until stopped.
pub fn serve(
    ledger: &Ledger,
    network: anchor_lang::prelude::Pubkey,
    args: &ServeArgs,
) -> Result<()> {
    let mut client = None;
    let identity = match (&args.key, &args.share) {
        (Some(path), _) => {
            let keypair = ledger::read_keypair(path)?;
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
    crate::signals::catch_stop();
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
    };
    server::serve(config, |address, far_end| {
        let mut line = serde_json::json!({ "listening": format!("http://{address}") });
        if let Some(far_end) = far_end {
            line["far_end"] = far_end.to_string().into();
        }
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    })
}

/// `attest dkg`.
pub fn dkg(args: &DkgArgs) -> Result<GroupMade> {
    if args.dealer {
        let (members, out) = (
            args.members.unwrap_or(0),
            args.out.clone().unwrap_or_default(),
        );
        ensure!(
            (1..=members).contains(&args.threshold),
            "--threshold must be 1..=--members"
        );
        std::fs::create_dir_all(&out)?;
        let shares = group::dealer(args.threshold, members)?;
        let mut files = Vec::new();
        for (index, share) in shares.iter().enumerate() {
            let path = out.join(format!("share-{}.json", index + 1));
            share.save(&path)?;
            files.push(path.display().to_string());
        }
        return Ok(GroupMade {
            group_key: shares[0].group_key.clone(),
            threshold: args.threshold,
            members,
            shares: files,
        });
    }
    let group_key = Coordinator::new(&args.services)?.generate_group(args.threshold)?;
    Ok(GroupMade {
        group_key: group_key.to_string(),
        threshold: args.threshold,
        members: args.services.len() as u16,
        shares: Vec::new(),
    })
}

/// `attest dkg`: the group key made.
#[derive(Serialize)]
pub struct GroupMade {
    pub group_key: String,
    pub threshold: u16,
    pub members: u16,
    /// Share files written (dealer mode).
    pub shares: Vec<String>,
}

impl fmt::Display for GroupMade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "group key {} ({}-of-{}); set it with `tessera network set-attestors --group-key {} \
             --threshold {} --members {}`",
            self.group_key,
            self.threshold,
            self.members,
            self.group_key,
            self.threshold,
            self.members
        )?;
        for share in &self.shares {
            write!(f, "\n  wrote {share}")?;
        }
        Ok(())
    }
}
