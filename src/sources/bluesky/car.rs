//! CAR v1 framing and the repository's Merkle Search Tree. Owns the byte layout (varints, CIDs,
//! block sections, read from a stream in batches), the block check and the tree walk; knows
//! nothing of records, activities or diagnostics (it returns problems as values for the importer
//! to report).
//!
//! CAR v1 (<https://ipld.io/specs/transport/car/carv1/>): `varint(len) header` then sections
//! `varint(len) CID bytes`. The header is DAG-CBOR `{version: 1, roots: [CID]}`. CIDs are parsed
//! by the `cid` crate, DAG-CBOR by `serde_ipld_dagcbor`; the framing is a few lines and is written
//! here so that reading stays synchronous (the maintained CAR crates are async).
//!
//! MST node (atproto repository spec): `{l: CID|null, e: [{p, k, v, t: CID|null}]}`. Keys are
//! compressed against the previous entry *of the same node* (`p` bytes shared, `k` the rest);
//! `l` holds keys before the first entry, each `t` the keys between its entry and the next.

#[cfg(test)]
use rustc_hash::FxHashMap as HashMap;
use rustc_hash::FxHashSet as HashSet;
use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};

use ipld_core::cid::Cid;
use ipld_core::ipld::Ipld;
use sha2::{Digest, Sha256};

/// Multihash code of SHA2-256, the only hash atproto uses.
pub(crate) const SHA2_256: u64 = 0x12;

/// Deepest MST accepted; real trees of millions of records are under 10 levels.
const MAX_DEPTH: usize = 64;

/// Reads an unsigned LEB128 varint (multiformats: at most 9 bytes). Returns the value and the
/// number of bytes used; `None` when the bytes end first or the varint is too long.
pub(crate) fn read_uvarint(buf: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, &b) in buf.iter().enumerate().take(9) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Why the start of a file is not a CAR v1 header.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HeaderError {
    /// The file ends inside the header.
    Truncated,
    /// The header is not DAG-CBOR or lacks `version`/`roots`.
    Malformed(String),
    /// A CAR of another version (v2 wraps v1 with an index; Bluesky writes v1).
    Version(i128),
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Truncated => f.write_str("the file ends inside the CAR header"),
            HeaderError::Malformed(why) => write!(f, "not a CAR v1 header ({why})"),
            HeaderError::Version(v) => write!(f, "CAR version {v}; only CAR v1 is supported"),
        }
    }
}

/// The decoded CAR header.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    /// Root CIDs (a repository has one: the signed commit).
    pub roots: Vec<Cid>,
    /// Bytes taken by the header, length varint included.
    pub len: usize,
}

/// Decodes the CAR v1 header at the start of `buf`.
pub(crate) fn read_header(buf: &[u8]) -> Result<Header, HeaderError> {
    let (len, used) = read_uvarint(buf).ok_or(HeaderError::Truncated)?;
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| l.checked_add(used))
        .ok_or_else(|| HeaderError::Malformed(format!("header length {len}")))?;
    let body = buf.get(used..end).ok_or(HeaderError::Truncated)?;
    let header: Ipld = serde_ipld_dagcbor::from_slice(body)
        .map_err(|e| HeaderError::Malformed(format!("DAG-CBOR: {e}")))?;
    let Ipld::Map(map) = header else {
        return Err(HeaderError::Malformed("not a map".into()));
    };
    match map.get("version") {
        Some(Ipld::Integer(1)) => {}
        Some(Ipld::Integer(v)) => return Err(HeaderError::Version(*v)),
        _ => return Err(HeaderError::Malformed("no version".into())),
    }
    let Some(Ipld::List(items)) = map.get("roots") else {
        return Err(HeaderError::Malformed("no roots".into()));
    };
    let mut roots = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Ipld::Link(cid) => roots.push(*cid),
            _ => return Err(HeaderError::Malformed("a root is not a CID".into())),
        }
    }
    Ok(Header { roots, len: end })
}

/// Longest CID kept inline in a [`Key`] (atproto's CIDv1 SHA2-256 takes 36 bytes).
const INLINE: usize = 38;

