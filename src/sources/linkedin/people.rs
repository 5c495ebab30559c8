//! LinkedIn people: the owner (docs/counting.md, *Owner*), names resolved to profile URLs
//! (*Names*, *Older messages.csv*), and the assembly of messages and invitations into
//! activities with participants over whole conversations. Must not read files.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::rows::{
    Connection, InvitationRow, Message, Message2018Row, MessageRows, Parsed, is_system_sender,
};
use crate::model::{Activity, Confidence, Direction, Exclusion, Interner, Kind, Platform};
use crate::sources::common::{map_in_order, prepend};
use crate::sources::text::{name_key, normalize_linkedin_url};
use crate::sources::{ImportOptions, Owner, Sink};

/// People known by name (all names are name keys, `text::name_key`): the URLs each name uses
/// as a sender in the messages, the URLs Connections.csv gives it, and every name seen at all.
pub(super) struct NameBook {
    /// name → distinct URLs it was seen with as a sender.
    pub(super) senders: HashMap<String, HashSet<Arc<str>>>,
    /// "first last" → distinct URLs in Connections.csv.
    pub(super) connections: HashMap<String, HashSet<Arc<str>>>,
    /// Names known to stand for one person: senders (with or without URL) and connections.
    pub(super) known: HashSet<String>,
}

/// The single element of a set, `None` when it holds none or several.
pub(super) fn only<T: Clone>(set: Option<&HashSet<T>>) -> Option<T> {
    match set {
        Some(s) if s.len() == 1 => s.iter().next().cloned(),
        _ => None,
    }
}

/// What of the name book the rows will consult: names are resolved only for rows that lack a
/// URL, and the book is a table per person (tens of MB for a big export), so it is built no
/// further than needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Needed {
    /// Every row names its people by URL.
    Nothing,
    /// Only invitations lack the other side's URL: they are resolved through Connections.csv.
    Connections,
    /// Messages are known by names ([`needs_names`], the 2018 file): the whole book.
    Everything,
}

impl Needed {
    /// What the rows of an import need.
    fn of(
        messages: &MessageRows,
        messages_2018: &[Message2018Row],
        invitations: &[InvitationRow],
    ) -> Needed {
        if !messages_2018.is_empty() || messages.iter().any(|m| needs_names(&m)) {
            Needed::Everything
        } else if invitations.iter().any(|i| i.other_name.is_some()) {
            Needed::Connections
        } else {
            Needed::Nothing
        }
    }
}

impl NameBook {
    pub(super) fn new(
        messages: &MessageRows,
        messages_2018: &[Message2018Row],
        connections: &[Connection],
        needed: Needed,
    ) -> Self {
        let none = MessageRows::default();
        let (messages, messages_2018, connections) = match needed {
            Needed::Nothing => (&none, &[][..], &[][..]),
            Needed::Connections => (&none, &[][..], connections),
            Needed::Everything => (messages, messages_2018, connections),
        };
        // Distinct (name, URL) pairs first: a name repeats on every message it sent.
        let mut pairs: HashSet<(&str, &Arc<str>)> = HashSet::default();
        let mut known: HashSet<String> = HashSet::default();
        for m in messages.iter() {
            if m.from.is_empty() {
                continue;
            }
            if let Some(u) = m.sender_url {
                pairs.insert((m.from, u));
            }
            if !known.contains(&**m.from) {
                known.insert(m.from.to_string());
            }
        }
        for m in messages_2018 {
            if !m.from.is_empty() && !known.contains(&m.from) {
                known.insert(m.from.clone());
            }
        }
        let mut senders: HashMap<String, HashSet<Arc<str>>> = HashMap::default();
        for (name, u) in pairs {
            senders
                .entry(name.to_string())
                .or_default()
                .insert(u.clone());
        }
        let mut conns: HashMap<String, HashSet<Arc<str>>> = HashMap::default();
        for c in connections {
            if c.name.is_empty() {
                continue;
            }
            // Known names serve the splitting of message recipients only.
            if needed == Needed::Everything {
                known.insert(c.name.clone());
            }
            if let Some(u) = &c.url {
                conns
                    .entry(c.name.clone())
                    .or_default()
                    .insert(Arc::from(u.as_str()));
            }
        }
        NameBook {
            senders,
            connections: conns,
            known,
        }
    }

