//! settle_batch: the receipts of several jobs of one provider under one worker signature and
//! one co-signature, each job settled exactly as settle_receipt settles it alone. Every way a
//! batch can be wrong is refused, and one bad receipt fails the whole batch.

use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera::instructions::{BatchReceipt, MAX_BATCH_RECEIPTS};
use tessera::state::{Job, Provider, ProviderClass, UnitKind, WorkRecord};
use tessera::TesseraError;
use tessera_client::instructions as ix;
use tessera_client::pda;
use tessera_tests::*;

/// A price with a fee that rounds: 250 bps of 7 base units a unit.
const PRICE: u64 = 7;
const MAX_UNITS: u64 = 1_000;

/// A network whose attestors sign as one group key, a staked Inference provider, two clients
/// in one SPL Token mint, and `jobs_per_client` running jobs of each with that provider.
struct Batches {
    fixture: TestFixture,
    provider: TestProvider,
    clients: [TestClient; 2],
    /// `jobs[c]` are client `c`'s jobs.
    jobs: [Vec<TestJob>; 2],
}

async fn batches(jobs_per_client: usize) -> Batches {
    let mut fixture = TestFixture::new().await;
    fixture.set_attestor_group(2, 3).await;
    let mint = fixture.create_mint(TOKEN).await;
    // Twice the class minimum: room for eight running jobs.
    let stake = 2 * default_params().classes[ProviderClass::Inference.index()].min_stake;
    let provider = fixture.provider(ProviderClass::Inference, stake).await;
    let instruction = ix::stake(
        &provider.owner.pubkey(),
        &fixture.network,
        fixture.reward_mint,
        &provider.reward_account,
        stake,
    );
    assert_ok(fixture.send(&[instruction], &[&provider.owner]).await);
    let funds = PRICE * MAX_UNITS * jobs_per_client as u64;
    let clients = [
        fixture.client(mint, funds).await,
        fixture.client(mint, funds).await,
    ];
    let mut jobs = [Vec::new(), Vec::new()];
    for (client, jobs) in clients.iter().zip(&mut jobs) {
        for _ in 0..jobs_per_client {
            let mut args = fixture.job_args(Some(provider.address));
            args.price_per_unit = PRICE;
            args.max_units = MAX_UNITS;
            let (result, job) = fixture.create_job(client, mint, args).await;
            assert_ok(result);
            assert_ok(fixture.accept(&provider, &job).await);
            jobs.push(job);
        }
    }
    Batches {
        fixture,
        provider,
        clients,
        jobs,
    }
}

impl Batches {
    fn group_key(&self) -> Keypair {
        self.fixture.attestors[0].insecure_clone()
    }

    /// Receipts for `units[i]` cumulative units on `jobs[i]`, issued now.
    async fn receipts(&mut self, jobs: &[&TestJob], units: &[u64]) -> Vec<Receipt> {
        let mut receipts = Vec::new();
        for (job, units) in jobs.iter().zip(units) {
            receipts.push(self.fixture.receipt(job, &self.provider, *units).await);
        }
        receipts
    }

    /// `receipts` signed by the worker and `cosigner`, settled as one batch on `jobs`.
    async fn settle(
        &mut self,
        jobs: &[&TestJob],
        receipts: Vec<Receipt>,
        cosigner: &Keypair,
    ) -> TxResult {
        let signed = TestFixture::sign_batch(receipts, &self.provider.worker, &[cosigner]);
        let instructions = self
            .fixture
            .settle_batch_instructions(jobs, &self.provider, &signed)
            .await;
        self.fixture.send(&instructions, &[]).await
    }

    /// The `[ed25519, settle_batch]` pair for `units` on `jobs`, signed by the worker and the
    /// group key, for tests that tamper with it.
    async fn attested_pair(&mut self, jobs: &[&TestJob], units: &[u64]) -> Vec<Instruction> {
        let receipts = self.receipts(jobs, units).await;
        let group = self.group_key();
        let signed = TestFixture::sign_batch(receipts, &self.provider.worker, &[&group]);
        self.fixture
            .settle_batch_instructions(jobs, &self.provider, &signed)
            .await
    }

