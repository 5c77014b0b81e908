//! Repository hygiene checks, run as tests (`cargo test -p xtask`).
