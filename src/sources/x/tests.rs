//! Tests of the X importer on the fixture archives (fixtures/x) and invented files.

use super::rules::*;
use super::*;
use crate::model::{Activity, Direction, Kind};

use crate::classify::classify;
use crate::diag::Outcome;
use crate::model::{Confidence, Mode};
use crate::sources::Collected;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/x")
        .join(name)
}

/// Reads and classifies an export; panics only in tests.
fn load(name: &str) -> Collected {
    load_path(&fixture(name))
}

fn load_path(path: &std::path::Path) -> Collected {
    let archive = Archive::open(path, u64::MAX).expect("fixture opens");
    assert!(
        XArchive.sniff(&archive).expect("sniff"),
        "{} not recognised",
        path.display()
    );
    let mut c = Collected::default();
    XArchive
        .read(&archive, &ImportOptions::default(), &mut c)
        .expect("read");
    classify(&mut c.activities, 8);
    c
}

fn get<'a>(c: &'a Collected, id: &str) -> &'a Activity {
    c.activities
        .iter()
        .find(|a| &*a.id == id)
        .unwrap_or_else(|| panic!("no activity {id}"))
}

fn mode(c: &Collected, id: &str) -> Option<Mode> {
    get(c, id).mode
}

fn cps(a: &Activity) -> Vec<&str> {
    a.counterparts.iter().map(|c| &**c).collect()
}

const T: &str = "17400000000000000";
const M: &str = "17500000000000000";
const OWNER: &str = "1000000001";
const SAM: &str = "2000000002";
const KIM: &str = "3000000003";

#[test]
fn zip_and_folder_read_the_same() {
    let zip = load("ytd.zip");
    let folder = load("ytd");
    assert_eq!(zip.activities.len(), 26);
    assert_eq!(folder.activities.len(), 26);
    let ids = |c: &Collected| {
        let mut v: Vec<String> = c.activities.iter().map(|a| a.id.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&zip), ids(&folder));
    assert_eq!(zip.owners.len(), 1);
    assert_eq!(zip.owners[0].id.as_deref(), Some(OWNER));
    assert!(
        zip.diagnostics.is_empty(),
        "{:?}",
        zip.diagnostics.problems()
    );
}

#[test]
fn self_thread_chain() {
    let c = load("ytd");
    assert_eq!(mode(&c, &format!("{T}01")), Some(Mode::Broadcast));
    for n in ["02", "03"] {
        let a = get(&c, &format!("{T}{n}"));
        assert_eq!(a.kind, Kind::Reply);
        assert!(a.hints.parent_is_owner);
        assert_eq!(a.mode, Some(Mode::SelfThread));
        assert!(a.counterparts.is_empty());
    }
    assert_eq!(
        get(&c, &format!("{T}03")).hints.parent(),
        Some(&*format!("{T}02"))
    );
}

#[test]
fn continued_turn_in_someone_elses_thread() {
    let c = load("ytd");
    let first = get(&c, &format!("{T}04"));
    assert_eq!(first.mode, Some(Mode::Conversation));
    assert_eq!(first.hints.parent_author(), Some(SAM));
    assert_eq!(cps(first), vec![SAM]);
    let second = get(&c, &format!("{T}05"));
    assert!(second.hints.parent_is_owner);
    assert_eq!(second.mode, Some(Mode::Conversation));
    assert_eq!(cps(second), vec![SAM]);
}

#[test]
fn dot_mention_and_four_mentions_stay_broadcast() {
    let c = load("ytd");
    let dot = get(&c, &format!("{T}06"));
    assert_eq!(dot.hints.leading_mentions, None);
    assert_eq!(dot.mode, Some(Mode::Broadcast));
    let four = get(&c, &format!("{T}07"));
    assert_eq!(four.hints.leading_mentions, Some(4));
    assert_eq!(four.mode, Some(Mode::Broadcast));
}

#[test]
fn two_leading_mentions_are_a_conversation() {
    let mut c = load("ytd");
    crate::classify::mark_heuristics(&mut c.activities);
    let a = get(&c, &format!("{T}08"));
    assert_eq!(a.kind, Kind::Post);
    assert_eq!(a.hints.leading_mentions, Some(2));
    assert_eq!(a.mode, Some(Mode::Conversation));
    assert_eq!(a.confidence, Confidence::Low);
    assert_eq!(cps(a), vec![SAM, KIM]);
}

