//! Tests of the Mastodon importer on the fixture archives (fixtures/mastodon) and invented
//! files.

use std::collections::{BTreeMap, HashSet};

use super::rules::*;
use super::*;
use crate::sources::text::parse_datetime;

use crate::classify::{classify, mark_heuristics};
use crate::diag::Outcome;
use crate::model::{Confidence, Mode};
use crate::sources::Collected;
use std::path::{Path, PathBuf};

const ME: &str = "https://social.example/users/robin";
const SAM: &str = "https://other.example/users/sam";
const KIM: &str = "https://third.example/users/kim";
const LEE: &str = "https://pleroma.example/users/lee";
const ANA: &str = "https://numeric.example/ap/users/115550123";
const DM: &str = "tag:social.example,2024-03-07:objectId=5001:objectType=Conversation";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/mastodon")
        .join(name)
}

/// Reads and classifies an export; panics only in tests.
fn load_path(path: &Path) -> Collected {
    let archive = Archive::open(path, u64::MAX).expect("fixture opens");
    assert!(
        MastodonArchive.sniff(&archive).expect("sniff"),
        "{} not recognised",
        path.display()
    );
    let mut c = Collected::default();
    MastodonArchive
        .read(&archive, &ImportOptions::default(), &mut c)
        .expect("read");
    classify(&mut c.activities, 8);
    mark_heuristics(&mut c.activities);
    c
}

fn load(name: &str) -> Collected {
    load_path(&fixture(name))
}

fn status(n: u32) -> String {
    format!("{ME}/statuses/{n}")
}

fn get<'a>(c: &'a Collected, id: &str) -> &'a Activity {
    c.activities
        .iter()
        .find(|a| &*a.id == id)
        .unwrap_or_else(|| panic!("no activity {id}"))
}

fn st(c: &Collected, n: u32) -> &Activity {
    get(c, &status(n))
}

fn cps(a: &Activity) -> Vec<&str> {
    a.counterparts.iter().map(|c| &**c).collect()
}

fn ms(iso: &str) -> Option<i64> {
    parse_datetime(iso)
}

fn problem(c: &Collected, reason: &str) -> Option<crate::diag::Problem> {
    c.diagnostics
        .problems()
        .into_iter()
        .find(|p| p.reason.contains(reason))
}

