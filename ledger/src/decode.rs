//! Decodes the program's accounts and events from their bytes by the committed IDL
//! (`idl/tessera.json`, which `tests/tests/idl.rs` keeps equal to the program): every field by
//! its name, as JSON (fields in name order). One decoder serves `tessera
//! inspect` (accounts) and `tessera history` and the audit's report (events), so a field added
//! to the program shows up in both without a line changed here.
//!
//! Numbers up to 64 bits are JSON numbers; u128 and i128 too when they fit in 64 bits, else
//! decimal strings. Keys are base58. A byte array is text when it holds printable UTF-8
//! followed by zero padding (a GPU model, a region), otherwise hex (hashes).

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The committed IDL.
const IDL: &str = include_str!("../../idl/tessera.json");

/// What the IDL says about the program's accounts, events and types.
pub struct Idl {
    /// `(discriminator, name)` of every account type.
    accounts: Vec<([u8; 8], String)>,
    /// `(discriminator, name)` of every event.
    events: Vec<([u8; 8], String)>,
    /// `(discriminator, name)` of every instruction, the name as Anchor logs it (`CreateJob`).
    instructions: Vec<([u8; 8], String)>,
    /// Type definitions by name.
    types: HashMap<String, Value>,
}

/// The IDL, parsed once.
pub fn idl() -> &'static Idl {
    static PARSED: OnceLock<Idl> = OnceLock::new();
    PARSED.get_or_init(|| {
        let idl: Value = serde_json::from_str(IDL).unwrap_or_default();
        let named = |list: &str| -> Vec<([u8; 8], String)> {
            idl[list]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|entry| {
                    let bytes: Vec<u8> = entry["discriminator"]
                        .as_array()?
                        .iter()
                        .filter_map(|byte| byte.as_u64().map(|byte| byte as u8))
                        .collect();
                    Some((bytes.try_into().ok()?, entry["name"].as_str()?.to_string()))
                })
                .collect()
        };
        let types = idl["types"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| Some((entry["name"].as_str()?.to_string(), entry.clone())))
            .collect();
        let instructions = named("instructions")
            .into_iter()
            .map(|(discriminator, name)| (discriminator, upper_camel(&name)))
            .collect();
        Idl {
            accounts: named("accounts"),
            events: named("events"),
            instructions,
            types,
        }
    })
}

/// A decoded account or event: its type's name and its fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub name: String,
    pub fields: Map<String, Value>,
}

impl Idl {
    /// Decodes a Tessera account from its data (discriminator first); `None` when the
    /// discriminator is no account type's.
    pub fn account(&self, data: &[u8]) -> Option<Result<Decoded>> {
        self.decode(&self.accounts, data)
    }

    /// Decodes an event from the bytes of a `Program data:` line; `None` when the
    /// discriminator is no event's.
    pub fn event(&self, data: &[u8]) -> Option<Result<Decoded>> {
        self.decode(&self.events, data)
    }

    /// The name of the instruction `data` calls, as Anchor logs it (`Instruction: CreateJob`).
    pub fn instruction_name(&self, data: &[u8]) -> Option<&str> {
        let discriminator: [u8; 8] = data.get(..8)?.try_into().ok()?;
        self.instructions
            .iter()
            .find(|(known, _)| *known == discriminator)
            .map(|(_, name)| name.as_str())
    }

