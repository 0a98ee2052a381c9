//! `jwkctl client-secret-hash`: the Argon2id hash a `[[clients]]` entry stores as
//! `client_secret_hash` (the service never holds a client secret in clear).

use std::io::BufRead as _;
use std::process::ExitCode;

use crate::output::{OK, UNDECIDED};

/// Print the Argon2id hash of a client secret read from stdin (one line), for
/// `client_secret_hash` in `[[clients]]`. The secret is never taken as an argument (argument
/// lists are visible to other users).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Generate a random secret (32 bytes, base64url) instead of reading one: prints the
    /// secret (give it to the client) on the first line and its hash on the second.
    #[arg(long)]
    generate: bool,
}

pub(crate) fn run(args: Args) -> ExitCode {
    match hash(&args) {
        Ok(()) => ExitCode::from(OK),
        Err(e) => {
            super::tell!("error: {e}");
            ExitCode::from(UNDECIDED)
        }
    }
}

fn hash(args: &Args) -> Result<(), String> {
    let secret = if args.generate {
        jwk_core::b64::encode(&rand::random::<[u8; 32]>())
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("reading the secret from stdin: {e}"))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if secret.is_empty() {
        return Err("no secret on stdin (or use --generate)".into());
    }
    let hash = jwt_issuer::hash_client_secret(&secret).map_err(|e| e.to_string())?;
    if args.generate {
        super::say!("{secret}");
    }
    super::say!("{hash}");
    Ok(())
}
