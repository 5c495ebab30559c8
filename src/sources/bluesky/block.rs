//! One CAR block decoded once into what the importer reads of it: its record facts, its tree
//! node and, for the header's root, its commit. Owns the one-pass reading of a block's
//! DAG-CBOR (the few fields kept, borrowed; the rest only checked); must not know the CAR
//! framing, the tree walk or activities.
//!
//! A block is decoded before anyone knows what it is (a record, a tree node, the commit), so
//! every reading of it is prepared at once. Decoding into a generic `Ipld` value builds a map
//! of every field of every record; here only the fields a record or a node is read by are
//! kept, and every other value is checked as the `Ipld` decoding would check it (CIDs parsed),
//! so that a block is refused exactly when that decoding refuses it. A block this reading
//! refuses, and the root, are decoded the generic way, which gives the same message as before.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use ipld_core::cid::serde::BytesToCidVisitor;
use ipld_core::ipld::Ipld;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::car::{self, Field, Key, NodeView, RawEntries, RawEntry};
use super::{Commit, Facts, commit_of};

/// What one block says, decoded once as it is read. The block's bytes are not kept.
#[derive(Debug)]
pub(super) struct Block {
    pub record: RecordView,
    pub node: NodeView,
    pub commit: Option<Box<Result<Commit, String>>>,
}

/// A block read as a record.
#[derive(Debug, Clone)]
pub(super) enum RecordView {
    Facts(Facts),
    NotMap,
    Undecodable(Box<str>),
}

/// Decodes a block's bytes; `is_root` when its CID is the header's root (the commit).
pub(super) fn decode_block(data: &[u8], is_root: bool) -> Block {
    if !is_root && let Ok(top) = serde_ipld_dagcbor::from_slice::<Top<'_>>(data) {
        return match top.0 {
            Some(f) => Block {
                node: car::node_from(f.l.as_ref(), f.e),
                record: RecordView::Facts(Facts::from_parts(
                    f.created_at.as_deref(),
                    f.reply.as_ref(),
                    f.text.as_deref(),
                    f.facets.as_ref(),
                )),
                commit: None,
            },
            None => Block {
                node: Err("not a map".into()),
                record: RecordView::NotMap,
                commit: None,
            },
        };
    }
    match serde_ipld_dagcbor::from_slice::<Ipld>(data) {
        Ok(ipld) => Block {
            node: car::node_of(&ipld),
            commit: is_root.then(|| Box::new(commit_of(&ipld))),
            record: match ipld {
                Ipld::Map(_) => RecordView::Facts(Facts::of(&ipld)),
                _ => RecordView::NotMap,
            },
        },
        Err(e) => {
            let why = format!("not DAG-CBOR: {e}");
            Block {
                record: RecordView::Undecodable(e.to_string().into()),
                commit: is_root.then(|| Box::new(Err(why.clone()))),
                node: Err(why.into()),
            }
        }
    }
}

/// A value read where one kind of value is wanted (a map, a list, a string, a number, …):
/// that kind is read, and any other value is checked as decoding it into `Ipld` checks it (its
/// links parsed as CIDs) and gives [`Wanted::other`]. Every type below is read by the one
/// visitor [`Want`], overriding only the kind it reads.
trait Wanted<'de>: Sized {
    /// What a value of another kind gives.
    fn other() -> Self;

    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        while map
            .next_entry_seed(want::<Checked>(), want::<Checked>())?
            .is_some()
        {}
        Ok(Self::other())
    }

    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element_seed(want::<Checked>())?.is_some() {}
        Ok(Self::other())
    }

    fn text(_: Cow<'de, str>) -> Self {
        Self::other()
    }

    fn scalar(_: Scalar<'_>) -> Self {
        Self::other()
    }

    fn link(_: Key) -> Self {
        Self::other()
    }
}

/// A value that is neither a container, a string nor a link.
enum Scalar<'a> {
    Int(i128),
    Bytes(&'a [u8]),
    Null,
    /// A boolean or a float.
    Other,
}

/// The visitor (and seed) of every [`Wanted`] type.
struct Want<T>(PhantomData<T>);

fn want<T>() -> Want<T> {
    Want(PhantomData)
}