#[test]
fn sniffs_folder_tar_gz_and_actor_only() {
    for name in ["archive", "archive.tar.gz", "truncated.tar.gz", "not-json"] {
        let a = Archive::open(&fixture(name), u64::MAX).expect("opens");
        assert!(MastodonArchive.sniff(&a).expect("sniff"), "{name}");
    }
    let li = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/linkedin.zip");
    let a = Archive::open(&li, u64::MAX).expect("opens");
    assert!(!MastodonArchive.sniff(&a).expect("sniff"));
    assert!(looks_like_actor(br#"{"id":"x", "type" : "Service"}"#));
    assert!(!looks_like_actor(br#"{"id":"x","type":"Image"}"#));
    assert!(!looks_like_outbox(b"<html>orderedItems</html>"));
}

#[test]
fn owner_from_actor_json() {
    let c = load("archive");
    assert_eq!(c.owners.len(), 1);
    assert_eq!(c.owners[0].platform, Platform::Mastodon);
    assert_eq!(c.owners[0].id.as_deref(), Some(ME));
    assert_eq!(c.owners[0].how, "id in actor.json");
}

#[test]
fn public_unlisted_and_followers_only_are_broadcast() {
    let c = load("archive");
    for n in [101, 102, 103] {
        let a = st(&c, n);
        assert_eq!(a.kind, Kind::Post, "{n}");
        assert_eq!(a.mode, Some(Mode::Broadcast), "{n}");
        assert_eq!(a.participants(), None);
        assert_eq!(a.direction, Direction::Out);
        assert_eq!(&*a.source, "outbox.json");
    }
    assert_eq!(st(&c, 101).at(), ms("2024-03-02T09:00:00Z"));
}

#[test]
fn direct_to_one_person() {
    let c = load("archive");
    let a = st(&c, 104);
    assert_eq!(a.kind, Kind::Message);
    assert_eq!(a.participants(), Some(2));
    assert_eq!(cps(a), vec![SAM]);
    assert_eq!(a.conversation.as_deref(), Some(DM));
    assert_eq!(a.mode, Some(Mode::Conversation));
    // A leading mention in a direct message is not an addressed-mention hint.
    assert_eq!(a.hints.leading_mentions, None);
}

#[test]
fn direct_to_two_people_uses_context() {
    let c = load("archive");
    let a = st(&c, 105);
    assert_eq!(a.kind, Kind::Message);
    assert_eq!(a.participants(), Some(3));
    assert_eq!(cps(a), vec![SAM, KIM]);
    assert_eq!(
        a.conversation.as_deref(),
        Some("https://social.example/contexts/5003")
    );
    assert_eq!(a.mode, Some(Mode::Conversation));
}

#[test]
fn direct_to_nobody_is_neither_private_nor_a_message() {
    let c = load("archive");
    let a = st(&c, 106);
    assert_eq!(a.kind, Kind::Post);
    assert_eq!(a.participants(), None);
    assert!(a.counterparts.is_empty());
    assert_eq!(a.conversation, None);
    assert_eq!(a.mode, Some(Mode::Broadcast));
    assert!(!a.is_private_message());
}

#[test]
fn direct_reply_is_private_before_reply_rules() {
    let c = load("archive");
    let a = st(&c, 120);
    assert_eq!(a.kind, Kind::Message);
    assert_eq!(a.participants(), Some(2));
    assert_eq!(cps(a), vec![SAM]);
    assert_eq!(a.conversation.as_deref(), Some(DM));
    assert_eq!(
        a.hints.parent(),
        Some("https://other.example/users/sam/statuses/5002")
    );
    assert_eq!(a.hints.parent_author(), Some(SAM));
    assert!(!a.hints.parent_is_owner);
    assert_eq!(a.mode, Some(Mode::Conversation));
    assert_eq!(a.at(), ms("2024-03-07T12:00:00Z"));
}

#[test]
fn self_thread_chain_of_two_in_any_order() {
    let c = load("archive");
    assert_eq!(st(&c, 107).mode, Some(Mode::Broadcast));
    for (n, parent) in [(108, 107), (109, 108)] {
        let a = st(&c, n);
        assert_eq!(a.kind, Kind::Reply);
        assert!(a.hints.parent_is_owner, "{n}");
        assert_eq!(a.hints.parent(), Some(status(parent).as_str()));
        assert_eq!(a.mode, Some(Mode::SelfThread), "{n}");
        assert!(a.counterparts.is_empty());
    }
}

#[test]
fn continued_turn_is_conversation_with_the_other_person() {
    let c = load("archive");
    let first = st(&c, 110);
    assert_eq!(first.kind, Kind::Reply);
    assert_eq!(first.mode, Some(Mode::Conversation));
    assert_eq!(first.hints.parent_author(), Some(SAM));
    assert_eq!(cps(first), vec![SAM]);
    let again = st(&c, 111);
    assert!(again.hints.parent_is_owner);
    assert_eq!(again.mode, Some(Mode::Conversation));
    assert_eq!(cps(again), vec![SAM]);
}

#[test]
fn reply_to_numeric_ap_users_uri() {
    let c = load("archive");
    let a = st(&c, 112);
    assert_eq!(a.mode, Some(Mode::Conversation));
    assert_eq!(a.hints.parent_author(), Some(ANA));
    assert_eq!(cps(a), vec![ANA]);
}

#[test]
fn reply_to_unknown_uri_shape_takes_first_mention_not_owner() {
    let c = load("archive");
    let a = st(&c, 113);
    assert_eq!(a.mode, Some(Mode::Conversation));
    assert_eq!(cps(a), vec![LEE]);
}

#[test]
fn boosts_are_amplification_uri_or_inlined() {
    let c = load("archive");
    let uri = get(&c, &format!("{}/activity", status(114)));
    assert_eq!(uri.kind, Kind::Repost);
    assert_eq!(uri.mode, Some(Mode::Amplification));
    assert_eq!(uri.at(), ms("2024-04-05T08:00:00Z"));
    let own = get(&c, &format!("{}/activity", status(115)));
    assert_eq!(own.kind, Kind::Repost);
    assert_eq!(own.mode, Some(Mode::Amplification));
    assert_eq!(own.at(), ms("2024-04-06T08:00:00Z"));
    // The inlined status is not counted again.
    assert_eq!(
        c.activities.iter().filter(|a| *a.id == status(103)).count(),
        1
    );
}

#[test]
fn poll_with_own_context_is_broadcast() {
    let c = load("archive");
    let a = st(&c, 116);
    assert_eq!(a.kind, Kind::Post);
    assert_eq!(a.mode, Some(Mode::Broadcast));
    assert_eq!(a.at(), ms("2024-04-07T08:00:00Z"));
}

#[test]
fn addressed_mentions() {
    let c = load("archive");
    let a = st(&c, 117);
    assert_eq!(a.hints.leading_mentions, Some(2));
    assert_eq!(cps(a), vec![SAM, KIM]);
    assert_eq!(a.mode, Some(Mode::Conversation));
    assert_eq!(a.confidence, Confidence::Low);
    let dot = st(&c, 118);
    assert_eq!(dot.hints.leading_mentions, None);
    assert_eq!(dot.mode, Some(Mode::Broadcast));
    let four = st(&c, 122);
    assert_eq!(four.hints.leading_mentions, Some(4));
    assert_eq!(four.mode, Some(Mode::Broadcast));
    assert_eq!(four.confidence, Confidence::High);
}

#[test]
fn dates_from_activity_else_status_else_undated_with_warning() {
    let c = load("archive");
    assert_eq!(st(&c, 121).at(), ms("2024-05-03T08:00:00Z"));
    assert_eq!(st(&c, 119).at(), None);
    assert_eq!(st(&c, 119).mode, Some(Mode::Broadcast));
    let p = problem(&c, "unparseable date").expect("warned");
    assert_eq!(p.outcome, Outcome::Kept);
    assert_eq!(p.count, 1);
    assert_eq!(p.first_line, Some(22));
    assert!(p.example.contains("sometime in May"), "{}", p.example);
}

#[test]
fn likes_are_passive_and_undated_bookmarks_ignored() {
    let c = load("archive");
    let likes: Vec<&Activity> = c
        .activities
        .iter()
        .filter(|a| a.kind == Kind::Reaction)
        .collect();
    assert_eq!(likes.len(), 3);
    assert!(likes.iter().all(|a| a.at().is_none()
        && a.mode == Some(Mode::Passive)
        && a.id.starts_with("like:https://")
        && &*a.source == "likes.json"));
    assert_eq!(
        &*likes[0].id,
        "like:https://other.example/users/sam/statuses/1000"
    );
    assert!(!c.activities.iter().any(|a| a.id.contains("1001")));
}

#[test]
fn duplicates_and_other_activity_types_are_noted() {
    let c = load("archive");
    // 20 statuses + 2 boosts + 3 likes; the repeated status and the Update are not counted.
    assert_eq!(c.activities.len(), 25);
    let notes = c.diagnostics.notes().join("\n");
    assert!(notes.contains("1 Update"), "{notes}");
    assert!(
        notes.contains("1 status(es) appear more than once"),
        "{notes}"
    );
    assert!(notes.contains("2 file(s)"), "{notes}");
    // Only the broken date is a problem.
    assert_eq!(c.diagnostics.problem_count(), 1);
}

/// The monthly numbers of fixtures/mastodon (UTC), counted by hand from
/// fixtures/make_mastodon_fixtures.py:
///
/// | month | broadcast | self_thread | amplification | conversation (private) | passive | people |
/// |---|---|---|---|---|---|---|
/// | 2024-03 | 4 (101, 102, 103, 106 direct to nobody) | 0 | 0 | 3 (3) (104, 105, 120) | 0 | sam, kim |
/// | 2024-04 | 2 (107, 116 poll) | 2 (108, 109) | 2 (114, 115) | 4 (0) (110, 111, 112, 113) | 0 | sam, ana, lee |
/// | 2024-05 | 3 (118 `.@`, 121, 122 four mentions) | 0 | 0 | 1 (0) (117) | 0 | sam, kim |
/// | undated | 1 (119) | 0 | 0 | 0 | 3 likes | – |
///
/// Ratios: 3/7 = 0.4286, 4/8 = 0.5000, 1/4 = 0.2500, 0/1 = 0.0000.
#[test]
fn monthly_table_counted_by_hand() {
    for name in ["archive", "archive.tar.gz"] {
        let c = load(name);
        let mut table: BTreeMap<(String, &str), usize> = BTreeMap::new();
        let mut people: BTreeMap<String, HashSet<String>> = BTreeMap::new();
        for a in &c.activities {
            let month = a
                .at()
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map_or("undated".to_string(), |d| d.format("%Y-%m").to_string());
            let mode = a.mode.map_or("none", Mode::as_str);
            *table.entry((month.clone(), mode)).or_default() += 1;
            if a.mode == Some(Mode::Conversation) && a.kind == Kind::Message {
                *table.entry((month.clone(), "private")).or_default() += 1;
            }
            if a.mode == Some(Mode::Conversation) {
                let p = people.entry(month).or_default();
                p.extend(a.counterparts.iter().map(|c| c.to_string()));
            }
        }
        let expect: BTreeMap<(String, &str), usize> = [
            ("2024-03", "broadcast", 4),
            ("2024-03", "conversation", 3),
            ("2024-03", "private", 3),
            ("2024-04", "broadcast", 2),
            ("2024-04", "self_thread", 2),
            ("2024-04", "amplification", 2),
            ("2024-04", "conversation", 4),
            ("2024-05", "broadcast", 3),
            ("2024-05", "conversation", 1),
            ("undated", "broadcast", 1),
            ("undated", "passive", 3),
        ]
        .into_iter()
        .map(|(m, k, n)| ((m.to_string(), k), n))
        .collect();
        assert_eq!(table, expect, "{name}");
        let count = |m: &str| people.get(m).map_or(0, HashSet::len);
        assert_eq!(
            (count("2024-03"), count("2024-04"), count("2024-05")),
            (2, 3, 2),
            "{name}"
        );
    }
}

#[test]
fn zip_container_reads_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("archive.zip");
    let file = std::fs::File::create(&path).expect("create");
    let mut zip = zip::ZipWriter::new(file);
    let root = fixture("archive");
    for name in ["outbox.json", "actor.json", "likes.json", "bookmarks.json"] {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("entry");
        let bytes = std::fs::read(root.join(name)).expect("fixture");
        std::io::Write::write_all(&mut zip, &bytes).expect("write");
    }
    zip.finish().expect("finish");
    let c = load_path(&path);
    assert_eq!(c.activities.len(), 25);
    assert_eq!(st(&c, 111).mode, Some(Mode::Conversation));
}

#[test]
fn owner_fallback_is_the_most_frequent_actor() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        fixture("archive/outbox.json"),
        dir.path().join("outbox.json"),
    )
    .expect("copy");
    let c = load_path(dir.path());
    assert_eq!(c.owners[0].id.as_deref(), Some(ME));
    assert!(
        c.owners[0].how.contains("most frequent actor"),
        "{}",
        c.owners[0].how
    );
    assert!(c.owners[0].how.contains("22 of 22"), "{}", c.owners[0].how);
    // Everything is decided as with actor.json (no likes here).
    let full = load("archive");
    assert_eq!(c.activities.len(), 22);
    for a in &c.activities {
        let b = get(&full, &a.id);
        assert_eq!(
            (
                a.kind,
                a.mode,
                &a.counterparts,
                a.participants(),
                &a.conversation
            ),
            (
                b.kind,
                b.mode,
                &b.counterparts,
                b.participants(),
                &b.conversation
            ),
            "{}",
            a.id
        );
    }
}

#[test]
fn own_statuses_outside_the_actor_path_are_found_in_the_outbox() {
    // A non-Mastodon server: statuses are /objects/<id>; the reply comes first.
    let dir = tempfile::tempdir().expect("tempdir");
    let me = "https://home.example/users/robin";
    let outbox = format!(
        r#"{{"type":"OrderedCollection","orderedItems":[
{{"type":"Create","actor":"{me}","published":"2024-01-02T00:00:00Z","to":["as:Public"],"object":{{"id":"https://home.example/objects/b","inReplyTo":"https://home.example/objects/a","content":"more"}}}},
{{"type":"Create","actor":"{me}","published":"2024-01-03T00:00:00Z","to":["Public"],"object":{{"id":"https://home.example/objects/c","inReplyTo":"https://home.example/objects/z","tag":{{"type":"Mention","href":"https://home.example/users/sam","name":"@sam"}}}}}},
{{"type":"Create","actor":"{me}","published":"2024-01-01T00:00:00Z","to":["https://www.w3.org/ns/activitystreams#Public"],"object":{{"id":"https://home.example/objects/a","inReplyTo":null,"content":"<p>first</p>"}}}}
]}}"#
    );
    std::fs::write(dir.path().join("outbox.json"), outbox).expect("write");
    std::fs::write(
        dir.path().join("actor.json"),
        format!(r#"{{"id":"{me}","type":"Person"}}"#),
    )
    .expect("write");
    let c = load_path(dir.path());
    let b = get(&c, "https://home.example/objects/b");
    assert!(b.hints.parent_is_owner);
    assert_eq!(b.mode, Some(Mode::SelfThread));
    let other = get(&c, "https://home.example/objects/c");
    assert!(!other.hints.parent_is_owner);
    assert_eq!(cps(other), vec!["https://home.example/users/sam"]);
    assert_eq!(other.mode, Some(Mode::Conversation));
    assert_eq!(
        get(&c, "https://home.example/objects/a").mode,
        Some(Mode::Broadcast)
    );
}