#[test]
fn retweet_of_own_tweet_is_amplification() {
    let c = load("ytd");
    let a = get(&c, &format!("{T}09"));
    assert_eq!(a.kind, Kind::Repost);
    assert_eq!(a.mode, Some(Mode::Amplification));
}

#[test]
fn reply_to_another_user_and_dedup_across_parts() {
    let c = load("ytd");
    let tens: Vec<_> = c
        .activities
        .iter()
        .filter(|a| *a.id == format!("{T}10"))
        .collect();
    assert_eq!(tens.len(), 1);
    assert_eq!(&*tens[0].source, "data/tweets.js");
    assert_eq!(tens[0].mode, Some(Mode::Conversation));
    assert_eq!(cps(tens[0]), vec![KIM]);
    assert!(
        c.diagnostics
            .notes()
            .iter()
            .any(|n| n.contains("1 tweet(s) appear in more than one"))
    );
    // part1 (trailing ';') and the community tweet (BOM) are read too.
    assert_eq!(&*get(&c, &format!("{T}11")).source, "data/tweets-part1.js");
    assert_eq!(
        &*get(&c, &format!("{T}12")).source,
        "data/community-tweet.js"
    );
    assert_eq!(mode(&c, &format!("{T}12")), Some(Mode::Broadcast));
    assert!(
        !c.activities.iter().any(|a| *a.id == format!("{T}99")),
        "deleted tweets are not read"
    );
    let tweets = c
        .activities
        .iter()
        .filter(|a| a.kind != Kind::Message && a.kind != Kind::Reaction);
    assert_eq!(tweets.count(), 12);
}

#[test]
fn dates_parsed() {
    let c = load("ytd");
    // Fri Jan 05 09:00:00 +0000 2024
    assert_eq!(get(&c, &format!("{T}01")).at(), Some(1_704_445_200_000));
    // 2024-01-10T15:00:00.000Z
    assert_eq!(get(&c, &format!("{M}01")).at(), Some(1_704_898_800_000));
}

#[test]
fn one_to_one_dms_both_directions() {
    let c = load("ytd");
    let received = get(&c, &format!("{M}01"));
    assert_eq!(received.direction, Direction::In);
    assert_eq!(received.mode, None);
    assert_eq!(cps(received), vec![SAM]);
    assert_eq!(received.participants(), Some(2));
    assert_eq!(
        received.conversation.as_deref(),
        Some("1000000001-2000000002")
    );
    let sent = get(&c, &format!("{M}02"));
    assert_eq!(sent.direction, Direction::Out);
    assert_eq!(sent.mode, Some(Mode::Conversation));
    assert_eq!(cps(sent), vec![SAM]);
    assert_eq!(sent.participants(), Some(2));
    // Newest first in the file: the last message has the highest position.
    assert!(get(&c, &format!("{M}01")).hints.seq > get(&c, &format!("{M}04")).hints.seq);
    let threads = crate::classify::threads(&c.activities, 8);
    let gap = |id: &str| {
        c.activities
            .iter()
            .position(|a| &*a.id == id)
            .and_then(|i| threads.gap(i))
    };
    assert_eq!(gap(&format!("{M}02")), Some(20 * 60_000));
    assert_eq!(gap(&format!("{M}04")), Some(30 * 60_000));
    assert_eq!(gap(&format!("{M}06")), Some(90 * 60_000));
    assert_eq!(gap(&format!("{M}13")), Some(5 * 60_000));
    assert_eq!(gap(&format!("{M}22")), None);
}

#[test]
fn group_dms_below_and_above_group_max() {
    let c = load("ytd");
    let small = get(&c, &format!("{M}13"));
    assert_eq!(small.participants(), Some(3));
    assert_eq!(small.mode, Some(Mode::Conversation));
    assert_eq!(cps(small), vec![SAM, KIM]);
    assert_eq!(get(&c, &format!("{M}12")).direction, Direction::In);
    assert_eq!(cps(get(&c, &format!("{M}12"))), vec![KIM]);
    let big = get(&c, &format!("{M}22"));
    assert_eq!(big.participants(), Some(10));
    assert_eq!(big.counterparts.len(), 9);
    assert_eq!(big.mode, Some(Mode::Broadcast));
    assert_eq!(get(&c, &format!("{M}21")).participants(), Some(10));
    // Non-message events (join, leave, rename, reaction) are not activities.
    let messages = c
        .activities
        .iter()
        .filter(|a| a.kind == Kind::Message)
        .count();
    assert_eq!(messages, 12);
}

