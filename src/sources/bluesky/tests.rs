//! Tests of the Bluesky importer against repositories built by `testrepo` (and the committed
//! fixture, which must equal `testrepo::fixture()`).

use std::path::{Path, PathBuf};

use super::testrepo::{self, ANA, BEN, CY, DEE, OWNER, RepoBuilder};
use super::*;
use crate::diag::{Outcome, Problem};
use crate::model::{Confidence, Mode};
use crate::sources::Collected;

const FIXTURE: &str = "fixtures/bluesky/repo.car";

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)
}

fn import(path: &Path) -> Result<Collected, SourceError> {
    let archive = Archive::open(path, u64::MAX)?;
    assert!(
        BlueskyRepo.sniff(&archive)?,
        "{} not sniffed",
        path.display()
    );
    let mut sink = Collected::default();
    BlueskyRepo.read(&archive, &ImportOptions::default(), &mut sink)?;
    Ok(sink)
}

fn classified(path: &Path) -> Collected {
    let mut c = import(path).expect("import");
    crate::classify::classify(&mut c.activities, 8);
    crate::classify::mark_heuristics(&mut c.activities);
    c
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

/// The at:// id of the owner's record of `collection` created at `iso` (clock 0).
fn own(collection: &str, iso: &str) -> String {
    format!("at://{OWNER}/{collection}/{}", testrepo::tid_at(iso, 0))
}

fn post_id(iso: &str) -> String {
    own(POST, iso)
}

fn find<'a>(c: &'a Collected, id: &str) -> &'a Activity {
    c.activities
        .iter()
        .find(|a| &*a.id == id)
        .unwrap_or_else(|| panic!("no activity {id}"))
}

fn people(a: &Activity) -> Vec<&str> {
    a.counterparts.iter().map(|c| &**c).collect()
}

fn problem(c: &Collected, reason: &str) -> Option<Problem> {
    c.diagnostics
        .problems()
        .into_iter()
        .find(|p| p.reason.contains(reason))
}

#[test]
fn fixture_file_is_current() {
    let built = testrepo::fixture().to_car();
    let path = fixture_path();
    if std::env::var_os("RAPPORT_BLESS").is_some() {
        std::fs::write(&path, &built).expect("write fixture");
    }
    let committed = std::fs::read(&path).expect("fixtures/bluesky/repo.car");
    assert!(
        committed == built,
        "{FIXTURE} differs from testrepo::fixture(); regenerate it with \
         `cargo run --example gen_bluesky -- --fixture --out {FIXTURE}`"
    );
}

#[test]
fn follows_only_fixture_file_is_current() {
    let built = testrepo::follows_only().to_car();
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bluesky/follows-only.car");
    if std::env::var_os("RAPPORT_BLESS").is_some() {
        std::fs::write(&path, &built).expect("write fixture");
    }
    let committed = std::fs::read(&path).expect("fixtures/bluesky/follows-only.car");
    assert!(
        committed == built,
        "fixtures/bluesky/follows-only.car differs from testrepo::follows_only(); regenerate it \
         with `cargo run --example gen_bluesky -- --follows-only --out fixtures/bluesky/follows-only.car`"
    );
}

#[test]
fn fixture_tree_has_several_levels() {
    let repo = testrepo::fixture();
    assert!(repo.nodes.len() > 1, "the fixture should exercise subtrees");
    let blocks: rustc_hash::FxHashMap<Cid, &[u8]> = repo
        .blocks
        .iter()
        .map(|(c, b)| (*c, b.as_slice()))
        .collect();
    let (leaves, problems) = car::walk_mst(&blocks, repo.data);
    assert!(problems.is_empty(), "{problems:?}");
    let keys: Vec<&str> = leaves.iter().map(|l| l.key.as_str()).collect();
    let expected: Vec<&str> = repo.records.keys().map(String::as_str).collect();
    assert_eq!(keys, expected, "every key, rebuilt, in order");
    for leaf in &leaves {
        assert_eq!(
            repo.records.get(&leaf.key).map(car::Key::of),
            Some(leaf.cid.clone())
        );
    }
}

#[test]
fn sniffs_and_detects_the_fixture() {
    let (archive, importer) = crate::sources::detect(&fixture_path(), u64::MAX).expect("detected");
    assert_eq!(importer.platform(), Platform::Bluesky);
    assert_eq!(archive.kind(), ContainerKind::File);
}

#[test]
fn owner_is_the_commit_did() {
    let c = import(&fixture_path()).expect("import");
    assert_eq!(c.owners.len(), 1);
    assert_eq!(c.owners[0].id.as_deref(), Some(OWNER));
    assert_eq!(c.owners[0].platform, Platform::Bluesky);
    assert!(c.activities.iter().all(|a| a.direction == Direction::Out));
    assert!(
        c.activities
            .iter()
            .all(|a| a.id.starts_with(&format!("at://{OWNER}/app.bsky.feed.")))
    );
    assert!(c.activities.iter().all(|a| &*a.source == "repo.car"));
}

