//! Command-line grammar (clap derive) and help text. Must not parse formats, run Polars or
//! touch the network.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::model::Platform;

/// rapport — do you network online, or only broadcast?
///
/// Reads the export archives platforms give you (LinkedIn, X, Mastodon, Bluesky, Facebook,
/// Instagram, Threads, Reddit) or what their APIs return, classifies every act as broadcast,
/// amplification, self-thread, conversation or passive, and shows month by month how the
/// balance moves.
#[derive(Debug, Parser)]
#[command(name = "rapport", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Configuration file to use instead of ~/.config/rapport/config.toml.
    #[arg(long, global = true, value_name = "FILE", env = "RAPPORT_CONFIG")]
    pub config: Option<PathBuf>,

    /// Print less: no progress bars, no summary table.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Folder of the local store of fetched accounts (default: your data dir, e.g.
    /// ~/.local/share/rapport).
    #[arg(long, global = true, value_name = "DIR", env = "RAPPORT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyze exports: metrics.csv/json, activities.csv, charts and report.html in --out.
    Analyze(AnalyzeArgs),
    /// Compare a month, quarter or year with another (default: the period before).
    Compare(CompareArgs),
    /// Print the default configuration (every key, documented).
    Config,
    /// Log in to a platform API; the token is kept in your config dir, readable only by you.
    Login(LoginArgs),
    /// Forget the stored login of a platform.
    Logout(LogoutArgs),
    /// Pull your activity from a platform API into the local store (incremental, resumable).
    Fetch(FetchArgs),
    /// List the accounts in the local store and how fresh they are.
    Accounts,
    /// Write the classified activities of exports and stored accounts as Parquet, partitioned
    /// by platform and month, for DuckDB or Spark (docs/sql/metrics.sql).
    Export(ExportArgs),
}

/// A platform named on the command line (`mastodon`, `bluesky`, `linkedin`, …).
fn platform(name: &str) -> Result<Platform, String> {
    Platform::from_name(name).ok_or_else(|| {
        format!(
            "unknown platform {name:?}; one of: {}",
            Platform::ALL.map(|p| p.as_str()).join(", ")
        )
    })
}

/// `rapport login PLATFORM`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The platform to log in to: mastodon, bluesky, linkedin, x, reddit or threads.
    #[arg(value_parser = platform, value_name = "PLATFORM")]
    pub platform: Platform,
    /// Mastodon: your instance, e.g. https://mastodon.social.
    #[arg(long, value_name = "URL", env = "RAPPORT_MASTODON_INSTANCE")]
    pub instance: Option<String>,
    /// Bluesky: your handle (alice.bsky.social) or DID.
    #[arg(long, value_name = "NAME")]
    pub handle: Option<String>,
    /// Bluesky: an app password (Settings → Privacy and security → App passwords); `-` reads
    /// it from standard input. Better: the environment variable, so it stays out of history.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "RAPPORT_BLUESKY_APP_PASSWORD",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub app_password: Option<String>,
    /// An access token obtained elsewhere instead of the browser login (Mastodon: a personal
    /// access token with read scopes; LinkedIn: the developer portal's token generator; X: a
    /// user-context bearer token; Reddit: an OAuth access token; Threads: a long-lived token
    /// from your app's dashboard); `-` reads it from standard input, so it never shows in `ps`.
    /// Also RAPPORT_<PLATFORM>_TOKEN.
    // A token may begin with `-` (it is random text): it is taken as the value, not a flag.
    #[arg(long, value_name = "TOKEN", allow_hyphen_values = true)]
    pub token: Option<String>,
    /// Name of this login in the store (`rapport analyze --account PLATFORM:NAME`); default:
    /// the account's own name (LinkedIn: `me`).
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
}

/// `rapport logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The platform to forget.
    #[arg(value_parser = platform, value_name = "PLATFORM")]
    pub platform: Platform,
    /// Only this account (default: every stored login of the platform).
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
}

/// `rapport fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The platform to fetch from (you must have logged in): mastodon, bluesky or linkedin.
    #[arg(value_parser = platform, value_name = "PLATFORM")]
    pub platform: Platform,
    /// Which stored login, when there are several (e.g. @me@mastodon.social).
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// On the first fetch, stop going back at this month (YYYY-MM). Not for LinkedIn, whose
    /// snapshot always holds the whole history.
    #[arg(long, value_name = "YYYY-MM")]
    pub since: Option<String>,
    /// Who you are, where the platform cannot tell (LinkedIn: your profile URL; remembered
    /// for later fetches).
    #[arg(long, value_name = "WHO")]
    pub me: Option<String>,
}

