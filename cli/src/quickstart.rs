//! `tessera quickstart`: Tessera's main job end to end on whatever ledger the command opened
//! (the embedded one by default), through the same client library every command uses.

use crate::commands::default_unit;
use crate::commands::network::default_stake_per_job;
use crate::ledger::Ledger;
use crate::progress::Progress;
use crate::tokens::{associated_account, create_mint, format_amount, mint_to};
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::time::{Duration, Instant};
use tessera::instructions::{CreateJobArgs, InitializeNetworkArgs, RegisterProviderArgs};
use tessera::state::{
    ClassParams, EmissionSchedule, Job, JobRequirement, Network, NetworkParams, ProviderClass,
    ProviderSpec, UnitKind,
};
use tessera_client::flows;
use tessera_client::instructions::{self as ix, CloseJobAccounts, MintRef};
use tessera_client::pda;
use tessera_client::receipt::SignedReceipt;

const DECIMALS: u8 = 6;
const ONE: u64 = 1_000_000;
/// Short periods, so that the whole life of a job and an epoch fits in a minute.
const EPOCH_SECS: i64 = 20;
const WINDOW_SECS: i64 = 3;

/// One provider's line of the summary.
#[derive(Debug, Serialize)]
pub struct ProviderLine {
    pub class: String,
    pub provider: String,
    pub stake: String,
    pub units: u64,
    pub paid: String,
    pub emission: String,
}

/// What the quickstart did.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub network: String,
    pub network_id: u64,
    pub providers: Vec<ProviderLine>,
    pub treasury_fees: String,
    pub emitted: String,
    pub audit_findings: Vec<String>,
    pub seconds: f64,
}

struct Actor {
    class: ProviderClass,
    owner: Keypair,
    worker: Keypair,
    address: Pubkey,
    units: u64,
    paid: u64,
}

/// Waits until the ledger's clock reaches `timestamp`.
fn wait_until(
    ledger: &Ledger,
    network: &Pubkey,
    timestamp: i64,
    progress: &Progress,
    why: &str,
) -> Result<()> {
    progress.doing(&format!("waiting for {why}"));
    let started = Instant::now();
    loop {
        let unix = ledger.now()?;
        if unix >= timestamp {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("the ledger clock did not reach {timestamp} (at {unix}) for {why} on {network}");
        }
        std::thread::sleep(Duration::from_millis(400));
    }
}

/// Runs the scenario and returns its summary.
pub fn run(ledger: &Ledger, quiet: bool) -> Result<Summary> {
    let progress = Progress::new(9, quiet);
    let summary = scenario(ledger, &progress);
    progress.finish();
    summary
}

