//! Tweets and likes of an X archive: the JSON tweet shapes (YTD, unwrapped, Grailbird), the two
//! `tweets.csv` generations, de-duplication by id, and the liked tweets. Streamed item by item;
//! the mapping to an Activity is `rules.rs`.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::rules::{MentionFact, TweetFacts, tweet_activity, tweet_date};
use super::{report_stream, stream_array};
use crate::error::SourceError;
use crate::model::{Activity, Direction, Interner, Kind, Platform, Source};
use crate::sources::Sink;
use crate::sources::archive::{Archive, Entry};
use crate::sources::common::drain_seq;
use crate::sources::json::{Id, Lenient, List, Text};

/// The fields of one tweet that matter (YTD, older unwrapped YTD, Grailbird, or a CSV row).
#[derive(Debug, Default)]
pub(super) struct RawTweet {
    pub(super) id_str: Option<String>,
    pub(super) id: Option<String>,
    pub(super) full_text: Option<String>,
    pub(super) text: Option<String>,
    pub(super) created_at: Option<String>,
    pub(super) reply_status_str: Option<String>,
    pub(super) reply_status: Option<String>,
    pub(super) reply_user_str: Option<String>,
    pub(super) reply_user: Option<String>,
    pub(super) mentions: Vec<Mention>,
    /// Grailbird: a `retweeted_status` object is present.
    pub(super) retweeted_status: bool,
    /// Old CSV: `retweeted_status_id` is not blank.
    pub(super) retweeted_status_id: bool,
}

impl RawTweet {
    pub(super) fn id(&self) -> Option<&str> {
        self.id_str.as_deref().or(self.id.as_deref())
    }

    /// What the rules look at, whichever of the archive's spellings the tweet used.
    fn facts<'a>(&'a self, id: &'a str, at: Option<i64>) -> TweetFacts<'a> {
        TweetFacts {
            id,
            text: self
                .full_text
                .as_deref()
                .or(self.text.as_deref())
                .unwrap_or(""),
            at,
            reply_status: self
                .reply_status_str
                .as_deref()
                .or(self.reply_status.as_deref()),
            reply_user: self
                .reply_user_str
                .as_deref()
                .or(self.reply_user.as_deref()),
            retweet: self.retweeted_status || self.retweeted_status_id,
            mentions: self
                .mentions
                .iter()
                .filter_map(|m| {
                    Some(MentionFact {
                        handle: m.screen_name.0.as_deref()?,
                        id: m.id_str.0.as_deref().or(m.id.0.as_deref()),
                    })
                })
                .collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Entities {
    pub(super) user_mentions: List<Lenient<Mention>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Mention {
    pub(super) screen_name: Text,
    pub(super) id_str: Id,
    pub(super) id: Id,
}

/// The keys of a tweet object read without allocating.
pub(super) enum Field {
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
pub(super) struct TweetItem(Option<RawTweet>);

impl<'de> Deserialize<'de> for TweetItem {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TweetVisitor { nested: false })
            .map(TweetItem)
    }
}

/// Reads a tweet object; at the top level, unknown keys are looked into once for a wrapped tweet.
#[derive(Clone, Copy)]
pub(super) struct TweetVisitor {
    pub(super) nested: bool,
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
pub(super) struct IdSet {
    pub(super) numbers: HashSet<u64>,
    pub(super) others: HashSet<String>,
}

impl IdSet {
    /// True when the id was seen.
    pub(super) fn contains(&self, id: &str) -> bool {
        match id.parse::<u64>() {
            Ok(n) if n.to_string() == id => self.numbers.contains(&n),
            _ => self.others.contains(id),
        }
    }

    /// True when the id was not seen before.
    pub(super) fn insert(&mut self, id: &str) -> bool {
        match id.parse::<u64>() {
            Ok(n) if n.to_string() == id => self.numbers.insert(n),
            _ => self.others.insert(id.to_string()),
        }
    }
}

/// What tweet reading shares across files.
pub(super) struct TweetState<'o> {
    pub(super) owner: Option<&'o str>,
    pub(super) seen: IdSet,
    pub(super) duplicates: u64,
    pub(super) people: Interner,
    /// While the owner is unknown: the activities, until the self-replies name the owner.
    pub(super) deferred: Option<Vec<Activity>>,
}

impl TweetState<'_> {
    /// Converts one tweet and pushes it, unless its id was seen. `seq` is the 0-based position
    /// in the file, `line` the 1-based item number (JSON) or line (CSV) for messages.
    pub(super) fn take(
        &mut self,
        t: RawTweet,
        source: &Source,
        seq: u64,
        line: u64,
        sink: &mut dyn Sink,
    ) {
        let Some(id) = t.id() else {
            sink.diag()
                .skip(source, Some(line), "tweet without an id", String::new());
            return;
        };
        if !self.seen.insert(id) {
            self.duplicates += 1;
            return;
        }
        let facts = t.facts(
            id,
            tweet_date(t.created_at.as_deref(), source, line, sink.diag()),
        );
        let a = tweet_activity(&facts, self.owner, source, seq, &mut self.people);
        match &mut self.deferred {
            Some(v) => v.push(a),
            None => sink.push(a),
        }
    }
}

pub(super) fn read_tweets_js(
    archive: &Archive,
    entry: &Entry,
    state: &mut TweetState<'_>,
    sink: &mut dyn Sink,
) -> Result<(), SourceError> {
    let source: Source = Source::from(entry.name.as_str());
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
pub(super) struct CsvColumns {
    pub(super) id: usize,
    pub(super) reply_status: Option<usize>,
    pub(super) reply_user: Option<usize>,
    pub(super) retweeted: Option<usize>,
    pub(super) timestamp: Option<usize>,
    pub(super) text: Option<usize>,
}

pub(super) fn read_tweets_csv(
    archive: &Archive,
    entry: &Entry,
    state: &mut TweetState<'_>,
    sink: &mut dyn Sink,
) -> Result<(), SourceError> {
    let source: Source = Source::from(entry.name.as_str());
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LikeItem {
    pub(super) like: Lenient<LikeFields>,
    /// Unwrapped items.
    #[serde(rename = "tweetId")]
    pub(super) tweet_id: Id,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct LikeFields {
    pub(super) tweet_id: Id,
}

pub(super) fn read_likes(
    archive: &Archive,
    entry: &Entry,
    seen: &mut IdSet,
    sink: &mut dyn Sink,
) -> Result<(), SourceError> {
    let source: Source = Source::from(entry.name.as_str());
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
