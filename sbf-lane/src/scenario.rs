//! One network's life on the SBF build, every instruction at least once, with the outcomes the
//! native tests assert (tests/tests/*.rs): balances, the accounts' totals and the refusals.
//!
//! The story, in ledger time: a network is created and configured; a provider registers and
//! stakes; a client's job is created and accepted; it settles three times (a receipt the
//! client co-signed, an attested one that opens the epoch's records, and an attested one into
//! the work record then open) and the provider records
//! service beside it, into the work record already open; the network's attestors become a FROST group that signs as one key, and
//! the group attests more service; the client disputes the attested work and the authority
//! slashes; the job completes. A second job is topped up and cancelled unaccepted. A day later
//! the provider's work record is tallied into the epoch's total and the emission claimed; after the dispute window the first job closes;
//! after unbonding the provider withdraws and deregisters; last, treasury and authority change
//! hands.

use crate::ledger::{SbfLedger, DECIMALS, ONE};
use anchor_lang::prelude::Pubkey;
use anyhow::{ensure, Result};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera::instructions::{
    CreateJobArgs, InitializeNetworkArgs, RegisterProviderArgs, MAX_BATCH_RECEIPTS,
};
use tessera::state::{
    Dispute, EmissionSchedule, Epoch, Job, JobRequirement, JobStatus, Network, PauseFlags,
    Provider, ProviderClass, ProviderSpec, UnitKind, WorkRecord,
};
use tessera::TesseraError;
use tessera_attest::group;
use tessera_client::flows::{self, Metered, NetworkRef, Payee};
use tessera_client::instructions::{self as ix, MintRef};
use tessera_client::pda;
use tessera_client::receipt::{Receipt, SignedBatch, SignedReceipt};

const DAY: i64 = 86_400;
/// Reward tokens minted before the network takes the mint authority.
const FAUCET_SUPPLY: u64 = 100_000_000 * ONE;
/// A job's units and price: 100 GPU-seconds at one token each.
const MAX_UNITS: u64 = 100;
/// What the authority takes from the provider's stake when it upholds the dispute.
const SLASH: u64 = 10 * ONE;

/// The cast and the accounts of one run.
pub struct Scenario {
    ledger: SbfLedger,
    token_program: Pubkey,
    authority: Keypair,
    treasury: Keypair,
    mint_authority: Keypair,
    faucet_owner: Keypair,
    attestor: Keypair,
    network: Pubkey,
    reward_mint: MintRef,
    faucet: Pubkey,
    params: tessera::state::NetworkParams,
    emission: EmissionSchedule,
    /// The attestor group's shares, once the attestors became a group.
    group_shares: Vec<group::ShareFile>,
}

/// Whether a step's costs enter the lane's tables, or it only sets the scene.
#[derive(Clone, Copy)]
enum Recorded {
    Yes,
    No,
}

/// A registered, staked provider and its reward-token account.
struct StakedProvider {
    owner: Keypair,
    worker: Keypair,
    address: Pubkey,
    reward_account: Pubkey,
}

/// A client, its job and the token accounts around it.
struct Client {
    wallet: Keypair,
    payment_mint: MintRef,
    source: Pubkey,
    job: Pubkey,
}

impl Scenario {
    /// A run on `ledger` whose mints (reward and payment) belong to `token_program`.
    pub fn new(mut ledger: SbfLedger, token_program: Pubkey) -> Self {
        Self {
            authority: ledger.key(),
            treasury: ledger.key(),
            mint_authority: ledger.key(),
            faucet_owner: ledger.key(),
            attestor: ledger.key(),
            ledger,
            token_program,
            network: pda::network(1),
            reward_mint: MintRef {
                mint: Pubkey::default(),
                token_program,
            },
            faucet: Pubkey::default(),
            params: flows::new_network_params(DECIMALS),
            emission: EmissionSchedule {
                initial_per_epoch: 10_000 * ONE,
                decay_bps: 5_000,
                decay_every_epochs: 10,
                supply_cap: 1_000_000 * ONE,
            },
            group_shares: Vec::new(),
        }
    }

    /// Runs the whole story; returns the ledger with the costs it recorded.
    pub fn run(mut self) -> Result<SbfLedger> {
        self.network_created()?;
        let provider = self.provider_registered_and_staked()?;
        let client = self.job_created_and_accepted(&provider)?;
        self.job_settled(&provider, &client)?;
        self.service_attested_by_a_group(&provider)?;
        self.work_disputed(&provider, &client)?;
        self.job_completed(&provider, &client)?;
        self.unaccepted_job_cancelled()?;
        self.ledger.advance(DAY);
        self.emission_claimed(&provider)?;
        self.ledger.advance(2 * DAY);
        self.job_closed(&client)?;
        self.ledger.advance(7 * DAY);
        self.provider_left(&provider)?;
        self.hands_changed()?;
        // Last, in an epoch of its own: the batch provider's work record stays out of the
        // claim above, which tallies the epoch's one record.
        self.batches_settled()?;
        Ok(self.ledger)
    }

