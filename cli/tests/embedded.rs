//! The embedded ledger: surfpool in-process, the Tessera program registered natively, reached
//! over real JSON-RPC; CPIs into the real token programs work; state survives a restart.

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_signer::Signer;
use solana_transaction::Transaction;
use tessera::instructions::{InitializeNetworkArgs, RegisterProviderArgs};
use tessera::state::{ClassParams, EmissionSchedule, NetworkParams, ProviderClass, ProviderSpec};
use tessera_client::instructions::{self as ix, MintRef};
use tessera_client::pda;
use tessera_ledger::embedded::EmbeddedLedger;

fn send(
    rpc: &RpcClient,
    payer: &Keypair,
    instructions: &[solana_instruction::Instruction],
    signers: &[&Keypair],
) {
    let blockhash = rpc.get_latest_blockhash().expect("blockhash");
    let mut all = vec![payer];
    all.extend_from_slice(signers);
    let transaction =
        Transaction::new_signed_with_payer(instructions, Some(&payer.pubkey()), &all, blockhash);
    rpc.send_and_confirm_transaction(&transaction)
        .expect("transaction");
}

#[test]
fn program_runs_natively_with_cpi_and_state_survives_a_restart() {
    let data_dir = std::env::temp_dir().join(format!("tessera-embedded-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let ledger = EmbeddedLedger::start(&data_dir, None).expect("ledger starts");
    let rpc = rpc_client(&ledger);
    let payer = a_funded_payer(&rpc);
    let network = pda::network(7);
    let reward_mint = a_reward_mint_of_the_payers(&rpc, &payer);
    the_payer_initializes_network_7(&rpc, &payer, reward_mint);
    let vault = the_payer_registers_a_provider(&rpc, &payer, &network, reward_mint);

    ledger.stop().expect("ledger stops");
    let ledger = EmbeddedLedger::start(&data_dir, None).expect("ledger restarts");
    the_restart_finds_the_network_its_mint_and_the_vault(
        &rpc_client(&ledger),
        &network,
        &reward_mint.mint,
        &vault,
    );
    ledger.stop().unwrap();
    let _ = std::fs::remove_dir_all(&data_dir);
}

fn rpc_client(ledger: &EmbeddedLedger) -> RpcClient {
    RpcClient::new_with_commitment(
        ledger.rpc_url.clone(),
        solana_commitment_config::CommitmentConfig::confirmed(),
    )
}

fn a_funded_payer(rpc: &RpcClient) -> Keypair {
    let payer = Keypair::new();
    let airdrop = rpc
        .request_airdrop(&payer.pubkey(), 100_000_000_000)
        .expect("airdrop");
    while !rpc.confirm_transaction(&airdrop).unwrap_or(false) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    payer
}

/// A reward mint of the payer's (client-side token instructions); initialize_network hands its
/// mint authority to the network's PDA through a CPI into the token program.
fn a_reward_mint_of_the_payers(rpc: &RpcClient, payer: &Keypair) -> MintRef {
    let mint = Keypair::new();
    let token_program = spl_token_interface::ID;
    let space = 82;
    let rent = rpc.get_minimum_balance_for_rent_exemption(space).unwrap();
    send(
        rpc,
        payer,
        &[
            solana_system_interface::instruction::create_account(
                &payer.pubkey(),
                &mint.pubkey(),
                rent,
                space as u64,
                &token_program,
            ),
            spl_token_interface::instruction::initialize_mint2(
                &token_program,
                &mint.pubkey(),
                &payer.pubkey(),
                None,
                6,
            )
            .unwrap(),
        ],
        &[&mint],
    );
    MintRef {
        mint: mint.pubkey(),
        token_program,
    }
}

fn the_payer_initializes_network_7(rpc: &RpcClient, payer: &Keypair, reward_mint: MintRef) {
    let class = ClassParams {
        min_stake: 0,
        emission_weight_bps: 10_000,
        stake_per_job: 1,
    };
    let args = InitializeNetworkArgs {
        network_id: 7,
        treasury: payer.pubkey(),
        params: NetworkParams {
            epoch_length_secs: 86_400,
            unbonding_period_secs: 60,
            dispute_window_secs: 60,
            receipt_max_age_secs: 600,
            protocol_fee_bps: 100,
            jail_after_lost_disputes: 3,
            classes: [class; 4],
            start_timeout_secs: 600,
        },
        emission: EmissionSchedule {
            initial_per_epoch: 1_000,
            decay_bps: 5_000,
            decay_every_epochs: 10,
            supply_cap: 1_000_000,
        },
    };
    send(
        rpc,
        payer,
        &[ix::initialize_network(
            &payer.pubkey(),
            &payer.pubkey(),
            reward_mint,
            args,
        )],
        &[],
    );
}

/// Registering creates the stake vault through a CPI into the token program; returns the vault.
fn the_payer_registers_a_provider(
    rpc: &RpcClient,
    payer: &Keypair,
    network: &Pubkey,
    reward_mint: MintRef,
) -> Pubkey {
    let register = ix::register_provider(
        &payer.pubkey(),
        network,
        reward_mint,
        RegisterProviderArgs {
            class: ProviderClass::Edge,
            spec: ProviderSpec::default(),
            worker_key: payer.pubkey(),
        },
    );
    send(rpc, payer, &[register], &[]);
    let vault = pda::stake_vault(&pda::provider(network, &payer.pubkey()));
    let vault_account = rpc.get_account(&vault).expect("the stake vault exists");
    assert_eq!(
        vault_account.owner, reward_mint.token_program,
        "created by the token program through CPI"
    );
    assert_eq!(vault_account.data.len(), 165);
    vault
}

fn the_restart_finds_the_network_its_mint_and_the_vault(
    rpc: &RpcClient,
    network: &Pubkey,
    mint: &Pubkey,
    vault: &Pubkey,
) {
    let network_account = rpc
        .get_account(network)
        .expect("the network survived the restart");
    assert_eq!(network_account.owner, tessera::ID);
    let mint_account = rpc.get_account(mint).unwrap();
    assert_eq!(
        &mint_account.data[0..36],
        [&[1, 0, 0, 0][..], pda::mint_authority(network).as_ref()].concat(),
        "the network's PDA holds the mint authority"
    );
    assert!(
        rpc.get_account(vault).is_ok(),
        "the vault survived the restart"
    );
}
