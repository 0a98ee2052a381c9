//! The JWT Bearer grant (RFC 7523): an identity provider's assertion in, an RFC 9068 access
//! token out, for a registered client that authenticated itself.

use core::time::Duration;
use std::collections::HashMap;
use std::sync::Arc;

use jwk_core::{Algorithm, Audience, Limits, UnverifiedJws};
use jwt_validate::{KeySource, Validator};
use serde_json::{json, Value};

use crate::clients::{
    decode_basic, Client, ClientAuth, Presented, SecretHash, CLIENT_ASSERTION_TYPE, MAX_SECRET_LEN,
};
use crate::clock::Clock;
use crate::error::Error;
use crate::keys::KeyManager;
use crate::oauth::{parse_form, parse_scope, OAuthErrorCode, Refusal, TokenResponse, JWT_BEARER};
use crate::replay::{AssertionKind, MemoryReplayStore, ReplayEntry, ReplayStore, Seen};

/// Longest `jti` accepted (bounds the work per replay check).
pub const MAX_JTI_LEN: usize = 256;
/// Longest `sub` copied into an access token.
const MAX_SUB_LEN: usize = 1024;
/// Longest `client_id` parameter accepted.
const MAX_CLIENT_ID_LEN: usize = 256;
/// Retry hint when the replay store cannot answer: it is usually back within a second or two
/// (a Redis failover or restart), and the client loses nothing by retrying.
const STORE_RETRY_AFTER: Duration = Duration::from_secs(1);
/// Retry hint when a key source gives none.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(10);
/// Separator between the issuer and the subject in a prefixed `sub`. Issuer identifiers
/// have no fragment (RFC 8414 section 2), and a prefixed issuer may not contain it, so the
/// first `#` of an access token's `sub` ends the issuer: distinct `(iss, sub)` pairs give
/// distinct values.
pub const SUBJECT_SEPARATOR: char = '#';

/// An identity provider whose assertions this service accepts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TrustedIssuer {
    /// Its `iss` value, compared exactly.
    pub issuer: String,
    /// Its keys: a `jwks-fetch` remote set (fetched, cached, refreshed on unknown `kid`) or
    /// static keys.
    pub keys: Arc<dyn KeySource>,
    /// Algorithms accepted from it. Default (empty): every asymmetric algorithm.
    pub algorithms: Vec<Algorithm>,
    /// Scopes it may request. Default: none (a request with `scope` is `invalid_scope`).
    pub scopes: Vec<String>,
    /// The `aud` its assertions must name. Default (`None`): this service's token endpoint
    /// URL or its issuer identifier (RFC 7523 section 3, item 3).
    pub audience: Option<String>,
    /// Use its `sub` values as they are in access tokens, instead of `<issuer>#<sub>`.
    /// Only allowed when it is the only trusted issuer (else two identity providers could
    /// name the same user). Default: false.
    pub subjects_as_is: bool,
}

impl TrustedIssuer {
    /// Trusts `issuer` with keys from `keys`, default algorithms, no scopes.
    pub fn new(issuer: impl Into<String>, keys: Arc<dyn KeySource>) -> Self {
        TrustedIssuer {
            issuer: issuer.into(),
            keys,
            algorithms: Vec::new(),
            scopes: Vec::new(),
            audience: None,
            subjects_as_is: false,
        }
    }

    /// Accept only these algorithms.
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algs.into_iter().collect();
        self
    }

    /// The `aud` this issuer's assertions must name, instead of the token endpoint URL or
    /// issuer identifier.
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audience = Some(aud.into());
        self
    }

    /// Scopes this issuer's subjects may be granted.
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Copy its `sub` values into access tokens unchanged (single identity provider only).
    pub fn subjects_as_is(mut self, as_is: bool) -> Self {
        self.subjects_as_is = as_is;
        self
    }
}

/// Builds a [`TokenService`]. Defaults in each method's doc.
#[derive(Debug)]
pub struct TokenServiceBuilder {
    issuer: String,
    token_endpoint: Option<String>,
    keys: KeyManager,
    trusted: Vec<TrustedIssuer>,
    clients: Vec<Client>,
    allow_unauthenticated_clients: bool,
    access_token_lifetime: Duration,
    access_token_audience: Option<String>,
    max_assertion_lifetime: Duration,
    leeway: Duration,
    require_jti: bool,
    replay: Option<Arc<dyn ReplayStore>>,
}