impl<'de, T: Wanted<'de>> DeserializeSeed<'de> for Want<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Wanted<'de>> Visitor<'de> for Want<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DAG-CBOR value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::seq(seq)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<T, E> {
        Ok(T::text(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::text(Cow::Owned(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<T, E> {
        Ok(T::text(Cow::Owned(v)))
    }

    /// Newtype structs are only used for CIDs (as in `Ipld`'s decoding).
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        let cid = d.deserialize_bytes(BytesToCidVisitor::<64>)?;
        Ok(T::link(Key::of(&cid)))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok(T::scalar(Scalar::Int(i128::from(v))))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<T, E> {
        Ok(T::scalar(Scalar::Int(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok(T::scalar(Scalar::Int(i128::from(v))))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<T, E> {
        Ok(T::scalar(Scalar::Bytes(v)))
    }

    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Ok(T::scalar(Scalar::Null))
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::scalar(Scalar::Null))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<T, E> {
        Ok(T::scalar(Scalar::Other))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<T, E> {
        Ok(T::scalar(Scalar::Other))
    }
}

/// A value not kept, only checked.
struct Checked;

impl Wanted<'_> for Checked {
    fn other() -> Self {
        Checked
    }
}

/// A value kept when it is a string (borrowed where the bytes allow), else `None`. Also a
/// map's key (always a string in DAG-CBOR).
struct Text<'a>(Option<Cow<'a, str>>);

impl<'de> Wanted<'de> for Text<'de> {
    fn other() -> Self {
        Text(None)
    }

    fn text(v: Cow<'de, str>) -> Self {
        Text(Some(v))
    }
}

/// A block's top value: the fields of a map that records and nodes are read by, or `None` for
/// anything else.
struct Top<'a>(Option<Fields<'a>>);

/// `createdAt` and `text` when they are strings; `reply`, `facets` (records) and `l`, `e`
/// (tree nodes) whatever they are.
#[derive(Default)]
struct Fields<'a> {
    created_at: Option<Cow<'a, str>>,
    text: Option<Cow<'a, str>>,
    reply: Option<Ipld>,
    facets: Option<Ipld>,
    l: Option<Ipld>,
    e: Option<RawEntries>,
}

impl<'de> Deserialize<'de> for Top<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        want().deserialize(d)
    }
}

impl<'de> Wanted<'de> for Top<'de> {
    fn other() -> Self {
        Top(None)
    }

    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut f = Fields::default();
        while let Some(Text(key)) = map.next_key_seed(want::<Text<'de>>())? {
            match key.as_deref() {
                Some("createdAt") => f.created_at = map.next_value_seed(want::<Text<'de>>())?.0,
                Some("text") => f.text = map.next_value_seed(want::<Text<'de>>())?.0,
                Some("reply") => f.reply = Some(map.next_value()?),
                Some("facets") => f.facets = Some(map.next_value()?),
                Some("l") => f.l = Some(map.next_value()?),
                Some("e") => f.e = Some(map.next_value_seed(want::<RawEntries>())?),
                _ => {
                    map.next_value_seed(want::<Checked>())?;
                }
            }
        }
        Ok(Top(Some(f)))
    }
}

/// A tree node's `e`: its entries as found, or `NotList` for any other value.
impl<'de> Wanted<'de> for RawEntries {
    fn other() -> Self {
        RawEntries::NotList
    }

    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(Item(item)) = seq.next_element_seed(want::<Item>())? {
            items.push(item);
        }
        Ok(RawEntries::List(items))
    }
}

/// One element of `e`: an entry's fields as found, or `None` when it is not a map.
struct Item(Option<RawEntry>);

impl<'de> Wanted<'de> for Item {
    fn other() -> Self {
        Item(None)
    }

    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut e = RawEntry {
            p: Field::Absent,
            k: Field::Absent,
            v: Field::Absent,
            t: Field::Absent,
        };
        while let Some(Text(key)) = map.next_key_seed(want::<Text<'de>>())? {
            let found = || want::<Found>();
            match key.as_deref() {
                Some("p") => e.p = map.next_value_seed(found())?.int(),
                Some("k") => e.k = map.next_value_seed(found())?.bytes(),
                Some("v") => e.v = map.next_value_seed(found())?.link(),
                Some("t") => e.t = map.next_value_seed(found())?.link_or_null(),
                _ => {
                    map.next_value_seed(want::<Checked>())?;
                }
            }
        }
        Ok(Item(Some(e)))
    }
}

/// An entry field's value, typed as far as the tree's checks need.
enum Found {
    Int(i128),
    Bytes(Box<[u8]>),
    Link(Key),
    Null,
    Other,
}

impl Wanted<'_> for Found {
    fn other() -> Self {
        Found::Other
    }

    fn scalar(v: Scalar<'_>) -> Self {
        match v {
            Scalar::Int(i) => Found::Int(i),
            Scalar::Bytes(b) => Found::Bytes(b.into()),
            Scalar::Null => Found::Null,
            Scalar::Other => Found::Other,
        }
    }

    fn link(key: Key) -> Self {
        Found::Link(key)
    }
}

