//! The root of the engine's browser build (`build_web` in tests/lib.sh turns it into
//! `web/pkg/client_wasm*`). It adds no code: the engine comes in whole, its `#[wasm_bindgen]`
//! exports (`client-wasm`'s `wasm` module) with it.
//!
//! It is a crate of its own because a fat-LTO build optimises the linked program with the
//! root crate's pass pipeline. This root is at opt-level 3, so the receive path
//! (`client-wasm-receive`, also 3) keeps its speed, while the engine's other functions,
//! compiled at "z", keep their size by their own attributes (docs/benchmarks-engine.md,
//! "A crate for the hot path").

pub use client_wasm::*;