    async fn work_units(&mut self) -> u128 {
        let epoch = self.fixture.current_epoch().await;
        let record = pda::work_record(&self.provider.address, epoch);
        match self.fixture.account(&record).await {
            Some(_) => self.fixture.decode::<WorkRecord>(&record).await.units,
            None => 0,
        }
    }
}

/// What a settlement leaves on a job, whatever its address: the books and the times.
fn settled_state(job: &Job) -> (u64, u64, u64, u64, i64, i64) {
    (
        job.settled_units,
        job.paid_out,
        job.fees_accrued,
        job.fees_paid,
        job.last_settled_at,
        job.last_attested_at,
    )
}

#[tokio::test]
async fn a_batch_pays_and_records_each_job_exactly_as_if_settled_alone() {
    let mut scene = batches(3).await;
    let units = [13, 401, 999];
    let alone: Vec<TestJob> = scene.jobs[0].drain(..).collect();
    let batched: Vec<TestJob> = scene.jobs[1].drain(..).collect();
    let group = scene.group_key();
    let provider_token = scene
        .fixture
        .provider_token(&scene.provider, alone[0].mint)
        .await;

    let before = scene.fixture.balance(&provider_token).await;
    for (job, units) in alone.iter().zip(units) {
        let receipt = scene.fixture.receipt(job, &scene.provider, units).await;
        let signed = TestFixture::sign(receipt, &scene.provider.worker, &[&group]);
        assert_ok(scene.fixture.settle(job, &scene.provider, &signed).await);
    }
    let paid_alone = scene.fixture.balance(&provider_token).await - before;
    let work_alone = scene.work_units().await;
    let settled_alone: Provider = scene.fixture.decode(&scene.provider.address).await;

    let jobs: Vec<&TestJob> = batched.iter().collect();
    let receipts = scene.receipts(&jobs, &units).await;
    assert_ok(scene.settle(&jobs, receipts, &group).await);

    assert_eq!(
        scene.fixture.balance(&provider_token).await - before - paid_alone,
        paid_alone,
        "the batch paid what the same receipts paid one by one"
    );
    assert_eq!(scene.work_units().await, 2 * work_alone);
    let provider: Provider = scene.fixture.decode(&scene.provider.address).await;
    assert_eq!(provider.settled_units, 2 * settled_alone.settled_units);
    assert_eq!(provider.slashable_until, settled_alone.slashable_until);
    for (single, batch) in alone.iter().zip(&batched) {
        let single: Job = scene.fixture.decode(&single.address).await;
        let batch_state: Job = scene.fixture.decode(&batch.address).await;
        assert_eq!(settled_state(&batch_state), settled_state(&single));
        assert!(
            batch_state.last_attested_at > 0,
            "attested work is disputable"
        );
        scene.fixture.assert_job_balanced(batch).await;
    }
    scene
        .fixture
        .assert_provider_balanced(&scene.provider.address)
        .await;

    // A later batch pays only what each receipt adds over its job's high-water mark.
    let receipts = scene.receipts(&jobs, &[20, 402, 1_000]).await;
    assert_ok(scene.settle(&jobs, receipts, &group).await);
    let states: Vec<Job> = {
        let mut states = Vec::new();
        for job in &batched {
            states.push(scene.fixture.decode(&job.address).await);
        }
        states
    };
    let marks: Vec<u64> = states.iter().map(|job| job.settled_units).collect();
    assert_eq!(marks, [20, 402, 1_000]);
}

#[tokio::test]
async fn a_client_cosigns_a_batch_of_its_own_jobs_which_earns_no_emission() {
    let mut scene = batches(2).await;
    let client = scene.clients[0].wallet.insecure_clone();
    let own: Vec<TestJob> = scene.jobs[0].drain(..).collect();
    let jobs: Vec<&TestJob> = own.iter().collect();
    let receipts = scene.receipts(&jobs, &[10, 20]).await;
    assert_ok(scene.settle(&jobs, receipts, &client).await);
    for (job, units) in own.iter().zip([10, 20]) {
        let state: Job = scene.fixture.decode(&job.address).await;
        assert_eq!(state.settled_units, units);
        assert_eq!(
            state.last_attested_at, 0,
            "the client vouched: no dispute window"
        );
    }
    let epoch = scene.fixture.current_epoch().await;
    assert!(
        scene
            .fixture
            .account(&pda::work_record(&scene.provider.address, epoch))
            .await
            .is_none(),
        "a client's batch takes no write lock on the epoch's accounts"
    );
}

