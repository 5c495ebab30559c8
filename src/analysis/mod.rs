//! All Polars code: classified activities → monthly metrics (docs/counting.md, *Monthly metrics*,
//! *Insight columns*) → plain [`Summary`] structs, with the figures over periods (`period`) and
//! the findings (`findings`) read off them. Must not read files, touch the network or draw charts.

pub mod compare;
pub mod findings;
pub mod period;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::*;

use crate::classify::Threads;
use crate::error::Error;
use crate::model::{Activity, Direction, Mode, Platform};
pub use findings::{Findings, Trend, Waiting};
pub use period::{Detail, Period, PeriodStats};

pub use crate::model::{MonthCode, UNDATED, Zone, month_label, parse_month};

/// Settings that shape the table.
#[derive(Debug, Clone)]
pub struct AnalysisOptions {
    /// Time zone of the month buckets.
    pub zone: Zone,
    /// First month written (inclusive).
    pub from: Option<MonthCode>,
    /// Last month written (inclusive).
    pub to: Option<MonthCode>,
}

/// One row of `metrics.csv` (docs/counting.md, *Monthly metrics*).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MonthlyRow {
    /// `YYYY-MM` or `undated`.
    pub month: String,
    /// Platform name or `all`.
    pub platform: String,
    /// Out activities with mode broadcast.
    pub broadcast: u64,
    /// Out activities with mode self_thread.
    pub self_thread: u64,
    /// Out activities with mode amplification.
    pub amplification: u64,
    /// Out activities with mode conversation.
    pub conversation: u64,
    /// The private-message part of `conversation`.
    pub conversation_private: u64,
    /// Out activities with mode passive.
    pub passive: u64,
    /// conversation / (conversation + broadcast + amplification).
    pub participation_ratio: Option<f64>,
    /// Distinct counterparts of out conversation activities.
    pub people_engaged: u64,
    /// Of those, the ones with a counted `in` activity in the same row.
    pub people_reciprocated: u64,
    /// Counted `in` activities.
    pub received: u64,
    /// Median minutes from a received message to the owner's answer.
    pub median_response_minutes: Option<f64>,
    /// Of `people_engaged`, those engaged for the first time on this platform.
    pub people_new: u64,
    /// Private conversations whose latest message, received this month, got no answer.
    pub unanswered: u64,
    /// Lower end of the Wilson 95 % interval of `participation_ratio`.
    pub ratio_low: Option<f64>,
    /// Upper end of the Wilson 95 % interval of `participation_ratio`.
    pub ratio_high: Option<f64>,
    /// The ratio over this month and the two before it (ratio of the sums; fewer months at
    /// the start of the rows). For the ratio chart; not a CSV column.
    #[serde(skip)]
    pub rolling_ratio: Option<f64>,
    /// Month code (for ordering and charts; not a CSV column).
    #[serde(skip)]
    pub month_code: MonthCode,
}

impl MonthlyRow {
    fn zero(platform: &str, code: MonthCode) -> Self {
        MonthlyRow {
            month: month_label(code),
            platform: platform.to_string(),
            broadcast: 0,
            self_thread: 0,
            amplification: 0,
            conversation: 0,
            conversation_private: 0,
            passive: 0,
            participation_ratio: None,
            people_engaged: 0,
            people_reciprocated: 0,
            received: 0,
            median_response_minutes: None,
            people_new: 0,
            unanswered: 0,
            ratio_low: None,
            ratio_high: None,
            rolling_ratio: None,
            month_code: code,
        }
    }

    /// The ratio's denominator: conversation + broadcast + amplification.
    pub fn acts(&self) -> u64 {
        self.conversation + self.broadcast + self.amplification
    }
}

/// Activity totals by mode over the whole run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Totals {
    /// All activities read (after de-duplication).
    pub activities: u64,
    /// Out activities per mode name.
    pub by_mode: BTreeMap<String, u64>,
    /// Counted `in` activities.
    pub received: u64,
    /// Excluded activities (both directions).
    pub excluded: u64,
    /// Activities without a date.
    pub undated: u64,
}

