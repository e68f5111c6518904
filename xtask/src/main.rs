//! `cargo xtask`: dbrev's own automation, as Rust (rust-analyzer's pattern).
//!
//! - `ci`: what CI runs (`.ci/run`): servers, fmt, clippy, the ldd check, the tests.
//! - `install`: `cargo install` the three subcommands from this checkout.
//! - `demo`: the user's loop on SQLite in a throw-away project, through the dbkit API.
//! - `bench`: the speed targets, measured (never asserted in tests).

mod bench;
mod bench_fleet;
mod bench_prove;
mod demo;

use xshell::{Shell, cmd};

type DynResult = Result<(), Box<dyn std::error::Error>>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("install") => install(),
        Some("demo") => demo::run(),
        Some("bench") => bench::run(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | install | demo | bench [--rows N] [--rounds N] [--backends LIST] [--bin-dir DIR] [--readme] [WORKLOAD…]>"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn workspace_shell() -> Result<Shell, Box<dyn std::error::Error>> {
    let sh = Shell::new()?;
    sh.change_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    Ok(sh)
}

fn ci() -> DynResult {
    let sh = workspace_shell()?;
    cmd!(sh, "bash .ci/run").run()?;
    Ok(())
}

fn install() -> DynResult {
    let sh = workspace_shell()?;
    for tool in ["cargo-dbinit", "cargo-dbrev", "cargo-dbexport"] {
        cmd!(sh, "cargo install --locked --path {tool}").run()?;
    }
    Ok(())
}
