//! Reinitialization: creating an account that already exists, to reset its state.

use crate::scene;
use solana_signer::Signer;
use tessera::instructions::RegisterProviderArgs;
use tessera::state::{Job, Provider, ProviderClass};
use tessera_client::instructions as ix;
use tessera_tests::*;

/// How `init` fails on an address that already holds an account: Anchor 1.2.2 creates accounts
/// with the system program's `CreateAccountAllowPrefund`, which refuses an address that already
/// has an owner or data with `SystemError::AccountAlreadyInUse` (custom error 0). Nothing is
/// reinitialized; the state checks below prove it.
fn already_in_use(result: &TxResult) -> bool {
    matches!(
        result,
        Err(solana_program_test::BanksClientError::TransactionError(
            solana_transaction_error::TransactionError::InstructionError(
                0,
                solana_instruction::error::InstructionError::Custom(0)
            )
        ))
    )
}

#[tokio::test]
async fn network_provider_and_job_cannot_be_created_twice() {
    let mut scene = scene().await;
    let fixture = &mut scene.fixture;

    let result = fixture.initialize_network(fixture.initialize_args()).await;
    assert!(already_in_use(&result), "network: {result:?}");

    let owner = scene.provider.owner.insecure_clone();
    let register = ix::register_provider(
        &owner.pubkey(),
        &fixture.network,
        fixture.reward_mint,
        RegisterProviderArgs {
            class: ProviderClass::Training,
            spec: gpu_spec(),
            worker_key: owner.pubkey(),
        },
    );
    let result = fixture.send(&[register], &[&owner]).await;
    assert!(already_in_use(&result), "provider: {result:?}");
    let provider: Provider = fixture.decode(&scene.provider.address).await;
    assert_eq!(
        (provider.class, provider.stake),
        (
            ProviderClass::Inference,
            default_params().classes[1].min_stake
        )
    );

    let (result, _) = fixture
        .create_job(&scene.client, scene.job.mint, scene.job.args.clone())
        .await;
    assert!(already_in_use(&result), "job: {result:?}");
    let job: Job = fixture.decode(&scene.job.address).await;
    assert_eq!(job.settled_units, 100, "the job kept its state");
}
