//! Epoch emissions: class-weighted units recorded by settlements, claims after the epoch,
//! dust left unminted, and claims whose cost does not grow with the number of providers.

use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use tessera::instructions::RegisterProviderArgs;
use tessera::state::{Epoch, PauseFlags, ProviderClass, ProviderSpec};
use tessera::TesseraError;
use tessera_client::instructions as ix;
use tessera_client::pda;
use tessera_tests::*;

const DAY: i64 = 86_400;

/// A network whose classes weigh Training 2x, Inference 1x, Edge 0.5x, with three attestors.
async fn weighted_network() -> TestFixture {
    let mut fixture = TestFixture::new().await;
    let mut params = default_params();
    params.classes[ProviderClass::Training.index()].emission_weight_bps = 20_000;
    params.classes[ProviderClass::Edge.index()].emission_weight_bps = 5_000;
    let authority = fixture.authority.insecure_clone();
    let update = ix::update_parameters(&authority.pubkey(), &fixture.network, params);
    assert_ok(fixture.send(&[update], &[&authority]).await);
    fixture.set_attestors(3, 2).await;
    fixture
}

#[tokio::test]
async fn three_classes_four_epochs_claims_to_the_token() {
    let mut fixture = weighted_network().await;
    let providers = [
        fixture.staked_provider(ProviderClass::Training).await,
        fixture.staked_provider(ProviderClass::Inference).await,
        fixture.staked_provider(ProviderClass::Edge).await,
    ];
    let weights = [20_000u64, 10_000, 5_000];
    // Units each provider serves in epochs 0..4; nobody works in epoch 2.
    let work: [[u64; 3]; 4] = [[100, 300, 50], [10, 0, 1_000], [0, 0, 0], [7, 0, 13]];
    let mut cumulative = [0u64; 3];
    for (epoch, units) in work.iter().enumerate() {
        assert_eq!(fixture.current_epoch().await, epoch as u64);
        for (i, provider) in providers.iter().enumerate() {
            if units[i] > 0 {
                cumulative[i] += units[i];
                let instructions = fixture.service_instructions(provider, cumulative[i]).await;
                assert_ok(fixture.send(&instructions, &[]).await);
            }
        }
        fixture.advance(DAY).await;
    }

    let supply_before = fixture.reward_supply().await;
    let mut claimed_total = 0;
    for (epoch, units) in work.iter().enumerate() {
        let epoch = epoch as u64;
        let epoch_address = pda::epoch(&fixture.network, epoch);
        if units.iter().all(|u| *u == 0) {
            assert!(
                fixture.account(&epoch_address).await.is_none(),
                "no work, no epoch account"
            );
            continue;
        }
        let state: Epoch = fixture.decode(&epoch_address).await;
        let workers = units.iter().filter(|u| **u > 0).count() as u64;
        assert_eq!(
            (state.total_units, state.work_records, state.tallied_records),
            (0, workers, 0),
            "settlements write their work records only; the epoch counts them"
        );
        let addresses: Vec<Pubkey> = providers.iter().map(|p| p.address).collect();
        fixture.tally(&addresses, epoch).await;
        let state: Epoch = fixture.decode(&epoch_address).await;
        assert_eq!(state.tallied_records, workers);
        let weighted: Vec<u64> = units
            .iter()
            .zip(weights)
            .map(|(u, w)| u * w / 10_000)
            .collect();
        let total: u64 = weighted.iter().sum();
        assert_eq!(state.total_units, total as u128);
        assert_eq!(state.emission, default_emission().emission_for_epoch(epoch));
        let mut minted = 0;
        for (i, provider) in providers.iter().enumerate() {
            if units[i] == 0 {
                continue;
            }
            let (claim, reward_account) = fixture.claim_instruction(provider, epoch).await;
            let before = fixture.balance(&reward_account).await;
            assert_ok(fixture.send(&[claim], &[]).await);
            let got = fixture.balance(&reward_account).await - before;
            let expected = (state.emission as u128 * weighted[i] as u128 / total as u128) as u64;
            assert_eq!(got, expected, "epoch {epoch}, provider {i}");
            minted += got;
            assert!(fixture
                .account(&pda::work_record(&provider.address, epoch))
                .await
                .is_none());
        }
        let state: Epoch = fixture.decode(&epoch_address).await;
        assert_eq!((state.claimed, state.open_work_records), (minted, 0));
        assert!(minted <= state.emission);
        println!(
            "epoch {epoch}: emission {}, minted {minted}, dust {}",
            state.emission,
            state.emission - minted
        );
        claimed_total += minted;
    }
    let network = fixture.network_account().await;
    assert_eq!(network.totals.emitted, claimed_total);
    assert_eq!(fixture.reward_supply().await, supply_before + claimed_total);
    assert_eq!(
        fixture.reward_supply().await,
        network.genesis_supply + network.totals.emitted
    );
}

