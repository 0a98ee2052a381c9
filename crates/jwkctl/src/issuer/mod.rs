//! The issuer side of `jwkctl`: `serve`, `keygen`, `sign`, `client-secret-hash`, `demo` and
//! the hidden `load`
//! (all thin shells over `jwt-issuer`).

/// `println!` that never panics: a closed stdout (`jwkctl demo | head`) is not an error.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

/// `eprintln!` that never panics.
macro_rules! tell {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($t)*);
    }};
}

pub(crate) use {say, tell};

pub(crate) mod config;
pub(crate) mod demo;
pub(crate) mod keygen;
pub(crate) mod load;
pub(crate) mod load_multi;
pub(crate) mod secret;
pub(crate) mod serve;
pub(crate) mod sign;

use std::path::{Path, PathBuf};

use jwks_fetch::{DiscoveryKind, FetchConfig, RemoteJwks};

/// A multi-threaded Tokio runtime.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// Logs to stderr; `RUST_LOG` overrides `default`.
pub(crate) fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// A key source for a trusted issuer: its JWKS URL, or discovery from its identifier.
pub(crate) fn remote_jwks(
    location: &str,
    ca_file: Option<&Path>,
    allow_http_loopback: bool,
    discovery: bool,
) -> Result<RemoteJwks, String> {
    let mut fetch = FetchConfig::default().with_allow_http_loopback(allow_http_loopback);
    if let Some(ca) = ca_file {
        fetch = fetch.with_ca_file(ca);
    }
    let builder = if discovery {
        RemoteJwks::discover(location, DiscoveryKind::OpenId)
    } else {
        RemoteJwks::builder(location)
    };
    builder.fetch_config(fetch).build().map_err(|e| match e {
        // The setting is this config file's key, not the library's builder option.
        jwks_fetch::FetchError::InsecureUrl { .. } => format!(
            "{location}: plain http is allowed only for loopback hosts, with \
                 allow_http_loopback = true in this [[trusted_issuers]] entry (insecure_url)"
        ),
        other => format!("{location}: {}", crate::keys::fetch_error(&other)),
    })
}

/// A directory under the system temp dir, removed on drop unless kept.
#[derive(Debug)]
pub(crate) struct TempDir {
    path: PathBuf,
    keep: bool,
}

impl TempDir {
    pub(crate) fn new(tag: &str) -> Result<TempDir, String> {
        let path = std::env::temp_dir().join(format!(
            "jwkctl-{tag}-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(TempDir { path, keep: false })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn keep(mut self) -> PathBuf {
        self.keep = true;
        self.path.clone()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use jwk_core::Algorithm;
    use jwt_issuer::{KeyManager, Listener, ServerOptions, TlsFiles, TokenService, JWKS_PATH};
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};

    use super::remote_jwks;

    /// `ca_file` (a trusted issuer's or a client's) trusts a private CA for `jwks_uri`: a JWKS
    /// served on 127.0.0.1 with a certificate from a CA made here loads with it, not without.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ca_file_trusts_a_private_ca_for_jwks_uri() {
        let dir = std::env::temp_dir().join(format!(
            "jwkctl-ca-file-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let ca = params.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &ca, &ca_key)
            .unwrap();
        let (ca_path, cert_path, key_path) = (
            dir.join("ca.pem"),
            dir.join("cert.pem"),
            dir.join("key.pem"),
        );
        std::fs::write(&ca_path, ca.pem()).unwrap();
        std::fs::write(&cert_path, leaf.pem()).unwrap();
        std::fs::write(&key_path, leaf_key.serialize_pem()).unwrap();

        let keys = KeyManager::builder(dir.join("keys"))
            .algorithms([Algorithm::Es256])
            .open()
            .unwrap();
        let listener = Listener::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let url = format!("https://localhost:{}", listener.local_addr().port());
        let service = TokenService::builder(url.clone(), keys.clone())
            .build()
            .unwrap();
        let server = listener
            .serve_tls(
                service,
                ServerOptions::default(),
                &TlsFiles::new(&cert_path, &key_path),
            )
            .unwrap();
        let jwks_uri = format!("{url}{JWKS_PATH}");

        let with_ca = remote_jwks(&jwks_uri, Some(&ca_path), false, false).unwrap();
        let set = with_ca.load().await.unwrap();
        assert!(set.contains_kid(&keys.signing_key(None).unwrap().kid));

        let without = remote_jwks(&jwks_uri, None, false, false).unwrap();
        let e = without.load().await.unwrap_err();
        assert_eq!(e.code(), "tls", "{e}");

        server.shutdown().await;
        std::fs::remove_dir_all(&dir).ok();
    }
}
