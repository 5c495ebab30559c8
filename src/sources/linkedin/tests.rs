//! Tests of the LinkedIn importer on invented files.

use super::csv::*;
use super::people::*;
use super::*;
use crate::model::{Confidence, Direction, Exclusion, Kind, Source};
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

fn cols(s: &str) -> Vec<String> {
    header_cells(s, ',')
}

#[test]
fn files_recognised_by_header_not_name() {
    assert_eq!(
        kind_of(
            &cols("Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl"),
            "x.csv"
        ),
        Some(FileKind::Shares)
    );
    assert_eq!(
        kind_of(&cols("Date,Link,Message"), "Comments_1.csv"),
        Some(FileKind::Comments)
    );
    assert_eq!(
        kind_of(&cols("Date,Type,Link"), "a.csv"),
        Some(FileKind::Reactions)
    );
    assert_eq!(
        kind_of(&cols("Date,Link"), "a.csv"),
        Some(FileKind::InstantReposts)
    );
    assert_eq!(
        kind_of(&cols("Date,OptionText,Link"), "a.csv"),
        Some(FileKind::Votes)
    );
    assert_eq!(
        kind_of(
            &cols("\"CONVERSATION ID\",\"CONVERSATION TITLE\",\"FROM\",\"DATE\""),
            "m.csv"
        ),
        Some(FileKind::Messages { guide: false })
    );
    assert_eq!(
        kind_of(
            &cols("CONVERSATION ID,CONVERSATION TITLE,FROM,DATE"),
            "guide_messages.csv"
        ),
        Some(FileKind::Messages { guide: true })
    );
    assert_eq!(
        kind_of(
            &cols("From,To,Date,Subject,Content,Direction,Folder"),
            "Inbox.csv"
        ),
        Some(FileKind::Messages2018)
    );
    assert_eq!(
        kind_of(
            &cols("From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl"),
            "i.csv"
        ),
        Some(FileKind::Invitations)
    );
    assert_eq!(
        kind_of(
            &cols("First Name,Last Name,URL,Email Address,Company,Position,Connected On"),
            "c.csv"
        ),
        Some(FileKind::Connections)
    );
    assert_eq!(
        kind_of(
            &cols("First Name,Last Name,Maiden Name,Address"),
            "Profile.csv"
        ),
        Some(FileKind::Profile)
    );
    // 2018: `Share Link`, `Share Commentary`, … (spaces), tab-separated.
    assert_eq!(
        kind_of(
            &header_cells(
                "Date\tShare Title\tShare Description\tShare Link\tShare Commentary\tShared URL\tMedia URL\tType\tVisibility",
                '\t'
            ),
            "Shares.csv"
        ),
        Some(FileKind::Shares)
    );
    assert_eq!(
        kind_of(&cols("date,share_link,share_commentary"), "x.csv"),
        Some(FileKind::Shares)
    );
    assert_eq!(
        kind_of(&cols("Time,Search Query"), "SearchQueries.csv"),
        None
    );
}

#[test]
fn comment_record_starts() {
    assert!(
        starts_comment_record(
            b"2024-03-06 08:00:01,https://www.linkedin.com/feed/update/urn:li:activity:1,\"x\""
        )
        .is_some()
    );
    assert!(
        starts_comment_record(b",https://www.linkedin.com/feed/update/urn:li:activity:1,blank")
            .is_some()
    );
    assert!(starts_comment_record(b"\"2024-03-06 08:00:01\",\"https://x\",\"m\"").is_some());
    assert!(starts_comment_record(b"and then, https://x was cited").is_none());
    assert!(starts_comment_record(b"continued text").is_none());
}

fn import(files: &[(&str, &str)], me: Option<&str>) -> crate::sources::Collected {
    import_on(files, me, 2)
}

fn import_on(
    files: &[(&str, &str)],
    me: Option<&str>,
    threads: usize,
) -> crate::sources::Collected {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, body) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, body).expect("write");
    }
    let archive = Archive::open(dir.path(), u64::MAX).expect("open");
    let mut sink = crate::sources::Collected::default();
    let options = ImportOptions {
        me: me.map(String::from).into_iter().collect(),
        threads,
    };
    LinkedInExport
        .read(&archive, &options, &mut sink)
        .expect("read");
    sink
}

