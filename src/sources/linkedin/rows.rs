//! LinkedIn records → rows and activities: one handler per file kind (shares, comments,
//! reactions, reposts, votes, messages, invitations, connections), ids synthesized from content
//! where the export has none, dates parsed with their warnings. Messages and invitations keep
//! a small row beside their activity until the owner is known (`people.rs`). [`Record`] is
//! what a CSV row and an API row both are.

use std::borrow::Cow;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use super::FileKind;
use crate::diag::Diagnostics;
use crate::model::{Activity, ActivityId, Direction, Exclusion, Interner, Kind, Platform, Source};
use crate::sources::archive::Entry;
use crate::sources::common::number_repeats;
use crate::sources::text::{
    fnv64, hash_id, is_normalized_linkedin_url, is_placeholder, name_key, normalize_linkedin_url,
    parse_datetime,
};

/// What a message's activity still needs once the owner is known (its direction, people and
/// participants), for every message row of a file (or of files joined): the message's activity
/// itself (its conversation included) is made as the row is read, at the same position of
/// [`Parsed::message_acts`]. A row names its people by numbers into one table of the distinct
/// texts (name keys, URLs, `To` cells) and its recipients by a run of one vector of them all:
/// 20 bytes a row and 16 a recipient, where four shared strings took 64 and each row's
/// recipient slice a heap block of its own (~14 MB for 320k messages).
#[derive(Default)]
pub(super) struct MessageRows {
    rows: Vec<MessageRow>,
    /// Each distinct text of the rows once.
    texts: Vec<Arc<str>>,
    /// The number of each text of `texts`, while rows are added ([`MessageRows::seal`]).
    numbers: HashMap<Arc<str>, u32>,
    /// The rows' recipient URLs, row after row.
    recipients: Vec<Arc<str>>,
}

/// One row of [`MessageRows`]: numbers into its texts ([`NO_TEXT`] for none) and the run of
/// its recipients.
#[derive(Debug, Clone, Copy)]
struct MessageRow {
    from: u32,
    sender_url: u32,
    to: u32,
    recipients: u32,
    recipient_count: u32,
}

/// A [`MessageRow`] field without a text.
const NO_TEXT: u32 = u32::MAX;

/// A message row as its people (borrowed from [`MessageRows`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Message<'a> {
    /// The sender's name key (`text::name_key`), shared by the sender's rows; empty for a
    /// deleted account.
    pub(super) from: &'a Arc<str>,
    pub(super) sender_url: Option<&'a Arc<str>>,
    /// Kept only when the row has no recipient URL (names are then all we have).
    pub(super) to: &'a str,
    pub(super) recipient_urls: &'a [Arc<str>],
}

impl MessageRows {
    /// Room for `rows` rows of one recipient each.
    fn reserve(&mut self, rows: usize) {
        self.rows.reserve(rows);
        self.recipients.reserve(rows);
    }

    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Adds a recipient URL to the row being read (before [`MessageRows::push`] adds it).
    pub(super) fn add_recipient(&mut self, url: Arc<str>) {
        self.recipients.push(url);
    }

    /// Where the recipients of the row being read start (the end of the last row's).
    fn pending(&self) -> usize {
        self.rows
            .last()
            .map_or(0, |r| (r.recipients + r.recipient_count) as usize)
    }

    /// True when the row being read has recipients ([`MessageRows::add_recipient`]).
    pub(super) fn has_pending_recipients(&self) -> bool {
        self.recipients.len() > self.pending()
    }

    /// Adds a row with the recipients added since the last row (`to` only where it has no
    /// recipient URL).
    pub(super) fn push(&mut self, from: Arc<str>, sender_url: Option<Arc<str>>, to: &str) {
        let first = self.pending();
        let row = MessageRow {
            from: self.number(from),
            sender_url: sender_url.map_or(NO_TEXT, |u| self.number(u)),
            to: if to.is_empty() {
                NO_TEXT
            } else {
                self.number(Arc::from(to))
            },
            recipients: first as u32,
            recipient_count: (self.recipients.len() - first) as u32,
        };
        self.rows.push(row);
    }

