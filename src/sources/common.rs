//! Small helpers shared by the importers: serde drains for unwanted values, the numbering of
//! repeated content ids and an in-order parallel map over files. No format knowledge, no I/O
//! of its own.

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

/// Moves the items of `parts`, in order, in front of those of `to`, within `to`'s buffer: the
/// parts are appended behind `to`'s items, each freed once it has been moved (then, if it held
/// memory, `freed` is called to hand it back), and the whole is rotated in place. `to`'s own
/// items are never copied to fresh memory, so the most held beside the result is one part.
pub(crate) fn prepend<T>(to: &mut Vec<T>, parts: Vec<Vec<T>>, mut freed: impl FnMut()) {
    let own = to.len();
    to.reserve(parts.iter().map(Vec::len).sum());
    for mut part in parts {
        let held = part.capacity() > 0;
        to.append(&mut part);
        drop(part);
        if held {
            freed();
        }
    }
    to.rotate_left(own);
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

/// Runs `produce` on this thread, which hands out items as it makes them; `threads` other
/// threads apply `work` to them meanwhile, and `consume` gets the results on this thread, in
/// the order the items were made, as soon as each is next (so that finished results are not
/// held until the end). Returns what `produce` returned. With one thread, `produce` does the
/// work itself. A panic in `work` is passed on to the caller.
pub(crate) fn pipeline<T: Send, R: Send, P>(
    threads: usize,
    produce: impl FnOnce(&mut dyn FnMut(T)) -> P,
    work: impl Fn(T) -> R + Sync,
    mut consume: impl FnMut(R),
) -> P {
    let threads = threads.clamp(1, 16);
    if threads <= 1 {
        return produce(&mut |item| consume(work(item)));
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, T)>(threads * 2);
    // Held by the workers alone: when they have all stopped (each on a panic in its work), the
    // channel closes and `produce` is no longer held up by a full one.
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let (done_tx, done_rx) = std::sync::mpsc::channel::<(usize, R)>();
    // Results that came back before their turn, by item number, and the next one due.
    let mut early: std::collections::BTreeMap<usize, R> = std::collections::BTreeMap::new();
    let mut next = 0usize;
    let mut take = |(n, r): (usize, R), consume: &mut dyn FnMut(R)| {
        early.insert(n, r);
        while let Some(r) = early.remove(&next) {
            consume(r);
            next += 1;
        }
        next
    };
    // At most this many items are out (sent, not yet consumed): one slow item does not let
    // the results after it pile up.
    let bound = threads * 4;
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let done_tx = done_tx.clone();
                let (rx, work) = (std::sync::Arc::clone(&rx), &work);
                s.spawn(move || {
                    loop {
                        let item = rx.lock().map_or(None, |rx| rx.recv().ok());
                        let Some((n, item)) = item else { break };
                        if done_tx.send((n, work(item))).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        drop((done_tx, rx));
        let (mut n, mut due) = (0usize, 0usize);
        let made = produce(&mut |item| {
            // Workers stop only when the channel closes, or on a panic (passed on below).
            let _ = tx.send((n, item));
            n += 1;
            while let Ok(done) = done_rx.try_recv() {
                due = take(done, &mut consume);
            }
            while n - due > bound {
                // Every worker gone (a panic, passed on below): nothing more will come.
                let Ok(done) = done_rx.recv() else { break };
                due = take(done, &mut consume);
            }
        });
        drop(tx);
        // Every worker's sender is dropped when it ends, which ends this loop.
        for done in done_rx.iter() {
            take(done, &mut consume);
        }
        for w in workers {
            w.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
        made
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepend_puts_every_part_in_order_before_the_vector() {
        let mut to = Vec::with_capacity(10);
        to.extend([7, 8]);
        let at = to.as_ptr();
        let mut freed = 0;
        prepend(
            &mut to,
            vec![vec![1, 2], vec![], vec![3], vec![4, 5, 6]],
            || freed += 1,
        );
        assert_eq!(to, [1, 2, 3, 4, 5, 6, 7, 8]);
        // Told once per part that held memory, after the part was moved.
        assert_eq!(freed, 3);
        // It had room: nothing was moved to a new buffer.
        assert_eq!(to.as_ptr(), at);
        // Without room it grows; with nothing to put in front it is left as it was.
        let mut small = vec![String::from("c")];
        prepend(&mut small, vec![vec!["a".into(), "b".into()]], || {});
        assert_eq!(small, ["a", "b", "c"]);
        prepend(&mut small, Vec::new(), || {});
        assert_eq!(small, ["a", "b", "c"]);
        let mut empty: Vec<u8> = Vec::new();
        prepend(&mut empty, vec![vec![1], vec![2]], || {});
        assert_eq!(empty, [1, 2]);
    }

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

    #[test]
    fn pipeline_keeps_the_order_items_were_made_in() {
        for threads in [1, 2, 4] {
            let mut out = Vec::new();
            let made = pipeline(
                threads,
                |send| {
                    for i in 0..1000u64 {
                        send(i);
                    }
                    "produced"
                },
                |i| {
                    if i % 7 == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(50));
                    }
                    i * 2
                },
                |r| out.push(r),
            );
            assert_eq!(made, "produced");
            assert_eq!(out, (0..1000u64).map(|i| i * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn pipeline_holds_few_results_behind_a_slow_item() {
        let consumed = std::cell::Cell::new(0usize);
        let most = pipeline(
            2,
            |send| {
                let mut most = 0;
                for i in 0..200usize {
                    send(i);
                    most = most.max(i + 1 - consumed.get());
                }
                most
            },
            |i| {
                if i == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                i
            },
            |_| consumed.set(consumed.get() + 1),
        );
        assert_eq!(consumed.get(), 200);
        assert!(most <= 2 * 4, "{most} items out at once");
    }

    #[test]
    fn pipeline_passes_a_worker_panic_on_instead_of_hanging() {
        for threads in [1, 2] {
            let run = std::panic::catch_unwind(|| {
                pipeline(
                    threads,
                    |send| {
                        for i in 0..10_000u64 {
                            send(i);
                        }
                    },
                    // Every worker meets the bug.
                    |i| assert!(i < 5, "a bug in the work"),
                    |_| {},
                )
            });
            assert!(run.is_err(), "the panic reaches the caller");
        }
    }
}
