//! settle_receipt and settle_service: real ed25519 signatures through the real precompile.
//! Every way a receipt can be wrong is refused with its own error.

use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;
use std::collections::BTreeSet;
use tessera::ed25519::{OFFSETS_LEN, OFFSETS_START};
use tessera::instructions::ReceiptArgs;
use tessera::state::{Epoch, Job, PauseFlags, Provider, ProviderClass, UnitKind, WorkRecord};
use tessera::TesseraError;
use tessera_client::instructions as ix;
use tessera_client::pda;
use tessera_client::receipt::ed25519_instruction;
use tessera_tests::*;

const FUNDS: u64 = 10_000 * ONE;

/// A network with three attestors (threshold 2), a client with a running job of 1,000 units
/// at 1 token each in an SPL Token mint, and its staked Inference provider.
async fn setup() -> (TestFixture, TestClient, TestProvider, TestJob) {
    let mut fixture = TestFixture::new().await;
    fixture.set_attestors(3, 2).await;
    let (client, provider, job) = fixture.accepted_job(FUNDS, 1_000).await;
    (fixture, client, provider, job)
}

fn attestor(fixture: &TestFixture, index: usize) -> Keypair {
    fixture.attestors[index].insecure_clone()
}

/// Fee on `units` units at 1 token each and the default 250 bps.
fn fee_on(units: u64) -> u64 {
    units * ONE * 250 / 10_000
}

#[tokio::test]
async fn client_cosigned_receipt_pays_the_provider() {
    let (mut fixture, client, provider, job) = setup().await;
    let receipt = fixture.receipt(&job, &provider, 100).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    signed.verify().expect("signatures verify off-chain");
    assert_ok(fixture.settle(&job, &provider, &signed).await);

    let state: Job = fixture.decode(&job.address).await;
    assert_eq!(state.settled_units, 100);
    assert_eq!(state.fees_accrued, fee_on(100));
    assert_eq!(state.paid_out, 100 * ONE - fee_on(100));
    assert_eq!(
        state.last_attested_at, 0,
        "the client co-signed: nothing to dispute"
    );
    let provider_token = fixture.provider_token(&provider, job.mint).await;
    assert_eq!(
        fixture.balance(&provider_token).await,
        100 * ONE - fee_on(100)
    );
    fixture.assert_job_balanced(&job).await;

    // Paid, but no emission units: a client and a provider could otherwise mint rewards by
    // trading a worthless token between themselves. Only attested work counts.
    let epoch_index = fixture.current_epoch().await;
    assert!(fixture
        .account(&pda::epoch(&fixture.network, epoch_index))
        .await
        .is_none());
    assert!(fixture
        .account(&pda::work_record(&provider.address, epoch_index))
        .await
        .is_none());
    // The units count on the provider; settlements leave the network account as it was.
    let provider_state: Provider = fixture.decode(&provider.address).await;
    assert_eq!(provider_state.settled_units, 100);
    let totals = fixture.network_account().await.totals;
    assert_eq!(totals.deregistered_settled_units, 0);
}

/// The program's event reaches the transaction's log as a `Program data:` line, as on a
/// cluster, and says what the settlement did.
#[tokio::test]
async fn a_settlement_logs_its_event() {
    let (mut fixture, client, provider, job) = setup().await;
    let receipt = fixture.receipt(&job, &provider, 100).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    let instructions = fixture
        .settle_now_instructions(&job, &provider, &signed)
        .await;
    let (result, logs) = fixture.send_for_logs(&instructions, &[]).await;
    assert_ok(result);
    let settled: Vec<tessera::events::ReceiptSettled> =
        tessera_client::events::decode(&logs).expect("events decode");
    assert_eq!(settled.len(), 1, "{logs:#?}");
    let event = &settled[0];
    assert_eq!((event.job, event.provider), (job.address, provider.address));
    assert_eq!((event.units, event.cumulative_units), (100, 100));
    assert_eq!(
        (event.payment, event.fee),
        (100 * ONE - fee_on(100), fee_on(100))
    );
    assert!(event.attestation.by_client && !event.attestation.by_attestors);
    assert_eq!(
        event.weighted_units, 0,
        "co-signed by the client: no emission units"
    );
}

