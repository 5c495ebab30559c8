//! The normalized `Activity` (docs/counting.md, *Activities*), its enums and the small types
//! every layer shares (the owner, shared names and their interner, months and time zones). Pure
//! types: no I/O, no parsing of exports, no Polars; depends on no other module of rapport.

use std::fmt;
use std::num::NonZeroU64;
use std::sync::Arc;

use chrono::{Datelike, TimeZone};
use rustc_hash::FxHashSet as HashSet;

/// A platform rapport can read. The declaration order is row order of metrics.csv
/// (linkedin, x, mastodon, bluesky, facebook, instagram, threads, reddit), so `Ord` sorts rows
/// correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Platform {
    /// LinkedIn ("Get a copy of your data" archive).
    LinkedIn,
    /// X / Twitter archive.
    X,
    /// Mastodon account archive.
    Mastodon,
    /// Bluesky repository (CAR).
    Bluesky,
    /// Facebook ("Download your information", JSON).
    Facebook,
    /// Instagram ("Download your information", JSON).
    Instagram,
    /// Threads (inside the Instagram export).
    Threads,
    /// Reddit (data request export).
    Reddit,
}

impl Platform {
    /// All platforms in the row order of metrics.csv.
    pub const ALL: [Platform; 8] = [
        Platform::LinkedIn,
        Platform::X,
        Platform::Mastodon,
        Platform::Bluesky,
        Platform::Facebook,
        Platform::Instagram,
        Platform::Threads,
        Platform::Reddit,
    ];

    /// The lower-case name used in `metrics.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::LinkedIn => "linkedin",
            Platform::X => "x",
            Platform::Mastodon => "mastodon",
            Platform::Bluesky => "bluesky",
            Platform::Facebook => "facebook",
            Platform::Instagram => "instagram",
            Platform::Threads => "threads",
            Platform::Reddit => "reddit",
        }
    }

    /// The platform named `name` (case-insensitive; `twitter` is X).
    pub fn from_name(name: &str) -> Option<Platform> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("twitter") {
            return Some(Platform::X);
        }
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who did the act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The account owner did it.
    Out,
    /// Someone did it to or with the owner.
    In,
}

impl Direction {
    /// `out` or `in`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Out => "out",
            Direction::In => "in",
        }
    }
}

/// The raw platform act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An original post, share or status.
    Post,
    /// A long-form article.
    Article,
    /// A repost / retweet / boost without own text.
    Repost,
    /// A reply to a post.
    Reply,
    /// A comment (LinkedIn).
    Comment,
    /// A private message.
    Message,
    /// A connection invitation.
    Invitation,
    /// A reaction or like.
    Reaction,
    /// A poll vote.
    Vote,
}

impl Kind {
    /// The lower-case name used in `activities.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Post => "post",
            Kind::Article => "article",
            Kind::Repost => "repost",
            Kind::Reply => "reply",
            Kind::Comment => "comment",
            Kind::Message => "message",
            Kind::Invitation => "invitation",
            Kind::Reaction => "reaction",
            Kind::Vote => "vote",
        }
    }
}

/// The classification of an act (docs/counting.md, *Modes*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// One-to-many authored content.
    Broadcast,
    /// Reposting someone else's content without own text.
    Amplification,
    /// A continuation of the owner's own thread.
    SelfThread,
    /// A public reply/comment or a private message to few people.
    Conversation,
    /// Reactions, votes, invitations without a note.
    Passive,
    /// Not counted at all (drafts, system senders, AI guide files).
    Excluded,
}

impl Mode {
    /// The lower-case name used in `activities.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Broadcast => "broadcast",
            Mode::Amplification => "amplification",
            Mode::SelfThread => "self_thread",
            Mode::Conversation => "conversation",
            Mode::Passive => "passive",
            Mode::Excluded => "excluded",
        }
    }
}

/// How sure the classification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Confidence {
    /// Decided from structural fields.
    High,
    /// Decided by a heuristic (addressed mentions, names resolved to people).
    Low,
}

impl Confidence {
    /// `high` or `low`.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Low => "low",
        }
    }
}

/// Why an activity is excluded (docs/counting.md, *Modes* rule 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exclusion {
    /// A draft message or conversation.
    Draft,
    /// A row of LinkedIn's AI guide / coach / learning message files.
    GuideFile,
    /// A sponsored, InMail or anonymous system sender.
    SystemSender,
}