    /// The number of `text` in the table, added when new.
    fn number(&mut self, text: Arc<str>) -> u32 {
        if let Some(&n) = self.numbers.get(&*text) {
            return n;
        }
        let n = self.texts.len() as u32;
        self.texts.push(text.clone());
        self.numbers.insert(text, n);
        n
    }

    /// Appends the rows of `other`, their texts numbered in this table (taken whole into an
    /// empty set when `take_whole`, which would else keep the room reserved here).
    fn join(&mut self, mut other: MessageRows, take_whole: bool) {
        if take_whole && self.rows.is_empty() && self.texts.is_empty() {
            std::mem::swap(self, &mut other);
            return;
        }
        let numbers: Vec<u32> = std::mem::take(&mut other.texts)
            .into_iter()
            .map(|t| self.number(t))
            .collect();
        let moved = |n: u32| if n == NO_TEXT { n } else { numbers[n as usize] };
        let shift = self.recipients.len() as u32;
        self.recipients.append(&mut other.recipients);
        self.rows.extend(other.rows.iter().map(|r| MessageRow {
            from: moved(r.from),
            sender_url: moved(r.sender_url),
            to: moved(r.to),
            recipients: r.recipients + shift,
            recipient_count: r.recipient_count,
        }));
    }

    /// Frees what only adding rows needs (the texts' numbers), once every row is in.
    pub(super) fn seal(&mut self) {
        self.numbers = HashMap::default();
    }

    /// Row `i`.
    pub(super) fn get(&self, i: usize) -> Message<'_> {
        self.view(&self.rows[i])
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = Message<'_>> + '_ {
        self.rows.iter().map(|r| self.view(r))
    }

    fn view(&self, r: &MessageRow) -> Message<'_> {
        let text = |n: u32| (n != NO_TEXT).then(|| &self.texts[n as usize]);
        let first = r.recipients as usize;
        Message {
            from: &self.texts[r.from as usize],
            sender_url: text(r.sender_url),
            to: text(r.to).map_or("", |t| t),
            recipient_urls: &self.recipients[first..first + r.recipient_count as usize],
        }
    }
}

impl std::fmt::Debug for MessageRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A 2018-generation message row.
#[derive(Debug, Clone)]
pub(super) struct Message2018Row {
    /// Name key of `From`.
    pub(super) from: String,
    pub(super) to: String,
    pub(super) at: Option<i64>,
    pub(super) outgoing: bool,
    pub(super) id: ActivityId,
    pub(super) seq: u64,
    pub(super) source: Source,
}

/// What an invitation still tells once its activity is made (as the row is read, at the same
/// position of [`Parsed::invitation_acts`]): the owner's side, to find the owner by, and the
/// other side's name where the row lacks its URL, to resolve it by once the name book is made.
#[derive(Debug, Clone)]
pub(super) struct InvitationRow {
    /// The inviter of an outgoing invitation, the invitee of an incoming one (shared: the
    /// owner's URL repeats on every row).
    pub(super) own_url: Option<Arc<str>>,
    /// The other side's name key (`text::name_key`), kept only when the row has no URL for
    /// it (the activity then has no counterpart yet).
    pub(super) other_name: Option<Arc<str>>,
    pub(super) outgoing: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Connection {
    /// Name key of "First Last".
    pub(super) name: String,
    pub(super) url: Option<String>,
}

/// What one file produced.
#[derive(Debug, Default)]
pub(super) struct Parsed {
    pub(super) activities: Vec<Activity>,
    pub(super) messages: MessageRows,
    /// The activities of `messages`, one per row, direction and people not yet set.
    pub(super) message_acts: Vec<Activity>,
    pub(super) messages_2018: Vec<Message2018Row>,
    pub(super) invitations: Vec<InvitationRow>,
    /// The activities of `invitations`, one per row, a counterpart known only by name not
    /// yet resolved.
    pub(super) invitation_acts: Vec<Activity>,
    pub(super) connections: Vec<Connection>,
    pub(super) diag: Diagnostics,
}

impl Parsed {
    /// Appends what another file gave; a vector of its that this set does not have yet is
    /// taken whole, not copied.
    pub(super) fn merge(&mut self, other: Parsed) {
        self.absorb(other, true);
    }

