//! The JWT Bearer grant (RFC 7523): an identity provider's assertion in, an RFC 9068 access
//! token out.

use core::time::Duration;
use std::collections::HashMap;
use std::sync::Arc;

use jwk_core::{Algorithm, Limits, UnverifiedJws};
use jwt_validate::{KeySource, Validator};
use serde_json::{json, Value};

use crate::clock::Clock;
use crate::error::Error;
use crate::keys::KeyManager;
use crate::oauth::{parse_form, parse_scope, OAuthErrorCode, Refusal, TokenResponse, JWT_BEARER};
use crate::replay::{MemoryReplayStore, ReplayStore, Seen};

/// Longest `jti` accepted (bounds the replay store's memory per entry).
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
}

/// Builds a [`TokenService`]. Defaults in each method's doc.
#[derive(Debug)]
pub struct TokenServiceBuilder {
    issuer: String,
    token_endpoint: Option<String>,
    keys: KeyManager,
    trusted: Vec<TrustedIssuer>,
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

    /// Longest accepted assertion lifetime: `exp` at most this far after `iat` (or after now,
    /// without `iat`). Default 600 s.
    pub fn max_assertion_lifetime(mut self, d: Duration) -> Self {
        self.max_assertion_lifetime = d;
        self
    }

    /// Clock-skew leeway for `exp`, `nbf` and `iat`. Default 60 s.
    pub fn leeway(mut self, d: Duration) -> Self {
        self.leeway = d;
        self
    }

    /// Whether assertions must carry `jti` (without one, replay cannot be detected).
    /// Default: required.
    pub fn require_jti(mut self, required: bool) -> Self {
        self.require_jti = required;
        self
    }

    /// Where seen `jti` values are kept. Default: a [`MemoryReplayStore`] with its default
    /// bound (right for one instance; several instances need a shared store).
    pub fn replay_store(mut self, store: Arc<dyn ReplayStore>) -> Self {
        self.replay = Some(store);
        self
    }

    /// Checks the configuration and builds one validator per trusted issuer.
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
            let mut b = Validator::builder()
                .shared_key_source(t.keys.clone())
                .issuer(t.issuer.clone())
                .require("sub")
                .leeway(self.leeway)
                .clock(SharedClock(clock.clone()))
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
                },
            );
        }
        Ok(TokenService {
            inner: Arc::new(Inner {
                audience: self
                    .access_token_audience
                    .unwrap_or_else(|| self.issuer.clone()),
                issuer: self.issuer,
                token_endpoint,
                keys: self.keys,
                trusted,
                access_token_lifetime: self.access_token_lifetime,
                max_assertion_lifetime: self.max_assertion_lifetime,
                leeway: self.leeway,
                replay: self
                    .replay
                    .unwrap_or_else(|| Arc::new(MemoryReplayStore::default())),
                clock,
            }),
        })
    }
}

/// The token endpoint's logic, without HTTP: a form body in, a token response or a refusal
/// out. Cheap to clone.
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
    access_token_lifetime: Duration,
    max_assertion_lifetime: Duration,
    leeway: Duration,
    replay: Arc<dyn ReplayStore>,
    clock: Arc<dyn Clock>,
}

#[derive(Debug)]
struct Trusted {
    validator: Validator,
    scopes: Vec<String>,
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

