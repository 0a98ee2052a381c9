//! `jwkctl jwks inspect`: every key of a set, usable or not, with the reason.

use std::path::PathBuf;
use std::process::ExitCode;

use jwk_core::{JwkSet, KeyParams};
use jwt_validate::KeySet;
use serde_json::{json, Value};

use crate::keys;
use crate::output;

/// `jwkctl jwks inspect (FILE | --url URL [--ca-file PEM] [--allow-http]) [--json]`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["file", "url"])))]
pub(crate) struct Args {
    /// A JWK Set file (or one bare JWK).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// A JWK Set URL (HTTPS; http only with --allow-http and a loopback host).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Extra trust anchors (PEM) for HTTPS.
    #[arg(long, value_name = "PEM", requires = "url")]
    ca_file: Option<PathBuf>,
    /// Allow plain http for --url, for loopback hosts only (local identity providers, tests).
    #[arg(long, requires = "url")]
    allow_http: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// One row: a key of the document, in document order.
struct Row {
    index: usize,
    kid: Option<String>,
    kty: Option<String>,
    alg: Option<String>,
    key_use: Option<String>,
    crv: Option<String>,
    key_ops: Option<Vec<String>>,
    /// The ML-DSA parameter set of an `AKP` key (RFC 9964), from its `alg`.
    parameter_set: Option<String>,
    bits: Option<usize>,
    thumbprint: Option<String>,
    reason: Option<String>,
    /// Problems that do not make the key unusable (table output only).
    notes: Vec<String>,
}

pub(crate) fn run(args: Args) -> ExitCode {
    let loaded = match (&args.file, &args.url) {
        (Some(path), _) => keys::read_file(path),
        (None, Some(url)) => keys::remote(
            url,
            keys::Remote {
                ca_file: args.ca_file.as_deref(),
                allow_http: args.allow_http,
            },
        )
        .map(|k| k.set),
        (None, None) => Err(keys::Unavailable("give a FILE or --url".into())),
    };
    let set = match loaded {
        Ok(s) => s,
        Err(keys::Unavailable(message)) => {
            return output::undecided(args.json.then_some("jwks_unavailable"), &message)
        }
    };
    let rows = rows(&set);
    if args.json {
        let keys: Vec<String> = rows.iter().map(Row::to_json).collect();
        println!(r#"{{"keys":[{}]}}"#, keys.join(","));
    } else {
        print!("{}", table(&rows));
    }
    ExitCode::from(output::OK)
}

fn rows(set: &JwkSet) -> Vec<Row> {
    let imported = KeySet::from_jwks(
        set,
        jws_crypto::default_provider(),
        &jws_crypto::KeyPolicy::default(),
    );
    let total = set.keys.len() + set.rejected.len();
    let mut usable = set.keys.iter().enumerate();
    let mut rows = Vec::with_capacity(total);
    for index in 0..total {
        if let Some(r) = set.rejected.iter().find(|r| r.index == index) {
            rows.push(Row {
                index,
                kid: r.kid.clone(),
                kty: r.kty.clone(),
                alg: r.alg.clone(),
                key_use: r.key_use.clone(),
                crv: r.crv.clone(),
                key_ops: r.key_ops.clone(),
                bits: r.bits,
                parameter_set: if r.kty.as_deref() == Some("AKP") {
                    r.alg.clone()
                } else {
                    None
                },
                thumbprint: None,
                reason: Some(r.reason.to_string()),
                notes: Vec::new(),
            });
            continue;
        }
        // Usable keys keep document order, filling the indexes the rejected ones leave.
        let Some((i, k)) = usable.next() else { break };
        let reason = if imported.algorithms_of(i).next().is_some() {
            None
        } else {
            let why: Vec<String> = imported
                .import_failures()
                .iter()
                .filter(|f| f.index == i)
                .map(|f| match &f.alg {
                    Some(a) => format!("{}: {}", a.as_str(), f.message),
                    None => f.message.to_string(),
                })
                .collect();
            Some(if why.is_empty() {
                "no algorithm this key fits is supported".to_owned()
            } else {
                why.join("; ")
            })
        };
        rows.push(Row {
            index,
            kid: k.kid.clone(),
            kty: Some(k.params.kty().to_owned()),
            alg: k.alg_name().map(str::to_owned),
            key_use: k.key_use.as_ref().map(|u| u.as_str().to_owned()),
            crv: match &k.params {
                KeyParams::Ec(e) => Some(e.crv.as_str().to_owned()),
                KeyParams::Okp(o) => Some(o.crv.as_str().to_owned()),
                _ => None,
            },
            key_ops: k.key_ops.clone(),
            parameter_set: match &k.params {
                KeyParams::Akp(a) => Some(a.params.as_str().to_owned()),
                _ => None,
            },
            bits: Some(k.bits()),
            thumbprint: Some(k.thumbprint()),
            reason,
            notes: certificate_notes(k),
        });
    }
    rows
}

/// `x5c` / `x5t#S256` consistency. Keys load from `n` and `e` (or `x`, `y`), never from the
/// certificate, so a broken certificate is reported but does not make the key unusable.
fn certificate_notes(k: &jwk_core::Jwk) -> Vec<String> {
    use base64::Engine as _;
    let mut notes = Vec::new();
    let Some(first) = k.x5c.as_ref().and_then(|c| c.first()) else {
        return notes;
    };
    let der = match base64::engine::general_purpose::STANDARD.decode(first) {
        Ok(der) => der,
        Err(e) => {
            notes.push(format!(
                "x5c[0] is not valid base64 ({e}): certificate truncated?"
            ));
            return notes;
        }
    };
    // A DER certificate is one SEQUENCE whose length covers the rest of the bytes.
    if !der_sequence_is_complete(&der) {
        notes.push(format!(
            "x5c[0] is not a complete DER certificate ({} bytes): truncated?",
            der.len()
        ));
    }
    if let Some(t) = &k.x5t_s256 {
        if !k.x5t_s256_matches() {
            let digest = k.x5c_thumbprint_s256().unwrap_or_default();
            notes.push(format!(
                "x5t#S256 {t} does not match x5c[0] (SHA-256 {digest})"
            ));
        }
    }
    notes
}

fn der_sequence_is_complete(der: &[u8]) -> bool {
    let (Some(&0x30), Some(&len0)) = (der.first(), der.get(1)) else {
        return false;
    };
    let (header, len) = if len0 < 0x80 {
        (2, usize::from(len0))
    } else {
        let n = usize::from(len0 & 0x7f);
        if n == 0 || n > 4 {
            return false;
        }
        let Some(bytes) = der.get(2..2 + n) else {
            return false;
        };
        (
            2 + n,
            bytes.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b)),
        )
    };
    header + len == der.len()
}

