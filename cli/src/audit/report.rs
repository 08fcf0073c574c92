//! `tessera audit --report FILE.html`: one self-contained HTML file (no script, no link, the
//! pictures inline as SVG drawn with plotters) that shows, per network, the emission schedule
//! against what claims actually minted per epoch, the escrow held and paid over time, and what
//! each provider class earned; then the audit's summary and findings as tables.

use super::books::Ledgered;
use super::Report;
use crate::commands::history::{self, Event};
use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, Context, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use tessera::state::Network;
use tessera_client::rules::Books;
use tessera_ledger::Ledger;

/// Most transactions of one network the report reads.
const HISTORY_LIMIT: usize = 100_000;
/// Most epochs the emission picture shows.
const EPOCHS_SHOWN: u64 = 120;
/// Epochs the emission picture shows past the current one.
const EPOCHS_AHEAD: u64 = 8;

/// The program's events of each network, oldest first, from the transaction logs.
pub struct History {
    pub by_network: BTreeMap<Pubkey, Vec<Event>>,
}

impl History {
    /// Reads the history of every network in `books`.
    pub fn read(ledger: &Ledger, books: &Books) -> Result<Self> {
        let mut by_network = BTreeMap::new();
        for network in books.networks.keys() {
            let (_, events) = history::read(ledger, network, HISTORY_LIMIT)?;
            by_network.insert(*network, events);
        }
        Ok(Self { by_network })
    }

    /// The payment mints of every job the history created.
    pub fn payment_mints(&self) -> Vec<Pubkey> {
        let mut mints: Vec<Pubkey> = self
            .by_network
            .values()
            .flatten()
            .filter(|event| event.event == "JobCreated")
            .filter_map(|event| event.key("payment_mint"))
            .collect();
        mints.sort();
        mints.dedup();
        mints
    }
}

