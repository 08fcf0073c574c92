//! `tessera history`: what happened to a job, a provider or a network, from the transaction
//! logs of every ledger alike: the signatures that name the account (`getSignaturesForAddress`,
//! in pages of 1,000, newest first), each transaction's log (`getTransaction`), and the
//! program's events in it (`Program data:` lines, decoded by the IDL), oldest first.

use super::Session;
use crate::view::{as_text, Outcome};
use anchor_lang::prelude::Pubkey;
use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use serde_json::Value;
use solana_rpc_client_api::config::RpcSignaturesForAddressConfig;
use solana_rpc_client_api::request::RpcRequest;
use std::fmt;
use std::str::FromStr;
use tessera_ledger::decode::{events_in_logs, Decoded};
use tessera_ledger::Ledger;

/// `tessera history` flags: a job, a provider, or else the network (`--network ID`).
#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// A job's history.
    #[arg(long, conflicts_with = "provider")]
    pub job: Option<Pubkey>,
    /// A provider's history (the provider account, as `provider list` shows it).
    #[arg(long)]
    pub provider: Option<Pubkey>,
    /// Most transactions read, the latest ones.
    #[arg(long, default_value_t = 1_000)]
    pub limit: usize,
}

/// A page of `getSignaturesForAddress`: the most a node returns at once.
const SIGNATURES_PAGE: usize = 1_000;

/// One event and the transaction it was in.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub signature: String,
    pub slot: u64,
    /// Unix seconds, when the ledger knows it.
    pub block_time: Option<i64>,
    pub event: String,
    pub fields: serde_json::Map<String, Value>,
}

/// The events of an account's transactions, oldest first.
#[derive(Debug, Serialize)]
pub struct History {
    #[serde(serialize_with = "as_text")]
    pub account: Pubkey,
    /// What the account is: job, provider or network.
    pub kind: String,
    pub transactions: usize,
    pub events: Vec<Event>,
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} events in {} transactions",
            self.kind,
            self.account,
            self.events.len(),
            self.transactions
        )?;
        write!(f, "\n{:<11} {:>8}  {:<20} fields", "time", "slot", "event")?;
        for event in &self.events {
            let time = event
                .block_time
                .map_or_else(|| "-".to_string(), |time| time.to_string());
            let fields: Vec<String> = event
                .fields
                .iter()
                .map(|(name, value)| format!("{name}={}", compact(value)))
                .collect();
            write!(
                f,
                "\n{time:<11} {:>8}  {:<20} {}",
                event.slot,
                event.event,
                fields.join(" ")
            )?;
        }
        Ok(())
    }
}

/// A field's value on one line: strings bare, structures as JSON.
fn compact(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `tessera history`.
pub fn history(session: &Session, args: &HistoryArgs) -> Result<Outcome> {
    let (account, kind) = match (args.job, args.provider) {
        (Some(job), _) => (job, "job"),
        (None, Some(provider)) => (provider, "provider"),
        (None, None) => (tessera_client::pda::network(session.network_id), "network"),
    };
    let (transactions, events) = read(session.ledger, &account, args.limit)?;
    Outcome::view(&History {
        account,
        kind: kind.to_string(),
        transactions,
        events,
    })
}

/// The program's events in the latest `limit` transactions that name `account`, oldest first,
/// and how many transactions were read. Failed transactions changed nothing and are skipped.
pub fn read(ledger: &Ledger, account: &Pubkey, limit: usize) -> Result<(usize, Vec<Event>)> {
    let rpc = ledger.rpc()?;
    let mut signatures = Vec::new();
    let mut before = None;
    while signatures.len() < limit {
        let config = RpcSignaturesForAddressConfig {
            before,
            limit: Some(SIGNATURES_PAGE.min(limit - signatures.len())),
            commitment: Some(ledger.commitment()),
            ..RpcSignaturesForAddressConfig::default()
        };
        let page = rpc
            .send::<Vec<Value>>(
                RpcRequest::GetSignaturesForAddress,
                serde_json::json!([account.to_string(), config]),
            )
            .with_context(|| format!("cannot list the transactions of {account}"))?;
        let full = page.len() == config.limit.unwrap_or(SIGNATURES_PAGE);
        before = page
            .last()
            .and_then(|entry| entry["signature"].as_str().map(str::to_owned));
        signatures.extend(
            page.into_iter()
                .filter(|entry| entry["err"].is_null())
                .filter_map(|entry| entry["signature"].as_str().map(str::to_owned)),
        );
        if !full || before.is_none() {
            break;
        }
    }
    let program = tessera_client::program_id().to_string();
    let mut events = Vec::new();
    let transactions = signatures.len();
    for signature in signatures.into_iter().rev() {
        let transaction = rpc
            .send::<Value>(
                RpcRequest::GetTransaction,
                serde_json::json!([
                    signature,
                    {
                        "encoding": "json",
                        "maxSupportedTransactionVersion": 0,
                        "commitment": ledger.commitment().commitment.to_string(),
                    }
                ]),
            )
            .with_context(|| format!("cannot read transaction {signature}"))?;
        let logs: Vec<String> = transaction["meta"]["logMessages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|line| line.as_str().map(str::to_owned))
            .collect();
        for decoded in events_in_logs(&program, &logs) {
            let Decoded { name, fields } =
                decoded.with_context(|| format!("in transaction {signature}"))?;
            events.push(Event {
                signature: signature.clone(),
                slot: transaction["slot"].as_u64().unwrap_or_default(),
                block_time: transaction["blockTime"].as_i64(),
                event: name,
                fields,
            });
        }
    }
    Ok((transactions, events))
}

impl Event {
    /// A key field of the event.
    pub fn key(&self, name: &str) -> Option<Pubkey> {
        Pubkey::from_str(self.fields.get(name)?.as_str()?).ok()
    }

    /// A number field of the event (u64, or a u128 written as a string).
    pub fn number(&self, name: &str) -> Option<u128> {
        match self.fields.get(name)? {
            Value::Number(number) => number.as_u64().map(u128::from),
            Value::String(text) => text.parse().ok(),
            _ => None,
        }
    }
}