/// Facts an importer found that the classifier (`classify`) turns into a [`Mode`].
/// Importers never decide the mode themselves, so the rule order lives in one place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hints {
    /// Set when docs/counting.md, *Modes* rule 1 applies.
    pub excluded: Option<Exclusion>,
    /// An invitation carrying a non-blank personal note.
    pub with_note: bool,
    /// For replies: the parent act and its author ([`Hints::parent`],
    /// [`Hints::parent_author`]); boxed, because most acts are no replies.
    reply: Option<Box<ReplyTo>>,
    /// For replies: whether the parent was written by the owner.
    pub parent_is_owner: bool,
    /// Number of accounts in the leading run of @mentions of a top-level post
    /// (`None` when the text does not start with a mention; see [`Hints::mentions`]). Two
    /// bytes, so that the hints take 24 bytes of each activity, not 32.
    pub leading_mentions: Option<u16>,
    /// A post the export says was written to someone else's space (a Facebook post on another
    /// person's timeline): public conversation, even without a known counterpart.
    pub addressed: bool,
    /// Position of the record in its file (0-based), used to break timestamp ties.
    pub seq: u64,
}

/// What a reply points at (see [`Hints`]); never both `None`.
#[derive(Debug, Clone, Default, PartialEq)]
struct ReplyTo {
    parent: Option<String>,
    author: Option<String>,
}

impl Hints {
    /// The count for [`Hints::leading_mentions`] of a run of `n` mentions (no text holds more
    /// than the field can count; it would saturate).
    pub fn mentions(n: usize) -> Option<u16> {
        Some(u16::try_from(n).unwrap_or(u16::MAX))
    }

    /// For replies: the id of the parent act, when known.
    pub fn parent(&self) -> Option<&str> {
        self.reply.as_ref()?.parent.as_deref()
    }

    /// For replies: the parent's author, when it is not the owner (the counterpart).
    pub fn parent_author(&self) -> Option<&str> {
        self.reply.as_ref()?.author.as_deref()
    }

    /// Sets (or clears) the parent act's id.
    pub fn set_parent(&mut self, parent: Option<String>) {
        if parent.is_some() || self.reply.is_some() {
            self.set_reply(|r| r.parent = parent);
        }
    }

    /// Sets (or clears) the parent's author.
    pub fn set_parent_author(&mut self, author: Option<String>) {
        if author.is_some() || self.reply.is_some() {
            self.set_reply(|r| r.author = author);
        }
    }

    fn set_reply(&mut self, change: impl FnOnce(&mut ReplyTo)) {
        let mut reply = self.reply.take().unwrap_or_default();
        change(&mut reply);
        if reply.parent.is_some() || reply.author.is_some() {
            self.reply = Some(reply);
        }
    }
}

/// A time in milliseconds since the Unix epoch, kept with its sign bit flipped in a
/// `NonZeroU64`, so that `Option<Stamp>` takes 8 bytes (a million activities: 8 MB less).
/// The zero it cannot hold is `i64::MIN` ms, 292 million years before the epoch: no platform's
/// date is near it (dates past year ±262 143 are no dates to chrono), and it is stored as
/// `i64::MIN + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp(NonZeroU64);

impl Stamp {
    const SIGN: u64 = 1 << 63;

    fn new(ms: i64) -> Stamp {
        Stamp(NonZeroU64::new(ms as u64 ^ Self::SIGN).unwrap_or(NonZeroU64::MIN))
    }

    fn get(self) -> i64 {
        (self.0.get() ^ Self::SIGN) as i64
    }
}

/// An activity's id: up to 24 bytes inside the activity (the hashed content ids of Meta,
/// LinkedIn and Reddit, tweet ids), longer ones (URLs, `at://` URIs) on the heap. 24 bytes,
/// where a boxed `str` took 16 and its text a heap block of 32 more.
pub type ActivityId = compact_str::CompactString;

/// [`Activity::participants`] when unknown.
const NO_PARTICIPANTS: u16 = u16::MAX;

/// One act, either direction (docs/counting.md, *Activities*).
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// Platform the act happened on.
    pub platform: Platform,
    /// The platform's stable id of the act (synthesized from content where the export has none).
    /// Kept in the activity itself up to 24 bytes (a content id, a tweet id), on the heap beyond.
    pub id: ActivityId,
    /// When it happened ([`Activity::at`]); 8 bytes, where an `Option<i64>` takes 16.
    at: Option<Stamp>,
    /// out = the owner did it; in = done to the owner.
    pub direction: Direction,
    /// The raw act.
    pub kind: Kind,
    /// The classification; filled by `classify`, `None` for counted `in` activities.
    pub mode: Option<Mode>,
    /// Stable ids of the other people addressed; empty when unknown. A boxed slice, exact: a
    /// `Vec` takes 8 bytes more here and, grown by pushes, room for four on the heap.
    pub counterparts: Box<[Arc<str>]>,
    /// DM conversation id or thread root.
    pub conversation: Option<Name>,
    /// People in a private conversation, owner included ([`Activity::participants`]); two
    /// bytes, so that the small fields share one word.
    participants: u16,
    /// Low where a heuristic decided.
    pub confidence: Confidence,
    /// The file or endpoint the act came from.
    pub source: Source,
    /// Facts for the classifier.
    pub hints: Hints,
}