#[tokio::test]
async fn attestor_quorum_receipt_pays_and_opens_the_dispute_window() {
    let (mut fixture, _client, provider, job) = setup().await;
    let (first, third) = (attestor(&fixture, 0), attestor(&fixture, 2));
    let receipt = fixture.receipt(&job, &provider, 40).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&third, &first]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);
    let state: Job = fixture.decode(&job.address).await;
    assert_eq!(
        (state.settled_units, state.last_attested_at),
        (40, fixture.now)
    );
    fixture.assert_job_balanced(&job).await;

    let epoch_index = fixture.current_epoch().await;
    let epoch: Epoch = fixture
        .decode(&pda::epoch(&fixture.network, epoch_index))
        .await;
    assert_eq!(
        (epoch.index, epoch.work_records, epoch.open_work_records),
        (epoch_index, 1, 1)
    );
    assert_eq!(epoch.total_units, 0, "tallied once the epoch is over");
    assert_eq!(epoch.emission, default_emission().initial_per_epoch);
    let work: WorkRecord = fixture
        .decode(&pda::work_record(&provider.address, epoch_index))
        .await;
    assert_eq!(
        (work.provider, work.units, work.ineligible_units),
        (provider.address, 40, 0)
    );
}

/// The accounts other than the fee payer that `instructions` may write.
fn writable(instructions: &[Instruction], payer: &Pubkey) -> BTreeSet<Pubkey> {
    instructions
        .iter()
        .flat_map(|instruction| &instruction.accounts)
        .filter(|meta| meta.is_writable && meta.pubkey != *payer)
        .map(|meta| meta.pubkey)
        .collect()
}

/// The settlement instructions of a receipt for `units` on each side's job, attested, or
/// co-signed by the two jobs' clients when `clients` are given.
async fn settlements(
    fixture: &mut TestFixture,
    sides: [(&TestJob, &TestProvider); 2],
    units: u64,
    clients: Option<[&Keypair; 2]>,
) -> [Vec<Instruction>; 2] {
    let mut pair = Vec::new();
    for (at, (job, provider)) in sides.into_iter().enumerate() {
        let receipt = fixture.receipt(job, provider, units).await;
        let signed = match clients {
            Some(clients) => TestFixture::sign(receipt, &provider.worker, &[clients[at]]),
            None => fixture.attested(receipt, provider).await,
        };
        pair.push(
            fixture
                .settle_now_instructions(job, provider, &signed)
                .await,
        );
    }
    pair.try_into().expect("two sides")
}

/// Settlements of different providers' jobs write no account in common: the network is only
/// read, a receipt only the client co-signed names no epoch accounts, and an attested one
/// names the epoch only to open the provider's work record for it (once per provider and
/// epoch); then it adds to the record alone.
#[tokio::test]
async fn settlements_of_different_providers_write_no_account_in_common() {
    let (mut fixture, client, provider, job) = setup().await;
    let (other_client, other_provider, other_job) = fixture.accepted_job(FUNDS, 1_000).await;
    let payer = fixture.context.payer.pubkey();
    let sides = [(&job, &provider), (&other_job, &other_provider)];
    let index = fixture.current_epoch().await;
    let epoch = pda::epoch(&fixture.network, index);

    let clients = [&client.wallet, &other_client.wallet];
    let [first, second] = settlements(&mut fixture, sides, 100, Some(clients)).await;
    let (first_writes, second_writes) = (writable(&first, &payer), writable(&second, &payer));
    assert!(first_writes.is_disjoint(&second_writes));
    assert!(!first_writes.contains(&fixture.network));
    assert_ok(fixture.send(&first, &[]).await);
    assert_ok(fixture.send(&second, &[]).await);

    let [first, second] = settlements(&mut fixture, sides, 200, None).await;
    let common: Vec<Pubkey> = writable(&first, &payer)
        .intersection(&writable(&second, &payer))
        .copied()
        .collect();
    assert_eq!(
        common,
        [epoch],
        "each opens its work record and counts it in the epoch"
    );
    assert_ok(fixture.send(&first, &[]).await);
    assert_ok(fixture.send(&second, &[]).await);

    let [first, second] = settlements(&mut fixture, sides, 300, None).await;
    let (first_writes, second_writes) = (writable(&first, &payer), writable(&second, &payer));
    assert!(first_writes.is_disjoint(&second_writes));
    assert!(!first_writes.contains(&epoch));
    assert_ok(fixture.send(&first, &[]).await);
    assert_ok(fixture.send(&second, &[]).await);
    let work: WorkRecord = fixture
        .decode(&pda::work_record(&provider.address, index))
        .await;
    assert_eq!(work.units, 200, "the attested units of 100..300");
}