#[test]
fn fixture_modes() {
    let c = classified(&fixture_path());
    let mode = |id: &str| find(&c, id).mode;
    // January
    let p1 = find(&c, &post_id("2024-01-03T09:00:00.000Z"));
    assert_eq!((p1.kind, p1.mode), (Kind::Post, Some(Mode::Broadcast)));
    let r1 = find(&c, &post_id("2024-01-04T10:00:00.000Z"));
    assert_eq!((r1.kind, r1.mode), (Kind::Reply, Some(Mode::Conversation)));
    assert_eq!(people(r1), vec![ANA]);
    assert_eq!(r1.hints.parent_author(), Some(ANA));
    assert!(!r1.hints.parent_is_owner);
    let s1 = find(&c, &post_id("2024-01-05T08:00:00.000Z"));
    assert_eq!(s1.mode, Some(Mode::SelfThread));
    assert!(s1.hints.parent_is_owner);
    assert_eq!(s1.hints.parent(), Some(&*p1.id));
    assert_eq!(s1.conversation.as_deref(), Some(&*p1.id));
    assert!(s1.counterparts.is_empty());
    assert_eq!(
        mode(&post_id("2024-01-05T08:05:00.000Z")),
        Some(Mode::SelfThread)
    );
    let like = find(&c, &own(LIKE, "2024-01-06T12:00:00.000Z"));
    assert_eq!(
        (like.kind, like.mode),
        (Kind::Reaction, Some(Mode::Passive))
    );
    assert!(like.at().is_some());
    let repost_own = find(&c, &own(REPOST, "2024-01-07T12:00:00.000Z"));
    assert_eq!(
        (repost_own.kind, repost_own.mode),
        (Kind::Repost, Some(Mode::Amplification))
    );
    // February: the continued turn.
    let c1 = find(&c, &post_id("2024-02-01T10:00:00.000Z"));
    assert_eq!((c1.mode, people(c1)), (Some(Mode::Conversation), vec![BEN]));
    let c2 = find(&c, &post_id("2024-02-01T10:02:00.000Z"));
    assert!(c2.hints.parent_is_owner);
    assert_eq!((c2.mode, people(c2)), (Some(Mode::Conversation), vec![BEN]));
    // Addressed mentions by byte offsets.
    let m1 = find(&c, &post_id("2024-02-03T09:00:00.000Z"));
    assert_eq!(m1.hints.leading_mentions, Some(2));
    assert_eq!(people(m1), vec![CY, BEN]);
    assert_eq!(
        (m1.mode, m1.confidence),
        (Some(Mode::Conversation), Confidence::Low)
    );
    let m2 = find(&c, &post_id("2024-02-04T09:00:00.000Z"));
    assert_eq!(m2.hints.leading_mentions, Some(1));
    assert_eq!((m2.mode, people(m2)), (Some(Mode::Conversation), vec![ANA]));
    let typed = find(&c, &post_id("2024-02-05T09:00:00.000Z"));
    assert_eq!(typed.hints.leading_mentions, None);
    assert_eq!(typed.mode, Some(Mode::Broadcast));
    assert_eq!(
        mode(&own(REPOST, "2024-02-10T12:00:00.000Z")),
        Some(Mode::Amplification)
    );
    // March
    assert_eq!(
        mode(&post_id("2024-03-01T09:00:00.000Z")),
        Some(Mode::Broadcast)
    );
    let dot = find(&c, &post_id("2024-03-02T09:00:00.000Z"));
    assert_eq!(
        (dot.hints.leading_mentions, dot.mode),
        (None, Some(Mode::Broadcast))
    );
    let four = find(&c, &post_id("2024-03-03T09:00:00.000Z"));
    assert_eq!(
        (four.hints.leading_mentions, four.mode),
        (Some(4), Some(Mode::Broadcast))
    );
    // Undated reply to Dee.
    let undated = find(&c, &post_id("2024-03-04T09:00:00.000Z"));
    assert_eq!(undated.at(), None);
    assert_eq!(
        (undated.mode, people(undated)),
        (Some(Mode::Conversation), vec![DEE])
    );
    let p = problem(&c, "unparseable createdAt").expect("warned");
    assert_eq!((p.count, p.outcome), (1, Outcome::Kept));
    assert!(p.example.contains("yesterday"), "{}", p.example);

    // 17 acts; the 4 records of other collections are not activities.
    assert_eq!(c.activities.len(), 17);
    let count = |m: Mode| c.activities.iter().filter(|a| a.mode == Some(m)).count();
    assert_eq!(count(Mode::Broadcast), 5);
    assert_eq!(count(Mode::SelfThread), 2);
    assert_eq!(count(Mode::Amplification), 2);
    assert_eq!(count(Mode::Conversation), 6);
    assert_eq!(count(Mode::Passive), 2);
}