#[test]
fn likes_are_passive_and_undated() {
    let c = load("ytd");
    let likes: Vec<_> = c
        .activities
        .iter()
        .filter(|a| a.kind == Kind::Reaction)
        .collect();
    assert_eq!(likes.len(), 2);
    for l in likes {
        assert_eq!(l.at(), None);
        assert_eq!(l.mode, Some(Mode::Passive));
        assert!(l.id.starts_with("like:173000000000000000"));
    }
}

#[test]
fn numeric_ids_above_2_pow_53_stay_exact() {
    let c = load("old-tweet-js");
    assert_eq!(c.activities.len(), 2);
    let first = get(&c, "1234567890123456789");
    assert_eq!(first.mode, Some(Mode::Broadcast));
    let reply = get(&c, "1234567890123456790");
    assert_eq!(reply.hints.parent(), Some("1234567890123456789"));
    assert!(reply.hints.parent_is_owner);
    assert_eq!(reply.mode, Some(Mode::SelfThread));
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics.problems());
}

#[test]
fn truncated_file_keeps_earlier_tweets_and_warns() {
    let c = load("truncated");
    let ids: Vec<&str> = c.activities.iter().map(|a| &*a.id).collect();
    assert_eq!(ids, vec!["1780000000000000001", "1780000000000000002"]);
    let problems = c.diagnostics.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert_eq!(p.source, "data/tweets.js");
    assert_eq!(p.reason, "truncated or invalid JSON");
    assert_eq!(p.outcome, Outcome::Skipped);
    assert_eq!(p.first_line, Some(3));
    assert!(p.example.contains("at byte"), "{}", p.example);
    assert!(p.example.contains("EOF"), "{}", p.example);
}

#[test]
fn owner_from_dms_when_account_js_missing() {
    let c = load("dms-only");
    assert_eq!(c.owners[0].id.as_deref(), Some(OWNER));
    assert!(c.owners[0].how.contains("2 of 2"), "{}", c.owners[0].how);
    let problems = c.diagnostics.problems();
    assert!(
        problems
            .iter()
            .any(|p| p.reason.contains("account.js missing") && p.outcome == Outcome::Kept),
        "{problems:?}"
    );
    assert_eq!(get(&c, &format!("{M}32")).direction, Direction::Out);
    assert_eq!(get(&c, &format!("{M}31")).direction, Direction::In);
    assert_eq!(get(&c, &format!("{M}33")).direction, Direction::In);
    assert_eq!(get(&c, &format!("{M}33")).participants(), Some(2));
}

#[test]
fn owner_from_self_replies_without_account_js() {
    let c = load("ownerless");
    let u = "17600000000000000";
    assert_eq!(c.owners[0].id.as_deref(), Some(OWNER));
    assert!(c.owners[0].how.contains("repl"), "{}", c.owners[0].how);
    // Replies to the archive's own tweets are self-replies and follow the self-thread rule.
    assert_eq!(mode(&c, &format!("{u}02")), Some(Mode::SelfThread));
    assert_eq!(mode(&c, &format!("{u}03")), Some(Mode::SelfThread));
    let turn = get(&c, &format!("{u}05"));
    assert_eq!(turn.mode, Some(Mode::Conversation));
    assert_eq!(cps(turn), vec![SAM]);
    assert!(!turn.counterparts.iter().any(|c| &**c == OWNER));
}

#[test]
fn leading_handle_without_user_mentions_entity_adds_no_counterpart() {
    let c = load("ownerless");
    let u = "17600000000000000";
    let alone = get(&c, &format!("{u}06"));
    assert_eq!(alone.mode, Some(Mode::Conversation));
    assert_eq!(alone.hints.leading_mentions, Some(1));
    assert!(cps(alone).is_empty());
    let two = get(&c, &format!("{u}07"));
    assert_eq!(two.hints.leading_mentions, Some(2));
    assert_eq!(cps(two), vec![SAM]);
    // 17 characters are no handle: broadcast.
    assert_eq!(mode(&c, &format!("{u}10")), Some(Mode::Broadcast));
}

