//! The knowledge under `rules/` is embedded with `include_dir!`, which sees changed files but not
//! added or removed ones: a new rule file must rebuild the crate too.
fn main() {
    println!("cargo:rerun-if-changed=rules");
}
