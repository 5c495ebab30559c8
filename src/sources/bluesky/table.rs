//! The table of a repository's blocks while it is read and walked: each CID's slot, what its
//! block says as a record and as a tree node (links as slots), how many tree entries name it,
//! and the few CIDs a problem may name. Owns how that memory is held and handed over to the
//! walk; must not know the CAR framing, the decoding of a block or activities.

use std::borrow::Cow;

use super::block::{Block, RecordView};
use super::{Commit, car};

/// A CID's number in [`Blocks`], given to it where it is first met: as a block, or as a link
/// of a tree node filed before it.
pub(super) type Slot = u32;

/// The blocks of one file by CID (the first of duplicates wins), and the sections skipped.
/// Every CID met has a slot: its key in `keys`, its block (when the file holds it) in
/// `blocks`, and in `refs` how many filed tree entries name it as their record. Tree nodes
/// link by slot, 4 bytes where a key takes 40, and the index holds slots (4 bytes a CID where
/// a map of keys holds 48), the keys staying in their list. Before the walk the index and
/// the keys go, but for the few a problem may name ([`Names`]); the walk takes each node and
/// each record out as it reaches it (`read_tree`), so that what it has read is freed for
/// the activities it makes.
pub(super) struct Blocks {
    pub(super) keys: Chunked<car::Key>,
    pub(super) blocks: Chunked<Option<Filed>>,
    pub(super) refs: Vec<u32>,
    pub(super) index: hashbrown::HashTable<Slot>,
    /// The commit, read from the first block of the header's root CID.
    pub(super) commit: Option<Box<Result<Commit, String>>>,
    pub(super) bad: Vec<car::BadBlock>,
}

/// A filed block: what it says as a record, and as a tree node (its links slots) or why it is
/// not one, 40 bytes. The reason is one of the tree's fixed ones, or [`NOT_DAG_CBOR`] for a
/// block that does not decode, whose record holds the decoder's words ([`Filed::take_node`]).
pub(super) struct Filed {
    pub(super) record: RecordView,
    pub(super) node: Result<Box<car::Node<Slot>>, &'static str>,
}

/// The reason a block that does not decode is not a tree node, before the decoder's words.
const NOT_DAG_CBOR: &str = "not DAG-CBOR";

impl Filed {
    /// Hands over the node view, as the decoding gave it; the block is no node afterwards.
    pub(super) fn take_node(&mut self) -> car::NodeView<Slot> {
        match std::mem::replace(&mut self.node, Err("taken")) {
            Ok(node) => Ok(node),
            Err(NOT_DAG_CBOR) => Err(match &self.record {
                RecordView::Undecodable(e) => Cow::Owned(format!("{NOT_DAG_CBOR}: {e}")),
                _ => Cow::Borrowed(NOT_DAG_CBOR),
            }),
            Err(why) => Err(Cow::Borrowed(why)),
        }
    }
}

impl Blocks {
    pub(super) fn with_capacity(room: usize) -> Blocks {
        Blocks {
            keys: Chunked::default(),
            blocks: Chunked::default(),
            refs: Vec::with_capacity(room),
            index: hashbrown::HashTable::with_capacity(room),
            commit: None,
            bad: Vec::new(),
        }
    }

    /// The slot of a CID, if it was met.
    pub(super) fn find(&self, key: &car::Key) -> Option<Slot> {
        self.index
            .find(key.hash64(), |s| self.keys[*s as usize] == *key)
            .copied()
    }

    /// The slot of a CID, a new one (with no block yet) when it was not met before.
    fn slot(&mut self, key: car::Key) -> Slot {
        let Blocks {
            keys,
            blocks,
            refs,
            index,
            ..
        } = self;
        let hash = key.hash64();
        match index.entry(
            hash,
            |s| keys[*s as usize] == key,
            |s| keys[*s as usize].hash64(),
        ) {
            hashbrown::hash_table::Entry::Occupied(found) => *found.get(),
            hashbrown::hash_table::Entry::Vacant(slot) => {
                let s = keys.len() as Slot;
                keys.push(key);
                blocks.push(None);
                refs.push(0);
                slot.insert(s);
                s
            }
        }
    }