const ME: &str = "https://www.linkedin.com/in/me";

const MSG_HEADER: &str = "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER,ATTACHMENTS,IS MESSAGE DRAFT,IS CONVERSATION DRAFT\n";

#[test]
fn notes_preamble_is_skipped_and_names_resolve() {
    let c = import(
        &[
            (
                "Connections.csv",
                "Notes:\n\"Some text, with a comma\nand a newline\"\n\n\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\nKim,Doe,https://www.linkedin.com/in/kim-doe,,,,01 Jan 2024\n",
            ),
            (
                "messages.csv",
                &format!(
                    "{MSG_HEADER}c1,,Me,https://www.linkedin.com/in/me,Kim Doe,,2024-01-01 10:00:00 UTC,,hi,INBOX,,No,No\n"
                ),
            ),
        ],
        Some("https://www.linkedin.com/in/me"),
    );
    assert_eq!(c.activities.len(), 1);
    let a = &c.activities[0];
    assert_eq!(a.direction, Direction::Out);
    assert_eq!(
        *a.counterparts,
        vec![Arc::<str>::from("https://www.linkedin.com/in/kim-doe")]
    );
    assert_eq!(a.confidence, Confidence::Low);
    assert_eq!(a.participants(), Some(2));
}

#[test]
fn owner_from_incoming_invitations_then_messages() {
    let c = import(
        &[(
            "Invitations.csv",
            "From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl\nA,Me,\"1/2/24, 3:04 PM\",,INCOMING,https://www.linkedin.com/in/a,https://www.linkedin.com/in/ME/\n",
        )],
        None,
    );
    assert_eq!(
        c.owners[0].id.as_deref(),
        Some("https://www.linkedin.com/in/me")
    );
    assert!(c.owners[0].how.contains("incoming"));
    // Messages only: the URL in the most conversations, connections left out.
    let msgs = format!(
        "{MSG_HEADER}c1,,A,https://www.linkedin.com/in/a,Me,https://www.linkedin.com/in/me,2024-01-01 10:00:00 UTC,,x,INBOX,,No,No\n\
c2,,Me,https://www.linkedin.com/in/me,B,https://www.linkedin.com/in/b,2024-01-02 10:00:00 UTC,,x,INBOX,,No,No\n\
c3,,B,https://www.linkedin.com/in/b,Me,https://www.linkedin.com/in/me,2024-01-03 10:00:00 UTC,,x,INBOX,,No,No\n\
c4,,B,https://www.linkedin.com/in/b,Me,https://www.linkedin.com/in/me,2024-01-04 10:00:00 UTC,,x,INBOX,,No,No\n"
    );
    let connections = "First Name,Last Name,URL\nB,B,https://www.linkedin.com/in/b\n";
    let c = import(
        &[("messages.csv", &msgs), ("Connections.csv", connections)],
        None,
    );
    assert_eq!(
        c.owners[0].id.as_deref(),
        Some("https://www.linkedin.com/in/me")
    );
    let out = c
        .activities
        .iter()
        .filter(|a| a.direction == Direction::Out)
        .count();
    assert_eq!(out, 1);
}

#[test]
fn drafts_system_senders_deleted_accounts_and_placeholders() {
    let msgs = format!(
        "{MSG_HEADER}c1,,Me,https://www.linkedin.com/in/me,A,https://www.linkedin.com/in/a,2024-01-01 10:00:00 UTC,,draft,INBOX,,No,TRUE\n\
c2,,LinkedIn Member,,Me,https://www.linkedin.com/in/me,2024-01-01 10:00:00 UTC,,x,INBOX,,No,No\n\
c3,,LinkedIn Member,https://www.linkedin.com/in/real,Me,https://www.linkedin.com/in/me,2024-01-01 10:00:00 UTC,,x,INBOX,,No,No\n\
c4,,LinkedIn Talent Solutions,<NA>,Me,https://www.linkedin.com/in/me,2024-01-01 10:00:00 UTC,,x,INBOX,,No,No\n\
c5,,,,Me,https://www.linkedin.com/in/me,2024-01-01 10:00:00 UTC,,x,INBOX,,No,No\n\
c6,,Someone,n/a,Me,https://www.linkedin.com/in/me,2024-01-01 10:00:00 UTC,,x,INBOX,,No,No\n"
    );
    let c = import(
        &[("messages.csv", &msgs)],
        Some("https://www.linkedin.com/in/me"),
    );
    let ex: Vec<Option<Exclusion>> = c.activities.iter().map(|a| a.hints.excluded).collect();
    assert_eq!(
        ex,
        vec![
            Some(Exclusion::Draft),
            Some(Exclusion::SystemSender),
            None,
            Some(Exclusion::SystemSender),
            None,
            None
        ]
    );
    // Deleted account: received, counterpart unknown. Placeholder URL: no URL.
    assert_eq!(c.activities[4].direction, Direction::In);
    assert!(c.activities[4].counterparts.is_empty());
    assert!(c.activities[5].counterparts.is_empty());
}

