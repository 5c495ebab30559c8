//! Builds Bluesky repositories as CAR v1 bytes: DAG-CBOR records, a real Merkle Search Tree
//! (keys placed by the leading zero bits of their SHA-256, prefix-compressed per node), a commit
//! and the CAR framing. CIDs are deterministic: CIDv1, dag-cbor (0x71), sha2-256.
//!
//! Test and example code only: compiled into the library's unit tests (`#[cfg(test)]`) and into
//! `examples/gen_bluesky.rs` (by `#[path]`), never into the binary, so it uses only external
//! crates (`ipld-core`, `serde_ipld_dagcbor`, `sha2`, `chrono`). It builds, it does not sign:
//! `sig` is a fixed dummy (rapport never checks signatures).
//!
//! `fixtures/bluesky/repo.car` is `fixture().to_car()`; regenerate it with
//! `cargo run --example gen_bluesky -- --fixture --out fixtures/bluesky/repo.car`
//! (the unit test `fixture_file_is_current` fails when the file and this code disagree).
//! Every DID and text is invented.

#![allow(dead_code)]

use std::collections::BTreeMap;

use ipld_core::cid::Cid;
use ipld_core::cid::multihash::Multihash;
use ipld_core::ipld::Ipld;
use sha2::{Digest, Sha256};

/// Multicodec of DAG-CBOR.
pub const DAG_CBOR: u64 = 0x71;
const SHA2_256: u64 = 0x12;

/// DAG-CBOR bytes of a value (map keys in canonical order: the encoder sorts them).
pub fn encode(value: &Ipld) -> Vec<u8> {
    serde_ipld_dagcbor::to_vec(value).expect("an Ipld value always encodes")
}

/// The CIDv1 (dag-cbor, sha2-256) of a block.
pub fn cid_of(bytes: &[u8]) -> Cid {
    let digest = Sha256::digest(bytes);
    Cid::new_v1(
        DAG_CBOR,
        Multihash::wrap(SHA2_256, &digest).expect("32 bytes fit a Multihash<64>"),
    )
}

/// Appends an unsigned LEB128 varint.
pub fn uvarint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// One CAR v1 section: `varint(len) CID bytes`.
pub fn section(cid: &Cid, data: &[u8], out: &mut Vec<u8>) {
    let c = cid.to_bytes();
    uvarint((c.len() + data.len()) as u64, out);
    out.extend_from_slice(&c);
    out.extend_from_slice(data);
}

/// The CAR v1 header: `varint(len) {version: 1, roots}`.
pub fn car_header(roots: &[Cid]) -> Vec<u8> {
    let header = map([
        ("version", Ipld::Integer(1)),
        (
            "roots",
            Ipld::List(roots.iter().map(|c| Ipld::Link(*c)).collect()),
        ),
    ]);
    let body = encode(&header);
    let mut out = Vec::with_capacity(body.len() + 2);
    uvarint(body.len() as u64, &mut out);
    out.extend(body);
    out
}

/// A whole CAR v1 file.
pub fn car_bytes(roots: &[Cid], blocks: &[(Cid, Vec<u8>)]) -> Vec<u8> {
    let mut out = car_header(roots);
    for (cid, data) in blocks {
        section(cid, data, &mut out);
    }
    out
}