    /// The one URL a name stands for (docs/counting.md "Older messages.csv"): the URL it
    /// uses as a sender in the same conversation (`conversation`), else the one it uses as a
    /// sender in the file (`senders_too`), else the one Connections.csv gives it. A step that
    /// finds several URLs gives way to the next.
    pub(super) fn resolve(
        &self,
        key: &str,
        conversation: Option<&HashMap<&str, HashSet<Arc<str>>>>,
        senders_too: bool,
    ) -> Option<Arc<str>> {
        if key.is_empty() {
            return None;
        }
        conversation
            .and_then(|c| only(c.get(key)))
            .or_else(|| senders_too.then(|| only(self.senders.get(key))).flatten())
            .or_else(|| only(self.connections.get(key)))
    }

    /// Splits a `TO` cell on commas into name keys, keeping pieces that together form a known
    /// name as one person ("Kim Doe, MBA"); the longest known run from the left wins.
    pub(super) fn split_names(&self, to: &str) -> Vec<String> {
        let pieces: Vec<&str> = to
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < pieces.len() {
            let mut taken = 1;
            for j in (i + 1..pieces.len()).rev() {
                if self.known.contains(&name_key(&pieces[i..=j].join(", "))) {
                    taken = j - i + 1;
                    break;
                }
            }
            out.push(name_key(&pieces[i..i + taken].join(", ")));
            i += taken;
        }
        out
    }
}

/// Finds the owner's profile URL (docs/counting.md, *Owner*) and says how.
pub(super) fn find_owner(
    me: Option<&str>,
    invitations: &[InvitationRow],
    (messages, message_acts): (&MessageRows, &[Activity]),
    connections: &[Connection],
) -> (Option<String>, String) {
    if let Some(me) = me {
        let id = normalize_linkedin_url(me).unwrap_or_else(|| me.trim().to_lowercase());
        return (Some(id), "given with --me".into());
    }
    fn most_frequent<'a>(it: impl Iterator<Item = &'a Arc<str>>) -> Option<(String, usize)> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for u in it {
            *counts.entry(u).or_default() += 1;
        }
        // Highest count; ties go to the alphabetically first URL (BTreeMap order).
        let mut best: Option<(&str, usize)> = None;
        for (u, c) in counts {
            if best.is_none_or(|(_, bc)| c > bc) {
                best = Some((u, c));
            }
        }
        best.map(|(u, c)| (u.to_string(), c))
    }
    let own_urls = |outgoing: bool| {
        invitations
            .iter()
            .filter(move |i| i.outgoing == outgoing)
            .filter_map(|i| i.own_url.as_ref())
    };
    if let Some((u, c)) = most_frequent(own_urls(true)) {
        return (
            Some(u),
            format!("inviter of {c} outgoing invitation(s) in Invitations.csv"),
        );
    }
    if let Some((u, c)) = most_frequent(own_urls(false)) {
        return (
            Some(u),
            format!("invitee of {c} incoming invitation(s) in Invitations.csv"),
        );
    }
    let connection_urls: HashSet<&str> = connections
        .iter()
        .filter_map(|c| c.url.as_deref())
        .collect();
    let mut conversations: HashMap<&str, HashSet<&str>> = HashMap::default();
    for (m, a) in messages.iter().zip(message_acts) {
        let conversation = a.conversation.as_deref().unwrap_or_default();
        for u in m.sender_url.into_iter().chain(m.recipient_urls) {
            if !connection_urls.contains(&**u) {
                conversations.entry(u).or_default().insert(conversation);
            }
        }
    }
    let mut best: Option<(&str, usize)> = None;
    for (&u, convs) in &conversations {
        let n = convs.len();
        if best.is_none_or(|(bu, bn)| n > bn || (n == bn && u < bu)) {
            best = Some((u, n));
        }
    }
    match best {
        Some((u, n)) => (
            Some(u.to_string()),
            format!("profile URL present in the most message conversations ({n})"),
        ),
        None => (
            None,
            "not found: no invitations and no profile URLs in messages".into(),
        ),
    }
}

