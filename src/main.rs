//! The `rapport` binary: parse arguments, run, map the error to an exit code. Nothing else.

use clap::Parser;

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
