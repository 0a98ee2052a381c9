//! What a token must satisfy beyond its signature.

use core::time::Duration;

use jwk_core::{strip_application, Algorithm, Claims, Header, NumericDate, Value};

use crate::error::Error;

/// The rules for one issuer (or for every token, with a single key source).
///
/// Defaults: algorithms are every asymmetric algorithm the provider supports (HS* only when
/// listed; ML-DSA-44/65/87 with aws-lc-rs, not with ring, which lacks them: there a token naming
/// one is `unsupported_alg`, not `alg_not_allowed`, since only the backend keeps it out); no issuer, subject or `typ` check; a token carrying `aud` is refused until an
/// audience is named or the check is explicitly skipped (RFC 7519 section 4.1.3); `exp` is
/// required; leeway 60 s; no maximum age; no `crit` extension understood.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) algorithms: Option<Vec<Algorithm>>,
    pub(crate) issuers: Vec<String>,
    pub(crate) audience: AudienceRule,
    pub(crate) subject: Option<String>,
    pub(crate) typ: Option<String>,
    pub(crate) required: Vec<String>,
    pub(crate) leeway: Duration,
    pub(crate) max_age: Option<Duration>,
    pub(crate) crit: Vec<String>,
    /// With the default algorithms: the registered asymmetric ones the backend lacks, and its
    /// name, so a token naming one says `unsupported_alg` instead of `alg_not_allowed`.
    pub(crate) backend_lacks: (Vec<Algorithm>, &'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AudienceRule {
    /// No audience named: a token with `aud` is refused.
    Unset,
    /// `aud` must name one of these.
    OneOf(Vec<String>),
    /// Not checked.
    Skip,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            algorithms: None,
            issuers: Vec::new(),
            audience: AudienceRule::Unset,
            subject: None,
            typ: None,
            required: vec!["exp".into()],
            leeway: Policy::DEFAULT_LEEWAY,
            max_age: None,
            crit: Vec::new(),
            backend_lacks: (Vec::new(), ""),
        }
    }
}

impl Policy {
    /// Default leeway for `exp`, `nbf` and `iat`.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

    /// The default policy (see the type's docs).
    pub fn new() -> Self {
        Policy::default()
    }