impl TokenServiceBuilder {
    /// The token endpoint URL assertions must name in `aud` (the issuer identifier is
    /// accepted too). Default: `<issuer>/oauth2/token`.
    pub fn token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.token_endpoint = Some(url.into());
        self
    }

    /// Accept assertions from this issuer (call once per issuer).
    pub fn trust(mut self, issuer: TrustedIssuer) -> Self {
        self.trusted.push(issuer);
        self
    }

    /// Register a client (call once per client). With at least one, every request must
    /// authenticate as a registered client.
    pub fn client(mut self, client: Client) -> Self {
        self.clients.push(client);
        self
    }

    /// With no registered client: accept requests without client authentication, the
    /// access token's `client_id` taken from the assertion (`client_id`, `azp` or `iss`).
    /// Without this, a service that trusts an issuer needs at least one client. Default: off.
    pub fn allow_unauthenticated_clients(mut self, allow: bool) -> Self {
        self.allow_unauthenticated_clients = allow;
        self
    }

    /// Lifetime of issued access tokens. Default 300 s. Must fit in the key schedule's
    /// retirement period (minus leeway), so a retired key outlives every token it signed.
    pub fn access_token_lifetime(mut self, d: Duration) -> Self {
        self.access_token_lifetime = d;
        self
    }

    /// `aud` of issued access tokens (the resource servers). Default: the issuer identifier.
    pub fn access_token_audience(mut self, aud: impl Into<String>) -> Self {
        self.access_token_audience = Some(aud.into());
        self
    }

    /// Longest accepted assertion lifetime (grants and client assertions): `exp` at most
    /// this far after `iat` (or after now, without `iat`). Default 600 s.
    pub fn max_assertion_lifetime(mut self, d: Duration) -> Self {
        self.max_assertion_lifetime = d;
        self
    }

    /// Clock-skew leeway for `exp`, `nbf` and `iat`. Default 60 s.
    pub fn leeway(mut self, d: Duration) -> Self {
        self.leeway = d;
        self
    }

    /// Whether grant assertions must carry `jti` (without one, replay cannot be detected).
    /// Default: required. Client assertions always must.
    pub fn require_jti(mut self, required: bool) -> Self {
        self.require_jti = required;
        self
    }

    /// Where seen `jti` values are kept. Default: a [`MemoryReplayStore`] with its default
    /// bound and fair quotas for the configured issuers and clients (right for one instance;
    /// several instances need a shared store).
    pub fn replay_store(mut self, store: Arc<dyn ReplayStore>) -> Self {
        self.replay = Some(store);
        self
    }

    /// Checks the configuration and builds one validator per trusted issuer and per
    /// `private_key_jwt` client.
    pub fn build(self) -> Result<TokenService, Error> {
        if self.issuer.is_empty() {
            return Err(Error::config("the issuer identifier is empty"));
        }
        let retire = self.keys.schedule().retire_for;
        if self.access_token_lifetime.is_zero() || self.access_token_lifetime + self.leeway > retire
        {
            return Err(Error::config(format!(
                "access token lifetime {} s plus leeway {} s must be positive and fit in the \
                 key retirement period {} s",
                self.access_token_lifetime.as_secs(),
                self.leeway.as_secs(),
                retire.as_secs()
            )));
        }
        if self.max_assertion_lifetime.is_zero() {
            return Err(Error::config("max assertion lifetime is zero"));
        }
        if !self.trusted.is_empty()
            && self.clients.is_empty()
            && !self.allow_unauthenticated_clients
        {
            return Err(Error::config(
                "no client is registered: register the clients allowed to exchange assertions \
                 (or explicitly allow unauthenticated clients)",
            ));
        }
        if self.trusted.len() > 1 {
            if let Some(t) = self.trusted.iter().find(|t| t.subjects_as_is) {
                return Err(Error::config(format!(
                    "trusted issuer {:?} keeps its subjects as they are, which is only allowed \
                     for a single trusted issuer: with several, two could name the same user",
                    t.issuer
                )));
            }
        }
        let token_endpoint = self
            .token_endpoint
            .unwrap_or_else(|| format!("{}/oauth2/token", self.issuer.trim_end_matches('/')));
        let clock = self.keys.clock().clone();
        let mut trusted = HashMap::new();
        for t in self.trusted {
            if trusted.contains_key(&t.issuer) {
                return Err(Error::config(format!(
                    "trusted issuer {:?} listed twice",
                    t.issuer
                )));
            }
            if !t.subjects_as_is && t.issuer.contains(SUBJECT_SEPARATOR) {
                return Err(Error::config(format!(
                    "trusted issuer {:?} contains {SUBJECT_SEPARATOR:?}, which separates the \
                     issuer from the subject in access tokens",
                    t.issuer
                )));
            }
            let mut b = Validator::builder()
                .shared_key_source(t.keys.clone())
                .issuer(t.issuer.clone())
                .require("sub")
                .leeway(self.leeway)
                .clock(clock.clone())
                // RFC 7523 assertions are small; 16 KiB bounds the work per request.
                .limits(Limits::default());
            b = match &t.audience {
                Some(aud) => b.audience(aud.clone()),
                None => b
                    .audience(token_endpoint.clone())
                    .audience(self.issuer.clone()),
            };
            if self.require_jti {
                b = b.require("jti");
            }
            if !t.algorithms.is_empty() {
                b = b.algorithms(t.algorithms.clone());
            }
            let validator = b
                .build()
                .map_err(|e| Error::config(format!("trusted issuer {:?}: {e}", t.issuer)))?;
            trusted.insert(
                t.issuer.clone(),
                Trusted {
                    validator,
                    scopes: t.scopes,
                    subjects_as_is: t.subjects_as_is,
                },
            );
        }
        let mut clients = HashMap::new();
        for c in self.clients {
            if c.client_id.is_empty() || c.client_id.len() > MAX_CLIENT_ID_LEN {
                return Err(Error::config(format!(
                    "client id {:?} is empty or longer than {MAX_CLIENT_ID_LEN} bytes",
                    c.client_id
                )));
            }
            if clients.contains_key(&c.client_id) {
                return Err(Error::config(format!(
                    "client {:?} listed twice",
                    c.client_id
                )));
            }
            if let Some(i) = c.trusted_issuers.iter().find(|i| !trusted.contains_key(*i)) {
                return Err(Error::config(format!(
                    "client {:?} names {i:?} in trusted_issuers, which is not a trusted issuer",
                    c.client_id
                )));
            }
            let validator = match &c.auth {
                ClientAuth::PrivateKeyJwt { keys, algorithms } => {
                    // RFC 7523 3 and its 2025 update: iss = sub = client_id, aud = this
                    // authorization server's issuer identifier, exp required, jti required.
                    let mut b = Validator::builder()
                        .shared_key_source(keys.clone())
                        .issuer(c.client_id.clone())
                        .subject(c.client_id.clone())
                        .audience(self.issuer.clone())
                        .require("jti")
                        .leeway(self.leeway)
                        .clock(clock.clone())
                        .limits(Limits::default());
                    if !algorithms.is_empty() {
                        b = b.algorithms(algorithms.clone());
                    }
                    Some(
                        b.build()
                            .map_err(|e| Error::config(format!("client {:?}: {e}", c.client_id)))?,
                    )
                }
                _ => None,
            };
            clients.insert(
                c.client_id.clone(),
                ClientEntry {
                    client: c,
                    validator,
                },
            );
        }
        let replay = match self.replay {
            Some(r) => r,
            None => Arc::new(MemoryReplayStore::fair(
                MemoryReplayStore::DEFAULT_CAPACITY,
                trusted.len(),
                clients.len(),
            )),
        };
        Ok(TokenService {
            inner: Arc::new(Inner {
                audience: self
                    .access_token_audience
                    .unwrap_or_else(|| self.issuer.clone()),
                issuer: self.issuer,
                token_endpoint,
                keys: self.keys,
                trusted,
                clients,
                access_token_lifetime: self.access_token_lifetime,
                max_assertion_lifetime: self.max_assertion_lifetime,
                leeway: self.leeway,
                replay,
                clock,
                dummy_secret: std::sync::OnceLock::new(),
            }),
        })
    }
}