#[test]
fn private_thread_root_without_conversation_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let me = "https://social.example/users/robin";
    let sam = "https://other.example/users/sam";
    let item = |n: u32, parent: &str| {
        format!(
            r#"{{"type":"Create","actor":"{me}","published":"2024-02-0{n}T00:00:00Z","to":["{sam}"],"cc":[],"object":{{"id":"{me}/statuses/{n}","inReplyTo":{parent}}}}}"#
        )
    };
    let outbox = format!(
        r#"{{"orderedItems":[{},{},{}]}}"#,
        item(3, &format!("\"{me}/statuses/2\"")),
        item(2, "\"https://other.example/users/sam/statuses/1\""),
        item(4, "null"),
    );
    std::fs::write(dir.path().join("outbox.json"), outbox).expect("write");
    std::fs::write(
        dir.path().join("actor.json"),
        format!(r#"{{"id":"{me}","type":"Person","followers":"{me}/followers"}}"#),
    )
    .expect("write");
    let c = load_path(dir.path());
    let root = "https://other.example/users/sam/statuses/1";
    assert_eq!(st(&c, 2).conversation.as_deref(), Some(root));
    assert_eq!(st(&c, 3).conversation.as_deref(), Some(root));
    assert_eq!(st(&c, 4).conversation.as_deref(), Some(status(4).as_str()));
    assert!(
        c.activities
            .iter()
            .all(|a| a.mode == Some(Mode::Conversation))
    );
}