impl Row {
    /// The object in the contract's member order (serde_json's map would sort them).
    fn to_json(&self) -> String {
        // `parameter_set` came after the first contract: appended, so the order above holds.
        let members: [(&str, Value); 12] = [
            ("index", json!(self.index)),
            ("kid", json!(self.kid)),
            ("kty", json!(self.kty)),
            ("alg", json!(self.alg)),
            ("use", json!(self.key_use)),
            ("crv", json!(self.crv)),
            ("key_ops", json!(self.key_ops)),
            ("bits", json!(self.bits)),
            ("thumbprint", json!(self.thumbprint)),
            ("usable", json!(self.reason.is_none())),
            ("reason", json!(self.reason)),
            ("parameter_set", json!(self.parameter_set)),
        ];
        let inner: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("{}:{v}", output::string(k)))
            .collect();
        format!("{{{}}}", inner.join(","))
    }
}

fn table(rows: &[Row]) -> String {
    let dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
    let mut lines: Vec<[String; 10]> = vec![[
        "INDEX",
        "KID",
        "KTY",
        "ALG",
        "USE",
        "CRV",
        "KEY_OPS",
        "BITS",
        "THUMBPRINT",
        "STATUS",
    ]
    .map(String::from)];
    for r in rows {
        lines.push([
            r.index.to_string(),
            dash(&r.kid),
            dash(&r.kty),
            dash(&r.alg),
            dash(&r.key_use),
            // An AKP key has no curve: its ML-DSA parameter set takes the column.
            dash(&r.crv.clone().or_else(|| r.parameter_set.clone())),
            r.key_ops
                .as_ref()
                .map_or_else(|| "-".into(), |ops| ops.join(",")),
            r.bits.map_or_else(|| "-".into(), |b| b.to_string()),
            dash(&r.thumbprint),
            match &r.reason {
                None => "usable".into(),
                Some(why) => format!("UNUSABLE: {why}"),
            },
        ]);
    }
    let mut widths = [0usize; 10];
    for l in &lines {
        for (w, cell) in widths.iter_mut().zip(l) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for l in &lines {
        let mut line = String::new();
        for (i, (cell, w)) in l.iter().zip(widths).enumerate() {
            if i + 1 == l.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for r in rows {
        for note in &r.notes {
            out.push_str(&format!("note: key {}: {note}\n", r.index));
        }
    }
    let unusable = rows.iter().filter(|r| r.reason.is_some()).count();
    out.push_str(&format!(
        "{} keys, {} usable, {unusable} unusable\n",
        rows.len(),
        rows.len() - unusable
    ));
    out
}
