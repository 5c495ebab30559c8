//! Bluesky repository export (a `.car` file: the app's "Export my data", or
//! `com.atproto.sync.getRepo`) → Activities. Owns the mapping of repository records to
//! activities (docs/counting.md, *Bluesky*); must not classify modes (it only sets
//! hints), touch Polars, the network or stdout.
//!
//! ## Reading
//!
//! A repository is a CAR v1 file: a header whose root is the signed commit
//! (`did`, `version`, `data`, `rev`, `prev`, `sig`), then DAG-CBOR blocks: the nodes of a Merkle
//! Search Tree rooted at `data`, and the records. Record bodies do not carry their own key, so
//! the tree is walked (`car::walk_mst`) to learn each record's `<collection>/<rkey>`.
//!
//! Crates (compared on docs.rs): `serde_ipld_dagcbor` 0.7 (the IPLD project's DAG-CBOR serde
//! codec, strict decoding) with `ipld-core` 0.4 (the `Ipld` value and its `cid` 0.11 re-export)
//! decode blocks and parse CIDs; `sha2` checks each block against its CID. The CAR framing
//! (varint length, CID, bytes) and the MST walk are written in `car.rs`: both are short and fully
//! specified, and the alternatives each cost more than they save here —
//! `iroh-car` (maintained CAR v1 reader, but async on tokio), `atrium-repo` (CAR + MST, async,
//! pulls `atrium-api`'s thousands of generated lexicon types), `jacquard-repo` and `repo-stream`
//! (full repository stacks, async), `rs-car-sync` (synchronous, but a little-used fork pinning
//! its own dependency set). Importers here are synchronous and get a `Read` from the archive.
//!
//! The file is read as a stream, never whole: each block is checked against its CID and decoded
//! once, on the other threads while the reading goes on (`block.rs`), into what it says as a
//! record and as a tree node; its bytes are then dropped. The tree is walked when every block
//! is in, since a block may come before or after the node that names it. Nodes link to blocks
//! by number, not CID, and the walk takes each node and each record out of the table
//! (`table.rs`) as it reads them, so that their memory goes to the activities made meanwhile.
//!
//! ## Mapping (docs/counting.md, *Bluesky*)
//!
//! The collection comes from the tree key, never from the record's `$type`. Activity id =
//! `at://<did>/<collection>/<rkey>`; owner = the commit's DID; every act is `out`.
//! `app.bsky.feed.post` → post, or reply when `reply` is present (parent = `reply.parent.uri`,
//! whose authority is the parent's author: the owner → self-thread chain, anyone else → the
//! counterpart); a top-level post's leading run of mention facets (UTF-8 byte offsets) →
//! `leading_mentions`. `app.bsky.feed.repost` → repost, `app.bsky.feed.like` → reaction. Dates:
//! `createdAt` only. Every other collection is counted in one note.
//!
//! Damage is reported, never fatal unless nothing is left: a broken block is skipped
//! (`Diagnostics::skip` with its block number and byte offset), a missing tree node or record
//! names its CID; a missing commit or tree root makes the file unreadable (an error naming the
//! CID when it is the only repository of the export).

mod block;
mod car;
mod table;
#[cfg(test)]
pub(crate) mod testrepo;

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::Arc;

use ipld_core::cid::Cid;
use ipld_core::ipld::Ipld;

use self::block::{Block, RecordView, decode_block};
use self::table::{Blocks, Names, Slot, record_of};
#[cfg(test)]
use self::table::{Chunked, Filed};
use super::archive::{Archive, ContainerKind, Entry};
use super::common::pipeline;
use super::text::parse_datetime;
use super::{ImportOptions, Importer, Owner, Sink};
use crate::diag::Diagnostics;
use crate::error::SourceError;
use crate::model::{Activity, Direction, Hints, Kind, Name, Platform, Source};

/// The Bluesky repository (CAR) importer.
pub struct BlueskyRepo;

/// How many bytes of a file are read to recognise a CAR header (real headers are ~60 bytes).
const HEAD_BYTES: usize = 64 * 1024;

const POST: &str = "app.bsky.feed.post";
const REPOST: &str = "app.bsky.feed.repost";
const LIKE: &str = "app.bsky.feed.like";
const MENTION: &str = "app.bsky.richtext.facet#mention";

/// How many ignored collections the note names before "…".
const NOTE_COLLECTIONS: usize = 8;

