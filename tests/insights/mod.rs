//! The insight columns, the findings, periods in `compare`, `--anonymize` and the report page in
//! a real browser, end to end through the binary. Hand counts are in the comments; the long
//! export is generated here (fixed content, no randomness).

mod browser;

use std::io::Write as _;
use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

use super::{analyze, fixture, rapport};

fn json(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).expect("metrics.json"))
        .expect("valid json")
}

/// Wilson score interval at z = 1.959964, 4 decimals (computed here, independently).
fn wilson(k: f64, n: f64) -> (f64, f64) {
    let z = 1.959964f64;
    let p = k / n;
    let mid = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    let r = |x: f64| (x.clamp(0.0, 1.0) * 1e4).round() / 1e4;
    (r(mid - half), r(mid + half))
}

#[test]
fn findings_of_the_sample_export_match_hand_count() {
    // linkedin.zip spans 2024-01..2024-03: one period, nothing before it. Conversation 2+3+5,
    // broadcast 1+1+3, amplification 0+1+1: 10/17. People: Sam (Jan), Sam, Kim and René (Feb),
    // Sam and Kim (Mar) = 3 distinct, all new; Sam and René also wrote (2 of 3). Gaps 5, 20
    // and 30 min: median 20. Waiting: the deleted account's message of 2024-03-12.
    let (out, _) = analyze(&fixture("linkedin.zip"), &[]);
    let f = &json(out.path())["findings"];
    let c = &f["current"];
    assert_eq!(
        (c["from"].as_str(), c["to"].as_str()),
        (Some("2024-01"), Some("2024-03"))
    );
    assert_eq!(c["conversation"], 10);
    assert_eq!(c["broadcast"], 5);
    assert_eq!(c["amplification"], 2);
    assert_eq!(c["participation_ratio"], 0.5882);
    let (lo, hi) = wilson(10.0, 17.0);
    assert_eq!(
        (c["ratio_low"].as_f64(), c["ratio_high"].as_f64()),
        (Some(lo), Some(hi))
    );
    assert_eq!(c["people_engaged"], 3);
    assert_eq!(c["people_new"], 3);
    assert_eq!(c["people_reciprocated"], 2);
    assert_eq!(c["unanswered"], 1);
    assert_eq!(c["median_response_minutes"], 20.0);
    assert!(f["previous"].is_null());
    assert_eq!(f["trend"], "unclear");
    assert_eq!(f["waiting"].as_array().map(Vec::len), Some(1));
    assert_eq!(f["waiting"][0]["platform"], "linkedin");
    assert_eq!(f["waiting"][0]["since"], "2024-03-12T08:00:00Z");
    assert!(
        f["waiting"][0]["who"].is_null(),
        "a deleted account has no id"
    );
    // Every conversation act with a known person went to Sam, Kim or René.
    assert_eq!(f["top3_share"], 1.0);
}

/// A LinkedIn export over 30 months (2023-01..2025-06): shares, comments and conversations
/// with a rotating cast, some left unanswered; more conversation in the later months.
fn long_export() -> tempfile::NamedTempFile {
    let mut shares = String::from("Date,ShareLink,ShareCommentary\n");
    let mut comments = String::from("Date,Link,Message\n");
    let mut messages = String::from(
        "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER\n",
    );
    let me = "https://www.linkedin.com/in/owner-example";
    let invitations = format!(
        "From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl\nOwner Example,Pat Person,2023-01-02 09:00:00 UTC,,OUTGOING,{me},https://www.linkedin.com/in/pat-person\n"
    );
    for m in 0..30u32 {
        let (y, mo) = (2023 + m / 12, m % 12 + 1);
        let day = |d: u32| format!("{y}-{mo:02}-{d:02}");
        for k in 0..(m * 7 % 5 + 1) {
            shares.push_str(&format!(
                "{} 09:00:00,https://www.linkedin.com/feed/update/urn:li:share:{m}{k},post\n",
                day(k + 1)
            ));
        }
        for k in 0..(m / 6) {
            comments.push_str(&format!(
                "{} 10:00:00,https://www.linkedin.com/feed/update/urn:li:activity:{m}{k},nice\n",
                day(k + 10)
            ));
        }
        let talks = 1 + m / 5;
        for k in 0..talks {
            let who = (m * 3 + k) % 11;
            let url = format!("https://www.linkedin.com/in/person-{who}");
            let conv = format!("c-{m}-{k}");
            messages.push_str(&format!(
                "{conv},,Person {who},{url},Owner Example,{me},{} 08:00:00 UTC,,hello,INBOX\n",
                day(20)
            ));
            if (m + k) % 4 != 3 {
                messages.push_str(&format!(
                    "{conv},,Owner Example,{me},Person {who},{url},{} 08:{:02}:00 UTC,,hi,INBOX\n",
                    day(20),
                    10 + k
                ));
            }
        }
    }
    let mut f = tempfile::Builder::new()
        .suffix(".zip")
        .tempfile()
        .expect("tmp");
    {
        let mut z = zip::ZipWriter::new(f.as_file_mut());
        for (name, data) in [
            ("Shares.csv", &shares),
            ("Comments.csv", &comments),
            ("messages.csv", &messages),
            ("Invitations.csv", &invitations),
        ] {
            z.start_file(name, zip::write::SimpleFileOptions::default())
                .expect("entry");
            z.write_all(data.as_bytes()).expect("write");
        }
        z.finish().expect("finish");
    }
    f
}