/// Writes the report to `path`.
pub fn write_html(path: &Path, read: &Ledgered, history: &History, report: &Report) -> Result<()> {
    let mut html = String::new();
    html.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Tessera audit</title><style>\
         body{font-family:sans-serif;margin:2em;color:#222;max-width:1400px}\
         table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;\
         text-align:right;font-size:13px}th{background:#f3f3f3}td.key{text-align:left;\
         font-family:monospace}.ok{color:#17692e}.bad{color:#b00020}figure{margin:1em 0}\
         figcaption{font-size:13px;color:#555;max-width:720px}</style></head><body>\n",
    );
    let verdict = if report.clean() {
        "<p class=\"ok\"><b>Every rule holds.</b></p>".to_string()
    } else {
        format!(
            "<p class=\"bad\"><b>{} violations.</b></p>",
            report.violations.len()
        )
    };
    let _ = write!(
        html,
        "<h1>Tessera audit</h1><p>Ledger clock: {} (unix seconds).</p>{verdict}",
        read.books.now
    );
    summary_table(&mut html, report);
    findings_table(&mut html, report);
    for (address, network) in &read.books.networks {
        let events = history
            .by_network
            .get(address)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let _ = write!(
            html,
            "<h2>Network {} <small><code>{address}</code></small></h2>",
            network.network_id
        );
        let reward_decimals = decimals_of(read, &network.reward_mint);
        figure(
            &mut html,
            emission_chart(address, network, &read.books, reward_decimals)?,
            "The emission schedule fixed at genesis (line) against the reward tokens claims \
             actually minted on each epoch (bars). An epoch with no attested work mints \
             nothing; unclaimed work records and rounding dust keep the bars under the line.",
        );
        figure(
            &mut html,
            escrow_chart(events, read)?,
            "Escrow held in the network's job vaults (deposits and top-ups less payments, fees \
             and refunds) and the payments made to providers, cumulative, over time, from the \
             program's events; tokens of every payment mint added together.",
        );
        figure(
            &mut html,
            earnings_chart(events, read, reward_decimals)?,
            "What providers of each class earned: payments from escrow (tokens of every payment \
             mint added together) and emissions claimed (reward tokens).",
        );
    }
    html.push_str("</body></html>\n");
    std::fs::write(path, html).with_context(|| format!("cannot write {}", path.display()))
}

fn decimals_of(read: &Ledgered, mint: &Pubkey) -> u8 {
    read.mints.get(mint).map_or(0, |mint| mint.decimals)
}

fn tokens(amount: u128, decimals: u8) -> f64 {
    amount as f64 / 10f64.powi(decimals as i32)
}

fn figure(html: &mut String, svg: String, caption: &str) {
    let _ = write!(
        html,
        "<figure>{svg}<figcaption>{}</figcaption></figure>",
        escape(caption)
    );
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn summary_table(html: &mut String, report: &Report) {
    html.push_str(
        "<table><tr><th>network</th><th>address</th><th>providers</th><th>open jobs</th>\
         <th>epochs</th><th>open work records</th><th>open disputes</th><th>staked</th>\
         <th>unbonding</th><th>emitted</th><th>violations</th><th>information</th></tr>",
    );
    for line in &report.networks {
        let _ = write!(
            html,
            "<tr><td>{}</td><td class=\"key\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            line.network_id,
            line.network,
            line.providers,
            line.open_jobs,
            line.epochs,
            line.open_work_records,
            line.open_disputes,
            line.staked,
            line.unbonding,
            line.emitted,
            line.violations,
            line.information
        );
    }
    html.push_str("</table>");
}

fn findings_table(html: &mut String, report: &Report) {
    let findings: Vec<_> = report
        .violations
        .iter()
        .chain(&report.information)
        .collect();
    if findings.is_empty() {
        return;
    }
    html.push_str(
        "<table><tr><th>severity</th><th>rule</th><th>account</th><th>figure</th>\
         <th>actual</th><th>expected</th><th>note</th></tr>",
    );
    for finding in findings {
        let class = if finding.is_violation() { "bad" } else { "ok" };
        let _ = write!(
            html,
            "<tr class=\"{class}\"><td>{:?}</td><td>{}</td><td class=\"key\">{}</td><td>{}</td>\
             <td>{}</td><td>{} {}</td><td class=\"key\">{}</td></tr>",
            finding.severity,
            finding.rule,
            finding.account,
            escape(&finding.what),
            finding.actual,
            escape(&finding.comparison.to_string()),
            finding.expected,
            escape(&finding.note)
        );
    }
    html.push_str("</table>");
}

/// A plotters error in words.
fn drawn<T, E: std::fmt::Display>(result: std::result::Result<T, E>) -> Result<T> {
    result.map_err(|error| anyhow!("cannot draw the report's picture: {error}"))
}

const SIZE: (u32, u32) = (760, 340);

/// An axis amount of tokens: whole tokens with thousands separators (two decimals below 10,
/// unless whole).
fn token_label(y: &f64) -> String {
    if y.abs() < 10.0 && y.fract() != 0.0 {
        return format!("{y:.2}");
    }
    let digits = format!("{}", y.round().abs() as u64);
    let mut label = String::from(if *y < 0.0 { "-" } else { "" });
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            label.push(',');
        }
        label.push(digit);
    }
    label
}

/// Axis labels at whole numbers only (epochs).
fn whole_numbers(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-9 && *x >= 0.0 {
        format!("{}", x.round() as i64)
    } else {
        String::new()
    }
}

/// The picture's frame: a caption, then x and y axes over `x` and `0..top`.
type Frame<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws one picture as SVG: `frame` sets up the chart on the drawing area, `draw` draws its
/// series; the legend is drawn at `legend`.
fn picture(
    caption: &str,
    x: std::ops::Range<f64>,
    top: f64,
    legend: SeriesLabelPosition,
    draw: impl FnOnce(&mut Frame<'_>) -> Result<()>,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        drawn(root.fill(&WHITE))?;
        let mut chart = drawn(
            ChartBuilder::on(&root)
                .caption(caption, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(80)
                .build_cartesian_2d(x, 0f64..top),
        )?;
        draw(&mut chart)?;
        drawn(
            chart
                .configure_series_labels()
                .position(legend)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw(),
        )?;
        drawn(root.present())?;
    }
    Ok(svg)
}

/// A legend's mark for a line of `color`.
fn line_mark(color: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
}

/// A legend's mark for bars of `color`.
fn bar_mark(color: RGBColor) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled())
}

