//! Mastodon account archive (`archive-….tar.gz`, a zip, or the extracted folder) → Activities.
//! Owns every Mastodon format quirk and owner identification (docs/counting.md,
//! *Owner*); must not classify modes (it only sets kind, hints, participants and counterparts),
//! touch Polars, the network or stdout.
//!
//! Files are found by basename at any depth: `actor.json` (the owner and their followers
//! collection), `outbox.json` (every status and boost, unsorted, any visibility) and
//! `likes.json` (bare status URIs, undated). `bookmarks.json`, media, avatar and header are
//! listed but never read.
//!
//! `outbox.json` can reach a gigabyte, so it is streamed: a visitor walks the top-level
//! collection and deserializes `orderedItems` one element at a time into a small typed struct
//! (unknown keys skipped, values of unexpected types taken as absent, only the first bytes of
//! `content` kept), which becomes a compact [`Status`] and, in most cases, an `Activity` at once.
//! Two cases wait until the whole file was read: a reply whose parent is on the owner's own
//! server but not under the owner's actor URI (it may still be one of the outbox's own
//! statuses, which come in any order), and a private message with no `conversation`/`context`
//! that replies to something (its thread root is found through the other waiting messages).
//! Without `actor.json` (lost from a truncated archive: Mastodon writes it last) every status
//! waits until the most frequent `actor` of the outbox is known. Ids seen are kept as 128-bit
//! hashes, not strings.
//!
//! Damage: a truncated tar.gz, or an outbox that stops being JSON, keeps every item read before
//! the damage and reports where it stopped.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::{self, BufReader, Read};
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

/// The Mastodon account archive importer.
pub struct MastodonArchive;

/// Bytes read from `outbox.json` / `actor.json` to recognise them.
const HEAD_BYTES: usize = 4096;

/// Bytes of a status's HTML `content` kept for the addressed-mention test. A mention's markup is
/// under 300 bytes, so this always shows more than the 3 mentions the rule cares about.
const CONTENT_HEAD: usize = 4096;

/// The message archive.rs gives an I/O error when the inflated-bytes cap is reached; such an
/// error must reach `Archive::read` unchanged (it becomes `SourceError::TooLarge`).
const CAP_MESSAGE: &str = "rapport: inflated-bytes cap reached";

/// The names of the Public collection .
fn is_public(uri: &str) -> bool {
    matches!(
        uri,
        "https://www.w3.org/ns/activitystreams#Public"
            | "http://www.w3.org/ns/activitystreams#Public"
            | "as:Public"
            | "Public"
    )
}

impl Importer for MastodonArchive {
    fn platform(&self) -> Platform {
        Platform::Mastodon
    }