#[test]
fn findings_are_the_sums_of_the_last_12_and_the_12_before() {
    let z = long_export();
    let out = tempfile::tempdir().expect("tmp");
    rapport()
        .args(["analyze", "--export"])
        .arg(z.path())
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let csv = std::fs::read_to_string(out.path().join("metrics.csv")).expect("csv");
    let header: Vec<&str> = csv.lines().next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let rows: Vec<Vec<String>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .filter(|r: &Vec<String>| r[1] == "all" && r[0] != "undated")
        .collect();
    assert_eq!(rows.len(), 30);
    let f = json(out.path())["findings"].clone();
    for (period, range) in [("current", 18..30), ("previous", 6..18)] {
        let p = &f[period];
        let part = &rows[range];
        assert_eq!(p["from"].as_str(), Some(part[0][0].as_str()), "{period}");
        assert_eq!(p["to"].as_str(), Some(part[11][0].as_str()), "{period}");
        let sum = |name: &str| -> u64 {
            part.iter()
                .map(|r| r[col(name)].parse::<u64>().unwrap_or(0))
                .sum()
        };
        for name in [
            "conversation",
            "broadcast",
            "amplification",
            "people_new",
            "unanswered",
        ] {
            assert_eq!(p[name].as_u64(), Some(sum(name)), "{period} {name}");
        }
        let (c, den) = (
            sum("conversation") as f64,
            (sum("conversation") + sum("broadcast") + sum("amplification")) as f64,
        );
        let ratio = ((c / den) * 1e4).round() / 1e4;
        assert_eq!(p["participation_ratio"].as_f64(), Some(ratio), "{period}");
        let (lo, hi) = wilson(c, den);
        assert_eq!(p["ratio_low"].as_f64(), Some(lo), "{period}");
        assert_eq!(p["ratio_high"].as_f64(), Some(hi), "{period}");
        // Distinct over the period: at least the busiest month, at most the sum of months.
        let engaged = p["people_engaged"].as_u64().unwrap_or(0);
        let monthly: Vec<u64> = part
            .iter()
            .map(|r| r[col("people_engaged")].parse().unwrap_or(0))
            .collect();
        assert!(engaged >= monthly.iter().copied().max().unwrap_or(0));
        assert!(engaged <= monthly.iter().sum::<u64>());
        assert!(engaged <= 11, "the cast has 11 people");
    }
    let (cur, prev) = (&f["current"], &f["previous"]);
    let trend = if cur["ratio_low"].as_f64() > prev["ratio_high"].as_f64() {
        "better"
    } else if cur["ratio_high"].as_f64() < prev["ratio_low"].as_f64() {
        "worse"
    } else {
        "unclear"
    };
    assert_eq!(f["trend"], trend);
    let waiting = f["waiting"].as_array().expect("waiting");
    assert_eq!(Some(waiting.len() as u64), cur["unanswered"].as_u64());
    assert!(!waiting.is_empty());
    let since: Vec<&str> = waiting.iter().filter_map(|w| w["since"].as_str()).collect();
    assert!(
        since.windows(2).all(|w| w[0] >= w[1]),
        "most recent first: {since:?}"
    );
    assert!(since.iter().all(|s| *s >= "2024-07"), "{since:?}");
    // The page opens with the current ratio as a percentage, before any chart.
    let html = std::fs::read_to_string(out.path().join("report.html")).expect("html");
    let pct = format!(
        "{:.1}%",
        cur["participation_ratio"].as_f64().unwrap_or(-1.0) * 100.0
    );
    let at = html.find(&pct).expect("percentage in the page");
    assert!(
        at < html.find("<img").expect("charts"),
        "findings come first"
    );
}