fn scenario(ledger: &Ledger, progress: &Progress) -> Result<Summary> {
    let started = Instant::now();
    let payer = ledger.payer.insecure_clone();
    let payer_key = payer.pubkey();
    let rent = ledger.rent_exempt(crate::tokens::MINT_LEN)?;
    let token = spl_token_2022_interface::ID;

    // A fresh network id on this ledger.
    let mut network_id = 1;
    while ledger.exists(&pda::network(network_id))? {
        network_id += 1;
    }
    let network = pda::network(network_id);
    progress.step(&format!("network {network_id} at {network}"));

    // The reward mint: an allocation minted to the payer, whose mint authority then passes to
    // the network inside initialize_network.
    let reward_mint_key = Keypair::new();
    let reward = MintRef {
        mint: reward_mint_key.pubkey(),
        token_program: spl_token_interface_id(),
    };
    let (faucet, create_faucet) = associated_account(&payer_key, &payer_key, reward);
    let mut setup = create_mint(&payer_key, reward, &payer_key, DECIMALS, rent)?;
    setup.push(create_faucet);
    setup.push(mint_to(reward, &faucet, &payer_key, 1_000_000 * ONE)?);
    ledger
        .send(&setup, &[&reward_mint_key])
        .context("creating the reward mint")?;
    let class = |min_stake, weight| ClassParams {
        min_stake,
        emission_weight_bps: weight,
        stake_per_job: default_stake_per_job(min_stake),
    };
    let args = InitializeNetworkArgs {
        network_id,
        treasury: payer_key,
        params: NetworkParams {
            epoch_length_secs: EPOCH_SECS,
            unbonding_period_secs: WINDOW_SECS,
            dispute_window_secs: WINDOW_SECS,
            receipt_max_age_secs: 600,
            protocol_fee_bps: 250,
            jail_after_lost_disputes: 3,
            classes: [
                class(1_000 * ONE, 20_000),
                class(500 * ONE, 10_000),
                class(100 * ONE, 10_000),
                class(100 * ONE, 1),
            ],
            start_timeout_secs: 600,
        },
        emission: EmissionSchedule {
            initial_per_epoch: 10_000 * ONE,
            decay_bps: 5_000,
            decay_every_epochs: 100,
            supply_cap: 100_000_000 * ONE,
        },
    };
    ledger
        .send(
            &[ix::initialize_network(&payer_key, &payer_key, reward, args)],
            &[],
        )
        .context("initialize_network")?;
    let attestors: Vec<Keypair> = (0..3).map(|_| Keypair::new()).collect();
    ledger.send(
        &[ix::set_attestors(
            &payer_key,
            &network,
            attestors.iter().map(|a| a.pubkey()).collect(),
            2,
        )],
        &[],
    )?;
    progress.step("  reward mint, network and a 2-of-3 attestor set created");

    // Providers of all four classes, funded and staked at their class minimum.
    let mut actors = Vec::new();
    for (class, stake) in [
        (ProviderClass::Training, 1_000),
        (ProviderClass::Inference, 500),
        (ProviderClass::Edge, 100),
        (ProviderClass::Bandwidth, 100),
    ] {
        let owner = Keypair::new();
        let worker = Keypair::new();
        let spec = ProviderSpec {
            gpu_count: 8,
            vram_gib: 80,
            bandwidth_mbps: 10_000,
            ..ProviderSpec::default()
        };
        let (owner_tokens, create_tokens) = associated_account(&payer_key, &owner.pubkey(), reward);
        let fund =
            solana_system_interface::instruction::transfer(&payer_key, &owner.pubkey(), 50_000_000);
        let give = spl_token_2022_interface::instruction::transfer_checked(
            &reward.token_program,
            &faucet,
            &reward.mint,
            &owner_tokens,
            &payer_key,
            &[],
            stake * ONE,
            DECIMALS,
        )?;
        let register = ix::register_provider(
            &owner.pubkey(),
            &network,
            reward,
            RegisterProviderArgs {
                class,
                spec,
                worker_key: worker.pubkey(),
            },
        );
        let stake_ix = ix::stake(
            &owner.pubkey(),
            &network,
            reward,
            &owner_tokens,
            stake * ONE,
        );
        ledger
            .send(&[fund, create_tokens, give, register, stake_ix], &[&owner])
            .with_context(|| format!("registering the {class:?} provider"))?;
        let address = pda::provider(&network, &owner.pubkey());
        actors.push(Actor {
            class,
            owner,
            worker,
            address,
            units: 0,
            paid: 0,
        });
    }
    progress.step("  4 providers registered and staked (Training, Inference, Edge, Bandwidth)");

    // Two clients: one pays in an SPL Token mint, one in a Token-2022 mint.
    let mut payment_mints = Vec::new();
    let mut clients = Vec::new();
    for token_program in [spl_token_interface_id(), token] {
        let mint_key = Keypair::new();
        let mint = MintRef {
            mint: mint_key.pubkey(),
            token_program,
        };
        let client = Keypair::new();
        let (client_tokens, create_tokens) = associated_account(&payer_key, &client.pubkey(), mint);
        let mut instructions = create_mint(&payer_key, mint, &payer_key, DECIMALS, rent)?;
        instructions.push(create_tokens);
        instructions.push(mint_to(mint, &client_tokens, &payer_key, 50_000 * ONE)?);
        instructions.push(solana_system_interface::instruction::transfer(
            &payer_key,
            &client.pubkey(),
            50_000_000,
        ));
        ledger.send(&instructions, &[&mint_key])?;
        payment_mints.push(mint);
        clients.push((client, client_tokens));
    }
    progress.step("  2 clients funded (SPL Token and Token-2022)");

    // Jobs for the three compute classes, each accepted by its provider.
    let start = ledger.now()?;
    let plans = [
        (0usize, 0usize, 2 * ONE, 3_600u64),
        (1, 1, ONE / 2, 1_800),
        (2, 0, ONE / 10, 7_200),
    ];
    let mut jobs = Vec::new();
    for (job_id, (actor, client, price, units)) in plans.iter().enumerate() {
        let (client_key, client_tokens) = &clients[*client];
        let provider = &actors[*actor];
        let mint = payment_mints[*client];
        let args = CreateJobArgs {
            job_id: job_id as u64 + 1,
            provider: Some(provider.address),
            requirement: JobRequirement {
                class: provider.class,
                min_gpu_count: 0,
                min_vram_gib: 0,
                min_bandwidth_mbps: 0,
            },
            unit_kind: default_unit(provider.class),
            price_per_unit: *price,
            max_units: *units,
            spec_hash: [job_id as u8; 32],
            accept_by: start + 600,
            deadline: start + 3_600,
        };
        let job = pda::job(&network, &client_key.pubkey(), job_id as u64 + 1);
        ledger.send(
            &[ix::create_job(
                &client_key.pubkey(),
                &network,
                mint,
                client_tokens,
                args,
            )],
            &[client_key],
        )?;
        ledger.send(
            &[ix::accept_job(&provider.owner.pubkey(), &network, &job)],
            &[&provider.owner],
        )?;
        jobs.push((job, *actor, *client, mint, *units));
    }
    progress.step("  3 jobs funded in escrow and accepted");

    // Workers meter and sign cumulative receipts; the attestor quorum (or, for training, the
    // client) co-signs; anyone submits them through the Ed25519 precompile.
    let state: Network = ledger.fetch(&network)?.context("the network is gone")?;
    for (job, actor, client, mint, max_units) in &jobs {
        let job_state: Job = ledger.fetch(job)?.context("the job is gone")?;
        let provider = &actors[*actor];
        let (owner_tokens, create) =
            associated_account(&payer_key, &provider.owner.pubkey(), *mint);
        ledger.send(&[create], &[])?;
        for cumulative in [max_units / 4, max_units / 2, max_units * 9 / 10] {
            let issued_at = ledger.now()?;
            let metered = flows::Metered {
                cumulative_units: cumulative,
                result_hash: [cumulative as u8; 32],
                issued_at,
                valid_for_secs: 300,
            };
            let network_ref = flows::NetworkRef {
                address: network,
                state: &state,
            };
            let worker = provider.worker.pubkey();
            let receipt = flows::job_receipt(network_ref, *job, &job_state, worker, metered);
            let mut signed = SignedReceipt::new(receipt);
            signed.sign(&provider.worker)?;
            if provider.class == ProviderClass::Training {
                signed.sign(&clients[*client].0)?;
            } else {
                signed.sign(&attestors[0])?;
                signed.sign(&attestors[2])?;
            }
            signed.verify()?;
            let epoch = state.epoch_at(issued_at)?;
            let payee = flows::Payee {
                payment_mint: *mint,
                provider_token: owner_tokens,
            };
            ledger
                .send(&flows::settle_job(payer_key, &signed, payee, epoch), &[])
                .context("settling a receipt")?;
        }
        ledger.send(
            &[ix::complete_job(
                &provider.owner.pubkey(),
                &network,
                job,
                [9; 32],
            )],
            &[&provider.owner],
        )?;
    }
    for (job, actor, ..) in &jobs {
        let job_state: Job = ledger.fetch(job)?.context("the job is gone")?;
        actors[*actor].units = job_state.settled_units;
        actors[*actor].paid = job_state.paid_out;
    }
    progress.step("  receipts settled: providers paid from escrow, fees kept for the treasury");

    // Bandwidth served, attested, for emissions only.
    let bandwidth = &actors[3];
    let issued_at = ledger.now()?;
    let relayed = 40_000_000;
    let provider_state: tessera::state::Provider =
        ledger.fetch(&bandwidth.address)?.context("provider gone")?;
    let metered = flows::Metered {
        cumulative_units: relayed,
        result_hash: [1; 32],
        issued_at,
        valid_for_secs: 300,
    };
    let network_ref = flows::NetworkRef {
        address: network,
        state: &state,
    };
    let receipt = flows::service_receipt(
        network_ref,
        bandwidth.address,
        &provider_state,
        UnitKind::Bytes,
        metered,
    );
    let mut signed = SignedReceipt::new(receipt);
    signed.sign(&bandwidth.worker)?;
    signed.sign(&attestors[1])?;
    signed.sign(&attestors[2])?;
    let work_epoch = state.epoch_at(issued_at)?;
    ledger.send(&flows::settle_service(payer_key, &signed, work_epoch), &[])?;
    actors[3].units = relayed;
    progress.step("  bandwidth service attested");

    // After the dispute window, anyone closes the jobs: fees to the treasury, the rest back.
    wait_until(
        ledger,
        &network,
        ledger.now()? + WINDOW_SECS + 1,
        progress,
        "the dispute window to pass",
    )?;
    let mut treasury_fees = 0;
    for (job, _, client, mint, _) in &jobs {
        let (treasury_tokens, create) = associated_account(&payer_key, &payer_key, *mint);
        let before = ledger.token_balance(&treasury_tokens)?;
        let (client_key, client_tokens) = &clients[*client];
        let close = ix::close_job(CloseJobAccounts {
            cranker: payer_key,
            network,
            job: *job,
            client: client_key.pubkey(),
            client_token: *client_tokens,
            treasury_token: Some(treasury_tokens),
            payment_mint: *mint,
        });
        ledger.send(&[create, close], &[])?;
        treasury_fees += ledger.token_balance(&treasury_tokens)? - before;
    }
    progress.step("  jobs closed: escrow refunded, fees paid to the treasury");

    // Once the epochs with work are over, anyone claims each provider's emission.
    let last_epoch = work_epoch;
    wait_until(
        ledger,
        &network,
        state.epoch_start(last_epoch + 1)?,
        progress,
        "the epoch to end",
    )?;
    let mut lines = Vec::new();
    for actor in &actors {
        let owner_tokens =
            pda::associated_token(&actor.owner.pubkey(), &reward.mint, &reward.token_program);
        let before = ledger.token_balance(&owner_tokens)?;
        for epoch in 0..=last_epoch {
            let work: Option<tessera::state::WorkRecord> =
                ledger.fetch(&pda::work_record(&actor.address, epoch))?;
            let Some(work) = work else { continue };
            let claim = flows::claim(payer_key, network, reward, actor.address, &work, epoch);
            ledger.send(&claim, &[])?;
        }
        let emission = ledger.token_balance(&owner_tokens)? - before;
        let provider: tessera::state::Provider =
            ledger.fetch(&actor.address)?.context("provider gone")?;
        lines.push(ProviderLine {
            class: format!("{:?}", actor.class),
            provider: actor.address.to_string(),
            stake: format_amount(provider.stake, DECIMALS),
            units: actor.units,
            paid: format_amount(actor.paid, DECIMALS),
            emission: format_amount(emission, DECIMALS),
        });
    }
    progress.step("  emissions claimed");

    let audit = crate::audit::run(ledger)?;
    let network_state: Network = ledger.fetch(&network)?.context("the network is gone")?;
    Ok(Summary {
        network: network.to_string(),
        network_id,
        providers: lines,
        treasury_fees: format_amount(treasury_fees, DECIMALS),
        emitted: format_amount(network_state.totals.emitted, DECIMALS),
        audit_findings: audit.findings,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn spl_token_interface_id() -> Pubkey {
    spl_token_interface::ID
}