    fn authority_sends(
        &mut self,
        label: &str,
        instruction: solana_instruction::Instruction,
    ) -> Result<()> {
        let authority = self.authority.insecure_clone();
        self.ledger.send(label, &[instruction], &[&authority])?;
        Ok(())
    }

    fn network_state(&self) -> Result<Network> {
        self.ledger.decode(&self.network)
    }

    fn epoch_now(&self) -> Result<u64> {
        let network = self.network_state()?;
        Ok(((self.ledger.now - network.genesis_at) / network.params.epoch_length_secs) as u64)
    }

    // ---- the network -----------------------------------------------------------------------

    fn network_created(&mut self) -> Result<()> {
        self.ledger.fund(&self.authority.pubkey())?;
        let mint_authority = self.mint_authority.insecure_clone();
        self.reward_mint = self
            .ledger
            .create_mint(self.token_program, &mint_authority.pubkey())?;
        self.faucet = self
            .ledger
            .token_account(self.reward_mint, &self.faucet_owner.pubkey())?;
        self.ledger.mint_to(
            self.reward_mint,
            &mint_authority,
            &self.faucet,
            FAUCET_SUPPLY,
        )?;

        let args = InitializeNetworkArgs {
            network_id: 1,
            treasury: self.treasury.pubkey(),
            params: self.params,
            emission: self.emission,
        };
        let authority = self.authority.insecure_clone();
        let init = ix::initialize_network(
            &authority.pubkey(),
            &mint_authority.pubkey(),
            self.reward_mint,
            args,
        );
        self.ledger.send(
            "initialize_network",
            &[init],
            &[&authority, &mint_authority],
        )?;
        let network = self.network_state()?;
        ensure!(
            network.authority == authority.pubkey() && network.reward_mint == self.reward_mint.mint
        );
        ensure!(network.genesis_supply == FAUCET_SUPPLY, "genesis supply");

        let attestors = ix::set_attestors(
            &authority.pubkey(),
            &self.network,
            vec![self.attestor.pubkey()],
            1,
        );
        self.authority_sends("set_attestors", attestors)?;
        let update = ix::update_parameters(&authority.pubkey(), &self.network, self.params);
        self.authority_sends("update_parameters", update)?;
        let paused = PauseFlags {
            new_jobs: true,
            ..PauseFlags::default()
        };
        self.authority_sends(
            "set_pause",
            ix::set_pause(&authority.pubkey(), &self.network, paused),
        )?;
        ensure!(self.network_state()?.pause.new_jobs, "new jobs paused");
        let open = PauseFlags::default();
        self.authority_sends(
            "set_pause",
            ix::set_pause(&authority.pubkey(), &self.network, open),
        )?;
        // A floor set and lifted: every job earns emission in the flows that follow.
        for floors in [[0, 1, 0, 0], [0; 4]] {
            let set = ix::set_emission_floors(&authority.pubkey(), &self.network, floors);
            self.authority_sends("set_emission_floors", set)?;
            ensure!(
                self.network_state()?.emission_price_floors == floors,
                "emission floors set"
            );
        }
        let network = self.network_state()?;
        ensure!(
            network.attestors.count == 1 && network.attestors.version == 1,
            "attestor set"
        );
        ensure!(!network.pause.new_jobs, "new jobs open again");
        Ok(())
    }

    // ---- the provider ----------------------------------------------------------------------

    fn provider_registered_and_staked(&mut self) -> Result<StakedProvider> {
        let min_stake = self.params.classes[ProviderClass::Inference.index()].min_stake;
        let staked = self.staked_provider(min_stake, Recorded::Yes)?;
        let owner = staked.owner.insecure_clone();
        let update = ix::update_provider(&owner.pubkey(), &self.network, gpu_spec(4));
        self.ledger.send("update_provider", &[update], &[&owner])?;

        let address = pda::provider(&self.network, &owner.pubkey());
        let state: Provider = self.ledger.decode(&address)?;
        ensure!(
            state.stake == min_stake && state.spec.gpu_count == 4,
            "provider after stake"
        );
        ensure!(
            self.ledger.balance(&pda::stake_vault(&address))? == min_stake,
            "stake vault"
        );
        ensure!(
            self.network_state()?.totals.staked == min_stake,
            "network staked total"
        );
        Ok(staked)
    }

