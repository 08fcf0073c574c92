//! `cargo bench -p tessera-attest --bench review`: the time an attestor takes to review the
//! evidence of a 40-round job of side 256 (five units), checking every round or a sample, and
//! the chance that a wrong round passes each sample. Prints a Markdown table for
//! `docs/benchmarks.md`.

use std::time::{Duration, Instant};
use tessera_attest::rand::rngs::StdRng;
use tessera_attest::rand::SeedableRng;
use tessera_attest::review::{self, Sampling, Work};
use tessera_attest::wire::{CosignRequest, Evidence};
use tessera_client::codec_checks::sample_receipt;
use tessera_client::receipt::{ReceiptFile, SignedReceipt};
use tessera_work::matmul;
use tessera_work::spec::{self, Spec};

const N: u32 = 256;
const ROUNDS: u32 = 40;
/// Reviews timed per row, after one untimed.
const REPEATS: usize = 7;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn milliseconds(time: Duration) -> String {
    format!("{:.1}", time.as_secs_f64() * 1e3)
}

fn main() {
    let document = Spec::matmul(N, ROUNDS).to_bytes();
    let spec_hash = spec::hash(&document);
    let job = tessera_client::pda::job(&[1; 32].into(), &[2; 32].into(), 7);
    let seed = matmul::job_seed(&spec_hash, &job.to_bytes(), 1);
    let products: Vec<matmul::Matrix> = (0..ROUNDS)
        .map(|round| matmul::run_round(&seed, round, N as usize).product)
        .collect();
    let mut receipt = sample_receipt(1, matmul::units_for(N, ROUNDS));
    receipt.result_hash = products
        .iter()
        .fold([0; 32], |link, product| matmul::chain(&link, product));
    let signed = SignedReceipt::new(receipt);
    let evidence = Evidence::Matmul {
        spec: String::from_utf8(document).expect("a spec is UTF-8"),
        digests: Vec::new(),
        products: products
            .iter()
            .map(|product| hex::encode(product.to_bytes()))
            .collect(),
    };
    let request = serde_json::to_vec(&CosignRequest {
        receipt: ReceiptFile::from_signed(&signed),
        evidence: evidence.clone(),
    })
    .expect("a request serializes");
    let work = Work::Job {
        spec_hash: &spec_hash,
        job: &job,
        nonce: 1,
        settled_units: 0,
    };
    let mut rng = StdRng::seed_from_u64(7);

    let parse: Vec<Duration> = (0..=REPEATS)
        .map(|_| {
            let started = Instant::now();
            let parsed: CosignRequest =
                serde_json::from_slice(&request).expect("the request parses");
            std::hint::black_box(parsed);
            started.elapsed()
        })
        .skip(1)
        .collect();

    println!("### 7. An attestor's review of a job's evidence\n");
    println!(
        "One job of the built-in workload, {ROUNDS} rounds of side {N} (worth {} unit(s) of \
         2^29 multiply-adds), all its products sent as evidence: a request of {} bytes of JSON. \
         `review::check_evidence` chains every product's digest to the receipt's result hash \
         and checks the sampled rounds with Freivalds' test (deriving that round's inputs from \
         the spec hash, two trials); it runs on one thread. Median of {REPEATS} reviews after one \
         untimed. Parsing the request's JSON, which the service does first: {} ms median.\n",
        matmul::units_for(N, ROUNDS),
        request.len(),
        milliseconds(median(parse)),
    );
    println!(
        "| rounds checked | review, median ms | fastest - slowest ms | one wrong round passes |"
    );
    println!("|---|---|---|---|");
    for sampling in [
        Sampling::Every,
        Sampling::Rounds(10),
        Sampling::Rounds(4),
        Sampling::Rounds(1),
    ] {
        let times: Vec<Duration> = (0..=REPEATS)
            .map(|_| {
                let started = Instant::now();
                let supported =
                    review::check_evidence(&signed, &evidence, &work, sampling, &mut rng)
                        .expect("the evidence checks");
                assert_eq!(supported, matmul::units_for(N, ROUNDS));
                started.elapsed()
            })
            .skip(1)
            .collect();
        let (label, checked) = match sampling {
            Sampling::Every => (format!("every one ({ROUNDS})"), ROUNDS),
            Sampling::Rounds(k) => (format!("{k} of {ROUNDS}"), k),
        };
        let fastest = times.iter().min().copied().unwrap_or_default();
        let slowest = times.iter().max().copied().unwrap_or_default();
        println!(
            "| {label} | {} | {} - {} | {:.3} |",
            milliseconds(median(times)),
            milliseconds(fastest),
            milliseconds(slowest),
            review::pass_chance(ROUNDS, 1, checked),
        );
    }
}