/// The files that may be repositories: the file itself, or every `*.car` of a zip or folder.
fn candidates(archive: &Archive) -> Vec<&Entry> {
    archive
        .entries()
        .iter()
        .filter(|e| {
            archive.kind() == ContainerKind::File || e.name.to_ascii_lowercase().ends_with(".car")
        })
        .collect()
}

impl Importer for BlueskyRepo {
    fn platform(&self) -> Platform {
        Platform::Bluesky
    }

    fn name(&self) -> &'static str {
        "Bluesky repository (CAR)"
    }

    fn sniff(&self, archive: &Archive) -> Result<bool, SourceError> {
        for entry in candidates(archive) {
            let head = archive.head(entry, HEAD_BYTES)?;
            if car::read_header(&head).is_ok() {
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
        if let Some(damage) = archive.damage() {
            sink.diag().warn(
                &archive.path().display().to_string(),
                None,
                "damaged archive; files after the damage are missing",
                damage.to_string(),
            );
        }
        // Several repositories are grouped by their commit's DID.
        let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut failures: Vec<(String, String)> = Vec::new();
        for entry in candidates(archive) {
            let read = archive.read(entry, |r| {
                read_repo(&entry.name, r, entry.size, options.threads, sink)
            })?;
            match read {
                Ok(did) => owners.entry(did).or_default().push(entry.name.clone()),
                Err(message) => failures.push((entry.name.clone(), message)),
            }
        }
        if owners.is_empty()
            && let Some((entry, message)) = failures.first()
        {
            return Err(SourceError::Entry {
                path: archive.path().to_path_buf(),
                entry: entry.clone(),
                message: message.clone(),
            });
        }
        for (entry, message) in failures {
            sink.diag()
                .skip(&entry, None, "unreadable repository file", message);
        }
        for (did, files) in owners {
            sink.owner(Owner {
                platform: Platform::Bluesky,
                id: Some(did),
                how: format!("the DID of the repository commit ({})", files.join(", ")),
            });
        }
        Ok(())
    }
}

/// The fields of the commit that matter here.
#[derive(Debug)]
pub(super) struct Commit {
    did: String,
    version: Option<i128>,
    data: Cid,
}

fn commit_of(ipld: &Ipld) -> Result<Commit, String> {
    let did = text(ipld, "did")
        .filter(|d| d.starts_with("did:"))
        .ok_or("no `did`")?
        .to_string();
    let Some(Ipld::Link(data)) = field(ipld, "data") else {
        return Err("no `data` link to the record tree".into());
    };
    let version = match field(ipld, "version") {
        Some(Ipld::Integer(v)) => Some(*v),
        _ => None,
    };
    Ok(Commit {
        did,
        version,
        data: *data,
    })
}

/// Bytes of sections per batch handed to a decoding thread.
const BATCH_BYTES: usize = 1 << 20;

/// A batch's blocks, checked and decoded, and its skipped sections.
type Decoded = (Vec<(car::Key, Block)>, Vec<car::BadBlock>);

fn decode_batch(batch: &car::Batch, root: &car::Key) -> Decoded {
    let mut blocks = Vec::with_capacity(batch.sections.len());
    let mut bad = Vec::new();
    for s in &batch.sections {
        match car::check_section(batch.section(s)) {
            Ok((cid, data)) => {
                let key = car::Key::of(&cid);
                let block = decode_block(data, key == *root);
                blocks.push((key, block));
            }
            Err((reason, detail)) => bad.push(car::BadBlock {
                index: s.index,
                offset: s.offset,
                reason,
                detail,
            }),
        }
    }
    (blocks, bad)
}

/// Reads every section after the header, checking and decoding the blocks on `threads` threads
/// while this one reads on, so that the file is never held whole.
fn read_blocks<R: Read>(
    r: &mut R,
    header_len: usize,
    size: u64,
    root: &car::Key,
    threads: usize,
) -> io::Result<Blocks> {
    // Room for the blocks at once (a repository's blocks are ~250 bytes on average), so that
    // the table is not moved and rehashed again and again as it grows.
    let room = usize::try_from(size / 256).unwrap_or(0).min(1 << 26);
    let mut table = Blocks::with_capacity(room);
    let file = |table: &mut Blocks, (blocks, bad): Decoded| {
        table.bad.extend(bad);
        for (key, block) in blocks {
            table.insert(key, block);
        }
    };
    let read = |r: &mut R, filed: &mut dyn FnMut(Decoded)| {
        pipeline(
            threads,
            |send| car::read_sections(r, header_len, BATCH_BYTES, send),
            |batch| decode_batch(&batch, root),
            filed,
        )
    };
    let framing = if threads <= 1 {
        read(r, &mut |decoded| file(&mut table, decoded))?
    } else {
        // The blocks are filed on a thread of their own: the reading thread, which also
        // inflates a zipped CAR, is the one the others wait for.
        let (tx, rx) = std::sync::mpsc::channel::<Decoded>();
        std::thread::scope(|s| {
            let filer = s.spawn(|| {
                for decoded in rx {
                    file(&mut table, decoded);
                }
            });
            // The filer ends only when this channel closes (or on a panic, passed on below).
            let framing = read(r, &mut |decoded| drop(tx.send(decoded)));
            drop(tx);
            filer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            framing
        })?
    };
    table.bad.extend(framing);
    Ok(table)
}

/// Reads one repository file into the sink; returns the owner's DID, or why nothing could be read.
/// Only the stream's own I/O errors are errors of the reading.
fn read_repo(
    name: &str,
    r: &mut dyn Read,
    size: u64,
    threads: usize,
    sink: &mut dyn Sink,
) -> io::Result<Result<String, String>> {
    let mut r = io::BufReader::with_capacity(1 << 16, r);
    let header = match car::read_header_from(&mut r)? {
        Ok(header) => header,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let root = header.roots.first().copied();
    let root_key = root.as_ref().map(car::Key::of);
    let table = read_blocks(
        &mut r,
        header.len,
        size,
        // Without a root nothing is a commit; the file is refused below.
        root_key.as_ref().unwrap_or(&car::Key::of(&Cid::default())),
        threads,
    )?;
    Ok(read_tree(name, table, root, threads, sink))
}

/// The activities of a repository's blocks, walking its tree from the commit at `root`.
fn read_tree(
    name: &str,
    mut car: Blocks,
    root: Option<Cid>,
    threads: usize,
    sink: &mut dyn Sink,
) -> Result<String, String> {
    for bad in &car.bad {
        sink.diag().skip(
            name,
            Some(bad.index),
            bad.reason,
            format!("block {} at byte {}: {}", bad.index, bad.offset, bad.detail),
        );
    }
    let root = root.ok_or("the CAR header names no root; this is not a repository export")?;
    let commit = car.commit.take().ok_or_else(|| {
        format!(
            "the root commit block {root} is missing; the file is truncated or damaged — \
             download the export again"
        )
    })?;
    let commit = (*commit)
        .map_err(|why| format!("the root block {root} is not a repository commit ({why})"))?;
    if !matches!(commit.version, Some(2 | 3)) {
        sink.diag().warn(
            name,
            None,
            "unexpected repository commit version",
            format!("version {:?}; read as version 3", commit.version),
        );
    }
    let Some(data) = car
        .find(&car::Key::of(&commit.data))
        .filter(|s| car.blocks[*s as usize].is_some())
    else {
        return Err(format!(
            "the record tree's root node {} is missing; the file is truncated or damaged — \
             download the export again",
            commit.data
        ));
    };
    let source: Source = Source::from(name);
    let mut ignored: BTreeMap<String, u64> = BTreeMap::new();
    let mut people = crate::model::Interner::default();
    // Room for the records at once: every block that is not a tree node.
    sink.reserve(
        car.blocks
            .iter()
            .flatten()
            .filter(|b| b.node.is_err())
            .count(),
    );
    // Every link is a slot by now: the index's memory goes to the activities, and the keys'
    // but for the few the walk may name.
    drop(std::mem::take(&mut car.index));
    let names = Names::of(&mut car, data);
    let names = &names;
    let Blocks { blocks, refs, .. } = &mut car;
    // The walk takes each node as it reaches it, and the record of each leaf; both are
    // dropped once read, and their memory goes to the activities made meanwhile.
    let blocks = std::cell::RefCell::new(blocks);
    let take_node = |slot: &Slot| {
        let mut blocks = blocks.borrow_mut();
        Some(blocks[*slot as usize].as_mut()?.take_node())
    };
    // The walk hands out runs of leaves as it reaches them; other threads make their
    // activities meanwhile, handed back in key order with what each run found.
    let problems = pipeline(
        threads,
        |send| {
            let mut pending = Vec::with_capacity(LEAVES_PER_RUN);
            let mut first = 0usize;
            let problems = car::walk_mst_each(take_node, data, |leaf| {
                let record = record_of(&mut blocks.borrow_mut(), refs, leaf.cid);
                pending.push((leaf, record));
                if pending.len() == LEAVES_PER_RUN {
                    send((first, std::mem::take(&mut pending)));
                    first += LEAVES_PER_RUN;
                }
            });
            if !pending.is_empty() {
                send((first, pending));
            }
            problems
        },
        |(first, leaves)| read_leaves(name, &source, &commit.did, names, first, leaves),
        |mut run| {
            sink.diag().merge(run.diag);
            for (collection, n) in run.ignored {
                *ignored.entry(collection).or_default() += n;
            }
            // One copy per person: the runs were made apart, each reply and mention with its
            // own copy of the DID it names.
            for a in &mut run.activities {
                for c in a.counterparts.iter_mut() {
                    *c = people.adopt(c);
                }
            }
            sink.extend(run.activities);
        },
    );
    for p in problems {
        let (reason, kept) = match p {
            car::WalkProblem::MissingNode(_) => ("record tree node missing", false),
            car::WalkProblem::BadNode(..) => ("damaged record tree node", false),
            car::WalkProblem::BadKey(..) => ("unreadable record key", false),
            car::WalkProblem::OutOfOrder(_) => ("record tree keys out of order", true),
        };
        let p = p.naming(|s| names.cid(s));
        if kept {
            sink.diag().warn(name, None, reason, p.to_string());
        } else {
            sink.diag().skip(name, None, reason, p.to_string());
        }
    }
    if !ignored.is_empty() {
        sink.diag().note(ignored_note(name, &ignored));
    }
    Ok(commit.did)
}

/// Leaves handed out per run of [`read_leaves`].
const LEAVES_PER_RUN: usize = 4096;

/// What one run of leaves held.
struct LeavesRead {
    activities: Vec<Activity>,
    ignored: BTreeMap<String, u64>,
    diag: Diagnostics,
}

/// The activities of `leaves` (the run starting at leaf number `first`), each with the record
/// of its block (`None`: not in the file), with the problems met and the records of other
/// collections counted. `names` names the blocks.
fn read_leaves(
    name: &str,
    source: &Source,
    did: &str,
    names: &Names,
    first: usize,
    leaves: Vec<(car::Leaf<Slot>, Option<RecordView>)>,
) -> LeavesRead {
    let mut out = LeavesRead {
        activities: Vec::with_capacity(leaves.len()),
        ignored: BTreeMap::new(),
        diag: Diagnostics::default(),
    };
    let diag = &mut out.diag;
    for (k, (leaf, record)) in leaves.into_iter().enumerate() {
        let i = first + k;
        let line = Some(i as u64 + 1);
        let Some((collection, rkey)) = leaf.key.split_once('/') else {
            diag.skip(
                name,
                line,
                "record key without a collection",
                leaf.key.clone(),
            );
            continue;
        };
        if !is_counted_collection(collection) {
            *out.ignored.entry(collection.to_string()).or_default() += 1;
            continue;
        }
        let cid = || names.cid(leaf.cid);
        let Some(record) = record else {
            diag.skip(
                name,
                line,
                "record block missing",
                format!("{} ({})", leaf.key, cid()),
            );
            continue;
        };
        let facts = match record {
            RecordView::Facts(facts) => facts,
            RecordView::NotMap => {
                diag.skip(name, line, "record is not a map", leaf.key.clone());
                continue;
            }
            RecordView::Undecodable(e) => {
                diag.skip(
                    name,
                    line,
                    "undecodable record",
                    format!("{} ({}): {e}", leaf.key, cid()),
                );
                continue;
            }
        };
        let at = Place {
            source,
            seq: i as u64,
            line,
        };
        if let Some(a) = facts.activity(did, collection, rkey, &at, diag) {
            out.activities.push(a);
        }
    }
    out
}

/// True for the collections that hold acts: posts, reposts, likes.
pub(crate) fn is_counted_collection(collection: &str) -> bool {
    matches!(collection, POST | REPOST | LIKE)
}

/// Where a record came from, for the activity's source and problem reports.
pub(crate) struct Place<'a> {
    /// The file or endpoint.
    pub source: &'a Source,
    /// Position, for ties.
    pub seq: u64,
    /// The record number reported with problems.
    pub line: Option<u64>,
}

/// The Activity of one repository record (docs/counting.md, *Bluesky*), `None` for a
/// collection that holds no act. Shared by the CAR importer and the API fetcher, so a record
/// read from an export and the same record listed by `com.atproto.repo.listRecords` are
/// classified alike.
pub(crate) fn record_activity(
    did: &str,
    collection: &str,
    rkey: &str,
    record: &Ipld,
    at: &Place<'_>,
    diag: &mut Diagnostics,
) -> Option<Activity> {
    Facts::of(record).activity(did, collection, rkey, at, diag)
}

/// What a record says that an activity is made of, read before its collection is known (a
/// CAR's record blocks come before, after or between the tree nodes that name them).
#[derive(Debug, Clone)]
pub(super) struct Facts {
    created: Created,
    post: Option<Box<PostFacts>>,
}

/// A record's `createdAt`.
#[derive(Debug, Clone)]
enum Created {
    Missing,
    /// Boxed once more (a thin pointer): every record of the table holds a `Created`, and
    /// this keeps it at 16 bytes (a `String` would make it 32); the rare bad date pays the
    /// extra allocation.
    #[expect(
        clippy::box_collection,
        reason = "a thin pointer keeps every record's date at 16 bytes"
    )]
    Unparseable(Box<String>),
    At(i64),
}

