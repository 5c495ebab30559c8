//! The findings (docs/counting.md, *Findings*): the last 12 dated months against the 12 before,
//! the trend, who is waiting for an answer and how concentrated the conversation is. Plain Rust
//! over a `Summary` and the classified activities; must not read files or draw.

use rustc_hash::FxHashMap;

use super::{AnalysisOptions, Period, PeriodStats, Summary, UNDATED, month_label, ratio};
use crate::model::{Activity, Direction, Mode, Platform};

/// Months in each compared period.
pub const PERIOD_MONTHS: i32 = 12;

/// Whether the participation ratio moved, judged by the two intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    /// The current interval lies wholly above the previous one.
    Better,
    /// The current interval lies wholly below the previous one.
    Worse,
    /// The intervals overlap, or a period has no act to judge by.
    Unclear,
}

impl Trend {
    /// `better`, `worse` or `unclear`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Better => "better",
            Trend::Worse => "worse",
            Trend::Unclear => "unclear",
        }
    }
}

/// A private conversation whose latest message, someone else's, got no answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Waiting {
    /// Platform name.
    pub platform: String,
    /// The sender's id; `None` for a deleted account.
    pub who: Option<String>,
    /// When they wrote, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub since: String,
    /// The month of that message (in the run's time zone).
    pub month: String,
    /// The conversation's id.
    pub conversation: String,
}

/// What the report says first.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Findings {
    /// The last (up to) 12 dated months of the `all` rows.
    pub current: PeriodStats,
    /// The (up to) 12 months before them; `None` when the rows start within `current`.
    pub previous: Option<PeriodStats>,
    /// Better, worse or unclear.
    pub trend: Trend,
    /// Conversations waiting for an answer whose last message falls in `current`, most
    /// recent first.
    pub waiting: Vec<Waiting>,
    /// Share of the current period's conversation acts with a known counterpart that went to
    /// the 3 people addressed most; `None` without such acts.
    pub top3_share: Option<f64>,
}

/// The findings of a summary whose rows are built; `None` without dated `all` rows.
pub fn findings(
    summary: &Summary,
    activities: &[Activity],
    unanswered: &[bool],
    options: &AnalysisOptions,
) -> Option<Findings> {
    let (first, last) = summary.dated_span()?;
    let current = Period::months((last - PERIOD_MONTHS + 1).max(first), last);
    let previous = (current.first > first).then(|| {
        Period::months(
            (current.first - PERIOD_MONTHS).max(first),
            current.first - 1,
        )
    });
    let now = summary.period(None, current);
    let before = previous.map(|p| summary.period(None, p));
    let trend = trend(&now, before.as_ref());
    let month = |a: &Activity| a.at().map_or(UNDATED, |ms| options.zone.month_of(ms));
    let mut waiting: Vec<(i64, &Activity)> = activities
        .iter()
        .zip(unanswered)
        .filter(|(a, w)| **w && current.contains(month(a)))
        .filter_map(|(a, _)| Some((a.at()?, a)))
        .collect();
    waiting.sort_by(|x, y| {
        y.0.cmp(&x.0)
            .then_with(|| x.1.platform.cmp(&y.1.platform))
            .then_with(|| x.1.id.cmp(&y.1.id))
    });
    let waiting = waiting
        .into_iter()
        .map(|(at, a)| Waiting {
            platform: a.platform.as_str().to_string(),
            who: a.counterparts.first().map(|c| c.to_string()),
            since: utc(at),
            month: month_label(month(a)),
            conversation: a.conversation.as_deref().unwrap_or_default().to_string(),
        })
        .collect();
    let top3_share = top3_share(activities, |a| current.contains(month(a)));
    Some(Findings {
        current: now,
        previous: before,
        trend,
        waiting,
        top3_share,
    })
}

/// Better or worse only when the two 95 % intervals do not overlap.
pub fn trend(current: &PeriodStats, previous: Option<&PeriodStats>) -> Trend {
    let Some(previous) = previous else {
        return Trend::Unclear;
    };
    match (
        current.ratio_low,
        current.ratio_high,
        previous.ratio_low,
        previous.ratio_high,
    ) {
        (Some(lo), _, _, Some(prev_hi)) if lo > prev_hi => Trend::Better,
        (_, Some(hi), Some(prev_lo), _) if hi < prev_lo => Trend::Worse,
        _ => Trend::Unclear,
    }
}

/// Of the owner's conversation acts with a known counterpart in the period, the share that
/// addressed at least one of the 3 people addressed in most acts (ties: the smaller id).
fn top3_share(activities: &[Activity], in_period: impl Fn(&Activity) -> bool) -> Option<f64> {
    let acts: Vec<&Activity> = activities
        .iter()
        .filter(|a| {
            a.direction == Direction::Out
                && a.mode == Some(Mode::Conversation)
                && !a.counterparts.is_empty()
                && in_period(a)
        })
        .collect();
    let mut per: FxHashMap<(Platform, &str), u64> = FxHashMap::default();
    for a in &acts {
        let mut seen: Vec<&str> = Vec::with_capacity(a.counterparts.len());
        for c in &a.counterparts {
            if !seen.contains(&&**c) {
                seen.push(c);
                *per.entry((a.platform, c)).or_insert(0) += 1;
            }
        }
    }
    let mut ranked: Vec<((Platform, &str), u64)> = per.into_iter().collect();
    ranked.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    let top: Vec<(Platform, &str)> = ranked.iter().take(3).map(|x| x.0).collect();
    let to_top = acts
        .iter()
        .filter(|a| {
            a.counterparts
                .iter()
                .any(|c| top.contains(&(a.platform, &**c)))
        })
        .count() as u64;
    ratio(to_top, acts.len() as u64)
}

fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(lo: Option<f64>, hi: Option<f64>) -> PeriodStats {
        PeriodStats {
            from: String::new(),
            to: String::new(),
            months: 12,
            broadcast: 0,
            self_thread: 0,
            amplification: 0,
            conversation: 0,
            conversation_private: 0,
            passive: 0,
            participation_ratio: None,
            ratio_low: lo,
            ratio_high: hi,
            people_engaged: 0,
            people_reciprocated: 0,
            reciprocated_share: None,
            received: 0,
            median_response_minutes: None,
            people_new: 0,
            unanswered: 0,
        }
    }

    #[test]
    fn trend_is_unclear_when_intervals_overlap() {
        let now = stats(Some(0.5), Some(0.7));
        assert_eq!(
            trend(&now, Some(&stats(Some(0.2), Some(0.4)))),
            Trend::Better
        );
        assert_eq!(
            trend(&now, Some(&stats(Some(0.75), Some(0.9)))),
            Trend::Worse
        );
        assert_eq!(
            trend(&now, Some(&stats(Some(0.3), Some(0.5)))),
            Trend::Unclear
        );
        assert_eq!(trend(&now, Some(&stats(None, None))), Trend::Unclear);
        assert_eq!(trend(&now, None), Trend::Unclear);
    }
}
