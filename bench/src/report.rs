//! Turns the measurements into the six tables. Every figure printed here was measured in this
//! run, except Nosana's account sizes, which are the reference the brief gives.

use crate::claims::{ClaimSample, SAMPLES};
use crate::footprint::{
    rent_exempt, total_bytes, total_rent, AccountSize, NOSANA_JOB_BYTES, NOSANA_RUN_BYTES,
};
use crate::offchain::{self, Comparison};
use crate::settlement::{SettlementRow, PACKET_DATA_SIZE};
use crate::table::{grouped, rate, ratio, Table};
use crate::throughput::{self, Run, Throughput};
use std::time::Duration;
use tessera::state::MAX_ATTESTORS;
use tessera_client::receipt::RECEIPT_LEN;

const THRESHOLD_NOT_BUILT: &str = "not built yet (issue 15)";
const WORKER_NOT_BUILT: &str = "not built yet (issue 14)";

fn milliseconds(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1_000.0)
}

fn sol(lamports: u64) -> String {
    format!("{:.6}", lamports as f64 / 1e9)
}

fn settled(row: &SettlementRow) -> String {
    match &row.settled {
        Some(Ok(())) => "yes".into(),
        Some(Err(error)) => format!("no: {error}"),
        None => "not sent: over the limit".into(),
    }
}

/// Table 1.
pub fn settlement(rows: &[SettlementRow]) -> Table {
    let mut table = Table::new(
        "1. Settlement transaction size",
        &[
            "receipt signed by",
            "signatures in the Ed25519 instruction",
            "transaction signatures",
            "transaction bytes",
            "of the 1,232-byte limit",
            "settled on the test bank",
        ],
    );
    table
        .note(format!(
            "A legacy transaction paid and signed by the submitter: the Ed25519 precompile \
             instruction with the receipt ({RECEIPT_LEN} bytes, stored once) and its signatures, \
             then `settle_receipt`, built by the client library and serialized as a validator \
             receives it. Attestor rows use a k-of-k set; they stop at the first k that no longer \
             fits (the program accepts up to {MAX_ATTESTORS})."
        ))
        .note("Each transaction that fits was sent to the test bank.");
    for row in rows {
        let share = if row.fits() {
            format!("{:.1}%", 100.0 * row.bytes as f64 / PACKET_DATA_SIZE as f64)
        } else {
            format!("over by {}", row.bytes - PACKET_DATA_SIZE)
        };
        table.row(vec![
            row.signed_by.clone(),
            row.receipt_signatures.to_string(),
            row.transaction_signatures.to_string(),
            grouped(row.bytes as u64),
            share,
            settled(row),
        ]);
    }
    table.not_built("worker + group signature", THRESHOLD_NOT_BUILT);
    let most = rows
        .iter()
        .filter(|row| row.fits() && row.signed_by.contains("attestors"))
        .map(|row| row.receipt_signatures - 1)
        .max()
        .unwrap_or(0);
    table.note(format!(
        "Most attestors that fit in one legacy transaction: {most}."
    ));
    let attested: Vec<&SettlementRow> = rows
        .iter()
        .filter(|row| row.signed_by.contains("attestors"))
        .collect();
    let mut increments: Vec<usize> = attested
        .windows(2)
        .map(|pair| pair[1].bytes - pair[0].bytes)
        .collect();
    increments.dedup();
    if !increments.is_empty() {
        let increments: Vec<String> = increments.iter().map(usize::to_string).collect();
        table.note(format!(
            "Each further attestor adds {} bytes (an offsets entry, a key and a signature).",
            increments.join(" or ")
        ));
    }
    table
}

/// Table 2, the accounts one by one.
pub fn footprint(sizes: &[AccountSize]) -> Table {
    let mut table = Table::new(
        "2. Account footprint",
        &[
            "account",
            "created by",
            "one per",
            "bytes (in the bank)",
            "bytes declared",
            "rent-exempt lamports",
            "SOL",
        ],
    );
    table.note(
        "Data bytes of each account the program creates, read from accounts that real \
         instructions created on the test bank (payment and reward mints are SPL Token); \
         declared is `8 + INIT_SPACE` for the program's accounts and `Account::LEN` for token \
         accounts. Rent: `solana_rent::Rent::default().minimum_balance(bytes)`.",
    );
    for size in sizes {
        let lamports = rent_exempt(size.bytes);
        table.row(vec![
            size.name.into(),
            size.created_by.into(),
            size.per.into(),
            grouped(size.bytes as u64),
            grouped(size.declared as u64),
            grouped(lamports),
            sol(lamports),
        ]);
    }
    table
}