/// Attested work must name its own epoch accounts: its work record left out, the epoch left
/// out while the record is new, another provider's work record, or an address that is not the
/// record's PDA, the settlement is refused.
#[tokio::test]
async fn attested_work_is_recorded_only_in_its_own_epoch_accounts() {
    let (mut fixture, _client, provider, job) = setup().await;
    let (_, other_provider, other_job) = fixture.accepted_job(FUNDS, 1_000).await;
    let epoch = fixture.current_epoch().await;
    let receipt = fixture.receipt(&other_job, &other_provider, 100).await;
    let signed = fixture.attested(receipt, &other_provider).await;
    assert_ok(fixture.settle(&other_job, &other_provider, &signed).await);

    let receipt = fixture.receipt(&job, &provider, 100).await;
    let signed = fixture.attested(receipt, &provider).await;
    let provider_token = fixture.provider_token(&provider, job.mint).await;
    // Without the record, and with the record but not the epoch while the record is new.
    for named in [ix::EpochAccounts::None, ix::EpochAccounts::Record] {
        let settle = ix::settle_receipt(
            ix::SettleReceiptAccounts {
                submitter: fixture.context.payer.pubkey(),
                network: fixture.network,
                job: job.address,
                provider: provider.address,
                provider_token,
                payment_mint: job.mint,
                epoch_accounts: named,
            },
            ix::receipt_args(&signed.receipt, epoch),
        );
        assert_err(
            fixture
                .send(&[signed.ed25519_instruction(), settle], &[])
                .await,
            TesseraError::WorkAccountsMissing,
        );
    }

    let own_record = pda::work_record(&provider.address, epoch);
    for wrong in [
        pda::work_record(&other_provider.address, epoch),
        Pubkey::new_unique(),
    ] {
        let mut pair = fixture
            .settle_now_instructions(&job, &provider, &signed)
            .await;
        swap_account(&mut pair[1], &own_record, &wrong);
        assert_anchor_err(
            fixture.send(&pair, &[]).await,
            AnchorErrorCode::ConstraintSeeds,
        );
    }
    assert!(fixture.account(&own_record).await.is_none());
    let state: Job = fixture.decode(&job.address).await;
    assert_eq!(state.settled_units, 0, "nothing was paid");
    assert_ok(fixture.settle(&job, &provider, &signed).await);
}

#[tokio::test]
async fn each_bad_signature_set_has_its_own_error() {
    let (mut fixture, client, provider, job) = setup().await;
    let (a, b, c) = (
        attestor(&fixture, 0),
        attestor(&fixture, 1),
        attestor(&fixture, 2),
    );
    let stranger = Keypair::new();
    let receipt = fixture.receipt(&job, &provider, 10).await;

    let cases = [
        (
            vec![&stranger, &client.wallet],
            TesseraError::WrongWorkerKey,
        ),
        (
            vec![&client.wallet, &provider.worker],
            TesseraError::WrongWorkerKey,
        ),
        (vec![&provider.worker], TesseraError::MissingCosignature),
        (
            vec![&provider.worker, &stranger],
            TesseraError::UnknownAttestor,
        ),
        (
            vec![&provider.worker, &a, &stranger],
            TesseraError::UnknownAttestor,
        ),
        (
            vec![&provider.worker, &a],
            TesseraError::SignatureCountMismatch,
        ),
        (
            vec![&provider.worker, &a, &b, &c],
            TesseraError::SignatureCountMismatch,
        ),
        (
            vec![&provider.worker, &client.wallet, &a],
            TesseraError::UnknownAttestor,
        ),
    ];
    for (signers, expected) in cases {
        let mut signed = SignedReceipt::new(receipt);
        for signer in signers {
            signed.sign(signer).unwrap();
        }
        assert_err(fixture.settle(&job, &provider, &signed).await, expected);
    }

    // The same attestor twice: built by hand, since SignedReceipt refuses to sign twice.
    let mut signed = TestFixture::sign(receipt, &provider.worker, &[&a]);
    let again = signed.signatures[1];
    signed.signatures.push(again);
    assert_err(
        fixture.settle(&job, &provider, &signed).await,
        TesseraError::DuplicateAttestorSignature,
    );

    // The worker signing again in place of a co-signer.
    let mut signed = TestFixture::sign(receipt, &provider.worker, &[]);
    let again = signed.signatures[0];
    signed.signatures.push(again);
    assert_err(
        fixture.settle(&job, &provider, &signed).await,
        TesseraError::WorkerSignedAsCosigner,
    );

    assert_eq!(fixture.decode::<Job>(&job.address).await.settled_units, 0);
}

