//! Every chart rendered from invented summaries at several sizes (also written to
//! `<temp dir>/rapport-charts/*.png` for eyeballing).

use super::axis::label_ticks;
use super::*;
use crate::analysis::compare::compare;
use crate::analysis::{MonthlyRow, Period, Summary, UNDATED, ratio, wilson};
use crate::model::Platform;

fn row(platform: &str, code: i32, seed: u64) -> MonthlyRow {
    let conversation = (seed * 7) % 23;
    let broadcast = (seed * 5) % 17 + 1;
    let amplification = (seed * 3) % 11;
    let acts = conversation + broadcast + amplification;
    MonthlyRow {
        month: crate::analysis::month_label(code),
        platform: platform.into(),
        broadcast,
        self_thread: seed % 4,
        amplification,
        conversation,
        conversation_private: conversation / 2,
        passive: (seed * 13) % 40,
        participation_ratio: (acts > 0).then(|| conversation as f64 / acts as f64),
        people_engaged: conversation / 2 + 1,
        people_reciprocated: conversation / 4,
        received: seed % 9,
        median_response_minutes: Some(30.0 + seed as f64),
        people_new: conversation / 3,
        unanswered: seed % 3,
        ratio_low: None,
        ratio_high: None,
        rolling_ratio: None,
        month_code: code,
    }
}

/// Ratio, interval and a rolling value consistent with the counts.
fn finish(rows: &mut [MonthlyRow]) {
    for r in rows {
        r.participation_ratio = ratio(r.conversation, r.acts());
        (r.ratio_low, r.ratio_high) = wilson(r.conversation, r.acts()).unzip();
        r.rolling_ratio = r.participation_ratio.map(|v| (v + 0.5) / 2.0);
    }
}

fn summary(platforms: &[Platform], months: i32) -> Summary {
    let start = 2023 * 12 + 9;
    let mut rows = Vec::new();
    for (k, p) in platforms.iter().enumerate() {
        for m in 0..months {
            let seed = (m as u64 + 3) * (k as u64 + 2) + k as u64;
            let mut r = row(p.as_str(), start + m, seed);
            if (m + k as i32) % 5 == 3 {
                // A quiet month: a few acts, or none at all.
                r.conversation %= 3;
                r.broadcast = (m as u64 + k as u64) % 2;
                r.amplification = 0;
            }
            rows.push(r);
        }
    }
    for m in 0..months {
        let code = start + m;
        let parts: Vec<MonthlyRow> = rows
            .iter()
            .filter(|r| r.month_code == code)
            .cloned()
            .collect();
        let mut all = row("all", code, 0);
        all.broadcast = parts.iter().map(|r| r.broadcast).sum();
        all.self_thread = parts.iter().map(|r| r.self_thread).sum();
        all.amplification = parts.iter().map(|r| r.amplification).sum();
        all.conversation = parts.iter().map(|r| r.conversation).sum();
        all.passive = parts.iter().map(|r| r.passive).sum();
        all.people_engaged = parts.iter().map(|r| r.people_engaged).sum();
        all.people_reciprocated = parts.iter().map(|r| r.people_reciprocated).sum();
        all.people_new = parts.iter().map(|r| r.people_new).sum();
        all.unanswered = parts.iter().map(|r| r.unanswered).sum();
        rows.push(all);
    }
    let mut undated = row("all", UNDATED, 5);
    undated.month = "undated".into();
    rows.push(undated);
    finish(&mut rows);
    Summary {
        rows,
        platforms: platforms.to_vec(),
        ..Summary::default()
    }
}

fn options() -> ChartOptions {
    ChartOptions {
        width: 1400,
        height: 800,
        low_volume_acts: 10,
    }
}

fn check(name: &str, bytes: Result<Vec<u8>, String>, o: &ChartOptions) {
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => panic!("{name}: {e}"),
    };
    assert!(bytes.starts_with(b"\x89PNG"), "{name}: not a PNG");
    let img = match image::load_from_memory(&bytes) {
        Ok(i) => i,
        Err(e) => panic!("{name}: {e}"),
    };
    assert_eq!((img.width(), img.height()), (o.width, o.height), "{name}");
    let dir = std::env::temp_dir().join("rapport-charts");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(format!("{name}.png")), &bytes);
    }
}

