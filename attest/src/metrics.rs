//! What the co-signing service counts, for Prometheus: with `--metrics ADDR`, `GET /metrics`
//! (the OpenMetrics text format Prometheus scrapes) and `GET /health` on that address, apart
//! from the service's own port (which may face the internet while this one should not).

use axum::http::StatusCode;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The content type of the OpenMetrics text format.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Refusal {
    /// The HTTP status the refusal was answered with, its reason's class: 400 a malformed
    /// request, 403 not this service's to sign, 404 an account missing, 409 units that add
    /// nothing (or the wrong route for this service), 422 evidence or terms that do not check,
    /// 429 a caller over its rate, 503 the ledger unreachable or the review too slow.
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Route {
    pub route: String,
}

/// The service's counters.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Receipts reviewed and signed (a key's signature, or a group member's commitment).
    pub cosigned: Counter,
    /// Co-signing requests refused, by the status of the refusal.
    pub refused: Family<Refusal, Counter>,
    /// Reads of the ledger that failed.
    pub ledger_errors: Counter,
    /// Seconds each request took, by route.
    pub latency: Family<Route, Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tessera_attest");
        let cosigned = Counter::default();
        registry.register(
            "receipts_cosigned",
            "Receipts reviewed and signed (a key's signature, or a group member's commitment)",
            cosigned.clone(),
        );
        let refused = Family::<Refusal, Counter>::default();
        registry.register(
            "receipts_refused",
            "Co-signing requests refused, by the HTTP status of the refusal (400 malformed, 403 not this service's, 404 missing account, 409 nothing new or wrong route, 422 does not check, 429 over rate, 503 ledger unreachable or too slow)",
            refused.clone(),
        );
        let ledger_errors = Counter::default();
        registry.register(
            "ledger_errors",
            "Reads of the ledger that failed",
            ledger_errors.clone(),
        );
        let latency = Family::<Route, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register(
            "request_seconds",
            "Seconds each request took, by route",
            latency.clone(),
        );
        Self {
            registry,
            cosigned,
            refused,
            ledger_errors,
            latency,
        }
    }
}

impl Metrics {
    /// Counts a co-signing request's answer: signed, or refused with `status`.
    pub fn answered(&self, refused_with: Option<StatusCode>) {
        match refused_with {
            None => {
                self.cosigned.inc();
            }
            Some(status) => {
                self.refused
                    .get_or_create(&Refusal {
                        status: status.as_u16().to_string(),
                    })
                    .inc();
            }
        }
    }

    /// The counters in the OpenMetrics text format.
    pub fn text(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}