/// What a post's record adds: its reply references, or the DIDs its text starts by mentioning.
#[derive(Debug, Clone)]
enum PostFacts {
    Reply {
        root: Option<Box<str>>,
        parent: Option<Box<str>>,
    },
    Mentions(Vec<Box<str>>),
}

impl Facts {
    fn of(record: &Ipld) -> Facts {
        Facts::from_parts(
            text(record, "createdAt"),
            field(record, "reply"),
            text(record, "text"),
            field(record, "facets"),
        )
    }

    /// From a record's `createdAt` and `text` (when they are strings), `reply` and `facets`.
    fn from_parts(
        created_at: Option<&str>,
        reply: Option<&Ipld>,
        body: Option<&str>,
        facets: Option<&Ipld>,
    ) -> Facts {
        let created = match created_at {
            Some(raw) => parse_datetime(raw)
                .map_or_else(|| Created::Unparseable(Box::new(raw.into())), Created::At),
            None => Created::Missing,
        };
        let post = if let Some(reply) = reply.filter(|r| !matches!(r, Ipld::Null)) {
            let uri = |which: &str| {
                field(reply, which)
                    .and_then(|r| text(r, "uri"))
                    .map(Box::from)
            };
            Some(PostFacts::Reply {
                root: uri("root"),
                parent: uri("parent"),
            })
        } else {
            let body = body.unwrap_or("");
            facets
                .map(|facets| leading_mentions(body.as_bytes(), facets))
                .filter(|dids| !dids.is_empty())
                .map(|dids| PostFacts::Mentions(dids.into_iter().map(Box::from).collect()))
        };
        Facts {
            created,
            post: post.map(Box::new),
        }
    }