#[test]
fn ignored_collections_are_counted_in_one_note() {
    let c = import(&fixture_path()).expect("import");
    assert_eq!(
        c.diagnostics.notes(),
        &["repo.car: ignored 4 records of 3 other collections \
           (app.bsky.graph.follow: 2, app.bsky.actor.profile: 1, app.bsky.graph.block: 1)"
            .to_string()]
    );
    // Only the undated reply is a problem.
    assert_eq!(c.diagnostics.problem_count(), 1);
}

#[test]
fn ignored_note_names_at_most_eight() {
    let mut ignored = BTreeMap::new();
    let names: Vec<String> = (0..10).map(|i| format!("com.example.c{i}")).collect();
    for (i, n) in names.iter().enumerate() {
        ignored.insert(n.clone(), 10 - i as u64);
    }
    let note = ignored_note("x.car", &ignored);
    assert!(
        note.starts_with("x.car: ignored 55 records of 10 other collections (com.example.c0: 10, ")
    );
    assert!(note.ends_with("com.example.c7: 3, …)"), "{note}");
    let one = ignored_note("x.car", &BTreeMap::from([("a.b.c".to_string(), 1)]));
    assert_eq!(
        one,
        "x.car: ignored 1 record of 1 other collection (a.b.c: 1)"
    );
}

fn mentions_of(text: &str, facets: &[(usize, usize, &str)]) -> Vec<String> {
    let list = Ipld::List(
        facets
            .iter()
            .map(|(s, e, d)| testrepo::mention_facet(*s, *e, d))
            .collect(),
    );
    leading_mentions(text.as_bytes(), &list)
        .into_iter()
        .map(String::from)
        .collect()
}

#[test]
fn mentions_use_byte_offsets() {
    // "@zoë" is 5 bytes but 4 chars: the second facet starts at byte 7, char 6.
    let text = "@zoë, @ben hi";
    assert_eq!(mentions_of(text, &[(0, 5, "z"), (7, 11, "b")]), ["z", "b"]);
    // Char offsets (as a buggy reader would assume) point into the wrong bytes.
    assert_eq!(mentions_of(text, &[(0, 4, "z"), (6, 10, "b")]), ["z"]);
    // A multi-byte character between mentions ends the run.
    let text = "@ana ✨ @ben";
    assert_eq!(mentions_of(text, &[(0, 4, "a"), (9, 13, "b")]), ["a"]);
    // Separators: spaces, commas, semicolons, colons; facet order in the record does not matter.
    let text = "@a;@b: @c ,@d x";
    assert_eq!(
        mentions_of(
            text,
            &[(11, 13, "d"), (0, 2, "a"), (3, 5, "b"), (7, 9, "c")]
        ),
        ["a", "b", "c", "d"]
    );
    // Not at byte 0, words between, out of range, overlapping, not an '@': no run or a cut run.
    assert!(mentions_of(".@ben x", &[(1, 5, "b")]).is_empty());
    assert!(mentions_of(" @ben x", &[(1, 5, "b")]).is_empty());
    assert_eq!(mentions_of("@a and @b", &[(0, 2, "a"), (7, 9, "b")]), ["a"]);
    assert!(mentions_of("@a", &[(0, 40, "a")]).is_empty());
    assert_eq!(mentions_of("@ab @c", &[(0, 3, "a"), (2, 6, "x")]), ["a"]);
    assert!(mentions_of("hello", &[(0, 2, "h")]).is_empty());
    assert!(mentions_of("", &[(0, 0, "h")]).is_empty());
    // Non-mention features (links, tags) are not mentions.
    let link = testrepo::map([
        (
            "index",
            testrepo::map([
                ("byteStart", Ipld::Integer(0)),
                ("byteEnd", Ipld::Integer(4)),
            ]),
        ),
        (
            "features",
            Ipld::List(vec![testrepo::map([
                ("$type", testrepo::s("app.bsky.richtext.facet#link")),
                ("uri", testrepo::s("https://example.com")),
            ])]),
        ),
    ]);
    assert!(leading_mentions(b"@x.y", &Ipld::List(vec![link])).is_empty());
    assert!(leading_mentions(b"@x", &Ipld::Null).is_empty());
}

#[test]
fn authorities() {
    assert_eq!(
        authority("at://did:plc:abc/app.bsky.feed.post/1"),
        Some("did:plc:abc")
    );
    assert_eq!(
        authority("at://did:web:example.com"),
        Some("did:web:example.com")
    );
    assert_eq!(authority("at:///x"), None);
    assert_eq!(authority("https://bsky.app/profile/x"), None);
}

