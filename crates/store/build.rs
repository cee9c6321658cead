// The migrations are embedded by `sqlx::migrate!` at compile time: a migration added or changed
// must rebuild the crate (as `sqlx migrate build-script` writes).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