/// An IPLD map from pairs.
pub fn map<const N: usize>(pairs: [(&str, Ipld); N]) -> Ipld {
    Ipld::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// An IPLD string.
pub fn s(text: &str) -> Ipld {
    Ipld::String(text.to_string())
}

/// Adds (or replaces) one field of a map.
pub fn with(mut record: Ipld, key: &str, value: Ipld) -> Ipld {
    if let Ipld::Map(m) = &mut record {
        m.insert(key.to_string(), value);
    }
    record
}

/// MST layer of a key: leading zero bits of its SHA-256, counted in pairs (fanout 16).
pub fn key_depth(key: &[u8]) -> u32 {
    let mut zeros = 0;
    for b in Sha256::digest(key) {
        if b == 0 {
            zeros += 8;
            continue;
        }
        zeros += b.leading_zeros();
        break;
    }
    zeros / 2
}

const S32: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// A TID record key (13 chars, base32-sortable) from microseconds since the epoch and a clock id.
pub fn tid(micros: u64, clock: u64) -> String {
    let v = ((micros & ((1 << 53) - 1)) << 10) | (clock & 0x3ff);
    (0..13)
        .map(|i| S32[((v >> (60 - 5 * i)) & 31) as usize] as char)
        .collect()
}

/// A TID for an RFC 3339 time.
pub fn tid_at(iso: &str, clock: u64) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(iso).expect("an RFC 3339 time");
    tid(t.timestamp_micros().max(0) as u64, clock)
}

/// A built repository: the commit, the tree and the records, as CAR blocks.
#[derive(Debug, Clone)]
pub struct Repo {
    /// The owner's DID.
    pub did: String,
    /// The commit block (the CAR root).
    pub commit: Cid,
    /// The MST root node (the commit's `data`).
    pub data: Cid,
    /// Every MST node, root first.
    pub nodes: Vec<Cid>,
    /// Record CIDs by key.
    pub records: BTreeMap<String, Cid>,
    /// Every block in CAR order: commit, MST nodes (root first), records in key order.
    pub blocks: Vec<(Cid, Vec<u8>)>,
}

impl Repo {
    /// The CAR v1 file.
    pub fn to_car(&self) -> Vec<u8> {
        car_bytes(&[self.commit], &self.blocks)
    }

    /// The CAR without one block (a missing root, node or record).
    pub fn car_without(&self, cid: &Cid) -> Vec<u8> {
        let blocks: Vec<(Cid, Vec<u8>)> = self
            .blocks
            .iter()
            .filter(|(c, _)| c != cid)
            .cloned()
            .collect();
        car_bytes(&[self.commit], &blocks)
    }

    /// The CAR with one block's bytes replaced (keeping its CID, so the hash no longer matches
    /// unless `recompute`; with `recompute`, the new bytes get their own CID and a still-valid
    /// section holds bytes that are no DAG-CBOR record).
    pub fn car_with_bytes(&self, cid: &Cid, bytes: Vec<u8>, recompute: bool) -> Vec<u8> {
        let blocks: Vec<(Cid, Vec<u8>)> = self
            .blocks
            .iter()
            .map(|(c, b)| {
                if c == cid {
                    let new_cid = if recompute { cid_of(&bytes) } else { *c };
                    (new_cid, bytes.clone())
                } else {
                    (*c, b.clone())
                }
            })
            .collect();
        car_bytes(&[self.commit], &blocks)
    }
}

/// Collects records, then builds the repository.
#[derive(Debug, Clone)]
pub struct RepoBuilder {
    did: String,
    /// Encoded records by key.
    records: BTreeMap<String, Vec<u8>>,
}

impl RepoBuilder {
    /// An empty repository of `did`.
    pub fn new(did: &str) -> Self {
        RepoBuilder {
            did: did.to_string(),
            records: BTreeMap::new(),
        }
    }

    /// Adds a record at `<collection>/<rkey>`; returns its `at://` URI.
    pub fn put(&mut self, collection: &str, rkey: &str, record: Ipld) -> String {
        self.put_raw(collection, rkey, encode(&record))
    }

    /// Adds a record block given as bytes (which need not be DAG-CBOR); returns its URI.
    pub fn put_raw(&mut self, collection: &str, rkey: &str, bytes: Vec<u8>) -> String {
        self.records.insert(format!("{collection}/{rkey}"), bytes);
        format!("at://{}/{collection}/{rkey}", self.did)
    }