    fn name(&self) -> &'static str {
        "Mastodon account archive"
    }

    fn sniff(&self, archive: &Archive) -> Result<bool, SourceError> {
        for entry in archive.entries() {
            if entry.basename().eq_ignore_ascii_case("outbox.json")
                && looks_like_outbox(&archive.head(entry, HEAD_BYTES)?)
            {
                return Ok(true);
            }
        }
        for entry in archive.entries() {
            if entry.basename().eq_ignore_ascii_case("actor.json")
                && looks_like_actor(&archive.head(entry, HEAD_BYTES)?)
            {
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
        let path = archive.path().display().to_string();
        if let Some(damage) = archive.damage() {
            sink.diag().warn(
                &path,
                None,
                "damaged archive: files after the damage were not read",
                damage.to_string(),
            );
        }
        let mut actors: Vec<&Entry> = Vec::new();
        let mut outboxes: Vec<&Entry> = Vec::new();
        let mut likes: Vec<&Entry> = Vec::new();
        let mut ignored = 0usize;
        for entry in archive.entries() {
            let base = entry.basename().to_ascii_lowercase();
            match base.as_str() {
                "actor.json" => actors.push(entry),
                "outbox.json" => outboxes.push(entry),
                "likes.json" => likes.push(entry),
                _ => ignored += 1,
            }
        }
        // The shallowest file first (an archive inside a folder of other things).
        for list in [&mut actors, &mut outboxes, &mut likes] {
            list.sort_by(|a, b| (a.depth(), &a.name).cmp(&(b.depth(), &b.name)));
        }
        if ignored > 0 {
            sink.diag().note(format!(
                "{path}: {ignored} file(s) (media, bookmarks, avatar, …) hold no participation data and were not read"
            ));
        }

        // 1. The owner: `--me`, else actor.json.
        let mut me: Option<Me> = options
            .me_for(Platform::Mastodon)
            .map(|id| Me::new(id, None));
        let mut how = "given with --me";
        for entry in &actors {
            if me.is_none() {
                me = read_actor(archive, entry, sink.diag())?;
                how = "id in actor.json";
            }
        }

        // 2. Statuses and boosts.
        let mut state = State::new(me, how);
        for entry in &outboxes {
            read_outbox(archive, entry, &mut state, sink)?;
        }
        state.finish(sink);

        // 3. Likes: passive, undated.
        let mut seen = HashSet::new();
        for entry in &likes {
            read_likes(archive, entry, &mut seen, sink)?;
        }
        Ok(())
    }
}

/// An `outbox.json` head: a JSON object that mentions the ordered collection.
fn looks_like_outbox(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{FEFF}').trim_start();
    t.starts_with('{') && (t.contains("\"orderedItems\"") || t.contains("\"OrderedCollection\""))
}

/// An `actor.json` head: a JSON object whose `type` is `Person` or `Service`.
fn looks_like_actor(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{FEFF}').trim_start();
    if !t.starts_with('{') {
        return false;
    }
    let mut rest = t;
    while let Some(i) = rest.find("\"type\"") {
        let after = rest[i + 6..].trim_start();
        if let Some(value) = after.strip_prefix(':') {
            let value = value.trim_start();
            if value.starts_with("\"Person\"") || value.starts_with("\"Service\"") {
                return true;
            }
        }
        rest = &rest[i + 6..];
    }
    false
}

// ------------------------------------------------------------------------------------------
// Owner

/// The owner as far as statuses need it.
#[derive(Debug, Clone)]
struct Me {
    /// Actor URI.
    id: String,
    /// `id` + `/`: every URI under it is the owner's.
    prefix: String,
    /// `scheme://host/` of the actor: own statuses live there.
    origin: String,
    /// The followers collection (`actor.json` `followers`, else `<id>/followers`).
    followers: String,
    /// `<id>/followers`, also accepted.
    default_followers: String,
}

impl Me {
    fn new(id: &str, followers: Option<&str>) -> Me {
        let id = id.trim_end_matches('/').to_string();
        let default_followers = format!("{id}/followers");
        let origin = match id.find("://") {
            Some(i) => match id[i + 3..].find('/') {
                Some(j) => id[..i + 3 + j + 1].to_string(),
                None => format!("{id}/"),
            },
            None => format!("{id}/"),
        };
        Me {
            prefix: format!("{id}/"),
            origin,
            followers: followers
                .map(str::to_string)
                .unwrap_or_else(|| default_followers.clone()),
            default_followers,
            id,
        }
    }

    fn is_followers(&self, uri: &str) -> bool {
        uri == self.followers || uri == self.default_followers
    }

    /// True for a status URI that is certainly the owner's.
    fn owns(&self, uri: &str) -> bool {
        uri.starts_with(&self.prefix)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawActor {
    id: Ref,
    followers: Ref,
}

fn read_actor(
    archive: &Archive,
    entry: &Entry,
    diag: &mut Diagnostics,
) -> Result<Option<Me>, SourceError> {
    let parsed = archive.read(entry, |r| {
        let mut de = serde_json::Deserializer::from_reader(BufReader::new(r));
        match RawActor::deserialize(&mut de) {
            Ok(a) => Ok(Ok(a)),
            Err(e) if e.is_io() => {
                let io = io::Error::from(e);
                if is_cap(&io) {
                    Err(io)
                } else {
                    Ok(Err(io.to_string()))
                }
            }
            Err(e) => Ok(Err(e.to_string())),
        }
    })?;
    match parsed {
        Ok(RawActor {
            id: Ref(Some(id)),
            followers,
        }) => Ok(Some(Me::new(&id, followers.0.as_deref()))),
        Ok(_) => {
            diag.warn(
                &entry.name,
                None,
                "actor.json without an id: the owner is taken from the outbox",
                String::new(),
            );
            Ok(None)
        }
        Err(message) => {
            diag.warn(
                &entry.name,
                None,
                "unreadable actor.json: the owner is taken from the outbox",
                message,
            );
            Ok(None)
        }
    }
}

/// The inflated-bytes cap error of archive.rs.
fn is_cap(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Other && e.to_string().contains(CAP_MESSAGE)
}

// ------------------------------------------------------------------------------------------
// Streaming JSON

/// What streaming one collection file gave.
#[derive(Debug)]
enum Streamed {
    /// Every item was read; `found` says whether there was an `orderedItems` array at all.
    Complete { found: bool },
    /// Reading stopped at item `item` (0-based; the items before it were handed over).
    Broken {
        item: u64,
        offset: u64,
        message: String,
    },
}

/// Calls `each(index, item)` for every element of an array, as soon as it is parsed.
struct ItemsSeed<'a, T, F> {
    each: &'a mut F,
    items: &'a mut u64,
    _t: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>, F: FnMut(u64, T)> DeserializeSeed<'de> for ItemsSeed<'_, T, F> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(u64, T)> Visitor<'de> for ItemsSeed<'_, T, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<T>()? {
            (self.each)(*self.items, item);
            *self.items += 1;
        }
        Ok(())
    }

    // `orderedItems: null` or another non-array: no items.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        drain_map(map)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
}

/// The top level of a collection file: an object whose `orderedItems` is streamed (every other
/// key skipped), or a bare array of items.
struct CollectionVisitor<'a, T, F> {
    each: &'a mut F,
    items: &'a mut u64,
    found: &'a mut bool,
    _t: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>, F: FnMut(u64, T)> Visitor<'de> for CollectionVisitor<'_, T, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ActivityStreams OrderedCollection")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "orderedItems" || key == "items" {
                *self.found = true;
                map.next_value_seed(ItemsSeed {
                    each: &mut *self.each,
                    items: &mut *self.items,
                    _t: PhantomData::<T>,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        *self.found = true;
        ItemsSeed {
            each: self.each,
            items: self.items,
            _t: PhantomData::<T>,
        }
        .visit_seq(seq)
    }
}

/// Streams the items of a collection file. The cap error is returned; any other I/O error (a
/// truncated archive) or JSON error ends the stream as `Broken`.
fn stream_collection<T, F>(r: &mut dyn Read, mut each: F) -> io::Result<Streamed>
where
    T: DeserializeOwned,
    F: FnMut(u64, T),
{
    let mut counted = Counted {
        inner: BufReader::with_capacity(64 * 1024, r),
        count: 0,
    };
    let mut items = 0u64;
    let mut found = false;
    let result = {
        let mut de = serde_json::Deserializer::from_reader(&mut counted);
        de::Deserializer::deserialize_any(
            &mut de,
            CollectionVisitor {
                each: &mut each,
                items: &mut items,
                found: &mut found,
                _t: PhantomData::<T>,
            },
        )
    };
    match result {
        Ok(()) => Ok(Streamed::Complete { found }),
        Err(e) => {
            if e.is_io() {
                let io = io::Error::from(e);
                if is_cap(&io) {
                    return Err(io);
                }
                return Ok(Streamed::Broken {
                    item: items,
                    offset: counted.count,
                    message: io.to_string(),
                });
            }
            Ok(Streamed::Broken {
                item: items,
                offset: counted.count,
                message: e.to_string(),
            })
        }
    }
}

/// Reports a collection file that stopped early or held no items.
fn report_stream(diag: &mut Diagnostics, source: &str, streamed: Streamed) {
    match streamed {
        Streamed::Complete { found: true } => {}
        Streamed::Complete { found: false } => diag.skip(
            source,
            None,
            "no orderedItems array in the file",
            String::new(),
        ),
        Streamed::Broken {
            item,
            offset,
            message,
        } => diag.skip(
            source,
            Some(item + 1),
            "truncated or invalid JSON",
            format!(
                "item {} (1-based) at byte {offset}: {message}; the {item} item(s) before it were kept",
                item + 1
            ),
        ),
    }
}

// ------------------------------------------------------------------------------------------
// Lenient field types: a value of an unexpected type is "absent", never an error that would
// end the whole stream.

/// A URI or short string: a string, or an object's `id` (`{"id": …}` links), or the first
/// element of an array. Blank is absent.
#[derive(Debug, Default, Clone, PartialEq)]
struct Ref(Option<String>);

impl<'de> Deserialize<'de> for Ref {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RefVisitor)
    }
}

struct RefVisitor;