/// The result of the analysis, free of Polars types.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Rows in the order of docs/counting.md (*Rows written*).
    pub rows: Vec<MonthlyRow>,
    /// Platforms present, in row order.
    pub platforms: Vec<Platform>,
    /// Totals.
    pub totals: Totals,
    /// The last 12 dated months against the 12 before; `None` without dated rows.
    pub findings: Option<Findings>,
    /// What figures over a period need beyond the rows (distinct people, gaps).
    pub detail: Detail,
}

impl Summary {
    /// The rows of one platform (or `all`), in month order.
    pub fn rows_of<'a>(&'a self, platform: &'a str) -> impl Iterator<Item = &'a MonthlyRow> + 'a {
        self.rows.iter().filter(move |r| r.platform == platform)
    }
}

const MODES: [(Mode, i32, &str); 6] = [
    (Mode::Broadcast, 1, "broadcast"),
    (Mode::Amplification, 2, "amplification"),
    (Mode::SelfThread, 3, "self_thread"),
    (Mode::Conversation, 4, "conversation"),
    (Mode::Passive, 5, "passive"),
    (Mode::Excluded, 6, "excluded"),
];

fn mode_code(m: Option<Mode>) -> i32 {
    m.and_then(|m| MODES.iter().find(|(x, _, _)| *x == m).map(|(_, c, _)| *c))
        .unwrap_or(0)
}

fn platform_code(p: Platform) -> i32 {
    Platform::ALL.iter().position(|x| *x == p).unwrap_or(0) as i32
}

/// What the monthly counts need to know of an activity; activities alike are one row of the
/// facts table, with their number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Fact {
    platform: i32,
    month: MonthCode,
    out: bool,
    mode: i32,
    private: bool,
    counted_in: bool,
    unanswered: bool,
}

