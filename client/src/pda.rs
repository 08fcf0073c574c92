//! Program-derived addresses. Seeds come from the program's own constants, so the program,
//! this library and the tests cannot disagree about them.

use anchor_lang::prelude::Pubkey;
use tessera::state::{Dispute, Epoch, Job, Network, Provider, WorkRecord, MINT_AUTHORITY_SEED};

fn find(seeds: &[&[u8]]) -> Pubkey {
    Pubkey::find_program_address(seeds, &crate::program_id()).0
}

/// `["network", network_id]`.
pub fn network(network_id: u64) -> Pubkey {
    find(&[Network::SEED, &network_id.to_le_bytes()])
}

/// `["mint", network]`: the reward mint's mint authority.
pub fn mint_authority(network: &Pubkey) -> Pubkey {
    find(&[MINT_AUTHORITY_SEED, network.as_ref()])
}

/// `["provider", network, owner]`.
pub fn provider(network: &Pubkey, owner: &Pubkey) -> Pubkey {
    find(&[Provider::SEED, network.as_ref(), owner.as_ref()])
}

/// `["stake", provider]`: the provider's stake vault.
pub fn stake_vault(provider: &Pubkey) -> Pubkey {
    find(&[Provider::VAULT_SEED, provider.as_ref()])
}

/// `["job", network, client, job_id]`.
pub fn job(network: &Pubkey, client: &Pubkey, job_id: u64) -> Pubkey {
    find(&[
        Job::SEED,
        network.as_ref(),
        client.as_ref(),
        &job_id.to_le_bytes(),
    ])
}

/// `["vault", job]`: the job's escrow.
pub fn job_vault(job: &Pubkey) -> Pubkey {
    find(&[Job::VAULT_SEED, job.as_ref()])
}

/// `["epoch", network, index]`.
pub fn epoch(network: &Pubkey, index: u64) -> Pubkey {
    find(&[Epoch::SEED, network.as_ref(), &index.to_le_bytes()])
}

/// `["work", provider, epoch index]`: a provider's work record for one epoch.
pub fn work_record(provider: &Pubkey, epoch: u64) -> Pubkey {
    find(&[WorkRecord::SEED, provider.as_ref(), &epoch.to_le_bytes()])
}

/// `["dispute", job]`.
pub fn dispute(job: &Pubkey) -> Pubkey {
    find(&[Dispute::SEED, job.as_ref()])
}

/// The associated token account of `owner` for `mint` (under `token_program`): where claims
/// mint rewards.
pub fn associated_token(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
        owner,
        mint,
        token_program,
    )
}
