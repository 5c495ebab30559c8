//! The `rapport` binary: parse arguments, run, map the error to an exit code, and own the
//! allocator (mimalloc and the hook that hands its freed memory back). Nothing else.

use clap::Parser;

/// mimalloc: glibc's allocator fragments under the many short-lived inflate states of exports
/// made of thousands of small files (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hands memory freed so far back to the system, the freed pages of exited worker threads'
/// heaps included (mimalloc's `mi_collect(true)`), wherever the library has just freed much
/// (`rapport::on_memory_freed`): the next peak then does not sit on top of it (BENCHMARKS.md).
fn release_freed_memory() {
    // The one use of `unsafe` in rapport (Cargo.toml denies it everywhere else): mimalloc's
    // C function, linked by the `mimalloc` crate above, declared here because the binding
    // crate's `extended` feature needs a dependency of its own. `mi_collect` takes a C `bool`
    // and may be called at any time from any thread.
    #[allow(unsafe_code)]
    unsafe extern "C" {
        fn mi_collect(force: bool);
    }
    #[allow(unsafe_code)]
    // SAFETY: no arguments to get wrong; mimalloc is the global allocator and initialized.
    unsafe {
        mi_collect(true)
    };
}

fn main() {
    rapport::on_memory_freed(release_freed_memory);
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