/// Computes the monthly table and the findings. `threads` holds the response gaps (in
/// milliseconds) and the unanswered conversations of `activities` (see `classify::threads`).
pub fn summarize(
    activities: &[Activity],
    threads: &Threads,
    options: &AnalysisOptions,
) -> Result<Summary, Error> {
    // The facts table: one row per distinct (platform, month, out, mode, private,
    // counted_in, unanswered) with how many activities share it (`n`); a million activities
    // fall into a few thousand such rows, and every count column is a weighted sum of them.
    let mut facts: rustc_hash::FxHashMap<Fact, i64> = Default::default();
    // Edges: one (month, person) key per (activity, counterpart), per platform, engaged
    // people [1] apart from received senders [0]; each list is sorted and deduplicated before
    // Polars sees it (8 bytes per edge, where four columns took 13 and `unique` its tables).
    let mut edges: [[Vec<u64>; 2]; Platform::ALL.len()] = Default::default();
    // Person ids are interned per platform (ids are kept per platform, §4).
    let mut people = crate::classify::Numbering::default();
    let mut months_seen: BTreeMap<i32, Option<(MonthCode, MonthCode)>> = BTreeMap::new();
    let mut totals = Totals::default();
    let mut mode_counts = [0u64; 8];
    // Response gaps, one row per owner answer (for the medians).
    let mut g_platform: Vec<i32> = Vec::new();
    let mut g_month: Vec<i32> = Vec::new();
    let mut g_gap: Vec<i64> = Vec::new();
    let mut detail = Detail::default();
    let mut answers = threads.gaps.iter().peekable();
    for (i, (a, waiting)) in activities.iter().zip(&threads.unanswered).enumerate() {
        let gap = answers.next_if(|g| g.0 == i).map(|g| g.1);
        totals.activities += 1;
        if a.at().is_none() {
            totals.undated += 1;
        }
        if a.mode == Some(Mode::Excluded) || a.hints.excluded.is_some() {
            // Excluded acts are in no column and neither add nor extend rows.
            totals.excluded += 1;
            continue;
        }
        if a.is_counted_in() {
            totals.received += 1;
        } else if let Some(md) = a.mode {
            mode_counts[mode_code(Some(md)) as usize] += 1;
        }
        let code = match a.at() {
            Some(ms) => options.zone.month_of(ms),
            None => UNDATED,
        };
        let p = platform_code(a.platform);
        if let Some(g) = gap {
            detail.gaps.push((p as u8, code, g));
            g_platform.push(p);
            g_month.push(code);
            g_gap.push(g);
        }
        // Dated span per platform; a platform with only undated activity keeps `None`.
        let span = months_seen.entry(p).or_insert(None);
        if code != UNDATED {
            *span = Some(match *span {
                Some((lo, hi)) => (lo.min(code), hi.max(code)),
                None => (code, code),
            });
        }
        let is_out = a.direction == Direction::Out;
        let m = mode_code(a.mode);
        *facts
            .entry(Fact {
                platform: p,
                month: code,
                out: is_out,
                mode: m,
                private: a.is_private_message(),
                counted_in: a.is_counted_in(),
                unanswered: *waiting,
            })
            .or_default() += 1;
        let engaged = is_out && a.mode == Some(Mode::Conversation);
        if engaged || a.is_counted_in() {
            for c in &a.counterparts {
                let id = people.number(a.platform, c);
                edges[p as usize][usize::from(engaged)].push(edge_key(code, id));
            }
        }
    }
    // People: distinct engaged counterparts, and those who also sent a counted `in` act,
    // counted before Polars runs: the edges and the person numbers are freed first.
    detail.engaged = distinct_triples(&mut edges, 1);
    detail.senders = distinct_triples(&mut edges, 0);
    // Counted over the distinct triples themselves, on this thread: each triple is one person
    // in one (platform, month), so each count is a number of triples. Polars' group-bys and
    // join over them touched ~25 MB of its threads' memory, which stayed resident to the end.
    let engaged_counts = count_people(detail.engaged.iter().copied());
    let reciprocated_counts = count_people(common_triples(&detail.engaged, &detail.senders));
    let new_counts = count_people(first_seen(&detail.engaged));
    drop(people);

    for (mode, code, name) in MODES {
        if mode != Mode::Excluded && mode_counts[code as usize] > 0 {
            totals
                .by_mode
                .insert(name.to_string(), mode_counts[code as usize]);
        }
    }
    let facts: Vec<_> = facts.into_iter().collect();
    let column_i32 = |name: &str, get: fn(&Fact) -> i32| {
        Column::new(
            name.into(),
            facts.iter().map(|(k, _)| get(k)).collect::<Vec<i32>>(),
        )
    };
    let column_bool = |name: &str, get: fn(&Fact) -> bool| {
        Column::new(
            name.into(),
            facts.iter().map(|(k, _)| get(k)).collect::<Vec<bool>>(),
        )
    };
    let acts = DataFrame::new(
        facts.len(),
        vec![
            column_i32("platform", |k| k.platform),
            column_i32("month", |k| k.month),
            column_bool("out", |k| k.out),
            column_i32("mode", |k| k.mode),
            column_bool("private", |k| k.private),
            column_bool("counted_in", |k| k.counted_in),
            column_bool("unanswered", |k| k.unanswered),
            Column::new(
                "n".into(),
                facts.iter().map(|(_, n)| *n).collect::<Vec<i64>>(),
            ),
        ],
    )?;
    let gaps = DataFrame::new(
        g_gap.len(),
        vec![
            Column::new("platform".into(), g_platform),
            Column::new("month".into(), g_month),
            Column::new("gap".into(), g_gap),
        ],
    )?;

    // Each count is the sum of `n` over the fact rows that match.
    let weighted =
        |when: Expr, name: &str| (when.cast(DataType::Int64) * col("n")).sum().alias(name);
    let mut aggs: Vec<Expr> = MODES
        .iter()
        .filter(|(m, _, _)| *m != Mode::Excluded)
        .map(|(_, code, name)| weighted(col("out").and(col("mode").eq(lit(*code))), name))
        .collect();
    aggs.push(weighted(
        col("out")
            .and(col("mode").eq(lit(4i32)))
            .and(col("private")),
        "conversation_private",
    ));
    aggs.push(weighted(col("counted_in"), "received"));
    aggs.push(weighted(col("unanswered"), "unanswered"));
    let median = [col("gap").median().alias("median_response_minutes")];
    let keys = [col("platform"), col("month")];
    let by_platform = acts
        .clone()
        .lazy()
        .group_by(keys.clone())
        .agg(aggs.clone())
        .join(
            gaps.clone()
                .lazy()
                .group_by(keys.clone())
                .agg(median.clone()),
            keys.clone(),
            keys.clone(),
            JoinArgs::new(JoinType::Left),
        );
    let by_all = acts
        .lazy()
        .group_by([col("month")])
        .agg(aggs)
        .join(
            gaps.lazy().group_by([col("month")]).agg(median),
            [col("month")],
            [col("month")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(lit(-1i32).alias("platform"));
    let mut order = vec![col("platform"), col("month")];
    order.extend(
        [
            "broadcast",
            "amplification",
            "self_thread",
            "conversation",
            "passive",
            "conversation_private",
            "received",
            "median_response_minutes",
            "unanswered",
        ]
        .map(col),
    );
    let counts = concat(
        [by_platform.select(order.clone()), by_all.select(order)],
        UnionArgs::default(),
    )?
    .collect()?;

    // Plain maps from the frames.
    type Key = (i32, i32);
    let mut found: HashMap<Key, MonthlyRow> = HashMap::new();
    {
        let p = counts.column("platform")?.i32()?;
        let m = counts.column("month")?.i32()?;
        let get = |name: &str| -> PolarsResult<Vec<u64>> {
            Ok(counts
                .column(name)?
                .i64()?
                .iter()
                .map(|v| v.unwrap_or(0).max(0) as u64)
                .collect())
        };
        let broadcast = get("broadcast")?;
        let self_thread = get("self_thread")?;
        let amplification = get("amplification")?;
        let conversation = get("conversation")?;
        let conversation_private = get("conversation_private")?;
        let passive = get("passive")?;
        let received = get("received")?;
        let waiting = get("unanswered")?;
        // The median of exact millisecond gaps (a whole or half millisecond), in minutes
        // rounded to 1 decimal half away from zero from that exact value (docs/counting.md, *Numbers*).
        let median: Vec<Option<f64>> = counts
            .column("median_response_minutes")?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .map(|m| m.map(median_minutes))
            .collect();
        for i in 0..counts.height() {
            let (Some(pc), Some(mc)) = (p.get(i), m.get(i)) else {
                continue;
            };
            let mut row = MonthlyRow::zero(&platform_name(pc), mc);
            row.broadcast = broadcast[i];
            row.self_thread = self_thread[i];
            row.amplification = amplification[i];
            row.conversation = conversation[i];
            row.conversation_private = conversation_private[i];
            row.passive = passive[i];
            row.received = received[i];
            row.median_response_minutes = median[i];
            row.unanswered = waiting[i];
            found.insert((pc, mc), row);
        }
    }
    for (key, row) in &mut found {
        let get = |counts: &HashMap<Key, u64>| counts.get(key).copied().unwrap_or(0);
        row.people_engaged = get(&engaged_counts);
        row.people_reciprocated = get(&reciprocated_counts);
        row.people_new = get(&new_counts);
    }

    // Rows: each platform from its first to last dated month (zero rows in between), `all`
    // over the union, `undated` last where there is undated activity; --from/--to clip.
    let mut rows = Vec::new();
    let mut platforms_present = Vec::new();
    let mut all_span: Option<(MonthCode, MonthCode)> = None;
    let mut any_undated = false;
    let clip = |lo: MonthCode, hi: MonthCode| -> (MonthCode, MonthCode) {
        (
            options.from.map_or(lo, |f| lo.max(f)),
            options.to.map_or(hi, |t| hi.min(t)),
        )
    };
    for (&pc, &span) in &months_seen {
        platforms_present.push(Platform::ALL[pc as usize]);
        let mut dated: BTreeSet<MonthCode> = BTreeSet::new();
        if let Some((lo, hi)) = span {
            all_span = Some(match all_span {
                Some((a, b)) => (a.min(lo), b.max(hi)),
                None => (lo, hi),
            });
            let (lo, hi) = clip(lo, hi);
            dated.extend(lo..=hi);
        }
        for code in dated {
            rows.push(take_row(&mut found, pc, code));
        }
        if found.contains_key(&(pc, UNDATED)) {
            any_undated = true;
            rows.push(take_row(&mut found, pc, UNDATED));
        }
    }
    if let Some((lo, hi)) = all_span {
        let (lo, hi) = clip(lo, hi);
        for code in lo..=hi {
            rows.push(take_row(&mut found, -1, code));
        }
    }
    if any_undated {
        rows.push(take_row(&mut found, -1, UNDATED));
    }
    for r in &mut rows {
        r.participation_ratio = ratio(r.conversation, r.acts());
        (r.ratio_low, r.ratio_high) = wilson(r.conversation, r.acts()).unzip();
    }
    set_rolling_ratios(&mut rows);
    let mut summary = Summary {
        rows,
        platforms: platforms_present,
        totals,
        findings: None,
        detail,
    };
    summary.findings = findings::findings(&summary, activities, &threads.unanswered, options);
    Ok(summary)
}

/// `(platform, month, person)` triples of a frame with those columns.
/// An edge's (month, person) as one sortable number: the month's bits above the person's.
fn edge_key(month: MonthCode, person: u32) -> u64 {
    (u64::from(month as u32) << 32) | u64::from(person)
}

/// The distinct `(platform index, month, person)` of one side of the edges (`side` 1: engaged,
/// 0: senders), each list sorted, deduplicated and freed on the way.
fn distinct_triples(edges: &mut [[Vec<u64>; 2]], side: usize) -> Vec<(u8, MonthCode, u32)> {
    let mut out = Vec::new();
    for (p, sides) in edges.iter_mut().enumerate() {
        let mut keys = std::mem::take(&mut sides[side]);
        keys.sort_unstable();
        keys.dedup();
        out.extend(
            keys.iter()
                .map(|&k| (p as u8, (k >> 32) as u32 as MonthCode, k as u32)),
        );
    }
    out
}

/// The number of distinct `(platform index, month, person)` triples per (platform code,
/// month), and per month over every platform (platform -1: a person's number is one
/// platform's, so the platforms' people add up).
fn count_people(triples: impl Iterator<Item = (u8, MonthCode, u32)>) -> HashMap<(i32, i32), u64> {
    let mut counts: HashMap<(i32, i32), u64> = HashMap::new();
    for (platform, month, _) in triples {
        *counts.entry((i32::from(platform), month)).or_default() += 1;
        *counts.entry((-1, month)).or_default() += 1;
    }
    counts
}

/// The triples in both lists, each sorted as [`distinct_triples`] leaves them (platform,
/// then the month's bits, then person) and without repeats: a merge of the two.
fn common_triples<'t>(
    a: &'t [(u8, MonthCode, u32)],
    b: &'t [(u8, MonthCode, u32)],
) -> impl Iterator<Item = (u8, MonthCode, u32)> + 't {
    let order = |t: &(u8, MonthCode, u32)| (t.0, t.1 as u32, t.2);
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        while i < a.len() && j < b.len() {
            match order(&a[i]).cmp(&order(&b[j])) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    i += 1;
                    j += 1;
                    return Some(a[i - 1]);
                }
            }
        }
        None
    })
}