#[test]
fn broken_comment_records_and_identical_rows() {
    let c = import(
        &[(
            "Comments.csv",
            "Date,Link,Message\n\
2024-01-01 10:00:00,https://www.linkedin.com/feed/update/urn:li:activity:1,Broken, by a comma\n\
2024-01-01 09:00:00 is when I wrote, and a newline\n\
2024-01-02 10:00:00,https://www.linkedin.com/feed/update/urn:li:activity:2,\"quoted \\\"x\\\"\"\n\
2024-01-02 10:00:00,https://www.linkedin.com/feed/update/urn:li:activity:2,\"quoted \\\"x\\\"\"\n",
        )],
        None,
    );
    assert_eq!(c.activities.len(), 3, "{:?}", c.activities);
    assert!(
        c.activities
            .iter()
            .all(|a| a.kind == Kind::Comment && a.at().is_some())
    );
    assert_ne!(c.activities[1].id, c.activities[2].id);
    assert!(c.diagnostics.is_empty());
}

#[test]
fn unparseable_and_blank_dates_are_undated_with_warnings() {
    let c = import(
        &[(
            "Shares.csv",
            "Date,ShareLink,ShareCommentary\nsoon,https://x/1,a\n,https://x/2,b\n2024-01-01 10:00:00,https://x/3,c\n",
        )],
        None,
    );
    let undated = c.activities.iter().filter(|a| a.at().is_none()).count();
    assert_eq!(undated, 2);
    let problems = c.diagnostics.problems();
    assert_eq!(problems.len(), 2);
    assert_eq!(
        problems.iter().map(|p| p.first_line).collect::<Vec<_>>(),
        vec![Some(3), Some(2)]
    );
}

#[test]
fn panicked_parser_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Shares.csv"), "Date,ShareLink\n").expect("write");
    let archive = Archive::open(dir.path(), u64::MAX).expect("open");
    let entry = &archive.entries()[0];
    let r: Result<(), SourceError> = guarded(&archive, entry, || panic!("index out of bounds"));
    let message = r.expect_err("a panic is an error").to_string();
    assert!(message.contains("Shares.csv"), "{message}");
    assert!(message.contains("index out of bounds"), "{message}");
}

#[test]
fn deleted_account_is_the_other_participant_of_a_private_conversation() {
    let msgs = format!(
        "{MSG_HEADER}d1,,Me,https://www.linkedin.com/in/me,,,2024-03-01 08:45:00 UTC,,answer,INBOX,,No,No\n\
d1,,,,Me,https://www.linkedin.com/in/me,2024-03-01 08:00:00 UTC,,question,INBOX,,No,No\n"
    );
    let mut c = import(
        &[("messages.csv", &msgs)],
        Some("https://www.linkedin.com/in/me"),
    );
    crate::classify::classify(&mut c.activities, 8);
    let answer = &c.activities[0];
    assert_eq!(answer.direction, Direction::Out);
    assert_eq!(answer.participants(), Some(2));
    assert_eq!(answer.mode, Some(crate::model::Mode::Conversation));
    assert!(answer.is_private_message());
    assert!(answer.counterparts.is_empty());
    let question = &c.activities[1];
    assert_eq!(question.direction, Direction::In);
    assert!(question.counterparts.is_empty());
}

