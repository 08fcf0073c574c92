//! `tessera attest …`: an attestor's co-signing service, and the making of an attestor
//! group's key.

use anyhow::{ensure, Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use tessera_attest::coordinator::Coordinator;
use tessera_attest::group;
pub use tessera_attest::service::{serve, ServeArgs};

#[derive(Subcommand)]
pub enum AttestCommand {
    /// Runs a co-signing service for --network: it reviews each receipt it is sent against
    /// the ledger and the receipt's evidence, then signs with --key (a per-key attestor, or a
    /// job's client) or as a member of an attestor group (--share). Its first line on stdout
    /// says where it listens. Ctrl-C or SIGTERM stops it.
    Serve(Box<ServeArgs>),
    /// Makes an attestor group's key by distributed key generation among running services
    /// (`attest serve --share FILE --dkg-coordinator KEY`, each in member order), as the
    /// coordinator --key: no one ever holds the group's secret. Prints the group key for
    /// `network set-attestors --group-key`. With --dealer, one process makes every share
    /// instead (local ledgers and tests only).
    Dkg(DkgArgs),
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
    /// Keypair file of the coordinator, which signs the key generation's requests: each
    /// service takes part only in those of the key it was started with (`attest serve
    /// --dkg-coordinator KEY`).
    #[arg(long, value_name = "FILE", required_unless_present = "dealer")]
    pub key: Option<PathBuf>,
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
    let key = args
        .key
        .as_deref()
        .context("--key names the coordinator's keypair file")?;
    let coordinator = tessera_ledger::read_keypair(key)?;
    let group_key = Coordinator::new(&args.services)?
        .signing_as(&coordinator)
        .generate_group(args.threshold)?;
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
