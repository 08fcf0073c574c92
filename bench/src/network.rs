//! A Tessera network built from nothing on any [`Ledger`], through real transactions only: a
//! reward mint, the network, one attestor, a staked Inference provider, a client and a running
//! job between them; and Bandwidth providers with service work, for claims.

use crate::ledger::{Ledger, Unsigned};
use anyhow::{Context, Result};
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_pubkey::Pubkey;
use solana_rent::Rent;
use solana_signer::Signer;
use tessera::instructions::{CreateJobArgs, InitializeNetworkArgs, RegisterProviderArgs};
use tessera::state::{JobRequirement, Network, NetworkParams, ProviderClass, UnitKind};
use tessera_client::flows;
use tessera_client::instructions::{self as ix, MintRef};
use tessera_client::pda;
use tessera_client::receipt::{Receipt, SignedReceipt};
use tessera_tests::{default_emission, default_params, gpu_spec, DECIMALS, ONE, TOKEN};

/// Reward tokens minted into the bench's faucet before the network takes the mint authority.
const FAUCET_SUPPLY: u64 = 10_000_000 * ONE;
/// Payment tokens the client holds.
const CLIENT_SUPPLY: u64 = 1_000_000_000 * ONE;
/// SOL the client gets for the rent of its jobs, in lamports.
const CLIENT_LAMPORTS: u64 = 100_000_000_000;
/// SOL each provider owner gets for the rent of its accounts, in lamports.
const OWNER_LAMPORTS: u64 = 50_000_000;
/// Seconds a bench receipt stays valid.
const RECEIPT_LIFETIME_SECS: i64 = 600;

/// The bench's network parameters: the test suite's defaults, except that Bandwidth providers
/// need no stake, so that a provider doing service work takes one transaction to set up.
pub fn bench_params() -> NetworkParams {
    let mut params = default_params();
    params.classes[ProviderClass::Bandwidth.index()].min_stake = 0;
    params
}

/// A network on a ledger and the keys the bench holds on it. The ledger's payer is its
/// authority.
pub struct BenchNetwork {
    pub address: Pubkey,
    pub reward_mint: MintRef,
    /// The one attestor of the set (threshold 1).
    pub attestor: Keypair,
    pub attestor_set_version: u32,
    pub genesis_at: i64,
    pub epoch_length_secs: i64,
    /// Holds `FAUCET_SUPPLY` reward tokens, owned by `faucet_owner`.
    faucet: Pubkey,
    faucet_owner: Keypair,
}

/// A mint the bench creates, and who may mint it.
fn create_mint(ledger: &mut impl Ledger, authority: &Pubkey) -> Result<MintRef> {
    let mint = Keypair::new();
    let payer = ledger.payer().pubkey();
    let space = spl_token_interface::state::Mint::LEN;
    let instructions = [
        solana_system_interface::instruction::create_account(
            &payer,
            &mint.pubkey(),
            Rent::default().minimum_balance(space),
            space as u64,
            &TOKEN,
        ),
        spl_token_interface::instruction::initialize_mint2(
            &TOKEN,
            &mint.pubkey(),
            authority,
            None,
            DECIMALS,
        )
        .context("initialize_mint2")?,
    ];
    ledger.send(&instructions, &[&mint])?;
    Ok(MintRef {
        mint: mint.pubkey(),
        token_program: TOKEN,
    })
}

/// The instructions that create a token account of `owner` in `mint` at `account`.
fn token_account_instructions(
    payer: &Pubkey,
    account: &Pubkey,
    mint: MintRef,
    owner: &Pubkey,
) -> Result<Vec<Instruction>> {
    let space = spl_token_interface::state::Account::LEN;
    Ok(vec![
        solana_system_interface::instruction::create_account(
            payer,
            account,
            Rent::default().minimum_balance(space),
            space as u64,
            &mint.token_program,
        ),
        spl_token_interface::instruction::initialize_account3(
            &mint.token_program,
            account,
            &mint.mint,
            owner,
        )
        .context("initialize_account3")?,
    ])
}

/// A token account of `owner` in `mint` holding `amount`, minted by `mint_authority`.
fn funded_token_account(
    ledger: &mut impl Ledger,
    mint: MintRef,
    mint_authority: &Keypair,
    owner: &Pubkey,
    amount: u64,
) -> Result<Pubkey> {
    let account = Keypair::new();
    let payer = ledger.payer().pubkey();
    let mut instructions = token_account_instructions(&payer, &account.pubkey(), mint, owner)?;
    instructions.push(
        spl_token_interface::instruction::mint_to(
            &mint.token_program,
            &mint.mint,
            &account.pubkey(),
            &mint_authority.pubkey(),
            &[],
            amount,
        )
        .context("mint_to")?,
    );
    ledger.send(&instructions, &[&account, mint_authority])?;
    Ok(account.pubkey())
}

