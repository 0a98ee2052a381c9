//! `jwkctl decode`: header and claims, loudly UNVERIFIED.

use std::process::ExitCode;

use jwk_core::{Limits, UnverifiedJws};

use crate::output;

/// `jwkctl decode [TOKEN]`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The token; absent or "-": read stdin.
    #[arg(value_name = "TOKEN")]
    token: Option<String>,
}

const WARNING: &str = "UNVERIFIED: the signature was not checked; do not trust these claims";

pub(crate) fn run(args: Args) -> ExitCode {
    let token = match crate::input::token(args.token) {
        Ok(t) => t,
        Err(e) => return output::undecided(None, &e),
    };
    let jws = match UnverifiedJws::parse(&token, &Limits::default()) {
        Ok(j) => j,
        Err(e) => return output::invalid(e.code(), &e.to_string()),
    };
    let header = output::received_header(jws.compact())
        .unwrap_or_else(|_| serde_json::Value::String(jws.header().to_json()));
    let (claims, problem) = match jws.dangerous_claims() {
        Ok(c) => (c.to_value(), None),
        Err(e) => (serde_json::Value::Null, Some(e)),
    };
    eprintln!("jwkctl: WARNING: {WARNING}");
    let problem = problem.map_or_else(
        || "null".to_owned(),
        |e| output::error_object(e.code(), &e.to_string()),
    );
    println!(
        r#"{{"verified":false,"warning":{},"header":{header},"claims":{claims},"claims_error":{problem}}}"#,
        output::string(WARNING)
    );
    ExitCode::from(output::OK)
}