// ---- small repositories built for one case ----

const T0: &str = "2024-05-01T10:00:00.000Z";

fn small_repo() -> (testrepo::Repo, Vec<String>) {
    let mut b = RepoBuilder::new(OWNER);
    let mut uris = Vec::new();
    for i in 0..12 {
        let when = format!("2024-05-{:02}T10:00:00.000Z", i + 1);
        uris.push(b.put(
            POST,
            &testrepo::tid_at(&when, 0),
            testrepo::post("hi", &when),
        ));
    }
    (b.build(&testrepo::tid_at(T0, 0)), uris)
}

#[test]
fn truncated_car_keeps_what_is_readable() {
    let (repo, uris) = small_repo();
    let car = repo.to_car();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "cut.car", &car[..car.len() - 10]);
    let c = import(&path).expect("import");
    // The last block (the last record in key order) is cut off.
    assert_eq!(c.activities.len(), 11);
    assert!(
        !c.activities
            .iter()
            .any(|a| &*a.id == uris.last().expect("uri").as_str())
    );
    let cut = problem(&c, "truncated block").expect("reported");
    assert_eq!(cut.outcome, Outcome::Skipped);
    assert_eq!(cut.first_line, Some(repo.blocks.len() as u64));
    assert!(cut.example.contains("at byte"), "{}", cut.example);
    let missing = problem(&c, "record block missing").expect("reported");
    let last_key = repo.records.keys().last().expect("a record");
    assert!(
        missing.example.contains(last_key.as_str()),
        "{}",
        missing.example
    );
    assert_eq!(missing.count, 1);
}

#[test]
fn missing_root_commit_is_an_error_naming_the_cid() {
    let (repo, _) = small_repo();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "noroot.car", &repo.car_without(&repo.commit));
    let err = import(&path).expect_err("no commit");
    let msg = err.to_string();
    assert!(msg.contains(&repo.commit.to_string()), "{msg}");
    assert!(msg.contains("noroot.car"), "{msg}");
    // Header only, no blocks at all.
    let path = write(
        dir.path(),
        "empty.car",
        &testrepo::car_header(&[repo.commit]),
    );
    let err = import(&path).expect_err("no commit");
    assert!(err.to_string().contains("root commit block"), "{err}");
}

#[test]
fn missing_tree_root_is_an_error_naming_the_cid() {
    let (repo, _) = small_repo();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "nodata.car", &repo.car_without(&repo.data));
    let err = import(&path).expect_err("no tree");
    assert!(err.to_string().contains(&repo.data.to_string()), "{err}");
}

#[test]
fn missing_tree_node_skips_its_records_and_names_the_cid() {
    let repo = testrepo::fixture();
    let lost = repo.nodes[1];
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "nonode.car", &repo.car_without(&lost));
    let c = import(&path).expect("import");
    let p = problem(&c, "record tree node missing").expect("reported");
    assert!(p.example.contains(&lost.to_string()), "{}", p.example);
    assert!(!c.activities.is_empty());
    assert!(c.activities.len() < 17);
}

#[test]
fn missing_and_corrupt_record_blocks_are_skipped() {
    let (repo, uris) = small_repo();
    let key = |uri: &str| {
        uri.split_once(&format!("{OWNER}/"))
            .map(|(_, k)| k.to_string())
    };
    let k3 = key(&uris[3]).expect("key");
    let k5 = key(&uris[5]).expect("key");
    let dir = tempfile::tempdir().expect("tempdir");
    // Missing record block.
    let path = write(
        dir.path(),
        "norec.car",
        &repo.car_without(&repo.records[&k3]),
    );
    let c = import(&path).expect("import");
    assert_eq!(c.activities.len(), 11);
    let p = problem(&c, "record block missing").expect("reported");
    assert!(p.example.contains(&k3) && p.example.contains(&repo.records[&k3].to_string()));
    assert_eq!(p.first_line, Some(4));
    // Bytes altered under the same CID: the hash check drops the block.
    let cid5 = repo.records[&k5];
    let path = write(
        dir.path(),
        "flipped.car",
        &repo.car_with_bytes(&cid5, testrepo::encode(&testrepo::post("HI", T0)), false),
    );
    let c = import(&path).expect("import");
    assert_eq!(c.activities.len(), 11);
    let p = problem(&c, "does not match its CID").expect("reported");
    assert_eq!(p.outcome, Outcome::Skipped);
    assert!(p.example.contains(&cid5.to_string()));
    assert!(problem(&c, "record block missing").is_some());
}

