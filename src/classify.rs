//! The mode rules of docs/counting.md (*Modes*, per-platform sections) applied to normalized activities, plus the per-message
//! response gaps the latency metric needs. Pure functions over `Activity`; no I/O, no Polars.

use rustc_hash::FxHashMap;
use std::sync::Arc;

use crate::model::{Activity, Confidence, Direction, Exclusion, Kind, Mode, Name, Platform};

/// Sets `mode` (and, for continued turns, counterparts) on every activity, in the rule order
/// of docs/counting.md (*Modes*). `in` activities get `None` unless excluded.
pub fn classify(activities: &mut [Activity], group_max: u32) {
    // Owner acts by (platform, id) for the self-thread chains.
    // Only needed when some act replies to the owner (never for LinkedIn).
    let chains = activities.iter().any(|a| a.hints.parent_is_owner);
    let index: FxHashMap<(Platform, &str), usize> = if chains {
        // Only the parents that self-replies name are looked up: the index holds those alone.
        let wanted: rustc_hash::FxHashSet<(Platform, &str)> = activities
            .iter()
            .filter(|a| a.hints.parent_is_owner)
            .filter_map(|a| Some((a.platform, a.hints.parent()?)))
            .collect();
        activities
            .iter()
            .enumerate()
            .filter(|(_, a)| a.direction == Direction::Out)
            .map(|(i, a)| ((a.platform, &*a.id), i))
            .filter(|(key, _)| wanted.contains(key))
            .collect()
    } else {
        FxHashMap::default()
    };
    let mut chain_ends = Chains {
        all: activities,
        index: &index,
        memo: FxHashMap::default(),
    };
    // The decisions are kept apart until all are made (the rules read the activities): a byte
    // per activity for the mode, and the few continued turns' counterparts by position, where
    // a (mode, counterpart) pair per activity took 24 bytes.
    let mut modes: Vec<Option<Mode>> = Vec::with_capacity(activities.len());
    let mut turns: Vec<(usize, Arc<str>)> = Vec::new();
    for i in 0..activities.len() {
        let (mode, counterpart) = decide(i, &mut chain_ends, group_max);
        modes.push(mode);
        if let Some(c) = counterpart {
            turns.push((i, c));
        }
    }
    drop(chain_ends);
    for (a, mode) in activities.iter_mut().zip(modes) {
        a.mode = mode;
    }
    for (i, c) in turns {
        activities[i].counterparts = Box::new([c]);
    }
}

fn decide(i: usize, chains: &mut Chains<'_>, group_max: u32) -> (Option<Mode>, Option<Arc<str>>) {
    let a = &chains.all[i];
    // 1. excluded (both directions)
    if a.hints.excluded.is_some() {
        return (Some(Mode::Excluded), None);
    }
    if a.direction == Direction::In {
        return (None, None);
    }
    // 2. passive
    match a.kind {
        Kind::Reaction | Kind::Vote => return (Some(Mode::Passive), None),
        Kind::Invitation if !a.hints.with_note => return (Some(Mode::Passive), None),
        _ => {}
    }
    // 3. amplification
    if a.kind == Kind::Repost {
        return (Some(Mode::Amplification), None);
    }
    // 4. private conversation; a conversation with only the owner falls through.
    if a.kind == Kind::Message {
        match a.participants() {
            None | Some(2) => return (Some(Mode::Conversation), None),
            Some(p) if p >= 3 && p <= group_max => return (Some(Mode::Conversation), None),
            Some(p) if p > group_max => return (Some(Mode::Broadcast), None),
            _ => {}
        }
    }
    // 5. self-thread: follow the owner's own parents.
    if a.hints.parent_is_owner {
        let (mode, who) = chains.end_of(i);
        return (Some(mode), who);
    }
    // 6. public conversation (also a direct reply addressed to nobody, which fell through 4)
    let is_reply = a.hints.parent().is_some() || a.hints.parent_author().is_some();
    if a.kind == Kind::Reply
        || a.kind == Kind::Comment
        || a.kind == Kind::Invitation
        || a.hints.addressed
        || (a.kind == Kind::Message && is_reply)
    {
        return (Some(Mode::Conversation), None);
    }
    if matches!(a.hints.leading_mentions, Some(1..=3)) {
        return (Some(Mode::Conversation), None);
    }
    // 7. broadcast
    (Some(Mode::Broadcast), None)
}

