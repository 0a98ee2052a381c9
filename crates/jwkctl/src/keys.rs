//! Where keys come from: a file now; `--jwks-url` / `--discovery` once `jwks-fetch` exists.
//!
//! Wiring the fetcher: make [`load`] return a remote `KeySource` for the URL variants (add a
//! `Keys::Remote(Arc<dyn jwt_validate::KeySource>)` arm) and have `verify` call
//! `validate_async` on a runtime for it. Nothing else changes.

use std::path::{Path, PathBuf};

use jwk_core::{Jwk, JwkSet};

use crate::input;

/// The key source arguments shared by `verify` (exactly one is required).
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub(crate) struct SourceArgs {
    /// A JWK Set file, or a file holding one bare JWK.
    #[arg(long, value_name = "FILE")]
    pub(crate) jwks: Option<PathBuf>,
    /// A JWK Set URL (HTTPS).
    #[arg(long, value_name = "URL")]
    pub(crate) jwks_url: Option<String>,
    /// An OpenID Connect / OAuth issuer: its discovery document names the JWK Set URL.
    #[arg(long, value_name = "ISSUER_URL")]
    pub(crate) discovery: Option<String>,
}

/// Keys ready for a validator.
#[derive(Debug)]
pub(crate) enum Keys {
    /// A set read from a file.
    Static(JwkSet),
}

/// Why no keys could be had; always exit 2 with `jwks_unavailable`.
#[derive(Debug)]
pub(crate) struct Unavailable(pub(crate) String);

/// Loads the key source named by `args`. `ca_file` applies to HTTPS sources.
pub(crate) fn load(args: &SourceArgs, ca_file: Option<&Path>) -> Result<Keys, Unavailable> {
    if let Some(path) = &args.jwks {
        return read_file(path).map(Keys::Static);
    }
    let url = args
        .jwks_url
        .as_deref()
        .or(args.discovery.as_deref())
        .unwrap_or_default();
    remote(url, ca_file)
}

/// A file holding a JWK Set or one bare JWK.
pub(crate) fn read_file(path: &Path) -> Result<JwkSet, Unavailable> {
    let bytes = input::file(path).map_err(Unavailable)?;
    parse_document(&bytes).map_err(|e| Unavailable(format!("{}: {e}", path.display())))
}

/// A JWK Set document, or one bare JWK (an object without `keys`).
pub(crate) fn parse_document(bytes: &[u8]) -> Result<JwkSet, String> {
    let value = jwk_core::json::parse_value(bytes, jwk_core::Part::JwkSet)
        .map_err(|e| format!("not a JWK Set: {e}"))?;
    if value.get("keys").is_some() {
        return JwkSet::parse(bytes).map_err(|e| format!("not a JWK Set: {e}"));
    }
    let jwk = Jwk::parse(bytes).map_err(|e| format!("neither a JWK Set nor a JWK: {e}"))?;
    jwk.usable_for_verify()
        .map_err(|e| format!("the JWK cannot verify signatures: {e}"))?;
    Ok(JwkSet::new(vec![jwk]))
}

/// HTTPS sources: not built yet.
pub(crate) fn remote(url: &str, _ca_file: Option<&Path>) -> Result<Keys, Unavailable> {
    Err(Unavailable(format!(
        "cannot fetch {url:?}: fetching keys over HTTPS (jwks-fetch) is not built into this \
         jwkctl yet; download the JWK Set and pass it with --jwks FILE"
    )))
}
