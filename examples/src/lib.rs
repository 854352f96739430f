//! Example applications of nets. The handlers live in this library so the binaries and
//! the benchmark share them.

pub mod quickstart;
