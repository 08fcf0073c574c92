//! Recomputes every balance from the program's accounts and checks the invariants of
//! docs/design.md: what an auditor with no key can verify.

use crate::ledger::Ledger;
use anchor_lang::prelude::Pubkey;
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
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
}

/// Audits every network, provider, job and epoch on the ledger.
pub fn run(ledger: &Ledger) -> Result<Report> {
    let mut report = Report::default();
    let networks: Vec<(Pubkey, Network)> = ledger.all()?;
    let providers: Vec<(Pubkey, Provider)> = ledger.all()?;
    let jobs: Vec<(Pubkey, Job)> = ledger.all()?;
    let epochs: Vec<(Pubkey, Epoch)> = ledger.all()?;
    report.networks = networks.len();
    report.providers = providers.len();
    report.jobs = jobs.len();
    report.epochs = epochs.len();
    let mut sums: BTreeMap<Pubkey, [u64; 5]> = BTreeMap::new();
    let now = ledger.now()?;
    let by_address: BTreeMap<Pubkey, &Network> = networks.iter().map(|(a, n)| (*a, n)).collect();

    for (address, job) in &jobs {
        let vault = ledger.token_balance(&job.vault)?;
        let expected = job.deposited as i128
            - job.paid_out as i128
            - job.fees_paid as i128
            - job.refunded as i128;
        if vault as i128 != expected {
            report.findings.push(format!(
                "job {address}: vault holds {vault}, accounts say {expected}"
            ));
        }
        let gross = job.settled_units as u128 * job.price_per_unit as u128;
        if job.paid_out as u128 + job.fees_accrued as u128 != gross {
            report.findings.push(format!(
                "job {address}: paid {} + fees {} != settled {} x price {}",
                job.paid_out, job.fees_accrued, job.settled_units, job.price_per_unit
            ));
        }
        if job.settled_units > job.max_units {
            report.findings.push(format!(
                "job {address}: settled {} above max {}",
                job.settled_units, job.max_units
            ));
        }
        if !job.requirement.class.measures(job.unit_kind) {
            report.findings.push(format!(
                "job {address}: class {:?} does not count {:?}",
                job.requirement.class, job.unit_kind
            ));
        }
        if job.no_show && job.settled_units != 0 {
            report.findings.push(format!(
                "job {address}: cancelled as a no-show with {} units settled",
                job.settled_units
            ));
        }
        if let Some(network) = by_address.get(&job.network) {
            let paused_secs = network.settlement_pauses.paused_secs_at(now)?;
            if job.has_ended() && !job.dispute_open && now >= job.closes_at(paused_secs)? {
                report.closable_jobs += 1;
            }
        }
        let sum = sums.entry(job.network).or_default();
        sum[2] += 1;
        sum[4] += job.dispute_open as u64;
    }
    for (address, provider) in &providers {
        let vault = ledger.token_balance(&pda::stake_vault(address))?;
        if vault != provider.stake + provider.unbonding_amount {
            report.findings.push(format!(
                "provider {address}: stake vault holds {vault}, stake + unbonding is {}",
                provider.stake + provider.unbonding_amount
            ));
        }
        let sum = sums.entry(provider.network).or_default();
        sum[0] += 1;
        sum[1] += provider.stake;
        sum[3] += provider.unbonding_amount;
    }
    let mut claimed: BTreeMap<Pubkey, u64> = BTreeMap::new();
    for (address, epoch) in &epochs {
        if epoch.claimed > epoch.emission {
            report.findings.push(format!(
                "epoch {address}: claimed {} above its emission {}",
                epoch.claimed, epoch.emission
            ));
        }
        *claimed.entry(epoch.network).or_default() += epoch.claimed;
    }
    for (address, network) in &networks {
        if network.invariant().is_err() {
            report.findings.push(format!(
                "network {address}: parameters, emission schedule, attestor set or pause record \
                 out of range"
            ));
        }
        let sum = sums.get(address).copied().unwrap_or_default();
        let totals = &network.totals;
        let pairs = [
            ("providers", totals.providers, sum[0]),
            ("staked", totals.staked, sum[1]),
            ("open jobs", totals.open_jobs, sum[2]),
            ("unbonding", totals.unbonding, sum[3]),
            ("open disputes", totals.open_disputes, sum[4]),
            (
                "emitted",
                totals.emitted,
                claimed.get(address).copied().unwrap_or_default(),
            ),
        ];
        for (what, recorded, recomputed) in pairs {
            if recorded != recomputed {
                report.findings.push(format!(
                    "network {address}: {what} recorded {recorded}, recomputed {recomputed}"
                ));
            }
        }
        let mint = ledger
            .account(&network.reward_mint)?
            .context("the reward mint is gone")?;
        let supply = mint
            .data
            .get(36..44)
            .and_then(|bytes| bytes.try_into().ok())
            .map(u64::from_le_bytes)
            .unwrap_or_default();
        if supply != network.genesis_supply + totals.emitted {
            report.findings.push(format!(
                "network {address}: reward supply {supply} != genesis {} + emitted {}",
                network.genesis_supply, totals.emitted
            ));
        }
    }
    Ok(report)
}