/// A block's CID in its binary form, the key blocks are found by: 40 bytes where a parsed
/// `Cid` takes ~90 (its digest array has room for 64 bytes).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Key(KeyBytes);

#[derive(Clone, PartialEq, Eq)]
enum KeyBytes {
    Inline(u8, [u8; INLINE]),
    Heap(Box<[u8]>),
}

impl Key {
    pub fn of(cid: &Cid) -> Key {
        let len = cid.encoded_len();
        if len <= INLINE {
            let mut bytes = [0u8; INLINE];
            if cid.write_bytes(&mut bytes[..len]).is_ok() {
                return Key(KeyBytes::Inline(len as u8, bytes));
            }
        }
        Key(KeyBytes::Heap(cid.to_bytes().into()))
    }

    fn bytes(&self) -> &[u8] {
        match &self.0 {
            KeyBytes::Inline(len, bytes) => &bytes[..usize::from(*len)],
            KeyBytes::Heap(bytes) => bytes,
        }
    }

    /// A hash of the CID's last 8 bytes alone: the end of its digest, as good as random for a
    /// SHA2-256 CID (others only hash worse, never wrongly: equal keys have equal ends).
    pub fn hash64(&self) -> u64 {
        let bytes = self.bytes();
        let mut end = [0u8; 8];
        let tail = &bytes[bytes.len().saturating_sub(8)..];
        end[..tail.len()].copy_from_slice(tail);
        u64::from_le_bytes(end).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash64());
    }
}

/// As the CID it holds (`bafyrei…`).
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Cid::try_from(self.bytes()) {
            Ok(cid) => write!(f, "{cid}"),
            Err(_) => f.write_str("(unreadable CID)"),
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

/// A section that could not be used.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BadBlock {
    /// 1-based number of the section after the header.
    pub index: u64,
    /// Byte offset of the section's length varint in the file.
    pub offset: usize,
    /// Short stable reason.
    pub reason: &'static str,
    /// Details (CID, sizes).
    pub detail: String,
}

/// Longest header read from a stream; real ones are ~60 bytes, and a file whose header does not
/// fit in the importer's sniffing window is not recognised anyway.
const MAX_HEADER: u64 = 1 << 20;

/// Reads the CAR v1 header from the start of a stream.
pub(crate) fn read_header_from(r: &mut impl Read) -> io::Result<Result<Header, HeaderError>> {
    let mut buf = Vec::with_capacity(128);
    let len = match read_stream_varint(r, &mut buf)? {
        Some(len) => len,
        None => return Ok(Err(HeaderError::Truncated)),
    };
    if len > MAX_HEADER {
        return Ok(Err(HeaderError::Malformed(format!("header length {len}"))));
    }
    r.take(len).read_to_end(&mut buf)?;
    Ok(read_header(&buf))
}

/// Reads a varint from a stream, appending its bytes to `used`: `None` when the stream ends
/// inside it or it runs past 9 bytes (as [`read_uvarint`]).
fn read_stream_varint(r: &mut impl Read, used: &mut Vec<u8>) -> io::Result<Option<u64>> {
    let mut byte = [0u8];
    for _ in 0..9 {
        if r.read(&mut byte)? == 0 {
            return Ok(None);
        }
        used.push(byte[0]);
        if byte[0] & 0x80 == 0 {
            return Ok(read_uvarint(used).map(|(v, _)| v));
        }
    }
    Ok(None)
}

/// One section of a [`Batch`]: its number, where its length varint is in the file, where its
/// CID and data are in the batch's bytes.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub index: u64,
    pub offset: usize,
    pub bytes: std::ops::Range<usize>,
}

/// Consecutive sections, their bytes (CID then data) one after the other.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub bytes: Vec<u8>,
    pub sections: Vec<Section>,
}

impl Batch {
    pub fn section(&self, s: &Section) -> &[u8] {
        &self.bytes[s.bytes.clone()]
    }
}

/// Bytes asked of the stream at a time.
const READ_CHUNK: usize = 256 * 1024;