    /// A new Inference provider with `gpu_spec(8)`, `stake` staked from the faucet; its
    /// instructions' costs enter the tables when `recorded` says so.
    fn staked_provider(&mut self, stake: u64, recorded: Recorded) -> Result<StakedProvider> {
        let owner = self.ledger.wallet()?;
        let worker = self.ledger.key();
        let args = RegisterProviderArgs {
            class: ProviderClass::Inference,
            spec: gpu_spec(8),
            worker_key: worker.pubkey(),
        };
        let register =
            ix::register_provider(&owner.pubkey(), &self.network, self.reward_mint, args);
        self.send(recorded, "register_provider", &[register], &[&owner])?;
        let reward_account = self
            .ledger
            .token_account(self.reward_mint, &owner.pubkey())?;
        let faucet_owner = self.faucet_owner.insecure_clone();
        self.ledger.transfer(
            self.reward_mint,
            (&self.faucet, &faucet_owner),
            &reward_account,
            stake,
        )?;
        let staking = ix::stake(
            &owner.pubkey(),
            &self.network,
            self.reward_mint,
            &reward_account,
            stake,
        );
        self.send(recorded, "stake", &[staking], &[&owner])?;
        Ok(StakedProvider {
            address: pda::provider(&self.network, &owner.pubkey()),
            owner,
            worker,
            reward_account,
        })
    }

    /// Sends `instructions` as `label`, into the tables or as a set-up step.
    fn send(
        &mut self,
        recorded: Recorded,
        label: &str,
        instructions: &[solana_instruction::Instruction],
        signers: &[&Keypair],
    ) -> Result<()> {
        match recorded {
            Recorded::Yes => self.ledger.send(label, instructions, signers).map(|_| ()),
            Recorded::No => self.ledger.set_up(label, instructions, signers),
        }
    }

    // ---- jobs ------------------------------------------------------------------------------

    fn client_with_funds(&mut self, job_id: u64) -> Result<Client> {
        let wallet = self.ledger.wallet()?;
        let mint_authority = self.ledger.key();
        let payment_mint = self
            .ledger
            .create_mint(self.token_program, &mint_authority.pubkey())?;
        let source = self.ledger.token_account(payment_mint, &wallet.pubkey())?;
        self.ledger
            .mint_to(payment_mint, &mint_authority, &source, 1_000 * ONE)?;
        let job = pda::job(&self.network, &wallet.pubkey(), job_id);
        Ok(Client {
            wallet,
            payment_mint,
            source,
            job,
        })
    }

