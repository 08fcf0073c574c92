//! Recomputes every balance from the program's accounts and checks the invariants of
//! docs/design.md: what an auditor with no key can verify.

use crate::ledger::Ledger;
use crate::tokens::Mint;
use crate::view::{Indented, Outcome};
use anchor_lang::prelude::Pubkey;
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use tessera::state::{Epoch, Job, Network, Provider};
use tessera_client::pda;

/// What the audit looked at and what it found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub networks: usize,
    pub providers: usize,
    pub jobs: usize,
    pub epochs: usize,
    /// Ended jobs anyone may close now (`tessera job close`): not a problem, work to crank.
    pub closable_jobs: usize,
    /// Each broken invariant, in words.
    pub findings: Vec<String>,
}

impl Report {
    /// Whether every invariant held.
    pub fn clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// What `tessera audit` prints; it fails (exit 1) unless the report is clean.
    pub fn outcome(&self) -> Result<Outcome> {
        let failure = (!self.clean()).then(|| "the audit found problems".to_string());
        Ok(Outcome::view(self)?.failing_with(failure))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "audited {} networks, {} providers, {} jobs, {} epochs: ",
            self.networks, self.providers, self.jobs, self.epochs
        )?;
        if self.clean() {
            write!(f, "every invariant holds")?;
        } else {
            write!(f, "{} problems", self.findings.len())?;
        }
        if self.closable_jobs > 0 {
            write!(
                f,
                "\n  {} ended jobs may be closed now (`tessera job close JOB`)",
                self.closable_jobs
            )?;
        }
        write!(f, "{}", Indented(&self.findings))
    }
}

/// A network's totals as recomputed from the accounts that belong to it.
#[derive(Clone, Copy, Default)]
struct Recomputed {
    providers: u64,
    staked: u64,
    /// Job accounts not closed yet.
    open_jobs: u64,
    unbonding: u64,
    open_disputes: u64,
    /// Reward tokens minted by claims on the network's epochs.
    emitted: u64,
}

/// Every account the audit reads, and what it has found so far.
struct Audit<'a> {
    ledger: &'a Ledger,
    now: i64,
    networks: BTreeMap<Pubkey, Network>,
    recomputed: BTreeMap<Pubkey, Recomputed>,
    report: Report,
}

/// Audits every network, provider, job and epoch on the ledger.
pub fn run(ledger: &Ledger) -> Result<Report> {
    let networks: Vec<(Pubkey, Network)> = ledger.all()?;
    let providers: Vec<(Pubkey, Provider)> = ledger.all()?;
    let jobs: Vec<(Pubkey, Job)> = ledger.all()?;
    let epochs: Vec<(Pubkey, Epoch)> = ledger.all()?;
    let mut audit = Audit {
        ledger,
        now: ledger.now()?,
        report: Report {
            networks: networks.len(),
            providers: providers.len(),
            jobs: jobs.len(),
            epochs: epochs.len(),
            ..Report::default()
        },
        networks: networks.into_iter().collect(),
        recomputed: BTreeMap::new(),
    };
    for (address, job) in &jobs {
        audit.job(address, job)?;
    }
    for (address, provider) in &providers {
        audit.provider(address, provider)?;
    }
    for (address, epoch) in &epochs {
        audit.epoch(address, epoch);
    }
    let networks = std::mem::take(&mut audit.networks);
    for (address, network) in &networks {
        audit.network(address, network)?;
    }
    Ok(audit.report)
}