    /// The activity of the record at `<collection>/<rkey>` of `did`'s repository.
    fn activity(
        &self,
        did: &str,
        collection: &str,
        rkey: &str,
        at: &Place<'_>,
        diag: &mut Diagnostics,
    ) -> Option<Activity> {
        let kind = match collection {
            POST => Kind::Post,
            REPOST => Kind::Repost,
            LIKE => Kind::Reaction,
            _ => return None,
        };
        let name: &str = at.source;
        let key = format!("{collection}/{rkey}");
        let when = match &self.created {
            Created::At(when) => Some(*when),
            Created::Unparseable(raw) => {
                diag.warn(
                    name,
                    at.line,
                    "unparseable createdAt; kept undated",
                    format!("{key}: {raw:?}"),
                );
                None
            }
            Created::Missing => {
                diag.warn(name, at.line, "no createdAt; kept undated", key.clone());
                None
            }
        };
        let id = format!("at://{did}/{key}");
        let mut activity = Activity::new(
            Platform::Bluesky,
            id,
            when,
            Direction::Out,
            kind,
            at.source.clone(),
        );
        activity.hints.seq = at.seq;
        if let (Kind::Post, Some(post)) = (kind, &self.post) {
            map_post(&mut activity, post, did, name, at.line, diag);
        }
        Some(activity)
    }
}