#[test]
fn grailbird_month_files_recognised_by_first_line_anywhere() {
    let c = load("grailbird-elsewhere");
    assert_eq!(c.owners[0].id.as_deref(), Some(OWNER));
    let mut ids: Vec<&str> = c.activities.iter().map(|a| &*a.id).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        (1..=5)
            .map(|i| format!("57000000000000000{i}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(mode(&c, "570000000000000004"), Some(Mode::SelfThread));
    assert_eq!(mode(&c, "570000000000000003"), Some(Mode::Amplification));
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics.problems());
}

#[test]
fn csv_first_generation_without_owner() {
    let c = load("csv-2014");
    assert_eq!(c.activities.len(), 5);
    assert_eq!(c.owners[0].id, None);
    assert!(
        c.diagnostics
            .problems()
            .iter()
            .any(|p| p.reason.starts_with("owner not identified"))
    );
    let first = get(&c, "460000000000000001");
    assert_eq!(first.at(), Some(1_398_938_400_000)); // 2014-05-01 10:00:00 +0000
    assert_eq!(first.mode, Some(Mode::Broadcast));
    let reply = get(&c, "460000000000000002");
    assert_eq!(reply.mode, Some(Mode::Conversation));
    assert_eq!(cps(reply), vec![SAM]);
    assert_eq!(mode(&c, "460000000000000003"), Some(Mode::Amplification));
    assert_eq!(
        mode(&c, "460000000000000005"),
        Some(Mode::Amplification),
        "retweeted_status_id"
    );
    // Old CSV archives have no user_mentions: addressed, but no counterpart (numeric ids only).
    let addressed = get(&c, "460000000000000004");
    assert_eq!(addressed.mode, Some(Mode::Conversation));
    assert!(cps(addressed).is_empty());
}

#[test]
fn csv_second_generation_with_user_details() {
    let c = load("csv-2016");
    assert_eq!(c.owners[0].id.as_deref(), Some(OWNER));
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics.problems());
    assert_eq!(c.activities.len(), 4);
    assert_eq!(mode(&c, "700000000000000001"), Some(Mode::Broadcast));
    assert_eq!(mode(&c, "700000000000000002"), Some(Mode::SelfThread));
    assert_eq!(mode(&c, "700000000000000003"), Some(Mode::Amplification));
    assert_eq!(mode(&c, "700000000000000004"), Some(Mode::Conversation));
    assert_eq!(get(&c, "700000000000000003").at(), Some(1_454_403_600_000)); // 2016-02-02 09:00
}

#[test]
fn grailbird_and_csv_describe_the_same_tweets() {
    let c = load("grailbird");
    assert_eq!(c.owners[0].id.as_deref(), Some(OWNER));
    // 01..04 and 06 from Grailbird, 05 only in tweets.csv; 01..04 again in tweets.csv.
    assert_eq!(c.activities.len(), 6);
    assert!(
        c.diagnostics
            .notes()
            .iter()
            .any(|n| n.contains("4 tweet(s) appear in more than one"))
    );
    assert_eq!(&*get(&c, "460000000000000005").source, "tweets.csv");
    // Grailbird files are read before tweets.csv: mentions resolve to user ids.
    let addressed = get(&c, "460000000000000004");
    assert_eq!(&*addressed.source, "data/js/tweets/2014_05.js");
    assert_eq!(cps(addressed), vec![SAM, KIM]);
    assert_eq!(mode(&c, "460000000000000003"), Some(Mode::Amplification));
    assert_eq!(mode(&c, "460000000000000006"), Some(Mode::SelfThread));
    assert_eq!(mode(&c, "460000000000000002"), Some(Mode::Conversation));
    assert_eq!(get(&c, "460000000000000001").at(), Some(1_398_938_400_000));
}

#[test]
fn leading_mention_rules() {
    assert_eq!(leading_mentions("@a @b @c @d hi"), vec!["a", "b", "c", "d"]);
    assert_eq!(leading_mentions("@a, @b; @c: hi"), vec!["a", "b", "c"]);
    assert_eq!(leading_mentions(".@a hi"), Vec::<&str>::new());
    assert_eq!(leading_mentions("hi @a"), Vec::<&str>::new());
    assert_eq!(leading_mentions("@a"), vec!["a"]);
    assert_eq!(
        leading_mentions("@abcdefghijklmnop too long"),
        Vec::<&str>::new()
    );
    assert_eq!(leading_mentions("@a@b"), Vec::<&str>::new());
    assert_eq!(leading_mentions("@ hi"), Vec::<&str>::new());
    assert_eq!(leading_mentions("@bob's idea"), vec!["bob"]);
}

