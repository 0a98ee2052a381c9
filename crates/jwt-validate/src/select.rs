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
) -> Result<Vec<&'s Arc<dyn Verifier>>, Miss> {
    let alg = &header.alg;
    let keys = &set.jwks().keys;
    match header.kid.as_deref() {
        Some(kid) => {
            let kid_box = || Some(Box::<str>::from(kid));
            let named: Vec<usize> = (0..keys.len())
                .filter(|&i| keys.get(i).and_then(|k| k.kid.as_deref()) == Some(kid))
                .collect();
            let Some(&first) = named.first() else {
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
            let fitting: Vec<usize> = named
                .iter()
                .copied()
                .filter(|&i| keys.get(i).is_some_and(|k| k.fits(alg)))
                .collect();
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
            if !fitting.is_empty() && broken_twins > 0 {
                return Err(Miss::final_(Error::KeyNotFound {
                    kid: kid_box(),
                    reason: format!(
                        "{} more entries with this kid did not parse: ambiguous, refused",
                        broken_twins
                    )
                    .into(),
                }));
            }
            match fitting.as_slice() {
                [] => Err(Miss::final_(Error::KeyMismatch {
                    kid: kid_box(),
                    alg: alg.clone(),
                    reason: keys
                        .get(first)
                        .map(|k| mismatch_reason(k, alg))
                        .unwrap_or_default()
                        .into(),
                })),
                [one] => match set.entry(*one, alg) {
                    Some(e) => Ok(vec![&e.verifier]),
                    None => Err(Miss::final_(failure_error(
                        set.failure(*one, alg),
                        kid_box(),
                        alg,
                    ))),
                },
                many => Err(Miss::final_(Error::KeyNotFound {
                    kid: kid_box(),
                    reason: format!(
                        "{} keys with this kid fit {}: ambiguous, refused",
                        many.len(),
                        alg.as_str()
                    )
                    .into(),
                })),
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
            Ok(verifiers)
        }
    }
}

fn kty_fits(kty: &str, alg: &Algorithm) -> bool {
    use jwk_core::Family;
    matches!(
        (kty, alg.family()),
        ("oct", Family::Hmac)
            | ("RSA", Family::RsaPkcs1 | Family::RsaPss)
            | ("EC", Family::Ecdsa)
            | ("OKP", Family::EdDsa)
    )
}

fn mismatch_reason(key: &Jwk, alg: &Algorithm) -> String {
    if let Some(key_alg) = &key.alg {
        if key_alg != alg {
            return format!(
                "the key is for {}, the token says {}",
                key_alg.as_str(),
                alg.as_str()
            );
        }
    }
    let crv = match &key.params {
        KeyParams::Ec(k) => format!(" {}", k.crv.as_str()),
        KeyParams::Okp(k) => format!(" {}", k.crv.as_str()),
        _ => String::new(),
    };
    format!(
        "a {}{crv} key cannot verify {}",
        key.params.kty(),
        alg.as_str()
    )
}

fn failure_error(failure: Option<&ImportFailure>, kid: Option<Box<str>>, alg: &Algorithm) -> Error {
    let Some(f) = failure else {
        return Error::UnsupportedAlg {
            alg: alg.clone(),
            reason: "the key did not import for this algorithm".into(),
        };
    };
    match f.code {
        "weak_key" => Error::WeakKey {
            kid,
            reason: f.message.clone(),
        },
        "unsupported_alg" => Error::UnsupportedAlg {
            alg: alg.clone(),
            reason: f.message.clone(),
        },
        "key_mismatch" => Error::KeyMismatch {
            kid,
            alg: alg.clone(),
            reason: f.message.clone(),
        },
        _ => Error::KeyNotFound {
            kid,
            reason: format!("the key was set aside: {}", f.message).into(),
        },
    }
}