impl BenchNetwork {
    /// Creates network `network_id` with [`bench_params`] and a new SPL Token reward mint, and
    /// names one attestor with threshold 1.
    pub fn create(ledger: &mut impl Ledger, network_id: u64) -> Result<Self> {
        let authority = ledger.payer().insecure_clone();
        let mint_authority = Keypair::new();
        let reward_mint = create_mint(ledger, &mint_authority.pubkey())?;
        let faucet_owner = Keypair::new();
        let faucet = funded_token_account(
            ledger,
            reward_mint,
            &mint_authority,
            &faucet_owner.pubkey(),
            FAUCET_SUPPLY,
        )?;
        let initialize = ix::initialize_network(
            &authority.pubkey(),
            &mint_authority.pubkey(),
            reward_mint,
            InitializeNetworkArgs {
                network_id,
                treasury: Keypair::new().pubkey(),
                params: bench_params(),
                emission: default_emission(),
            },
        );
        ledger.send(&[initialize], &[&mint_authority])?;
        let address = pda::network(network_id);
        let attestor = Keypair::new();
        let set_attestors =
            ix::set_attestors(&authority.pubkey(), &address, vec![attestor.pubkey()], 1);
        ledger.send(&[set_attestors], &[])?;
        let state: Network = ledger.read(&address)?;
        Ok(Self {
            address,
            reward_mint,
            attestor,
            attestor_set_version: state.attestors.version,
            genesis_at: state.genesis_at,
            epoch_length_secs: state.params.epoch_length_secs,
            faucet,
            faucet_owner,
        })
    }

    /// The epoch `now` falls in.
    pub fn epoch_at(&self, now: i64) -> u64 {
        ((now - self.genesis_at) / self.epoch_length_secs) as u64
    }

    /// The instruction that sends `amount` reward tokens from the faucet to `destination`.
    fn gift(&self, destination: &Pubkey, amount: u64) -> Result<Instruction> {
        spl_token_interface::instruction::transfer_checked(
            &self.reward_mint.token_program,
            &self.faucet,
            &self.reward_mint.mint,
            destination,
            &self.faucet_owner.pubkey(),
            &[],
            amount,
            DECIMALS,
        )
        .context("transfer_checked")
    }
}

/// A provider's keys and address.
pub struct BenchProvider {
    pub owner: Keypair,
    pub worker: Keypair,
    pub address: Pubkey,
    /// Its registration nonce, which its service receipts name.
    pub nonce: u64,
}

/// Registers a provider of `class` with `gpu_spec()`, its owner funded by the payer in the
/// same transaction.
fn register_provider(
    ledger: &mut impl Ledger,
    network: &BenchNetwork,
    class: ProviderClass,
) -> Result<BenchProvider> {
    let owner = Keypair::new();
    let worker = Keypair::new();
    let fund = solana_system_interface::instruction::transfer(
        &ledger.payer().pubkey(),
        &owner.pubkey(),
        OWNER_LAMPORTS,
    );
    let register = ix::register_provider(
        &owner.pubkey(),
        &network.address,
        network.reward_mint,
        RegisterProviderArgs {
            class,
            spec: gpu_spec(),
            worker_key: worker.pubkey(),
        },
    );
    ledger.send(&[fund, register], &[&owner])?;
    let address = pda::provider(&network.address, &owner.pubkey());
    let state: tessera::state::Provider = ledger.read(&address)?;
    Ok(BenchProvider {
        owner,
        worker,
        address,
        nonce: state.nonce,
    })
}

/// `count` Bandwidth providers, one registration transaction each (they need no stake here).
pub fn service_providers(
    ledger: &mut impl Ledger,
    network: &BenchNetwork,
    count: usize,
) -> Result<Vec<BenchProvider>> {
    (0..count)
        .map(|_| register_provider(ledger, network, ProviderClass::Bandwidth))
        .collect()
}

/// The `[ed25519, settle_service]` pair for `provider`'s service up to `cumulative_units`,
/// signed by its worker and the network's attestor, issued at `now`.
pub fn service_settlement(
    ledger: &impl Ledger,
    network: &BenchNetwork,
    provider: &BenchProvider,
    cumulative_units: u64,
    now: i64,
) -> Result<Vec<Instruction>> {
    let receipt = flows::receipt_for(
        flows::Binding {
            network: network.address,
            subject: provider.address,
            subject_nonce: provider.nonce,
            provider: provider.address,
            worker_key: provider.worker.pubkey(),
            unit_kind: UnitKind::Bytes,
            attestor_set_version: network.attestor_set_version,
        },
        metered(cumulative_units, [1; 32], now),
    );
    let signed = signed_by(receipt, &[&provider.worker, &network.attestor])?;
    let epoch = network.epoch_at(now);
    Ok(flows::settle_service(ledger.payer().pubkey(), &signed, epoch).to_vec())
}

