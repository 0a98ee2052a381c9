//! The `jwkctl serve` configuration file (TOML).
//!
//! ```toml
//! # Where to listen. Default "127.0.0.1:8080".
//! listen = "0.0.0.0:8443"
//! # This service's issuer identifier: `iss` of its tokens and the base of its URLs.
//! issuer = "https://sts.example.com"
//! # Optional: the URL assertions must name in `aud`. Default "<issuer>/oauth2/token".
//! # token_endpoint = "https://sts.example.com/oauth2/token"
//! # Signing algorithms, published in this order; the first signs access tokens.
//! # RS*/PS* share one RSA key (kids "<thumbprint>_RS256", "_PS256"). Default ["RS256"].
//! # ML-DSA-44/65/87 (RFC 9964, published as kty "AKP") need the aws-lc-rs build, e.g.
//! # algorithms = ["ML-DSA-65", "RS256"] signs access tokens with ML-DSA-65.
//! algorithms = ["RS256", "PS256", "ES256", "EdDSA"]
//! # Key directory: PKCS#8 PEM files, owner-only. Shared by every instance.
//! key_dir = "/var/lib/jwkctl/keys"
//! # RSA modulus size for new keys. Default 2048.
//! rsa_bits = 2048
//! # Publish RSA keys with x5c (a self-signed certificate) and x5t#S256. Default false.
//! x5c = true
//! # Durations: an integer (seconds) or a string with ms, s, m, h or d ("90s", "10m", "7d").
//! # How long each key signs. Default "7d".
//! rotation_period = "7d"
//! # How long a new key is published before it signs; also the JWKS max-age. Default "1h".
//! prepublish = "1h"
//! # Access token lifetime. Default "5m". Retired keys stay published this long plus leeway.
//! access_token_lifetime = "5m"
//! # `aud` of access tokens. Default: the issuer.
//! access_token_audience = "https://api.example.com"
//! # Longest assertion lifetime accepted (exp - iat). Default "10m".
//! max_assertion_lifetime = "10m"
//! # Clock-skew leeway. Default "60s".
//! leeway = "60s"
//! # Largest request body in bytes. Default 65536.
//! max_body = 65536
//! # Where seen assertion jti values are kept: "memory" (this process; one instance), or
//! # "redis://[:PASSWORD@]HOST:PORT/DB" / "rediss://..." (TLS), shared by every instance.
//! # Default "memory".
//! replay_store = "memory"
//! # Replay store bound (jti values held). Default 1000000 (`serve --check` prints the memory).
//! # With Redis it is the basis of the default quotas (bound Redis itself with maxmemory).
//! replay_capacity = 1000000
//! # Quotas of that bound: unexpired jti values from one issuer's assertions, and made by one
//! # client. Defaults: half the capacity shared out among the issuers, half among the clients.
//! replay_quota_per_issuer = 250000
//! replay_quota_per_client = 250000
//! # Redis store: prefix of its keys, connection and per-command timeouts (a slower Redis is
//! # answered 503 temporarily_unavailable). Defaults "jwt-issuer:jti:", "1s", "500ms".
//! # replay_key_prefix = "jwt-issuer:jti:"
//! # replay_connect_timeout = "1s"
//! # replay_command_timeout = "500ms"
//! # rediss:// only: the CA certificate (PEM) of Redis's TLS certificate. Default: system roots.
//! # replay_ca_file = "/etc/jwkctl/redis-ca.pem"
//! # Without [[clients]]: accept unauthenticated requests as before (a warning at start).
//! # allow_unauthenticated_clients = false
//!
//! # Optional HTTPS.
//! [tls]
//! cert = "/etc/jwkctl/cert.pem"
//! key = "/etc/jwkctl/key.pem"
//!
//! # One table per identity provider whose assertions are accepted.
//! [[trusted_issuers]]
//! issuer = "https://idp.example.com"
//! # Either its JWKS URL ...
//! jwks_uri = "https://idp.example.com/oauth2/jwks"
//! # ... or `discovery = true` to read it from <issuer>/.well-known/openid-configuration.
//! # Algorithms accepted from it. Default: every asymmetric algorithm.
//! algorithms = ["RS256", "PS256"]
//! # The `aud` its assertions must name. Default: token_endpoint or issuer.
//! # audience = "https://sts.example.com/oauth2/token"
//! # Scopes it may request. Default: none.
//! scopes = ["read", "write"]
//! # Extra CA certificate (PEM) for its HTTPS server. Optional.
//! # ca_file = "/etc/jwkctl/idp-ca.pem"
//! # Allow plain http:// to a loopback address (tests only). Default false.
//! # allow_http_loopback = false
//! # Copy its `sub` into access tokens unchanged, instead of "<issuer>#<sub>". Only allowed
//! # when it is the only trusted issuer. Default false.
//! # subjects_as_is = false
//!
//! # One table per client allowed to exchange assertions (RFC 6749 2.3, RFC 7523 2.2).
//! [[clients]]
//! client_id = "reports-app"
//! # client_secret_basic | client_secret_post | private_key_jwt | none
//! auth_method = "private_key_jwt"
//! # private_key_jwt: its JWKS URL (fetched and cached like a trusted issuer's) ...
//! jwks_uri = "https://reports.example.com/jwks.json"
//! # ... or its keys inline, as a JWK Set (a TOML table or a JSON string):
//! # jwks = '{"keys":[{"kty":"EC","crv":"P-256","x":"...","y":"..."}]}'
//! # Algorithms of its assertions. Default: every asymmetric algorithm.
//! algorithms = ["ES256"]
//! # ca_file / allow_http_loopback: as for trusted issuers, for jwks_uri.
//! # The trusted issuers whose assertions it may exchange, and the scopes it may get.
//! trusted_issuers = ["https://idp.example.com"]
//! scopes = ["read"]
//!
//! [[clients]]
//! client_id = "batch-job"
//! auth_method = "client_secret_basic"
//! # The Argon2id hash `jwkctl client-secret-hash` prints (never the secret itself).
//! client_secret_hash = "$argon2id$v=19$m=19456,t=2,p=1$7EjeP3xBhOY9cXlR0NDnFw$aR/gD0xzmG7kZ6tXYGYbZ7nB4NPxBrEppW7H7TAV2vU"
//! trusted_issuers = ["https://idp.example.com"]
//! scopes = ["read", "write"]
//!
//! [[clients]]
//! client_id = "cli"
//! auth_method = "none"
//! trusted_issuers = ["https://idp.example.com"]
//! scopes = ["read"]
//! ```

