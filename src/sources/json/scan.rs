//! The fast path of [`stream_items`](super::stream_items): a byte scanner finds where each item
//! of the items arrays begins and ends (strings, escapes and nesting only — nothing is decoded),
//! and the items are parsed from those byte slices on the other cores, in batches, then handed
//! to the caller in file order. Inflating and scanning stay on the calling thread, parsing
//! overlaps them. Must not know any platform's fields.

use std::cell::Cell;
use std::io::{self, Read};

use serde::de::DeserializeOwned;

use super::{Spec, StreamError, Streamed, is_cap};
use crate::sources::common::pipeline;

/// Bytes read from the source at a time.
const READ: usize = 1 << 20;
/// Items are sent to the parsers in batches of about this many bytes.
const BATCH: usize = 2 << 20;

/// A batch of raw items: one buffer, the ranges of its items and where each began in the file.
struct Batch {
    bytes: Vec<u8>,
    ranges: Vec<(usize, usize)>,
    offsets: Vec<u64>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            bytes: Vec::with_capacity(BATCH + READ),
            ranges: Vec::new(),
            offsets: Vec::new(),
        }
    }
}

/// An item that could not be parsed: the message and its offset in the file.
type ItemError = (String, u64);

/// The input, buffered so that an item's bytes can be cut out whole: the bytes from `mark` on
/// are kept when more is read (`mark` is the start of the value being scanned).
struct Input<'r> {
    r: &'r mut dyn Read,
    buf: Vec<u8>,
    pos: usize,
    mark: usize,
    /// Bytes of the file before `buf[0]`.
    base: u64,
    eof: bool,
}

/// A scanning failure: an I/O error of the source, or malformed JSON at an offset.
enum Fail {
    Io(io::Error),
    Json(u64, String),
}