/// Settles service up to `cumulative_units` for each of `providers`, now.
pub fn settle_services(
    ledger: &mut impl Ledger,
    network: &BenchNetwork,
    providers: &[BenchProvider],
    cumulative_units: u64,
) -> Result<()> {
    for provider in providers {
        let now = ledger.now()?;
        let instructions = service_settlement(ledger, network, provider, cumulative_units, now)?;
        ledger.send(&instructions, &[])?;
    }
    Ok(())
}

/// `receipt` signed by `signers` in order (worker first).
pub fn signed_by(receipt: Receipt, signers: &[&Keypair]) -> Result<SignedReceipt> {
    let mut signed = SignedReceipt::new(receipt);
    for signer in signers {
        signed.sign(*signer).context("signing a receipt")?;
    }
    Ok(signed)
}

/// Creates the associated reward-token account (where claims pay) of each of `owners`.
pub fn create_reward_accounts(
    ledger: &mut impl Ledger,
    network: &BenchNetwork,
    owners: &[Pubkey],
) -> Result<()> {
    let payer = ledger.payer().pubkey();
    for owner in owners {
        let create = ix::create_associated_token_account(&payer, owner, network.reward_mint);
        ledger.send(&[create], &[])?;
    }
    Ok(())
}

/// Tallies the work records of `providers` in `epoch`, which is over, eight to a transaction:
/// claims wait until every record of the epoch is in its total.
pub fn tally(
    ledger: &mut impl Ledger,
    network: &BenchNetwork,
    providers: &[BenchProvider],
    epoch: u64,
) -> Result<()> {
    for some in providers.chunks(8) {
        let tallies: Vec<_> = some
            .iter()
            .map(|provider| ix::tally_work(&network.address, &provider.address, epoch))
            .collect();
        ledger.send(&tallies, &[])?;
    }
    Ok(())
}

/// The `claim_emission` of `provider`'s work in `epoch`, cranked and rent-refunded to the payer
/// (who paid for the work record when it settled the service).
pub fn claim(
    ledger: &impl Ledger,
    network: &BenchNetwork,
    provider: &BenchProvider,
    epoch: u64,
) -> Unsigned {
    let payer = ledger.payer().pubkey();
    Unsigned::by_payer(vec![ix::claim_emission(
        ix::ClaimEmissionAccounts {
            cranker: payer,
            network: network.address,
            provider: provider.address,
            provider_owner: provider.owner.pubkey(),
            rent_payer: payer,
            reward_mint: network.reward_mint,
        },
        epoch,
    )])
}

/// A running job between a staked Inference provider and a client, priced at one base unit
/// per unit so it can take many receipts.
pub struct BenchJob {
    pub provider: BenchProvider,
    pub client: Keypair,
    pub payment_mint: MintRef,
    pub client_token: Pubkey,
    /// The provider owner's account in the payment mint, where settlements pay.
    pub provider_token: Pubkey,
    pub address: Pubkey,
    pub nonce: u64,
    /// Job ids the client has used.
    next_job_id: u64,
}

impl BenchJob {
    /// Sets up the provider (registered and staked at its class minimum), the client (with a
    /// payment mint of its own), and a job for that provider, accepted.
    pub fn start(ledger: &mut impl Ledger, network: &BenchNetwork) -> Result<Self> {
        let provider = register_provider(ledger, network, ProviderClass::Inference)?;
        stake_class_minimum(ledger, network, &provider, ProviderClass::Inference)?;
        let mint_authority = Keypair::new();
        let payment_mint = create_mint(ledger, &mint_authority.pubkey())?;
        let client = Keypair::new();
        let fund = solana_system_interface::instruction::transfer(
            &ledger.payer().pubkey(),
            &client.pubkey(),
            CLIENT_LAMPORTS,
        );
        ledger.send(&[fund], &[])?;
        let mut job = Self {
            client_token: funded_token_account(
                ledger,
                payment_mint,
                &mint_authority,
                &client.pubkey(),
                CLIENT_SUPPLY,
            )?,
            provider_token: funded_token_account(
                ledger,
                payment_mint,
                &mint_authority,
                &provider.owner.pubkey(),
                0,
            )?,
            provider,
            client,
            payment_mint,
            address: Pubkey::default(),
            nonce: 0,
            next_job_id: 0,
        };
        job.open(ledger, network)?;
        Ok(job)
    }

