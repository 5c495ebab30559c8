//! The lenient-JSON toolkit every JSON importer uses (X, Mastodon, Facebook, Instagram): field
//! types that take a value of an unexpected type as *absent* instead of failing (a failure
//! would end the whole stream of a gigabyte file), and one streaming reader that hands over
//! the items of a top-level array — or of the arrays under named keys of a top-level object —
//! one at a time as they are parsed. No format knowledge, no I/O of its own.
//!
//! Each lenient type says how it reads each JSON shape through [`Shape`]; one generic visitor
//! does the rest, so a new type is a handful of lines.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use super::archive::is_cap;
use super::common::{drain_map, drain_seq};
use crate::diag::Diagnostics;

/// How a lenient type reads each JSON shape; every shape it does not expect is the default
/// ("absent"). Implement the methods of the shapes the type accepts.
pub(crate) trait Shape: Sized + Default {
    /// What the type expects, for messages.
    const EXPECTING: &'static str;
    /// A string.
    fn from_str(_: &str) -> Self {
        Self::default()
    }
    /// A non-negative integer.
    fn from_u64(_: u64) -> Self {
        Self::default()
    }
    /// A negative integer.
    fn from_i64(_: i64) -> Self {
        Self::default()
    }
    /// A number with a fraction or exponent (or beyond 64 bits).
    fn from_f64(_: f64) -> Self {
        Self::default()
    }
    /// `true` or `false`.
    fn from_bool(_: bool) -> Self {
        Self::default()
    }
    /// An array.
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        drain_seq(seq).map(|_| Self::default())
    }
    /// An object.
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        drain_map(map).map(|_| Self::default())
    }
}

struct ShapeVisitor<T>(PhantomData<T>);

