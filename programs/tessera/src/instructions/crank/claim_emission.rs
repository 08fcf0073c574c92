use crate::errors::TesseraError;
use crate::events::EmissionClaimed;
use crate::math;
use crate::state::{Epoch, Network, WorkRecord, MINT_AUTHORITY_SEED};
use anchor_lang::prelude::*;
use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use anchor_spl::token_interface::{self, Mint, MintTo, TokenAccount, TokenInterface};

// `dup` leaves the writable accounts out of Anchor's duplicate check (a hash set, about 700 CU
// a key on SBF): no two of them are of the same type, so none can stand in for another.
#[derive(Accounts)]
#[instruction(epoch_index: u64)]
pub struct ClaimEmission<'info> {
    /// Anyone; claims are a permissionless crank.
    pub cranker: Signer<'info>,

    #[account(mut, dup, has_one = reward_mint @ TesseraError::WrongMint)]
    pub network: Box<Account<'info, Network>>,

    /// CHECK: the provider's address only (it may have deregistered since the work); the work
    /// record's seeds bind it, and the record names the network and the owner to pay.
    pub provider: UncheckedAccount<'info>,

    #[account(
        mut,
        dup,
        seeds = [Epoch::SEED, network.key().as_ref(), &epoch_index.to_le_bytes()],
        bump = epoch.bump,
    )]
    pub epoch: Box<Account<'info, Epoch>>,

    #[account(
        mut,
        dup,
        close = rent_payer,
        seeds = [WorkRecord::SEED, provider.key().as_ref(), &epoch_index.to_le_bytes()],
        bump = work_record.bump,
        has_one = rent_payer,
        has_one = network,
    )]
    pub work_record: Box<Account<'info, WorkRecord>>,

    /// CHECK: gets the work record's rent back; `has_one = rent_payer` checks its address.
    #[account(mut)]
    pub rent_payer: UncheckedAccount<'info>,

    /// The provider owner's associated token account for the reward mint.
    #[account(
        mut,
        dup,
        address = get_associated_token_address_with_program_id(
            &work_record.owner,
            &reward_mint.key(),
            &token_program.key(),
        ) @ TesseraError::WrongTokenAccountOwner,
    )]
    pub owner_reward_token: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, dup)]
    pub reward_mint: Box<InterfaceAccount<'info, Mint>>,

    /// CHECK: signs the mint; only its address matters, checked by the seeds.
    #[account(seeds = [MINT_AUTHORITY_SEED, network.key().as_ref()], bump = network.mint_authority_bump)]
    pub mint_authority: UncheckedAccount<'info>,

    pub token_program: Interface<'info, TokenInterface>,
}

impl ClaimEmission<'_> {
    fn validate(&self, epoch_index: u64, now: i64) -> Result<()> {
        self.network.require_claims_open()?;
        let next_epoch = math::add(epoch_index, 1)?;
        require!(
            now >= self.network.epoch_start(next_epoch)?,
            TesseraError::EpochNotOver
        );
        require!(self.epoch.tallied(), TesseraError::EpochNotTallied);
        require!(self.work_record.units > 0, TesseraError::IneligibleWork);
        Ok(())
    }
}

/// Mints floor(epoch emission × provider units / epoch units) to the provider owner. Rounding
/// down leaves dust unminted, so an epoch's claims never add up to more than its emission.
pub(crate) fn handler(ctx: Context<ClaimEmission>, epoch_index: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(epoch_index, now)?;
    let (epoch, work) = (&ctx.accounts.epoch, &ctx.accounts.work_record);
    let amount = share_of(epoch.emission, work.units, epoch.total_units)?;

    if amount > 0 {
        let network = &ctx.accounts.network;
        let seeds = network.mint_authority_seeds(network.key());
        token_interface::mint_to(
            CpiContext::new_with_signer(
                ctx.accounts.token_program.key(),
                MintTo {
                    mint: ctx.accounts.reward_mint.to_account_info(),
                    to: ctx.accounts.owner_reward_token.to_account_info(),
                    authority: ctx.accounts.mint_authority.to_account_info(),
                },
                &[&seeds.as_seeds()],
            ),
            amount,
        )?;
    }

    let units = ctx.accounts.work_record.units;
    let epoch = &mut ctx.accounts.epoch;
    epoch.claimed = math::add(epoch.claimed, amount)?;
    epoch.open_work_records = math::sub(epoch.open_work_records, 1)?;
    epoch.invariant()?;
    let network = &mut ctx.accounts.network;
    network.totals.emitted = math::add(network.totals.emitted, amount)?;
    network.invariant()?;
    crate::events::emit(EmissionClaimed {
        provider: ctx.accounts.provider.key(),
        epoch: epoch_index,
        units,
        epoch_units: epoch.total_units,
        amount,
        epoch_claimed: epoch.claimed,
    });
    Ok(())
}

/// floor(emission × units / total) for u128 units. When the total needs more than 64 bits,
/// both are shifted right by the same amount first; since the shifted shares add up to at most
/// the shifted total, an epoch's claims still never add up to more than its emission.
pub fn share_of(emission: u64, units: u128, total: u128) -> Result<u64> {
    require!(units <= total && total > 0, TesseraError::InvariantViolated);
    let shift = (128 - total.leading_zeros()).saturating_sub(64);
    let (units, total) = (units >> shift, total >> shift);
    let share = emission as u128 * units / total;
    u64::try_from(share).map_err(|_| error!(TesseraError::MathOverflow))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_floor_and_never_exceed_the_emission() {
        assert_eq!(share_of(10, 1, 3).unwrap(), 3);
        assert_eq!(share_of(u64::MAX, 7, 7).unwrap(), u64::MAX);
        let total = u128::MAX;
        let parts = [total / 3, total / 3, total - 2 * (total / 3)];
        let minted: u64 = parts
            .iter()
            .map(|part| share_of(1_000_000, *part, total).unwrap())
            .sum();
        assert!((999_997..=1_000_000).contains(&minted), "{minted}");
        assert!(share_of(1, 2, 1).is_err());
    }
}