/// Reads the sections after a header of `header_len` bytes, handing them to `each` in file order
/// in batches of about `batch_bytes`. Damaged framing (bad length, file cut short) ends the
/// reading: the returned block says where and why. Only the stream's own I/O errors are errors.
/// The stream is read in large pieces and the sections are found in them, so that each byte is
/// copied once, into the batch that hands it on.
pub(crate) fn read_sections(
    r: &mut impl Read,
    header_len: usize,
    batch_bytes: usize,
    mut each: impl FnMut(Batch),
) -> io::Result<Option<BadBlock>> {
    // `buf` holds the bytes from file offset `base` on; sections are found from `pos`.
    let mut buf: Vec<u8> = Vec::with_capacity(batch_bytes + READ_CHUNK);
    let mut sections: Vec<Section> = Vec::new();
    let (mut base, mut pos, mut index, mut eof) = (header_len, 0usize, 0u64, false);
    // Reads more of the stream (into the spare room, which is not zeroed first); false at its end.
    let fill = |buf: &mut Vec<u8>, r: &mut dyn Read| -> io::Result<bool> {
        Ok(r.take(READ_CHUNK as u64).read_to_end(buf)? > 0)
    };
    let bad = loop {
        let rest = &buf[pos..];
        let offset = base + pos;
        let varint = read_uvarint(rest);
        let complete = match varint {
            Some((len, used)) => usize::try_from(len)
                .ok()
                .and_then(|l| l.checked_add(used))
                .is_some_and(|end| end <= rest.len()),
            None => false,
        };
        if !complete && !eof && (varint.is_some() || rest.len() < 9) {
            eof = !fill(&mut buf, r)?;
            continue;
        }
        if rest.is_empty() {
            break None;
        }
        index += 1;
        // Where the framing breaks, what is left is counted to the end of the stream.
        let broken = !complete || matches!(varint, Some((0, _)));
        let unread = if broken && !eof {
            io::copy(r, &mut io::sink())?
        } else {
            0
        };
        let Some((len, used)) = varint else {
            break Some(BadBlock {
                index,
                offset,
                reason: "damaged block length; the rest of the file is not read",
                detail: format!("{} byte(s) left", rest.len() as u64 + unread),
            });
        };
        let available = (rest.len() - used) as u64 + unread;
        if len == 0 {
            break Some(BadBlock {
                index,
                offset,
                reason: "empty block section; the rest of the file is not read",
                detail: format!("{available} byte(s) left"),
            });
        }
        if !complete {
            // (Only at the end of the stream: `unread` is 0.)
            break Some(BadBlock {
                index,
                offset,
                reason: "truncated block; the file ends inside it",
                detail: format!("declares {len} bytes, {available} left"),
            });
        }
        let start = pos + used;
        pos = start + len as usize;
        sections.push(Section {
            index,
            offset,
            bytes: start..pos,
        });
        if pos >= batch_bytes {
            // Hand on the sections found; the bytes after them start the next batch.
            let mut next = Vec::with_capacity(batch_bytes + READ_CHUNK);
            next.extend_from_slice(&buf[pos..]);
            buf.truncate(pos);
            base += pos;
            pos = 0;
            each(Batch {
                bytes: std::mem::replace(&mut buf, next),
                sections: std::mem::take(&mut sections),
            });
        }
    };
    if !sections.is_empty() {
        buf.truncate(pos);
        each(Batch {
            bytes: buf,
            sections,
        });
    }
    Ok(bad)
}

/// A section's CID and data, its SHA2-256 checked: a block that was altered is not used.
/// Otherwise why the section is skipped, and the detail to report.
pub(crate) fn check_section(section: &[u8]) -> Result<(Cid, &[u8]), (&'static str, String)> {
    let mut cursor = section;
    let cid = Cid::read_bytes(&mut cursor).map_err(|e| ("unreadable block CID", e.to_string()))?;
    let data = cursor;
    let hash = cid.hash();
    if hash.code() == SHA2_256 && Sha256::digest(data).as_slice() != hash.digest() {
        return Err(("block content does not match its CID", cid.to_string()));
    }
    Ok((cid, data))
}

