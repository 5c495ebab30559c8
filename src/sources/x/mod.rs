//! X / Twitter archive (zip or folder) → Activities. Owns every X format quirk:
//! 2019+ "YTD" files (`window.YTD.<name>.partN = [...]`), pre-2019 `tweets.csv` (two header
//! generations) and Grailbird month files (`data/js/tweets/YYYY_MM.js`, found by their first line
//! wherever they sit), plus owner identification (docs/counting.md,
//! *Owner*). Must not classify modes (it only sets hints), touch Polars, the network or stdout.
//!
//! Files are found by basename, case-insensitively, at any depth. Every `.js` file is streamed:
//! the `window.YTD… =` prefix is skipped byte by byte and the JSON array is deserialized one
//! element at a time into a small typed struct that becomes an `Activity` at once, so a 500 MB
//! `tweets.js` is never held in memory as text or as a JSON tree. Ids stay strings (snowflakes
//! exceed 2^53; numbers are taken as `u64`, never `f64`).
//!
//! Order: the owner (`account.js`, else `user_details.js`), then DMs (kept as compact rows: the
//! owner may have to come from them, and participants need whole conversations), then tweets
//! (JSON files, then `tweets.csv`, de-duplicated by id), DMs, likes.
//!
//! Not read: `deleted-tweets.js` (tweets the owner deleted; the archive keeps them apart and the
//! user withdrew them), `note-tweet.js` (the long text of tweets already in `tweets.js`; its join
//! key is unconfirmed and the tweet itself is counted once), headers, followers and the rest.
//!
//! Layout: `owner.rs` finds the owner, `tweets.rs` streams tweets (JSON and CSV) and likes,
//! `dms.rs` direct messages, `rules.rs` holds the mapping of a tweet to an Activity (retweet,
//! reply, addressed mention) that an X API fetcher shares.

pub(crate) mod dms;
mod owner;
pub mod rules;
#[cfg(test)]
mod tests;
mod tweets;

use std::io::{self, Read};

use serde::de::DeserializeOwned;

use super::archive::{Archive, Entry};
use super::json::{Spec, Streamed, stream_items};
use super::{ImportOptions, Importer, Owner, Sink};
use crate::diag::Diagnostics;
use crate::error::SourceError;
use crate::model::{Interner, Platform};
use dms::{DmStore, push_dms, read_dms};
use owner::{dms_owner, mark_self_replies, read_account, read_user_details, self_reply_owner};
use tweets::{IdSet, TweetState, read_likes, read_tweets_csv, read_tweets_js};

/// An X data file: a JSON array after a `window.YTD.… =` (or `Grailbird.data.… =`) prefix.
const YTD: Spec<'static> = Spec {
    items: &[],
    keep: &[],
    js_prefix: true,
};

/// Streams the array of an X data file, calling `each(index, item)` per element.
fn stream_array<T, F>(r: &mut dyn Read, each: F) -> io::Result<Streamed>
where
    T: DeserializeOwned + Send,
    F: FnMut(u64, T),
{
    stream_items(r, YTD, each, |_, _| {})
}

/// Reports an X data file whose stream ended early or held no array.
fn report_stream(diag: &mut Diagnostics, source: &str, streamed: Streamed) {
    super::json::report_stream(diag, source, streamed, Some("JSON array"));
}

/// The X / Twitter archive importer.
pub struct XArchive;

/// Bytes read from a `.js` or `.csv` file to recognise it.
const HEAD_BYTES: usize = 512;

/// How many `.js` files with unknown names `sniff` looks into (the archive viewer ships its own
/// JavaScript next to the data).
const SNIFF_OTHER_JS: usize = 32;

/// What a file holds, decided from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FileKind {
    /// `account.js`: the owner.
    Account,
    /// Grailbird `data/js/user_details.js`: the owner of a pre-2019 archive.
    UserDetails,
    /// `direct-messages(-group)(-partN).js`.
    Dms,
    /// `tweets.js`, `tweet.js`, `tweets-partN.js`, `community-tweet.js`.
    Tweets,
    /// A Grailbird month (`Grailbird.data.tweets_YYYY_MM = [...]`), found by its first line.
    Grailbird,
    /// Pre-2019 `tweets.csv`.
    TweetsCsv,
    /// `like.js`.
    Likes,
}