    /// Encodes the records, builds the MST and the commit.
    pub fn build(&self, rev: &str) -> Repo {
        let mut leaves = Vec::with_capacity(self.records.len());
        let mut record_blocks = Vec::with_capacity(self.records.len());
        let mut records = BTreeMap::new();
        for (key, bytes) in &self.records {
            let bytes = bytes.clone();
            let cid = cid_of(&bytes);
            leaves.push((key.as_bytes().to_vec(), key_depth(key.as_bytes()), cid));
            records.insert(key.clone(), cid);
            record_blocks.push((cid, bytes));
        }
        let top = leaves.iter().map(|l| l.1).max().unwrap_or(0);
        let mut nodes = Vec::new();
        let data = build_node(&leaves, top, &mut nodes);
        nodes.reverse(); // children are made first; list the root first
        let commit = map([
            ("did", s(&self.did)),
            ("version", Ipld::Integer(3)),
            ("data", Ipld::Link(data)),
            ("rev", s(rev)),
            ("prev", Ipld::Null),
            ("sig", Ipld::Bytes(vec![0x5a; 64])),
        ]);
        let commit_bytes = encode(&commit);
        let commit_cid = cid_of(&commit_bytes);
        let mut blocks = Vec::with_capacity(1 + nodes.len() + record_blocks.len());
        blocks.push((commit_cid, commit_bytes));
        let node_cids = nodes.iter().map(|(c, _)| *c).collect();
        blocks.extend(nodes);
        blocks.extend(record_blocks);
        Repo {
            did: self.did.clone(),
            commit: commit_cid,
            data,
            nodes: node_cids,
            records,
            blocks,
        }
    }
}

/// Builds the node of `layer` holding `leaves` (sorted, none above `layer`): the keys of this
/// layer are its entries, the runs of lower keys before, between and after them its subtrees.
fn build_node(leaves: &[(Vec<u8>, u32, Cid)], layer: u32, nodes: &mut Vec<(Cid, Vec<u8>)>) -> Cid {
    let here: Vec<usize> = (0..leaves.len())
        .filter(|&i| leaves[i].1 == layer)
        .collect();
    let mut subtree = |range: &[(Vec<u8>, u32, Cid)]| -> Ipld {
        if range.is_empty() {
            Ipld::Null
        } else {
            Ipld::Link(build_node(range, layer.saturating_sub(1), nodes))
        }
    };
    let left = subtree(&leaves[..here.first().copied().unwrap_or(leaves.len())]);
    let mut entries = Vec::with_capacity(here.len());
    let mut previous: &[u8] = &[];
    for (j, &i) in here.iter().enumerate() {
        let next = here.get(j + 1).copied().unwrap_or(leaves.len());
        let tree = subtree(&leaves[i + 1..next]);
        let key = &leaves[i].0;
        let shared = previous
            .iter()
            .zip(key.iter())
            .take_while(|(a, b)| a == b)
            .count();
        entries.push(map([
            ("p", Ipld::Integer(shared as i128)),
            ("k", Ipld::Bytes(key[shared..].to_vec())),
            ("v", Ipld::Link(leaves[i].2)),
            ("t", tree),
        ]));
        previous = key;
    }
    let node = map([("l", left), ("e", Ipld::List(entries))]);
    let bytes = encode(&node);
    let cid = cid_of(&bytes);
    nodes.push((cid, bytes));
    cid
}

// ---- records ----

/// `com.atproto.repo.strongRef` to a URI (the CID is a stand-in derived from the URI).
pub fn strong_ref(uri: &str) -> Ipld {
    map([
        ("uri", s(uri)),
        ("cid", s(&cid_of(uri.as_bytes()).to_string())),
    ])
}

/// An `app.bsky.feed.post`.
pub fn post(text: &str, created_at: &str) -> Ipld {
    map([
        ("$type", s("app.bsky.feed.post")),
        ("text", s(text)),
        ("createdAt", s(created_at)),
        ("langs", Ipld::List(vec![s("en")])),
    ])
}