/// Where self-reply chains end. Every reply on one chain ends where the chain ends, so each
/// chain is walked once and its end remembered for every reply on it (linear, not quadratic,
/// in the length of long self-threads).
struct Chains<'a> {
    all: &'a [Activity],
    index: &'a FxHashMap<(Platform, &'a str), usize>,
    memo: FxHashMap<usize, (Mode, Option<Arc<str>>)>,
}

impl Chains<'_> {
    /// The mode of the self-reply at `start` (docs/counting.md, *Modes* rule 5): a chain that
    /// reaches an owner top-level post, or a parent missing from the data, is a self-thread;
    /// one that reaches an owner reply to someone else continues that conversation.
    fn end_of(&mut self, start: usize) -> (Mode, Option<Arc<str>>) {
        let mut path: Vec<usize> = Vec::new();
        let mut on_path: rustc_hash::FxHashSet<usize> = Default::default();
        let mut cur = start;
        let result = loop {
            if let Some(r) = self.memo.get(&cur) {
                break r.clone();
            }
            path.push(cur);
            on_path.insert(cur);
            let a = &self.all[cur];
            let Some(pid) = a.hints.parent() else {
                break (Mode::SelfThread, None); // parent missing from the data
            };
            let Some(&j) = self.index.get(&(a.platform, pid)) else {
                break (Mode::SelfThread, None); // parent missing from the data
            };
            let p = &self.all[j];
            let is_reply = p.kind == Kind::Reply
                || p.hints.parent().is_some()
                || p.hints.parent_author().is_some();
            if !is_reply {
                break (Mode::SelfThread, None); // reached an owner top-level post
            }
            if p.hints.parent_is_owner {
                if on_path.contains(&j) {
                    break (Mode::SelfThread, None); // a cycle in broken data
                }
                cur = j;
                continue;
            }
            // Reached an owner reply to someone else: a continued turn of that conversation.
            let who = p
                .hints
                .parent_author()
                .map(Arc::from)
                .or_else(|| p.counterparts.first().cloned());
            break (Mode::Conversation, who);
        };
        for k in path {
            self.memo.insert(k, result.clone());
        }
        result
    }
}

/// What the private conversations say, per activity (docs/counting.md, *Monthly metrics* and
/// *Insight columns*): the response gap of owner answers and the last message of each
/// conversation left unanswered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Threads {
    /// (position in the activities, milliseconds since the previous message of its private
    /// conversation) for each owner message in mode conversation answering a counted
    /// received message, in the order of the positions: few activities are answers, so the
    /// gaps are listed, not held one per activity. Exact integers; the median is taken on
    /// them (analysis).
    pub gaps: Vec<(usize, i64)>,
    /// True for the latest dated counted message of a private conversation (at most
    /// `group_max` participants) when it is a received message: someone is waiting.
    pub unanswered: Vec<bool>,
}

/// Orders the messages of every conversation once and reads the gaps and the unanswered
/// conversations off that order.
pub fn threads(activities: &[Activity], group_max: u32) -> Threads {
    let mut gaps = Vec::new();
    let mut unanswered = vec![false; activities.len()];
    let mut numbers = Numbering::default();
    // Per conversation number: its platform, its members, and the largest participants value
    // among its messages (`None`: unknown).
    let mut by_conversation: Vec<(Platform, Vec<usize>)> = Vec::new();
    let mut size: Vec<Option<u32>> = Vec::new();
    for (i, a) in activities.iter().enumerate() {
        if a.kind != Kind::Message {
            continue;
        }
        let Some(c) = &a.conversation else { continue };
        let n = numbers.number(a.platform, c) as usize;
        if n == by_conversation.len() {
            by_conversation.push((a.platform, Vec::new()));
            size.push(None);
        }
        if let Some(p) = a.participants() {
            size[n] = Some(size[n].unwrap_or(0).max(p));
        }
        if a.at().is_none() || a.hints.excluded == Some(Exclusion::Draft) {
            continue;
        }
        by_conversation[n].1.push(i);
    }
    for (n, (platform, mut members)) in by_conversation.into_iter().enumerate() {
        if members.is_empty() {
            continue;
        }
        members.sort_by(|&x, &y| message_order(platform, &activities[x], &activities[y]));
        for w in members.windows(2) {
            let (prev, cur) = (&activities[w[0]], &activities[w[1]]);
            if cur.direction == Direction::Out
                && cur.mode == Some(Mode::Conversation)
                && prev.is_counted_in()
                && let (Some(t0), Some(t1)) = (prev.at(), cur.at())
            {
                gaps.push((w[1], t1 - t0));
            }
        }
        let private = size[n].is_none_or(|p| p <= group_max);
        let last = members
            .iter()
            .rev()
            .find(|&&i| activities[i].hints.excluded.is_none());
        if private
            && let Some(&i) = last
            && activities[i].is_counted_in()
        {
            unanswered[i] = true;
        }
    }
    gaps.sort_unstable();
    Threads { gaps, unanswered }
}