/// Each engaged person once per platform, in the first month they were engaged there (the
/// undated code sorts after every month, so undated-only people land there).
fn first_seen(engaged: &[(u8, MonthCode, u32)]) -> impl Iterator<Item = (u8, MonthCode, u32)> {
    let mut first: rustc_hash::FxHashMap<(u8, u32), MonthCode> = Default::default();
    for &(platform, month, person) in engaged {
        first
            .entry((platform, person))
            .and_modify(|m| *m = (*m).min(month))
            .or_insert(month);
    }
    first.into_iter().map(|((p, person), m)| (p, m, person))
}

/// The 3-month rolling ratio of every dated row: the ratio of the sums over the row and the
/// (up to) two rows before it of the same platform. Rows of a platform are consecutive months.
fn set_rolling_ratios(rows: &mut [MonthlyRow]) {
    for i in 0..rows.len() {
        if rows[i].month_code == UNDATED {
            continue;
        }
        let (mut num, mut den) = (0, 0);
        for j in (i.saturating_sub(2)..=i).rev() {
            let r = &rows[j];
            if r.platform != rows[i].platform || r.month_code == UNDATED {
                break;
            }
            num += r.conversation;
            den += r.acts();
        }
        rows[i].rolling_ratio = ratio(num, den);
    }
}

