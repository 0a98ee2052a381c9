//! axum extractors (feature `axum`): [`Auth<C>`] and `Option<Auth<C>>`.

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use crate::claims::AccessClaims;
use crate::error::Refusal;
use crate::layer::Auth;

/// An [`Auth<C>`] was asked for, and the request has none: the route is not behind a
/// [`crate::JwtLayer`] for `C`, or the layer is optional and no token came. Answers 401 with a
/// bare `Bearer` challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAuthenticated;

impl IntoResponse for NotAuthenticated {
    fn into_response(self) -> Response {
        Refusal::MissingToken.response("api")
    }
}

impl<S: Send + Sync, C: AccessClaims> FromRequestParts<S> for Auth<C> {
    type Rejection = NotAuthenticated;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Auth<C>>()
            .cloned()
            .ok_or(NotAuthenticated)
    }
}

impl<S: Send + Sync, C: AccessClaims> OptionalFromRequestParts<S> for Auth<C> {
    type Rejection = core::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Auth<C>>().cloned())
    }
}