#[tokio::test]
async fn a_receipt_for_a_closed_job_cannot_pay_from_its_successor_at_the_same_address() {
    let (mut fixture, client, provider, job) = setup().await;
    let receipt = fixture.receipt(&job, &provider, 300).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    let at_100 = TestFixture::sign(
        fixture.receipt(&job, &provider, 100).await,
        &provider.worker,
        &[&client.wallet],
    );
    assert_ok(fixture.settle(&job, &provider, &at_100).await);
    let complete = ix::complete_job(
        &provider.owner.pubkey(),
        &fixture.network,
        &job.address,
        [0; 32],
    );
    assert_ok(fixture.send(&[complete], &[&provider.owner]).await);
    fixture.advance(default_params().dispute_window_secs).await;
    let treasury = fixture.treasury.pubkey();
    let treasury_token = fixture.token_account(job.mint, &treasury).await;
    let close = ix::close_job(tessera_client::instructions::CloseJobAccounts {
        cranker: fixture.context.payer.pubkey(),
        network: fixture.network,
        job: job.address,
        client: client.wallet.pubkey(),
        client_token: client.token_account,
        treasury_token: Some(treasury_token),
        payment_mint: job.mint,
    });
    assert_ok(fixture.send(&[close], &[]).await);

    // The client reuses the job id: same address, fresh escrow, a new nonce.
    let mut args = job.args.clone();
    args.accept_by = fixture.now + 3_600;
    args.deadline = fixture.now + 86_400;
    let (result, again) = fixture.create_job(&client, job.mint, args).await;
    assert_ok(result);
    assert_eq!(again.address, job.address);
    let accept = ix::accept_job(&provider.owner.pubkey(), &fixture.network, &again.address);
    assert_ok(fixture.send(&[accept], &[&provider.owner]).await);
    assert_err(
        fixture.settle(&again, &provider, &signed).await,
        TesseraError::ReceiptWrongJob,
    );
    assert_eq!(fixture.decode::<Job>(&again.address).await.settled_units, 0);
}

#[tokio::test]
async fn an_attestor_signature_under_an_older_set_is_refused() {
    let (mut fixture, _client, provider, job) = setup().await;
    let (a, b) = (attestor(&fixture, 0), attestor(&fixture, 1));
    let receipt = fixture.receipt(&job, &provider, 10).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&a, &b]);

    // The authority re-issues the same keys: the version moves on, old attestations stop counting.
    let authority = fixture.authority.insecure_clone();
    let keys = fixture.attestors.iter().map(|key| key.pubkey()).collect();
    let reissue = ix::set_attestors(&authority.pubkey(), &fixture.network, keys, 2);
    assert_ok(fixture.send(&[reissue], &[&authority]).await);
    assert_err(
        fixture.settle(&job, &provider, &signed).await,
        TesseraError::StaleAttestorSet,
    );

    let fresh = fixture.receipt(&job, &provider, 10).await;
    let signed = TestFixture::sign(fresh, &provider.worker, &[&a, &b]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);
}

