//! CAR v1 framing and the repository's Merkle Search Tree, read from bytes already in memory.
//! Owns the byte layout (varints, CIDs, block sections) and the tree walk; knows nothing of
//! records, activities or diagnostics (it returns problems as values for the importer to report).
//!
//! CAR v1 (<https://ipld.io/specs/transport/car/carv1/>): `varint(len) header` then sections
//! `varint(len) CID bytes`. The header is DAG-CBOR `{version: 1, roots: [CID]}`. CIDs are parsed
//! by the `cid` crate, DAG-CBOR by `serde_ipld_dagcbor`; the framing is a few lines and is written
//! here so that reading stays synchronous and streaming-free (the maintained CAR crates are async).
//!
//! MST node (atproto repository spec): `{l: CID|null, e: [{p, k, v, t: CID|null}]}`. Keys are
//! compressed against the previous entry *of the same node* (`p` bytes shared, `k` the rest);
//! `l` holds keys before the first entry, each `t` the keys between its entry and the next.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::fmt;

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

/// A CAR read into memory: every usable block by CID, borrowing the file's bytes.
#[derive(Debug)]
pub(crate) struct Car<'a> {
    /// The header's roots.
    pub roots: Vec<Cid>,
    /// Blocks by CID (the first of duplicates wins).
    pub blocks: HashMap<Cid, &'a [u8]>,
    /// Sections skipped, in file order. When the framing itself breaks (bad length, file cut
    /// short), reading stops there and the last entry says so.
    pub bad: Vec<BadBlock>,
}

/// Splits a CAR v1 file into blocks. Only a bad header is an error: damaged sections are skipped
/// (their CID or hash is wrong) or end the reading (their length is), and listed in `bad`.
/// SHA2-256 CIDs are checked against their bytes, so a block that was altered is not used.
pub(crate) fn read_car(buf: &[u8]) -> Result<Car<'_>, HeaderError> {
    let header = read_header(buf)?;
    // Room for the blocks at once (a repository's blocks are ~300 bytes on average), so the
    // map is not rehashed again and again as it grows.
    let mut blocks = HashMap::default();
    blocks.reserve(buf.len() / 512);
    let mut car = Car {
        roots: header.roots,
        blocks,
        bad: Vec::new(),
    };
    let mut offset = header.len;
    let mut index = 0u64;
    while offset < buf.len() {
        index += 1;
        let rest = &buf[offset..];
        let Some((len, used)) = read_uvarint(rest) else {
            car.bad.push(BadBlock {
                index,
                offset,
                reason: "damaged block length; the rest of the file is not read",
                detail: format!("{} byte(s) left", rest.len()),
            });
            break;
        };
        let available = rest.len() - used;
        let section = match usize::try_from(len) {
            Ok(0) => {
                car.bad.push(BadBlock {
                    index,
                    offset,
                    reason: "empty block section; the rest of the file is not read",
                    detail: format!("{available} byte(s) left"),
                });
                break;
            }
            Ok(l) if l <= available => &rest[used..used + l],
            _ => {
                car.bad.push(BadBlock {
                    index,
                    offset,
                    reason: "truncated block; the file ends inside it",
                    detail: format!("declares {len} bytes, {available} left"),
                });
                break;
            }
        };
        offset += used + section.len();
        let mut cursor = section;
        let cid = match Cid::read_bytes(&mut cursor) {
            Ok(cid) => cid,
            Err(e) => {
                car.bad.push(BadBlock {
                    index,
                    offset: offset - used - section.len(),
                    reason: "unreadable block CID",
                    detail: e.to_string(),
                });
                continue;
            }
        };
        let data = cursor;
        let hash = cid.hash();
        if hash.code() == SHA2_256 && Sha256::digest(data).as_slice() != hash.digest() {
            car.bad.push(BadBlock {
                index,
                offset: offset - used - section.len(),
                reason: "block content does not match its CID",
                detail: cid.to_string(),
            });
            continue;
        }
        car.blocks.entry(cid).or_insert(data);
    }
    Ok(car)
}

/// One record of the repository: its key (`<collection>/<rkey>`) and the CID of its block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Leaf {
    /// `<collection>/<rkey>`.
    pub key: String,
    /// The record block.
    pub cid: Cid,
}

/// A problem met while walking the tree. Records under a missing or bad node are not listed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WalkProblem {
    /// A node block is not in the file.
    MissingNode(Cid),
    /// A node block is not a valid MST node.
    BadNode(Cid, String),
    /// An entry's key cannot be rebuilt or is not UTF-8.
    BadKey(Cid, String),
    /// Keys are not in increasing order (a malformed tree; records are still read).
    OutOfOrder(String),
}

