//! End-to-end tests of the `rapport` binary: metrics on the invented fixtures compared with
//! values computed by hand (see fixtures/README.md), outputs, and hostile inputs.

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

mod fetch;
mod insights;
mod lake;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn rapport() -> Command {
    let mut c = Command::cargo_bin("rapport").expect("binary built");
    c.env_remove("RAPPORT_TZ")
        .env_remove("RAPPORT_CONFIG")
        .env_remove("RAPPORT_GROUP_MAX")
        .env_remove("RAPPORT_OUT")
        .env("XDG_CONFIG_HOME", "/nonexistent-rapport-test");
    c
}

fn analyze(export: &Path, extra: &[&str]) -> (tempfile::TempDir, String) {
    let out = tempfile::tempdir().expect("temp dir");
    rapport()
        .arg("analyze")
        .arg("--export")
        .arg(export)
        .arg("--out")
        .arg(out.path())
        .args(extra)
        .assert()
        .success();
    let metrics = std::fs::read_to_string(out.path().join("metrics.csv")).expect("metrics.csv");
    (out, checked_intervals(&metrics))
}

/// Checks every row's `ratio_low`/`ratio_high` against a Wilson interval computed here from the
/// row's own counts, and returns the table without those two columns (the hand counts below
/// hold every other column).
fn checked_intervals(metrics: &str) -> String {
    let mut lines = metrics.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    assert_eq!(
        header[13..],
        ["people_new", "unanswered", "ratio_low", "ratio_high"],
        "{metrics}"
    );
    let mut out = header[..15].join(",") + "\n";
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 17, "{line}");
        let n = |i: usize| cells[i].parse::<f64>().expect("count");
        let (conversation, den) = (n(5), n(2) + n(4) + n(5));
        let expected = if den == 0.0 {
            (String::new(), String::new())
        } else {
            // Wilson score interval, z = 1.959964.
            let (z, p) = (1.959964f64, conversation / den);
            let mid = (p + z * z / (2.0 * den)) / (1.0 + z * z / den);
            let half =
                z / (1.0 + z * z / den) * (p * (1.0 - p) / den + z * z / (4.0 * den * den)).sqrt();
            let f = |x: f64| format!("{:.4}", (x.clamp(0.0, 1.0) * 1e4).round() / 1e4 + 0.0);
            (f(mid - half), f(mid + half))
        };
        assert_eq!(
            (cells[15].to_string(), cells[16].to_string()),
            expected,
            "{line}"
        );
        out.push_str(&cells[..15].join(","));
        out.push('\n');
    }
    out
}

/// The sample export, counted by hand from fixtures/make_fixtures.py (see fixtures/README.md).
const SAMPLE_METRICS: &str = "\
month,platform,broadcast,self_thread,amplification,conversation,conversation_private,passive,participation_ratio,people_engaged,people_reciprocated,received,median_response_minutes,people_new,unanswered
2024-01,linkedin,1,0,0,2,1,1,0.6667,1,1,2,5.0,1,0
2024-02,linkedin,1,0,1,3,2,1,0.6000,3,1,1,20.0,2,0
2024-03,linkedin,3,0,1,5,3,2,0.5556,2,1,3,30.0,0,1
undated,linkedin,1,0,0,1,0,1,0.5000,0,0,0,,0,0
2024-01,all,1,0,0,2,1,1,0.6667,1,1,2,5.0,1,0
2024-02,all,1,0,1,3,2,1,0.6000,3,1,1,20.0,2,0
2024-03,all,3,0,1,5,3,2,0.5556,2,1,3,30.0,0,1
undated,all,1,0,0,1,0,1,0.5000,0,0,0,,0,0
";

#[test]
fn sample_zip_metrics_match_hand_count() {
    let (_out, metrics) = analyze(&fixture("linkedin.zip"), &[]);
    assert_eq!(metrics, SAMPLE_METRICS);
}

#[test]
fn extracted_folder_reads_like_the_zip() {
    let (_out, metrics) = analyze(&fixture("linkedin"), &[]);
    assert_eq!(metrics, SAMPLE_METRICS);
}

