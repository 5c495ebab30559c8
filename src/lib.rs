//! rapport: do you network online, or only broadcast?
//!
//! Reads platform exports, normalizes every act into an [`model::Activity`], classifies it per
//! docs/counting.md (`classify`), computes monthly metrics with Polars (`analysis`) and renders
//! charts, tables and a report (`report`). Data flows one way:
//! `cli → sources → Activity → classify → analysis → Summary → report`.
//! This file only orchestrates; it owns no format, metric or rendering logic.

#![warn(missing_docs)]

pub mod analysis;
pub mod classify;
pub mod cli;
pub mod config;
pub mod diag;
pub mod error;
pub mod fetch;
pub mod model;
pub mod report;
pub mod sources;
pub mod store;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use analysis::{AnalysisOptions, Summary, parse_month};
use cli::{Cli, Command, InputArgs};
use config::Config;
use diag::Diagnostics;
use error::Error;
use model::Activity;
use report::{ChartOptions, InputInfo, RunInfo, Settings};
use sources::{Collected, ImportOptions, Sink as _};

/// Runs one command.
pub fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Config => {
            print!("{}", config::DEFAULT_TOML);
            Ok(())
        }
        Command::Analyze(args) => {
            let cfg = Config::load(cli.config.as_deref())?;
            let from = month_arg("--from", args.from.as_deref())?;
            let to = month_arg("--to", args.to.as_deref())?;
            if let (Some(f), Some(t)) = (from, to)
                && f > t
            {
                return Err(Error::Usage(format!(
                    "--from {} is after --to {}",
                    args.from.unwrap_or_default(),
                    args.to.unwrap_or_default()
                )));
            }
            let classified =
                classify_inputs(&args.input, &cfg, cli.quiet, cli.data_dir.as_deref())?;
            let out = out_dir(&args.input, &cfg);
            let (summary, info, written) = if args.input.anonymize {
                // Pseudonyms are chosen from the summary, so the table waits for it.
                let (mut summary, mut info) = classified.summarize(from, to)?;
                let mut activities = classified.activities;
                report::anonymize::anonymize(&mut activities, &mut summary, &mut info);
                let written =
                    report::write_all(&out, &summary, &activities, &info, &chart_options(&cfg))?;
                (summary, info, written)
            } else {
                // The activity table needs only the classified activities: it is written on
                // another core while the summary is computed and the charts are drawn.
                let (table, rest) = std::thread::scope(|s| {
                    let table = s.spawn(|| report::write_activities(&out, &classified.activities));
                    let rest = classified.summarize(from, to).and_then(|(summary, info)| {
                        let written =
                            report::write_summary(&out, &summary, &info, &chart_options(&cfg))?;
                        Ok((summary, info, written))
                    });
                    (table.join(), rest)
                });
                let table = table.map_err(|_| Error::Output {
                    path: out.join("activities.csv"),
                    source: std::io::Error::other("the writer thread panicked"),
                })??;
                let (summary, info, mut written) = rest?;
                written.push(table);
                // Freeing a million activities takes a tenth of a second that nobody waits
                // for: it runs on a thread the exit of the process does not wait for.
                std::thread::spawn(move || drop(classified));
                (summary, info, written)
            };
            profile_lap(Some("written"));
            if !cli.quiet {
                let mut stdout = std::io::stdout().lock();
                let _ = write!(
                    stdout,
                    "{}",
                    report::table::terminal_summary(&summary, &info, cfg.report.summary_months)
                );
                let _ = writeln!(
                    stdout,
                    "\nwrote {} files to {}",
                    written.len(),
                    out.display()
                );
            }
            Ok(())
        }
        Command::Login(args) => {
            let cfg = Config::load(cli.config.as_deref())?;
            login(args, &cfg)
        }
        Command::Logout(args) => {
            let removed = fetch::auth::logout(args.platform, args.account.as_deref())?;
            if removed.is_empty() {
                eprintln!("rapport: no stored {} login", args.platform);
            }
            for p in removed {
                println!("removed {}", p.display());
            }
            Ok(())
        }
        Command::Fetch(args) => {
            let cfg = Config::load(cli.config.as_deref())?;
            let store = store::Store::open(cli.data_dir.as_deref())?;
            fetch_account(&args, &cfg, &store, cli.quiet)
        }
        Command::Accounts => {
            let store = store::Store::open(cli.data_dir.as_deref())?;
            let accounts = store.accounts()?;
            if accounts.is_empty() {
                println!(
                    "no fetched accounts in {} (run `rapport login` and `rapport fetch`)",
                    store.root().display()
                );
            }
            for a in accounts {
                println!(
                    "{}\t{} activities\tlast fetch {}\t{} pages",
                    a.spec,
                    a.activities,
                    a.state.last_fetch.as_deref().unwrap_or("never completed"),
                    a.state.endpoints.values().map(|e| e.pages).sum::<u64>()
                );
            }
            Ok(())
        }
        Command::Export(args) => {
            let cfg = Config::load(cli.config.as_deref())?;
            let accounts: Vec<String> = if args.accounts.is_empty() && args.exports.is_empty() {
                store::Store::open(cli.data_dir.as_deref())?
                    .accounts()?
                    .into_iter()
                    .map(|a| a.spec)
                    .collect()
            } else {
                args.accounts.clone()
            };
            if accounts.is_empty() && args.exports.is_empty() {
                return Err(Error::NoData(
                    "nothing to export: give --export PATH, or fetch an account first (`rapport fetch PLATFORM`)"
                        .into(),
                ));
            }
            let input = InputArgs {
                exports: args.exports.clone(),
                accounts,
                out: None,
                tz: args.tz.clone(),
                me: args.me.clone(),
                group_max: args.group_max,
                strict: false,
                anonymize: false,
                max_inflated_bytes: args.max_inflated_bytes,
            };
            let run =
                prepare_with_store(&input, &cfg, cli.quiet, None, None, cli.data_dir.as_deref())?;
            let zone = config::parse_zone(&run.info.settings.timezone)?;
            let written = store::export_partitioned(&args.parquet, &run.activities, zone)?;
            if !cli.quiet {
                let mut stdout = std::io::stdout().lock();
                for p in &run.info.problems {
                    let _ = writeln!(stdout, "warning: {}", diag::describe(p));
                }
                let _ = writeln!(
                    stdout,
                    "wrote {} activities in {} files under {} (months in {})",
                    run.activities.len(),
                    written.len(),
                    args.parquet.display(),
                    run.info.settings.timezone
                );
            }
            Ok(())
        }
        Command::Compare(args) => {
            let cfg = Config::load(cli.config.as_deref())?;
            let a = period_arg("--period", &args.period)?;
            let b = match &args.against {
                Some(b) => period_arg("--against", b)?,
                None if args.yoy => a.year_before(),
                None => a.before(),
            };
            let run = prepare_with_store(
                &args.input,
                &cfg,
                cli.quiet,
                None,
                None,
                cli.data_dir.as_deref(),
            )?;
            let comparison =
                analysis::compare::compare(&run.summary, a, b).map_err(Error::Usage)?;
            let out = out_dir(&args.input, &cfg);
            let written = report::write_comparison(&out, &comparison, &chart_options(&cfg))?;
            if !cli.quiet {
                let mut stdout = std::io::stdout().lock();
                let _ = write!(
                    stdout,
                    "{}",
                    report::table::terminal_comparison(&comparison)
                );
                for p in &written {
                    let _ = writeln!(stdout, "wrote {}", p.display());
                }
            }
            Ok(())
        }
    }
}

