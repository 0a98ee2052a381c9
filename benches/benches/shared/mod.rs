//! Peers, the limit and the parse floor, shared by the bench binaries.
// Each bench binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use benches::{AppClaimsBorrowed, Case, Material, AUD, ISS};
use jwk_core::Algorithm;
use serde::Deserialize;

pub(crate) fn jsonwebtoken_validation(alg: Algorithm) -> jsonwebtoken::Validation {
    use jsonwebtoken::Algorithm as A;
    let alg = match alg {
        Algorithm::Rs256 => A::RS256,
        Algorithm::Ps256 => A::PS256,
        Algorithm::Es256 => A::ES256,
        Algorithm::Es384 => A::ES384,
        _ => A::EdDSA,
    };
    let mut v = jsonwebtoken::Validation::new(alg);
    v.set_issuer(&[ISS]);
    v.set_audience(&[AUD]);
    v.leeway = 60;
    v.validate_nbf = true;
    v
}

/// The non-registered claims, for jwt-simple (which types the registered ones itself).
#[derive(Debug, Deserialize, serde::Serialize)]
pub(crate) struct SimpleCustom {
    scope: String,
    client_id: String,
    email: String,
}

pub(crate) enum SimpleKey {
    Rs256(jwt_simple::prelude::RS256PublicKey),
    Ps256(jwt_simple::prelude::PS256PublicKey),
    Es256(jwt_simple::prelude::ES256PublicKey),
    Es384(jwt_simple::prelude::ES384PublicKey),
    Ed25519(jwt_simple::prelude::Ed25519PublicKey),
}

pub(crate) struct Simple {
    key: SimpleKey,
    options: jwt_simple::prelude::VerificationOptions,
}

impl Simple {
    pub(crate) fn verify(&self, token: &str) -> jwt_simple::prelude::JWTClaims<SimpleCustom> {
        use jwt_simple::prelude::*;
        let o = Some(self.options.clone());
        match &self.key {
            SimpleKey::Rs256(k) => k.verify_token(token, o),
            SimpleKey::Ps256(k) => k.verify_token(token, o),
            SimpleKey::Es256(k) => k.verify_token(token, o),
            SimpleKey::Es384(k) => k.verify_token(token, o),
            SimpleKey::Ed25519(k) => k.verify_token(token, o),
        }
        .unwrap()
    }
}

impl SimpleKey {
    #[allow(clippy::new_ret_no_self)]
    pub(crate) fn new(case: &Case) -> Simple {
        use jwt_simple::prelude::*;
        let key = match (&case.material, &case.alg) {
            (Material::Rsa { n, e }, Algorithm::Ps256) => SimpleKey::Ps256(
                PS256PublicKey::from_components(n, e)
                    .unwrap()
                    .with_key_id(case.id),
            ),
            (Material::Rsa { n, e }, _) => SimpleKey::Rs256(
                RS256PublicKey::from_components(n, e)
                    .unwrap()
                    .with_key_id(case.id),
            ),
            (Material::Ec { point }, Algorithm::Es256) => SimpleKey::Es256(
                ES256PublicKey::from_bytes(point)
                    .unwrap()
                    .with_key_id(case.id),
            ),
            (Material::Ec { point }, _) => SimpleKey::Es384(
                ES384PublicKey::from_bytes(point)
                    .unwrap()
                    .with_key_id(case.id),
            ),
            (Material::Ed25519 { x }, _) => SimpleKey::Ed25519(
                Ed25519PublicKey::from_bytes(x)
                    .unwrap()
                    .with_key_id(case.id),
            ),
        };
        let options = VerificationOptions {
            allowed_issuers: Some(HashSet::from([ISS.to_owned()])),
            allowed_audiences: Some(HashSet::from([AUD.to_owned()])),
            time_tolerance: Some(jwt_simple::prelude::Duration::from_secs(60)),
            ..Default::default()
        };
        Simple { key, options }
    }
}

#[derive(Deserialize)]
struct HeaderRef<'a> {
    #[serde(borrow)]
    alg: &'a str,
    #[serde(borrow, default)]
    typ: Option<&'a str>,
    #[serde(borrow, default)]
    kid: Option<&'a str>,
}

