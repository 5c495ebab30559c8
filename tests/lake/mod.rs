//! `rapport export --parquet DIR --export …` and docs/sql/metrics.sql: the query, run by DuckDB
//! (tests/sql/run_metrics.py) over the lake of every fixture export, gives exactly the cells of
//! `rapport analyze`'s metrics.csv for the same exports, in UTC and in another time zone. Needs
//! Python with DuckDB (`tests/sql/venv`, which .ci/run installs from tests/sql/requirements.txt,
//! or RAPPORT_DUCKDB_PYTHON); skips with a message without it unless RAPPORT_REQUIRE_DUCKDB=1.

use std::path::{Path, PathBuf};

use super::{fixture, rapport};

fn duckdb_python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidate = std::env::var_os("RAPPORT_DUCKDB_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("tests/sql/venv/bin/python"));
    let works = std::process::Command::new(&candidate)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    works.then_some(candidate)
}

const EXPORTS: [&str; 7] = [
    "linkedin.zip",
    "x/ytd.zip",
    "mastodon/archive.tar.gz",
    "bluesky/repo.car",
    "facebook",
    "instagram",
    "reddit.zip",
];

/// metrics.csv from `rapport analyze`, cut to the columns the query gives (month … received).
fn analyzed(tz: &str) -> String {
    let out = tempfile::tempdir().expect("tmp");
    let mut cmd = rapport();
    cmd.arg("analyze").arg("--quiet").args(["--tz", tz]);
    for e in EXPORTS {
        cmd.arg("--export").arg(fixture(e));
    }
    cmd.arg("--out").arg(out.path()).assert().success();
    let m = std::fs::read_to_string(out.path().join("metrics.csv")).expect("metrics");
    let mut lines = m.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let keep: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| **h != "median_response_minutes")
        .take_while(|(_, h)| **h != "people_new")
        .map(|(i, _)| i)
        .collect();
    let mut text = String::new();
    for line in std::iter::once(header.join(",").as_str()).chain(lines) {
        let cells: Vec<&str> = line.split(',').collect();
        let row: Vec<&str> = keep.iter().map(|&i| cells[i]).collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    text
}

fn queried(python: &Path, tz: &str) -> String {
    let lake = tempfile::tempdir().expect("tmp");
    let mut cmd = rapport();
    cmd.args(["export", "--parquet"])
        .arg(lake.path())
        .args(["--tz", tz]);
    for e in EXPORTS {
        cmd.arg("--export").arg(fixture(e));
    }
    cmd.assert().success();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(python)
        .arg(root.join("tests/sql/run_metrics.py"))
        .arg(lake.path())
        .arg(root.join("docs/sql/metrics.sql"))
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn metrics_sql_on_the_parquet_lake_equals_metrics_csv() {
    let Some(python) = duckdb_python() else {
        assert!(
            std::env::var_os("RAPPORT_REQUIRE_DUCKDB").is_none(),
            "RAPPORT_REQUIRE_DUCKDB is set but no Python with DuckDB was found"
        );
        eprintln!(
            "skipped: no Python with DuckDB (python3 -m venv tests/sql/venv && tests/sql/venv/bin/pip install -r tests/sql/requirements.txt)"
        );
        return;
    };
    // Etc/GMT+12 (UTC-12) moves the acts of a month's first morning into the month before.
    for tz in ["UTC", "Etc/GMT+12"] {
        let expected = analyzed(tz);
        assert!(expected.lines().count() > 20, "{expected}");
        assert_eq!(queried(&python, tz), expected, "time zone {tz}");
    }
}

#[test]
fn export_without_inputs_or_stored_accounts_says_what_to_do() {
    let home = tempfile::tempdir().expect("tmp");
    rapport()
        .env("RAPPORT_DATA_DIR", home.path())
        .args(["export", "--parquet"])
        .arg(home.path().join("lake"))
        .assert()
        .failure()
        .stderr(predicates::str::contains("--export"));
}
