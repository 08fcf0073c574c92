//! PDA sharing: an account that belongs to one network, provider or job used for another.

use crate::{scene, FUNDS};
use solana_signer::Signer;
use tessera::state::ProviderClass;
use tessera_client::instructions::{self as ix, SettleReceiptAccounts};
use tessera_client::pda;
use tessera_tests::*;

#[tokio::test]
async fn one_providers_stake_vault_cannot_serve_another() {
    let mut scene = scene().await;
    let fixture = &mut scene.fixture;
    let network = fixture.network;
    let other = fixture.staked_provider(ProviderClass::Edge).await;
    // The other provider withdraws through its own provider account but the scene provider's vault.
    let owner = other.owner.insecure_clone();
    let unstake = ix::request_unstake(&owner.pubkey(), &network, ONE);
    assert_ok(fixture.send(&[unstake], &[&owner]).await);
    fixture
        .advance(default_params().unbonding_period_secs)
        .await;
    let mut withdraw = ix::withdraw_unstaked(
        &owner.pubkey(),
        &network,
        fixture.reward_mint,
        &other.reward_account,
    );
    swap_account(
        &mut withdraw,
        &pda::stake_vault(&other.address),
        &pda::stake_vault(&scene.provider.address),
    );
    assert_anchor_err(
        fixture.send(&[withdraw], &[&owner]).await,
        AnchorErrorCode::ConstraintSeeds,
    );
    fixture
        .assert_provider_balanced(&scene.provider.address)
        .await;
}

#[tokio::test]
async fn a_receipt_cannot_pay_from_another_jobs_vault() {
    let mut scene = scene().await;
    let mut args = scene.fixture.job_args(Some(scene.provider.address));
    args.max_units = 1_000;
    let (result, second) = scene
        .fixture
        .create_job(&scene.client, scene.job.mint, args)
        .await;
    assert_ok(result);
    let signed = scene.cosigned_on(&second, 200).await;
    let fixture = &mut scene.fixture;
    let epoch = fixture.current_epoch().await;
    let provider_token = fixture
        .provider_token(&scene.provider, scene.job.mint)
        .await;
    let mut settle = ix::settle_receipt(
        SettleReceiptAccounts {
            submitter: fixture.context.payer.pubkey(),
            network: fixture.network,
            job: scene.job.address,
            provider: scene.provider.address,
            provider_token,
            payment_mint: scene.job.mint,
            epoch_accounts: ix::EpochAccounts::None,
        },
        ix::receipt_args(&signed.receipt, epoch),
    );
    swap_account(&mut settle, &scene.job.vault, &second.vault);
    let result = fixture
        .send(&[signed.ed25519_instruction(), settle], &[])
        .await;
    assert_anchor_err(result, AnchorErrorCode::ConstraintHasOne);
    assert_eq!(fixture.balance(&second.vault).await, 1_000 * ONE);
    assert!(fixture.balance(&scene.client.token_account).await < FUNDS);
}

#[tokio::test]
async fn a_provider_of_one_network_cannot_work_on_another() {
    let mut scene = scene().await;
    let fixture = &mut scene.fixture;
    let first_network = fixture.network;
    fixture.network_id = 2;
    fixture.network = pda::network(2);
    fixture.reward_mint = fixture.faucet_reward_mint(TOKEN).await;
    assert_ok(fixture.initialize_network(fixture.initialize_args()).await);
    let client = fixture.client(scene.job.mint, FUNDS).await;
    let args = fixture.job_args(None);
    let (result, job) = fixture.create_job(&client, scene.job.mint, args).await;
    assert_ok(result);
    // Network 1's provider, presented with network 2.
    let mut accept = ix::accept_job(&scene.provider.owner.pubkey(), &first_network, &job.address);
    swap_account(&mut accept, &first_network, &fixture.network);
    assert_anchor_err(
        fixture.send(&[accept], &[&scene.provider.owner]).await,
        AnchorErrorCode::ConstraintHasOne,
    );
}

/// Ending a job reads its network's jail threshold and settlement-pause clock: a client (or
/// provider) must not bring a network of its own with harsher rules, say a jail threshold of one.
#[tokio::test]
async fn a_job_cannot_be_ended_under_another_networks_rules() {
    let mut scene = scene().await;
    let fixture = &mut scene.fixture;
    let first_network = fixture.network;
    fixture.network_id = 2;
    fixture.network = pda::network(2);
    fixture.reward_mint = fixture.faucet_reward_mint(TOKEN).await;
    let mut args = fixture.initialize_args();
    args.params.jail_after_lost_disputes = 1;
    assert_ok(fixture.initialize_network(args).await);

    let mut cancel = ix::cancel_job(
        &scene.client.wallet.pubkey(),
        &first_network,
        &scene.job.address,
        Some(scene.provider.address),
    );
    swap_account(&mut cancel, &first_network, &fixture.network);
    assert_anchor_err(
        fixture.send(&[cancel], &[&scene.client.wallet]).await,
        AnchorErrorCode::ConstraintHasOne,
    );
    let mut complete = ix::complete_job(
        &scene.provider.owner.pubkey(),
        &first_network,
        &scene.job.address,
        [1; 32],
    );
    swap_account(&mut complete, &first_network, &fixture.network);
    assert_anchor_err(
        fixture.send(&[complete], &[&scene.provider.owner]).await,
        AnchorErrorCode::ConstraintHasOne,
    );
}
