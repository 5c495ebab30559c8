//! The `rapport` binary: parse arguments, run, map the error to an exit code, and own the
//! allocator (mimalloc and the hook that hands its freed memory back). Nothing else.

use clap::Parser;

/// mimalloc: glibc's allocator fragments under the many short-lived inflate states of exports
/// made of thousands of small files (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc's C functions, linked by the `mimalloc` crate above, declared here because the
// binding crate's `extended` feature needs a dependency of its own: the only `unsafe` in
// rapport (Cargo.toml denies it everywhere else).
#[allow(unsafe_code)]
unsafe extern "C" {
    /// Takes a C `bool`; may be called at any time from any thread.
    fn mi_collect(force: bool);
    /// `option` is a `mi_option_t` (a C enum, an `int`), `value` a C `long`.
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in the v2 line's `mimalloc.h` (the 16th option of `mi_option_t`):
/// milliseconds a freed page stays resident before it is handed back; 10 by default.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Freed pages handed back to the system as they are freed, not 10 ms later: the threads of
/// the summary (Polars) and of the import free large blocks and then sit idle, and a delayed
/// purge runs only when the freeing thread calls the allocator again, so their freed pages
/// stayed resident under the next peak (dense LinkedIn 185 -> 177 MiB; BENCHMARKS.md).
fn purge_freed_pages_at_once() {
    #[allow(unsafe_code)]
    // SAFETY: a documented option index of the linked mimalloc version and a plain value;
    // options may be set at any time.
    unsafe {
        mi_option_set(MI_OPTION_PURGE_DELAY, 0)
    };
}

/// Hands memory freed so far back to the system, the freed pages of exited worker threads'
/// heaps included (mimalloc's `mi_collect(true)`), wherever the library has just freed much
/// (`rapport::on_memory_freed`): the next peak then does not sit on top of it (BENCHMARKS.md).
fn release_freed_memory() {
    #[allow(unsafe_code)]
    // SAFETY: no arguments to get wrong; mimalloc is the global allocator and initialized.
    unsafe {
        mi_collect(true)
    };
}

fn main() {
    purge_freed_pages_at_once();
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