#[tokio::test]
async fn claims_are_refused_until_due_once_and_while_paused() {
    let mut fixture = weighted_network().await;
    let provider = fixture.staked_provider(ProviderClass::Inference).await;
    let instructions = fixture.service_instructions(&provider, 10).await;
    assert_ok(fixture.send(&instructions, &[]).await);

    let (claim, _) = fixture.claim_instruction(&provider, 0).await;
    assert_err(
        fixture.send(std::slice::from_ref(&claim), &[]).await,
        TesseraError::EpochNotOver,
    );
    let tally = ix::tally_work(&fixture.network, &provider.address, 0);
    assert_err(
        fixture.send(std::slice::from_ref(&tally), &[]).await,
        TesseraError::EpochNotOver,
    );
    fixture.advance(DAY).await;
    assert_err(
        fixture.send(std::slice::from_ref(&claim), &[]).await,
        TesseraError::EpochNotTallied,
    );
    assert_ok(fixture.send(std::slice::from_ref(&tally), &[]).await);
    assert_err(
        fixture.send(&[tally], &[]).await,
        TesseraError::WorkAlreadyTallied,
    );
    let epoch: Epoch = fixture.decode(&pda::epoch(&fixture.network, 0)).await;
    assert_eq!(
        (epoch.total_units, epoch.tallied_records, epoch.work_records),
        (10, 1, 1),
        "tallied once"
    );

    fixture
        .pause(PauseFlags {
            claims: true,
            ..Default::default()
        })
        .await;
    assert_err(
        fixture.send(std::slice::from_ref(&claim), &[]).await,
        TesseraError::ClaimsPaused,
    );
    fixture.pause(PauseFlags::default()).await;

    // The reward goes to the owner's associated token account and nowhere else.
    let thief = fixture.wallet().await;
    let thief_account = fixture.reward_tokens(&thief.pubkey(), 0).await;
    let owner_ata =
        pda::associated_token(&provider.owner.pubkey(), &fixture.reward_mint.mint, &TOKEN);
    let mut stolen = claim.clone();
    swap_account(&mut stolen, &owner_ata, &thief_account);
    assert_err(
        fixture.send(&[stolen], &[]).await,
        TesseraError::WrongTokenAccountOwner,
    );

    let rent_payer = fixture.context.payer.pubkey();
    let lamports = fixture.lamports(&rent_payer).await;
    assert_ok(fixture.send(std::slice::from_ref(&claim), &[]).await);
    assert!(
        fixture.lamports(&rent_payer).await > lamports - 10_000,
        "the work record's rent came back"
    );
    assert_eq!(
        fixture.balance(&owner_ata).await,
        default_emission().initial_per_epoch
    );
    assert_anchor_err(
        fixture.send(&[claim], &[]).await,
        AnchorErrorCode::AccountNotInitialized,
    );
}

#[tokio::test]
async fn work_below_the_class_minimum_earns_nothing() {
    let mut fixture = weighted_network().await;
    let eligible = fixture.staked_provider(ProviderClass::Edge).await;
    let unstaked = fixture.provider(ProviderClass::Edge, 0).await;
    for provider in [&eligible, &unstaked] {
        let instructions = fixture.service_instructions(provider, 1_000).await;
        assert_ok(fixture.send(&instructions, &[]).await);
    }
    fixture.advance(DAY).await;
    // Claims wait for every record of the epoch, the one that earns nothing included.
    fixture.tally(&[eligible.address], 0).await;
    let (claim, _) = fixture.claim_instruction(&eligible, 0).await;
    assert_err(
        fixture.send(&[claim], &[]).await,
        TesseraError::EpochNotTallied,
    );
    fixture.tally(&[unstaked.address], 0).await;
    let epoch: Epoch = fixture.decode(&pda::epoch(&fixture.network, 0)).await;
    assert_eq!(
        epoch.total_units, 500,
        "only the eligible provider's weighted units count"
    );
    let (claim, _) = fixture.claim_instruction(&unstaked, 0).await;
    assert_err(
        fixture.send(&[claim], &[]).await,
        TesseraError::IneligibleWork,
    );
    let (claim, account) = fixture.claim_instruction(&eligible, 0).await;
    assert_ok(fixture.send(&[claim], &[]).await);
    assert_eq!(
        fixture.balance(&account).await,
        epoch.emission,
        "the whole epoch to the one eligible provider"
    );
}

