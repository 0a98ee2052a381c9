//! Requirements over verified claims: scopes, roles/groups, custom checks; per layer or per
//! route ([`RequireLayer`]).

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::claims::AccessClaims;
use crate::error::Refusal;
use crate::layer::Auth;
use crate::metrics::Metrics;

type Check<C> = Arc<dyn Fn(&C) -> bool + Send + Sync>;

/// What a token must grant beyond being valid. Every requirement must hold.
pub struct Requirements<C> {
    scopes: Vec<String>,
    roles: Vec<(Box<str>, Vec<String>)>,
    checks: Vec<(Box<str>, Check<C>)>,
}

impl<C> Default for Requirements<C> {
    fn default() -> Self {
        Requirements {
            scopes: Vec::new(),
            roles: Vec::new(),
            checks: Vec::new(),
        }
    }
}

impl<C> Clone for Requirements<C> {
    fn clone(&self) -> Self {
        Requirements {
            scopes: self.scopes.clone(),
            roles: self.roles.clone(),
            checks: self.checks.clone(),
        }
    }
}

impl<C> fmt::Debug for Requirements<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requirements")
            .field("scopes", &self.scopes)
            .field("roles", &self.roles)
            .field(
                "checks",
                &self.checks.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<C: AccessClaims> Requirements<C> {
    /// Nothing required.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every one of `scopes` must be granted (`scope` string or `scp` array).
    #[must_use]
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Claim `claim` (a string or an array; `a.b` walks nested objects) must hold at least
    /// one of `accepted` (roles, groups).
    #[must_use]
    pub fn any_role<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        claim: impl Into<String>,
        accepted: I,
    ) -> Self {
        self.roles.push((
            claim.into().into_boxed_str(),
            accepted.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// A custom check over the typed claims; `name` is what logs and
    /// [`Refusal::CheckFailed`] report.
    #[must_use]
    pub fn check(
        mut self,
        name: impl Into<String>,
        check: impl Fn(&C) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.checks
            .push((name.into().into_boxed_str(), Arc::new(check)));
        self
    }

    /// True when nothing is required.
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty() && self.roles.is_empty() && self.checks.is_empty()
    }

    /// Checks `claims`: scopes first (403 `insufficient_scope` naming every required scope),
    /// then roles, then custom checks.
    pub fn verify(&self, claims: &C) -> Result<(), Refusal> {
        if !self.scopes.is_empty() {
            let granted = claims.scopes();
            if !self.scopes.iter().all(|s| granted.contains(&s.as_str())) {
                return Err(Refusal::InsufficientScope {
                    required: self.scopes.join(" ").into(),
                });
            }
        }
        for (claim, accepted) in &self.roles {
            let held = claims.claim_values(claim);
            if !accepted.iter().any(|a| held.contains(&a.as_str())) {
                return Err(Refusal::MissingRole {
                    claim: claim.clone(),
                });
            }
        }
        for (name, check) in &self.checks {
            if !check(claims) {
                return Err(Refusal::CheckFailed {
                    check: name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Per-route requirements, after a [`crate::JwtLayer`] (axum's `route_layer`). Made by
/// [`crate::JwtLayer::require`], so it shares the layer's realm and counters.
///
/// A request without verified claims (the layer in optional mode, no token) gets 401.
pub struct RequireLayer<C> {
    pub(crate) requirements: Arc<Requirements<C>>,
    pub(crate) realm: Arc<str>,
    pub(crate) metrics: Arc<Metrics>,
}

impl<C> Clone for RequireLayer<C> {
    fn clone(&self) -> Self {
        RequireLayer {
            requirements: self.requirements.clone(),
            realm: self.realm.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

impl<C> fmt::Debug for RequireLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireLayer")
            .field("requirements", &self.requirements)
            .field("realm", &self.realm)
            .finish()
    }
}

impl<C: AccessClaims> RequireLayer<C> {
    fn edit(mut self, f: impl FnOnce(Requirements<C>) -> Requirements<C>) -> Self {
        let r = Arc::unwrap_or_clone(self.requirements);
        self.requirements = Arc::new(f(r));
        self
    }

    /// See [`Requirements::scopes`].
    #[must_use]
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(self, scopes: I) -> Self {
        self.edit(|r| r.scopes(scopes))
    }

    /// See [`Requirements::any_role`].
    #[must_use]
    pub fn any_role<I: IntoIterator<Item = S>, S: Into<String>>(
        self,
        claim: impl Into<String>,
        accepted: I,
    ) -> Self {
        self.edit(|r| r.any_role(claim, accepted))
    }

    /// See [`Requirements::check`].
    #[must_use]
    pub fn check(
        self,
        name: impl Into<String>,
        check: impl Fn(&C) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.edit(|r| r.check(name, check))
    }
}

impl<S, C> Layer<S> for RequireLayer<C> {
    type Service = RequireService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of a [`RequireLayer`].
pub struct RequireService<S, C> {
    inner: S,
    layer: RequireLayer<C>,
}

impl<S: Clone, C> Clone for RequireService<S, C> {
    fn clone(&self) -> Self {
        RequireService {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S: fmt::Debug, C> fmt::Debug for RequireService<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireService")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}

impl<S, C, B, ResBody> Service<Request<B>> for RequireService<S, C>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
    C: AccessClaims,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let verdict = match req.extensions().get::<Auth<C>>() {
            Some(auth) => self.layer.requirements.verify(auth.claims()),
            None => Err(Refusal::MissingToken),
        };
        match verdict {
            Ok(()) => Box::pin(self.inner.call(req)),
            Err(refusal) => {
                self.layer.metrics.record(refusal.code());
                tracing::debug!(code = refusal.code(), "route requirement refused the token");
                let res = refusal.response(&self.layer.realm);
                Box::pin(async move { Ok(res) })
            }
        }
    }
}