#[test]
fn export_2018_generation_utf16_shares_and_direction_column() {
    let (_out, metrics) = analyze(&fixture("linkedin-2018.zip"), &[]);
    assert_eq!(
        metrics,
        format!(
            "{HEADER}\
2018-05,linkedin,1,0,0,1,1,0,0.5000,1,1,1,10.0,1,0\n\
2018-05,all,1,0,0,1,1,0,0.5000,1,1,1,10.0,1,0\n"
        )
    );
}

fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).expect("png");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    (w, h)
}

#[test]
fn writes_every_output_file() {
    let (out, _) = analyze(&fixture("linkedin.zip"), &[]);
    for chart in [
        "activity_mix.png",
        "participation_ratio.png",
        "people.png",
        "unanswered.png",
    ] {
        let (w, h) = png_size(&out.path().join(chart));
        assert!(w >= 1200 && h >= 700, "{chart} is {w}x{h}");
    }
    let html = std::fs::read_to_string(out.path().join("report.html")).expect("report.html");
    assert_eq!(html.matches("data:image/png;base64,").count(), 4);
    assert!(html.contains("<td>2024-03</td><td>linkedin</td>"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("metrics.json")).expect("json"))
            .expect("valid json");
    assert_eq!(json["rows"].as_array().map(|r| r.len()), Some(8));
    assert_eq!(json["settings"]["timezone"], "UTC");
    assert_eq!(json["settings"]["group_max"], 8);
    assert_eq!(
        json["owners"][0]["id"],
        "https://www.linkedin.com/in/robin-example"
    );
    assert_eq!(json["rows"][2]["participation_ratio"], 0.5556);
    let warnings = json["warnings"].as_array().expect("warnings");
    assert!(
        warnings
            .iter()
            .any(|w| w["reason"] == "message without a date" && w["first_line"] == 15)
    );
    let acts = std::fs::read_to_string(out.path().join("activities.csv")).expect("activities");
    assert!(
        acts.starts_with("platform,id,at,direction,kind,mode,counterparts,confidence,source\n")
    );
    // 33 activities: junk message rows are skipped, drafts/sponsored/guide rows kept as excluded.
    assert_eq!(acts.lines().count(), 34);
    assert_eq!(acts.matches(",excluded,").count(), 3);
}

