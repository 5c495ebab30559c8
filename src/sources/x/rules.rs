//! The X rules a tweet is mapped by (docs/counting.md, *X / Twitter*): retweet before reply
//! before post, the leading run of `@handle`s, numeric user ids as the only counterparts. Pure
//! functions shared by the archive importer and an API fetcher; no I/O.

use std::borrow::Cow;
use std::sync::Arc;

use crate::diag::Diagnostics;
use crate::model::{Activity, Direction, Hints, Interner, Kind, Platform, Source};
use crate::sources::text::parse_datetime;

/// A mention entity: the handle and, when the archive or API gives it, the numeric user id.
#[derive(Debug, Clone, Copy)]
pub struct MentionFact<'a> {
    /// The handle, with or without its `@`.
    pub handle: &'a str,
    /// The user id, if known.
    pub id: Option<&'a str>,
}

/// What the rules look at in one tweet, from an archive file or the API.
#[derive(Debug, Clone, Default)]
pub struct TweetFacts<'a> {
    /// The tweet id.
    pub id: &'a str,
    /// The text as X stores it (HTML-escaped).
    pub text: &'a str,
    /// When, in ms since the epoch; `None` when undated.
    pub at: Option<i64>,
    /// `in_reply_to_status_id`.
    pub reply_status: Option<&'a str>,
    /// `in_reply_to_user_id`.
    pub reply_user: Option<&'a str>,
    /// A retweet marker other than the `RT @` text (Grailbird's `retweeted_status`, the old
    /// CSV's `retweeted_status_id`, the API's `referenced_tweets` of type `retweeted`).
    pub retweet: bool,
    /// The mention entities.
    pub mentions: Vec<MentionFact<'a>>,
}

/// Maps one tweet onto an Activity (docs/counting.md, *X / Twitter*): retweet before reply
/// before post.
pub(crate) fn tweet_activity(
    t: &TweetFacts<'_>,
    owner: Option<&str>,
    source: &Source,
    seq: u64,
    people: &mut Interner,
) -> Activity {
    let text = unescape_html(t.text);
    let mut a = Activity::new(
        Platform::X,
        t.id.to_string(),
        t.at,
        Direction::Out,
        Kind::Post,
        source.clone(),
    );
    a.hints.seq = seq;
    if text.starts_with("RT @") || t.retweet {
        a.kind = Kind::Repost;
    } else if t.reply_status.is_some() || t.reply_user.is_some() {
        a.kind = Kind::Reply;
        a.hints.set_parent(t.reply_status.map(String::from));
        let to_owner = owner.is_some() && t.reply_user == owner;
        a.hints.parent_is_owner = to_owner;
        if !to_owner && let Some(u) = t.reply_user.filter(|u| is_user_id(u)) {
            a.hints.set_parent_author(Some(u.to_string()));
            a.counterparts = vec![people.get(u)].into();
        }
    } else {
        let handles = leading_mentions(&text);
        if !handles.is_empty() {
            a.hints.leading_mentions = Hints::mentions(handles.len());
            // Counterparts are numeric user ids only: a handle without its `user_mentions`
            // entity still addresses someone, but nobody known (docs/counting.md, *X / Twitter*).
            let mut counterparts: Vec<Arc<str>> = Vec::new();
            for h in handles {
                let who = t
                    .mentions
                    .iter()
                    .find(|m| m.handle.trim_start_matches('@').eq_ignore_ascii_case(h))
                    .and_then(|m| m.id)
                    .filter(|id| is_user_id(id));
                if let Some(who) = who
                    && Some(who) != owner
                    && !counterparts.iter().any(|c| **c == *who)
                {
                    counterparts.push(people.get(who));
                }
            }
            a.counterparts = counterparts.into();
        }
    }
    a
}

/// An X user id: decimal digits.
pub fn is_user_id(s: &str) -> bool {
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
pub fn unescape_html(s: &str) -> Cow<'_, str> {
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
pub fn leading_mentions(text: &str) -> Vec<&str> {
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
