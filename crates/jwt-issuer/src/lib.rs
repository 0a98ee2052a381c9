//! The issuer side of JWKS: signing keys with rollover, the JWKS endpoint, and the OAuth 2.0
//! JWT Bearer token endpoint (RFC 7523).
#![forbid(unsafe_code)]

#[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
compile_error!("jwt-issuer needs a crypto backend: enable `aws-lc-rs` or `ring`");

mod client;
mod clock;
mod error;
mod keys;
mod oauth;
mod replay;
mod schedule;
mod server;
mod token;

pub use client::{form_encode, ClientError, LoopbackClient, Reply};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::Error;
pub use keys::{
    pkcs8_pem, sign_compact, write_private_file, FileProblem, JwksDocument, KeyKind, KeyManager, KeyManagerBuilder, KeyStatus,
    SigningKey,
};
pub use oauth::{OAuthErrorCode, Refusal, TokenResponse, JWT_BEARER};
pub use replay::{MemoryReplayStore, ReplayFuture, ReplayStore, ReplayStoreError, Seen};
pub use schedule::{KeyState, Schedule};
pub use server::{
    Listener, RunningServer, ServerOptions, TlsFiles, DISCOVERY_PATH, HEALTH_PATH, JWKS_PATH,
    TOKEN_PATH,
};
pub use token::{SharedClock, TokenService, TokenServiceBuilder, TrustedIssuer, MAX_JTI_LEN};
