//! Arbitrary server bytes into a whole `Session`; see `harness::session`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| client_wasm_fuzz::harness::session(data));
