//! The `jwt` span: `iss`, `kid`, `sub` and the result code recorded, the token never.

use std::io::Write;
use std::sync::{Arc, Mutex};

use jwk_core::{b64, Algorithm, JwkSet};
use jwt_tower::JwtLayer;
use jwt_validate::Validator;
use tracing_subscriber::fmt::format::FmtSpan;

/// Collects what the subscriber writes.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn span_fields_and_no_token() {
    let p = jws_crypto::default_provider();
    let signer = p.generate(Algorithm::Es256, 0).unwrap().0;
    let mut jwk = signer.public_jwk();
    jwk.kid = Some("k-span".into());
    let set = JwkSet::parse(JwkSet::new(vec![jwk]).to_json().as_bytes()).unwrap();
    let now = wall();
    let claims = serde_json::json!({"iss": "https://idp.test", "sub": "span-alice",
        "aud": "api", "iat": now, "exp": now + 300});
    let input = format!(
        "{}.{}",
        b64::encode(br#"{"alg":"ES256","kid":"k-span"}"#),
        b64::encode(claims.to_string().as_bytes())
    );
    let token = format!(
        "{input}.{}",
        b64::encode(&signer.sign(input.as_bytes()).unwrap())
    );
    let validator = Validator::builder()
        .jwks(set)
        .issuer("https://idp.test")
        .audience("api")
        .build()
        .unwrap();
    let layer = JwtLayer::builder(validator).build().unwrap();

    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        for t in [token.clone(), format!("{input}.AAAA")] {
            let mut h = http::HeaderMap::new();
            h.insert("authorization", format!("Bearer {t}").parse().unwrap());
            let _ = rt.block_on(layer.authenticate(&h, &"/".parse().unwrap()));
        }
    });
    let out = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("jwt")).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("iss=\"https://idp.test\"") || lines[0].contains("iss=https://idp.test"),
        "{out}"
    );
    assert!(
        lines[0].contains("kid=\"k-span\"") || lines[0].contains("kid=k-span"),
        "{out}"
    );
    assert!(lines[0].contains("span-alice"), "{out}");
    assert!(
        lines[0].contains("code=\"ok\"") || lines[0].contains("code=ok"),
        "{out}"
    );
    assert!(lines[1].contains("bad_signature"), "{out}");
    // Neither the token nor any of its segments is written.
    for part in token.split('.') {
        assert!(!out.contains(part), "token segment in the log: {out}");
    }
}

fn wall() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