#[test]
fn html_unescaped() {
    assert_eq!(
        unescape_html("a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39; &#x41;"),
        "a & b <c> \"d\" 'e' A"
    );
    assert_eq!(unescape_html("AT&T & &bogus; &"), "AT&T & &bogus; &");
    assert_eq!(unescape_html("RT @x"), "RT @x");
    assert_eq!(unescape_html("&amp;lt;"), "&lt;");
}

fn write_export(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    for (name, body) in files {
        let p = dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, body).expect("write");
    }
    dir
}

const ACCOUNT: &str =
    r#"window.YTD.account.part0 = [ { "account" : { "accountId" : "1000000001" } } ]"#;

#[test]
fn wrappers_bad_items_and_bad_dates() {
    let dir = write_export(&[
        ("data/account.js", ACCOUNT),
        (
            "data/community-tweet.js",
            r#"window.YTD.community_tweet.part0 = [
              { "communityTweet" : { "id_str" : "11", "full_text" : "&#64;x", "created_at" : "yesterday" } },
              42,
              { "tweet" : { "id" : 12, "text" : "&amp;", "entities" : "oops", "in_reply_to_user_id" : null } },
              { "tweet" : { "full_text" : "no id" } }
            ];"#,
        ),
    ]);
    let c = load_path(dir.path());
    let ids: Vec<&str> = c.activities.iter().map(|a| &*a.id).collect();
    assert_eq!(ids, vec!["11", "12"]);
    // "&#64;x" is "@x" after unescaping: one leading mention; without a user_mentions
    // entity it names nobody (counterparts are numeric ids only).
    let first = get(&c, "11");
    assert_eq!(first.hints.leading_mentions, Some(1));
    assert!(cps(first).is_empty());
    assert_eq!(first.at(), None);
    assert_eq!(get(&c, "12").kind, Kind::Post);
    let reasons: Vec<(String, Option<u64>)> = c
        .diagnostics
        .problems()
        .iter()
        .map(|p| (p.reason.clone(), p.first_line))
        .collect();
    assert!(
        reasons.contains(&("unparseable date (counted as undated)".into(), Some(1))),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&("item is not a tweet object".into(), Some(2))),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&("tweet without an id".into(), Some(4))),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&("missing date (counted as undated)".into(), Some(3))),
        "{reasons:?}"
    );
}

#[test]
fn json_error_in_one_part_keeps_the_other_parts() {
    let tweet = |id: &str| {
        format!(
            r#"{{ "tweet" : {{ "id_str" : "{id}", "full_text" : "x", "created_at" : "Sat Feb 18 12:33:11 +0000 2023" }} }}"#
        )
    };
    let dir = write_export(&[
        ("data/account.js", ACCOUNT),
        (
            "data/tweets.js",
            &format!("window.YTD.tweets.part0 = [{}, {}]", tweet("1"), tweet("2")),
        ),
        (
            "data/tweets-part1.js",
            &format!(
                "window.YTD.tweets.part1 = [{}, {{ \"tweet\" : {{ \"id_str\" : ]",
                tweet("3")
            ),
        ),
        (
            "data/tweets-part2.js",
            &format!("window.YTD.tweets.part2 = [{}]\n;\n", tweet("4")),
        ),
    ]);
    let c = load_path(dir.path());
    let mut ids: Vec<&str> = c.activities.iter().map(|a| &*a.id).collect();
    ids.sort();
    assert_eq!(ids, vec!["1", "2", "3", "4"]);
    let problems = c.diagnostics.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].source, "data/tweets-part1.js");
    assert_eq!(problems[0].first_line, Some(2));
}

#[test]
fn sniff_rejects_other_exports() {
    let dir = write_export(&[
        ("assets/js/main.js", "console.log(1)"),
        ("notes.csv", "a,b\n"),
    ]);
    let archive = Archive::open(dir.path(), u64::MAX).expect("open");
    assert!(!XArchive.sniff(&archive).expect("sniff"));
    let dir = write_export(&[(
        "data/js/tweets/2014_05.js",
        "\u{FEFF}  Grailbird.data.tweets_2014_05 = []",
    )]);
    let archive = Archive::open(dir.path(), u64::MAX).expect("open");
    assert!(XArchive.sniff(&archive).expect("sniff"));
}

#[test]
fn inflated_bytes_cap_is_an_error_not_a_warning() {
    let archive = Archive::open(&fixture("ytd"), 2000).expect("open");
    let mut c = Collected::default();
    let r = XArchive.read(&archive, &ImportOptions::default(), &mut c);
    assert!(matches!(r, Err(SourceError::TooLarge { .. })), "{r:?}");
}