/// z of the two-sided 95 % interval.
const Z95: f64 = 1.959964;

/// The Wilson score 95 % interval of `num / den`, each end rounded to 4 decimals (half away
/// from zero) and kept within 0..1; `None` when `den` is 0 (docs/counting.md, *Insight columns*).
pub fn wilson(num: u64, den: u64) -> Option<(f64, f64)> {
    if den == 0 {
        return None;
    }
    let n = den as f64;
    let p = num as f64 / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let round = |x: f64| ((x.clamp(0.0, 1.0) * 10_000.0).round() / 10_000.0) + 0.0;
    Some((round(centre - half), round(centre + half)))
}

/// `num / den` rounded to 4 decimals from the exact fraction, ties away from zero
/// (29/32 = 0.90625 → 0.9063); `None` when `den` is 0.
pub fn ratio(num: u64, den: u64) -> Option<f64> {
    if den == 0 {
        return None;
    }
    let (num, den) = (num as u128, den as u128);
    let e4 = (num * 20_000 + den) / (2 * den);
    Some(e4 as f64 / 10_000.0)
}

/// A median of millisecond gaps (exact: a whole or half millisecond) in minutes, rounded to
/// 1 decimal half away from zero on the exact value (2,811,000 ms → 46.9).
pub fn median_minutes(median_ms: f64) -> f64 {
    let twice = (median_ms * 2.0).round().max(0.0) as u128; // exact: gaps are < 2^52 ms
    let tenths = (twice + 6_000) / 12_000;
    tenths as f64 / 10.0
}