impl Audit<'_> {
    fn find(&mut self, finding: String) {
        self.report.findings.push(finding);
    }

    /// Invariant 1 (the job's books and its vault), and whether it may close now.
    fn job(&mut self, address: &Pubkey, job: &Job) -> Result<()> {
        let vault = self.ledger.token_balance(&job.vault)?;
        let expected = job.deposited as i128
            - job.paid_out as i128
            - job.fees_paid as i128
            - job.refunded as i128;
        if vault as i128 != expected {
            self.find(format!(
                "job {address}: vault holds {vault}, accounts say {expected}"
            ));
        }
        let gross = job.settled_units as u128 * job.price_per_unit as u128;
        if job.paid_out as u128 + job.fees_accrued as u128 != gross {
            self.find(format!(
                "job {address}: paid {} + fees {} != settled {} x price {}",
                job.paid_out, job.fees_accrued, job.settled_units, job.price_per_unit
            ));
        }
        if job.settled_units > job.max_units {
            self.find(format!(
                "job {address}: settled {} above max {}",
                job.settled_units, job.max_units
            ));
        }
        self.job_rules(address, job);
        if self.closable(job)? {
            self.report.closable_jobs += 1;
        }
        let sums = self.recomputed.entry(job.network).or_default();
        sums.open_jobs += 1;
        sums.open_disputes += job.dispute_open as u64;
        Ok(())
    }

    /// The economic rules a job keeps: its unit is one its class measures, and a no-show
    /// settled nothing.
    fn job_rules(&mut self, address: &Pubkey, job: &Job) {
        if !job.requirement.class.measures(job.unit_kind) {
            self.find(format!(
                "job {address}: class {:?} does not count {:?}",
                job.requirement.class, job.unit_kind
            ));
        }
        if job.no_show && job.settled_units != 0 {
            self.find(format!(
                "job {address}: cancelled as a no-show with {} units settled",
                job.settled_units
            ));
        }
    }

    /// Whether anyone may close `job` now.
    fn closable(&self, job: &Job) -> Result<bool> {
        let Some(network) = self.networks.get(&job.network) else {
            return Ok(false);
        };
        let paused_secs = network.settlement_pauses.paused_secs_at(self.now)?;
        Ok(job.has_ended() && !job.dispute_open && self.now >= job.closes_at(paused_secs)?)
    }

    /// Invariant 2: the stake vault holds the stake and the unbonding stake.
    fn provider(&mut self, address: &Pubkey, provider: &Provider) -> Result<()> {
        let vault = self.ledger.token_balance(&pda::stake_vault(address))?;
        if vault != provider.stake + provider.unbonding_amount {
            self.find(format!(
                "provider {address}: stake vault holds {vault}, stake + unbonding is {}",
                provider.stake + provider.unbonding_amount
            ));
        }
        let sums = self.recomputed.entry(provider.network).or_default();
        sums.providers += 1;
        sums.staked += provider.stake;
        sums.unbonding += provider.unbonding_amount;
        Ok(())
    }

    /// Invariant 3: claims never exceed the epoch's emission.
    fn epoch(&mut self, address: &Pubkey, epoch: &Epoch) {
        if epoch.claimed > epoch.emission {
            self.find(format!(
                "epoch {address}: claimed {} above its emission {}",
                epoch.claimed, epoch.emission
            ));
        }
        self.recomputed.entry(epoch.network).or_default().emitted += epoch.claimed;
    }

    /// Invariant 4: the network's parameters are in range, its totals equal the sums over its
    /// accounts, and its reward mint's supply is the genesis supply plus what was emitted.
    fn network(&mut self, address: &Pubkey, network: &Network) -> Result<()> {
        if network.invariant().is_err() {
            self.find(format!(
                "network {address}: parameters, emission schedule, attestor set or pause record \
                 out of range"
            ));
        }
        let sums = self.recomputed.get(address).copied().unwrap_or_default();
        let totals = &network.totals;
        let pairs = [
            ("providers", totals.providers, sums.providers),
            ("staked", totals.staked, sums.staked),
            ("open jobs", totals.open_jobs, sums.open_jobs),
            ("unbonding", totals.unbonding, sums.unbonding),
            ("open disputes", totals.open_disputes, sums.open_disputes),
            ("emitted", totals.emitted, sums.emitted),
        ];
        for (what, recorded, recomputed) in pairs {
            if recorded != recomputed {
                self.find(format!(
                    "network {address}: {what} recorded {recorded}, recomputed {recomputed}"
                ));
            }
        }
        let supply = self.reward_supply(network)?;
        if supply != network.genesis_supply + totals.emitted {
            self.find(format!(
                "network {address}: reward supply {supply} != genesis {} + emitted {}",
                network.genesis_supply, totals.emitted
            ));
        }
        Ok(())
    }

    /// The supply of the network's reward mint, in base units.
    fn reward_supply(&self, network: &Network) -> Result<u64> {
        let mint = self
            .ledger
            .account(&network.reward_mint)?
            .context("the reward mint is gone")?;
        let (_, state) = Mint::unpack(&network.reward_mint, &mint.owner, &mint.data)?;
        Ok(state.supply)
    }
}
