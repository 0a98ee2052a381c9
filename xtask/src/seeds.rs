//! `cargo xtask fuzz-seeds`: writes the committed seed corpora `fuzz/corpus/<target>/seed-*`
//! from jwk-core's test vectors, so the seeds follow the vectors instead of being hand-made.

use std::path::Path;

use serde_json::Value;

const VECTORS: &str = "crates/jwk-core/tests/vectors";

/// Rewrites every `seed-*` file; other corpus files (ignored by git) are left alone.
pub(crate) fn run(root: &Path) -> Result<(), String> {
    let vectors = root.join(VECTORS);
    let read = |name: &str| -> Result<Value, String> {
        let path = vectors.join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let mut seeds: Vec<(&str, String, Vec<u8>)> = Vec::new();
    let mut add = |target: &'static str, name: String, bytes: Vec<u8>| {
        seeds.push((target, name, bytes));
    };
    let text = |v: &Value, key: &str| -> Result<Vec<u8>, String> {
        v.get(key)
            .and_then(Value::as_str)
            .map(|s| s.as_bytes().to_vec())
            .ok_or_else(|| format!("vector member {key:?} missing"))
    };
    let compact_json = |v: &Value| v.to_string().into_bytes();
    let tag = |section: &Value| -> String {
        section
            .as_str()
            .unwrap_or("x")
            .to_lowercase()
            .replace('.', "_")
    };

    let rfc7515 = read("rfc7515_appendix_a.json")?;
    for case in cases(&rfc7515, "cases") {
        let t = format!("rfc7515-{}", tag(&case["section"]));
        add("compact", t.clone(), text(case, "compact")?);
        add("header", t.clone(), text(case, "header_json")?);
        if case["payload"].as_str().is_some_and(|p| p.starts_with('{')) {
            add("claims", t.clone(), text(case, "payload")?);
        }
        if let Some(jwk) = case.get("jwk") {
            add("jwk", t, compact_json(jwk));
        }
    }

    let s4 = read("rfc7520_section4_jws.json")?;
    for case in cases(&s4, "cases") {
        let t = format!("rfc7520-{}", tag(&case["section"]));
        add("compact", t.clone(), text(case, "compact")?);
        add("header", t, text(case, "protected_json")?);
    }

    let s3 = read("rfc7520_section3_keys.json")?;
    let mut set = Vec::new();
    for case in cases(&s3, "keys") {
        let t = format!("rfc7520-{}", tag(&case["section"]));
        add("jwk", t, compact_json(&case["jwk"]));
        set.push(case["jwk"].clone());
    }
    add(
        "jwks",
        "rfc7520-section3".into(),
        compact_json(&serde_json::json!({ "keys": set })),
    );

    let jwe = read("rfc7520_5_6_jwe.json")?;
    add("compact", "rfc7520-5_6-jwe".into(), text(&jwe, "compact")?);
    add(
        "header",
        "rfc7520-5_6-jwe".into(),
        text(&jwe, "protected_json")?,
    );

    let rfc7638 = read("rfc7638.json")?;
    add("jwk", "rfc7638".into(), compact_json(&rfc7638["jwk"]));

    let rfc8037 = read("rfc8037.json")?;
    add(
        "jwk",
        "rfc8037-a1".into(),
        compact_json(&rfc8037["a1_private_key"]),
    );
    add(
        "jwk",
        "rfc8037-a2".into(),
        compact_json(&rfc8037["a2_public_key"]),
    );
    add(
        "compact",
        "rfc8037-a4".into(),
        text(&rfc8037, "a4_compact")?,
    );
    add(
        "header",
        "rfc8037-a4".into(),
        text(&rfc8037, "a4_header_json")?,
    );

    // RFC 9964 Appendix A.1: AKP keys (private as given, public half), their set, the JWS,
    // and for the `akp` target the shape `[alg, len_delta, flags, pub...]` of each public key.
    let rfc9964 = read("rfc9964.json")?;
    let mut akp_set = Vec::new();
    for (i, case) in cases(&rfc9964, "cases").enumerate() {
        let t = format!("rfc9964-{}", tag(&case["figure"]));
        add("jwk", format!("{t}-private"), compact_json(&case["jwk"]));
        let mut public = case["jwk"].clone();
        if let Some(m) = public.as_object_mut() {
            m.remove("priv");
        }
        add("jwk", t.clone(), compact_json(&public));
        akp_set.push(public);
        add("compact", t.clone(), text(case, "jws")?);
        let raw = case["raw_public_key"]
            .as_str()
            .ok_or("rfc9964: raw_public_key missing")?;
        let mut shape = vec![u8::try_from(i).unwrap_or(0), 0, 0];
        shape.extend(hex(raw)?);
        add("akp", t, shape);
    }
    add(
        "jwks",
        "rfc9964".into(),
        compact_json(&serde_json::json!({ "keys": akp_set })),
    );

    for provider in [
        "asgardeo-jwks",
        "google-style",
        "keycloak-style",
        "microsoft-style",
    ] {
        let name = format!("providers/{provider}.json");
        let path = vectors.join(&name);
        let raw = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        add("jwks", provider.to_owned(), raw);
        for (i, key) in cases(&read(&name)?, "keys").enumerate() {
            add("jwk", format!("{provider}-{i}"), compact_json(key));
        }
    }

    let corpus = root.join("fuzz").join("corpus");
    let mut written = 0;
    for (target, name, bytes) in &seeds {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(format!("seed-{name}"));
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        written += 1;
    }
    println!("wrote {written} seed files under {}", corpus.display());
    Ok(())
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(|| format!("bad hex at {i}"))
        })
        .collect()
}

fn cases<'v>(v: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}