/// A hash no secret matches, checked for unknown clients so that they take as long as known
/// ones (the client ids cannot be found by timing). Made on first use.
fn dummy_secret() -> Option<SecretHash> {
    crate::clients::hash_client_secret(&jwk_core::b64::encode(&rand::random::<[u8; 24]>()))
        .ok()
        .and_then(|h| SecretHash::parse(&h).ok())
}

/// The token endpoint's logic, without HTTP: a form body (and the `Authorization` header) in,
/// a token response or a refusal out. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TokenService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    issuer: String,
    token_endpoint: String,
    audience: String,
    keys: KeyManager,
    trusted: HashMap<String, Trusted>,
    clients: HashMap<String, ClientEntry>,
    access_token_lifetime: Duration,
    max_assertion_lifetime: Duration,
    leeway: Duration,
    replay: Arc<dyn ReplayStore>,
    clock: Arc<dyn Clock>,
    dummy_secret: std::sync::OnceLock<Option<SecretHash>>,
}

#[derive(Debug)]
struct Trusted {
    validator: Validator,
    scopes: Vec<String>,
    subjects_as_is: bool,
}

#[derive(Debug)]
/// A client the issuer knows, with its assertion validator.
struct ClientEntry {
    client: Client,
    /// For `private_key_jwt`.
    validator: Option<Validator>,
}

/// Who is asking, once authenticated.
enum Caller<'a> {
    /// A registered client; for `private_key_jwt`, its assertion's `jti` and expiry, recorded
    /// once the grant has been checked.
    Client(&'a ClientEntry, Option<(String, i64)>),
    /// No client registered and unauthenticated clients allowed: the `client_id` parameter,
    /// if any.
    Unauthenticated(Option<String>),
}

