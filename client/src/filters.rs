//! Filters that list the program's accounts by a key they hold (`getProgramAccounts` memcmp):
//! each is a list of `(offset, key)` pairs for `Ledger::all_where` or any RPC client.
//!
//! The offsets come from the account types themselves, not from numbers written here: a field's
//! offset is where the serialized bytes of an account change when only that field changes. So
//! a field added, moved or resized in `programs/tessera/src/state` moves its filter with it.

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, AccountSerialize, Space};
use std::sync::OnceLock;
use tessera::state::{Epoch, Job, Provider, WorkRecord};

/// The jobs of `network`.
pub fn jobs_of(network: Pubkey) -> Vec<(usize, Pubkey)> {
    vec![(job_network(), network)]
}

/// The jobs `client` funded on `network`.
pub fn jobs_of_client(network: Pubkey, client: Pubkey) -> Vec<(usize, Pubkey)> {
    vec![(job_network(), network), (job_client(), client)]
}

/// The jobs on `network` that `provider` (a provider account) runs, or alone may accept.
pub fn jobs_of_provider(network: Pubkey, provider: Pubkey) -> Vec<(usize, Pubkey)> {
    vec![(job_network(), network), (job_provider(), provider)]
}

/// The providers registered on `network`.
pub fn providers_of(network: Pubkey) -> Vec<(usize, Pubkey)> {
    vec![(provider_network(), network)]
}

/// The unclaimed work records of the provider account `provider`, one per epoch it worked in.
pub fn work_records_of(provider: Pubkey) -> Vec<(usize, Pubkey)> {
    vec![(work_record_provider(), provider)]
}

/// The epochs of `network` that work was settled in.
pub fn epochs_of(network: Pubkey) -> Vec<(usize, Pubkey)> {
    vec![(epoch_network(), network)]
}

/// The unclaimed work records of every provider of `network`, past providers included.
pub fn work_records_on(network: Pubkey) -> Vec<(usize, Pubkey)> {
    vec![(work_record_network(), network)]
}

fn job_network() -> usize {
    static OFFSET: OnceLock<usize> = OnceLock::new();
    *OFFSET.get_or_init(|| offset_of::<Job>(|job, key| job.network = key))
}

fn job_client() -> usize {
    static OFFSET: OnceLock<usize> = OnceLock::new();
    *OFFSET.get_or_init(|| offset_of::<Job>(|job, key| job.client = key))
}

fn job_provider() -> usize {
    static OFFSET: OnceLock<usize> = OnceLock::new();
    *OFFSET.get_or_init(|| offset_of::<Job>(|job, key| job.provider = key))
}

fn provider_network() -> usize {
    static OFFSET: OnceLock<usize> = OnceLock::new();
    *OFFSET.get_or_init(|| offset_of::<Provider>(|provider, key| provider.network = key))
}

fn work_record_provider() -> usize {
    static OFFSET: OnceLock<usize> = OnceLock::new();
    *OFFSET.get_or_init(|| offset_of::<WorkRecord>(|record, key| record.provider = key))
}

/// Where the key that `set` writes into an account of type `T` starts in the account's data
/// (discriminator included): the first byte that differs between two accounts that differ only
/// in that key, written with keys that differ in every byte.
fn offset_of<T>(set: fn(&mut T, Pubkey)) -> usize
where
    T: AccountSerialize + AccountDeserialize + Space,
{
    let first = serialized_with(set, Pubkey::new_from_array([1; 32]));
    let second = serialized_with(set, Pubkey::new_from_array([2; 32]));
    first
        .iter()
        .zip(&second)
        .position(|(a, b)| a != b)
        .expect("the field is part of the account's data")
}

fn epoch_network() -> usize {
    static OFFSET: OnceLock<usize> = OnceLock::new();
    *OFFSET.get_or_init(|| offset_of::<Epoch>(|epoch, key| epoch.network = key))
}

fn work_record_network() -> usize {
    static OFFSET: OnceLock<usize> = OnceLock::new();
    *OFFSET.get_or_init(|| offset_of::<WorkRecord>(|record, key| record.network = key))
}