#[test]
fn terminal_summary_shows_months_delta_and_warnings() {
    let out = tempfile::tempdir().expect("temp dir");
    rapport()
        .args(["analyze", "--export"])
        .arg(fixture("linkedin.zip"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("2024-03"))
        .stdout(predicate::str::contains("55.6%"))
        .stdout(predicate::str::contains("-4.4 pts"))
        // The findings open the summary: ratio with its interval, new people, who waits.
        .stdout(predicate::str::contains(
            "58.8% of your acts in 2024-01 to 2024-03 were conversation (95% interval 36.0–78.4%): 10 of 17.",
        ))
        .stdout(predicate::str::contains("3 of them for the first time"))
        .stdout(predicate::str::contains("1 conversation is waiting for your answer"))
        .stdout(predicate::str::contains("2024-03-12  linkedin  a deleted account"))
        .stdout(predicate::str::contains("unparseable date"))
        .stdout(predicate::str::contains("robin-example"));
}

#[test]
fn compare_defaults_to_previous_month() {
    let out = tempfile::tempdir().expect("temp dir");
    rapport()
        .args(["compare", "--month", "2024-03", "--export"])
        .arg(fixture("linkedin.zip"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("2024-02"));
    let csv = std::fs::read_to_string(out.path().join("compare_2024-03_vs_2024-02.csv"))
        .expect("compare csv");
    assert!(csv.starts_with("platform,metric,2024-03,2024-02,delta\n"));
    assert!(csv.contains("all,conversation,5,3,2\n"), "{csv}");
    assert!(
        csv.contains("all,participation_ratio,0.5556,0.6000,-0.0444\n"),
        "{csv}"
    );
    assert!(
        csv.contains("all,median_response_minutes,30.0,20.0,10.0\n"),
        "{csv}"
    );
    png_size(&out.path().join("compare_2024-03_vs_2024-02.png"));
}

#[test]
fn compare_rejects_month_outside_data() {
    rapport()
        .args(["compare", "--month", "2030-01", "--export"])
        .arg(fixture("linkedin.zip"))
        .arg("--out")
        .arg(tempfile::tempdir().expect("tmp").path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("outside the data"));
}

#[test]
fn group_max_flag_turns_announcement_list_into_conversation() {
    let (_out, metrics) = analyze(&fixture("linkedin.zip"), &["--group-max", "10"]);
    assert!(
        metrics.contains("\n2024-03,linkedin,2,0,1,6,4,2,0.6667,"),
        "{metrics}"
    );
}

#[test]
fn from_to_clip_months() {
    let (_out, metrics) = analyze(
        &fixture("linkedin.zip"),
        &["--from", "2024-02", "--to", "2024-02"],
    );
    let months: Vec<&str> = metrics.lines().skip(1).map(|l| &l[..7]).collect();
    assert_eq!(months, ["2024-02", "undated", "2024-02", "undated"]);
}

#[test]
fn me_flag_overrides_owner() {
    // Seen from Sam's side every message of conversation A flips direction.
    let (out, _) = analyze(
        &fixture("linkedin.zip"),
        &["--me", "https://www.linkedin.com/in/Sam-Sample/"],
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("metrics.json")).expect("json"))
            .expect("json");
    assert_eq!(
        json["owners"][0]["id"],
        "https://www.linkedin.com/in/sam-sample"
    );
    assert_eq!(json["owners"][0]["how"], "given with --me");
}

fn zip_with(files: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(".zip")
        .tempfile()
        .expect("tmp");
    {
        let mut z = zip::ZipWriter::new(f.as_file_mut());
        for (name, data) in files {
            z.start_file(*name, zip::write::SimpleFileOptions::default())
                .expect("zip entry");
            z.write_all(data).expect("zip write");
        }
        z.finish().expect("zip finish");
    }
    f
}

#[test]
fn time_zone_moves_an_act_into_the_next_month() {
    let z = zip_with(&[(
        "Shares.csv",
        b"Date,ShareLink,ShareCommentary\n2024-01-31 23:30:00,https://www.linkedin.com/feed/update/urn:li:share:1,late\n",
    )]);
    let (_o, utc) = analyze(z.path(), &[]);
    assert!(utc.contains("\n2024-01,linkedin,1,"), "{utc}");
    let (_o, berlin) = analyze(z.path(), &["--tz", "Europe/Berlin"]);
    assert!(berlin.contains("\n2024-02,linkedin,1,"), "{berlin}");
}

#[test]
fn empty_months_between_activity_are_zero_rows() {
    let z = zip_with(&[(
        "Shares.csv",
        b"Date,ShareLink,ShareCommentary\n2024-01-05 10:00:00,https://x.linkedin.com/1,a\n2024-04-05 10:00:00,https://x.linkedin.com/2,b\n",
    )]);
    let (_o, m) = analyze(z.path(), &[]);
    assert!(
        m.contains(
            "\n2024-02,linkedin,0,0,0,0,0,0,,0,0,0,,0,0\n2024-03,linkedin,0,0,0,0,0,0,,0,0,0,,0,0\n"
        ),
        "{m}"
    );
}

// ---- hostile and bad input -------------------------------------------------------------

fn fails_with(export: &Path, extra: &[&str], message: &str) {
    rapport()
        .arg("analyze")
        .arg("--export")
        .arg(export)
        .arg("--out")
        .arg(tempfile::tempdir().expect("tmp").path())
        .args(extra)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(message));
}

#[test]
fn missing_path_exits_2_naming_it() {
    fails_with(Path::new("/no/such/export.zip"), &[], "/no/such/export.zip");
}

#[test]
fn text_file_is_not_an_archive() {
    let mut f = tempfile::NamedTempFile::new().expect("tmp");
    f.write_all(b"hello, I am not a zip\n").expect("write");
    fails_with(f.path(), &[], "not a supported export");
}

#[test]
fn empty_file_is_rejected() {
    let f = tempfile::NamedTempFile::new().expect("tmp");
    fails_with(f.path(), &[], "empty");
}