#[test]
fn compare_by_quarter_and_year_uses_distinct_people_and_summed_counts() {
    let out = tempfile::tempdir().expect("tmp");
    // 2024-Q1 of the sample against its March alone: people are distinct over the quarter
    // (Sam, Kim, René = 3, not 1 + 3 + 2), counts are sums.
    rapport()
        .args([
            "compare",
            "--period",
            "2024-Q1",
            "--against",
            "2024-03",
            "--export",
        ])
        .arg(fixture("linkedin.zip"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("2024-Q1"));
    let csv = std::fs::read_to_string(out.path().join("compare_2024-Q1_vs_2024-03.csv"))
        .expect("compare csv");
    assert!(
        csv.starts_with("platform,metric,2024-Q1,2024-03,delta\n"),
        "{csv}"
    );
    for line in [
        "all,conversation,10,5,5\n",
        "all,people_engaged,3,2,1\n",
        "all,people_new,3,0,3\n",
        "all,unanswered,1,1,0\n",
        "all,participation_ratio,0.5882,0.5556,0.0326\n",
        "all,median_response_minutes,20.0,30.0,-10.0\n",
    ] {
        assert!(csv.contains(line), "{line}{csv}");
    }
    png_ok(&out.path().join("compare_2024-Q1_vs_2024-03.png"));
    // A year is the same as its only quarter with data; --yoy looks a year back (no data:
    // refused with the span).
    rapport()
        .args([
            "compare",
            "--period",
            "2024",
            "--against",
            "2024-Q1",
            "--export",
        ])
        .arg(fixture("linkedin.zip"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let year =
        std::fs::read_to_string(out.path().join("compare_2024_vs_2024-Q1.csv")).expect("year csv");
    assert!(year.contains("all,conversation,10,10,0\n"), "{year}");
    assert!(year.contains("all,people_engaged,3,3,0\n"), "{year}");
    rapport()
        .args(["compare", "--period", "2024-Q1", "--yoy", "--export"])
        .arg(fixture("linkedin.zip"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("2023-Q1 is outside the data"));
    rapport()
        .args(["compare", "--period", "2024-Q5", "--export"])
        .arg(fixture("linkedin.zip"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a period"));
}

fn png_ok(path: &Path) {
    let bytes = std::fs::read(path).expect("png");
    assert!(bytes.starts_with(b"\x89PNG"), "{path:?}");
}

/// Every file under `dir` as text, with embedded images cut out (base64 can spell anything).
fn outputs_text(dir: &Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "png") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("data:image/png;base64,") {
            all.push_str(&rest[..i]);
            rest = &rest[i..];
            rest = &rest[rest.find('"').unwrap_or(rest.len())..];
        }
        all.push_str(rest);
    }
    all.to_lowercase()
}

#[test]
fn anonymize_leaves_no_name_or_profile_id_in_any_output() {
    let exports = [
        fixture("linkedin.zip"),
        fixture("x/ytd.zip"),
        fixture("facebook"),
        fixture("instagram"),
        fixture("reddit.zip"),
    ];
    let run = |extra: &[&str]| {
        let out = tempfile::tempdir().expect("tmp");
        let mut cmd = rapport();
        cmd.arg("analyze");
        for e in &exports {
            cmd.arg("--export").arg(e);
        }
        let assert = cmd
            .arg("--out")
            .arg(out.path())
            .args(extra)
            .assert()
            .success();
        let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_lowercase();
        (out, stdout)
    };
    let (plain, _) = run(&[]);
    let (anon, stdout) = run(&["--anonymize"]);
    // What must not appear: every counterpart and owner id of the plain run, the people's
    // names as the fixtures write them, the thread folders and the download names.
    let acts = std::fs::read_to_string(plain.path().join("activities.csv")).expect("acts");
    let mut secrets: Vec<String> = Vec::new();
    let mut r = csv::Reader::from_reader(acts.as_bytes());
    for row in r.records().flatten() {
        secrets.extend(
            row[6]
                .split(';')
                .filter(|c| !c.is_empty())
                .map(String::from),
        );
        // Activity ids are hashed (long enough not to match by chance).
        if row[1].len() >= 8 {
            secrets.push(row[1].to_string());
        }
    }
    let meta = json(plain.path());
    for o in meta["owners"].as_array().into_iter().flatten() {
        secrets.extend(o["id"].as_str().map(String::from));
    }
    secrets.extend(
        [
            "Sam Sample",
            "René Dupont",
            "Kim Placeholder",
            "Robin Example",
            "renedupont",
            "samsample",
            "sam_s",
            "zed_z",
            "ytd.zip",
            "linkedin.zip",
        ]
        .map(String::from),
    );
    secrets.sort();
    secrets.dedup();
    assert!(secrets.len() > 30, "{secrets:?}");
    let text = outputs_text(anon.path()) + &stdout;
    for s in &secrets {
        assert!(
            !text.contains(&s.to_lowercase()),
            "{s:?} appears in the anonymized outputs"
        );
    }
    // Nothing else changes: the same table, pseudonyms in their place.
    assert_eq!(
        std::fs::read_to_string(anon.path().join("metrics.csv")).expect("csv"),
        std::fs::read_to_string(plain.path().join("metrics.csv")).expect("csv")
    );
    let anon_json = json(anon.path());
    assert_eq!(
        anon_json["findings"]["current"],
        meta["findings"]["current"]
    );
    assert!(
        anon_json["owners"][0]["id"]
            .as_str()
            .is_some_and(|p| p.starts_with("person-"))
    );
    // The same person, the same pseudonym across files: who waits on X is a counterpart of
    // the X activities.
    let waiting = anon_json["findings"]["waiting"]
        .as_array()
        .expect("waiting");
    let x_waiting = waiting
        .iter()
        .find(|w| w["platform"] == "x")
        .and_then(|w| w["who"].as_str())
        .expect("someone waits on X");
    let anon_acts = std::fs::read_to_string(anon.path().join("activities.csv")).expect("acts");
    assert!(
        anon_acts.contains(&format!(",{x_waiting},"))
            || anon_acts.contains(&format!(";{x_waiting},"))
    );
}
