//! Key selection: which imported keys may verify a token whose header passed policy.

use std::sync::Arc;

use jwk_core::{Algorithm, Header, Jwk, KeyParams};
use jws_crypto::Verifier;

use crate::error::Error;
use crate::source::{ImportFailure, KeySet, Lookup};

/// Why no key was selected, and whether asking the source again could help.
#[derive(Debug)]
pub(crate) struct Miss {
    pub(crate) error: Error,
    pub(crate) refresh: bool,
}

impl Miss {
    fn final_(error: Error) -> Self {
        Miss {
            error,
            refresh: false,
        }
    }
    fn retry(error: Error) -> Self {
        Miss {
            error,
            refresh: true,
        }
    }
}

/// The lookup reason to hand the source when a selection missed.
pub(crate) fn lookup(header: &Header) -> Lookup<'_> {
    match header.kid.as_deref() {
        Some(kid) => Lookup::UnknownKid(kid),
        None => Lookup::NoKid,
    }
}

/// Selects the verifiers to try, at most `max_untagged` when the token has no `kid`.
///
/// With a `kid`: exactly one key with that `kid` must fit the header's `alg` (type, curve and
/// the key's own `alg`); two that fit are ambiguous and refused (Wycheproof `DuplicateKid`),
/// and so is one that fits next to an entry with the same `kid` that did not parse.
/// Without: every key that fits, if there are at most `max_untagged` of them.
pub(crate) fn select<'s>(
    set: &'s KeySet,
    header: &Header,
    max_untagged: usize,
) -> Result<Candidates<'s>, Miss> {
    let alg = header.alg;
    let keys = &set.jwks().keys;
    match header.kid.as_deref() {
        Some(kid) => {
            let kid_box = || Some(Box::<str>::from(kid));
            let mut named = keys
                .iter()
                .enumerate()
                .filter(|(_, k)| k.kid.as_deref() == Some(kid));
            let Some((first, first_key)) = named.next() else {
                let reason = match set
                    .jwks()
                    .rejected
                    .iter()
                    .find(|r| r.kid.as_deref() == Some(kid))
                {
                    Some(r) => format!("the key with this kid was set aside: {}", r.reason),
                    None => format!("no key with this kid among {} keys", keys.len()),
                };
                return Err(Miss::retry(Error::KeyNotFound {
                    kid: kid_box(),
                    reason: reason.into(),
                }));
            };
            // Counted without collecting: the common case (one key per kid) allocates nothing.
            let mut fitting = core::iter::once((first, first_key))
                .chain(named)
                .filter(|(_, k)| k.fits(alg));
            let chosen = fitting.next();
            let more = fitting.count();
            // Another entry with this kid that failed to parse (not one merely meant for
            // encryption) may be the key the issuer meant: refuse rather than guess.
            let broken_twins = set
                .jwks()
                .rejected
                .iter()
                .filter(|r| {
                    r.kid.as_deref() == Some(kid)
                        && r.reason.code() != "not_signing_key"
                        && r.kty.as_deref().is_none_or(|kty| kty_fits(kty, alg))
                })
                .count();
            let Some((index, _)) = chosen else {
                return Err(Miss::final_(Error::KeyMismatch {
                    kid: kid_box(),
                    alg,
                    reason: mismatch_reason(first_key, alg).into(),
                }));
            };
            if more > 0 || broken_twins > 0 {
                return Err(Miss::final_(Error::KeyNotFound {
                    kid: kid_box(),
                    reason: format!(
                        "{} entries with this kid could verify {}: ambiguous, refused",
                        1 + more + broken_twins,
                        alg.as_str()
                    )
                    .into(),
                }));
            }
            match set.entry(index, alg) {
                Some(e) => Ok(Candidates::One(&e.verifier)),
                None => Err(Miss::final_(failure_error(
                    set.failure(index, alg),
                    kid_box(),
                    alg,
                ))),
            }
        }
        None => {
            let fitting: Vec<usize> = (0..keys.len())
                .filter(|&i| keys.get(i).is_some_and(|k| k.fits(alg)))
                .collect();
            if fitting.is_empty() {
                return Err(Miss::retry(Error::KeyNotFound {
                    kid: None,
                    reason: format!("no key in the set fits {}", alg.as_str()).into(),
                }));
            }
            if fitting.len() > max_untagged {
                return Err(Miss::final_(Error::KeyNotFound {
                    kid: None,
                    reason: format!(
                        "token has no kid and {} keys fit {}; at most {max_untagged} are tried",
                        fitting.len(),
                        alg.as_str()
                    )
                    .into(),
                }));
            }
            let verifiers: Vec<_> = fitting
                .iter()
                .filter_map(|&i| set.entry(i, alg).map(|e| &e.verifier))
                .collect();
            if verifiers.is_empty() {
                let failure = fitting.iter().find_map(|&i| set.failure(i, alg));
                return Err(Miss::final_(failure_error(failure, None, alg)));
            }
            Ok(Candidates::Several(verifiers))
        }
    }
}

/// The verifiers to try: one for a token with `kid` (no allocation), a few without.
pub(crate) enum Candidates<'s> {
    One(&'s Arc<dyn Verifier>),
    Several(Vec<&'s Arc<dyn Verifier>>),
}

impl<'s> Candidates<'s> {
    /// True when one of the candidates verifies the signature.
    pub(crate) fn verify(&self, input: &[u8], signature: &[u8]) -> bool {
        match self {
            Candidates::One(v) => v.verify(input, signature).is_ok(),
            Candidates::Several(vs) => vs.iter().any(|v| v.verify(input, signature).is_ok()),
        }
    }
}

fn kty_fits(kty: &str, alg: Algorithm) -> bool {
    use jwk_core::Family;
    matches!(
        (kty, alg.family()),
        ("oct", Family::Hmac)
            | ("RSA", Family::RsaPkcs1 | Family::RsaPss)
            | ("EC", Family::Ecdsa)
            | ("OKP", Family::EdDsa)
            | ("AKP", Family::MlDsa)
    )
}

fn mismatch_reason(key: &Jwk, alg: Algorithm) -> String {
    if let (Some(key_alg), Some(name)) = (key.alg, key.alg_name()) {
        if key_alg != alg {
            return format!("the key is for {name}, the token says {}", alg.as_str());
        }
    }
    let crv = match &key.params {
        KeyParams::Ec(k) => format!(" {}", k.crv.as_str()),
        KeyParams::Okp(k) => format!(" {}", k.crv.as_str()),
        KeyParams::Akp(k) => format!(" {}", k.params.as_str()),
        _ => String::new(),
    };
    format!(
        "a {}{crv} key cannot verify {}",
        key.params.kty(),
        alg.as_str()
    )
}

fn failure_error(failure: Option<&ImportFailure>, kid: Option<Box<str>>, alg: Algorithm) -> Error {
    let Some(f) = failure else {
        return Error::UnsupportedAlg {
            alg,
            reason: "the key did not import for this algorithm".into(),
        };
    };
    match f.code {
        "weak_key" => Error::WeakKey {
            kid,
            reason: f.message.clone(),
        },
        "unsupported_alg" => Error::UnsupportedAlg {
            alg,
            reason: f.message.clone(),
        },
        "key_mismatch" => Error::KeyMismatch {
            kid,
            alg,
            reason: f.message.clone(),
        },
        _ => Error::KeyNotFound {
            kid,
            reason: format!("the key was set aside: {}", f.message).into(),
        },
    }
}
