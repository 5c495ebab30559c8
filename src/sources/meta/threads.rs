//! Messenger-style DM threads of Facebook and Instagram exports
//! (`messages/**/<thread>/message_N.json`): streamed into compact rows (a thread file can be
//! hundreds of MB), the parts of one thread merged, then — once the owner is known — turned
//! into private messages (docs/counting.md, *Facebook*: sender = owner → `out`; participants
//! from the thread's list, the owner included, at least 2; Subscribe/Unsubscribe and unsent
//! messages ignored). Must not read other Meta files.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap as HashMap;
use serde::Deserialize;

use super::{Ids, MetaFile, MetaFiles, Owners, content_id, name_key, name_person, thread_platform};
use crate::diag::Diagnostics;
use crate::error::SourceError;
use crate::model::{Activity, Confidence, Direction, Kind, Name, Platform, Source};
use crate::sources::archive::{Archive, Entry};
use crate::sources::common::map_in_order;
use crate::sources::json::{Flag, Int, Spec, Streamed, Text, report_stream, stream_items};
use crate::sources::text::hash64;

/// A thread file: its `messages` streamed, its small fields kept.
const THREAD: Spec<'static> = Spec {
    items: &["messages"],
    keep: &["participants", "thread_path", "title"],
    js_prefix: false,
};

/// One message of a thread, as much as the rules need.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawMessage {
    sender_name: Text,
    timestamp_ms: Int,
    content: Text,
    #[serde(rename = "type")]
    kind: Text,
    is_unsent: Flag,
}

/// A message kept until the owner is known: 32 bytes, whatever its text.
#[derive(Debug, Clone)]
struct Row {
    /// Index of the sender's name key in the thread's `names` (`u32::MAX`: no sender).
    sender: u32,
    /// `timestamp_ms` when positive, else 0 (undated).
    at: i64,
    /// File order: `message_N.json` number, then position (files are newest first).
    seq: u64,
    /// Hash of the message's content and type (for its id).
    content: u64,
}

/// One thread, its parts merged, held until the owner is known: each part's rows, names and
/// participants in slices of the exact size (tens of thousands of threads wait at once), the
/// folder read off `source` when it is needed.
#[derive(Debug)]
pub(crate) struct Thread {
    platform: Platform,
    /// `thread_path`, else the folder under `messages/`.
    key: Box<str>,
    /// The `participants` list, in order, without repeats, as indices into `names`.
    participants: Box<[u32]>,
    /// Name keys seen (participants and senders); rows point into it.
    names: Box<[Box<str>]>,
    rows: Box<[Row]>,
    /// The first part's file (its folder names the thread for the owner rule).
    source: Source,
}

impl Thread {
    /// The name key of participant `i` of the list.
    fn participant(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", |n| n)
    }

    /// The folder the first part sits in (`samsample_123`).
    fn folder(&self) -> &str {
        let mut parts = self.source.rsplit('/');
        parts.next();
        parts.next().unwrap_or("")
    }
}

