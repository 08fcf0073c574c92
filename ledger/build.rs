//! Does nothing: it exists so that the build-dependencies in Cargo.toml, which only unify the
//! features of crates built for the host, are built for the host (see Cargo.toml).

fn main() {}
