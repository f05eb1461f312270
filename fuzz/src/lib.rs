//! Drivers shared by the fuzz targets and by `client-wasm/tests/corpus.rs`.

pub mod harness;
