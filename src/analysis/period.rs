//! Figures over a period — a month, a quarter, a year or any run of months — read off the rows
//! and the [`Detail`] the analysis kept (docs/counting.md, *Periods*). Plain Rust over a
//! `Summary`; must not read files, draw or know about platforms' formats.

use rustc_hash::FxHashSet;

use super::{MonthCode, Summary, UNDATED, median_minutes, month_label, parse_month, ratio, wilson};
use crate::model::Platform;

/// Per-act facts that sums of monthly rows cannot give: who was engaged and who wrote, per
/// month (distinct people over a period), and every response gap (a median over a period).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detail {
    /// `(platform index, month, person)` of engaged counterparts, each triple once.
    pub engaged: Vec<(u8, MonthCode, u32)>,
    /// `(platform index, month, person)` of senders of counted `in` acts, each triple once.
    pub senders: Vec<(u8, MonthCode, u32)>,
    /// `(platform index, month, gap in ms)` of every owner answer.
    pub gaps: Vec<(u8, MonthCode, i64)>,
}

/// How a period was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Month,
    Quarter,
    Year,
    Months,
}

/// A run of calendar months, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First month.
    pub first: MonthCode,
    /// Last month.
    pub last: MonthCode,
    kind: Kind,
}

impl Period {
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    pub fn parse(s: &str) -> Option<Period> {
        let s = s.trim();
        if let Some(m) = parse_month(s) {
            return Some(Period {
                first: m,
                last: m,
                kind: Kind::Month,
            });
        }
        if let Some((y, q)) = s.split_once(['-', ' ']) {
            let q = q.strip_prefix(['Q', 'q'])?;
            let (y, q) = (year(y)?, q.parse::<i32>().ok()?);
            if !(1..=4).contains(&q) {
                return None;
            }
            let first = y * 12 + (q - 1) * 3;
            return Some(Period {
                first,
                last: first + 2,
                kind: Kind::Quarter,
            });
        }
        let y = year(s)?;
        Some(Period {
            first: y * 12,
            last: y * 12 + 11,
            kind: Kind::Year,
        })
    }

    /// The months `first..=last`.
    pub fn months(first: MonthCode, last: MonthCode) -> Period {
        Period {
            first,
            last,
            kind: Kind::Months,
        }
    }

    /// Number of months.
    pub fn len(&self) -> i32 {
        self.last - self.first + 1
    }

    /// True when the period has no month (never for a parsed one).
    pub fn is_empty(&self) -> bool {
        self.len() <= 0
    }

    /// True when `month` lies in the period.
    pub fn contains(&self, month: MonthCode) -> bool {
        month != UNDATED && (self.first..=self.last).contains(&month)
    }

    /// `2026-03`, `2026-Q1`, `2026`, or `2025-01..2025-12`.
    pub fn label(&self) -> String {
        let y = self.first.div_euclid(12);
        match self.kind {
            Kind::Month => month_label(self.first),
            Kind::Quarter => format!("{y:04}-Q{}", self.first.rem_euclid(12) / 3 + 1),
            Kind::Year => format!("{y:04}"),
            Kind::Months if self.first == self.last => month_label(self.first),
            Kind::Months => format!("{}..{}", month_label(self.first), month_label(self.last)),
        }
    }

    /// The period of the same length just before this one.
    pub fn before(&self) -> Period {
        self.shifted(-self.len())
    }

    /// The same period a year earlier.
    pub fn year_before(&self) -> Period {
        self.shifted(-12)
    }

    fn shifted(&self, by: i32) -> Period {
        Period {
            first: self.first + by,
            last: self.last + by,
            kind: self.kind,
        }
    }
}

