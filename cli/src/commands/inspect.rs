//! `tessera inspect ADDRESS`: any Tessera account decoded by the IDL with every field named,
//! amounts also shown in their mint's decimals, and the token vault or mint it points at; or a
//! token account or mint on its own.

use super::Session;
use crate::view::{as_text, Outcome};
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;
use tessera::state::Network;
use tessera_client::pda;
use tessera_ledger::decode::idl;
use tessera_ledger::tokens::{self, Mint};

/// `tessera inspect` flags.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// A Tessera account (network, provider, job, epoch, work record, dispute), a token
    /// account or a mint.
    pub address: Pubkey,
}

/// An amount field in its mint's decimals.
#[derive(Debug, Serialize)]
pub struct Amount {
    /// Where the field is: `stake`, `totals.staked`.
    pub field: String,
    pub base_units: u64,
    pub tokens: String,
    #[serde(serialize_with = "as_text")]
    pub mint: Pubkey,
}

/// One account, decoded.
#[derive(Debug, Serialize)]
pub struct Inspection {
    #[serde(serialize_with = "as_text")]
    pub address: Pubkey,
    /// The account type (`Job`, `Provider`, ...), `TokenAccount` or `Mint`.
    pub kind: String,
    #[serde(serialize_with = "as_text")]
    pub owner: Pubkey,
    pub lamports: u64,
    /// Every field by name, as the program declares it; amounts in base units.
    pub fields: Map<String, Value>,
    /// The amount fields again, in their mint's decimals.
    pub amounts: Vec<Amount>,
    /// The token vault or mint the account points at.
    pub related: Vec<Inspection>,
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, "")
    }
}

impl Inspection {
    fn write(&self, f: &mut fmt::Formatter<'_>, indent: &str) -> fmt::Result {
        write!(
            f,
            "{indent}{} {} (owner {}, {} lamports)",
            self.kind, self.address, self.owner, self.lamports
        )?;
        write_fields(f, &self.fields, "", &format!("{indent}  "), &self.amounts)?;
        for related in &self.related {
            writeln!(f)?;
            related.write(f, &format!("{indent}  "))?;
        }
        Ok(())
    }
}

fn write_fields(
    f: &mut fmt::Formatter<'_>,
    fields: &Map<String, Value>,
    prefix: &str,
    indent: &str,
    amounts: &[Amount],
) -> fmt::Result {
    for (name, value) in fields {
        let path = format!("{prefix}{name}");
        match value {
            Value::Object(inner) => {
                write!(f, "\n{indent}{name}:")?;
                write_fields(
                    f,
                    inner,
                    &format!("{path}."),
                    &format!("{indent}  "),
                    amounts,
                )?;
            }
            Value::String(text) => write!(f, "\n{indent}{name}: {text}")?,
            other => write!(f, "\n{indent}{name}: {other}")?,
        }
        if let Some(amount) = amounts.iter().find(|amount| amount.field == path) {
            write!(f, " ({} tokens)", amount.tokens)?;
        }
    }
    Ok(())
}

/// `tessera inspect ADDRESS`.
pub fn inspect(session: &Session, args: &InspectArgs) -> Result<Outcome> {
    Outcome::view(&inspection(session, &args.address, true)?)
}

fn inspection(session: &Session, address: &Pubkey, with_related: bool) -> Result<Inspection> {
    let ledger = session.ledger;
    let account = ledger
        .account(address)?
        .with_context(|| format!("there is no account at {address} on {}", ledger.url()))?;
    let mut inspection = Inspection {
        address: *address,
        kind: String::new(),
        owner: account.owner,
        lamports: account.lamports,
        fields: Map::new(),
        amounts: Vec::new(),
        related: Vec::new(),
    };
    if account.owner == tessera_client::program_id() {
        let decoded = idl().account(&account.data).with_context(|| {
            format!("{address} belongs to Tessera but is no account type it knows")
        })??;
        inspection.kind = decoded.name;
        inspection.fields = decoded.fields;
        let mints = amount_mints(session, &inspection.kind, &inspection.fields)?;
        inspection.amounts = amounts_of(&inspection.kind, &inspection.fields, "", &mints);
        if with_related {
            for related in related_accounts(&inspection.kind, address, &inspection.fields) {
                if ledger.exists(&related)? {
                    inspection
                        .related
                        .push(inspection_of_token(session, &related)?);
                }
            }
        }
        return Ok(inspection);
    }
    if account.owner == spl_token_interface::ID || account.owner == spl_token_2022_interface::ID {
        return inspection_of_token(session, address);
    }
    bail!(
        "{address} is neither a Tessera account nor a token account or mint: it belongs to {}",
        account.owner
    )
}