/// "repo.car: ignored 57 records of 6 other collections (app.bsky.graph.follow: 40, …)".
fn ignored_note(name: &str, ignored: &BTreeMap<String, u64>) -> String {
    let total: u64 = ignored.values().sum();
    let mut list: Vec<(&str, u64)> = ignored.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut named: Vec<String> = list
        .iter()
        .take(NOTE_COLLECTIONS)
        .map(|(c, n)| format!("{c}: {n}"))
        .collect();
    if list.len() > NOTE_COLLECTIONS {
        named.push("…".into());
    }
    format!(
        "{name}: ignored {total} record{} of {} other collection{} ({})",
        if total == 1 { "" } else { "s" },
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        named.join(", ")
    )
}

/// Reply or top-level post: sets kind, parent hints, counterparts and addressed mentions.
fn map_post(
    activity: &mut Activity,
    post: &PostFacts,
    owner: &str,
    name: &str,
    line: Option<u64>,
    diag: &mut Diagnostics,
) {
    match post {
        PostFacts::Reply { root, parent } => {
            activity.kind = Kind::Reply;
            if let Some(root) = root {
                activity.conversation = Some(Name::from(&**root));
            }
            let Some(parent) = parent else {
                diag.warn(
                    name,
                    line,
                    "reply without a parent URI; counterpart unknown",
                    activity.id.to_string(),
                );
                return;
            };
            activity.hints.set_parent(Some(parent.to_string()));
            match authority(parent) {
                Some(did) if did == owner => activity.hints.parent_is_owner = true,
                Some(did) => {
                    activity.hints.set_parent_author(Some(did.to_string()));
                    activity.counterparts = vec![Arc::from(did)].into();
                }
                None => diag.warn(
                    name,
                    line,
                    "reply parent is not an at:// URI; counterpart unknown",
                    format!("{}: {parent:?}", activity.id),
                ),
            }
        }
        PostFacts::Mentions(dids) => {
            activity.hints.leading_mentions = Hints::mentions(dids.len());
            let mut people: Vec<Arc<str>> = Vec::with_capacity(dids.len());
            for did in dids {
                if **did != *owner && !people.iter().any(|p| **p == **did) {
                    people.push(Arc::from(&**did));
                }
            }
            activity.counterparts = people.into();
        }
    }
}