fn http(cfg: &Config) -> Result<fetch::Http, Error> {
    Ok(fetch::Http::new(fetch::RetryPolicy::from(&cfg.api))?)
}

/// `rapport login PLATFORM`: the platform's fetcher logs in; the token is saved, never printed.
fn login(args: cli::LoginArgs, cfg: &Config) -> Result<(), Error> {
    let fetcher = fetch::fetcher(args.platform)?;
    let http = http(cfg)?;
    let env_token = format!("RAPPORT_{}_TOKEN", args.platform.as_str().to_uppercase());
    let token = fetch::auth::token_arg(args.token.or_else(|| std::env::var(&env_token).ok()))?;
    let app_password = fetch::auth::token_arg(args.app_password)?;
    let open = |url: &str| {
        eprintln!(
            "Open this address in your browser to let rapport read your {} account:\n\n  {url}\n",
            args.platform
        );
        fetch::auth::try_open_browser(url);
    };
    let login = fetch::LoginArgs {
        instance: args.instance,
        handle: args.handle,
        app_password,
        token,
        account: args.account,
        open: &open,
    };
    let ctx = fetch::Context {
        http: &http,
        api: &cfg.api,
    };
    let creds = fetch::block_on(fetcher.login(&ctx, &login))??;
    let path = fetch::auth::save(&creds)?;
    println!(
        "logged in to {} as {}; token saved in {} (readable only by you)",
        creds.platform,
        creds.account,
        path.display()
    );
    Ok(())
}