impl Activity {
    /// A new activity with no counterparts, hints or mode. The id is taken as it is (a short
    /// one moves inside the activity; a long one keeps its text, without spare room).
    pub fn new(
        platform: Platform,
        id: impl Into<ActivityId>,
        at: Option<i64>,
        direction: Direction,
        kind: Kind,
        source: Source,
    ) -> Self {
        let mut id = id.into();
        id.shrink_to_fit();
        Activity {
            platform,
            id,
            at: at.map(Stamp::new),
            direction,
            kind,
            mode: None,
            counterparts: Box::default(),
            conversation: None,
            participants: NO_PARTICIPANTS,
            confidence: Confidence::High,
            source,
            hints: Hints::default(),
        }
    }

    /// When it happened, as milliseconds since the Unix epoch (UTC); `None` when undated.
    pub fn at(&self) -> Option<i64> {
        self.at.map(Stamp::get)
    }

    /// Sets (or clears) when it happened (see [`Activity::at`]).
    pub fn set_at(&mut self, at: Option<i64>) {
        self.at = at.map(Stamp::new);
    }

    /// People in a private conversation, owner included; `None` when unknown. Counts above
    /// 65 534 are kept as 65 534 (docs/counting.md, *Activities*).
    pub fn participants(&self) -> Option<u32> {
        (self.participants != NO_PARTICIPANTS).then_some(u32::from(self.participants))
    }

    /// Sets (or clears) the people of the conversation (see [`Activity::participants`]).
    pub fn set_participants(&mut self, people: Option<u32>) {
        self.participants = match people {
            Some(n) => u16::try_from(n)
                .unwrap_or(u16::MAX)
                .min(NO_PARTICIPANTS - 1),
            None => NO_PARTICIPANTS,
        };
    }

    /// Appends `suffix` to the id (the `#n` of a repeated record).
    pub fn suffix_id(&mut self, suffix: &str) {
        self.id.push_str(suffix);
    }

    /// True for `in` activities that count as received (not excluded).
    pub fn is_counted_in(&self) -> bool {
        self.direction == Direction::In && self.hints.excluded.is_none()
    }

    /// True for a message of a private conversation: kind message with at least 2
    /// participants (the owner and someone else, if only a deleted account).
    pub fn is_private_message(&self) -> bool {
        self.kind == Kind::Message && self.participants().is_none_or(|p| p >= 2)
    }
}

/// The account owner of one export or fetched account (docs/counting.md, *Owner*).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Owner {
    /// Platform of the export.
    #[serde(serialize_with = "platform_name")]
    pub platform: Platform,
    /// The owner's stable id (normalized profile URL, user id, actor URI, DID, name); `None`
    /// if unknown.
    pub id: Option<String>,
    /// How it was found, in words.
    pub how: String,
}

fn platform_name<S: serde::Serializer>(p: &Platform, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.as_str())
}

/// Month code for undated activity; sorts after every real month.
pub const UNDATED: i32 = i32::MAX;

/// A calendar month as `year * 12 + (month - 1)`, or [`UNDATED`].
pub type MonthCode = i32;

/// `YYYY-MM` for a month code, `undated` for [`UNDATED`].
pub fn month_label(code: MonthCode) -> String {
    if code == UNDATED {
        "undated".to_string()
    } else {
        format!("{:04}-{:02}", code.div_euclid(12), code.rem_euclid(12) + 1)
    }
}

/// Parses `YYYY-MM` into a month code.
pub fn parse_month(s: &str) -> Option<MonthCode> {
    let (y, m) = s.trim().split_once('-')?;
    let y: i32 = y.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if y.to_string().len() != 4 || !(1..=12).contains(&m) {
        return None;
    }
    Some(y * 12 + m - 1)
}

/// The time zone months are counted in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    /// UTC.
    Utc,
    /// A named IANA zone.
    Named(chrono_tz::Tz),
}

