//! `jwkctl verify`: signature and claims, with the JSON contract of issue 4.

use core::time::Duration;
use std::path::PathBuf;
use std::process::ExitCode;

use jwk_core::Algorithm;
use jwt_validate::{FixedClock, Validator};

use crate::keys::{self, SourceArgs};
use crate::output::{self, string};

/// `jwkctl verify [OPTIONS] [TOKEN]`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The token; absent or "-": read stdin (whitespace trimmed).
    #[arg(value_name = "TOKEN")]
    token: Option<String>,
    #[command(flatten)]
    source: SourceArgs,
    /// Extra trust anchors (PEM) for HTTPS key sources.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Allow plain http for --jwks-url and --discovery, for loopback hosts only (local
    /// identity providers, tests).
    #[arg(long)]
    allow_http: bool,
    /// Allowed algorithm (repeat, or comma-separate). Default: every asymmetric algorithm
    /// supported; HS* only if listed.
    #[arg(long, value_name = "ALG", value_delimiter = ',')]
    alg: Vec<String>,
    /// Accepted issuer (repeatable).
    #[arg(long, value_name = "ISS")]
    iss: Vec<String>,
    /// Accepted audience (repeatable). Without it the audience is not checked (and the
    /// output says so in "warnings").
    #[arg(long, value_name = "AUD")]
    aud: Vec<String>,
    /// Required subject.
    #[arg(long, value_name = "SUB")]
    sub: Option<String>,
    /// Required header typ (case-insensitive, "application/" optional), e.g. at+jwt.
    #[arg(long, value_name = "TYP")]
    typ: Option<String>,
    /// Claim that must be present (repeatable). `exp` is always required unless
    /// --allow-missing-exp is given.
    #[arg(long, value_name = "CLAIM")]
    require: Vec<String>,
    /// Accept a token without `exp` (it never expires; the output warns). By default a
    /// token without `exp` is invalid (missing_claim, exit 1).
    #[arg(long)]
    allow_missing_exp: bool,
    /// Allowed clock skew in seconds for exp, nbf and iat.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    leeway: u64,
    /// Maximum token age in seconds, from iat.
    #[arg(long, value_name = "SECS")]
    max_age: Option<u64>,
    /// Evaluate time claims at this instant (Unix seconds) instead of now.
    #[arg(long, value_name = "UNIX_SECS")]
    now: Option<u64>,
}

pub(crate) fn run(args: Args) -> ExitCode {
    let algorithms = match parse_algorithms(&args.alg) {
        Ok(a) => a,
        Err(e) => return output::undecided(None, &e),
    };
    let token = match crate::input::token(args.token.clone()) {
        Ok(t) => t,
        Err(e) => return output::undecided(None, &e),
    };
    let how = keys::Remote {
        ca_file: args.ca_file.as_deref(),
        allow_http: args.allow_http,
    };
    let keys = match keys::load(&args.source, how) {
        Ok(k) => k,
        Err(keys::Unavailable(message)) => {
            return output::undecided(Some("jwks_unavailable"), &message)
        }
    };
    let mut warnings: Vec<String> = Vec::new();
    let mut b = Validator::builder().jwks(keys.set);
    if let Some(algs) = algorithms {
        b = b.algorithms(algs);
    }
    for iss in &args.iss {
        b = b.issuer(iss);
    }
    match (&keys.issuer, args.iss.is_empty()) {
        // The keys came from this issuer's discovery document: tokens must be its own.
        (Some(discovered), true) => b = b.issuer(discovered),
        (None, true) => warnings.push("issuer not checked: no --iss given".into()),
        (_, false) => {}
    }
    for aud in &args.aud {
        b = b.audience(aud);
    }
    if args.aud.is_empty() {
        b = b.dangerous_skip_audience_check();
        warnings.push("audience not checked: no --aud given".into());
    }
    if let Some(sub) = &args.sub {
        b = b.subject(sub);
    }
    if let Some(typ) = &args.typ {
        b = b.typ(typ);
    }
    // exp is required, as in the library, unless --allow-missing-exp (then the output warns);
    // --require exp wins over it.
    if args.allow_missing_exp && !args.require.iter().any(|c| c == "exp") {
        b = b.dangerous_allow_missing_exp();
    }
    for claim in &args.require {
        b = b.require(claim);
    }
    b = b.leeway(Duration::from_secs(args.leeway));
    if let Some(age) = args.max_age {
        b = b.max_age(Duration::from_secs(age));
    }
    if let Some(now) = args.now {
        b = b.clock(FixedClock::at_secs(now));
    }
    let validator = match b.build() {
        Ok(v) => v,
        Err(e) => return output::undecided(None, &format!("invalid options: {e}")),
    };
    match validator.validate(&token) {
        Ok(verified) => {
            if verified.claims().exp.is_none() {
                warnings.push("token has no exp: it never expires".into());
            }
            // The header exactly as received (the typed one drops nothing, but the received
            // JSON is what the signature covered).
            let header = jwk_core::Compact::split(&token, &jwk_core::Limits::default())
                .and_then(|c| output::received_header(&c))
                .unwrap_or_else(|_| serde_json::Value::String(verified.header().to_json()));
            let kid = verified.kid().map_or_else(|| "null".to_owned(), string);
            let warnings: Vec<serde_json::Value> = warnings
                .into_iter()
                .map(serde_json::Value::String)
                .collect();
            println!(
                r#"{{"valid":true,"alg":{},"kid":{kid},"header":{header},"claims":{},"warnings":{}}}"#,
                string(verified.alg().as_str()),
                verified.claims().to_value(),
                serde_json::Value::Array(warnings),
            );
            ExitCode::from(output::OK)
        }
        Err(e) if e.code() == "jwks_unavailable" => {
            output::undecided(Some(e.code()), &e.to_string())
        }
        Err(e) => output::invalid(e.code(), &e.to_string()),
    }
}

/// `--alg` values: `None` when absent (the library default), an error for `none` or an
/// unregistered name.
fn parse_algorithms(values: &[String]) -> Result<Option<Vec<Algorithm>>, String> {
    if values.is_empty() {
        return Ok(None);
    }
    values
        .iter()
        .map(|v| {
            let alg = Algorithm::parse(v.trim());
            if alg.is_signature() {
                Ok(alg)
            } else {
                Err(format!(
                    "--alg {v:?}: not an allowed JWS algorithm (none is never allowed; names \
                     are case-sensitive, e.g. RS256, ES256, EdDSA, HS256)"
                ))
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