/// The least any validator must do besides the signature: split, base64url-decode header and
/// payload, parse both into borrowed typed structs.
pub(crate) fn parse_floor(token: &str) -> usize {
    let engine = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.splitn(3, '.');
    let (h, p) = (parts.next().unwrap(), parts.next().unwrap());
    let hb = engine.decode(h).unwrap();
    let pb = engine.decode(p).unwrap();
    let header: HeaderRef<'_> = serde_json::from_slice(&hb).unwrap();
    let claims: AppClaimsBorrowed<'_> = serde_json::from_slice(&pb).unwrap();
    header.alg.len()
        + header.typ.map_or(0, str::len)
        + header.kid.map_or(0, str::len)
        + claims.sub.len()
}

/// aws-lc-rs: the key parsed once, exactly as `jws-crypto` imports it.
pub(crate) fn aws_limit(case: &Case) -> impl Fn() -> bool + '_ {
    use raw_aws_lc::signature as s;
    let key = match (&case.material, &case.alg) {
        (Material::Rsa { n, e }, alg) => {
            let params = if *alg == Algorithm::Ps256 {
                &s::RSA_PSS_2048_8192_SHA256
            } else {
                &s::RSA_PKCS1_2048_8192_SHA256
            };
            s::RsaPublicKeyComponents { n, e }
                .to_parsed_public_key(params)
                .unwrap()
        }
        (Material::Ec { point }, Algorithm::Es256) => {
            s::ParsedPublicKey::new(&s::ECDSA_P256_SHA256_FIXED, point).unwrap()
        }
        (Material::Ec { point }, _) => {
            s::ParsedPublicKey::new(&s::ECDSA_P384_SHA384_FIXED, point).unwrap()
        }
        (Material::Ed25519 { x }, _) => s::ParsedPublicKey::new(&s::ED25519, x).unwrap(),
    };
    move || {
        key.verify_sig(
            std::hint::black_box(&case.signing_input),
            std::hint::black_box(&case.signature),
        )
        .is_ok()
    }
}

/// `<target>/criterion`: a bench executable is `<target>/release/deps/<name>-<hash>`.
pub(crate) fn criterion_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("criterion");
    }
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("criterion")
}

/// Criterion's median estimate for `group/function`, in nanoseconds.
pub(crate) fn median_ns(group: &str, function: &str) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// The time of `row` over the time of `limit`, measured in alternating batches so that load
/// from other processes hits both alike: the median of the per-round ratios.
pub(crate) fn paired(limit: &dyn Fn(), row: &dyn Fn(), budget: Duration) -> f64 {
    const BATCH: usize = 8;
    let batch = |f: &dyn Fn()| {
        let t = Instant::now();
        for _ in 0..BATCH {
            f();
        }
        t.elapsed().as_secs_f64()
    };
    let start = Instant::now();
    let mut ratios = Vec::new();
    while start.elapsed() < budget || ratios.len() < 8 {
        // Alternate which goes first, so neither always runs with a warmer cache.
        let (l, r) = if ratios.len() % 2 == 0 {
            let l = batch(limit);
            (l, batch(row))
        } else {
            let r = batch(row);
            (batch(limit), r)
        };
        ratios.push(r / l);
    }
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

/// Criterion as every timed bench binary runs it: short samples with `--quick`, else 1 s of
/// warm-up, 3 s of measurement and 50 samples; command-line filters still apply.
pub(crate) fn criterion(quick: bool) -> criterion::Criterion {
    let (warm_up, measure) = if quick {
        (Duration::from_millis(200), Duration::from_millis(700))
    } else {
        (Duration::from_secs(1), Duration::from_secs(3))
    };
    criterion::Criterion::default()
        .warm_up_time(warm_up)
        .measurement_time(measure)
        .sample_size(if quick { 20 } else { 50 })
        .configure_from_args()
}

/// How long each [`paired`] comparison runs.
pub(crate) fn pair_budget(quick: bool) -> Duration {
    if quick {
        Duration::from_millis(400)
    } else {
        Duration::from_secs(2)
    }
}