    /// Allowed algorithms, replacing the default. `none` and unregistered names make
    /// [`crate::ValidatorBuilder::build`] fail; HS* are allowed only when listed here.
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algs.into_iter().collect());
        self
    }

    /// Accept tokens whose `iss` is `iss` (call again to accept several).
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuers.push(iss.into());
        self
    }

    /// Accept tokens whose `aud` names `aud` (call again to accept several).
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        match &mut self.audience {
            AudienceRule::OneOf(v) => v.push(aud.into()),
            other => *other = AudienceRule::OneOf(vec![aud.into()]),
        }
        self
    }

    /// Do not check `aud` at all. Only for tokens that are not bearer credentials for a
    /// service, or for tools that report the omission (`jwkctl verify` without `--aud`).
    pub fn dangerous_skip_audience_check(mut self) -> Self {
        self.audience = AudienceRule::Skip;
        self
    }

    /// Require `sub` to equal `sub`.
    pub fn subject(mut self, sub: impl Into<String>) -> Self {
        self.subject = Some(sub.into());
        self
    }

    /// Require the header's `typ` (case-insensitive, `application/` prefix optional, RFC 7515
    /// section 4.1.9), e.g. `at+jwt` for RFC 9068 access tokens. Judged after the signature,
    /// with the claims: a badly signed token is `bad_signature` whatever its `typ`.
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// Require claim `name` to be present.
    pub fn require(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        if !self.required.contains(&name) {
            self.required.push(name);
        }
        self
    }

    /// Accept tokens without `exp` (which never expire). `exp` is still checked when present.
    pub fn dangerous_allow_missing_exp(mut self) -> Self {
        self.required.retain(|c| c != "exp");
        self
    }

    /// Clock skew allowed for `exp`, `nbf` and `iat`. Default 60 s.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Refuse tokens whose `iat` is older than `max_age` (plus leeway); `iat` becomes required.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// `crit` header extensions the caller understands (RFC 7515 section 4.1.11).
    pub fn critical_extension(mut self, name: impl Into<String>) -> Self {
        self.crit.push(name.into());
        self
    }

    /// The allowed algorithms, resolved (after `build`, never `None`).
    pub(crate) fn allowed(&self) -> &[Algorithm] {
        self.algorithms.as_deref().unwrap_or(&[])
    }

    /// True when the audience check is skipped.
    pub fn skips_audience(&self) -> bool {
        self.audience == AudienceRule::Skip
    }

    /// Header checks that select the key and algorithm: `alg`, `crit` (the `kid` is looked up
    /// next). Runs before any key is looked up; `typ` waits for the signature
    /// ([`Policy::check_typ`]).
    pub(crate) fn check_header(&self, header: &Header) -> Result<(), Error> {
        if !header.alg.is_signature() || !self.allowed().contains(&header.alg) {
            let (lacking, backend) = &self.backend_lacks;
            if lacking.contains(&header.alg) {
                return Err(Error::UnsupportedAlg {
                    alg: header.alg,
                    reason: format!(
                        "backend {backend} does not implement {}, so the default algorithms \
                         leave it out",
                        header.alg.as_str()
                    )
                    .into(),
                });
            }
            return Err(Error::AlgNotAllowed {
                alg: header.alg,
                name: header.alg_name().into(),
            });
        }
        let understood: Vec<&str> = self.crit.iter().map(String::as_str).collect();
        header.check_crit(&understood)?;
        Ok(())
    }

    /// The `typ` rule, judged after the signature with the claims: a badly signed token is
    /// `bad_signature` whatever its `typ`.
    pub(crate) fn check_typ(&self, header: &Header) -> Result<(), Error> {
        if let Some(expected) = &self.typ {
            let ok = header
                .typ_short()
                .is_some_and(|t| t.eq_ignore_ascii_case(strip_application(expected)));
            if !ok {
                return Err(Error::TypeMismatch {
                    found: header.typ.as_deref().map(Into::into),
                    expected: expected.as_str().into(),
                });
            }
        }
        Ok(())
    }

    /// Checks after the signature: the header's `typ`, then the claims: time, issuer,
    /// audience, subject, required.
    pub(crate) fn check_claims(
        &self,
        header: &Header,
        claims: &Claims<'_>,
        now: Duration,
    ) -> Result<(), Error> {
        self.check_typ(header)?;
        self.check_time(claims, now)?;
        if !self.issuers.is_empty() {
            let iss = claims.iss.as_deref().ok_or_else(|| missing("iss"))?;
            if !self.issuers.iter().any(|i| i == iss) {
                return Err(Error::IssuerMismatch {
                    found: Some(iss.into()),
                });
            }
        }
        match &self.audience {
            AudienceRule::Skip => {}
            AudienceRule::Unset => {
                if claims.aud.is_some() {
                    return Err(Error::AudienceMismatch {
                        reason: "the token names an audience but this validator names none \
                                 (RFC 7519 section 4.1.3)"
                            .into(),
                    });
                }
            }
            AudienceRule::OneOf(expected) => {
                let aud = claims.aud.as_ref().ok_or_else(|| missing("aud"))?;
                if !expected.iter().any(|e| aud.contains(e)) {
                    let found: Vec<&str> = aud.iter().collect();
                    return Err(Error::AudienceMismatch {
                        reason: format!("token aud {found:?} names none of {expected:?}").into(),
                    });
                }
            }
        }
        if let Some(expected) = &self.subject {
            let sub = claims.sub.as_deref().ok_or_else(|| missing("sub"))?;
            if sub != expected {
                return Err(Error::SubjectMismatch { found: sub.into() });
            }
        }
        let mut value: Option<Value> = None;
        for name in &self.required {
            let present = match name.as_str() {
                "iss" => claims.iss.is_some(),
                "sub" => claims.sub.is_some(),
                "aud" => claims.aud.is_some(),
                "exp" => claims.exp.is_some(),
                "nbf" => claims.nbf.is_some(),
                "iat" => claims.iat.is_some(),
                "jti" => claims.jti.is_some(),
                other => value
                    .get_or_insert_with(|| claims.to_value())
                    .get(other)
                    .is_some(),
            };
            if !present {
                return Err(missing(name));
            }
        }
        Ok(())
    }

    fn check_time(&self, claims: &Claims<'_>, now: Duration) -> Result<(), Error> {
        let now_ns = i128::try_from(now.as_nanos()).unwrap_or(i128::MAX);
        let now_secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let leeway = i128::try_from(self.leeway.as_nanos()).unwrap_or(i128::MAX);
        if let Some(exp) = claims.exp {
            // RFC 7519 4.1.4: "on or after" exp the token must not be accepted.
            if nanos(exp) <= now_ns.saturating_sub(leeway) {
                return Err(Error::Expired {
                    exp: exp.secs(),
                    now: now_secs,
                    leeway: self.leeway,
                });
            }
        }
        if let Some(nbf) = claims.nbf {
            if nanos(nbf) > now_ns.saturating_add(leeway) {
                return Err(Error::NotYetValid {
                    nbf: nbf.secs(),
                    now: now_secs,
                });
            }
        }
        if let Some(iat) = claims.iat {
            if nanos(iat) > now_ns.saturating_add(leeway) {
                return Err(Error::IssuedInFuture {
                    iat: iat.secs(),
                    now: now_secs,
                });
            }
        }
        if let Some(max_age) = self.max_age {
            let iat = claims.iat.ok_or_else(|| missing("iat"))?;
            let limit = i128::try_from(max_age.as_nanos())
                .unwrap_or(i128::MAX)
                .saturating_add(leeway);
            if now_ns.saturating_sub(nanos(iat)) > limit {
                return Err(Error::TooOld {
                    iat: iat.secs(),
                    now: now_secs,
                    max_age,
                });
            }
        }
        Ok(())
    }
}