    /// Handles one token request body (`application/x-www-form-urlencoded`): `grant_type`
    /// (the JWT Bearer grant), `assertion`, optional `scope` (each must be allowed for the
    /// issuer) and optional `client_id`, which must equal the assertion's `client_id`, `azp`
    /// or `iss` (the access token's `client_id` always comes from the signed assertion).
    pub async fn exchange(&self, form: &[u8]) -> Result<TokenResponse, Refusal> {
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
                    format!("only {JWT_BEARER} is supported"),
                ))
            }
        }
        let assertion = match param("assertion") {
            Some(a) if !a.is_empty() => a,
            _ => return Err(Refusal::invalid_request("assertion is missing")),
        };
        let client_id = param("client_id");
        if client_id.is_some_and(|c| c.is_empty() || c.len() > MAX_CLIENT_ID_LEN) {
            return Err(Refusal::invalid_request("client_id is empty or too long"));
        }
        let requested_scope = param("scope").map(parse_scope).transpose()?;
        self.exchange_assertion(assertion, requested_scope.as_deref(), client_id)
            .await
    }

    async fn exchange_assertion(
        &self,
        assertion: &str,
        scope: Option<&[&str]>,
        client_id: Option<&str>,
    ) -> Result<TokenResponse, Refusal> {
        let inner = &self.inner;
        // The issuer picks the keys, so it is read before the signature is checked; the
        // validator checks it again against the verified claims.
        let unverified = UnverifiedJws::parse(assertion, &Limits::default()).map_err(|e| {
            Refusal::invalid_grant(format!("assertion is not a well-formed JWT: {e}"))
        })?;
        let iss = unverified
            .dangerous_claims()
            .map_err(|e| Refusal::invalid_grant(format!("assertion claims do not parse: {e}")))?
            .iss
            .ok_or_else(|| Refusal::invalid_grant("assertion has no iss"))?;
        let trusted = inner.trusted.get(&iss).ok_or_else(|| {
            Refusal::invalid_grant(format!("assertion issuer {iss:?} is not trusted"))
        })?;

        let verified = match trusted.validator.validate_async(assertion).await {
            Ok(v) => v,
            Err(jwt_validate::Error::JwksUnavailable(e)) => {
                tracing::warn!(issuer = %iss, error = %e.message, "issuer keys unavailable");
                return Err(Refusal::Unavailable {
                    retry_after: e
                        .retry_after
                        .unwrap_or(DEFAULT_RETRY_AFTER)
                        .clamp(Duration::from_secs(1), Duration::from_secs(300)),
                    description: "the assertion issuer's keys cannot be fetched now; retry later"
                        .into(),
                });
            }
            Err(e) => {
                tracing::info!(issuer = %iss, code = e.code(), "assertion refused");
                return Err(Refusal::invalid_grant(format!(
                    "assertion refused ({}): {e}",
                    e.code()
                )));
            }
        };
        let claims = verified.claims();
        let now = self.now();
        let leeway = secs(inner.leeway);
        let max_life = secs(inner.max_assertion_lifetime);

        let sub = claims.sub.as_deref().unwrap_or_default();
        if sub.is_empty() || sub.len() > MAX_SUB_LEN {
            return Err(Refusal::invalid_grant("assertion sub is empty or too long"));
        }
        // The validator requires exp; a missing one never gets here.
        let exp = claims
            .exp
            .map(|e| e.secs())
            .ok_or_else(|| Refusal::invalid_grant("assertion has no exp"))?;
        let start = claims.iat.map_or(now, |i| i.secs().min(now));
        if exp.saturating_sub(start) > max_life.saturating_add(leeway) {
            return Err(Refusal::invalid_grant(format!(
                "assertion lifetime too long: exp is {} s after {}, at most {max_life} s \
                 accepted",
                exp - start,
                if claims.iat.is_some() { "iat" } else { "now" }
            )));
        }
        if let Some(iat) = claims.iat {
            if now.saturating_sub(iat.secs()) > max_life.saturating_add(leeway) {
                return Err(Refusal::invalid_grant(format!(
                    "assertion issued too long ago (iat {}, at most {max_life} s accepted)",
                    iat.secs()
                )));
            }
        }
        // Before the jti is recorded: a refused request does not use up the assertion.
        // The parameter is not authenticated, so it may only confirm what the identity provider
        // signed: `client_id` or `azp` in the assertion, else its issuer.
        let all = claims.to_value();
        let signed_client = match (all.get("client_id"), all.get("azp")) {
            (Some(Value::String(c)), _) | (None, Some(Value::String(c))) => c.clone(),
            _ => iss.clone(),
        };
        if client_id.is_some_and(|c| c != signed_client) {
            return Err(Refusal::invalid_grant(
                "client_id does not match the assertion (its client_id, azp or iss)",
            ));
        }
        let granted = match scope {
            None => None,
            Some(requested) => {
                if let Some(bad) = requested
                    .iter()
                    .find(|s| !trusted.scopes.iter().any(|a| a == *s))
                {
                    return Err(Refusal::oauth(
                        OAuthErrorCode::InvalidScope,
                        format!("scope {bad:?} is not allowed for this issuer"),
                    ));
                }
                Some(requested.join(" "))
            }
        };

        match claims.jti.as_deref() {
            Some(jti) if jti.is_empty() || jti.len() > MAX_JTI_LEN => {
                return Err(Refusal::invalid_grant(format!(
                    "assertion jti is empty or longer than {MAX_JTI_LEN} bytes"
                )));
            }
            Some(jti) => {
                // Kept until the assertion itself can no longer be accepted.
                let until = exp.saturating_add(leeway).saturating_add(1);
                match inner.replay.check_and_record(&iss, jti, until, now).await {
                    Ok(Seen::Fresh) => {}
                    Ok(Seen::Replayed) => {
                        tracing::warn!(issuer = %iss, "assertion replayed");
                        return Err(Refusal::invalid_grant(
                            "assertion already used (jti seen before)",
                        ));
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "replay store unavailable");
                        return Err(Refusal::Unavailable {
                            retry_after: STORE_RETRY_AFTER,
                            description: "the service is busy; retry later".into(),
                        });
                    }
                }
            }
            // Only reachable with `require_jti(false)`.
            None => {}
        }

        let lifetime = secs(inner.access_token_lifetime);
        let mut claims_out = json!({
            "iss": inner.issuer,
            "sub": sub,
            "aud": inner.audience,
            "exp": now.saturating_add(lifetime),
            "iat": now,
            "jti": jwk_core::b64::encode(&rand::random::<[u8; 16]>()),
            "client_id": signed_client,
        });
        if let (Some(s), Value::Object(m)) = (&granted, &mut claims_out) {
            m.insert("scope".into(), Value::String(s.clone()));
        }
        let key = inner.keys.signing_key(None).map_err(|e| {
            tracing::error!(error = %e, "no signing key");
            Refusal::Unavailable {
                retry_after: DEFAULT_RETRY_AFTER,
                description: "the service cannot sign tokens now; retry later".into(),
            }
        })?;
        let access_token = key.sign_jwt("at+jwt", &claims_out).map_err(|e| {
            tracing::error!(error = %e, "signing failed");
            Refusal::Unavailable {
                retry_after: DEFAULT_RETRY_AFTER,
                description: "the service cannot sign tokens now; retry later".into(),
            }
        })?;
        tracing::info!(issuer = %iss, kid = %key.kid, "access token issued");
        Ok(TokenResponse {
            access_token,
            expires_in: inner.access_token_lifetime.as_secs(),
            scope: granted,
        })
    }

    fn now(&self) -> i64 {
        i64::try_from(self.inner.clock.now().as_secs()).unwrap_or(i64::MAX)
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// A shared clock that is itself a [`Clock`], for builders that take a clock by value
/// (`jwt_validate::ValidatorBuilder::clock`): every holder reads the same time.
#[derive(Debug, Clone)]
pub struct SharedClock(pub Arc<dyn Clock>);

impl Clock for SharedClock {
    fn now(&self) -> Duration {
        self.0.now()
    }
}
