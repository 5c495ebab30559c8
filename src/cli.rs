//! Command-line grammar (clap derive) and help text. Must not parse formats, run Polars or
//! touch the network.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// rapport — do you network online, or only broadcast?
///
/// Reads the export archives platforms give you (LinkedIn "Get a copy of your data" zip or its
/// extracted folder), classifies every act as broadcast, amplification, self-thread,
/// conversation or passive, and shows month by month how the balance moves.
#[derive(Debug, Parser)]
#[command(name = "rapport", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Configuration file to use instead of ~/.config/rapport/config.toml.
    #[arg(long, global = true, value_name = "FILE", env = "RAPPORT_CONFIG")]
    pub config: Option<PathBuf>,

    /// Print less: no progress bars, no summary table.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyze exports: metrics.csv/json, activities.csv, charts and report.html in --out.
    Analyze(AnalyzeArgs),
    /// Compare one month with another (default: the month before).
    Compare(CompareArgs),
    /// Print the default configuration (every key, documented).
    Config,
}

/// Options shared by `analyze` and `compare`.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// An export to read: a LinkedIn .zip or its extracted folder. Repeat for several exports;
    /// the format is detected from the content, not the name.
    #[arg(long = "export", short = 'e', value_name = "PATH", required = true)]
    pub exports: Vec<PathBuf>,

    /// Folder for the output files (created if missing) [config: out_dir].
    #[arg(long, short, value_name = "DIR", env = "RAPPORT_OUT")]
    pub out: Option<PathBuf>,

    /// Time zone for month boundaries: IANA name (Europe/Amsterdam), UTC, or local [config: timezone].
    #[arg(long, value_name = "ZONE", env = "RAPPORT_TZ")]
    pub tz: Option<String>,

    /// Your LinkedIn profile URL, when rapport cannot tell which side of the messages is you.
    #[arg(long, value_name = "URL", env = "RAPPORT_ME")]
    pub me: Option<String>,

    /// Largest private conversation (people, you included) that still counts as conversation;
    /// bigger ones count as broadcast [config: group_max].
    #[arg(long, value_name = "N", env = "RAPPORT_GROUP_MAX")]
    pub group_max: Option<u32>,

    /// Make every warning (unreadable rows, unparseable dates) fatal: exit 2 without writing.
    #[arg(long)]
    pub strict: bool,

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

    /// The month to look at, YYYY-MM.
    #[arg(long, value_name = "YYYY-MM")]
    pub month: String,

    /// The month to compare against, YYYY-MM (default: the month before --month).
    #[arg(long, value_name = "YYYY-MM")]
    pub against: Option<String>,
}