#[test]
fn undecodable_record_is_skipped() {
    let mut b = RepoBuilder::new(OWNER);
    b.put(POST, &testrepo::tid_at(T0, 0), testrepo::post("ok", T0));
    b.put_raw(POST, &testrepo::tid_at(T0, 1), vec![0xa1, 0x61]); // a map cut short
    b.put_raw(
        POST,
        &testrepo::tid_at(T0, 2),
        testrepo::encode(&testrepo::s("a string")),
    );
    b.put(
        "com.example.unknown",
        "x",
        testrepo::map([("$type", testrepo::s("app.bsky.feed.post"))]),
    );
    let repo = b.build(&testrepo::tid_at(T0, 0));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "garbage.car", &repo.to_car());
    let c = import(&path).expect("import");
    assert_eq!(c.activities.len(), 1);
    assert!(problem(&c, "undecodable record").is_some());
    assert!(problem(&c, "record is not a map").is_some());
    // The collection comes from the key, not the `$type`: the unknown collection is ignored.
    assert_eq!(
        c.diagnostics.notes(),
        &[
            "garbage.car: ignored 1 record of 1 other collection (com.example.unknown: 1)"
                .to_string()
        ]
    );
}

#[test]
fn bad_cid_and_bad_varint_sections() {
    let (repo, _) = small_repo();
    let mut bytes = testrepo::car_header(&[repo.commit]);
    for (i, (cid, data)) in repo.blocks.iter().enumerate() {
        if i == 2 {
            // A section whose CID has version 7: skipped, framing intact.
            bytes.extend([5, 0x07, 0x71, 0x12, 0x01, 0x00]);
        }
        testrepo::section(cid, data, &mut bytes);
    }
    bytes.extend([0xff; 12]); // a length varint that never ends
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "badcid.car", &bytes);
    let c = import(&path).expect("import");
    assert_eq!(c.activities.len(), 12);
    let p = problem(&c, "unreadable block CID").expect("reported");
    assert_eq!(p.first_line, Some(3));
    let p = problem(&c, "damaged block length").expect("reported");
    assert_eq!(p.first_line, Some(repo.blocks.len() as u64 + 2));
}

#[test]
fn reply_edge_cases() {
    let mut b = RepoBuilder::new(OWNER);
    let theirs = testrepo::their_post(ANA, T0);
    // A reply to a post of the owner missing from the data → self-thread.
    let gone = format!(
        "at://{OWNER}/app.bsky.feed.post/{}",
        testrepo::tid_at(T0, 9)
    );
    b.put(
        POST,
        &testrepo::tid_at(T0, 1),
        testrepo::reply("more", T0, &gone, &gone),
    );
    // The root is the owner's but the parent is Ana's: answering a reply in one's own thread.
    let root = b.put(POST, &testrepo::tid_at(T0, 2), testrepo::post("root", T0));
    b.put(
        POST,
        &testrepo::tid_at(T0, 3),
        testrepo::reply("thanks", T0, &theirs, &root),
    );
    // A reply whose parent is not an at:// URI, and one without a parent.
    b.put(
        POST,
        &testrepo::tid_at(T0, 4),
        testrepo::reply("odd", T0, "https://bsky.app/x", &theirs),
    );
    b.put(
        POST,
        &testrepo::tid_at(T0, 5),
        testrepo::with(
            testrepo::post("no parent", T0),
            "reply",
            testrepo::map([("root", testrepo::strong_ref(&theirs))]),
        ),
    );
    // A mention post with no createdAt, mentioning the owner and Ana.
    let text = "@me @ana hello";
    b.put(
        POST,
        &testrepo::tid_at(T0, 6),
        testrepo::with_mentions(
            testrepo::map([("text", testrepo::s(text))]),
            text,
            &[("@me", OWNER), ("@ana", ANA)],
        ),
    );
    let repo = b.build(&testrepo::tid_at(T0, 0));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "edges.car", &repo.to_car());
    let c = classified(&path);
    let id = |clock: u64| format!("at://{OWNER}/{POST}/{}", testrepo::tid_at(T0, clock));
    assert_eq!(find(&c, &id(1)).mode, Some(Mode::SelfThread));
    let answer = find(&c, &id(3));
    assert_eq!(
        (answer.mode, people(answer)),
        (Some(Mode::Conversation), vec![ANA])
    );
    assert_eq!(answer.conversation.as_deref(), Some(root.as_str()));
    for clock in [4, 5] {
        let a = find(&c, &id(clock));
        assert_eq!((a.kind, a.mode), (Kind::Reply, Some(Mode::Conversation)));
        assert!(a.counterparts.is_empty());
    }
    assert!(problem(&c, "not an at:// URI").is_some());
    assert!(problem(&c, "without a parent URI").is_some());
    let m = find(&c, &id(6));
    assert_eq!(m.at(), None);
    assert_eq!(m.hints.leading_mentions, Some(2));
    assert_eq!(people(m), vec![ANA]);
    assert!(problem(&c, "no createdAt").is_some());
}

