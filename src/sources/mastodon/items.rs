//! The Mastodon outbox streamed into compact statuses: the raw item shapes (lenient, see
//! `sources::json`), the per-status facts (visibility, parent, mentions), and the state that
//! decides each status once what it depends on is known. Must not hold classification rules
//! (`rules.rs`) or read other files.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use super::owner::Me;
use super::rules::{StatusFacts, is_public, leading_tokens, status_activity, status_date};
use crate::error::SourceError;
use crate::model::{Activity, Interner, Platform, Source};
use crate::sources::archive::{Archive, Entry};
use serde::de::{self, MapAccess};

use crate::sources::json::{
    Head, OneOrMany, Ref, Shape, Spec, Uris, deserialize_shape, report_stream, stream_items,
};

/// An ActivityStreams collection file: its items are `orderedItems` (or `items`), or the file
/// is a bare array of them.
pub(super) const COLLECTION: Spec<'static> = Spec {
    items: &["orderedItems", "items"],
    keep: &[],
    js_prefix: false,
};
use crate::sources::{Owner, Sink};

/// Bytes of a status's HTML `content` kept for the addressed-mention test. A mention's markup is
/// under 300 bytes, so this always shows more than the 3 mentions the rule cares about.
pub(super) const CONTENT_HEAD: usize = 4096;

/// An activity's `object`: a URI, an inlined object, or absent.
#[derive(Debug, Default)]
pub(super) enum ObjectField {
    #[default]
    Absent,
    /// The boosted status's URI (not needed: a boost is amplification whatever it boosts).
    Uri,
    Inline(Box<RawObject>),
}

impl Shape for ObjectField {
    const EXPECTING: &'static str = "a URI or an object";
    fn from_str(v: &str) -> Self {
        if v.trim().is_empty() {
            ObjectField::Absent
        } else {
            ObjectField::Uri
        }
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        RawObject::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(|o| ObjectField::Inline(Box::new(o)))
    }
}

impl<'de> Deserialize<'de> for ObjectField {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_shape(d)
    }
}

/// One `orderedItems` element: only the fields rapport uses (the rest, `@context` included,
/// is skipped without being kept).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawItem {
    pub(super) id: Ref,
    #[serde(rename = "type")]
    pub(super) kind: Ref,
    pub(super) actor: Ref,
    pub(super) published: Ref,
    pub(super) to: Option<Uris>,
    pub(super) cc: Option<Uris>,
    pub(super) object: ObjectField,
}

/// A Note or Question (or, inlined in an Announce, the boosted status).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawObject {
    pub(super) id: Ref,
    #[serde(rename = "type")]
    pub(super) kind: Ref,
    #[serde(rename = "inReplyTo")]
    pub(super) in_reply_to: Ref,
    pub(super) published: Ref,
    pub(super) to: Option<Uris>,
    pub(super) cc: Option<Uris>,
    pub(super) tag: OneOrMany<RawTag>,
    pub(super) content: Head<CONTENT_HEAD>,
    pub(super) conversation: Ref,
    pub(super) context: Ref,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawTag {
    #[serde(rename = "type")]
    pub(super) kind: Ref,
    pub(super) href: Ref,
    pub(super) name: Ref,
}

/// One status or boost reduced to what classification needs.
#[derive(Debug, Clone)]
pub(super) struct Status {
    /// Position in the file (0-based).
    pub(super) seq: u64,
    /// The object id of a status, the activity id of a boost.
    pub(super) id: String,
    pub(super) boost: bool,
    pub(super) at: Option<i64>,
    /// `inReplyTo`.
    pub(super) parent: Option<String>,
    /// Whether `to` or `cc` was given at all (no addressing: visibility unknown, not private).
    pub(super) addressed: bool,
    /// `to ∪ cc`, in order, without repeats.
    pub(super) recipients: Vec<String>,
    /// `conversation`, else `context`.
    pub(super) conversation: Option<String>,
    /// `Mention` tags: (href, name).
    pub(super) mentions: Vec<(String, String)>,
    /// The leading run of `@user` / `@user@host` tokens of the text, without the `@`.
    pub(super) leading: Vec<String>,
}

