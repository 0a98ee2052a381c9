//! aws-lc-rs signing.

use alloc::sync::Arc;
use alloc::vec::Vec;

use jwk_core::Algorithm;

use crate::error::Error;
use crate::sign::{SignFns, Signer};

pub(super) static FNS: SignFns = SignFns {
    from_pkcs8,
    hmac,
    generate,
};

// FIXME(jws-crypto#3): signing lands after the verify API; until then every call is refused.
fn from_pkcs8(_: &[u8], alg: &Algorithm) -> Result<Arc<dyn Signer>, Error> {
    Err(Error::unsupported(alg, super::NAME))
}
fn hmac(_: &[u8], alg: &Algorithm) -> Result<Arc<dyn Signer>, Error> {
    Err(Error::unsupported(alg, super::NAME))
}
fn generate(alg: &Algorithm, _: usize) -> Result<(Arc<dyn Signer>, Vec<u8>), Error> {
    Err(Error::unsupported(alg, super::NAME))
}
