//! The Mastodon rules shared by the archive importer and the API fetcher: a status's facts →
//! an Activity (visibility before the reply rules), the author of a status URI, the visible
//! text of a status's HTML and its leading run of mentions (docs/counting.md, *Mastodon*). Pure
//! functions; no I/O.

use std::sync::Arc;

use crate::diag::Diagnostics;
use crate::model::{Activity, ActivityId, Direction, Hints, Interner, Kind, Platform, Source};
use crate::sources::text::parse_datetime;

/// The names of the Public collection .
pub(super) fn is_public(uri: &str) -> bool {
    matches!(
        uri,
        "https://www.w3.org/ns/activitystreams#Public"
            | "http://www.w3.org/ns/activitystreams#Public"
            | "as:Public"
            | "Public"
    )
}

/// The author of a status URI (docs/counting.md, *Mastodon*):
/// `…/users/<name>/statuses/<id>` → `…/users/<name>` (also `…/ap/users/<id>/statuses/<id>`).
pub(crate) fn author_of(uri: &str) -> Option<&str> {
    let i = uri.find("/statuses/")?;
    if uri[i + 10..].is_empty() {
        return None;
    }
    let actor = &uri[..i];
    let j = actor.rfind("/users/")?;
    let name = &actor[j + 7..];
    (!name.is_empty() && !name.contains('/')).then_some(actor)
}

/// What the archive and the API both know of one status, reduced to what the rules need
/// (docs/counting.md, *Mastodon*). Both paths fill it and call [`status_activity`], so a
/// status fetched and the same status exported are classified alike.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusFacts {
    /// The status URI (a boost: its activity URI).
    pub id: String,
    /// When it was published (ms since the epoch, UTC).
    pub at: Option<i64>,
    /// Position in the source, for ties.
    pub seq: u64,
    /// An Announce / reblog.
    pub boost: bool,
    /// The URI of the status it replies to.
    pub parent: Option<String>,
    /// The parent is one of the owner's statuses.
    pub parent_own: bool,
    /// The parent's author where the source knows it directly (the API's
    /// `in_reply_to_account_id`, resolved); else it is read from the parent URI or mentions.
    pub parent_author: Option<String>,
    /// For a private status: the actors it is addressed to, the owner left out (never empty).
    pub private_to: Option<Vec<String>>,
    /// The private conversation it belongs to.
    pub conversation: Option<String>,
    /// `Mention` tags: (actor URI, `@name`).
    pub mentions: Vec<(String, String)>,
    /// The leading run of `@user` / `@user@host` tokens of the visible text (top-level posts).
    pub leading: Vec<String>,
}

/// The Activity of one status (docs/counting.md, *Mastodon*: visibility before the reply
/// rules; the classifier then applies the mode rules).
pub(crate) fn status_activity(
    s: StatusFacts,
    owner: Option<&str>,
    people: &mut Interner,
    source: &Source,
) -> Activity {
    let mut a = Activity::new(
        Platform::Mastodon,
        String::new(),
        s.at,
        Direction::Out,
        Kind::Post,
        source.clone(),
    );
    a.hints.seq = s.seq;
    if s.boost {
        a.kind = Kind::Repost;
        a.id = ActivityId::new(&s.id);
        return a;
    }
    if let Some(p) = &s.parent {
        a.kind = Kind::Reply;
        a.hints.set_parent(Some(p.clone()));
        if s.parent_own {
            a.hints.parent_is_owner = true;
        } else {
            let author = s
                .parent_author
                .clone()
                .filter(|w| Some(w.as_str()) != owner)
                .or_else(|| author_of(p).map(str::to_string))
                .or_else(|| {
                    s.mentions
                        .iter()
                        .map(|(href, _)| href)
                        .find(|h| Some(h.as_str()) != owner)
                        .cloned()
                });
            if let Some(who) = author {
                a.counterparts = vec![people.get(&who)].into();
                a.hints.set_parent_author(Some(who));
            }
        }
    }
    match s.private_to.filter(|to| !to.is_empty()) {
        Some(to) => {
            a.kind = Kind::Message;
            a.set_participants(Some(1 + to.len() as u32));
            a.counterparts = to.iter().map(|r| people.get(r)).collect();
            a.conversation = s.conversation.map(|c| people.name(&c));
        }
        None if s.parent.is_none() && !s.leading.is_empty() => {
            a.hints.leading_mentions = Hints::mentions(s.leading.len());
            let mut counterparts: Vec<Arc<str>> = Vec::new();
            for token in &s.leading {
                if let Some(href) = mention_href(token, &s.mentions)
                    && Some(href) != owner
                    && !counterparts.iter().any(|c| **c == *href)
                {
                    counterparts.push(people.get(href));
                }
            }
            a.counterparts = counterparts.into();
        }
        None => {}
    }
    a.id = ActivityId::new(&s.id);
    a
}