/// The largest `y` of `points`, at least 1, with `headroom` above it (1.15: 15%).
fn top_of<'a>(points: impl IntoIterator<Item = &'a f64>, headroom: f64) -> f64 {
    points.into_iter().copied().fold(1.0, f64::max) * headroom
}

/// The emission picture's figures: tokens minted by claims per epoch, and the schedule's
/// emission per epoch up to `last`.
struct Emission {
    minted: Line,
    scheduled: Line,
    last: u64,
}

impl Emission {
    fn of(address: &Pubkey, network: &Network, books: &Books, decimals: u8) -> Self {
        let minted: BTreeMap<u64, u64> = books
            .epochs
            .values()
            .filter(|epoch| epoch.network == *address)
            .map(|epoch| (epoch.index, epoch.claimed))
            .collect();
        let current = network.epoch_at(books.now).unwrap_or(0);
        // A few epochs past the latest, so that the schedule's shape shows ahead.
        let last = minted
            .keys()
            .max()
            .copied()
            .unwrap_or(0)
            .max(current)
            .saturating_add(EPOCHS_AHEAD)
            .min(EPOCHS_SHOWN);
        let scheduled = (0..=last)
            .map(|epoch| {
                let amount = network.emission.emission_for_epoch(epoch) as u128;
                (epoch as f64, tokens(amount, decimals))
            })
            .collect();
        let minted = minted
            .into_iter()
            .filter(|(epoch, _)| *epoch <= last)
            .map(|(epoch, amount)| (epoch as f64, tokens(amount as u128, decimals)))
            .collect();
        Self {
            minted,
            scheduled,
            last,
        }
    }
}

/// The schedule against the minted emission, per epoch.
fn emission_chart(
    address: &Pubkey,
    network: &Network,
    books: &Books,
    decimals: u8,
) -> Result<String> {
    let Emission {
        minted,
        scheduled,
        last,
    } = Emission::of(address, network, books, decimals);
    let top = top_of(scheduled.iter().chain(&minted).map(|(_, y)| y), 1.15);
    let (minted_color, scheduled_color) = (RGBColor(230, 126, 34), RGBColor(41, 98, 255));
    picture(
        "Emission: schedule and minted, per epoch",
        -0.5f64..last as f64 + 0.5,
        top,
        SeriesLabelPosition::UpperRight,
        |chart| {
            drawn(
                chart
                    .configure_mesh()
                    .x_labels((last as usize + 1).min(13))
                    .x_label_formatter(&whole_numbers)
                    .x_desc("epoch")
                    .y_desc("reward tokens")
                    .y_label_formatter(&token_label)
                    .draw(),
            )?;
            let bars = minted.iter().map(|(x, y)| {
                Rectangle::new([(x - 0.35, 0.0), (x + 0.35, *y)], minted_color.filled())
            });
            drawn(chart.draw_series(bars))?
                .label("minted by claims")
                .legend(bar_mark(minted_color));
            let line = LineSeries::new(scheduled, scheduled_color.stroke_width(2));
            drawn(chart.draw_series(line))?
                .label("scheduled")
                .legend(line_mark(scheduled_color));
            Ok(())
        },
    )
}

/// A line of a picture: its `(x, y)` points.
type Line = Vec<(f64, f64)>;