/// `N` of `message_N.json` (1 when there is none).
fn part_number(entry: &Entry) -> u64 {
    let base = entry.basename().to_ascii_lowercase();
    base.strip_prefix("message_")
        .and_then(|r| r.strip_suffix(".json"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// The thread's folder path under `messages/` (`inbox/samsample_123`), else its parent folder.
fn folder_key(entry: &Entry) -> String {
    let parts: Vec<&str> = entry.name.split('/').collect();
    let folder = parts.len().checked_sub(2).map(|i| parts[i]).unwrap_or("");
    match parts
        .iter()
        .rposition(|p| p.eq_ignore_ascii_case("messages"))
    {
        Some(i) if i + 2 < parts.len() => parts[i + 1..parts.len() - 1].join("/"),
        _ => folder.to_string(),
    }
}

/// What one thread file holds, read on its own (files are read in parallel): its rows point
/// into its own `names`, which the merge maps onto the thread's. Sized exactly where it is
/// read, so that a one-part thread (nearly all) keeps these slices as they are.
struct ThreadFile {
    /// Indices into `names`.
    participants: Box<[u32]>,
    thread_path: Option<String>,
    names: Box<[Box<str>]>,
    rows: Box<[Row]>,
    ignored: u64,
    streamed: Streamed,
}

/// The index of `key` in `names`, added if new (a thread has few names).
fn local_index(names: &mut Vec<String>, key: String) -> u32 {
    match names.iter().position(|n| *n == key) {
        Some(i) => i as u32,
        None => {
            names.push(key);
            (names.len() - 1) as u32
        }
    }
}

fn read_file(archive: &Archive, entry: &Entry) -> Result<ThreadFile, SourceError> {
    let part = part_number(entry);
    let mut participants: Vec<String> = Vec::new();
    let mut thread_path: Option<String> = None;
    let mut names: Vec<String> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut ignored = 0u64;
    // Raw sender names seen and their index: each name is keyed once per file.
    let mut keyed: Vec<(String, u32)> = Vec::new();
    let streamed = archive.read(entry, |r| {
        stream_items(
            r,
            THREAD,
            |i, m: RawMessage| {
                let kind = m.kind.0.as_deref().unwrap_or("");
                if m.is_unsent.0 == Some(true)
                    || kind.eq_ignore_ascii_case("subscribe")
                    || kind.eq_ignore_ascii_case("unsubscribe")
                {
                    ignored += 1;
                    return;
                }
                let sender = match m.sender_name.0.as_deref() {
                    Some(raw) => match keyed.iter().find(|(r, _)| r == raw) {
                        Some((_, i)) => *i,
                        None => {
                            let key = name_key(raw);
                            let i = if key.is_empty() {
                                u32::MAX
                            } else {
                                local_index(&mut names, key)
                            };
                            if keyed.len() < 64 {
                                keyed.push((raw.to_string(), i));
                            }
                            i
                        }
                    },
                    None => u32::MAX,
                };
                rows.push(Row {
                    sender,
                    at: m.timestamp_ms.0.filter(|t| *t > 0).unwrap_or(0),
                    seq: (part << 32) | i.min(u32::MAX as u64),
                    content: hash64(&[m.content.0.as_deref().unwrap_or(""), kind]),
                });
            },
            |key, value| match key {
                "participants" => {
                    for p in value.as_array().into_iter().flatten() {
                        let name = p
                            .get("name")
                            .and_then(|n| n.as_str())
                            .or_else(|| p.as_str())
                            .map(name_key)
                            .filter(|n| !n.is_empty());
                        if let Some(n) = name
                            && !participants.contains(&n)
                        {
                            participants.push(n);
                        }
                    }
                }
                "thread_path" => {
                    thread_path = value
                        .as_str()
                        .map(|s| s.trim().trim_matches('/').to_string())
                        .filter(|s| !s.is_empty());
                }
                _ => {}
            },
        )
    })?;
    let participants: Box<[u32]> = participants
        .into_iter()
        .map(|p| local_index(&mut names, p))
        .collect();
    Ok(ThreadFile {
        participants,
        thread_path,
        names: names.into_iter().map(String::into_boxed_str).collect(),
        rows: rows.into_boxed_slice(),
        ignored,
        streamed,
    })
}

/// How many thread files are read before their rows are merged (bounds what waits in memory).
const FILES_AT_ONCE: usize = 4096;

/// Reads every thread file (on `threads` threads); parts of one thread (same key and
/// platform) merge, in file order. The threads come back ordered by platform and key.
pub(crate) fn read_all(
    archive: &Archive,
    files: &MetaFiles<'_>,
    threads: usize,
    diag: &mut Diagnostics,
) -> Result<Vec<Thread>, SourceError> {
    let instagram = files.instagram();
    let hash = |platform: Platform, key: &str| {
        use std::hash::{BuildHasher as _, Hash as _, Hasher as _};
        let mut h = rustc_hash::FxBuildHasher.build_hasher();
        platform.hash(&mut h);
        key.hash(&mut h);
        h.finish()
    };
    let mut merged: Vec<Thread> = Vec::new();
    // Positions in `merged` by (platform, key): 4 bytes a thread, the key kept once.
    let mut index: hashbrown::HashTable<u32> = hashbrown::HashTable::new();
    // The index of a thread's names, made when a second part arrives (rare).
    let mut name_indices: HashMap<u32, HashMap<Box<str>, u32>> = HashMap::default();
    let mut ignored = 0u64;
    let entries: Vec<&Entry> = files.of_kind(MetaFile::Thread).collect();
    for chunk in entries.chunks(FILES_AT_ONCE) {
        let reads = map_in_order(chunk, threads, |entry| read_file(archive, entry));
        for (entry, read) in chunk.iter().zip(reads) {
            let read = read?;
            ignored += read.ignored;
            report_stream(diag, &entry.name, read.streamed, Some("messages array"));
            let platform = thread_platform(entry, instagram);
            let key = read.thread_path.unwrap_or_else(|| folder_key(entry));
            let h = hash(platform, &key);
            let found = index
                .find(h, |&i| {
                    let t = &merged[i as usize];
                    t.platform == platform && *t.key == *key
                })
                .copied();
            let Some(at) = found else {
                let at = merged.len() as u32;
                merged.push(Thread {
                    platform,
                    key: key.into_boxed_str(),
                    participants: read.participants,
                    names: read.names,
                    rows: read.rows,
                    source: Source::from(entry.name.as_str()),
                });
                index.insert_unique(h, at, |&i| {
                    let t = &merged[i as usize];
                    hash(t.platform, &t.key)
                });
                continue;
            };
            // Another part of a thread already read: its names map onto the thread's, its
            // participants join the list, its rows follow.
            let thread = &mut merged[at as usize];
            let mut names = std::mem::take(&mut thread.names).into_vec();
            let by_name = name_indices.entry(at).or_insert_with(|| {
                names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.clone(), i as u32))
                    .collect()
            });
            let to_thread: Vec<u32> = read
                .names
                .into_vec()
                .into_iter()
                .map(|n| {
                    *by_name.entry(n).or_insert_with_key(|n| {
                        names.push(n.clone());
                        (names.len() - 1) as u32
                    })
                })
                .collect();
            let mut participants = std::mem::take(&mut thread.participants).into_vec();
            for p in read.participants.iter() {
                if let Some(&p) = to_thread.get(*p as usize)
                    && !participants.contains(&p)
                {
                    participants.push(p);
                }
            }
            let mut rows = std::mem::take(&mut thread.rows).into_vec();
            rows.extend(read.rows.into_vec().into_iter().map(|mut row| {
                if let Some(&i) = to_thread.get(row.sender as usize) {
                    row.sender = i;
                }
                row
            }));
            thread.names = names.into_boxed_slice();
            thread.participants = participants.into_boxed_slice();
            thread.rows = rows.into_boxed_slice();
        }
    }
    if ignored > 0 {
        diag.note(format!(
            "{}: {ignored} message(s) were subscribe/unsubscribe notices or unsent, and were not counted",
            archive.path().display()
        ));
    }
    drop(index);
    merged.sort_unstable_by(|a, b| (a.platform, &a.key).cmp(&(b.platform, &b.key)));
    Ok(merged)
}

/// The owner from the threads alone (docs/counting.md, *Facebook*): the participant of the most
/// threads when that is one person; else the other participant of one-to-one threads whose
/// folder (before its last `_`) is one participant's name folded to ASCII letters and digits.
fn owner_from_threads(threads: &[&Thread]) -> Option<(String, String)> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for t in threads {
        for &p in &t.participants {
            *counts.entry(t.participant(p)).or_default() += 1;
        }
    }
    if let Some(&max) = counts.values().max() {
        let top: Vec<&str> = counts
            .iter()
            .filter(|(_, n)| **n == max)
            .map(|(p, _)| *p)
            .collect();
        if let [one] = top.as_slice() {
            return Some((
                one.to_string(),
                format!("the participant of the most DM threads ({max})"),
            ));
        }
    }
    let mut by_folder: BTreeMap<&str, u64> = BTreeMap::new();
    for t in threads {
        let &[a, b] = &t.participants[..] else {
            continue;
        };
        let (a, b) = (t.participant(a), t.participant(b));
        let folder = t.folder();
        let stem = folder.rsplit_once('_').map_or(folder, |(s, _)| s);
        let stem = stem.to_ascii_lowercase();
        let (a_is, b_is) = (folds_to(a, &stem), folds_to(b, &stem));
        if a_is && !b_is {
            *by_folder.entry(b).or_default() += 1;
        } else if b_is && !a_is {
            *by_folder.entry(a).or_default() += 1;
        }
    }
    let max = *by_folder.values().max()?;
    let top: Vec<&str> = by_folder
        .iter()
        .filter(|(_, n)| **n == max)
        .map(|(p, _)| *p)
        .collect();
    match top.as_slice() {
        [one] => Some((
            one.to_string(),
            format!("the other participant of {max} one-to-one thread(s) named after a person"),
        )),
        _ => None,
    }
}