impl fmt::Display for WalkProblem {
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

enum Step {
    Node(Cid, usize),
    Leaf(Leaf),
}

/// Walks the MST from `root` depth-first, left to right: every record in key order. Each node is
/// visited once (a CID seen twice is a damaged tree, not a loop to follow).
#[cfg(test)]
pub(crate) fn walk_mst(blocks: &HashMap<Cid, &[u8]>, root: Cid) -> (Vec<Leaf>, Vec<WalkProblem>) {
    let mut leaves = Vec::new();
    let problems = walk_mst_each(blocks, root, |leaf| leaves.push(leaf));
    (leaves, problems)
}

/// [`walk_mst`], handing each record to `each` as it is reached, so that a million leaves
/// are never held at once.
pub(crate) fn walk_mst_each(
    blocks: &HashMap<Cid, &[u8]>,
    root: Cid,
    mut each: impl FnMut(Leaf),
) -> Vec<WalkProblem> {
    let mut last: Option<String> = None;
    let mut problems = Vec::new();
    let mut seen: HashSet<Cid> = HashSet::default();
    let mut stack = vec![Step::Node(root, 0)];
    while let Some(step) = stack.pop() {
        let (cid, depth) = match step {
            Step::Leaf(leaf) => {
                if last.as_ref().is_some_and(|l| *l >= leaf.key) {
                    problems.push(WalkProblem::OutOfOrder(leaf.key.clone()));
                }
                last = Some(leaf.key.clone());
                each(leaf);
                continue;
            }
            Step::Node(cid, depth) => (cid, depth),
        };
        if !seen.insert(cid) {
            problems.push(WalkProblem::BadNode(cid, "reached twice".into()));
            continue;
        }
        if depth > MAX_DEPTH {
            problems.push(WalkProblem::BadNode(
                cid,
                format!("deeper than {MAX_DEPTH} levels"),
            ));
            continue;
        }
        let Some(bytes) = blocks.get(&cid) else {
            problems.push(WalkProblem::MissingNode(cid));
            continue;
        };
        let node = match decode_node(bytes) {
            Ok(node) => node,
            Err(why) => {
                problems.push(WalkProblem::BadNode(cid, why));
                continue;
            }
        };
        // Rebuild the keys, then push in reverse so that `l` comes off the stack first.
        let mut steps = Vec::with_capacity(node.entries.len() * 2 + 1);
        if let Some(l) = node.left {
            steps.push(Step::Node(l, depth + 1));
        }
        let mut previous: Vec<u8> = Vec::new();
        for entry in node.entries {
            match previous.get(..entry.prefix) {
                Some(shared) => {
                    let mut key = shared.to_vec();
                    key.extend_from_slice(&entry.suffix);
                    match String::from_utf8(key.clone()) {
                        Ok(k) => steps.push(Step::Leaf(Leaf {
                            key: k,
                            cid: entry.value,
                        })),
                        Err(_) => problems.push(WalkProblem::BadKey(
                            cid,
                            format!("key {} is not UTF-8", String::from_utf8_lossy(&key)),
                        )),
                    }
                    previous = key;
                }
                None => problems.push(WalkProblem::BadKey(
                    cid,
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

struct Node {
    left: Option<Cid>,
    entries: Vec<NodeEntry>,
}

struct NodeEntry {
    prefix: usize,
    suffix: Vec<u8>,
    value: Cid,
    tree: Option<Cid>,
}

fn decode_node(bytes: &[u8]) -> Result<Node, String> {
    let ipld: Ipld =
        serde_ipld_dagcbor::from_slice(bytes).map_err(|e| format!("not DAG-CBOR: {e}"))?;
    let Ipld::Map(map) = ipld else {
        return Err("not a map".into());
    };
    let left = optional_link(map.get("l")).ok_or("`l` is not a CID or null")?;
    let Some(Ipld::List(items)) = map.get("e") else {
        return Err("no entry list `e`".into());
    };
    let mut entries = Vec::with_capacity(items.len());
    for item in items {
        let Ipld::Map(e) = item else {
            return Err("an entry is not a map".into());
        };
        let prefix = match e.get("p") {
            Some(Ipld::Integer(p)) => usize::try_from(*p).map_err(|_| "bad `p`")?,
            _ => return Err("an entry has no prefix length `p`".into()),
        };
        let Some(Ipld::Bytes(suffix)) = e.get("k") else {
            return Err("an entry has no key bytes `k`".into());
        };
        let Some(Ipld::Link(value)) = e.get("v") else {
            return Err("an entry has no record CID `v`".into());
        };
        let tree = optional_link(e.get("t")).ok_or("`t` is not a CID or null")?;
        entries.push(NodeEntry {
            prefix,
            suffix: suffix.clone(),
            value: *value,
            tree,
        });
    }
    Ok(Node { left, entries })
}

/// `Some(None)` for an absent or null link, `Some(Some(cid))` for a CID, `None` for anything else.
fn optional_link(v: Option<&Ipld>) -> Option<Option<Cid>> {
    match v {
        None | Some(Ipld::Null) => Some(None),
        Some(Ipld::Link(cid)) => Some(Some(*cid)),
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