/// Escrow held and payments made, cumulative, as steps against seconds since the network's
/// first event: `(held, paid)`.
fn escrow_lines(events: &[Event], read: &Ledgered) -> (Line, Line) {
    // Each job's payment mint, from its creation event or its account.
    let mut job_mints: BTreeMap<Pubkey, Pubkey> = read
        .books
        .jobs
        .iter()
        .map(|(address, job)| (*address, job.payment_mint))
        .collect();
    for event in events.iter().filter(|event| event.event == "JobCreated") {
        if let (Some(job), Some(mint)) = (event.key("job"), event.key("payment_mint")) {
            job_mints.insert(job, mint);
        }
    }
    let in_tokens = |event: &Event, field: &str| -> f64 {
        let decimals = event
            .key("job")
            .and_then(|job| job_mints.get(&job))
            .map_or(0, |mint| decimals_of(read, mint));
        tokens(event.number(field).unwrap_or(0), decimals)
    };
    let start = events
        .iter()
        .find_map(|event| event.block_time)
        .unwrap_or(0);
    let (mut held, mut paid) = (0.0, 0.0);
    let (mut held_line, mut paid_line) = (vec![(0.0, 0.0)], vec![(0.0, 0.0)]);
    for event in events {
        let (held_change, paid_change) = match event.event.as_str() {
            "JobCreated" => (in_tokens(event, "deposited"), 0.0),
            "JobToppedUp" => (in_tokens(event, "amount"), 0.0),
            "ReceiptSettled" => {
                let payment = in_tokens(event, "payment");
                (-payment, payment)
            }
            "JobClosed" => (
                -(in_tokens(event, "refunded") + in_tokens(event, "fees")),
                0.0,
            ),
            _ => continue,
        };
        let at = (event.block_time.unwrap_or(start) - start) as f64;
        held_line.push((at, held));
        paid_line.push((at, paid));
        held += held_change;
        paid += paid_change;
        held_line.push((at, held));
        paid_line.push((at, paid));
    }
    // A little room after the last event, so that its step shows.
    let right = held_line.iter().map(|(x, _)| *x).fold(1.0, f64::max) * 1.05 + 1.0;
    held_line.push((right, held));
    paid_line.push((right, paid));
    (held_line, paid_line)
}

/// Escrow held and payments made, cumulative, against time since the first event.
fn escrow_chart(events: &[Event], read: &Ledgered) -> Result<String> {
    let (held_line, paid_line) = escrow_lines(events, read);
    let right = held_line.last().map_or(1.0, |(x, _)| *x);
    let top = top_of(held_line.iter().chain(&paid_line).map(|(_, y)| y), 1.15);
    let (held_color, paid_color) = (RGBColor(0, 137, 123), RGBColor(216, 27, 96));
    picture(
        "Escrow held and paid over time",
        0f64..right,
        top,
        SeriesLabelPosition::UpperLeft,
        |chart| {
            drawn(
                chart
                    .configure_mesh()
                    .x_desc("seconds since the network's first event")
                    .y_desc("payment tokens")
                    .y_label_formatter(&token_label)
                    .draw(),
            )?;
            drawn(chart.draw_series(LineSeries::new(held_line, held_color.stroke_width(2))))?
                .label("escrow held")
                .legend(line_mark(held_color));
            drawn(chart.draw_series(LineSeries::new(paid_line, paid_color.stroke_width(2))))?
                .label("paid to providers")
                .legend(line_mark(paid_color));
            Ok(())
        },
    )
}

/// Provider classes in the order of the earnings picture.
const CLASS_NAMES: [&str; 4] = ["Training", "Inference", "Edge", "Bandwidth"];