/// True when `name` folded to lower-case ASCII letters and digits is `stem` (accents dropped,
/// or the letters without them: both forms occur in folder names).
fn folds_to(name: &str, stem: &str) -> bool {
    use unicode_normalization::UnicodeNormalization as _;
    let plain: String = name
        .nfkd()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect();
    let ascii_only: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect();
    !stem.is_empty() && (plain == stem || ascii_only == stem)
}

/// Turns the threads into activities once the owner is known; without an owner, a platform's
/// messages are skipped and counted (docs/counting.md, *Owner not found*).
pub(crate) fn push(
    threads: Vec<Thread>,
    owners: &mut Owners,
    acts: &mut Vec<Activity>,
    workers: usize,
    diag: &mut Diagnostics,
) {
    let mut ids = Ids::with_capacity(threads.iter().map(|t| t.rows.len()).sum());
    for platform in [Platform::Facebook, Platform::Instagram] {
        let mine: Vec<&Thread> = threads.iter().filter(|t| t.platform == platform).collect();
        if mine.is_empty() {
            continue;
        }
        let owner = owners
            .known(platform)
            .cloned()
            .or_else(|| owner_from_threads(&mine));
        let Some((owner, how)) = owner else {
            owners.decide(platform, None, "not found".into());
            for t in &mine {
                for _ in &t.rows {
                    diag.skip(
                        &t.source,
                        None,
                        "owner not identified: message skipped (its direction is unknown)",
                        "pass --me \"Your Name\" (as your messages show it)".into(),
                    );
                }
            }
            continue;
        };
        owners.decide(platform, Some(owner.clone()), how);
        // The activities (ids included) are built on every core, a run of threads per call,
        // each straight into its place in `acts` (one activity per row, so the places are
        // known beforehand and nothing is built elsewhere and copied); the repeats are
        // numbered over all of them at the end.
        let start = acts.len();
        let rows: usize = mine.iter().map(|t| t.rows.len()).sum();
        acts.reserve(rows);
        for t in &mine {
            // Placeholders (no allocation but the thread's source), overwritten below.
            let blank = || {
                let source = t.source.clone();
                Activity::new(
                    platform,
                    String::new(),
                    None,
                    Direction::In,
                    Kind::Message,
                    source,
                )
            };
            acts.extend(std::iter::repeat_with(blank).take(t.rows.len()));
        }
        // Each run's places behind a lock, which only hands them to the one worker that
        // takes the run.
        let mut free = &mut acts[start..];
        let runs: Vec<Mutex<(&[&Thread], &mut [Activity])>> = mine
            .chunks(1024)
            .map(|run| {
                let n = run.iter().map(|t| t.rows.len()).sum();
                let (places, rest) = std::mem::take(&mut free).split_at_mut(n);
                free = rest;
                Mutex::new((run, places))
            })
            .collect();
        // One shared id per person named in any thread (`name:<key>`), made once here rather
        // than per thread: a person is in many threads, and everything that numbers people
        // then meets one copy.
        let mut people: HashMap<&str, Arc<str>> = HashMap::default();
        for t in &mine {
            for n in t.names.iter() {
                people.entry(n).or_insert_with(|| name_person(n));
            }
        }
        let people = &people;
        let hashes = map_in_order(&runs, workers, |run| {
            let mut run = run.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let (threads, places) = &mut *run;
            let mut hashes = Vec::with_capacity(places.len());
            let mut places = &mut places[..];
            for t in threads.iter() {
                let (its, rest) = std::mem::take(&mut places).split_at_mut(t.rows.len());
                build_thread(t, &owner, people, its, &mut hashes);
                places = rest;
            }
            hashes
        });
        drop(runs);
        for (k, hash) in hashes.into_iter().flatten().enumerate() {
            ids.record(hash, start + k);
        }
    }
    ids.finish(acts);
    // Freeing tens of thousands of threads' rows and names takes a fraction of a second that
    // the counting does not need to wait for.
    std::thread::spawn(move || drop(threads));
}