/// `rapport fetch PLATFORM`: one fetch per account at a time (the account's lock).
fn fetch_account(
    args: &cli::FetchArgs,
    cfg: &Config,
    store: &store::Store,
    quiet: bool,
) -> Result<(), Error> {
    let since = month_arg("--since", args.since.as_deref())?.and_then(month_start_ms);
    let p = args.platform;
    let fetcher = fetch::fetcher(p)?;
    let creds = fetch::auth::load(p, args.account.as_deref())?;
    let http = http(cfg)?;
    let account = store.account(p, &creds.account);
    let _lock = account.lock()?;
    let progress = fetch::Progress::new(&format!("{p} {}", creds.account), quiet);
    let options = fetch::FetchOptions {
        since,
        me: args.me.clone(),
        max_pages: cfg.api.max_pages,
    };
    let ctx = fetch::Context {
        http: &http,
        api: &cfg.api,
    };
    let result = fetch::block_on(fetcher.fetch(&ctx, &creds, &account, &options, &progress));
    progress.finish();
    let notes = result??;
    for n in &notes {
        eprintln!("rapport: note: {n}");
    }
    if !quiet {
        let n = account.read_activities()?.len();
        println!(
            "{p}:{}: {} new page(s), {} item(s), {} request(s); {n} activities stored in {}",
            creds.account,
            progress.pages(),
            progress.items(),
            http.requests(),
            account.dir().display()
        );
    }
    Ok(())
}