    /// The documentation of each field of the type `name`, by field name.
    pub fn field_docs(&self, name: &str) -> HashMap<String, String> {
        self.types
            .get(name)
            .and_then(|definition| definition["type"]["fields"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|field| {
                let docs: Vec<&str> = field["docs"]
                    .as_array()?
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                Some((field["name"].as_str()?.to_string(), docs.join(" ")))
            })
            .collect()
    }

    /// The type name of each field of the type `name` that is itself a defined type, by field name.
    pub fn field_types(&self, name: &str) -> HashMap<String, String> {
        self.types
            .get(name)
            .and_then(|definition| definition["type"]["fields"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|field| {
                let defined = field["type"]["defined"]["name"].as_str()?;
                Some((field["name"].as_str()?.to_string(), defined.to_string()))
            })
            .collect()
    }

    fn decode(&self, table: &[([u8; 8], String)], data: &[u8]) -> Option<Result<Decoded>> {
        let discriminator: [u8; 8] = data.get(..8)?.try_into().ok()?;
        let (_, name) = table.iter().find(|(known, _)| *known == discriminator)?;
        let mut reader = Reader { data, at: 8 };
        Some(
            self.defined(name, &mut reader)
                .and_then(|value| match value {
                    Value::Object(fields) => Ok(Decoded {
                        name: name.clone(),
                        fields,
                    }),
                    _ => bail!("{name} is not a struct"),
                })
                .with_context(|| format!("cannot decode a {name}")),
        )
    }

    /// Decodes the type the IDL names `name` (a struct or an enum).
    fn defined(&self, name: &str, reader: &mut Reader) -> Result<Value> {
        let definition = self
            .types
            .get(name)
            .ok_or_else(|| anyhow!("the IDL has no type {name}"))?;
        let kind = &definition["type"];
        match kind["kind"].as_str() {
            Some("struct") => self.fields(&kind["fields"], reader),
            Some("enum") => {
                let index = reader.take(1)?[0] as usize;
                let variant = kind["variants"]
                    .get(index)
                    .ok_or_else(|| anyhow!("{name} has no variant {index}"))?;
                let variant_name = variant["name"].as_str().unwrap_or_default().to_string();
                match variant.get("fields") {
                    None => Ok(Value::String(variant_name)),
                    Some(fields) => {
                        let mut object = Map::new();
                        object.insert(variant_name, self.fields(fields, reader)?);
                        Ok(Value::Object(object))
                    }
                }
            }
            other => bail!("{name} is a {other:?}, which this decoder does not know"),
        }
    }

    /// Decodes named fields into an object, or tuple fields into an array.
    fn fields(&self, fields: &Value, reader: &mut Reader) -> Result<Value> {
        let list = fields.as_array().map(Vec::as_slice).unwrap_or_default();
        if list.iter().all(|field| field.get("name").is_some()) {
            let mut object = Map::new();
            for field in list {
                let name = field["name"].as_str().unwrap_or_default().to_string();
                object.insert(name, self.value(&field["type"], reader)?);
            }
            Ok(Value::Object(object))
        } else {
            list.iter()
                .map(|kind| self.value(kind, reader))
                .collect::<Result<Vec<_>>>()
                .map(Value::Array)
        }
    }

    /// Decodes one value of the IDL type `kind`.
    /// `length` values of type `element` (an array's or a vector's), bytes as one value.
    fn elements(&self, element: &Value, length: usize, reader: &mut Reader) -> Result<Value> {
        if element.as_str() == Some("u8") {
            return Ok(bytes_value(reader.take(length)?));
        }
        (0..length)
            .map(|_| self.value(element, reader))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array)
    }

    fn value(&self, kind: &Value, reader: &mut Reader) -> Result<Value> {
        if let Some(primitive) = kind.as_str() {
            return reader.primitive(primitive);
        }
        if let Some([element, length]) = kind["array"].as_array().map(Vec::as_slice) {
            let length = length.as_u64().unwrap_or_default() as usize;
            return self.elements(element, length, reader);
        }
        if let Some(element) = kind.get("vec") {
            let length = u32::from_le_bytes(reader.take(4)?.try_into()?) as usize;
            return self.elements(element, length, reader);
        }
        if let Some(inner) = kind.get("option") {
            return match reader.take(1)?[0] {
                0 => Ok(Value::Null),
                _ => self.value(inner, reader),
            };
        }
        if let Some(name) = kind["defined"]["name"].as_str() {
            return self.defined(name, reader);
        }
        bail!("unknown IDL type {kind}")
    }
}

/// `create_job` as `CreateJob`.
fn upper_camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut letters = word.chars();
            letters
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + letters.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Bytes as text when they are printable UTF-8 followed by zero padding, else as hex.
fn bytes_value(bytes: &[u8]) -> Value {
    let end = bytes
        .iter()
        .rposition(|byte| *byte != 0)
        .map_or(0, |at| at + 1);
    let (text, padding) = bytes.split_at(end);
    if end > 0 && padding.iter().all(|byte| *byte == 0) {
        if let Ok(text) = std::str::from_utf8(text) {
            if text.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
                return Value::String(text.to_string());
            }
        }
    }
    Value::String(hex::encode(bytes))
}

/// Borsh bytes read in order.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, length: usize) -> Result<&[u8]> {
        let bytes = self
            .data
            .get(self.at..self.at + length)
            .ok_or_else(|| anyhow!("the data ends at byte {}", self.data.len()))?;
        self.at += length;
        Ok(bytes)
    }

    fn primitive(&mut self, kind: &str) -> Result<Value> {
        macro_rules! number {
            ($type:ty) => {{
                let bytes = self.take(std::mem::size_of::<$type>())?;
                <$type>::from_le_bytes(bytes.try_into()?)
            }};
        }
        Ok(match kind {
            "bool" => Value::Bool(self.take(1)?[0] != 0),
            "u8" => number!(u8).into(),
            "i8" => number!(i8).into(),
            "u16" => number!(u16).into(),
            "i16" => number!(i16).into(),
            "u32" => number!(u32).into(),
            "i32" => number!(i32).into(),
            "u64" => number!(u64).into(),
            "i64" => number!(i64).into(),
            "u128" => {
                let value = number!(u128);
                u64::try_from(value).map_or_else(|_| value.to_string().into(), Value::from)
            }
            "i128" => {
                let value = number!(i128);
                i64::try_from(value).map_or_else(|_| value.to_string().into(), Value::from)
            }
            "pubkey" => {
                let bytes: [u8; 32] = self.take(32)?.try_into()?;
                anchor_lang::prelude::Pubkey::new_from_array(bytes)
                    .to_string()
                    .into()
            }
            "string" => {
                let length = u32::from_le_bytes(self.take(4)?.try_into()?) as usize;
                String::from_utf8_lossy(self.take(length)?)
                    .into_owned()
                    .into()
            }
            "bytes" => {
                let length = u32::from_le_bytes(self.take(4)?.try_into()?) as usize;
                Value::String(hex::encode(self.take(length)?))
            }
            other => bail!("unknown IDL type {other}"),
        })
    }
}