/// Puts the activities of the messages of `t` into `places` (one per row), and pushes the
/// hash of each one's content id (for the numbering of repeats, [`Ids`]) onto `hashes`.
/// `people` holds the shared id of every name of the threads.
fn build_thread(
    t: &Thread,
    owner: &str,
    people: &HashMap<&str, Arc<str>>,
    places: &mut [Activity],
    hashes: &mut Vec<u64>,
) {
    use std::fmt::Write as _;
    let prefix = match t.platform {
        Platform::Instagram => "ig-dm",
        _ => "fb-dm",
    };
    let (mut at, mut content) = (String::new(), String::new());
    let listed = t.participants.iter().any(|&p| t.participant(p) == owner);
    let participants = (t.participants.len() as u32 + u32::from(!listed)).max(2);
    // The shared id of each name of the thread (every name is in `people`).
    let persons: Vec<Arc<str>> = t
        .names
        .iter()
        .map(|n| people.get(&**n).cloned().unwrap_or_else(|| name_person(n)))
        .collect();
    // The other participants, each as the first name of the thread with its key (names are
    // distinct, so that is the participant's own).
    let others: Box<[Arc<str>]> = t
        .participants
        .iter()
        .filter(|&&p| t.participant(p) != owner)
        .filter_map(|&p| persons.get(p as usize).cloned())
        .collect();
    let conversation = Name::from(format!("{}:{}", t.platform, t.key));
    for (row, place) in t.rows.iter().zip(places) {
        let sender = t.names.get(row.sender as usize).map(|n| &**n);
        let row_at = (row.at > 0).then_some(row.at);
        at.clear();
        if let Some(ms) = row_at {
            let _ = write!(at, "{ms}");
        }
        content.clear();
        let _ = write!(content, "{:016x}", row.content);
        let (id, hash) = content_id(prefix, &[&t.key, sender.unwrap_or(""), &at, &content]);
        hashes.push(hash);
        let out = sender == Some(owner);
        let mut a = Activity::new(
            t.platform,
            id,
            row_at,
            if out { Direction::Out } else { Direction::In },
            Kind::Message,
            t.source.clone(),
        );
        a.set_participants(Some(participants));
        a.conversation = Some(conversation.clone());
        a.counterparts = if out {
            others.clone()
        } else {
            persons
                .get(row.sender as usize)
                .map(|p| Box::new([p.clone()]) as Box<[_]>)
                .unwrap_or_default()
        };
        a.confidence = Confidence::Low;
        a.hints.seq = row.seq;
        *place = a;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(participants: &[&str], folder: &str) -> Thread {
        Thread {
            platform: Platform::Facebook,
            key: format!("inbox/{folder}").into(),
            participants: (0..participants.len() as u32).collect(),
            names: participants.iter().map(|p| name_key(p).into()).collect(),
            rows: Box::default(),
            source: Source::from(format!("messages/inbox/{folder}/message_1.json").as_str()),
        }
    }

    #[test]
    fn owner_is_the_participant_of_the_most_threads_when_unique() {
        let a = thread(&["Robin Example", "Sam Sample"], "samsample_1");
        let b = thread(&["Robin Example", "Kim Doe"], "kimdoe_2");
        let found = owner_from_threads(&[&a, &b]).map(|(o, _)| o);
        assert_eq!(found.as_deref(), Some("robin example"));
    }

    #[test]
    fn owner_from_one_to_one_folder_names() {
        // One thread: both participants in one thread each (a tie); the folder names Zoë.
        let a = thread(&["Robin Example", "Zoë Ünal"], "zoeunal_1234");
        let found = owner_from_threads(&[&a]).map(|(o, _)| o);
        assert_eq!(found.as_deref(), Some("robin example"));
        let b = thread(&["Robin Example", "Sam Sample"], "somethingelse_1");
        assert_eq!(owner_from_threads(&[&b]), None);
    }
}