/// Milliseconds at the start of a month code (UTC).
fn month_start_ms(code: i32) -> Option<i64> {
    chrono::NaiveDate::from_ymd_opt(code.div_euclid(12), code.rem_euclid(12) as u32 + 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

fn month_arg(flag: &str, value: Option<&str>) -> Result<Option<i32>, Error> {
    match value {
        None => Ok(None),
        Some(v) => parse_month(v).map(Some).ok_or_else(|| {
            Error::Usage(format!(
                "{flag} {v:?} is not a month: use YYYY-MM, e.g. 2024-03"
            ))
        }),
    }
}

fn period_arg(flag: &str, value: &str) -> Result<analysis::Period, Error> {
    analysis::Period::parse(value).ok_or_else(|| {
        Error::Usage(format!(
            "{flag} {value:?} is not a period: use a month (2026-03), a quarter (2026-Q1) or a year (2026)"
        ))
    })
}

fn out_dir(input: &InputArgs, cfg: &Config) -> PathBuf {
    input.out.clone().unwrap_or_else(|| cfg.out_dir.clone())
}

fn chart_options(cfg: &Config) -> ChartOptions {
    ChartOptions {
        width: cfg.report.width,
        height: cfg.report.height,
        low_volume_acts: cfg.report.low_volume_acts,
    }
}

/// Activities read, classified and summarized.
pub struct Prepared {
    /// Every activity after de-duplication, classified.
    pub activities: Vec<Activity>,
    /// The monthly table.
    pub summary: Summary,
    /// Settings, inputs, owners, problems.
    pub info: RunInfo,
}

/// Reads every export, classifies and summarizes (everything but writing).
pub fn prepare(
    input: &InputArgs,
    cfg: &Config,
    quiet: bool,
    from: Option<i32>,
    to: Option<i32>,
) -> Result<Prepared, Error> {
    prepare_with_store(input, cfg, quiet, from, to, None)
}

/// [`prepare`], with `--account` read from the store at `data_dir` (default: the user's).
pub fn prepare_with_store(
    input: &InputArgs,
    cfg: &Config,
    quiet: bool,
    from: Option<i32>,
    to: Option<i32>,
    data_dir: Option<&std::path::Path>,
) -> Result<Prepared, Error> {
    let classified = classify_inputs(input, cfg, quiet, data_dir)?;
    let (summary, info) = classified.summarize(from, to)?;
    Ok(Prepared {
        activities: classified.activities,
        summary,
        info,
    })
}

/// Activities read, de-duplicated and classified: [`prepare`] before the summary, so that
/// `analyze` can write the activity table while the summary is computed.
pub struct Classified {
    /// Every activity after de-duplication, classified.
    pub activities: Vec<Activity>,
    input: InputArgs,
    zone: model::Zone,
    group_max: u32,
    duplicates_dropped: u64,
    inputs: Vec<InputInfo>,
    owners: Vec<model::Owner>,
    diagnostics: Diagnostics,
}

/// Reads every export and stored account, drops duplicates and classifies.
pub fn classify_inputs(
    input: &InputArgs,
    cfg: &Config,
    quiet: bool,
    data_dir: Option<&std::path::Path>,
) -> Result<Classified, Error> {
    let timezone = input.tz.clone().unwrap_or_else(|| cfg.timezone.clone());
    let zone = config::parse_zone(&timezone)?;
    let group_max = input.group_max.unwrap_or(cfg.group_max);
    if group_max < 2 {
        return Err(Error::Usage(format!(
            "--group-max must be at least 2 (got {group_max})"
        )));
    }
    let max_inflated = input.max_inflated_bytes.unwrap_or(cfg.max_inflated_bytes);
    let threads = match cfg.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let options = ImportOptions {
        me: input.me.clone(),
        threads,
    };
    profile_lap(None);
    let mut all = Collected::default();
    let mut inputs = Vec::new();
    for path in &input.exports {
        let (archive, importer) = sources::detect(path, max_inflated)?;
        let mut collected = Collected::default();
        with_progress(&archive, quiet, || {
            importer.read(&archive, &options, &mut collected)
        })?;
        inputs.push(InputInfo {
            path: path.display().to_string(),
            format: importer.name().to_string(),
            container: archive.kind().as_str().into(),
            activities: collected.activities.len() as u64,
        });
        all.extend(std::mem::take(&mut collected.activities));
        all.diagnostics.merge(collected.diagnostics);
        all.owners.extend(collected.owners);
    }
    if !input.accounts.is_empty() {
        let store = store::Store::open(data_dir)?;
        for spec in &input.accounts {
            let account = store.find(spec)?;
            let state = account.load_state()?;
            let acts = account.read_activities()?;
            inputs.push(InputInfo {
                path: format!("{}:{}", account.platform(), account.account()),
                format: format!("{} API (stored)", account.platform()),
                container: "store".into(),
                activities: acts.len() as u64,
            });
            all.owners.push(model::Owner {
                platform: account.platform(),
                id: state.owner.clone(),
                how: "the logged-in account of the fetch".into(),
            });
            all.extend(acts);
        }
    }
    release_freed_memory();
    profile_lap(Some("imported"));
    // The same act from two downloads of one account counts once.
    let mut activities = all.activities;
    let duplicates_dropped = sources::drop_duplicates(&mut activities, threads);
    let diagnostics: Diagnostics = all.diagnostics;
    if input.strict && !diagnostics.is_empty() {
        return Err(Error::Strict {
            count: diagnostics.problem_count(),
            details: diagnostics
                .problems()
                .iter()
                .map(|p| format!("  {}", diag::describe(p)))
                .collect::<Vec<_>>()
                .join("\n"),
        });
    }
    release_freed_memory();
    profile_lap(Some("deduplicated"));
    classify::classify(&mut activities, group_max);
    classify::mark_heuristics(&mut activities);
    release_freed_memory();
    profile_lap(Some("classified"));
    Ok(Classified {
        activities,
        input: input.clone(),
        zone,
        group_max,
        duplicates_dropped,
        inputs,
        owners: all.owners,
        diagnostics,
    })
}

impl Classified {
    /// The monthly table and findings between `from` and `to`, and the run's record.
    pub fn summarize(
        &self,
        from: Option<i32>,
        to: Option<i32>,
    ) -> Result<(Summary, RunInfo), Error> {
        let (input, zone, group_max) = (&self.input, self.zone, self.group_max);
        let activities = &self.activities;
        let threads = classify::threads(activities, group_max);
        release_freed_memory();
        let summary =
            analysis::summarize(activities, &threads, &AnalysisOptions { zone, from, to })?;
        profile_lap(Some("summarized"));
        let mut notes = self.diagnostics.notes().to_vec();
        if summary.rows.is_empty() {
            // A recognised export with nothing to count is an answer, not an error.
            let sources = input
                .exports
                .iter()
                .map(|p| p.display().to_string())
                .chain(input.accounts.iter().cloned())
                .collect::<Vec<_>>()
                .join(", ");
            notes.push(format!(
                "{sources}: recognised, but it holds no activity rapport counts (posts, comments, replies, messages, reactions); metrics.csv has its header only"
            ));
        }
        let info = RunInfo {
            settings: Settings {
                timezone: zone.name(),
                group_max,
                from: from.map(analysis::month_label),
                to: to.map(analysis::month_label),
                duplicates_dropped: self.duplicates_dropped,
            },
            inputs: self.inputs.clone(),
            owners: self.owners.clone(),
            problems: self.diagnostics.problems(),
            notes,
        };
        Ok((summary, info))
    }
}

/// Runs `work` with a progress bar of inflated bytes on stderr (hidden when not a terminal).
fn with_progress<T>(archive: &sources::Archive, quiet: bool, work: impl FnOnce() -> T) -> T {
    if quiet {
        return work();
    }
    let total: u64 = archive.entries().iter().map(|e| e.size).sum();
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(format!("reading {}", archive.path().display()));
    // The ticker waits on a channel, not a sleep: when the work ends (the sender is dropped)
    // it stops at once, instead of holding the import up to a tick (100 ms) longer.
    let (done, ticks) = std::sync::mpsc::channel::<()>();
    let bar_ref = &bar;
    let result = std::thread::scope(|s| {
        s.spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                ticks.recv_timeout(Duration::from_millis(100))
            {
                bar_ref.set_position(archive.inflated_bytes().min(total));
            }
        });
        let r = work();
        drop(done);
        r
    });
    bar.finish_and_clear();
    result
}

