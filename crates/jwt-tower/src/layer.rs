//! The layer and its service.

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use http::{HeaderMap, HeaderName, Request, Response, Uri};
use jwt_validate::{Validator, Verified};
use tower_layer::Layer;
use tower_service::Service;
use tracing::field::Empty;
use tracing::Instrument as _;

use crate::claims::{AccessClaims, Claims};
use crate::error::Refusal;
use crate::extract::{self, Sources};
use crate::metrics::Metrics;
use crate::require::{RequireLayer, Requirements};

/// The verified token, in the request's extensions: header and typed claims.
pub struct Auth<C = Claims>(Arc<Verified<C>>);

impl<C> Auth<C> {
    /// The typed claims.
    pub fn claims(&self) -> &C {
        self.0.claims()
    }

    /// The validator's result (header, `kid`, `alg`, claims).
    pub fn verified(&self) -> &Verified<C> {
        &self.0
    }

    /// The header's `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.0.kid()
    }
}

impl<C> Clone for Auth<C> {
    fn clone(&self) -> Self {
        Auth(self.0.clone())
    }
}

impl<C: fmt::Debug> fmt::Debug for Auth<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Auth").field(&self.0).finish()
    }
}

/// The verified token's payload segment (the base64url of the verified payload, as received),
/// in the extensions when [`JwtLayer::with_payload_segment`] is on. The token itself is never
/// stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadSegment(pub Box<str>);

/// Why a [`JwtLayer`] configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The realm holds a character a quoted-string in `WWW-Authenticate` cannot carry
    /// (`"`, `\`, control or non-ASCII).
    BadRealm,
    /// A header name for the token source is not a valid header name.
    BadHeaderName,
}

impl ConfigError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::BadRealm => "bad_realm",
            ConfigError::BadHeaderName => "bad_header_name",
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::BadRealm => f.write_str(
                "realm must be printable ASCII without '\"' or '\\' (it is sent as a quoted \
                 string in WWW-Authenticate)",
            ),
            ConfigError::BadHeaderName => {
                f.write_str("token header name is not a valid header name")
            }
        }
    }
}

impl core::error::Error for ConfigError {}

struct Shared<C> {
    validator: Validator,
    realm: Arc<str>,
    sources: Sources,
    requirements: Requirements<C>,
    optional: bool,
    payload_segment: bool,
    metrics: Arc<Metrics>,
}

/// Builds a [`JwtLayer`].
pub struct JwtLayerBuilder<C = Claims> {
    validator: Validator,
    realm: String,
    cookie: Option<String>,
    header: Option<String>,
    query: bool,
    requirements: Requirements<C>,
    optional: bool,
    payload_segment: bool,
}

impl<C> fmt::Debug for JwtLayerBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtLayerBuilder")
            .field("realm", &self.realm)
            .field("cookie", &self.cookie)
            .field("header", &self.header)
            .field("query", &self.query)
            .field("requirements", &self.requirements)
            .finish_non_exhaustive()
    }
}

impl<C: AccessClaims> JwtLayerBuilder<C> {
    /// The `realm` of every `WWW-Authenticate` challenge. Default `"api"`.
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Also read the token from this cookie (for browser apps; mind CSRF).
    #[must_use]
    pub fn cookie(mut self, name: impl Into<String>) -> Self {
        self.cookie = Some(name.into());
        self
    }

    /// Also read the token from this header (the whole value is the token).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>) -> Self {
        self.header = Some(name.into());
        self
    }

    /// Also read `access_token` from the query string. Off by default: RFC 6750 2.3
    /// discourages it (URLs end up in logs and `Referer` headers).
    #[must_use]
    pub fn allow_query_token(mut self) -> Self {
        self.query = true;
        self
    }

    /// Requests without any token go through without [`Auth`] (handlers see `None` from the
    /// optional extractor); a token that is present must still be valid.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Put the verified payload's base64url ([`PayloadSegment`]) in the extensions too (what
    /// `jwkctl gateway` forwards as `x-jwt-payload`).
    #[must_use]
    pub fn with_payload_segment(mut self) -> Self {
        self.payload_segment = true;
        self
    }

    /// Requirements for every route behind the layer.
    #[must_use]
    pub fn require(mut self, f: impl FnOnce(Requirements<C>) -> Requirements<C>) -> Self {
        self.requirements = f(self.requirements);
        self
    }

    /// Checks the configuration and builds the layer.
    pub fn build(self) -> Result<JwtLayer<C>, ConfigError> {
        if !self
            .realm
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
        {
            return Err(ConfigError::BadRealm);
        }
        let header = match self.header {
            Some(h) => {
                Some(HeaderName::from_bytes(h.as_bytes()).map_err(|_| ConfigError::BadHeaderName)?)
            }
            None => None,
        };
        Ok(JwtLayer {
            shared: Arc::new(Shared {
                validator: self.validator,
                realm: self.realm.into(),
                sources: Sources {
                    cookie: self.cookie,
                    header,
                    query: self.query,
                },
                requirements: self.requirements,
                optional: self.optional,
                payload_segment: self.payload_segment,
                metrics: Arc::new(Metrics::default()),
            }),
        })
    }
}