#[tokio::test]
async fn receipts_bound_elsewhere_are_refused() {
    let (mut fixture, client, provider, job) = setup().await;
    let good = fixture.receipt(&job, &provider, 10).await;
    let other_job = {
        let args = fixture.job_args(Some(provider.address));
        let (result, other) = fixture.create_job(&client, job.mint, args).await;
        assert_ok(result);
        other
    };
    let mut cases = Vec::new();
    let mut receipt = good;
    receipt.program_id = Pubkey::new_unique();
    cases.push((receipt, TesseraError::ReceiptWrongProgram));
    let mut receipt = good;
    receipt.network = pda::network(2);
    cases.push((receipt, TesseraError::ReceiptWrongNetwork));
    let mut receipt = good;
    receipt.subject = other_job.address;
    cases.push((receipt, TesseraError::ReceiptWrongJob));
    let mut receipt = good;
    receipt.provider = pda::provider(&fixture.network, &client.wallet.pubkey());
    cases.push((receipt, TesseraError::ReceiptWrongProvider));
    let mut receipt = good;
    receipt.worker_key = Keypair::new().pubkey();
    cases.push((receipt, TesseraError::WrongWorkerKey));
    let mut receipt = good;
    receipt.domain[17] = b'1';
    cases.push((receipt, TesseraError::ReceiptMismatch));
    // The job counts GPU-seconds: a receipt for bytes is bound to another kind of work.
    let mut receipt = good;
    receipt.unit_kind = UnitKind::Bytes;
    cases.push((receipt, TesseraError::UnitKindMismatch));
    for (receipt, expected) in cases {
        let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
        assert_err(fixture.settle(&job, &provider, &signed).await, expected);
    }

    // A good receipt for one job replayed on another job of the same client and provider.
    let signed = TestFixture::sign(good, &provider.worker, &[&client.wallet]);
    let accept = ix::accept_job(
        &provider.owner.pubkey(),
        &fixture.network,
        &other_job.address,
    );
    assert_ok(fixture.send(&[accept], &[&provider.owner]).await);
    assert_err(
        fixture.settle(&other_job, &provider, &signed).await,
        TesseraError::ReceiptWrongJob,
    );
    assert_ok(fixture.settle(&job, &provider, &signed).await);
}

#[tokio::test]
async fn signed_bytes_must_equal_the_rebuilt_bytes() {
    let (mut fixture, client, provider, job) = setup().await;
    let receipt = fixture.receipt(&job, &provider, 10).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    let epoch = fixture.current_epoch().await;
    let args = ix::receipt_args(&receipt, epoch);

    // The submitter claims something other than what was signed, by one byte, field by field.
    let spoils: [fn(&mut ReceiptArgs); 4] = [
        |args| args.cumulative_units += 1,
        |args| args.result_hash[31] ^= 1,
        |args| args.issued_at -= 1,
        |args| args.expires_at += 1,
    ];
    for spoil in spoils {
        let mut claimed = args;
        spoil(&mut claimed);
        let instructions = fixture
            .settle_instructions(&job, &provider, &signed, claimed)
            .await;
        assert_err(
            fixture.send(&instructions, &[]).await,
            TesseraError::ReceiptMismatch,
        );
    }
    let instructions = fixture
        .settle_instructions(&job, &provider, &signed, args)
        .await;
    assert_ok(fixture.send(&instructions, &[]).await);
}

