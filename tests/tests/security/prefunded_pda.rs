//! Pre-funding a predictable PDA: lamports sent to an address before its account exists, to
//! make its creation fail. Epochs, work records and disputes (addresses anyone can predict and
//! everyone depends on) are created by Tessera in a way that works whatever the address holds.

use crate::scene;
use solana_signer::Signer;
use tessera::state::{Dispute, Epoch};
use tessera_client::pda;
use tessera_tests::*;

#[tokio::test]
async fn lamports_at_the_next_epoch_work_record_and_dispute_block_nothing() {
    let mut scene = scene().await;
    let fixture = &mut scene.fixture;
    let next_epoch = fixture.current_epoch().await + 1;
    let payer = fixture.context.payer.pubkey();
    let targets = [
        pda::epoch(&fixture.network, next_epoch),
        pda::work_record(&scene.provider.address, next_epoch),
        pda::dispute(&scene.job.address),
    ];
    // The least the runtime lets an empty account hold: rent exemption for zero bytes.
    let lamports = fixture
        .context
        .banks_client
        .get_rent()
        .await
        .unwrap()
        .minimum_balance(0);
    for target in targets {
        let grief = solana_system_interface::instruction::transfer(&payer, &target, lamports);
        assert_ok(fixture.send(&[grief], &[]).await);
    }
    fixture.advance(default_params().epoch_length_secs).await;
    let (a, b) = (
        fixture.attestors[0].insecure_clone(),
        fixture.attestors[1].insecure_clone(),
    );
    let receipt = fixture.receipt(&scene.job, &scene.provider, 200).await;
    let signed = TestFixture::sign(receipt, &scene.provider.worker, &[&a, &b]);
    assert_ok(fixture.settle(&scene.job, &scene.provider, &signed).await);
    let epoch: Epoch = fixture.decode(&targets[0]).await;
    assert_eq!((epoch.index, epoch.work_records), (next_epoch, 1));
    let work: tessera::state::WorkRecord = fixture.decode(&targets[1]).await;
    assert_eq!((work.epoch, work.units), (next_epoch, 100));

    let open = tessera_client::instructions::open_dispute(
        &scene.client.wallet.pubkey(),
        &fixture.network,
        &scene.job.address,
        &scene.provider.address,
        [1; 32],
    );
    assert_ok(fixture.send(&[open], &[&scene.client.wallet]).await);
    let dispute: Dispute = fixture.decode(&targets[2]).await;
    assert_eq!(dispute.settled_units, 200);
}

/// Accounts made by Anchor's `init` (a job, a provider, their vaults): Anchor 1.2.2 creates them
/// with the system program's `CreateAccountAllowPrefund`, which Agave 4.2 (the bank here, all
/// features active) knows, so lamports sent ahead to a job's address block nothing and end up
/// with the client when the job closes.
#[tokio::test]
async fn a_prefunded_job_address_blocks_nothing() {
    let mut scene = scene().await;
    let fixture = &mut scene.fixture;
    let args = fixture.job_args(None);
    let address = pda::job(&fixture.network, &scene.client.wallet.pubkey(), args.job_id);
    let payer = fixture.context.payer.pubkey();
    let lamports = fixture
        .context
        .banks_client
        .get_rent()
        .await
        .unwrap()
        .minimum_balance(0);
    let grief = solana_system_interface::instruction::transfer(&payer, &address, lamports);
    assert_ok(fixture.send(&[grief], &[]).await);
    let (result, job) = fixture
        .create_job(&scene.client, scene.job.mint, args)
        .await;
    assert_ok(result);
    let state: tessera::state::Job = fixture.decode(&job.address).await;
    assert_eq!(state.client, scene.client.wallet.pubkey());
    fixture.assert_job_balanced(&job).await;
}
