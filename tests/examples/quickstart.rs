//! Tessera's main job, end to end, on an embedded in-process ledger (the program natively in a
//! solana-program-test bank beside the real SPL Token and Token-2022 programs): a network and
//! its reward mint, providers of all four classes, staked; clients funding jobs in an SPL Token
//! and a Token-2022 mint; workers' receipts co-signed by clients or attested by a 2-of-3 quorum,
//! settled through the Ed25519 precompile; bandwidth service attested; jobs closed (fees to the
//! treasury, the rest back to clients); the epoch closed and every provider's emission claimed;
//! every escrow and stake vault checked against its account. Prints what happened.
//!
//! Run: `cargo run -p tessera-tests --example quickstart`

use solana_signer::Signer;
use tessera::state::{Job, Network, Provider, ProviderClass};
use tessera_client::instructions::{self as ix, CloseJobAccounts};
use tessera_tests::*;

/// A base-unit amount as tokens with six decimals, exactly.
fn tokens(amount: u64) -> String {
    format!("{}.{:06}", amount / ONE, amount % ONE)
}

struct Work {
    class: ProviderClass,
    provider: TestProvider,
    job: Option<(TestJob, usize)>,
    units: u64,
}

#[tokio::main]
async fn main() {
    let started = std::time::Instant::now();
    let mut ledger = TestFixture::new().await;
    ledger.set_attestors(3, 2).await;
    // Emission weights: training GPU-seconds count double; a relayed byte counts 1/10,000 of a unit.
    let mut params = default_params();
    params.classes[ProviderClass::Training.index()].emission_weight_bps = 20_000;
    params.classes[ProviderClass::Bandwidth.index()].emission_weight_bps = 1;
    let authority = ledger.authority.insecure_clone();
    let update = ix::update_parameters(&authority.pubkey(), &ledger.network, params);
    assert_ok(ledger.send(&[update], &[&authority]).await);
    let usdc = ledger.create_mint(TOKEN).await;
    let token_2022 = ledger.create_mint(TOKEN_2022).await;
    let clients = [
        ledger.client(usdc, 50_000 * ONE).await,
        ledger.client(token_2022, 50_000 * ONE).await,
    ];
    let mints = [usdc, token_2022];
    println!(
        "network {} (reward mint {})",
        ledger.network, ledger.reward_mint.mint
    );

    // Providers of all four classes, each with its class minimum staked.
    let mut work = Vec::new();
    for class in [
        ProviderClass::Training,
        ProviderClass::Inference,
        ProviderClass::Edge,
        ProviderClass::Bandwidth,
    ] {
        let provider = ledger.staked_provider(class).await;
        work.push(Work {
            class,
            provider,
            job: None,
            units: 0,
        });
    }

    // Clients fund jobs for the three compute classes: GPU-seconds at a price per second.
    let plans = [
        (ProviderClass::Training, 0, 2 * ONE, 3_600),
        (ProviderClass::Inference, 1, ONE / 2, 1_800),
        (ProviderClass::Edge, 0, ONE / 10, 7_200),
    ];
    for (class, client, price, units) in plans {
        let entry = work.iter_mut().find(|w| w.class == class).unwrap();
        let mut args = ledger.job_args(Some(entry.provider.address));
        args.requirement.class = class;
        args.price_per_unit = price;
        args.max_units = units;
        let (result, job) = ledger
            .create_job(&clients[client], mints[client], args)
            .await;
        assert_ok(result);
        let accept = ix::accept_job(
            &entry.provider.owner.pubkey(),
            &ledger.network,
            &job.address,
        );
        assert_ok(ledger.send(&[accept], &[&entry.provider.owner]).await);
        entry.job = Some((job, client));
    }

    // Workers meter and sign cumulative receipts; the training client co-signs its own (paid,
    // but only attested work earns emissions), the attestor quorum vouches for the others.
    // Each receipt states the total so far.
    let (a, b) = (
        ledger.attestors[0].insecure_clone(),
        ledger.attestors[1].insecure_clone(),
    );
    for entry in work.iter_mut() {
        let Some((job, client)) = &entry.job else {
            continue;
        };
        let max = job.args.max_units;
        for cumulative in [max / 4, max / 2, max * 9 / 10] {
            let receipt = ledger.receipt(job, &entry.provider, cumulative).await;
            let signed = if entry.class == ProviderClass::Training {
                TestFixture::sign(receipt, &entry.provider.worker, &[&clients[*client].wallet])
            } else {
                TestFixture::sign(receipt, &entry.provider.worker, &[&a, &b])
            };
            assert_ok(ledger.settle(job, &entry.provider, &signed).await);
            entry.units = cumulative;
            ledger.assert_job_balanced(job).await;
        }
        let complete = ix::complete_job(
            &entry.provider.owner.pubkey(),
            &ledger.network,
            &job.address,
            [7; 32],
        );
        assert_ok(ledger.send(&[complete], &[&entry.provider.owner]).await);
    }
    let bandwidth = work
        .iter_mut()
        .find(|w| w.class == ProviderClass::Bandwidth)
        .unwrap();
    let relayed = 40_000_000;
    let instructions = ledger
        .service_instructions(&bandwidth.provider, relayed)
        .await;
    assert_ok(ledger.send(&instructions, &[]).await);
    bandwidth.units = relayed;

    // Audit before closing: every escrow and stake vault against its account.
    let mut job_rows = Vec::new();
    for entry in &work {
        ledger
            .assert_provider_balanced(&entry.provider.address)
            .await;
        let Some((job, _)) = &entry.job else { continue };
        ledger.assert_job_balanced(job).await;
        let state: Job = ledger.decode(&job.address).await;
        job_rows.push((entry.class, state));
    }

    let epoch = ledger.current_epoch().await;

    // After the dispute window, anyone closes the jobs: fees to the treasury, the rest back.
    ledger.advance(default_params().dispute_window_secs).await;
    let treasury = ledger.treasury.pubkey();
    let treasury_accounts = [
        ledger.token_account(usdc, &treasury).await,
        ledger.token_account(token_2022, &treasury).await,
    ];
    for entry in &work {
        let Some((job, client)) = &entry.job else {
            continue;
        };
        let close = ix::close_job(CloseJobAccounts {
            cranker: ledger.context.payer.pubkey(),
            network: ledger.network,
            job: job.address,
            client: clients[*client].wallet.pubkey(),
            client_token: clients[*client].token_account,
            treasury_token: Some(treasury_accounts[*client]),
            payment_mint: job.mint,
        });
        assert_ok(ledger.send(&[close], &[]).await);
    }

    // The work's epoch is over by now; anyone claims each provider's emission.
    let mut emission_rows = Vec::new();
    for entry in &work {
        let work_record = tessera_client::pda::work_record(&entry.provider.address, epoch);
        if ledger.account(&work_record).await.is_none() {
            emission_rows.push(0);
            continue;
        }
        let (claim, reward_account) = ledger.claim_instruction(&entry.provider, epoch).await;
        assert_ok(ledger.send(&[claim], &[]).await);
        emission_rows.push(ledger.balance(&reward_account).await);
    }

    let network: Network = ledger.network_account().await;
    assert_eq!(
        ledger.reward_supply().await,
        network.genesis_supply + network.totals.emitted
    );
    println!();
    println!(
        "{:<10} {:>10} {:>12} {:>14} {:>12} {:>16}",
        "provider", "stake", "units", "paid", "fees", "emission"
    );
    for (entry, emission) in work.iter().zip(&emission_rows) {
        let state: Provider = ledger.decode(&entry.provider.address).await;
        let (paid, fees) = job_rows
            .iter()
            .find(|(class, _)| *class == entry.class)
            .map_or(("-".to_string(), "-".to_string()), |(_, job)| {
                (tokens(job.paid_out), tokens(job.fees_accrued))
            });
        let unit = if entry.class == ProviderClass::Bandwidth {
            "B"
        } else {
            "s"
        };
        println!(
            "{:<10} {:>10} {:>11}{unit} {:>14} {:>12} {:>16}",
            format!("{:?}", entry.class),
            tokens(state.stake),
            entry.units,
            paid,
            fees,
            tokens(*emission)
        );
    }
    println!();
    println!(
        "jobs closed: {}; treasury fees: {} (SPL Token) + {} (Token-2022); emitted {} of {} for epoch {epoch}",
        job_rows.len(),
        tokens(ledger.balance(&treasury_accounts[0]).await),
        tokens(ledger.balance(&treasury_accounts[1]).await),
        tokens(network.totals.emitted),
        tokens(default_emission().emission_for_epoch(epoch)),
    );
    println!("emissions go to attested work only: the training job was co-signed by its client");
    println!(
        "audit: every escrow vault = deposited - paid - fees paid - refunded, every stake vault = stake + unbonding, reward supply = genesis + emitted: ok ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
}
