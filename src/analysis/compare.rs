//! Period-against-period deltas of every metric (docs/counting.md, *Periods*), from a
//! [`Summary`]. Plain Rust over [`Summary::period`]; must not read files or draw.

use super::{Period, Summary, month_label};

/// The metrics compared, in `metrics.csv` column order.
pub const METRICS: [&str; 15] = [
    "broadcast",
    "self_thread",
    "amplification",
    "conversation",
    "conversation_private",
    "passive",
    "participation_ratio",
    "people_engaged",
    "people_reciprocated",
    "received",
    "median_response_minutes",
    "people_new",
    "unanswered",
    "ratio_low",
    "ratio_high",
];

/// Metrics that are shares (0..1), written with 4 decimals.
pub fn is_ratio(metric: &str) -> bool {
    matches!(metric, "participation_ratio" | "ratio_low" | "ratio_high")
}

/// One metric of one platform in both periods.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ComparisonRow {
    /// Platform name or `all`.
    pub platform: String,
    /// Metric name (a `metrics.csv` column).
    pub metric: String,
    /// Value in period A.
    pub a: Option<f64>,
    /// Value in period B.
    pub b: Option<f64>,
    /// A − B, when both are defined.
    pub delta: Option<f64>,
}

/// Period A against period B.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Label of the period looked at (`2026-03`, `2026-Q1`, `2026`).
    pub label_a: String,
    /// Label of the period compared against.
    pub label_b: String,
    /// Every metric of every platform, then `all`.
    pub rows: Vec<ComparisonRow>,
}

/// Compares two periods. Fails when either lies wholly outside the data's dated months.
pub fn compare(summary: &Summary, a: Period, b: Period) -> Result<Comparison, String> {
    let Some((first, last)) = summary.dated_span() else {
        return Err("the exports hold no dated activity to compare".into());
    };
    for p in [a, b] {
        if p.last < first || p.first > last {
            return Err(format!(
                "{} is outside the data, which spans {} to {}",
                p.label(),
                month_label(first),
                month_label(last)
            ));
        }
    }
    let mut platforms: Vec<Option<crate::model::Platform>> =
        summary.platforms.iter().copied().map(Some).collect();
    platforms.push(None);
    let mut rows = Vec::new();
    for p in platforms {
        let (sa, sb) = (summary.period(p, a), summary.period(p, b));
        for name in METRICS {
            let (va, vb) = (sa.metric(name), sb.metric(name));
            rows.push(ComparisonRow {
                platform: p.map_or("all", |p| p.as_str()).to_string(),
                metric: name.to_string(),
                a: va,
                b: vb,
                delta: va.zip(vb).map(|(x, y)| x - y),
            });
        }
    }
    Ok(Comparison {
        label_a: a.label(),
        label_b: b.label(),
        rows,
    })
}