/// What the binary gives to hand freed memory back to the system ([`on_memory_freed`]).
static RELEASE: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Registers `release`, called wherever much memory has just been freed: at the end of each
/// phase of `analyze` (import, deduplication, classification, conversation threads) and inside
/// an import that frees its rows before it moves its activities (LinkedIn). The allocator is
/// the binary's (`src/main.rs`): freed memory stays with the allocator until something
/// collects it, and the next peak sat on top of it (BENCHMARKS.md). Without a registration
/// (the library's tests, other embedders) these points do nothing.
pub fn on_memory_freed(release: fn()) {
    let _ = RELEASE.set(release);
}

/// Hands memory freed so far back to the system, through the hook [`on_memory_freed`]
/// registered (nothing without one).
pub(crate) fn release_freed_memory() {
    if let Some(release) = RELEASE.get() {
        release();
    }
}

/// Phase timings (from the first call) and peak memory on stderr when `RAPPORT_PROFILE` is
/// set (for benchmarks); `None` only starts the clock.
fn profile_lap(what: Option<&str>) {
    static START: std::sync::OnceLock<Option<std::time::Instant>> = std::sync::OnceLock::new();
    let t0 = START
        .get_or_init(|| std::env::var_os("RAPPORT_PROFILE").map(|_| std::time::Instant::now()));
    let (Some(t0), Some(what)) = (t0, what) else {
        return;
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map_or(String::new(), |v| v.trim().to_string())
    };
    eprintln!(
        "[{:>7.3} s] {what:<14} RSS {}, peak RSS {} (Activity is {} bytes)",
        t0.elapsed().as_secs_f64(),
        field("VmRSS:"),
        field("VmHWM:"),
        std::mem::size_of::<Activity>()
    );
}