/// The DIDs of the leading run of mention facets: the first starts at byte 0, each next one
/// right after the previous with only spaces, `,`, `;` or `:` between. Offsets are UTF-8 byte
/// offsets (start inclusive, end exclusive) into `text`; a facet that does not cover an `@` at
/// its start, overlaps, or points outside the text ends the run.
fn leading_mentions<'a>(text: &[u8], facets: &'a Ipld) -> Vec<&'a str> {
    let Ipld::List(items) = facets else {
        return Vec::new();
    };
    let mut spans: Vec<(usize, usize, &str)> = items.iter().filter_map(mention_span).collect();
    spans.sort_by_key(|s| s.0);
    let mut run = Vec::new();
    let mut pos = 0usize;
    for (start, end, did) in spans {
        if end <= start || text.get(start) != Some(&b'@') {
            break;
        }
        let Some(gap) = text.get(pos..start) else {
            break; // overlaps the previous mention, or outside the text
        };
        let joined = if run.is_empty() {
            start == 0
        } else {
            gap.iter().all(|b| matches!(b, b' ' | b',' | b';' | b':'))
        };
        if !joined || end > text.len() {
            break;
        }
        run.push(did);
        pos = end;
    }
    run
}

/// `(byteStart, byteEnd, did)` of a facet with a mention feature.
fn mention_span(facet: &Ipld) -> Option<(usize, usize, &str)> {
    let index = field(facet, "index")?;
    let offset = |key: &str| match field(index, key) {
        Some(Ipld::Integer(v)) => usize::try_from(*v).ok(),
        _ => None,
    };
    let (start, end) = (offset("byteStart")?, offset("byteEnd")?);
    let Some(Ipld::List(features)) = field(facet, "features") else {
        return None;
    };
    let did = features
        .iter()
        .find(|f| text(f, "$type") == Some(MENTION))
        .and_then(|f| text(f, "did"))?;
    Some((start, end, did))
}

/// The authority of an `at://` URI (a DID, rarely a handle).
fn authority(uri: &str) -> Option<&str> {
    uri.strip_prefix("at://")?
        .split(['/', '?', '#'])
        .next()
        .filter(|a| !a.is_empty())
}

fn field<'a>(value: &'a Ipld, key: &str) -> Option<&'a Ipld> {
    match value {
        Ipld::Map(m) => m.get(key),
        _ => None,
    }
}

fn text<'a>(value: &'a Ipld, key: &str) -> Option<&'a str> {
    match field(value, key)? {
        Ipld::String(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
