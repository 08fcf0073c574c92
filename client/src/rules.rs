//! The rules Tessera's accounts keep, in one place: what each account must hold on its own
//! (the program's `invariant()`s, which run inside the instructions that change an account)
//! and what accounts must hold together, which no single instruction sees: vaults against the
//! books, stake vaults against stake and unbonding, epochs against their work records and
//! claims, each network's totals against the sums over its accounts, and the reward mint's
//! supply against the genesis supply plus the claims.
//!
//! Pure functions over decoded accounts and token balances, returning [`Finding`]s. `tessera
//! audit`, the test fixture and the property run all call them, so the rules are written once.
//! The formulas themselves (a job's escrow balance, its fees, the emission schedule, a claim's
//! share) are the program's own methods.
//!
//! A token account accepts transfers from anyone, so a vault may hold more than the books say:
//! the program tolerates that surplus by design (a job's goes to its client at close, a stake
//! vault's to its owner at deregistration). It is reported as [`Severity::Information`], never
//! as a violation.

use anchor_lang::prelude::Pubkey;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use tessera::instructions::share_of;
use tessera::state::{
    Dispute, Epoch, Job, JobStatus, Network, NetworkTotals, Provider, WorkRecord,
};

/// Whether a finding breaks a rule or only tells something worth knowing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A rule does not hold: the books and the ledger disagree.
    Violation,
    /// Nothing is wrong; an auditor may still want to know (tokens anyone sent to a vault).
    Information,
}

/// Which rule a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A job's deposit is its price times its maximum units.
    JobDeposit,
    /// A job settles at most its maximum units.
    JobSettledUnits,
    /// Paid out plus fees accrued is the settled units times the price.
    JobPayments,
    /// Fees accrued are floor(gross × fee bps / 10⁴) of the settled units; fees paid at most those.
    JobFees,
    /// The escrow vault holds at least deposited − paid out − fees paid − refunded.
    JobVault,
    /// The escrow vault holds more than the books owe (information).
    JobVaultSurplus,
    /// A job counts a unit its class measures.
    JobUnitKind,
    /// A job nobody accepted, and a no-show, settled nothing.
    JobSettledWhileIdle,
    /// A job's `dispute_open` flag and its dispute account agree.
    JobDispute,
    /// The stake vault holds at least stake + unbonding.
    StakeVault,
    /// The stake vault holds more than stake + unbonding (information).
    StakeVaultSurplus,
    /// An unbonding amount has an end time, and no end time has no amount.
    Unbonding,
    /// A provider's spec fits its class.
    ProviderSpec,
    /// A provider's running-job count is the number of its Running jobs.
    ProviderRunningJobs,
    /// A provider's open-dispute count is the number of its jobs with a dispute open.
    ProviderOpenDisputes,
    /// A provider's stake stays slashable over every dispute window its attested work opened.
    ProviderSlashable,
    /// An epoch's emission is the schedule's for its index.
    EpochEmission,
    /// Claims on an epoch never exceed its emission.
    EpochClaimed,
    /// An epoch's open-record count is the number of its work records.
    EpochWorkRecords,
    /// The tallied work records of an epoch add up to its total units (at most, once claims
    /// closed some).
    EpochUnits,
    /// Nothing is claimed before every record is tallied; then what is claimed plus what the
    /// open records will claim fits in the emission.
    EpochClaims,
    /// Every work record belongs to an existing epoch.
    WorkRecordEpoch,
    /// An epoch's tallied-record count is its tallied open records plus its claimed ones.
    EpochTally,
    /// A network's parameters, schedule, attestor set and pause record are in range.
    NetworkParameters,
    /// A network total equals the sum over the accounts it counts.
    NetworkTotals,
    /// The reward mint's supply is the genesis supply plus what claims minted.
    RewardSupply,
}

impl fmt::Display for Rule {
    /// The rule's name as JSON writes it: `job-vault`, `epoch-units`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (at, letter) in format!("{self:?}").chars().enumerate() {
            if letter.is_ascii_uppercase() && at > 0 {
                f.write_str("-")?;
            }
            write!(f, "{}", letter.to_ascii_lowercase())?;
        }
        Ok(())
    }
}

/// How the actual figure must compare with the expected one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Comparison {
    #[serde(rename = "=")]
    Equal,
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<=")]
    AtMost,
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Comparison::Equal => "=",
            Comparison::AtLeast => ">=",
            Comparison::AtMost => "<=",
        })
    }
}

