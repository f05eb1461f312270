//! The benchmark's receive path (`client-wasm/benches/drive.rs`) compiled to wasm32 as the
//! page's build compiles it (this crate is that build's root: release-wasm with its
//! per-crate opt-levels) and timed in Node, to compare with imap-proto natively
//! (docs/benchmarks-engine.md, "wasm"). The stream comes from the native bench:
//! `RECEIVE_DUMP_DIR=/tmp/receive cargo bench -p client-wasm --bench receive -- imap-proto`,
//! then build this test with the same `RECEIVE_DUMP_DIR` and run it with
//! `wasm-bindgen-test-runner` (the doc has the command). Without it, the test does nothing.
#![cfg(target_arch = "wasm32")]

#[path = "../../benches/drive.rs"]
mod drive;

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

#[wasm_bindgen(module = "fs")]
extern "C" {
    #[wasm_bindgen(js_name = readFileSync)]
    fn read_file(path: &str) -> Vec<u8>;
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance)]
    fn now() -> f64;
    /// Node's `process.cpuUsage()`: user and system microseconds of the whole process.
    #[wasm_bindgen(js_namespace = process, js_name = cpuUsage)]
    fn cpu_usage() -> CpuUsage;
    type CpuUsage;
    #[wasm_bindgen(method, getter)]
    fn user(this: &CpuUsage) -> f64;
    #[wasm_bindgen(method, getter)]
    fn system(this: &CpuUsage) -> f64;
}

/// The process's CPU time in milliseconds: on a machine shared with other builds, steadier
/// than the wall clock, which also counts the time other processes hold the cores.
fn cpu_ms() -> f64 {
    let usage = cpu_usage();
    (usage.user() + usage.system()) / 1000.0
}

/// Timed runs after one warm-up run.
const RUNS: usize = 10;

#[wasm_bindgen_test]
fn receive_100k_summaries_in_wasm() {
    let Some(dir) = option_env!("RECEIVE_DUMP_DIR") else {
        console_log!("RECEIVE_DUMP_DIR was not set at build time: nothing to time");
        return;
    };
    let read = |name: &str| read_file(&format!("{dir}/{name}.bin"));
    let (greeting, login, select, fetch) = (
        read("greeting"),
        read("login"),
        read("select"),
        read("fetch"),
    );
    let total = greeting.len() + login.len() + select.len() + fetch.len();
    let run = || {
        drive::engine(
            drive::Sections {
                greeting: &greeting,
                login: &login,
                select: &select,
                fetch: &fetch,
            },
            false,
        )
        .0
    };
    assert_eq!(run(), 100_000);
    let (mut times, mut cpu): (Vec<f64>, Vec<f64>) = (0..RUNS)
        .map(|_| {
            let (start, start_cpu) = (now(), cpu_ms());
            assert_eq!(run(), 100_000);
            (now() - start, cpu_ms() - start_cpu)
        })
        .unzip();
    times.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    console_log!(
        "wasm engine: {total} bytes; min {:.1} ms, median {:.1} ms, max {:.1} ms over {RUNS} runs \
         (median {:.0} MB/s); CPU time min {:.1} ms, median {:.1} ms",
        times[0],
        times[RUNS / 2],
        times[RUNS - 1],
        total as f64 / 1e3 / times[RUNS / 2],
        cpu[0],
        cpu[RUNS / 2]
    );
}