impl<'de, T: Shape> Visitor<'de> for ShapeVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::from_str(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok(T::from_u64(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok(T::from_i64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Ok(T::from_f64(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        Ok(T::from_bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::from_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_map(map)
    }
}

/// Deserializes a [`Shape`] type (for `Deserialize` impls of shapes defined elsewhere).
pub(crate) fn deserialize_shape<'de, T: Shape, D: de::Deserializer<'de>>(
    d: D,
) -> Result<T, D::Error> {
    d.deserialize_any(ShapeVisitor::<T>(PhantomData))
}

/// Implements `Deserialize` for a [`Shape`] type through the generic visitor.
macro_rules! lenient {
    ($t:ident $(< $($g:ident $(: $b:path)?),* >)? $(, const $c:ident: $ct:ty)?) => {
        impl<'de $($(, $g $(: $b)?)*)? $(, const $c: $ct)?> Deserialize<'de>
            for $t $(< $($g),* >)? $(<$c>)?
        {
            fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(ShapeVisitor::<Self>(PhantomData))
            }
        }
    };
}

/// A text: a string (numbers are written out), anything else is absent.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Text(pub Option<String>);

impl Shape for Text {
    const EXPECTING: &'static str = "a string";
    fn from_str(v: &str) -> Self {
        Text(Some(v.to_string()))
    }
    fn from_u64(v: u64) -> Self {
        Text(Some(v.to_string()))
    }
    fn from_i64(v: i64) -> Self {
        Text(Some(v.to_string()))
    }
    fn from_f64(v: f64) -> Self {
        Text(Some(v.to_string()))
    }
}
lenient!(Text);

/// An id: a string or an integer (kept exact), anything else is absent. Blank and `null`
/// are absent.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Id(pub Option<String>);

impl Shape for Id {
    const EXPECTING: &'static str = "an id";
    fn from_str(v: &str) -> Self {
        let t = v.trim();
        Id((!t.is_empty() && t != "null").then(|| t.to_string()))
    }
    fn from_u64(v: u64) -> Self {
        Id(Some(v.to_string()))
    }
    fn from_i64(v: i64) -> Self {
        Id(Some(v.to_string()))
    }
    // A fraction, or an integer beyond 64 bits: not an id that can be kept exactly.
}
lenient!(Id);

/// A URI or short string: a string, an object's `id` (`{"id": …}` links), or the first
/// element of an array. Blank is absent.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Ref(pub Option<String>);

impl Shape for Ref {
    const EXPECTING: &'static str = "a URI";
    fn from_str(v: &str) -> Self {
        let t = v.trim();
        Ref((!t.is_empty()).then(|| t.to_string()))
    }
    fn from_u64(v: u64) -> Self {
        Ref(Some(v.to_string()))
    }
    fn from_i64(v: i64) -> Self {
        Ref(Some(v.to_string()))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let first = seq.next_element::<Ref>()?.unwrap_or_default();
        drain_seq(seq)?;
        Ok(first)
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
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
lenient!(Ref);

/// An addressing list (`to`, `cc`): one URI or an array of them.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Uris(pub Vec<String>);

impl Shape for Uris {
    const EXPECTING: &'static str = "a list of URIs";
    fn from_str(v: &str) -> Self {
        Uris(Ref::from_str(v).0.into_iter().collect())
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut v = Vec::new();
        while let Some(Ref(r)) = seq.next_element::<Ref>()? {
            v.extend(r);
        }
        Ok(Uris(v))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Ok(Uris(Ref::from_map(map)?.0.into_iter().collect()))
    }
}
lenient!(Uris);

/// A `string_map_data` object of a Meta export (a localised label → `{"value": …}` or
/// `{"timestamp": …}`) as the rules read it: each field's `value` when it is a string and
/// `timestamp` when it is an integer, sorted by label, a repeated label's last field winning:
/// what a JSON map of the object would hold, in a few bytes per field where a map of `Value`s
/// took kilobytes per item (and thousands of parsed items wait at once in the streaming
/// reader).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct StringMap(Vec<(String, MapField)>);

/// One field of a [`StringMap`].
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct MapField {
    /// `value`, when a string.
    pub value: Option<String>,
    /// `timestamp`, when an integer that fits 64 signed bits.
    pub timestamp: Option<i64>,
}

impl StringMap {
    /// The field under `label`.
    pub fn get(&self, label: &str) -> Option<&MapField> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(label))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// The fields, by label.
    pub fn fields(&self) -> impl Iterator<Item = &MapField> {
        self.0.iter().map(|(_, f)| f)
    }
}

impl Shape for StringMap {
    const EXPECTING: &'static str = "an object";
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut fields: Vec<(String, MapField)> = Vec::new();
        while let Some(label) = map.next_key::<String>()? {
            let field = map.next_value::<MapField>()?;
            fields.push((label, field));
        }
        // By label; of a repeated label the last (the stable sort keeps their order).
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<(String, MapField)> = Vec::with_capacity(fields.len());
        for f in fields {
            match kept.last_mut() {
                Some(last) if last.0 == f.0 => *last = f,
                _ => kept.push(f),
            }
        }
        Ok(StringMap(kept))
    }
}
lenient!(StringMap);

impl Shape for MapField {
    const EXPECTING: &'static str = "an object";
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut field = MapField::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "value" => field.value = map.next_value::<JsonString>()?.0,
                "timestamp" => field.timestamp = map.next_value::<JsonInteger>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(field)
    }
}
lenient!(MapField);

/// A JSON string, nothing else (a number is absent).
#[derive(Debug, Default)]
struct JsonString(Option<String>);

impl Shape for JsonString {
    const EXPECTING: &'static str = "a string";
    fn from_str(v: &str) -> Self {
        JsonString(Some(v.to_string()))
    }
}
lenient!(JsonString);

/// A JSON integer that fits 64 signed bits, nothing else (a fraction or a string is absent).
#[derive(Debug, Default)]
struct JsonInteger(Option<i64>);

impl Shape for JsonInteger {
    const EXPECTING: &'static str = "an integer";
    fn from_u64(v: u64) -> Self {
        JsonInteger(i64::try_from(v).ok())
    }
    fn from_i64(v: i64) -> Self {
        JsonInteger(Some(v))
    }
}
lenient!(JsonInteger);

/// The first `N` bytes of a string (cut at a character boundary): enough of a long text for
/// the rules that read its start, without keeping all of it.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Head<const N: usize>(pub Option<String>);

/// `s` cut to at most `max` bytes at a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl<const N: usize> Shape for Head<N> {
    const EXPECTING: &'static str = "a string";
    fn from_str(v: &str) -> Self {
        Head(Some(cut(v, N).to_string()))
    }
}
lenient!(Head, const N: usize);

/// An integer: a JSON integer, a float (truncated) or a numeric string; anything else is
/// absent. Meta timestamps come in every one of these forms.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Int(pub Option<i64>);

impl Shape for Int {
    const EXPECTING: &'static str = "an integer";
    fn from_str(v: &str) -> Self {
        let t = v.trim();
        Int(t
            .parse::<i64>()
            .ok()
            .or_else(|| t.parse::<f64>().ok().and_then(Int::from_float)))
    }
    fn from_u64(v: u64) -> Self {
        Int(i64::try_from(v).ok())
    }
    fn from_i64(v: i64) -> Self {
        Int(Some(v))
    }
    fn from_f64(v: f64) -> Self {
        Int(Int::from_float(v))
    }
}
lenient!(Int);

impl Int {
    fn from_float(v: f64) -> Option<i64> {
        (v.is_finite() && v.abs() < 9.0e18).then_some(v as i64)
    }
}

/// A flag: `true`/`false`, or the strings `"true"`/`"false"`; anything else is absent.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Flag(pub Option<bool>);

impl Shape for Flag {
    const EXPECTING: &'static str = "a boolean";
    fn from_bool(v: bool) -> Self {
        Flag(Some(v))
    }
    fn from_str(v: &str) -> Self {
        Flag(match v.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            _ => None,
        })
    }
}
lenient!(Flag);

/// An array; anything else is an empty list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct List<T>(pub Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<T: DeserializeOwned> Shape for List<T> {
    const EXPECTING: &'static str = "an array";
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element_seed(Owned::<T>(PhantomData))? {
            v.push(x);
        }
        Ok(List(v))
    }
}
lenient!(List<T: DeserializeOwned>);

