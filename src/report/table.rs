//! CSV, JSON and terminal renderings of a `Summary`, a `Comparison` and the activity list.
//! Renderers return bytes or text; `report::write_all` writes them. No Polars, no I/O.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{RunInfo, words};
use crate::analysis::compare::{Comparison, METRICS, is_ratio};
use crate::analysis::{MonthlyRow, Summary, UNDATED};
use crate::diag;
use crate::model::Activity;

/// `metrics.csv` columns, in docs/counting.md's order: month, platform, then every metric.
pub fn metrics_columns() -> Vec<&'static str> {
    let mut c = vec!["month", "platform"];
    c.extend(METRICS);
    c
}

/// The ratio with 4 decimals, empty when undefined.
pub fn fmt_ratio(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_default()
}

/// The median with 1 decimal, empty when undefined.
pub fn fmt_minutes(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_default()
}

/// The cells of one `metrics.csv` row (also the page's table).
pub(super) fn row_cells(r: &MonthlyRow) -> Vec<String> {
    vec![
        r.month.clone(),
        r.platform.clone(),
        r.broadcast.to_string(),
        r.self_thread.to_string(),
        r.amplification.to_string(),
        r.conversation.to_string(),
        r.conversation_private.to_string(),
        r.passive.to_string(),
        fmt_ratio(r.participation_ratio),
        r.people_engaged.to_string(),
        r.people_reciprocated.to_string(),
        r.received.to_string(),
        fmt_minutes(r.median_response_minutes),
        r.people_new.to_string(),
        r.unanswered.to_string(),
        fmt_ratio(r.ratio_low),
        fmt_ratio(r.ratio_high),
    ]
}

fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(|e| e.to_string())?;
    for r in rows {
        w.write_record(&r).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// `metrics.csv`.
pub fn metrics_csv(summary: &Summary) -> Result<Vec<u8>, String> {
    csv_bytes(&metrics_columns(), summary.rows.iter().map(row_cells))
}

fn round(v: Option<f64>, places: i32) -> Value {
    match v {
        Some(x) => {
            let f = 10f64.powi(places);
            json!((x * f).round() / f)
        }
        None => Value::Null,
    }
}

fn row_json(r: &MonthlyRow) -> Value {
    json!({
        "month": r.month,
        "platform": r.platform,
        "broadcast": r.broadcast,
        "self_thread": r.self_thread,
        "amplification": r.amplification,
        "conversation": r.conversation,
        "conversation_private": r.conversation_private,
        "passive": r.passive,
        "participation_ratio": round(r.participation_ratio, 4),
        "people_engaged": r.people_engaged,
        "people_reciprocated": r.people_reciprocated,
        "received": r.received,
        "median_response_minutes": round(r.median_response_minutes, 1),
        "people_new": r.people_new,
        "unanswered": r.unanswered,
        "ratio_low": round(r.ratio_low, 4),
        "ratio_high": round(r.ratio_high, 4),
    })
}

/// `metrics.json`: the rows plus totals, settings, inputs, owners and warnings.
pub fn metrics_json(summary: &Summary, info: &RunInfo) -> Result<Vec<u8>, String> {
    let doc = json!({
        // The findings' figures are rounded where they are computed (analysis).
        "findings": summary.findings,
        "rows": summary.rows.iter().map(row_json).collect::<Vec<_>>(),
        "totals": summary.totals,
        "settings": info.settings,
        "inputs": info.inputs,
        "owners": info.owners,
        "warnings": info.problems,
        "notes": info.notes,
    });
    let mut out = serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())?;
    out.push(b'\n');
    Ok(out)
}