    /// Appends every vector and the problems of `other`: a vector is moved whole into an
    /// empty one when `take_whole`, else always appended (which keeps the room reserved here).
    fn absorb(&mut self, other: Parsed, take_whole: bool) {
        fn join<T>(to: &mut Vec<T>, mut from: Vec<T>, take_whole: bool) {
            if take_whole && to.is_empty() {
                std::mem::swap(to, &mut from);
            } else {
                to.append(&mut from);
            }
        }
        join(&mut self.activities, other.activities, take_whole);
        self.messages.join(other.messages, take_whole);
        join(&mut self.message_acts, other.message_acts, take_whole);
        join(&mut self.messages_2018, other.messages_2018, take_whole);
        join(&mut self.invitations, other.invitations, take_whole);
        join(&mut self.invitation_acts, other.invitation_acts, take_whole);
        join(&mut self.connections, other.connections, take_whole);
        self.diag.merge(other.diag);
    }

    /// An empty set with room for `rows` rows of a `kind` file, so that no vector is copied
    /// while it grows (the old copies would stay in memory until the allocator purges them).
    pub(super) fn with_room(kind: FileKind, rows: usize) -> Parsed {
        let mut parsed = Parsed::default();
        match kind {
            FileKind::Messages { .. } => {
                parsed.messages.reserve(rows);
                parsed.message_acts.reserve(rows);
            }
            FileKind::Messages2018 => parsed.messages_2018.reserve(rows),
            FileKind::Invitations => {
                parsed.invitations.reserve(rows);
                parsed.invitation_acts.reserve(rows);
            }
            FileKind::Connections => parsed.connections.reserve(rows),
            _ => parsed.activities.reserve(rows),
        }
        parsed
    }

    /// Appends what one batch of a file's rows gave (`piece`, read by a handler of its own)
    /// after what the batches before it gave: its sequence numbers move on by `seq_shift`
    /// (the rows numbered before it), as if one handler had read them all.
    pub(super) fn append_piece(&mut self, mut piece: Parsed, seq_shift: u64) {
        for a in piece
            .activities
            .iter_mut()
            .chain(piece.message_acts.iter_mut())
            .chain(piece.invitation_acts.iter_mut())
        {
            a.hints.seq += seq_shift;
        }
        for m in &mut piece.messages_2018 {
            m.seq += seq_shift;
        }
        // Appended into the room the file's reading reserved, never swapped for a piece's.
        self.absorb(piece, false);
    }
}

/// Which LinkedIn file a set of records stands for (the API's snapshot domains mirror them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// `Shares.csv` (`MEMBER_SHARE_INFO`).
    Shares,
    /// `Comments.csv` (`ALL_COMMENTS`).
    Comments,
    /// `Reactions.csv` (`ALL_LIKES`).
    Reactions,
    /// `messages.csv` (`INBOX`).
    Messages,
    /// `Invitations.csv` (`INVITATIONS`).
    Invitations,
    /// `Connections.csv` (`CONNECTIONS`).
    Connections,
}

impl RowKind {
    pub(super) fn file_kind(self) -> FileKind {
        match self {
            RowKind::Shares => FileKind::Shares,
            RowKind::Comments => FileKind::Comments,
            RowKind::Reactions => FileKind::Reactions,
            RowKind::Messages => FileKind::Messages { guide: false },
            RowKind::Invitations => FileKind::Invitations,
            RowKind::Connections => FileKind::Connections,
        }
    }
}

/// A column the row handlers read, by its column key (see [`column_key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    /// `date`.
    Date,
    /// `sharelink`.
    ShareLink,
    /// `sharecommentary`.
    ShareCommentary,
    /// `link`.
    Link,
    /// `message`.
    Message,
    /// `type`.
    Type,
    /// `optiontext`.
    OptionText,
    /// `conversationid`.
    ConversationId,
    /// `from`.
    From,
    /// `senderprofileurl`.
    SenderProfileUrl,
    /// `to`.
    To,
    /// `recipientprofileurls`.
    RecipientProfileUrls,
    /// `ismessagedraft`.
    IsMessageDraft,
    /// `isconversationdraft`.
    IsConversationDraft,
    /// `content`.
    Content,
    /// `subject`.
    Subject,
    /// `direction`.
    Direction,
    /// `sentat`.
    SentAt,
    /// `inviterprofileurl`.
    InviterProfileUrl,
    /// `inviteeprofileurl`.
    InviteeProfileUrl,
    /// `firstname`.
    FirstName,
    /// `lastname`.
    LastName,
    /// `url`.
    Url,
}