#[tokio::test]
async fn the_ed25519_instruction_must_be_there_and_in_tessera_layout() {
    let (mut fixture, client, provider, job) = setup().await;
    let receipt = fixture.receipt(&job, &provider, 10).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    let epoch = fixture.current_epoch().await;
    let args = ix::receipt_args(&receipt, epoch);
    let pair = fixture
        .settle_instructions(&job, &provider, &signed, args)
        .await;
    let settle = pair[1].clone();

    // No Ed25519 instruction at all, or another instruction in its place.
    assert_err(
        fixture.send(std::slice::from_ref(&settle), &[]).await,
        TesseraError::MissingEd25519Instruction,
    );
    let memo_like = solana_system_interface::instruction::transfer(
        &fixture.context.payer.pubkey(),
        &client.wallet.pubkey(),
        1,
    );
    assert_err(
        fixture.send(&[memo_like, settle.clone()], &[]).await,
        TesseraError::MissingEd25519Instruction,
    );

    // A forged instructions sysvar.
    let mut forged = settle.clone();
    swap_account(
        &mut forged,
        &solana_sdk_ids::sysvar::instructions::ID,
        &client.token_account,
    );
    assert_err(
        fixture.send(&[pair[0].clone(), forged], &[]).await,
        TesseraError::InvalidInstructionsSysvar,
    );

    // A layout the precompile accepts but Tessera does not: the message stored once per entry.
    let message = receipt.to_bytes();
    let mut data = vec![2u8, 0];
    let entries_end = OFFSETS_START + 2 * OFFSETS_LEN;
    let entry_len = 32 + 64 + message.len();
    for (entry, _) in signed.signatures.iter().enumerate() {
        let key = entries_end + entry * entry_len;
        for field in [
            key + 32,
            u16::MAX as usize,
            key,
            u16::MAX as usize,
            key + 96,
            message.len(),
            u16::MAX as usize,
        ] {
            data.extend_from_slice(&(field as u16).to_le_bytes());
        }
    }
    for (key, signature) in &signed.signatures {
        data.extend_from_slice(key.as_ref());
        data.extend_from_slice(signature);
        data.extend_from_slice(&message);
    }
    let spread = Instruction {
        program_id: solana_sdk_ids::ed25519_program::ID,
        accounts: vec![],
        data,
    };
    assert_err(
        fixture.send(&[spread, settle.clone()], &[]).await,
        TesseraError::MalformedEd25519Instruction,
    );

    // An entry whose message lies in another instruction (the settle instruction's data): the
    // precompile verifies the client's signature over those bytes, Tessera refuses the pointer.
    let outside = &settle.data[8..48];
    let client_signature: [u8; 64] = client.wallet.sign_message(outside).into();
    let mut ed25519 = ed25519_instruction(
        &message,
        &[
            signed.signatures[0],
            (client.wallet.pubkey(), client_signature),
        ],
    );
    let second_entry = OFFSETS_START + OFFSETS_LEN;
    ed25519.data[second_entry + 8..second_entry + 10].copy_from_slice(&8u16.to_le_bytes());
    ed25519.data[second_entry + 10..second_entry + 12].copy_from_slice(&40u16.to_le_bytes());
    ed25519.data[second_entry + 12..second_entry + 14].copy_from_slice(&1u16.to_le_bytes());
    assert_err(
        fixture.send(&[ed25519, settle.clone()], &[]).await,
        TesseraError::Ed25519OffsetsOutsideInstruction,
    );

    assert_ok(fixture.send(&pair, &[]).await);
}