impl Threads {
    /// The response gap of the activity at `position`, if it is an answer.
    pub fn gap(&self, position: usize) -> Option<i64> {
        let i = self.gaps.binary_search_by_key(&position, |g| g.0).ok()?;
        Some(self.gaps[i].1)
    }
}

/// Numbers the shared ids of activities (people, conversations) per platform, in the order
/// first seen. Importers share one `Arc` per id, so an id is looked up by its address and only
/// a new address by its text: a million lookups hash a pointer, not a URL.
#[derive(Debug, Default)]
pub struct Numbering<'a> {
    by_address: FxHashMap<(Platform, usize), u32>,
    by_text: FxHashMap<(Platform, &'a str), u32>,
    /// The last answer: the messages of a conversation, and the acts towards one person,
    /// mostly follow each other.
    last: Option<(Platform, usize, u32)>,
}

/// A shared id [`Numbering`] can key by where its text lives (clones share it).
pub trait SharedId {
    /// The address of the shared text.
    fn address(&self) -> usize;
    /// The text.
    fn text(&self) -> &str;
}

impl SharedId for Arc<str> {
    fn address(&self) -> usize {
        Arc::as_ptr(self) as *const u8 as usize
    }
    fn text(&self) -> &str {
        self
    }
}

impl SharedId for Name {
    fn address(&self) -> usize {
        Name::address(self)
    }
    fn text(&self) -> &str {
        self
    }
}

impl<'a> Numbering<'a> {
    /// The number of `id` on `platform` (a new one for an id not seen before).
    pub fn number(&mut self, platform: Platform, id: &'a impl SharedId) -> u32 {
        let address = id.address();
        if let Some((p, a, n)) = self.last
            && p == platform
            && a == address
        {
            return n;
        }
        let n = match self.by_address.get(&(platform, address)) {
            Some(&n) => n,
            None => {
                let next = self.by_text.len() as u32;
                let n = *self.by_text.entry((platform, id.text())).or_insert(next);
                self.by_address.insert((platform, address), n);
                n
            }
        };
        self.last = Some((platform, address, n));
        n
    }
}

/// The order of two messages of one conversation: by time; ties as the export's order says
/// (docs/counting.md, *Response gaps*): LinkedIn and Meta files are newest first, so a later row is the
/// earlier message; Reddit chats keep file order; elsewhere the message id decides (numbers
/// as numbers, Reddit's base-36 ids by length then text).
pub fn message_order(platform: Platform, a: &Activity, b: &Activity) -> std::cmp::Ordering {
    a.at().cmp(&b.at()).then_with(|| match platform {
        Platform::LinkedIn | Platform::Facebook | Platform::Instagram => {
            b.hints.seq.cmp(&a.hints.seq)
        }
        Platform::Reddit if a.id.starts_with("chat:") || b.id.starts_with("chat:") => {
            a.hints.seq.cmp(&b.hints.seq)
        }
        // Base-36 ids without leading zeros: a longer one is larger.
        Platform::Reddit => {
            let tail = |id: &str| id.rsplit('_').next().unwrap_or(id).to_ascii_lowercase();
            let (x, y) = (tail(&a.id), tail(&b.id));
            x.len().cmp(&y.len()).then_with(|| x.cmp(&y))
        }
        _ => id_order(&a.id, &b.id),
    })
}

