//! The attack suite: one module per known class of Solana program attack, adapted to
//! Tessera's instructions. Each test names the attack and asserts the exact refusal.

mod account_type_cosplay;
mod arbitrary_cpi;
mod arithmetic_overflow;
mod close_and_revive;
mod duplicate_mutable_accounts;
mod job_hoarding;
mod missing_signer;
mod non_canonical_bump;
mod pda_sharing;
mod prefunded_pda;
mod reinitialization;
mod reward_mint_takeover;
mod rounding;
mod slashing_escape;
mod stranded_funds;
mod sysvar_spoofing;
mod unchecked_remaining_accounts;
mod unit_kind_laundering;
mod voided_receipts;
mod wrong_owner;

use tessera_tests::*;

/// Funds a client holds in the payment mint.
pub const FUNDS: u64 = 10_000 * ONE;

/// A network with three attestors (threshold 2); a client with a running job of 1,000 units at
/// 1 token each in an SPL Token mint (not the reward mint), named to a staked Inference
/// provider; 100 units already settled with the client's co-signature.
pub struct Scene {
    pub fixture: TestFixture,
    pub client: TestClient,
    pub provider: TestProvider,
    pub job: TestJob,
}

pub async fn scene() -> Scene {
    let mut fixture = TestFixture::new().await;
    fixture.set_attestors(3, 2).await;
    let (client, provider, job) = fixture.accepted_job(FUNDS, 1_000).await;
    let receipt = fixture.receipt(&job, &provider, 100).await;
    let signed = TestFixture::sign(receipt, &provider.worker, &[&client.wallet]);
    assert_ok(fixture.settle(&job, &provider, &signed).await);
    Scene {
        fixture,
        client,
        provider,
        job,
    }
}

impl Scene {
    /// A client-co-signed receipt for `units` cumulative units on the scene's job.
    pub async fn cosigned(&mut self, units: u64) -> SignedReceipt {
        let job = TestJob {
            address: self.job.address,
            vault: self.job.vault,
            client: self.job.client,
            args: self.job.args.clone(),
            mint: self.job.mint,
        };
        self.cosigned_on(&job, units).await
    }

    /// A client-co-signed receipt for `units` cumulative units on `job`.
    pub async fn cosigned_on(&mut self, job: &TestJob, units: u64) -> SignedReceipt {
        let receipt = self.fixture.receipt(job, &self.provider, units).await;
        TestFixture::sign(receipt, &self.provider.worker, &[&self.client.wallet])
    }
}