/// A recognised file: kind, base name without the part suffix, part number.
#[derive(Debug, Clone)]
struct XFile<'a> {
    kind: FileKind,
    stem: String,
    part: u32,
    entry: &'a Entry,
}

/// `tweets-part12.js` → (`tweets`, 12); `tweets.js` → (`tweets`, 0).
fn split_part(stem: &str) -> (&str, u32) {
    if let Some(i) = stem.rfind("-part") {
        let digits = &stem[i + 5..];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return (&stem[..i], digits.parse().unwrap_or(u32::MAX));
        }
    }
    (stem, 0)
}

fn is_grailbird_month(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'_'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && name.ends_with(".js")
}

/// Decides what a file is from its path (basename, case-insensitive, any depth).
fn file_kind(entry: &Entry) -> Option<XFile<'_>> {
    let lower = entry.name.to_lowercase();
    let base = lower.rsplit('/').next().unwrap_or(&lower);
    let make = |kind, stem: &str, part| {
        Some(XFile {
            kind,
            stem: stem.to_string(),
            part,
            entry,
        })
    };
    if base == "tweets.csv" {
        return make(FileKind::TweetsCsv, "tweets", 0);
    }
    let stem = base.strip_suffix(".js")?;
    let (name, part) = split_part(stem);
    let kind = match name {
        "account" => FileKind::Account,
        "user_details" => FileKind::UserDetails,
        "tweets" | "tweet" | "community-tweet" | "community-tweets" => FileKind::Tweets,
        "direct-messages" | "direct-message" | "direct-messages-group" | "direct-message-group" => {
            FileKind::Dms
        }
        "like" | "likes" => FileKind::Likes,
        _ => return None,
    };
    make(kind, name, part)
}

/// The first bytes of a `.js` file after a BOM and whitespace.
fn js_start(head: &[u8]) -> &[u8] {
    let start = head
        .iter()
        .position(|b| !(b.is_ascii_whitespace() || matches!(b, 0xEF | 0xBB | 0xBF)))
        .unwrap_or(head.len());
    &head[start..]
}

/// True when the first bytes of a `.js` file are an X data file.
fn is_x_js(head: &[u8]) -> bool {
    let head = js_start(head);
    head.starts_with(b"window.YTD.") || head.starts_with(b"Grailbird.data")
}

/// True when a `.js` file is a Grailbird month of tweets: its first line is
/// `Grailbird.data.tweets_YYYY_MM =`, wherever the file sits and whatever its name.
fn is_grailbird_tweets(head: &[u8]) -> bool {
    js_start(head).starts_with(b"Grailbird.data.tweets_")
}

/// True when the header line of a CSV names `tweet_id`.
fn is_tweets_csv(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let first = text.lines().next().unwrap_or("").to_lowercase();
    first.split(',').any(|c| {
        c.trim()
            .trim_start_matches('\u{FEFF}')
            .trim_matches('"')
            .trim()
            == "tweet_id"
    })
}

impl Importer for XArchive {
    fn platform(&self) -> Platform {
        Platform::X
    }

