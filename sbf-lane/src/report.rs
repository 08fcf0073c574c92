//! The compute-unit table: one row per instruction (and path), one column per token program,
//! and the budgets every row must keep.

use crate::ledger::{BatchFigure, Cost, Sharers, TRANSACTION_BYTES};
use anyhow::{bail, Result};
use solana_pubkey::Pubkey;
use std::path::Path;

/// The token programs the lane runs the story with, in column order.
pub const TOKEN_PROGRAMS: [(&str, Pubkey); 2] = [
    ("SPL Token", spl_token_interface::ID),
    ("Token-2022", spl_token_2022_interface::ID),
];

/// The most an instruction may take: the default limit one instruction gets in a transaction.
pub const INSTRUCTION_BUDGET: u64 = 200_000;

/// The most a block may take, and the most the transactions of a block that write one
/// account may take together (Agave 4.2, `solana-cost-model`'s `MAX_BLOCK_UNITS` and
/// `MAX_WRITABLE_ACCOUNT_UNITS`).
pub const BLOCK_LIMIT: u64 = 60_000_000;
pub const ACCOUNT_LIMIT: u64 = 24_000_000;

/// Costs of every run, by label, in the order the first run met them.
pub struct CostTable {
    rows: Vec<Row>,
}

struct Row {
    label: String,
    /// Per run: the largest cost seen under this label (some instructions run twice).
    costs: Vec<Option<Cost>>,
}

impl CostTable {
    /// The table of `runs`, one list of costs per token program.
    pub fn new(runs: &[Vec<Cost>]) -> Self {
        let mut rows: Vec<Row> = Vec::new();
        for (run, costs) in runs.iter().enumerate() {
            for cost in costs {
                let at = match rows.iter().position(|row| row.label == cost.label) {
                    Some(at) => at,
                    None => {
                        rows.push(Row {
                            label: cost.label.clone(),
                            costs: vec![None; runs.len()],
                        });
                        rows.len() - 1
                    }
                };
                let slot = &mut rows[at].costs[run];
                if slot.as_ref().is_none_or(|seen| seen.units < cost.units) {
                    *slot = Some(cost.clone());
                }
            }
        }
        Self { rows }
    }

    /// The table as Markdown, with the build it measured.
    pub fn markdown(&self, program: &Path, size: u64) -> String {
        let mut out = format!(
            "Compute units per Tessera instruction in LiteSVM's SBF VM ({}, {size} bytes).\n\
             A settlement's transaction also carries the Ed25519 instruction; its column\n\
             is the whole transaction.\n\n",
            program.display()
        );
        out += "| Instruction | SPL Token (CU) | Token-2022 (CU) | Whole transaction, SPL Token / Token-2022 (CU) |\n";
        out += "|---|---:|---:|---:|\n";
        for row in &self.rows {
            let units: Vec<String> = row
                .costs
                .iter()
                .map(|cost| cost.as_ref().map_or("-".into(), |c| thousands(c.units)))
                .collect();
            let whole: Vec<String> = row
                .costs
                .iter()
                .map(|cost| {
                    cost.as_ref()
                        .map_or("-".into(), |c| thousands(c.transaction_units))
                })
                .collect();
            let whole = if row.label.starts_with("settle_") {
                whole.join(" / ")
            } else {
                String::new()
            };
            out += &format!(
                "| {} | {} | {} | {} |\n",
                row.label, units[0], units[1], whole
            );
        }
        out
    }