/// `activities.csv`: one row per normalized activity, for audit. Streamed into `out` (the
/// one table too large to render in memory first). Rows are formatted by hand into a reused
/// buffer (RFC 4180 quoting where a field needs it): at a million rows the generic CSV writer
/// and date formatting were most of the output time.
pub fn activities_csv<W: std::io::Write>(activities: &[Activity], mut out: W) -> Result<W, String> {
    let err = |e: std::io::Error| e.to_string();
    // Rows are formatted into one large buffer, written out whenever it holds a megabyte.
    const CHUNK: usize = 1 << 20;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    buf.extend_from_slice(b"platform,id,at,direction,kind,mode,counterparts,confidence,source\n");
    let mut last_source: Option<crate::model::Source> = None;
    let mut source_field: Vec<u8> = Vec::new();
    for a in activities {
        let line = &mut buf;
        line.extend_from_slice(a.platform.as_str().as_bytes());
        line.push(b',');
        push_field(line, a.id.as_bytes());
        line.push(b',');
        if let Some(ms) = a.at() {
            push_utc(line, ms);
        }
        line.push(b',');
        line.extend_from_slice(a.direction.as_str().as_bytes());
        line.push(b',');
        line.extend_from_slice(a.kind.as_str().as_bytes());
        line.push(b',');
        line.extend_from_slice(a.mode.map(|m| m.as_str()).unwrap_or("").as_bytes());
        line.push(b',');
        let plain = a.counterparts.iter().all(|c| !needs_quotes(c.as_bytes()));
        if plain {
            for (i, c) in a.counterparts.iter().enumerate() {
                if i > 0 {
                    line.push(b';');
                }
                line.extend_from_slice(c.as_bytes());
            }
        } else {
            let joined: Vec<&str> = a.counterparts.iter().map(|c| &**c).collect();
            push_field(line, joined.join(";").as_bytes());
        }
        line.push(b',');
        line.extend_from_slice(a.confidence.as_str().as_bytes());
        line.push(b',');
        // Thousands of rows share one source: its field is made once per run of them.
        if !last_source
            .as_ref()
            .is_some_and(|s| crate::model::Source::ptr_eq(s, &a.source))
        {
            source_field.clear();
            push_field(&mut source_field, a.source.as_bytes());
            last_source = Some(a.source.clone());
        }
        line.extend_from_slice(&source_field);
        line.push(b'\n');
        if buf.len() >= CHUNK {
            out.write_all(&buf).map_err(err)?;
            buf.clear();
        }
    }
    out.write_all(&buf).map_err(err)?;
    Ok(out)
}

/// Appends a UTC millisecond timestamp as `YYYY-MM-DDTHH:MM:SSZ` (the year as 4 digits).
fn push_utc(line: &mut Vec<u8>, ms: i64) {
    // From 1970 to the year 9999 by whole days, else by chrono.
    let (y, mo, d, secs) = if (0..crate::model::YEAR_10000_MS).contains(&ms) {
        let (y, mo, d) = crate::model::civil_from_days(ms / 86_400_000);
        (y as u32, mo, d, ((ms % 86_400_000) / 1000) as u32)
    } else if let Some(dt) = chrono::DateTime::from_timestamp_millis(ms) {
        use chrono::{Datelike as _, Timelike as _};
        let secs = dt.num_seconds_from_midnight();
        (dt.year().max(0) as u32, dt.month(), dt.day(), secs)
    } else {
        return;
    };
    let two = |v: u32| [b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8];
    let (yh, yl) = (two(y / 100), two(y));
    let (mo, d) = (two(mo), two(d));
    let (h, mi, s) = (two(secs / 3600), two(secs / 60 % 60), two(secs % 60));
    line.extend_from_slice(&[
        yh[0], yh[1], yl[0], yl[1], b'-', mo[0], mo[1], b'-', d[0], d[1], b'T', h[0], h[1], b':',
        mi[0], mi[1], b':', s[0], s[1], b'Z',
    ]);
}

/// True when a CSV field must be quoted: it holds `,`, `"`, CR or LF. Fields are short (ids,
/// profile URLs): a table lookup per byte beats setting up two vector searches.
fn needs_quotes(field: &[u8]) -> bool {
    const QUOTE: [bool; 256] = {
        let mut t = [false; 256];
        t[b',' as usize] = true;
        t[b'"' as usize] = true;
        t[b'\n' as usize] = true;
        t[b'\r' as usize] = true;
        t
    };
    field.iter().any(|&b| QUOTE[b as usize])
}