/// The activity's `published`, else the status's (docs/counting.md, *Mastodon*).
pub(super) fn status_date(
    activity: Option<&str>,
    object: Option<&str>,
    source: &str,
    line: u64,
    diag: &mut Diagnostics,
) -> Option<i64> {
    let candidates = [activity, object];
    for raw in candidates.iter().flatten() {
        if let Some(at) = parse_datetime(raw) {
            return Some(at);
        }
    }
    match candidates.iter().flatten().next() {
        None => diag.warn(
            source,
            Some(line),
            "missing date (counted as undated)",
            String::new(),
        ),
        Some(raw) => diag.warn(
            source,
            Some(line),
            "unparseable date (counted as undated)",
            format!("{raw:?}"),
        ),
    }
    None
}

/// The href of the `Mention` tag named by a leading token (`user` or `user@host`): the exact
/// name first, else the first tag with the same user part.
pub(super) fn mention_href<'a>(token: &str, mentions: &'a [(String, String)]) -> Option<&'a str> {
    let token = token.to_lowercase();
    let user = token.split('@').next().unwrap_or("");
    let name_of = |n: &str| n.trim_start_matches('@').to_lowercase();
    mentions
        .iter()
        .find(|(_, n)| name_of(n) == token)
        .or_else(|| {
            mentions
                .iter()
                .find(|(_, n)| name_of(n).split('@').next() == Some(user))
        })
        .map(|(h, _)| h.as_str())
}

/// The leading run of `@user` / `@user@host` tokens of a status's HTML `content` (its visible
/// text), without the `@` (docs/counting.md, *Mastodon*).
pub(crate) fn leading_tokens(html: &str) -> Vec<String> {
    leading_mentions(&html_text(html))
}

/// The visible text of a status's HTML: tags removed (`<br>` and block ends become a space),
/// entities decoded.
pub(super) fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len().min(1024));
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(inner) = tail.strip_prefix('<') {
            let (tag, end) = match inner.find('>') {
                Some(j) => (&inner[..j], j + 2),
                None => (inner, tail.len()),
            };
            let tag = tag.to_ascii_lowercase();
            let name = tag.trim_start_matches('/');
            let name = name
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or("");
            if matches!(name, "br" | "p" | "div" | "li" | "blockquote") {
                out.push(' ');
            }
            rest = &tail[end..];
        } else {
            match decode_entity(tail) {
                Some((c, len)) => {
                    out.push(c);
                    rest = &tail[len..];
                }
                None => {
                    out.push('&');
                    rest = &tail[1..];
                }
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes the entity at the start of `s` (`&amp;`, `&#39;`, `&#x41;`, `&nbsp;`, …): the
/// character and the entity's length.
pub(super) fn decode_entity(s: &str) -> Option<(char, usize)> {
    let end = s.get(1..)?.find(';')? + 1;
    if end > 12 {
        return None;
    }
    let name = &s[1..end];
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse::<u32>().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}

/// The leading run of `@user` / `@user@host` tokens (separated by whitespace, `,`, `;`, `:`),
/// without the `@`. `.@name` does not start with `@` and gives none.
pub(super) fn leading_mentions(text: &str) -> Vec<String> {
    let is_user = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '-');
    let is_host = |c: char| c.is_alphanumeric() || matches!(c, '.' | '-' | ':');
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while let Some(after) = rest.strip_prefix('@') {
        let user_len = after.find(|c: char| !is_user(c)).unwrap_or(after.len());
        let user = after[..user_len].trim_end_matches(['.', '-']);
        if user.is_empty() {
            break;
        }
        let mut token_len = user.len();
        let mut token = user.to_string();
        if after[user.len()..].starts_with('@') {
            let host_part = &after[user.len() + 1..];
            let host_len = host_part
                .find(|c: char| !is_host(c))
                .unwrap_or(host_part.len());
            let host = host_part[..host_len].trim_end_matches(['.', '-', ':']);
            if !host.is_empty() {
                token = format!("{user}@{host}");
                token_len = user.len() + 1 + host.len();
            }
        }
        out.push(token);
        let tail = &after[token_len..];
        let next =
            tail.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':'));
        if next.len() == tail.len() {
            break;
        }
        rest = next;
    }
    out
}
