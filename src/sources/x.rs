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

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use super::archive::{Archive, Entry};
use super::common::{Counted, Interner, drain_map, drain_seq};
use super::text::parse_datetime;
use super::{ImportOptions, Importer, Owner, Sink};
use crate::diag::Diagnostics;
use crate::error::SourceError;
use crate::model::{Activity, Direction, Kind, Platform};

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
        push_dms(dms, owner_id.as_deref(), &mut people, archive, sink);

        // 5. Likes: passive and undated.
        let mut likes = IdSet::default();
        for f in of(FileKind::Likes) {
            read_likes(archive, f.entry, &mut likes, sink)?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------
// Streaming JSON

/// Skips a BOM, whitespace and a `window.YTD.x.partN =` / `Grailbird.data.x =` prefix, leaving
/// the reader on the first byte of the JSON. Returns the bytes skipped, `None` when the file
/// holds no JSON (no `=` and no `[`/`{` at the start).
fn skip_prefix(r: &mut impl BufRead) -> io::Result<Option<u64>> {
    let mut skipped = 0u64;
    let mut in_prefix = false;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        let mut used = 0usize;
        let mut done = false;
        for &b in buf {
            if in_prefix {
                used += 1;
                if b == b'=' {
                    done = true;
                    break;
                }
            } else if b.is_ascii_whitespace() || matches!(b, 0xEF | 0xBB | 0xBF) {
                used += 1;
            } else if b == b'[' || b == b'{' {
                done = true;
                break;
            } else {
                in_prefix = true;
                used += 1;
            }
        }
        r.consume(used);
        skipped += used as u64;
        if done {
            return Ok(Some(skipped));
        }
    }
}

/// Where a stream of JSON items stopped early.
#[derive(Debug)]
struct StreamError {
    /// 0-based index of the item that could not be read (the items before it were handed over).
    item: u64,
    /// Bytes of the file consumed when the error was found.
    offset: u64,
    message: String,
}

/// What streaming one file gave.
#[derive(Debug)]
enum Streamed {
    /// Every item was read.
    Complete,
    /// The file holds no JSON.
    NoJson,
    /// Reading stopped at an error; the items before it were handed over.
    Broken(StreamError),
}

struct SeqVisitor<'a, T, F> {
    each: &'a mut F,
    items: &'a mut u64,
    _t: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>, F: FnMut(u64, T)> Visitor<'de> for SeqVisitor<'_, T, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<T>()? {
            (self.each)(*self.items, item);
            *self.items += 1;
        }
        Ok(())
    }
}

/// Streams the JSON array of a `.js` data file, calling `each(index, item)` per element as soon
/// as it is parsed. Anything after the closing `]` (a `;`, whitespace) is ignored. I/O errors
/// (including the inflated-bytes cap) are returned; JSON errors end the stream as `Broken`.
fn stream_array<T, F>(r: &mut dyn Read, mut each: F) -> io::Result<Streamed>
where
    T: DeserializeOwned,
    F: FnMut(u64, T),
{
    let mut buffered = BufReader::with_capacity(64 * 1024, r);
    let Some(prefix) = skip_prefix(&mut buffered)? else {
        return Ok(Streamed::NoJson);
    };
    let mut counted = Counted {
        inner: buffered,
        count: prefix,
    };
    let mut items = 0u64;
    let result = {
        let mut de = serde_json::Deserializer::from_reader(&mut counted);
        de::Deserializer::deserialize_seq(
            &mut de,
            SeqVisitor {
                each: &mut each,
                items: &mut items,
                _t: PhantomData::<T>,
            },
        )
    };
    match result {
        Ok(()) => Ok(Streamed::Complete),
        Err(e) if e.is_io() => Err(io::Error::from(e)),
        Err(e) => Ok(Streamed::Broken(StreamError {
            item: items,
            offset: counted.count,
            message: e.to_string(),
        })),
    }
}

/// Reads one JSON value (an object, e.g. `user_details.js`) after the prefix. Small files only.
fn read_value<T: DeserializeOwned>(r: &mut dyn Read) -> io::Result<Result<T, String>> {
    let mut buffered = BufReader::new(r);
    if skip_prefix(&mut buffered)?.is_none() {
        return Ok(Err("no JSON found".into()));
    }
    let mut de = serde_json::Deserializer::from_reader(&mut buffered);
    match T::deserialize(&mut de) {
        Ok(v) => Ok(Ok(v)),
        Err(e) if e.is_io() => Err(io::Error::from(e)),
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// Reports a file whose stream ended early or held no JSON.
fn report_stream(diag: &mut Diagnostics, source: &str, streamed: Streamed) {
    match streamed {
        Streamed::Complete => {}
        Streamed::NoJson => diag.skip(source, None, "no JSON data in the file", String::new()),
        Streamed::Broken(e) => diag.skip(
            source,
            Some(e.item + 1),
            "truncated or invalid JSON",
            format!(
                "item {} (1-based) at byte {}: {}; the {} item(s) before it were kept",
                e.item + 1,
                e.offset,
                e.message,
                e.item
            ),
        ),
    }
}

// ------------------------------------------------------------------------------------------
// Lenient field types: a value of an unexpected type becomes "absent" instead of an error that
// would end the whole stream.

/// An id: a string or an integer (kept exact), anything else is absent. Blank is absent.
#[derive(Debug, Default, Clone, PartialEq)]
struct Id(Option<String>);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IdVisitor)
    }
}

struct IdVisitor;