#[test]
fn owner_not_found_skips_messages_with_a_warning_naming_me() {
    // Old messages without any profile URL and no invitations: no owner, no direction.
    let msgs = "CONVERSATION ID,FROM,TO,DATE,CONTENT\n\
c1,Ada,Robin,2024-01-01 10:00:00 UTC,hi\n\
c1,Robin,Ada,2024-01-01 10:05:00 UTC,hello\n";
    let c = import(&[("messages.csv", msgs)], None);
    assert!(c.activities.is_empty(), "{:?}", c.activities);
    assert_eq!(c.owners[0].id, None);
    let p = c
        .diagnostics
        .problems()
        .into_iter()
        .find(|p| p.reason.starts_with("owner not identified"))
        .expect("warning");
    assert_eq!(p.count, 2);
    assert_eq!(p.outcome, crate::diag::Outcome::Skipped);
    assert!(p.example.contains("--me"), "{}", p.example);
    // With --me the messages count; a sender known only by name is never the owner.
    let c = import(
        &[("messages.csv", msgs)],
        Some("linkedin:https://www.linkedin.com/in/robin"),
    );
    assert_eq!(c.activities.len(), 2);
    assert!(c.activities.iter().all(|a| a.direction == Direction::In));
}

#[test]
fn older_messages_counterparts_are_other_senders_and_resolved_to_names() {
    // No RECIPIENT PROFILE URLS: the owner's message goes to the other senders of the
    // conversation and to the TO names resolved (first within the conversation).
    let msgs = "CONVERSATION ID,FROM,SENDER PROFILE URL,TO,DATE,CONTENT\n\
c1,Me,https://www.linkedin.com/in/me,\"Ada Lovelace, MBA, Bob Roe\",2024-01-01 10:05:00 UTC,hello\n\
c1,\"Ada Lovelace,MBA\",https://www.linkedin.com/in/ada,\"Me, Bob Roe\",2024-01-01 10:00:00 UTC,hi\n\
c1,Cy,https://www.linkedin.com/in/cy,Me,2024-01-01 09:00:00 UTC,first\n";
    let c = import(
        &[("messages.csv", msgs)],
        Some("https://www.linkedin.com/in/me"),
    );
    let mine = &c.activities[0];
    assert_eq!(mine.direction, Direction::Out);
    let cps: Vec<&str> = mine.counterparts.iter().map(|c| &**c).collect();
    assert_eq!(
        cps,
        vec![
            "https://www.linkedin.com/in/ada",
            "https://www.linkedin.com/in/cy"
        ]
    );
    // me, ada, cy and Bob Roe (a name without a URL: a participant, not a counterpart).
    assert_eq!(mine.participants(), Some(4));
    assert_eq!(mine.confidence, Confidence::Low);
}

#[test]
fn to_names_keep_known_names_with_commas() {
    let kim: Arc<str> = Arc::from("https://www.linkedin.com/in/kim");
    let book = NameBook {
        senders: [(
            "kim doe, mba".to_string(),
            [kim.clone()].into_iter().collect(),
        )]
        .into_iter()
        .collect(),
        connections: HashMap::default(),
        known: ["kim doe, mba".to_string()].into_iter().collect(),
    };
    assert_eq!(
        book.split_names("Kim Doe, MBA, Lee Roe"),
        vec!["kim doe, mba", "lee roe"]
    );
    // The spacing around the comma never splits a name into two people.
    assert_eq!(book.split_names("Kim Doe,MBA"), vec!["kim doe, mba"]);
    assert_eq!(book.resolve("kim doe, mba", None, true), Some(kim));
    assert_eq!(book.resolve("lee roe", None, true), None);
}

#[test]
fn identical_rows_stay_distinct_acts_numbered_in_file_order() {
    let reaction =
        "2024-01-01 10:00:00,LIKE,https://www.linkedin.com/feed/update/urn:li:activity:1\n";
    let other = "2024-01-02 10:00:00,LIKE,https://www.linkedin.com/feed/update/urn:li:activity:2\n";
    let message = "c1,,Me,https://www.linkedin.com/in/me,Kim,https://www.linkedin.com/in/kim,2024-01-01 10:00:00 UTC,,same text,INBOX,,No,No\n";
    let c = import(
        &[
            (
                "Reactions.csv",
                &format!("Date,Type,Link\n{reaction}{other}{reaction}{reaction}"),
            ),
            ("messages.csv", &format!("{MSG_HEADER}{message}{message}")),
        ],
        Some("https://www.linkedin.com/in/me"),
    );
    let ids = |kind: Kind| -> Vec<String> {
        let mut v: Vec<(u64, String)> = c
            .activities
            .iter()
            .filter(|a| a.kind == kind)
            .map(|a| (a.hints.seq, a.id.to_string()))
            .collect();
        v.sort();
        v.into_iter().map(|(_, id)| id).collect()
    };
    let reactions = ids(Kind::Reaction);
    assert_eq!(reactions.len(), 4);
    let first = &reactions[0];
    assert!(first.starts_with("reaction:") && !first.contains('#'));
    assert!(!reactions[1].contains('#') && reactions[1] != *first);
    assert_eq!(reactions[2], format!("{first}#2"));
    assert_eq!(reactions[3], format!("{first}#3"));
    let messages = ids(Kind::Message);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1], format!("{}#2", messages[0]));
}

