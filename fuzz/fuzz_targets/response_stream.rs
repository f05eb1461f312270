//! Arbitrary bytes into the engine's response reader; see `harness::response_stream`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| client_wasm_fuzz::harness::response_stream(data));
