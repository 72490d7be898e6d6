//! Criterion benchmarks of the numeric core (being written).
fn main() {}