#[test]
fn large_file_handled_on_a_second_core_gives_what_one_pass_gives() {
    // More rows than one batch, CRLF endings, blank rows, a bad date and invalid UTF-8: the
    // rows, their order, ids, repeats, line numbers and problems must not depend on whether
    // the rows were handled on the reading thread or on another one.
    let mut file: Vec<u8> = MSG_HEADER.replace('\n', "\r\n").into_bytes();
    for i in 0..3000 {
        let date = if i == 1500 {
            "someday".to_string()
        } else {
            format!("2024-01-{:02} 10:00:00 UTC", 1 + i % 28)
        };
        let line = format!(
            "c{},,Kim,https://www.linkedin.com/in/kim{},Me,https://www.linkedin.com/in/me,{date},,text {},INBOX,,No,No\r\n",
            i % 40,
            i % 7,
            i % 100
        );
        file.extend_from_slice(line.as_bytes());
        if i % 997 == 0 {
            file.extend_from_slice(b",,,,,,,,,,,,\r\n");
        }
        if i == 2100 {
            file.extend_from_slice(b"c1,,K\xffm,,Me,,2024-02-01 10:00:00 UTC,,x,INBOX,,No,No\r\n");
        }
    }
    let layout = Layout {
        kind: FileKind::Messages { guide: false },
        header_line: 0,
        delimiter: b',',
        columns: cols(MSG_HEADER.trim_end()),
        utf16: false,
    };
    let source: Source = Source::from("messages.csv");
    let parse = |handling: Handling| {
        let mut reader = std::io::BufReader::new(&file[..]);
        let skipped = skip_lines(&mut reader, 1).expect("in memory");
        let mut parsed = Parsed::default();
        parse_records_by(
            reader,
            skipped,
            (&layout, handling),
            &source,
            7 << 40,
            &mut parsed,
        )
        .expect("in memory");
        parsed
    };
    let one = parse(Handling::OnePass);
    assert_eq!(one.messages.len(), 3001);
    assert_eq!(one.message_acts.len(), 3001);
    let problems = one.diag.problems();
    assert!(!problems.is_empty());
    // Batches handled by the other thread only when it keeps up, and every other batch by
    // the reading thread (pieces from two handlers, joined in file order).
    for handling in [Handling::Shared, Handling::Alternating] {
        let two = parse(handling);
        assert_eq!(format!("{:?}", one.messages), format!("{:?}", two.messages));
        assert_eq!(one.message_acts, two.message_acts, "{handling:?}");
        assert_eq!(problems, two.diag.problems());
    }
}

#[test]
fn message_people_set_on_several_threads_equal_one_thread() {
    // Enough rows for several runs of rows (4096 each), in many conversations, with
    // recipients by URL and (older files) by name only.
    let mut csv = String::from(MSG_HEADER);
    for i in 0..10_000 {
        let c = i % 701;
        let them = format!("https://www.linkedin.com/in/p{}", c % 97);
        let (from, from_url, to, to_urls) = match i % 4 {
            0 => ("Me", ME.to_string(), format!("P {}", c % 97), them.clone()),
            1 => (
                "Me",
                ME.to_string(),
                format!("P {}, Q {}", c % 97, c % 13),
                String::new(),
            ),
            2 => ("P", them.clone(), "Me".to_string(), ME.to_string()),
            _ => ("Q", String::new(), "Me".to_string(), String::new()),
        };
        csv.push_str(&format!(
            "c{c},,{from},{from_url},\"{to}\",{to_urls},2024-01-{:02} 10:{:02}:{:02} UTC,,m{i},INBOX,,No,No\n",
            i % 28 + 1,
            i % 60,
            i % 59
        ));
    }
    let files = [("messages.csv", csv.as_str())];
    let one = import_on(&files, Some(ME), 1);
    let three = import_on(&files, Some(ME), 3);
    assert_eq!(one.activities.len(), 10_000);
    assert!(one.activities.iter().any(|a| a.participants() > Some(2)));
    assert!(
        one.activities
            .iter()
            .any(|a| a.confidence == Confidence::Low)
    );
    assert_eq!(
        format!("{:?}", one.activities),
        format!("{:?}", three.activities)
    );
}

