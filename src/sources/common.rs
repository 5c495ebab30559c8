//! Small helpers shared by the JSON importers (X, Mastodon): a byte-counting reader for error
//! offsets, serde drains for unwanted values, and an interner for person ids. No format
//! knowledge, no I/O of its own.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::Arc;

use serde::de::{IgnoredAny, MapAccess, SeqAccess};

/// Counts the bytes read through it (for error offsets).
pub(crate) struct Counted<R> {
    /// The wrapped reader.
    pub(crate) inner: R,
    /// Bytes read so far.
    pub(crate) count: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Drains a sequence the caller does not want.
pub(crate) fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Drains a map the caller does not want.
pub(crate) fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// One `Arc` per person or conversation id, shared by every activity that names it.
#[derive(Debug, Default)]
pub(crate) struct Interner(HashMap<String, Arc<str>>);

impl Interner {
    /// The shared copy of `id`.
    pub(crate) fn get(&mut self, id: &str) -> Arc<str> {
        if let Some(a) = self.0.get(id) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(id);
        self.0.insert(id.to_string(), a.clone());
        a
    }
}
