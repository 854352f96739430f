//! Example applications of nets. The handlers live in this library so the binaries and
//! the benchmark share them.

pub mod bench_endpoints;
pub mod quickstart;