/// Appends a CSV field, quoted (with doubled quotes) only when it holds `,`, `"`, CR or LF.
fn push_field(line: &mut Vec<u8>, field: &[u8]) {
    if needs_quotes(field) {
        line.push(b'"');
        for &b in field {
            if b == b'"' {
                line.push(b'"');
            }
            line.push(b);
        }
        line.push(b'"');
    } else {
        line.extend_from_slice(field);
    }
}

fn fmt_value(v: Option<f64>, metric: &str) -> String {
    match v {
        None => String::new(),
        Some(x) if is_ratio(metric) => format!("{x:.4}"),
        Some(x) if metric == "median_response_minutes" => format!("{x:.1}"),
        Some(x) => format!("{x}"),
    }
}

/// `compare_<A>_vs_<B>.csv`: platform, metric, A, B, delta.
pub fn comparison_csv(c: &Comparison) -> Result<Vec<u8>, String> {
    let header = [
        "platform",
        "metric",
        c.label_a.as_str(),
        c.label_b.as_str(),
        "delta",
    ];
    csv_bytes(
        &header,
        c.rows.iter().map(|r| {
            vec![
                r.platform.clone(),
                r.metric.clone(),
                fmt_value(r.a, &r.metric),
                fmt_value(r.b, &r.metric),
                fmt_value(r.delta, &r.metric),
            ]
        }),
    )
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0))
        .unwrap_or_else(|| "–".into())
}