#[tokio::test]
async fn a_client_cannot_cosign_another_clients_job_into_its_batch() {
    let mut scene = batches(1).await;
    let client = scene.clients[0].wallet.insecure_clone();
    let (own, other) = (scene.jobs[0].remove(0), scene.jobs[1].remove(0));
    let receipts = scene.receipts(&[&own, &other], &[10, 10]).await;
    let result = scene.settle(&[&own, &other], receipts, &client).await;
    assert_err(result, TesseraError::UnknownAttestor);
    let state: Job = scene.fixture.decode(&own.address).await;
    assert_eq!(
        state.settled_units, 0,
        "one bad receipt fails the whole batch"
    );
}

#[tokio::test]
async fn threshold_attestors_cosign_a_batch_in_keys_mode() {
    let mut scene = batches(2).await;
    scene.fixture.set_attestors(3, 2).await;
    let own: Vec<TestJob> = scene.jobs[0].drain(..).collect();
    let jobs: Vec<&TestJob> = own.iter().collect();
    let receipts = scene.receipts(&jobs, &[5, 6]).await;
    let attestors = [
        scene.fixture.attestors[0].insecure_clone(),
        scene.fixture.attestors[1].insecure_clone(),
    ];
    let signed =
        TestFixture::sign_batch(receipts.clone(), &scene.provider.worker, &[&attestors[0]]);
    let pair = scene
        .fixture
        .settle_batch_instructions(&jobs, &scene.provider, &signed)
        .await;
    let result = scene.fixture.send(&pair, &[]).await;
    assert_err(result, TesseraError::SignatureCountMismatch);

    let signed = TestFixture::sign_batch(
        receipts,
        &scene.provider.worker,
        &[&attestors[0], &attestors[1]],
    );
    let pair = scene
        .fixture
        .settle_batch_instructions(&jobs, &scene.provider, &signed)
        .await;
    assert_ok(scene.fixture.send(&pair, &[]).await);
    assert!(scene.work_units().await > 0);
}

#[tokio::test]
async fn a_batch_replays_nothing_and_each_receipt_expires_on_its_own() {
    let mut scene = batches(2).await;
    let own: Vec<TestJob> = scene.jobs[0].drain(..).collect();
    let jobs: Vec<&TestJob> = own.iter().collect();
    let group = scene.group_key();
    let receipts = scene.receipts(&jobs, &[10, 20]).await;
    let signed = TestFixture::sign_batch(receipts.clone(), &scene.provider.worker, &[&group]);
    let pair = scene
        .fixture
        .settle_batch_instructions(&jobs, &scene.provider, &signed)
        .await;
    assert_ok(scene.fixture.send(&pair, &[]).await);
    scene.fixture.advance(1).await;
    let again = scene
        .fixture
        .settle_batch_instructions(&jobs, &scene.provider, &signed)
        .await;
    assert_err(
        scene.fixture.send(&again, &[]).await,
        TesseraError::ReceiptNotNewer,
    );

    // One receipt of the next batch lives a minute, the other the default ten.
    let mut receipts = scene.receipts(&jobs, &[30, 40]).await;
    receipts[0].expires_at = receipts[0].issued_at + 60;
    scene.fixture.advance(120).await;
    let result = scene.settle(&jobs, receipts, &group).await;
    assert_err(result, TesseraError::ReceiptExpired);
    let state: Job = scene.fixture.decode(&own[1].address).await;
    assert_eq!(
        state.settled_units, 20,
        "the live receipt waits for a batch of its own"
    );
}

#[tokio::test]
async fn a_batch_binds_every_receipt_to_the_arguments_and_the_order_signed() {
    let mut scene = batches(2).await;
    let own: Vec<TestJob> = scene.jobs[0].drain(..).collect();
    let jobs: Vec<&TestJob> = own.iter().collect();

    let mut pair = scene.attested_pair(&jobs, &[10, 20]).await;
    let mut args = decode_args(&pair[1]);
    args.receipts[1].cumulative_units = 200;
    pair[1] = ix::settle_batch(
        batch_keys(&pair[1]),
        &[own[0].address, own[1].address],
        args,
    );
    assert_err(
        scene.fixture.send(&pair, &[]).await,
        TesseraError::ReceiptMismatch,
    );

    // The same jobs in the other order.
    let pair = scene.attested_pair(&jobs, &[10, 20]).await;
    let mut swapped = pair.clone();
    let mut args = decode_args(&swapped[1]);
    args.receipts.swap(0, 1);
    let keys = batch_keys(&swapped[1]);
    swapped[1] = ix::settle_batch(keys, &[own[1].address, own[0].address], args);
    assert_err(
        scene.fixture.send(&swapped, &[]).await,
        TesseraError::ReceiptMismatch,
    );
    assert_ok(scene.fixture.send(&pair, &[]).await);
}