impl Found {
    fn int(self) -> Field<i128> {
        match self {
            Found::Int(i) => Field::Is(i),
            _ => Field::Other,
        }
    }
    fn bytes(self) -> Field<Box<[u8]>> {
        match self {
            Found::Bytes(b) => Field::Is(b),
            _ => Field::Other,
        }
    }
    fn link(self) -> Field<Key> {
        match self {
            Found::Link(k) => Field::Is(k),
            _ => Field::Other,
        }
    }
    fn link_or_null(self) -> Field<Option<Key>> {
        match self {
            Found::Link(k) => Field::Is(Some(k)),
            Found::Null => Field::Is(None),
            _ => Field::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testrepo::{self, encode, map, s};
    use super::*;

    /// The one-pass reading against decoding the whole block into `Ipld` (the root's way).
    fn both(data: &[u8]) -> (String, String) {
        let fast = decode_block(data, false);
        let mut full = decode_block(data, true);
        full.commit = None;
        (format!("{fast:?}"), format!("{full:?}"))
    }

    #[test]
    fn one_pass_block_reading_equals_decoding_the_whole_block() {
        let t0 = "2024-03-01T12:00:00.000Z";
        let parent = "at://did:plc:other/app.bsky.feed.post/3k";
        let repo = testrepo::fixture();
        let link = Ipld::Link(repo.data);
        // A node of one entry with the given `p`, `k`, `v` and `t`.
        let entry = |p: Ipld, k: Ipld, v: Ipld, t: Ipld| {
            map([
                ("l", Ipld::Null),
                (
                    "e",
                    Ipld::List(vec![map([("p", p), ("k", k), ("v", v), ("t", t)])]),
                ),
            ])
        };
        let mut blocks: Vec<Vec<u8>> = repo.blocks.iter().map(|(_, b)| b.clone()).collect();
        for record in [
            testrepo::post("plain", t0),
            testrepo::reply("re", t0, parent, parent),
            testrepo::with_mentions(
                testrepo::post("@a @b hi", t0),
                "@a @b hi",
                &[("@a", "did:plc:a"), ("@b", "did:plc:b")],
            ),
            testrepo::subject_record("app.bsky.feed.like", parent, t0),
            testrepo::with(
                testrepo::post("odd date", t0),
                "createdAt",
                Ipld::Integer(7),
            ),
            testrepo::with(testrepo::post("null reply", t0), "reply", Ipld::Null),
            testrepo::with(testrepo::post("text", t0), "text", Ipld::List(vec![s("x")])),
            map([("l", Ipld::Null), ("e", Ipld::List(vec![Ipld::Integer(1)]))]),
            map([("l", s("not a link"))]),
            map([("e", map([("p", Ipld::Integer(0))]))]),
            entry(
                Ipld::Integer(-1),
                Ipld::Bytes(b"k".to_vec()),
                link.clone(),
                Ipld::Null,
            ),
            entry(s("0"), Ipld::Bytes(b"k".to_vec()), link.clone(), Ipld::Null),
            entry(Ipld::Integer(0), s("k"), link.clone(), Ipld::Null),
            entry(
                Ipld::Integer(0),
                Ipld::Bytes(b"k".to_vec()),
                Ipld::Null,
                Ipld::Null,
            ),
            entry(
                Ipld::Integer(0),
                Ipld::Bytes(b"k".to_vec()),
                link.clone(),
                s("t"),
            ),
            entry(
                Ipld::Integer(2),
                Ipld::Bytes(b"k".to_vec()),
                link.clone(),
                link.clone(),
            ),
            s("a string"),
            Ipld::List(vec![Ipld::Integer(-3), Ipld::Bytes(vec![1, 2])]),
            Ipld::Null,
        ] {
            blocks.push(encode(&record));
        }
        // A link in a field that is not kept, whose bytes are not a CID.
        let mut bad_link = vec![0xa2, 0x65];
        bad_link.extend(b"$type");
        bad_link.extend([0x61, b'x', 0x67]);
        bad_link.extend(b"subject");
        bad_link.extend([0xd8, 0x2a, 0x45, 0x00, 0x01, 0x02, 0x03, 0x04]);
        blocks.push(bad_link);
        // Keys out of order, a map cut short, a tag other than 42, trailing bytes.
        blocks.push(vec![0xa2, 0x61, b'b', 0x01, 0x61, b'a', 0x02]);
        blocks.push(vec![0xa1, 0x61]);
        blocks.push(vec![0xa1, 0x61, b'a', 0xd8, 0x2b, 0x41, 0x00]);
        blocks.push(vec![0xa0, 0x00]);
        let mut undecodable = 0;
        for data in &blocks {
            let (fast, full) = both(data);
            assert_eq!(fast, full, "block {data:02x?}");
            undecodable += usize::from(fast.contains("Undecodable"));
        }
        assert_eq!(
            undecodable, 5,
            "the broken blocks are refused by both readings"
        );
    }
}