/// Payments (in payment tokens) and emissions (in reward tokens) per provider class, in the
/// order of [`CLASS_NAMES`].
fn class_earnings(events: &[Event], read: &Ledgered, reward_decimals: u8) -> ([f64; 4], [f64; 4]) {
    // Each provider's class, from its registration event or its account.
    let mut classes: BTreeMap<Pubkey, String> = read
        .books
        .providers
        .iter()
        .map(|(address, provider)| (*address, format!("{:?}", provider.class)))
        .collect();
    let mut job_mints: BTreeMap<Pubkey, Pubkey> = BTreeMap::new();
    for event in events {
        match event.event.as_str() {
            "ProviderRegistered" => {
                if let (Some(provider), Some(class)) = (
                    event.key("provider"),
                    event.fields.get("class").and_then(|c| c.as_str()),
                ) {
                    classes.insert(provider, class.to_string());
                }
            }
            "JobCreated" => {
                if let (Some(job), Some(mint)) = (event.key("job"), event.key("payment_mint")) {
                    job_mints.insert(job, mint);
                }
            }
            _ => {}
        }
    }
    let mut paid = [0.0f64; 4];
    let mut emitted = [0.0f64; 4];
    for event in events {
        let class = event
            .key("provider")
            .and_then(|provider| classes.get(&provider))
            .and_then(|class| CLASS_NAMES.iter().position(|known| known == class));
        let Some(class) = class else { continue };
        match event.event.as_str() {
            "ReceiptSettled" => {
                let decimals = event
                    .key("job")
                    .and_then(|job| {
                        job_mints
                            .get(&job)
                            .or_else(|| read.books.jobs.get(&job).map(|job| &job.payment_mint))
                    })
                    .map_or(0, |mint| decimals_of(read, mint));
                paid[class] += tokens(event.number("payment").unwrap_or(0), decimals);
            }
            "EmissionClaimed" => {
                emitted[class] += tokens(event.number("amount").unwrap_or(0), reward_decimals);
            }
            _ => {}
        }
    }
    (paid, emitted)
}

/// The class named at whole `x` (0 to 3) on the earnings picture's axis.
fn class_label(x: &f64) -> String {
    let index = x.round();
    if (x - index).abs() < 0.01 && (0.0..4.0).contains(&index) {
        CLASS_NAMES[index as usize].to_string()
    } else {
        String::new()
    }
}

/// Payments and emissions per provider class, side by side.
fn earnings_chart(events: &[Event], read: &Ledgered, reward_decimals: u8) -> Result<String> {
    let (paid, emitted) = class_earnings(events, read, reward_decimals);
    let top = top_of(paid.iter().chain(&emitted), 1.2);
    let (paid_color, emitted_color) = (RGBColor(216, 27, 96), RGBColor(41, 98, 255));
    // Two bars per class: `offsets` from the class's tick.
    let bars = |values: [f64; 4], offsets: (f64, f64), color: RGBColor| {
        (0..4).map(move |class| {
            let x = class as f64;
            Rectangle::new(
                [(x + offsets.0, 0.0), (x + offsets.1, values[class])],
                color.filled(),
            )
        })
    };
    picture(
        "Earnings per provider class",
        -0.5f64..3.5,
        top,
        SeriesLabelPosition::UpperRight,
        |chart| {
            drawn(
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .x_labels(4)
                    .x_label_formatter(&class_label)
                    .y_desc("tokens")
                    .y_label_formatter(&token_label)
                    .draw(),
            )?;
            drawn(chart.draw_series(bars(paid, (-0.38, -0.02), paid_color)))?
                .label("payments (payment tokens)")
                .legend(bar_mark(paid_color));
            drawn(chart.draw_series(bars(emitted, (0.02, 0.38), emitted_color)))?
                .label("emissions (reward tokens)")
                .legend(bar_mark(emitted_color));
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::token_label;

    #[test]
    fn axis_amounts_read_as_tokens() {
        assert_eq!(token_label(&0.0), "0");
        assert_eq!(token_label(&3.0), "3");
        assert_eq!(token_label(&2.5), "2.50");
        assert_eq!(token_label(&10.0), "10");
        assert_eq!(token_label(&9_999.999_998), "10,000");
        assert_eq!(token_label(&1_234_567.0), "1,234,567");
        assert_eq!(token_label(&-1_500.0), "-1,500");
    }
}
