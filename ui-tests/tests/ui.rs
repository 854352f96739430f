//! Compile-pass and compile-fail fixtures for `#[request_handler]`.
//!
//! Regenerate the expected `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p nets-ui-tests`, then read every diff: the point
//! of these files is that a person judged each message helpful.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("pass/*.rs");
    t.compile_fail("fail/*.rs");
}