impl Col {
    /// Every column, in the order of [`Col::index`].
    pub const ALL: [Col; 23] = [
        Col::Date,
        Col::ShareLink,
        Col::ShareCommentary,
        Col::Link,
        Col::Message,
        Col::Type,
        Col::OptionText,
        Col::ConversationId,
        Col::From,
        Col::SenderProfileUrl,
        Col::To,
        Col::RecipientProfileUrls,
        Col::IsMessageDraft,
        Col::IsConversationDraft,
        Col::Content,
        Col::Subject,
        Col::Direction,
        Col::SentAt,
        Col::InviterProfileUrl,
        Col::InviteeProfileUrl,
        Col::FirstName,
        Col::LastName,
        Col::Url,
    ];

    /// The column's key (`column_key` of its header cell).
    pub fn key(self) -> &'static str {
        match self {
            Col::Date => "date",
            Col::ShareLink => "sharelink",
            Col::ShareCommentary => "sharecommentary",
            Col::Link => "link",
            Col::Message => "message",
            Col::Type => "type",
            Col::OptionText => "optiontext",
            Col::ConversationId => "conversationid",
            Col::From => "from",
            Col::SenderProfileUrl => "senderprofileurl",
            Col::To => "to",
            Col::RecipientProfileUrls => "recipientprofileurls",
            Col::IsMessageDraft => "ismessagedraft",
            Col::IsConversationDraft => "isconversationdraft",
            Col::Content => "content",
            Col::Subject => "subject",
            Col::Direction => "direction",
            Col::SentAt => "sentat",
            Col::InviterProfileUrl => "inviterprofileurl",
            Col::InviteeProfileUrl => "inviteeprofileurl",
            Col::FirstName => "firstname",
            Col::LastName => "lastname",
            Col::Url => "url",
        }
    }

    /// The column's position in [`Col::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One LinkedIn record, however it is stored: a CSV row of an export file, or a JSON row of
/// the Member Data Portability API (`fetch::linkedin`). Both go through the same row handlers,
/// so an API account and an export follow the very same rules.
pub trait Record {
    /// The 1-based line (CSV) or row number (API) for problem reports.
    fn line(&self) -> u64;
    /// The cell of `column`: empty when absent.
    fn cell(&self, column: Col) -> Cow<'_, str>;
}

/// Column indices of one file and the per-row logic.
pub(super) struct Handler {
    pub(super) kind: FileKind,
    pub(super) source: Source,
    pub(super) seq_base: u64,
    pub(super) seq: u64,
    /// The hash of each synthesized id and the index of its row in the file's vector (see
    /// [`Handler::finish`]), so identical rows stay distinct acts.
    pub(super) made: Vec<(u64, usize)>,
    /// One shared copy of each profile URL and conversation id (they repeat on every row).
    pub(super) shared: Interner,
    /// Name keys of the raw names seen (a name repeats on every row of its conversations;
    /// normalizing it is the costly part).
    pub(super) names: HashMap<String, Arc<str>>,
}

impl Handler {
    pub(super) fn new(kind: FileKind, source: Source, seq_base: u64) -> Self {
        Handler {
            kind,
            source,
            seq_base,
            seq: 0,
            made: Vec::new(),
            shared: Interner::default(),
            names: HashMap::default(),
        }
    }

    /// `text::name_key` of a raw name, computed once per distinct name and shared.
    pub(super) fn name_key(&mut self, raw: &str) -> Arc<str> {
        if let Some(k) = self.names.get(raw) {
            return k.clone();
        }
        let k: Arc<str> = Arc::from(name_key(raw));
        if self.names.len() < 1 << 20 {
            self.names.insert(raw.to_string(), k.clone());
        }
        k
    }

    /// A normalized, shared profile URL (no allocation when the export's URL is already clean).
    pub(super) fn intern_url(&mut self, raw: &str) -> Option<Arc<str>> {
        let t = raw.trim();
        if is_normalized_linkedin_url(t) {
            return Some(self.shared.get(t));
        }
        normalize_linkedin_url(raw).map(|u| self.shared.get(&u))
    }