/// Turns rows that needed the owner into activities and pushes everything into the sink.
pub(super) fn assemble(
    all: Parsed,
    batches: Vec<Vec<Activity>>,
    options: &ImportOptions,
    sink: &mut dyn Sink,
) {
    let Parsed {
        activities: _,
        mut messages,
        message_acts,
        messages_2018,
        invitations,
        invitation_acts,
        connections,
        diag,
    } = all;
    sink.diag().merge(diag);
    messages.seal();
    let (owner, how) = find_owner(
        options.me_for(Platform::LinkedIn),
        &invitations,
        (&messages, &message_acts),
        &connections,
    );
    sink.owner(Owner {
        platform: Platform::LinkedIn,
        id: owner.clone(),
        how,
    });
    // The message activities' vector becomes the whole import's: their people are set first,
    // the rows are freed, and then the other files' activities and the invitations are moved
    // in front of the messages (appended within the vector's room, which parse_file reserved,
    // and rotated in place: `common::prepend`), so no second copy of every activity is made
    // and the moved files are never held beside the rows. Meanwhile the name book (a pass
    // over every message) is built on another core.
    let mut acts = message_acts;
    let mut invited = invitation_acts;
    let (book, mine) = std::thread::scope(|s| {
        let book = s.spawn(|| {
            let needed = Needed::of(&messages, &messages_2018, &invitations);
            NameBook::new(&messages, &messages_2018, &connections, needed)
        });
        // The conversations matter only with an owner: without one the messages are skipped.
        let mine = owner
            .as_deref()
            .map(|owner| (owner, Conversations::of(&messages, &acts)));
        let book = book
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (book, mine)
    });
    resolve_invitations(&invitations, &mut invited, &book);
    match mine {
        Some((owner, tables)) => {
            set_message_people(&messages, &mut acts, owner, &book, tables, options.threads);
        }
        None => {
            skip_messages(&acts, sink);
            acts.clear();
        }
    }
    // The rows are freed here, on the thread that reserved their room (`mod.rs`): freed on
    // another one, mimalloc only marks a vector over 16 MiB free (`MADV_FREE`) and its pages
    // stay resident through the counting (37 MB of a 1M export's summary peak).
    drop((messages, invitations, connections));
    crate::release_freed_memory();
    let mut front = batches;
    front.push(invited);
    let before: usize = front.iter().map(Vec::len).sum();
    acts.reserve(before + messages_2018.len());
    // Each file's activities are handed back once moved: the next file's would sit on them.
    prepend(&mut acts, front, crate::release_freed_memory);
    sink.extend(acts);
    push_messages_2018(&messages_2018, &book, sink);
}

/// Without the owner no message has a direction: each is skipped and counted, and the
/// warning says how to name the owner (docs/counting.md "Owner not found").
pub(super) fn skip_messages(messages: &[Activity], sink: &mut dyn Sink) {
    for m in messages {
        sink.diag().skip(
            &m.source,
            None,
            "owner not identified: message skipped (its direction is unknown)",
            "pass --me https://www.linkedin.com/in/<you>".into(),
        );
    }
}

/// Gives the invitations without the other side's URL (`acts`, one per row of `invitations`)
/// the URL their name stands for, at low confidence.
fn resolve_invitations(invitations: &[InvitationRow], acts: &mut [Activity], book: &NameBook) {
    for (inv, a) in invitations.iter().zip(acts) {
        if let Some(name) = &inv.other_name
            && let Some(u) = book.resolve(name, None, false)
        {
            a.counterparts = Box::new([u]);
            a.confidence = Confidence::Low;
        }
    }
}

/// A person in a conversation: a profile URL, a name where no URL exists, or a deleted account.
pub(super) fn person(url: Option<Arc<str>>, key: &str) -> Arc<str> {
    match url {
        Some(u) => u,
        None if !key.is_empty() => Arc::from(format!("name:{key}")),
        // A received row without sender name and URL: a deleted account, one more person.
        None => Arc::from("deleted:"),
    }
}

/// True for a person id that can be a counterpart: a profile URL other than the owner's.
pub(super) fn is_counterpart(p: &str, owner: &str) -> bool {
    p != owner && !p.starts_with("name:") && !p.starts_with("deleted:")
}

/// Per conversation: the URLs each name uses as a sender (for TO names).
type Senders<'a> = HashMap<&'a str, HashSet<Arc<str>>>;

/// True for a message row whose people are not all named by URL: its sender or its
/// recipients are known by name only and must be resolved (older files, deleted accounts).
fn needs_names(m: &Message<'_>) -> bool {
    m.sender_url.is_none() || m.recipient_urls.is_empty()
}

/// The messages' conversations, numbered in the order they first appear: each row's number,
/// and per conversation its senders by name and its senders' URLs. Needs no name book, so it
/// is made while the book is. The two tables are filled only for the conversations that
/// hold a row known by names ([`needs_names`]): no other row consults them, and a table per
/// conversation costs hundreds of bytes (50k conversations: ~30 MB).
struct Conversations<'a> {
    conv: Vec<usize>,
    by_conversation: Vec<Senders<'a>>,
    sender_urls: Vec<HashSet<Arc<str>>>,
}