/// One record of the repository: its key (`<collection>/<rkey>`) and the link to its block
/// (a [`Key`], or whatever the caller turned the node's links into, [`Node::map_links`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Leaf<L = Key> {
    /// `<collection>/<rkey>`.
    pub key: String,
    /// The record block.
    pub cid: L,
}

/// A problem met while walking the tree. Records under a missing or bad node are not listed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WalkProblem<L = Key> {
    /// A node block is not in the file.
    MissingNode(L),
    /// A node block is not a valid MST node.
    BadNode(L, String),
    /// An entry's key cannot be rebuilt or is not UTF-8.
    BadKey(L, String),
    /// Keys are not in increasing order (a malformed tree; records are still read).
    OutOfOrder(String),
}

impl<L> WalkProblem<L> {
    /// The same problem, its node named by `name` of its link.
    pub fn naming<M>(self, name: impl FnOnce(L) -> M) -> WalkProblem<M> {
        match self {
            WalkProblem::MissingNode(l) => WalkProblem::MissingNode(name(l)),
            WalkProblem::BadNode(l, why) => WalkProblem::BadNode(name(l), why),
            WalkProblem::BadKey(l, why) => WalkProblem::BadKey(name(l), why),
            WalkProblem::OutOfOrder(key) => WalkProblem::OutOfOrder(key),
        }
    }
}

impl<L: fmt::Display> fmt::Display for WalkProblem<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalkProblem::MissingNode(cid) => {
                write!(
                    f,
                    "tree node {cid} is missing; the records below it are not read"
                )
            }
            WalkProblem::BadNode(cid, why) => write!(f, "tree node {cid}: {why}"),
            WalkProblem::BadKey(cid, why) => write!(f, "tree node {cid}: {why}"),
            WalkProblem::OutOfOrder(key) => write!(f, "key {key} is out of order"),
        }
    }
}

enum Step<L> {
    Node(L, usize),
    Leaf(Leaf<L>),
}

/// What a block says read as a tree node: the node, or why it is not one.
pub(crate) type NodeView<L = Key> = Result<Box<Node<L>>, Cow<'static, str>>;

/// Walks the MST of raw blocks (tests; the importer decodes its blocks as it reads them).
#[cfg(test)]
pub(crate) fn walk_mst(blocks: &HashMap<Cid, &[u8]>, root: Cid) -> (Vec<Leaf>, Vec<WalkProblem>) {
    let mut nodes: HashMap<Key, NodeView> = blocks
        .iter()
        .map(|(cid, bytes)| (Key::of(cid), decode_node(bytes)))
        .collect();
    let mut leaves = Vec::new();
    let problems = walk_mst_each(
        |k| nodes.remove(k),
        Key::of(&root),
        |leaf| leaves.push(leaf),
    );
    (leaves, problems)
}