#[tokio::test]
async fn claim_cost_does_not_grow_with_two_thousand_providers() {
    const PROVIDERS: usize = 2_000;
    let mut fixture = weighted_network().await;
    // Bandwidth providers need no stake here, so that set-up is one transaction each.
    let mut params = default_params();
    params.classes[ProviderClass::Bandwidth.index()].min_stake = 0;
    let authority = fixture.authority.insecure_clone();
    let update = ix::update_parameters(&authority.pubkey(), &fixture.network, params);
    assert_ok(fixture.send(&[update], &[&authority]).await);

    let spec = ProviderSpec {
        bandwidth_mbps: 100,
        ..Default::default()
    };
    let payer = fixture.context.payer.pubkey();
    let network = fixture.network;
    let mut providers = Vec::with_capacity(PROVIDERS);
    for _ in 0..PROVIDERS {
        let owner = Keypair::new();
        let worker = Keypair::new();
        let register = ix::register_provider(
            &owner.pubkey(),
            &network,
            fixture.reward_mint,
            RegisterProviderArgs {
                class: ProviderClass::Bandwidth,
                spec,
                worker_key: worker.pubkey(),
            },
        );
        let fund =
            solana_system_interface::instruction::transfer(&payer, &owner.pubkey(), 10_000_000);
        assert_ok(fixture.send_in_slot(&[fund, register], &[&owner]).await);
        let address = pda::provider(&network, &owner.pubkey());
        providers.push(TestProvider {
            owner,
            worker,
            address,
            reward_account: Default::default(),
        });
    }

    // Epoch 0: one provider works. Epoch 1: all 2,000 do.
    let instructions = fixture.service_instructions(&providers[0], 100).await;
    assert_ok(fixture.send(&instructions, &[]).await);
    fixture.advance(DAY).await;
    for (i, provider) in providers.iter().enumerate() {
        // 200 new units each: the first provider's receipts are cumulative over both epochs.
        let cumulative = if i == 0 { 300 } else { 200 };
        let instructions = fixture.service_instructions(provider, cumulative).await;
        assert_ok(fixture.send_in_slot(&instructions, &[]).await);
    }
    let epoch: Epoch = fixture.decode(&pda::epoch(&network, 1)).await;
    assert_eq!(epoch.open_work_records, PROVIDERS as u64);
    fixture.advance(DAY).await;
    fixture.tally(&[providers[0].address], 0).await;
    for some in providers.chunks(8) {
        let tallies: Vec<_> = some
            .iter()
            .map(|provider| ix::tally_work(&network, &provider.address, 1))
            .collect();
        assert_ok(fixture.send_in_slot(&tallies, &[]).await);
    }
    let epoch: Epoch = fixture.decode(&pda::epoch(&network, 1)).await;
    assert_eq!(epoch.tallied_records, PROVIDERS as u64);

    let (alone, _) = fixture.claim_instruction(&providers[0], 0).await;
    let (first, first_account) = fixture.claim_instruction(&providers[0], 1).await;
    let (last, last_account) = fixture
        .claim_instruction(&providers[PROVIDERS - 1], 1)
        .await;
    for (name, claim) in [
        ("1 provider", &alone),
        ("2,000 providers, first", &first),
        ("2,000 providers, last", &last),
    ] {
        println!(
            "claim with {name}: {} accounts, {} bytes of instruction data",
            claim.accounts.len(),
            claim.data.len()
        );
        assert_eq!(claim.accounts.len(), alone.accounts.len());
        assert_eq!(claim.data.len(), alone.data.len());
    }
    assert_ok(fixture.send(&[alone], &[]).await);
    let before = fixture.balance(&first_account).await;
    assert_ok(fixture.send(&[first], &[]).await);
    assert_ok(fixture.send(&[last], &[]).await);
    let share = epoch.emission / PROVIDERS as u64;
    assert_eq!(fixture.balance(&first_account).await - before, share);
    assert_eq!(fixture.balance(&last_account).await, share);
}

