//! Turns the measurements into the six tables. Every figure printed here was measured in this
//! run, except Nosana's account sizes, which are the reference the brief gives.

use crate::claims::{ClaimSample, SAMPLES};
use crate::footprint::{
    rent_exempt, total_bytes, total_rent, AccountSize, NOSANA_JOB_BYTES, NOSANA_RUN_BYTES,
};
use crate::localnet::{self, LongRun};
use crate::metering::{self, median, Metering};
use crate::offchain::{self, Comparison};
use crate::settlement::{SettlementRow, PACKET_DATA_SIZE};
use crate::table::{grouped, rate, ratio, Table};
use crate::throughput::{self, Run, Throughput};
use std::time::Duration;
use tessera::state::MAX_ATTESTORS;
use tessera_client::receipt::RECEIPT_LEN;

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
        .note(
            "Group rows: the network in group mode (`set_attestor_group`) under the key of a \
             t-of-n group a dealer made (`tessera_attest::group::dealer`); t members signed the \
             receipt in FROST's two rounds, and the aggregate is one Ed25519 signature under the \
             group key, checked by the precompile like any other.",
        )
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
    let one_by_one =
        |row: &&SettlementRow| row.group.is_none() && row.signed_by.contains("attestors");
    let most = rows
        .iter()
        .filter(|row| row.fits() && one_by_one(row))
        .map(|row| row.receipt_signatures - 1)
        .max()
        .unwrap_or(0);
    table.note(format!(
        "Most attestors signing one by one that fit in one legacy transaction: {most}."
    ));
    let attested: Vec<&SettlementRow> = rows.iter().filter(one_by_one).collect();
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
    let mut group_bytes: Vec<usize> = rows
        .iter()
        .filter(|row| row.group.is_some())
        .map(|row| row.bytes)
        .collect();
    group_bytes.dedup();
    if let [bytes] = group_bytes[..] {
        table.note(format!(
            "Every group signature row is {} bytes, whatever t and n.",
            grouped(bytes as u64)
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
            "Tessera's library, per second",
            "ed25519-dalek on the same bytes, per second",
            "library time / raw time",
            "within 2x",
        ],
    );
    table
        .note(format!(
            "One thread; each figure is the median of {} loops of {} operations (each loop after \
             {} untimed), library and raw loops alternating. The library (tessera-client) builds \
             a receipt, encodes it (borsh, {RECEIPT_LEN} bytes, `tessera/receipt/v2`) and signs \
             it with a Solana keypair (`SignedReceipt::sign`), or verifies it \
             (`SignedReceipt::verify`); ed25519-dalek signs or strictly verifies the encoded \
             bytes with the same key.",
            offchain::ROUNDS,
            grouped(u64::from(offchain::ITERATIONS)),
            grouped(u64::from(offchain::WARM_UP)),
        ))
        .note(format!(
            "Group signing round: loops of {} rounds (after {} untimed). A dealer-made t-of-n \
             group (tessera-attest, FROST(Ed25519, SHA-512)) signs a receipt's bytes: t members \
             commit, the coordinator builds the signing package, t members sign their shares, \
             the coordinator aggregates them and checks the signature under the group key. \
             Every member runs in this one thread, with no network between them; the raw side \
             is one key's ed25519-dalek signature of the same bytes, which the group's one \
             signature replaces. The 2x goal is for one key's signature, so it is not applied.",
            offchain::GROUP_ITERATIONS,
            offchain::GROUP_WARM_UP,
        ));
    let (groups, one_key): (Vec<&Comparison>, Vec<&Comparison>) = comparisons
        .iter()
        .partition(|comparison| comparison.group.is_some());
    let row = |table: &mut Table, comparison: &Comparison, goal: bool| {
        let slowdown = comparison.slowdown();
        let within = match (goal, slowdown <= 2.0) {
            (false, _) => "-",
            (true, true) => "yes",
            (true, false) => "no",
        };
        table.row(vec![
            comparison.operation.clone(),
            rate(comparison.library_per_second()),
            rate(comparison.raw_per_second()),
            ratio(slowdown),
            within.into(),
        ]);
    };
    for comparison in one_key {
        row(&mut table, comparison, true);
    }
    table.row(vec![
        "build + encode only (no signature)".into(),
        rate(encodes_per_second),
        "-".into(),
        "-".into(),
        "-".into(),
    ]);
    for comparison in groups {
        row(&mut table, comparison, false);
    }
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

fn percent(part: Duration, whole: Duration) -> String {
    format!("{:.1}%", 100.0 * part.as_secs_f64() / whole.as_secs_f64())
}

fn fastest_slowest(times: &[Duration]) -> String {
    let fastest = times.iter().min().copied().unwrap_or_default();
    let slowest = times.iter().max().copied().unwrap_or_default();
    format!("{} - {}", milliseconds(fastest), milliseconds(slowest))
}

/// Table 6.
pub fn metering(measured: &Metering) -> Table {
    let mut table = Table::new(
        "6. Worker metering overhead, built-in workload",
        &[
            "n",
            "product bytes",
            "rounds timed",
            "round (run_round), median ms",
            "publish product, median ms",
            "chain, median ms",
            "store commit, median ms",
            "worker adds, median ms",
            "of the round",
            "worker adds, fastest - slowest ms",
        ],
    );
    table
        .note(format!(
            "One job of the built-in workload (n x n matrices over the field mod 2^31 - 1) per \
             size, {} rounds timed after one untimed, one thread, in a temporary folder on this \
             machine's disk (ext4). The round is `matmul::run_round` (derive A and B, multiply): \
             the work the job pays for. The worker adds what `tessera worker run` does after \
             each round: `publish::publish_product` (the product written to a file, fsynced, \
             renamed into place), `matmul::chain` (the product's SHA-256 chained into the \
             result hash) and `Store::update` committing the round (redb, fsynced).",
            metering::ROUNDS
        ))
        .note(
            "Medians are per part; \"worker adds\" is the median of each round's sum of the \
             three, and \"of the round\" that median over the round's median.",
        );
    for sizes in &measured.rounds {
        let work = median(&sizes.work);
        let added = sizes.added();
        let added_median = median(&added);
        table.row(vec![
            sizes.n.to_string(),
            grouped(sizes.product_bytes as u64),
            sizes.work.len().to_string(),
            milliseconds(work),
            milliseconds(median(&sizes.publish)),
            milliseconds(median(&sizes.chain)),
            milliseconds(median(&sizes.record)),
            milliseconds(added_median),
            percent(added_median, work),
            fastest_slowest(&added),
        ]);
    }
    table
}

/// Table 6b.
pub fn pending_writes(measured: &Metering) -> Table {
    let mut table = Table::new(
        "6b. The worker's store, per pending receipt",
        &[
            "write",
            "receipt file bytes",
            "writes timed",
            "median ms",
            "fastest - slowest ms",
        ],
    );
    table.note(format!(
        "Before a receipt leaves the machine the worker stores it as its job's pending receipt \
         (a receipt file, JSON, inside the job's record) in one committed redb transaction. \
         {} receipts signed by one key for growing units, each stored by `Store::update` and \
         timed (the receipt signed before the clock starts), after one untimed; same store and \
         folder as table 6.",
        metering::PENDING_WRITES
    ));
    table.row(vec![
        "Store::update with a pending receipt (commit, fsynced)".into(),
        grouped(measured.pending_bytes as u64),
        measured.pending_writes.len().to_string(),
        milliseconds(median(&measured.pending_writes)),
        fastest_slowest(&measured.pending_writes),
    ]);
    table
}

/// Table 8: the long-running localnet, block by block.
pub fn long_run(run: &LongRun) -> Table {
    let mut table = Table::new(
        "8. A long-running `tessera localnet`",
        &[
            "block",
            "transactions before",
            "settle_receipt, tx/s",
            "block, s",
            "vs block 1",
            "heap, MiB",
            "mapped files, MiB",
            "store, MiB",
        ],
    );
    table.note(format!(
        "The localnet's own code in a child process on a fresh folder, reached over JSON-RPC on \
         127.0.0.1 (`sendTransaction` with preflight). A network with {} open jobs, then blocks \
         of {} settlements of one job (worker + client receipts), one after the other, all \
         confirmed successful after the clock stops. Memory is the process's resident set \
         after the block, anonymous (heap) and file-backed (the sqlite store it maps); the \
         store is its sqlite file and log.",
        grouped(localnet::LIVE_JOBS as u64),
        grouped(localnet::BLOCK as u64)
    ));
    let first = run.blocks.first().map(|block| block.settle.elapsed);
    let mib = |kib: u64| grouped(kib / 1_024);
    for (number, block) in run.blocks.iter().enumerate() {
        let vs_first = first.map_or(1.0, |first| {
            block.settle.elapsed.as_secs_f64() / first.as_secs_f64()
        });
        let memory = block.memory.unwrap_or_default();
        let known = block.memory.is_some();
        table.row(vec![
            (number + 1).to_string(),
            grouped(block.before as u64),
            rate(block.settle.per_second()),
            format!("{:.2}", block.settle.elapsed.as_secs_f64()),
            ratio(vs_first),
            if known {
                mib(memory.anonymous_kib)
            } else {
                "-".into()
            },
            if known {
                mib(memory.file_kib)
            } else {
                "-".into()
            },
            format!("{:.1}", block.store_bytes as f64 / (1024.0 * 1024.0)),
        ]);
    }
    table.note(format!(
        "Last block over first: {} (goal: 1.25x at most). getTransaction answered {} of the \
         last block's last {} transactions and {} of the first block's first {}.",
        ratio(run.slowdown()),
        run.recent.found,
        run.recent.asked,
        run.first_block.found,
        run.first_block.asked
    ));
    table
}

/// Table 8b: settlements as the network's open jobs grow.
pub fn growth(run: &LongRun) -> Table {
    let mut table = Table::new(
        "8b. Settlements as the network grows",
        &[
            "open jobs",
            "create_job, tx/s",
            "settle_receipt, tx/s",
            "vs the first step",
        ],
    );
    table.note(format!(
        "After table 8, on the same localnet: {} `create_job` (a job and its escrow vault each), \
         then {} settlements of the same job timed, in each step.",
        grouped(localnet::JOBS_PER_STEP as u64),
        grouped(localnet::SETTLEMENTS_PER_STEP as u64)
    ));
    let first = run.steps.first().map(|step| step.settle.per_second());
    for step in &run.steps {
        table.row(vec![
            grouped(step.live_jobs as u64),
            rate(step.create_job.per_second()),
            rate(step.settle.per_second()),
            ratio(first.map_or(1.0, |first| step.settle.per_second() / first)),
        ]);
    }
    table
}
