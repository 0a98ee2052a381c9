//! Criterion: the layer over validate_async (see README).

fn main() {}
