//! The leadflow command-line program.
fn main() {}
