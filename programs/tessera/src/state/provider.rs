use crate::errors::TesseraError;
use crate::math;
use crate::state::{ClassParams, ProviderClass};
use anchor_lang::prelude::*;

/// Whether a provider may take work.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum ProviderStatus {
    /// May accept jobs and earn emissions (given enough stake).
    Active,
    /// Lost too many disputes: may not accept jobs, earn emissions or deregister.
    Jailed,
}

/// What a provider's machine offers. Text fields are UTF-8, zero padded.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace,
)]
pub struct ProviderSpec {
    /// GPU model name, e.g. "H100-SXM-80GB"; zeros for CPU-only machines.
    pub gpu_model: [u8; 32],
    /// Number of GPUs.
    pub gpu_count: u16,
    /// Memory per GPU, in GiB.
    pub vram_gib: u16,
    /// Sustained network bandwidth, in megabits per second.
    pub bandwidth_mbps: u32,
    /// Region code, e.g. "eu-west".
    pub region: [u8; 8],
    /// SHA-256 of an off-chain metadata document (endpoints, benchmarks), or zeros.
    pub metadata_hash: [u8; 32],
}

impl ProviderSpec {
    /// Training and Inference providers need a GPU; Bandwidth providers need bandwidth.
    pub fn validate(&self, class: ProviderClass) -> Result<()> {
        let valid = match class {
            ProviderClass::Training | ProviderClass::Inference => self.gpu_count >= 1,
            ProviderClass::Edge => true,
            ProviderClass::Bandwidth => self.bandwidth_mbps >= 1,
        };
        require!(valid, TesseraError::InvalidSpec);
        Ok(())
    }
}

/// A provider of compute or bandwidth, its stake and its record.
/// Seeds: `["provider", network, owner]`; its stake sits in the token account `["stake", provider]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Provider {
    /// The network this provider belongs to.
    pub network: Pubkey,
    /// Wallet that registered, stakes, withdraws and receives emissions.
    pub owner: Pubkey,
    /// Ed25519 key the provider's worker signs receipts with (may equal `owner`).
    pub worker_key: Pubkey,
    /// What the provider sells; fixed at registration.
    pub class: ProviderClass,
    /// Whether it may take work.
    pub status: ProviderStatus,
    /// What its machine offers.
    pub spec: ProviderSpec,
    /// Active stake, in reward-mint base units.
    pub stake: u64,
    /// Stake leaving the provider, in reward-mint base units; withdrawable at `unbonding_ends_at`.
    pub unbonding_amount: u64,
    /// When the unbonding amount becomes withdrawable, unix seconds (0 when nothing unbonds).
    pub unbonding_ends_at: i64,
    /// Stake taken by lost disputes over the provider's life, in reward-mint base units.
    pub slashed_total: u64,
    /// Units settled on jobs over the provider's life.
    pub settled_units: u64,
    /// Units attested by service receipts over the provider's life.
    pub service_units: u64,
    /// Jobs accepted and not yet completed or cancelled.
    pub active_jobs: u32,
    /// Jobs completed.
    pub jobs_completed: u64,
    /// Disputes lost.
    pub lost_disputes: u16,
    /// Disputes open against it; while any is, its stake cannot leave.
    pub open_disputes: u16,
    /// Registration number (`NetworkTotals::registrations` when it registered); service
    /// receipts name it, so they cannot be replayed on a later registration of the same owner.
    pub nonce: u64,
    /// Registration time, unix seconds.
    pub registered_at: i64,
    /// Bump of this PDA.
    pub bump: u8,
    /// Bump of the stake vault PDA.
    pub vault_bump: u8,
    /// End of the latest dispute window its attested settlements opened, unix seconds: until
    /// then its stake can still be slashed, so it may neither withdraw nor deregister.
    pub slashable_until: i64,
    /// Jobs cancelled because it settled nothing within the start timeout; each counts toward
    /// jailing like a lost dispute.
    pub no_shows: u16,
    /// Room for later fields.
    pub reserved: [u8; 54],
}

/// The seeds a provider account signs with (for its stake vault), owning their bytes so that
/// they outlive any borrow of the account.
pub struct ProviderSeeds {
    network: Pubkey,
    owner: Pubkey,
    bump: [u8; 1],
}

impl ProviderSeeds {
    /// `["provider", network, owner, bump]`.
    pub fn as_seeds(&self) -> [&[u8]; 4] {
        [
            Provider::SEED,
            self.network.as_ref(),
            self.owner.as_ref(),
            &self.bump,
        ]
    }
}

/// Where a slash was taken from: active stake first, then unbonding stake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slash {
    pub from_stake: u64,
    pub from_unbonding: u64,
}

impl Provider {
    /// Seed prefix of `Provider`.
    pub const SEED: &'static [u8] = b"provider";
    /// Seed prefix of the provider's stake vault.
    pub const VAULT_SEED: &'static [u8] = b"stake";

    /// The seeds this account signs its stake vault's transfers with.
    pub fn signer_seeds(&self) -> ProviderSeeds {
        ProviderSeeds {
            network: self.network,
            owner: self.owner,
            bump: [self.bump],
        }
    }