/// A token account (its mint, owner and balance in the mint's decimals) or a mint (decimals,
/// supply, authorities).
fn inspection_of_token(session: &Session, address: &Pubkey) -> Result<Inspection> {
    let account = session
        .ledger
        .account(address)?
        .with_context(|| format!("there is no account at {address}"))?;
    let mut fields = Map::new();
    let mut amounts = Vec::new();
    let kind = match Mint::unpack(address, &account.owner, &account.data) {
        Ok((mint, state)) => {
            fields.insert("decimals".into(), mint.decimals.into());
            fields.insert("supply".into(), state.supply.into());
            let authority =
                |key: Option<Pubkey>| key.map_or(Value::Null, |key| key.to_string().into());
            fields.insert(
                "mint_authority".into(),
                authority(state.mint_authority.into()),
            );
            fields.insert(
                "freeze_authority".into(),
                authority(state.freeze_authority.into()),
            );
            amounts.push(Amount {
                field: "supply".into(),
                base_units: state.supply,
                tokens: mint.format(state.supply),
                mint: *address,
            });
            "Mint"
        }
        Err(_) => {
            let balance = tokens::amount(&account.data)?;
            let (mint, holder) = tokens::mint_and_owner(&account.data)?;
            fields.insert("mint".into(), mint.to_string().into());
            fields.insert("owner".into(), holder.to_string().into());
            fields.insert("amount".into(), balance.into());
            let decimals = session.ledger.mint(&mint)?;
            amounts.push(Amount {
                field: "amount".into(),
                base_units: balance,
                tokens: decimals.format(balance),
                mint,
            });
            "TokenAccount"
        }
    };
    Ok(Inspection {
        address: *address,
        kind: kind.into(),
        owner: account.owner,
        lamports: account.lamports,
        fields,
        amounts,
        related: Vec::new(),
    })
}

/// The token accounts and mints an account of type `kind` points at.
fn related_accounts(kind: &str, address: &Pubkey, fields: &Map<String, Value>) -> Vec<Pubkey> {
    let key = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .and_then(|text| Pubkey::from_str(text).ok())
    };
    match kind {
        "Job" => [key("vault"), key("payment_mint")]
            .into_iter()
            .flatten()
            .collect(),
        "Provider" => vec![pda::stake_vault(address)],
        "Network" => key("reward_mint").into_iter().collect(),
        _ => Vec::new(),
    }
}

/// The payment and reward mints of an account's amounts, where it has them.
struct Mints {
    payment: Option<Mint>,
    reward: Option<Mint>,
}

fn amount_mints(session: &Session, kind: &str, fields: &Map<String, Value>) -> Result<Mints> {
    let key = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .and_then(|text| Pubkey::from_str(text).ok())
    };
    let ledger = session.ledger;
    let payment = key("payment_mint")
        .map(|mint| ledger.mint(&mint))
        .transpose()?;
    let reward_mint = match kind {
        "Network" => key("reward_mint"),
        _ => match key("network") {
            Some(network) => ledger
                .fetch::<Network>(&network)?
                .map(|network| network.reward_mint),
            None => None,
        },
    };
    let reward = reward_mint.map(|mint| ledger.mint(&mint)).transpose()?;
    Ok(Mints { payment, reward })
}

/// The fields of type `kind` (and of the structs inside it) whose documentation says they
/// are base units of the payment or the reward mint.
fn amounts_of(kind: &str, fields: &Map<String, Value>, prefix: &str, mints: &Mints) -> Vec<Amount> {
    let docs = idl().field_docs(kind);
    let types = idl().field_types(kind);
    let mut amounts = Vec::new();
    for (name, value) in fields {
        let path = format!("{prefix}{name}");
        if let (Value::Object(inner), Some(inner_kind)) = (value, types.get(name)) {
            amounts.extend(amounts_of(inner_kind, inner, &format!("{path}."), mints));
            continue;
        }
        let Some(base_units) = value.as_u64() else {
            continue;
        };
        let doc = docs
            .get(name)
            .map(|doc| doc.to_lowercase())
            .unwrap_or_default();
        let mint = if doc.contains("payment-mint base units") {
            mints.payment
        } else if doc.contains("base units")
            && (doc.contains("reward-mint") || doc.contains("reward tokens"))
        {
            mints.reward
        } else {
            None
        };
        if let Some(mint) = mint {
            amounts.push(Amount {
                field: path,
                base_units,
                tokens: mint.format(base_units),
                mint: mint.key.mint,
            });
        }
    }
    amounts
}
