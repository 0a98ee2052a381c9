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
            super::say!("{token}");
            ExitCode::from(OK)
        }
        Err(e) => {
            super::tell!("error: {e}");
            ExitCode::from(UNDECIDED)
        }
    }
}

fn sign(args: &Args) -> Result<String, String> {
    let pem =
        std::fs::read_to_string(&args.key).map_err(|e| format!("{}: {e}", args.key.display()))?;
    let alg = Algorithm::parse(&args.alg);
    if alg == Algorithm::Unknown {
        // `Algorithm` keeps no unregistered name: say it here, as typed.
        return Err(format!("--alg {:?}: unknown algorithm", args.alg));
    }
    let signer = jws_crypto::default_provider()
        .signer_from_pkcs8_pem(&pem, alg)
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
    let mut header = Header::new(alg);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_with_a_keygen_key_and_the_published_kid() {
        let dir = super::super::TempDir::new("sign-test").unwrap();
        let (signer, der) = jws_crypto::default_provider()
            .generate(Algorithm::Es256, 2048)
            .unwrap();
        let key = dir.path().join("k.pem");
        jwt_issuer::write_private_file(&key, jwt_issuer::pkcs8_pem(&der).as_bytes()).unwrap();
        let args = Args {
            key: key.clone(),
            alg: "ES256".into(),
            kid: None,
            typ: "JWT".into(),
            claims: r#"{"scope":"read"}"#.into(),
            iss: Some("https://idp.example".into()),
            sub: Some("alice".into()),
            aud: Some("https://sts.example/oauth2/token".into()),
            lifetime: Some(300),
            no_jti: false,
        };
        let token = sign(&args).unwrap();
        let jws = jwk_core::UnverifiedJws::parse(&token, &jwk_core::Limits::default()).unwrap();
        let public = signer.public_jwk();
        let kid = format!("{}_ES256", public.thumbprint());
        assert_eq!(jws.header().kid.as_deref(), Some(kid.as_str()));
        let verifier = jws_crypto::default_provider()
            .import(&public, Algorithm::Es256, &jws_crypto::KeyPolicy::default())
            .unwrap();
        verifier
            .verify(jws.signing_input(), &jws.signature().unwrap())
            .unwrap();
        let claims = jws.dangerous_claims().unwrap();
        assert_eq!(claims.sub.as_deref(), Some("alice"));
        assert!(claims.jti.is_some());
        assert_eq!(claims.exp.unwrap().secs() - claims.iat.unwrap().secs(), 300);
        // A key file that is not a key, and a non-object claims set, are errors.
        std::fs::write(dir.path().join("bad.pem"), "nope").unwrap();
        let bad = Args {
            key: dir.path().join("bad.pem"),
            ..args
        };
        assert!(sign(&bad).is_err());
        let bad = Args {
            key,
            claims: "[1]".into(),
            ..bad
        };
        assert!(sign(&bad).is_err());
    }
}
