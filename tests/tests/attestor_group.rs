//! set_attestor_group, and settlement under a group of attestors who sign as one key (FROST,
//! RFC 9591). A plain keypair stands in for the group key: the Ed25519 program cannot tell a
//! threshold signature from any other, so neither can the settlement it feeds.

use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;
use tessera::state::{AttestorMode, AttestorSet, Job, Network, Provider, WorkRecord};
use tessera::TesseraError;
use tessera_client::instructions as ix;
use tessera_client::pda;
use tessera_tests::*;

const FUNDS: u64 = 10_000 * ONE;

/// A network whose attestors are a 3-of-5 group, a client with a running job of 1,000 units
/// at 1 token each, and its staked Inference provider.
async fn setup() -> (TestFixture, TestClient, TestProvider, TestJob) {
    let mut fixture = TestFixture::new().await;
    fixture.set_attestor_group(3, 5).await;
    let (client, provider, job) = fixture.accepted_job(FUNDS, 1_000).await;
    (fixture, client, provider, job)
}

fn group_key(fixture: &TestFixture) -> Keypair {
    fixture.attestors[0].insecure_clone()
}

/// Weighted units `provider`'s work record holds in the current epoch (0 if no attested work
/// opened it yet).
async fn epoch_units(fixture: &mut TestFixture, provider: &TestProvider) -> u128 {
    let index = fixture.current_epoch().await;
    let address = pda::work_record(&provider.address, index);
    match fixture.account(&address).await {
        Some(_) => fixture.decode::<WorkRecord>(&address).await.units,
        None => 0,
    }
}

#[tokio::test]
async fn set_attestor_group_validates_and_records_the_group() {
    let mut fixture = TestFixture::new().await;
    let authority = fixture.authority.insecure_clone();
    let network = fixture.network;
    let group = Keypair::new().pubkey();
    let stranger = fixture.wallet().await;
    let instruction = ix::set_attestor_group(&stranger.pubkey(), &network, group, 2, 3);
    assert_err(
        fixture.send(&[instruction], &[&stranger]).await,
        TesseraError::NotAuthority,
    );

    let refused = [
        (Pubkey::default(), 2, 3, TesseraError::InvalidKey),
        (group, 0, 3, TesseraError::InvalidThreshold),
        (group, 4, 3, TesseraError::InvalidThreshold),
        (group, 1, 0, TesseraError::InvalidThreshold),
    ];
    for (group_key, threshold, members, expected) in refused {
        let instruction =
            ix::set_attestor_group(&authority.pubkey(), &network, group_key, threshold, members);
        assert_err(fixture.send(&[instruction], &[&authority]).await, expected);
    }
    let set: AttestorSet = fixture.network_account().await.attestors;
    assert_eq!(
        set,
        AttestorSet::default(),
        "refused changes leave the set alone"
    );

    // More members than the 8 keys a per-key set holds: the group is one key however large.
    let instruction = ix::set_attestor_group(&authority.pubkey(), &network, group, 130, 200);
    assert_ok(fixture.send(&[instruction], &[&authority]).await);
    let set: AttestorSet = fixture.network_account().await.attestors;
    assert_eq!(
        (set.mode, set.version, set.threshold, set.count),
        (AttestorMode::Group, 1, 130, 200)
    );
    assert_eq!(set.group_key(), Some(group));
    assert_eq!(set.members(), &[group]);
    assert!(set.keys[1..].iter().all(|key| *key == Pubkey::default()));

    // Back to attestors who sign one by one.
    let keys: Vec<Pubkey> = (0..2).map(|_| Keypair::new().pubkey()).collect();
    let instruction = ix::set_attestors(&authority.pubkey(), &network, keys.clone(), 2);
    assert_ok(fixture.send(&[instruction], &[&authority]).await);
    let set: AttestorSet = fixture.network_account().await.attestors;
    assert_eq!(
        (set.mode, set.version, set.threshold, set.count),
        (AttestorMode::Keys, 2, 2, 2)
    );
    assert_eq!(set.group_key(), None);
    assert_eq!(set.members(), keys.as_slice());
    assert!(!set.contains(&group));

    // The version cannot wrap around to one that old receipts name.
    fixture
        .mutate::<Network>(&network, |network| network.attestors.version = u32::MAX)
        .await;
    let instruction = ix::set_attestor_group(&authority.pubkey(), &network, group, 2, 3);
    assert_err(
        fixture.send(&[instruction], &[&authority]).await,
        TesseraError::MathOverflow,
    );
}

