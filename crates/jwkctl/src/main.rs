//! jwkctl: placeholder.
fn main() {}
