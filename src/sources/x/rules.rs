//! The X rules a tweet is mapped by (docs/counting.md, *X / Twitter*): retweet before reply
//! before post, the leading run of `@handle`s, numeric user ids as the only counterparts. Pure
//! functions shared by the archive importer and an API fetcher; no I/O.

use std::borrow::Cow;
use std::sync::Arc;

use super::tweets::RawTweet;
use crate::diag::Diagnostics;
use crate::model::{Activity, Direction, Kind, Platform};
use crate::sources::common::Interner;
use crate::sources::text::parse_datetime;

/// Maps one tweet onto an Activity (docs/counting.md, *X / Twitter*): retweet before reply before post.
pub(super) fn tweet_activity(
    t: &RawTweet,
    owner: Option<&str>,
    source: &Arc<str>,
    seq: u64,
    record: u64,
    people: &mut Interner,
    diag: &mut Diagnostics,
) -> Activity {
    let id = t.id().unwrap_or_default().to_string();
    let raw_text = t.full_text.as_deref().or(t.text.as_deref()).unwrap_or("");
    let text = unescape_html(raw_text);
    let at = tweet_date(t.created_at.as_deref(), source, record, diag);
    let mut a = Activity::new(
        Platform::X,
        id,
        at,
        Direction::Out,
        Kind::Post,
        source.clone(),
    );
    a.hints.seq = seq;
    let reply_status = t.reply_status_str.as_ref().or(t.reply_status.as_ref());
    let reply_user = t.reply_user_str.as_ref().or(t.reply_user.as_ref());
    if text.starts_with("RT @") || t.retweeted_status || t.retweeted_status_id {
        a.kind = Kind::Repost;
    } else if reply_status.is_some() || reply_user.is_some() {
        a.kind = Kind::Reply;
        a.hints.parent = reply_status.cloned();
        let to_owner = owner.is_some() && reply_user.map(String::as_str) == owner;
        a.hints.parent_is_owner = to_owner;
        if !to_owner && let Some(u) = reply_user.filter(|u| is_user_id(u)) {
            a.hints.parent_author = Some(u.clone());
            a.counterparts = vec![people.get(u)];
        }
    } else {
        let handles = leading_mentions(&text);
        if !handles.is_empty() {
            a.hints.leading_mentions = Some(handles.len() as u32);
            // Counterparts are numeric user ids only: a handle without its `user_mentions`
            // entity still addresses someone, but nobody known (docs/counting.md, *X / Twitter*).
            for h in handles {
                let who = t
                    .mentions
                    .iter()
                    .find(|m| {
                        m.screen_name
                            .0
                            .as_deref()
                            .is_some_and(|s| s.trim_start_matches('@').eq_ignore_ascii_case(h))
                    })
                    .and_then(|m| m.id_str.0.as_ref().or(m.id.0.as_ref()))
                    .filter(|id| is_user_id(id));
                if let Some(who) = who
                    && Some(who.as_str()) != owner
                    && !a.counterparts.iter().any(|c| **c == **who)
                {
                    a.counterparts.push(people.get(who));
                }
            }
        }
    }
    a
}

/// An X user id: decimal digits.
pub(super) fn is_user_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

pub(super) fn tweet_date(
    raw: Option<&str>,
    source: &str,
    record: u64,
    diag: &mut Diagnostics,
) -> Option<i64> {
    let raw = raw.unwrap_or("");
    if raw.trim().is_empty() {
        diag.warn(
            source,
            Some(record),
            "missing date (counted as undated)",
            String::new(),
        );
        return None;
    }
    let at = parse_datetime(raw);
    if at.is_none() {
        diag.warn(
            source,
            Some(record),
            "unparseable date (counted as undated)",
            format!("{:?}", raw.trim()),
        );
    }
    at
}

/// Undoes the HTML escaping of tweet texts (`&amp; &lt; &gt; &quot; &#39;`, numeric entities).
pub(super) fn unescape_html(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail[1..].find(';').map(|j| j + 1).filter(|&j| j <= 10);
        let decoded = end.and_then(|j| {
            let name = &tail[1..j];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse::<u32>().ok()?,
                    };
                    char::from_u32(code)
                }
            };
            c.map(|c| (c, j))
        });
        match decoded {
            Some((c, j)) => {
                out.push(c);
                rest = &tail[j + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The leading run of `@handle`s (1–15 of `[A-Za-z0-9_]`), separated by whitespace, `,`, `;`
/// or `:`. `.@name` does not start with `@` and gives none.
pub(crate) fn leading_mentions(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() && b[i] == b'@' {
        let start = i + 1;
        let mut j = start;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        if j == start || j - start > 15 || b.get(j) == Some(&b'@') {
            break;
        }
        out.push(&text[start..j]);
        let mut k = j;
        while k < b.len() && (b[k].is_ascii_whitespace() || matches!(b[k], b',' | b';' | b':')) {
            k += 1;
        }
        if k == j {
            break;
        }
        i = k;
    }
    out
}
