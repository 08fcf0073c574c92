//! Table 5: one `claim_emission` in an epoch with 1, 100 and 2,000 providers. A claim touches
//! the epoch, one work record and the owner's token account, never the other providers, so
//! its time and size must not grow with them.

use crate::ledger::{Ledger, Unsigned};
use crate::network::{
    claim, create_reward_accounts, service_providers, settle_services, tally, BenchNetwork,
    BenchProvider,
};
use crate::settlement::transaction_bytes;
use anyhow::Result;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::time::Duration;
use tessera::state::Epoch;
use tessera_client::pda;

/// The most providers with work in one epoch.
pub const PROVIDERS: usize = 2_000;
/// The epochs' sizes, in providers with work.
pub const EPOCH_SIZES: [usize; 3] = [1, 100, PROVIDERS];
/// Claims timed in each epoch size (for the one-provider size, one claim in each of this many
/// epochs).
pub const SAMPLES: usize = 15;

/// The claims timed in epochs of one size.
pub struct ClaimSample {
    /// Providers with work in the epoch.
    pub providers: usize,
    /// Open work records the epoch account counted before the claims.
    pub work_records: u64,
    /// Each claim's time, in the order sent.
    pub times: Vec<Duration>,
    /// Bytes of each claim transaction (they are all the same length).
    pub bytes: Vec<usize>,
}

impl ClaimSample {
    /// The median claim time.
    pub fn median(&self) -> Duration {
        let mut sorted = self.times.clone();
        sorted.sort();
        sorted[sorted.len() / 2]
    }

    /// The fastest and slowest claim.
    pub fn range(&self) -> (Duration, Duration) {
        let fastest = self.times.iter().min().copied().unwrap_or_default();
        let slowest = self.times.iter().max().copied().unwrap_or_default();
        (fastest, slowest)
    }
}

/// `SAMPLES` indices spread evenly over `0..count`, first and last included.
fn spread(count: usize) -> Vec<usize> {
    (0..SAMPLES)
        .map(|i| i * (count - 1) / (SAMPLES - 1))
        .collect()
}

/// Times each claim on its own.
fn time_each(
    ledger: &mut impl Ledger,
    claims: &[Unsigned],
    providers: usize,
    work_records: u64,
) -> Result<ClaimSample> {
    let mut times = Vec::with_capacity(claims.len());
    let mut bytes = Vec::with_capacity(claims.len());
    for transaction in claims {
        bytes.push(transaction_bytes(&transaction.instructions, ledger.payer())?.0);
        times.push(ledger.send_timed(std::slice::from_ref(transaction))?);
    }
    Ok(ClaimSample {
        providers,
        work_records,
        times,
        bytes,
    })
}

/// Open work records of `epoch`, as the program counts them.
fn work_records(ledger: &mut impl Ledger, network: &BenchNetwork, epoch: u64) -> Result<u64> {
    let state: Epoch = ledger.read(&pda::epoch(&network.address, epoch))?;
    Ok(state.open_work_records)
}

/// Claims of `providers` (chosen by index) in `epoch`.
fn claims_of(
    ledger: &impl Ledger,
    network: &BenchNetwork,
    providers: &[BenchProvider],
    chosen: &[usize],
    epoch: u64,
) -> Vec<Unsigned> {
    chosen
        .iter()
        .map(|&i| claim(ledger, network, &providers[i], epoch))
        .collect()
}

/// On network `network_id`: `PROVIDERS` Bandwidth providers registered; `SAMPLES` epochs in
/// which only the first has work, then an epoch where the first 100 have, then one where all
/// have, every unit settled by a real attested service receipt. Then the claims are timed.
pub fn measure(ledger: &mut impl Ledger, network_id: u64) -> Result<Vec<ClaimSample>> {
    let network = BenchNetwork::create(ledger, network_id)?;
    let providers = service_providers(ledger, &network, PROVIDERS)?;
    let first_epoch = network.epoch_at(ledger.now()?);
    for round in 0..SAMPLES as u64 {
        settle_services(ledger, &network, &providers[..1], 1 + round)?;
        ledger.advance(network.epoch_length_secs)?;
    }
    let mut epochs = Vec::with_capacity(EPOCH_SIZES.len());
    for (size, units) in EPOCH_SIZES[1..].iter().zip([1_000, 2_000]) {
        epochs.push(network.epoch_at(ledger.now()?));
        settle_services(ledger, &network, &providers[..*size], units)?;
        ledger.advance(network.epoch_length_secs)?;
    }
    for round in 0..SAMPLES as u64 {
        tally(ledger, &network, &providers[..1], first_epoch + round)?;
    }
    for (size, epoch) in EPOCH_SIZES[1..].iter().zip(&epochs) {
        tally(ledger, &network, &providers[..*size], *epoch)?;
    }

    let mut sampled: Vec<usize> = spread(PROVIDERS);
    sampled.extend(spread(EPOCH_SIZES[1]));
    sampled.sort();
    sampled.dedup();
    let owners: Vec<Pubkey> = sampled
        .iter()
        .map(|&i| providers[i].owner.pubkey())
        .collect();
    create_reward_accounts(ledger, &network, &owners)?;

    let alone: Vec<Unsigned> = (0..SAMPLES as u64)
        .map(|round| claim(ledger, &network, &providers[0], first_epoch + round))
        .collect();
    let records = work_records(ledger, &network, first_epoch)?;
    let mut samples = vec![time_each(ledger, &alone, 1, records)?];
    for (size, epoch) in EPOCH_SIZES[1..].iter().zip(epochs) {
        let records = work_records(ledger, &network, epoch)?;
        let claims = claims_of(ledger, &network, &providers, &spread(*size), epoch);
        samples.push(time_each(ledger, &claims, *size, records)?);
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_first_and_last() {
        let indices = spread(100);
        assert_eq!(indices.len(), SAMPLES);
        assert_eq!(indices[0], 0);
        assert_eq!(indices[SAMPLES - 1], 99);
        assert!(indices.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