    pub(super) fn next_seq(&mut self) -> u64 {
        let s = self.seq_base | self.seq;
        self.seq += 1;
        s
    }

    /// A stable id from content for the row that will be `index` in this file's vector;
    /// [`Handler::finish`] gives repeated identical rows `#2`, `#3`, ….
    pub(super) fn synth_id(&mut self, prefix: &str, parts: &[&str], index: usize) -> ActivityId {
        let h = fnv64(parts);
        self.made.push((h, index));
        hash_id(prefix, h)
    }

    /// A handler for other rows of the same file (a batch read on another core), starting
    /// afresh: its rows are numbered from 0 and its ids indexed from 0.
    pub(super) fn sibling(&self) -> Handler {
        Handler::new(self.kind, self.source.clone(), self.seq_base)
    }

    /// Room for an id per row the file's reading reserved in `out` (untouched until used):
    /// grown by doubling, the ids' hashes would leave their old copies behind on the worker's
    /// heap, resident until the import ends (~6 MB for 350k messages).
    pub(super) fn reserve_ids(&mut self, out: &Parsed) {
        let room = match self.kind {
            FileKind::Messages { .. } => out.message_acts.capacity(),
            FileKind::Messages2018 => out.messages_2018.capacity(),
            FileKind::Invitations => out.invitation_acts.capacity(),
            FileKind::Connections | FileKind::Article | FileKind::Profile => 0,
            _ => out.activities.capacity(),
        };
        self.made.reserve(room.saturating_sub(self.rows_in(out)));
    }

    /// How many rows of this file `out` holds (where the next row's index in [`made`] points).
    ///
    /// [`made`]: Handler::made
    pub(super) fn rows_in(&self, out: &Parsed) -> usize {
        match self.kind {
            FileKind::Messages { .. } => out.message_acts.len(),
            FileKind::Messages2018 => out.messages_2018.len(),
            FileKind::Invitations => out.invitation_acts.len(),
            FileKind::Connections => out.connections.len(),
            _ => out.activities.len(),
        }
    }

    /// What this handler made since the last call, for the rows it read into a piece of
    /// their own: its ids' hashes with their indices in the piece, and how many rows it
    /// numbered.
    pub(super) fn take_piece(&mut self) -> (Vec<(u64, usize)>, u64) {
        (
            std::mem::take(&mut self.made),
            std::mem::take(&mut self.seq),
        )
    }

    /// Takes over what another handler made for a piece (`take_piece`) that was appended to
    /// the file's rows after `rows_before` rows, as if this handler had read its rows.
    pub(super) fn adopt(&mut self, (made, seqs): (Vec<(u64, usize)>, u64), rows_before: usize) {
        self.made
            .extend(made.into_iter().map(|(hash, i)| (hash, i + rows_before)));
        self.seq += seqs;
    }

    /// Numbers the repeats once the file is read: the n-th row (in file order) whose content
    /// hash an earlier row had gets `#n` (`common::number_repeats`).
    pub(super) fn finish(&mut self, out: &mut Parsed) {
        let kind = self.kind;
        number_repeats(std::mem::take(&mut self.made), |i, repeat| {
            let act = match kind {
                FileKind::Messages { .. } => out.message_acts.get_mut(i),
                FileKind::Invitations => out.invitation_acts.get_mut(i),
                FileKind::Messages2018 => {
                    if let Some(m) = out.messages_2018.get_mut(i) {
                        m.id.push_str(repeat);
                    }
                    return;
                }
                _ => out.activities.get_mut(i),
            };
            if let Some(a) = act {
                a.suffix_id(repeat);
            }
        });
    }

    /// Parses a date cell: blank → None silently where blanks are expected, else with a warning.
    pub(super) fn date(
        &self,
        raw: &str,
        line: u64,
        blank_ok: bool,
        diag: &mut Diagnostics,
    ) -> Option<i64> {
        if raw.trim().is_empty() {
            if !blank_ok {
                diag.warn(
                    &self.source,
                    Some(line),
                    "missing date (counted as undated)",
                    String::new(),
                );
            }
            return None;
        }
        let at = parse_datetime(raw);
        if at.is_none() {
            diag.warn(
                &self.source,
                Some(line),
                "unparseable date (counted as undated)",
                format!("{:?}", raw.trim()),
            );
        }
        at
    }