#[test]
fn folder_of_cars_groups_by_did() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = testrepo::fixture().to_car();
    write(dir.path(), "a.car", &fixture);
    write(dir.path(), "b.CAR", &fixture); // a second download of the same account
    let (other, _) = {
        let mut b = RepoBuilder::new(BEN);
        b.put(POST, &testrepo::tid_at(T0, 0), testrepo::post("ben's", T0));
        (b.build(&testrepo::tid_at(T0, 0)), ())
    };
    write(dir.path(), "ben.car", &other.to_car());
    write(dir.path(), "notes.txt", b"not a repository");
    write(dir.path(), "broken.car", b"this is not a car at all");
    let c = import(dir.path()).expect("import");
    let owners: Vec<(&str, &str)> = c
        .owners
        .iter()
        .map(|o| (o.id.as_deref().unwrap_or(""), o.how.as_str()))
        .collect();
    assert_eq!(owners.len(), 2, "{owners:?}");
    assert_eq!(owners[0].0, BEN);
    assert_eq!(owners[1].0, OWNER);
    assert!(owners[1].1.contains("a.car, b.CAR"), "{}", owners[1].1);
    assert_eq!(c.activities.len(), 17 * 2 + 1); // duplicates are dropped later, by id
    assert!(
        c.activities
            .iter()
            .any(|a| a.id.starts_with(&format!("at://{BEN}/")))
    );
    let p = problem(&c, "unreadable repository file").expect("reported");
    assert_eq!(p.source, "broken.car");
}

#[test]
fn a_folder_without_car_files_is_not_sniffed() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "repo.car", b"plain text named .car");
    write(dir.path(), "x.json", b"{}");
    let archive = Archive::open(dir.path(), u64::MAX).expect("open");
    assert!(!BlueskyRepo.sniff(&archive).expect("sniff"));
}

#[test]
fn a_single_unreadable_car_is_an_error() {
    let (repo, _) = small_repo();
    let mut car = repo.to_car();
    // Keep the header, wreck everything after it.
    let header_len = testrepo::car_header(&[repo.commit]).len();
    car.truncate(header_len + 3);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "wreck.car", &car);
    let err = import(&path).expect_err("unreadable");
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn synthetic_repositories_read_back() {
    let repo = testrepo::synthetic(2_000, 7);
    assert!(repo.nodes.len() > 20);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "big.car", &repo.to_car());
    let c = classified(&path);
    let acts = repo
        .records
        .keys()
        .filter(|k| !k.starts_with("app.bsky.graph."))
        .count();
    assert_eq!(c.activities.len(), acts);
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics.problems());
    assert!(c.activities.iter().all(|a| a.mode.is_some()));
}

/// `reference.car` was written and signed by Bluesky's own repository code (`@atproto/repo`,
/// see `fixtures/bluesky/make_reference.mjs`): blocks in its order, a four-level tree.
#[test]
fn reads_a_repository_written_by_the_reference_implementation() {
    const DID: &str = "did:plc:referencerapportfixture";
    const OTHER: &str = "did:plc:otherrapportfixture22222";
    const ZOE: &str = "did:plc:zoerapportfixture22222222";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bluesky/reference.car");
    let c = classified(&path);
    assert_eq!(c.owners[0].id.as_deref(), Some(DID));
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics.problems());
    assert_eq!(
        c.diagnostics.notes(),
        &["reference.car: ignored 61 records of 2 other collections \
           (app.bsky.graph.follow: 60, app.bsky.actor.profile: 1)"
            .to_string()]
    );
    let got: Vec<(String, Kind, Option<Mode>, Vec<&str>)> = c
        .activities
        .iter()
        .map(|a| {
            let key = a.id.rsplit('/').next().unwrap_or_default().to_string();
            (key, a.kind, a.mode, people(a))
        })
        .collect();
    let want = vec![
        ("3kaaaaaaaaa2f", Kind::Reaction, Mode::Passive, vec![]),
        ("3kaaaaaaaaa2a", Kind::Post, Mode::Broadcast, vec![]),
        ("3kaaaaaaaaa2b", Kind::Reply, Mode::SelfThread, vec![]),
        (
            "3kaaaaaaaaa2c",
            Kind::Reply,
            Mode::Conversation,
            vec![OTHER],
        ),
        (
            "3kaaaaaaaaa2d",
            Kind::Reply,
            Mode::Conversation,
            vec![OTHER],
        ),
        (
            "3kaaaaaaaaa2e",
            Kind::Post,
            Mode::Conversation,
            vec![ZOE, OTHER],
        ),
        ("3kaaaaaaaaa2g", Kind::Repost, Mode::Amplification, vec![]),
    ];
    let want: Vec<(String, Kind, Option<Mode>, Vec<&str>)> = want
        .into_iter()
        .map(|(k, kind, mode, p)| (k.to_string(), kind, Some(mode), p))
        .collect();
    assert_eq!(got, want);
    assert!(c.activities.iter().all(|a| a.at().is_some()));
}

