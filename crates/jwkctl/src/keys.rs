//! Where keys come from: a file, a JWK Set URL, or an issuer's OpenID Connect discovery
//! document. A one-shot tool needs no cache: the URL variants fetch the document once with
//! `jwks-fetch` (HTTPS, bounded in time and size, `--ca-file` trust anchors) on a
//! current-thread runtime, and the set is then used like a file's. Fetched sets never yield
//! `oct` keys (`jwks-fetch` sets them aside). Plain http only with `--allow-http`, for
//! loopback hosts, as `jwks watch` has it; messages name the CLI's flags, never a library
//! option.

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
    /// An issuer: its OpenID Connect discovery document (or RFC 8414 metadata) names the
    /// JWK Set URL; without --iss, tokens must come from this issuer.
    #[arg(long, value_name = "ISSUER_URL")]
    pub(crate) discovery: Option<String>,
}

/// How remote key sources are reached (`--ca-file`, `--allow-http`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Remote<'a> {
    /// Extra trust anchors (PEM) for HTTPS.
    pub(crate) ca_file: Option<&'a Path>,
    /// Plain http for loopback hosts.
    pub(crate) allow_http: bool,
}

/// Keys ready for a validator.
#[derive(Debug)]
pub(crate) struct Keys {
    /// The set, read or fetched once.
    pub(crate) set: JwkSet,
    /// The issuer whose discovery document named the set (`--discovery`).
    pub(crate) issuer: Option<String>,
}

impl Keys {
    fn from_set(set: JwkSet) -> Self {
        Keys { set, issuer: None }
    }
}

/// Why no keys could be had; always exit 2 with `jwks_unavailable`.
#[derive(Debug)]
pub(crate) struct Unavailable(pub(crate) String);

/// Loads the key source named by `args`. `how` applies to the URL sources.
pub(crate) fn load(args: &SourceArgs, how: Remote<'_>) -> Result<Keys, Unavailable> {
    if let Some(path) = &args.jwks {
        return read_file(path).map(Keys::from_set);
    }
    if let Some(issuer) = &args.discovery {
        return discover(issuer, how);
    }
    remote(args.jwks_url.as_deref().unwrap_or_default(), how)
}

/// A fetch error in the CLI's words: without the URL (the caller's message names it once)
/// and naming the CLI's flags rather than the library's options.
pub(crate) fn fetch_error(e: &jwks_fetch::FetchError) -> String {
    use jwks_fetch::FetchError;
    let detail = match e {
        FetchError::InsecureUrl { .. } => {
            "plain http is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost), \
             with --allow-http; use https"
                .to_owned()
        }
        FetchError::InvalidUrl { reason, .. } => format!("invalid URL: {reason}"),
        other => other.to_string(),
    };
    format!("{detail} ({})", e.code())
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

/// A JWK Set fetched once over HTTPS (or loopback http with `--allow-http`).
pub(crate) fn remote(url: &str, how: Remote<'_>) -> Result<Keys, Unavailable> {
    let cfg = fetch_config(how);
    let fetched = runtime()?
        .block_on(jwks_fetch::fetch_once(url, &cfg))
        .map_err(|e| {
            Unavailable(format!(
                "cannot fetch the JWK Set at {url}: {}",
                fetch_error(&e)
            ))
        })?;
    Ok(Keys::from_set(fetched.jwks))
}

/// The JWK Set named by `issuer`'s OpenID Connect discovery document, or its RFC 8414
/// authorization server metadata when there is no OpenID document.
fn discover(issuer: &str, how: Remote<'_>) -> Result<Keys, Unavailable> {
    let cfg = fetch_config(how);
    let rt = runtime()?;
    // OpenID Connect discovery first; RFC 8414 metadata when the OpenID document is absent.
    let meta = match rt.block_on(jwks_fetch::discover_once(
        issuer,
        jwks_fetch::DiscoveryKind::OpenId,
        &cfg,
    )) {
        Err(e) if e.code() == "http_status" => rt.block_on(jwks_fetch::discover_once(
            issuer,
            jwks_fetch::DiscoveryKind::OAuth,
            &cfg,
        )),
        other => other,
    }
    .map_err(|e| {
        Unavailable(format!(
            "discovery for {issuer} failed: {}",
            fetch_error(&e)
        ))
    })?;
    let fetched = rt
        .block_on(jwks_fetch::fetch_once(&meta.jwks_uri, &cfg))
        .map_err(|e| {
            Unavailable(format!(
                "cannot fetch the JWK Set at {} (from {issuer}'s discovery document): {}",
                meta.jwks_uri,
                fetch_error(&e)
            ))
        })?;
    Ok(Keys {
        set: fetched.jwks,
        issuer: Some(meta.issuer),
    })
}

fn fetch_config(how: Remote<'_>) -> jwks_fetch::FetchConfig {
    let cfg = jwks_fetch::FetchConfig::default().with_allow_http_loopback(how.allow_http);
    match how.ca_file {
        Some(path) => cfg.with_ca_file(path),
        None => cfg,
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Unavailable> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Unavailable(format!("cannot start the I/O runtime: {e}")))
}