    /// Files a block unless one of its CID is already filed, its tree links turned into slots.
    pub(super) fn insert(&mut self, key: car::Key, block: Block) {
        let slot = self.slot(key) as usize;
        if self.blocks[slot].is_some() {
            return;
        }
        let node = match block.node {
            Ok(node) => Ok(Box::new(node.map_links(|link, record| {
                let s = self.slot(link);
                if record {
                    self.refs[s as usize] = self.refs[s as usize].saturating_add(1);
                }
                s
            }))),
            Err(Cow::Borrowed(why)) => Err(why),
            // The one reason made at run time: the block does not decode (its record says why).
            Err(Cow::Owned(_)) => Err(NOT_DAG_CBOR),
        };
        if block.commit.is_some() {
            self.commit = block.commit;
        }
        self.blocks[slot] = Some(Filed {
            record: block.record,
            node,
        });
    }
}

/// The CIDs, by slot, that a problem met by the walk may name: the blocks the file lacks, the
/// records that do not decode, and every block the walk may reach as a tree node (the tree's
/// root and the subtrees nodes link to). In a sound repository that is its tree nodes, a
/// fifth of its blocks; the other CIDs are dropped before the walk, and their memory goes to
/// the activities.
pub(super) struct Names(Vec<(Slot, car::Key)>);

impl Names {
    /// Takes the names wanted out of the table's keys; the rest are dropped.
    pub(super) fn of(car: &mut Blocks, root: Slot) -> Names {
        let mut wanted = vec![false; car.keys.len()];
        wanted[root as usize] = true;
        for (slot, block) in car.blocks.iter().enumerate() {
            let Some(block) = block else {
                wanted[slot] = true;
                continue;
            };
            if matches!(block.record, RecordView::Undecodable(_)) {
                wanted[slot] = true;
            }
            if let Ok(node) = &block.node {
                for tree in node.subtrees() {
                    wanted[*tree as usize] = true;
                }
            }
        }
        let keys = std::mem::take(&mut car.keys);
        Names(
            keys.into_items()
                .zip(wanted)
                .enumerate()
                .filter(|(_, (_, wanted))| *wanted)
                .map(|(slot, (key, _))| (slot as Slot, key))
                .collect(),
        )
    }

    /// The CID of a slot, as text.
    pub(super) fn cid(&self, slot: Slot) -> String {
        match self.0.binary_search_by_key(&slot, |(s, _)| *s) {
            Ok(i) => self.0[i].1.to_string(),
            Err(_) => format!("(block {slot})"),
        }
    }
}

/// Items kept in pieces of [`Chunked::PIECE`], a few MiB each: mimalloc holds such pieces in
/// its ordinary pages, returned or reused within 10 ms of being freed, where one allocation of
/// tens of megabytes (over 16 MiB) is mapped from its arena and stays resident for 100 ms
/// after it is freed, while the summary allocates beside it (measured: BENCHMARKS.md).
pub(super) struct Chunked<T> {
    pub(super) pieces: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            pieces: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    /// Items per piece (a piece of 40-byte items takes 2.5 MiB).
    pub(super) const PIECE: usize = 1 << 16;

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn push(&mut self, item: T) {
        if self.len.is_multiple_of(Self::PIECE) {
            self.pieces.push(Vec::with_capacity(Self::PIECE));
        }
        if let Some(piece) = self.pieces.last_mut() {
            piece.push(item);
            self.len += 1;
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.pieces.iter().flatten()
    }

    pub(super) fn into_items(self) -> impl Iterator<Item = T> {
        self.pieces.into_iter().flatten()
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.pieces[i / Self::PIECE][i % Self::PIECE]
    }
}

impl<T> std::ops::IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.pieces[i / Self::PIECE][i % Self::PIECE]
    }
}

/// The record of a leaf's block (`None` when the file does not hold it): handed over when no
/// other filed tree entry names it, copied while one still may (and when it does not decode:
/// its node view is made of the decoder's words).
pub(super) fn record_of(
    blocks: &mut Chunked<Option<Filed>>,
    refs: &mut [u32],
    slot: Slot,
) -> Option<RecordView> {
    let block = blocks[slot as usize].as_mut()?;
    let refs = &mut refs[slot as usize];
    if *refs > 1 || matches!(block.record, RecordView::Undecodable(_)) {
        *refs = refs.saturating_sub(1);
        return Some(block.record.clone());
    }
    *refs = 0;
    Some(std::mem::replace(&mut block.record, RecordView::NotMap))
}