impl TokenService {
    /// Starts building a service for the issuer identifier `issuer` (its URL), signing with
    /// `keys`.
    pub fn builder(issuer: impl Into<String>, keys: KeyManager) -> TokenServiceBuilder {
        TokenServiceBuilder {
            issuer: issuer.into(),
            token_endpoint: None,
            keys,
            trusted: Vec::new(),
            clients: Vec::new(),
            allow_unauthenticated_clients: false,
            access_token_lifetime: Duration::from_secs(300),
            access_token_audience: None,
            max_assertion_lifetime: Duration::from_secs(600),
            leeway: Duration::from_secs(60),
            require_jti: true,
            replay: None,
        }
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The token endpoint URL.
    pub fn token_endpoint(&self) -> &str {
        &self.inner.token_endpoint
    }

    /// The replay store.
    pub fn replay_store(&self) -> &Arc<dyn ReplayStore> {
        &self.inner.replay
    }

    /// The key manager.
    pub fn keys(&self) -> &KeyManager {
        &self.inner.keys
    }

    /// The trusted issuers' identifiers.
    pub fn trusted_issuers(&self) -> impl Iterator<Item = &str> {
        self.inner.trusted.keys().map(String::as_str)
    }

    /// The registered clients' identifiers.
    pub fn clients(&self) -> impl Iterator<Item = &str> {
        self.inner.clients.keys().map(String::as_str)
    }

    /// The client authentication methods in use (discovery's
    /// `token_endpoint_auth_methods_supported`), sorted.
    pub fn auth_methods(&self) -> Vec<&'static str> {
        let mut m: Vec<&'static str> = if self.inner.clients.is_empty() {
            vec!["none"]
        } else {
            self.inner
                .clients
                .values()
                .map(|r| r.client.auth.method())
                .collect()
        };
        m.sort_unstable();
        m.dedup();
        m
    }

    /// The algorithms `private_key_jwt` client assertions may use (discovery's
    /// `token_endpoint_auth_signing_alg_values_supported`, required by RFC 8414 when
    /// `private_key_jwt` is listed); empty without such a client.
    pub fn auth_signing_algs(&self) -> Vec<&'static str> {
        let provider = jws_crypto::default_provider();
        let mut wanted: Vec<Algorithm> = Vec::new();
        for r in self.inner.clients.values() {
            if let ClientAuth::PrivateKeyJwt { algorithms, .. } = &r.client.auth {
                if algorithms.is_empty() {
                    wanted.extend(Algorithm::SIGNATURE.iter().filter(|a| !a.is_symmetric()));
                } else {
                    wanted.extend(algorithms.iter());
                }
            }
        }
        Algorithm::SIGNATURE
            .iter()
            .filter(|a| wanted.contains(a) && provider.supports(**a))
            .map(|a| a.as_str())
            .collect()
    }

    /// [`Self::exchange_request`] without an `Authorization` header.
    pub async fn exchange(&self, form: &[u8]) -> Result<TokenResponse, Refusal> {
        self.exchange_request(None, form).await
    }

    /// Handles one token request: the `Authorization` header's value, if any, and the body
    /// (`application/x-www-form-urlencoded`): `grant_type` (the JWT Bearer grant),
    /// `assertion`, optional `scope`, and the client's authentication (HTTP Basic;
    /// `client_id` + `client_secret`; `client_assertion_type` + `client_assertion`; or
    /// `client_id` alone for a public client). The access token's `client_id` and `azp` are
    /// the authenticated client, never a claim of the assertion.
    pub async fn exchange_request(
        &self,
        authorization: Option<&str>,
        form: &[u8],
    ) -> Result<TokenResponse, Refusal> {
        let params = parse_form(form)?;
        let param = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        match param("grant_type") {
            None => return Err(Refusal::invalid_request("grant_type is missing")),
            Some(JWT_BEARER) => {}
            Some(_) => {
                return Err(Refusal::oauth(
                    OAuthErrorCode::UnsupportedGrantType,
                    "only the JWT bearer grant (RFC 7523) is supported",
                ))
            }
        }
        let assertion = match param("assertion") {
            Some(a) => a,
            None => return Err(Refusal::invalid_request("assertion is missing")),
        };
        let client_id = param("client_id");
        if client_id.is_some_and(|c| c.len() > MAX_CLIENT_ID_LEN) {
            return Err(Refusal::invalid_request("client_id is too long"));
        }
        let presented = presented(authorization, &param)?;
        let requested_scope = param("scope").map(parse_scope).transpose()?;
        let caller = self.authenticate(presented).await?;
        self.exchange_assertion(assertion, requested_scope.as_deref(), caller)
            .await
    }

    /// RFC 6749 2.3, RFC 7521 4.2, RFC 7523 2.2 / 3: one answer (`invalid_client`) for every
    /// failure, the cause in the log.
    async fn authenticate(&self, presented: Presented) -> Result<Caller<'_>, Refusal> {
        let inner = &self.inner;
        let tried_basic = presented.tried_basic();
        let fail = |why: &str, client: Option<&str>| {
            tracing::info!(reason = why, client = ?client, "client authentication failed");
            Refusal::InvalidClient { tried_basic }
        };
        if inner.clients.is_empty() {
            // Only reachable with `allow_unauthenticated_clients` and a trusted issuer.
            return match presented {
                Presented::Nothing(id) => Ok(Caller::Unauthenticated(id)),
                _ => Err(fail("no client is registered", None)),
            };
        }
        match presented {
            Presented::Nothing(None) => Err(fail("no client authentication", None)),
            Presented::Nothing(Some(id)) => match inner.clients.get(&id) {
                Some(r) if matches!(r.client.auth, ClientAuth::None) => Ok(Caller::Client(r, None)),
                _ => Err(fail("not a registered public client", Some(&id))),
            },
            Presented::OtherScheme => Err(fail("unsupported Authorization scheme", None)),
            Presented::Basic(None) => Err(fail("malformed HTTP Basic credentials", None)),
            Presented::Basic(Some((id, secret))) => self
                .check_secret(&id, &secret, true)
                .map_err(|why| fail(why, Some(&id))),
            Presented::Post {
                client_id: None, ..
            } => Err(fail("client_secret without client_id", None)),
            Presented::Post {
                client_id: Some(id),
                secret,
            } => self
                .check_secret(&id, &secret, false)
                .map_err(|why| fail(why, Some(&id))),
            Presented::Jwt {
                client_id,
                assertion,
            } => {
                self.check_client_assertion(client_id.as_deref(), &assertion, &fail)
                    .await
            }
        }
    }

    fn check_secret(
        &self,
        id: &str,
        secret: &str,
        basic: bool,
    ) -> Result<Caller<'_>, &'static str> {
        let registered = self.inner.clients.get(id);
        let hash = registered.and_then(|r| match (&r.client.auth, basic) {
            (ClientAuth::SecretBasic(h), true) | (ClientAuth::SecretPost(h), false) => Some(h),
            _ => None,
        });
        if secret.len() > MAX_SECRET_LEN {
            return Err("secret too long");
        }
        match (registered, hash) {
            (Some(r), Some(h)) => {
                if h.verify(secret) {
                    Ok(Caller::Client(r, None))
                } else {
                    Err("wrong secret")
                }
            }
            _ => {
                // The same work as a real check, so unknown ids cannot be told apart by time.
                if let Some(d) = self.inner.dummy_secret.get_or_init(dummy_secret) {
                    let _ = d.verify(secret);
                }
                Err(if registered.is_some() {
                    "the client uses another authentication method"
                } else {
                    "unknown client"
                })
            }
        }
    }

    async fn check_client_assertion(
        &self,
        client_id: Option<&str>,
        assertion: &str,
        fail: &impl Fn(&str, Option<&str>) -> Refusal,
    ) -> Result<Caller<'_>, Refusal> {
        let inner = &self.inner;
        // The client assertion names its client in iss (= sub): read before the signature
        // to pick the client's keys, checked again by the validator.
        let claimed = UnverifiedJws::parse(assertion, &Limits::default())
            .ok()
            .and_then(|j| j.dangerous_claims().ok())
            .and_then(|c| c.iss)
            .map(|iss| iss.into_owned());
        let Some(id) = claimed else {
            return Err(fail("client assertion malformed or without iss", None));
        };
        if client_id.is_some_and(|c| c != id) {
            return Err(fail(
                "client_id differs from the client assertion's iss",
                Some(&id),
            ));
        }
        let Some(registered) = inner.clients.get(&id) else {
            return Err(fail("unknown client", Some(&id)));
        };
        let Some(validator) = &registered.validator else {
            return Err(fail(
                "the client uses another authentication method",
                Some(&id),
            ));
        };
        let verified = match validator.validate_async(assertion).await {
            Ok(v) => v,
            Err(jwt_validate::Error::JwksUnavailable(e)) => {
                tracing::warn!(client = %id, code = e.code(), error = %e, "client keys unavailable");
                return Err(Refusal::Unavailable {
                    retry_after: e
                        .retry_after()
                        .unwrap_or(DEFAULT_RETRY_AFTER)
                        .clamp(Duration::from_secs(1), Duration::from_secs(300)),
                    description: "the client keys cannot be fetched now; retry later",
                });
            }
            Err(e) => {
                tracing::info!(client = %id, code = e.code(), error = %e, "client assertion refused");
                return Err(fail("client assertion refused", Some(&id)));
            }
        };
        let claims = verified.claims();
        // The 2025 update of RFC 7523: aud is the issuer identifier as a single string.
        if !matches!(&claims.aud, Some(Audience::One(a)) if *a == inner.issuer) {
            return Err(fail(
                "client assertion aud is not the issuer identifier alone",
                Some(&id),
            ));
        }
        let exp = claims.exp.map(|e| e.secs()).unwrap_or(i64::MIN);
        if let Err(why) = self.lifetime_ok(exp, claims.iat.map(|i| i.secs())) {
            return Err(fail(why, Some(&id)));
        }
        let jti = claims.jti.as_deref().unwrap_or_default();
        if jti.is_empty() || jti.len() > MAX_JTI_LEN {
            return Err(fail("client assertion jti empty or too long", Some(&id)));
        }
        let until = exp.saturating_add(secs(inner.leeway)).saturating_add(1);
        Ok(Caller::Client(registered, Some((jti.to_owned(), until))))
    }

    /// `exp` at most the maximum lifetime after `iat` (or now), `iat` not too long ago.
    fn lifetime_ok(&self, exp: i64, iat: Option<i64>) -> Result<(), &'static str> {
        let now = self.now();
        let leeway = secs(self.inner.leeway);
        let max_life = secs(self.inner.max_assertion_lifetime);
        let start = iat.map_or(now, |i| i.min(now));
        if exp.saturating_sub(start) > max_life.saturating_add(leeway) {
            return Err("too_long");
        }
        if iat.is_some_and(|i| now.saturating_sub(i) > max_life.saturating_add(leeway)) {
            return Err("too_old");
        }
        Ok(())
    }

    async fn exchange_assertion(
        &self,
        assertion: &str,
        scope: Option<&[&str]>,
        caller: Caller<'_>,
    ) -> Result<TokenResponse, Refusal> {
        let inner = &self.inner;
        // The issuer picks the keys, so it is read before the signature is checked; the
        // validator checks it again against the verified claims.
        let unverified = UnverifiedJws::parse(assertion, &Limits::default()).map_err(|e| {
            tracing::info!(code = e.code(), error = %e, "assertion is not a well-formed JWT");
            Refusal::invalid_grant(grant_description("malformed"))
        })?;
        let claimed_iss = unverified
            .dangerous_claims()
            .map_err(|e| {
                tracing::info!(code = e.code(), error = %e, "assertion claims do not parse");
                Refusal::invalid_grant(grant_description("malformed"))
            })?
            .iss;
        // One answer for "no iss", "an issuer not trusted" and "an issuer this client may not
        // use": a caller cannot enumerate the trusted issuers.
        let client = match &caller {
            Caller::Client(r, _) => Some(&r.client),
            Caller::Unauthenticated(_) => None,
        };
        let found = claimed_iss
            .as_deref()
            .and_then(|i| inner.trusted.get_key_value(i))
            .filter(|(i, _)| client.is_none_or(|c| c.trusted_issuers.contains(i)));
        let Some((iss, trusted)) = found else {
            tracing::info!(
                issuer = ?claimed_iss,
                client = ?client.map(|c| &c.client_id),
                "assertion issuer not trusted (for this client)"
            );
            return Err(Refusal::invalid_grant(grant_description("issuer_mismatch")));
        };
        let iss = iss.clone();

        let verified = match trusted.validator.validate_async(assertion).await {
            Ok(v) => v,
            Err(jwt_validate::Error::JwksUnavailable(e)) => {
                tracing::warn!(issuer = %iss, code = e.code(), error = %e, "issuer keys unavailable");
                return Err(Refusal::Unavailable {
                    retry_after: e
                        .retry_after()
                        .unwrap_or(DEFAULT_RETRY_AFTER)
                        .clamp(Duration::from_secs(1), Duration::from_secs(300)),
                    description: "the assertion issuer keys cannot be fetched now; retry later",
                });
            }
            Err(e) => {
                tracing::info!(issuer = %iss, code = e.code(), error = %e, "assertion refused");
                return Err(Refusal::invalid_grant(grant_description(e.code())));
            }
        };
        let claims = verified.claims();
        let now = self.now();
        let leeway = secs(inner.leeway);

        let sub = claims.sub.as_deref().unwrap_or_default();
        if sub.is_empty() || sub.len() > MAX_SUB_LEN {
            tracing::info!(issuer = %iss, len = sub.len(), "assertion sub empty or too long");
            return Err(Refusal::invalid_grant(grant_description("invalid_claim")));
        }
        // The validator requires exp; a missing one never gets here.
        let exp = claims
            .exp
            .map(|e| e.secs())
            .ok_or_else(|| Refusal::invalid_grant(grant_description("missing_claim")))?;
        if let Err(why) = self.lifetime_ok(exp, claims.iat.map(|i| i.secs())) {
            tracing::info!(issuer = %iss, exp, iat = ?claims.iat.map(|i| i.secs()), why, "assertion lifetime refused");
            return Err(Refusal::invalid_grant(grant_description(why)));
        }
        // Before any jti is recorded: a refused request does not use up the assertion.
        let token_client = match &caller {
            Caller::Client(r, _) => r.client.client_id.clone(),
            Caller::Unauthenticated(param) => {
                // No client authenticated: the parameter may only confirm what the identity
                // provider signed: `client_id` or `azp` in the assertion, else its issuer.
                let all = claims.to_value();
                let signed = match (all.get("client_id"), all.get("azp")) {
                    (Some(Value::String(c)), _) | (None, Some(Value::String(c))) => c.clone(),
                    _ => iss.clone(),
                };
                if param.as_ref().is_some_and(|c| *c != signed) {
                    tracing::info!(issuer = %iss, "client_id parameter does not match the assertion");
                    return Err(Refusal::invalid_grant(
                        "the client_id parameter does not match the assertion",
                    ));
                }
                signed
            }
        };
        let granted = match scope {
            None => None,
            Some(requested) => {
                let allowed = |s: &str| {
                    trusted.scopes.iter().any(|a| a == s)
                        && client.is_none_or(|c| c.scopes.iter().any(|a| a == s))
                };
                if let Some(bad) = requested.iter().find(|s| !allowed(s)) {
                    tracing::info!(issuer = %iss, client = %token_client, scope = %bad, "scope not allowed");
                    return Err(Refusal::oauth(
                        OAuthErrorCode::InvalidScope,
                        "a requested scope is not allowed",
                    ));
                }
                Some(requested.join(" "))
            }
        };
        let grant_jti = match claims.jti.as_deref() {
            Some(jti) if jti.is_empty() || jti.len() > MAX_JTI_LEN => {
                tracing::info!(issuer = %iss, len = jti.len(), "assertion jti empty or too long");
                return Err(Refusal::invalid_grant(grant_description("invalid_claim")));
            }
            other => other,
        };

        // The client's assertion first (a replayed one is the client's failure), then the
        // grant's; each kept until it could no longer be accepted anyway.
        if let Caller::Client(r, Some((jti, until))) = &caller {
            let id = r.client.client_id.as_str();
            let entry = ReplayEntry {
                kind: AssertionKind::ClientAuth,
                issuer: id,
                client: Some(id),
                jti,
            };
            match self.record(entry, *until, now).await? {
                Seen::Fresh => {}
                _ => {
                    tracing::warn!(client = %id, "client assertion replayed");
                    return Err(Refusal::InvalidClient { tried_basic: false });
                }
            }
        }
        if let Some(jti) = grant_jti {
            let entry = ReplayEntry {
                kind: AssertionKind::Grant,
                issuer: &iss,
                client: client.map(|c| c.client_id.as_str()),
                jti,
            };
            let until = exp.saturating_add(leeway).saturating_add(1);
            if self.record(entry, until, now).await? != Seen::Fresh {
                tracing::warn!(issuer = %iss, "assertion replayed");
                return Err(Refusal::invalid_grant(grant_description("replayed")));
            }
        }

        let lifetime = secs(inner.access_token_lifetime);
        let out_sub = if trusted.subjects_as_is {
            sub.to_owned()
        } else {
            format!("{iss}{SUBJECT_SEPARATOR}{sub}")
        };
        let mut claims_out = json!({
            "iss": inner.issuer,
            "sub": out_sub,
            "aud": inner.audience,
            "exp": now.saturating_add(lifetime),
            "iat": now,
            "jti": jwk_core::b64::encode(&rand::random::<[u8; 16]>()),
            "client_id": token_client,
            "idp": iss,
            "idp_sub": sub,
        });
        if let Value::Object(m) = &mut claims_out {
            if client.is_some() {
                m.insert("azp".into(), Value::String(token_client.clone()));
            }
            if let Some(s) = &granted {
                m.insert("scope".into(), Value::String(s.clone()));
            }
        }
        let key = inner.keys.signing_key(None).map_err(|e| {
            tracing::error!(error = %e, "no signing key");
            Refusal::Unavailable {
                retry_after: DEFAULT_RETRY_AFTER,
                description: "the service cannot sign tokens now; retry later",
            }
        })?;
        let access_token = key.sign_jwt("at+jwt", &claims_out).map_err(|e| {
            tracing::error!(error = %e, "signing failed");
            Refusal::Unavailable {
                retry_after: DEFAULT_RETRY_AFTER,
                description: "the service cannot sign tokens now; retry later",
            }
        })?;
        tracing::info!(issuer = %iss, client = %token_client, kid = %key.kid, "access token issued");
        Ok(TokenResponse {
            access_token,
            expires_in: inner.access_token_lifetime.as_secs(),
            scope: granted,
        })
    }

    /// One replay-store round trip; over quota or unavailable is 503 (only this party waits).
    async fn record(&self, entry: ReplayEntry<'_>, until: i64, now: i64) -> Result<Seen, Refusal> {
        match self.inner.replay.check_and_record(entry, until, now).await {
            Ok(Seen::OverQuota) => {
                tracing::warn!(issuer = %entry.issuer, client = ?entry.client, "replay quota used up");
                Err(Refusal::Unavailable {
                    retry_after: DEFAULT_RETRY_AFTER,
                    description: "too many assertions in flight for this party; retry later",
                })
            }
            Ok(seen) => Ok(seen),
            Err(e) => {
                tracing::error!(error = %e, "replay store unavailable");
                Err(Refusal::Unavailable {
                    retry_after: STORE_RETRY_AFTER,
                    description: "the service is busy; retry later",
                })
            }
        }
    }

    fn now(&self) -> i64 {
        i64::try_from(self.inner.clock.now().as_secs()).unwrap_or(i64::MAX)
    }
}