use core::time::Duration;
use std::path::PathBuf;

use jwk_core::Algorithm;
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    #[serde(default = "default_listen")]
    pub(crate) listen: String,
    pub(crate) issuer: String,
    pub(crate) token_endpoint: Option<String>,
    #[serde(default = "default_algorithms")]
    pub(crate) algorithms: Vec<String>,
    pub(crate) key_dir: PathBuf,
    #[serde(default = "default_rsa_bits")]
    pub(crate) rsa_bits: usize,
    #[serde(default)]
    pub(crate) x5c: bool,
    #[serde(default)]
    pub(crate) rotation_period: Option<Span>,
    #[serde(default)]
    pub(crate) prepublish: Option<Span>,
    #[serde(default)]
    pub(crate) access_token_lifetime: Option<Span>,
    pub(crate) access_token_audience: Option<String>,
    #[serde(default)]
    pub(crate) max_assertion_lifetime: Option<Span>,
    #[serde(default)]
    pub(crate) leeway: Option<Span>,
    pub(crate) max_body: Option<usize>,
    pub(crate) replay_capacity: Option<usize>,
    #[serde(default = "default_replay_store")]
    pub(crate) replay_store: String,
    pub(crate) replay_key_prefix: Option<String>,
    #[serde(default)]
    pub(crate) replay_connect_timeout: Option<Span>,
    #[serde(default)]
    pub(crate) replay_command_timeout: Option<Span>,
    pub(crate) replay_ca_file: Option<PathBuf>,
    pub(crate) replay_quota_per_issuer: Option<usize>,
    pub(crate) replay_quota_per_client: Option<usize>,
    #[serde(default)]
    pub(crate) allow_unauthenticated_clients: bool,
    pub(crate) tls: Option<Tls>,
    #[serde(default)]
    pub(crate) trusted_issuers: Vec<Trusted>,
    #[serde(default)]
    pub(crate) clients: Vec<ClientConfig>,
}