    fn job_args(&self, job_id: u64, provider: Option<Pubkey>) -> CreateJobArgs {
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
            max_units: MAX_UNITS,
            spec_hash: [9; 32],
            accept_by: self.ledger.now + 3_600,
            deadline: self.ledger.now + DAY,
        }
    }

    fn create_job(&mut self, client: &Client, args: CreateJobArgs) -> Result<()> {
        let create = ix::create_job(
            &client.wallet.pubkey(),
            &self.network,
            client.payment_mint,
            &client.source,
            args,
        );
        self.ledger
            .send("create_job", &[create], &[&client.wallet])?;
        Ok(())
    }

    fn job_created_and_accepted(&mut self, provider: &StakedProvider) -> Result<Client> {
        let client = self.client_with_funds(1)?;
        self.create_job(&client, self.job_args(1, Some(provider.address)))?;
        let vault = pda::job_vault(&client.job);
        ensure!(
            self.ledger.balance(&vault)? == MAX_UNITS * ONE,
            "escrow holds the deposit"
        );
        ensure!(
            self.ledger.balance(&client.source)? == (1_000 - MAX_UNITS) * ONE,
            "deposit left the client"
        );

        let accept = ix::accept_job(&provider.owner.pubkey(), &self.network, &client.job);
        self.ledger
            .send("accept_job", &[accept], &[&provider.owner])?;
        let job: Job = self.ledger.decode(&client.job)?;
        ensure!(
            job.status == JobStatus::Running && job.provider == provider.address,
            "job accepted"
        );
        Ok(client)
    }

    /// The receipt `provider`'s worker issues now for `cumulative_units` on `client`'s job.
    fn job_receipt(
        &self,
        provider: &StakedProvider,
        client: &Client,
        cumulative_units: u64,
    ) -> Result<Receipt> {
        let network = self.network_state()?;
        let job: Job = self.ledger.decode(&client.job)?;
        let metered = self.metered(cumulative_units, [cumulative_units as u8; 32]);
        Ok(flows::job_receipt(
            NetworkRef {
                address: self.network,
                state: &network,
            },
            client.job,
            &job,
            provider.worker.pubkey(),
            metered,
        ))
    }

    /// The service receipt `provider`'s worker issues now for `cumulative_units` of service.
    fn service_receipt(&self, provider: &StakedProvider, cumulative_units: u64) -> Result<Receipt> {
        let network = self.network_state()?;
        let state: Provider = self.ledger.decode(&provider.address)?;
        Ok(flows::service_receipt(
            NetworkRef {
                address: self.network,
                state: &network,
            },
            provider.address,
            &state,
            UnitKind::GpuSeconds,
            self.metered(cumulative_units, [0; 32]),
        ))
    }

    fn metered(&self, cumulative_units: u64, result_hash: [u8; 32]) -> Metered {
        Metered {
            cumulative_units,
            result_hash,
            issued_at: self.ledger.now,
            valid_for_secs: 600,
        }
    }

    fn settle(&mut self, label: &str, signed: &SignedReceipt, payee: Payee) -> Result<()> {
        let epoch = self.epoch_now()?;
        let instructions = flows::settle_job(self.ledger.payer(), signed, payee, epoch);
        self.ledger.send(label, &instructions, &[])?;
        Ok(())
    }

    /// Fails unless `provider`'s work record for `epoch` holds `units` weighted units.
    fn expect_work_units(
        &self,
        provider: &StakedProvider,
        epoch: u64,
        units: u128,
        what: &str,
    ) -> Result<()> {
        let work: WorkRecord = self
            .ledger
            .decode(&pda::work_record(&provider.address, epoch))?;
        ensure!(work.units == units, "{what}, got {}", work.units);
        Ok(())
    }

    /// Where `client`'s jobs pay `provider`: a new token account of its owner in the payment
    /// mint.
    fn payee(&mut self, provider: &StakedProvider, client: &Client) -> Result<Payee> {
        let provider_token = self
            .ledger
            .token_account(client.payment_mint, &provider.owner.pubkey())?;
        Ok(Payee {
            payment_mint: client.payment_mint,
            provider_token,
            client: client.wallet.pubkey(),
        })
    }

    fn job_settled(&mut self, provider: &StakedProvider, client: &Client) -> Result<()> {
        let payee = self.payee(provider, client)?;
        let provider_token = payee.provider_token;
        let epoch = self.epoch_now()?;

        // 40 units the client co-signed: paid, 2.5% fee, no emission records.
        let receipt = self.job_receipt(provider, client, 40)?;
        let signed = signed_by(receipt, &provider.worker, &client.wallet)?;
        self.settle("settle_receipt (worker + client)", &signed, payee)?;
        ensure!(
            self.ledger.balance(&provider_token)? == 39 * ONE,
            "paid 40 units less the fee"
        );
        ensure!(
            !self.ledger.exists(&pda::epoch(&self.network, epoch)),
            "co-signed work earns no emission"
        );

        // 60 in all, attested: 20 more paid, and the epoch's records opened for them.
        let receipt = self.job_receipt(provider, client, 60)?;
        let attested = signed_by(receipt, &provider.worker, &self.attestor)?;
        self.settle(
            "settle_receipt (attested, opens epoch records)",
            &attested,
            payee,
        )?;
        ensure!(
            self.ledger.balance(&provider_token)? == 58_500_000,
            "paid 60 units less the fee"
        );
        self.expect_work_units(provider, epoch, 20, "attested units recorded")?;
        self.assert_job_balanced(&client.job)?;

        // The same receipt again is not newer than what settled.
        let instructions = flows::settle_job(self.ledger.payer(), &attested, payee, epoch);
        self.ledger.send_refused(
            "settle_receipt (replayed)",
            &instructions,
            &[],
            TesseraError::ReceiptNotNewer,
        )?;

        // 70 in all, attested: 10 more, into the work record now open; the settlement names
        // the record and not the epoch, and shares no write lock with other providers'.
        let receipt = self.job_receipt(provider, client, 70)?;
        let attested = signed_by(receipt, &provider.worker, &self.attestor)?;
        let instructions = flows::settle_job(self.ledger.payer(), &attested, payee, open(epoch));
        self.ledger
            .send("settle_receipt (attested, record open)", &instructions, &[])?;
        ensure!(
            self.ledger.balance(&provider_token)? == 68_250_000,
            "paid 70 units less the fee"
        );
        self.expect_work_units(provider, epoch, 30, "attested units recorded")?;
        self.assert_job_balanced(&client.job)?;

        // Service beside the job, attested, into the work record the job's settlement opened:
        // the settlement names the record alone, not the epoch.
        let service = self.service_receipt(provider, 25)?;
        let signed = signed_by(service, &provider.worker, &self.attestor)?;
        let instructions = flows::settle_service(self.ledger.payer(), &signed, open(epoch));
        self.ledger.send("settle_service", &instructions, &[])?;
        self.expect_work_units(provider, epoch, 55, "service units recorded")?;
        Ok(())
    }

    /// The attestors become a 2-of-3 group (`set_attestor_group`, a new set version); two
    /// members sign a service receipt as the group key, which the Ed25519 precompile checks
    /// like any key, and the program records it as attested by the set. A receipt the old set's
    /// attestor signed before the change no longer attests.
    fn service_attested_by_a_group(&mut self, provider: &StakedProvider) -> Result<()> {
        let epoch = self.epoch_now()?;
        let before = self.service_receipt(provider, 35)?;
        let stale = signed_by(before, &provider.worker, &self.attestor)?;

        let shares = group::dealer(2, 3)?;
        let group_key = shares[0].group_key()?;
        self.group_shares = shares.clone();
        let authority = self.authority.pubkey();
        let set = ix::set_attestor_group(&authority, &self.network, group_key, 2, 3);
        self.authority_sends("set_attestor_group", set)?;
        let network = self.network_state()?;
        ensure!(
            network.attestors.group_key() == Some(group_key)
                && (network.attestors.threshold, network.attestors.count) == (2, 3)
                && network.attestors.version == 2,
            "the group is the attestor set"
        );

        let instructions = flows::settle_service(self.ledger.payer(), &stale, epoch);
        self.ledger.send_refused(
            "settle_service (attested by the old set)",
            &instructions,
            &[],
            TesseraError::StaleAttestorSet,
        )?;

        let service = self.service_receipt(provider, 35)?;
        let mut signed = SignedReceipt::new(service);
        signed.sign(&provider.worker)?;
        let signature = group::sign_together(&shares[1..], &signed.receipt.to_bytes())?;
        signed.signatures.push((group_key, signature));
        let instructions = flows::settle_service(self.ledger.payer(), &signed, open(epoch));
        self.ledger
            .send("settle_service (group-attested)", &instructions, &[])?;
        self.expect_work_units(provider, epoch, 65, "group-attested service units recorded")?;
        Ok(())
    }

    /// A second provider holds one client's [`MAX_BATCH_RECEIPTS`] running jobs, all in one
    /// mint, and settles them in batches of 1 to [`MAX_BATCH_RECEIPTS`] receipts, each batch
    /// signed once by its worker and once by the attestor group: every job is paid as
    /// `settle_receipt` pays it, and each batch's bytes, signatures and compute units go to
    /// the batch table.
    fn batches_settled(&mut self) -> Result<()> {
        let most = MAX_BATCH_RECEIPTS;
        let (provider, jobs, payee) = self.jobs_for_batches(most)?;
        let epoch = self.epoch_now()?;

        // The first batch opens the provider's work record; later ones name it alone.
        let signed = self.group_signed_batch(&provider, &jobs[..1], 1)?;
        let instructions = flows::settle_batch(self.ledger.payer(), &signed, payee, epoch)?;
        self.ledger.send(
            "settle_batch (1 receipt, opens epoch records)",
            &instructions,
            &[],
        )?;
        for size in 1..=most {
            let signed = self.group_signed_batch(&provider, &jobs[..size], size as u64 + 1)?;
            let instructions =
                flows::settle_batch(self.ledger.payer(), &signed, payee, open(epoch))?;
            self.ledger.send_batch(size, &instructions)?;
        }

        // Every job ends at most + 1 units: paid less the 2.5 % fee, recorded once.
        let units = most as u64 + 1;
        for job in &jobs {
            let state: Job = self.ledger.decode(job)?;
            ensure!(state.settled_units == units, "each job settled in full");
            self.assert_job_balanced(job)?;
        }
        let paid = most as u64 * units * ONE * 9_750 / 10_000;
        ensure!(
            self.ledger.balance(&payee.provider_token)? == paid,
            "batches paid what the receipts alone would"
        );
        self.expect_work_units(
            &provider,
            epoch,
            (most as u64 * units) as u128,
            "batched units recorded",
        )
    }

    /// A provider staked for `jobs` running jobs, and as many jobs of one client in one mint,
    /// accepted; set up without entering the cost table.
    fn jobs_for_batches(&mut self, jobs: usize) -> Result<(StakedProvider, Vec<Pubkey>, Payee)> {
        let class = self.params.classes[ProviderClass::Inference.index()];
        let stake = (class.stake_per_job * jobs as u64).max(class.min_stake);
        let provider = self.staked_provider(stake, Recorded::No)?;

        let client = self.client_with_funds(100)?;
        let mut addresses = Vec::new();
        for job_id in 100..100 + jobs as u64 {
            let create = ix::create_job(
                &client.wallet.pubkey(),
                &self.network,
                client.payment_mint,
                &client.source,
                CreateJobArgs {
                    max_units: jobs as u64 + 1,
                    ..self.job_args(job_id, Some(provider.address))
                },
            );
            self.ledger
                .set_up("create a batch job", &[create], &[&client.wallet])?;
            let job = pda::job(&self.network, &client.wallet.pubkey(), job_id);
            let accept = ix::accept_job(&provider.owner.pubkey(), &self.network, &job);
            self.ledger
                .set_up("accept a batch job", &[accept], &[&provider.owner])?;
            addresses.push(job);
        }
        let payee = self.payee(&provider, &client)?;
        Ok((provider, addresses, payee))
    }

    /// Receipts for `cumulative_units` on each of `jobs`, issued now, signed together by
    /// `provider`'s worker and the attestor group.
    fn group_signed_batch(
        &self,
        provider: &StakedProvider,
        jobs: &[Pubkey],
        cumulative_units: u64,
    ) -> Result<SignedBatch> {
        let network = self.network_state()?;
        let mut receipts = Vec::new();
        for job in jobs {
            let state: Job = self.ledger.decode(job)?;
            let metered = self.metered(cumulative_units, [cumulative_units as u8; 32]);
            receipts.push(flows::job_receipt(
                NetworkRef {
                    address: self.network,
                    state: &network,
                },
                *job,
                &state,
                provider.worker.pubkey(),
                metered,
            ));
        }
        let mut signed = SignedBatch::new(receipts);
        signed.sign(&provider.worker)?;
        let group_key = self.group_shares[0].group_key()?;
        let signature = group::sign_together(&self.group_shares[1..], &signed.message())?;
        signed.signatures.push((group_key, signature));
        Ok(signed)
    }

    fn work_disputed(&mut self, provider: &StakedProvider, client: &Client) -> Result<()> {
        let open = ix::open_dispute(
            &client.wallet.pubkey(),
            &self.network,
            &client.job,
            &provider.address,
            [3; 32],
        );
        self.ledger
            .send("open_dispute", &[open], &[&client.wallet])?;
        let _dispute: Dispute = self.ledger.decode(&pda::dispute(&client.job))?;
        ensure!(
            self.ledger.decode::<Job>(&client.job)?.dispute_open,
            "dispute open on the job"
        );

        let client_reward_token = self
            .ledger
            .token_account(self.reward_mint, &client.wallet.pubkey())?;
        let stake_before = self.ledger.decode::<Provider>(&provider.address)?.stake;
        let resolve = ix::resolve_dispute(
            ix::ResolveDisputeAccounts {
                authority: self.authority.pubkey(),
                network: self.network,
                job: client.job,
                client: client.wallet.pubkey(),
                provider: provider.address,
                client_reward_token,
                reward_mint: self.reward_mint,
            },
            SLASH,
        );
        self.authority_sends("resolve_dispute (slash)", resolve)?;
        let state: Provider = self.ledger.decode(&provider.address)?;
        ensure!(
            state.stake == stake_before - SLASH && state.lost_disputes == 1,
            "provider slashed"
        );
        ensure!(
            self.ledger.balance(&client_reward_token)? == SLASH,
            "slash paid to the client"
        );
        ensure!(
            !self.ledger.decode::<Job>(&client.job)?.dispute_open,
            "dispute resolved"
        );
        ensure!(
            self.network_state()?.totals.slashed == SLASH,
            "network slashed total"
        );
        Ok(())
    }

    fn job_completed(&mut self, provider: &StakedProvider, client: &Client) -> Result<()> {
        let complete = ix::complete_job(
            &provider.owner.pubkey(),
            &self.network,
            &client.job,
            [5; 32],
        );
        self.ledger
            .send("complete_job", &[complete], &[&provider.owner])?;
        ensure!(
            self.ledger.decode::<Job>(&client.job)?.status == JobStatus::Completed,
            "job completed"
        );
        let treasury = self.treasury.pubkey();
        let create = ix::create_associated_token_account(
            &self.ledger.payer(),
            &treasury,
            client.payment_mint,
        );
        self.ledger
            .send("create the treasury's token account", &[create], &[])?;
        let close = self.close_instruction(client);
        self.ledger.send_refused(
            "close_job (too early)",
            &[close],
            &[],
            TesseraError::DisputeWindowOpen,
        )
    }

    fn unaccepted_job_cancelled(&mut self) -> Result<()> {
        let client = self.client_with_funds(2)?;
        self.create_job(&client, self.job_args(2, None))?;
        let top_up = ix::top_up(
            &client.wallet.pubkey(),
            &client.job,
            client.payment_mint,
            &client.source,
            50,
        );
        self.ledger.send("top_up", &[top_up], &[&client.wallet])?;
        ensure!(
            self.ledger.balance(&pda::job_vault(&client.job))? == (MAX_UNITS + 50) * ONE,
            "topped up"
        );

        self.ledger.advance(3_601);
        let cancel = ix::cancel_job(&client.wallet.pubkey(), &self.network, &client.job, None);
        self.ledger
            .send("cancel_job", &[cancel], &[&client.wallet])?;
        ensure!(
            self.ledger.decode::<Job>(&client.job)?.status == JobStatus::Cancelled,
            "job cancelled"
        );
        Ok(())
    }

    // ---- the epoch's emission, the close, the exit -----------------------------------------

    fn emission_claimed(&mut self, provider: &StakedProvider) -> Result<()> {
        let epoch = 0;
        let work: WorkRecord = self
            .ledger
            .decode(&pda::work_record(&provider.address, epoch))?;
        // Claims wait until every work record of the epoch is in its total.
        let tally = ix::tally_work(&self.network, &provider.address, epoch);
        self.ledger.send("tally_work", &[tally], &[])?;
        let state: Epoch = self.ledger.decode(&pda::epoch(&self.network, epoch))?;
        ensure!(
            state.emission == self.emission.emission_for_epoch(epoch),
            "epoch emission"
        );
        ensure!(
            (state.total_units, state.tallied_records, state.work_records) == (work.units, 1, 1),
            "the one work record tallied"
        );
        let [create, claim] = flows::claim(
            self.ledger.payer(),
            self.network,
            self.reward_mint,
            provider.address,
            &work,
            epoch,
        );
        self.ledger.send(
            "create the owner's associated token account",
            &[create],
            &[],
        )?;
        let supply_before = self.ledger.supply(&self.reward_mint.mint)?;
        self.ledger.send("claim_emission", &[claim], &[])?;

        let expected = (state.emission as u128 * work.units / state.total_units) as u64;
        let reward_account = pda::associated_token(
            &provider.owner.pubkey(),
            &self.reward_mint.mint,
            &self.reward_mint.token_program,
        );
        ensure!(
            self.ledger.balance(&reward_account)? == expected,
            "emission minted to the owner"
        );
        ensure!(
            self.ledger.supply(&self.reward_mint.mint)? == supply_before + expected,
            "supply grew by the claim"
        );
        ensure!(
            !self
                .ledger
                .exists(&pda::work_record(&provider.address, epoch)),
            "work record closed"
        );
        ensure!(
            self.network_state()?.totals.emitted == expected,
            "network emitted total"
        );
        Ok(())
    }

    fn close_instruction(&mut self, client: &Client) -> solana_instruction::Instruction {
        ix::close_job(ix::CloseJobAccounts {
            cranker: self.ledger.payer(),
            network: self.network,
            job: client.job,
            client: client.wallet.pubkey(),
            client_token: client.source,
            treasury_token: Some(self.treasury_token(client.payment_mint)),
            payment_mint: client.payment_mint,
        })
    }

    /// The treasury's token account in `mint`: the associated one.
    fn treasury_token(&self, mint: MintRef) -> Pubkey {
        pda::associated_token(&self.treasury.pubkey(), &mint.mint, &mint.token_program)
    }

    fn job_closed(&mut self, client: &Client) -> Result<()> {
        let close = self.close_instruction(client);
        self.ledger.send("close_job", &[close], &[])?;
        // 70 units settled of 100 deposited: 30 back, 1.75 in fees to the treasury.
        ensure!(
            self.ledger.balance(&client.source)? == (1_000 - 70) * ONE,
            "unspent escrow refunded"
        );
        ensure!(
            self.ledger
                .balance(&self.treasury_token(client.payment_mint))?
                == 1_750_000,
            "fees paid"
        );
        ensure!(!self.ledger.exists(&client.job), "job closed");
        ensure!(
            !self.ledger.exists(&pda::job_vault(&client.job)),
            "vault closed"
        );
        Ok(())
    }

    fn provider_left(&mut self, provider: &StakedProvider) -> Result<()> {
        let owner = provider.owner.insecure_clone();
        let worker = self.ledger.key();
        let rotate = ix::rotate_worker_key(&owner.pubkey(), &self.network, &worker.pubkey());
        self.ledger
            .send("rotate_worker_key", &[rotate], &[&owner])?;

        let stake = self.ledger.decode::<Provider>(&provider.address)?.stake;
        let unstake = ix::request_unstake(&owner.pubkey(), &self.network, stake);
        self.ledger.send("request_unstake", &[unstake], &[&owner])?;
        let early = ix::withdraw_unstaked(
            &owner.pubkey(),
            &self.network,
            self.reward_mint,
            &provider.reward_account,
        );
        self.ledger.send_refused(
            "withdraw_unstaked (unbonding)",
            &[early],
            &[&owner],
            TesseraError::UnbondingNotFinished,
        )?;

        self.ledger.advance(7 * DAY);
        let withdraw = ix::withdraw_unstaked(
            &owner.pubkey(),
            &self.network,
            self.reward_mint,
            &provider.reward_account,
        );
        self.ledger
            .send("withdraw_unstaked", &[withdraw], &[&owner])?;
        ensure!(
            self.ledger.balance(&provider.reward_account)? == stake,
            "unbonded stake withdrawn"
        );
        let deregister = ix::deregister(
            &owner.pubkey(),
            &self.network,
            self.reward_mint,
            &provider.reward_account,
        );
        self.ledger.send("deregister", &[deregister], &[&owner])?;
        ensure!(!self.ledger.exists(&provider.address), "provider closed");
        ensure!(
            !self.ledger.exists(&pda::stake_vault(&provider.address)),
            "stake vault closed"
        );
        Ok(())
    }

    fn hands_changed(&mut self) -> Result<()> {
        let authority = self.authority.pubkey();
        let treasury = self.ledger.key();
        self.authority_sends(
            "propose_treasury",
            ix::propose_treasury(&authority, &self.network, &treasury.pubkey()),
        )?;
        let accept = ix::accept_treasury(&treasury.pubkey(), &self.network);
        self.ledger
            .send("accept_treasury", &[accept], &[&treasury])?;
        ensure!(
            self.network_state()?.treasury == treasury.pubkey(),
            "treasury moved"
        );

        let successor = self.ledger.wallet()?;
        self.authority_sends(
            "propose_authority",
            ix::propose_authority(&authority, &self.network, &successor.pubkey()),
        )?;
        let accept = ix::accept_authority(&successor.pubkey(), &self.network);
        self.ledger
            .send("accept_authority", &[accept], &[&successor])?;
        ensure!(
            self.network_state()?.authority == successor.pubkey(),
            "authority moved"
        );
        Ok(())
    }

    /// Invariant 1 of docs/design.md for a live job, as the native fixture checks it.
    fn assert_job_balanced(&self, job: &Pubkey) -> Result<()> {
        let state: Job = self.ledger.decode(job)?;
        let vault = self.ledger.balance(&pda::job_vault(job))?;
        ensure!(
            vault == state.deposited - state.paid_out - state.fees_paid - state.refunded,
            "job vault balance"
        );
        let gross = state.settled_units * state.price_per_unit;
        ensure!(
            state.paid_out + state.fees_accrued == gross,
            "paid out and fees add up to the gross"
        );
        ensure!(
            state.fees_accrued as u128 == gross as u128 * state.fee_bps as u128 / 10_000,
            "fee"
        );
        Ok(())
    }
}

/// Epoch `index`, in which the provider's work record is open.
fn open(index: u64) -> flows::WorkEpoch {
    flows::WorkEpoch {
        index,
        record_open: true,
    }
}

/// `receipt` signed by the worker, then by `cosigner` (the client or an attestor).
fn signed_by(receipt: Receipt, worker: &Keypair, cosigner: &Keypair) -> Result<SignedReceipt> {
    let mut signed = SignedReceipt::new(receipt);
    signed.sign(worker)?;
    signed.sign(cosigner)?;
    Ok(signed)
}

/// A spec with `gpu_count` H100s that satisfies an Inference job's requirement.
fn gpu_spec(gpu_count: u16) -> ProviderSpec {
    let mut gpu_model = [0u8; 32];
    gpu_model[..13].copy_from_slice(b"H100-SXM-80GB");
    let mut region = [0u8; 8];
    region[..7].copy_from_slice(b"eu-west");
    ProviderSpec {
        gpu_model,
        gpu_count,
        vram_gib: 80,
        bandwidth_mbps: 10_000,
        region,
        metadata_hash: [7; 32],
    }
}