/// An array, or a single object taken as a list of one; anything else is empty.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OneOrMany<T>(pub Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<T: DeserializeOwned> Shape for OneOrMany<T> {
    const EXPECTING: &'static str = "an array or an object";
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        List::<T>::from_seq(seq).map(|l| OneOrMany(l.0))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| OneOrMany(vec![t]))
    }
}
lenient!(OneOrMany<T: DeserializeOwned>);

/// An object parsed as `T`; anything but an object is absent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lenient<T>(pub Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

impl<T: DeserializeOwned> Shape for Lenient<T> {
    const EXPECTING: &'static str = "an object";
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Lenient(Some(t)))
    }
}
lenient!(Lenient<T: DeserializeOwned>);

/// Deserializes a `T: DeserializeOwned` from any lifetime (a seed, for generic sequences).
struct Owned<T>(PhantomData<T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Owned<T> {
    type Value = T;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }
}

// ------------------------------------------------------------------------------------------
// Streaming

mod scan;

/// Where a stream of items stopped early.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StreamError {
    /// 0-based index of the item that could not be read (the items before it were handed over).
    pub item: u64,
    /// Bytes of the file consumed when the error was found.
    pub offset: u64,
    /// What went wrong.
    pub message: String,
}

/// What streaming one file gave.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Streamed {
    /// Every item was read; `found` says whether there was an array of items at all.
    Complete {
        /// An array of items was there (possibly empty).
        found: bool,
    },
    /// The file holds no JSON (nothing but whitespace, or a prefix without `=`).
    NoJson,
    /// Reading stopped at an error; the items before it were handed over.
    Broken(StreamError),
}

/// Which parts of a file [`stream_items`] reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec<'a> {
    /// Keys of a top-level object whose arrays hold the items (a top-level array is always
    /// items).
    pub items: &'a [&'a str],
    /// Other keys of a top-level object whose values are handed over whole (small fields such
    /// as a thread's `participants`); every other key is skipped without being kept.
    pub keep: &'a [&'a str],
    /// Skip a JavaScript prefix (`window.YTD.tweets.part0 =`, `Grailbird.data.x =`) first.
    pub js_prefix: bool,
}