fn platform_name(code: i32) -> String {
    if code < 0 {
        "all".to_string()
    } else {
        Platform::ALL[code as usize].as_str().to_string()
    }
}

fn take_row(found: &mut HashMap<(i32, i32), MonthlyRow>, pc: i32, code: MonthCode) -> MonthlyRow {
    found
        .remove(&(pc, code))
        .unwrap_or_else(|| MonthlyRow::zero(&platform_name(pc), code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn ratios_round_half_away_from_zero_from_the_exact_fraction() {
        assert_eq!(ratio(29, 32), Some(0.9063));
        assert_eq!(ratio(1, 3), Some(0.3333));
        assert_eq!(ratio(2, 3), Some(0.6667));
        assert_eq!(ratio(1, 8), Some(0.125));
        assert_eq!(ratio(0, 5), Some(0.0));
        assert_eq!(ratio(3, 0), None);
    }

    #[test]
    fn wilson_interval_of_known_cases() {
        // 8 of 10: 0.4902 .. 0.9433 (the textbook Wilson interval at z = 1.96).
        assert_eq!(wilson(8, 10), Some((0.4902, 0.9433)));
        // The ends stay inside 0..1 and never print as -0.
        let (lo, hi) = wilson(0, 4).unwrap_or((1.0, 1.0));
        assert_eq!(lo.to_bits(), 0f64.to_bits());
        assert_eq!(hi, 0.4899);
        assert_eq!(wilson(4, 4).map(|w| w.1), Some(1.0));
        assert_eq!(wilson(1, 0), None);
    }

    #[test]
    fn median_minutes_exact_2811_seconds_is_46_9() {
        assert_eq!(median_minutes(2_811_000.0), 46.9);
        // A half-millisecond median of an even count, and exact tenths.
        assert_eq!(median_minutes(2_810_999.5), 46.8);
        assert_eq!(median_minutes(300_000.0), 5.0);
        assert_eq!(median_minutes(3_000.0), 0.1);
        assert_eq!(median_minutes(2_999.5), 0.0);
    }

    #[test]
    fn month_codes_round_trip() {
        let c = parse_month("2024-03").unwrap_or(0);
        assert_eq!(month_label(c), "2024-03");
        assert_eq!(month_label(UNDATED), "undated");
        assert_eq!(parse_month("2024-13"), None);
        assert_eq!(parse_month("24-03"), None);
    }

    #[test]
    fn zone_moves_month_boundary() {
        // 2024-01-31 23:30 UTC is February in Berlin.
        let ms = chrono::Utc
            .with_ymd_and_hms(2024, 1, 31, 23, 30, 0)
            .single()
            .map(|d| d.timestamp_millis())
            .unwrap_or(0);
        assert_eq!(month_label(Zone::Utc.month_of(ms)), "2024-01");
        assert_eq!(
            month_label(Zone::Named(chrono_tz::Europe::Berlin).month_of(ms)),
            "2024-02"
        );
    }

    fn sorted(counts: HashMap<(i32, i32), u64>) -> Vec<((i32, i32), u64)> {
        let mut v: Vec<_> = counts.into_iter().collect();
        v.sort();
        v
    }

    #[test]
    fn people_counted_per_platform_and_over_all_platforms_from_distinct_triples() {
        let triples = [(0u8, 100, 1u32), (0, 100, 2), (1, 100, 3), (0, 101, 1)];
        assert_eq!(
            sorted(count_people(triples.into_iter())),
            vec![
                ((-1, 100), 3),
                ((-1, 101), 1),
                ((0, 100), 2),
                ((0, 101), 1),
                ((1, 100), 1)
            ]
        );
    }

    #[test]
    fn reciprocated_people_are_the_triples_both_lists_hold() {
        let engaged = [(0u8, 100, 1u32), (0, 100, 2), (0, UNDATED, 5), (1, 100, 1)];
        let senders = [(0u8, 100, 2u32), (0, UNDATED, 5), (1, 100, 1), (1, 101, 1)];
        assert_eq!(
            common_triples(&engaged, &senders).collect::<Vec<_>>(),
            vec![(0, 100, 2), (0, UNDATED, 5), (1, 100, 1)]
        );
        assert_eq!(common_triples(&engaged, &[]).count(), 0);
    }

    #[test]
    fn new_people_count_in_their_first_month_and_undated_only_people_last() {
        // Person 1 engaged in months 100 and 101 and undated on platform 0 (new in 100), and
        // in 101 on platform 1 (new there too); person 2 only undated.
        let engaged = [
            (0u8, 100, 1u32),
            (0, 101, 1),
            (0, UNDATED, 1),
            (0, UNDATED, 2),
            (1, 101, 1),
        ];
        assert_eq!(
            sorted(count_people(first_seen(&engaged))),
            vec![
                ((-1, 100), 1),
                ((-1, 101), 1),
                ((-1, UNDATED), 1),
                ((0, 100), 1),
                ((0, UNDATED), 1),
                ((1, 101), 1)
            ]
        );
    }
}