#[test]
fn truncated_zip_is_rejected() {
    let bytes = std::fs::read(fixture("linkedin.zip")).expect("fixture");
    let mut f = tempfile::NamedTempFile::new().expect("tmp");
    f.write_all(&bytes[..bytes.len() / 2]).expect("write");
    fails_with(f.path(), &[], "truncated or damaged");
}

#[test]
fn empty_zip_is_rejected() {
    let z = zip_with(&[]);
    fails_with(z.path(), &[], "the archive is empty");
}

#[test]
fn zip_without_linkedin_files_is_rejected() {
    let z = zip_with(&[
        ("notes.txt", b"just notes"),
        ("Other.csv", b"Name,Value\nA,B\n"),
    ]);
    fails_with(z.path(), &[], "no supported export data");
}

#[test]
fn basic_linkedin_export_without_activity_gives_header_only_metrics() {
    // A "Basic" export holds profile files only: recognised, nothing to count, not an error.
    let z = zip_with(&[("Profile.csv", b"First Name,Last Name,Maiden Name\nA,B,\n")]);
    let out = tempfile::tempdir().expect("temp dir");
    rapport()
        .args(["analyze", "--export"])
        .arg(z.path())
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("holds no activity rapport counts"));
    let metrics = std::fs::read_to_string(out.path().join("metrics.csv")).expect("metrics.csv");
    assert_eq!(metrics.lines().count(), 1, "{metrics}");
    assert!(metrics.starts_with("month,platform,broadcast,"));
}

#[test]
fn zip_bomb_is_stopped_by_the_inflated_bytes_cap() {
    let mut body = b"Date,ShareLink,ShareCommentary\n".to_vec();
    body.resize(30 * 1024 * 1024, b'a');
    let z = zip_with(&[("Shares.csv", &body)]);
    assert!(std::fs::metadata(z.path()).map(|m| m.len()).unwrap_or(0) < 1024 * 1024);
    fails_with(z.path(), &["--max-inflated-bytes", "1000000"], "zip bomb");
}

#[test]
fn strict_makes_warnings_fatal() {
    fails_with(&fixture("linkedin.zip"), &["--strict"], "--strict");
}

#[test]
fn bad_month_and_zone_flags_are_usage_errors() {
    fails_with(&fixture("linkedin.zip"), &["--from", "March"], "YYYY-MM");
    fails_with(
        &fixture("linkedin.zip"),
        &["--tz", "Mars/Olympus"],
        "unknown time zone",
    );
}

#[test]
fn config_prints_documented_defaults() {
    rapport()
        .arg("config")
        .assert()
        .success()
        .stdout(predicate::str::contains("group_max = 8"))
        .stdout(predicate::str::contains("timezone = \"UTC\""));
}

#[test]
fn user_config_file_overrides_defaults() {
    let mut cfg = tempfile::NamedTempFile::new().expect("tmp");
    cfg.write_all(b"group_max = 10\n").expect("write");
    let (_o, metrics) = analyze(
        &fixture("linkedin.zip"),
        &["--config", cfg.path().to_str().expect("utf-8 path")],
    );
    assert!(
        metrics.contains("\n2024-03,linkedin,2,0,1,6,4,2,"),
        "{metrics}"
    );
}