/// Streams the items of a JSON file: a top-level array, or the arrays under `spec.items` of a
/// top-level object, calling `each(index, item)` as soon as each is parsed (index counts across
/// arrays); the values under `spec.keep` go to `keep(key, value)`. The inflated-bytes cap error
/// is returned; any other I/O error (a truncated archive) or a JSON error ends the stream as
/// `Broken`, after the items before it were handed over. Trailing bytes after the top-level
/// value (a `;`) are ignored.
pub(crate) fn stream_items<T, F, K>(
    r: &mut dyn Read,
    spec: Spec<'_>,
    mut each: F,
    mut keep: K,
) -> io::Result<Streamed>
where
    T: DeserializeOwned + Send,
    F: FnMut(u64, T),
    K: FnMut(&str, serde_json::Value),
{
    // The archive's reader is buffered already: this one only lets the prefix be skipped.
    let mut buffered = BufReader::with_capacity(8 * 1024, r);
    let skipped = if spec.js_prefix {
        match skip_prefix(&mut buffered) {
            Ok(Some(n)) => n,
            Ok(None) => return Ok(Streamed::NoJson),
            Err(e) if is_cap(&e) => return Err(e),
            Err(e) => {
                return Ok(Streamed::Broken(StreamError {
                    item: 0,
                    offset: 0,
                    message: e.to_string(),
                }));
            }
        }
    } else {
        0
    };
    // A small file is parsed from memory in one go; a larger one is scanned for its items,
    // which are parsed on the other cores while the rest is read (`scan`).
    let mut first = Vec::new();
    let read = (&mut buffered)
        .take(SMALL_FILE as u64)
        .read_to_end(&mut first);
    match read {
        Err(e) if is_cap(&e) => Err(e),
        Err(e) => {
            // A cut archive: the items before the cut still count.
            let (items, parsed) = parse_slice(&first, skipped, spec, &mut each, &mut keep);
            Ok(match parsed {
                Streamed::Broken(b) => Streamed::Broken(b),
                _ => Streamed::Broken(StreamError {
                    item: items,
                    offset: skipped + first.len() as u64,
                    message: e.to_string(),
                }),
            })
        }
        Ok(n) if n < SMALL_FILE => Ok(parse_slice(&first, skipped, spec, &mut each, &mut keep).1),
        Ok(_) => scan::stream_parallel(&mut buffered, first, skipped, spec, &mut each, &mut keep),
    }
}

/// Files up to this size are parsed from memory at once.
const SMALL_FILE: usize = 4 << 20;

/// Streams the items of a JSON text held in memory; returns the items handed over and how
/// it ended.
fn parse_slice<T, F, K>(
    text: &[u8],
    skipped: u64,
    spec: Spec<'_>,
    each: &mut F,
    keep: &mut K,
) -> (u64, Streamed)
where
    T: DeserializeOwned,
    F: FnMut(u64, T),
    K: FnMut(&str, serde_json::Value),
{
    let mut items = 0u64;
    let mut found = false;
    let mut any = false;
    let result = {
        let mut de = serde_json::Deserializer::from_slice(text);
        de::Deserializer::deserialize_any(
            &mut de,
            TopVisitor {
                spec,
                each,
                keep,
                items: &mut items,
                found: &mut found,
                any: &mut any,
                _t: PhantomData::<T>,
            },
        )
    };
    let streamed = match result {
        Ok(()) => Streamed::Complete { found },
        // Nothing but whitespace after the prefix: no JSON at all.
        Err(e) if e.is_eof() && !any => Streamed::NoJson,
        Err(e) => Streamed::Broken(StreamError {
            item: items,
            offset: skipped + byte_of(text, e.line(), e.column()),
            message: e.to_string(),
        }),
    };
    (items, streamed)
}

/// The byte index of a 1-based line and column in `text`.
fn byte_of(text: &[u8], line: usize, column: usize) -> u64 {
    let mut at = 0usize;
    for _ in 1..line {
        match memchr::memchr(b'\n', &text[at..]) {
            Some(i) => at += i + 1,
            None => return text.len() as u64,
        }
    }
    (at + column.saturating_sub(1)).min(text.len()) as u64
}

