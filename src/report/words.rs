//! The findings in plain words, shared by the terminal summary and `report.html` so both say
//! the same thing. Text only (the page escapes it); no Polars, no I/O.

use crate::analysis::{Findings, PeriodStats, Trend, Waiting};

/// Waiting conversations listed by name before "and N more".
pub const WAITING_SHOWN: usize = 10;

/// `42.0%`, or `n/a`.
pub fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |x| format!("{:.1}%", x * 100.0))
}

/// `35.1–49.2%`, or `n/a`.
pub fn interval(lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (Some(lo), Some(hi)) => format!("{:.1}–{:.1}%", lo * 100.0, hi * 100.0),
        _ => "n/a".into(),
    }
}

fn span(p: &PeriodStats) -> String {
    if p.from == p.to {
        p.from.clone()
    } else {
        format!("{} to {}", p.from, p.to)
    }
}

/// One finding: a short label and the sentence.
pub struct Line {
    /// What the line is about.
    pub label: &'static str,
    /// The sentence.
    pub text: String,
}

/// The headline: the current ratio with its interval, against the previous period.
pub fn headline(f: &Findings) -> String {
    let c = &f.current;
    if c.participation_ratio.is_none() {
        return format!(
            "You had no conversation, broadcast or amplification in {}.",
            span(c)
        );
    }
    format!(
        "{} of your acts in {} were conversation (95% interval {}): {} of {}.",
        percent(c.participation_ratio),
        span(c),
        interval(c.ratio_low, c.ratio_high),
        c.conversation,
        c.conversation + c.broadcast + c.amplification
    )
}

/// Every finding after the headline, in reading order.
pub fn lines(f: &Findings) -> Vec<Line> {
    let c = &f.current;
    let mut out = Vec::new();
    let trend = match (&f.previous, f.trend) {
        (None, _) => "No earlier period to compare with yet.".to_string(),
        (Some(p), t) => {
            let verdict = match t {
                Trend::Better => "better: the two intervals do not overlap",
                Trend::Worse => "worse: the two intervals do not overlap",
                Trend::Unclear => "unclear: the two intervals overlap, so the change may be chance",
            };
            format!(
                "{} in {} ({}), so the trend is {verdict}.",
                percent(p.participation_ratio),
                span(p),
                interval(p.ratio_low, p.ratio_high)
            )
        }
    };
    out.push(Line {
        label: "Before",
        text: trend,
    });
    out.push(Line {
        label: "Acts",
        text: format!(
            "{} conversation, {} broadcast, {} amplification{}.",
            c.conversation,
            c.broadcast,
            c.amplification,
            f.previous
                .as_ref()
                .map(|p| format!(
                    " (before: {}, {}, {})",
                    p.conversation, p.broadcast, p.amplification
                ))
                .unwrap_or_default()
        ),
    });
    out.push(Line {
        label: "People",
        text: format!(
            "You talked with {} {}, {} of them for the first time; {} wrote to you too ({}){}.",
            c.people_engaged,
            if c.people_engaged == 1 {
                "person"
            } else {
                "people"
            },
            c.people_new,
            c.people_reciprocated,
            percent(c.reciprocated_share),
            f.previous
                .as_ref()
                .map(|p| format!(
                    " — before: {} people, {} new",
                    p.people_engaged, p.people_new
                ))
                .unwrap_or_default()
        ),
    });
    out.push(Line {
        label: "Answers",
        text: match c.median_response_minutes {
            Some(m) => format!("Your median time to answer a message was {m:.1} minutes."),
            None => "No answer to a received message in this period.".into(),
        },
    });
    out.push(Line {
        label: "Focus",
        text: match f.top3_share {
            Some(s) => format!(
                "{} of your conversation acts went to the 3 people you addressed most.",
                percent(Some(s))
            ),
            None => "No conversation act with a known person in this period.".into(),
        },
    });
    out.push(Line {
        label: "Waiting",
        text: match f.waiting.len() {
            0 => "Nobody is waiting for an answer from you in this period.".into(),
            1 => "1 conversation is waiting for your answer:".into(),
            n => format!("{n} conversations are waiting for your answer, most recent first:"),
        },
    });
    out
}

/// `2026-03-02  linkedin  https://…` for one waiting conversation.
pub fn waiting_line(w: &Waiting) -> String {
    format!(
        "{}  {}  {}",
        w.since.get(..10).unwrap_or(&w.since),
        w.platform,
        who(w)
    )
}

/// The person waiting, or what is known of them.
pub fn who(w: &Waiting) -> &str {
    w.who.as_deref().unwrap_or("a deleted account")
}
