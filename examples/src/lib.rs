//! Example applications of nets. The handlers live in this library so binaries and tests
//! can share them.

pub mod projects;
pub mod quickstart;