/// One thing the rules found about one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub rule: Rule,
    /// The account the finding is about.
    #[serde(serialize_with = "as_base58")]
    pub account: Pubkey,
    /// The network it belongs to, when known.
    #[serde(serialize_with = "as_optional_base58")]
    pub network: Option<Pubkey>,
    /// The figure compared, in words ("vault balance", "staked"); amounts in base units.
    pub what: String,
    /// What the books say the figure must be. A rule with no figure (a flag, a pair of fields
    /// that go together) reports 1 expected and 0 found: it should hold and does not.
    pub expected: u128,
    pub comparison: Comparison,
    /// What the ledger holds.
    pub actual: u128,
    /// Why, or for information what happens to it and who may act.
    pub note: String,
}

impl Finding {
    /// Whether it breaks a rule.
    pub fn is_violation(&self) -> bool {
        self.severity == Severity::Violation
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Violation => "violation",
            Severity::Information => "information",
        };
        write!(
            f,
            "{kind} [{}] {}: {} is {}, expected {} {}",
            self.rule, self.account, self.what, self.actual, self.comparison, self.expected
        )?;
        if !self.note.is_empty() {
            write!(f, " ({})", self.note)?;
        }
        Ok(())
    }
}

fn as_base58<S: Serializer>(key: &Pubkey, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(key)
}

fn as_optional_base58<S: Serializer>(
    key: &Option<Pubkey>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match key {
        Some(key) => serializer.collect_str(key),
        None => serializer.serialize_none(),
    }
}

/// Collects findings about one account.
struct Findings<'a> {
    account: Pubkey,
    network: Option<Pubkey>,
    found: &'a mut Vec<Finding>,
}

impl Findings<'_> {
    /// Records a violation of `rule` unless `actual` compares with `expected` as `comparison` says;
    /// returns whether the rule held.
    fn require(
        &mut self,
        rule: Rule,
        what: &str,
        expected: u128,
        comparison: Comparison,
        actual: u128,
    ) -> bool {
        let holds = match comparison {
            Comparison::Equal => actual == expected,
            Comparison::AtLeast => actual >= expected,
            Comparison::AtMost => actual <= expected,
        };
        if !holds {
            self.push(
                Severity::Violation,
                rule,
                what,
                expected,
                comparison,
                actual,
                "",
            );
        }
        holds
    }

    /// Records a violation of `rule` unless `holds`: a rule with no figure (a flag, a pair).
    fn require_that(&mut self, rule: Rule, what: &str, holds: bool, note: &str) -> bool {
        if !holds {
            self.push(
                Severity::Violation,
                rule,
                what,
                1,
                Comparison::Equal,
                0,
                note,
            );
        }
        holds
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        severity: Severity,
        rule: Rule,
        what: &str,
        expected: u128,
        comparison: Comparison,
        actual: u128,
        note: &str,
    ) {
        self.found.push(Finding {
            severity,
            rule,
            account: self.account,
            network: self.network,
            what: what.to_string(),
            expected,
            comparison,
            actual,
            note: note.to_string(),
        });
    }
}

/// A formula of the program that overflowed: the books hold numbers no instruction can produce.
fn figure(value: anchor_lang::Result<u64>) -> Option<u128> {
    value.ok().map(u128::from)
}

/// Invariant 1 of docs/design.md, the checks `Job::invariant` makes: the job's own books, and
/// its escrow vault (`vault_balance`, base units) against them. Surplus in the vault is
/// information, given when the books themselves hold.
pub fn job_books(address: &Pubkey, job: &Job, vault_balance: u64) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut check = Findings {
        account: *address,
        network: Some(job.network),
        found: &mut found,
    };
    let overflow = u128::from(u64::MAX) + 1;
    let deposit = (job.price_per_unit as u128) * (job.max_units as u128);
    let mut holds = check.require(
        Rule::JobDeposit,
        "deposited",
        deposit,
        Comparison::Equal,
        job.deposited as u128,
    );
    holds &= check.require(
        Rule::JobSettledUnits,
        "settled units",
        job.max_units as u128,
        Comparison::AtMost,
        job.settled_units as u128,
    );
    let gross = figure(job.gross(job.settled_units)).unwrap_or(overflow);
    holds &= check.require(
        Rule::JobPayments,
        "paid out + fees accrued",
        gross,
        Comparison::Equal,
        job.paid_out as u128 + job.fees_accrued as u128,
    );
    let fees = figure(job.fees_on(job.settled_units)).unwrap_or(overflow);
    holds &= check.require(
        Rule::JobFees,
        "fees accrued",
        fees,
        Comparison::Equal,
        job.fees_accrued as u128,
    );
    holds &= check.require(
        Rule::JobFees,
        "fees paid",
        job.fees_accrued as u128,
        Comparison::AtMost,
        job.fees_paid as u128,
    );
    job_vault(&mut check, job, vault_balance, holds);
    found
}

