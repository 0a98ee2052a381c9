//! `jwkctl sign`: mint a JWT from a PKCS#8 key file and claims (for testing).

use std::path::PathBuf;
use std::process::ExitCode;

use jwk_core::{Algorithm, Header};
use serde_json::{json, Map, Value};

use crate::output::{OK, UNDECIDED};

/// Sign a JWT with a PKCS#8 PEM private key (for tests and demos).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The private key (PKCS#8 PEM), e.g. from `jwkctl keygen`.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The algorithm.
    #[arg(long, default_value = "ES256")]
    alg: String,
    /// The header `kid`. Default: `<RFC 7638 thumbprint>_<alg>`, as `jwkctl serve` publishes.
    #[arg(long)]
    kid: Option<String>,
    /// The header `typ`.
    #[arg(long, default_value = "JWT")]
    typ: String,
    /// Claims as a JSON object, or `@FILE` to read them from a file.
    #[arg(long, default_value = "{}")]
    claims: String,
    /// Set `iss`.
    #[arg(long)]
    iss: Option<String>,
    /// Set `sub`.
    #[arg(long)]
    sub: Option<String>,
    /// Set `aud`.
    #[arg(long)]
    aud: Option<String>,
    /// Set `iat` to now and `exp` to now plus this many seconds.
    #[arg(long, value_name = "SECONDS")]
    lifetime: Option<u64>,
    /// Do not add a random `jti` when the claims have none.
    #[arg(long)]
    no_jti: bool,
}

pub(crate) fn run(args: Args) -> ExitCode {
    match sign(&args) {
        Ok(token) => {
            println!("{token}");
            ExitCode::from(OK)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(UNDECIDED)
        }
    }
}

fn sign(args: &Args) -> Result<String, String> {
    let pem =
        std::fs::read_to_string(&args.key).map_err(|e| format!("{}: {e}", args.key.display()))?;
    let alg = Algorithm::parse(&args.alg);
    let signer = jws_crypto::default_provider()
        .signer_from_pkcs8_pem(&pem, &alg)
        .map_err(|e| format!("{}: {e}", args.key.display()))?;
    let text = match args.claims.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?,
        None => args.claims.clone(),
    };
    let mut claims: Map<String, Value> = match serde_json::from_str(&text) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return Err("claims must be a JSON object".into()),
        Err(e) => return Err(format!("claims: {e}")),
    };
    for (name, v) in [("iss", &args.iss), ("sub", &args.sub), ("aud", &args.aud)] {
        if let Some(v) = v {
            claims.insert(name.into(), json!(v));
        }
    }
    if let Some(life) = args.lifetime {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now.saturating_add(life)));
    }
    if !args.no_jti && !claims.contains_key("jti") {
        claims.insert(
            "jti".into(),
            json!(jwk_core::b64::encode(&rand::random::<[u8; 16]>())),
        );
    }
    let mut header = Header::new(alg.clone());
    header.typ = Some(args.typ.clone());
    header.kid = Some(match &args.kid {
        Some(k) => k.clone(),
        None => format!("{}_{}", signer.public_jwk().thumbprint(), alg.as_str()),
    });
    jwt_issuer::sign_compact(
        signer.as_ref(),
        &header.to_json(),
        &Value::Object(claims).to_string(),
    )
    .map_err(|e| e.to_string())
}