impl<'a> Conversations<'a> {
    /// The tables of `messages`, whose activities `acts` hold their conversations.
    fn of(messages: &'a MessageRows, acts: &[Activity]) -> Conversations<'a> {
        // Every conversation is numbered once; the tables per conversation are vectors, so
        // a row's conversation id is hashed once rather than once per table.
        let mut numbers: HashMap<&str, usize> = HashMap::default();
        let conv: Vec<usize> = acts
            .iter()
            .take(messages.len())
            .map(|a| {
                let next = numbers.len();
                *numbers
                    .entry(a.conversation.as_deref().unwrap_or_default())
                    .or_insert(next)
            })
            .collect();
        let conversations = numbers.len();
        drop(numbers);
        let mut named = vec![false; conversations];
        for (m, &c) in messages.iter().zip(&conv) {
            named[c] |= needs_names(&m);
        }
        // Empty maps and sets hold no memory of their own.
        let mut by_conversation: Vec<Senders<'_>> = vec![HashMap::default(); conversations];
        let mut sender_urls: Vec<HashSet<Arc<str>>> = vec![HashSet::default(); conversations];
        for (m, &c) in messages.iter().zip(&conv) {
            if !named[c] {
                continue;
            }
            if let Some(u) = m.sender_url {
                if !sender_urls[c].contains(u) {
                    sender_urls[c].insert(u.clone());
                }
                if !m.from.is_empty() {
                    by_conversation[c]
                        .entry(m.from)
                        .or_default()
                        .insert(u.clone());
                }
            }
        }
        Conversations {
            conv,
            by_conversation,
            sender_urls,
        }
    }
}

/// Sets the direction, people and participants of the message activities (one per row of
/// `messages`, in the same order), each step on `threads` threads over runs of rows (the
/// participants over the conversations each thread owns).
fn set_message_people(
    messages: &MessageRows,
    acts: &mut [Activity],
    owner: &str,
    book: &NameBook,
    tables: Conversations<'_>,
    threads: usize,
) {
    let Conversations {
        conv,
        by_conversation,
        sender_urls,
    } = tables;
    let conversations = sender_urls.len();
    let threads = threads.clamp(1, 16).min(messages.len() / 4096 + 1);
    let runs_of = |rows: usize| -> Vec<std::ops::Range<usize>> {
        (0..threads)
            .map(|k| rows * k / threads..rows * (k + 1) / threads)
            .collect()
    };
    let runs = runs_of(messages.len());
    // Each row's sender and recipients as people; `low` when a name had to be resolved.
    // Recipients by URL are borrowed from the row: only a sent message copies them (into
    // its counterparts). A row is resolved twice, for the participants and for its own
    // settings, rather than kept resolved between the two (48 bytes a row, 17 MB for 350k
    // messages): by URL, resolving borrows.
    struct Resolved<'m> {
        sender: Cow<'m, Arc<str>>,
        recipients: Cow<'m, [Arc<str>]>,
        /// Other senders' URLs of the conversation (older files: they are the counterparts).
        by_names: bool,
        low: bool,
    }
    let resolve = |i: usize| {
        let m = messages.get(i);
        let conv = Some(&by_conversation[conv[i]]);
        let mut low = false;
        let sender = match m.sender_url {
            Some(u) => Cow::Borrowed(u),
            None => {
                let r = book.resolve(m.from, conv, true);
                low = r.is_some();
                Cow::Owned(person(r, m.from))
            }
        };
        let by_names = m.recipient_urls.is_empty();
        let recipients = if by_names {
            low = low || !m.to.is_empty();
            Cow::Owned(
                book.split_names(m.to)
                    .into_iter()
                    .map(|n| person(book.resolve(&n, conv, true), &n))
                    .filter(|p| !p.starts_with("deleted:"))
                    .collect(),
            )
        } else {
            Cow::Borrowed(m.recipient_urls)
        };
        Resolved {
            sender,
            recipients,
            by_names,
            low,
        }
    };
    // Participants = distinct people over the whole conversation, owner included, at least 2
    // (a conversation always has someone on the other side, if only a deleted account). Each
    // thread counts the conversations whose number it owns (`c % threads`).
    let owned: Vec<usize> = (0..threads).collect();
    let counted = map_in_order(&owned, threads, |&k| {
        // People by URL are borrowed from the rows, only people resolved by name copied.
        fn key<'m>(p: Cow<'m, Arc<str>>) -> Cow<'m, str> {
            match p {
                Cow::Borrowed(p) => Cow::Borrowed(&**p),
                Cow::Owned(p) => Cow::Owned(p.to_string()),
            }
        }
        let mut people: Vec<HashSet<Cow<'_, str>>> =
            vec![HashSet::default(); conversations.div_ceil(threads)];
        for (i, &c) in conv.iter().enumerate() {
            if c % threads == k {
                let r = resolve(i);
                let set = &mut people[c / threads];
                set.insert(key(r.sender));
                match r.recipients {
                    Cow::Borrowed(to) => set.extend(to.iter().map(|p| key(Cow::Borrowed(p)))),
                    Cow::Owned(to) => set.extend(to.into_iter().map(|p| key(Cow::Owned(p)))),
                }
            }
        }
        people
            .iter()
            .map(|set| (set.len() as u32 + u32::from(!set.contains(owner))).max(2))
            .collect::<Vec<u32>>()
    });
    let participants: Vec<u32> = (0..conversations)
        .map(|c| counted[c % threads][c / threads])
        .collect();
    drop(counted);
    // The rows' own settings, a run of rows (and of their activities) per thread.
    let set = |acts: &mut [Activity], first: usize| {
        for (k, a) in acts.iter_mut().enumerate() {
            let (i, c) = (first + k, conv[first + k]);
            let r = resolve(i);
            let out = messages.get(i).sender_url.map(|u| &**u) == Some(owner);
            a.direction = if out { Direction::Out } else { Direction::In };
            a.set_participants(participants.get(c).copied());
            let mut counterparts: Vec<Arc<str>> = if out {
                let mut v: Vec<Arc<str>> = r.recipients.into_owned();
                if r.by_names {
                    // Older files name recipients only: the other senders of the conversation
                    // are the people written to, too.
                    v.extend(sender_urls[c].iter().cloned());
                }
                v
            } else {
                vec![r.sender.into_owned()]
            };
            counterparts.retain(|p| is_counterpart(p, owner));
            counterparts.sort_unstable();
            counterparts.dedup();
            a.counterparts = counterparts.into();
            if r.low {
                a.confidence = Confidence::Low;
            }
        }
    };
    // One activity per row (were there ever fewer, the rows without one would be left alone:
    // `set` stops at the shorter of its run's rows and activities).
    let mut pieces = Vec::with_capacity(runs.len());
    let mut rest_acts = &mut acts[..];
    for run in &runs {
        let n = run.len().min(rest_acts.len());
        let (head, tail) = std::mem::take(&mut rest_acts).split_at_mut(n);
        rest_acts = tail;
        pieces.push((head, run.start));
    }
    std::thread::scope(|s| {
        let mut pieces = pieces.into_iter();
        let first = pieces.next();
        let set = &set;
        // Every run but the first on a thread of its own; the first on this one.
        let handles: Vec<_> = pieces
            .map(|(acts, start)| s.spawn(move || set(acts, start)))
            .collect();
        if let Some((acts, start)) = first {
            set(acts, start);
        }
        for h in handles {
            h.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
    });
}

