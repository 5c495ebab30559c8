//! Small helpers shared by the importers: serde drains for unwanted values, an interner for
//! person ids and an in-order parallel map over files. No format knowledge, no I/O of its own.

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

/// Numbers repeated content ids: `made` holds each id's content hash and the position of its
/// record; the n-th record (by position) whose hash an earlier one had gets `#n`, which
/// `append(position, "#n")` adds to its id. Sorting the hashes once is cheaper than probing a
/// map of every hash per record.
pub(crate) fn number_repeats(mut made: Vec<(u64, usize)>, mut append: impl FnMut(usize, &str)) {
    // By hash, then by position: within a hash, the order the records were read.
    made.sort_unstable();
    for same in made.chunk_by(|a, b| a.0 == b.0) {
        for (n, &(_, i)) in same.iter().enumerate().skip(1) {
            append(i, &format!("#{}", n + 1));
        }
    }
}

/// `f` applied to every item on up to `threads` threads, results in the items' order. For
/// exports of many small files (one Messenger thread each), which are read one per call. A
/// panic in `f` is passed on to the caller.
pub(crate) fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, 16).min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(item)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_in_order_keeps_the_items_order_on_several_threads() {
        let items: Vec<u64> = (0..1000).collect();
        // Uneven work so that threads finish out of order.
        let out = map_in_order(&items, 4, |&i| {
            if i % 7 == 0 {
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
            i * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(map_in_order(&Vec::<u64>::new(), 4, |&i| i).is_empty());
    }
}