/// Walks the MST from `root` depth-first, left to right, handing each record to `each` as it
/// is reached: every record in key order. `take` hands over a block's node view (`None`: no
/// such block); it is asked once per node, since each node is visited once (a link seen twice
/// is a damaged tree, not a loop to follow), so the caller may give the node away and the
/// walk drops it when its entries are listed.
pub(crate) fn walk_mst_each<L: Clone + Eq + std::hash::Hash>(
    mut take: impl FnMut(&L) -> Option<NodeView<L>>,
    root: L,
    mut each: impl FnMut(Leaf<L>),
) -> Vec<WalkProblem<L>> {
    // The previous leaf's key (reused, not reallocated per leaf), `None` before the first.
    let mut last: Option<Vec<u8>> = None;
    let mut problems = Vec::new();
    let mut seen: HashSet<L> = HashSet::default();
    let mut stack = vec![Step::Node(root, 0)];
    while let Some(step) = stack.pop() {
        let (cid, depth) = match step {
            Step::Leaf(leaf) => {
                if last.as_deref().is_some_and(|l| l >= leaf.key.as_bytes()) {
                    problems.push(WalkProblem::OutOfOrder(leaf.key.clone()));
                }
                let previous = last.get_or_insert_with(Vec::new);
                previous.clear();
                previous.extend_from_slice(leaf.key.as_bytes());
                each(leaf);
                continue;
            }
            Step::Node(cid, depth) => (cid, depth),
        };
        if seen.contains(&cid) {
            problems.push(WalkProblem::BadNode(cid, "reached twice".into()));
            continue;
        }
        seen.insert(cid.clone());
        if depth > MAX_DEPTH {
            problems.push(WalkProblem::BadNode(
                cid,
                format!("deeper than {MAX_DEPTH} levels"),
            ));
            continue;
        }
        let found = match take(&cid) {
            None => {
                problems.push(WalkProblem::MissingNode(cid));
                continue;
            }
            Some(Err(why)) => {
                problems.push(WalkProblem::BadNode(cid, why.to_string()));
                continue;
            }
            Some(Ok(found)) => found,
        };
        let Node { left, entries } = *found;
        // Rebuild the keys, then push in reverse so that `l` comes off the stack first.
        let mut steps = Vec::with_capacity(entries.len() * 2 + 1);
        if let Some(l) = left {
            steps.push(Step::Node(l, depth + 1));
        }
        // The previous entry's key, rebuilt in place: each entry keeps `prefix` bytes of it.
        let mut previous: Vec<u8> = Vec::new();
        for entry in entries {
            match previous.get(..entry.prefix) {
                Some(_) => {
                    previous.truncate(entry.prefix);
                    previous.extend_from_slice(&entry.suffix);
                    match std::str::from_utf8(&previous) {
                        Ok(k) => steps.push(Step::Leaf(Leaf {
                            key: k.to_string(),
                            cid: entry.value,
                        })),
                        Err(_) => problems.push(WalkProblem::BadKey(
                            cid.clone(),
                            format!("key {} is not UTF-8", String::from_utf8_lossy(&previous)),
                        )),
                    }
                }
                None => problems.push(WalkProblem::BadKey(
                    cid.clone(),
                    format!(
                        "entry shares {} bytes with a previous key of {} bytes",
                        entry.prefix,
                        previous.len()
                    ),
                )),
            }
            if let Some(t) = entry.tree {
                steps.push(Step::Node(t, depth + 1));
            }
        }
        stack.extend(steps.into_iter().rev());
    }
    problems
}

/// A tree node, its links as [`Key`]s as decoded (or as the caller turned them into).
#[derive(Debug)]
pub(crate) struct Node<L = Key> {
    left: Option<L>,
    entries: Box<[NodeEntry<L>]>,
}

#[derive(Debug)]
struct NodeEntry<L> {
    prefix: usize,
    suffix: Box<[u8]>,
    value: L,
    tree: Option<L>,
}

impl<L> Node<L> {
    /// The subtrees the node links to: `l`, then each entry's `t`.
    pub fn subtrees(&self) -> impl Iterator<Item = &L> {
        self.left
            .iter()
            .chain(self.entries.iter().filter_map(|e| e.tree.as_ref()))
    }

    /// The same node with each link turned by `link` (told whether it names a record, the
    /// entry's `v`, or a subtree), in the node's order: `l`, then each entry's `v` and `t`.
    pub fn map_links<M>(self, mut link: impl FnMut(L, bool) -> M) -> Node<M> {
        let left = self.left.map(|l| link(l, false));
        let entries = self
            .entries
            .into_vec()
            .into_iter()
            .map(|e| NodeEntry {
                prefix: e.prefix,
                suffix: e.suffix,
                value: link(e.value, true),
                tree: e.tree.map(|t| link(t, false)),
            })
            .collect();
        Node { left, entries }
    }
}

/// [`node_of`] of raw block bytes.
#[cfg(test)]
fn decode_node(bytes: &[u8]) -> NodeView {
    let ipld: Ipld = serde_ipld_dagcbor::from_slice(bytes)
        .map_err(|e| Cow::Owned(format!("not DAG-CBOR: {e}")))?;
    node_of(&ipld)
}