#[tokio::test]
async fn units_time_epoch_and_state_rules() {
    let (mut fixture, client, provider, job) = setup().await;
    let cosign = |receipt| TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);

    let receipt = fixture.receipt(&job, &provider, 1_001).await;
    let signed = cosign(receipt);
    assert_err(
        fixture.settle(&job, &provider, &signed).await,
        TesseraError::UnitsExceedMax,
    );

    let receipt = fixture.receipt(&job, &provider, 500).await;
    let at_500 = cosign(receipt);
    assert_ok(fixture.settle(&job, &provider, &at_500).await);
    assert_err(
        fixture.settle(&job, &provider, &at_500).await,
        TesseraError::ReceiptNotNewer,
    );
    let receipt = fixture.receipt(&job, &provider, 499).await;
    let older = cosign(receipt);
    assert_err(
        fixture.settle(&job, &provider, &older).await,
        TesseraError::ReceiptNotNewer,
    );

    // Expired by its own expiry, and by the network's maximum age.
    let receipt = fixture.receipt(&job, &provider, 600).await;
    let soon = cosign(receipt);
    fixture.advance(601).await;
    assert_err(
        fixture.settle(&job, &provider, &soon).await,
        TesseraError::ReceiptExpired,
    );
    // Valid for longer than the network allows (receipt_max_age_secs is an hour), or issued
    // in the future: refused at once, whatever the time.
    let mut receipt = fixture.receipt(&job, &provider, 600).await;
    receipt.expires_at = fixture.now + 3_601;
    let long_lived = cosign(receipt);
    assert_err(
        fixture.settle(&job, &provider, &long_lived).await,
        TesseraError::InvalidReceiptTimes,
    );
    let mut receipt = fixture.receipt(&job, &provider, 600).await;
    receipt.issued_at = fixture.now + 1;
    let early = cosign(receipt);
    assert_err(
        fixture.settle(&job, &provider, &early).await,
        TesseraError::InvalidReceiptTimes,
    );
    let mut receipt = fixture.receipt(&job, &provider, 600).await;
    receipt.expires_at = receipt.issued_at - 1;
    let backwards = cosign(receipt);
    assert_err(
        fixture.settle(&job, &provider, &backwards).await,
        TesseraError::InvalidReceiptTimes,
    );

    // The epoch argument must be the current epoch.
    let receipt = fixture.receipt(&job, &provider, 600).await;
    let fresh = cosign(receipt);
    let epoch = fixture.current_epoch().await;
    let instructions = fixture
        .settle_instructions(
            &job,
            &provider,
            &fresh,
            ix::receipt_args(&receipt, epoch + 1),
        )
        .await;
    assert_err(
        fixture.send(&instructions, &[]).await,
        TesseraError::WrongEpoch,
    );

    // Paused settlements.
    fixture
        .pause(PauseFlags {
            settlements: true,
            ..Default::default()
        })
        .await;
    assert_err(
        fixture.settle(&job, &provider, &fresh).await,
        TesseraError::SettlementsPaused,
    );
    fixture.pause(PauseFlags::default()).await;
    assert_ok(fixture.settle(&job, &provider, &fresh).await);
    fixture.assert_job_balanced(&job).await;

    // The payment must go to the provider owner's account, in the payment mint.
    let receipt = fixture.receipt(&job, &provider, 700).await;
    let next = cosign(receipt);
    let mut instructions = fixture
        .settle_instructions(&job, &provider, &next, ix::receipt_args(&receipt, epoch))
        .await;
    let provider_token = fixture.provider_token(&provider, job.mint).await;
    swap_account(&mut instructions[1], &provider_token, &client.token_account);
    assert_err(
        fixture.send(&instructions, &[]).await,
        TesseraError::WrongTokenAccountOwner,
    );

    // Another provider's account in place of the job's provider.
    let other = fixture.staked_provider(ProviderClass::Inference).await;
    let receipt = fixture.receipt(&job, &other, 700).await;
    let signed = TestFixture::sign(receipt, &other.worker, &[&client.wallet]);
    assert_err(
        fixture.settle(&job, &other, &signed).await,
        TesseraError::NotJobProvider,
    );

    // Completed jobs still settle late receipts; Open jobs never do.
    let complete = ix::complete_job(
        &provider.owner.pubkey(),
        &fixture.network.clone(),
        &job.address,
        [1; 32],
    );
    assert_ok(fixture.send(&[complete], &[&provider.owner]).await);
    assert_ok(fixture.settle(&job, &provider, &next).await);
    let mut args = fixture.job_args(Some(provider.address));
    args.max_units = 10;
    let (result, open) = fixture.create_job(&client, job.mint, args).await;
    assert_ok(result);
    let receipt = fixture.receipt(&open, &provider, 5).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    assert_err(
        fixture.settle(&open, &provider, &signed).await,
        TesseraError::JobNotSettleable,
    );
    fixture.assert_job_balanced(&job).await;
}

#[tokio::test]
async fn a_thousand_receipts_out_of_order_with_losses_pay_exactly_once() {
    let (mut fixture, client, provider, job) = setup().await;
    let provider_token = fixture.provider_token(&provider, job.mint).await;
    // A fixed permutation of 1..=1000 (multiplication by a unit mod 1001 is a bijection on
    // 1..=1000, since 1001 = 7·11·13 and 389 shares no factor with it); every 7th is lost.
    let order: Vec<u64> = (1..=1_000u64)
        .map(|i| i * 389 % 1_001)
        .filter(|units| units % 7 != 3)
        .collect();
    let highest = *order.iter().max().unwrap();
    let (mut accepted, mut refused) = (0, 0);
    let mut high_water = 0;
    for units in order {
        let receipt = fixture.receipt(&job, &provider, units).await;
        let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
        let result = fixture.settle(&job, &provider, &signed).await;
        if units > high_water {
            assert_ok(result);
            high_water = units;
            accepted += 1;
        } else {
            assert_err(result, TesseraError::ReceiptNotNewer);
            refused += 1;
        }
    }
    println!("1..1000 out of order: {accepted} settled, {refused} refused as not newer, high-water mark {highest}");
    let state: Job = fixture.decode(&job.address).await;
    assert_eq!(state.settled_units, highest);
    let expected_pay = highest * ONE - fee_on(highest);
    assert_eq!(fixture.balance(&provider_token).await, expected_pay);
    assert_eq!(state.paid_out, expected_pay);
    assert_eq!(state.fees_accrued, fee_on(highest));
    fixture.assert_job_balanced(&job).await;
}