    fn name(&self) -> &'static str {
        "X/Twitter archive"
    }

    fn sniff(&self, archive: &Archive) -> Result<bool, SourceError> {
        let mut known = Vec::new();
        let mut other = Vec::new();
        for entry in archive.entries() {
            let lower = entry.name.to_lowercase();
            if entry.basename().eq_ignore_ascii_case("tweets.csv") {
                if is_tweets_csv(&archive.head(entry, HEAD_BYTES)?) {
                    return Ok(true);
                }
            } else if lower.ends_with(".js") {
                if file_kind(entry).is_some() || is_grailbird_month(entry.basename()) {
                    known.push(entry);
                } else if other.len() < SNIFF_OTHER_JS {
                    other.push(entry);
                }
            }
        }
        for entry in known.into_iter().chain(other) {
            if is_x_js(&archive.head(entry, HEAD_BYTES)?) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn read(
        &self,
        archive: &Archive,
        options: &ImportOptions,
        sink: &mut dyn Sink,
    ) -> Result<(), SourceError> {
        let mut files: Vec<XFile<'_>> = Vec::new();
        let mut ignored = 0usize;
        for entry in archive.entries() {
            match file_kind(entry) {
                Some(f) => files.push(f),
                // Grailbird month files are known by their first line, not their name.
                None if entry.name.to_ascii_lowercase().ends_with(".js")
                    && is_grailbird_tweets(&archive.head(entry, HEAD_BYTES)?) =>
                {
                    files.push(XFile {
                        kind: FileKind::Grailbird,
                        stem: entry.basename().to_ascii_lowercase(),
                        part: 0,
                        entry,
                    });
                }
                None => ignored += 1,
            }
        }
        if let Some(damage) = archive.damage() {
            sink.diag().warn(
                &archive.path().display().to_string(),
                None,
                "damaged archive: files after the damage were not read",
                damage.to_string(),
            );
        }
        if ignored > 0 {
            sink.diag().note(format!(
                "{}: {ignored} file(s) hold no participation data and were not read",
                archive.path().display()
            ));
        }
        // Kind, then base name, then part number (tweets.js before tweets-part1.js), then path.
        files.sort_by(|a, b| {
            (a.kind, &a.stem, a.part, &a.entry.name).cmp(&(b.kind, &b.stem, b.part, &b.entry.name))
        });
        let of = |k: FileKind| files.iter().filter(move |f| f.kind == k);

        // 1. The owner: `--me`, else the files made for it.
        let mut owner: Option<(String, String)> = options
            .me_for(Platform::X)
            .map(|id| (id.to_string(), "given with --me".to_string()));
        for f in of(FileKind::Account) {
            if owner.is_none()
                && let Some(id) = read_account(archive, f.entry, sink.diag())?
            {
                owner = Some((id, format!("accountId in {}", f.entry.name)));
            }
        }
        for f in of(FileKind::UserDetails) {
            if owner.is_none()
                && let Some(id) = read_user_details(archive, f.entry, sink.diag())?
            {
                owner = Some((id, format!("id in {}", f.entry.name)));
            }
        }

        // 2. DMs, kept as compact rows.
        let mut dms = DmStore::default();
        for f in of(FileKind::Dms) {
            read_dms(archive, f.entry, &mut dms, sink.diag())?;
        }
        if owner.is_none() {
            owner = dms_owner(&dms, sink.diag());
        }

        // 3. Tweets, streamed: JSON files first (they carry user ids), then CSV. Without an
        // owner yet, the activities wait for the last fallback (self-replies, below).
        let owner_id = owner.as_ref().map(|(id, _)| id.clone());
        let mut tweets = TweetState {
            owner: owner_id.as_deref(),
            seen: IdSet::default(),
            duplicates: 0,
            people: Interner::default(),
            deferred: owner_id.is_none().then(Vec::new),
        };
        for f in files
            .iter()
            .filter(|f| matches!(f.kind, FileKind::Tweets | FileKind::Grailbird))
        {
            read_tweets_js(archive, f.entry, &mut tweets, sink)?;
        }
        for f in of(FileKind::TweetsCsv) {
            read_tweets_csv(archive, f.entry, &mut tweets, sink)?;
        }
        if tweets.duplicates > 0 {
            sink.diag().note(format!(
                "{}: {} tweet(s) appear in more than one file or part and were counted once",
                archive.path().display(),
                tweets.duplicates
            ));
        }
        let mut people = std::mem::take(&mut tweets.people);
        if let Some(mut deferred) = tweets.deferred.take() {
            owner = self_reply_owner(&deferred, &tweets.seen);
            if let Some((id, _)) = &owner {
                mark_self_replies(&mut deferred, id);
            }
            sink.extend(deferred);
        }
        let owner_id = owner.as_ref().map(|(id, _)| id.clone());
        if owner_id.is_none() {
            sink.diag().warn(
                "account.js",
                None,
                "owner not identified: direct messages skipped, no reply counts as a self-thread",
                "no account.js, user_details.js, direct messages or self-replies; pass --me <your numeric X user id>".into(),
            );
        }
        sink.owner(Owner {
            platform: Platform::X,
            id: owner_id.clone(),
            how: owner
                .map(|(_, how)| how)
                .unwrap_or_else(|| "not found".into()),
        });

        // 4. DMs, now that the owner is known.
        push_dms(
            dms,
            owner_id.as_deref(),
            &mut people,
            &archive.path().display().to_string(),
            sink,
        );

        // 5. Likes: passive and undated.
        let mut likes = IdSet::default();
        for f in of(FileKind::Likes) {
            read_likes(archive, f.entry, &mut likes, sink)?;
        }
        Ok(())
    }
}
