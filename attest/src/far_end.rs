//! A bandwidth job's far end, run by its client's co-signing service (`attest serve --client
//! --far-end ADDR`): the address the job's spec names as the relay's target. It takes every
//! byte that arrives and counts it; it sends nothing back. The service then signs a bandwidth
//! receipt for at most the bytes its far end received, so the bytes a provider is paid for
//! are bytes someone other than the provider saw arrive.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Connections the far end serves at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 64;
/// A connection that sends nothing for this long is closed.
const IDLE: Duration = Duration::from_secs(60);

/// The far end's count, shared with the service that signs against it.
pub struct FarEnd {
    pub address: SocketAddr,
    received: Arc<AtomicU64>,
}

impl FarEnd {
    /// Listens on `address` and counts, in the current tokio runtime, until it stops.
    pub async fn start(address: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let received = Arc::new(AtomicU64::new(0));
        tokio::spawn(accept(listener, received.clone()));
        Ok(Self { address, received })
    }

    /// Bytes received since the service started.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::SeqCst)
    }
}

async fn accept(listener: TcpListener, received: Arc<AtomicU64>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let Ok((mut stream, _)) = listener.accept().await else {
            // Out of descriptors, say: let connections close before trying again.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let received = received.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut buffer = vec![0u8; 64 * 1024];
            while let Ok(Ok(read @ 1..)) =
                tokio::time::timeout(IDLE, stream.read(&mut buffer)).await
            {
                received.fetch_add(read as u64, Ordering::SeqCst);
            }
        });
    }
}