#[tokio::test]
async fn settlement_transactions_fit_in_a_packet() {
    let (mut fixture, client, provider, job) = setup().await;
    let (a, b) = (attestor(&fixture, 0), attestor(&fixture, 1));
    let epoch = fixture.current_epoch().await;
    let receipt = fixture.receipt(&job, &provider, 10).await;
    let args = ix::receipt_args(&receipt, epoch);
    let payer = fixture.context.payer.insecure_clone();
    let blockhash = fixture.context.last_blockhash;
    for (name, cosigners) in [
        ("worker + client", vec![&client.wallet]),
        ("worker + 2-of-3 attestors", vec![&a, &b]),
    ] {
        let signed = TestFixture::sign(receipt, &provider.worker, &cosigners);
        let instructions = fixture
            .settle_instructions(&job, &provider, &signed, args)
            .await;
        let transaction = Transaction::new_signed_with_payer(
            &instructions,
            Some(&payer.pubkey()),
            &[&payer],
            blockhash,
        );
        let size = bincode::serialize(&transaction).unwrap().len();
        println!("settlement transaction, {name}: {size} bytes of 1232");
        assert!(size <= 1232, "{name}: {size} bytes");
    }
}

#[tokio::test]
async fn service_receipts_earn_emission_units_only_with_the_quorum() {
    let (mut fixture, _client, provider, _job) = setup().await;
    let (a, b) = (attestor(&fixture, 0), attestor(&fixture, 1));
    let bandwidth = fixture.staked_provider(ProviderClass::Bandwidth).await;
    let network = fixture.network;
    let base = fixture.service_receipt(&bandwidth, 0).await;
    let service_receipt = |fixture: &TestFixture, units: u64, version: u32| Receipt {
        cumulative_units: units,
        result_hash: [3; 32],
        attestor_set_version: version,
        issued_at: fixture.now,
        expires_at: fixture.now + 600,
        ..base
    };
    let version = fixture.network_account().await.attestors.version;
    let epoch = fixture.current_epoch().await;
    let submit = |signed: &SignedReceipt, fixture: &TestFixture| {
        vec![
            signed.ed25519_instruction(),
            ix::settle_service(
                &fixture.context.payer.pubkey(),
                &network,
                &bandwidth.address,
                ix::receipt_args(&signed.receipt, epoch),
                false,
            ),
        ]
    };

    let only_worker = TestFixture::sign(
        service_receipt(&fixture, 5_000, version),
        &bandwidth.worker,
        &[],
    );
    let instructions = submit(&only_worker, &fixture);
    assert_err(
        fixture.send(&instructions, &[]).await,
        TesseraError::MissingCosignature,
    );

    let attested = TestFixture::sign(
        service_receipt(&fixture, 5_000, version),
        &bandwidth.worker,
        &[&a, &b],
    );
    let instructions = submit(&attested, &fixture);
    assert_ok(fixture.send(&instructions, &[]).await);
    assert_err(
        fixture.send(&instructions, &[]).await,
        TesseraError::ReceiptNotNewer,
    );
    let state: Provider = fixture.decode(&bandwidth.address).await;
    assert_eq!(state.service_units, 5_000);
    let work: WorkRecord = fixture
        .decode(&pda::work_record(&bandwidth.address, epoch))
        .await;
    assert_eq!(work.units, 5_000);
    assert_eq!(
        fixture
            .network_account()
            .await
            .totals
            .deregistered_service_units,
        0
    );

    // A job provider's service receipt cannot claim another provider as its subject.
    let mut stolen = service_receipt(&fixture, 6_000, version);
    stolen.subject = provider.address;
    let signed = TestFixture::sign(stolen, &bandwidth.worker, &[&a, &b]);
    let instructions = submit(&signed, &fixture);
    assert_err(
        fixture.send(&instructions, &[]).await,
        TesseraError::ReceiptWrongJob,
    );
}
