//! Table 2: every account the program creates, at the size it has in a bank after real
//! instructions created it, beside the size the program declares (`8 + INIT_SPACE`, or the
//! token program's `Account::LEN` for vaults) and the rent that keeps it alive.

use crate::settlement::ok;
use anchor_lang::Space;
use anyhow::{Context, Result};
use solana_program_pack::Pack;
use solana_pubkey::Pubkey;
use solana_rent::Rent;
use solana_signer::Signer;
use tessera::state::{Dispute, Epoch, Job, Network, Provider, WorkRecord};
use tessera_client::instructions as ix;
use tessera_client::pda;
use tessera_tests::{TestFixture, ONE};

/// Nosana's job account, in bytes (the reference a Tessera job is compared with).
pub const NOSANA_JOB_BYTES: usize = 233;
/// Nosana's run account, in bytes; a Nosana job needs a job and a run.
pub const NOSANA_RUN_BYTES: usize = 113;

/// One account type and its size.
pub struct AccountSize {
    pub name: &'static str,
    pub created_by: &'static str,
    /// What there is one of these for.
    pub per: &'static str,
    /// Data bytes of a real account in the bank.
    pub bytes: usize,
    /// Data bytes the program (or the token program) declares for it.
    pub declared: usize,
}

/// Lamports that keep an account of `bytes` data bytes rent-exempt under the default rent.
pub fn rent_exempt(bytes: usize) -> u64 {
    Rent::default().minimum_balance(bytes)
}

/// The data length of the account at `address` in the fixture's bank.
async fn length(fixture: &mut TestFixture, address: &Pubkey) -> Result<usize> {
    let account = fixture
        .account(address)
        .await
        .with_context(|| format!("no account at {address}"))?;
    Ok(account.data.len())
}

/// Creates one of each account through instructions (a staked provider, a job it accepted, an
/// attested settlement, a dispute) and reads their sizes.
pub async fn measure(fixture: &mut TestFixture) -> Result<Vec<AccountSize>> {
    fixture.set_attestors(1, 1).await;
    let (client, provider, job) = fixture.accepted_job(1_000 * ONE, 100).await;
    let receipt = fixture.receipt(&job, &provider, 10).await;
    let signed = fixture.attested(receipt, &provider).await;
    ok(
        fixture.settle(&job, &provider, &signed).await,
        "attested settlement",
    )?;
    let open_dispute = ix::open_dispute(
        &client.wallet.pubkey(),
        &fixture.network,
        &job.address,
        &provider.address,
        [3; 32],
    );
    ok(
        fixture.send(&[open_dispute], &[&client.wallet]).await,
        "open_dispute",
    )?;

    let epoch = fixture.current_epoch().await;
    let network = fixture.network;
    let token_account = spl_token_interface::state::Account::LEN;
    let accounts = [
        (
            "Network",
            "initialize_network",
            "network",
            network,
            8 + Network::INIT_SPACE,
        ),
        (
            "Provider",
            "register_provider",
            "provider",
            provider.address,
            8 + Provider::INIT_SPACE,
        ),
        (
            "stake vault (SPL Token account)",
            "register_provider",
            "provider",
            pda::stake_vault(&provider.address),
            token_account,
        ),
        ("Job", "create_job", "job", job.address, 8 + Job::INIT_SPACE),
        (
            "escrow vault (SPL Token account)",
            "create_job",
            "job",
            job.vault,
            token_account,
        ),
        (
            "Epoch",
            "first attested settlement of the epoch",
            "epoch",
            pda::epoch(&network, epoch),
            8 + Epoch::INIT_SPACE,
        ),
        (
            "WorkRecord",
            "provider's first attested settlement of the epoch",
            "provider per epoch, until claimed",
            pda::work_record(&provider.address, epoch),
            8 + WorkRecord::INIT_SPACE,
        ),
        (
            "Dispute",
            "open_dispute",
            "open dispute",
            pda::dispute(&job.address),
            8 + Dispute::INIT_SPACE,
        ),
    ];
    let mut sizes = Vec::with_capacity(accounts.len());
    for (name, created_by, per, address, declared) in accounts {
        sizes.push(AccountSize {
            name,
            created_by,
            per,
            bytes: length(fixture, &address).await?,
            declared,
        });
    }
    Ok(sizes)
}

/// Data bytes of all accounts named in `names`.
pub fn total_bytes(sizes: &[AccountSize], names: &[&str]) -> usize {
    sizes
        .iter()
        .filter(|size| names.contains(&size.name))
        .map(|size| size.bytes)
        .sum()
}

/// Rent-exempt lamports of all accounts named in `names`, each its own account.
pub fn total_rent(sizes: &[AccountSize], names: &[&str]) -> u64 {
    sizes
        .iter()
        .filter(|size| names.contains(&size.name))
        .map(|size| rent_exempt(size.bytes))
        .sum()
}
