//! Direct messages of an X archive (one-to-one and group), kept as compact rows until the owner
//! is known, then turned into activities with participants over whole conversations. Must not
//! read tweets.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, MapAccess};

use super::tweets::IdSet;
use super::{report_stream, stream_array};
use crate::diag::Diagnostics;
use crate::error::SourceError;
use crate::model::{Activity, Direction, Interner, Kind, Name, Platform, Source};
use crate::sources::Sink;
use crate::sources::archive::{Archive, Entry};
use crate::sources::json::{Id, Lenient, List, Shape, Text, deserialize_shape};
use crate::sources::text::parse_datetime;

/// The people of a conversation but the owner, as an activity holds them.
type People = Box<[Arc<str>]>;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DmItem {
    #[serde(rename = "dmConversation")]
    pub(super) conversation: Lenient<DmConversation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct DmConversation {
    pub(super) conversation_id: Id,
    pub(super) messages: List<DmEntry>,
}

/// Any event of a conversation; only `messageCreate` is a message, the others name people.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct DmEvent {
    pub(super) id: Id,
    pub(super) sender_id: Id,
    pub(super) recipient_id: Id,
    pub(super) initiating_user_id: Id,
    pub(super) participants_snapshot: List<Id>,
    pub(super) user_ids: List<Id>,
    pub(super) created_at: Text,
}

impl DmEvent {
    pub(super) fn people(&self) -> impl Iterator<Item = &String> {
        [
            &self.sender_id,
            &self.recipient_id,
            &self.initiating_user_id,
        ]
        .into_iter()
        .filter_map(|i| i.0.as_ref())
        .chain(
            self.participants_snapshot
                .0
                .iter()
                .filter_map(|i| i.0.as_ref()),
        )
        .chain(self.user_ids.0.iter().filter_map(|i| i.0.as_ref()))
    }
}

/// One element of `messages`: `{ "<eventType>": {...} }`.
#[derive(Debug, Default)]
pub(super) struct DmEntry {
    pub(super) message: Option<DmEvent>,
    pub(super) others: Vec<DmEvent>,
}

impl Shape for DmEntry {
    const EXPECTING: &'static str = "a DM event";
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut entry = DmEntry::default();
        while let Some(key) = map.next_key::<String>()? {
            let Some(event) = map.next_value::<Lenient<DmEvent>>()?.0 else {
                continue;
            };
            if key == "messageCreate" && entry.message.is_none() {
                entry.message = Some(event);
            } else {
                entry.others.push(event);
            }
        }
        Ok(entry)
    }
}

impl<'de> Deserialize<'de> for DmEntry {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_shape(d)
    }
}

/// A message, kept until the owner is known.
/// One direct message, from an archive file or the API's DM events.
#[derive(Debug)]
pub(crate) struct DmRow {
    pub(crate) id: String,
    pub(crate) conversation: Option<Name>,
    pub(crate) sender: Option<String>,
    pub(crate) recipient: Option<String>,
    pub(crate) at: Option<i64>,
    pub(crate) seq: u64,
    pub(crate) source: Source,
}

/// Every message row, and the people seen per conversation (over all files or pages).
#[derive(Debug, Default)]
pub(crate) struct DmStore {
    pub(crate) rows: Vec<DmRow>,
    pub(crate) people: HashMap<Name, BTreeSet<String>>,
}

