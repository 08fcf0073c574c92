//! Laundering units through a richer class: a Training provider (high emission weight) takes a
//! job counted in relayed bytes and turns cheap bytes into weighted GPU-class emission units.

use solana_signer::Signer;
use tessera::state::{JobRequirement, ProviderClass, UnitKind};
use tessera::TesseraError;
use tessera_client::instructions as ix;
use tessera_tests::*;

#[tokio::test]
async fn a_class_only_earns_for_the_units_it_measures() {
    let mut fixture = TestFixture::new().await;
    fixture.set_attestors(3, 2).await;
    let mint = fixture.create_mint(TOKEN).await;
    let client = fixture.client(mint, 10_000 * ONE).await;
    let trainer = fixture.staked_provider(ProviderClass::Training).await;

    // An open job for Training providers, counted in bytes.
    let mut args = fixture.job_args(None);
    args.requirement = JobRequirement {
        class: ProviderClass::Training,
        min_gpu_count: 1,
        min_vram_gib: 0,
        min_bandwidth_mbps: 0,
    };
    args.unit_kind = UnitKind::Bytes;
    let (result, _) = fixture.create_job(&client, mint, args).await;
    assert_err(result, TesseraError::UnitKindMismatch);

    // A job named for the Training provider, passed off as a Bandwidth job.
    let mut args = fixture.job_args(Some(trainer.address));
    args.requirement.class = ProviderClass::Bandwidth;
    args.unit_kind = UnitKind::Bytes;
    let (result, named) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    assert_err(
        fixture.accept(&trainer, &named).await,
        TesseraError::UnitKindMismatch,
    );

    // A GPU job it may take; a receipt that calls its units bytes does not settle.
    let mut args = fixture.job_args(Some(trainer.address));
    args.requirement.class = ProviderClass::Training;
    let (result, gpu_job) = fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    assert_ok(fixture.accept(&trainer, &gpu_job).await);
    let mut receipt = fixture.receipt(&gpu_job, &trainer, 50).await;
    receipt.unit_kind = UnitKind::Bytes;
    let signed = fixture.attested(receipt, &trainer).await;
    assert_err(
        fixture.settle(&gpu_job, &trainer, &signed).await,
        TesseraError::UnitKindMismatch,
    );

    // Service receipts state their unit kind too: a Training provider cannot claim bytes.
    let mut receipt = fixture.service_receipt(&trainer, 1_000_000).await;
    receipt.unit_kind = UnitKind::Bytes;
    let signed = fixture.attested(receipt, &trainer).await;
    let epoch = fixture.current_epoch().await;
    let settle = ix::settle_service(
        &fixture.context.payer.pubkey(),
        &fixture.network,
        &trainer.address,
        ix::receipt_args(&receipt, epoch),
        false,
    );
    assert_err(
        fixture
            .send(&[signed.ed25519_instruction(), settle], &[])
            .await,
        TesseraError::UnitKindMismatch,
    );
}