    /// Creates the job for the provider, has the provider accept it and reads its nonce.
    fn open(&mut self, ledger: &mut impl Ledger, network: &BenchNetwork) -> Result<()> {
        self.address = pda::job(&network.address, &self.client.pubkey(), self.next_job_id);
        let now = ledger.now()?;
        let create = self.create_job(network, Some(self.provider.address), 1_000_000, now);
        ledger.send_unsigned(&create)?;
        let owner = &self.provider.owner;
        let accept = ix::accept_job(&owner.pubkey(), &network.address, &self.address);
        ledger.send(&[accept], &[owner])?;
        self.nonce = ledger.read::<tessera::state::Job>(&self.address)?.nonce;
        Ok(())
    }

    /// A `create_job` of the client with a fresh job id: `max_units` GPU-seconds at one base
    /// unit each, for `provider` or any Inference provider, accepted within an hour.
    pub fn create_job(
        &mut self,
        network: &BenchNetwork,
        provider: Option<Pubkey>,
        max_units: u64,
        now: i64,
    ) -> Unsigned {
        let job_id = self.next_job_id;
        self.next_job_id += 1;
        let args = CreateJobArgs {
            job_id,
            provider,
            requirement: JobRequirement {
                class: ProviderClass::Inference,
                min_gpu_count: 1,
                min_vram_gib: 24,
                min_bandwidth_mbps: 0,
            },
            unit_kind: UnitKind::GpuSeconds,
            price_per_unit: 1,
            max_units,
            spec_hash: [9; 32],
            accept_by: now + 3_600,
            deadline: now + 86_400,
        };
        Unsigned {
            instructions: vec![ix::create_job(
                &self.client.pubkey(),
                &network.address,
                self.payment_mint,
                &self.client_token,
                args,
            )],
            signers: vec![self.client.insecure_clone()],
        }
    }

    /// The `[ed25519, settle_receipt]` pair for `cumulative_units` on the job, signed by the
    /// worker and the client, issued at `now`.
    pub fn settlement(
        &self,
        ledger: &impl Ledger,
        network: &BenchNetwork,
        cumulative_units: u64,
        now: i64,
    ) -> Result<Unsigned> {
        let receipt = flows::receipt_for(
            flows::Binding {
                network: network.address,
                subject: self.address,
                subject_nonce: self.nonce,
                provider: self.provider.address,
                worker_key: self.provider.worker.pubkey(),
                unit_kind: UnitKind::GpuSeconds,
                attestor_set_version: network.attestor_set_version,
            },
            metered(cumulative_units, [2; 32], now),
        );
        let signed = signed_by(receipt, &[&self.provider.worker, &self.client])?;
        let payee = flows::Payee {
            payment_mint: self.payment_mint,
            provider_token: self.provider_token,
            client: self.client.pubkey(),
        };
        let epoch = network.epoch_at(now);
        let settle = flows::settle_job(ledger.payer().pubkey(), &signed, payee, epoch);
        Ok(Unsigned::by_payer(settle.to_vec()))
    }

    /// A plain SPL Token transfer of `amount` base units from the client to the provider
    /// owner: the reference the program's transactions are compared with.
    pub fn transfer(&self, amount: u64) -> Result<Unsigned> {
        let transfer = spl_token_interface::instruction::transfer_checked(
            &self.payment_mint.token_program,
            &self.client_token,
            &self.payment_mint.mint,
            &self.provider_token,
            &self.client.pubkey(),
            &[],
            amount,
            DECIMALS,
        )
        .context("transfer_checked")?;
        Ok(Unsigned {
            instructions: vec![transfer],
            signers: vec![self.client.insecure_clone()],
        })
    }
}

/// Gives `provider`'s owner its class minimum in reward tokens from the faucet and stakes it.
fn stake_class_minimum(
    ledger: &mut impl Ledger,
    network: &BenchNetwork,
    provider: &BenchProvider,
    class: ProviderClass,
) -> Result<()> {
    let amount = bench_params().classes[class.index()].min_stake;
    let account = Keypair::new();
    let payer = ledger.payer().pubkey();
    let owner = provider.owner.pubkey();
    let mut instructions =
        token_account_instructions(&payer, &account.pubkey(), network.reward_mint, &owner)?;
    instructions.push(network.gift(&account.pubkey(), amount)?);
    instructions.push(ix::stake(
        &owner,
        &network.address,
        network.reward_mint,
        &account.pubkey(),
        amount,
    ));
    ledger.send(
        &instructions,
        &[&account, &network.faucet_owner, &provider.owner],
    )
}

/// `cumulative_units` metered at `now`, the receipt valid for [`RECEIPT_LIFETIME_SECS`].
fn metered(cumulative_units: u64, result_hash: [u8; 32], now: i64) -> flows::Metered {
    flows::Metered {
        cumulative_units,
        result_hash,
        issued_at: now,
        valid_for_secs: RECEIPT_LIFETIME_SECS,
    }
}