/// One `[[clients]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientConfig {
    pub(crate) client_id: String,
    pub(crate) auth_method: AuthMethod,
    pub(crate) client_secret_hash: Option<String>,
    pub(crate) jwks_uri: Option<String>,
    pub(crate) jwks: Option<InlineJwks>,
    #[serde(default)]
    pub(crate) algorithms: Vec<String>,
    pub(crate) ca_file: Option<PathBuf>,
    #[serde(default)]
    pub(crate) allow_http_loopback: bool,
    #[serde(default)]
    pub(crate) trusted_issuers: Vec<String>,
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
}

/// `auth_method`: the RFC 7591 names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
}

/// Inline `jwks`: a TOML table or a JSON string holding a JWK Set.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum InlineJwks {
    Json(String),
    Table(serde_json::Value),
}

impl InlineJwks {
    /// The JWK Set's JSON text.
    pub(crate) fn json(&self) -> String {
        match self {
            InlineJwks::Json(s) => s.clone(),
            InlineJwks::Table(v) => v.to_string(),
        }
    }
}

/// `[tls]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tls {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

/// One `[[trusted_issuers]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Trusted {
    pub(crate) issuer: String,
    pub(crate) jwks_uri: Option<String>,
    #[serde(default)]
    pub(crate) discovery: bool,
    #[serde(default)]
    pub(crate) algorithms: Vec<String>,
    pub(crate) audience: Option<String>,
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    pub(crate) ca_file: Option<PathBuf>,
    #[serde(default)]
    pub(crate) allow_http_loopback: bool,
    #[serde(default)]
    pub(crate) subjects_as_is: bool,
}

/// A duration: integer seconds or `"<n>s|m|h|d"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "SpanRepr")]
pub(crate) struct Span(pub(crate) Duration);

#[derive(Deserialize)]
#[serde(untagged)]
enum SpanRepr {
    Secs(u64),
    Text(String),
}

impl TryFrom<SpanRepr> for Span {
    type Error = String;
    fn try_from(r: SpanRepr) -> Result<Span, String> {
        match r {
            SpanRepr::Secs(s) => Ok(Span(Duration::from_secs(s))),
            SpanRepr::Text(t) => parse_span(&t).map(Span),
        }
    }
}

/// `"500ms"`, `"90s"`, `"10m"`, `"1h"`, `"7d"`, or digits alone (seconds).
pub(crate) fn parse_span(t: &str) -> Result<Duration, String> {
    let t = t.trim();
    if let Some(ms) = t.strip_suffix("ms") {
        return ms
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("duration {t:?}: expected a number then ms, s, m, h or d"));
    }
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("duration {t:?}: expected a number then ms, s, m, h or d"))?;
    let mul = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("duration {t:?}: unit must be ms, s, m, h or d")),
    };
    n.checked_mul(mul)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("duration {t:?} is too large"))
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}

fn default_replay_store() -> String {
    "memory".into()
}

fn default_algorithms() -> Vec<String> {
    vec!["RS256".into()]
}

fn default_rsa_bits() -> usize {
    2048
}