/// The job's escrow vault against its books (part of [`job_books`]): it holds at least what
/// the job still owes; surplus is information, given when the books (`books_hold`) hold.
fn job_vault(check: &mut Findings, job: &Job, vault_balance: u64, books_hold: bool) {
    let owed = figure(job.escrow_balance());
    let vault = vault_balance as u128;
    match owed {
        None => {
            check.require_that(
                Rule::JobVault,
                "escrow balance",
                false,
                "paid out, fees paid and refunds exceed the deposit",
            );
        }
        Some(owed) => {
            let covered = check.require(
                Rule::JobVault,
                "vault balance",
                owed,
                Comparison::AtLeast,
                vault,
            );
            if covered && books_hold && vault > owed {
                let note = format!(
                    "{} base units beyond the escrow, sent by someone; `job close` (anyone, once \
                     the job may close) returns the whole vault to the client {}",
                    vault - owed,
                    job.client
                );
                check.push(
                    Severity::Information,
                    Rule::JobVaultSurplus,
                    "vault balance",
                    owed,
                    Comparison::Equal,
                    vault,
                    &note,
                );
            }
        }
    }
}

/// Every rule of one job alone: its books and vault ([`job_books`]), a unit its class measures,
/// nothing settled on a job nobody accepted or on a no-show.
pub fn job(address: &Pubkey, job: &Job, vault_balance: u64) -> Vec<Finding> {
    let mut found = job_books(address, job, vault_balance);
    let mut check = Findings {
        account: *address,
        network: Some(job.network),
        found: &mut found,
    };
    check.require_that(
        Rule::JobUnitKind,
        "unit kind",
        job.requirement.class.measures(job.unit_kind),
        &format!(
            "class {:?} does not count {:?}",
            job.requirement.class, job.unit_kind
        ),
    );
    let idle = job.status == JobStatus::Open || job.no_show;
    if idle {
        check.require(
            Rule::JobSettledWhileIdle,
            "settled units of a job nobody accepted or a no-show",
            0,
            Comparison::Equal,
            job.settled_units as u128,
        );
    }
    found
}

/// Invariant 2 of docs/design.md, the checks `Provider::invariant` makes: the stake vault
/// (`vault_balance`, base units) holds stake + unbonding, the unbonding amount and its end go
/// together, the spec fits the class. Surplus in the vault is information.
pub fn provider(address: &Pubkey, provider: &Provider, vault_balance: u64) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut check = Findings {
        account: *address,
        network: Some(provider.network),
        found: &mut found,
    };
    let owed = provider.stake as u128 + provider.unbonding_amount as u128;
    let vault = vault_balance as u128;
    if check.require(
        Rule::StakeVault,
        "stake vault balance",
        owed,
        Comparison::AtLeast,
        vault,
    ) && vault > owed
    {
        let note = format!(
            "{} base units beyond stake + unbonding, sent by someone; `provider deregister` \
             returns them to the owner {}",
            vault - owed,
            provider.owner
        );
        check.push(
            Severity::Information,
            Rule::StakeVaultSurplus,
            "stake vault balance",
            owed,
            Comparison::Equal,
            vault,
            &note,
        );
    }
    check.require_that(
        Rule::Unbonding,
        "unbonding amount and end",
        (provider.unbonding_amount == 0) == (provider.unbonding_ends_at == 0),
        &format!(
            "unbonding {} ends at {}",
            provider.unbonding_amount, provider.unbonding_ends_at
        ),
    );
    check.require_that(
        Rule::ProviderSpec,
        "spec",
        provider.spec.validate(provider.class).is_ok(),
        &format!("the spec does not fit class {:?}", provider.class),
    );
    found
}