#[tokio::test]
async fn one_receipts_signatures_do_not_settle_a_batch_nor_a_batchs_one_receipt() {
    let mut scene = batches(1).await;
    let job = scene.jobs[0].remove(0);
    let group = scene.group_key();
    let receipt = scene.fixture.receipt(&job, &scene.provider, 10).await;

    let single = TestFixture::sign(receipt, &scene.provider.worker, &[&group]);
    let batch = TestFixture::sign_batch(vec![receipt], &scene.provider.worker, &[&group]);
    let mut pair = scene
        .fixture
        .settle_batch_instructions(&[&job], &scene.provider, &batch)
        .await;
    pair[0] = single.ed25519_instruction();
    assert_err(
        scene.fixture.send(&pair, &[]).await,
        TesseraError::ReceiptMismatch,
    );

    let mut pair = scene
        .fixture
        .settle_now_instructions(&job, &scene.provider, &single)
        .await;
    pair[0] = batch.ed25519_instruction();
    assert_err(
        scene.fixture.send(&pair, &[]).await,
        TesseraError::ReceiptMismatch,
    );
}

#[tokio::test]
async fn a_batch_names_between_one_and_the_most_receipts_and_two_accounts_for_each() {
    let mut scene = batches(2).await;
    let own: Vec<TestJob> = scene.jobs[0].drain(..).collect();
    let jobs: Vec<&TestJob> = own.iter().collect();
    let pair = scene.attested_pair(&jobs, &[10, 20]).await;

    let mut empty = pair.clone();
    let mut args = decode_args(&empty[1]);
    args.receipts.clear();
    empty[1] = ix::settle_batch(batch_keys(&empty[1]), &[], args);
    assert_err(
        scene.fixture.send(&empty, &[]).await,
        TesseraError::InvalidBatchSize,
    );

    let mut too_many = pair.clone();
    let mut args = decode_args(&too_many[1]);
    let entry: BatchReceipt = args.receipts[0];
    args.receipts = vec![entry; MAX_BATCH_RECEIPTS + 1];
    too_many[1] = ix::settle_batch(batch_keys(&too_many[1]), &[], args);
    assert_err(
        scene.fixture.send(&too_many, &[]).await,
        TesseraError::InvalidBatchSize,
    );

    let mut short = pair.clone();
    short[1].accounts.pop();
    assert_err(
        scene.fixture.send(&short, &[]).await,
        TesseraError::BatchAccountsMismatch,
    );

    let mut read_only = pair.clone();
    let job_at = read_only[1].accounts.len() - 4;
    read_only[1].accounts[job_at].is_writable = false;
    assert_anchor_err(
        scene.fixture.send(&read_only, &[]).await,
        AnchorErrorCode::ConstraintMut,
    );
    assert_ok(scene.fixture.send(&pair, &[]).await);
}

