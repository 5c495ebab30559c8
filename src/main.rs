//! The `rapport` binary: parse arguments, run, map the error to an exit code. Nothing else.

use clap::Parser;

/// mimalloc: glibc's allocator fragments under the many short-lived inflate states of exports
/// made of thousands of small files (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = rapport::cli::Cli::parse();
    match rapport::run(cli) {
        Ok(()) => std::process::exit(rapport::error::EXIT_OK),
        Err(e) => {
            eprintln!("rapport: error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            std::process::exit(e.exit_code());
        }
    }
}