#[test]
fn zip_holding_a_car() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("export.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).expect("create"));
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("bluesky/README.txt", opts).expect("entry");
    zip.write_all(b"my export").expect("write");
    zip.start_file("bluesky/repo.car", opts).expect("entry");
    zip.write_all(&testrepo::fixture().to_car()).expect("write");
    zip.finish().expect("finish");
    let c = classified(&path);
    assert_eq!(c.activities.len(), 17);
    assert_eq!(c.owners[0].id.as_deref(), Some(OWNER));
    assert!(
        c.activities
            .iter()
            .all(|a| &*a.source == "bluesky/repo.car")
    );
}

#[test]
fn out_of_order_keys_are_reported_but_read() {
    // A hand-made single node whose second key sorts before the first.
    let rec = testrepo::encode(&testrepo::post("x", T0));
    let rec_cid = testrepo::cid_of(&rec);
    let entry = |p: i128, k: &str| {
        testrepo::map([
            ("p", Ipld::Integer(p)),
            ("k", Ipld::Bytes(k.as_bytes().to_vec())),
            ("v", Ipld::Link(rec_cid)),
            ("t", Ipld::Null),
        ])
    };
    let node = testrepo::encode(&testrepo::map([
        ("l", Ipld::Null),
        (
            "e",
            Ipld::List(vec![
                entry(0, "app.bsky.feed.post/b"),
                entry(19, "a"),
                entry(99, "zzz"), // shares more bytes than the previous key has
            ]),
        ),
    ]));
    let node_cid = testrepo::cid_of(&node);
    let commit = testrepo::encode(&testrepo::map([
        ("did", testrepo::s(OWNER)),
        ("version", Ipld::Integer(3)),
        ("data", Ipld::Link(node_cid)),
    ]));
    let commit_cid = testrepo::cid_of(&commit);
    let car = testrepo::car_bytes(
        &[commit_cid],
        &[(commit_cid, commit), (node_cid, node), (rec_cid, rec)],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "order.car", &car);
    let c = import(&path).expect("import");
    assert_eq!(c.activities.len(), 2);
    let p = problem(&c, "out of order").expect("reported");
    assert_eq!(p.outcome, Outcome::Kept);
    assert!(p.example.contains("app.bsky.feed.post/a"), "{}", p.example);
    assert!(problem(&c, "unreadable record key").is_some());
}

#[test]
fn one_record_block_named_by_several_keys_counts_for_each() {
    // Records of identical bytes have one CID: the tree names that block under every key, and
    // each key is an activity of its own with the block's facts (the walk hands a record
    // over only when no other key still names it).
    let mut b = RepoBuilder::new(OWNER);
    let theirs = testrepo::their_post(ANA, T0);
    let reply = testrepo::reply("same words", T0, &theirs, &theirs);
    let like = testrepo::subject_record(LIKE, &theirs, T0);
    for clock in 1..=3 {
        b.put(POST, &testrepo::tid_at(T0, clock), reply.clone());
        b.put(LIKE, &testrepo::tid_at(T0, clock), like.clone());
    }
    let repo = b.build(&testrepo::tid_at(T0, 0));
    let distinct: std::collections::BTreeSet<&Cid> = repo.records.values().collect();
    assert_eq!(distinct.len(), 2, "one block per kind of record");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "same.car", &repo.to_car());
    for threads in [1, 2] {
        let archive = Archive::open(&path, u64::MAX).expect("open");
        let mut c = Collected::default();
        let options = ImportOptions {
            threads,
            ..ImportOptions::default()
        };
        BlueskyRepo.read(&archive, &options, &mut c).expect("read");
        assert!(c.diagnostics.problems().is_empty(), "{:?}", c.diagnostics);
        assert_eq!(c.activities.len(), 6);
        for clock in 1..=3 {
            let at = |collection: &str| {
                format!("at://{OWNER}/{collection}/{}", testrepo::tid_at(T0, clock))
            };
            let r = find(&c, &at(POST));
            assert_eq!(r.kind, Kind::Reply);
            assert_eq!(r.hints.parent(), Some(theirs.as_str()));
            assert_eq!(people(r), vec![ANA]);
            assert_eq!(find(&c, &at(LIKE)).kind, Kind::Reaction);
        }
    }
}

