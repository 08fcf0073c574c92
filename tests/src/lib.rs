//! `TestFixture`: the Tessera program running natively inside solana-program-test, beside the
//! real SPL Token and Token-2022 programs (SBF builds shipped with solana-program-test).
//!
//! Every transaction goes through [`TestFixture::send`], which first moves the bank to a new
//! slot (so identical transactions get fresh blockhashes) and pins the clock to the fixture's
//! own `now`, so tests control time exactly with [`TestFixture::advance`].

mod stubs;

use anchor_lang::prelude::AccountInfo;
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::{AccountDeserialize, AccountSerialize, Discriminator};
use solana_account::{Account, AccountSharedData};
use solana_clock::Clock;
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_program_test::{BanksClientError, ProgramTest, ProgramTestContext};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use spl_token_2022_interface::extension::ExtensionType;
use tessera::instructions::{
    CreateJobArgs, InitializeNetworkArgs, ReceiptArgs, RegisterProviderArgs,
};
use tessera::state::{
    AttestorMode, EmissionSchedule, JobRequirement, NetworkParams, ProviderClass, ProviderSpec,
    UnitKind,
};
use tessera::TesseraError;
use tessera_client::flows;
use tessera_client::instructions::{self as ix, MintRef};
use tessera_client::pda;
pub use tessera_client::receipt::{Receipt, SignedBatch, SignedReceipt, RECEIPT_DOMAIN};
use tessera_client::rules::{self, Books, Finding};

pub use anchor_lang::error::ErrorCode as AnchorErrorCode;

/// The SPL Token program.
pub const TOKEN: Pubkey = spl_token_interface::ID;
/// The Token-2022 program.
pub const TOKEN_2022: Pubkey = spl_token_2022_interface::ID;
/// Decimals of every mint the fixture makes.
pub const DECIMALS: u8 = 6;
/// One whole token in base units at `DECIMALS`.
pub const ONE: u64 = 1_000_000;
/// The clock the fixture starts at (2026-01-01T00:00:00Z).
pub const GENESIS: i64 = 1_767_225_600;
/// Reward tokens minted into the fixture's faucet before the network takes the mint authority.
pub const FAUCET_SUPPLY: u64 = 100_000_000 * ONE;
/// SOL given to each wallet the fixture makes, in lamports.
pub const WALLET_LAMPORTS: u64 = 10_000_000_000;

/// A change that spoils otherwise valid arguments, for tables of refused inputs.
pub type Spoil<A> = Box<dyn Fn(&mut A)>;

/// Result of sending a transaction.
pub type TxResult = Result<(), BanksClientError>;

/// Calls Anchor's `entry` from solana-program-test's builtin interface. Anchor wants one
/// lifetime for the program id, the accounts and the data; the runtime hands out three.
fn tessera_processor<'a, 'b, 'c, 'd>(
    program_id: &'a Pubkey,
    accounts: &'b [AccountInfo<'c>],
    data: &'d [u8],
) -> ProgramResult {
    // SAFETY: all three live for the whole builtin invocation (`invoke_builtin_function` owns
    // them until this returns); the entry point only reads them and returns before that.
    let accounts: &'c [AccountInfo<'c>] = unsafe { std::mem::transmute(accounts) };
    let program_id: &'c Pubkey = unsafe { std::mem::transmute(program_id) };
    let data: &'c [u8] = unsafe { std::mem::transmute(data) };
    tessera::entry(program_id, accounts, data)
}

/// solana-program-test logs every instruction at debug level to stderr, past the test
/// harness's capture; keep it to errors unless the caller set RUST_LOG.
fn quiet_runtime_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("RUST_LOG").is_none() {
            std::env::set_var("RUST_LOG", "error");
        }
    });
}

/// Parameters the fixture's network starts with: small numbers that make tests readable. A
/// provider at its class minimum may hold four running jobs (`stake_per_job` is a quarter of
/// the minimum) and must settle a first receipt within an hour of accepting.
pub fn default_params() -> NetworkParams {
    let mut params = tessera_client::flows::new_network_params(DECIMALS);
    // Every class weighs the same here; the emission tests set their own weights.
    for class in &mut params.classes {
        class.emission_weight_bps = 10_000;
    }
    params
}

/// An emission curve that halves every 10 epochs.
pub fn default_emission() -> EmissionSchedule {
    EmissionSchedule {
        initial_per_epoch: 10_000 * ONE,
        decay_bps: 5_000,
        decay_every_epochs: 10,
        supply_cap: 1_000_000 * ONE,
    }
}

/// A spec that satisfies every class's validation.
pub fn gpu_spec() -> ProviderSpec {
    let mut gpu_model = [0u8; 32];
    gpu_model[..13].copy_from_slice(b"H100-SXM-80GB");
    let mut region = [0u8; 8];
    region[..7].copy_from_slice(b"eu-west");
    ProviderSpec {
        gpu_model,
        gpu_count: 8,
        vram_gib: 80,
        bandwidth_mbps: 10_000,
        region,
        metadata_hash: [7; 32],
    }
}

/// A registered provider's keys.
pub struct TestProvider {
    pub owner: Keypair,
    pub worker: Keypair,
    /// The provider PDA.
    pub address: Pubkey,
    /// The owner's reward-token account.
    pub reward_account: Pubkey,
}

/// A client with a token account in some mint.
pub struct TestClient {
    pub wallet: Keypair,
    pub token_account: Pubkey,
}

/// A created job and what it was created with.
pub struct TestJob {
    pub address: Pubkey,
    pub vault: Pubkey,
    /// The client's wallet.
    pub client: Pubkey,
    pub args: CreateJobArgs,
    pub mint: MintRef,
}