/// Invariant 3 of docs/design.md, the checks `Epoch::invariant` makes: claims never exceed the
/// emission, and no more records are tallied or open than were opened.
pub fn epoch(address: &Pubkey, epoch: &Epoch) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut check = Findings {
        account: *address,
        network: Some(epoch.network),
        found: &mut found,
    };
    check.require(
        Rule::EpochClaimed,
        "claimed",
        epoch.emission as u128,
        Comparison::AtMost,
        epoch.claimed as u128,
    );
    check.require(
        Rule::EpochWorkRecords,
        "open work records, of those opened",
        epoch.work_records as u128,
        Comparison::AtMost,
        epoch.open_work_records as u128,
    );
    check.require(
        Rule::EpochTally,
        "tallied work records, of those opened",
        epoch.work_records as u128,
        Comparison::AtMost,
        epoch.tallied_records as u128,
    );
    found
}

/// The checks `Network::invariant` makes: parameters, schedule and attestor set in range,
/// emitted under the cap, the settlements pause flag and its clock agreeing.
pub fn network(address: &Pubkey, network: &Network) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut check = Findings {
        account: *address,
        network: Some(*address),
        found: &mut found,
    };
    let invalid = [
        ("parameters", network.params.validate().is_err()),
        ("emission schedule", network.emission.validate().is_err()),
        ("attestor set", network.attestors.invariant().is_err()),
        (
            "settlements pause flag and clock",
            network.pause.settlements != network.settlement_pauses.running(),
        ),
    ];
    for (what, out_of_range) in invalid {
        check.require_that(Rule::NetworkParameters, what, !out_of_range, "out of range");
    }
    check.require(
        Rule::NetworkParameters,
        "emitted",
        network.emission.supply_cap as u128,
        Comparison::AtMost,
        network.totals.emitted as u128,
    );
    found
}

/// Everything the rules read: the program's accounts by address, the balances of the token
/// accounts they point at, the supplies of the reward mints, and the ledger's clock. Complete
/// for the networks it holds: every account of theirs is in it.
#[derive(Debug, Default)]
pub struct Books {
    /// The ledger's clock, unix seconds.
    pub now: i64,
    pub networks: BTreeMap<Pubkey, Network>,
    pub providers: BTreeMap<Pubkey, Provider>,
    pub jobs: BTreeMap<Pubkey, Job>,
    pub epochs: BTreeMap<Pubkey, Epoch>,
    pub work_records: BTreeMap<Pubkey, WorkRecord>,
    pub disputes: BTreeMap<Pubkey, Dispute>,
    /// Token balances, base units, by token account (job vaults, stake vaults); an account
    /// missing here holds nothing.
    pub balances: BTreeMap<Pubkey, u64>,
    /// Supplies of the networks' reward mints, base units, by mint.
    pub supplies: BTreeMap<Pubkey, u64>,
}

impl Books {
    /// The token accounts whose balances the rules read: every job's escrow vault and every
    /// provider's stake vault.
    pub fn vaults(&self) -> Vec<Pubkey> {
        let jobs = self.jobs.values().map(|job| job.vault);
        let stakes = self.providers.keys().map(crate::pda::stake_vault);
        jobs.chain(stakes).collect()
    }

    fn balance(&self, account: &Pubkey) -> u64 {
        self.balances.get(account).copied().unwrap_or(0)
    }
}

/// A network's totals recomputed from the accounts they count.
#[derive(Default)]
struct Sums {
    providers: u64,
    staked: u128,
    unbonding: u128,
    open_jobs: u64,
    open_disputes: u64,
    emitted: u128,
}

/// Every rule over every account of `books`, each account alone and all together, in the
/// order of the accounts; violations and information.
pub fn audit(books: &Books) -> Vec<Finding> {
    let mut found = Vec::new();
    for (address, state) in &books.jobs {
        found.extend(job(address, state, books.balance(&state.vault)));
        job_dispute(books, address, state, &mut found);
    }
    for (address, state) in &books.providers {
        let vault = books.balance(&crate::pda::stake_vault(address));
        found.extend(provider(address, state, vault));
        provider_jobs(books, address, state, &mut found);
    }
    for (address, state) in &books.epochs {
        found.extend(epoch(address, state));
        epoch_records(books, address, state, &mut found);
    }
    for (address, record) in &books.work_records {
        let epoch = crate::pda::epoch(&record.network, record.epoch);
        Findings {
            account: *address,
            network: Some(record.network),
            found: &mut found,
        }
        .require_that(
            Rule::WorkRecordEpoch,
            "its epoch account",
            books.epochs.contains_key(&epoch),
            &format!("epoch {} ({epoch}) does not exist", record.epoch),
        );
    }
    for (address, state) in &books.networks {
        found.extend(network(address, state));
        network_sums(books, address, state, &mut found);
    }
    found
}