impl<'de> Visitor<'de> for IdVisitor {
    type Value = Id;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
        let t = v.trim();
        Ok(Id((!t.is_empty() && t != "null").then(|| t.to_string())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
        Ok(Id(Some(v.to_string())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
        Ok(Id(Some(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Id, E> {
        // Only integers beyond u64 (or fractions) get here: not an id that can be kept exactly.
        Ok(Id(None))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Id, E> {
        Ok(Id(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Id, E> {
        Ok(Id(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Id, A::Error> {
        drain_seq(seq).map(|_| Id(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Id, A::Error> {
        drain_map(map).map(|_| Id(None))
    }
}

/// A text: a string (numbers are written out), anything else is absent.
#[derive(Debug, Default, Clone, PartialEq)]
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
        Ok(Text(Some(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text, E> {
        Ok(Text(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text, A::Error> {
        drain_seq(seq).map(|_| Text(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
        drain_map(map).map(|_| Text(None))
    }
}

/// A list; anything but an array is an empty list.
#[derive(Debug, Clone, PartialEq)]
struct List<T>(Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListVisitor(PhantomData))
    }
}

struct ListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
    type Value = List<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element::<T>()? {
            v.push(x);
        }
        Ok(List(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<List<T>, A::Error> {
        drain_map(map).map(|_| List::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<List<T>, E> {
        Ok(List::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<List<T>, E> {
        Ok(List::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<List<T>, E> {
        Ok(List::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<List<T>, E> {
        Ok(List::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<List<T>, E> {
        Ok(List::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<List<T>, E> {
        Ok(List::default())
    }
}

/// An object parsed as `T`; anything but an object is absent.
#[derive(Debug, Clone, PartialEq)]
struct Lenient<T>(Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor(PhantomData))
    }
}

struct LenientVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for LenientVisitor<T> {
    type Value = Lenient<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Lenient<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Lenient(Some(t)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Lenient<T>, A::Error> {
        drain_seq(seq).map(|_| Lenient(None))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Lenient<T>, E> {
        Ok(Lenient(None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Lenient<T>, E> {
        Ok(Lenient(None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Lenient<T>, E> {
        Ok(Lenient(None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Lenient<T>, E> {
        Ok(Lenient(None))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Lenient<T>, E> {
        Ok(Lenient(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Lenient<T>, E> {
        Ok(Lenient(None))
    }
}

// ------------------------------------------------------------------------------------------
// Owner

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AccountItem {
    account: Lenient<AccountFields>,
    /// Unwrapped items.
    #[serde(rename = "accountId")]
    account_id: Id,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AccountFields {
    account_id: Id,
}

fn read_account(
    archive: &Archive,
    entry: &Entry,
    diag: &mut Diagnostics,
) -> Result<Option<String>, SourceError> {
    let mut found: Option<String> = None;
    let streamed = archive.read(entry, |r| {
        stream_array(r, |_, item: Lenient<AccountItem>| {
            if found.is_none()
                && let Some(a) = item.0
            {
                found = a.account.0.and_then(|f| f.account_id.0).or(a.account_id.0);
            }
        })
    })?;
    report_stream(diag, &entry.name, streamed);
    if found.is_none() {
        diag.warn(
            &entry.name,
            None,
            "no accountId in account.js",
            String::new(),
        );
    }
    Ok(found)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserDetails {
    id: Id,
    id_str: Id,
}

fn read_user_details(
    archive: &Archive,
    entry: &Entry,
    diag: &mut Diagnostics,
) -> Result<Option<String>, SourceError> {
    let parsed = archive.read(entry, |r| read_value::<Lenient<UserDetails>>(r))?;
    match parsed {
        Ok(Lenient(Some(u))) => {
            let id = u.id_str.0.or(u.id.0);
            if id.is_none() {
                diag.warn(&entry.name, None, "no id in user_details.js", String::new());
            }
            Ok(id)
        }
        Ok(Lenient(None)) => {
            diag.warn(
                &entry.name,
                None,
                "user_details.js holds no object",
                String::new(),
            );
            Ok(None)
        }
        Err(message) => {
            diag.skip(&entry.name, None, "truncated or invalid JSON", message);
            Ok(None)
        }
    }
}

/// The user id present in the most DM conversations (docs/counting.md, *Owner*), with a warning.
fn dms_owner(dms: &DmStore, diag: &mut Diagnostics) -> Option<(String, String)> {
    let mut conversations: HashMap<&str, u64> = HashMap::new();
    for people in dms.people.values() {
        for p in people {
            *conversations.entry(p.as_str()).or_default() += 1;
        }
    }
    let mut sent: HashMap<&str, u64> = HashMap::new();
    for row in &dms.rows {
        if let Some(s) = &row.sender {
            *sent.entry(s.as_str()).or_default() += 1;
        }
    }
    // Most conversations, then most messages sent, then the smallest id (determinism).
    let best = conversations.iter().max_by(|a, b| {
        a.1.cmp(b.1)
            .then_with(|| sent.get(a.0).cmp(&sent.get(b.0)))
            .then_with(|| b.0.cmp(a.0))
    });
    let (id, n) = best?;
    let total = dms.people.len();
    let tied = conversations.values().filter(|c| *c == n).count() - 1;
    let mut how = format!("the user id present in the most DM conversations ({n} of {total})");
    if tied > 0 {
        how.push_str(&format!(", tied with {tied} other id(s)"));
    }
    diag.warn(
        "account.js",
        None,
        "account.js missing: owner taken from direct messages",
        format!("{id}: {how}"),
    );
    Some((id.to_string(), how))
}

// ------------------------------------------------------------------------------------------
// Tweets

/// The fields of one tweet that matter (YTD, older unwrapped YTD, Grailbird, or a CSV row).
#[derive(Debug, Default)]
struct RawTweet {
    id_str: Option<String>,
    id: Option<String>,
    full_text: Option<String>,
    text: Option<String>,
    created_at: Option<String>,
    reply_status_str: Option<String>,
    reply_status: Option<String>,
    reply_user_str: Option<String>,
    reply_user: Option<String>,
    mentions: Vec<Mention>,
    /// Grailbird: a `retweeted_status` object is present.
    retweeted_status: bool,
    /// Old CSV: `retweeted_status_id` is not blank.
    retweeted_status_id: bool,
}

impl RawTweet {
    fn id(&self) -> Option<&str> {
        self.id_str.as_deref().or(self.id.as_deref())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Entities {
    user_mentions: List<Lenient<Mention>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Mention {
    screen_name: Text,
    id_str: Id,
    id: Id,
}

/// The keys of a tweet object read without allocating.
enum Field {
    IdStr,
    Id,
    FullText,
    Text,
    CreatedAt,
    ReplyStatusStr,
    ReplyStatus,
    ReplyUserStr,
    ReplyUser,
    Entities,
    RetweetedStatus,
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                Ok(match v {
                    "id_str" => Field::IdStr,
                    "id" => Field::Id,
                    "full_text" => Field::FullText,
                    "text" => Field::Text,
                    "created_at" => Field::CreatedAt,
                    "in_reply_to_status_id_str" => Field::ReplyStatusStr,
                    "in_reply_to_status_id" => Field::ReplyStatus,
                    "in_reply_to_user_id_str" => Field::ReplyUserStr,
                    "in_reply_to_user_id" => Field::ReplyUser,
                    "entities" => Field::Entities,
                    "retweeted_status" => Field::RetweetedStatus,
                    _ => Field::Other,
                })
            }
        }
        d.deserialize_identifier(FieldVisitor)
    }
}

/// One element of a tweets array: `{ "tweet": {...} }`, any other single-key wrapper whose value
/// has an id, or the tweet object itself. `None` when the element is not an object.
struct TweetItem(Option<RawTweet>);

impl<'de> Deserialize<'de> for TweetItem {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TweetVisitor { nested: false })
            .map(TweetItem)
    }
}

/// Reads a tweet object; at the top level, unknown keys are looked into once for a wrapped tweet.
#[derive(Clone, Copy)]
struct TweetVisitor {
    nested: bool,
}

impl<'de> DeserializeSeed<'de> for TweetVisitor {
    type Value = Option<RawTweet>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TweetVisitor {
    type Value = Option<RawTweet>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tweet object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut t = RawTweet::default();
        let mut wrapped: Option<RawTweet> = None;
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::IdStr => t.id_str = map.next_value::<Id>()?.0,
                Field::Id => t.id = map.next_value::<Id>()?.0,
                Field::FullText => t.full_text = map.next_value::<Text>()?.0,
                Field::Text => t.text = map.next_value::<Text>()?.0,
                Field::CreatedAt => t.created_at = map.next_value::<Text>()?.0,
                Field::ReplyStatusStr => t.reply_status_str = map.next_value::<Id>()?.0,
                Field::ReplyStatus => t.reply_status = map.next_value::<Id>()?.0,
                Field::ReplyUserStr => t.reply_user_str = map.next_value::<Id>()?.0,
                Field::ReplyUser => t.reply_user = map.next_value::<Id>()?.0,
                Field::Entities => {
                    if let Some(e) = map.next_value::<Lenient<Entities>>()?.0 {
                        t.mentions = e.user_mentions.0.into_iter().filter_map(|m| m.0).collect();
                    }
                }
                Field::RetweetedStatus => {
                    t.retweeted_status = map.next_value::<Option<IgnoredAny>>()?.is_some();
                }
                Field::Other if !self.nested => {
                    let inner = map.next_value_seed(TweetVisitor { nested: true })?;
                    if wrapped.is_none()
                        && let Some(inner) = inner
                        && inner.id().is_some()
                    {
                        wrapped = Some(inner);
                    }
                }
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if t.id().is_none()
            && let Some(w) = wrapped
        {
            return Ok(Some(w));
        }
        Ok(Some(t))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq).map(|_| None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A set of ids; numeric ids are stored as `u64` (half the memory of a million strings).
#[derive(Debug, Default)]
struct IdSet {
    numbers: HashSet<u64>,
    others: HashSet<String>,
}

impl IdSet {
    /// True when the id was seen.
    fn contains(&self, id: &str) -> bool {
        match id.parse::<u64>() {
            Ok(n) if n.to_string() == id => self.numbers.contains(&n),
            _ => self.others.contains(id),
        }
    }

    /// True when the id was not seen before.
    fn insert(&mut self, id: &str) -> bool {
        match id.parse::<u64>() {
            Ok(n) if n.to_string() == id => self.numbers.insert(n),
            _ => self.others.insert(id.to_string()),
        }
    }
}

/// What tweet reading shares across files.
struct TweetState<'o> {
    owner: Option<&'o str>,
    seen: IdSet,
    duplicates: u64,
    people: Interner,
    /// While the owner is unknown: the activities, until the self-replies name the owner.
    deferred: Option<Vec<Activity>>,
}

impl TweetState<'_> {
    /// Converts one tweet and pushes it, unless its id was seen. `seq` is the 0-based position
    /// in the file, `line` the 1-based item number (JSON) or line (CSV) for messages.
    fn take(&mut self, t: RawTweet, source: &Arc<str>, seq: u64, line: u64, sink: &mut dyn Sink) {
        let Some(id) = t.id() else {
            sink.diag()
                .skip(source, Some(line), "tweet without an id", String::new());
            return;
        };
        if !self.seen.insert(id) {
            self.duplicates += 1;
            return;
        }
        let a = tweet_activity(
            &t,
            self.owner,
            source,
            seq,
            line,
            &mut self.people,
            sink.diag(),
        );
        match &mut self.deferred {
            Some(v) => v.push(a),
            None => sink.push(a),
        }
    }
}

/// The owner of an archive without `account.js` or DMs (docs/counting.md, *Owner*, last fallback): the most
/// frequent `in_reply_to_user_id` of replies to tweets of the archive itself (an archive holds
/// only its owner's tweets, so those replies are self-replies). Ties: the smallest id.
fn self_reply_owner(tweets: &[Activity], ids: &IdSet) -> Option<(String, String)> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for a in tweets {
        if let (Some(parent), Some(user)) = (&a.hints.parent, &a.hints.parent_author)
            && ids.contains(parent)
        {
            *counts.entry(user.as_str()).or_default() += 1;
        }
    }
    let (id, n) = counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| id_cmp_numeric(b.0, a.0)))?;
    Some((
        id.to_string(),
        format!(
            "the user replied to in {n} repl(ies) to tweets of the archive itself (no account.js)"
        ),
    ))
}

/// Smaller numeric id first; text ids after numbers.
fn id_cmp_numeric(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        _ => a.cmp(b),
    }
}

/// With the owner known at last: replies to the owner are self-replies (the self-thread rule
/// decides them), and the owner is nobody's counterpart.
fn mark_self_replies(tweets: &mut [Activity], owner: &str) {
    for a in tweets {
        if a.hints.parent_author.as_deref() == Some(owner) {
            a.hints.parent_is_owner = true;
            a.hints.parent_author = None;
        }
        a.counterparts.retain(|c| &**c != owner);
    }
}

/// Maps one tweet onto an Activity (docs/counting.md, *X / Twitter*): retweet before reply before post.
fn tweet_activity(
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
fn is_user_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn tweet_date(raw: Option<&str>, source: &str, record: u64, diag: &mut Diagnostics) -> Option<i64> {
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
fn unescape_html(s: &str) -> Cow<'_, str> {
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
fn leading_mentions(text: &str) -> Vec<&str> {
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

fn read_tweets_js(
    archive: &Archive,
    entry: &Entry,
    state: &mut TweetState<'_>,
    sink: &mut dyn Sink,
) -> Result<(), SourceError> {
    let source: Arc<str> = Arc::from(entry.name.as_str());
    let streamed = archive.read(entry, |r| {
        stream_array(r, |i, item: TweetItem| match item.0 {
            Some(t) => state.take(t, &source, i, i + 1, sink),
            None => sink.diag().skip(
                &source,
                Some(i + 1),
                "item is not a tweet object",
                String::new(),
            ),
        })
    })?;
    report_stream(sink.diag(), &source, streamed);
    Ok(())
}

/// Column positions of `tweets.csv`, found by header name (two generations, different order).
struct CsvColumns {
    id: usize,
    reply_status: Option<usize>,
    reply_user: Option<usize>,
    retweeted: Option<usize>,
    timestamp: Option<usize>,
    text: Option<usize>,
}

fn read_tweets_csv(
    archive: &Archive,
    entry: &Entry,
    state: &mut TweetState<'_>,
    sink: &mut dyn Sink,
) -> Result<(), SourceError> {
    let source: Arc<str> = Arc::from(entry.name.as_str());
    archive.read(entry, |r| {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(r);
        let mut record = csv::ByteRecord::new();
        let mut columns: Option<CsvColumns> = None;
        let mut n = 0u64;
        loop {
            match csv.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map(|p| p.line());
                    match e.into_kind() {
                        csv::ErrorKind::Io(io) => return Err(io),
                        other => {
                            sink.diag().skip(
                                &source,
                                line,
                                "unreadable CSV record",
                                format!("{other:?}"),
                            );
                            continue;
                        }
                    }
                }
            }
            let line = record.position().map_or(n + 1, |p| p.line());
            let cell = |i: Option<usize>| -> String {
                i.and_then(|i| record.get(i))
                    .map(|b| String::from_utf8_lossy(b).trim().to_string())
                    .unwrap_or_default()
            };
            let Some(cols) = &columns else {
                let names: Vec<String> = record
                    .iter()
                    .map(|c| {
                        String::from_utf8_lossy(c)
                            .trim()
                            .trim_start_matches('\u{FEFF}')
                            .trim_matches('"')
                            .to_lowercase()
                    })
                    .collect();
                let at = |n: &str| names.iter().position(|c| c == n);
                let Some(id) = at("tweet_id") else {
                    sink.diag().skip(
                        &source,
                        Some(line),
                        "not a tweets.csv header",
                        names.join(","),
                    );
                    return Ok(());
                };
                columns = Some(CsvColumns {
                    id,
                    reply_status: at("in_reply_to_status_id"),
                    reply_user: at("in_reply_to_user_id"),
                    retweeted: at("retweeted_status_id"),
                    timestamp: at("timestamp"),
                    text: at("text"),
                });
                continue;
            };
            n += 1;
            let non_empty = |s: String| (!s.is_empty()).then_some(s);
            let t = RawTweet {
                id_str: non_empty(cell(Some(cols.id))),
                full_text: Some(cell(cols.text)),
                created_at: Some(cell(cols.timestamp)),
                reply_status_str: non_empty(cell(cols.reply_status)),
                reply_user_str: non_empty(cell(cols.reply_user)),
                retweeted_status_id: !cell(cols.retweeted).is_empty(),
                ..RawTweet::default()
            };
            state.take(t, &source, n - 1, line, sink);
        }
        Ok(())
    })?;
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Direct messages

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DmItem {
    #[serde(rename = "dmConversation")]
    conversation: Lenient<DmConversation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct DmConversation {
    conversation_id: Id,
    messages: List<DmEntry>,
}

/// Any event of a conversation; only `messageCreate` is a message, the others name people.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct DmEvent {
    id: Id,
    sender_id: Id,
    recipient_id: Id,
    initiating_user_id: Id,
    participants_snapshot: List<Id>,
    user_ids: List<Id>,
    created_at: Text,
}

impl DmEvent {
    fn people(&self) -> impl Iterator<Item = &String> {
        [
            &self.sender_id,
            &self.recipient_id,
            &self.initiating_user_id,
        ]
        .into_iter()
        .filter_map(|i| i.0.as_ref())
        .chain(
            self.participants_snapshot
                .0
                .iter()
                .filter_map(|i| i.0.as_ref()),
        )
        .chain(self.user_ids.0.iter().filter_map(|i| i.0.as_ref()))
    }
}

/// One element of `messages`: `{ "<eventType>": {...} }`.
#[derive(Debug, Default)]
struct DmEntry {
    message: Option<DmEvent>,
    others: Vec<DmEvent>,
}

impl<'de> Deserialize<'de> for DmEntry {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = DmEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a DM event")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DmEntry, A::Error> {
                let mut entry = DmEntry::default();
                while let Some(key) = map.next_key::<String>()? {
                    let Some(event) = map.next_value::<Lenient<DmEvent>>()?.0 else {
                        continue;
                    };
                    if key == "messageCreate" && entry.message.is_none() {
                        entry.message = Some(event);
                    } else {
                        entry.others.push(event);
                    }
                }
                Ok(entry)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<DmEntry, A::Error> {
                drain_seq(seq).map(|_| DmEntry::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<DmEntry, E> {
                Ok(DmEntry::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<DmEntry, E> {
                Ok(DmEntry::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<DmEntry, E> {
                Ok(DmEntry::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<DmEntry, E> {
                Ok(DmEntry::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<DmEntry, E> {
                Ok(DmEntry::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<DmEntry, E> {
                Ok(DmEntry::default())
            }
        }
        d.deserialize_any(EntryVisitor)
    }
}

/// A message, kept until the owner is known.
#[derive(Debug)]
struct DmRow {
    id: String,
    conversation: Option<Arc<str>>,
    sender: Option<String>,
    recipient: Option<String>,
    at: Option<i64>,
    seq: u64,
    source: Arc<str>,
}

/// Every message row, and the people seen per conversation (over all files).
#[derive(Debug, Default)]
struct DmStore {
    rows: Vec<DmRow>,
    people: HashMap<Arc<str>, BTreeSet<String>>,
}

fn read_dms(
    archive: &Archive,
    entry: &Entry,
    store: &mut DmStore,
    diag: &mut Diagnostics,
) -> Result<(), SourceError> {
    let source: Arc<str> = Arc::from(entry.name.as_str());
    let mut seq = 0u64;
    let streamed = archive.read(entry, |r| {
        stream_array(r, |i, item: Lenient<DmItem>| {
            let Some(conv) = item.0.and_then(|d| d.conversation.0) else {
                diag.skip(
                    &source,
                    Some(i + 1),
                    "item is not a DM conversation",
                    String::new(),
                );
                return;
            };
            let key: Option<Arc<str>> = conv.conversation_id.0.as_deref().map(Arc::from);
            let mut seen: BTreeSet<String> = BTreeSet::new();
            for event in conv.messages.0 {
                for other in &event.others {
                    seen.extend(other.people().cloned());
                }
                let Some(m) = event.message else { continue };
                seen.extend(m.people().cloned());
                let position = seq;
                seq += 1;
                let Some(id) = m.id.0 else {
                    diag.skip(&source, Some(i + 1), "message without an id", String::new());
                    continue;
                };
                let at = match m.created_at.0.as_deref().map(str::trim) {
                    None | Some("") => {
                        diag.warn(
                            &source,
                            Some(i + 1),
                            "missing date (counted as undated)",
                            id.clone(),
                        );
                        None
                    }
                    Some(raw) => {
                        let at = parse_datetime(raw);
                        if at.is_none() {
                            diag.warn(
                                &source,
                                Some(i + 1),
                                "unparseable date (counted as undated)",
                                format!("{raw:?}"),
                            );
                        }
                        at
                    }
                };
                store.rows.push(DmRow {
                    id,
                    conversation: key.clone(),
                    sender: m.sender_id.0,
                    recipient: m.recipient_id.0,
                    at,
                    seq: position,
                    source: source.clone(),
                });
            }
            if let Some(k) = key {
                store.people.entry(k).or_default().extend(seen);
            }
        })
    })?;
    report_stream(diag, &source, streamed);
    Ok(())
}

/// Turns DM rows into activities: direction from the owner, participants over the conversation.
fn push_dms(
    dms: DmStore,
    owner: Option<&str>,
    people: &mut Interner,
    archive: &Archive,
    sink: &mut dyn Sink,
) {
    let DmStore { rows, people: seen } = dms;
    let Some(owner_id) = owner else {
        // No direction without the owner: skipped and counted (docs/counting.md).
        for row in &rows {
            sink.diag().skip(
                &row.source,
                None,
                "owner not identified: direct message skipped (its direction is unknown)",
                "pass --me <your numeric X user id>".into(),
            );
        }
        return;
    };
    let owner = Some(owner_id);
    // Per conversation: participants (owner included) and everyone but the owner.
    let mut conversations: HashMap<Arc<str>, (u32, Vec<Arc<str>>)> = HashMap::new();
    for (conv, ids) in &seen {
        let others: Vec<Arc<str>> = ids
            .iter()
            .filter(|p| Some(p.as_str()) != owner)
            .map(|p| people.get(p))
            .collect();
        // At least 2: the other side may be a deleted account that left no id.
        let with_owner = (others.len() + 1).max(2);
        conversations.insert(conv.clone(), (with_owner as u32, others));
    }
    let mut ids = IdSet::default();
    let mut duplicates = 0u64;
    for row in rows {
        if !ids.insert(&row.id) {
            duplicates += 1;
            continue;
        }
        let out = owner.is_some() && row.sender.as_deref() == owner;
        let direction = if out { Direction::Out } else { Direction::In };
        let mut a = Activity::new(
            Platform::X,
            row.id,
            row.at,
            direction,
            Kind::Message,
            row.source,
        );
        a.hints.seq = row.seq;
        let (participants, others) =
            match row.conversation.as_ref().and_then(|c| conversations.get(c)) {
                Some((n, others)) => (*n, others.clone()),
                None => {
                    // No conversation id: the message's own sender and recipient.
                    let mut set: BTreeSet<&str> = [row.sender.as_deref(), row.recipient.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect();
                    if let Some(o) = owner {
                        set.insert(o);
                    }
                    let others = set
                        .iter()
                        .filter(|p| Some(**p) != owner)
                        .map(|p| people.get(p))
                        .collect();
                    ((set.len() as u32).max(2), others)
                }
            };
        a.participants = Some(participants);
        a.conversation = row.conversation;
        a.counterparts = if out {
            others
        } else {
            row.sender
                .as_deref()
                .map(|s| vec![people.get(s)])
                .unwrap_or_default()
        };
        sink.push(a);
    }
    if duplicates > 0 {
        sink.diag().note(format!(
            "{}: {duplicates} direct message(s) appear more than once and were counted once",
            archive.path().display()
        ));
    }
}

// ------------------------------------------------------------------------------------------
// Likes

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LikeItem {
    like: Lenient<LikeFields>,
    /// Unwrapped items.
    #[serde(rename = "tweetId")]
    tweet_id: Id,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LikeFields {
    tweet_id: Id,
}

fn read_likes(
    archive: &Archive,
    entry: &Entry,
    seen: &mut IdSet,
    sink: &mut dyn Sink,
) -> Result<(), SourceError> {
    let source: Arc<str> = Arc::from(entry.name.as_str());
    let streamed = archive.read(entry, |r| {
        stream_array(r, |i, item: Lenient<LikeItem>| {
            let tweet = item
                .0
                .and_then(|l| l.like.0.and_then(|f| f.tweet_id.0).or(l.tweet_id.0));
            let Some(tweet) = tweet else {
                sink.diag().skip(
                    &source,
                    Some(i + 1),
                    "like without a tweetId",
                    String::new(),
                );
                return;
            };
            let id = format!("like:{tweet}");
            if !seen.insert(&id) {
                return;
            }
            // The archive does not say when the like happened (the tweet id dates the tweet).
            let mut a = Activity::new(
                Platform::X,
                id,
                None,
                Direction::Out,
                Kind::Reaction,
                source.clone(),
            );
            a.hints.seq = i;
            sink.push(a);
        })
    })?;
    report_stream(sink.diag(), &source, streamed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::classify;
    use crate::diag::Outcome;
    use crate::model::{Confidence, Mode};
    use crate::sources::Collected;

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/x")
            .join(name)
    }

    /// Reads and classifies an export; panics only in tests.
    fn load(name: &str) -> Collected {
        load_path(&fixture(name))
    }

    fn load_path(path: &std::path::Path) -> Collected {
        let archive = Archive::open(path, u64::MAX).expect("fixture opens");
        assert!(
            XArchive.sniff(&archive).expect("sniff"),
            "{} not recognised",
            path.display()
        );
        let mut c = Collected::default();
        XArchive
            .read(&archive, &ImportOptions::default(), &mut c)
            .expect("read");
        classify(&mut c.activities, 8);
        c
    }

    fn get<'a>(c: &'a Collected, id: &str) -> &'a Activity {
        c.activities
            .iter()
            .find(|a| a.id == id)
            .unwrap_or_else(|| panic!("no activity {id}"))
    }

    fn mode(c: &Collected, id: &str) -> Option<Mode> {
        get(c, id).mode
    }

    fn cps(a: &Activity) -> Vec<&str> {
        a.counterparts.iter().map(|c| &**c).collect()
    }

    const T: &str = "17400000000000000";
    const M: &str = "17500000000000000";
    const OWNER: &str = "1000000001";
    const SAM: &str = "2000000002";
    const KIM: &str = "3000000003";

    #[test]
    fn zip_and_folder_read_the_same() {
        let zip = load("ytd.zip");
        let folder = load("ytd");
        assert_eq!(zip.activities.len(), 26);
        assert_eq!(folder.activities.len(), 26);
        let ids = |c: &Collected| {
            let mut v: Vec<String> = c.activities.iter().map(|a| a.id.clone()).collect();
            v.sort();
            v
        };
        assert_eq!(ids(&zip), ids(&folder));
        assert_eq!(zip.owners.len(), 1);
        assert_eq!(zip.owners[0].id.as_deref(), Some(OWNER));
        assert!(
            zip.diagnostics.is_empty(),
            "{:?}",
            zip.diagnostics.problems()
        );
    }

    #[test]
    fn self_thread_chain() {
        let c = load("ytd");
        assert_eq!(mode(&c, &format!("{T}01")), Some(Mode::Broadcast));
        for n in ["02", "03"] {
            let a = get(&c, &format!("{T}{n}"));
            assert_eq!(a.kind, Kind::Reply);
            assert!(a.hints.parent_is_owner);
            assert_eq!(a.mode, Some(Mode::SelfThread));
            assert!(a.counterparts.is_empty());
        }
        assert_eq!(
            get(&c, &format!("{T}03")).hints.parent.as_deref(),
            Some(&*format!("{T}02"))
        );
    }

    #[test]
    fn continued_turn_in_someone_elses_thread() {
        let c = load("ytd");
        let first = get(&c, &format!("{T}04"));
        assert_eq!(first.mode, Some(Mode::Conversation));
        assert_eq!(first.hints.parent_author.as_deref(), Some(SAM));
        assert_eq!(cps(first), vec![SAM]);
        let second = get(&c, &format!("{T}05"));
        assert!(second.hints.parent_is_owner);
        assert_eq!(second.mode, Some(Mode::Conversation));
        assert_eq!(cps(second), vec![SAM]);
    }

    #[test]
    fn dot_mention_and_four_mentions_stay_broadcast() {
        let c = load("ytd");
        let dot = get(&c, &format!("{T}06"));
        assert_eq!(dot.hints.leading_mentions, None);
        assert_eq!(dot.mode, Some(Mode::Broadcast));
        let four = get(&c, &format!("{T}07"));
        assert_eq!(four.hints.leading_mentions, Some(4));
        assert_eq!(four.mode, Some(Mode::Broadcast));
    }

    #[test]
    fn two_leading_mentions_are_a_conversation() {
        let mut c = load("ytd");
        crate::classify::mark_heuristics(&mut c.activities);
        let a = get(&c, &format!("{T}08"));
        assert_eq!(a.kind, Kind::Post);
        assert_eq!(a.hints.leading_mentions, Some(2));
        assert_eq!(a.mode, Some(Mode::Conversation));
        assert_eq!(a.confidence, Confidence::Low);
        assert_eq!(cps(a), vec![SAM, KIM]);
    }

    #[test]
    fn retweet_of_own_tweet_is_amplification() {
        let c = load("ytd");
        let a = get(&c, &format!("{T}09"));
        assert_eq!(a.kind, Kind::Repost);
        assert_eq!(a.mode, Some(Mode::Amplification));
    }

    #[test]
    fn reply_to_another_user_and_dedup_across_parts() {
        let c = load("ytd");
        let tens: Vec<_> = c
            .activities
            .iter()
            .filter(|a| a.id == format!("{T}10"))
            .collect();
        assert_eq!(tens.len(), 1);
        assert_eq!(&*tens[0].source, "data/tweets.js");
        assert_eq!(tens[0].mode, Some(Mode::Conversation));
        assert_eq!(cps(tens[0]), vec![KIM]);
        assert!(
            c.diagnostics
                .notes()
                .iter()
                .any(|n| n.contains("1 tweet(s) appear in more than one"))
        );
        // part1 (trailing ';') and the community tweet (BOM) are read too.
        assert_eq!(&*get(&c, &format!("{T}11")).source, "data/tweets-part1.js");
        assert_eq!(
            &*get(&c, &format!("{T}12")).source,
            "data/community-tweet.js"
        );
        assert_eq!(mode(&c, &format!("{T}12")), Some(Mode::Broadcast));
        assert!(
            !c.activities.iter().any(|a| a.id == format!("{T}99")),
            "deleted tweets are not read"
        );
        let tweets = c
            .activities
            .iter()
            .filter(|a| a.kind != Kind::Message && a.kind != Kind::Reaction);
        assert_eq!(tweets.count(), 12);
    }

    #[test]
    fn dates_parsed() {
        let c = load("ytd");
        // Fri Jan 05 09:00:00 +0000 2024
        assert_eq!(get(&c, &format!("{T}01")).at, Some(1_704_445_200_000));
        // 2024-01-10T15:00:00.000Z
        assert_eq!(get(&c, &format!("{M}01")).at, Some(1_704_898_800_000));
    }

    #[test]
    fn one_to_one_dms_both_directions() {
        let c = load("ytd");
        let received = get(&c, &format!("{M}01"));
        assert_eq!(received.direction, Direction::In);
        assert_eq!(received.mode, None);
        assert_eq!(cps(received), vec![SAM]);
        assert_eq!(received.participants, Some(2));
        assert_eq!(
            received.conversation.as_deref(),
            Some("1000000001-2000000002")
        );
        let sent = get(&c, &format!("{M}02"));
        assert_eq!(sent.direction, Direction::Out);
        assert_eq!(sent.mode, Some(Mode::Conversation));
        assert_eq!(cps(sent), vec![SAM]);
        assert_eq!(sent.participants, Some(2));
        // Newest first in the file: the last message has the highest position.
        assert!(get(&c, &format!("{M}01")).hints.seq > get(&c, &format!("{M}04")).hints.seq);
        let gaps = crate::classify::response_gaps(&c.activities);
        let gap = |id: &str| {
            c.activities
                .iter()
                .position(|a| a.id == id)
                .and_then(|i| gaps[i])
        };
        assert_eq!(gap(&format!("{M}02")), Some(20 * 60_000));
        assert_eq!(gap(&format!("{M}04")), Some(30 * 60_000));
        assert_eq!(gap(&format!("{M}06")), Some(90 * 60_000));
        assert_eq!(gap(&format!("{M}13")), Some(5 * 60_000));
        assert_eq!(gap(&format!("{M}22")), None);
    }

    #[test]
    fn group_dms_below_and_above_group_max() {
        let c = load("ytd");
        let small = get(&c, &format!("{M}13"));
        assert_eq!(small.participants, Some(3));
        assert_eq!(small.mode, Some(Mode::Conversation));
        assert_eq!(cps(small), vec![SAM, KIM]);
        assert_eq!(get(&c, &format!("{M}12")).direction, Direction::In);
        assert_eq!(cps(get(&c, &format!("{M}12"))), vec![KIM]);
        let big = get(&c, &format!("{M}22"));
        assert_eq!(big.participants, Some(10));
        assert_eq!(big.counterparts.len(), 9);
        assert_eq!(big.mode, Some(Mode::Broadcast));
        assert_eq!(get(&c, &format!("{M}21")).participants, Some(10));
        // Non-message events (join, leave, rename, reaction) are not activities.
        let messages = c
            .activities
            .iter()
            .filter(|a| a.kind == Kind::Message)
            .count();
        assert_eq!(messages, 12);
    }

    #[test]
    fn likes_are_passive_and_undated() {
        let c = load("ytd");
        let likes: Vec<_> = c
            .activities
            .iter()
            .filter(|a| a.kind == Kind::Reaction)
            .collect();
        assert_eq!(likes.len(), 2);
        for l in likes {
            assert_eq!(l.at, None);
            assert_eq!(l.mode, Some(Mode::Passive));
            assert!(l.id.starts_with("like:173000000000000000"));
        }
    }

    #[test]
    fn numeric_ids_above_2_pow_53_stay_exact() {
        let c = load("old-tweet-js");
        assert_eq!(c.activities.len(), 2);
        let first = get(&c, "1234567890123456789");
        assert_eq!(first.mode, Some(Mode::Broadcast));
        let reply = get(&c, "1234567890123456790");
        assert_eq!(reply.hints.parent.as_deref(), Some("1234567890123456789"));
        assert!(reply.hints.parent_is_owner);
        assert_eq!(reply.mode, Some(Mode::SelfThread));
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics.problems());
    }

    #[test]
    fn truncated_file_keeps_earlier_tweets_and_warns() {
        let c = load("truncated");
        let ids: Vec<&str> = c.activities.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, vec!["1780000000000000001", "1780000000000000002"]);
        let problems = c.diagnostics.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert_eq!(p.source, "data/tweets.js");
        assert_eq!(p.reason, "truncated or invalid JSON");
        assert_eq!(p.outcome, Outcome::Skipped);
        assert_eq!(p.first_line, Some(3));
        assert!(p.example.contains("at byte"), "{}", p.example);
        assert!(p.example.contains("EOF"), "{}", p.example);
    }

    #[test]
    fn owner_from_dms_when_account_js_missing() {
        let c = load("dms-only");
        assert_eq!(c.owners[0].id.as_deref(), Some(OWNER));
        assert!(c.owners[0].how.contains("2 of 2"), "{}", c.owners[0].how);
        let problems = c.diagnostics.problems();
        assert!(
            problems
                .iter()
                .any(|p| p.reason.contains("account.js missing") && p.outcome == Outcome::Kept),
            "{problems:?}"
        );
        assert_eq!(get(&c, &format!("{M}32")).direction, Direction::Out);
        assert_eq!(get(&c, &format!("{M}31")).direction, Direction::In);
        assert_eq!(get(&c, &format!("{M}33")).direction, Direction::In);
        assert_eq!(get(&c, &format!("{M}33")).participants, Some(2));
    }

    #[test]
    fn owner_from_self_replies_without_account_js() {
        let c = load("ownerless");
        let u = "17600000000000000";
        assert_eq!(c.owners[0].id.as_deref(), Some(OWNER));
        assert!(c.owners[0].how.contains("repl"), "{}", c.owners[0].how);
        // Replies to the archive's own tweets are self-replies and follow the self-thread rule.
        assert_eq!(mode(&c, &format!("{u}02")), Some(Mode::SelfThread));
        assert_eq!(mode(&c, &format!("{u}03")), Some(Mode::SelfThread));
        let turn = get(&c, &format!("{u}05"));
        assert_eq!(turn.mode, Some(Mode::Conversation));
        assert_eq!(cps(turn), vec![SAM]);
        assert!(!turn.counterparts.iter().any(|c| &**c == OWNER));
    }

    #[test]
    fn leading_handle_without_user_mentions_entity_adds_no_counterpart() {
        let c = load("ownerless");
        let u = "17600000000000000";
        let alone = get(&c, &format!("{u}06"));
        assert_eq!(alone.mode, Some(Mode::Conversation));
        assert_eq!(alone.hints.leading_mentions, Some(1));
        assert!(cps(alone).is_empty());
        let two = get(&c, &format!("{u}07"));
        assert_eq!(two.hints.leading_mentions, Some(2));
        assert_eq!(cps(two), vec![SAM]);
        // 17 characters are no handle: broadcast.
        assert_eq!(mode(&c, &format!("{u}10")), Some(Mode::Broadcast));
    }

    #[test]
    fn grailbird_month_files_recognised_by_first_line_anywhere() {
        let c = load("grailbird-elsewhere");
        assert_eq!(c.owners[0].id.as_deref(), Some(OWNER));
        let mut ids: Vec<&str> = c.activities.iter().map(|a| a.id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(
            ids,
            (1..=5)
                .map(|i| format!("57000000000000000{i}"))
                .collect::<Vec<_>>()
        );
        assert_eq!(mode(&c, "570000000000000004"), Some(Mode::SelfThread));
        assert_eq!(mode(&c, "570000000000000003"), Some(Mode::Amplification));
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics.problems());
    }

    #[test]
    fn csv_first_generation_without_owner() {
        let c = load("csv-2014");
        assert_eq!(c.activities.len(), 5);
        assert_eq!(c.owners[0].id, None);
        assert!(
            c.diagnostics
                .problems()
                .iter()
                .any(|p| p.reason.starts_with("owner not identified"))
        );
        let first = get(&c, "460000000000000001");
        assert_eq!(first.at, Some(1_398_938_400_000)); // 2014-05-01 10:00:00 +0000
        assert_eq!(first.mode, Some(Mode::Broadcast));
        let reply = get(&c, "460000000000000002");
        assert_eq!(reply.mode, Some(Mode::Conversation));
        assert_eq!(cps(reply), vec![SAM]);
        assert_eq!(mode(&c, "460000000000000003"), Some(Mode::Amplification));
        assert_eq!(
            mode(&c, "460000000000000005"),
            Some(Mode::Amplification),
            "retweeted_status_id"
        );
        // Old CSV archives have no user_mentions: addressed, but no counterpart (numeric ids only).
        let addressed = get(&c, "460000000000000004");
        assert_eq!(addressed.mode, Some(Mode::Conversation));
        assert!(cps(addressed).is_empty());
    }

    #[test]
    fn csv_second_generation_with_user_details() {
        let c = load("csv-2016");
        assert_eq!(c.owners[0].id.as_deref(), Some(OWNER));
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics.problems());
        assert_eq!(c.activities.len(), 4);
        assert_eq!(mode(&c, "700000000000000001"), Some(Mode::Broadcast));
        assert_eq!(mode(&c, "700000000000000002"), Some(Mode::SelfThread));
        assert_eq!(mode(&c, "700000000000000003"), Some(Mode::Amplification));
        assert_eq!(mode(&c, "700000000000000004"), Some(Mode::Conversation));
        assert_eq!(get(&c, "700000000000000003").at, Some(1_454_403_600_000)); // 2016-02-02 09:00
    }

    #[test]
    fn grailbird_and_csv_describe_the_same_tweets() {
        let c = load("grailbird");
        assert_eq!(c.owners[0].id.as_deref(), Some(OWNER));
        // 01..04 and 06 from Grailbird, 05 only in tweets.csv; 01..04 again in tweets.csv.
        assert_eq!(c.activities.len(), 6);
        assert!(
            c.diagnostics
                .notes()
                .iter()
                .any(|n| n.contains("4 tweet(s) appear in more than one"))
        );
        assert_eq!(&*get(&c, "460000000000000005").source, "tweets.csv");
        // Grailbird files are read before tweets.csv: mentions resolve to user ids.
        let addressed = get(&c, "460000000000000004");
        assert_eq!(&*addressed.source, "data/js/tweets/2014_05.js");
        assert_eq!(cps(addressed), vec![SAM, KIM]);
        assert_eq!(mode(&c, "460000000000000003"), Some(Mode::Amplification));
        assert_eq!(mode(&c, "460000000000000006"), Some(Mode::SelfThread));
        assert_eq!(mode(&c, "460000000000000002"), Some(Mode::Conversation));
        assert_eq!(get(&c, "460000000000000001").at, Some(1_398_938_400_000));
    }

    #[test]
    fn leading_mention_rules() {
        assert_eq!(leading_mentions("@a @b @c @d hi"), vec!["a", "b", "c", "d"]);
        assert_eq!(leading_mentions("@a, @b; @c: hi"), vec!["a", "b", "c"]);
        assert_eq!(leading_mentions(".@a hi"), Vec::<&str>::new());
        assert_eq!(leading_mentions("hi @a"), Vec::<&str>::new());
        assert_eq!(leading_mentions("@a"), vec!["a"]);
        assert_eq!(
            leading_mentions("@abcdefghijklmnop too long"),
            Vec::<&str>::new()
        );
        assert_eq!(leading_mentions("@a@b"), Vec::<&str>::new());
        assert_eq!(leading_mentions("@ hi"), Vec::<&str>::new());
        assert_eq!(leading_mentions("@bob's idea"), vec!["bob"]);
    }

    #[test]
    fn html_unescaped() {
        assert_eq!(
            unescape_html("a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39; &#x41;"),
            "a & b <c> \"d\" 'e' A"
        );
        assert_eq!(unescape_html("AT&T & &bogus; &"), "AT&T & &bogus; &");
        assert_eq!(unescape_html("RT @x"), "RT @x");
        assert_eq!(unescape_html("&amp;lt;"), "&lt;");
    }

    fn write_export(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tmp");
        for (name, body) in files {
            let p = dir.path().join(name);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(p, body).expect("write");
        }
        dir
    }

    const ACCOUNT: &str =
        r#"window.YTD.account.part0 = [ { "account" : { "accountId" : "1000000001" } } ]"#;

    #[test]
    fn wrappers_bad_items_and_bad_dates() {
        let dir = write_export(&[
            ("data/account.js", ACCOUNT),
            (
                "data/community-tweet.js",
                r#"window.YTD.community_tweet.part0 = [
                  { "communityTweet" : { "id_str" : "11", "full_text" : "&#64;x", "created_at" : "yesterday" } },
                  42,
                  { "tweet" : { "id" : 12, "text" : "&amp;", "entities" : "oops", "in_reply_to_user_id" : null } },
                  { "tweet" : { "full_text" : "no id" } }
                ];"#,
            ),
        ]);
        let c = load_path(dir.path());
        let ids: Vec<&str> = c.activities.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, vec!["11", "12"]);
        // "&#64;x" is "@x" after unescaping: one leading mention; without a user_mentions
        // entity it names nobody (counterparts are numeric ids only).
        let first = get(&c, "11");
        assert_eq!(first.hints.leading_mentions, Some(1));
        assert!(cps(first).is_empty());
        assert_eq!(first.at, None);
        assert_eq!(get(&c, "12").kind, Kind::Post);
        let reasons: Vec<(String, Option<u64>)> = c
            .diagnostics
            .problems()
            .iter()
            .map(|p| (p.reason.clone(), p.first_line))
            .collect();
        assert!(
            reasons.contains(&("unparseable date (counted as undated)".into(), Some(1))),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(&("item is not a tweet object".into(), Some(2))),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(&("tweet without an id".into(), Some(4))),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(&("missing date (counted as undated)".into(), Some(3))),
            "{reasons:?}"
        );
    }

    #[test]
    fn json_error_in_one_part_keeps_the_other_parts() {
        let tweet = |id: &str| {
            format!(
                r#"{{ "tweet" : {{ "id_str" : "{id}", "full_text" : "x", "created_at" : "Sat Feb 18 12:33:11 +0000 2023" }} }}"#
            )
        };
        let dir = write_export(&[
            ("data/account.js", ACCOUNT),
            (
                "data/tweets.js",
                &format!("window.YTD.tweets.part0 = [{}, {}]", tweet("1"), tweet("2")),
            ),
            (
                "data/tweets-part1.js",
                &format!(
                    "window.YTD.tweets.part1 = [{}, {{ \"tweet\" : {{ \"id_str\" : ]",
                    tweet("3")
                ),
            ),
            (
                "data/tweets-part2.js",
                &format!("window.YTD.tweets.part2 = [{}]\n;\n", tweet("4")),
            ),
        ]);
        let c = load_path(dir.path());
        let mut ids: Vec<&str> = c.activities.iter().map(|a| a.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, vec!["1", "2", "3", "4"]);
        let problems = c.diagnostics.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].source, "data/tweets-part1.js");
        assert_eq!(problems[0].first_line, Some(2));
    }

    #[test]
    fn sniff_rejects_other_exports() {
        let dir = write_export(&[
            ("assets/js/main.js", "console.log(1)"),
            ("notes.csv", "a,b\n"),
        ]);
        let archive = Archive::open(dir.path(), u64::MAX).expect("open");
        assert!(!XArchive.sniff(&archive).expect("sniff"));
        let dir = write_export(&[(
            "data/js/tweets/2014_05.js",
            "\u{FEFF}  Grailbird.data.tweets_2014_05 = []",
        )]);
        let archive = Archive::open(dir.path(), u64::MAX).expect("open");
        assert!(XArchive.sniff(&archive).expect("sniff"));
    }

    #[test]
    fn inflated_bytes_cap_is_an_error_not_a_warning() {
        let archive = Archive::open(&fixture("ytd"), 2000).expect("open");
        let mut c = Collected::default();
        let r = XArchive.read(&archive, &ImportOptions::default(), &mut c);
        assert!(matches!(r, Err(SourceError::TooLarge { .. })), "{r:?}");
    }
}