impl Zone {
    /// The month code of a UTC millisecond timestamp in this zone.
    pub fn month_of(&self, ms: i64) -> MonthCode {
        if let Zone::Utc = self
            && (0..YEAR_10000_MS).contains(&ms)
        {
            let (y, m, _) = civil_from_days(ms / 86_400_000);
            return y as i32 * 12 + m as i32 - 1;
        }
        let utc = chrono::Utc.timestamp_millis_opt(ms).single();
        let Some(utc) = utc else { return UNDATED };
        let (y, m) = match self {
            Zone::Utc => (utc.year(), utc.month()),
            Zone::Named(tz) => {
                let local = utc.with_timezone(tz);
                (local.year(), local.month())
            }
        };
        y * 12 + m as i32 - 1
    }

    /// The zone's name.
    pub fn name(&self) -> String {
        match self {
            Zone::Utc => "UTC".into(),
            Zone::Named(tz) => tz.name().into(),
        }
    }
}

/// Milliseconds at 10000-01-01T00:00:00Z, the end of the range [`civil_from_days`] serves
/// here (from 1970 on): beyond it dates go through chrono.
pub const YEAR_10000_MS: i64 = 253_402_300_800_000;

/// The proleptic Gregorian (year, month 1–12, day 1–31) of a day counted from 1970-01-01
/// (H. Hinnant's civil-from-days), for days from 0: a million timestamps take a tenth of the
/// time they take through chrono.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A name many activities share (the file an activity came from, a conversation), in one
/// pointer of 8 bytes where an `Arc<str>` takes 16 in every activity; the text behind it is
/// one allocation more per name, not per activity.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<Box<str>>);

/// The file or endpoint an activity came from.
pub type Source = Name;