/// `rapport export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Folder to write platform=<p>/month=<YYYY-MM|undated>/part-0.parquet into.
    #[arg(long, value_name = "DIR")]
    pub parquet: PathBuf,
    /// An export to read (as `analyze --export`); repeatable. Without --export and --account:
    /// every stored account.
    #[arg(long = "export", short = 'e', value_name = "PATH")]
    pub exports: Vec<PathBuf>,
    /// A stored account (platform:name); repeatable.
    #[arg(long = "account", value_name = "PLATFORM:NAME")]
    pub accounts: Vec<String>,
    /// Time zone of the month partitions: IANA name, UTC, or local [config: timezone].
    #[arg(long, value_name = "ZONE", env = "RAPPORT_TZ")]
    pub tz: Option<String>,
    /// Who you are where an export cannot tell (as `analyze --me`); repeatable.
    #[arg(long, value_name = "WHO", env = "RAPPORT_ME")]
    pub me: Vec<String>,
    /// Largest private conversation counted as conversation [config: group_max].
    #[arg(long, value_name = "N", env = "RAPPORT_GROUP_MAX")]
    pub group_max: Option<u32>,
    /// Cap on bytes inflated from one export, against zip bombs [config: max_inflated_bytes].
    #[arg(long, value_name = "BYTES", env = "RAPPORT_MAX_INFLATED_BYTES")]
    pub max_inflated_bytes: Option<u64>,
}

/// Options shared by `analyze` and `compare`.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// An export to read: a LinkedIn, X/Twitter, Facebook, Instagram or Reddit .zip, a Mastodon
    /// .tar.gz, a Bluesky .car, or an extracted folder of any of them. Repeat for several exports
    /// (also the parts of an export split over several zips); the format is detected from the
    /// content, not the name.
    #[arg(
        long = "export",
        short = 'e',
        value_name = "PATH",
        required_unless_present = "accounts"
    )]
    pub exports: Vec<PathBuf>,

    /// A fetched account from the local store, e.g. mastodon:@me@mastodon.social or
    /// bluesky:alice.bsky.social (see `rapport accounts`). Repeatable; mixes with --export.
    #[arg(long = "account", value_name = "PLATFORM:NAME")]
    pub accounts: Vec<String>,

    /// Folder for the output files (created if missing) [config: out_dir].
    #[arg(long, short, value_name = "DIR", env = "RAPPORT_OUT")]
    pub out: Option<PathBuf>,

    /// Time zone for month boundaries: IANA name (Europe/Amsterdam), UTC, or local [config: timezone].
    #[arg(long, value_name = "ZONE", env = "RAPPORT_TZ")]
    pub tz: Option<String>,

    /// Who you are, when rapport cannot tell which side of the messages is you: your LinkedIn
    /// profile URL, your numeric X user id, your Facebook/Instagram display name or your
    /// Reddit username. Prefix it with the platform when it could be read as another's
    /// (`reddit:alice`, `x:12345`); repeat for several platforms.
    #[arg(long, value_name = "WHO", env = "RAPPORT_ME")]
    pub me: Vec<String>,

    /// Largest private conversation (people, you included) that still counts as conversation;
    /// bigger ones count as broadcast [config: group_max].
    #[arg(long, value_name = "N", env = "RAPPORT_GROUP_MAX")]
    pub group_max: Option<u32>,

    /// Make every warning (unreadable rows, unparseable dates) fatal: exit 2 without writing.
    #[arg(long)]
    pub strict: bool,

    /// Name people by stable pseudonyms (person-1, …) in every output and hash activity ids, so
    /// the report can be shared; file names that carry names are rewritten too. Counts do not
    /// change.
    #[arg(long)]
    pub anonymize: bool,

    /// Cap on bytes inflated from one export, against zip bombs [config: max_inflated_bytes].
    #[arg(long, value_name = "BYTES", env = "RAPPORT_MAX_INFLATED_BYTES")]
    pub max_inflated_bytes: Option<u64>,
}

/// `rapport analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Inputs and shared settings.
    #[command(flatten)]
    pub input: InputArgs,

    /// First month to report, YYYY-MM (inclusive).
    #[arg(long, value_name = "YYYY-MM")]
    pub from: Option<String>,

    /// Last month to report, YYYY-MM (inclusive).
    #[arg(long, value_name = "YYYY-MM")]
    pub to: Option<String>,
}

/// `rapport compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Inputs and shared settings.
    #[command(flatten)]
    pub input: InputArgs,

    /// The period to look at: a month (2026-03), a quarter (2026-Q1) or a year (2026).
    #[arg(long, visible_alias = "month", value_name = "PERIOD")]
    pub period: String,

    /// The period to compare against, written the same ways (default: the period just before
    /// --period, e.g. 2025-Q4 for 2026-Q1).
    #[arg(long, value_name = "PERIOD", conflicts_with = "yoy")]
    pub against: Option<String>,

    /// Compare against the same period a year earlier (2025-Q1 for 2026-Q1).
    #[arg(long)]
    pub yoy: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_beginning_with_a_hyphen_is_a_value_not_a_flag() {
        let cli = Cli::try_parse_from([
            "rapport",
            "login",
            "mastodon",
            "--instance",
            "https://example.social",
            "--token",
            "-7abcDEF",
        ]);
        let Ok(Cli {
            command: Command::Login(args),
            ..
        }) = cli
        else {
            panic!("--token -7abcDEF was not read as a token: {:?}", cli.err());
        };
        assert_eq!(args.token.as_deref(), Some("-7abcDEF"));
    }
}