#[test]
fn sender_known_by_name_resolves_within_its_conversation_beside_conversations_known_by_urls() {
    // c1 names everyone by URL; c2 has one row by name only. The name "Kim Doe" is used with
    // two URLs in the file, so only c2's own senders can say which Kim wrote there: the
    // per-conversation table must be filled for c2 even though c1 needs none.
    let msgs = format!(
        "{MSG_HEADER}\
c1,,Kim Doe,https://www.linkedin.com/in/kim-a,Me,https://www.linkedin.com/in/me,2024-01-01 09:00:00 UTC,,a,INBOX,,No,No\n\
c1,,Me,https://www.linkedin.com/in/me,Kim Doe,https://www.linkedin.com/in/kim-a,2024-01-01 09:05:00 UTC,,b,INBOX,,No,No\n\
c2,,Kim Doe,https://www.linkedin.com/in/kim-b,Me,https://www.linkedin.com/in/me,2024-01-02 09:00:00 UTC,,c,INBOX,,No,No\n\
c2,,Kim Doe,,Me,https://www.linkedin.com/in/me,2024-01-02 09:10:00 UTC,,d,INBOX,,No,No\n"
    );
    let c = import(&[("messages.csv", &msgs)], Some(ME));
    assert_eq!(c.activities.len(), 4);
    let people: Vec<(Vec<&str>, Confidence)> = c
        .activities
        .iter()
        .map(|a| (a.counterparts.iter().map(|p| &**p).collect(), a.confidence))
        .collect();
    let kim_a = "https://www.linkedin.com/in/kim-a";
    let kim_b = "https://www.linkedin.com/in/kim-b";
    assert_eq!(people[0], (vec![kim_a], Confidence::High));
    assert_eq!(people[1], (vec![kim_a], Confidence::High));
    assert_eq!(people[2], (vec![kim_b], Confidence::High));
    // Resolved by name within c2, so at low confidence.
    assert_eq!(people[3], (vec![kim_b], Confidence::Low));
    assert_eq!(c.activities[3].direction, Direction::In);
}

#[test]
fn invitation_without_url_resolves_through_connections_when_every_message_has_urls() {
    // The messages need no names; the incoming invitation lacks the inviter's URL and is
    // resolved through Connections.csv alone.
    let c = import(
        &[
            (
                "messages.csv",
                &format!(
                    "{MSG_HEADER}c1,,Me,https://www.linkedin.com/in/me,Ada Roe,https://www.linkedin.com/in/ada,2024-01-01 10:00:00 UTC,,hi,INBOX,,No,No\n"
                ),
            ),
            (
                "Invitations.csv",
                "From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl\n\
Kim Doe,Me,\"1/2/24, 9:00 AM\",,INCOMING,,https://www.linkedin.com/in/me\n",
            ),
            (
                "Connections.csv",
                "First Name,Last Name,URL,Email Address,Company,Position,Connected On\nKim,Doe,https://www.linkedin.com/in/kim-doe,,,,01 Jan 2024\n",
            ),
        ],
        None,
    );
    let invitation = c
        .activities
        .iter()
        .find(|a| a.kind == Kind::Invitation)
        .expect("the invitation is counted");
    assert_eq!(
        *invitation.counterparts,
        [Arc::<str>::from("https://www.linkedin.com/in/kim-doe")]
    );
    assert_eq!(invitation.confidence, Confidence::Low);
    assert_eq!(invitation.direction, Direction::In);
    // The owner came from the invitation, so the message is counted too.
    assert!(c.activities.iter().any(|a| a.kind == Kind::Message));
}