/// Reads how the request authenticates. More than one method is `invalid_request`
/// (RFC 6749 section 2.3: a client must not use more than one).
fn presented<'p>(
    authorization: Option<&str>,
    param: &impl Fn(&str) -> Option<&'p str>,
) -> Result<Presented, Refusal> {
    let client_id = param("client_id").map(str::to_owned);
    let secret = param("client_secret");
    let assertion_type = param("client_assertion_type");
    let assertion = param("client_assertion");
    let methods = usize::from(authorization.is_some())
        + usize::from(secret.is_some())
        + usize::from(assertion_type.is_some() || assertion.is_some());
    if methods > 1 {
        return Err(Refusal::invalid_request(
            "more than one client authentication method",
        ));
    }
    if let Some(h) = authorization {
        let Some((scheme, rest)) = h.trim().split_once(' ') else {
            return Ok(Presented::OtherScheme);
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return Ok(Presented::OtherScheme);
        }
        let decoded = decode_basic(rest)
            // A client_id parameter beside Basic must name the same client.
            .filter(|(id, _)| client_id.as_ref().is_none_or(|c| c == id));
        return Ok(Presented::Basic(decoded));
    }
    if let Some(secret) = secret {
        return Ok(Presented::Post {
            client_id,
            secret: secret.to_owned(),
        });
    }
    match (assertion_type, assertion) {
        (None, None) => Ok(Presented::Nothing(client_id)),
        (Some(CLIENT_ASSERTION_TYPE), Some(a)) => Ok(Presented::Jwt {
            client_id,
            assertion: a.to_owned(),
        }),
        (Some(_), Some(_)) => Err(Refusal::invalid_request(
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        )),
        _ => Err(Refusal::invalid_request(
            "client_assertion and client_assertion_type go together",
        )),
    }
}