#[tokio::test]
async fn a_job_receipt_cosigned_by_the_group_key_pays_earns_and_may_be_disputed() {
    let (mut fixture, _client, provider, job) = setup().await;
    let group = group_key(&fixture);
    let receipt = fixture.receipt(&job, &provider, 40).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&group]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);

    let state: Job = fixture.decode(&job.address).await;
    assert_eq!(
        (state.settled_units, state.last_attested_at),
        (40, fixture.now),
        "attested without the client: its dispute window is open"
    );
    assert_eq!(epoch_units(&mut fixture, &provider).await, 40);
    let epoch = fixture.current_epoch().await;
    let work: WorkRecord = fixture
        .decode(&pda::work_record(&provider.address, epoch))
        .await;
    assert_eq!(work.units, 40);
    fixture.assert_job_balanced(&job).await;
}

#[tokio::test]
async fn the_client_and_the_group_key_together_attest_work_the_client_cannot_dispute() {
    let (mut fixture, client, provider, job) = setup().await;
    let group = group_key(&fixture);
    let receipt = fixture.receipt(&job, &provider, 30).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet, &group]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);
    let receipt = fixture.receipt(&job, &provider, 50).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&group, &client.wallet]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);

    let state: Job = fixture.decode(&job.address).await;
    assert_eq!((state.settled_units, state.last_attested_at), (50, 0));
    assert_eq!(epoch_units(&mut fixture, &provider).await, 50);

    // The client alone still pays without earning emission units.
    let receipt = fixture.receipt(&job, &provider, 70).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);
    assert_eq!(fixture.decode::<Job>(&job.address).await.settled_units, 70);
    assert_eq!(epoch_units(&mut fixture, &provider).await, 50);
}

#[tokio::test]
async fn a_service_receipt_cosigned_by_the_group_key_earns_emission_units() {
    let mut fixture = TestFixture::new().await;
    fixture.set_attestor_group(2, 3).await;
    let bandwidth = fixture
        .staked_provider(tessera::state::ProviderClass::Bandwidth)
        .await;
    let instructions = fixture.service_instructions(&bandwidth, 5_000).await;
    assert_eq!(
        instructions[0].data[0], 2,
        "the worker and the group key sign, whatever the threshold"
    );
    assert_ok(fixture.send(&instructions, &[]).await);
    let state: Provider = fixture.decode(&bandwidth.address).await;
    assert_eq!(state.service_units, 5_000);
    let epoch = fixture.current_epoch().await;
    let work: WorkRecord = fixture
        .decode(&pda::work_record(&bandwidth.address, epoch))
        .await;
    assert_eq!(work.units, 5_000);
}

#[tokio::test]
async fn each_bad_group_signature_set_has_its_own_error() {
    let (mut fixture, client, provider, job) = setup().await;
    let group = group_key(&fixture);
    let stranger = Keypair::new();
    let receipt = fixture.receipt(&job, &provider, 10).await;

    let cases = [
        (vec![&stranger], TesseraError::UnknownAttestor),
        (
            vec![&client.wallet, &stranger],
            TesseraError::UnknownAttestor,
        ),
        (
            vec![&group, &stranger],
            TesseraError::SignatureCountMismatch,
        ),
        (
            vec![&stranger, &group],
            TesseraError::SignatureCountMismatch,
        ),
        (
            vec![&client.wallet, &group, &stranger],
            TesseraError::SignatureCountMismatch,
        ),
    ];
    for (cosigners, expected) in cases {
        let signed = TestFixture::sign(receipt, &provider.worker, &cosigners);
        assert_err(fixture.settle(&job, &provider, &signed).await, expected);
    }

    // The group key twice: built by hand, since SignedReceipt refuses to sign twice.
    let mut signed = TestFixture::sign(receipt, &provider.worker, &[&group]);
    let again = signed.signatures[1];
    signed.signatures.push(again);
    assert_err(
        fixture.settle(&job, &provider, &signed).await,
        TesseraError::SignatureCountMismatch,
    );

    // A receipt that names another set version, signed by the current group key.
    let mut stale = receipt;
    stale.attestor_set_version -= 1;
    let signed = TestFixture::sign(stale, &provider.worker, &[&group]);
    assert_err(
        fixture.settle(&job, &provider, &signed).await,
        TesseraError::StaleAttestorSet,
    );
    assert_eq!(fixture.decode::<Job>(&job.address).await.settled_units, 0);
}