    pub(super) fn comment(
        &mut self,
        line: u64,
        date: &str,
        link: &str,
        message: &str,
        out: &mut Parsed,
    ) {
        let at = self.date(date, line, true, &mut out.diag);
        let id = self.synth_id(
            "comment",
            &[date.trim(), link.trim(), message],
            out.activities.len(),
        );
        let mut a = Activity::new(
            Platform::LinkedIn,
            id,
            at,
            Direction::Out,
            Kind::Comment,
            self.source.clone(),
        );
        a.hints.seq = self.next_seq();
        out.activities.push(a);
    }

    pub(super) fn row(&mut self, row: &dyn Record, out: &mut Parsed) {
        match self.kind {
            FileKind::Shares => {
                let date = &*row.cell(Col::Date);
                let link = row.cell(Col::ShareLink).trim().to_string();
                let at = self.date(date, row.line(), false, &mut out.diag);
                let id = if link.is_empty() || is_placeholder(&link) {
                    self.synth_id(
                        "share",
                        &[date, &*row.cell(Col::ShareCommentary)],
                        out.activities.len(),
                    )
                } else {
                    ActivityId::from(link)
                };
                self.simple(out, id, at, Kind::Post);
            }
            FileKind::Comments => {
                let date = row.cell(Col::Date).to_string();
                let link = row.cell(Col::Link).to_string();
                let message = row.cell(Col::Message).to_string();
                self.comment(row.line(), &date, &link, &message, out);
            }
            FileKind::Reactions | FileKind::InstantReposts | FileKind::Votes => {
                let date = &*row.cell(Col::Date);
                let link = &*row.cell(Col::Link);
                let (prefix, kind) = match self.kind {
                    FileKind::Reactions => ("reaction", Kind::Reaction),
                    FileKind::Votes => ("vote", Kind::Vote),
                    _ => ("repost", Kind::Repost),
                };
                let at = self.date(date, row.line(), false, &mut out.diag);
                let extra = row.cell(Col::Type).to_string() + &*row.cell(Col::OptionText);
                let id = self.synth_id(
                    prefix,
                    &[date.trim(), link.trim(), &extra],
                    out.activities.len(),
                );
                self.simple(out, id, at, kind);
            }
            FileKind::Messages { guide } => self.message(row, guide, out),
            FileKind::Messages2018 => self.message_2018(row, out),
            FileKind::Invitations => self.invitation(row, out),
            FileKind::Connections => {
                let first = &*row.cell(Col::FirstName);
                let last = &*row.cell(Col::LastName);
                let name = name_key(&format!("{first} {last}"));
                let url = normalize_linkedin_url(&row.cell(Col::Url));
                if !name.is_empty() || url.is_some() {
                    out.connections.push(Connection { name, url });
                }
            }
            FileKind::Article | FileKind::Profile => {}
        }
    }

    pub(super) fn simple(&mut self, out: &mut Parsed, id: ActivityId, at: Option<i64>, kind: Kind) {
        let mut a = Activity::new(
            Platform::LinkedIn,
            id,
            at,
            Direction::Out,
            kind,
            self.source.clone(),
        );
        a.hints.seq = self.next_seq();
        out.activities.push(a);
    }

