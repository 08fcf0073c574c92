//! `tessera audit`: what an auditor with no key can verify. Reads every account of the program
//! and the vaults and mints they point at ([`books`]), checks them with the rules of
//! `tessera_client::rules` (the same the test fixture and the property run check), and reports
//! per network; `--csv` and `--report` write the same books out as tables and pictures.

pub mod books;
pub mod export;
pub mod report;

use crate::commands::Session;
use crate::view::{as_text, Outcome};
use anchor_lang::prelude::Pubkey;
use anyhow::Result;
use clap::Args;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use tessera::state::Job;
use tessera_client::rules::{self, Books, Finding};
use tessera_ledger::tokens::format_amount;
use tessera_ledger::Ledger;

/// `tessera audit` flags.
#[derive(Args, Debug, Default)]
pub struct AuditArgs {
    /// Also write the books as CSV files into this folder: jobs.csv, providers.csv, epochs.csv
    /// and claims.csv (claims read from the networks' transaction history).
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,
    /// Also write a self-contained HTML report with pictures: each network's emission schedule
    /// against what was minted per epoch, escrow held and paid over time, earnings per
    /// provider class (from the networks' transaction history).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
}

/// One network's line of the summary; amounts in its reward mint's tokens.
#[derive(Debug, Serialize)]
pub struct NetworkLine {
    pub network_id: u64,
    #[serde(serialize_with = "as_text")]
    pub network: Pubkey,
    pub providers: usize,
    pub open_jobs: usize,
    pub epochs: usize,
    pub open_work_records: usize,
    pub open_disputes: usize,
    pub staked: String,
    pub unbonding: String,
    pub emitted: String,
    pub violations: usize,
    pub information: usize,
}

/// What the audit looked at and what it found.
#[derive(Debug, Serialize)]
pub struct Report {
    pub networks: Vec<NetworkLine>,
    /// Rules that do not hold: each with its account, the expected and the actual figure.
    pub violations: Vec<Finding>,
    /// Worth knowing, not wrong: tokens someone sent to a vault, who gets them and when.
    pub information: Vec<Finding>,
    /// Ended jobs anyone may close now (`tessera job close`): not a problem, work to crank.
    pub closable_jobs: usize,
    /// Files `--csv` and `--report` wrote.
    pub written: Vec<String>,
}

impl Report {
    /// Whether every rule held.
    pub fn clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// What `tessera audit` prints; it fails (exit 1) when a rule does not hold. Information
    /// alone never fails it.
    pub fn outcome(&self) -> Result<Outcome> {
        let failure = (!self.clean())
            .then(|| format!("the audit found {} violations", self.violations.len()));
        Ok(Outcome::view(self)?.failing_with(failure))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>8} {:<44} {:>9} {:>9} {:>6} {:>8} {:>8} {:>16} {:>16} {:>16} {:>10} {:>5}",
            "network",
            "address",
            "providers",
            "open jobs",
            "epochs",
            "records",
            "disputes",
            "staked",
            "unbonding",
            "emitted",
            "violations",
            "info"
        )?;
        for line in &self.networks {
            write!(
                f,
                "\n{:>8} {:<44} {:>9} {:>9} {:>6} {:>8} {:>8} {:>16} {:>16} {:>16} {:>10} {:>5}",
                line.network_id,
                line.network.to_string(),
                line.providers,
                line.open_jobs,
                line.epochs,
                line.open_work_records,
                line.open_disputes,
                line.staked,
                line.unbonding,
                line.emitted,
                line.violations,
                line.information
            )?;
        }
        if self.clean() {
            write!(f, "\nevery rule holds")?;
        } else {
            write!(f, "\n{} violations:", self.violations.len())?;
            for finding in &self.violations {
                write!(f, "\n  {finding}")?;
            }
        }
        for finding in &self.information {
            write!(f, "\n  {finding}")?;
        }
        if self.closable_jobs > 0 {
            write!(
                f,
                "\n{} ended jobs may be closed now (`tessera job close JOB`)",
                self.closable_jobs
            )?;
        }
        for path in &self.written {
            write!(f, "\nwrote {path}")?;
        }
        Ok(())
    }
}