/// The program in a bank of its own, with a network, its reward mint and helpers.
pub struct TestFixture {
    pub context: ProgramTestContext,
    /// The fixture's clock, unix seconds; every transaction runs at this time.
    pub now: i64,
    /// The network authority.
    pub authority: Keypair,
    /// Owner of fee accounts.
    pub treasury: Keypair,
    pub network_id: u64,
    pub network: Pubkey,
    pub reward_mint: MintRef,
    /// Holds reward tokens minted before the network took the mint authority; tests draw from it.
    faucet: Pubkey,
    faucet_owner: Keypair,
    /// Keys of mints the fixture created, by address, so it can mint to them.
    mint_authorities: Vec<(Pubkey, Keypair)>,
    /// Token accounts made by `provider_token`: (owner, mint, account).
    provider_tokens: Vec<(Pubkey, Pubkey, Pubkey)>,
    next_job_id: u64,
    sends_in_slot: u32,
    /// The attestors named by `set_attestors`, in order.
    pub attestors: Vec<Keypair>,
}

impl TestFixture {
    /// A bank with the program and the token programs, no network yet.
    pub async fn bare() -> Self {
        quiet_runtime_logs();
        let mut program_test = ProgramTest::new("tessera", tessera::ID, stubs::tessera_builtin());
        program_test.prefer_bpf(false);
        let context = program_test.start_with_context().await;
        stubs::bridge_syscalls();
        let mut fixture = Self {
            context,
            now: GENESIS,
            authority: Keypair::new(),
            treasury: Keypair::new(),
            network_id: 1,
            network: pda::network(1),
            reward_mint: MintRef {
                mint: Pubkey::default(),
                token_program: TOKEN,
            },
            faucet: Pubkey::default(),
            faucet_owner: Keypair::new(),
            mint_authorities: Vec::new(),
            provider_tokens: Vec::new(),
            next_job_id: 1,
            sends_in_slot: 0,
            attestors: Vec::new(),
        };
        let authority = fixture.authority.pubkey();
        fixture.fund(&authority).await;
        fixture.set_clock().await;
        fixture
    }

    /// A bank with network 1 created under `default_params()` and an SPL Token reward mint.
    pub async fn new() -> Self {
        let mut fixture = Self::bare().await;
        fixture.reward_mint = fixture.faucet_reward_mint(TOKEN).await;
        let result = fixture.initialize_network(fixture.initialize_args()).await;
        assert_ok(result);
        fixture
    }

    /// A reward mint for `self.network`: the fixture mints `FAUCET_SUPPLY` into its faucet, as a
    /// project that pre-minted an allocation would, and keeps the mint authority, which
    /// `initialize_network` hands to the network.
    pub async fn faucet_reward_mint(&mut self, token_program: Pubkey) -> MintRef {
        let mint = self.create_mint(token_program).await;
        let faucet_owner = self.faucet_owner.pubkey();
        self.faucet = self
            .funded_token_account(mint, &faucet_owner, FAUCET_SUPPLY)
            .await;
        mint
    }

    /// The key the fixture holds as mint authority of a mint it created.
    pub fn mint_authority_of(&self, mint: &Pubkey) -> Keypair {
        self.mint_authorities
            .iter()
            .find(|(address, _)| address == mint)
            .map(|(_, key)| key.insecure_clone())
            .expect("the fixture holds this mint's authority")
    }

    /// Sets the network's pause flags as its authority.
    pub async fn pause(&mut self, pause: tessera::state::PauseFlags) {
        let authority = self.authority.insecure_clone();
        let instruction = ix::set_pause(&authority.pubkey(), &self.network, pause);
        assert_ok(self.send(&[instruction], &[&authority]).await);
    }

    /// The faucet's reward-token account (tokens minted before genesis).
    pub fn faucet(&self) -> Pubkey {
        self.faucet
    }

    /// Arguments that create network `network_id` with the default parameters.
    pub fn initialize_args(&self) -> InitializeNetworkArgs {
        InitializeNetworkArgs {
            network_id: self.network_id,
            treasury: self.treasury.pubkey(),
            params: default_params(),
            emission: default_emission(),
        }
    }

    /// Sends `initialize_network` signed by the fixture's authority with its reward mint, whose
    /// mint authority (held by the fixture) signs the handover.
    pub async fn initialize_network(&mut self, args: InitializeNetworkArgs) -> TxResult {
        let mint_authority = self.mint_authority_of(&self.reward_mint.mint);
        self.initialize_network_signed_by(args, &mint_authority)
            .await
    }

    /// Sends `initialize_network` with `mint_authority` signing as the reward mint's authority.
    pub async fn initialize_network_signed_by(
        &mut self,
        args: InitializeNetworkArgs,
        mint_authority: &Keypair,
    ) -> TxResult {
        let authority = self.authority.insecure_clone();
        let instruction = ix::initialize_network(
            &authority.pubkey(),
            &mint_authority.pubkey(),
            self.reward_mint,
            args,
        );
        self.send(&[instruction], &[&authority, mint_authority])
            .await
    }

    // ---- transactions and time -------------------------------------------------------------

    /// Signs with the fixture's payer and `signers`, sends, and waits for the result.
    pub async fn send(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let transaction = self.next_slot_transaction(instructions, signers).await;
        self.context
            .banks_client
            .process_transaction(transaction)
            .await
    }

