//! Report output: charts (PNG), the HTML page, CSV/JSON tables and the terminal summary, all
//! rendered from `Summary` / `Comparison` as bytes; `write_all` is the one place that writes
//! files. Must not touch Polars, the network or the store.

pub mod anonymize;
pub mod charts;
pub mod html;
pub mod table;
pub mod words;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::Summary;
use crate::analysis::compare::Comparison;
use crate::diag::Problem;
use crate::error::Error;
use crate::model::Activity;
use crate::model::Owner;
pub use charts::ChartOptions;

/// One export read in this run.
#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    /// The path given.
    pub path: String,
    /// The format detected.
    pub format: String,
    /// zip or folder.
    pub container: String,
    /// Activities read from it (before cross-export de-duplication).
    pub activities: u64,
}

/// The run's settings, as written to metrics.json.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Time zone of the months.
    pub timezone: String,
    /// Largest private conversation counted as conversation.
    pub group_max: u32,
    /// --from, if given.
    pub from: Option<String>,
    /// --to, if given.
    pub to: Option<String>,
    /// Activities seen in more than one export and counted once.
    pub duplicates_dropped: u64,
}

/// Everything about the run that is not the metrics.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// Settings used.
    pub settings: Settings,
    /// Exports read.
    pub inputs: Vec<InputInfo>,
    /// Owners identified.
    pub owners: Vec<Owner>,
    /// Problems with counts and reasons.
    pub problems: Vec<Problem>,
    /// Informational notes.
    pub notes: Vec<String>,
}

fn write(dir: &Path, name: &str, bytes: &[u8], written: &mut Vec<PathBuf>) -> Result<(), Error> {
    write_with(dir, name, written, |w| {
        std::io::Write::write_all(w, bytes).map_err(|e| e.to_string())
    })
}

/// Streams `render` into a temp file next to the target and renames it, so a crash never
/// leaves a half-written report.
fn write_with(
    dir: &Path,
    name: &str,
    written: &mut Vec<PathBuf>,
    render: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<(), String>,
) -> Result<(), Error> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let err = |source: std::io::Error| Error::Output {
        path: path.clone(),
        source,
    };
    let file = std::fs::File::create(&tmp).map_err(err)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    render(&mut w).map_err(|m| err(std::io::Error::other(m)))?;
    std::io::Write::flush(&mut w).map_err(err)?;
    drop(w);
    std::fs::rename(&tmp, &path).map_err(err)?;
    written.push(path);
    Ok(())
}

fn chart(
    dir: &Path,
    name: &str,
    render: Result<Vec<u8>, String>,
    written: &mut Vec<PathBuf>,
) -> Result<Vec<u8>, Error> {
    let bytes = render.map_err(|message| Error::Chart {
        path: dir.join(name),
        message,
    })?;
    write(dir, name, &bytes, written)?;
    Ok(bytes)
}

fn table_error(dir: &Path, name: &str) -> impl Fn(String) -> Error {
    let path = dir.join(name);
    move |message| Error::Output {
        path: path.clone(),
        source: std::io::Error::other(message),
    }
}

/// Writes every analyze output into `dir` (created if missing); returns the paths written.
pub fn write_all(
    dir: &Path,
    summary: &Summary,
    activities: &[Activity],
    info: &RunInfo,
    charts: &ChartOptions,
) -> Result<Vec<PathBuf>, Error> {
    // The activity table is the biggest output: write it on another core while the charts
    // and the page are drawn.
    let (table, rest) = std::thread::scope(|s| {
        let table = s.spawn(|| write_activities(dir, activities));
        let rest = write_summary(dir, summary, info, charts);
        (table.join(), rest)
    });
    let table = table.map_err(|_| Error::Output {
        path: dir.join("activities.csv"),
        source: std::io::Error::other("the writer thread panicked"),
    })??;
    let mut written = rest?;
    written.push(table);
    Ok(written)
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Output {
        path: dir.to_path_buf(),
        source,
    })
}

/// Writes `activities.csv` into `dir` (created if missing); returns its path. Needs only the
/// classified activities, so `analyze` runs it while the summary is computed.
pub fn write_activities(dir: &Path, activities: &[Activity]) -> Result<PathBuf, Error> {
    create_dir(dir)?;
    let mut written = Vec::new();
    write_with(dir, "activities.csv", &mut written, |f| {
        table::activities_csv(activities, f).map(|_| ())
    })?;
    Ok(written.remove(0))
}

/// Writes every output made from the summary (metrics, charts, report page) into `dir`
/// (created if missing); returns the paths written.
pub fn write_summary(
    dir: &Path,
    summary: &Summary,
    info: &RunInfo,
    charts: &ChartOptions,
) -> Result<Vec<PathBuf>, Error> {
    create_dir(dir)?;
    let mut written = Vec::new();
    let metrics = table::metrics_csv(summary).map_err(table_error(dir, "metrics.csv"))?;
    write(dir, "metrics.csv", &metrics, &mut written)?;
    let json = table::metrics_json(summary, info).map_err(table_error(dir, "metrics.json"))?;
    write(dir, "metrics.json", &json, &mut written)?;
    draw_charts_and_page(dir, summary, info, charts, &mut written)?;
    Ok(written)
}

fn draw_charts_and_page(
    dir: &Path,
    summary: &Summary,
    info: &RunInfo,
    charts: &ChartOptions,
    written: &mut Vec<PathBuf>,
) -> Result<(), Error> {
    let mix = chart(
        dir,
        "activity_mix.png",
        charts::activity_mix(summary, charts),
        written,
    )?;
    let ratio = chart(
        dir,
        "participation_ratio.png",
        charts::participation_ratio(summary, charts),
        written,
    )?;
    let people = chart(dir, "people.png", charts::people(summary, charts), written)?;
    let waiting = chart(
        dir,
        "unanswered.png",
        charts::unanswered(summary, charts),
        written,
    )?;
    let alt = html::alt_texts(summary);
    let figure = |title, alt: &str, png| html::Figure {
        title,
        alt: alt.to_string(),
        png,
    };
    let page = html::report_page(
        summary,
        info,
        &[
            figure("Participation ratio", &alt.ratio, &ratio),
            figure("People you talked with", &alt.people, &people),
            figure(
                "Conversations waiting for your answer",
                &alt.waiting,
                &waiting,
            ),
            figure("Activity mix", &alt.mix, &mix),
        ],
    );
    write(dir, "report.html", page.as_bytes(), written)
}

/// Writes `compare_<A>_vs_<B>.csv` and `.png` into `dir`.
pub fn write_comparison(
    dir: &Path,
    comparison: &Comparison,
    charts: &ChartOptions,
) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Output {
        path: dir.to_path_buf(),
        source,
    })?;
    let stem = format!("compare_{}_vs_{}", comparison.label_a, comparison.label_b);
    let mut written = Vec::new();
    let csv_name = format!("{stem}.csv");
    let csv = table::comparison_csv(comparison).map_err(table_error(dir, &csv_name))?;
    write(dir, &csv_name, &csv, &mut written)?;
    chart(
        dir,
        &format!("{stem}.png"),
        charts::comparison(comparison, charts),
        &mut written,
    )?;
    Ok(written)
}