    pub(super) fn message(&mut self, row: &dyn Record, guide: bool, out: &mut Parsed) {
        let conversation_cell = row.cell(Col::ConversationId);
        let conversation = conversation_cell.trim();
        let date = &*row.cell(Col::Date);
        if conversation.is_empty() || is_placeholder(conversation) || date.trim().is_empty() {
            let what = if conversation.trim().is_empty() {
                "message without a conversation id"
            } else {
                "message without a date"
            };
            out.diag
                .skip(&self.source, Some(row.line()), what, String::new());
            return;
        }
        let at = self.date(date, row.line(), false, &mut out.diag);
        let truthy = |v: &str| {
            let v = v.trim();
            ["yes", "true", "1", "y"]
                .iter()
                .any(|t| v.eq_ignore_ascii_case(t))
        };
        let draft =
            truthy(&row.cell(Col::IsMessageDraft)) || truthy(&row.cell(Col::IsConversationDraft));
        let from_text = row.cell(Col::From);
        let from_cell = from_text.trim();
        let from = self.name_key(from_cell);
        let recipient_cell = row.cell(Col::RecipientProfileUrls);
        for u in recipient_cell.split([',', ';']) {
            if let Some(u) = self.intern_url(u) {
                out.messages.add_recipient(u);
            }
        }
        let sender_url = self.intern_url(&row.cell(Col::SenderProfileUrl));
        // Names are kept only when there is no recipient URL (names are then all we have).
        let to_cell = if out.messages.has_pending_recipients() {
            Cow::Borrowed("")
        } else {
            row.cell(Col::To)
        };
        let to = to_cell.trim();
        let id = self.synth_id(
            "message",
            &[
                conversation,
                date.trim(),
                from_cell,
                sender_url.as_deref().unwrap_or(""),
                &*row.cell(Col::Content),
                &*row.cell(Col::Subject),
            ],
            out.messages.len(),
        );
        let conversation = self.shared.name(conversation);
        let mut a = Activity::new(
            Platform::LinkedIn,
            id,
            at,
            Direction::In,
            Kind::Message,
            self.source.clone(),
        );
        a.conversation = Some(conversation);
        a.hints.seq = self.next_seq();
        a.hints.excluded = if guide {
            Some(Exclusion::GuideFile)
        } else if draft {
            Some(Exclusion::Draft)
        } else if is_system_sender(&from, sender_url.as_deref()) {
            Some(Exclusion::SystemSender)
        } else {
            None
        };
        out.message_acts.push(a);
        out.messages.push(from, sender_url, to);
    }

    pub(super) fn message_2018(&mut self, row: &dyn Record, out: &mut Parsed) {
        let direction = row.cell(Col::Direction).trim().to_ascii_uppercase();
        let outgoing = match direction.as_str() {
            "OUTGOING" | "SENT" | "OUT" | "OUTBOX" => true,
            "INCOMING" | "RECEIVED" | "IN" | "INBOX" => false,
            _ => {
                out.diag.skip(
                    &self.source,
                    Some(row.line()),
                    "message with an unknown Direction",
                    format!("{direction:?}"),
                );
                return;
            }
        };
        let date = &*row.cell(Col::Date);
        if date.trim().is_empty() {
            out.diag.skip(
                &self.source,
                Some(row.line()),
                "message without a date",
                String::new(),
            );
            return;
        }
        let at = self.date(date, row.line(), false, &mut out.diag);
        let from_text = row.cell(Col::From);
        let from_cell = from_text.trim();
        let from = self.name_key(from_cell);
        let to = row.cell(Col::To).trim().to_string();
        let id = self.synth_id(
            "message",
            &[
                from_cell,
                &to,
                date.trim(),
                &*row.cell(Col::Content),
                &*row.cell(Col::Subject),
            ],
            out.messages_2018.len(),
        );
        let seq = self.next_seq();
        out.messages_2018.push(Message2018Row {
            from: from.to_string(),
            to,
            at,
            outgoing,
            id,
            seq,
            source: self.source.clone(),
        });
    }