#[test]
fn problems_name_the_cids_of_blocks_reached_as_nodes_and_of_undecodable_records() {
    use testrepo::{cid_of, encode, map, s};
    // Hand-made trees: the root's `l` is a block that is no node (a record, or a block that
    // does not decode, also named as the entry's record); a second entry names a block the
    // file lacks. Only the CIDs a problem may name are kept past the reading.
    let post = encode(&testrepo::post("hi", T0));
    let post_cid = cid_of(&post);
    let broken = vec![0xa1, 0x61]; // a map cut short
    let broken_cid = cid_of(&broken);
    let lost_cid = cid_of(&encode(&testrepo::post("lost", T0)));
    let k1 = format!("{POST}/{}", testrepo::tid_at(T0, 1));
    let k2 = format!("{POST}/{}", testrepo::tid_at(T0, 2));
    let entry = |k: &str, v: Cid| {
        map([
            ("p", Ipld::Integer(0)),
            ("k", Ipld::Bytes(k.as_bytes().to_vec())),
            ("v", Ipld::Link(v)),
            ("t", Ipld::Null),
        ])
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let read = |left: Cid| {
        let root = encode(&map([
            ("l", Ipld::Link(left)),
            (
                "e",
                Ipld::List(vec![entry(&k1, broken_cid), entry(&k2, lost_cid)]),
            ),
        ]));
        let root_cid = cid_of(&root);
        let commit = encode(&map([
            ("did", s(OWNER)),
            ("version", Ipld::Integer(3)),
            ("data", Ipld::Link(root_cid)),
            ("rev", s(&testrepo::tid_at(T0, 0))),
            ("prev", Ipld::Null),
            ("sig", Ipld::Bytes(vec![0x5a; 64])),
        ]));
        let commit_cid = cid_of(&commit);
        let car = testrepo::car_bytes(
            &[commit_cid],
            &[
                (commit_cid, commit),
                (root_cid, root),
                (post_cid, post.clone()),
                (broken_cid, broken.clone()),
            ],
        );
        let c = import(&write(dir.path(), "odd-tree.car", &car)).expect("import");
        assert!(c.activities.is_empty());
        let undecodable = problem(&c, "undecodable record").expect("reported");
        assert!(
            undecodable
                .example
                .starts_with(&format!("{k1} ({broken_cid}): ")),
            "{}",
            undecodable.example
        );
        let missing = problem(&c, "record block missing").expect("reported");
        assert_eq!(missing.example, format!("{k2} ({lost_cid})"));
        let damaged = problem(&c, "damaged record tree node").expect("reported");
        damaged.example
    };
    assert_eq!(
        read(post_cid),
        format!("tree node {post_cid}: no entry list `e`")
    );
    let example = read(broken_cid);
    assert!(
        example.starts_with(&format!("tree node {broken_cid}: not DAG-CBOR: ")),
        "{example}"
    );
}

#[test]
fn a_filed_block_takes_40_bytes() {
    // Every block of a repository has one (1.27M for a million records): 64 bytes before the
    // commit moved out of it and the reasons became static, 48 before `Created` took 16.
    assert_eq!(std::mem::size_of::<Created>(), 16);
    assert_eq!(std::mem::size_of::<RecordView>(), 24);
    assert_eq!(std::mem::size_of::<Option<Filed>>(), 40);
}

#[test]
fn chunked_table_reads_back_across_pieces() {
    let piece = Chunked::<u32>::PIECE;
    let n = 2 * piece + 3;
    let mut list = Chunked::default();
    for i in 0..n {
        list.push(i as u32);
    }
    assert_eq!(list.len(), n);
    assert_eq!(
        list.pieces.len(),
        3,
        "a piece is begun only when the last is full"
    );
    for i in [0, piece - 1, piece, 2 * piece, n - 1] {
        assert_eq!(list[i], i as u32);
    }
    list[piece] = 7;
    assert_eq!(list[piece], 7);
    assert!(
        list.iter()
            .enumerate()
            .all(|(i, v)| i == piece || *v == i as u32)
    );
    assert_eq!(list.into_items().count(), n);
}

#[test]
fn replies_and_mentions_of_one_person_share_one_copy_of_their_did() {
    let mut b = RepoBuilder::new(OWNER);
    let theirs = testrepo::their_post(ANA, T0);
    for clock in 1..=2 {
        b.put(
            POST,
            &testrepo::tid_at(T0, clock),
            testrepo::reply(&format!("re {clock}"), T0, &theirs, &theirs),
        );
    }
    let text = "@ana hello";
    b.put(
        POST,
        &testrepo::tid_at(T0, 3),
        testrepo::with_mentions(testrepo::post(text, T0), text, &[("@ana", ANA)]),
    );
    let repo = b.build(&testrepo::tid_at(T0, 0));
    let dir = tempfile::tempdir().expect("tempdir");
    let c = import(&write(dir.path(), "ana.car", &repo.to_car())).expect("import");
    let ids: Vec<&Arc<str>> = c.activities.iter().map(|a| &a.counterparts[0]).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| &***id == ANA));
    assert!(Arc::ptr_eq(ids[0], ids[1]) && Arc::ptr_eq(ids[1], ids[2]));
}
