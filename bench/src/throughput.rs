//! Table 3: transactions per second through the program, on one ledger, beside a plain SPL
//! Token transfer on the same ledger in the same run.
//!
//! Every workload is a fixed number of distinct transactions, built ahead (receipts signed)
//! and each signed as a transaction just before it is sent, one after the other. The workloads
//! take turns in rounds, so that a ledger that slows down as the run goes on (its store grows,
//! another process wakes up) weighs on all of them alike.

use crate::ledger::{Ledger, Unsigned};
use crate::network::{
    claim, create_reward_accounts, service_providers, settle_services, tally, BenchJob,
    BenchNetwork,
};
use anyhow::Result;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::time::Duration;

/// Settlements, transfers and job creations timed per ledger.
pub const TRANSACTIONS: usize = 1_000;
/// Claims timed per ledger (each needs a provider with work in a past epoch).
pub const CLAIMS: usize = 300;
/// Transactions of each kind sent, untimed, before the timed rounds.
pub const WARM_UP: usize = 20;
/// Timed rounds; each sends the next share of every workload in turn.
pub const ROUNDS: usize = 5;

/// A timed run of `count` transactions.
#[derive(Clone, Copy, Default)]
pub struct Run {
    pub count: usize,
    pub elapsed: Duration,
}

impl Run {
    /// Transactions per second.
    pub fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }
}

/// The timed transactions of one kind: all of them, and each round's share.
#[derive(Clone, Default)]
pub struct Timing {
    pub total: Run,
    pub rounds: Vec<Run>,
}

/// The four workloads of one ledger.
pub struct Throughput {
    pub transfer: Timing,
    pub settle: Timing,
    pub create_job: Timing,
    pub claim: Timing,
}

impl Throughput {
    /// Each workload with the name the tables give it, the reference first.
    pub fn named(&self) -> [(&'static str, &Timing); 4] {
        [
            ("SPL Token transfer (reference)", &self.transfer),
            ("settle_receipt (worker + client)", &self.settle),
            ("create_job", &self.create_job),
            ("claim_emission", &self.claim),
        ]
    }
}

/// One kind of transaction: a few to warm up with, the rest timed in `ROUNDS` shares.
struct Workload {
    warm_up: Vec<Unsigned>,
    measured: Vec<Unsigned>,
    timing: Timing,
}

impl Workload {
    fn new(mut transactions: Vec<Unsigned>) -> Self {
        let measured = transactions.split_off(WARM_UP.min(transactions.len()));
        Self {
            warm_up: transactions,
            measured,
            timing: Timing::default(),
        }
    }

    /// The share of the timed transactions that round `round` sends.
    fn share(&self, round: usize) -> &[Unsigned] {
        let per_round = self.measured.len().div_ceil(ROUNDS).max(1);
        self.measured.chunks(per_round).nth(round).unwrap_or(&[])
    }

    fn send_round(&mut self, ledger: &mut impl Ledger, round: usize) -> Result<()> {
        let share = self.share(round);
        let run = Run {
            count: share.len(),
            elapsed: ledger.send_timed(share)?,
        };
        self.timing.rounds.push(run);
        self.timing.total.count += run.count;
        self.timing.total.elapsed += run.elapsed;
        Ok(())
    }
}

/// Providers with service work in an epoch that is over, and the claims of that work (the
/// clock is moved past the epoch).
fn claims(ledger: &mut impl Ledger, network: &BenchNetwork) -> Result<Vec<Unsigned>> {
    let providers = service_providers(ledger, network, WARM_UP + CLAIMS)?;
    settle_services(ledger, network, &providers, 1_000)?;
    let epoch = network.epoch_at(ledger.now()?);
    ledger.advance(network.epoch_length_secs)?;
    tally(ledger, network, &providers, epoch)?;
    let owners: Vec<Pubkey> = providers
        .iter()
        .map(|provider| provider.owner.pubkey())
        .collect();
    create_reward_accounts(ledger, network, &owners)?;
    Ok(providers
        .iter()
        .map(|provider| claim(ledger, network, provider, epoch))
        .collect())
}

/// Creates network `network_id` on `ledger`, prepares the claims (which moves the clock) and
/// a running job, then times plain SPL Token transfers, settlements of the job (worker +
/// client receipts, cumulative 1, 2, ...), `create_job` and `claim_emission`.
pub fn measure(ledger: &mut impl Ledger, network_id: u64) -> Result<Throughput> {
    let network = BenchNetwork::create(ledger, network_id)?;
    let claims = claims(ledger, &network)?;
    let mut job = BenchJob::start(ledger, &network)?;
    let count = (WARM_UP + TRANSACTIONS) as u64;
    let now = ledger.now()?;
    let transfers = (1..=count)
        .map(|amount| job.transfer(amount))
        .collect::<Result<Vec<_>>>()?;
    let settlements = (1..=count)
        .map(|units| job.settlement(ledger, &network, units, now))
        .collect::<Result<Vec<_>>>()?;
    let jobs = (0..count)
        .map(|_| job.create_job(&network, None, 100, now))
        .collect();

    let mut workloads = [transfers, settlements, jobs, claims].map(Workload::new);
    for workload in &workloads {
        ledger.send_timed(&workload.warm_up)?;
    }
    for round in 0..ROUNDS {
        for workload in &mut workloads {
            workload.send_round(ledger, round)?;
        }
    }
    let [transfer, settle, create_job, claim] = workloads.map(|workload| workload.timing);
    Ok(Throughput {
        transfer,
        settle,
        create_job,
        claim,
    })
}