/// Numeric ids compare as numbers (X snowflakes), others as text.
fn id_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u128>(), b.parse::<u128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// Lowers confidence for heuristically decided conversations (addressed mentions).
pub fn mark_heuristics(activities: &mut [Activity]) {
    for a in activities {
        if a.mode == Some(Mode::Conversation)
            && a.hints.leading_mentions.is_some()
            && a.hints.parent().is_none()
        {
            a.confidence = Confidence::Low;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_counts_text_not_addresses() {
        let a: Arc<str> = Arc::from("https://www.linkedin.com/in/kim");
        let same_text: Arc<str> = Arc::from("https://www.linkedin.com/in/kim");
        let other: Arc<str> = Arc::from("https://www.linkedin.com/in/lee");
        let mut n = Numbering::default();
        assert_eq!(n.number(Platform::LinkedIn, &a), 0);
        assert_eq!(n.number(Platform::LinkedIn, &other), 1);
        assert_eq!(n.number(Platform::LinkedIn, &same_text), 0);
        assert_eq!(n.number(Platform::LinkedIn, &a), 0);
        // Ids are kept per platform.
        assert_eq!(n.number(Platform::X, &a), 2);
    }

    fn act(id: &str, kind: Kind, dir: Direction) -> Activity {
        Activity::new(
            Platform::X,
            id,
            Some(0),
            dir,
            kind,
            crate::model::Source::from("t"),
        )
    }

    fn reply(id: &str, parent: &str, to_owner: bool, author: Option<&str>) -> Activity {
        let mut a = act(id, Kind::Reply, Direction::Out);
        a.hints.set_parent(Some(parent.into()));
        a.hints.parent_is_owner = to_owner;
        a.hints.set_parent_author(author.map(String::from));
        a
    }

    #[test]
    fn self_thread_chains() {
        let mut v = vec![
            act("1", Kind::Post, Direction::Out),
            reply("2", "1", true, None),
            reply("3", "2", true, None),
            reply("10", "900", false, Some("u9")),
            reply("11", "10", true, None),
            reply("12", "11", true, None),
            reply("20", "missing", true, None),
        ];
        classify(&mut v, 8);
        let modes: Vec<_> = v.iter().map(|a| a.mode).collect();
        assert_eq!(modes[1], Some(Mode::SelfThread));
        assert_eq!(modes[2], Some(Mode::SelfThread));
        assert_eq!(modes[3], Some(Mode::Conversation));
        assert_eq!(modes[4], Some(Mode::Conversation));
        assert_eq!(*v[4].counterparts, vec![Arc::<str>::from("u9")]);
        assert_eq!(modes[5], Some(Mode::Conversation));
        assert_eq!(*v[5].counterparts, vec![Arc::<str>::from("u9")]);
        assert_eq!(modes[6], Some(Mode::SelfThread));
    }

    #[test]
    fn long_self_thread_chain_is_walked_once() {
        // A 20,000-reply self-thread (hostile or just long): every reply ends where the chain
        // ends. Re-walking the chain for every reply would be 2·10^8 steps.
        let n = 20_000;
        let mut v = vec![act("0", Kind::Post, Direction::Out)];
        for i in 1..n {
            v.push(reply(&i.to_string(), &(i - 1).to_string(), true, None));
        }
        classify(&mut v, 8);
        assert!(v[1..].iter().all(|a| a.mode == Some(Mode::SelfThread)));
        // The same chain hanging off a reply to someone else is one continued turn.
        let mut w = vec![reply("0", "elsewhere", false, Some("u7"))];
        for i in 1..n {
            w.push(reply(&i.to_string(), &(i - 1).to_string(), true, None));
        }
        classify(&mut w, 8);
        assert!(w.iter().all(|a| a.mode == Some(Mode::Conversation)));
        assert_eq!(*w[n - 1].counterparts, vec![Arc::<str>::from("u7")]);
    }

    #[test]
    fn self_reply_cycle_in_broken_data_is_a_self_thread() {
        let mut v = vec![reply("a", "b", true, None), reply("b", "a", true, None)];
        classify(&mut v, 8);
        assert_eq!(v[0].mode, Some(Mode::SelfThread));
        assert_eq!(v[1].mode, Some(Mode::SelfThread));
    }

    #[test]
    fn group_size_rule() {
        let mut v: Vec<Activity> = [1u32, 2, 3, 8, 9]
            .iter()
            .map(|p| {
                let mut a = act(&format!("m{p}"), Kind::Message, Direction::Out);
                a.set_participants(Some(*p));
                a
            })
            .collect();
        classify(&mut v, 8);
        let modes: Vec<_> = v.iter().map(|a| a.mode).collect();
        assert_eq!(
            modes,
            vec![
                Some(Mode::Broadcast), // only the owner: falls through to broadcast
                Some(Mode::Conversation),
                Some(Mode::Conversation),
                Some(Mode::Conversation),
                Some(Mode::Broadcast),
            ]
        );
    }

    #[test]
    fn direct_reply_to_nobody_falls_through_to_public_conversation() {
        let mut reply = act("m", Kind::Message, Direction::Out);
        reply.set_participants(Some(1));
        reply.hints.set_parent(Some("p".into()));
        reply.hints.set_parent_author(Some("u".into()));
        let mut alone = act("n", Kind::Message, Direction::Out);
        alone.set_participants(Some(1));
        let mut v = vec![reply, alone];
        classify(&mut v, 8);
        assert_eq!(v[0].mode, Some(Mode::Conversation));
        assert_eq!(v[1].mode, Some(Mode::Broadcast));
    }

    /// A message of conversation `conv` at minute `min` (undated: `None`), in position `seq`.
    fn message(
        id: &str,
        conv: Name,
        min: Option<i64>,
        dir: Direction,
        seq: u64,
        people: u32,
    ) -> Activity {
        let mut a = Activity::new(
            Platform::LinkedIn,
            id,
            min.map(|m| m * 60_000),
            dir,
            Kind::Message,
            crate::model::Source::from("m"),
        );
        a.conversation = Some(conv);
        a.set_participants(Some(people));
        a.hints.seq = seq;
        a
    }

    /// The ids of the activities someone is waiting on.
    fn waiting<'a>(v: &'a [Activity], t: &Threads) -> Vec<&'a str> {
        v.iter()
            .zip(&t.unanswered)
            .filter(|(_, w)| **w)
            .map(|(a, _)| &*a.id)
            .collect()
    }

    #[test]
    fn gaps_use_previous_received_message() {
        let mk = |id: &str, min: i64, dir: Direction, seq: u64| {
            message(id, Name::from("c"), Some(min), dir, seq, 2)
        };
        let mut v = vec![
            mk("d", 30, Direction::Out, 0),
            mk("c", 20, Direction::Out, 1),
            mk("b", 10, Direction::In, 2),
            mk("a", 10, Direction::In, 3),
        ];
        classify(&mut v, 8);
        let t = threads(&v, 8);
        assert_eq!(t.gaps, vec![(1, 600_000)]);
        assert_eq!((t.gap(0), t.gap(1)), (None, Some(600_000)));
        // The owner answered last: nobody is waiting.
        assert_eq!(t.unanswered, vec![false; 4]);
    }

    #[test]
    fn unanswered_is_the_last_counted_message_when_received() {
        let mk = |id: &str, conv: &str, min: i64, dir: Direction, seq: u64, people: u32| {
            message(id, Name::from(conv), Some(min), dir, seq, people)
        };
        let mut sponsored = mk("s", "a", 50, Direction::In, 0, 2);
        sponsored.hints.excluded = Some(Exclusion::SystemSender);
        let mut undated = mk("u", "a", 0, Direction::Out, 9, 2);
        undated.set_at(None);
        let mut v = vec![
            // a: answered, then written to again (the sponsored row and the undated owner
            // message do not count): waiting at "a2".
            sponsored,
            mk("a2", "a", 40, Direction::In, 1, 2),
            mk("a1", "a", 30, Direction::Out, 2, 2),
            undated,
            // b: equal times, the later row is the earlier message (LinkedIn): "b-in" is last.
            mk("b-in", "b", 10, Direction::In, 3, 2),
            mk("b-out", "b", 10, Direction::Out, 4, 2),
            // c: a group above group_max is no private conversation.
            mk("c1", "c", 5, Direction::In, 5, 9),
        ];
        classify(&mut v, 8);
        let t = threads(&v, 8);
        assert_eq!(waiting(&v, &t), vec!["a2", "b-in"]);
    }

    #[test]
    fn messages_under_separately_made_ids_of_one_text_are_one_conversation() {
        // Two downloads of one account: the same conversation id made twice (different
        // addresses), other conversations' messages in between.
        let mk = |id: &str, conv: &Name, min: Option<i64>, dir: Direction, people: u32| {
            message(id, conv.clone(), min, dir, 0, people)
        };
        let (x1, x2) = (Name::from("x"), Name::from("x"));
        let y = Name::from("y");
        let (z1, z2) = (Name::from("z"), Name::from("z"));
        assert_ne!(x1.address(), x2.address());
        let mut v = vec![
            mk("x-in", &x1, Some(10), Direction::In, 2),
            mk("y-out", &y, Some(5), Direction::Out, 2),
            mk("z-in", &z1, Some(1), Direction::In, 2),
            mk("y-in", &y, Some(15), Direction::In, 2),
            mk("x-out", &x2, Some(20), Direction::Out, 2),
            // z is a group (its undated message under the other id says 9 people).
            mk("z-undated", &z2, None, Direction::In, 9),
        ];
        classify(&mut v, 8);
        let t = threads(&v, 8);
        // x's answer follows the message received under the other id.
        assert_eq!(t.gaps, vec![(4, 600_000)]);
        assert_eq!(waiting(&v, &t), vec!["y-in"]);
    }
}
