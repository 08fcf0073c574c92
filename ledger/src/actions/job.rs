//! A job's provider side: accepting an open job, and completing a running one.

use super::ensure_measures;
use crate::session::{ensure_open, Activity, Session};
use crate::tokens::associated_account;
use anchor_lang::prelude::Pubkey;
use anyhow::{ensure, Result};
use tessera::state::{Job, JobStatus, Network, Provider, ProviderStatus};
use tessera_client::instructions as ix;

/// A job accepted: by which provider, in which transaction.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub provider: Pubkey,
    pub signature: String,
}

/// The session's signer, a provider's owner, accepts the open job `job` for its provider: its
/// stake must cover one more running job. Creates the owner's token account for the job's
/// payment mint in the same transaction, so that receipts can settle into it.
pub fn accept(session: &Session, job: &Pubkey) -> Result<Accepted> {
    let (network_key, network) = session.network()?;
    ensure_open(&network, Activity::NewJobs)?;
    let state = session.job(job)?;
    ensure!(
        state.status == JobStatus::Open,
        "job {job} is {}, not open",
        status_verb(state.status)
    );
    let me = session.signer();
    let (provider, p) = session.provider_of(&network_key, &me)?;
    ensure_fits(job, &state, &provider, &p)?;
    ensure_stake_covers(session, &network, &provider, &p)?;
    // The account the provider's payments will go to, so receipts can settle.
    let mint = session.ledger.mint(&state.payment_mint)?;
    let (_, create) = associated_account(&me, &me, mint.key);
    let signature = session.send(&[create, ix::accept_job(&me, &network_key, job)])?;
    Ok(Accepted {
        provider,
        signature,
    })
}

/// Refuses a provider the job is not for: jailed, another than the one it names, of another
/// class, or one that does not count the job's unit.
fn ensure_fits(job: &Pubkey, state: &Job, provider: &Pubkey, p: &Provider) -> Result<()> {
    ensure!(
        p.status != ProviderStatus::Jailed,
        "provider {provider} is jailed after {} lost disputes and {} no-shows: it can take no \
         more work",
        p.lost_disputes,
        p.no_shows
    );
    ensure!(
        !state.has_provider() || state.provider == *provider,
        "job {job} is reserved for provider {}, not --keypair's {provider}",
        state.provider
    );
    ensure!(
        state.requirement.class == p.class,
        "job {job} is for class {:?} providers; {provider} is {:?}",
        state.requirement.class,
        p.class
    );
    ensure_measures(p.class, state.unit_kind, &format!("job {job}'s unit"))
}

/// Refuses a provider whose stake is below its class minimum or does not cover one more
/// running job.
fn ensure_stake_covers(
    session: &Session,
    network: &Network,
    provider: &Pubkey,
    p: &Provider,
) -> Result<()> {
    let class = network.params.class(p.class);
    let reward = session.reward_mint(network)?;
    ensure!(
        p.meets_min_stake(class),
        "provider {provider} has {} staked; class {:?} needs {} to accept jobs (`tessera stake \
         add`)",
        reward.format(p.stake),
        p.class,
        reward.format(class.min_stake)
    );
    let running_after = p.active_jobs.saturating_add(1);
    let needed = class.stake_for_jobs(running_after)?;
    ensure!(
        p.stake >= needed,
        "provider {provider}'s stake covers no more running jobs: it has {} staked and {} \
         running, and {running_after} need {} ({} each, at least the class minimum); stake more \
         (`tessera stake add`) or finish a job first",
        reward.format(p.stake),
        p.active_jobs,
        reward.format(needed),
        reward.format(class.stake_per_job)
    );
    Ok(())
}

/// The session's signer, a provider's owner, marks its provider's running job `job` done,
/// with the hash of its result (zeros when none is given). Returns the transaction's signature.
pub fn complete(session: &Session, job: &Pubkey, result_hash: Option<[u8; 32]>) -> Result<String> {
    let (network_key, _) = session.network()?;
    let me = session.signer();
    let state = session.job(job)?;
    let (provider, _) = session.provider_of(&network_key, &me)?;
    ensure!(
        state.provider == provider,
        "job {job} is not run by --keypair's provider {provider}"
    );
    ensure!(
        state.status == JobStatus::Running,
        "job {job} is {}, not running: only a running job completes",
        status_verb(state.status)
    );
    let hash = result_hash.unwrap_or_default();
    session.send(&[ix::complete_job(&me, &network_key, job, hash)])
}

/// A job status in words: "open", "running", "completed", "cancelled".
pub fn status_verb(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Open => "open",
        JobStatus::Running => "running",
        JobStatus::Completed => "completed",
        JobStatus::Cancelled => "cancelled",
    }
}
