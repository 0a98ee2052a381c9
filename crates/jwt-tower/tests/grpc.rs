//! gRPC: a tonic server behind the layer, called by a tonic client over HTTP/2 on 127.0.0.1.
//! The messages are raw bytes through a five-line codec, so no protoc or prost is needed; the
//! framing, HTTP/2, metadata and status mapping are tonic's own.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use bytes::{Buf as _, BufMut as _};
use http::uri::PathAndQuery;
use jwt_issuer::ManualClock;
use jwt_tower::{AccessClaims as _, Auth, JwtLayer};
use jwt_validate::Validator;
use serde_json::json;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Code, Status};

use crate::support::*;

/// Messages are their bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let n = src.remaining();
        Ok(Some(src.copy_to_bytes(n).to_vec()))
    }
}

/// `/test.Who/Me`: answers the caller's `sub` followed by the request bytes.
#[derive(Debug, Clone)]
struct WhoService;

struct Me;

impl tonic::server::UnaryService<Vec<u8>> for Me {
    type Response = Vec<u8>;
    type Future = core::future::Ready<Result<tonic::Response<Vec<u8>>, Status>>;
    fn call(&mut self, req: tonic::Request<Vec<u8>>) -> Self::Future {
        let sub = req
            .extensions()
            .get::<Auth>()
            .and_then(|a| a.claims().sub().map(str::to_owned));
        core::future::ready(match sub {
            Some(s) => {
                let mut out = s.into_bytes();
                out.extend_from_slice(req.get_ref());
                Ok(tonic::Response::new(out))
            }
            None => Err(Status::internal("no verified claims")),
        })
    }
}

impl tower::Service<http::Request<tonic::body::Body>> for WhoService {
    type Response = http::Response<tonic::body::Body>;
    type Error = core::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            if req.uri().path() != "/test.Who/Me" {
                return Ok(Status::unimplemented("").into_http());
            }
            Ok(tonic::server::Grpc::new(Raw).unary(Me, req).await)
        })
    }
}

async fn call(channel: &tonic::transport::Channel, token: Option<&str>) -> Result<Vec<u8>, Status> {
    let mut client = tonic::client::Grpc::new(channel.clone());
    client
        .ready()
        .await
        .map_err(|e| Status::unknown(e.to_string()))?;
    let mut req = tonic::Request::new(b"!".to_vec());
    if let Some(t) = token {
        req.metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    client
        .unary(req, PathAndQuery::from_static("/test.Who/Me"), Raw)
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tonic_server_behind_the_layer() {
    let clock = Arc::new(ManualClock::at_secs(wall_now()));
    let issuer = Issuer::start(&clock).await;
    let validator = Validator::builder()
        .shared_key_source(Arc::new(remote(&issuer.jwks_url())))
        .issuer(issuer.url.clone())
        .audience("grpc-api")
        .clock(clock.clone())
        .build()
        .unwrap();
    let layer = JwtLayer::builder(validator)
        .realm("grpc")
        .require(|r| r.scopes(["who:read"]))
        .build()
        .unwrap();
    let incoming =
        tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = incoming.local_addr().unwrap();
    let server = tonic::transport::Server::builder().layer(layer.clone());
    tokio::spawn(server.serve_with_incoming(WhoService, incoming));
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();

    let good = issuer.token(&clock, "grpc-api", json!({"scope": "who:read"}));
    assert_eq!(call(&channel, Some(&good)).await.unwrap(), b"alice!");
    // Refusals arrive as gRPC statuses mapped from the HTTP status (401, 403).
    let code = |r: Result<Vec<u8>, Status>| r.unwrap_err().code();
    assert_eq!(code(call(&channel, None).await), Code::Unauthenticated);
    assert_eq!(
        code(call(&channel, Some(&tamper(&good))).await),
        Code::Unauthenticated
    );
    let unscoped = issuer.token(&clock, "grpc-api", json!({"scope": "other"}));
    assert_eq!(
        code(call(&channel, Some(&unscoped)).await),
        Code::PermissionDenied
    );
    let m = layer.metrics();
    assert_eq!(
        (
            m.get("ok"),
            m.get("missing_token"),
            m.get("bad_signature"),
            m.get("insufficient_scope")
        ),
        (1, 1, 1, 1)
    );
}