impl Name {
    /// True when both are the same shared name (not merely equal text).
    pub fn ptr_eq(a: &Name, b: &Name) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// Where the text lives: equal for clones of one name, the cheap key of a name seen again.
    pub fn address(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(name: &str) -> Name {
        Name(Arc::new(name.into()))
    }
}

impl From<String> for Name {
    fn from(name: String) -> Name {
        Name(Arc::new(name.into_boxed_str()))
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self.0, f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One shared copy per person id ([`Interner::get`]) or shared name ([`Interner::name`]: a
/// conversation, a source), for every activity that names it: the importers, the fetchers and
/// the store's reader hand out the same copy instead of one per activity.
#[derive(Debug, Default)]
pub struct Interner {
    people: HashSet<Arc<str>>,
    names: HashSet<Name>,
}

impl Interner {
    /// The shared copy of the person id `id`.
    pub fn get(&mut self, id: &str) -> Arc<str> {
        shared(&mut self.people, id)
    }

    /// The shared copy of the name `id` (a conversation id, a source).
    pub fn name(&mut self, id: &str) -> Name {
        shared(&mut self.names, id)
    }

    /// The shared copy of the person id `id`, which becomes it when the text is new: for ids
    /// made where a table cannot be reached (on other threads), shared afterwards.
    pub fn adopt(&mut self, id: &Arc<str>) -> Arc<str> {
        if let Some(a) = self.people.get(&**id) {
            return a.clone();
        }
        self.people.insert(id.clone());
        id.clone()
    }
}

/// The copy of `id` in `set`, made on first sight (the set holds each text once, in its copy).
fn shared<T>(set: &mut HashSet<T>, id: &str) -> T
where
    T: Clone + Eq + std::hash::Hash + std::borrow::Borrow<str> + for<'a> From<&'a str>,
{
    if let Some(a) = set.get(id) {
        return a.clone();
    }
    let a = T::from(id);
    set.insert(a.clone());
    a
}

/// A token, password or client secret. Its `Debug` never shows the value and it has no
/// `Display`, so it cannot end up in a log line, an error message or a report by accident.
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that sends it (an `Authorization` header, a form field).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when no value was given.
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adopted_person_id_is_the_copy_shared_from_then_on() {
        let mut people = Interner::default();
        let first: Arc<str> = Arc::from("did:plc:ana");
        let again: Arc<str> = Arc::from("did:plc:ana");
        let adopted = people.adopt(&first);
        assert!(
            Arc::ptr_eq(&adopted, &first),
            "a new text keeps the copy it came in"
        );
        assert!(Arc::ptr_eq(&people.adopt(&again), &first));
        assert!(Arc::ptr_eq(&people.get("did:plc:ana"), &first));
        assert!(!Arc::ptr_eq(
            &people.adopt(&Arc::from("did:plc:ben")),
            &first
        ));
    }

    #[test]
    fn leading_mentions_past_the_fields_range_saturate_instead_of_wrapping() {
        assert_eq!(Hints::mentions(3), Some(3));
        assert_eq!(Hints::mentions(65_535), Some(65_535));
        // A wrapped count of 65 536 would be 0, and 65 537 one mention: a conversation.
        assert_eq!(Hints::mentions(65_536), Some(u16::MAX));
        assert_eq!(Hints::mentions(65_537), Some(u16::MAX));
        assert_eq!(std::mem::size_of::<Hints>(), 24);
    }

    fn act(kind: Kind, at: Option<i64>) -> Activity {
        act_with_id("1", kind, at)
    }

    fn act_with_id(id: impl Into<ActivityId>, kind: Kind, at: Option<i64>) -> Activity {
        Activity::new(
            Platform::X,
            id,
            at,
            Direction::Out,
            kind,
            Source::from("t.js"),
        )
    }

    #[test]
    fn activity_times_come_back_as_given_across_the_epoch_and_the_extremes() {
        let mut a = act(Kind::Post, None);
        assert_eq!(a.at(), None);
        for ms in [
            0,
            1,
            -1,
            1_704_445_200_000,
            -62_135_596_800_000,
            i64::MAX,
            i64::MIN + 1,
        ] {
            a.set_at(Some(ms));
            assert_eq!(a.at(), Some(ms));
            assert_eq!(act(Kind::Post, Some(ms)).at(), Some(ms));
        }
        // The one value the niche cannot hold is kept a millisecond later, still a date.
        a.set_at(Some(i64::MIN));
        assert_eq!(a.at(), Some(i64::MIN + 1));
        a.set_at(None);
        assert_eq!(a.at(), None);
        assert_eq!(std::mem::size_of::<Option<Stamp>>(), 8);
    }

    #[test]
    fn participants_round_trip_and_saturate_below_the_unknown_marker() {
        let mut a = act(Kind::Message, None);
        assert_eq!(a.participants(), None);
        for n in [0, 1, 2, 50, 65_534] {
            a.set_participants(Some(n));
            assert_eq!(a.participants(), Some(n));
        }
        // Too many to hold: the largest count, never "unknown" (which would make it private).
        for n in [65_535, 65_536, u32::MAX] {
            a.set_participants(Some(n));
            assert_eq!(a.participants(), Some(65_534));
        }
        a.set_participants(None);
        assert_eq!(a.participants(), None);
        // The small fields share one word, the source and the conversation are one pointer
        // each, the id holds up to 24 bytes itself.
        assert_eq!(std::mem::size_of::<Activity>(), 96);
    }

    #[test]
    fn activity_ids_short_and_long_come_back_as_given_with_their_repeat_suffix() {
        let short = "fb-dm:0123456789abcdef";
        let long = "at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3kabcdefghijk";
        for (text, inline) in [(short, true), (long, false), ("", true)] {
            // Given as a `String` with spare room: a short id moves inside, a long one is
            // kept without the room.
            let mut given = String::with_capacity(200);
            given.push_str(text);
            let mut a = act_with_id(given, Kind::Post, None);
            assert_eq!(&*a.id, text);
            assert_eq!(a.id.is_heap_allocated(), !inline, "{text}");
            if !inline {
                assert_eq!(a.id.capacity(), text.len());
            }
            a.suffix_id("#2");
            assert_eq!(a.id, format!("{text}#2"));
        }
        // Past 24 bytes a suffix moves a short id to the heap, still whole.
        let mut a = act(Kind::Post, None);
        a.id = ActivityId::new("ig-comment:0123456789abcd");
        a.suffix_id("#10");
        assert_eq!(a.id, "ig-comment:0123456789abcd#10");
    }

    #[test]
    fn utc_months_by_whole_days_agree_with_chrono() {
        use chrono::{Datelike as _, TimeZone as _};
        let mut cases: Vec<i64> = vec![0, 951_868_799_999, 951_868_800_000, YEAR_10000_MS - 1];
        let mut x: u64 = 11;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            cases.push((x >> 16) as i64 % YEAR_10000_MS);
        }
        for ms in cases {
            let Some(t) = chrono::Utc.timestamp_millis_opt(ms).single() else {
                continue;
            };
            let want = t.year() * 12 + t.month() as i32 - 1;
            assert_eq!(Zone::Utc.month_of(ms), want, "{ms}");
        }
    }

    #[test]
    fn reply_hints_are_kept_apart_and_cleared_to_no_reply() {
        let mut h = Hints::default();
        h.set_parent(Some("p1".into()));
        h.set_parent_author(Some("kim".into()));
        assert_eq!((h.parent(), h.parent_author()), (Some("p1"), Some("kim")));
        h.set_parent(None);
        assert_eq!((h.parent(), h.parent_author()), (None, Some("kim")));
        h.set_parent_author(None);
        // Nothing left of the reply: equal to hints that never had one (the store compares).
        assert_eq!(h, Hints::default());
    }
}
