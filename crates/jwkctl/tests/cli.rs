//! `jwkctl` run as a process: the JSON contract, exit codes, every error code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    missing_docs
)]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use jwk_core::{b64, Algorithm, Jwk, JwkSet};
use jws_crypto::Signer;
use serde_json::{json, Value};

const NOW: u64 = 1_700_000_000;
const ISS: &str = "https://issuer.test";
const AUD: &str = "api://orders";
const RSA_PEM: &str = include_str!("keys/rsa2048.pem");
const ASGARDEO: &str = include_str!("vectors/asgardeo-jwks.json");
const PREFIX: &str =
    "OWJmNzgyNTNhMGNiMzE1NGQ3ZjYxZTUzYTI2MmZhZTEyYzJkYTdlMDBjYjI2MDNlZWIxYmQ2MDkzYWY5ODFmZQ";

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", self.stdout))
    }
    fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap().to_owned()
    }
}

fn run(args: &[&str], stdin: Option<&str>) -> Out {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jwkctl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A file in a per-test temporary folder.
fn temp_file(name: &str, contents: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "jwkctl-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn provider() -> &'static jws_crypto::Provider {
    jws_crypto::default_provider()
}

fn rsa(alg: Algorithm) -> Arc<dyn Signer> {
    provider().signer_from_pkcs8_pem(RSA_PEM, alg).unwrap()
}

fn jwk(s: &dyn Signer, kid: &str) -> Jwk {
    let mut k = s.public_jwk();
    k.kid = Some(kid.into());
    k
}

fn jwks_file(keys: Vec<Jwk>) -> PathBuf {
    temp_file("jwks.json", &JwkSet::new(keys).to_json())
}

fn mint(s: &dyn Signer, header: &Value, claims: &str) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(header.to_string().as_bytes()),
        b64::encode(claims.as_bytes())
    );
    let sig = s.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64::encode(&sig))
}

fn hdr(s: &dyn Signer, kid: &str) -> Value {
    json!({"alg": s.algorithm().as_str(), "kid": kid})
}

fn good_claims() -> Value {
    json!({"iss": ISS, "aud": AUD, "sub": "alice", "iat": NOW - 10, "exp": NOW + 600})
}

