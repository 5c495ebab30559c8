//! Month-against-month deltas of every metric, from a [`Summary`]. Plain Rust over the rows;
//! must not read files or draw.

use super::{MonthCode, MonthlyRow, Summary, month_label};

/// The metrics compared, in `metrics.csv` column order.
pub const METRICS: [&str; 11] = [
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
];

/// The value of one metric in a row (`None` for an undefined ratio or median).
pub fn metric(row: &MonthlyRow, name: &str) -> Option<f64> {
    match name {
        "broadcast" => Some(row.broadcast as f64),
        "self_thread" => Some(row.self_thread as f64),
        "amplification" => Some(row.amplification as f64),
        "conversation" => Some(row.conversation as f64),
        "conversation_private" => Some(row.conversation_private as f64),
        "passive" => Some(row.passive as f64),
        "participation_ratio" => row.participation_ratio,
        "people_engaged" => Some(row.people_engaged as f64),
        "people_reciprocated" => Some(row.people_reciprocated as f64),
        "received" => Some(row.received as f64),
        "median_response_minutes" => row.median_response_minutes,
        _ => None,
    }
}

/// One metric of one platform in both months.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ComparisonRow {
    /// Platform name or `all`.
    pub platform: String,
    /// Metric name (a `metrics.csv` column).
    pub metric: String,
    /// Value in month A.
    pub a: Option<f64>,
    /// Value in month B.
    pub b: Option<f64>,
    /// A − B, when both are defined.
    pub delta: Option<f64>,
}

/// Month A against month B.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// `YYYY-MM` of the month looked at.
    pub month_a: String,
    /// `YYYY-MM` of the month compared against.
    pub month_b: String,
    /// Every metric of every platform, then `all`.
    pub rows: Vec<ComparisonRow>,
}

/// Compares two months. Fails when neither month has any data.
pub fn compare(summary: &Summary, a: MonthCode, b: MonthCode) -> Result<Comparison, String> {
    let dated: Vec<&MonthlyRow> = summary
        .rows
        .iter()
        .filter(|r| r.month_code != super::UNDATED)
        .collect();
    let (Some(first), Some(last)) = (
        dated.iter().map(|r| r.month_code).min(),
        dated.iter().map(|r| r.month_code).max(),
    ) else {
        return Err("the exports hold no dated activity to compare".into());
    };
    for m in [a, b] {
        if m < first || m > last {
            return Err(format!(
                "month {} is outside the data, which spans {} to {}",
                month_label(m),
                month_label(first),
                month_label(last)
            ));
        }
    }
    let mut platforms: Vec<String> = summary
        .platforms
        .iter()
        .map(|p| p.as_str().to_string())
        .collect();
    platforms.push("all".into());
    let mut rows = Vec::new();
    for p in &platforms {
        let find = |m: MonthCode| {
            summary
                .rows
                .iter()
                .find(|r| &r.platform == p && r.month_code == m)
                .cloned()
                .unwrap_or_else(|| MonthlyRow::zero(p, m))
        };
        let (ra, rb) = (find(a), find(b));
        for name in METRICS {
            let (va, vb) = (metric(&ra, name), metric(&rb, name));
            let delta = match (va, vb) {
                (Some(x), Some(y)) => Some(x - y),
                _ => None,
            };
            rows.push(ComparisonRow {
                platform: p.clone(),
                metric: name.to_string(),
                a: va,
                b: vb,
                delta,
            });
        }
    }
    Ok(Comparison {
        month_a: month_label(a),
        month_b: month_label(b),
        rows,
    })
}