pub(super) fn push_messages_2018(
    messages: &[Message2018Row],
    book: &NameBook,
    sink: &mut dyn Sink,
) {
    let mut conversations = Interner::default();
    for m in messages {
        let to = book.split_names(&m.to);
        // The conversation is the set of names in From + To.
        let mut names: Vec<&str> = std::iter::once(m.from.as_str())
            .chain(to.iter().map(String::as_str))
            .filter(|n| !n.is_empty())
            .collect();
        names.sort_unstable();
        names.dedup();
        let direction = if m.outgoing {
            Direction::Out
        } else {
            Direction::In
        };
        let mut a = Activity::new(
            Platform::LinkedIn,
            m.id.clone(),
            m.at,
            direction,
            Kind::Message,
            m.source.clone(),
        );
        a.conversation = Some(conversations.name(&names.join(" | ")));
        a.set_participants(Some((names.len() as u32).max(2)));
        a.confidence = Confidence::Low;
        let others: Vec<&str> = if m.outgoing {
            to.iter().map(String::as_str).collect()
        } else {
            vec![&m.from]
        };
        let mut counterparts: Vec<Arc<str>> = Vec::new();
        for n in others {
            // Counterparts only through Connections.csv (the file has no URLs at all).
            if let Some(u) = book.resolve(n, None, false)
                && !counterparts.contains(&u)
            {
                counterparts.push(u);
            }
        }
        a.counterparts = counterparts.into();
        a.hints.seq = m.seq;
        if is_system_sender(&m.from, None) && !m.outgoing {
            a.hints.excluded = Some(Exclusion::SystemSender);
        }
        sink.push(a);
    }
}