fn year(s: &str) -> Option<i32> {
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Every metric over one period, for one platform or all (docs/counting.md, *Periods*).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PeriodStats {
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, `YYYY-MM`.
    pub to: String,
    /// Months in the period.
    pub months: u32,
    /// Sum over the months.
    pub broadcast: u64,
    /// Sum over the months.
    pub self_thread: u64,
    /// Sum over the months.
    pub amplification: u64,
    /// Sum over the months.
    pub conversation: u64,
    /// Sum over the months.
    pub conversation_private: u64,
    /// Sum over the months.
    pub passive: u64,
    /// conversation / (conversation + broadcast + amplification) of the sums.
    pub participation_ratio: Option<f64>,
    /// Wilson 95 % interval of the ratio, lower end.
    pub ratio_low: Option<f64>,
    /// Wilson 95 % interval of the ratio, upper end.
    pub ratio_high: Option<f64>,
    /// Distinct people engaged over the period.
    pub people_engaged: u64,
    /// Of those, the ones who also sent a counted `in` act in the period.
    pub people_reciprocated: u64,
    /// people_reciprocated / people_engaged.
    pub reciprocated_share: Option<f64>,
    /// Sum over the months.
    pub received: u64,
    /// Median of the period's response gaps, minutes.
    pub median_response_minutes: Option<f64>,
    /// Sum over the months: people engaged for the first time.
    pub people_new: u64,
    /// Sum over the months: conversations left waiting.
    pub unanswered: u64,
}

impl PeriodStats {
    /// The value of one `metrics.csv` column (`None` where undefined or not a metric).
    pub fn metric(&self, name: &str) -> Option<f64> {
        let n = |v: u64| Some(v as f64);
        match name {
            "broadcast" => n(self.broadcast),
            "self_thread" => n(self.self_thread),
            "amplification" => n(self.amplification),
            "conversation" => n(self.conversation),
            "conversation_private" => n(self.conversation_private),
            "passive" => n(self.passive),
            "participation_ratio" => self.participation_ratio,
            "people_engaged" => n(self.people_engaged),
            "people_reciprocated" => n(self.people_reciprocated),
            "received" => n(self.received),
            "median_response_minutes" => self.median_response_minutes,
            "people_new" => n(self.people_new),
            "unanswered" => n(self.unanswered),
            "ratio_low" => self.ratio_low,
            "ratio_high" => self.ratio_high,
            _ => None,
        }
    }
}

impl Summary {
    /// The figures of `period` for one platform (`None`: all platforms together). Counts are
    /// sums of the monthly rows; people are distinct over the period (ids per platform), the
    /// median is taken over the period's gaps.
    pub fn period(&self, platform: Option<Platform>, period: Period) -> PeriodStats {
        let name = platform.map_or("all", |p| p.as_str());
        let code = platform.map(|p| Platform::ALL.iter().position(|x| *x == p).unwrap_or(0) as u8);
        let mut s = PeriodStats {
            from: month_label(period.first),
            to: month_label(period.last),
            months: period.len().max(0) as u32,
            broadcast: 0,
            self_thread: 0,
            amplification: 0,
            conversation: 0,
            conversation_private: 0,
            passive: 0,
            participation_ratio: None,
            ratio_low: None,
            ratio_high: None,
            people_engaged: 0,
            people_reciprocated: 0,
            reciprocated_share: None,
            received: 0,
            median_response_minutes: None,
            people_new: 0,
            unanswered: 0,
        };
        for r in self
            .rows
            .iter()
            .filter(|r| r.platform == name && period.contains(r.month_code))
        {
            s.broadcast += r.broadcast;
            s.self_thread += r.self_thread;
            s.amplification += r.amplification;
            s.conversation += r.conversation;
            s.conversation_private += r.conversation_private;
            s.passive += r.passive;
            s.received += r.received;
            s.people_new += r.people_new;
            s.unanswered += r.unanswered;
        }
        let den = s.conversation + s.broadcast + s.amplification;
        s.participation_ratio = ratio(s.conversation, den);
        (s.ratio_low, s.ratio_high) = wilson(s.conversation, den).unzip();
        let within =
            |&&(p, m, _): &&(u8, MonthCode, u32)| code.is_none_or(|c| c == p) && period.contains(m);
        let engaged: FxHashSet<u32> = self
            .detail
            .engaged
            .iter()
            .filter(within)
            .map(|t| t.2)
            .collect();
        let senders: FxHashSet<u32> = self
            .detail
            .senders
            .iter()
            .filter(within)
            .map(|t| t.2)
            .collect();
        s.people_engaged = engaged.len() as u64;
        s.people_reciprocated = engaged.intersection(&senders).count() as u64;
        s.reciprocated_share = ratio(s.people_reciprocated, s.people_engaged);
        let mut gaps: Vec<i64> = self
            .detail
            .gaps
            .iter()
            .filter(|&&(p, m, _)| code.is_none_or(|c| c == p) && period.contains(m))
            .map(|t| t.2)
            .collect();
        s.median_response_minutes = median_of(&mut gaps).map(median_minutes);
        s
    }

    /// The dated months of the `all` rows, first and last.
    pub fn dated_span(&self) -> Option<(MonthCode, MonthCode)> {
        let mut dated = self
            .rows_of("all")
            .map(|r| r.month_code)
            .filter(|m| *m != UNDATED);
        let first = dated.next()?;
        Some((first, dated.last().unwrap_or(first)))
    }
}

/// The exact median of integer gaps (a whole or half unit), `None` when there are none.
fn median_of(v: &mut [i64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid] as f64
    } else {
        (v[mid - 1] as f64 + v[mid] as f64) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_label_and_shift() {
        let q = Period::parse("2026-Q1").expect("quarter");
        assert_eq!((q.first, q.last), (2026 * 12, 2026 * 12 + 2));
        assert_eq!(q.label(), "2026-Q1");
        assert_eq!(q.before().label(), "2025-Q4");
        assert_eq!(q.year_before().label(), "2025-Q1");
        let m = Period::parse("2026-03").expect("month");
        assert_eq!(m.before().label(), "2026-02");
        assert_eq!(
            Period::parse("2026-01").map(|p| p.before().label()),
            Some("2025-12".into())
        );
        let y = Period::parse("2026").expect("year");
        assert_eq!(
            (y.len(), y.label(), y.before().label()),
            (12, "2026".into(), "2025".into())
        );
        assert_eq!(Period::months(5, 7).len(), 3);
        for bad in ["2026-Q5", "2026-Q0", "26", "2026-13", "Q1", "20261", ""] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn median_of_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median_of(&mut [3, 1, 2]), Some(2.0));
        assert_eq!(median_of(&mut [4, 1, 2, 3]), Some(2.5));
        assert_eq!(median_of(&mut []), None);
    }
}
