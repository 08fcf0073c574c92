//! `tessera audit --csv DIR`: the books as four CSV files, amounts in base units (with the
//! mint's decimals beside them where a row's mint is its own): jobs.csv, providers.csv,
//! epochs.csv and claims.csv (the claims the networks' logs hold, then the work records not
//! claimed yet).

use super::books::Ledgered;
use super::report::History;
use anyhow::{Context, Result};
use std::path::Path;
use tessera::instructions::share_of;
use tessera_client::pda;

/// Writes the four files into `folder` (created if missing); returns their paths.
pub fn write_csv(folder: &Path, read: &Ledgered, history: &History) -> Result<Vec<String>> {
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create the folder {}", folder.display()))?;
    let files = [
        ("jobs.csv", jobs(read)),
        ("providers.csv", providers(read)),
        ("epochs.csv", epochs(read)),
        ("claims.csv", claims(read, history)),
    ];
    let mut written = Vec::new();
    for (name, rows) in files {
        let path = folder.join(name);
        let text: String = rows.iter().map(|row| line(row)).collect();
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

/// One CSV line; a field with a comma, a quote or a line break is quoted.
fn line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|field| {
            if field.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", field.replace('"', "\"\""))
            } else {
                field.clone()
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}

fn row(fields: &[&dyn ToString]) -> Vec<String> {
    fields.iter().map(|field| field.to_string()).collect()
}

fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

fn jobs(read: &Ledgered) -> Vec<Vec<String>> {
    let mut rows = vec![header(&[
        "job",
        "network",
        "client",
        "provider",
        "status",
        "unit_kind",
        "payment_mint",
        "decimals",
        "price_per_unit",
        "max_units",
        "deposited",
        "settled_units",
        "paid_out",
        "fees_accrued",
        "fees_paid",
        "refunded",
        "vault_balance",
        "dispute_open",
        "created_at",
        "ended_at",
    ])];
    for (address, job) in &read.books.jobs {
        let decimals = read
            .mints
            .get(&job.payment_mint)
            .map_or(String::new(), |mint| mint.decimals.to_string());
        let vault = read.books.balances.get(&job.vault).copied().unwrap_or(0);
        rows.push(row(&[
            address,
            &job.network,
            &job.client,
            &job.provider,
            &format!("{:?}", job.status),
            &format!("{:?}", job.unit_kind),
            &job.payment_mint,
            &decimals,
            &job.price_per_unit,
            &job.max_units,
            &job.deposited,
            &job.settled_units,
            &job.paid_out,
            &job.fees_accrued,
            &job.fees_paid,
            &job.refunded,
            &vault,
            &job.dispute_open,
            &job.created_at,
            &job.ended_at,
        ]));
    }
    rows
}

fn providers(read: &Ledgered) -> Vec<Vec<String>> {
    let mut rows = vec![header(&[
        "provider",
        "network",
        "owner",
        "class",
        "status",
        "stake",
        "unbonding_amount",
        "unbonding_ends_at",
        "stake_vault_balance",
        "settled_units",
        "service_units",
        "active_jobs",
        "jobs_completed",
        "lost_disputes",
        "no_shows",
        "slashed_total",
        "slashable_until",
    ])];
    for (address, provider) in &read.books.providers {
        let vault = read
            .books
            .balances
            .get(&pda::stake_vault(address))
            .copied()
            .unwrap_or(0);
        rows.push(row(&[
            address,
            &provider.network,
            &provider.owner,
            &format!("{:?}", provider.class),
            &format!("{:?}", provider.status),
            &provider.stake,
            &provider.unbonding_amount,
            &provider.unbonding_ends_at,
            &vault,
            &provider.settled_units,
            &provider.service_units,
            &provider.active_jobs,
            &provider.jobs_completed,
            &provider.lost_disputes,
            &provider.no_shows,
            &provider.slashed_total,
            &provider.slashable_until,
        ]));
    }
    rows
}

fn epochs(read: &Ledgered) -> Vec<Vec<String>> {
    let mut rows = vec![header(&[
        "epoch",
        "network",
        "index",
        "scheduled_emission",
        "emission",
        "total_units",
        "claimed",
        "open_work_records",
    ])];
    for (address, epoch) in &read.books.epochs {
        let scheduled = read
            .books
            .networks
            .get(&epoch.network)
            .map_or(String::new(), |network| {
                network.emission.emission_for_epoch(epoch.index).to_string()
            });
        rows.push(row(&[
            address,
            &epoch.network,
            &epoch.index,
            &scheduled,
            &epoch.emission,
            &epoch.total_units,
            &epoch.claimed,
            &epoch.open_work_records,
        ]));
    }
    rows
}

fn claims(read: &Ledgered, history: &History) -> Vec<Vec<String>> {
    let mut rows = vec![header(&[
        "network",
        "status",
        "signature",
        "block_time",
        "provider",
        "epoch",
        "units",
        "epoch_units",
        "amount",
    ])];
    for (network, events) in &history.by_network {
        for event in events
            .iter()
            .filter(|event| event.event == "EmissionClaimed")
        {
            let number = |name: &str| event.number(name).map_or(String::new(), |n| n.to_string());
            let provider = event
                .key("provider")
                .map_or(String::new(), |key| key.to_string());
            let time = event
                .block_time
                .map_or(String::new(), |time| time.to_string());
            rows.push(row(&[
                network,
                &"claimed",
                &event.signature,
                &time,
                &provider,
                &number("epoch"),
                &number("units"),
                &number("epoch_units"),
                &number("amount"),
            ]));
        }
    }
    for record in read.books.work_records.values() {
        let epoch = read
            .books
            .epochs
            .get(&pda::epoch(&record.network, record.epoch));
        let (epoch_units, owed) = match epoch {
            Some(epoch) if record.units > 0 => (
                epoch.total_units.to_string(),
                share_of(epoch.emission, record.units, epoch.total_units)
                    .map_or(String::new(), |amount| amount.to_string()),
            ),
            Some(epoch) => (epoch.total_units.to_string(), "0".to_string()),
            None => (String::new(), String::new()),
        };
        rows.push(row(&[
            &record.network,
            &"unclaimed",
            &"",
            &"",
            &record.provider,
            &record.epoch,
            &record.units,
            &epoch_units,
            &owed,
        ]));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        let fields = header(&["plain", "a,b", "say \"hi\""]);
        assert_eq!(line(&fields), "plain,\"a,b\",\"say \"\"hi\"\"\"\n");
    }
}
