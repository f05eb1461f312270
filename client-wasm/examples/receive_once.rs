//! The benchmark's receive path (`benches/drive.rs`) run a given number of times on a stream
//! the bench wrote (`RECEIVE_DUMP_DIR=DIR cargo bench -p client-wasm --bench receive`), for
//! profilers that want a plain process: instruction counts under callgrind, which a shared
//! machine does not disturb, or `perf record`. docs/benchmarks-engine.md shows both.
//!
//!     cargo run --profile bench -p client-wasm --example receive_once -- DIR [RUNS] [keep]
//!
//! With `keep`, the rows are also pushed into a `MessageList`, as the webmail does.

#[path = "../benches/drive.rs"]
mod drive;

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: receive_once DIR [RUNS] [keep]");
        return ExitCode::FAILURE;
    };
    let runs: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let keep = args.next().as_deref() == Some("keep");
    let read = |name: &str| std::fs::read(format!("{dir}/{name}.bin"));
    let (Ok(greeting), Ok(login), Ok(select), Ok(fetch)) = (
        read("greeting"),
        read("login"),
        read("select"),
        read("fetch"),
    ) else {
        eprintln!("{dir} lacks the bench's greeting, login, select and fetch .bin files");
        return ExitCode::FAILURE;
    };
    let started = Instant::now();
    for _ in 0..runs {
        let sections = drive::Sections {
            greeting: &greeting,
            login: &login,
            select: &select,
            fetch: &fetch,
        };
        let (rows, _) = drive::engine(sections, keep);
        assert_eq!(rows, 100_000, "every row of the bench's stream");
    }
    eprintln!("{:?} per run", started.elapsed() / runs.max(1));
    ExitCode::SUCCESS
}