    /// As [`Self::send`], and the transaction's log as a cluster writes it (`Program log:`,
    /// `Program data: <base64>` for each event, ...), whether it succeeded or not.
    pub async fn send_for_logs(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> (TxResult, Vec<String>) {
        let transaction = self.next_slot_transaction(instructions, signers).await;
        let outcome = self
            .context
            .banks_client
            .process_transaction_with_metadata(transaction)
            .await
            .expect("the test bank answers");
        let logs = outcome
            .metadata
            .map(|metadata| metadata.log_messages)
            .unwrap_or_default();
        let result = match outcome.result {
            Ok(()) => Ok(()),
            Err(error) => Err(BanksClientError::TransactionError(error)),
        };
        (result, logs)
    }

    /// A transaction of `instructions` signed by the payer and `signers`, in a new slot with
    /// the fixture's clock.
    async fn next_slot_transaction(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Transaction {
        let slot = self
            .context
            .banks_client
            .get_root_slot()
            .await
            .expect("root slot");
        self.context
            .warp_to_slot(slot + 2)
            .expect("warp to the next slot");
        self.set_clock().await;
        let blockhash = self
            .context
            .banks_client
            .get_latest_blockhash()
            .await
            .expect("latest blockhash");
        self.context.last_blockhash = blockhash;
        let payer = self.context.payer.insecure_clone();
        let mut all_signers: Vec<&Keypair> = vec![&payer];
        all_signers.extend_from_slice(signers);
        Transaction::new_signed_with_payer(
            instructions,
            Some(&payer.pubkey()),
            &all_signers,
            blockhash,
        )
    }

    /// Sends without moving to a new slot first: faster, for bulk set-up where every transaction
    /// differs from every other (identical ones would be refused as already processed). Every
    /// `SENDS_PER_SLOT` sends it moves on a slot all the same: a block limits the compute that
    /// may write one account, and the runtime silently drops transactions past that limit.
    pub async fn send_in_slot(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> TxResult {
        const SENDS_PER_SLOT: u32 = 32;
        self.sends_in_slot += 1;
        if self.sends_in_slot >= SENDS_PER_SLOT {
            return self.send(instructions, signers).await;
        }
        let payer = self.context.payer.insecure_clone();
        let mut all_signers: Vec<&Keypair> = vec![&payer];
        all_signers.extend_from_slice(signers);
        let transaction = Transaction::new_signed_with_payer(
            instructions,
            Some(&payer.pubkey()),
            &all_signers,
            self.context.last_blockhash,
        );
        self.context
            .banks_client
            .process_transaction(transaction)
            .await
    }

    /// Moves the clock forward by `seconds`.
    pub async fn advance(&mut self, seconds: i64) {
        self.now += seconds;
        self.set_clock().await;
    }

    async fn set_clock(&mut self) {
        self.sends_in_slot = 0;
        let mut clock: Clock = self
            .context
            .banks_client
            .get_sysvar()
            .await
            .expect("clock sysvar");
        clock.unix_timestamp = self.now;
        self.context.set_sysvar(&clock);
    }

    // ---- wallets and tokens ----------------------------------------------------------------

    /// Gives `address` `WALLET_LAMPORTS` from the payer.
    pub async fn fund(&mut self, address: &Pubkey) {
        let payer = self.context.payer.pubkey();
        let transfer =
            solana_system_interface::instruction::transfer(&payer, address, WALLET_LAMPORTS);
        assert_ok(self.send(&[transfer], &[]).await);
    }

    /// A new keypair with SOL for fees and rent.
    pub async fn wallet(&mut self) -> Keypair {
        let wallet = Keypair::new();
        self.fund(&wallet.pubkey()).await;
        wallet
    }

    /// A new mint of `token_program` whose mint authority the fixture holds.
    pub async fn create_mint(&mut self, token_program: Pubkey) -> MintRef {
        let authority = Keypair::new();
        let mint = self
            .create_mint_with_authority(token_program, &authority.pubkey())
            .await;
        self.mint_authorities.push((mint.mint, authority));
        mint
    }

    /// A new mint of `token_program` with `DECIMALS` and the given mint authority, no freeze authority.
    pub async fn create_mint_with_authority(
        &mut self,
        token_program: Pubkey,
        authority: &Pubkey,
    ) -> MintRef {
        self.create_mint_full(token_program, authority, None, &[])
            .await
    }

    /// A new mint with a freeze authority and Token-2022 `extensions` initialized before the mint
    /// (transfer fee, metadata pointer or mint close authority; others are not supported here).
    pub async fn create_mint_full(
        &mut self,
        token_program: Pubkey,
        authority: &Pubkey,
        freeze_authority: Option<&Pubkey>,
        extensions: &[ExtensionType],
    ) -> MintRef {
        use spl_token_2022_interface::extension::{metadata_pointer, transfer_fee};
        let mint = Keypair::new();
        let payer = self.context.payer.pubkey();
        let space = if token_program == TOKEN {
            spl_token_interface::state::Mint::LEN
        } else {
            ExtensionType::try_calculate_account_len::<spl_token_2022_interface::state::Mint>(
                extensions,
            )
            .expect("mint size")
        };
        let rent = self.context.banks_client.get_rent().await.expect("rent");
        let mut instructions = vec![solana_system_interface::instruction::create_account(
            &payer,
            &mint.pubkey(),
            rent.minimum_balance(space),
            space as u64,
            &token_program,
        )];
        for extension in extensions {
            let init = match extension {
                ExtensionType::TransferFeeConfig => {
                    transfer_fee::instruction::initialize_transfer_fee_config(
                        &token_program,
                        &mint.pubkey(),
                        Some(&payer),
                        Some(&payer),
                        100,
                        u64::MAX,
                    )
                }
                ExtensionType::MetadataPointer => metadata_pointer::instruction::initialize(
                    &token_program,
                    &mint.pubkey(),
                    Some(payer),
                    Some(mint.pubkey()),
                ),
                ExtensionType::MintCloseAuthority => {
                    spl_token_2022_interface::instruction::initialize_mint_close_authority(
                        &token_program,
                        &mint.pubkey(),
                        Some(&payer),
                    )
                }
                other => panic!("the fixture cannot initialize {other:?}"),
            };
            instructions.push(init.expect("extension instruction"));
        }
        instructions.push(
            spl_token_2022_interface::instruction::initialize_mint2(
                &token_program,
                &mint.pubkey(),
                authority,
                freeze_authority,
                DECIMALS,
            )
            .expect("initialize_mint2"),
        );
        assert_ok(self.send(&instructions, &[&mint]).await);
        MintRef {
            mint: mint.pubkey(),
            token_program,
        }
    }

    /// A new token account of `mint` owned by `owner`.
    pub async fn token_account(&mut self, mint: MintRef, owner: &Pubkey) -> Pubkey {
        let account = Keypair::new();
        let payer = self.context.payer.pubkey();
        let space = self.token_account_len(mint).await;
        let rent = self.context.banks_client.get_rent().await.expect("rent");
        let instructions = [
            solana_system_interface::instruction::create_account(
                &payer,
                &account.pubkey(),
                rent.minimum_balance(space),
                space as u64,
                &mint.token_program,
            ),
            spl_token_2022_interface::instruction::initialize_account3(
                &mint.token_program,
                &account.pubkey(),
                &mint.mint,
                owner,
            )
            .expect("initialize_account3"),
        ];
        assert_ok(self.send(&instructions, &[&account]).await);
        account.pubkey()
    }

    async fn token_account_len(&mut self, mint: MintRef) -> usize {
        use spl_token_2022_interface::extension::{BaseStateWithExtensions, StateWithExtensions};
        if mint.token_program == TOKEN {
            return spl_token_interface::state::Account::LEN;
        }
        let data = self.account(&mint.mint).await.expect("mint exists").data;
        let state = StateWithExtensions::<spl_token_2022_interface::state::Mint>::unpack(&data)
            .expect("mint state");
        let required = ExtensionType::get_required_init_account_extensions(
            &state.get_extension_types().expect("mint extensions"),
        );
        ExtensionType::try_calculate_account_len::<spl_token_2022_interface::state::Account>(
            &required,
        )
        .expect("account size")
    }

    /// Mints `amount` base units of a fixture-made mint into `destination`.
    pub async fn mint_to(&mut self, mint: MintRef, destination: &Pubkey, amount: u64) {
        let authority = self.mint_authority_of(&mint.mint);
        let instruction = spl_token_2022_interface::instruction::mint_to(
            &mint.token_program,
            &mint.mint,
            destination,
            &authority.pubkey(),
            &[],
            amount,
        )
        .expect("mint_to");
        assert_ok(self.send(&[instruction], &[&authority]).await);
    }

    /// A token account of `owner` in a fixture-made `mint` holding `amount`.
    pub async fn funded_token_account(
        &mut self,
        mint: MintRef,
        owner: &Pubkey,
        amount: u64,
    ) -> Pubkey {
        let account = self.token_account(mint, owner).await;
        if amount > 0 {
            self.mint_to(mint, &account, amount).await;
        }
        account
    }

    /// A new reward-token account of `owner` holding `amount`, drawn from the faucet.
    pub async fn reward_tokens(&mut self, owner: &Pubkey, amount: u64) -> Pubkey {
        let mint = self.reward_mint;
        let account = self.token_account(mint, owner).await;
        if amount > 0 {
            self.gift_reward_tokens(&account, amount).await;
        }
        account
    }

    // ---- reading accounts ------------------------------------------------------------------

    /// The raw account at `address`, if it exists.
    pub async fn account(&mut self, address: &Pubkey) -> Option<Account> {
        self.context
            .banks_client
            .get_account(*address)
            .await
            .expect("get_account")
    }

    /// Decodes a Tessera account (checking its discriminator).
    pub async fn decode<T: AccountDeserialize + Discriminator>(&mut self, address: &Pubkey) -> T {
        let account = self
            .account(address)
            .await
            .unwrap_or_else(|| panic!("no account at {address}"));
        assert_eq!(
            account.owner,
            tessera::ID,
            "{address} is not owned by Tessera"
        );
        T::try_deserialize(&mut account.data.as_slice()).expect("decodes")
    }

    /// Rewrites a Tessera account in place, to put it in a state the tests cannot yet reach
    /// through instructions (for example a jailed provider before disputes exist).
    pub async fn mutate<T>(&mut self, address: &Pubkey, change: impl FnOnce(&mut T))
    where
        T: AccountDeserialize + AccountSerialize + Discriminator,
    {
        let mut account = self.account(address).await.expect("account to mutate");
        let mut state = T::try_deserialize(&mut account.data.as_slice()).expect("decodes");
        change(&mut state);
        let mut data = Vec::new();
        state.try_serialize(&mut data).expect("encodes");
        account.data[..data.len()].copy_from_slice(&data);
        self.context
            .set_account(address, &AccountSharedData::from(account));
    }

    /// Sends `amount` reward tokens from the faucet to any token account (a third party's gift).
    pub async fn gift_reward_tokens(&mut self, destination: &Pubkey, amount: u64) {
        let mint = self.reward_mint;
        let faucet_owner = self.faucet_owner.insecure_clone();
        let transfer = spl_token_2022_interface::instruction::transfer_checked(
            &mint.token_program,
            &self.faucet,
            &mint.mint,
            destination,
            &faucet_owner.pubkey(),
            &[],
            amount,
            DECIMALS,
        )
        .expect("transfer_checked");
        assert_ok(self.send(&[transfer], &[&faucet_owner]).await);
    }

    /// The token balance of a token account, in base units.
    pub async fn balance(&mut self, token_account: &Pubkey) -> u64 {
        use spl_token_2022_interface::extension::StateWithExtensions;
        let account = self
            .account(token_account)
            .await
            .unwrap_or_else(|| panic!("no token account at {token_account}"));
        StateWithExtensions::<spl_token_2022_interface::state::Account>::unpack(&account.data)
            .expect("token account")
            .base
            .amount
    }

    /// Lamports held by `address` (0 when it does not exist).
    pub async fn lamports(&mut self, address: &Pubkey) -> u64 {
        self.account(address)
            .await
            .map_or(0, |account| account.lamports)
    }

    /// The network account.
    pub async fn network_account(&mut self) -> tessera::state::Network {
        let network = self.network;
        self.decode(&network).await
    }

    // ---- scenario helpers ------------------------------------------------------------------

    /// Registers a new provider of `class` with `gpu_spec()`, funded with `reward_tokens` reward tokens (unstaked).
    pub async fn provider(&mut self, class: ProviderClass, reward_tokens: u64) -> TestProvider {
        let owner = self.wallet().await;
        let worker = Keypair::new();
        let args = RegisterProviderArgs {
            class,
            spec: gpu_spec(),
            worker_key: worker.pubkey(),
        };
        let instruction =
            ix::register_provider(&owner.pubkey(), &self.network, self.reward_mint, args);
        assert_ok(self.send(&[instruction], &[&owner]).await);
        let reward_account = self.reward_tokens(&owner.pubkey(), reward_tokens).await;
        let address = pda::provider(&self.network, &owner.pubkey());
        TestProvider {
            owner,
            worker,
            address,
            reward_account,
        }
    }

    /// A provider of `class` with exactly its class minimum staked.
    pub async fn staked_provider(&mut self, class: ProviderClass) -> TestProvider {
        let min_stake = default_params().classes[class.index()].min_stake;
        let provider = self.provider(class, min_stake).await;
        let instruction = ix::stake(
            &provider.owner.pubkey(),
            &self.network,
            self.reward_mint,
            &provider.reward_account,
            min_stake,
        );
        assert_ok(self.send(&[instruction], &[&provider.owner]).await);
        provider
    }

    /// A client wallet holding `amount` of `mint`.
    pub async fn client(&mut self, mint: MintRef, amount: u64) -> TestClient {
        let wallet = self.wallet().await;
        let token_account = self
            .funded_token_account(mint, &wallet.pubkey(), amount)
            .await;
        TestClient {
            wallet,
            token_account,
        }
    }

    /// Job arguments with a fresh job id: 100 units at 1 token each, accept within an hour,
    /// a deadline in a day, open to any Inference provider with at least one GPU.
    pub fn job_args(&mut self, provider: Option<Pubkey>) -> CreateJobArgs {
        let job_id = self.next_job_id;
        self.next_job_id += 1;
        CreateJobArgs {
            job_id,
            provider,
            requirement: JobRequirement {
                class: ProviderClass::Inference,
                min_gpu_count: 1,
                min_vram_gib: 24,
                min_bandwidth_mbps: 0,
            },
            unit_kind: UnitKind::GpuSeconds,
            price_per_unit: ONE,
            max_units: 100,
            spec_hash: [9; 32],
            accept_by: self.now + 3_600,
            deadline: self.now + 86_400,
        }
    }

    /// Sends `create_job` for `client` with `args` in `mint`.
    pub async fn create_job(
        &mut self,
        client: &TestClient,
        mint: MintRef,
        args: CreateJobArgs,
    ) -> (TxResult, TestJob) {
        let address = pda::job(&self.network, &client.wallet.pubkey(), args.job_id);
        let instruction = ix::create_job(
            &client.wallet.pubkey(),
            &self.network,
            mint,
            &client.token_account,
            args.clone(),
        );
        let result = self.send(&[instruction], &[&client.wallet]).await;
        let job = TestJob {
            address,
            vault: pda::job_vault(&address),
            client: client.wallet.pubkey(),
            args,
            mint,
        };
        (result, job)
    }

    // ---- one instruction each, signed by whoever may send it ------------------------------

    /// `accept_job` by `provider`'s owner.
    pub async fn accept(&mut self, provider: &TestProvider, job: &TestJob) -> TxResult {
        let instruction = ix::accept_job(&provider.owner.pubkey(), &self.network, &job.address);
        self.send(&[instruction], &[&provider.owner]).await
    }

    /// `complete_job` by `provider`'s owner, with a fixed result hash.
    pub async fn complete(&mut self, provider: &TestProvider, job: &TestJob) -> TxResult {
        let instruction = ix::complete_job(
            &provider.owner.pubkey(),
            &self.network,
            &job.address,
            [5; 32],
        );
        self.send(&[instruction], &[&provider.owner]).await
    }

    /// `cancel_job` by `client`, naming `provider` once one accepted.
    pub async fn cancel(
        &mut self,
        client: &TestClient,
        job: &TestJob,
        provider: Option<&TestProvider>,
    ) -> TxResult {
        let instruction = ix::cancel_job(
            &client.wallet.pubkey(),
            &self.network,
            &job.address,
            provider.map(|provider| provider.address),
        );
        self.send(&[instruction], &[&client.wallet]).await
    }

    /// A client funded with `funds` of a new SPL Token mint, and its job of `max_units` at the
    /// fixture's default price, accepted by a new staked Inference provider.
    pub async fn accepted_job(
        &mut self,
        funds: u64,
        max_units: u64,
    ) -> (TestClient, TestProvider, TestJob) {
        let mint = self.create_mint(TOKEN).await;
        let client = self.client(mint, funds).await;
        let provider = self.staked_provider(ProviderClass::Inference).await;
        let mut args = self.job_args(Some(provider.address));
        args.max_units = max_units;
        let (result, job) = self.create_job(&client, mint, args).await;
        assert_ok(result);
        assert_ok(self.accept(&provider, &job).await);
        (client, provider, job)
    }

    /// `request_unstake` of `amount` by `provider`'s owner.
    pub async fn request_unstake(&mut self, provider: &TestProvider, amount: u64) -> TxResult {
        let instruction = ix::request_unstake(&provider.owner.pubkey(), &self.network, amount);
        self.send(&[instruction], &[&provider.owner]).await
    }

    /// `withdraw_unstaked` by `provider`'s owner into its reward-token account.
    pub async fn withdraw(&mut self, provider: &TestProvider) -> TxResult {
        self.move_stake_out(ix::withdraw_unstaked, provider).await
    }

    /// `deregister` by `provider`'s owner, surplus to its reward-token account.
    pub async fn deregister(&mut self, provider: &TestProvider) -> TxResult {
        self.move_stake_out(ix::deregister, provider).await
    }

    /// Sends `builder`'s instruction (`withdraw_unstaked` or `deregister`), signed by
    /// `provider`'s owner, with its reward-token account as the destination.
    async fn move_stake_out(
        &mut self,
        builder: fn(&Pubkey, &Pubkey, MintRef, &Pubkey) -> Instruction,
        provider: &TestProvider,
    ) -> TxResult {
        let owner = provider.owner.pubkey();
        let instruction = builder(
            &owner,
            &self.network,
            self.reward_mint,
            &provider.reward_account,
        );
        self.send(&[instruction], &[&provider.owner]).await
    }

    /// `update_parameters` by the authority, with `change` applied to the current parameters.
    pub async fn change_params(&mut self, change: impl FnOnce(&mut NetworkParams)) -> TxResult {
        let mut params = self.network_account().await.params;
        change(&mut params);
        let authority = self.authority.insecure_clone();
        let instruction = ix::update_parameters(&authority.pubkey(), &self.network, params);
        self.send(&[instruction], &[&authority]).await
    }

    // ---- receipts and settlement ----------------------------------------------------------

    /// `receipt` signed by `provider`'s worker and the first `threshold` attestors of the
    /// current set (or its group key): attested work, which earns emissions and which the
    /// client may dispute.
    pub async fn attested(&mut self, receipt: Receipt, provider: &TestProvider) -> SignedReceipt {
        let set = self.network_account().await.attestors;
        let threshold = match set.mode {
            AttestorMode::Keys => set.threshold as usize,
            AttestorMode::Group => 1,
        };
        let attestors: Vec<Keypair> = self.attestors[..threshold]
            .iter()
            .map(|key| key.insecure_clone())
            .collect();
        let cosigners: Vec<&Keypair> = attestors.iter().collect();
        Self::sign(receipt, &provider.worker, &cosigners)
    }

    /// Names `count` new attestors with `threshold` and keeps their keys.
    pub async fn set_attestors(&mut self, count: usize, threshold: u8) {
        self.attestors = (0..count).map(|_| Keypair::new()).collect();
        let keys = self.attestors.iter().map(|key| key.pubkey()).collect();
        let authority = self.authority.insecure_clone();
        let instruction = ix::set_attestors(&authority.pubkey(), &self.network, keys, threshold);
        assert_ok(self.send(&[instruction], &[&authority]).await);
    }

    /// Names a new group key for `members` attestors with `threshold` and keeps it as the only
    /// attestor: a plain keypair stands in for the FROST group key, since the Ed25519 program
    /// cannot tell their signatures apart.
    pub async fn set_attestor_group(&mut self, threshold: u8, members: u8) {
        let group = Keypair::new();
        let authority = self.authority.insecure_clone();
        let instruction = ix::set_attestor_group(
            &authority.pubkey(),
            &self.network,
            group.pubkey(),
            threshold,
            members,
        );
        assert_ok(self.send(&[instruction], &[&authority]).await);
        self.attestors = vec![group];
    }

    /// The epoch of the fixture's clock.
    pub async fn current_epoch(&mut self) -> u64 {
        let network = self.network_account().await;
        ((self.now - network.genesis_at) / network.params.epoch_length_secs) as u64
    }

    /// An unsigned receipt for `cumulative_units` on `job` by `provider`, issued now, valid for
    /// ten minutes, under the current attestor set.
    pub async fn receipt(
        &mut self,
        job: &TestJob,
        provider: &TestProvider,
        cumulative_units: u64,
    ) -> Receipt {
        let network = self.network_account().await;
        let state = self.decode::<tessera::state::Job>(&job.address).await;
        let metered = self.metered(cumulative_units, [cumulative_units as u8; 32]);
        flows::job_receipt(
            self.network_ref(&network),
            job.address,
            &state,
            provider.worker.pubkey(),
            metered,
        )
    }

    /// `receipt` signed by the worker and `cosigners`, in that order.
    pub fn sign(receipt: Receipt, worker: &Keypair, cosigners: &[&Keypair]) -> SignedReceipt {
        let mut signed = SignedReceipt::new(receipt);
        signed.sign(worker).expect("worker signs");
        for cosigner in cosigners {
            signed.sign(*cosigner).expect("cosigner signs");
        }
        signed
    }

    /// `receipts` signed together, as one batch, by `worker` and `cosigners`, in that order.
    pub fn sign_batch(
        receipts: Vec<Receipt>,
        worker: &Keypair,
        cosigners: &[&Keypair],
    ) -> SignedBatch {
        let mut signed = SignedBatch::new(receipts);
        signed.sign(worker).expect("worker signs");
        for cosigner in cosigners {
            signed.sign(*cosigner).expect("cosigner signs");
        }
        signed
    }

    /// The `[ed25519, settle_batch]` pair for `signed` on the jobs its receipts name, all
    /// paying in `jobs[0]`'s mint, in the current epoch; a batch that `jobs[0]`'s client alone
    /// co-signed names no epoch accounts, as the CLI's does.
    pub async fn settle_batch_instructions(
        &mut self,
        jobs: &[&TestJob],
        provider: &TestProvider,
        signed: &SignedBatch,
    ) -> Vec<Instruction> {
        let provider_token = self.provider_token(provider, jobs[0].mint).await;
        let payee = flows::Payee {
            payment_mint: jobs[0].mint,
            provider_token,
            client: jobs[0].client,
        };
        let index = self.current_epoch().await;
        let epoch = flows::WorkEpoch {
            index,
            record_open: self.record_open(provider, index).await,
        };
        let submitter = self.context.payer.pubkey();
        flows::settle_batch(submitter, signed, payee, epoch)
            .expect("a batch of at least one receipt")
            .to_vec()
    }

    /// The provider owner's token account in `mint`, created on first use.
    pub async fn provider_token(&mut self, provider: &TestProvider, mint: MintRef) -> Pubkey {
        if let Some(account) = self
            .provider_tokens
            .iter()
            .find(|(owner, m, _)| *owner == provider.owner.pubkey() && *m == mint.mint)
        {
            return account.2;
        }
        let account = self.token_account(mint, &provider.owner.pubkey()).await;
        self.provider_tokens
            .push((provider.owner.pubkey(), mint.mint, account));
        account
    }

    /// The `[ed25519, settle_receipt]` pair for `signed` on `job`, with `args` as sent; an
    /// attested one names the epoch only while the provider's work record for `args.epoch`
    /// does not exist, as the CLI's does.
    pub async fn settle_instructions(
        &mut self,
        job: &TestJob,
        provider: &TestProvider,
        signed: &SignedReceipt,
        args: ReceiptArgs,
    ) -> Vec<Instruction> {
        let provider_token = self.provider_token(provider, job.mint).await;
        let payee = flows::Payee {
            payment_mint: job.mint,
            provider_token,
            client: job.client,
        };
        let on = flows::SettleOn {
            network: self.network,
            job: job.address,
            provider: provider.address,
            record_open: self.record_open(provider, args.epoch).await,
        };
        let submitter = self.context.payer.pubkey();
        flows::settle_job_with(submitter, signed, on, payee, args).to_vec()
    }

    /// The instructions that settle `signed` on `job` with the arguments that describe it, in
    /// the current epoch (for tests that tamper with them before sending).
    pub async fn settle_now_instructions(
        &mut self,
        job: &TestJob,
        provider: &TestProvider,
        signed: &SignedReceipt,
    ) -> Vec<Instruction> {
        let epoch = self.current_epoch().await;
        let args = ix::receipt_args(&signed.receipt, epoch);
        self.settle_instructions(job, provider, signed, args).await
    }

    /// Settles `signed` on `job` with the arguments that describe it, in the current epoch.
    pub async fn settle(
        &mut self,
        job: &TestJob,
        provider: &TestProvider,
        signed: &SignedReceipt,
    ) -> TxResult {
        let instructions = self.settle_now_instructions(job, provider, signed).await;
        self.send(&instructions, &[]).await
    }

    /// A service receipt of `provider` for `cumulative_units`, issued now under the current set.
    pub async fn service_receipt(
        &mut self,
        provider: &TestProvider,
        cumulative_units: u64,
    ) -> Receipt {
        let network = self.network_account().await;
        let state = self
            .decode::<tessera::state::Provider>(&provider.address)
            .await;
        let metered = self.metered(cumulative_units, [0; 32]);
        flows::service_receipt(
            self.network_ref(&network),
            provider.address,
            &state,
            service_unit_kind(state.class),
            metered,
        )
    }

    /// `cumulative_units` metered up to now, the receipt valid for ten minutes.
    fn metered(&self, cumulative_units: u64, result_hash: [u8; 32]) -> flows::Metered {
        flows::Metered {
            cumulative_units,
            result_hash,
            issued_at: self.now,
            valid_for_secs: 600,
        }
    }

    /// The fixture's network, with the state just read.
    fn network_ref<'a>(&self, state: &'a tessera::state::Network) -> flows::NetworkRef<'a> {
        flows::NetworkRef {
            address: self.network,
            state,
        }
    }

    /// The `[ed25519, settle_service]` pair for `provider`'s service up to `cumulative_units`,
    /// signed by its worker and the first `threshold` attestors.
    pub async fn service_instructions(
        &mut self,
        provider: &TestProvider,
        cumulative_units: u64,
    ) -> Vec<Instruction> {
        let receipt = self.service_receipt(provider, cumulative_units).await;
        let signed = self.attested(receipt, provider).await;
        let index = self.current_epoch().await;
        let epoch = flows::WorkEpoch {
            index,
            record_open: self.record_open(provider, index).await,
        };
        flows::settle_service(self.context.payer.pubkey(), &signed, epoch).to_vec()
    }

    /// Whether `provider`'s work record for `epoch` exists (lamports sent to its address do
    /// not make it one).
    pub async fn record_open(&mut self, provider: &TestProvider, epoch: u64) -> bool {
        let record = pda::work_record(&provider.address, epoch);
        self.account(&record)
            .await
            .is_some_and(|account| account.owner == tessera::ID)
    }

    /// Tallies the work records `providers` (provider accounts) hold in `epoch`, those that
    /// exist and are not in the epoch's total yet, so that claims on the epoch may follow; the
    /// epoch must be over.
    pub async fn tally(&mut self, providers: &[Pubkey], epoch: u64) {
        for provider in providers {
            let record = pda::work_record(provider, epoch);
            if self.account(&record).await.is_none() {
                continue;
            }
            let work: tessera::state::WorkRecord = self.decode(&record).await;
            if !work.tallied {
                let tally = ix::tally_work(&self.network, provider, epoch);
                assert_ok(self.send(&[tally], &[]).await);
            }
        }
    }

    /// The `claim_emission` instruction for `provider` in `epoch`, creating the owner's
    /// associated reward-token account first if needed; returns it and that account.
    pub async fn claim_instruction(
        &mut self,
        provider: &TestProvider,
        epoch: u64,
    ) -> (Instruction, Pubkey) {
        let owner = provider.owner.pubkey();
        let payer = self.context.payer.pubkey();
        let work: tessera::state::WorkRecord = self
            .decode(&pda::work_record(&provider.address, epoch))
            .await;
        let [create, claim] = flows::claim(
            payer,
            self.network,
            self.reward_mint,
            provider.address,
            &work,
            epoch,
        );
        assert_ok(self.send(&[create], &[]).await);
        let reward_account = pda::associated_token(
            &owner,
            &self.reward_mint.mint,
            &self.reward_mint.token_program,
        );
        (claim, reward_account)
    }

    /// The reward mint's supply, in base units.
    pub async fn reward_supply(&mut self) -> u64 {
        use spl_token_2022_interface::extension::StateWithExtensions;
        let mint = self.reward_mint.mint;
        let account = self.account(&mint).await.expect("reward mint");
        StateWithExtensions::<spl_token_2022_interface::state::Mint>::unpack(&account.data)
            .expect("mint")
            .base
            .supply
    }

    /// Checks a live job with the rules `tessera audit` applies (`tessera_client::rules::job`,
    /// invariant 1 of docs/design.md and the job's own economic rules): nothing found, not even
    /// a surplus, since the tests send nothing to a vault unannounced.
    pub async fn assert_job_balanced(&mut self, job: &TestJob) {
        let state: tessera::state::Job = self.decode(&job.address).await;
        let vault = self.balance(&job.vault).await;
        assert_nothing_found(&rules::job(&job.address, &state, vault), "job");
    }

    /// Checks a live provider with the rules `tessera audit` applies
    /// (`tessera_client::rules::provider`, invariant 2 of docs/design.md): nothing found.
    pub async fn assert_provider_balanced(&mut self, provider: &Pubkey) {
        let state: tessera::state::Provider = self.decode(provider).await;
        let vault = self.balance(&pda::stake_vault(provider)).await;
        assert_nothing_found(&rules::provider(provider, &state, vault), "provider");
    }

    /// The fixture network's books as the rules read them: the network, the given jobs and
    /// providers (every live one, for the cross-account sums to mean anything), the epochs
    /// named, their work records and disputes, the vaults' balances, the reward supply and the
    /// clock.
    pub async fn books(&mut self, jobs: &[Pubkey], providers: &[Pubkey], epochs: &[u64]) -> Books {
        let network = self.network;
        let mut books = Books {
            now: self.now,
            ..Books::default()
        };
        let state = self.network_account().await;
        books
            .supplies
            .insert(state.reward_mint, self.reward_supply().await);
        books.networks.insert(network, state);
        for job in jobs {
            let state: tessera::state::Job = self.decode(job).await;
            let dispute = pda::dispute(job);
            if self.account(&dispute).await.is_some() {
                let opened: tessera::state::Dispute = self.decode(&dispute).await;
                books.disputes.insert(dispute, opened);
            }
            books
                .balances
                .insert(state.vault, self.balance(&state.vault).await);
            books.jobs.insert(*job, state);
        }
        for provider in providers {
            let state: tessera::state::Provider = self.decode(provider).await;
            let vault = pda::stake_vault(provider);
            books.balances.insert(vault, self.balance(&vault).await);
            books.providers.insert(*provider, state);
            for epoch in epochs {
                let record = pda::work_record(provider, *epoch);
                if self.account(&record).await.is_some() {
                    let work: tessera::state::WorkRecord = self.decode(&record).await;
                    books.work_records.insert(record, work);
                }
            }
        }
        for epoch in epochs {
            let address = pda::epoch(&network, *epoch);
            let state: tessera::state::Epoch = self.decode(&address).await;
            books.epochs.insert(address, state);
        }
        books
    }
}

/// Panics with every finding, one per line, unless there is none.
#[track_caller]
pub fn assert_nothing_found(found: &[Finding], context: &str) {
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(
        found.is_empty(),
        "{context}: the rules found\n  {}",
        lines.join("\n  ")
    );
}

/// The unit kind the fixture's service receipts count for a provider of `class`.
pub fn service_unit_kind(class: ProviderClass) -> UnitKind {
    match class {
        ProviderClass::Training | ProviderClass::Inference => UnitKind::GpuSeconds,
        ProviderClass::Edge => UnitKind::CpuSeconds,
        ProviderClass::Bandwidth => UnitKind::Bytes,
    }
}

/// Replaces every use of account `from` in `instruction` with `to`: the tool of the tests that
/// hand the program an account it must refuse.
pub fn swap_account(instruction: &mut Instruction, from: &Pubkey, to: &Pubkey) {
    let mut found = false;
    for meta in instruction
        .accounts
        .iter_mut()
        .filter(|meta| meta.pubkey == *from)
    {
        meta.pubkey = *to;
        found = true;
    }
    assert!(found, "{from} is not an account of this instruction");
}

/// Points an instruction a `stranger` built for its own provider at `victim`'s provider and
/// stake vault instead: the impersonation the owner checks must refuse.
pub fn impersonate(
    instruction: &mut Instruction,
    network: &Pubkey,
    stranger: &Pubkey,
    victim: &Pubkey,
) {
    let own = pda::provider(network, stranger);
    swap_account(instruction, &own, victim);
    if instruction
        .accounts
        .iter()
        .any(|meta| meta.pubkey == pda::stake_vault(&own))
    {
        swap_account(
            instruction,
            &pda::stake_vault(&own),
            &pda::stake_vault(victim),
        );
    }
}

/// Panics with the transaction error unless `result` succeeded.
#[track_caller]
pub fn assert_ok(result: TxResult) {
    if let Err(error) = result {
        panic!("transaction failed: {error:?}");
    }
}

/// The custom error code a failed transaction returned, if it returned one.
pub fn custom_code(result: &TxResult) -> Option<u32> {
    match result {
        Err(BanksClientError::TransactionError(TransactionError::InstructionError(
            _,
            InstructionError::Custom(code),
        )))
        | Err(BanksClientError::SimulationError {
            err: TransactionError::InstructionError(_, InstructionError::Custom(code)),
            ..
        }) => Some(*code),
        _ => None,
    }
}

/// Asserts that `result` failed with Tessera's `expected` error.
#[track_caller]
pub fn assert_err(result: TxResult, expected: TesseraError) {
    let expected_code = anchor_lang::error::ERROR_CODE_OFFSET + expected as u32;
    assert_eq!(
        custom_code(&result),
        Some(expected_code),
        "expected TesseraError::{expected:?} ({expected_code}), got {result:?}"
    );
}

/// Asserts that `result` failed with one of Anchor's own errors (account constraints).
#[track_caller]
pub fn assert_anchor_err(result: TxResult, expected: AnchorErrorCode) {
    let expected_code = expected as u32;
    assert_eq!(
        custom_code(&result),
        Some(expected_code),
        "expected anchor ErrorCode::{expected:?} ({expected_code}), got {result:?}"
    );
}

/// Asserts that `result` failed, with any error; for failures raised outside Tessera (the token
/// program, the runtime), where the test names the cause in `why`.
#[track_caller]
pub fn assert_failed(result: TxResult, why: &str) {
    assert!(
        result.is_err(),
        "expected failure ({why}), but it succeeded"
    );
}