fn all_four(name: &str, s: &Summary, o: &ChartOptions) {
    check(&format!("{name}-activity"), activity_mix(s, o), o);
    check(&format!("{name}-ratio"), participation_ratio(s, o), o);
    check(&format!("{name}-people"), people(s, o), o);
    check(&format!("{name}-unanswered"), unanswered(s, o), o);
}

fn comparison_of(s: &Summary, a: Period, b: Period) -> crate::analysis::compare::Comparison {
    match compare(s, a, b) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn month(code: i32) -> Period {
    Period::months(code, code)
}

#[test]
fn multi_platform_charts() {
    let s = summary(&[Platform::LinkedIn, Platform::X, Platform::Mastodon], 8);
    all_four("multi", &s, &options());
    let start = 2023 * 12 + 9;
    let c = comparison_of(&s, month(start + 7), month(start + 6));
    check("multi-comparison", comparison(&c, &options()), &options());
    let q = comparison_of(
        &s,
        Period::months(start + 3, start + 5),
        Period::months(start, start + 2),
    );
    check(
        "multi-comparison-quarters",
        comparison(&q, &options()),
        &options(),
    );
}

#[test]
fn single_platform_and_single_month() {
    let s = summary(&[Platform::Bluesky], 5);
    all_four("single", &s, &options());
    let one = summary(&[Platform::X], 1);
    all_four("one-month", &one, &options());
}

#[test]
fn empty_and_zero() {
    let empty = Summary::default();
    all_four("empty", &empty, &options());
    let c = crate::analysis::compare::Comparison {
        label_a: "2024-03".into(),
        label_b: "2024-02".into(),
        rows: Vec::new(),
    };
    check("empty-comparison", comparison(&c, &options()), &options());

    let mut zero = summary(&[Platform::LinkedIn], 3);
    for r in &mut zero.rows {
        r.broadcast = 0;
        r.self_thread = 0;
        r.amplification = 0;
        r.conversation = 0;
        r.conversation_private = 0;
        r.passive = 0;
        r.participation_ratio = None;
        r.people_engaged = 0;
        r.people_reciprocated = 0;
        r.received = 0;
        r.median_response_minutes = None;
        r.people_new = 0;
        r.unanswered = 0;
        r.ratio_low = None;
        r.ratio_high = None;
        r.rolling_ratio = None;
    }
    all_four("zero", &zero, &options());
    let start = 2023 * 12 + 9;
    let c = comparison_of(&zero, month(start + 1), month(start));
    check("zero-comparison", comparison(&c, &options()), &options());
}

#[test]
fn many_months_and_other_sizes() {
    let s = summary(
        &[
            Platform::LinkedIn,
            Platform::X,
            Platform::Mastodon,
            Platform::Bluesky,
        ],
        230,
    );
    all_four("many", &s, &options());
    let small = ChartOptions {
        width: 640,
        height: 400,
        low_volume_acts: 0,
    };
    let s = summary(&[Platform::LinkedIn, Platform::X], 40);
    check("small-activity", activity_mix(&s, &small), &small);
    check("small-ratio", participation_ratio(&s, &small), &small);
    check("small-people", people(&s, &small), &small);
    check("small-unanswered", unanswered(&s, &small), &small);
    let minimal = ChartOptions {
        width: 400,
        height: 300,
        low_volume_acts: 5,
    };
    let s4 = summary(
        &[
            Platform::LinkedIn,
            Platform::X,
            Platform::Mastodon,
            Platform::Bluesky,
        ],
        30,
    );
    all_four("minimal", &s4, &minimal);
    let c = comparison_of(&s4, month(2023 * 12 + 10), month(2023 * 12 + 9));
    check("minimal-comparison", comparison(&c, &minimal), &minimal);
    let tiny = ChartOptions {
        width: 10,
        height: 10,
        low_volume_acts: 0,
    };
    assert!(people(&s, &tiny).is_err());
}

#[test]
fn month_labels_fit() {
    let codes: Vec<i32> = (2000 * 12..2000 * 12 + 230).collect();
    let ticks = label_ticks(&codes, 16);
    assert!(ticks.len() <= 16 && !ticks.is_empty());
    assert!(ticks.iter().all(|i| codes[*i] % 12 == 0));
    assert_eq!(label_ticks(&codes[..5], 16), vec![0, 1, 2, 3, 4]);
}
