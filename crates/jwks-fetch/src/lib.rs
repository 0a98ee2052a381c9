//! JWKS client (docs to come).
#![forbid(unsafe_code)]

mod caching;
mod clock;
mod config;
mod diff;
mod error;
mod fetch;
mod remote;
mod url;

pub use caching::Freshness;
pub use clock::{Clock, ManualClock, Sleep, SystemClock};
pub use config::{FetchConfig, RedirectPolicy};
pub use diff::KeySetDiff;
pub use error::FetchError;
pub use fetch::{
    discovery_url, fetch_once, Conditional, DiscoveryKind, Fetched, Fetcher, JwksResponse,
    ProviderMetadata, JWKS_MEDIA_TYPES,
};
pub use remote::{CacheConfig, Event, Health, RemoteJwks, RemoteJwksBuilder, Stats};

#[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
compile_error!("jwks-fetch needs a TLS crypto provider: enable `aws-lc-rs` or `ring`");

/// The rustls crypto provider: aws-lc-rs when compiled in, else ring. Chosen by the compiler,
/// never read from rustls's process-wide default, so it cannot panic at run time.
fn tls_provider() -> rustls::crypto::CryptoProvider {
    #[cfg(feature = "aws-lc-rs")]
    let p = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    let p = rustls::crypto::ring::default_provider();
    p
}
