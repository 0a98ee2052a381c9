//! An axum API protected by a remote JWKS.

fn main() {}