/// A job's `dispute_open` flag against its dispute account.
fn job_dispute(books: &Books, address: &Pubkey, job: &Job, found: &mut Vec<Finding>) {
    let dispute = books.disputes.contains_key(&crate::pda::dispute(address));
    Findings {
        account: *address,
        network: Some(job.network),
        found,
    }
    .require(
        Rule::JobDispute,
        "dispute accounts",
        job.dispute_open as u128,
        Comparison::Equal,
        dispute as u128,
    );
}

/// A provider's counters against its jobs: Running jobs, open disputes, and the latest dispute
/// window its attested settlements opened.
fn provider_jobs(books: &Books, address: &Pubkey, provider: &Provider, found: &mut Vec<Finding>) {
    let jobs: Vec<&Job> = books
        .jobs
        .values()
        .filter(|job| job.provider == *address)
        .collect();
    let running = jobs
        .iter()
        .filter(|job| job.status == JobStatus::Running)
        .count();
    let disputed = jobs.iter().filter(|job| job.dispute_open).count();
    let windows_end = jobs
        .iter()
        .filter(|job| job.last_attested_at != 0)
        .filter_map(|job| job.dispute_window_ends().ok())
        .max()
        .unwrap_or(0);
    let mut check = Findings {
        account: *address,
        network: Some(provider.network),
        found,
    };
    check.require(
        Rule::ProviderRunningJobs,
        "running jobs",
        running as u128,
        Comparison::Equal,
        provider.active_jobs as u128,
    );
    check.require(
        Rule::ProviderOpenDisputes,
        "open disputes",
        disputed as u128,
        Comparison::Equal,
        provider.open_disputes as u128,
    );
    if provider.slashable_until < windows_end {
        check.require_that(
            Rule::ProviderSlashable,
            "slashable until",
            false,
            &format!(
                "slashable until {}, but a dispute window of its work ends at {windows_end}",
                provider.slashable_until
            ),
        );
    }
}

/// An epoch against its network's schedule, its work records and its claims.
fn epoch_records(books: &Books, address: &Pubkey, epoch: &Epoch, found: &mut Vec<Finding>) {
    let records: Vec<&WorkRecord> = books
        .work_records
        .values()
        .filter(|record| record.network == epoch.network && record.epoch == epoch.index)
        .collect();
    let network = books.networks.get(&epoch.network);
    let mut check = Findings {
        account: *address,
        network: Some(epoch.network),
        found,
    };
    if let Some(network) = network {
        check.require(
            Rule::EpochEmission,
            "emission",
            network.emission.emission_for_epoch(epoch.index) as u128,
            Comparison::Equal,
            epoch.emission as u128,
        );
    }
    check.require(
        Rule::EpochWorkRecords,
        "open work records",
        records.len() as u128,
        Comparison::Equal,
        epoch.open_work_records as u128,
    );
    // Only claims close records, and only tallied ones.
    let claimed_records = epoch.work_records.saturating_sub(epoch.open_work_records);
    let tallied: Vec<&WorkRecord> = records.iter().copied().filter(|r| r.tallied).collect();
    let counted = check.require(
        Rule::EpochTally,
        "tallied work records (its open ones tallied, and its claimed ones)",
        tallied.len() as u128 + claimed_records as u128,
        Comparison::Equal,
        epoch.tallied_records as u128,
    );
    let units: u128 = tallied
        .iter()
        .fold(0u128, |sum, record| sum.saturating_add(record.units));
    // Until a claim closes a record, the tallied records hold every unit of the total;
    // afterwards they hold what is still unclaimed.
    let comparison = if claimed_records == 0 {
        Comparison::Equal
    } else {
        Comparison::AtMost
    };
    // With the count of tallied records wrong, which records the total holds is unknown.
    let fits = counted
        && check.require(
            Rule::EpochUnits,
            "total units of its tallied work records",
            epoch.total_units,
            comparison,
            units,
        );
    if !epoch.tallied() {
        // A claim whose share rounds to 0 mints nothing but still closes its record.
        check.require_that(
            Rule::EpochClaims,
            "claims before every work record was tallied",
            epoch.claimed == 0 && claimed_records == 0,
            &format!(
                "{claimed_records} record(s) claimed and {} minted with {} of {} tallied",
                epoch.claimed, epoch.tallied_records, epoch.work_records
            ),
        );
    } else if fits && epoch.claimed <= epoch.emission {
        let owed: u128 = records
            .iter()
            .filter(|record| record.units > 0)
            .map(|record| {
                share_of(epoch.emission, record.units, epoch.total_units)
                    .map_or(u128::MAX, u128::from)
            })
            .fold(0u128, u128::saturating_add);
        check.require(
            Rule::EpochClaims,
            "claimed + what its open work records will claim",
            epoch.emission as u128,
            Comparison::AtMost,
            (epoch.claimed as u128).saturating_add(owed),
        );
    }
}

