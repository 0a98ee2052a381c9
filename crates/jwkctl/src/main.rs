//! `jwkctl`: verify JWTs against a JWK Set, inspect key sets, decode tokens.
//!
//! A thin clap dispatcher: one module per subcommand, each returning an [`ExitCode`]. The JSON
//! printed by `verify` and `jwks inspect` is a contract scripts depend on (see issue 4).
//!
//! Exit codes: 0 valid (or command done), 1 token invalid, 2 could not decide (usage, key
//! source unreadable or unavailable).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod decode;
mod gateway;
mod gateway_load;
mod input;
mod inspect;
mod issuer;
mod keys;
mod output;
mod verify;
mod watch;

/// JWT and JWK Set tool.
#[derive(Debug, Parser)]
#[command(name = "jwkctl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify a token's signature and claims against a key set.
    Verify(Box<verify::Args>),
    /// Work with JWK Sets.
    #[command(subcommand)]
    Jwks(JwksCommand),
    /// Print a token's header and claims WITHOUT verifying anything.
    Decode(decode::Args),
    /// Run the token service (JWKS, discovery, RFC 7523 token endpoint) from a TOML file.
    Serve(issuer::serve::Args),
    /// Generate a signing key (PKCS#8 PEM) and print its public JWK.
    Keygen(issuer::keygen::Args),
    /// Sign a JWT with a PKCS#8 key (for testing).
    Sign(issuer::sign::Args),
    /// Print the Argon2id hash of a client secret (stdin) for `client_secret_hash`.
    ClientSecretHash(issuer::secret::Args),
    /// Run the whole JWT Bearer flow on loopback, step by step (the README's demo).
    Demo(issuer::demo::Args),
    /// Validating reverse proxy: forward requests with a valid bearer token to an upstream.
    Gateway(Box<gateway::Args>),
    /// Load-test `jwkctl gateway` against its upstream on loopback.
    #[command(hide = true)]
    GatewayLoad(gateway_load::Args),
    /// Load-test the token endpoint on loopback (used by `cargo xtask load`).
    #[command(hide = true)]
    Load(issuer::load::Args),
}

#[derive(Debug, Subcommand)]
enum JwksCommand {
    /// List the keys of a set, with thumbprints and why unusable keys are unusable.
    Inspect(inspect::Args),
    /// Follow a JWK Set URL on the client's refresh schedule; print each change and stats.
    Watch(watch::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Verify(args) => verify::run(*args),
        Command::Jwks(JwksCommand::Inspect(args)) => inspect::run(args),
        Command::Jwks(JwksCommand::Watch(args)) => watch::run(args),
        Command::Decode(args) => decode::run(args),
        Command::Serve(args) => issuer::serve::run(args),
        Command::Keygen(args) => issuer::keygen::run(args),
        Command::Sign(args) => issuer::sign::run(args),
        Command::ClientSecretHash(args) => issuer::secret::run(args),
        Command::Demo(args) => issuer::demo::run(args),
        Command::Gateway(args) => gateway::run(*args),
        Command::GatewayLoad(args) => gateway_load::run(args),
        Command::Load(args) => issuer::load::run(args),
    }
}