fn claims_with(member: &str, raw: &str) -> String {
    let mut c: serde_json::Map<String, Value> = serde_json::from_value(good_claims()).unwrap();
    c.remove(member);
    let mut text = Value::Object(c).to_string();
    text.pop();
    format!(r#"{text},"{member}":{raw}}}"#)
}

fn tamper(token: &str) -> String {
    let dot = token.rfind('.').unwrap();
    let mut sig = b64::decode(&token[dot + 1..], jwk_core::Part::Signature).unwrap();
    sig[0] ^= 1;
    format!("{}.{}", &token[..dot], b64::encode(&sig))
}

#[test]
fn valid_token_output_contract() {
    let rs = rsa(Algorithm::Rs256);
    let file = jwks_file(vec![jwk(&*rs, "rs")]);
    let f = file.to_str().unwrap();
    let token = mint(&*rs, &hdr(&*rs, "rs"), &good_claims().to_string());
    let now = NOW.to_string();
    let out = run(
        &[
            "verify", "--jwks", f, "--now", &now, "--iss", ISS, "--aud", AUD, &token,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .starts_with(r#"{"valid":true,"alg":"RS256","kid":"rs","header":{"#),
        "{}",
        out.stdout
    );
    let v = out.json();
    assert_eq!(v["header"], json!({"alg":"RS256","kid":"rs"}));
    assert_eq!(v["claims"], good_claims());
    assert_eq!(v["warnings"], json!([]));
    // Without --aud and --iss the output says what was not checked.
    let out = run(&["verify", "--jwks", f, "--now", &now, &token], None);
    assert_eq!(out.code, 0);
    let warnings = out.json()["warnings"].to_string();
    assert!(warnings.contains("audience not checked"), "{warnings}");
    assert!(warnings.contains("issuer not checked"), "{warnings}");
    // Token from stdin, whitespace trimmed, with and without "-".
    let piped = format!("\n  {token}\r\n\t");
    for args in [
        vec!["verify", "--jwks", f, "--now", &now],
        vec!["verify", "--jwks", f, "--now", &now, "-"],
    ] {
        let out = run(&args, Some(&piped));
        assert_eq!(out.code, 0, "{}", out.stdout);
        assert_eq!(out.json()["kid"], "rs");
    }
    // A bare JWK file works too; no kid in the token gives "kid": null.
    let bare = temp_file("key.json", &rs.public_jwk().to_json());
    let no_kid = mint(&*rs, &json!({"alg":"RS256"}), &good_claims().to_string());
    let out = run(
        &[
            "verify",
            "--jwks",
            bare.to_str().unwrap(),
            "--now",
            &now,
            &no_kid,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains(r#""kid":null"#));
    // Issue 11 item 4: a token without exp is invalid by default (scripts trust the exit
    // code); --allow-missing-exp accepts it with a warning; --require exp wins over that.
    let no_exp = mint(&*rs, &hdr(&*rs, "rs"), &json!({"iss": ISS}).to_string());
    let out = run(&["verify", "--jwks", f, &no_exp], None);
    assert_eq!(
        (out.code, out.error_code().as_str()),
        (1, "missing_claim"),
        "{}",
        out.stdout
    );
    let out = run(
        &["verify", "--jwks", f, "--allow-missing-exp", &no_exp],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.json()["warnings"].to_string().contains("no exp"));
    for args in [
        vec!["verify", "--jwks", f, "--require", "exp", &no_exp],
        vec![
            "verify",
            "--jwks",
            f,
            "--allow-missing-exp",
            "--require",
            "exp",
            &no_exp,
        ],
    ] {
        let out = run(&args, None);
        assert_eq!((out.code, out.error_code().as_str()), (1, "missing_claim"));
    }
    let help = run(&["verify", "--help"], None);
    assert!(
        help.stdout.contains("--allow-missing-exp"),
        "{}",
        help.stdout
    );
}

#[test]
fn every_error_code_through_the_binary() {
    let rs = rsa(Algorithm::Rs256);
    let mut ps_key = jwk(&*rs, "ps");
    ps_key.alg = Some(Algorithm::Ps256);
    let file = jwks_file(vec![jwk(&*rs, "rs"), ps_key]);
    let f = file.to_str().unwrap().to_owned();
    let short = temp_file(
        "short.json",
        r#"{"keys":[{"kty":"oct","kid":"short","k":"AAECAwQFBgcICQoLDA0ODw"}]}"#,
    );
    let k1 = temp_file(
        "k1.json",
        r#"{"kty":"EC","crv":"secp256k1","kid":"k1","x":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","y":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}"#,
    );
    let now = NOW.to_string();
    let good = mint(&*rs, &hdr(&*rs, "rs"), &good_claims().to_string());
    let signed = |claims: &str| mint(&*rs, &hdr(&*rs, "rs"), claims);
    let hs = provider().hmac_signer(&[7; 32], Algorithm::Hs256).unwrap();
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "verify", "--jwks", &f, "--now", &now, "--iss", ISS, "--aud", AUD,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("malformed", base(&["abc"])),
        ("too_large", base(&[&"a".repeat(16 * 1024 + 1)])),
        ("alg_not_allowed", base(&["eyJhbGciOiJub25lIn0.e30."])),
        (
            "unsupported_alg",
            vec![
                "verify".into(),
                "--jwks".into(),
                k1.to_str().unwrap().into(),
                "--alg".into(),
                "ES256K".into(),
                format!(
                    "{}.e30.AAAA",
                    b64::encode(br#"{"alg":"ES256K","kid":"k1"}"#)
                ),
            ],
        ),
        (
            "unsupported_crit",
            base(&[&mint(
                &*rs,
                &json!({"alg":"RS256","kid":"rs","crit":["urn:x"],"urn:x":1}),
                &good_claims().to_string(),
            )]),
        ),
        // Issue 11 item 6: crit that is not an array of strings.
        (
            "unsupported_crit",
            base(&[&mint(
                &*rs,
                &json!({"alg":"RS256","kid":"rs","crit":"urn:x","urn:x":1}),
                &good_claims().to_string(),
            )]),
        ),
        (
            "unsupported_crit",
            base(&[&mint(
                &*rs,
                &json!({"alg":"RS256","kid":"rs","crit":["urn:x",7],"urn:x":1}),
                &good_claims().to_string(),
            )]),
        ),
        (
            "key_not_found",
            base(&[&mint(
                &*rs,
                &hdr(&*rs, "../../etc/passwd"),
                &good_claims().to_string(),
            )]),
        ),
        (
            "key_mismatch",
            base(&[&mint(&*rs, &hdr(&*rs, "ps"), &good_claims().to_string())]),
        ),
        (
            "weak_key",
            vec![
                "verify".into(),
                "--jwks".into(),
                short.to_str().unwrap().into(),
                "--alg".into(),
                "HS256".into(),
                mint(&*hs, &hdr(&*hs, "short"), &good_claims().to_string()),
            ],
        ),
        ("bad_signature", base(&[&tamper(&good)])),
        (
            "invalid_claim",
            base(&[&signed(&claims_with("nbf", "true"))]),
        ),
        ("missing_claim", base(&["--require", "scope", &good])),
        (
            "expired",
            base(&[&signed(&claims_with("exp", &(NOW - 60).to_string()))]),
        ),
        (
            "not_yet_valid",
            base(&[&signed(&claims_with("nbf", &(NOW + 61).to_string()))]),
        ),
        (
            "issued_in_future",
            base(&[&signed(&claims_with("iat", &(NOW + 61).to_string()))]),
        ),
        ("too_old", base(&["--max-age", "5", "--leeway", "0", &good])),
        (
            "issuer_mismatch",
            base(&[&signed(&claims_with("iss", r#""https://evil.test""#))]),
        ),
        (
            "audience_mismatch",
            base(&[&signed(&claims_with("aud", "[]"))]),
        ),
        ("subject_mismatch", base(&["--sub", "bob", &good])),
        ("type_mismatch", base(&["--typ", "at+jwt", &good])),
        (
            "jwks_unavailable",
            vec![
                "verify".into(),
                "--jwks-url".into(),
                "https://127.0.0.1:9/jwks.json".into(),
                good.clone(),
            ],
        ),
    ];
    let mut seen = BTreeSet::new();
    for (expected, args) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args, None);
        let want_exit = if *expected == "jwks_unavailable" {
            2
        } else {
            1
        };
        assert_eq!(
            out.code, want_exit,
            "{expected}: {} {}",
            out.stdout, out.stderr
        );
        let v = out.json();
        assert_eq!(v["valid"], false);
        assert_eq!(v["error"]["code"], *expected, "{}", out.stdout);
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
        assert!(out.stdout.starts_with(r#"{"valid":false,"error":{"code":"#));
        seen.insert(expected.to_string());
    }
    let all: BTreeSet<String> = jwt_validate::Error::CODES
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(seen, all);
    // The good token itself passes with the same options.
    let args = base(&[&good]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run(&args, None).code, 0);
}

#[test]
fn asgardeo_shape_through_the_binary() {
    let rs = rsa(Algorithm::Rs256);
    let ps = rsa(Algorithm::Ps256);
    let mut doc: Value = serde_json::from_str(ASGARDEO).unwrap();
    let n = rs.public_jwk().to_value()["n"].clone();
    for key in doc["keys"].as_array_mut().unwrap() {
        key["n"] = n.clone();
    }
    let file = temp_file("asgardeo.json", &doc.to_string());
    let f = file.to_str().unwrap();
    let now = NOW.to_string();
    let claims = good_claims().to_string();
    let rs_kid = format!("{PREFIX}_RS256");
    let ps_kid = format!("{PREFIX}_PS256");
    let verify = |t: &str| {
        run(
            &["verify", "--jwks", f, "--now", &now, "--aud", AUD, t],
            None,
        )
    };
    assert_eq!(verify(&mint(&*rs, &hdr(&*rs, &rs_kid), &claims)).code, 0);
    assert_eq!(verify(&mint(&*ps, &hdr(&*ps, &ps_kid), &claims)).code, 0);
    let out = verify(&mint(&*rs, &json!({"alg":"RS256","kid":ps_kid}), &claims));
    assert_eq!((out.code, out.error_code().as_str()), (1, "key_mismatch"));
    // inspect: both entries usable, same thumbprint (same key), different kid and alg.
    let out = run(&["jwks", "inspect", "--json", f], None);
    assert_eq!(out.code, 0);
    let keys = out.json()["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["thumbprint"], keys[1]["thumbprint"]);
    assert_eq!(
        (keys[0]["alg"].as_str(), keys[1]["alg"].as_str()),
        (Some("RS256"), Some("PS256"))
    );
    // The published x5c is truncated: the keys still load from n and e, and the table says so.
    let table = run(&["jwks", "inspect", f], None);
    assert!(
        table.stdout.contains("2 keys, 2 usable, 0 unusable"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("note: key 0: x5c[0]"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("note: key 1: x5c[0]"),
        "{}",
        table.stdout
    );
}

#[test]
fn inspect_reports_unusable_keys() {
    let rs = rsa(Algorithm::Rs256);
    let doc = format!(
        r#"{{"keys":[{},{{"kty":"RSA","use":"enc","kid":"enc","n":"AQAB","e":"AQAB"}},{{"kty":"RSA","kid":"tiny","n":"AQAB","e":"AQAB"}},{{"kty":"EC","crv":"P-256","kid":"bad","x":"AA","y":"AA"}},{{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ed"}}]}}"#,
        jwk(&*rs, "rs").to_json()
    );
    let file = temp_file("mixed.json", &doc);
    let f = file.to_str().unwrap();
    let out = run(&["jwks", "inspect", "--json", f], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with(r#"{"keys":[{"index":0,"kid":"rs","kty":"RSA","alg":"RS256","use":null,"crv":null,"key_ops":null,"bits":2048,"thumbprint":"#), "{}", out.stdout);
    let keys = out.json()["keys"].as_array().unwrap().clone();
    let summary: Vec<(u64, &str, bool)> = keys
        .iter()
        .map(|k| {
            (
                k["index"].as_u64().unwrap(),
                k["kid"].as_str().unwrap(),
                k["usable"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (0, "rs", true),
            (1, "enc", false),
            (2, "tiny", false),
            (3, "bad", false),
            (4, "ed", true)
        ]
    );
    assert_eq!(keys[0]["thumbprint"], rs.public_jwk().thumbprint());
    assert_eq!(
        keys[4]["thumbprint"],
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
    assert_eq!(keys[4]["crv"], "Ed25519");
    assert!(keys[1]["reason"].as_str().unwrap().contains("enc"));
    assert!(
        keys[2]["reason"].as_str().unwrap().contains("weak"),
        "{}",
        keys[2]
    );
    assert_eq!(keys[0]["reason"], Value::Null);
    let table = run(&["jwks", "inspect", f], None);
    assert_eq!(table.code, 0);
    assert!(table.stdout.starts_with("INDEX"), "{}", table.stdout);
    assert_eq!(
        table.stdout.matches("UNUSABLE").count(),
        3,
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("5 keys, 2 usable, 3 unusable"));
}

/// Issue 11 item 5: an unusable key shows every member it declared, whatever made it
/// unusable: a parse failure (33-byte EC coordinates), `use: enc`, an unknown `kty`, an
/// import failure (a small-order Ed25519 key with `key_ops`).
#[test]
fn inspect_shows_what_unusable_keys_declared() {
    let x33 = b64::encode(&[1u8; 33]);
    let doc = format!(
        r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"ec33","alg":"ES256","use":"sig","key_ops":["verify"],"x":"{x33}","y":"{x33}"}},{{"kty":"RSA","kid":"enc","alg":"RSA-OAEP","use":"enc","n":"AQAB","e":"AQAB"}},{{"kty":"zzz","kid":"odd","alg":"RS256","use":"sig","crv":"X9"}},{{"kty":"OKP","crv":"Ed25519","kid":"id","alg":"EdDSA","key_ops":["verify"],"x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}]}}"#
    );
    let file = temp_file("declared.json", &doc);
    let f = file.to_str().unwrap();
    let out = run(&["jwks", "inspect", "--json", f], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = out.json()["keys"].as_array().unwrap().clone();
    let declared: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!([
                r["kid"],
                r["kty"],
                r["alg"],
                r["use"],
                r["crv"],
                r["key_ops"],
                r["bits"],
                r["usable"]
            ])
        })
        .collect();
    assert_eq!(
        declared,
        [
            json!([
                "ec33",
                "EC",
                "ES256",
                "sig",
                "P-256",
                ["verify"],
                256,
                false
            ]),
            json!(["enc", "RSA", "RSA-OAEP", "enc", null, null, 17, false]),
            json!(["odd", "zzz", "RS256", "sig", "X9", null, null, false]),
            json!([
                "id",
                "OKP",
                "EdDSA",
                null,
                "Ed25519",
                ["verify"],
                256,
                false
            ]),
        ]
    );
    let table = run(&["jwks", "inspect", f], None);
    assert_eq!(table.code, 0);
    let lines: Vec<&str> = table.stdout.lines().collect();
    let cells = |i: usize| lines[i].split_whitespace().take(8).collect::<Vec<_>>();
    assert_eq!(
        cells(0),
        ["INDEX", "KID", "KTY", "ALG", "USE", "CRV", "KEY_OPS", "BITS"]
    );
    assert_eq!(
        cells(1),
        ["0", "ec33", "EC", "ES256", "sig", "P-256", "verify", "256"]
    );
    assert_eq!(
        cells(2),
        ["1", "enc", "RSA", "RSA-OAEP", "enc", "-", "-", "17"]
    );
    assert_eq!(
        cells(3),
        ["2", "odd", "zzz", "RS256", "sig", "X9", "-", "-"]
    );
}

/// `Algorithm` is `Copy` and keeps no unregistered name: every output still shows the name
/// exactly as received, from the key, the header or the argument it came from.
#[test]
fn unknown_alg_names_are_shown_as_received() {
    let rs = rsa(Algorithm::Rs256);
    let mut usable = jwk(&*rs, "rs");
    usable.alg = Some(Algorithm::Rs256);
    let mut odd = usable.clone();
    odd.kid = Some("odd".into());
    odd.set_alg_name("RS256-Foo");
    assert_eq!(odd.alg, Some(Algorithm::Unknown));
    // Serializing writes the name back.
    assert_eq!(odd.to_value()["alg"], "RS256-Foo");
    let doc = format!(r#"{{"keys":[{},{}]}}"#, usable.to_json(), odd.to_json());
    let file = temp_file("unknown-alg.json", &doc);
    let f = file.to_str().unwrap();
    // inspect, JSON and table.
    let out = run(&["jwks", "inspect", "--json", f], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = out.json()["keys"].as_array().unwrap().clone();
    assert_eq!(rows[1]["kid"], "odd");
    assert_eq!(rows[1]["alg"], "RS256-Foo", "{rows:?}");
    assert_eq!(rows[1]["usable"], false);
    let table = run(&["jwks", "inspect", f], None);
    assert_eq!(table.code, 0);
    let row = table
        .stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("odd"))
        .unwrap_or_else(|| panic!("{}", table.stdout));
    assert_eq!(row.split_whitespace().nth(3), Some("RS256-Foo"), "{row}");
    // verify: refused by the name in the header.
    let token = format!(
        "{}.e30.AAAA",
        b64::encode(br#"{"alg":"Foo-256","kid":"rs"}"#)
    );
    let out = run(&["verify", "--jwks", f, &token], None);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(out.error_code(), "alg_not_allowed");
    assert_eq!(
        out.json()["error"]["message"],
        r#"algorithm "Foo-256" is not allowed by this validator"#
    );
    // decode: the header as received.
    let v = run(&["decode", &token], None).json();
    assert_eq!(v["header"], json!({"alg":"Foo-256","kid":"rs"}));
    // sign: the argument as typed.
    let key = temp_file("unknown-alg.pem", include_str!("keys/rsa2048.pem"));
    let out = run(
        &["sign", "--key", key.to_str().unwrap(), "--alg", "Foo-256"],
        None,
    );
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains(r#"--alg "Foo-256": unknown algorithm"#),
        "{}",
        out.stderr
    );
}

/// Issue 11 item 3: the same RSA key with a leading zero octet in `n` (and in `e`) has the
/// thumbprint of the key, and still verifies.
#[test]
fn padded_rsa_key_has_the_keys_thumbprint() {
    let rs = rsa(Algorithm::Rs256);
    let plain = jwk(&*rs, "rs");
    let jwk_core::KeyParams::Rsa(k) = &plain.params else {
        panic!("{plain:?}");
    };
    let padded = format!(
        r#"{{"kty":"RSA","kid":"rs","n":"{}","e":"{}"}}"#,
        b64::encode(&[&[0u8][..], &k.n].concat()),
        b64::encode(&[&[0u8, 0][..], &k.e].concat())
    );
    let file = temp_file(
        "padded.json",
        &format!(r#"{{"keys":[{padded},{}]}}"#, plain.to_json()),
    );
    let f = file.to_str().unwrap();
    let out = run(&["jwks", "inspect", "--json", f], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = out.json()["keys"].as_array().unwrap().clone();
    assert_eq!(rows[0]["thumbprint"], plain.thumbprint());
    assert_eq!(rows[1]["thumbprint"], plain.thumbprint());
    assert_eq!(rows[0]["bits"], 2048);
    let alone = temp_file("padded-only.json", &format!(r#"{{"keys":[{padded}]}}"#));
    let token = mint(&*rs, &hdr(&*rs, "rs"), &good_claims().to_string());
    let now = NOW.to_string();
    let out = run(
        &[
            "verify",
            "--jwks",
            alone.to_str().unwrap(),
            "--now",
            &now,
            &token,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

/// Issue 11 item 7: dates before 1970 are NumericDates: a negative exp is expired, a
/// negative nbf or iat lies in the past.
#[test]
fn dates_before_1970_through_the_binary() {
    let rs = rsa(Algorithm::Rs256);
    let file = jwks_file(vec![jwk(&*rs, "rs")]);
    let f = file.to_str().unwrap();
    let now = NOW.to_string();
    let verify = |member: &str, raw: &str| {
        let token = mint(&*rs, &hdr(&*rs, "rs"), &claims_with(member, raw));
        run(&["verify", "--jwks", f, "--now", &now, &token], None)
    };
    let out = verify("exp", "-1");
    assert_eq!((out.code, out.error_code().as_str()), (1, "expired"));
    for (member, raw) in [("nbf", "-1"), ("iat", "-1.5")] {
        let out = verify(member, raw);
        assert_eq!(out.code, 0, "{member}: {}", out.stdout);
    }
}

/// Issue 11 item 8: typ is judged after the signature: a badly signed token with the wrong
/// typ is bad_signature; a well signed one is type_mismatch.
#[test]
fn typ_is_judged_after_the_signature_through_the_binary() {
    let rs = rsa(Algorithm::Rs256);
    let file = jwks_file(vec![jwk(&*rs, "rs")]);
    let f = file.to_str().unwrap();
    let now = NOW.to_string();
    let token = mint(
        &*rs,
        &json!({"alg":"RS256","kid":"rs","typ":"JWT"}),
        &good_claims().to_string(),
    );
    let verify = |t: &str| {
        let out = run(
            &["verify", "--jwks", f, "--now", &now, "--typ", "at+jwt", t],
            None,
        );
        (out.code, out.error_code())
    };
    assert_eq!(verify(&token), (1, "type_mismatch".into()));
    assert_eq!(verify(&tamper(&token)), (1, "bad_signature".into()));
}

#[test]
fn cannot_decide_exits_2() {
    let token = "eyJhbGciOiJSUzI1NiJ9.e30.AAAA";
    // Usage errors: clap's exit code 2, nothing on stdout.
    for args in [
        vec!["verify", token],
        vec![
            "verify",
            "--jwks",
            "a.json",
            "--jwks-url",
            "https://x.test/",
            token,
        ],
        vec!["verify", "--jwks", "a.json", "--alg", "none", token],
        vec!["verify", "--jwks", "a.json", "--alg", "rs256", token],
        vec!["verify", "--jwks", "a.json", "--leeway", "-5", token],
        vec!["jwks", "inspect"],
    ] {
        let out = run(&args, None);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stdout);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        assert!(!out.stderr.is_empty());
    }
    // Unreadable key sources: stderr, and the JSON with jwks_unavailable.
    let not_json = temp_file("bad.json", "{not json");
    let private = temp_file(
        "private.json",
        r#"{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}"#,
    );
    for args in [
        vec!["verify", "--jwks", "/nonexistent/jwks.json", token],
        vec!["verify", "--jwks", not_json.to_str().unwrap(), token],
        vec!["verify", "--jwks", private.to_str().unwrap(), token],
        vec!["verify", "--discovery", "https://127.0.0.1:9", token],
        vec![
            "jwks",
            "inspect",
            "--json",
            "--url",
            "https://127.0.0.1:9/jwks",
        ],
    ] {
        let out = run(&args, None);
        assert_eq!(out.code, 2, "{args:?}");
        assert_eq!(out.error_code(), "jwks_unavailable", "{args:?}");
        assert!(out.stderr.starts_with("jwkctl: "), "{}", out.stderr);
    }
}

#[test]
fn decode_is_loudly_unverified() {
    let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let out = run(&["decode", token], None);
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains("UNVERIFIED"));
    let v = out.json();
    assert_eq!(v["verified"], false);
    assert!(v["warning"].as_str().unwrap().starts_with("UNVERIFIED"));
    assert_eq!(v["header"], json!({"typ":"JWT","alg":"HS256"}));
    assert_eq!(v["claims"]["iss"], "joe");
    // A payload that is not a claims set: header shown, claims null with the reason.
    let odd = format!("{}.Zm9v.", b64::encode(br#"{"alg":"ES256"}"#));
    let v = run(&["decode"], Some(&odd)).json();
    assert_eq!(v["claims"], Value::Null);
    assert_eq!(v["claims_error"]["code"], "malformed");
    let out = run(&["decode", "not-a-token"], None);
    assert_eq!((out.code, out.error_code().as_str()), (1, "malformed"));
}

/// A loopback HTTPS server with a CA made at test time: fixed routes, `Connection: close`,
/// at most 64 connections, then it stops.
struct Https {
    base: String,
    ca_file: PathBuf,
}

fn https_server(routes: impl FnOnce(&str) -> Vec<(String, &'static str, String)>) -> Https {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "jwkctl test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = leaf.signed_by(&key, &ca_cert, &ca_key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let routes = Arc::new(routes(&base));
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            for _ in 0..64 {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let routes = routes.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                        match tls.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head);
                    let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let (status, ctype, body) = routes
                        .iter()
                        .find(|(p, _, _)| *p == path)
                        .map(|(_, t, b)| ("200 OK", *t, b.clone()))
                        .unwrap_or(("404 Not Found", "text/plain", "not found".into()));
                    let reply = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(reply.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
    });
    Https {
        base,
        ca_file: temp_file("ca.pem", &ca_cert.pem()),
    }
}

#[test]
fn remote_key_sources_over_https() {
    let rs = rsa(Algorithm::Rs256);
    let jwks = JwkSet::new(vec![jwk(&*rs, "rs")]).to_json();
    let server = https_server(|base| {
        vec![
            ("/jwks".into(), "application/jwk-set+json", jwks.clone()),
            ("/login".into(), "text/html", "<html>sign in</html>".into()),
            (
                "/.well-known/openid-configuration".into(),
                "application/json",
                json!({"issuer": base, "jwks_uri": format!("{base}/jwks")}).to_string(),
            ),
            (
                "/.well-known/oauth-authorization-server/tenant".into(),
                "application/json",
                json!({"issuer": format!("{base}/tenant"), "jwks_uri": format!("{base}/jwks")})
                    .to_string(),
            ),
        ]
    });
    let ca = server.ca_file.to_str().unwrap();
    let url = format!("{}/jwks", server.base);
    let token = mint(&*rs, &hdr(&*rs, "rs"), &good_claims().to_string());
    let now = NOW.to_string();

    let out = run(
        &[
            "verify",
            "--jwks-url",
            &url,
            "--ca-file",
            ca,
            "--now",
            &now,
            &token,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{} {}", out.stdout, out.stderr);
    assert_eq!(out.json()["kid"], "rs");
    // --discovery: the document names the set, and without --iss the discovered issuer is
    // required (no "issuer not checked" warning).
    let discover = |issuer: &str, token: &str| {
        run(
            &[
                "verify",
                "--discovery",
                issuer,
                "--ca-file",
                ca,
                "--now",
                &now,
                token,
            ],
            None,
        )
    };
    let from = |iss: &str| {
        mint(
            &*rs,
            &hdr(&*rs, "rs"),
            &claims_with("iss", &json!(iss).to_string()),
        )
    };
    let out = discover(&server.base, &from(&server.base));
    assert_eq!(out.code, 0, "{} {}", out.stdout, out.stderr);
    assert!(
        !out.json()["warnings"].to_string().contains("issuer"),
        "{}",
        out.stdout
    );
    let out = discover(&server.base, &token);
    assert_eq!(
        (out.code, out.error_code().as_str()),
        (1, "issuer_mismatch")
    );
    // An issuer with a path and only RFC 8414 metadata.
    let tenant = format!("{}/tenant", server.base);
    let out = discover(&tenant, &from(&tenant));
    assert_eq!(out.code, 0, "{} {}", out.stdout, out.stderr);
    // The keys decide: a tampered token is still refused with the fetched set.
    let out = run(
        &[
            "verify",
            "--jwks-url",
            &url,
            "--ca-file",
            ca,
            "--now",
            &now,
            &tamper(&token),
        ],
        None,
    );
    assert_eq!((out.code, out.error_code().as_str()), (1, "bad_signature"));
    let out = run(
        &["jwks", "inspect", "--json", "--url", &url, "--ca-file", ca],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["keys"][0]["kid"], "rs");

    // Could not decide: untrusted certificate, an HTML page, a missing document.
    for (args, needle) in [
        (vec!["verify", "--jwks-url", url.as_str(), &token], "tls"),
        (
            vec![
                "verify",
                "--jwks-url",
                &format!("{}/login", server.base),
                "--ca-file",
                ca,
                &token,
            ],
            "content_type",
        ),
        (
            vec![
                "verify",
                "--jwks-url",
                &format!("{}/missing", server.base),
                "--ca-file",
                ca,
                &token,
            ],
            "404",
        ),
        (
            vec!["verify", "--jwks-url", "http://127.0.0.1:9/jwks", &token],
            "insecure_url",
        ),
    ] {
        let out = run(&args, None);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stdout);
        assert_eq!(out.error_code(), "jwks_unavailable");
        assert!(out.stderr.contains(needle), "{needle}: {}", out.stderr);
    }
}

#[test]
fn inspect_checks_x5t_s256_against_x5c() {
    use base64::Engine as _;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["idp.test".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let der_b64 = base64::engine::general_purpose::STANDARD.encode(cert.der());
    let rs = rsa(Algorithm::Rs256);
    let mut good = jwk(&*rs, "good").to_value();
    good["x5c"] = json!([der_b64]);
    good["x5t#S256"] = json!(b64::encode(&[0u8; 32]));
    let mut cut = jwk(&*rs, "cut").to_value();
    cut["x5c"] = json!([&der_b64[..der_b64.len() / 2 / 4 * 4]]);
    let file = temp_file("x5c.json", &json!({"keys": [good, cut]}).to_string());
    let out = run(&["jwks", "inspect", file.to_str().unwrap()], None);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("note: key 0: x5t#S256"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("does not match x5c[0]"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("note: key 1: x5c[0] is not a complete DER certificate"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("2 keys, 2 usable, 0 unusable"),
        "{}",
        out.stdout
    );
}

#[test]
fn attacks_through_the_binary() {
    let rs = rsa(Algorithm::Rs256);
    let public = jwk(&*rs, "rs");
    let file = jwks_file(vec![public.clone()]);
    let f = file.to_str().unwrap();
    let now = NOW.to_string();
    let claims = good_claims().to_string();
    let code = |extra: &[&str], token: &str| {
        let mut args = vec!["verify", "--jwks", f, "--now", &now];
        args.extend_from_slice(extra);
        args.push(token);
        let out = run(&args, None);
        (out.code, out.error_code())
    };
    for alg in ["none", "None", "NONE", "nOnE"] {
        let t = format!(
            "{}.{}.",
            b64::encode(json!({"alg": alg, "kid": "rs"}).to_string().as_bytes()),
            b64::encode(claims.as_bytes())
        );
        assert_eq!(code(&[], &t), (1, "alg_not_allowed".into()), "{alg}");
    }
    for secret in [
        include_bytes!("keys/rsa2048.pub.pem").to_vec(),
        public.to_json().into_bytes(),
    ] {
        let hs = provider().hmac_signer(&secret, Algorithm::Hs256).unwrap();
        let t = mint(&*hs, &hdr(&*hs, "rs"), &claims);
        assert_eq!(code(&[], &t), (1, "alg_not_allowed".into()));
        assert_eq!(
            code(&["--alg", "RS256,HS256"], &t),
            (1, "key_mismatch".into())
        );
    }
    let dup = format!(r#"{{"exp":{},"exp":{}}}"#, NOW - 999, NOW + 999);
    assert_eq!(
        code(&[], &mint(&*rs, &hdr(&*rs, "rs"), &dup)),
        (1, "malformed".into())
    );
    let b64_false = mint(
        &*rs,
        &json!({"alg":"RS256","kid":"rs","b64":false,"crit":["b64"]}),
        &claims,
    );
    assert_eq!(code(&[], &b64_false), (1, "unsupported_crit".into()));
}

#[test]
fn client_secret_hash_prints_an_argon2id_hash() {
    let out = run(&["client-secret-hash"], Some("s3cret\n"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let hash = out.stdout.trim();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!out.stdout.contains("s3cret"));
    let generated = run(&["client-secret-hash", "--generate"], None);
    assert_eq!(generated.code, 0, "{}", generated.stderr);
    let lines: Vec<&str> = generated.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", generated.stdout);
    assert_eq!(lines[0].len(), 43);
    assert!(lines[1].starts_with("$argon2id$"));
    // Nothing on stdin: exit 2.
    assert_eq!(run(&["client-secret-hash"], Some("")).code, 2);
}

/// `serve --check` on a key directory others can write, or with a symlinked key file:
/// exit 2 with a message that says how to fix it (issue 13, item 3).
#[cfg(unix)]
#[test]
fn serve_check_refuses_an_untrusted_key_directory() {
    use std::os::unix::fs::PermissionsExt as _;
    let base = temp_file("unused", "");
    let base = base.parent().unwrap();
    let keys = base.join("keys");
    let config = base.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "issuer = \"http://127.0.0.1:1\"\nalgorithms = [\"ES256\"]\nkey_dir = \"{}\"\n\
             prepublish = \"10m\"\nrotation_period = \"1d\"\n",
            keys.display()
        ),
    )
    .unwrap();
    let c = config.to_str().unwrap();
    let ok = run(&["serve", "--config", c, "--check"], None);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stderr.contains("bytes each (measured)"), "{}", ok.stderr);

    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o777)).unwrap();
    let bad = run(&["serve", "--config", c, "--check"], None);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("writable by others"), "{}", bad.stderr);
    assert!(bad.stderr.contains("chmod 700"), "{}", bad.stderr);

    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o700)).unwrap();
    let target = base.join("elsewhere.pem");
    std::fs::write(&target, "x").unwrap();
    std::os::unix::fs::symlink(&target, keys.join("p256-1000000000.pem")).unwrap();
    let link = run(&["serve", "--config", c, "--check"], None);
    assert_eq!(link.code, 2, "{}", link.stderr);
    assert!(link.stderr.contains("symbolic link"), "{}", link.stderr);
}

/// The RFC 9964 example ML-DSA-65 public key (kid "pq") and a token it signed (good claims at
/// `NOW`, see jwt-validate's `tests/vectors/README.md`): the same token on every build.
fn rfc_ml_dsa_65() -> (String, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{root}/jwk-core/tests/vectors/rfc9964.json")).unwrap(),
    )
    .unwrap();
    let mut jwk = v["cases"][1]["jwk"].clone();
    jwk.as_object_mut().unwrap().remove("priv");
    jwk["kid"] = json!("pq");
    let token = std::fs::read_to_string(format!(
        "{root}/jwt-validate/tests/vectors/mldsa65-token.txt"
    ))
    .unwrap();
    (
        json!({ "keys": [jwk] }).to_string(),
        token.trim().to_owned(),
    )
}

/// Issue 16's "done when": keygen, sign, verify (and tampered) for ML-DSA-65 on the aws-lc-rs
/// build; `unsupported_alg` from the ring build for an ML-DSA token.
#[test]
fn ml_dsa_65_keygen_sign_verify() {
    let (rfc_set, rfc_token) = rfc_ml_dsa_65();
    let rfc_file = temp_file("rfc9964.json", &rfc_set);
    let rfc_f = rfc_file.to_str().unwrap();
    let now = NOW.to_string();
    let rfc_verify = run(
        &["verify", "--jwks", rfc_f, "--now", &now, &rfc_token],
        None,
    );
    let key = temp_file("placeholder", "").with_file_name("k.pem");
    let keygen = run(
        &[
            "keygen",
            "--alg",
            "ML-DSA-65",
            "--out",
            key.to_str().unwrap(),
        ],
        None,
    );
    if !provider().supports(Algorithm::MlDsa65) {
        // ring: the same token is `unsupported_alg` (exit 1), and no key is made.
        assert_eq!(rfc_verify.code, 1, "{}", rfc_verify.stdout);
        assert_eq!(rfc_verify.error_code(), "unsupported_alg");
        assert_eq!(keygen.code, 2, "{}", keygen.stderr);
        assert!(keygen.stderr.contains("unsupported_alg") || keygen.stderr.contains("ring"));
        assert!(!key.exists());
        let inspect = run(&["jwks", "inspect", "--json", rfc_f], None);
        let row = &inspect.json()["keys"][0];
        assert_eq!(row["kty"], "AKP");
        assert_eq!(row["parameter_set"], "ML-DSA-65");
        assert_eq!(row["usable"], false);
        return;
    }
    assert_eq!(rfc_verify.code, 0, "{}", rfc_verify.stdout);
    assert_eq!(rfc_verify.json()["alg"], "ML-DSA-65");

    // keygen --out: PKCS#8 PEM in the file, the public JWK on stderr, nothing on stdout.
    assert_eq!(keygen.code, 0, "{}", keygen.stderr);
    assert_eq!(keygen.stdout, "");
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    let jwk_line = keygen
        .stderr
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("public JWK on stderr");
    let jwk = Jwk::parse(jwk_line.as_bytes()).unwrap();
    assert_eq!(jwk.params.kty(), "AKP");
    assert_eq!(jwk.alg, Some(Algorithm::MlDsa65));

    // sign --lifetime 60, then verify against a set holding that JWK.
    let sign = run(
        &[
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--alg",
            "ML-DSA-65",
            "--lifetime",
            "60",
        ],
        None,
    );
    assert_eq!(sign.code, 0, "{}", sign.stderr);
    let token = sign.stdout.trim().to_owned();
    let set_file = temp_file("set.json", &json!({ "keys": [jwk.to_value()] }).to_string());
    let f = set_file.to_str().unwrap();
    let ok = run(&["verify", "--jwks", f, &token], None);
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    let out = ok.json();
    assert_eq!(out["valid"], true);
    assert_eq!(out["alg"], "ML-DSA-65");
    assert_eq!(out["kid"], jwk.kid.clone().unwrap().as_str());

    // Tampered: payload and signature.
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&b64::decode(parts[1], jwk_core::Part::Payload).unwrap()).unwrap();
    claims["sub"] = json!("mallory");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64::encode(claims.to_string().as_bytes()),
        parts[2]
    );
    let mut sig = b64::decode(parts[2], jwk_core::Part::Signature).unwrap();
    sig[100] ^= 0x40;
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], b64::encode(&sig));
    for t in [forged, bad_sig] {
        let bad = run(&["verify", "--jwks", f, &t], None);
        assert_eq!(bad.code, 1, "{}", bad.stdout);
        assert_eq!(bad.error_code(), "bad_signature");
    }

    // jwks inspect: kty AKP, the parameter set, the RFC 9964 thumbprint.
    let inspect = run(&["jwks", "inspect", "--json", f], None);
    assert_eq!(inspect.code, 0);
    let row = &inspect.json()["keys"][0];
    assert_eq!(row["kty"], "AKP");
    assert_eq!(row["alg"], "ML-DSA-65");
    assert_eq!(row["parameter_set"], "ML-DSA-65");
    assert_eq!(row["bits"], 1952 * 8);
    assert_eq!(row["thumbprint"], jwk.thumbprint().as_str());
    assert_eq!(row["usable"], true);
    let table = run(&["jwks", "inspect", f], None);
    assert!(table.stdout.contains("AKP"), "{}", table.stdout);
    assert!(table.stdout.contains("ML-DSA-65"), "{}", table.stdout);
}

/// Issue 11 item 1: Ed25519 keys of small order. The identity key would verify
/// `R = identity, S = 0` over any claims; `verify` finds no usable key and `jwks inspect`
/// shows every small-order encoding (both sign bits, y >= p) as unusable.
#[test]
fn ed25519_small_order_keys_through_the_binary() {
    let encodings = [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ];
    let bytes = |h: &str| -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    };
    let keys: Vec<String> = encodings
        .iter()
        .enumerate()
        .map(|(i, h)| {
            format!(
                r#"{{"kty":"OKP","crv":"Ed25519","kid":"k{i}","x":"{}"}}"#,
                b64::encode(&bytes(h))
            )
        })
        .collect();
    let file = temp_file("small.json", &format!(r#"{{"keys":[{}]}}"#, keys.join(",")));
    let f = file.to_str().unwrap();
    let out = run(&["jwks", "inspect", "--json", f], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = out.json()["keys"].as_array().unwrap().clone();
    assert_eq!(rows.len(), encodings.len());
    for row in &rows {
        assert_eq!(row["usable"], false, "{row}");
        assert!(
            row["reason"].as_str().unwrap().contains("small order"),
            "{row}"
        );
    }
    // The forgery: the identity key (k2), R = identity, S = 0.
    let mut sig = bytes(encodings[2]);
    sig.extend_from_slice(&[0; 32]);
    let forged = format!(
        "{}.{}.{}",
        b64::encode(br#"{"alg":"EdDSA","kid":"k2"}"#),
        b64::encode(good_claims().to_string().as_bytes()),
        b64::encode(&sig)
    );
    let now = NOW.to_string();
    // (The binary's one backend: CI runs this file with each.)
    let out = run(&["verify", "--jwks", f, "--now", &now, &forged], None);
    assert_eq!(
        (out.code, out.error_code().as_str()),
        (1, "key_not_found"),
        "{}",
        out.stdout
    );
}

/// Issue 11 item 2: a set fetched over HTTPS never yields an `oct` key (`--jwks-url`,
/// `--discovery`, `jwks inspect --url`); the same set in a local file keeps today's rules.
#[test]
fn network_key_sets_never_yield_shared_secrets() {
    let secret = [7u8; 32];
    let hs = provider().hmac_signer(&secret, Algorithm::Hs256).unwrap();
    let rs = rsa(Algorithm::Rs256);
    let secrets = JwkSet::new(vec![jwk(&*hs, "hs")]).to_json();
    let mixed = format!(
        r#"{{"keys":[{},{}]}}"#,
        jwk(&*hs, "hs").to_json(),
        jwk(&*rs, "rs").to_json()
    );
    let server = https_server(|base| {
        vec![
            ("/secrets".into(), "application/json", secrets.clone()),
            ("/mixed".into(), "application/json", mixed.clone()),
            (
                "/.well-known/openid-configuration".into(),
                "application/json",
                json!({"issuer": base, "jwks_uri": format!("{base}/secrets")}).to_string(),
            ),
        ]
    });
    let ca = server.ca_file.to_str().unwrap();
    let now = NOW.to_string();
    let token = mint(&*hs, &hdr(&*hs, "hs"), &good_claims().to_string());
    let local = temp_file("secrets.json", &secrets);
    let out = run(
        &[
            "verify",
            "--jwks",
            local.to_str().unwrap(),
            "--alg",
            "HS256",
            "--now",
            &now,
            &token,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    for source in ["--jwks-url", "--discovery"] {
        let url = match source {
            "--jwks-url" => format!("{}/secrets", server.base),
            _ => server.base.clone(),
        };
        let out = run(
            &[
                "verify",
                source,
                &url,
                "--ca-file",
                ca,
                "--alg",
                "HS256",
                "--now",
                &now,
                &token,
            ],
            None,
        );
        assert_eq!(
            (out.code, out.error_code().as_str()),
            (2, "jwks_unavailable"),
            "{source}: {}",
            out.stdout
        );
        assert!(out.stderr.contains("private_key"), "{}", out.stderr);
    }
    let out = run(
        &[
            "jwks",
            "inspect",
            "--json",
            "--url",
            &format!("{}/mixed", server.base),
            "--ca-file",
            ca,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = out.json()["keys"].as_array().unwrap().clone();
    assert_eq!(
        (
            rows[0]["kid"].as_str(),
            rows[0]["kty"].as_str(),
            &rows[0]["usable"]
        ),
        (Some("hs"), Some("oct"), &json!(false))
    );
    assert_eq!(
        (rows[1]["kid"].as_str(), &rows[1]["usable"]),
        (Some("rs"), &json!(true))
    );
}

/// A loopback plain-http server with fixed routes (`Connection: close`), for `--allow-http`.
fn http_server(routes: impl FnOnce(&str) -> Vec<(String, String)>) -> String {
    use std::io::Read as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let routes = routes(&base);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut tcp) = stream else { return };
            let _ = tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let mut head = Vec::new();
            let mut chunk = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                match tcp.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&head);
            let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
            let (status, body) = routes
                .iter()
                .find(|(p, _)| *p == path)
                .map_or(("404 Not Found", "not found".to_owned()), |(_, b)| {
                    ("200 OK", b.clone())
                });
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tcp.write_all(reply.as_bytes());
        }
    });
    base
}

/// Issue 11 item 9: `verify --jwks-url / --discovery` and `jwks inspect --url` take
/// `--allow-http` (loopback hosts only, as `jwks watch`); the refusal names the CLI flag, not
/// the library option, and names the URL once.
#[test]
fn allow_http_for_loopback_key_sources() {
    let rs = rsa(Algorithm::Rs256);
    let jwks = JwkSet::new(vec![jwk(&*rs, "rs")]).to_json();
    let base = http_server(|base| {
        vec![
            ("/jwks".into(), jwks.clone()),
            (
                "/.well-known/openid-configuration".into(),
                json!({"issuer": base, "jwks_uri": format!("{base}/jwks")}).to_string(),
            ),
        ]
    });
    let url = format!("{base}/jwks");
    let now = NOW.to_string();
    let token = mint(
        &*rs,
        &hdr(&*rs, "rs"),
        &claims_with("iss", &json!(base).to_string()),
    );
    let refused = [
        vec!["verify", "--jwks-url", &url, "--now", &now, &token],
        vec!["verify", "--discovery", &base, "--now", &now, &token],
        vec!["jwks", "inspect", "--json", "--url", &url],
    ];
    for args in &refused {
        let out = run(args, None);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stdout);
        assert_eq!(out.error_code(), "jwks_unavailable");
        for text in [&out.stderr, &out.json()["error"]["message"].to_string()] {
            assert!(text.contains("--allow-http"), "{text}");
            assert!(!text.contains("allow_http_loopback"), "{text}");
            assert!(text.contains("insecure_url"), "{text}");
        }
        let target = if args.contains(&"--discovery") {
            &base
        } else {
            &url
        };
        assert_eq!(
            out.stderr.matches(target.as_str()).count(),
            1,
            "{}",
            out.stderr
        );
    }
    for mut args in refused {
        args.push("--allow-http");
        let out = run(&args, None);
        assert_eq!(out.code, 0, "{args:?}: {}{}", out.stdout, out.stderr);
    }
    // Never for other hosts (refused before any I/O).
    let out = run(
        &[
            "verify",
            "--jwks-url",
            "http://example.com/jwks",
            "--allow-http",
            &token,
        ],
        None,
    );
    assert_eq!(
        (out.code, out.error_code().as_str()),
        (2, "jwks_unavailable")
    );
    assert!(out.stderr.contains("insecure_url"), "{}", out.stderr);
    let help = run(&["verify", "--help"], None);
    assert!(help.stdout.contains("--allow-http"));
    let help = run(&["jwks", "inspect", "--help"], None);
    assert!(help.stdout.contains("--allow-http"));
}