/// The events a transaction's log lines hold that the program `program` emitted itself, in
/// order, as Anchor's `EventParser` reads them: a `Program data:` line belongs to the program
/// whose invocation is innermost at that line.
pub fn events_in_logs(program: &str, logs: &[String]) -> Vec<Result<Decoded>> {
    use base64::Engine;
    let mut stack: Vec<&str> = Vec::new();
    let mut events = Vec::new();
    for line in logs {
        if let Some(rest) = line.strip_prefix("Program ") {
            let mut words = rest.split_whitespace();
            let (first, second) = (words.next(), words.next());
            match (first, second) {
                (Some("data:"), _) if stack.last() == Some(&program) => {
                    for field in rest["data:".len()..].split_whitespace() {
                        match base64::engine::general_purpose::STANDARD.decode(field) {
                            Ok(bytes) => events.extend(idl().event(&bytes)),
                            Err(error) => events
                                .push(Err(anyhow!("a Program data line is not base64: {error}"))),
                        }
                    }
                }
                (Some(id), Some("invoke")) if !id.ends_with(':') => stack.push(id),
                (Some(id), Some("success" | "failed:")) if !id.ends_with(':') => {
                    stack.pop();
                }
                _ => {}
            }
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;
    use anchor_lang::{AccountSerialize, Discriminator, Event};
    use tessera::events::{JobCancelled, ReceiptSettled};
    use tessera::settlement::Attestation;
    use tessera::state::Epoch;

    #[test]
    fn an_event_decodes_by_the_idl_with_every_field_named() {
        let job = Pubkey::new_unique();
        let event = ReceiptSettled {
            job,
            provider: Pubkey::new_unique(),
            attestation: Attestation {
                by_attestors: true,
                by_client: false,
            },
            cumulative_units: 40,
            units: 15,
            payment: 146,
            fee: 4,
            epoch: 7,
            weighted_units: u128::from(u64::MAX) + 1,
        };
        let decoded = idl().event(&event.data()).unwrap().unwrap();
        assert_eq!(decoded.name, "ReceiptSettled");
        assert_eq!(decoded.fields["job"], job.to_string());
        assert_eq!(decoded.fields["attestation"]["by_attestors"], true);
        assert_eq!(decoded.fields["payment"], 146);
        assert_eq!(decoded.fields["weighted_units"], "18446744073709551616");
        assert!(
            idl().account(&event.data()).is_none(),
            "an event is no account"
        );
        let settle = tessera::instruction::SettleReceipt::DISCRIMINATOR;
        assert_eq!(idl().instruction_name(settle), Some("SettleReceipt"));
    }

    #[test]
    fn logs_give_the_programs_own_events_in_order_and_skip_inner_programs() {
        use base64::Engine;
        let program = tessera::ID.to_string();
        let encode = |event: &[u8]| base64::engine::general_purpose::STANDARD.encode(event);
        let cancelled = JobCancelled {
            job: Pubkey::new_unique(),
            was_running: true,
            no_show: false,
            ended_at: 12,
        };
        let logs: Vec<String> = [
            format!("Program {program} invoke [1]"),
            "Program Tokenkeg invoke [2]".to_string(),
            format!("Program data: {}", encode(&cancelled.data())),
            "Program Tokenkeg success".to_string(),
            format!("Program data: {}", encode(&cancelled.data())),
            format!("Program {program} success"),
        ]
        .into();
        let events = events_in_logs(&program, &logs);
        assert_eq!(events.len(), 1, "the token program's line is not ours");
        let event = events[0].as_ref().unwrap();
        assert_eq!(
            (event.name.as_str(), &event.fields["ended_at"]),
            ("JobCancelled", &12.into())
        );
    }

    #[test]
    fn an_account_decodes_with_its_u128_and_bytes() {
        let epoch = Epoch {
            network: Pubkey::new_unique(),
            index: 3,
            total_units: 5,
            tallied_records: 2,
            ..Epoch::default()
        };
        let mut data = Vec::new();
        epoch.try_serialize(&mut data).unwrap();
        let decoded = idl().account(&data).unwrap().unwrap();
        assert_eq!(decoded.name, "Epoch");
        assert_eq!(decoded.fields["index"], 3);
        assert_eq!(decoded.fields["total_units"], 5);
        assert_eq!(decoded.fields["tallied_records"], 2);
        assert_eq!(decoded.fields["reserved"], hex::encode([0u8; 16]));
    }
}
