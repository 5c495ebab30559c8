//! The self-contained `report.html`: charts embedded as data URLs, the monthly table, and how
//! counting works. Renders a string from `Summary` and `RunInfo`; writes nothing itself.

use std::fmt::Write as _;

use base64::Engine as _;

use super::RunInfo;
use super::table::{fmt_minutes, fmt_ratio, metrics_columns};
use crate::analysis::Summary;
use crate::diag;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The whole page.
pub fn report_page(summary: &Summary, info: &RunInfo, charts: &[(&str, &[u8])]) -> String {
    let mut s = String::with_capacity(256 * 1024);
    s.push_str(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>rapport — do you network or broadcast?</title><style>\
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}img{max-width:100%;height:auto;border:1px solid #ddd}\
table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #ccc;padding:.2rem .45rem;text-align:right}\
th{background:#f3f3f3}td:first-child,td:nth-child(2){text-align:left}.warn{color:#8a4b00}\
</style></head><body>\n<h1>rapport — do you network, or only broadcast?</h1>\n",
    );
    let _ = writeln!(s, "<p>Exports read:</p><ul>");
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
    for (title, png) in charts {
        let b64 = base64::engine::general_purpose::STANDARD.encode(png);
        let _ = writeln!(
            s,
            "<h2>{}</h2><img alt=\"{}\" src=\"data:image/png;base64,{b64}\">",
            esc(title),
            esc(title)
        );
    }
    s.push_str(
        "<h2>How rapport counts</h2><ul>\
<li><b>Conversation</b>: comments and replies on someone else's content, private messages in \
conversations of up to the group limit, invitations with a personal note, posts that start by \
addressing 1–3 people.</li>\
<li><b>Broadcast</b>: your own posts, shares and articles; messages to large lists.</li>\
<li><b>Amplification</b>: reposts without your own text. <b>Self-thread</b>: replies continuing \
your own post (reported, not in the ratio). <b>Passive</b>: reactions, votes, invitations without \
a note (never in the ratio).</li>\
<li><b>Participation ratio</b> = conversation / (conversation + broadcast + amplification). \
<b>People engaged</b>: distinct people you addressed in conversation; <b>reciprocated</b>: of \
those, the ones who also wrote to you (message, invitation, reply) in the same month.</li>\
<li><b>Median response</b>: minutes between a message you received and your answer in the \
same private conversation.</li></ul>\n",
    );
    s.push_str("<h2>Monthly metrics</h2><table><thead><tr>");
    for c in metrics_columns() {
        let _ = write!(s, "<th>{c}</th>");
    }
    s.push_str("</tr></thead><tbody>\n");
    for r in &summary.rows {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.month,
            r.platform,
            r.broadcast,
            r.self_thread,
            r.amplification,
            r.conversation,
            r.conversation_private,
            r.passive,
            fmt_ratio(r.participation_ratio),
            r.people_engaged,
            r.people_reciprocated,
            r.received,
            fmt_minutes(r.median_response_minutes)
        );
    }
    s.push_str("</tbody></table>\n");
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
