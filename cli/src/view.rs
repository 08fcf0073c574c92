//! What a command prints. Every command returns one view: a struct that derives `Serialize`,
//! which is what `--output json` prints, and implements `Display`, the text people read. A
//! command states its result once, in the view, and both forms follow from it.
//!
//! Fields only the text needs (the ledger time a sentence is relative to, the verb that says
//! what happened) are `#[serde(skip)]`; the `as_*` functions here write typed fields the way
//! the JSON has always carried them (keys in base58, program enums by name).

use anchor_lang::prelude::Pubkey;
use anyhow::Result;
use serde::{Serialize, Serializer};
use std::fmt::{Debug, Display};
use tessera::state::UnitKind;
pub use tessera_ledger::stdio::print_line;

/// What a command prints: text for people, JSON for programs (`--output json`).
pub struct Outcome {
    pub text: String,
    pub json: serde_json::Value,
    /// Set when the command ran but found a problem (an audit that fails): the process
    /// prints the outcome, then this, and exits 1.
    pub failure: Option<String>,
}

impl Outcome {
    /// The outcome that prints `view`.
    pub fn view<T: Serialize + Display>(view: &T) -> Result<Self> {
        Ok(Self {
            text: view.to_string(),
            json: serde_json::to_value(view)?,
            failure: None,
        })
    }

    /// Prints the outcome on stdout: its JSON with `json`, else its text.
    pub fn print(&self, json: bool) -> Result<()> {
        if json {
            print_line(&serde_json::to_string_pretty(&self.json)?)?;
        } else {
            print_line(&self.text)?;
        }
        Ok(())
    }

    /// This outcome, failing with `failure` when it is `Some`.
    pub fn failing_with(self, failure: Option<String>) -> Self {
        Self { failure, ..self }
    }
}

/// Writes a value as its `Display` text: a key in base58, a path.
pub fn as_text<T: Display, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Writes a list as the `Display` texts of its items.
pub fn as_texts<T: Display, S: Serializer>(values: &[T], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(values.iter().map(ToString::to_string))
}

/// Writes a program enum as its variant's name: `Running`, `Edge`, `GpuSeconds`.
pub fn as_name<T: Debug, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_args!("{value:?}"))
}

/// Writes a unit kind as receipt files name it: `gpu-seconds`, `cpu-seconds`, `bytes`.
pub fn as_unit_name<S: Serializer>(kind: &UnitKind, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(tessera_client::receipt::unit_kind_name(*kind))
}

/// Writes an optional value as its `Display` text, or null.
pub fn as_optional_text<T: Display, S: Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(value),
        None => serializer.serialize_none(),
    }
}

/// Writes a key the program leaves as the default key when unset (a pending proposal): null
/// when unset.
pub fn as_proposed_key<S: Serializer>(key: &Pubkey, serializer: S) -> Result<S::Ok, S::Error> {
    if *key == Pubkey::default() {
        serializer.serialize_none()
    } else {
        serializer.collect_str(key)
    }
}

/// Text lines under a heading, each on its own line indented by two spaces.
pub struct Indented<'a>(pub &'a [String]);

impl Display for Indented<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0
            .iter()
            .try_for_each(|line| write!(formatter, "\n  {line}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera::state::JobStatus;

    #[derive(Serialize)]
    struct Sample {
        #[serde(serialize_with = "as_text")]
        key: Pubkey,
        #[serde(serialize_with = "as_proposed_key")]
        proposed: Pubkey,
        #[serde(serialize_with = "as_name")]
        status: JobStatus,
        #[serde(serialize_with = "as_unit_name")]
        unit: UnitKind,
        #[serde(serialize_with = "as_texts")]
        keys: Vec<Pubkey>,
        #[serde(skip)]
        now: i64,
    }

    impl Display for Sample {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(
                f,
                "{:?} at {}{}",
                self.status,
                self.now,
                Indented(&["a".into()])
            )
        }
    }

    #[test]
    fn a_view_prints_its_text_and_its_json_from_the_same_fields() {
        let key = Pubkey::new_unique();
        let sample = Sample {
            key,
            proposed: Pubkey::default(),
            status: JobStatus::Running,
            unit: UnitKind::CpuSeconds,
            keys: vec![key],
            now: 7,
        };
        let outcome = Outcome::view(&sample).unwrap();
        assert_eq!(outcome.text, "Running at 7\n  a");
        assert_eq!(
            outcome.json,
            serde_json::json!({
                "key": key.to_string(),
                "proposed": null,
                "status": "Running",
                "unit": "cpu-seconds",
                "keys": [key.to_string()],
            })
        );
        assert!(outcome.failure.is_none());
    }
}
