//! Helpers the `tessera` binary's test files share.

use std::net::TcpListener;
use std::path::Path;

/// A port on 127.0.0.1 nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a port on 127.0.0.1")
        .local_addr()
        .expect("its address")
        .port()
}

/// Bytes of the embedded ledger's store in `data_dir`, its write-ahead log included.
#[allow(dead_code)] // not every test file measures the store
pub fn store_bytes(data_dir: &Path) -> u64 {
    ["ledger.sqlite", "ledger.sqlite-wal"]
        .iter()
        .filter_map(|name| std::fs::metadata(data_dir.join(name)).ok())
        .map(|metadata| metadata.len())
        .sum()
}
