//! HTTPS hooks: a caller-built rustls `ServerConfig` ([`Listener::serve_tls_config`]) and a
//! caller-chosen crypto provider ([`TlsFiles::with_tls_provider`]), on 127.0.0.1 with a test CA
//! generated here.

use std::sync::Arc;

use jwk_core::Algorithm;
use jwt_issuer::{
    KeyManager, Listener, RunningServer, ServerOptions, TlsFiles, TokenService, JWKS_PATH,
};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{CipherSuite, ClientConfig, ProtocolVersion, SupportedProtocolVersion};
use tokio_rustls::TlsConnector;

use crate::support::{schedule, wall_now, TempDir};

/// A CA made at test time and one `localhost` leaf it signed.
struct Pki {
    ca: CertificateDer<'static>,
    leaf_pem: String,
    leaf: CertificateDer<'static>,
    leaf_key: KeyPair,
}

impl Pki {
    fn new() -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "jwt-issuer test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let ca = params.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &ca, &ca_key)
            .unwrap();
        Pki {
            ca: ca.der().clone(),
            leaf_pem: leaf.pem(),
            leaf: leaf.der().clone(),
            leaf_key,
        }
    }

    fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der()))
    }

    /// A client trusting only the test CA, offering `versions` (and `alpn`).
    fn client(
        &self,
        versions: &[&'static SupportedProtocolVersion],
        alpn: &[&[u8]],
    ) -> Arc<ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.clone()).unwrap();
        let mut cfg = ClientConfig::builder_with_provider(jws_crypto::tls_provider())
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(cfg)
    }
}

/// A token service with one ES256 key, bound to 127.0.0.1, not yet serving.
async fn token_service(dir: &TempDir) -> (Listener, TokenService, KeyManager, String) {
    let clock = Arc::new(jwt_issuer::ManualClock::at_secs(wall_now()));
    let keys = KeyManager::builder(dir.path().join("keys"))
        .algorithms([Algorithm::Es256])
        .schedule(schedule())
        .clock(clock)
        .open()
        .unwrap();
    let listener = Listener::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = format!("https://localhost:{}", listener.local_addr().port());
    let service = TokenService::builder(url.clone(), keys.clone())
        .build()
        .unwrap();
    (listener, service, keys, url)
}

/// A TLS handshake with `server` as `localhost`.
async fn handshake(
    server: &RunningServer,
    client: Arc<ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let tcp = tokio::net::TcpStream::connect(server.local_addr()).await?;
    let name = ServerName::try_from("localhost").unwrap();
    TlsConnector::from(client).connect(name, tcp).await
}

/// Fetches the JWKS over HTTPS with `client` and checks it publishes the signing key.
async fn fetch_jwks(url: &str, client: Arc<ClientConfig>, keys: &KeyManager) {
    let cfg = jwks_fetch::FetchConfig::default().with_tls_config(client);
    let fetched = jwks_fetch::fetch_once(&format!("{url}{JWKS_PATH}"), &cfg)
        .await
        .unwrap();
    assert_eq!(fetched.jwks.keys.len(), 1);
    assert_eq!(
        fetched.jwks.keys[0].kid.as_deref(),
        Some(keys.signing_key(None).unwrap().kid.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_a_caller_built_server_config() {
    let dir = TempDir::new("tls-config");
    let pki = Pki::new();
    // TLS 1.3 only, and an ALPN list the HTTP/1.1 server must not advertise.
    let mut config = rustls::ServerConfig::builder_with_provider(jws_crypto::tls_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![pki.leaf.clone()], pki.key_der())
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let (listener, service, keys, url) = token_service(&dir).await;
    let server = listener.serve_tls_config(service, ServerOptions::default(), Arc::new(config));

    // A TLS 1.2-only client is refused; a TLS 1.3 client gets TLS 1.3.
    let tls12 = pki.client(&[&rustls::version::TLS12], &[]);
    assert!(handshake(&server, tls12).await.is_err());
    let tls13 = pki.client(&[&rustls::version::TLS13], &[b"h2", b"http/1.1"]);
    let stream = handshake(&server, tls13.clone()).await.unwrap();
    let (_, conn) = stream.get_ref();
    assert_eq!(conn.protocol_version(), Some(ProtocolVersion::TLSv1_3));
    // The caller's `h2` is replaced: the server speaks HTTP/1.1 only.
    assert_eq!(conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    drop(stream);

    let mut plain = (*tls13).clone();
    plain.alpn_protocols.clear();
    fetch_jwks(&url, Arc::new(plain), &keys).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_files_run_on_the_callers_provider() {
    let dir = TempDir::new("tls-provider");
    let pki = Pki::new();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, &pki.leaf_pem).unwrap();
    std::fs::write(&key_path, pki.leaf_key.serialize_pem()).unwrap();
    let client = pki.client(&[&rustls::version::TLS13], &[]);
    let chacha = CipherSuite::TLS13_CHACHA20_POLY1305_SHA256;

    // The default provider: the client's first choice (an AES-GCM suite), not ChaCha20.
    let (listener, service, keys, url) = token_service(&dir).await;
    let files = TlsFiles::new(&cert_path, &key_path);
    let server = listener
        .serve_tls(service, ServerOptions::default(), &files)
        .unwrap();
    let stream = handshake(&server, client.clone()).await.unwrap();
    let suite = stream.get_ref().1.negotiated_cipher_suite().unwrap();
    assert_ne!(suite.suite(), chacha);
    drop(stream);
    fetch_jwks(&url, client.clone(), &keys).await;
    server.shutdown().await;

    // A missing key file is a typed error, not a panic.
    let (listener, service, _, _) = token_service(&dir).await;
    let missing = TlsFiles::new(&cert_path, dir.path().join("missing.pem"));
    let e = listener
        .serve_tls(service, ServerOptions::default(), &missing)
        .unwrap_err();
    assert_eq!(e.code(), "tls");

    // A provider offering ChaCha20-Poly1305 only: the server can agree on nothing else.
    let mut provider = (*jws_crypto::tls_provider()).clone();
    provider.cipher_suites.retain(|s| s.suite() == chacha);
    assert_eq!(provider.cipher_suites.len(), 1);
    let (listener, service, keys, url) = token_service(&dir).await;
    let files = TlsFiles::new(&cert_path, &key_path).with_tls_provider(Arc::new(provider));
    let server = listener
        .serve_tls(service, ServerOptions::default(), &files)
        .unwrap();
    let stream = handshake(&server, client.clone()).await.unwrap();
    let suite = stream.get_ref().1.negotiated_cipher_suite().unwrap();
    assert_eq!(suite.suite(), chacha);
    drop(stream);
    fetch_jwks(&url, client, &keys).await;
    server.shutdown().await;
}