impl Config {
    /// Parses the TOML text.
    pub(crate) fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

/// Algorithm names as parsed; an unknown name is an error here, not later.
pub(crate) fn algorithms(names: &[String]) -> Result<Vec<Algorithm>, String> {
    names
        .iter()
        .map(|n| match Algorithm::parse(n) {
            Algorithm::Unknown | Algorithm::None => Err(format!("unknown algorithm {n:?}")),
            a => Ok(a),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans() {
        assert_eq!(parse_span("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_span("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_span("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_span("15"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_span("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_span("ms").is_err());
        assert!(parse_span("1w").is_err());
        assert!(parse_span("m").is_err());
        assert!(parse_span("99999999999999999999d").is_err());
    }

    #[test]
    fn readme_config_parses_and_is_complete() {
        // The config in the README's "Running the token service" section.
        let readme = include_str!("../../../../README.md");
        let section = readme
            .split("## Running the token service")
            .nth(1)
            .expect("README section");
        let toml_block = section
            .split("```toml\n")
            .nth(1)
            .and_then(|b| b.split("```").next())
            .expect("toml block");
        let c = Config::parse(toml_block).unwrap();
        assert_eq!(c.trusted_issuers.len(), 2);
        let methods: Vec<AuthMethod> = c.clients.iter().map(|c| c.auth_method).collect();
        assert_eq!(
            methods,
            [
                AuthMethod::PrivateKeyJwt,
                AuthMethod::ClientSecretBasic,
                AuthMethod::None
            ]
        );
        for cl in &c.clients {
            if let Some(h) = &cl.client_secret_hash {
                jwt_issuer::SecretHash::parse(h).unwrap();
            }
        }
        assert!(c.tls.is_some() && c.replay_quota_per_client.is_some());
    }

    #[test]
    fn documented_example_parses() {
        // The example in this module's docs, minus the comment markers.
        let doc: String = include_str!("config.rs")
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").trim_start())
            .collect::<Vec<_>>()
            .join("\n");
        let c = Config::parse(&doc).unwrap();
        assert_eq!(c.algorithms, ["RS256", "PS256", "ES256", "EdDSA"]);
        assert_eq!(c.trusted_issuers.len(), 1);
        assert_eq!(c.clients.len(), 3);
        assert_eq!(c.clients[0].auth_method, AuthMethod::PrivateKeyJwt);
        assert_eq!(c.clients[2].auth_method, AuthMethod::None);
        // The exact shape other tools write for a public client.
        let public = Config::parse(
            r#"issuer = "x"
               key_dir = "k"
               [[clients]]
               client_id = "cli"
               auth_method = "none"
               trusted_issuers = ["https://idp.example"]
               scopes = ["read"]"#,
        )
        .unwrap();
        assert_eq!(public.clients[0].trusted_issuers, ["https://idp.example"]);
        assert!(Config::parse(
            "issuer = \"x\"\nkey_dir = \"k\"\n[[clients]]\nclient_id = \"c\"\nauth_method = \"basic\""
        )
        .is_err());
        // Inline jwks as a table or as JSON text.
        let inline = Config::parse(
            r#"issuer = "x"
               key_dir = "k"
               [[clients]]
               client_id = "a"
               auth_method = "private_key_jwt"
               jwks = { keys = [ { kty = "OKP", crv = "Ed25519", x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" } ] }
               [[clients]]
               client_id = "b"
               auth_method = "private_key_jwt"
               jwks = '{"keys":[]}'"#,
        )
        .unwrap();
        let j = inline.clients[0].jwks.as_ref().unwrap().json();
        assert!(jwk_core::JwkSet::parse(j.as_bytes()).is_ok(), "{j}");
        assert_eq!(
            inline.clients[1].jwks.as_ref().unwrap().json(),
            r#"{"keys":[]}"#
        );
        assert_eq!(c.prepublish, Some(Span(Duration::from_secs(3600))));
        assert!(c.tls.is_some());
        assert_eq!(c.replay_store, "memory");
        assert!(Config::parse("issuer = \"x\"\nkey_dir = \"k\"\nbogus = 1").is_err());
    }
}
