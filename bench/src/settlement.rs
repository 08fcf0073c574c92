//! Table 1: the size of a settlement transaction (the Ed25519 precompile instruction carrying
//! the receipt's signatures, then `settle_receipt`) for each way a receipt can be vouched for,
//! built as a real legacy transaction, and whether it settles on the test bank.

use anyhow::{anyhow, Result};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;
use tessera::state::MAX_ATTESTORS;
use tessera_tests::{SignedReceipt, TestFixture, TestJob, TestProvider, TxResult, ONE};

/// Most bytes a transaction may have: an IPv6 MTU less headers (Solana's `PACKET_DATA_SIZE`).
pub const PACKET_DATA_SIZE: usize = 1_232;

/// One settlement transaction and what became of it.
pub struct SettlementRow {
    /// Who signed the receipt.
    pub signed_by: String,
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
        receipt_signatures: signed.signatures.len(),
        transaction_signatures,
        bytes,
        settled,
    })
}

/// A worker + client row, then worker + k attestors (a k-of-k set) for k = 1, 2, ... up to
/// the first k whose transaction no longer fits in a packet (or the program's limit of
/// `MAX_ATTESTORS`).
pub async fn measure(fixture: &mut TestFixture) -> Result<Vec<SettlementRow>> {
    let (client, provider, job) = fixture.accepted_job(1_000 * ONE, 100).await;

    let receipt = fixture.receipt(&job, &provider, 1).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    let mut rows =
        vec![settle_row(fixture, "worker + client".into(), &job, &provider, &signed).await?];
    for attestors in 1..=MAX_ATTESTORS {
        fixture.set_attestors(attestors, attestors as u8).await;
        let receipt = fixture.receipt(&job, &provider, 1 + attestors as u64).await;
        let signed = fixture.attested(receipt, &provider).await;
        let name = format!("worker + {attestors}-of-{attestors} attestors");
        let row = settle_row(fixture, name, &job, &provider, &signed).await?;
        let fits = row.fits();
        rows.push(row);
        if !fits {
            break;
        }
    }
    Ok(rows)
}