    pub(super) fn invitation(&mut self, row: &dyn Record, out: &mut Parsed) {
        let direction = row.cell(Col::Direction).trim().to_ascii_uppercase();
        let outgoing = match direction.as_str() {
            "OUTGOING" | "SENT" => true,
            "INCOMING" | "RECEIVED" => false,
            _ => {
                out.diag.skip(
                    &self.source,
                    Some(row.line()),
                    "invitation with an unknown Direction",
                    format!("{direction:?}"),
                );
                return;
            }
        };
        let date = &*row.cell(Col::SentAt);
        let at = self.date(date, row.line(), false, &mut out.diag);
        // Names and the other side's URL are not shared through the handler's tables: an
        // invitation names each person once, where the owner's URL repeats on every row.
        let from = name_key(&row.cell(Col::From));
        let to = name_key(&row.cell(Col::To));
        let note = !row.cell(Col::Message).trim().is_empty();
        let (own_col, other_col) = if outgoing {
            (Col::InviterProfileUrl, Col::InviteeProfileUrl)
        } else {
            (Col::InviteeProfileUrl, Col::InviterProfileUrl)
        };
        let own_url = self.intern_url(&row.cell(own_col));
        let other_url = normalize_linkedin_url(&row.cell(other_col)).map(Arc::<str>::from);
        let id = self.synth_id(
            "invitation",
            &[&from, &to, date.trim(), &direction],
            out.invitation_acts.len(),
        );
        let (direction, other_name) = if outgoing {
            (Direction::Out, to)
        } else {
            (Direction::In, from)
        };
        let mut a = Activity::new(
            Platform::LinkedIn,
            id,
            at,
            direction,
            Kind::Invitation,
            self.source.clone(),
        );
        let other_name = match other_url {
            Some(u) => {
                a.counterparts = Box::new([u]);
                None
            }
            None => Some(Arc::from(other_name)),
        };
        a.hints.with_note = note;
        a.hints.seq = self.next_seq();
        out.invitation_acts.push(a);
        out.invitations.push(InvitationRow {
            own_url,
            other_name,
            outgoing,
        });
    }
}

/// Sponsored, InMail and anonymous system senders (docs/counting.md, *Modes* rule 1), by name key.
pub(super) fn is_system_sender(key: &str, url: Option<&str>) -> bool {
    key == "sponsored conversation"
        || key == "linkedin talent solutions"
        || (key == "linkedin member" && url.is_none())
}

/// Articles carry no date; the canonical URL (`<h1><a href=".../pulse/...">`) is the id.
pub(super) fn article_activity(html: &[u8], entry: &Entry, source: Source) -> Activity {
    let text = String::from_utf8_lossy(html);
    let id = text
        .find("linkedin.com/pulse/")
        .and_then(|i| {
            let start = text[..i].rfind(['"', '\'']).map(|s| s + 1).unwrap_or(i);
            let end = text[i..].find(['"', '\'', '<', ' ']).map(|e| i + e)?;
            Some(text[start..end].to_string())
        })
        .unwrap_or_else(|| format!("article:{}", entry.name));
    Activity::new(
        Platform::LinkedIn,
        id,
        None,
        Direction::Out,
        Kind::Article,
        source,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(rows: &[(&str, Option<&str>, &str, &[&str])]) -> MessageRows {
        let mut m = MessageRows::default();
        for &(from, sender, to, recipients) in rows {
            for r in recipients {
                m.add_recipient(Arc::from(*r));
            }
            m.push(Arc::from(from), sender.map(Arc::from), to);
        }
        m
    }

    fn texts(m: &MessageRows) -> Vec<(String, Option<String>, String, Vec<String>)> {
        m.iter()
            .map(|r| {
                (
                    r.from.to_string(),
                    r.sender_url.map(|u| u.to_string()),
                    r.to.to_string(),
                    r.recipient_urls.iter().map(|u| u.to_string()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn message_rows_joined_from_pieces_read_as_the_rows_read_in_one_set() {
        let ana = "https://www.linkedin.com/in/ana";
        let ben = "https://www.linkedin.com/in/ben";
        let first: &[(&str, Option<&str>, &str, &[&str])] = &[
            ("ana", Some(ana), "", &[ben]),
            ("ben", Some(ben), "", &[ana, ben]),
            ("", None, "Ana A, Ben B", &[]),
        ];
        let second: &[(&str, Option<&str>, &str, &[&str])] =
            &[("ben", Some(ben), "", &[]), ("cy", None, "Ana A", &[ana])];
        let whole = rows_of(&[first, second].concat());
        let mut joined = rows_of(first);
        joined.join(rows_of(second), false);
        assert_eq!(texts(&joined), texts(&whole));
        assert_eq!(joined.len(), 5);
        // Each distinct text is held once, whichever piece it came from.
        assert_eq!(joined.texts.len(), whole.texts.len());
        assert_eq!(joined.get(3).recipient_urls.len(), 0);
        assert_eq!(joined.get(4).recipient_urls[0].as_ref(), ana);
        // Taken whole into an empty set; sealed, the rows still read the same.
        let mut taken = MessageRows::default();
        taken.join(joined, true);
        taken.seal();
        assert_eq!(texts(&taken), texts(&whole));
    }
}
