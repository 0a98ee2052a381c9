//! A minimal HTTP/1.1 client for loopback use: `jwkctl demo`, the load run and tests.
//! Not a general client: plain HTTP, one keep-alive connection, no redirects.

use core::fmt;
use core::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Largest response body read.
const MAX_RESPONSE: usize = 1024 * 1024;

/// A request could not be sent or its answer read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    /// What failed.
    pub message: String,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for ClientError {}

fn err(what: &str, e: impl fmt::Display) -> ClientError {
    ClientError {
        message: format!("{what}: {e}"),
    }
}

/// A response: status, headers (lowercase names), body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, or `Null`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// One keep-alive HTTP/1.1 connection to a loopback server.
#[derive(Debug)]
pub struct LoopbackClient {
    addr: SocketAddr,
    sender: http1::SendRequest<Full<Bytes>>,
}

impl LoopbackClient {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Result<LoopbackClient, ClientError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| err("connect", e))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| err("handshake", e))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(LoopbackClient { addr, sender })
    }

    /// `GET path` with extra headers.
    pub async fn get(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Reply, ClientError> {
        self.request(Method::GET, path, headers, Bytes::new()).await
    }

    /// `POST path` with a form body (`application/x-www-form-urlencoded`).
    pub async fn post_form(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<Reply, ClientError> {
        let body = form_encode(form);
        self.request(
            Method::POST,
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            Bytes::from(body),
        )
        .await
    }

    /// Any request. Reconnects once when the server closed the kept-alive connection.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Reply, ClientError> {
        if self.sender.ready().await.is_err() {
            *self = LoopbackClient::connect(self.addr).await?;
        }
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string());
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        let req = b.body(Full::new(body)).map_err(|e| err("request", e))?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| err("send", e))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = Limited::new(resp.into_body(), MAX_RESPONSE)
            .collect()
            .await
            .map_err(|e| err("body", e))?
            .to_bytes();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// Encodes pairs as `application/x-www-form-urlencoded` (every byte but unreserved ones
/// percent-encoded). Public only with the `test-util` feature (tests build token requests
/// with it); [`LoopbackClient::post_form`] uses it.
#[cfg_attr(not(feature = "test-util"), allow(unreachable_pub))]
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (n, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(n, &mut out);
        out.push('=');
        encode_into(v, &mut out);
    }
    out
}

fn encode_into(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_round_trip() {
        let s = form_encode(&[("grant_type", "urn:a b"), ("x", "é&=")]);
        assert_eq!(s, "grant_type=urn%3Aa%20b&x=%C3%A9%26%3D");
        let back = crate::oauth::parse_form(s.as_bytes()).unwrap();
        assert_eq!(back[0].1, "urn:a b");
        assert_eq!(back[1].1, "é&=");
    }

    proptest::proptest! {
        /// Law: whatever is encoded decodes to the same pairs (values non-empty: an empty one
        /// is treated as omitted, RFC 6749 section 3.1).
        #[test]
        fn encode_then_parse_is_identity(pairs in proptest::collection::vec(("[a-z_]{1,8}", ".{1,40}"), 0..6)) {
            let mut seen = std::collections::HashSet::new();
            let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(n, _)| seen.insert(n.clone())).collect();
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let back = crate::oauth::parse_form(form_encode(&refs).as_bytes()).unwrap();
            proptest::prop_assert_eq!(back, pairs);
        }

        /// Arbitrary bytes never panic the form parser.
        #[test]
        fn any_body_is_parsed_or_refused(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = crate::oauth::parse_form(&body);
        }
    }
}