/// The data of an account of type `T` whose fields are all zero except the key `set` writes.
fn serialized_with<T>(set: fn(&mut T, Pubkey), key: Pubkey) -> Vec<u8>
where
    T: AccountSerialize + AccountDeserialize + Space,
{
    // Every account type has a fixed size, `8 + INIT_SPACE`, and zeroes decode as its zero
    // value (enums start at variant 0); the unit tests below decode every filtered type.
    let zeroes = vec![0; 8 + T::INIT_SPACE];
    let mut account =
        T::try_deserialize_unchecked(&mut zeroes.as_slice()).expect("zeroes decode as T");
    set(&mut account, key);
    let mut data = Vec::with_capacity(zeroes.len());
    account
        .try_serialize(&mut data)
        .expect("a fixed-size account serializes");
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An account of type `T` decoded from zeroed bytes, with `set` applied.
    fn account<T: AccountDeserialize + Space>(set: impl FnOnce(&mut T)) -> T {
        let zeroes = vec![0; 8 + T::INIT_SPACE];
        let mut account = T::try_deserialize_unchecked(&mut zeroes.as_slice()).unwrap();
        set(&mut account);
        account
    }

    fn data(account: &impl AccountSerialize) -> Vec<u8> {
        let mut data = Vec::new();
        account.try_serialize(&mut data).unwrap();
        data
    }

    /// Whether `data` holds each key of `filter` at its offset, as a node's memcmp checks.
    fn matches(data: &[u8], filter: &[(usize, Pubkey)]) -> bool {
        filter
            .iter()
            .all(|(offset, key)| data.get(*offset..offset + 32) == Some(key.as_ref()))
    }

    #[test]
    fn job_filters_match_the_jobs_of_their_network_and_client() {
        let (network, client, other) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let job = data(&account::<Job>(|job| {
            job.network = network;
            job.client = client;
            // Keys elsewhere in the account must not confuse the filters.
            job.provider = other;
            job.payment_mint = client;
        }));
        assert!(matches(&job, &jobs_of(network)));
        assert!(matches(&job, &jobs_of_client(network, client)));
        assert!(!matches(&job, &jobs_of(other)));
        assert!(!matches(&job, &jobs_of_client(network, other)));
        assert!(!matches(&job, &jobs_of_client(client, network)));
        assert!(matches(&job, &jobs_of_provider(network, other)));
        assert!(!matches(&job, &jobs_of_provider(network, client)));
    }

    #[test]
    fn provider_filter_matches_the_providers_of_its_network() {
        let (network, owner) = (Pubkey::new_unique(), Pubkey::new_unique());
        let provider = data(&account::<Provider>(|provider| {
            provider.network = network;
            provider.owner = owner;
            provider.worker_key = owner;
        }));
        assert!(matches(&provider, &providers_of(network)));
        assert!(!matches(&provider, &providers_of(owner)));
    }

    #[test]
    fn work_record_filter_matches_the_records_of_its_provider() {
        let (provider, network) = (Pubkey::new_unique(), Pubkey::new_unique());
        let record = data(&account::<WorkRecord>(|record| {
            record.provider = provider;
            record.network = network;
            record.owner = network;
            record.rent_payer = network;
        }));
        assert!(matches(&record, &work_records_of(provider)));
        assert!(!matches(&record, &work_records_of(network)));
    }

    #[test]
    fn network_filters_match_the_epochs_and_work_records_of_their_network() {
        let (provider, network) = (Pubkey::new_unique(), Pubkey::new_unique());
        let record = data(&account::<WorkRecord>(|record| {
            record.provider = provider;
            record.network = network;
            record.owner = provider;
        }));
        assert!(matches(&record, &work_records_on(network)));
        assert!(!matches(&record, &work_records_on(provider)));
        let epoch = data(&account::<Epoch>(|epoch| epoch.network = network));
        assert!(matches(&epoch, &epochs_of(network)));
        assert!(!matches(&epoch, &epochs_of(provider)));
    }

    #[test]
    fn offsets_start_after_the_discriminator() {
        for offset in [
            job_network(),
            job_client(),
            provider_network(),
            work_record_provider(),
        ] {
            assert!(offset >= 8, "offset {offset} is inside the discriminator");
        }
        assert_ne!(job_network(), job_client());
    }
}
