//! The traits the rest of the workspace talks to, and the provider value a backend supplies.

use alloc::sync::Arc;
use core::fmt;

use jwk_core::{Algorithm, Jwk};

use crate::error::{BadSignature, Error};
use crate::policy::KeyPolicy;

/// A public key that passed the import checks, bound to exactly one algorithm.
///
/// There is no algorithm argument to [`Verifier::verify`]: the key knows it, so using a key
/// with another algorithm than the one it was imported for cannot be expressed.
pub trait Verifier: Send + Sync + fmt::Debug {
    /// The algorithm this key verifies.
    fn algorithm(&self) -> Algorithm;
    /// `signing_input`: the first two segments exactly as received (RFC 7515 section 5.2),
    /// never re-serialized. `signature`: the decoded third segment.
    fn verify(&self, signing_input: &[u8], signature: &[u8]) -> Result<(), BadSignature>;
}

/// Imports a JWK for one algorithm under a policy.
pub type ImportFn = fn(&Jwk, Algorithm, &KeyPolicy) -> Result<Arc<dyn Verifier>, Error>;

/// Everything a backend supplies: a plain value passed where it is needed, never a
/// process-global to install (after rustls's `CryptoProvider`).
///
/// Use [`crate::default_provider`], a backend's `PROVIDER` static, or [`Provider::new`] for a
/// custom backend (tests, fuzzing).
pub struct Provider {
    /// The backend's name: `"aws-lc-rs"`, `"ring"`, or a custom provider's.
    pub name: &'static str,
    import: ImportFn,
    supports: fn(Algorithm) -> bool,
    #[cfg(feature = "sign")]
    pub(crate) signing: Option<&'static crate::sign::SignFns>,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// A provider built from an import function and a support predicate, with no signing
    /// (its `sign` feature functions return `unsupported_alg`). For custom backends and
    /// test-only providers; the built-in backends are [`crate::ALL`].
    pub const fn new(
        name: &'static str,
        import: ImportFn,
        supports: fn(Algorithm) -> bool,
    ) -> Provider {
        Provider {
            name,
            import,
            supports,
            #[cfg(feature = "sign")]
            signing: None,
        }
    }

    pub(crate) const fn backend(
        name: &'static str,
        import: ImportFn,
        supports: fn(Algorithm) -> bool,
        #[cfg(feature = "sign")] signing: &'static crate::sign::SignFns,
    ) -> Provider {
        Provider {
            name,
            import,
            supports,
            #[cfg(feature = "sign")]
            signing: Some(signing),
        }
    }

    /// Imports `jwk` to verify `alg`, running every check once, here:
    ///
    /// 1. `unsupported_alg`: `none`, unknown names, ES256K, Ed448, and anything this backend
    ///    lacks (ring: ES512, ML-DSA-44/65/87).
    /// 2. `key_mismatch`: the key's type or curve does not fit `alg`, its `alg` member names
    ///    another algorithm, its `use` is not `sig`, or its `key_ops` lacks `verify`.
    /// 3. `weak_key` / `invalid_key`: RSA size and exponent, point on curve, HMAC length.
    pub fn import(
        &self,
        jwk: &Jwk,
        alg: Algorithm,
        policy: &KeyPolicy,
    ) -> Result<Arc<dyn Verifier>, Error> {
        (self.import)(jwk, alg, policy)
    }

    /// Whether this provider can verify `alg` at all (with a fitting key).
    pub fn supports(&self, alg: Algorithm) -> bool {
        (self.supports)(alg)
    }
}