#[tokio::test]
async fn a_rotated_group_key_no_longer_attests() {
    let (mut fixture, _client, provider, job) = setup().await;
    let old_group = group_key(&fixture);
    let receipt = fixture.receipt(&job, &provider, 10).await;
    let signed_before = TestFixture::sign(receipt, &provider.worker, &[&old_group]);

    // The members re-share (or replace a member) and the authority names the new group key.
    fixture.set_attestor_group(3, 5).await;
    let new_group = group_key(&fixture);
    assert_err(
        fixture.settle(&job, &provider, &signed_before).await,
        TesseraError::StaleAttestorSet,
    );
    let fresh = fixture.receipt(&job, &provider, 10).await;
    let signed = TestFixture::sign(fresh, &provider.worker, &[&old_group]);
    assert_err(
        fixture.settle(&job, &provider, &signed).await,
        TesseraError::UnknownAttestor,
    );
    let signed = TestFixture::sign(fresh, &provider.worker, &[&new_group]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);
}

#[tokio::test]
async fn a_network_switches_between_per_key_and_group_attestors() {
    let mut fixture = TestFixture::new().await;
    fixture.set_attestors(3, 2).await;
    let (a, b) = (
        fixture.attestors[0].insecure_clone(),
        fixture.attestors[1].insecure_clone(),
    );
    let (_client, provider, job) = fixture.accepted_job(FUNDS, 1_000).await;
    let per_key = fixture.receipt(&job, &provider, 10).await;
    let signed_per_key = TestFixture::sign(per_key, &provider.worker, &[&a, &b]);

    fixture.set_attestor_group(2, 3).await;
    let group = group_key(&fixture);
    assert_err(
        fixture.settle(&job, &provider, &signed_per_key).await,
        TesseraError::StaleAttestorSet,
    );
    let receipt = fixture.receipt(&job, &provider, 10).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&a, &b]);
    assert_err(
        fixture.settle(&job, &provider, &signed).await,
        TesseraError::UnknownAttestor,
    );
    let signed = TestFixture::sign(receipt, &provider.worker, &[&group]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);

    // Back to per-key attestors: the group key is a stranger again, a quorum of keys attests.
    fixture.set_attestors(3, 2).await;
    let (a, b) = (
        fixture.attestors[0].insecure_clone(),
        fixture.attestors[1].insecure_clone(),
    );
    let receipt = fixture.receipt(&job, &provider, 20).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&group]);
    assert_err(
        fixture.settle(&job, &provider, &signed).await,
        TesseraError::UnknownAttestor,
    );
    let signed = TestFixture::sign(receipt, &provider.worker, &[&a, &b]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);
    assert_eq!(epoch_units(&mut fixture, &provider).await, 20);
}

#[tokio::test]
async fn a_group_settlement_is_the_same_size_for_any_threshold() {
    let mut sizes = Vec::new();
    for (threshold, members) in [(1, 1), (3, 5), (67, 100), (255, 255)] {
        let mut fixture = TestFixture::new().await;
        fixture.set_attestor_group(threshold, members).await;
        let (client, provider, job) = fixture.accepted_job(FUNDS, 1_000).await;
        let group = group_key(&fixture);
        let receipt = fixture.receipt(&job, &provider, 10).await;
        let payer = fixture.context.payer.insecure_clone();
        let blockhash = fixture.context.last_blockhash;
        for cosigners in [vec![&group], vec![&client.wallet, &group]] {
            let signed = TestFixture::sign(receipt, &provider.worker, &cosigners);
            let instructions = fixture
                .settle_now_instructions(&job, &provider, &signed)
                .await;
            let transaction = Transaction::new_signed_with_payer(
                &instructions,
                Some(&payer.pubkey()),
                &[&payer],
                blockhash,
            );
            let size = bincode::serialize(&transaction).unwrap().len();
            assert!(size <= 1232, "{threshold}-of-{members}: {size} bytes");
            sizes.push((cosigners.len(), size));
        }
    }
    println!("group settlement sizes (co-signers, bytes): {sizes:?}");
    for (cosigners, size) in &sizes {
        let first = sizes.iter().find(|(count, _)| count == cosigners);
        assert_eq!(Some(size), first.map(|(_, size)| size));
    }
}