/// A network's totals against the sums over its accounts, and its reward mint's supply.
fn network_sums(books: &Books, address: &Pubkey, network: &Network, found: &mut Vec<Finding>) {
    let mut sums = Sums::default();
    for provider in books.providers.values().filter(|p| p.network == *address) {
        sums.providers += 1;
        sums.staked += provider.stake as u128;
        sums.unbonding += provider.unbonding_amount as u128;
    }
    for job in books.jobs.values().filter(|job| job.network == *address) {
        sums.open_jobs += 1;
        sums.open_disputes += job.dispute_open as u64;
    }
    for epoch in books.epochs.values().filter(|e| e.network == *address) {
        sums.emitted += epoch.claimed as u128;
    }
    let NetworkTotals {
        providers,
        open_jobs,
        staked,
        unbonding,
        emitted,
        open_disputes,
        ..
    } = network.totals;
    let mut check = Findings {
        account: *address,
        network: Some(*address),
        found,
    };
    let pairs = [
        ("providers", providers as u128, sums.providers as u128),
        ("open jobs", open_jobs as u128, sums.open_jobs as u128),
        ("staked", staked as u128, sums.staked),
        ("unbonding", unbonding as u128, sums.unbonding),
        (
            "open disputes",
            open_disputes as u128,
            sums.open_disputes as u128,
        ),
        (
            "emitted (the sum of its epochs' claims)",
            emitted as u128,
            sums.emitted,
        ),
    ];
    for (what, recorded, recomputed) in pairs {
        // The books are the accounts; the total is what must agree with them.
        check.require(
            Rule::NetworkTotals,
            what,
            recomputed,
            Comparison::Equal,
            recorded,
        );
    }
    if let Some(supply) = books.supplies.get(&network.reward_mint) {
        check.require(
            Rule::RewardSupply,
            "reward mint supply",
            network.genesis_supply as u128 + emitted as u128,
            Comparison::Equal,
            *supply as u128,
        );
    } else {
        check.require_that(
            Rule::RewardSupply,
            "reward mint",
            false,
            &format!("the reward mint {} is missing", network.reward_mint),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera::state::{JobRequirement, ProviderClass, ProviderSpec, ProviderStatus, UnitKind};

    /// A running job with 40 of 100 units settled at 10 each, 2.5 % fee: 610 owed to the vault.
    fn running_job() -> Job {
        Job {
            network: Pubkey::new_unique(),
            client: Pubkey::new_unique(),
            job_id: 1,
            nonce: 1,
            provider: Pubkey::new_unique(),
            requirement: JobRequirement {
                class: ProviderClass::Inference,
                min_gpu_count: 1,
                min_vram_gib: 0,
                min_bandwidth_mbps: 0,
            },
            payment_mint: Pubkey::new_unique(),
            vault: Pubkey::new_unique(),
            unit_kind: UnitKind::GpuSeconds,
            price_per_unit: 10,
            max_units: 100,
            fee_bps: 250,
            dispute_window_secs: 60,
            deposited: 1_000,
            settled_units: 40,
            paid_out: 390,
            fees_accrued: 10,
            fees_paid: 0,
            refunded: 0,
            spec_hash: [0; 32],
            result_hash: [0; 32],
            status: JobStatus::Running,
            created_at: 0,
            accept_by: 1,
            deadline: 2,
            accepted_at: 1,
            last_settled_at: 1,
            last_attested_at: 0,
            dispute_open: false,
            ended_at: 0,
            bump: 255,
            vault_bump: 255,
            start_timeout_secs: 3_600,
            paused_secs_at_end: 0,
            no_show: false,
            paused_secs_at_accept: 0,
            reserved: [0; 39],
        }
    }

    fn staked_provider(stake: u64, unbonding_amount: u64, unbonding_ends_at: i64) -> Provider {
        Provider {
            network: Pubkey::new_unique(),
            owner: Pubkey::new_unique(),
            worker_key: Pubkey::new_unique(),
            class: ProviderClass::Edge,
            status: ProviderStatus::Active,
            spec: ProviderSpec::default(),
            stake,
            unbonding_amount,
            unbonding_ends_at,
            slashed_total: 0,
            settled_units: 0,
            service_units: 0,
            active_jobs: 0,
            jobs_completed: 0,
            lost_disputes: 0,
            open_disputes: 0,
            nonce: 0,
            registered_at: 0,
            bump: 255,
            vault_bump: 255,
            slashable_until: 0,
            no_shows: 0,
            reserved: [0; 54],
        }
    }

    fn violations(found: &[Finding]) -> Vec<(Rule, &str)> {
        found
            .iter()
            .filter(|finding| finding.is_violation())
            .map(|finding| (finding.rule, finding.what.as_str()))
            .collect()
    }

    #[test]
    fn a_gift_to_a_job_vault_is_information_and_a_shortfall_a_violation() {
        let address = Pubkey::new_unique();
        let job = running_job();
        assert!(job_books(&address, &job, 610).is_empty());

        let gift = job_books(&address, &job, 611);
        assert_eq!(gift.len(), 1);
        assert_eq!(gift[0].severity, Severity::Information);
        assert_eq!(gift[0].rule, Rule::JobVaultSurplus);
        assert_eq!((gift[0].expected, gift[0].actual), (610, 611));
        assert!(
            gift[0].note.contains(&job.client.to_string()),
            "{}",
            gift[0]
        );

        let short = job_books(&address, &job, 609);
        assert_eq!(violations(&short), vec![(Rule::JobVault, "vault balance")]);
        assert_eq!((short[0].expected, short[0].actual), (610, 609));
    }

    /// A change made to a consistent job.
    type Change = fn(&mut Job);

    #[test]
    fn job_books_agree_with_the_programs_invariant() {
        let address = Pubkey::new_unique();
        let changes: Vec<(&str, Change)> = vec![
            ("as is", |_| {}),
            ("deposit short", |job| job.deposited -= 1),
            ("over settled", |job| job.settled_units = 101),
            ("paid too much", |job| job.paid_out += 1),
            ("paid too little", |job| job.paid_out -= 1),
            ("fee dodged", |job| {
                job.paid_out += job.fees_accrued;
                job.fees_accrued = 0
            }),
            ("fees over-paid", |job| job.fees_paid = 11),
            ("refunded", |job| job.refunded = 600),
            ("refunded beyond", |job| job.refunded = 2_000),
            ("price overflows", |job| job.price_per_unit = u64::MAX),
        ];
        for (name, change) in changes {
            let mut job = running_job();
            change(&mut job);
            for vault in [0, 9, 10, 609, 610, 611, 5_000] {
                let program = job.invariant(vault).is_ok();
                let rules = violations(&job_books(&address, &job, vault)).is_empty();
                assert_eq!(rules, program, "{name}, vault {vault}");
            }
        }
        // The surplus note is only given for books that hold.
        let mut broken = running_job();
        broken.paid_out += 1;
        let found = job_books(&address, &broken, 610);
        assert_eq!(
            violations(&found),
            vec![(Rule::JobPayments, "paid out + fees accrued")]
        );
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn provider_rules_agree_with_the_programs_invariant_and_call_a_gift_information() {
        let address = Pubkey::new_unique();
        for (stake, unbonding, ends_at) in [(10, 5, 100), (10, 5, 0), (10, 0, 100), (0, 0, 0)] {
            let provider = staked_provider(stake, unbonding, ends_at);
            for vault in [0, 14, 15, 16] {
                let program = provider.invariant(vault).is_ok();
                let found = super::provider(&address, &provider, vault);
                assert_eq!(
                    violations(&found).is_empty(),
                    program,
                    "{stake} {unbonding} {ends_at} {vault}"
                );
            }
        }
        let found = super::provider(&address, &staked_provider(10, 5, 100), 16);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, Rule::StakeVaultSurplus);
        assert!(!found[0].is_violation());
    }

    #[test]
    fn an_epoch_over_claimed_breaks_invariant_3() {
        let address = Pubkey::new_unique();
        let mut state = Epoch {
            emission: 100,
            claimed: 100,
            ..Epoch::default()
        };
        assert!(epoch(&address, &state).is_empty());
        assert!(state.invariant().is_ok());
        state.claimed = 101;
        assert_eq!(
            violations(&epoch(&address, &state)),
            vec![(Rule::EpochClaimed, "claimed")]
        );
        assert!(state.invariant().is_err());
    }

    #[test]
    fn work_records_must_add_up_to_a_running_epoch_and_fit_a_finished_one() {
        let network = Pubkey::new_unique();
        let record = |units: u128| WorkRecord {
            provider: Pubkey::new_unique(),
            epoch: 3,
            units,
            network,
            tallied: true,
            ..WorkRecord::default()
        };
        let epoch_address = crate::pda::epoch(&network, 3);
        let mut books = Books::default();
        books.epochs.insert(
            epoch_address,
            Epoch {
                network,
                index: 3,
                emission: 1_000,
                total_units: 30,
                open_work_records: 2,
                work_records: 2,
                tallied_records: 2,
                ..Epoch::default()
            },
        );
        books.work_records.insert(Pubkey::new_unique(), record(10));
        books.work_records.insert(Pubkey::new_unique(), record(20));
        let rules_of = |found: Vec<Finding>| -> Vec<Rule> {
            found
                .iter()
                .filter(|f| f.is_violation())
                .map(|f| f.rule)
                .collect()
        };
        assert!(rules_of(audit(&books)).is_empty());
        fn epoch<'a>(books: &'a mut Books, address: &Pubkey) -> &'a mut Epoch {
            books.epochs.get_mut(address).unwrap()
        }
        epoch(&mut books, &epoch_address).total_units = 31;
        assert_eq!(
            rules_of(audit(&books)),
            vec![Rule::EpochUnits],
            "no record was claimed: the tallied records hold the whole total"
        );
        (
            epoch(&mut books, &epoch_address).work_records,
            epoch(&mut books, &epoch_address).tallied_records,
        ) = (3, 3);
        assert!(
            rules_of(audit(&books)).is_empty(),
            "a claimed record closed: the records may fall short"
        );
        epoch(&mut books, &epoch_address).total_units = 29;
        assert_eq!(rules_of(audit(&books)), vec![Rule::EpochUnits]);
        epoch(&mut books, &epoch_address).total_units = 30;
        epoch(&mut books, &epoch_address).tallied_records = 2;
        assert_eq!(
            rules_of(audit(&books)),
            vec![Rule::EpochTally, Rule::EpochClaims],
            "two open records tallied and one claimed make three, and the count says the \
             claim came before the tally ended"
        );
        epoch(&mut books, &epoch_address).tallied_records = 3;
        epoch(&mut books, &epoch_address).work_records = 4;
        epoch(&mut books, &epoch_address).claimed = 1;
        assert_eq!(
            rules_of(audit(&books)),
            vec![Rule::EpochTally, Rule::EpochClaims],
            "a record opened and not tallied, and a claim made before the tally ended"
        );
        epoch(&mut books, &epoch_address).claimed = 0;
        assert_eq!(
            rules_of(audit(&books)),
            vec![Rule::EpochTally, Rule::EpochClaims],
            "records closed by claims (their shares rounded to 0) before the tally ended"
        );
        (
            epoch(&mut books, &epoch_address).work_records,
            epoch(&mut books, &epoch_address).tallied_records,
        ) = (1, 1);
        assert_eq!(
            rules_of(audit(&books)),
            vec![Rule::EpochWorkRecords, Rule::EpochTally],
            "two records open of one opened"
        );
        (
            epoch(&mut books, &epoch_address).work_records,
            epoch(&mut books, &epoch_address).tallied_records,
        ) = (2, 2);
        epoch(&mut books, &epoch_address).claimed = 400;
        assert_eq!(
            rules_of(audit(&books)),
            vec![Rule::EpochClaims],
            "claimed 400 + the records' 333 + 666 is over the emission"
        );
    }
}
