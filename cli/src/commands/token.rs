//! `tessera token …`: the few token moves a Tessera user needs without the `spl-token` CLI
//! (which works too, against `tessera localnet`).

use super::{Outcome, Session};
use crate::tokens::{associated_account, create_mint, mint_to};
use anchor_lang::prelude::Pubkey;
use anyhow::{ensure, Context, Result};
use clap::Subcommand;
use serde_json::json;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera_client::instructions::MintRef;

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Sends tokens from --keypair's associated account to OWNER's (created if needed).
    Transfer {
        /// Mint of the tokens.
        #[arg(long)]
        mint: Pubkey,
        /// Recipient wallet.
        #[arg(long)]
        to: Pubkey,
        /// Amount in tokens, e.g. 12.5.
        amount: String,
    },
    /// Shows a wallet's balance in a mint (default wallet: --keypair).
    Balance {
        #[arg(long)]
        mint: Pubkey,
        #[arg(long)]
        owner: Option<Pubkey>,
    },
    /// Creates a mint with --keypair as mint authority and mints --supply to it (a payment
    /// token for tests and local ledgers).
    CreateMint {
        #[arg(long, default_value_t = 6)]
        decimals: u8,
        /// Tokens minted to --keypair.
        #[arg(long, default_value = "1000000")]
        supply: String,
        /// Create it under Token-2022 instead of SPL Token.
        #[arg(long)]
        token_2022: bool,
    },
}

impl TokenCommand {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        let ledger = session.ledger;
        let me = session.signer();
        match self {
            TokenCommand::Transfer { mint, to, amount } => {
                let mint = ledger.mint(mint)?;
                let amount = mint.parse_amount(amount)?;
                ensure!(amount > 0, "transfer at least one base unit");
                let source = mint.associated(&me);
                session.ensure_balance(&source, &mint, amount, "the transfer")?;
                let (destination, create) = associated_account(&me, to, mint.key);
                let transfer = spl_token_2022_interface::instruction::transfer_checked(
                    &mint.key.token_program,
                    &source,
                    &mint.key.mint,
                    &destination,
                    &me,
                    &[],
                    amount,
                    mint.decimals,
                )?;
                ledger.send(&[create, transfer], &[])?;
                Ok(Outcome::new(
                    format!("sent {} to {to} ({destination})", mint.format(amount)),
                    json!({
                        "to": to.to_string(),
                        "account": destination.to_string(),
                        "amount": mint.format(amount),
                    }),
                ))
            }
            TokenCommand::Balance { mint, owner } => {
                let mint = ledger.mint(mint)?;
                let owner = owner.unwrap_or(me);
                let account = mint.associated(&owner);
                let balance = ledger.token_balance(&account)?;
                Ok(Outcome::new(
                    format!(
                        "{owner} holds {} of {}",
                        mint.format(balance),
                        mint.key.mint
                    ),
                    json!({
                        "owner": owner.to_string(),
                        "account": account.to_string(),
                        "balance": mint.format(balance),
                    }),
                ))
            }
            TokenCommand::CreateMint {
                decimals,
                supply,
                token_2022,
            } => {
                let supply = crate::tokens::parse_amount(supply, *decimals).context("--supply")?;
                let keypair = Keypair::new();
                let key = MintRef {
                    mint: keypair.pubkey(),
                    token_program: if *token_2022 {
                        spl_token_2022_interface::ID
                    } else {
                        spl_token_interface::ID
                    },
                };
                let rent = ledger.rent_exempt(crate::tokens::MINT_LEN)?;
                let mut instructions = create_mint(&me, key, &me, *decimals, rent)?;
                let (account, create) = associated_account(&me, &me, key);
                instructions.push(create);
                instructions.push(mint_to(key, &account, &me, supply)?);
                ledger.send(&instructions, &[&keypair])?;
                Ok(Outcome::new(
                    format!(
                        "mint {} created ({decimals} decimals); {} minted to {me}",
                        key.mint,
                        crate::tokens::format_amount(supply, *decimals)
                    ),
                    json!({
                        "mint": key.mint.to_string(),
                        "decimals": decimals,
                        "supply": crate::tokens::format_amount(supply, *decimals),
                    }),
                ))
            }
        }
    }
}
