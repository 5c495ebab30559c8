//! The self-contained `report.html`: the findings first, then the charts (embedded as data
//! URLs, each with alt text), the inputs, how counting works and the monthly table. Renders a
//! string from `Summary` and `RunInfo`; writes nothing itself. The page needs no script and no
//! network, and reflows down to a 390 px phone width (only the wide table scrolls, inside its
//! own box).

use std::fmt::Write as _;

use base64::Engine as _;

use super::table::{metrics_columns, row_cells};
use super::{RunInfo, words};
use crate::analysis::{Findings, Summary};
use crate::diag;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One chart on the page.
pub struct Figure<'a> {
    /// Heading above the chart.
    pub title: &'a str,
    /// What the chart shows, for people who cannot see it.
    pub alt: String,
    /// PNG bytes.
    pub png: &'a [u8],
}

const STYLE: &str = "\
*{box-sizing:border-box}\
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1200px;\
padding:1rem;color:#222;line-height:1.45;overflow-wrap:anywhere}\
h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.25rem;margin-top:2rem}\
img{display:block;max-width:100%;height:auto;border:1px solid #ddd}\
.headline{font-size:1.2rem;background:#eef6ef;border-left:6px solid #2ea043;padding:.6rem .9rem}\
.headline b{font-size:1.6rem}\
dl.findings{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:0}\
dl.findings dt{font-weight:600}dl.findings dd{margin:0}\
@media (max-width:600px){dl.findings{grid-template-columns:1fr}dl.findings dd{margin-bottom:.4rem}}\
ol.waiting{margin:.3rem 0 0;padding-left:1.4rem}\
.scroll{overflow-x:auto;max-width:100%}\
table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #ccc;padding:.2rem .45rem;\
text-align:right;overflow-wrap:normal}\
th{background:#f3f3f3}td:first-child,td:nth-child(2){text-align:left}.warn{color:#8a4b00}\
code{overflow-wrap:anywhere}";