/// Reports a file whose stream ended early or held no items. `what` names the expected items
/// (`"orderedItems array"`); `None` when an empty file is nothing to report.
pub(crate) fn report_stream(
    diag: &mut Diagnostics,
    source: &str,
    streamed: Streamed,
    what: Option<&str>,
) {
    match streamed {
        Streamed::Complete { found: true } => {}
        Streamed::Complete { found: false } => {
            if let Some(what) = what {
                diag.skip(
                    source,
                    None,
                    &format!("no {what} in the file"),
                    String::new(),
                );
            }
        }
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

/// Reads one small JSON value after an optional JavaScript prefix (e.g. `user_details.js`).
pub(crate) fn read_value<T: DeserializeOwned>(
    r: &mut dyn Read,
    js_prefix: bool,
) -> io::Result<Result<T, String>> {
    let mut buffered = BufReader::new(r);
    if js_prefix && skip_prefix(&mut buffered)?.is_none() {
        return Ok(Err("no JSON found".into()));
    }
    let mut de = serde_json::Deserializer::from_reader(&mut buffered);
    match T::deserialize(&mut de) {
        Ok(v) => Ok(Ok(v)),
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
}

/// Skips a BOM, whitespace and a `window.YTD.x.partN =` / `Grailbird.data.x =` prefix, leaving
/// the reader on the first byte of the JSON. Returns the bytes skipped, `None` when the file
/// holds no JSON (no `=` and no `[`/`{` at the start).
pub(crate) fn skip_prefix(r: &mut impl BufRead) -> io::Result<Option<u64>> {
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

struct TopVisitor<'a, 's, T, F, K> {
    spec: Spec<'s>,
    each: &'a mut F,
    keep: &'a mut K,
    items: &'a mut u64,
    found: &'a mut bool,
    any: &'a mut bool,
    _t: PhantomData<T>,
}

impl<'de, T, F, K> Visitor<'de> for TopVisitor<'_, '_, T, F, K>
where
    T: DeserializeOwned,
    F: FnMut(u64, T),
    K: FnMut(&str, serde_json::Value),
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array or object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        *self.found = true;
        *self.any = true;
        ItemsSeed {
            each: self.each,
            items: self.items,
            _t: PhantomData::<T>,
        }
        .visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        *self.any = true;
        while let Some(key) = map.next_key::<String>()? {
            if self.spec.items.contains(&key.as_str()) {
                *self.found = true;
                map.next_value_seed(ItemsSeed {
                    each: &mut *self.each,
                    items: &mut *self.items,
                    _t: PhantomData::<T>,
                })?;
            } else if self.spec.keep.contains(&key.as_str()) {
                let v = map.next_value::<serde_json::Value>()?;
                (self.keep)(&key, v);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    // A scalar at the top: no items.
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        *self.any = true;
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        *self.any = true;
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        *self.any = true;
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        *self.any = true;
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        *self.any = true;
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        *self.any = true;
        Ok(())
    }
}

/// Calls `each(index, item)` for every element of an array, as soon as it is parsed; any other
/// value holds no items.
struct ItemsSeed<'a, T, F> {
    each: &'a mut F,
    items: &'a mut u64,
    _t: PhantomData<T>,
}

impl<'de, T: DeserializeOwned, F: FnMut(u64, T)> DeserializeSeed<'de> for ItemsSeed<'_, T, F> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: DeserializeOwned, F: FnMut(u64, T)> Visitor<'de> for ItemsSeed<'_, T, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element_seed(Owned::<T>(PhantomData))? {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Item {
        id: Id,
        text: Text,
        when: Int,
        tags: List<Text>,
        who: OneOrMany<Text>,
        flag: Flag,
    }

    fn parse(s: &str) -> Item {
        serde_json::from_str(s).expect("lenient")
    }

    #[test]
    fn unexpected_types_are_absent_not_errors() {
        let i = parse(r#"{"id": [1], "text": {"a": 1}, "when": "x", "tags": "no", "flag": 3}"#);
        assert_eq!(i, Item::default());
        let i = parse(
            r#"{"id": 18446744073709551615, "text": 7, "when": "1700000000.5", "tags": ["a", 2, null], "who": "x", "flag": "true"}"#,
        );
        assert_eq!(i.id.0.as_deref(), Some("18446744073709551615"));
        assert_eq!(i.text.0.as_deref(), Some("7"));
        assert_eq!(i.when.0, Some(1_700_000_000));
        assert_eq!(
            i.tags.0,
            vec![Text(Some("a".into())), Text(Some("2".into())), Text(None)]
        );
        assert!(i.who.0.is_empty());
        assert_eq!(i.flag.0, Some(true));
        assert_eq!(parse(r#"{"when": 1e300}"#).when.0, None);
    }

    #[test]
    fn heads_are_cut_at_a_character_boundary() {
        let h: Head<5> = serde_json::from_str(r#""abcdéfg""#).expect("head");
        assert_eq!(h.0.as_deref(), Some("abcd"));
    }

    fn stream(text: &str, spec: Spec<'_>) -> (Vec<u64>, Vec<String>, Streamed) {
        let mut ids = Vec::new();
        let mut kept = Vec::new();
        let r = stream_items(
            &mut text.as_bytes(),
            spec,
            |_, it: Lenient<Item>| {
                ids.push(
                    it.0.and_then(|i| i.id.0)
                        .and_then(|i| i.parse().ok())
                        .unwrap_or(0),
                )
            },
            |k, v| kept.push(format!("{k}={v}")),
        )
        .expect("no io error");
        (ids, kept, r)
    }

    const OBJ: Spec<'static> = Spec {
        items: &["messages"],
        keep: &["title"],
        js_prefix: false,
    };

    #[test]
    fn items_of_arrays_and_of_named_keys() {
        let (ids, kept, r) = stream(r#"[{"id":1},{"id":2}]"#, OBJ);
        assert_eq!(
            (ids, kept, r),
            (vec![1, 2], vec![], Streamed::Complete { found: true })
        );
        let (ids, kept, r) = stream(
            r#"{"title":"T","skip":[{"id":9}],"messages":[{"id":3},5,{"id":4}]}"#,
            OBJ,
        );
        assert_eq!(ids, vec![3, 0, 4]);
        assert_eq!(kept, vec!["title=\"T\"".to_string()]);
        assert_eq!(r, Streamed::Complete { found: true });
        let (_, _, r) = stream(r#"{"other": 1}"#, OBJ);
        assert_eq!(r, Streamed::Complete { found: false });
        let (_, _, r) = stream("   ", OBJ);
        assert_eq!(r, Streamed::NoJson);
    }

    #[test]
    fn a_cut_file_keeps_the_items_before_the_cut() {
        let (ids, _, r) = stream(r#"{"messages":[{"id":1},{"id":2},{"id""#, OBJ);
        assert_eq!(ids, vec![1, 2]);
        assert!(
            matches!(r, Streamed::Broken(StreamError { item: 2, .. })),
            "{r:?}"
        );
    }

    #[test]
    fn javascript_prefixes_are_skipped() {
        let spec = Spec {
            items: &[],
            keep: &[],
            js_prefix: true,
        };
        let (ids, _, r) = stream("\u{feff}window.YTD.tweets.part0 = [{\"id\":7}];\n", spec);
        assert_eq!((ids, r), (vec![7], Streamed::Complete { found: true }));
        let (_, _, r) = stream("var nothing", spec);
        assert_eq!(r, Streamed::NoJson);
    }

    /// What a JSON map of `text` holds, read as the Meta rules read it: per label (sorted),
    /// its `value` when a string and `timestamp` when an integer of 64 signed bits.
    fn string_map_oracle(text: &str) -> Vec<(String, MapField)> {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).expect("an object");
        map.iter()
            .map(|(k, v)| {
                let field = MapField {
                    value: v.get("value").and_then(|v| v.as_str()).map(String::from),
                    timestamp: v.get("timestamp").and_then(|t| t.as_i64()),
                };
                (k.clone(), field)
            })
            .collect()
    }

    #[test]
    fn string_map_holds_what_a_json_map_of_the_object_holds() {
        let cases = [
            r#"{"Comment": {"value": "hi"}, "Media Owner": {"value": "sam"}, "Time": {"timestamp": 1706287300}}"#,
            // A repeated label: the last wins, whole; so does a repeated key inside a field.
            r#"{"Comment": {"value": "first"}, "Comment": {"timestamp": 5}, "T": {"timestamp": 1, "timestamp": null}}"#,
            // Other types: a number as value, a float or string or huge timestamp, no object.
            r#"{"A": {"value": 12}, "B": {"timestamp": 1.5}, "C": {"timestamp": "17"}, "D": {"timestamp": 18446744073709551615}, "E": "plain", "F": [1], "G": null, "H": {"timestamp": -3, "value": "v", "other": {"deep": [1, {"x": 2}]}}}"#,
            r#"{}"#,
        ];
        for text in cases {
            let map: StringMap = serde_json::from_str(text).expect("parses");
            assert_eq!(map.0, string_map_oracle(text), "{text}");
        }
        let map: StringMap = serde_json::from_str(cases[0]).expect("parses");
        assert_eq!(map.get("Time").and_then(|f| f.timestamp), Some(1706287300));
        assert_eq!(
            map.get("Comment").and_then(|f| f.value.as_deref()),
            Some("hi")
        );
        assert_eq!(map.get("Tijd"), None);
        // Not an object: absent, as a lenient field.
        let not: Lenient<StringMap> = serde_json::from_str("[1, 2]").expect("lenient");
        assert_eq!(not.0, None);
    }
}
