//! `cargo bench -p tessera-bench`: measures Tessera and prints the tables of
//! `docs/benchmarks.md` (see [`tessera_bench::run`]).

fn main() -> anyhow::Result<()> {
    tessera_bench::run()
}