/// A client of `mint` (the reward mint included: its tokens come from the faucet), and its
/// job of 100 units at `price` base units a unit, accepted by `provider`.
async fn job_at(
    fixture: &mut TestFixture,
    provider: &TestProvider,
    mint: Option<tessera_client::instructions::MintRef>,
    price: u64,
) -> (TestClient, TestJob) {
    let (client, mint) = match mint {
        Some(mint) => (fixture.client(mint, 1_000 * ONE).await, mint),
        None => {
            let wallet = fixture.wallet().await;
            let token_account = fixture.reward_tokens(&wallet.pubkey(), 1_000 * ONE).await;
            let client = TestClient {
                wallet,
                token_account,
            };
            (client, fixture.reward_mint)
        }
    };
    let mut args = fixture.job_args(Some(provider.address));
    args.price_per_unit = price;
    let (created, job) = fixture.create_job(&client, mint, args).await;
    assert_ok(created);
    assert_ok(fixture.accept(provider, &job).await);
    (client, job)
}

#[tokio::test]
async fn an_emission_floor_keeps_self_dealt_cheap_jobs_from_earning() {
    let mut fixture = TestFixture::new().await;
    fixture.set_attestors(3, 2).await;
    let provider = fixture.staked_provider(ProviderClass::Inference).await;
    let authority = fixture.authority.insecure_clone();

    // Only the authority sets floors.
    let floors = [0, ONE / 2, 0, 0];
    let stranger = fixture.wallet().await;
    let instruction = ix::set_emission_floors(&stranger.pubkey(), &fixture.network, floors);
    assert_err(
        fixture.send(&[instruction], &[&stranger]).await,
        TesseraError::NotAuthority,
    );
    let instruction = ix::set_emission_floors(&authority.pubkey(), &fixture.network, floors);
    let (result, logs) = fixture.send_for_logs(&[instruction], &[&authority]).await;
    assert_ok(result);
    let set: Vec<tessera::events::EmissionFloorsSet> =
        tessera_client::events::decode(&logs).expect("events decode");
    assert_eq!(set.len(), 1);
    assert_eq!(set[0].floors, floors);
    assert_eq!(
        fixture.network_account().await.emission_price_floors,
        floors
    );

    // Inference jobs: in the provider's own cheap mint, in the reward mint below the floor,
    // and in the reward mint at the floor. All three are paid; only the last earns emission.
    let own_mint = fixture.create_mint(TOKEN).await;
    let (_, foreign) = job_at(&mut fixture, &provider, Some(own_mint), ONE).await;
    let (_, cheap) = job_at(&mut fixture, &provider, None, ONE / 2 - 1).await;
    let (_, fair) = job_at(&mut fixture, &provider, None, ONE / 2).await;
    let mut weighted = Vec::new();
    for job in [&foreign, &cheap, &fair] {
        let receipt = fixture.receipt(job, &provider, 40).await;
        let signed = fixture.attested(receipt, &provider).await;
        let instructions = fixture
            .settle_now_instructions(job, &provider, &signed)
            .await;
        let (result, logs) = fixture.send_for_logs(&instructions, &[]).await;
        assert_ok(result);
        let settled: Vec<tessera::events::ReceiptSettled> =
            tessera_client::events::decode(&logs).expect("events decode");
        weighted.push(settled[0].weighted_units);
        assert_eq!(
            fixture
                .decode::<tessera::state::Job>(&job.address)
                .await
                .settled_units,
            40
        );
    }
    assert_eq!(weighted, [0, 0, 40], "only the job at the floor earns");
    let record = pda::work_record(&provider.address, 0);
    let work: tessera::state::WorkRecord = fixture.decode(&record).await;
    assert_eq!(work.units, 40);

    // A floor of 0 lets every job earn again, from the next settlement on.
    let instruction = ix::set_emission_floors(&authority.pubkey(), &fixture.network, [0; 4]);
    assert_ok(fixture.send(&[instruction], &[&authority]).await);
    let receipt = fixture.receipt(&foreign, &provider, 50).await;
    let signed = fixture.attested(receipt, &provider).await;
    assert_ok(fixture.settle(&foreign, &provider, &signed).await);
    let work: tessera::state::WorkRecord = fixture.decode(&record).await;
    assert_eq!(work.units, 50);
}