/// A field of a tree entry as found: absent, of the type the tree needs, or something else.
#[derive(Debug)]
pub(crate) enum Field<T> {
    Absent,
    Is(T),
    Other,
}

/// A tree entry as found, before it is checked (`p`, `k`, `v`, `t`; `t` null is `Is(None)`).
#[derive(Debug)]
pub(crate) struct RawEntry {
    pub p: Field<i128>,
    pub k: Field<Box<[u8]>>,
    pub v: Field<Key>,
    pub t: Field<Option<Key>>,
}

/// A node's `e` as found: a list of entries (`None` for one that is not a map), or not a list.
#[derive(Debug)]
pub(crate) enum RawEntries {
    List(Vec<Option<RawEntry>>),
    NotList,
}

/// The tree node a decoded block holds, or why it is not one.
pub(crate) fn node_of(ipld: &Ipld) -> NodeView {
    let Ipld::Map(map) = ipld else {
        return Err("not a map".into());
    };
    let link = |v: Option<&Ipld>| match v {
        None => Field::Absent,
        Some(Ipld::Null) => Field::Is(None),
        Some(Ipld::Link(cid)) => Field::Is(Some(Key::of(cid))),
        Some(_) => Field::Other,
    };
    let entries = map.get("e").map(|e| match e {
        Ipld::List(items) => RawEntries::List(
            items
                .iter()
                .map(|item| {
                    let Ipld::Map(e) = item else { return None };
                    Some(RawEntry {
                        p: match e.get("p") {
                            None => Field::Absent,
                            Some(Ipld::Integer(p)) => Field::Is(*p),
                            Some(_) => Field::Other,
                        },
                        k: match e.get("k") {
                            None => Field::Absent,
                            Some(Ipld::Bytes(k)) => Field::Is(k.as_slice().into()),
                            Some(_) => Field::Other,
                        },
                        v: match link(e.get("v")) {
                            Field::Is(Some(key)) => Field::Is(key),
                            Field::Absent => Field::Absent,
                            _ => Field::Other,
                        },
                        t: link(e.get("t")),
                    })
                })
                .collect(),
        ),
        _ => RawEntries::NotList,
    });
    node_from(map.get("l"), entries)
}

/// The tree node of a map's `l` and `e` (as found), or why they do not make one: the checks
/// of the atproto node format, in the order they are made.
pub(crate) fn node_from(l: Option<&Ipld>, e: Option<RawEntries>) -> NodeView {
    let left = optional_link(l).ok_or("`l` is not a CID or null")?;
    let Some(RawEntries::List(items)) = e else {
        return Err("no entry list `e`".into());
    };
    let mut entries = Vec::with_capacity(items.len());
    for item in items {
        let Some(e) = item else {
            return Err("an entry is not a map".into());
        };
        let prefix = match e.p {
            Field::Is(p) => usize::try_from(p).map_err(|_| "bad `p`")?,
            _ => return Err("an entry has no prefix length `p`".into()),
        };
        let Field::Is(suffix) = e.k else {
            return Err("an entry has no key bytes `k`".into());
        };
        let Field::Is(value) = e.v else {
            return Err("an entry has no record CID `v`".into());
        };
        let tree = match e.t {
            Field::Absent => None,
            Field::Is(t) => t,
            Field::Other => return Err("`t` is not a CID or null".into()),
        };
        entries.push(NodeEntry {
            prefix,
            suffix,
            value,
            tree,
        });
    }
    Ok(Box::new(Node {
        left,
        entries: entries.into_boxed_slice(),
    }))
}