/// A post as a reply.
pub fn reply(text: &str, created_at: &str, parent: &str, root: &str) -> Ipld {
    with(
        post(text, created_at),
        "reply",
        map([("root", strong_ref(root)), ("parent", strong_ref(parent))]),
    )
}

/// Mention facets: `(needle, did)` pairs located in `text` by byte offset (`str::find`).
pub fn with_mentions(record: Ipld, text: &str, mentions: &[(&str, &str)]) -> Ipld {
    let facets = mentions
        .iter()
        .map(|(needle, did)| {
            let start = text.find(needle).expect("the mention is in the text");
            mention_facet(start, start + needle.len(), did)
        })
        .collect();
    with(record, "facets", Ipld::List(facets))
}

/// One mention facet over bytes `start..end`.
pub fn mention_facet(start: usize, end: usize, did: &str) -> Ipld {
    map([
        ("$type", s("app.bsky.richtext.facet")),
        (
            "index",
            map([
                ("byteStart", Ipld::Integer(start as i128)),
                ("byteEnd", Ipld::Integer(end as i128)),
            ]),
        ),
        (
            "features",
            Ipld::List(vec![map([
                ("$type", s("app.bsky.richtext.facet#mention")),
                ("did", s(did)),
            ])]),
        ),
    ])
}

/// A repost or like (`collection` says which) of `subject`.
pub fn subject_record(collection: &str, subject: &str, created_at: &str) -> Ipld {
    map([
        ("$type", s(collection)),
        ("subject", strong_ref(subject)),
        ("createdAt", s(created_at)),
    ])
}

/// An `app.bsky.graph.follow` (or `.block`) of a DID.
pub fn graph(collection: &str, did: &str, created_at: &str) -> Ipld {
    map([
        ("$type", s(collection)),
        ("subject", s(did)),
        ("createdAt", s(created_at)),
    ])
}

// ---- the fixture ----

/// The fixture's owner.
pub const OWNER: &str = "did:plc:ownerrapportfixture2222";
/// People the owner talks to.
pub const ANA: &str = "did:plc:anarapportfixture2222222";
/// Idem.
pub const BEN: &str = "did:plc:benrapportfixture2222222";
/// Idem.
pub const CY: &str = "did:plc:cyrapportfixture22222222";
/// Idem.
pub const DEE: &str = "did:plc:deerapportfixture2222222";
/// Idem (only blocked).
pub const EVE: &str = "did:plc:everapportfixture2222222";

/// A post of someone else.
pub fn their_post(did: &str, iso: &str) -> String {
    format!("at://{did}/app.bsky.feed.post/{}", tid_at(iso, 7))
}

/// A repository of someone who only follows people (`fixtures/bluesky/follows-only.car`): a
/// recognised export with no activity rapport counts.
pub fn follows_only() -> Repo {
    const FOLLOW: &str = "app.bsky.graph.follow";
    let mut r = RepoBuilder::new(OWNER);
    for (i, did) in [ANA, BEN, CY].iter().enumerate() {
        let t = format!("2024-01-0{}T09:00:00.000Z", i + 1);
        r.put(FOLLOW, &tid_at(&t, 0), graph(FOLLOW, did, &t));
    }
    r.put(
        "app.bsky.graph.block",
        &tid_at("2024-01-05T09:00:00.000Z", 0),
        graph("app.bsky.graph.block", EVE, "2024-01-05T09:00:00.000Z"),
    );
    r.build("3kfollowsonly2")
}