impl Status {
    /// A private conversation (docs/counting.md, *Mastodon*): neither the Public collection nor the
    /// owner's followers are addressed — and somebody is: a direct status addressed to nobody
    /// is neither private nor a message, and falls through to the reply and post rules.
    pub(super) fn is_private(&self, me: Option<&Me>) -> bool {
        self.addressed
            && !self.boost
            && !self.recipients.iter().any(|r| {
                is_public(r)
                    || match me {
                        Some(m) => m.is_followers(r),
                        None => r.ends_with("/followers"),
                    }
            })
            && !self.addressees(me).is_empty()
    }

    /// The actors a status is addressed to: `to ∪ cc` without the owner and follower
    /// collections.
    pub(super) fn addressees(&self, me: Option<&Me>) -> Vec<&String> {
        let owner = me.map(|m| m.id.as_str());
        self.recipients
            .iter()
            .filter(|r| Some(r.as_str()) != owner && !r.ends_with("/followers"))
            .collect()
    }
}

/// A 128-bit FNV-1a hash: ids are kept as hashes (a collision among a million ids has a
/// probability around 10^-27).
pub(super) fn hash128(s: &str) -> u128 {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in s.bytes() {
        h ^= b as u128;
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    h
}

/// What reading the outbox shares across files and items.
pub(super) struct State {
    pub(super) me: Option<Me>,
    /// How `me` was found, when it was known before the outbox.
    pub(super) me_how: &'static str,
    /// Hashes of every id taken (statuses and boosts): de-duplication and "one of the outbox's
    /// own statuses".
    pub(super) ids: HashSet<u128>,
    /// Statuses decided after the whole outbox was read.
    pub(super) pending: Vec<(Status, Source)>,
    /// `actor` counts, only while the owner is unknown.
    pub(super) actors: HashMap<String, u64>,
    pub(super) people: Interner,
    pub(super) ignored_types: BTreeMap<String, u64>,
    pub(super) duplicates: u64,
    /// Sources read, for the notes.
    pub(super) sources: Vec<Source>,
}

impl State {
    pub(super) fn new(me: Option<Me>, me_how: &'static str) -> State {
        State {
            me,
            me_how,
            ids: HashSet::new(),
            pending: Vec::new(),
            actors: HashMap::new(),
            people: Interner::default(),
            ignored_types: BTreeMap::new(),
            duplicates: 0,
            sources: Vec::new(),
        }
    }

    /// Takes one outbox item (its fields are moved, not copied, into the compact [`Status`]).
    pub(super) fn take(&mut self, item: RawItem, seq: u64, source: &Source, sink: &mut dyn Sink) {
        let line = seq + 1;
        let RawItem {
            id: activity_id,
            kind,
            actor,
            published,
            to,
            cc,
            object,
        } = item;
        let boost = match kind.0.as_deref().unwrap_or("") {
            "Create" => false,
            "Announce" => true,
            other => {
                let name = if other.is_empty() { "(none)" } else { other };
                self.ignore(name);
                return;
            }
        };
        let obj = match object {
            ObjectField::Inline(o) => Some(*o),
            _ => None,
        };
        if !boost {
            match &obj {
                Some(o) => {
                    let t = o.kind.0.as_deref().unwrap_or("Note");
                    if t != "Note" && t != "Question" {
                        self.ignore(&format!("Create {t}"));
                        return;
                    }
                }
                None => {
                    self.ignore("Create without an inlined status");
                    return;
                }
            }
        }
        let id = if boost {
            activity_id.0
        } else {
            match obj.as_ref().and_then(|o| o.id.0.clone()) {
                Some(id) => Some(id),
                None => activity_id.0.map(|mut a| {
                    if a.ends_with("/activity") {
                        a.truncate(a.len() - "/activity".len());
                    }
                    a
                }),
            }
        };
        let Some(id) = id else {
            let reason = if boost {
                "boost without an id"
            } else {
                "status without an id"
            };
            sink.diag().skip(source, Some(line), reason, String::new());
            return;
        };
        if !self.ids.insert(hash128(&id)) {
            self.duplicates += 1;
            return;
        }
        if self.me.is_none()
            && let Some(actor) = actor.0
        {
            *self.actors.entry(actor).or_insert(0) += 1;
        }
        let object_published = obj.as_ref().and_then(|o| o.published.0.as_deref());
        let at = status_date(
            published.0.as_deref(),
            object_published,
            source,
            line,
            sink.diag(),
        );
        let mut status = Status {
            seq,
            id,
            boost,
            at,
            parent: None,
            addressed: false,
            recipients: Vec::new(),
            conversation: None,
            mentions: Vec::new(),
            leading: Vec::new(),
        };
        if let (false, Some(o)) = (boost, obj) {
            // The status's own addressing when it has any, else the activity's.
            let (to, cc) = if o.to.is_some() || o.cc.is_some() {
                (o.to, o.cc)
            } else {
                (to, cc)
            };
            status.addressed = to.is_some() || cc.is_some();
            for r in to.into_iter().chain(cc).flat_map(|u| u.0) {
                if !status.recipients.contains(&r) {
                    status.recipients.push(r);
                }
            }
            status.mentions = o
                .tag
                .0
                .into_iter()
                .filter(|t| t.kind.0.as_deref() == Some("Mention"))
                .filter_map(|t| Some((t.href.0?, t.name.0.unwrap_or_default())))
                .collect();
            if o.in_reply_to.0.is_none()
                && let Some(html) = &o.content.0
            {
                status.leading = leading_tokens(html);
            }
            status.parent = o.in_reply_to.0;
            status.conversation = o.conversation.0.or(o.context.0);
        }
        self.place(status, source, sink);
    }

    pub(super) fn ignore(&mut self, what: &str) {
        match self.ignored_types.get_mut(what) {
            Some(n) => *n += 1,
            None => {
                self.ignored_types.insert(what.to_string(), 1);
            }
        }
    }

    /// Pushes the status now, or keeps it until the outbox is read when something is unknown.
    pub(super) fn place(&mut self, s: Status, source: &Source, sink: &mut dyn Sink) {
        let Some(me) = self.me.as_ref() else {
            self.pending.push((s, source.clone()));
            return;
        };
        let mut parent_own = false;
        if let Some(p) = &s.parent {
            parent_own = me.owns(p) || self.ids.contains(&hash128(p));
            if !parent_own && p.starts_with(&me.origin) {
                // On the owner's server: may be an own status further down the file.
                self.pending.push((s, source.clone()));
                return;
            }
        }
        let conversation = if s.is_private(Some(me)) {
            match (&s.conversation, &s.parent) {
                (Some(c), _) => Some(c.clone()),
                (None, None) => Some(s.id.clone()),
                (None, Some(_)) => {
                    // The thread root is found among the other private messages.
                    self.pending.push((s, source.clone()));
                    return;
                }
            }
        } else {
            None
        };
        let a = activity(
            s,
            Some(me),
            &mut self.people,
            parent_own,
            conversation,
            source,
        );
        sink.push(a);
    }

    /// Decides what waited for the whole outbox, reports the owner and the notes.
    pub(super) fn finish(&mut self, sink: &mut dyn Sink) {
        let how = if self.me.is_some() {
            self.me_how.to_string()
        } else {
            let total: u64 = self.actors.values().sum();
            let best = self
                .actors
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(id, n)| (id.clone(), *n));
            match best {
                Some((id, n)) => {
                    self.me = Some(Me::new(&id, None));
                    format!(
                        "most frequent actor of the outbox ({n} of {total} item(s)); no usable actor.json"
                    )
                }
                None => "not found".to_string(),
            }
        };
        if self.me.is_none() {
            sink.diag().warn(
                "actor.json",
                None,
                "owner not identified: no reply counts as a self-thread",
                "no actor.json and no actor in the outbox".into(),
            );
        }
        sink.owner(Owner {
            platform: Platform::Mastodon,
            id: self.me.as_ref().map(|m| m.id.clone()),
            how,
        });
        let me = self.me.clone();
        let pending = std::mem::take(&mut self.pending);
        // Thread roots of private messages without a conversation id: follow the parents
        // through the other such messages.
        let parents: HashMap<&str, &str> = pending
            .iter()
            .filter(|(s, _)| s.conversation.is_none() && s.is_private(me.as_ref()))
            .filter_map(|(s, _)| Some((s.id.as_str(), s.parent.as_deref()?)))
            .collect();
        let roots: Vec<Option<String>> = pending
            .iter()
            .map(|(s, _)| {
                if !s.is_private(me.as_ref()) {
                    return None;
                }
                if let Some(c) = &s.conversation {
                    return Some(c.clone());
                }
                let mut root = s.id.as_str();
                let mut steps = 0usize;
                while let Some(p) = parents.get(root) {
                    root = p;
                    steps += 1;
                    if steps > parents.len() {
                        break; // a cycle in broken data
                    }
                }
                Some(root.to_string())
            })
            .collect();
        drop(parents);
        for ((s, source), conversation) in pending.into_iter().zip(roots) {
            let parent_own = match (&s.parent, &me) {
                (Some(p), Some(m)) => m.owns(p) || self.ids.contains(&hash128(p)),
                _ => false,
            };
            let a = activity(
                s,
                me.as_ref(),
                &mut self.people,
                parent_own,
                conversation,
                &source,
            );
            sink.push(a);
        }
        let sources = self
            .sources
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if !self.ignored_types.is_empty() {
            let list = self
                .ignored_types
                .iter()
                .map(|(t, n)| format!("{n} {t}"))
                .collect::<Vec<_>>()
                .join(", ");
            sink.diag().note(format!(
                "{sources}: activities that are not statuses or boosts were ignored: {list}"
            ));
        }
        if self.duplicates > 0 {
            sink.diag().note(format!(
                "{sources}: {} status(es) appear more than once and were counted once",
                self.duplicates
            ));
        }
    }
}