fn nanos(d: NumericDate) -> i128 {
    i128::from(d.secs()) * 1_000_000_000 + i128::from(d.subsec_nanos())
}

fn missing(claim: &str) -> Error {
    Error::MissingClaim {
        claim: claim.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn check(policy: &Policy, claims: &str) -> &'static str {
        let claims = Claims::parse(claims.as_bytes()).unwrap();
        match policy.check_claims(
            &header(r#"{"alg":"RS256"}"#),
            &claims,
            Duration::from_secs(NOW),
        ) {
            Ok(()) => "ok",
            Err(e) => e.code(),
        }
    }

    fn header(json: &str) -> Header {
        Header::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn time_boundaries_with_default_leeway() {
        let p = Policy::new();
        assert_eq!(check(&p, r#"{"exp":1699999940}"#), "expired");
        assert_eq!(check(&p, r#"{"exp":1699999940.000001}"#), "ok");
        assert_eq!(check(&p, r#"{"exp":1699999941,"nbf":1700000060}"#), "ok");
        assert_eq!(
            check(&p, r#"{"exp":1799999999,"nbf":1700000060.5}"#),
            "not_yet_valid"
        );
        assert_eq!(
            check(&p, r#"{"exp":1799999999,"iat":1700000061}"#),
            "issued_in_future"
        );
        assert_eq!(check(&p, r#"{"exp":253402300799}"#), "ok");
        assert_eq!(check(&p, r#"{}"#), "missing_claim");
        let p = Policy::new().max_age(Duration::from_secs(10));
        assert_eq!(check(&p, r#"{"exp":1799999999,"iat":1699999930}"#), "ok");
        assert_eq!(
            check(&p, r#"{"exp":1799999999,"iat":1699999929.9}"#),
            "too_old"
        );
        assert_eq!(check(&p, r#"{"exp":1799999999}"#), "missing_claim");
    }

    #[test]
    fn audience_rules() {
        let unset = Policy::new().dangerous_allow_missing_exp();
        assert_eq!(check(&unset, r#"{}"#), "ok");
        assert_eq!(check(&unset, r#"{"aud":"a"}"#), "audience_mismatch");
        let named = unset.clone().audience("a").audience("b");
        assert_eq!(check(&named, r#"{"aud":["x","b"]}"#), "ok");
        assert_eq!(check(&named, r#"{"aud":[]}"#), "audience_mismatch");
        assert_eq!(check(&named, r#"{}"#), "missing_claim");
        let skip = unset.dangerous_skip_audience_check();
        assert!(skip.skips_audience());
        assert_eq!(check(&skip, r#"{"aud":["x"]}"#), "ok");
    }

    #[test]
    fn header_rules() {
        let p = Policy::new()
            .algorithms([Algorithm::Es256])
            .typ("at+jwt")
            .critical_extension("urn:x");
        let code = |h: &str| match p.check_header(&header(h)) {
            Ok(()) => "ok",
            Err(e) => e.code(),
        };
        // typ is not a header check (issue 11 item 8): it is judged after the signature.
        assert_eq!(code(r#"{"alg":"ES256","typ":"application/AT+JWT"}"#), "ok");
        assert_eq!(code(r#"{"alg":"ES256"}"#), "ok");
        let typ = |h: &str| match p.check_typ(&header(h)) {
            Ok(()) => "ok",
            Err(e) => e.code(),
        };
        assert_eq!(typ(r#"{"alg":"ES256","typ":"application/AT+JWT"}"#), "ok");
        assert_eq!(typ(r#"{"alg":"ES256"}"#), "type_mismatch");
        assert_eq!(typ(r#"{"alg":"ES256","typ":"JWT"}"#), "type_mismatch");
        assert_eq!(code(r#"{"alg":"RS256","typ":"at+jwt"}"#), "alg_not_allowed");
        assert_eq!(code(r#"{"alg":"none","typ":"at+jwt"}"#), "alg_not_allowed");
        assert_eq!(
            code(r#"{"alg":"ES256","typ":"at+jwt","crit":["urn:x"],"urn:x":1}"#),
            "ok"
        );
        assert_eq!(
            code(r#"{"alg":"ES256","typ":"at+jwt","crit":["urn:y"],"urn:y":1}"#),
            "unsupported_crit"
        );
    }
}
