//! `jwkctl keygen`: a new signing key as a PKCS#8 PEM file, and its public JWK.

use std::path::PathBuf;
use std::process::ExitCode;

use jwk_core::{Algorithm, KeyUse};
use jwt_issuer::{pkcs8_pem, write_private_file, KeyKind};

use crate::output::{OK, UNDECIDED};

/// Generate a signing key (PKCS#8 PEM, owner-only) and print its public JWK.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The algorithm the key is for: RS256, PS256 (RSA), ES256, ES384, EdDSA, or (aws-lc-rs
    /// build) ML-DSA-44, ML-DSA-65, ML-DSA-87.
    #[arg(long, default_value = "ES256")]
    alg: String,
    /// RSA modulus size.
    #[arg(long, default_value_t = 2048)]
    rsa_bits: usize,
    /// Write the private key here (never replaces a file). The public JWK always goes to
    /// stderr; without `--out` or `--key-dir` the PEM goes to stdout.
    #[arg(long, value_name = "FILE", conflicts_with = "key_dir")]
    out: Option<PathBuf>,
    /// Write the key into a `jwkctl serve` key directory as `<kind>-<now>.pem`.
    #[arg(long, value_name = "DIR")]
    key_dir: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> ExitCode {
    match keygen(&args) {
        Ok(()) => ExitCode::from(OK),
        Err(e) => {
            super::tell!("error: {e}");
            ExitCode::from(UNDECIDED)
        }
    }
}

fn keygen(args: &Args) -> Result<(), String> {
    let alg = Algorithm::parse(&args.alg);
    let kind = KeyKind::of(alg).ok_or_else(|| {
        format!(
            "{} cannot be a published signing key: use RS*, PS*, ES256, ES384, EdDSA or ML-DSA-*",
            args.alg
        )
    })?;
    let (signer, der) = jws_crypto::default_provider()
        .generate(alg, args.rsa_bits)
        .map_err(|e| e.to_string())?;
    let pem = pkcs8_pem(&der);
    let mut jwk = signer.public_jwk();
    jwk.kid = Some(format!("{}_{}", jwk.thumbprint(), alg.as_str()));
    jwk.key_use = Some(KeyUse::Sig);
    let target = match (&args.out, &args.key_dir) {
        (Some(out), _) => Some(out.clone()),
        (None, Some(dir)) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            Some(dir.join(kind.file_name(i64::try_from(now).unwrap_or(0))))
        }
        (None, None) => None,
    };
    match target {
        Some(path) => {
            write_private_file(&path, pem.as_bytes()).map_err(|e| e.to_string())?;
            super::tell!("private key written to {} (mode 0600)", path.display());
            super::tell!("{}", jwk.to_json());
        }
        None => {
            {
                use std::io::Write as _;
                let _ = write!(std::io::stdout().lock(), "{pem}");
            }
            super::tell!("{}", jwk.to_json());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_dir_output_is_a_key_the_service_loads() {
        let dir = super::super::TempDir::new("keygen-test").unwrap();
        let keys = dir.path().join("keys");
        let args = Args {
            alg: "EdDSA".into(),
            rsa_bits: 2048,
            out: None,
            key_dir: Some(keys.clone()),
        };
        keygen(&args).unwrap();
        let m = jwt_issuer::KeyManager::builder(&keys)
            .algorithms([Algorithm::EdDsa])
            .open()
            .unwrap();
        assert!(m.problems().is_empty(), "{:?}", m.problems());
        // The generated key is the only one: the manager did not need to create another.
        let pem_files = std::fs::read_dir(&keys)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("pem".as_ref()))
            .count();
        assert_eq!(pem_files, 1);
        assert!(m.signing_key(None).unwrap().kid.ends_with("_EdDSA"));

        // --out never replaces a file.
        let out = dir.path().join("k.pem");
        std::fs::write(&out, "x").unwrap();
        let args = Args {
            alg: "ES256".into(),
            rsa_bits: 2048,
            out: Some(out.clone()),
            key_dir: None,
        };
        assert!(keygen(&args).is_err());
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "x");
        let bad = Args {
            alg: "HS256".into(),
            ..args
        };
        assert!(keygen(&bad).is_err());
    }
}