impl<'r> Input<'r> {
    fn new(r: &'r mut dyn Read, first: Vec<u8>, skipped: u64) -> Input<'r> {
        Input {
            r,
            buf: first,
            pos: 0,
            mark: 0,
            base: skipped,
            eof: false,
        }
    }

    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Reads more bytes, dropping those before `mark`; false at the end of the file.
    fn more(&mut self) -> Result<bool, Fail> {
        if self.eof {
            return Ok(false);
        }
        let drop = self.mark.min(self.pos);
        if drop > 0 {
            self.buf.drain(..drop);
            self.base += drop as u64;
            self.pos -= drop;
            self.mark -= drop;
        }
        let old = self.buf.len();
        self.buf.resize(old + READ, 0);
        let n = loop {
            match self.r.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(Fail::Io(e));
                }
            }
        };
        self.buf.truncate(old + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// The next non-whitespace byte (not consumed), `None` at the end.
    fn peek(&mut self) -> Result<Option<u8>, Fail> {
        loop {
            while self.pos < self.buf.len() {
                let b = self.buf[self.pos];
                if b.is_ascii_whitespace() {
                    self.pos += 1;
                } else {
                    return Ok(Some(b));
                }
            }
            self.mark = self.pos;
            if !self.more()? {
                return Ok(None);
            }
        }
    }

    fn expect_end(&self, what: &str) -> Fail {
        Fail::Json(self.offset(), format!("EOF while parsing {what}"))
    }

    /// Moves past one JSON value (after whitespace); returns where it starts in `buf`: the
    /// value is `buf[start..pos]` until the next read. Only strings and nesting are understood.
    fn value(&mut self) -> Result<usize, Fail> {
        let Some(first) = self.peek()? else {
            return Err(self.expect_end("a value"));
        };
        self.mark = self.pos;
        match first {
            b'"' => {
                self.pos += 1;
                self.string_tail()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    if self.pos >= self.buf.len() {
                        if !self.more()? {
                            return Err(self.expect_end("an item"));
                        }
                        continue;
                    }
                    match self.buf[self.pos] {
                        b'"' => {
                            self.pos += 1;
                            self.string_tail()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
            }
            _ => loop {
                if self.pos >= self.buf.len() {
                    if !self.more()? {
                        break;
                    }
                    continue;
                }
                match self.buf[self.pos] {
                    b',' | b']' | b'}' => break,
                    b if b.is_ascii_whitespace() => break,
                    _ => self.pos += 1,
                }
            },
        }
        Ok(self.mark)
    }

    /// Moves past the rest of a string (`pos` is after its opening quote).
    fn string_tail(&mut self) -> Result<(), Fail> {
        loop {
            match memchr::memchr2(b'"', b'\\', &self.buf[self.pos..]) {
                Some(i) => {
                    let at = self.pos + i;
                    if self.buf[at] == b'"' {
                        self.pos = at + 1;
                        return Ok(());
                    }
                    // An escape: the next byte is part of it.
                    if at + 1 < self.buf.len() {
                        self.pos = at + 2;
                        continue;
                    }
                    self.pos = at;
                }
                None => self.pos = self.buf.len(),
            }
            if !self.more()? {
                return Err(self.expect_end("a string"));
            }
        }
    }
}

/// Streams the items like the serde visitor of [`super::stream_items`], parsing them on other
/// threads. `first` holds bytes already read (after the prefix), `skipped` the bytes before
/// them.
pub(super) fn stream_parallel<T, F, K>(
    r: &mut dyn Read,
    first: Vec<u8>,
    skipped: u64,
    spec: Spec<'_>,
    each: &mut F,
    keep: &mut K,
) -> io::Result<Streamed>
where
    T: DeserializeOwned + Send,
    F: FnMut(u64, T),
    K: FnMut(&str, serde_json::Value),
{
    let mut input = Input::new(r, first, skipped);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let mut out = Delivery::default();
    // Set when an item failed: the scanner stops at its next item.
    let stop = Cell::new(false);
    let scanned = pipeline(
        workers,
        |send| {
            let mut batches = Batches {
                send,
                batch: Batch::new(),
                stop: &stop,
            };
            let scanned = scan_top(&mut input, spec, &mut batches);
            batches.send_batch();
            scanned
        },
        |piece| match piece {
            Piece::Batch(batch) => Done::Items(
                batch
                    .ranges
                    .iter()
                    .zip(&batch.offsets)
                    .map(|(&(a, b), &at)| {
                        serde_json::from_slice::<T>(&batch.bytes[a..b])
                            .map_err(|e| (e.to_string(), at))
                    })
                    .collect(),
            ),
            Piece::Kept(key, value) => Done::Kept(key, value),
        },
        |done| match done {
            Done::Items(items) => {
                out.deliver(items, each);
                stop.set(out.failed.is_some());
            }
            // In file order: every item before the key was handed over first.
            Done::Kept(key, value) => keep(&key, value),
        },
    );
    if let Err(Fail::Io(e)) = &scanned
        && is_cap(e)
    {
        return Err(io::Error::new(e.kind(), e.to_string()));
    }
    // An item that failed to parse comes before whatever stopped the scanner.
    if let Some((item, (message, offset))) = out.failed {
        return Ok(Streamed::Broken(StreamError {
            item,
            offset,
            message,
        }));
    }
    match scanned {
        Ok(s) => Ok(s),
        Err(Fail::Io(e)) => Ok(Streamed::Broken(StreamError {
            item: out.items,
            offset: input.offset(),
            message: e.to_string(),
        })),
        Err(Fail::Json(offset, message)) => Ok(Streamed::Broken(StreamError {
            item: out.items,
            offset,
            message,
        })),
    }
}

/// What the scanner hands to the parsers: a batch of raw items, or a kept key's value, which
/// goes through in its place among the batches, so that it reaches the caller after the items
/// before it.
enum Piece {
    Batch(Batch),
    Kept(String, serde_json::Value),
}

/// What comes back from the parsers, in the order of the pieces.
enum Done<T> {
    Items(Vec<Result<T, ItemError>>),
    Kept(String, serde_json::Value),
}

/// Items handed to the caller so far, and the first failure.
#[derive(Default)]
struct Delivery {
    items: u64,
    failed: Option<(u64, ItemError)>,
}

impl Delivery {
    /// Hands over the parsed items of a batch; nothing after the first failure.
    fn deliver<T, F: FnMut(u64, T)>(&mut self, items: Vec<Result<T, ItemError>>, each: &mut F) {
        for item in items {
            if self.failed.is_some() {
                break;
            }
            match item {
                Ok(t) => {
                    each(self.items, t);
                    self.items += 1;
                }
                Err(e) => self.failed = Some((self.items, e)),
            }
        }
    }
}

/// The batch being filled, and where full batches go.
struct Batches<'s> {
    send: &'s mut dyn FnMut(Piece),
    batch: Batch,
    stop: &'s Cell<bool>,
}

impl Batches<'_> {
    fn push(&mut self, bytes: &[u8], offset: u64) {
        let a = self.batch.bytes.len();
        self.batch.bytes.extend_from_slice(bytes);
        self.batch.ranges.push((a, self.batch.bytes.len()));
        self.batch.offsets.push(offset);
        if self.batch.bytes.len() >= BATCH {
            self.send_batch();
        }
    }

    /// Sends the current batch, if it holds any item.
    fn send_batch(&mut self) {
        if !self.batch.ranges.is_empty() {
            let batch = std::mem::replace(&mut self.batch, Batch::new());
            (self.send)(Piece::Batch(batch));
        }
    }

    /// Sends a kept value after the items before it.
    fn keep(&mut self, key: String, value: serde_json::Value) {
        self.send_batch();
        (self.send)(Piece::Kept(key, value));
    }
}

/// The top-level value: an array of items, or an object with item arrays and kept keys.
fn scan_top(
    input: &mut Input<'_>,
    spec: Spec<'_>,
    out: &mut Batches<'_>,
) -> Result<Streamed, Fail> {
    match input.peek()? {
        None => Ok(Streamed::NoJson),
        Some(b'[') => {
            input.pos += 1;
            scan_items(input, out)?;
            Ok(Streamed::Complete { found: true })
        }
        Some(b'{') => {
            input.pos += 1;
            let mut found = false;
            loop {
                match input.peek()? {
                    None => return Err(input.expect_end("an object")),
                    Some(b'}') => {
                        input.pos += 1;
                        return Ok(Streamed::Complete { found });
                    }
                    Some(b'"') => {}
                    Some(_) => {
                        return Err(Fail::Json(input.offset(), "expected a key".into()));
                    }
                }
                let start = input.value()?;
                let key: String = serde_json::from_slice(&input.buf[start..input.pos])
                    .map_err(|e| Fail::Json(input.offset(), e.to_string()))?;
                if input.peek()? != Some(b':') {
                    return Err(Fail::Json(input.offset(), "expected ':'".into()));
                }
                input.pos += 1;
                if spec.items.contains(&key.as_str()) {
                    found = true;
                    if input.peek()? == Some(b'[') {
                        input.pos += 1;
                        scan_items(input, out)?;
                    } else {
                        input.value()?;
                    }
                } else if spec.keep.contains(&key.as_str()) {
                    let start = input.value()?;
                    let v: serde_json::Value = serde_json::from_slice(&input.buf[start..input.pos])
                        .map_err(|e| Fail::Json(input.offset(), e.to_string()))?;
                    out.keep(key, v);
                } else {
                    input.value()?;
                }
                match input.peek()? {
                    Some(b',') => input.pos += 1,
                    Some(b'}') => {}
                    None => return Err(input.expect_end("an object")),
                    Some(_) => {
                        return Err(Fail::Json(input.offset(), "expected ',' or '}'".into()));
                    }
                }
            }
        }
        Some(_) => {
            // A scalar at the top: no items.
            Ok(Streamed::Complete { found: false })
        }
    }
}

/// The elements of an array whose `[` was consumed, into batches.
fn scan_items(input: &mut Input<'_>, out: &mut Batches<'_>) -> Result<(), Fail> {
    if input.peek()? == Some(b']') {
        input.pos += 1;
        return Ok(());
    }
    loop {
        if out.stop.get() {
            return Ok(());
        }
        let start = input.value()?;
        out.push(&input.buf[start..input.pos], input.base + start as u64);
        match input.peek()? {
            Some(b',') => input.pos += 1,
            Some(b']') => {
                input.pos += 1;
                return Ok(());
            }
            None => return Err(input.expect_end("an array")),
            Some(_) => return Err(Fail::Json(input.offset(), "expected ',' or ']'".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Lenient, Spec, StreamError, Streamed, Text, stream_items};
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Item {
        id: Text,
        text: Text,
    }

    /// A reader that hands out at most `n` bytes per read (item boundaries fall anywhere).
    struct Trickle<'a>(&'a [u8], usize);

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Items whose strings hold quotes, backslashes and brackets, and nested values.
    fn big(n: usize) -> String {
        let mut s = String::from("[");
        for i in 0..n {
            if i > 0 {
                s.push_str(",\n  ");
            }
            s.push_str(&format!(
                r#"{{"id": "{i}", "text": "a \"quoted\" ]}} \\ [{{ {i}", "nested": {{"deep": [1, [2, {{"x": "]"}}], "\\\""]}}, "n": -1.5e3}}"#
            ));
        }
        s.push(']');
        s
    }

    fn run(text: &[u8], chunk: usize, spec: Spec<'_>) -> (Vec<String>, Vec<String>, Streamed) {
        let mut ids = Vec::new();
        let mut kept = Vec::new();
        let r = stream_items(
            &mut Trickle(text, chunk),
            spec,
            |i, it: Lenient<Item>| {
                let item = it.0.unwrap_or_default();
                assert_eq!(item.id.0.as_deref(), Some(i.to_string().as_str()));
                assert!(
                    item.text
                        .0
                        .is_some_and(|t| t.starts_with("a \"quoted\" ]} \\ [{"))
                );
                ids.push(i.to_string());
            },
            |k, v| kept.push(format!("{k}={v}")),
        )
        .expect("no io error");
        (ids, kept, r)
    }

    const TOP: Spec<'static> = Spec {
        items: &["a", "b"],
        keep: &["title"],
        js_prefix: true,
    };

    #[test]
    fn large_arrays_are_split_at_item_boundaries_and_handed_over_in_order() {
        let text = big(100_000);
        assert!(text.len() > 2 * super::super::SMALL_FILE, "{}", text.len());
        for chunk in [usize::MAX, 4093] {
            let (ids, _, r) = run(text.as_bytes(), chunk, TOP);
            assert_eq!(ids.len(), 100_000, "chunk {chunk}");
            assert_eq!(r, Streamed::Complete { found: true });
        }
    }

    #[test]
    fn object_keys_keep_their_order_around_the_items() {
        let items = big(40_000);
        let text = format!(
            "window.YTD.x.part0 = {{\"skip\": {items}, \"a\": {items}, \"title\": {{\"t\": [1]}}, \"b\": []}};"
        );
        let (ids, kept, r) = run(text.as_bytes(), 65_536, TOP);
        assert_eq!(ids.len(), 40_000);
        assert_eq!(kept, vec!["title={\"t\":[1]}".to_string()]);
        assert_eq!(r, Streamed::Complete { found: true });
    }

    #[test]
    fn a_cut_or_a_broken_item_keeps_the_items_before_it() {
        let text = big(50_000);
        let cut = &text.as_bytes()[..text.len() - 5000];
        let (ids, _, r) = run(cut, 100_000, TOP);
        let Streamed::Broken(StreamError { item, .. }) = r else {
            panic!("{r:?}");
        };
        assert_eq!(item as usize, ids.len());
        assert!(ids.len() > 49_000 && ids.len() < 50_000);
        // Item 30000 is not JSON: it and everything after it are not handed over.
        let bad = text.replacen(
            "{\"id\": \"30000\", \"text\"",
            "{\"id\": \"30000\", \"text\" oops",
            1,
        );
        let (ids, _, r) = run(bad.as_bytes(), usize::MAX, TOP);
        assert_eq!(ids.len(), 30_000);
        assert!(
            matches!(r, Streamed::Broken(StreamError { item: 30_000, offset, .. }) if offset > 0),
            "{r:?}"
        );
    }
}