/// The terminal summary: the findings, the last `months` of the `all` rows (ratio change in
/// points, new people, waiting conversations), problems.
pub fn terminal_summary(summary: &Summary, info: &RunInfo, months: usize) -> String {
    let mut s = String::new();
    for input in &info.inputs {
        let _ = writeln!(
            s,
            "{}: {} ({} activities)",
            input.path, input.format, input.activities
        );
    }
    for o in &info.owners {
        let _ = writeln!(
            s,
            "owner ({}): {} — {}",
            o.platform,
            o.id.as_deref().unwrap_or("unknown"),
            o.how
        );
    }
    if let Some(f) = &summary.findings {
        let _ = writeln!(s, "\n{}", words::headline(f));
        for line in words::lines(f) {
            let _ = writeln!(s, "  {:<8} {}", line.label, line.text);
        }
        for w in f.waiting.iter().take(words::WAITING_SHOWN) {
            let _ = writeln!(s, "           {}", words::waiting_line(w));
        }
        if f.waiting.len() > words::WAITING_SHOWN {
            let _ = writeln!(
                s,
                "           … and {} more (metrics.json, findings.waiting)",
                f.waiting.len() - words::WAITING_SHOWN
            );
        }
    }
    let all: Vec<&MonthlyRow> = summary
        .rows_of("all")
        .filter(|r| r.month_code != UNDATED)
        .collect();
    let start = all.len().saturating_sub(months);
    let _ = writeln!(
        s,
        "\n{:<8} {:>9} {:>12} {:>7} {:>10} {:>7} {:>4} {:>8}",
        "month", "broadcast", "conversation", "ratio", "Δ ratio", "people", "new", "waiting"
    );
    for i in start..all.len() {
        let r = all[i];
        let delta = if i > 0 {
            match (r.participation_ratio, all[i - 1].participation_ratio) {
                (Some(a), Some(b)) => format!("{:+.1} pts", (a - b) * 100.0),
                _ => "–".into(),
            }
        } else {
            "–".into()
        };
        let _ = writeln!(
            s,
            "{:<8} {:>9} {:>12} {:>7} {:>10} {:>7} {:>4} {:>8}",
            r.month,
            r.broadcast,
            r.conversation,
            pct(r.participation_ratio),
            delta,
            r.people_engaged,
            r.people_new,
            r.unanswered
        );
    }
    if all.is_empty() {
        let _ = writeln!(s, "(no dated activity)");
    }
    if let Some(u) = summary.rows_of("all").find(|r| r.month_code == UNDATED) {
        let _ = writeln!(
            s,
            "undated: {} broadcast, {} conversation, {} amplification, {} passive (no date in the export)",
            u.broadcast, u.conversation, u.amplification, u.passive
        );
    }
    if !info.problems.is_empty() {
        let total: u64 = info.problems.iter().map(|p| p.count).sum();
        let _ = writeln!(s, "\nwarnings ({total} record(s)):");
        for p in &info.problems {
            let _ = writeln!(s, "  {}", diag::describe(p));
        }
    }
    for n in &info.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

/// Side-by-side text of a comparison.
pub fn terminal_comparison(c: &Comparison) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<10} {:<24} {:>10} {:>10} {:>10}",
        "platform", "metric", c.label_a, c.label_b, "delta"
    );
    for r in &c.rows {
        let _ = writeln!(
            s,
            "{:<10} {:<24} {:>10} {:>10} {:>10}",
            r.platform,
            r.metric,
            fmt_value(r.a, &r.metric),
            fmt_value(r.b, &r.metric),
            match r.delta {
                Some(d) if is_ratio(&r.metric) => format!("{:+.1} pts", d * 100.0),
                Some(d) => format!("{d:+}"),
                None => String::new(),
            }
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::{Direction, Kind, Mode, Platform};

    #[test]
    fn timestamps_are_written_as_chrono_writes_them() {
        let mut cases: Vec<i64> = vec![
            0,
            999,
            951_782_400_000,     // 2000-02-29
            4_107_542_399_999,   // 2100-02-28T23:59:59.999
            253_402_300_799_999, // 9999-12-31T23:59:59.999
            253_402_300_800_000, // 10000-01-01 (by chrono, 4 digits of the year)
            -1,                  // 1969 (by chrono)
        ];
        let mut x: u64 = 7;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            cases.push((x >> 16) as i64 % 253_402_300_800_000);
        }
        for ms in cases {
            let mut line = Vec::new();
            push_utc(&mut line, ms);
            let dt = chrono::DateTime::from_timestamp_millis(ms).expect("in range");
            let year = format!(
                "{:04}",
                dt.format("%Y")
                    .to_string()
                    .parse::<i64>()
                    .unwrap_or(0)
                    .max(0)
                    % 10_000
            );
            let want = format!("{year}{}", dt.format("-%m-%dT%H:%M:%SZ"));
            assert_eq!(String::from_utf8_lossy(&line), want, "{ms}");
        }
    }

    #[test]
    fn activities_csv_quotes_only_where_needed_and_reads_back() {
        let mut a = Activity::new(
            Platform::LinkedIn,
            "id, with \"quotes\"",
            Some(1_709_371_500_000),
            Direction::Out,
            Kind::Message,
            crate::model::Source::from("messages.csv"),
        );
        a.mode = Some(Mode::Conversation);
        a.counterparts = vec![Arc::from("https://www.linkedin.com/in/a"), Arc::from("b")].into();
        let b = Activity::new(
            Platform::X,
            "2",
            None,
            Direction::In,
            Kind::Reply,
            crate::model::Source::from("data/odd\rname.js"),
        );
        let bytes = activities_csv(&[a, b], Vec::new()).unwrap_or_default();
        let mut r = csv::Reader::from_reader(&bytes[..]);
        let rows: Vec<csv::StringRecord> = r.records().filter_map(Result::ok).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][1], "id, with \"quotes\"");
        assert_eq!(&rows[0][2], "2024-03-02T09:25:00Z");
        assert_eq!(&rows[0][5], "conversation");
        assert_eq!(&rows[0][6], "https://www.linkedin.com/in/a;b");
        assert_eq!(&rows[1][2], "");
        assert_eq!(&rows[1][5], "");
        // A lone CR needs quotes too, or the row would break in two for some readers.
        assert_eq!(&rows[1][8], "data/odd\rname.js");
        assert!(bytes.windows(3).any(|w| w == b"\"da"));
    }
}
