//! The co-signing service's HTTP/1.1 front: it accepts connections within the gate's caps
//! (over TLS when given a certificate), closes one whose request headers do not arrive within
//! the header timeout (idle ones too), and reads request bodies within their size limit and
//! the memory the gate allows.

use crate::gate::{Gate, Held, Turned};
use anyhow::{Context, Result};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Largest read buffer of a connection, its request headers included (hyper's least).
const MAX_BUFFER: usize = 8 * 1024;
/// Longest a connection stays open, however busy (one that sends requests but reads no answer
/// holds its place no longer).
const CONNECTION_LIFETIME: Duration = Duration::from_secs(120);
/// A body is read into chunks of this size.
const CHUNK: usize = 64 * 1024;

/// A TLS acceptor for `--tls-cert` and `--tls-key` (PEM files: the certificate chain, and its
/// private key).
pub fn tls(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| anyhow::anyhow!("{error}"))
        .with_context(|| format!("--tls-cert {}: not PEM certificates", cert.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "--tls-cert {} holds no certificate",
        cert.display()
    );
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|error| anyhow::anyhow!("{error}"))
        .with_context(|| format!("--tls-key {}: not a PEM private key", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("--tls-cert and --tls-key do not make a certificate and its key")?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` on `listener` until `stop` ends, each connection within `gate`'s caps; the
/// app sees each request's peer as `ConnectInfo<SocketAddr>`. Once stopped, it takes no new
/// connection and waits for the requests in flight (at most the request timeout).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    gate: Arc<Gate>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    // Out of descriptors, say: let connections close before trying again.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Over the caps, the connection is closed at once (dropped here).
        let Some(slot) = gate.connection(peer.ip()) else {
            continue;
        };
        let timeouts = Timeouts {
            header: gate.limits.header_timeout,
            request: gate.limits.request_timeout,
        };
        let (app, tls, stopped) = (app.clone(), tls.clone(), stopped.clone());
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                None => connection(stream, peer, app, (timeouts, stopped)).await,
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(timeouts.header, acceptor.accept(stream));
                    if let Ok(Ok(stream)) = handshake.await {
                        connection(stream, peer, app, (timeouts, stopped)).await;
                    }
                }
            }
        });
    }
    let _ = stopping.send(true);
    let deadline = tokio::time::Instant::now() + gate.limits.request_timeout;
    while gate.open() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A connection's timeouts: for a request's headers, and for a whole request.
#[derive(Clone, Copy)]
struct Timeouts {
    header: Duration,
    request: Duration,
}

/// Serves one connection's requests; when `stopped` turns true, it ends once the request in
/// flight (if any) is answered.
async fn connection<I>(
    io: I,
    peer: SocketAddr,
    app: Router,
    (timeouts, mut stopped): (Timeouts, tokio::sync::watch::Receiver<bool>),
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header)
        .max_buf_size(MAX_BUFFER)
        .keep_alive(true);
    let request_timeout = timeouts.request;
    let served = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(served);
    // Served until the client ends it, the service stops, or its lifetime is over; then the
    // request in flight (if any) gets a request timeout more to be answered.
    tokio::select! {
        _ = served.as_mut() => return,
        _ = async { stopped.wait_for(|stopped| *stopped).await.map(|_| ()) } => {}
        () = tokio::time::sleep(CONNECTION_LIFETIME) => {}
    }
    served.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(request_timeout, served).await;
}

/// Reads `body`, at most `limit` bytes, holding memory for it in `gate` as it arrives. Each
/// piece is copied at once into chunks of [`CHUNK`] bytes, which the gate charges whole, and
/// let go, so a connection that sends a byte at a time pins no read buffer of the server's;
/// the chunks are joined once at the end, each let go as it is copied (the charge for the
/// chunks stands for the joined body).
pub async fn read_body(
    body: Body,
    gate: &Gate,
    from: IpAddr,
    limit: usize,
) -> Result<(Vec<u8>, Held), Turned> {
    let mut body = body;
    let mut held = gate.holding(from);
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let mut length = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| Turned(400, format!("cannot read the body: {error}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        length += data.len();
        if length > limit {
            return Err(too_large(limit));
        }
        let mut rest = &data[..];
        while !rest.is_empty() {
            let room = chunks.last().map_or(0, |chunk| CHUNK - chunk.len());
            if room == 0 {
                gate.hold(&mut held, CHUNK)?;
                chunks.push(Vec::with_capacity(CHUNK));
                continue;
            }
            let (now, later) = rest.split_at(room.min(rest.len()));
            chunks
                .last_mut()
                .expect("a chunk with room")
                .extend_from_slice(now);
            rest = later;
        }
    }
    let mut bytes = Vec::with_capacity(length);
    for chunk in chunks {
        bytes.extend_from_slice(&chunk);
    }
    Ok((bytes, held))
}

/// The refusal of a body over `limit` bytes.
pub fn too_large(limit: usize) -> Turned {
    Turned(
        413,
        format!(
            "the request is larger than the {} MiB a service takes",
            limit / (1024 * 1024)
        ),
    )
}