/// Table 2b: what each job, provider and epoch costs, and a job against Nosana's.
pub fn footprint_totals(sizes: &[AccountSize]) -> Table {
    let mut table = Table::new(
        "2b. Footprint per job, provider and epoch",
        &[
            "per",
            "accounts",
            "bytes",
            "rent-exempt lamports",
            "bytes vs Nosana's job",
        ],
    );
    table.note(format!(
        "Nosana's figures are its account sizes as given (Job {NOSANA_JOB_BYTES} + Run \
         {NOSANA_RUN_BYTES} bytes), not measured here; their rent is computed the same way."
    ));
    let nosana_bytes = NOSANA_JOB_BYTES + NOSANA_RUN_BYTES;
    let versus = |bytes: usize| ratio(bytes as f64 / nosana_bytes as f64);
    let groups: [(&str, &str, &[&str]); 5] = [
        (
            "job (Tessera)",
            "Job + escrow vault",
            &["Job", "escrow vault (SPL Token account)"],
        ),
        ("job (Tessera), account only", "Job", &["Job"]),
        (
            "provider",
            "Provider + stake vault",
            &["Provider", "stake vault (SPL Token account)"],
        ),
        ("epoch", "Epoch", &["Epoch"]),
        (
            "provider per epoch (closed by its claim)",
            "WorkRecord",
            &["WorkRecord"],
        ),
    ];
    for (per, accounts, names) in groups {
        let bytes = total_bytes(sizes, names);
        let is_job = per.starts_with("job");
        table.row(vec![
            per.into(),
            accounts.into(),
            grouped(bytes as u64),
            grouped(total_rent(sizes, names)),
            if is_job { versus(bytes) } else { "-".into() },
        ]);
    }
    table.row(vec![
        "job (Nosana, reference)".into(),
        "Job + Run".into(),
        grouped(nosana_bytes as u64),
        grouped(rent_exempt(NOSANA_JOB_BYTES) + rent_exempt(NOSANA_RUN_BYTES)),
        ratio(1.0),
    ]);
    table
}

fn throughput_cells(run: Run, transfer: Run) -> [String; 2] {
    [
        rate(run.per_second()),
        ratio(run.per_second() / transfer.per_second()),
    ]
}

/// Table 3b: the same runs round by round, which shows how a ledger's speed drifts.
pub fn throughput_rounds(bank: &Throughput, embedded: &Throughput) -> Table {
    let mut header = vec!["ledger".to_string(), "transaction".to_string()];
    header.extend((1..=throughput::ROUNDS).map(|round| format!("round {round}, tx/s")));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new("3b. Throughput by round", &header);
    table.note(
        "The runs of table 3, each round's share on its own (the workloads take turns within \
         a round).",
    );
    for (ledger, throughput) in [("test bank", bank), ("embedded ledger", embedded)] {
        for (name, timing) in throughput.named() {
            let mut cells = vec![ledger.to_string(), name.to_string()];
            cells.extend(timing.rounds.iter().map(|run| rate(run.per_second())));
            table.row(cells);
        }
    }
    table
}

/// Table 3.
pub fn throughput(bank: &Throughput, embedded: &Throughput) -> Table {
    let mut table = Table::new(
        "3. Throughput",
        &[
            "transaction",
            "timed",
            "test bank, tx/s",
            "test bank, vs transfer",
            "embedded ledger, tx/s",
            "embedded ledger, vs transfer",
        ],
    );
    table
        .note(format!(
            "Each ledger gets a network of its own, built by real transactions. Timed: {} SPL \
             Token `transfer_checked` from a client to a provider, {} settlements of one job \
             between them (worker + client receipts), {} `create_job` and {} `claim_emission` \
             (one per provider with service work in the past epoch), each signed just before it \
             is sent, one after the other, after {} untimed ones of each kind. The four take \
             turns in {} rounds. \"vs transfer\" is the rate over the transfer rate on the same \
             ledger in the same run.",
            grouped(throughput::TRANSACTIONS as u64),
            grouped(throughput::TRANSACTIONS as u64),
            grouped(throughput::TRANSACTIONS as u64),
            grouped(throughput::CLAIMS as u64),
            throughput::WARM_UP,
            throughput::ROUNDS,
        ))
        .note(
            "Test bank: `TestFixture::send_in_slot` (solana-program-test, the program native, a \
             new slot every 32 sends). Embedded ledger: surfpool in this process, \
             `sendTransaction` with preflight over JSON-RPC on 127.0.0.1, which answers once the \
             transaction executed; all were confirmed successful after the clock stopped.",
        );
    for ((name, on_bank), (_, on_embedded)) in bank.named().into_iter().zip(embedded.named()) {
        let (on_bank, on_embedded) = (on_bank.total, on_embedded.total);
        let [bank_rate, bank_ratio] = throughput_cells(on_bank, bank.transfer.total);
        let [embedded_rate, embedded_ratio] =
            throughput_cells(on_embedded, embedded.transfer.total);
        table.row(vec![
            name.into(),
            grouped(on_bank.count as u64),
            bank_rate,
            bank_ratio,
            embedded_rate,
            embedded_ratio,
        ]);
    }
    table
}