/// The fixture repository (`fixtures/bluesky/repo.car`); the expected classification of each
/// record is in the comments and in `fixtures/bluesky/README.md`.
pub fn fixture() -> Repo {
    const POST: &str = "app.bsky.feed.post";
    const REPOST: &str = "app.bsky.feed.repost";
    const LIKE: &str = "app.bsky.feed.like";
    let mut r = RepoBuilder::new(OWNER);
    let add = |r: &mut RepoBuilder, collection: &str, iso: &str, record: Ipld| {
        r.put(collection, &tid_at(iso, 0), record)
    };
    let ana1 = their_post(ANA, "2024-01-02T08:00:00Z");
    let ben1 = their_post(BEN, "2024-01-30T08:00:00Z");
    let dee1 = their_post(DEE, "2024-03-01T08:00:00Z");

    // January: a post, a reply to Ana, a self-thread of 2, a like, a repost of the own post.
    let t = "2024-01-03T09:00:00.000Z";
    let p1 = add(&mut r, POST, t, post("Hello from the rapport fixture.", t)); // broadcast
    let t = "2024-01-04T10:00:00.000Z";
    add(
        &mut r,
        POST,
        t,
        reply("Congratulations on the launch!", t, &ana1, &ana1),
    ); // conversation, Ana
    let t = "2024-01-05T08:00:00.000Z";
    let s1 = add(
        &mut r,
        POST,
        t,
        reply("Second part of the thread.", t, &p1, &p1),
    ); // self_thread
    let t = "2024-01-05T08:05:00.000Z";
    add(&mut r, POST, t, reply("Third part.", t, &s1, &p1)); // self_thread
    let t = "2024-01-06T12:00:00.000Z";
    add(&mut r, LIKE, t, subject_record(LIKE, &ana1, t)); // passive
    let t = "2024-01-07T12:00:00.000Z";
    add(&mut r, REPOST, t, subject_record(REPOST, &p1, t)); // amplification

    // February: a reply to Ben and a continued turn; addressed mentions; a typed @handle.
    let t = "2024-02-01T10:00:00.000Z";
    let c1 = add(
        &mut r,
        POST,
        t,
        reply(
            "Good point, though I'd measure it monthly.",
            t,
            &ben1,
            &ben1,
        ),
    ); // conversation, Ben
    let t = "2024-02-01T10:02:00.000Z";
    add(
        &mut r,
        POST,
        t,
        reply("…and weekly for busy accounts.", t, &c1, &ben1),
    ); // conversation, Ben (continued turn)
    let t = "2024-02-03T09:00:00.000Z";
    let text = "@zoë.test, @ben.test coffee next week?";
    add(
        &mut r,
        POST,
        t,
        with_mentions(
            post(text, t),
            text,
            &[("@zoë.test", CY), ("@ben.test", BEN)],
        ),
    ); // conversation, Cy and Ben (2 leading mentions; byte offsets after a 2-byte ë)
    let t = "2024-02-04T09:00:00.000Z";
    let text = "@ana.test ✨ @ben.test thanks for the tips";
    add(
        &mut r,
        POST,
        t,
        with_mentions(
            post(text, t),
            text,
            &[("@ana.test", ANA), ("@ben.test", BEN)],
        ),
    ); // conversation, Ana only (✨ ends the leading run)
    let t = "2024-02-05T09:00:00.000Z";
    add(
        &mut r,
        POST,
        t,
        post("@ana.test did you see the new feature?", t),
    ); // broadcast (typed handle, no facet)
    let t = "2024-02-10T12:00:00.000Z";
    add(&mut r, REPOST, t, subject_record(REPOST, &ben1, t)); // amplification
    let t = "2024-02-11T12:00:00.000Z";
    add(&mut r, LIKE, t, subject_record(LIKE, &ben1, t)); // passive

    // March: a quote post, `.@` and four mentions stay broadcast.
    let t = "2024-03-01T09:00:00.000Z";
    add(
        &mut r,
        POST,
        t,
        with(
            post("Worth reading.", t),
            "embed",
            map([
                ("$type", s("app.bsky.embed.record")),
                ("record", strong_ref(&ana1)),
            ]),
        ),
    ); // broadcast (quote)
    let t = "2024-03-02T09:00:00.000Z";
    let text = ".@ben.test is right about this";
    add(
        &mut r,
        POST,
        t,
        with_mentions(post(text, t), text, &[("@ben.test", BEN)]),
    ); // broadcast (mention not at byte 0)
    let t = "2024-03-03T09:00:00.000Z";
    let text = "@ana.test @ben.test @zoë.test @dee.test meetup?";
    add(
        &mut r,
        POST,
        t,
        with_mentions(
            post(text, t),
            text,
            &[
                ("@ana.test", ANA),
                ("@ben.test", BEN),
                ("@zoë.test", CY),
                ("@dee.test", DEE),
            ],
        ),
    ); // broadcast (4 leading mentions)

    // Undated: a reply whose createdAt cannot be parsed.
    add(
        &mut r,
        POST,
        "2024-03-04T09:00:00.000Z",
        reply("Agreed!", "yesterday", &dee1, &dee1),
    ); // conversation, Dee, undated

    // Ignored collections.
    let t = "2024-01-02T07:00:00.000Z";
    r.put(
        "app.bsky.graph.follow",
        &tid_at(t, 1),
        graph("app.bsky.graph.follow", ANA, t),
    );
    r.put(
        "app.bsky.graph.follow",
        &tid_at(t, 2),
        graph("app.bsky.graph.follow", BEN, t),
    );
    r.put(
        "app.bsky.graph.block",
        &tid_at(t, 3),
        graph("app.bsky.graph.block", EVE, t),
    );
    r.put(
        "app.bsky.actor.profile",
        "self",
        map([
            ("$type", s("app.bsky.actor.profile")),
            ("displayName", s("Robin Fixture")),
        ]),
    );
    r.build(&tid_at("2024-03-05T00:00:00Z", 0))
}