/// `Some(None)` for an absent or null link, `Some(Some(key))` for a CID, `None` for anything else.
fn optional_link(v: Option<&Ipld>) -> Option<Option<Key>> {
    match v {
        None | Some(Ipld::Null) => Some(None),
        Some(Ipld::Link(cid)) => Some(Some(Key::of(cid))),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(read_uvarint(&[0x00]), Some((0, 1)));
        assert_eq!(read_uvarint(&[0x7f, 0xff]), Some((127, 1)));
        assert_eq!(read_uvarint(&[0xac, 0x02]), Some((300, 2)));
        assert_eq!(read_uvarint(&[0x80]), None);
        assert_eq!(read_uvarint(&[]), None);
        assert_eq!(read_uvarint(&[0xff; 12]), None);
    }

    /// A stream that hands out one byte per read, the worst a reader may do.
    struct OneByte<'a>(&'a [u8]);

    impl Read for OneByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some((first, rest)) = self.0.split_first() else {
                return Ok(0);
            };
            match buf.first_mut() {
                Some(b) => *b = *first,
                None => return Ok(0),
            }
            self.0 = rest;
            Ok(1)
        }
    }

    /// Every section as (number, file offset, bytes), and how the framing ended.
    type Framed = (Vec<(u64, usize, Vec<u8>)>, Option<BadBlock>);

    fn sections_of(r: &mut impl Read, batch_bytes: usize) -> Framed {
        let header = read_header_from(r).expect("io").expect("header");
        let mut all = Vec::new();
        let bad = read_sections(r, header.len, batch_bytes, |batch| {
            for s in &batch.sections {
                all.push((s.index, s.offset, batch.section(s).to_vec()));
            }
        })
        .expect("io");
        (all, bad)
    }

    #[test]
    fn sections_read_alike_whatever_the_stream_hands_out() {
        let car = crate::sources::bluesky::testrepo::fixture().to_car();
        let mut long_varint = car.clone();
        long_varint.extend([0xff; 12]);
        let mut empty = car.clone();
        empty.extend([0x00, 0x01, 0x02]);
        for bytes in [
            car.clone(),
            car[..car.len() - 10].to_vec(),
            car[..car.len() - 1].to_vec(),
            long_varint,
            empty,
        ] {
            let whole = sections_of(&mut &bytes[..], 1 << 20);
            assert!(whole.0.len() > 10);
            assert_eq!(sections_of(&mut OneByte(&bytes), 1), whole);
            assert_eq!(sections_of(&mut OneByte(&bytes), 300), whole);
            // The sections tile the file after the header.
            let (first, last) = (&whole.0[0], whole.0.last().expect("a section"));
            assert!(first.1 < last.1 && last.1 + last.2.len() < bytes.len() + 1);
        }
        let cut = sections_of(&mut &car[..car.len() - 10], 1 << 20)
            .1
            .expect("cut");
        assert_eq!(cut.reason, "truncated block; the file ends inside it");
        let mut long_varint = car.clone();
        long_varint.extend([0xff; 12]);
        let bad = sections_of(&mut OneByte(&long_varint), 7).1.expect("bad");
        assert_eq!(bad.detail, "12 byte(s) left");
        assert_eq!(bad.offset, car.len());
        let mut empty = car.clone();
        empty.extend([0x00, 0x01, 0x02]);
        let bad = sections_of(&mut OneByte(&empty), 7).1.expect("bad");
        assert_eq!(
            (bad.reason, bad.detail.as_str()),
            (
                "empty block section; the rest of the file is not read",
                "2 byte(s) left"
            )
        );
    }

    #[test]
    fn headers() {
        assert_eq!(read_header(&[]), Err(HeaderError::Truncated));
        assert_eq!(read_header(&[0x20, 0xa2]), Err(HeaderError::Truncated));
        assert!(matches!(
            read_header(&[0x01, 0x01]),
            Err(HeaderError::Malformed(_))
        ));
        // {version: 2, roots: []}
        let body = serde_ipld_dagcbor::to_vec(&Ipld::Map(
            [
                ("version".to_string(), Ipld::Integer(2)),
                ("roots".to_string(), Ipld::List(vec![])),
            ]
            .into_iter()
            .collect(),
        ))
        .expect("encode");
        let mut buf = vec![body.len() as u8];
        buf.extend(body);
        assert_eq!(read_header(&buf), Err(HeaderError::Version(2)));
    }
}