#[test]
fn help_explains_every_flag() {
    rapport()
        .args(["analyze", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--export"))
        .stdout(predicate::str::contains("--group-max"))
        .stdout(predicate::str::contains("--strict"))
        .stdout(predicate::str::contains("--me"));
}

// ---- other platforms and mixed runs ------------------------------------------------------

/// The columns the hand counts hold (`analyze` checks and drops the interval columns).
const HEADER: &str = "month,platform,broadcast,self_thread,amplification,conversation,conversation_private,passive,participation_ratio,people_engaged,people_reciprocated,received,median_response_minutes,people_new,unanswered\n";

/// Rows for one platform, then the same rows as `all` (single-platform exports).
fn single_platform(platform: &str, rows: &[&str]) -> String {
    let mut s = HEADER.to_string();
    for (who, r) in [(platform, rows), ("all", rows)] {
        for row in r {
            let (month, rest) = row.split_once(',').expect("month,values");
            s.push_str(&format!("{month},{who},{rest}\n"));
        }
    }
    s
}

#[test]
fn x_archive_metrics_match_hand_count() {
    // Counted by hand from fixtures/make_x_fixtures.py.
    let (_o, m) = analyze(&fixture("x/ytd.zip"), &[]);
    assert_eq!(
        m,
        single_platform(
            "x",
            &[
                "2024-01,3,2,0,4,2,0,0.5714,1,1,2,25.0,1,0",
                "2024-02,0,0,1,4,2,0,0.8000,3,3,4,47.5,2,1",
                "2024-03,3,0,0,0,0,0,0.0000,0,0,1,,0,0",
                "undated,0,0,0,0,0,2,,0,0,0,,0,0",
            ]
        )
    );
}

#[test]
fn mastodon_archive_metrics_match_hand_count() {
    // Counted by hand from fixtures/make_mastodon_fixtures.py.
    let (_o, m) = analyze(&fixture("mastodon/archive.tar.gz"), &[]);
    assert_eq!(
        m,
        single_platform(
            "mastodon",
            &[
                "2024-03,4,0,0,3,3,0,0.4286,2,0,0,,2,0",
                "2024-04,2,2,2,4,0,0,0.5000,3,0,0,,2,0",
                "2024-05,3,0,0,1,0,0,0.2500,2,0,0,,0,0",
                "undated,1,0,0,0,0,3,0.0000,0,0,0,,0,0",
            ]
        )
    );
}

#[test]
fn bluesky_repo_metrics_match_hand_count() {
    // Counted by hand from the repo builder (fixtures/bluesky/README.md).
    let (_o, m) = analyze(&fixture("bluesky/repo.car"), &[]);
    assert_eq!(
        m,
        single_platform(
            "bluesky",
            &[
                "2024-01,1,2,1,1,0,1,0.3333,1,0,0,,1,0",
                "2024-02,1,0,1,4,0,1,0.6667,3,0,0,,2,0",
                "2024-03,3,0,0,0,0,0,0.0000,0,0,0,,0,0",
                "undated,0,0,0,1,0,0,1.0000,1,0,0,,1,0",
            ]
        )
    );
}

#[test]
fn mixed_run_has_rows_per_platform_in_contract_order_and_consistent_all_rows() {
    let out = tempfile::tempdir().expect("tmp");
    rapport()
        .arg("analyze")
        .arg("--export")
        .arg(fixture("bluesky/repo.car"))
        .arg("--export")
        .arg(fixture("mastodon/archive.tar.gz"))
        .arg("--export")
        .arg(fixture("x/ytd.zip"))
        .arg("--export")
        .arg(fixture("linkedin.zip"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let m = std::fs::read_to_string(out.path().join("metrics.csv")).expect("metrics");
    let rows: Vec<Vec<&str>> = m.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let order: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    let mut seen: Vec<&str> = order.clone();
    seen.dedup();
    assert_eq!(seen, ["linkedin", "x", "mastodon", "bluesky", "all"]);
    // Every count column of `all` is the sum of the platforms' rows of that month.
    for all in rows.iter().filter(|r| r[1] == "all") {
        for col in [2, 3, 4, 5, 6, 7, 11] {
            let sum: u64 = rows
                .iter()
                .filter(|r| r[1] != "all" && r[0] == all[0])
                .map(|r| r[col].parse::<u64>().expect("count"))
                .sum();
            assert_eq!(
                all[col].parse::<u64>().ok(),
                Some(sum),
                "{} column {col}",
                all[0]
            );
        }
    }
    // all spans the union of months: 2024-01 .. 2024-05, then undated.
    let all_months: Vec<&str> = rows
        .iter()
        .filter(|r| r[1] == "all")
        .map(|r| r[0])
        .collect();
    assert_eq!(
        all_months,
        [
            "2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "undated"
        ]
    );
    assert!(m.contains("\n2024-03,all,13,0,1,8,6,2,0.3636,"), "{m}");
}

#[test]
fn two_downloads_of_one_account_count_each_act_once() {
    let (out, m) = analyze(
        &fixture("linkedin.zip"),
        &["--export", fixture("linkedin").to_str().expect("utf-8")],
    );
    assert_eq!(m, SAMPLE_METRICS);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("metrics.json")).expect("json"))
            .expect("json");
    assert_eq!(json["settings"]["duplicates_dropped"], 33);
    let (_o, x) = analyze(
        &fixture("x/ytd.zip"),
        &["--export", fixture("x/ytd").to_str().expect("utf-8")],
    );
    assert!(
        x.contains("\n2024-02,x,0,0,1,4,2,0,0.8000,3,3,4,47.5,2,1\n"),
        "{x}"
    );
}

// ---- cases settled from real exports (fixtures/README.md has the hand counts) -------------

#[test]
fn linkedin_2018_shares_header_with_spaces_and_slash_dates() {
    // `Share Link`, `Share Commentary`, … in UTF-16 with tabs; dates `YYYY/MM/DD HH:MM:SS UTC`;
    // invitations dated `DD Mon YYYY`.
    let (_o, m) = analyze(&fixture("linkedin-2018-shares"), &[]);
    assert_eq!(
        m,
        single_platform(
            "linkedin",
            &[
                "2018-05,2,0,0,1,0,0,0.3333,1,1,1,,1,0",
                "2018-06,1,0,0,0,0,0,0.0000,0,0,0,,0,0",
            ]
        )
    );
}

#[test]
fn shares_rows_with_the_same_share_link_are_one_post() {
    // The 2018 fixture writes its first post twice (one row per attached image): May holds
    // three Shares rows but two posts.
    let (out, m) = analyze(&fixture("linkedin-2018-shares"), &[]);
    assert!(m.contains("2018-05,linkedin,2,"), "{m}");
    let acts = std::fs::read_to_string(out.path().join("activities.csv")).expect("activities");
    assert_eq!(
        acts.matches("urn:li:activity:6400000000000000011").count(),
        1
    );
}

#[test]
fn names_with_commas_resolve_to_one_person_in_older_messages() {
    let (_o, m) = analyze(&fixture("linkedin-comma-names"), &[]);
    assert_eq!(
        m,
        single_platform(
            "linkedin",
            &[
                "2024-01,0,0,0,1,1,1,1.0000,1,1,1,30.0,1,0",
                "2024-02,1,0,0,2,2,0,0.6667,2,1,1,20.0,2,0",
            ]
        )
    );
}

#[test]
fn answer_to_a_deleted_account_is_private_conversation_and_median_is_exact() {
    // Gaps of 2,700 s and 2,922 s: the median is 2,811 s = 46.85 min, written 46.9 (a binary
    // float would say 46.8).
    let (_o, m) = analyze(&fixture("linkedin-deleted-sender"), &[]);
    assert_eq!(
        m,
        single_platform("linkedin", &["2024-03,0,0,0,2,2,1,1.0000,1,1,2,46.9,1,0"])
    );
}

#[test]
fn x_archive_without_account_js_takes_the_owner_from_self_replies() {
    let (out, m) = analyze(&fixture("x/ownerless"), &[]);
    assert_eq!(
        m,
        single_platform(
            "x",
            &[
                "2024-01,1,2,1,4,0,0,0.6667,1,0,0,,1,0",
                "2024-02,1,0,0,1,0,0,0.5000,1,0,0,,1,0",
            ]
        )
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("metrics.json")).expect("json"))
            .expect("valid json");
    assert_eq!(json["owners"][0]["id"], "1000000001");
}

#[test]
fn grailbird_files_outside_data_js_tweets_are_read() {
    let (_o, m) = analyze(&fixture("x/grailbird-elsewhere"), &[]);
    assert_eq!(
        m,
        single_platform(
            "x",
            &[
                "2015-03,1,0,1,1,0,0,0.3333,1,0,0,,1,0",
                "2015-04,0,1,0,1,0,0,1.0000,1,0,0,,0,0",
            ]
        )
    );
}

#[test]
fn plain_tar_mastodon_archive_reads_like_the_tar_gz() {
    let (_a, tar) = analyze(&fixture("mastodon/archive.tar"), &[]);
    let (_b, gz) = analyze(&fixture("mastodon/archive.tar.gz"), &[]);
    assert_eq!(tar, gz);
    assert!(tar.lines().count() > 4);
}

#[test]
fn follows_only_bluesky_repo_gives_header_only_metrics_and_a_note() {
    let out = tempfile::tempdir().expect("temp dir");
    rapport()
        .args(["analyze", "--export"])
        .arg(fixture("bluesky/follows-only.car"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("holds no activity rapport counts"))
        .stdout(predicate::str::contains("app.bsky.graph.follow: 3"));
    let metrics = std::fs::read_to_string(out.path().join("metrics.csv")).expect("metrics.csv");
    assert_eq!(checked_intervals(&metrics), HEADER);
}

// ---- Facebook, Instagram, Threads, Reddit (fixtures/README.md has the hand counts) --------

#[test]
fn facebook_export_metrics_match_hand_count() {
    let (_o, m) = analyze(&fixture("facebook"), &[]);
    assert_eq!(
        m,
        single_platform(
            "facebook",
            &[
                "2024-01,1,0,0,3,1,2,0.7500,1,1,2,30.0,1,0",
                "2024-02,4,0,0,5,1,2,0.5556,2,1,2,10.0,1,1",
            ]
        )
    );
}

#[test]
fn facebook_export_split_over_two_zips_merges_like_one() {
    let out = tempfile::tempdir().expect("temp dir");
    rapport()
        .args(["analyze", "--export"])
        .arg(fixture("facebook-part1.zip"))
        .arg("--export")
        .arg(fixture("facebook-part2.zip"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let merged = std::fs::read_to_string(out.path().join("metrics.csv")).expect("metrics");
    let (_o, whole) = analyze(&fixture("facebook"), &[]);
    assert_eq!(checked_intervals(&merged), whole);
}

#[test]
fn instagram_export_with_threads_metrics_match_hand_count() {
    let (_o, m) = analyze(&fixture("instagram"), &[]);
    let mut expected = HEADER.to_string();
    for row in [
        "2024-03,instagram,3,0,0,3,1,1,0.5000,2,1,1,20.0,2,0",
        "2024-04,instagram,2,0,0,2,1,1,0.5000,4,1,1,15.0,3,0",
        "2024-03,threads,1,1,0,1,0,0,0.5000,1,0,0,,1,0",
        "2024-04,threads,1,0,0,1,0,1,0.5000,0,0,0,,0,0",
        "2024-03,all,4,1,0,4,1,1,0.5000,3,1,1,20.0,3,0",
        "2024-04,all,3,0,0,3,1,2,0.5000,4,1,1,15.0,3,0",
    ] {
        expected.push_str(row);
        expected.push('\n');
    }
    assert_eq!(m, expected);
}

#[test]
fn reddit_export_metrics_match_hand_count() {
    let (_o, m) = analyze(&fixture("reddit.zip"), &[]);
    assert_eq!(
        m,
        single_platform(
            "reddit",
            &[
                "2024-05,2,0,0,4,2,0,0.6667,2,1,1,45.0,2,0",
                "2024-06,1,0,0,3,2,0,0.7500,3,3,3,7.5,3,1",
                "undated,0,0,0,0,0,4,,0,0,0,,0,0",
            ]
        )
    );
}

/// The owner from statistics.csv lets messages.csv be streamed; without statistics.csv the
/// messages are read whole to find the owner from them, and with `--me` not at all. All three
/// must count the same acts.
#[test]
fn reddit_owner_from_messages_or_me_counts_as_from_statistics() {
    let folder = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(fixture("reddit")).expect("fixture folder") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("a file name").to_owned();
        if name != "statistics.csv" {
            std::fs::copy(&path, folder.path().join(name)).expect("copy");
        }
    }
    let (_a, stated) = analyze(&fixture("reddit"), &[]);
    let (_b, by_messages) = analyze(folder.path(), &[]);
    let (_c, given) = analyze(folder.path(), &["--me", "reddit:robin_ex"]);
    assert!(
        stated.lines().any(|l| l.starts_with("2024-06,")),
        "{stated}"
    );
    assert_eq!(by_messages, stated);
    assert_eq!(given, stated);
}

#[test]
fn mixed_linkedin_facebook_reddit_all_rows_are_the_union() {
    let out = tempfile::tempdir().expect("temp dir");
    rapport()
        .args(["analyze", "--export"])
        .arg(fixture("reddit.zip"))
        .arg("--export")
        .arg(fixture("linkedin.zip"))
        .arg("--export")
        .arg(fixture("facebook"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let m = std::fs::read_to_string(out.path().join("metrics.csv")).expect("metrics");
    let rows: Vec<Vec<&str>> = m.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let order: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    let first = |p: &str| order.iter().position(|x| *x == p).unwrap_or(usize::MAX);
    assert!(first("linkedin") < first("facebook") && first("facebook") < first("reddit"));
    assert!(first("reddit") < first("all"));
    // Every count column of `all` is the sum over the platforms, month by month.
    for all in rows.iter().filter(|r| r[1] == "all") {
        for col in 2..8 {
            let sum: u64 = rows
                .iter()
                .filter(|r| r[1] != "all" && r[0] == all[0])
                .map(|r| r[col].parse::<u64>().unwrap_or(0))
                .sum();
            assert_eq!(
                all[col].parse::<u64>().unwrap_or(0),
                sum,
                "{} col {col}",
                all[0]
            );
        }
    }
}

#[test]
fn broken_meta_and_reddit_files_give_messages_not_panics() {
    let thread = b"{\"participants\": [{\"name\": \"A\"}, {\"name\": \"B\"}], \"messages\": [{\"sender_name\": \"A\", \"timestamp_ms\": 1700000000000, \"content\": \"x\"}, {\"sender_na";
    let long = format!(
        "[{{\"timestamp\": 1700000000, \"title\": \"{}\", \"data\": [{{\"post\": 5}}]}}, 7, \"x\", {{\"timestamp\": \"soon\"}}]",
        "a".repeat(200_000)
    );
    let z = zip_with(&[
        (
            "profile_information.json",
            b"{\"profile_v2\": {\"name\": {\"full_name\": \"A\"}}}",
        ),
        ("messages/inbox/b_1/message_1.json", thread),
        ("your_posts_1.json", long.as_bytes()),
        ("comments.json", b"{\"comments_v2\": {\"not\": \"a list\"}}"),
    ]);
    let out = tempfile::tempdir().expect("temp dir");
    rapport()
        .args(["analyze", "--export"])
        .arg(z.path())
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("truncated or invalid JSON"));
    let r = zip_with(&[
        ("posts.csv", b"id,permalink,date,ip,subreddit,gildings,title,url,body\np1,x,not a date,,s,0,t,,\"unclosed\n"),
        ("messages.csv", b"id,permalink,thread_id,date,ip,from,to,subject,body\n"),
    ]);
    rapport()
        .args(["analyze", "--export"])
        .arg(r.path())
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("unparseable date"));
}

/// The binary hands freed memory back through the hook it registers
/// (`rapport::on_memory_freed`); run in this process, the library must call a registered hook
/// once per phase of `analyze` (import, deduplication, classification, threads), and LinkedIn's
/// import more often: after freeing its rows and after each file's activities it moves.
#[test]
fn analyze_calls_the_registered_release_hook_per_phase_and_after_linkedins_rows() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    fn count() {
        CALLS.fetch_add(1, Ordering::SeqCst);
    }
    rapport::on_memory_freed(count);
    let analyze = |export: &str| {
        let out = tempfile::tempdir().expect("temp dir");
        let args: Vec<std::ffi::OsString> = vec![
            "rapport".into(),
            "-q".into(),
            "analyze".into(),
            "--tz".into(),
            "UTC".into(),
            "--export".into(),
            fixture(export).into(),
            "--out".into(),
            out.path().into(),
        ];
        let cli = <rapport::cli::Cli as clap::Parser>::try_parse_from(args).expect("arguments");
        let before = CALLS.load(Ordering::SeqCst);
        rapport::run(cli).expect("analyze in process");
        assert!(out.path().join("metrics.csv").exists());
        CALLS.load(Ordering::SeqCst) - before
    };
    assert_eq!(analyze("reddit.zip"), 4);
    let linkedin = analyze("linkedin.zip");
    assert!(
        linkedin > 4,
        "LinkedIn's import released nothing: {linkedin} calls"
    );
}