/// Builds the Activity of an archive status: the archive's facts handed to the shared rules.
pub(super) fn activity(
    s: Status,
    me: Option<&Me>,
    people: &mut Interner,
    parent_own: bool,
    conversation: Option<String>,
    source: &Source,
) -> Activity {
    let private_to = s
        .is_private(me)
        .then(|| s.addressees(me).into_iter().cloned().collect());
    let facts = StatusFacts {
        id: s.id,
        at: s.at,
        seq: s.seq,
        boost: s.boost,
        parent: s.parent,
        parent_own,
        parent_author: None,
        private_to,
        conversation,
        mentions: s.mentions,
        leading: s.leading,
    };
    status_activity(facts, me.map(|m| m.id.as_str()), people, source)
}

pub(super) fn read_outbox(
    archive: &Archive,
    entry: &Entry,
    state: &mut State,
    sink: &mut dyn Sink,
) -> Result<(), SourceError> {
    let source: Source = Source::from(entry.name.as_str());
    state.sources.push(source.clone());
    let streamed = archive.read(entry, |r| {
        stream_items::<RawItem, _, _>(
            r,
            COLLECTION,
            |seq, item| state.take(item, seq, &source, sink),
            |_, _| {},
        )
    })?;
    report_stream(sink.diag(), &source, streamed, Some("orderedItems array"));
    Ok(())
}