#[test]
fn truncated_tar_gz_warns_and_keeps_what_was_read() {
    let c = load("truncated.tar.gz");
    let damage = problem(&c, "damaged archive").expect("damage reported");
    assert_eq!(damage.outcome, Outcome::Kept);
    assert!(
        damage.source.ends_with("truncated.tar.gz"),
        "{}",
        damage.source
    );
    let cut = problem(&c, "truncated or invalid JSON").expect("cut reported");
    assert_eq!(cut.outcome, Outcome::Skipped);
    assert_eq!(cut.source, "outbox.json");
    // actor.json (written last) is lost: the owner comes from the outbox.
    assert_eq!(c.owners[0].id.as_deref(), Some(ME));
    assert!(c.owners[0].how.contains("most frequent actor"));
    // The items before the cut, in file order (120, 109, 101, 102, …), are all kept and
    // classified as in the full archive; likes.json is lost.
    // The cut (half of the gzip bytes) falls in item 10: 9 items are whole.
    let kept = cut.first_line.expect("item number") - 1;
    assert_eq!(kept, 9);
    assert_eq!(c.activities.len() as u64, kept);
    let full = load("archive");
    for a in &c.activities {
        assert_eq!(a.mode, get(&full, &a.id).mode, "{}", a.id);
    }
    assert_eq!(st(&c, 120).mode, Some(Mode::Conversation));
    // 109's parent 108 is after the cut: a missing parent is a self-thread.
    assert_eq!(st(&c, 109).mode, Some(Mode::SelfThread));
}