    /// Takes `amount` from the provider's stake, active stake first, then unbonding stake,
    /// counts a lost dispute and jails it when that was one too many. The caller moves the
    /// tokens; `amount` must not exceed [`Provider::vault_liability`].
    pub fn slash(&mut self, amount: u64, jail_after: u8) -> Result<Slash> {
        let from_stake = amount.min(self.stake);
        let from_unbonding = amount - from_stake;
        self.stake -= from_stake;
        self.unbonding_amount = math::sub(self.unbonding_amount, from_unbonding)?;
        if self.unbonding_amount == 0 {
            self.unbonding_ends_at = 0;
        }
        self.slashed_total = math::add(self.slashed_total, amount)?;
        self.lost_disputes = self.lost_disputes.saturating_add(1);
        self.jail_if_struck_out(jail_after);
        Ok(Slash {
            from_stake,
            from_unbonding,
        })
    }

    /// Tokens the stake vault must hold: active stake plus unbonding stake.
    pub fn vault_liability(&self) -> Result<u64> {
        math::add(self.stake, self.unbonding_amount)
    }

    /// Fails with `DisputePending` while a dispute against the provider is open.
    pub fn require_no_open_dispute(&self) -> Result<()> {
        require!(self.open_disputes == 0, TesseraError::DisputePending);
        Ok(())
    }

    /// Whether the provider has at least its class minimum at stake.
    pub fn meets_min_stake(&self, class_params: &ClassParams) -> bool {
        self.stake >= class_params.min_stake
    }

    /// Fails with `StakeStillSlashable` while a dispute window of its attested work is open.
    pub fn require_not_slashable(&self, now: i64) -> Result<()> {
        require!(
            now >= self.slashable_until,
            TesseraError::StakeStillSlashable
        );
        Ok(())
    }

    /// Keeps the stake slashable until `until` (the end of a new dispute window), if later.
    pub fn extend_slashable(&mut self, until: i64) {
        self.slashable_until = self.slashable_until.max(until);
    }

    /// Lost disputes and no-shows together: the provider is jailed when they reach the
    /// network's `jail_after_lost_disputes`.
    pub fn strikes(&self) -> u32 {
        self.lost_disputes as u32 + self.no_shows as u32
    }

    /// Jails the provider once its strikes reach `jail_after`.
    pub fn jail_if_struck_out(&mut self, jail_after: u8) {
        if self.strikes() >= jail_after as u32 {
            self.status = ProviderStatus::Jailed;
        }
    }

    /// Invariant 2 of docs/design.md: the stake vault holds at least stake plus unbonding. The vault
    /// may hold more, since anyone can send tokens to a token account; the surplus goes to the
    /// owner on deregistration.
    pub fn invariant(&self, vault_balance: u64) -> Result<()> {
        require!(
            vault_balance >= self.vault_liability()?,
            TesseraError::InvariantViolated
        );
        require!(
            (self.unbonding_amount == 0) == (self.unbonding_ends_at == 0),
            TesseraError::InvariantViolated
        );
        self.spec.validate(self.class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(stake: u64, unbonding_amount: u64, unbonding_ends_at: i64) -> Provider {
        Provider {
            network: Pubkey::new_unique(),
            owner: Pubkey::new_unique(),
            worker_key: Pubkey::new_unique(),
            class: ProviderClass::Edge,
            status: ProviderStatus::Active,
            spec: ProviderSpec::default(),
            stake,
            unbonding_amount,
            unbonding_ends_at,
            slashed_total: 0,
            settled_units: 0,
            service_units: 0,
            active_jobs: 0,
            jobs_completed: 0,
            lost_disputes: 0,
            open_disputes: 0,
            nonce: 0,
            registered_at: 0,
            bump: 255,
            vault_bump: 255,
            slashable_until: 0,
            no_shows: 0,
            reserved: [0; 54],
        }
    }

    #[test]
    fn invariant_requires_the_vault_to_cover_stake_and_unbonding() {
        let violated: Error = TesseraError::InvariantViolated.into();
        provider(10, 5, 100).invariant(15).unwrap();
        provider(10, 5, 100).invariant(16).unwrap();
        assert_eq!(provider(10, 5, 100).invariant(14).unwrap_err(), violated);
        assert_eq!(provider(10, 5, 0).invariant(15).unwrap_err(), violated);
        assert_eq!(provider(10, 0, 100).invariant(15).unwrap_err(), violated);
    }

    #[test]
    fn a_slash_takes_active_stake_first_then_unbonding_stake_and_jails_on_the_last_strike() {
        let mut struck = provider(30, 50, 1_000);
        let taken = struck.slash(60, 2).unwrap();
        assert_eq!(
            taken,
            Slash {
                from_stake: 30,
                from_unbonding: 30
            }
        );
        assert_eq!((struck.stake, struck.unbonding_amount), (0, 20));
        assert_eq!(struck.unbonding_ends_at, 1_000, "some stake still unbonds");
        assert_eq!((struck.slashed_total, struck.lost_disputes), (60, 1));
        assert_eq!(struck.status, ProviderStatus::Active);

        let taken = struck.slash(20, 2).unwrap();
        assert_eq!(taken.from_unbonding, 20);
        assert_eq!((struck.unbonding_amount, struck.unbonding_ends_at), (0, 0));
        assert_eq!(struck.status, ProviderStatus::Jailed);
        assert!(struck.slash(1, 2).is_err(), "nothing left to slash");
    }

    #[test]
    fn signer_seeds_derive_the_provider_address() {
        let mut owned = provider(0, 0, 0);
        let (address, bump) = Pubkey::find_program_address(
            &[Provider::SEED, owned.network.as_ref(), owned.owner.as_ref()],
            &crate::ID,
        );
        owned.bump = bump;
        let seeds = owned.signer_seeds();
        assert_eq!(
            Pubkey::create_program_address(&seeds.as_seeds(), &crate::ID).unwrap(),
            address
        );
    }
}