    /// The settlements' write locks as Markdown: for each, the accounts it writes and whose
    /// settlements write them too, its cost in a block, and how many such settlements a block
    /// takes for one provider and for one network, the rest of the block empty.
    pub fn write_locks(&self) -> String {
        let mut out = format!(
            "Write locks per settlement (SPL Token mints), besides the fee payer's. A block takes\n\
             {} CU of transactions that write one account and {} CU in all.\n\n",
            thousands(ACCOUNT_LIMIT),
            thousands(BLOCK_LIMIT)
        );
        out += "| Settlement | Writes, only its job's | Writes, its provider's | Writes, every such settlement's in the network | Block cost (CU) | Per block, one provider | Per block, one network |\n";
        out += "|---|---|---|---|---:|---:|---:|\n";
        for row in &self.rows {
            let Some(footprint) = row.costs[0].as_ref().and_then(|c| c.footprint.as_ref()) else {
                continue;
            };
            let names = |sharers: Sharers| {
                let names: Vec<&str> = footprint
                    .writes
                    .iter()
                    .filter(|(_, s)| *s == sharers)
                    .map(|(name, _)| *name)
                    .collect();
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            };
            let cost = footprint.block_cost;
            // Every settlement writes its provider; the network's are bound by the account
            // limit only if they share an account, and by the block otherwise.
            let shared = footprint.writes.iter().any(|(_, s)| *s == Sharers::Network);
            let network_limit = if shared { ACCOUNT_LIMIT } else { BLOCK_LIMIT };
            out += &format!(
                "| {} | {} | {} | {} | {} | {} | {} ({}) |\n",
                row.label,
                names(Sharers::Job),
                names(Sharers::Provider),
                names(Sharers::Network),
                thousands(cost),
                thousands(ACCOUNT_LIMIT / cost),
                thousands(network_limit / cost),
                if shared {
                    "account limit"
                } else {
                    "block limit"
                },
            );
        }
        out
    }

    /// Fails unless every instruction, and every transaction around one (a settlement's
    /// carries the Ed25519 instruction too), stayed under [`INSTRUCTION_BUDGET`]: the limit a
    /// transaction gets without a compute-budget instruction.
    pub fn check_budgets(&self) -> Result<()> {
        for row in &self.rows {
            for cost in row.costs.iter().flatten() {
                let most = cost.units.max(cost.transaction_units);
                if most >= INSTRUCTION_BUDGET {
                    bail!(
                        "{} took {most} CU, over the {INSTRUCTION_BUDGET} CU budget",
                        cost.label
                    );
                }
            }
        }
        Ok(())
    }
}

/// Lamports the network charges a signature, the transaction's and each one the Ed25519
/// instruction checks alike.
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;

/// The batch settlements as Markdown: for each size, the transaction's bytes both ways
/// (marked when over the network's limit), its signatures, and the signature fee, compute
/// units and block cost per receipt.
pub fn batch_table(figures: &[BatchFigure]) -> String {
    let mut out = format!(
        "Batch settlements (SPL Token mints), signed once by the worker and once by the attestor\n\
         group; a transaction takes at most {} bytes. v0 names every account but the programs\n\
         and the fee payer through one address lookup table.\n\n",
        thousands(TRANSACTION_BYTES as u64)
    );
    out += "| Receipts | Legacy (bytes) | v0 + lookup table (bytes) | Signatures | Signature fee per receipt (lamports) | settle_batch (CU) | CU per receipt | Block cost per receipt (CU) |\n";
    out += "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    let bytes = |bytes: usize| {
        let shown = thousands(bytes as u64);
        if bytes > TRANSACTION_BYTES {
            format!("{shown} (too big)")
        } else {
            shown
        }
    };
    for figure in figures {
        let receipts = figure.receipts as u64;
        out += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            receipts,
            bytes(figure.legacy_bytes),
            bytes(figure.v0_bytes),
            figure.signatures,
            thousands(figure.signatures * LAMPORTS_PER_SIGNATURE / receipts),
            thousands(figure.units),
            thousands(figure.units / receipts),
            thousands(figure.block_cost / receipts),
        );
    }
    out
}

/// Fails unless every batch settlement, its Ed25519 instruction included, stayed under
/// [`INSTRUCTION_BUDGET`].
pub fn check_batch_budgets(figures: &[BatchFigure]) -> Result<()> {
    for figure in figures {
        let most = figure.units.max(figure.transaction_units);
        if most >= INSTRUCTION_BUDGET {
            bail!(
                "settle_batch of {} receipts took {most} CU, over the {INSTRUCTION_BUDGET} CU budget",
                figure.receipts
            );
        }
    }
    Ok(())
}

/// `n` with a comma every three digits.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