/// The whole page.
pub fn report_page(summary: &Summary, info: &RunInfo, figures: &[Figure<'_>]) -> String {
    let mut s = String::with_capacity(256 * 1024);
    let _ = write!(
        s,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>rapport — do you network or broadcast?</title><style>{STYLE}</style></head><body>\n\
<h1>rapport — do you network, or only broadcast?</h1>\n"
    );
    findings_section(&mut s, summary.findings.as_ref());
    for f in figures {
        let b64 = base64::engine::general_purpose::STANDARD.encode(f.png);
        let _ = writeln!(
            s,
            "<h2>{}</h2><img alt=\"{}\" src=\"data:image/png;base64,{b64}\">",
            esc(f.title),
            esc(&f.alt)
        );
    }
    s.push_str("<h2>What was read</h2><ul>\n");
    for i in &info.inputs {
        let _ = writeln!(
            s,
            "<li><code>{}</code> — {} ({}), {} activities</li>",
            esc(&i.path),
            esc(&i.format),
            esc(&i.container),
            i.activities
        );
    }
    for o in &info.owners {
        let _ = writeln!(
            s,
            "<li>Owner on {}: <code>{}</code> ({})</li>",
            o.platform,
            esc(o.id.as_deref().unwrap_or("unknown")),
            esc(&o.how)
        );
    }
    let _ = writeln!(
        s,
        "</ul><p>Months in time zone <b>{}</b>; private conversations above {} people count as broadcast.</p>",
        esc(&info.settings.timezone),
        info.settings.group_max
    );
    s.push_str(
        "<h2>How rapport counts</h2><ul>\
<li><b>Conversation</b>: comments and replies on someone else's content, private messages in \
conversations of up to the group limit, invitations with a personal note, posts that start by \
addressing 1–3 people.</li>\
<li><b>Broadcast</b>: your own posts, shares and articles; messages to large lists.</li>\
<li><b>Amplification</b>: reposts without your own text. <b>Self-thread</b>: replies continuing \
your own post (reported, not in the ratio). <b>Passive</b>: reactions, votes, invitations without \
a note (never in the ratio).</li>\
<li><b>Participation ratio</b> = conversation / (conversation + broadcast + amplification), with \
its 95 % interval (Wilson): the range the ratio would likely fall in if the same habits made a \
different month. A month resting on a handful of acts has a wide interval.</li>\
<li><b>People engaged</b>: distinct people you addressed in conversation; <b>new</b>: engaged for \
the first time; <b>reciprocated</b>: of those, the ones who also wrote to you (message, \
invitation, reply) in the same month.</li>\
<li><b>Waiting</b>: private conversations whose latest message is someone else's, counted in the \
month of that message. <b>Median response</b>: minutes between a message you received and your \
answer in the same private conversation.</li></ul>\n\
<p>The full definition is <code>docs/counting.md</code> in rapport's repository.</p>\n",
    );
    s.push_str("<h2>Monthly metrics</h2><div class=\"scroll\"><table><thead><tr>");
    for c in metrics_columns() {
        let _ = write!(s, "<th>{c}</th>");
    }
    s.push_str("</tr></thead><tbody>\n");
    for r in &summary.rows {
        let cells = row_cells(r);
        s.push_str("<tr>");
        for c in cells {
            let _ = write!(s, "<td>{}</td>", esc(&c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n");
    if !info.problems.is_empty() {
        s.push_str("<h2>Warnings</h2><ul class=\"warn\">");
        for p in &info.problems {
            let _ = writeln!(s, "<li>{}</li>", esc(&diag::describe(p)));
        }
        s.push_str("</ul>");
    }
    for n in &info.notes {
        let _ = writeln!(s, "<p><small>{}</small></p>", esc(n));
    }
    s.push_str("</body></html>\n");
    s
}

/// The opening findings: the current ratio as a percentage, then the rest in plain words.
fn findings_section(s: &mut String, findings: Option<&Findings>) {
    s.push_str("<section id=\"findings\"><h2>What your last 12 months say</h2>\n");
    let Some(f) = findings else {
        s.push_str("<p class=\"headline\">No dated activity to judge by.</p></section>\n");
        return;
    };
    let c = &f.current;
    let ratio = c
        .participation_ratio
        .map(|r| format!("{r:.4}"))
        .unwrap_or_default();
    let headline = esc(&words::headline(f));
    // The percentage leads the sentence: make it stand out.
    let pct = words::percent(c.participation_ratio);
    let headline = match headline.strip_prefix(&pct) {
        Some(rest) if c.participation_ratio.is_some() => format!("<b>{pct}</b>{rest}"),
        _ => headline,
    };
    let _ = writeln!(
        s,
        "<p class=\"headline\" id=\"headline\" data-participation-ratio=\"{ratio}\" \
data-from=\"{}\" data-to=\"{}\" data-trend=\"{}\">{headline}</p>",
        esc(&c.from),
        esc(&c.to),
        f.trend.as_str()
    );
    s.push_str("<dl class=\"findings\">\n");
    for line in words::lines(f) {
        let _ = write!(s, "<dt>{}</dt><dd>{}", esc(line.label), esc(&line.text));
        if line.label == "Waiting" && !f.waiting.is_empty() {
            s.push_str("<ol class=\"waiting\">");
            for w in f.waiting.iter().take(words::WAITING_SHOWN) {
                let _ = write!(
                    s,
                    "<li>{} on {}: <code>{}</code></li>",
                    esc(w.since.get(..10).unwrap_or(&w.since)),
                    esc(&w.platform),
                    esc(words::who(w))
                );
            }
            s.push_str("</ol>");
            if f.waiting.len() > words::WAITING_SHOWN {
                let _ = write!(
                    s,
                    "<p>… and {} more (metrics.json lists them all).</p>",
                    f.waiting.len() - words::WAITING_SHOWN
                );
            }
        }
        s.push_str("</dd>\n");
    }
    s.push_str("</dl></section>\n");
}

/// Alt text of each chart: what it shows and its main numbers.
pub struct AltTexts {
    /// participation_ratio.png
    pub ratio: String,
    /// people.png
    pub people: String,
    /// unanswered.png
    pub waiting: String,
    /// activity_mix.png
    pub mix: String,
}

/// The alt texts of a summary's charts.
pub fn alt_texts(summary: &Summary) -> AltTexts {
    let dated: Vec<_> = summary
        .rows_of("all")
        .filter(|r| r.month_code != crate::analysis::UNDATED)
        .collect();
    let span = match (dated.first(), dated.last()) {
        (Some(a), Some(b)) if a.month != b.month => format!("from {} to {}", a.month, b.month),
        (Some(a), _) => format!("in {}", a.month),
        _ => return no_data(),
    };
    let sum = |f: fn(&crate::analysis::MonthlyRow) -> u64| dated.iter().map(|r| f(r)).sum::<u64>();
    let last = dated.last().map_or(String::new(), |r| {
        format!(
            "; {}: {} (interval {})",
            r.month,
            words::percent(r.participation_ratio),
            words::interval(r.ratio_low, r.ratio_high)
        )
    });
    AltTexts {
        ratio: format!(
            "Line chart of the participation ratio per month {span}, all platforms: monthly points \
inside their 95% interval band, a 3-month rolling line and a 50% reference line{last}."
        ),
        people: format!(
            "Bar chart of the people you talked with per month {span}: {} new people in all (dark \
part of each bar), the reciprocated ones as a line.",
            sum(|r| r.people_new)
        ),
        waiting: format!(
            "Bar chart of conversations waiting for your answer by the month of their last message \
{span}: {} in all.",
            sum(|r| r.unanswered)
        ),
        mix: format!(
            "Stacked bar chart of your acts per month {span}: {} conversation, {} broadcast, {} \
amplification, {} self-thread; {} passive acts as a line.",
            sum(|r| r.conversation),
            sum(|r| r.broadcast),
            sum(|r| r.amplification),
            sum(|r| r.self_thread),
            sum(|r| r.passive)
        ),
    }
}

fn no_data() -> AltTexts {
    let none = |what: &str| format!("Empty {what} chart: no dated activity.");
    AltTexts {
        ratio: none("participation ratio"),
        people: none("people"),
        waiting: none("waiting conversations"),
        mix: none("activity mix"),
    }
}
