//! Signing (feature `sign`): the `Signer` trait, PKCS#8 loading, HMAC signers, key generation.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use jwk_core::{Algorithm, Jwk};

use crate::error::Error;
use crate::provider::Provider;

/// A private key bound to exactly one algorithm.
pub trait Signer: Send + Sync + fmt::Debug {
    /// The algorithm this key signs with.
    fn algorithm(&self) -> &Algorithm;
    /// Signs `signing_input` (RFC 7515 section 5.1); ECDSA signatures are the JOSE form
    /// `r || s` (RFC 7518 section 3.4).
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, Error>;
    /// The public half as a JWK with `alg` set and no `kid`. For HMAC this is the `oct` secret
    /// itself: publish it nowhere.
    fn public_jwk(&self) -> Jwk;
}

pub(crate) type SignerResult = Result<Arc<dyn Signer>, Error>;
pub(crate) type GeneratedResult = Result<(Arc<dyn Signer>, Vec<u8>), Error>;

/// A backend's signing functions.
pub(crate) struct SignFns {
    pub(crate) from_pkcs8: fn(&[u8], &Algorithm) -> SignerResult,
    pub(crate) hmac: fn(&[u8], &Algorithm) -> SignerResult,
    pub(crate) generate: fn(&Algorithm, usize) -> GeneratedResult,
}

impl Provider {
    /// Loads a PKCS#8 private key (DER) to sign with `alg`.
    pub fn signer_from_pkcs8_der(
        &self,
        der: &[u8],
        alg: &Algorithm,
    ) -> Result<Arc<dyn Signer>, Error> {
        (self.fns(alg)?.from_pkcs8)(der, alg)
    }

    /// Loads a PEM `PRIVATE KEY` (PKCS#8) to sign with `alg`.
    pub fn signer_from_pkcs8_pem(
        &self,
        pem: &str,
        alg: &Algorithm,
    ) -> Result<Arc<dyn Signer>, Error> {
        use rustls_pki_types::pem::PemObject as _;
        let fns = self.fns(alg)?;
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| Error::private(alloc::format!("no PKCS#8 PEM block: {e}")))?;
        (fns.from_pkcs8)(der.secret_pkcs8_der(), alg)
    }

    /// An HMAC signer. The secret must be at least the hash output long (`weak_key`).
    pub fn hmac_signer(&self, secret: &[u8], alg: &Algorithm) -> Result<Arc<dyn Signer>, Error> {
        (self.fns(alg)?.hmac)(secret, alg)
    }

    /// Generates a key for `alg` and returns its signer and PKCS#8 DER (for persisting).
    /// `rsa_bits` (2048, 3072 or 4096) applies to RSA only, where the backend can generate
    /// (aws-lc-rs can, ring cannot: `unsupported_key_generation`). HMAC: a random secret of
    /// the hash output length is returned as the "DER".
    pub fn generate(
        &self,
        alg: &Algorithm,
        rsa_bits: usize,
    ) -> Result<(Arc<dyn Signer>, Vec<u8>), Error> {
        (self.fns(alg)?.generate)(alg, rsa_bits)
    }

    fn fns(&self, alg: &Algorithm) -> Result<&'static SignFns, Error> {
        match self.signing {
            Some(f) if self.supports(alg) => Ok(f),
            _ => Err(Error::unsupported(alg, self.name)),
        }
    }
}
