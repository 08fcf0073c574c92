// The built-in workload's matrix product over the field of p = 2^31 - 1, on a GPU:
// c = a · b for n×n matrices of entries below p, row-major. WGSL has no 64-bit integers, so each
// product of two entries is built from 16-bit halves, and reduced with 2^31 ≡ 1 (mod p). Every
// sum stays a canonical residue in [0, p), so the result is bit-identical to the CPU's
// `Matrix::product`, whatever order the terms are added in.

const P: u32 = 0x7fffffffu;
const TILE: u32 = 16u;

struct Dims {
    n: u32,
}

@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read_write> c: array<u32>;
@group(0) @binding(3) var<uniform> dims: Dims;

var<workgroup> tile_a: array<array<u32, 16>, 16>;
var<workgroup> tile_b: array<array<u32, 16>, 16>;

// x · y mod p, for x, y < p.
fn mul_mod(x: u32, y: u32) -> u32 {
    let x_lo = x & 0xffffu;
    let x_hi = x >> 16u;
    let y_lo = y & 0xffffu;
    let y_hi = y >> 16u;
    let low = x_lo * y_lo;              // < 2^32
    let middle = x_lo * y_hi + x_hi * y_lo; // each < 2^31, the sum < 2^32
    let high = x_hi * y_hi;             // < 2^30
    // x · y = hi · 2^32 + lo, and below 2^62, so hi < 2^30.
    let lo = low + (middle << 16u);
    let hi = high + (middle >> 16u) + select(0u, 1u, lo < low);
    // hi · 2^32 + lo ≡ (lo mod 2^31) + (lo >> 31) + 2·hi: below 2^32, then folded once more.
    var r = (lo & P) + (lo >> 31u) + (hi << 1u);
    r = (r & P) + (r >> 31u);
    return select(r, r - P, r >= P);
}

// x + y mod p, for x, y < p.
fn add_mod(x: u32, y: u32) -> u32 {
    let s = x + y;
    return select(s, s - P, s >= P);
}

// One invocation per entry of c, 16×16 of them to a workgroup, which loads the tiles of a and b
// it needs into workgroup memory once for all of them. Entries past n (when n is not a multiple
// of 16) read zeros and write nothing.
@compute @workgroup_size(16, 16)
fn product(
    @builtin(global_invocation_id) global: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let n = dims.n;
    let row = global.y;
    let column = global.x;
    var sum = 0u;
    let tiles = (n + TILE - 1u) / TILE;
    for (var t = 0u; t < tiles; t = t + 1u) {
        let a_column = t * TILE + local.x;
        let b_row = t * TILE + local.y;
        var a_entry = 0u;
        if (row < n && a_column < n) {
            a_entry = a[row * n + a_column];
        }
        var b_entry = 0u;
        if (b_row < n && column < n) {
            b_entry = b[b_row * n + column];
        }
        tile_a[local.y][local.x] = a_entry;
        tile_b[local.y][local.x] = b_entry;
        workgroupBarrier();
        for (var k = 0u; k < TILE; k = k + 1u) {
            sum = add_mod(sum, mul_mod(tile_a[local.y][k], tile_b[k][local.x]));
        }
        workgroupBarrier();
    }
    if (row < n && column < n) {
        c[row * n + column] = sum;
    }
}