/// Table 4.
pub fn offchain(comparisons: &[Comparison], encodes_per_second: f64) -> Table {
    let mut table = Table::new(
        "4. Receipts off-chain, one core",
        &[
            "operation",
            "tessera-client, per second",
            "ed25519-dalek on the same bytes, per second",
            "library time / raw time",
            "within 2x",
        ],
    );
    table.note(format!(
        "One thread; each figure is the median of {} loops of {} operations (each loop after {} \
         untimed), library and raw loops alternating. The library builds a receipt, \
         encodes it (borsh, {RECEIPT_LEN} bytes, `tessera/receipt/v2`) and signs it with a \
         Solana keypair (`SignedReceipt::sign`), or verifies it (`SignedReceipt::verify`); \
         ed25519-dalek signs or strictly verifies the encoded bytes with the same key.",
        offchain::ROUNDS,
        grouped(u64::from(offchain::ITERATIONS)),
        grouped(u64::from(offchain::WARM_UP)),
    ));
    for comparison in comparisons {
        let slowdown = comparison.slowdown();
        table.row(vec![
            comparison.operation.into(),
            rate(comparison.library_per_second()),
            rate(comparison.raw_per_second()),
            ratio(slowdown),
            if slowdown <= 2.0 { "yes" } else { "no" }.into(),
        ]);
    }
    table.row(vec![
        "build + encode only (no signature)".into(),
        rate(encodes_per_second),
        "-".into(),
        "-".into(),
        "-".into(),
    ]);
    table.not_built("threshold signing round, 3-of-5", THRESHOLD_NOT_BUILT);
    table.not_built("threshold signing round, 7-of-10", THRESHOLD_NOT_BUILT);
    table
}

/// Table 5.
pub fn claims(samples: &[ClaimSample]) -> Table {
    let mut table = Table::new(
        "5. One claim against the providers in its epoch",
        &[
            "providers with work in the epoch",
            "open work records (epoch account)",
            "claims timed",
            "median ms",
            "fastest - slowest ms",
            "transaction bytes",
        ],
    );
    table
        .note(
            "On the test bank. Every provider was registered and every unit settled by real \
             transactions (an attested service receipt per provider per epoch); no account was \
             written directly. The bench network's Bandwidth class needs no stake, so each \
             provider is one registration transaction.",
        )
        .note(format!(
            "Time of one claim: `TestFixture::send_in_slot` of its transaction, median of \
             {SAMPLES} claims spread over the epoch's providers (first and last included); the \
             one-provider row is one claim in each of {SAMPLES} epochs."
        ));
    for sample in samples {
        let (fastest, slowest) = sample.range();
        let mut lengths = sample.bytes.clone();
        lengths.dedup();
        let bytes: Vec<String> = lengths.iter().map(|b| grouped(*b as u64)).collect();
        table.row(vec![
            grouped(sample.providers as u64),
            grouped(sample.work_records),
            sample.times.len().to_string(),
            milliseconds(sample.median()),
            format!("{} - {}", milliseconds(fastest), milliseconds(slowest)),
            bytes.join(", "),
        ]);
    }
    table
}

/// Table 6.
pub fn metering() -> Table {
    let mut table = Table::new("6. Worker metering overhead", &["measure", "figure"]);
    table.not_built(
        "worker's metering overhead on the job it meters",
        WORKER_NOT_BUILT,
    );
    table
}
