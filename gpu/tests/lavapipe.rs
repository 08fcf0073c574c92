//! The GPU path against the CPU's, on whatever adapter wgpu finds: lavapipe (Vulkan on the CPU,
//! `scripts/lavapipe`) where there is no GPU. Products must be bit-identical for every n,
//! including n that are not a multiple of the workgroup's 16 and entries at the field's edge.

use rand::{Rng, SeedableRng};
use tessera_gpu::{Gpu, GpuError, TILE};
use tessera_work::matmul::{Matrix, MODULUS};

fn gpu() -> Gpu {
    Gpu::open().unwrap_or_else(|error| {
        panic!("{error}\n(the GPU tests need an adapter: scripts/lavapipe installs one on Debian)")
    })
}

#[test]
fn gpu_products_are_bit_identical_to_the_cpus_for_every_size() {
    let gpu = gpu();
    eprintln!("GPU tests on {:?}", gpu.info());
    let seed = [7u8; 32];
    for (round, n) in [1usize, 2, 15, 16, 17, 31, 33, 64, 100, 129]
        .into_iter()
        .enumerate()
    {
        let a = Matrix::derived(&seed, b"A", round as u32, n);
        let b = Matrix::derived(&seed, b"B", round as u32, n);
        assert_eq!(
            gpu.product(&a, &b).expect("the GPU multiplies"),
            a.product(&b),
            "n = {n}"
        );
    }
    assert_ne!(129 % TILE, 0, "a size the tiles do not divide");
}

#[test]
fn entries_at_the_edge_of_the_field_reduce_exactly() {
    let gpu = gpu();
    let mut rng = rand::rngs::StdRng::seed_from_u64(31);
    let n = 48;
    let edges = [
        0,
        1,
        2,
        (1 << 16) - 1,
        1 << 16,
        (1 << 31) - 3,
        MODULUS - 2,
        MODULUS - 1,
    ];
    let mut pick = || {
        (0..n * n)
            .map(|_| edges[rng.gen_range(0..edges.len())])
            .collect()
    };
    let a = Matrix::from_entries(n, pick()).expect("field elements");
    let b = Matrix::from_entries(n, pick()).expect("field elements");
    assert_eq!(
        gpu.product(&a, &b).expect("the GPU multiplies"),
        a.product(&b)
    );

    // (p - 1)² ≡ 1, so every entry of the all-(p - 1) square is n.
    let top = Matrix::from_entries(n, vec![MODULUS - 1; n * n]).expect("field elements");
    let square = gpu.product(&top, &top).expect("the GPU multiplies");
    assert!(square.entries().iter().all(|entry| *entry == n as u64));
}

#[test]
fn a_round_on_the_gpu_is_the_cpus_round() {
    let gpu = gpu();
    let seed = tessera_work::matmul::job_seed(&[1; 32], &[2; 32], 3);
    let round = gpu.run_round(&seed, 4, 40).expect("the GPU runs the round");
    let cpu = tessera_work::matmul::run_round(&seed, 4, 40);
    assert_eq!(round.product, cpu.product);
    assert!(round.wall_time >= round.product_time);
}

#[test]
fn mismatched_inputs_are_refused() {
    let gpu = gpu();
    let seed = [0u8; 32];
    let (small, large) = (
        Matrix::derived(&seed, b"A", 0, 3),
        Matrix::derived(&seed, b"B", 0, 4),
    );
    assert!(matches!(
        gpu.product(&small, &large),
        Err(GpuError::SizeMismatch(3, 4))
    ));
    assert!(
        gpu.max_n() >= 4096,
        "every adapter binds a 4096 x 4096 matrix"
    );
}
