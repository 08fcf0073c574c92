//! `tessera token …`: the few token moves a Tessera user needs without the `spl-token` CLI
//! (which works too, against `tessera localnet`).

use super::{Outcome, Session};
use crate::view::as_text;
use anchor_lang::prelude::Pubkey;
use anyhow::{ensure, Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::fmt;
use tessera_client::instructions::MintRef;
use tessera_ledger::tokens::{self, associated_account, format_amount, mint_to};

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Sends tokens from --keypair's associated account to OWNER's (created if needed).
    Transfer(TransferArgs),
    /// Shows a wallet's balance in a mint (default wallet: --keypair).
    Balance {
        #[arg(long)]
        mint: Pubkey,
        #[arg(long)]
        owner: Option<Pubkey>,
    },
    /// Creates a mint with --keypair as mint authority and mints --supply to it (a payment
    /// token for tests and local ledgers).
    CreateMint(CreateMintArgs),
}

impl TokenCommand {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        match self {
            TokenCommand::Transfer(args) => Outcome::view(&transfer(session, args)?),
            TokenCommand::Balance { mint, owner } => {
                Outcome::view(&balance(session, mint, *owner)?)
            }
            TokenCommand::CreateMint(args) => Outcome::view(&create_mint(session, args)?),
        }
    }
}

/// A transfer to a wallet.
#[derive(Args)]
pub struct TransferArgs {
    /// Mint of the tokens.
    #[arg(long)]
    pub mint: Pubkey,
    /// Recipient wallet.
    #[arg(long)]
    pub to: Pubkey,
    /// Amount in tokens, e.g. 12.5.
    pub amount: String,
}

/// A new mint and its first supply.
#[derive(Args)]
pub struct CreateMintArgs {
    #[arg(long, default_value_t = 6)]
    pub decimals: u8,
    /// Tokens minted to --keypair.
    #[arg(long, default_value = "1000000")]
    pub supply: String,
    /// Create it under Token-2022 instead of SPL Token.
    #[arg(long)]
    pub token_2022: bool,
}

/// `token transfer`: --keypair sends tokens to a wallet's associated account.
pub fn transfer(session: &Session, args: &TransferArgs) -> Result<Transferred> {
    let me = session.signer();
    let mint = session.ledger.mint(&args.mint)?;
    let amount = mint.parse_amount(&args.amount)?;
    ensure!(amount > 0, "transfer at least one base unit");
    let source = mint.associated(&me);
    session.ensure_balance(&source, &mint, amount, "the transfer")?;
    let (destination, create) = associated_account(&me, &args.to, mint.key);
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
    session.send(&[create, transfer])?;
    Ok(Transferred {
        to: args.to,
        account: destination,
        amount: mint.format(amount),
    })
}

/// `token balance`: what `owner` (default --keypair) holds of `mint`.
pub fn balance(session: &Session, mint: &Pubkey, owner: Option<Pubkey>) -> Result<Balance> {
    let mint = session.ledger.mint(mint)?;
    let owner = owner.unwrap_or(session.signer());
    let account = mint.associated(&owner);
    let balance = session.ledger.token_balance(&account)?;
    Ok(Balance {
        owner,
        account,
        balance: mint.format(balance),
        mint: mint.key.mint,
    })
}

/// `token create-mint`: a new mint whose authority is --keypair, with its supply minted to it.
pub fn create_mint(session: &Session, args: &CreateMintArgs) -> Result<MintCreated> {
    let me = session.signer();
    let supply = tokens::parse_amount(&args.supply, args.decimals).context("--supply")?;
    let keypair = Keypair::new();
    let key = MintRef {
        mint: keypair.pubkey(),
        token_program: if args.token_2022 {
            spl_token_2022_interface::ID
        } else {
            spl_token_interface::ID
        },
    };
    let rent = session.ledger.rent_exempt(tokens::MINT_LEN)?;
    let mut instructions = tokens::create_mint(&me, key, &me, args.decimals, rent)?;
    let (account, create) = associated_account(&me, &me, key);
    instructions.push(create);
    instructions.push(mint_to(key, &account, &me, supply)?);
    session.send_with(&instructions, &[&keypair])?;
    Ok(MintCreated {
        mint: key.mint,
        decimals: args.decimals,
        supply: format_amount(supply, args.decimals),
        authority: me,
    })
}

/// `token transfer`: where the tokens went.
#[derive(Serialize)]
pub struct Transferred {
    #[serde(serialize_with = "as_text")]
    pub to: Pubkey,
    /// The recipient's associated token account.
    #[serde(serialize_with = "as_text")]
    pub account: Pubkey,
    pub amount: String,
}

impl fmt::Display for Transferred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sent {} to {} ({})", self.amount, self.to, self.account)
    }
}

/// `token balance`: a wallet's balance in a mint.
#[derive(Serialize)]
pub struct Balance {
    #[serde(serialize_with = "as_text")]
    pub owner: Pubkey,
    /// The wallet's associated token account.
    #[serde(serialize_with = "as_text")]
    pub account: Pubkey,
    pub balance: String,
    #[serde(skip)]
    pub mint: Pubkey,
}

impl fmt::Display for Balance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} holds {} of {}", self.owner, self.balance, self.mint)
    }
}

/// `token create-mint`: the new mint.
#[derive(Serialize)]
pub struct MintCreated {
    #[serde(serialize_with = "as_text")]
    pub mint: Pubkey,
    pub decimals: u8,
    pub supply: String,
    /// Its mint authority, who received the supply (text only).
    #[serde(skip)]
    pub authority: Pubkey,
}

impl fmt::Display for MintCreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mint {} created ({} decimals); {} minted to {}",
            self.mint, self.decimals, self.supply, self.authority
        )
    }
}
