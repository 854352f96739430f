// `sqlx::migrate!` embeds nets' built-in migrations: rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