/// SplitMix64, for deterministic synthetic repositories.
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// A synthetic repository of `records` acts over two years: posts, replies to others and to
/// itself, mention posts, reposts, likes and follows (ignored), deterministic for a seed.
pub fn synthetic(records: usize, seed: u64) -> Repo {
    let mut rng = Rng(seed);
    let mut r = RepoBuilder::new(OWNER);
    let people: Vec<String> = (0..(records / 20).clamp(20, 20_000))
        .map(|i| format!("did:plc:synthetic{i:015}"))
        .collect();
    let start: u64 = 1_704_067_200_000_000; // 2024-01-01 in microseconds
    let span: u64 = 2 * 365 * 86_400_000_000;
    let mut own: Vec<String> = Vec::new();
    for i in 0..records {
        let micros = start + span / records.max(1) as u64 * i as u64;
        let when = chrono::DateTime::from_timestamp_micros(micros as i64)
            .expect("in range")
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        let rkey = tid(micros, i as u64 & 0x3ff);
        let who = &people[rng.below(people.len() as u64) as usize];
        let theirs = format!("at://{who}/app.bsky.feed.post/{}", tid(micros / 2, 1));
        let text = format!("synthetic record {i}");
        let (collection, record) = match rng.below(20) {
            0..=6 => ("app.bsky.feed.post", post(&text, &when)),
            7..=9 => ("app.bsky.feed.post", reply(&text, &when, &theirs, &theirs)),
            10 if !own.is_empty() => {
                let parent = own[rng.below(own.len() as u64) as usize].clone();
                ("app.bsky.feed.post", reply(&text, &when, &parent, &parent))
            }
            11 => {
                let text = format!("@someone.test {text}");
                let rec = with_mentions(post(&text, &when), &text, &[("@someone.test", who)]);
                ("app.bsky.feed.post", rec)
            }
            12 | 13 => (
                "app.bsky.feed.repost",
                subject_record("app.bsky.feed.repost", &theirs, &when),
            ),
            14..=17 => (
                "app.bsky.feed.like",
                subject_record("app.bsky.feed.like", &theirs, &when),
            ),
            _ => (
                "app.bsky.graph.follow",
                graph("app.bsky.graph.follow", who, &when),
            ),
        };
        let uri = r.put(collection, &rkey, record);
        if collection == "app.bsky.feed.post" {
            own.push(uri);
        }
    }
    r.build(&tid(start + span, 0))
}