impl<'de> Visitor<'de> for RefVisitor {
    type Value = Ref;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a URI")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Ref, E> {
        let t = v.trim();
        Ok(Ref((!t.is_empty()).then(|| t.to_string())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ref, E> {
        Ok(Ref(Some(v.to_string())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ref, E> {
        Ok(Ref(Some(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Ref, E> {
        Ok(Ref(None))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Ref, E> {
        Ok(Ref(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Ref, E> {
        Ok(Ref(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ref, A::Error> {
        let first = seq.next_element::<Ref>()?.unwrap_or_default();
        drain_seq(seq)?;
        Ok(first)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ref, A::Error> {
        let mut id = Ref(None);
        while let Some(key) = map.next_key::<String>()? {
            if key == "id" {
                id = map.next_value::<Ref>()?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(id)
    }
}

/// An addressing list (`to`, `cc`): one URI or an array of them.
#[derive(Debug, Default, Clone, PartialEq)]
struct Uris(Vec<String>);

impl<'de> Deserialize<'de> for Uris {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UrisVisitor)
    }
}

struct UrisVisitor;

impl<'de> Visitor<'de> for UrisVisitor {
    type Value = Uris;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of URIs")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Uris, A::Error> {
        let mut v = Vec::new();
        while let Some(Ref(r)) = seq.next_element::<Ref>()? {
            if let Some(r) = r {
                v.push(r);
            }
        }
        Ok(Uris(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Uris, E> {
        Ok(Uris(RefVisitor.visit_str::<E>(v)?.0.into_iter().collect()))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Uris, A::Error> {
        Ok(Uris(RefVisitor.visit_map(map)?.0.into_iter().collect()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Uris, E> {
        Ok(Uris::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Uris, E> {
        Ok(Uris::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Uris, E> {
        Ok(Uris::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Uris, E> {
        Ok(Uris::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Uris, E> {
        Ok(Uris::default())
    }
}

/// The first [`CONTENT_HEAD`] bytes of a string (cut at a character boundary).
#[derive(Debug, Default, Clone, PartialEq)]
struct Head(Option<String>);

impl<'de> Deserialize<'de> for Head {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HeadVisitor)
    }
}

struct HeadVisitor;

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl<'de> Visitor<'de> for HeadVisitor {
    type Value = Head;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Head, E> {
        Ok(Head(Some(cut(v, CONTENT_HEAD).to_string())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Head, E> {
        Ok(Head(None))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Head, E> {
        Ok(Head(None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Head, E> {
        Ok(Head(None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Head, E> {
        Ok(Head(None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Head, E> {
        Ok(Head(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Head, A::Error> {
        drain_seq(seq).map(|_| Head(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Head, A::Error> {
        drain_map(map).map(|_| Head(None))
    }
}

/// A list; a single object is a list of one, anything else is empty.
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
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| List(vec![t]))
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

/// An activity's `object`: a URI, an inlined object, or absent.
#[derive(Debug, Default)]
enum ObjectField {
    #[default]
    Absent,
    /// The boosted status's URI (not needed: a boost is amplification whatever it boosts).
    Uri,
    Inline(Box<RawObject>),
}

impl<'de> Deserialize<'de> for ObjectField {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ObjectVisitor)
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = ObjectField;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a URI or an object")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ObjectField, E> {
        Ok(if v.trim().is_empty() {
            ObjectField::Absent
        } else {
            ObjectField::Uri
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ObjectField, A::Error> {
        RawObject::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(|o| ObjectField::Inline(Box::new(o)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ObjectField, A::Error> {
        drain_seq(seq).map(|_| ObjectField::Absent)
    }
    fn visit_unit<E: de::Error>(self) -> Result<ObjectField, E> {
        Ok(ObjectField::Absent)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ObjectField, E> {
        Ok(ObjectField::Absent)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ObjectField, E> {
        Ok(ObjectField::Absent)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ObjectField, E> {
        Ok(ObjectField::Absent)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ObjectField, E> {
        Ok(ObjectField::Absent)
    }
}

/// One `orderedItems` element: only the fields rapport uses (the rest, `@context` included,
/// is skipped without being kept).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawItem {
    id: Ref,
    #[serde(rename = "type")]
    kind: Ref,
    actor: Ref,
    published: Ref,
    to: Option<Uris>,
    cc: Option<Uris>,
    object: ObjectField,
}

/// A Note or Question (or, inlined in an Announce, the boosted status).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawObject {
    id: Ref,
    #[serde(rename = "type")]
    kind: Ref,
    #[serde(rename = "inReplyTo")]
    in_reply_to: Ref,
    published: Ref,
    to: Option<Uris>,
    cc: Option<Uris>,
    tag: List<RawTag>,
    content: Head,
    conversation: Ref,
    context: Ref,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawTag {
    #[serde(rename = "type")]
    kind: Ref,
    href: Ref,
    name: Ref,
}

// ------------------------------------------------------------------------------------------
// Statuses

/// One status or boost reduced to what classification needs.
#[derive(Debug, Clone)]
struct Status {
    /// Position in the file (0-based).
    seq: u64,
    /// The object id of a status, the activity id of a boost.
    id: String,
    boost: bool,
    at: Option<i64>,
    /// `inReplyTo`.
    parent: Option<String>,
    /// Whether `to` or `cc` was given at all (no addressing: visibility unknown, not private).
    addressed: bool,
    /// `to ∪ cc`, in order, without repeats.
    recipients: Vec<String>,
    /// `conversation`, else `context`.
    conversation: Option<String>,
    /// `Mention` tags: (href, name).
    mentions: Vec<(String, String)>,
    /// The leading run of `@user` / `@user@host` tokens of the text, without the `@`.
    leading: Vec<String>,
}

impl Status {
    /// A private conversation (docs/counting.md, *Mastodon*): neither the Public collection nor the
    /// owner's followers are addressed — and somebody is: a direct status addressed to nobody
    /// is neither private nor a message, and falls through to the reply and post rules.
    fn is_private(&self, me: Option<&Me>) -> bool {
        self.addressed
            && !self.boost
            && !self.recipients.iter().any(|r| {
                is_public(r)
                    || match me {
                        Some(m) => m.is_followers(r),
                        None => r.ends_with("/followers"),
                    }
            })
            && !self.addressees(me).is_empty()
    }

    /// The actors a status is addressed to: `to ∪ cc` without the owner and follower
    /// collections.
    fn addressees(&self, me: Option<&Me>) -> Vec<&String> {
        let owner = me.map(|m| m.id.as_str());
        self.recipients
            .iter()
            .filter(|r| Some(r.as_str()) != owner && !r.ends_with("/followers"))
            .collect()
    }
}

/// A 128-bit FNV-1a hash: ids are kept as hashes (a collision among a million ids has a
/// probability around 10^-27).
fn hash128(s: &str) -> u128 {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in s.bytes() {
        h ^= b as u128;
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    h
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

/// What reading the outbox shares across files and items.
struct State {
    me: Option<Me>,
    /// How `me` was found, when it was known before the outbox.
    me_how: &'static str,
    /// Hashes of every id taken (statuses and boosts): de-duplication and "one of the outbox's
    /// own statuses".
    ids: HashSet<u128>,
    /// Statuses decided after the whole outbox was read.
    pending: Vec<(Status, Arc<str>)>,
    /// `actor` counts, only while the owner is unknown.
    actors: HashMap<String, u64>,
    people: Interner,
    ignored_types: BTreeMap<String, u64>,
    duplicates: u64,
    /// Sources read, for the notes.
    sources: Vec<Arc<str>>,
}

impl State {
    fn new(me: Option<Me>, me_how: &'static str) -> State {
        State {
            me,
            me_how,
            ids: HashSet::new(),
            pending: Vec::new(),
            actors: HashMap::new(),
            people: Interner::default(),
            ignored_types: BTreeMap::new(),
            duplicates: 0,
            sources: Vec::new(),
        }
    }

    /// Takes one outbox item (its fields are moved, not copied, into the compact [`Status`]).
    fn take(&mut self, item: RawItem, seq: u64, source: &Arc<str>, sink: &mut dyn Sink) {
        let line = seq + 1;
        let RawItem {
            id: activity_id,
            kind,
            actor,
            published,
            to,
            cc,
            object,
        } = item;
        let boost = match kind.0.as_deref().unwrap_or("") {
            "Create" => false,
            "Announce" => true,
            other => {
                let name = if other.is_empty() { "(none)" } else { other };
                self.ignore(name);
                return;
            }
        };
        let obj = match object {
            ObjectField::Inline(o) => Some(*o),
            _ => None,
        };
        if !boost {
            match &obj {
                Some(o) => {
                    let t = o.kind.0.as_deref().unwrap_or("Note");
                    if t != "Note" && t != "Question" {
                        self.ignore(&format!("Create {t}"));
                        return;
                    }
                }
                None => {
                    self.ignore("Create without an inlined status");
                    return;
                }
            }
        }
        let id = if boost {
            activity_id.0
        } else {
            match obj.as_ref().and_then(|o| o.id.0.clone()) {
                Some(id) => Some(id),
                None => activity_id.0.map(|mut a| {
                    if a.ends_with("/activity") {
                        a.truncate(a.len() - "/activity".len());
                    }
                    a
                }),
            }
        };
        let Some(id) = id else {
            let reason = if boost {
                "boost without an id"
            } else {
                "status without an id"
            };
            sink.diag().skip(source, Some(line), reason, String::new());
            return;
        };
        if !self.ids.insert(hash128(&id)) {
            self.duplicates += 1;
            return;
        }
        if self.me.is_none()
            && let Some(actor) = actor.0
        {
            *self.actors.entry(actor).or_insert(0) += 1;
        }
        let object_published = obj.as_ref().and_then(|o| o.published.0.as_deref());
        let at = status_date(
            published.0.as_deref(),
            object_published,
            source,
            line,
            sink.diag(),
        );
        let mut status = Status {
            seq,
            id,
            boost,
            at,
            parent: None,
            addressed: false,
            recipients: Vec::new(),
            conversation: None,
            mentions: Vec::new(),
            leading: Vec::new(),
        };
        if let (false, Some(o)) = (boost, obj) {
            // The status's own addressing when it has any, else the activity's.
            let (to, cc) = if o.to.is_some() || o.cc.is_some() {
                (o.to, o.cc)
            } else {
                (to, cc)
            };
            status.addressed = to.is_some() || cc.is_some();
            for r in to.into_iter().chain(cc).flat_map(|u| u.0) {
                if !status.recipients.contains(&r) {
                    status.recipients.push(r);
                }
            }
            status.mentions = o
                .tag
                .0
                .into_iter()
                .filter(|t| t.kind.0.as_deref() == Some("Mention"))
                .filter_map(|t| Some((t.href.0?, t.name.0.unwrap_or_default())))
                .collect();
            if o.in_reply_to.0.is_none()
                && let Some(html) = &o.content.0
            {
                status.leading = leading_tokens(html);
            }
            status.parent = o.in_reply_to.0;
            status.conversation = o.conversation.0.or(o.context.0);
        }
        self.place(status, source, sink);
    }

    fn ignore(&mut self, what: &str) {
        match self.ignored_types.get_mut(what) {
            Some(n) => *n += 1,
            None => {
                self.ignored_types.insert(what.to_string(), 1);
            }
        }
    }

    /// Pushes the status now, or keeps it until the outbox is read when something is unknown.
    fn place(&mut self, s: Status, source: &Arc<str>, sink: &mut dyn Sink) {
        let Some(me) = self.me.as_ref() else {
            self.pending.push((s, source.clone()));
            return;
        };
        let mut parent_own = false;
        if let Some(p) = &s.parent {
            parent_own = me.owns(p) || self.ids.contains(&hash128(p));
            if !parent_own && p.starts_with(&me.origin) {
                // On the owner's server: may be an own status further down the file.
                self.pending.push((s, source.clone()));
                return;
            }
        }
        let conversation = if s.is_private(Some(me)) {
            match (&s.conversation, &s.parent) {
                (Some(c), _) => Some(c.clone()),
                (None, None) => Some(s.id.clone()),
                (None, Some(_)) => {
                    // The thread root is found among the other private messages.
                    self.pending.push((s, source.clone()));
                    return;
                }
            }
        } else {
            None
        };
        let a = activity(
            s,
            Some(me),
            &mut self.people,
            parent_own,
            conversation,
            source,
        );
        sink.push(a);
    }

    /// Decides what waited for the whole outbox, reports the owner and the notes.
    fn finish(&mut self, sink: &mut dyn Sink) {
        let how = if self.me.is_some() {
            self.me_how.to_string()
        } else {
            let total: u64 = self.actors.values().sum();
            let best = self
                .actors
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(id, n)| (id.clone(), *n));
            match best {
                Some((id, n)) => {
                    self.me = Some(Me::new(&id, None));
                    format!(
                        "most frequent actor of the outbox ({n} of {total} item(s)); no usable actor.json"
                    )
                }
                None => "not found".to_string(),
            }
        };
        if self.me.is_none() {
            sink.diag().warn(
                "actor.json",
                None,
                "owner not identified: no reply counts as a self-thread",
                "no actor.json and no actor in the outbox".into(),
            );
        }
        sink.owner(Owner {
            platform: Platform::Mastodon,
            id: self.me.as_ref().map(|m| m.id.clone()),
            how,
        });
        let me = self.me.clone();
        let pending = std::mem::take(&mut self.pending);
        // Thread roots of private messages without a conversation id: follow the parents
        // through the other such messages.
        let parents: HashMap<&str, &str> = pending
            .iter()
            .filter(|(s, _)| s.conversation.is_none() && s.is_private(me.as_ref()))
            .filter_map(|(s, _)| Some((s.id.as_str(), s.parent.as_deref()?)))
            .collect();
        let roots: Vec<Option<String>> = pending
            .iter()
            .map(|(s, _)| {
                if !s.is_private(me.as_ref()) {
                    return None;
                }
                if let Some(c) = &s.conversation {
                    return Some(c.clone());
                }
                let mut root = s.id.as_str();
                let mut steps = 0usize;
                while let Some(p) = parents.get(root) {
                    root = p;
                    steps += 1;
                    if steps > parents.len() {
                        break; // a cycle in broken data
                    }
                }
                Some(root.to_string())
            })
            .collect();
        drop(parents);
        for ((s, source), conversation) in pending.into_iter().zip(roots) {
            let parent_own = match (&s.parent, &me) {
                (Some(p), Some(m)) => m.owns(p) || self.ids.contains(&hash128(p)),
                _ => false,
            };
            let a = activity(
                s,
                me.as_ref(),
                &mut self.people,
                parent_own,
                conversation,
                &source,
            );
            sink.push(a);
        }
        let sources = self
            .sources
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if !self.ignored_types.is_empty() {
            let list = self
                .ignored_types
                .iter()
                .map(|(t, n)| format!("{n} {t}"))
                .collect::<Vec<_>>()
                .join(", ");
            sink.diag().note(format!(
                "{sources}: activities that are not statuses or boosts were ignored: {list}"
            ));
        }
        if self.duplicates > 0 {
            sink.diag().note(format!(
                "{sources}: {} status(es) appear more than once and were counted once",
                self.duplicates
            ));
        }
    }
}

/// Builds the Activity of an archive status: the archive's facts handed to the shared rules.
fn activity(
    s: Status,
    me: Option<&Me>,
    people: &mut Interner,
    parent_own: bool,
    conversation: Option<String>,
    source: &Arc<str>,
) -> Activity {
    let private_to = s
        .is_private(me)
        .then(|| s.addressees(me).into_iter().cloned().collect());
    let facts = StatusFacts {
        id: s.id,
        at: s.at,
        seq: s.seq,
        boost: s.boost,
        parent: s.parent,
        parent_own,
        parent_author: None,
        private_to,
        conversation,
        mentions: s.mentions,
        leading: s.leading,
    };
    status_activity(facts, me.map(|m| m.id.as_str()), people, source)
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
    source: &Arc<str>,
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
        a.id = s.id;
        return a;
    }
    if let Some(p) = &s.parent {
        a.kind = Kind::Reply;
        a.hints.parent = Some(p.clone());
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
                a.counterparts = vec![people.get(&who)];
                a.hints.parent_author = Some(who);
            }
        }
    }
    match s.private_to.filter(|to| !to.is_empty()) {
        Some(to) => {
            a.kind = Kind::Message;
            a.participants = Some(1 + to.len() as u32);
            a.counterparts = to.iter().map(|r| people.get(r)).collect();
            a.conversation = s.conversation.map(|c| people.get(&c));
        }
        None if s.parent.is_none() && !s.leading.is_empty() => {
            a.hints.leading_mentions = Some(s.leading.len() as u32);
            for token in &s.leading {
                if let Some(href) = mention_href(token, &s.mentions)
                    && Some(href) != owner
                    && !a.counterparts.iter().any(|c| **c == *href)
                {
                    a.counterparts.push(people.get(href));
                }
            }
        }
        None => {}
    }
    a.id = s.id;
    a
}

/// The activity's `published`, else the status's (docs/counting.md, *Mastodon*).
fn status_date(
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
fn mention_href<'a>(token: &str, mentions: &'a [(String, String)]) -> Option<&'a str> {
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

// ------------------------------------------------------------------------------------------
// Text

/// The leading run of `@user` / `@user@host` tokens of a status's HTML `content` (its visible
/// text), without the `@` (docs/counting.md, *Mastodon*).
pub(crate) fn leading_tokens(html: &str) -> Vec<String> {
    leading_mentions(&html_text(html))
}

/// The visible text of a status's HTML: tags removed (`<br>` and block ends become a space),
/// entities decoded.
fn html_text(html: &str) -> String {
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
fn decode_entity(s: &str) -> Option<(char, usize)> {
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
fn leading_mentions(text: &str) -> Vec<String> {
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

// ------------------------------------------------------------------------------------------
// Files

fn read_outbox(
    archive: &Archive,
    entry: &Entry,
    state: &mut State,
    sink: &mut dyn Sink,
) -> Result<(), SourceError> {
    let source: Arc<str> = Arc::from(entry.name.as_str());
    state.sources.push(source.clone());
    let streamed = archive.read(entry, |r| {
        stream_collection::<RawItem, _>(r, |seq, item| state.take(item, seq, &source, sink))
    })?;
    report_stream(sink.diag(), &source, streamed);
    Ok(())
}

fn read_likes(
    archive: &Archive,
    entry: &Entry,
    seen: &mut HashSet<u128>,
    sink: &mut dyn Sink,
) -> Result<(), SourceError> {
    let source: Arc<str> = Arc::from(entry.name.as_str());
    let streamed = archive.read(entry, |r| {
        stream_collection::<Ref, _>(r, |seq, Ref(uri)| {
            let Some(uri) = uri else {
                sink.diag().skip(
                    &source,
                    Some(seq + 1),
                    "like without a status URI",
                    String::new(),
                );
                return;
            };
            let id = format!("like:{uri}");
            if !seen.insert(hash128(&id)) {
                return;
            }
            let mut a = Activity::new(
                Platform::Mastodon,
                id,
                None,
                Direction::Out,
                Kind::Reaction,
                source.clone(),
            );
            a.hints.seq = seq;
            sink.push(a);
        })
    })?;
    report_stream(sink.diag(), &source, streamed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{classify, mark_heuristics};
    use crate::diag::Outcome;
    use crate::model::{Confidence, Mode};
    use crate::sources::Collected;
    use std::path::{Path, PathBuf};

    const ME: &str = "https://social.example/users/robin";
    const SAM: &str = "https://other.example/users/sam";
    const KIM: &str = "https://third.example/users/kim";
    const LEE: &str = "https://pleroma.example/users/lee";
    const ANA: &str = "https://numeric.example/ap/users/115550123";
    const DM: &str = "tag:social.example,2024-03-07:objectId=5001:objectType=Conversation";

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/mastodon")
            .join(name)
    }

    /// Reads and classifies an export; panics only in tests.
    fn load_path(path: &Path) -> Collected {
        let archive = Archive::open(path, u64::MAX).expect("fixture opens");
        assert!(
            MastodonArchive.sniff(&archive).expect("sniff"),
            "{} not recognised",
            path.display()
        );
        let mut c = Collected::default();
        MastodonArchive
            .read(&archive, &ImportOptions::default(), &mut c)
            .expect("read");
        classify(&mut c.activities, 8);
        mark_heuristics(&mut c.activities);
        c
    }

    fn load(name: &str) -> Collected {
        load_path(&fixture(name))
    }

    fn status(n: u32) -> String {
        format!("{ME}/statuses/{n}")
    }

    fn get<'a>(c: &'a Collected, id: &str) -> &'a Activity {
        c.activities
            .iter()
            .find(|a| a.id == id)
            .unwrap_or_else(|| panic!("no activity {id}"))
    }

    fn st(c: &Collected, n: u32) -> &Activity {
        get(c, &status(n))
    }

    fn cps(a: &Activity) -> Vec<&str> {
        a.counterparts.iter().map(|c| &**c).collect()
    }

    fn ms(iso: &str) -> Option<i64> {
        parse_datetime(iso)
    }

    fn problem(c: &Collected, reason: &str) -> Option<crate::diag::Problem> {
        c.diagnostics
            .problems()
            .into_iter()
            .find(|p| p.reason.contains(reason))
    }

    #[test]
    fn sniffs_folder_tar_gz_and_actor_only() {
        for name in ["archive", "archive.tar.gz", "truncated.tar.gz", "not-json"] {
            let a = Archive::open(&fixture(name), u64::MAX).expect("opens");
            assert!(MastodonArchive.sniff(&a).expect("sniff"), "{name}");
        }
        let li = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/linkedin.zip");
        let a = Archive::open(&li, u64::MAX).expect("opens");
        assert!(!MastodonArchive.sniff(&a).expect("sniff"));
        assert!(looks_like_actor(br#"{"id":"x", "type" : "Service"}"#));
        assert!(!looks_like_actor(br#"{"id":"x","type":"Image"}"#));
        assert!(!looks_like_outbox(b"<html>orderedItems</html>"));
    }

    #[test]
    fn owner_from_actor_json() {
        let c = load("archive");
        assert_eq!(c.owners.len(), 1);
        assert_eq!(c.owners[0].platform, Platform::Mastodon);
        assert_eq!(c.owners[0].id.as_deref(), Some(ME));
        assert_eq!(c.owners[0].how, "id in actor.json");
    }

    #[test]
    fn public_unlisted_and_followers_only_are_broadcast() {
        let c = load("archive");
        for n in [101, 102, 103] {
            let a = st(&c, n);
            assert_eq!(a.kind, Kind::Post, "{n}");
            assert_eq!(a.mode, Some(Mode::Broadcast), "{n}");
            assert_eq!(a.participants, None);
            assert_eq!(a.direction, Direction::Out);
            assert_eq!(&*a.source, "outbox.json");
        }
        assert_eq!(st(&c, 101).at, ms("2024-03-02T09:00:00Z"));
    }

    #[test]
    fn direct_to_one_person() {
        let c = load("archive");
        let a = st(&c, 104);
        assert_eq!(a.kind, Kind::Message);
        assert_eq!(a.participants, Some(2));
        assert_eq!(cps(a), vec![SAM]);
        assert_eq!(a.conversation.as_deref(), Some(DM));
        assert_eq!(a.mode, Some(Mode::Conversation));
        // A leading mention in a direct message is not an addressed-mention hint.
        assert_eq!(a.hints.leading_mentions, None);
    }

    #[test]
    fn direct_to_two_people_uses_context() {
        let c = load("archive");
        let a = st(&c, 105);
        assert_eq!(a.kind, Kind::Message);
        assert_eq!(a.participants, Some(3));
        assert_eq!(cps(a), vec![SAM, KIM]);
        assert_eq!(
            a.conversation.as_deref(),
            Some("https://social.example/contexts/5003")
        );
        assert_eq!(a.mode, Some(Mode::Conversation));
    }

    #[test]
    fn direct_to_nobody_is_neither_private_nor_a_message() {
        let c = load("archive");
        let a = st(&c, 106);
        assert_eq!(a.kind, Kind::Post);
        assert_eq!(a.participants, None);
        assert!(a.counterparts.is_empty());
        assert_eq!(a.conversation, None);
        assert_eq!(a.mode, Some(Mode::Broadcast));
        assert!(!a.is_private_message());
    }

    #[test]
    fn direct_reply_is_private_before_reply_rules() {
        let c = load("archive");
        let a = st(&c, 120);
        assert_eq!(a.kind, Kind::Message);
        assert_eq!(a.participants, Some(2));
        assert_eq!(cps(a), vec![SAM]);
        assert_eq!(a.conversation.as_deref(), Some(DM));
        assert_eq!(
            a.hints.parent.as_deref(),
            Some("https://other.example/users/sam/statuses/5002")
        );
        assert_eq!(a.hints.parent_author.as_deref(), Some(SAM));
        assert!(!a.hints.parent_is_owner);
        assert_eq!(a.mode, Some(Mode::Conversation));
        assert_eq!(a.at, ms("2024-03-07T12:00:00Z"));
    }

    #[test]
    fn self_thread_chain_of_two_in_any_order() {
        let c = load("archive");
        assert_eq!(st(&c, 107).mode, Some(Mode::Broadcast));
        for (n, parent) in [(108, 107), (109, 108)] {
            let a = st(&c, n);
            assert_eq!(a.kind, Kind::Reply);
            assert!(a.hints.parent_is_owner, "{n}");
            assert_eq!(a.hints.parent.as_deref(), Some(status(parent).as_str()));
            assert_eq!(a.mode, Some(Mode::SelfThread), "{n}");
            assert!(a.counterparts.is_empty());
        }
    }

    #[test]
    fn continued_turn_is_conversation_with_the_other_person() {
        let c = load("archive");
        let first = st(&c, 110);
        assert_eq!(first.kind, Kind::Reply);
        assert_eq!(first.mode, Some(Mode::Conversation));
        assert_eq!(first.hints.parent_author.as_deref(), Some(SAM));
        assert_eq!(cps(first), vec![SAM]);
        let again = st(&c, 111);
        assert!(again.hints.parent_is_owner);
        assert_eq!(again.mode, Some(Mode::Conversation));
        assert_eq!(cps(again), vec![SAM]);
    }

    #[test]
    fn reply_to_numeric_ap_users_uri() {
        let c = load("archive");
        let a = st(&c, 112);
        assert_eq!(a.mode, Some(Mode::Conversation));
        assert_eq!(a.hints.parent_author.as_deref(), Some(ANA));
        assert_eq!(cps(a), vec![ANA]);
    }

    #[test]
    fn reply_to_unknown_uri_shape_takes_first_mention_not_owner() {
        let c = load("archive");
        let a = st(&c, 113);
        assert_eq!(a.mode, Some(Mode::Conversation));
        assert_eq!(cps(a), vec![LEE]);
    }

    #[test]
    fn boosts_are_amplification_uri_or_inlined() {
        let c = load("archive");
        let uri = get(&c, &format!("{}/activity", status(114)));
        assert_eq!(uri.kind, Kind::Repost);
        assert_eq!(uri.mode, Some(Mode::Amplification));
        assert_eq!(uri.at, ms("2024-04-05T08:00:00Z"));
        let own = get(&c, &format!("{}/activity", status(115)));
        assert_eq!(own.kind, Kind::Repost);
        assert_eq!(own.mode, Some(Mode::Amplification));
        assert_eq!(own.at, ms("2024-04-06T08:00:00Z"));
        // The inlined status is not counted again.
        assert_eq!(
            c.activities.iter().filter(|a| a.id == status(103)).count(),
            1
        );
    }

    #[test]
    fn poll_with_own_context_is_broadcast() {
        let c = load("archive");
        let a = st(&c, 116);
        assert_eq!(a.kind, Kind::Post);
        assert_eq!(a.mode, Some(Mode::Broadcast));
        assert_eq!(a.at, ms("2024-04-07T08:00:00Z"));
    }

    #[test]
    fn addressed_mentions() {
        let c = load("archive");
        let a = st(&c, 117);
        assert_eq!(a.hints.leading_mentions, Some(2));
        assert_eq!(cps(a), vec![SAM, KIM]);
        assert_eq!(a.mode, Some(Mode::Conversation));
        assert_eq!(a.confidence, Confidence::Low);
        let dot = st(&c, 118);
        assert_eq!(dot.hints.leading_mentions, None);
        assert_eq!(dot.mode, Some(Mode::Broadcast));
        let four = st(&c, 122);
        assert_eq!(four.hints.leading_mentions, Some(4));
        assert_eq!(four.mode, Some(Mode::Broadcast));
        assert_eq!(four.confidence, Confidence::High);
    }

    #[test]
    fn dates_from_activity_else_status_else_undated_with_warning() {
        let c = load("archive");
        assert_eq!(st(&c, 121).at, ms("2024-05-03T08:00:00Z"));
        assert_eq!(st(&c, 119).at, None);
        assert_eq!(st(&c, 119).mode, Some(Mode::Broadcast));
        let p = problem(&c, "unparseable date").expect("warned");
        assert_eq!(p.outcome, Outcome::Kept);
        assert_eq!(p.count, 1);
        assert_eq!(p.first_line, Some(22));
        assert!(p.example.contains("sometime in May"), "{}", p.example);
    }

    #[test]
    fn likes_are_passive_and_undated_bookmarks_ignored() {
        let c = load("archive");
        let likes: Vec<&Activity> = c
            .activities
            .iter()
            .filter(|a| a.kind == Kind::Reaction)
            .collect();
        assert_eq!(likes.len(), 3);
        assert!(likes.iter().all(|a| a.at.is_none()
            && a.mode == Some(Mode::Passive)
            && a.id.starts_with("like:https://")
            && &*a.source == "likes.json"));
        assert_eq!(
            likes[0].id,
            "like:https://other.example/users/sam/statuses/1000"
        );
        assert!(!c.activities.iter().any(|a| a.id.contains("1001")));
    }

    #[test]
    fn duplicates_and_other_activity_types_are_noted() {
        let c = load("archive");
        // 20 statuses + 2 boosts + 3 likes; the repeated status and the Update are not counted.
        assert_eq!(c.activities.len(), 25);
        let notes = c.diagnostics.notes().join("\n");
        assert!(notes.contains("1 Update"), "{notes}");
        assert!(
            notes.contains("1 status(es) appear more than once"),
            "{notes}"
        );
        assert!(notes.contains("2 file(s)"), "{notes}");
        // Only the broken date is a problem.
        assert_eq!(c.diagnostics.problem_count(), 1);
    }

    /// The monthly numbers of fixtures/mastodon (UTC), counted by hand from
    /// fixtures/make_mastodon_fixtures.py:
    ///
    /// | month | broadcast | self_thread | amplification | conversation (private) | passive | people |
    /// |---|---|---|---|---|---|---|
    /// | 2024-03 | 4 (101, 102, 103, 106 direct to nobody) | 0 | 0 | 3 (3) (104, 105, 120) | 0 | sam, kim |
    /// | 2024-04 | 2 (107, 116 poll) | 2 (108, 109) | 2 (114, 115) | 4 (0) (110, 111, 112, 113) | 0 | sam, ana, lee |
    /// | 2024-05 | 3 (118 `.@`, 121, 122 four mentions) | 0 | 0 | 1 (0) (117) | 0 | sam, kim |
    /// | undated | 1 (119) | 0 | 0 | 0 | 3 likes | – |
    ///
    /// Ratios: 3/7 = 0.4286, 4/8 = 0.5000, 1/4 = 0.2500, 0/1 = 0.0000.
    #[test]
    fn monthly_table_counted_by_hand() {
        for name in ["archive", "archive.tar.gz"] {
            let c = load(name);
            let mut table: BTreeMap<(String, &str), usize> = BTreeMap::new();
            let mut people: BTreeMap<String, HashSet<String>> = BTreeMap::new();
            for a in &c.activities {
                let month =
                    a.at.and_then(chrono::DateTime::from_timestamp_millis)
                        .map_or("undated".to_string(), |d| d.format("%Y-%m").to_string());
                let mode = a.mode.map_or("none", Mode::as_str);
                *table.entry((month.clone(), mode)).or_default() += 1;
                if a.mode == Some(Mode::Conversation) && a.kind == Kind::Message {
                    *table.entry((month.clone(), "private")).or_default() += 1;
                }
                if a.mode == Some(Mode::Conversation) {
                    let p = people.entry(month).or_default();
                    p.extend(a.counterparts.iter().map(|c| c.to_string()));
                }
            }
            let expect: BTreeMap<(String, &str), usize> = [
                ("2024-03", "broadcast", 4),
                ("2024-03", "conversation", 3),
                ("2024-03", "private", 3),
                ("2024-04", "broadcast", 2),
                ("2024-04", "self_thread", 2),
                ("2024-04", "amplification", 2),
                ("2024-04", "conversation", 4),
                ("2024-05", "broadcast", 3),
                ("2024-05", "conversation", 1),
                ("undated", "broadcast", 1),
                ("undated", "passive", 3),
            ]
            .into_iter()
            .map(|(m, k, n)| ((m.to_string(), k), n))
            .collect();
            assert_eq!(table, expect, "{name}");
            let count = |m: &str| people.get(m).map_or(0, HashSet::len);
            assert_eq!(
                (count("2024-03"), count("2024-04"), count("2024-05")),
                (2, 3, 2),
                "{name}"
            );
        }
    }

    #[test]
    fn zip_container_reads_the_same() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("archive.zip");
        let file = std::fs::File::create(&path).expect("create");
        let mut zip = zip::ZipWriter::new(file);
        let root = fixture("archive");
        for name in ["outbox.json", "actor.json", "likes.json", "bookmarks.json"] {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .expect("entry");
            let bytes = std::fs::read(root.join(name)).expect("fixture");
            std::io::Write::write_all(&mut zip, &bytes).expect("write");
        }
        zip.finish().expect("finish");
        let c = load_path(&path);
        assert_eq!(c.activities.len(), 25);
        assert_eq!(st(&c, 111).mode, Some(Mode::Conversation));
    }

    #[test]
    fn owner_fallback_is_the_most_frequent_actor() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::copy(
            fixture("archive/outbox.json"),
            dir.path().join("outbox.json"),
        )
        .expect("copy");
        let c = load_path(dir.path());
        assert_eq!(c.owners[0].id.as_deref(), Some(ME));
        assert!(
            c.owners[0].how.contains("most frequent actor"),
            "{}",
            c.owners[0].how
        );
        assert!(c.owners[0].how.contains("22 of 22"), "{}", c.owners[0].how);
        // Everything is decided as with actor.json (no likes here).
        let full = load("archive");
        assert_eq!(c.activities.len(), 22);
        for a in &c.activities {
            let b = get(&full, &a.id);
            assert_eq!(
                (
                    a.kind,
                    a.mode,
                    &a.counterparts,
                    a.participants,
                    &a.conversation
                ),
                (
                    b.kind,
                    b.mode,
                    &b.counterparts,
                    b.participants,
                    &b.conversation
                ),
                "{}",
                a.id
            );
        }
    }

    #[test]
    fn own_statuses_outside_the_actor_path_are_found_in_the_outbox() {
        // A non-Mastodon server: statuses are /objects/<id>; the reply comes first.
        let dir = tempfile::tempdir().expect("tempdir");
        let me = "https://home.example/users/robin";
        let outbox = format!(
            r#"{{"type":"OrderedCollection","orderedItems":[
{{"type":"Create","actor":"{me}","published":"2024-01-02T00:00:00Z","to":["as:Public"],"object":{{"id":"https://home.example/objects/b","inReplyTo":"https://home.example/objects/a","content":"more"}}}},
{{"type":"Create","actor":"{me}","published":"2024-01-03T00:00:00Z","to":["Public"],"object":{{"id":"https://home.example/objects/c","inReplyTo":"https://home.example/objects/z","tag":{{"type":"Mention","href":"https://home.example/users/sam","name":"@sam"}}}}}},
{{"type":"Create","actor":"{me}","published":"2024-01-01T00:00:00Z","to":["https://www.w3.org/ns/activitystreams#Public"],"object":{{"id":"https://home.example/objects/a","inReplyTo":null,"content":"<p>first</p>"}}}}
]}}"#
        );
        std::fs::write(dir.path().join("outbox.json"), outbox).expect("write");
        std::fs::write(
            dir.path().join("actor.json"),
            format!(r#"{{"id":"{me}","type":"Person"}}"#),
        )
        .expect("write");
        let c = load_path(dir.path());
        let b = get(&c, "https://home.example/objects/b");
        assert!(b.hints.parent_is_owner);
        assert_eq!(b.mode, Some(Mode::SelfThread));
        let other = get(&c, "https://home.example/objects/c");
        assert!(!other.hints.parent_is_owner);
        assert_eq!(cps(other), vec!["https://home.example/users/sam"]);
        assert_eq!(other.mode, Some(Mode::Conversation));
        assert_eq!(
            get(&c, "https://home.example/objects/a").mode,
            Some(Mode::Broadcast)
        );
    }

    #[test]
    fn private_thread_root_without_conversation_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let me = "https://social.example/users/robin";
        let sam = "https://other.example/users/sam";
        let item = |n: u32, parent: &str| {
            format!(
                r#"{{"type":"Create","actor":"{me}","published":"2024-02-0{n}T00:00:00Z","to":["{sam}"],"cc":[],"object":{{"id":"{me}/statuses/{n}","inReplyTo":{parent}}}}}"#
            )
        };
        let outbox = format!(
            r#"{{"orderedItems":[{},{},{}]}}"#,
            item(3, &format!("\"{me}/statuses/2\"")),
            item(2, "\"https://other.example/users/sam/statuses/1\""),
            item(4, "null"),
        );
        std::fs::write(dir.path().join("outbox.json"), outbox).expect("write");
        std::fs::write(
            dir.path().join("actor.json"),
            format!(r#"{{"id":"{me}","type":"Person","followers":"{me}/followers"}}"#),
        )
        .expect("write");
        let c = load_path(dir.path());
        let root = "https://other.example/users/sam/statuses/1";
        assert_eq!(st(&c, 2).conversation.as_deref(), Some(root));
        assert_eq!(st(&c, 3).conversation.as_deref(), Some(root));
        assert_eq!(st(&c, 4).conversation.as_deref(), Some(status(4).as_str()));
        assert!(
            c.activities
                .iter()
                .all(|a| a.mode == Some(Mode::Conversation))
        );
    }

    #[test]
    fn truncated_tar_gz_warns_and_keeps_what_was_read() {
        let c = load("truncated.tar.gz");
        let damage = problem(&c, "damaged archive").expect("damage reported");
        assert_eq!(damage.outcome, Outcome::Kept);
        assert!(
            damage.source.ends_with("truncated.tar.gz"),
            "{}",
            damage.source
        );
        let cut = problem(&c, "truncated or invalid JSON").expect("cut reported");
        assert_eq!(cut.outcome, Outcome::Skipped);
        assert_eq!(cut.source, "outbox.json");
        // actor.json (written last) is lost: the owner comes from the outbox.
        assert_eq!(c.owners[0].id.as_deref(), Some(ME));
        assert!(c.owners[0].how.contains("most frequent actor"));
        // The items before the cut, in file order (120, 109, 101, 102, …), are all kept and
        // classified as in the full archive; likes.json is lost.
        // The cut (half of the gzip bytes) falls in item 10: 9 items are whole.
        let kept = cut.first_line.expect("item number") - 1;
        assert_eq!(kept, 9);
        assert_eq!(c.activities.len() as u64, kept);
        let full = load("archive");
        for a in &c.activities {
            assert_eq!(a.mode, get(&full, &a.id).mode, "{}", a.id);
        }
        assert_eq!(st(&c, 120).mode, Some(Mode::Conversation));
        // 109's parent 108 is after the cut: a missing parent is a self-thread.
        assert_eq!(st(&c, 109).mode, Some(Mode::SelfThread));
    }

    #[test]
    fn not_json_outbox_is_reported() {
        let c = load("not-json");
        assert!(c.activities.is_empty());
        let p = problem(&c, "truncated or invalid JSON").expect("reported");
        assert_eq!(p.outcome, Outcome::Skipped);
        assert_eq!(p.first_line, Some(1));
        assert!(
            p.example.contains("the 0 item(s) before it were kept"),
            "{}",
            p.example
        );
        assert_eq!(c.owners[0].id.as_deref(), Some(ME));
    }

    #[test]
    fn text_helpers() {
        assert_eq!(
            html_text("<p>a &amp; b<br/>c&#39;s &#x41; &bogus; &</p>"),
            " a & b c's A &bogus; & "
        );
        assert_eq!(html_text("<p>x<é"), " x");
        assert_eq!(
            leading_mentions("@sam @kim@third.example, hi"),
            vec!["sam", "kim@third.example"]
        );
        assert_eq!(
            leading_mentions("@sam: @kim; @lee hi @ana"),
            vec!["sam", "kim", "lee"]
        );
        assert_eq!(
            leading_mentions("@sam@other.example."),
            vec!["sam@other.example"]
        );
        assert!(leading_mentions(".@sam hi").is_empty());
        assert!(leading_mentions("hi @sam").is_empty());
        assert!(leading_mentions("@ alone").is_empty());
        assert_eq!(
            author_of("https://x.example/users/sam/statuses/1"),
            Some("https://x.example/users/sam")
        );
        assert_eq!(
            author_of("https://x.example/ap/users/12/statuses/34"),
            Some("https://x.example/ap/users/12")
        );
        assert_eq!(author_of("https://x.example/objects/1"), None);
        assert_eq!(author_of("https://x.example/users/sam/statuses/"), None);
        let tags = vec![
            (SAM.to_string(), "@sam@other.example".to_string()),
            (KIM.to_string(), "@kim".to_string()),
        ];
        assert_eq!(mention_href("sam", &tags), Some(SAM));
        assert_eq!(mention_href("Sam@Other.example", &tags), Some(SAM));
        assert_eq!(mention_href("kim", &tags), Some(KIM));
        assert_eq!(mention_href("lee", &tags), None);
    }
}