#[test]
fn not_json_outbox_is_reported() {
    let c = load("not-json");
    assert!(c.activities.is_empty());
    let p = problem(&c, "truncated or invalid JSON").expect("reported");
    assert_eq!(p.outcome, Outcome::Skipped);
    assert_eq!(p.first_line, Some(1));
    assert!(
        p.example.contains("the 0 item(s) before it were kept"),
        "{}",
        p.example
    );
    assert_eq!(c.owners[0].id.as_deref(), Some(ME));
}

#[test]
fn text_helpers() {
    assert_eq!(
        html_text("<p>a &amp; b<br/>c&#39;s &#x41; &bogus; &</p>"),
        " a & b c's A &bogus; & "
    );
    assert_eq!(html_text("<p>x<é"), " x");
    assert_eq!(
        leading_mentions("@sam @kim@third.example, hi"),
        vec!["sam", "kim@third.example"]
    );
    assert_eq!(
        leading_mentions("@sam: @kim; @lee hi @ana"),
        vec!["sam", "kim", "lee"]
    );
    assert_eq!(
        leading_mentions("@sam@other.example."),
        vec!["sam@other.example"]
    );
    assert!(leading_mentions(".@sam hi").is_empty());
    assert!(leading_mentions("hi @sam").is_empty());
    assert!(leading_mentions("@ alone").is_empty());
    assert_eq!(
        author_of("https://x.example/users/sam/statuses/1"),
        Some("https://x.example/users/sam")
    );
    assert_eq!(
        author_of("https://x.example/ap/users/12/statuses/34"),
        Some("https://x.example/ap/users/12")
    );
    assert_eq!(author_of("https://x.example/objects/1"), None);
    assert_eq!(author_of("https://x.example/users/sam/statuses/"), None);
    let tags = vec![
        (SAM.to_string(), "@sam@other.example".to_string()),
        (KIM.to_string(), "@kim".to_string()),
    ];
    assert_eq!(mention_href("sam", &tags), Some(SAM));
    assert_eq!(mention_href("Sam@Other.example", &tags), Some(SAM));
    assert_eq!(mention_href("kim", &tags), Some(KIM));
    assert_eq!(mention_href("lee", &tags), None);
}