/// `tessera audit`: checks every rule, and writes the CSV files and the HTML report asked for.
pub fn audit(session: &Session, args: &AuditArgs) -> Result<Outcome> {
    let mut read = books::read(session.ledger)?;
    let mut report = check(&read.books, &read.mints)?;
    if args.csv.is_some() || args.report.is_some() {
        let history = report::History::read(session.ledger, &read.books)?;
        // Closed jobs paid in mints no live account names: their decimals, for the pictures.
        for mint in history.payment_mints() {
            if let std::collections::btree_map::Entry::Vacant(entry) = read.mints.entry(mint) {
                entry.insert(session.ledger.mint(&mint)?);
            }
        }
        if let Some(folder) = &args.csv {
            report
                .written
                .extend(export::write_csv(folder, &read, &history)?);
        }
        if let Some(path) = &args.report {
            report::write_html(path, &read, &history, &report)?;
            report.written.push(path.display().to_string());
        }
    }
    report.outcome()
}

/// Audits every account on the ledger (the quickstart's last step).
pub fn run(ledger: &Ledger) -> Result<Report> {
    let read = books::read(ledger)?;
    check(&read.books, &read.mints)
}

/// The sum of `amounts`, at most `u64::MAX`.
fn sum(amounts: impl Iterator<Item = u64>) -> u64 {
    amounts.fold(0, u64::saturating_add)
}

/// Checks `books` and sums each network up.
fn check(
    books: &Books,
    mints: &std::collections::BTreeMap<Pubkey, tessera_ledger::tokens::Mint>,
) -> Result<Report> {
    let findings = rules::audit(books);
    let (violations, information): (Vec<Finding>, Vec<Finding>) =
        findings.into_iter().partition(Finding::is_violation);
    let mut networks = Vec::new();
    for (address, network) in &books.networks {
        let decimals = mints
            .get(&network.reward_mint)
            .map_or(0, |mint| mint.decimals);
        let of_network = |finding: &&Finding| finding.network == Some(*address);
        let providers: Vec<_> = books
            .providers
            .values()
            .filter(|provider| provider.network == *address)
            .collect();
        let jobs: Vec<&Job> = books
            .jobs
            .values()
            .filter(|job| job.network == *address)
            .collect();
        networks.push(NetworkLine {
            network_id: network.network_id,
            network: *address,
            providers: providers.len(),
            open_jobs: jobs.len(),
            epochs: books
                .epochs
                .values()
                .filter(|epoch| epoch.network == *address)
                .count(),
            open_work_records: books
                .work_records
                .values()
                .filter(|record| record.network == *address)
                .count(),
            open_disputes: jobs.iter().filter(|job| job.dispute_open).count(),
            // Saturating: corrupt books must still print.
            staked: format_amount(sum(providers.iter().map(|p| p.stake)), decimals),
            unbonding: format_amount(sum(providers.iter().map(|p| p.unbonding_amount)), decimals),
            emitted: format_amount(network.totals.emitted, decimals),
            violations: violations.iter().filter(of_network).count(),
            information: information.iter().filter(of_network).count(),
        });
    }
    let mut closable_jobs = 0;
    for job in books.jobs.values() {
        let Some(network) = books.networks.get(&job.network) else {
            continue;
        };
        let paused_secs = network.settlement_pauses.paused_secs_at(books.now)?;
        if job.has_ended() && !job.dispute_open && books.now >= job.closes_at(paused_secs)? {
            closable_jobs += 1;
        }
    }
    Ok(Report {
        networks,
        violations,
        information,
        closable_jobs,
        written: Vec::new(),
    })
}
