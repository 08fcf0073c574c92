//! Table 1: the size of a settlement transaction (the Ed25519 precompile instruction carrying
//! the receipt's signatures, then `settle_receipt`) for each way a receipt can be vouched for,
//! built as a real legacy transaction, and whether it settles on the test bank.

use anyhow::{anyhow, Context, Result};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;
use tessera::state::MAX_ATTESTORS;
use tessera_attest::group;
use tessera_client::instructions as ix;
use tessera_tests::{SignedReceipt, TestFixture, TestJob, TestProvider, TxResult, ONE};

/// The groups of the group-signature rows, as (threshold, members): `threshold` of `members`
/// sign each receipt as the group key.
pub const GROUPS: [(u16, u16); 3] = [(3, 5), (7, 10), (67, 100)];

/// Most bytes a transaction may have: an IPv6 MTU less headers (Solana's `PACKET_DATA_SIZE`).
pub const PACKET_DATA_SIZE: usize = 1_232;

/// One settlement transaction and what became of it.
pub struct SettlementRow {
    /// Who signed the receipt.
    pub signed_by: String,
    /// For a group signature, the group as (threshold, members); `None` for keys that sign
    /// one by one.
    pub group: Option<(u16, u16)>,
    /// Signatures inside the Ed25519 instruction: the worker's and its co-signers'.
    pub receipt_signatures: usize,
    /// Signatures of the transaction itself: the submitter's.
    pub transaction_signatures: usize,
    /// Bytes of the serialized transaction.
    pub bytes: usize,
    /// What the test bank said, for transactions that fit in a packet.
    pub settled: Option<Result<(), String>>,
}

impl SettlementRow {
    /// Whether the transaction fits in one packet.
    pub fn fits(&self) -> bool {
        self.bytes <= PACKET_DATA_SIZE
    }
}

/// Fails with the bank's error unless `result` succeeded.
pub fn ok(result: TxResult, what: &str) -> Result<()> {
    result.map_err(|error| anyhow!("{what} failed on the test bank: {error:?}"))
}

/// Bytes of the legacy transaction that `payer` alone signs around `instructions`.
pub fn transaction_bytes(
    instructions: &[solana_instruction::Instruction],
    payer: &Keypair,
) -> Result<(usize, usize)> {
    let transaction = Transaction::new_signed_with_payer(
        instructions,
        Some(&payer.pubkey()),
        &[payer],
        solana_hash::Hash::default(),
    );
    let bytes = bincode::serialized_size(&transaction)
        .map_err(|error| anyhow!("cannot serialize a transaction: {error}"))?;
    Ok((bytes as usize, transaction.signatures.len()))
}

/// Builds the settlement of `signed` on `job`, measures it and, when it fits in a packet,
/// sends it.
async fn settle_row(
    fixture: &mut TestFixture,
    signed_by: String,
    group: Option<(u16, u16)>,
    job: &TestJob,
    provider: &TestProvider,
    signed: &SignedReceipt,
) -> Result<SettlementRow> {
    let instructions = fixture.settle_now_instructions(job, provider, signed).await;
    let payer = fixture.context.payer.insecure_clone();
    let (bytes, transaction_signatures) = transaction_bytes(&instructions, &payer)?;
    let settled = if bytes <= PACKET_DATA_SIZE {
        let result = fixture.send(&instructions, &[]).await;
        Some(result.map_err(|error| format!("{error:?}")))
    } else {
        None
    };
    Ok(SettlementRow {
        signed_by,
        group,
        receipt_signatures: signed.signatures.len(),
        transaction_signatures,
        bytes,
        settled,
    })
}

/// Puts the network in group mode under a new group of `members` that a dealer made with
/// `threshold`, then has `threshold` members sign a receipt for `cumulative_units` in FROST's
/// two rounds: the worker's signature, then the group's one signature.
async fn group_signed(
    fixture: &mut TestFixture,
    job: &TestJob,
    provider: &TestProvider,
    (threshold, members): (u16, u16),
    cumulative_units: u64,
) -> Result<SignedReceipt> {
    let shares = group::dealer(threshold, members)
        .with_context(|| format!("a dealer makes a {threshold}-of-{members} group"))?;
    let group_key = shares[0].group_key()?;
    let authority = fixture.authority.insecure_clone();
    let instruction = ix::set_attestor_group(
        &authority.pubkey(),
        &fixture.network,
        group_key,
        u8::try_from(threshold)?,
        u8::try_from(members)?,
    );
    ok(
        fixture.send(&[instruction], &[&authority]).await,
        "set_attestor_group",
    )?;
    let receipt = fixture.receipt(job, provider, cumulative_units).await;
    let signature = group::sign_together(&shares[..usize::from(threshold)], &receipt.to_bytes())?;
    let mut signed = SignedReceipt::new(receipt);
    signed.sign(&provider.worker).context("the worker signs")?;
    signed.signatures.push((group_key, signature));
    signed
        .verify()
        .context("the group's signature verifies under its key")?;
    Ok(signed)
}

/// A worker + client row, then worker + k attestors (a k-of-k set) for k = 1, 2, ... up to
/// the first k whose transaction no longer fits in a packet (or the program's limit of
/// `MAX_ATTESTORS`), then worker + one group signature for each of [`GROUPS`].
pub async fn measure(fixture: &mut TestFixture) -> Result<Vec<SettlementRow>> {
    let (client, provider, job) = fixture.accepted_job(1_000 * ONE, 100).await;

    let mut cumulative_units = 1;
    let receipt = fixture.receipt(&job, &provider, cumulative_units).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    let name = "worker + client".to_string();
    let mut rows = vec![settle_row(fixture, name, None, &job, &provider, &signed).await?];
    for attestors in 1..=MAX_ATTESTORS {
        cumulative_units += 1;
        fixture.set_attestors(attestors, attestors as u8).await;
        let receipt = fixture.receipt(&job, &provider, cumulative_units).await;
        let signed = fixture.attested(receipt, &provider).await;
        let name = format!("worker + {attestors}-of-{attestors} attestors");
        let row = settle_row(fixture, name, None, &job, &provider, &signed).await?;
        let fits = row.fits();
        rows.push(row);
        if !fits {
            break;
        }
    }
    for (threshold, members) in GROUPS {
        cumulative_units += 1;
        let signed = group_signed(
            fixture,
            &job,
            &provider,
            (threshold, members),
            cumulative_units,
        )
        .await?;
        let name = format!("worker + group signature, {threshold}-of-{members}");
        let group = Some((threshold, members));
        rows.push(settle_row(fixture, name, group, &job, &provider, &signed).await?);
    }
    Ok(rows)
}