pub(super) fn read_dms(
    archive: &Archive,
    entry: &Entry,
    store: &mut DmStore,
    diag: &mut Diagnostics,
) -> Result<(), SourceError> {
    let source: Source = Source::from(entry.name.as_str());
    let mut seq = 0u64;
    let streamed = archive.read(entry, |r| {
        stream_array(r, |i, item: Lenient<DmItem>| {
            let Some(conv) = item.0.and_then(|d| d.conversation.0) else {
                diag.skip(
                    &source,
                    Some(i + 1),
                    "item is not a DM conversation",
                    String::new(),
                );
                return;
            };
            let key: Option<Name> = conv.conversation_id.0.as_deref().map(Name::from);
            let mut seen: BTreeSet<String> = BTreeSet::new();
            for event in conv.messages.0 {
                for other in &event.others {
                    seen.extend(other.people().cloned());
                }
                let Some(m) = event.message else { continue };
                seen.extend(m.people().cloned());
                let position = seq;
                seq += 1;
                let Some(id) = m.id.0 else {
                    diag.skip(&source, Some(i + 1), "message without an id", String::new());
                    continue;
                };
                let at = match m.created_at.0.as_deref().map(str::trim) {
                    None | Some("") => {
                        diag.warn(
                            &source,
                            Some(i + 1),
                            "missing date (counted as undated)",
                            id.clone(),
                        );
                        None
                    }
                    Some(raw) => {
                        let at = parse_datetime(raw);
                        if at.is_none() {
                            diag.warn(
                                &source,
                                Some(i + 1),
                                "unparseable date (counted as undated)",
                                format!("{raw:?}"),
                            );
                        }
                        at
                    }
                };
                store.rows.push(DmRow {
                    id,
                    conversation: key.clone(),
                    sender: m.sender_id.0,
                    recipient: m.recipient_id.0,
                    at,
                    seq: position,
                    source: source.clone(),
                });
            }
            if let Some(k) = key {
                store.people.entry(k).or_default().extend(seen);
            }
        })
    })?;
    report_stream(diag, &source, streamed);
    Ok(())
}

/// Turns DM rows into activities: direction from the owner, participants over the conversation
/// (docs/counting.md, *X / Twitter*). `label` names the input in the duplicates note.
pub(crate) fn push_dms(
    dms: DmStore,
    owner: Option<&str>,
    people: &mut Interner,
    label: &str,
    sink: &mut dyn Sink,
) {
    let DmStore { rows, people: seen } = dms;
    let Some(owner_id) = owner else {
        // No direction without the owner: skipped and counted (docs/counting.md).
        for row in &rows {
            sink.diag().skip(
                &row.source,
                None,
                "owner not identified: direct message skipped (its direction is unknown)",
                "pass --me <your numeric X user id>".into(),
            );
        }
        return;
    };
    let owner = Some(owner_id);
    // Per conversation: participants (owner included) and everyone but the owner.
    let mut conversations: HashMap<Name, (u32, People)> = HashMap::new();
    for (conv, ids) in &seen {
        let others: Box<[Arc<str>]> = ids
            .iter()
            .filter(|p| Some(p.as_str()) != owner)
            .map(|p| people.get(p))
            .collect();
        // At least 2: the other side may be a deleted account that left no id.
        let with_owner = (others.len() + 1).max(2);
        conversations.insert(conv.clone(), (with_owner as u32, others));
    }
    let mut ids = IdSet::default();
    let mut duplicates = 0u64;
    for row in rows {
        if !ids.insert(&row.id) {
            duplicates += 1;
            continue;
        }
        let out = owner.is_some() && row.sender.as_deref() == owner;
        let direction = if out { Direction::Out } else { Direction::In };
        let mut a = Activity::new(
            Platform::X,
            row.id,
            row.at,
            direction,
            Kind::Message,
            row.source,
        );
        a.hints.seq = row.seq;
        let (participants, others) =
            match row.conversation.as_ref().and_then(|c| conversations.get(c)) {
                Some((n, others)) => (*n, others.clone()),
                None => {
                    // No conversation id: the message's own sender and recipient.
                    let mut set: BTreeSet<&str> = [row.sender.as_deref(), row.recipient.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect();
                    if let Some(o) = owner {
                        set.insert(o);
                    }
                    let others = set
                        .iter()
                        .filter(|p| Some(**p) != owner)
                        .map(|p| people.get(p))
                        .collect();
                    ((set.len() as u32).max(2), others)
                }
            };
        a.set_participants(Some(participants));
        a.conversation = row.conversation;
        a.counterparts = if out {
            others
        } else {
            row.sender
                .as_deref()
                .map(|s| Box::new([people.get(s)]) as Box<[_]>)
                .unwrap_or_default()
        };
        sink.push(a);
    }
    if duplicates > 0 {
        sink.diag().note(format!(
            "{label}: {duplicates} direct message(s) appear more than once and were counted once"
        ));
    }
}
