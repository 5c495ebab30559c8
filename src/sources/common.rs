//! Small helpers shared by the JSON importers (X, Mastodon): serde drains for unwanted values
//! and an interner for person ids. No format knowledge, no I/O of its own.

use std::collections::HashMap;
use std::sync::Arc;

use serde::de::{IgnoredAny, MapAccess, SeqAccess};

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