#[tokio::test]
async fn every_job_of_a_batch_is_checked_as_settle_receipt_checks_its_own() {
    let mut scene = batches(2).await;
    let own: Vec<TestJob> = scene.jobs[0].drain(..).collect();
    let jobs: Vec<&TestJob> = own.iter().collect();

    // The same job twice, even signed that way, would read its high-water mark twice.
    let twice = scene.attested_pair(&[jobs[0], jobs[0]], &[10, 20]).await;
    assert_anchor_err(
        scene.fixture.send(&twice, &[]).await,
        AnchorErrorCode::ConstraintDuplicateMutableAccount,
    );

    // Another job's vault in the vault's place.
    let mut wrong_vault = scene.attested_pair(&jobs, &[10, 20]).await;
    let vault_at = wrong_vault[1].accounts.len() - 3;
    wrong_vault[1].accounts[vault_at].pubkey = own[1].vault;
    assert_anchor_err(
        scene.fixture.send(&wrong_vault, &[]).await,
        AnchorErrorCode::ConstraintHasOne,
    );

    // A token account in the job's place.
    let mut not_a_job = scene.attested_pair(&jobs, &[10, 20]).await;
    let job_at = not_a_job[1].accounts.len() - 4;
    not_a_job[1].accounts[job_at].pubkey = own[0].vault;
    assert_anchor_err(
        scene.fixture.send(&not_a_job, &[]).await,
        AnchorErrorCode::AccountOwnedByWrongProgram,
    );

    // Another provider's job, signed by this provider's worker.
    let mint = own[0].mint;
    let other_provider = scene
        .fixture
        .staked_provider(ProviderClass::Inference)
        .await;
    let mut args = scene.fixture.job_args(Some(other_provider.address));
    args.price_per_unit = PRICE;
    let client = scene.fixture.client(mint, PRICE * 100).await;
    let (result, foreign) = scene.fixture.create_job(&client, mint, args).await;
    assert_ok(result);
    assert_ok(scene.fixture.accept(&other_provider, &foreign).await);
    let pair = scene.attested_pair(&[jobs[0], &foreign], &[10, 10]).await;
    assert_err(
        scene.fixture.send(&pair, &[]).await,
        TesseraError::NotJobProvider,
    );

    // A job in another mint: a batch pays in one.
    let other_mint = scene.fixture.create_mint(TOKEN).await;
    let client = scene.fixture.client(other_mint, 100 * ONE).await;
    let args = scene.fixture.job_args(Some(scene.provider.address));
    let (result, elsewhere) = scene.fixture.create_job(&client, other_mint, args).await;
    assert_ok(result);
    assert_ok(scene.fixture.accept(&scene.provider, &elsewhere).await);
    let pair = scene.attested_pair(&[jobs[0], &elsewhere], &[10, 10]).await;
    assert_err(
        scene.fixture.send(&pair, &[]).await,
        TesseraError::WrongMint,
    );

    // A job whose unit kind its provider's class does not measure (accept_job keeps one out;
    // the account is edited here), even signed that way.
    scene
        .fixture
        .mutate::<Job>(&own[1].address, |job| job.unit_kind = UnitKind::Bytes)
        .await;
    let pair = scene.attested_pair(&jobs, &[10, 20]).await;
    assert_err(
        scene.fixture.send(&pair, &[]).await,
        TesseraError::UnitKindMismatch,
    );
    scene
        .fixture
        .mutate::<Job>(&own[1].address, |job| job.unit_kind = UnitKind::GpuSeconds)
        .await;

    // An ended job settles in a batch as alone: receipts issued before its end only.
    assert_ok(scene.fixture.complete(&scene.provider, &own[1]).await);
    scene.fixture.advance(5).await;
    let pair = scene.attested_pair(&jobs, &[10, 20]).await;
    assert_err(
        scene.fixture.send(&pair, &[]).await,
        TesseraError::ReceiptIssuedAfterJobEnded,
    );

    for job in &own {
        let state: Job = scene.fixture.decode(&job.address).await;
        assert_eq!(state.settled_units, 0);
    }
}

/// The arguments of a `settle_batch` instruction.
fn decode_args(instruction: &Instruction) -> tessera::instructions::SettleBatchArgs {
    use anchor_lang::AnchorDeserialize;
    tessera::instructions::SettleBatchArgs::try_from_slice(&instruction.data[8..])
        .expect("settle_batch arguments")
}

/// The fixed accounts of a `settle_batch` instruction built by the fixture, read back.
fn batch_keys(instruction: &Instruction) -> ix::SettleBatchAccounts {
    let key = |index: usize| instruction.accounts[index].pubkey;
    let epoch_accounts = match (key(4) == tessera::ID, key(5) == tessera::ID) {
        (true, true) => ix::EpochAccounts::None,
        (true, false) => ix::EpochAccounts::Record,
        (false, _) => ix::EpochAccounts::RecordAndEpoch,
    };
    ix::SettleBatchAccounts {
        submitter: key(0),
        network: key(1),
        provider: key(2),
        provider_token: key(7),
        payment_mint: ix::MintRef {
            mint: key(8),
            token_program: key(9),
        },
        epoch_accounts,
    }
}
