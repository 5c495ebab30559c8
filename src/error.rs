//! Error types per layer and the exit code each maps to. Owns no messages printed elsewhere.

use std::path::PathBuf;

use thiserror::Error;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: an unexpected failure (writing output, internal error).
pub const EXIT_FAILURE: i32 = 1;
/// Exit code: bad input or usage — missing path, unreadable archive, no data, `--strict` warnings.
pub const EXIT_INPUT: i32 = 2;
/// Exit code: a network or authentication problem (server unreachable after retries, token
/// rejected, login failed).
pub const EXIT_NETWORK: i32 = 3;

/// Problems talking to a platform API or logging in (`fetch::*`).
#[derive(Debug, Error)]
pub enum FetchError {
    /// The server could not be reached or kept failing after every retry.
    #[error(
        "{url}: {message} (gave up after {attempts} attempt(s)); check the network or try again later"
    )]
    Network {
        /// The request (never with a token in it).
        url: String,
        /// What went wrong last.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The server answered with an error that retrying will not fix.
    #[error("{url}: HTTP {status}: {message}")]
    Http {
        /// The request.
        url: String,
        /// HTTP status.
        status: u16,
        /// The server's message (shortened).
        message: String,
    },
    /// The token was rejected (revoked, expired) or login failed.
    #[error("{platform}: {message}")]
    Auth {
        /// Platform name.
        platform: String,
        /// What happened and what to do.
        message: String,
    },
    /// The server's answer is not what the API documents.
    #[error("{url}: unexpected response: {message}")]
    Protocol {
        /// The request.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// A login or fetch was asked for wrongly (a missing flag, a bad address).
    #[error("{0}")]
    Usage(String),
    /// The local store or a token file could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Problems with the local store of fetched accounts or the token files.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A stored file is damaged.
    #[error("{path}: damaged store file: {message}. Delete it and run `rapport fetch` again")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Another rapport is fetching this account right now.
    #[error(
        "{account}: another `rapport fetch` of this account is running (it holds {path}); let it finish, then run this one again"
    )]
    Busy {
        /// `platform:account`.
        account: String,
        /// The lock file.
        path: PathBuf,
    },
    /// The account is not in the store.
    #[error("no stored account {account}: {hint}")]
    UnknownAccount {
        /// What was asked for.
        account: String,
        /// The accounts that exist, or what to run.
        hint: String,
    },
}

/// Problems opening or reading one export.
#[derive(Debug, Error)]
pub enum SourceError {
    /// The path does not exist or cannot be read.
    #[error("{path}: cannot open: {source}. Check the path given to --export.")]
    Missing {
        /// The path given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Reading failed.
    #[error("{path}: read error: {source}")]
    Io {
        /// The path given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a supported archive.
    #[error("{path}: not a supported export: {what}")]
    NotAnArchive {
        /// The path given.
        path: PathBuf,
        /// What it is instead.
        what: String,
    },
    /// The zip is damaged.
    #[error(
        "{path}: the archive cannot be read ({message}); it may be truncated or damaged — download the export again"
    )]
    BadZip {
        /// The path given.
        path: PathBuf,
        /// The zip library's message.
        message: String,
    },
    /// One entry of the archive cannot be read.
    #[error("{path}: entry {entry}: {message}")]
    Entry {
        /// The archive.
        path: PathBuf,
        /// The file inside it.
        entry: String,
        /// What went wrong.
        message: String,
    },
    /// The inflated-bytes cap was reached.
    #[error(
        "{path}: entry {entry}: more than {max} bytes inflated; this looks like a zip bomb. If the export is genuine, raise max_inflated_bytes (config) or --max-inflated-bytes"
    )]
    TooLarge {
        /// The archive.
        path: PathBuf,
        /// The file inside it.
        entry: String,
        /// The cap in bytes.
        max: u64,
    },
    /// No importer recognised the content.
    #[error(
        "{path}: no supported export data found ({detail}). rapport reads LinkedIn exports (zip or folder), X/Twitter archives, Mastodon account archives (.tar.gz, .tar), Bluesky repositories (.car), Facebook and Instagram exports in JSON format, and Reddit data exports"
    )]
    Unrecognised {
        /// The archive.
        path: PathBuf,
        /// What was seen.
        detail: String,
    },
}

/// Top-level error; every variant maps to an exit code.
#[derive(Debug, Error)]
pub enum Error {
    /// Bad command-line usage or configuration.
    #[error("{0}")]
    Usage(String),
    /// An export could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// `--strict` and there were warnings.
    #[error("{count} warning(s) and --strict is set:\n{details}")]
    Strict {
        /// Number of problem records.
        count: u64,
        /// One line per problem.
        details: String,
    },
    /// No activity at all was found.
    #[error("no activity found in the given exports: {0}")]
    NoData(String),
    /// The analysis failed (a bug).
    #[error("analysis failed: {0}")]
    Analysis(String),
    /// Writing output failed.
    #[error("cannot write {path}: {source}")]
    Output {
        /// The file being written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Talking to a platform API failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The local store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Drawing a chart failed.
    #[error("cannot draw {path}: {message}")]
    Chart {
        /// The chart file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Source(_) | Error::Strict { .. } | Error::NoData(_) => {
                EXIT_INPUT
            }
            Error::Analysis(_) | Error::Output { .. } | Error::Chart { .. } => EXIT_FAILURE,
            Error::Fetch(FetchError::Usage(_)) => EXIT_INPUT,
            Error::Fetch(FetchError::Store(StoreError::UnknownAccount { .. })) => EXIT_INPUT,
            Error::Fetch(FetchError::Store(_)) => EXIT_FAILURE,
            Error::Fetch(_) => EXIT_NETWORK,
            Error::Store(StoreError::UnknownAccount { .. }) => EXIT_INPUT,
            Error::Store(_) => EXIT_FAILURE,
        }
    }
}

impl From<polars::error::PolarsError> for Error {
    fn from(e: polars::error::PolarsError) -> Self {
        Error::Analysis(e.to_string())
    }
}