/// A tower layer that admits requests carrying a valid bearer token and answers the others
/// as RFC 6750 section 3 says. `C` is the claims type put into the extensions as [`Auth<C>`].
pub struct JwtLayer<C = Claims> {
    shared: Arc<Shared<C>>,
}

impl<C> Clone for JwtLayer<C> {
    fn clone(&self) -> Self {
        JwtLayer {
            shared: self.shared.clone(),
        }
    }
}

impl<C> fmt::Debug for JwtLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtLayer")
            .field("realm", &self.shared.realm)
            .field("requirements", &self.shared.requirements)
            .finish_non_exhaustive()
    }
}

impl JwtLayer<Claims> {
    /// A builder over `validator` with the default claims type ([`Claims`]).
    pub fn builder(validator: Validator) -> JwtLayerBuilder<Claims> {
        JwtLayer::typed(validator)
    }
}

impl<C: AccessClaims> JwtLayer<C> {
    /// A builder over `validator` filling the claims type `C`.
    pub fn typed(validator: Validator) -> JwtLayerBuilder<C> {
        JwtLayerBuilder {
            validator,
            realm: "api".into(),
            cookie: None,
            header: None,
            query: false,
            requirements: Requirements::default(),
            optional: false,
            payload_segment: false,
        }
    }

    /// Counters per result code, shared by every clone of the layer and its services.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.shared.metrics
    }

    /// Per-route requirements sharing this layer's realm and counters (put it after the layer,
    /// e.g. with axum's `route_layer`).
    pub fn require(&self) -> RequireLayer<C> {
        RequireLayer {
            requirements: Arc::new(Requirements::default()),
            realm: self.shared.realm.clone(),
            metrics: self.shared.metrics.clone(),
        }
    }

    /// Validates the request's token and checks the layer's requirements, as the service
    /// does, without a service (for other frameworks and tests).
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
    ) -> Result<Option<(Auth<C>, Option<PayloadSegment>)>, Refusal> {
        let result = authenticate(&self.shared, headers, uri).await;
        self.shared.metrics.record(match &result {
            Ok(Some(_)) => "ok",
            Ok(None) => "anonymous",
            Err(r) => r.code(),
        });
        result
    }
}

async fn authenticate<C: AccessClaims>(
    shared: &Shared<C>,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Option<(Auth<C>, Option<PayloadSegment>)>, Refusal> {
    let token = match extract::token(headers, uri, &shared.sources)? {
        Some(t) => t,
        None if shared.optional => return Ok(None),
        None => return Err(Refusal::MissingToken),
    };
    let span = tracing::info_span!("jwt", iss = Empty, kid = Empty, sub = Empty, code = Empty);
    let result = shared
        .validator
        .validate_async_as::<C>(token)
        .instrument(span.clone())
        .await;
    let verified = match result {
        Ok(v) => v,
        Err(e) => {
            let refusal = Refusal::from_validation(e);
            span.record("code", refusal.code());
            return Err(refusal);
        }
    };
    if !span.is_disabled() {
        span.record("kid", verified.kid());
        span.record("iss", verified.claims().iss());
        span.record("sub", verified.claims().sub());
    }
    let verdict = shared.requirements.verify(verified.claims());
    span.record(
        "code",
        verdict.as_ref().map_or_else(Refusal::code, |()| "ok"),
    );
    verdict?;
    let segment = shared
        .payload_segment
        .then(|| token.split('.').nth(1).map(|p| PayloadSegment(p.into())))
        .flatten();
    Ok(Some((Auth(Arc::new(verified)), segment)))
}

impl<S, C> Layer<S> for JwtLayer<C> {
    type Service = JwtService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        JwtService {
            inner,
            shared: self.shared.clone(),
            _claims: PhantomData,
        }
    }
}

/// The service of a [`JwtLayer`].
pub struct JwtService<S, C = Claims> {
    inner: S,
    shared: Arc<Shared<C>>,
    _claims: PhantomData<fn() -> C>,
}

impl<S: Clone, C> Clone for JwtService<S, C> {
    fn clone(&self) -> Self {
        JwtService {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
            _claims: PhantomData,
        }
    }
}

impl<S: fmt::Debug, C> fmt::Debug for JwtService<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtService")
            .field("inner", &self.inner)
            .field("realm", &self.shared.realm)
            .finish_non_exhaustive()
    }
}

impl<S, C, B, ResBody> Service<Request<B>> for JwtService<S, C>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    C: AccessClaims,
    B: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let shared = self.shared.clone();
        // The clone that was polled ready serves this request (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = core::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let result = authenticate(&shared, &parts.headers, &parts.uri).await;
            match result {
                Ok(Some((auth, segment))) => {
                    shared.metrics.record("ok");
                    parts.extensions.insert(auth);
                    if let Some(s) = segment {
                        parts.extensions.insert(s);
                    }
                }
                Ok(None) => shared.metrics.record("anonymous"),
                Err(refusal) => {
                    shared.metrics.record(refusal.code());
                    return Ok(refusal.response(&shared.realm));
                }
            }
            inner.call(Request::from_parts(parts, body)).await
        })
    }
}