/// The one `error_description` of `invalid_grant` for each cause: a `jwt-validate` error code,
/// or one of this module's (`replayed`, `too_long`). Fixed text, so nothing the client chose
/// and nothing about this service's configuration (trusted issuers, key counts, accepted
/// audiences) is sent back; the detail goes to the `tracing` log.
pub(crate) fn grant_description(code: &str) -> &'static str {
    match code {
        "too_large" => "the assertion is too large",
        "alg_not_allowed" | "unsupported_alg" => "the assertion algorithm is not accepted",
        "unsupported_crit" => "the assertion has a critical header parameter not understood",
        "key_not_found" | "key_mismatch" | "weak_key" => "no usable key verifies the assertion",
        "bad_signature" => "the assertion signature does not verify",
        "invalid_claim" => "an assertion claim has an invalid value",
        "missing_claim" => "the assertion lacks a required claim",
        "expired" => "the assertion has expired",
        "not_yet_valid" => "the assertion is not yet valid",
        "issued_in_future" => "the assertion is issued in the future",
        "too_old" => "the assertion was issued too long ago",
        "too_long" => "the assertion lifetime is too long",
        // Untrusted issuers answer this too (no enumeration of the trusted ones).
        "issuer_mismatch" => "the assertion issuer is not accepted",
        "audience_mismatch" => "the assertion audience does not name this service",
        "subject_mismatch" => "the assertion subject is not accepted",
        "type_mismatch" => "the assertion type is not accepted",
        "replayed" => "the assertion was already used",
        _ => "the assertion is not a well-formed JWT",
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_descriptions_are_fixed_and_in_the_rfc_6749_charset() {
        let mut codes: Vec<&str> = jwt_validate::Error::CODES.to_vec();
        codes.extend(["replayed", "too_long", "anything else"]);
        for code in &codes {
            let d = grant_description(code);
            assert!(crate::oauth::is_error_description(d), "{code}: {d}");
            assert!(!d.is_empty(), "{code}");
        }
        // Each cause a caller can fix keeps its own text.
        for (a, b) in [("expired", "bad_signature"), ("replayed", "too_old")] {
            assert_ne!(grant_description(a), grant_description(b));
        }
    }
}
