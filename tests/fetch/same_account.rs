//! Fetched = exported: one invented Mastodon account, written as an account archive and
//! served as API pages by a local server, must give the same metrics (every column but
//! `received`: the API adds received mentions, which an archive does not hold). Each status
//! is written twice from one description, so both paths see the same acts.

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::Env;
use super::mastodon::{Fake, account_spec, login};

const ME: &str = "https://social.example/users/robin";
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// A person the owner talks to: API account id, actor URI, profile URL, acct.
struct Person {
    id: &'static str,
    actor: &'static str,
    url: &'static str,
    acct: &'static str,
}

const SAM: Person = Person {
    id: "7",
    actor: "https://other.example/users/sam",
    url: "https://other.example/@sam",
    acct: "sam@other.example",
};
const KIM: Person = Person {
    id: "8",
    actor: "https://third.example/users/kim",
    url: "https://third.example/@kim",
    acct: "kim@third.example",
};
/// An account whose actor lives under /ap/users/: its profile URL says nothing of it.
const ANA: Person = Person {
    id: "9",
    actor: "https://numeric.example/ap/users/115550123",
    url: "https://numeric.example/@ana",
    acct: "ana@numeric.example",
};
const LEE: Person = Person {
    id: "10",
    actor: "https://pleroma.example/users/lee",
    url: "https://pleroma.example/users/lee",
    acct: "lee@pleroma.example",
};

#[derive(Clone, Copy, PartialEq)]
enum Visibility {
    Public,
    Unlisted,
    Followers,
    Direct,
}

/// One status of the account, described once.
struct Item {
    n: u64,
    day: &'static str,
    visibility: Visibility,
    /// HTML content (mentions as Mastodon writes them).
    content: String,
    mentions: Vec<&'static Person>,
    /// Reply to an own status (its number) or to someone's status (URI, author).
    reply_own: Option<u64>,
    reply_to: Option<(&'static str, &'static Person)>,
    /// A boost of someone's status, or of an own one.
    boost_of: Option<(String, Option<&'static Person>)>,
}

fn hcard(p: &Person) -> String {
    let user = p.acct.split('@').next().unwrap_or("");
    format!(
        "<span class=\"h-card\" translate=\"no\"><a href=\"{}\" class=\"u-url mention\">@<span>{user}</span></a></span>",
        p.url
    )
}

fn item(n: u64, day: &'static str, visibility: Visibility, content: String) -> Item {
    Item {
        n,
        day,
        visibility,
        content,
        mentions: Vec::new(),
        reply_own: None,
        reply_to: None,
        boost_of: None,
    }
}

fn status_uri(n: u64) -> String {
    format!("{ME}/statuses/{n}")
}

fn account_items() -> Vec<Item> {
    use Visibility::*;
    let mut v = vec![
        item(201, "2024-03-01", Public, "<p>Hello world</p>".into()),
        item(
            202,
            "2024-03-02",
            Unlisted,
            "<p>Unlisted musings</p>".into(),
        ),
        item(203, "2024-03-03", Followers, "<p>For followers</p>".into()),
        Item {
            mentions: vec![&SAM],
            ..item(
                204,
                "2024-03-04",
                Direct,
                format!("<p>{} see you at five?</p>", hcard(&SAM)),
            )
        },
        Item {
            mentions: vec![&SAM, &KIM],
            ..item(
                205,
                "2024-03-05",
                Direct,
                format!("<p>{} {} lunch?</p>", hcard(&SAM), hcard(&KIM)),
            )
        },
        item(206, "2024-03-06", Direct, "<p>Note to self</p>".into()),
        item(207, "2024-04-01", Public, "<p>A thread, 1/3</p>".into()),
        Item {
            reply_own: Some(207),
            ..item(208, "2024-04-01", Public, "<p>2/3</p>".into())
        },
        Item {
            reply_own: Some(208),
            ..item(209, "2024-04-01", Public, "<p>3/3</p>".into())
        },
        Item {
            mentions: vec![&SAM],
            reply_to: Some(("https://other.example/users/sam/statuses/999", &SAM)),
            ..item(
                210,
                "2024-04-02",
                Public,
                format!("<p>{} good point</p>", hcard(&SAM)),
            )
        },
        Item {
            mentions: vec![&SAM],
            reply_own: Some(210),
            ..item(
                211,
                "2024-04-02",
                Public,
                format!("<p>{} and one more thing</p>", hcard(&SAM)),
            )
        },
        // A reply that does not mention the parent's author.
        Item {
            reply_to: Some((
                "https://numeric.example/ap/users/115550123/statuses/5",
                &ANA,
            )),
            ..item(212, "2024-04-03", Public, "<p>same here</p>".into())
        },
        Item {
            boost_of: Some(("https://other.example/users/sam/statuses/1000".into(), None)),
            ..item(213, "2024-04-05", Public, String::new())
        },
        Item {
            boost_of: Some((status_uri(201), Some(&SAM))),
            ..item(214, "2024-04-06", Public, String::new())
        },
        Item {
            mentions: vec![&SAM, &KIM],
            ..item(
                215,
                "2024-05-01",
                Public,
                format!("<p>{} {} have you seen this?</p>", hcard(&SAM), hcard(&KIM)),
            )
        },
        // One leading mention; Kim is named later: only Sam is addressed.
        Item {
            mentions: vec![&SAM, &KIM],
            ..item(
                216,
                "2024-05-02",
                Public,
                format!("<p>{} ask {}<br>about it</p>", hcard(&SAM), hcard(&KIM)),
            )
        },
        Item {
            mentions: vec![&SAM],
            ..item(
                217,
                "2024-05-03",
                Public,
                format!("<p>.{} is speaking today</p>", hcard(&SAM)),
            )
        },
        Item {
            mentions: vec![&SAM, &KIM, &LEE, &ANA],
            ..item(
                218,
                "2024-05-04",
                Public,
                format!(
                    "<p>{} {} {} {} hello all</p>",
                    hcard(&SAM),
                    hcard(&KIM),
                    hcard(&LEE),
                    hcard(&ANA)
                ),
            )
        },
        Item {
            mentions: vec![&ANA],
            ..item(
                219,
                "2024-05-05",
                Public,
                format!("<p>{} welcome!</p>", hcard(&ANA)),
            )
        },
    ];
    v.sort_by_key(|i| i.n);
    v
}

const LIKED: [&str; 2] = [
    "https://other.example/users/sam/statuses/1001",
    "https://third.example/users/kim/statuses/77",
];

fn addressing(i: &Item) -> (Vec<String>, Vec<String>) {
    let followers = format!("{ME}/followers");
    let mentioned: Vec<String> = i.mentions.iter().map(|p| p.actor.to_string()).collect();
    match i.visibility {
        Visibility::Public => (
            vec![PUBLIC.into()],
            std::iter::once(followers).chain(mentioned).collect(),
        ),
        Visibility::Unlisted => (
            vec![followers],
            std::iter::once(PUBLIC.to_string())
                .chain(mentioned)
                .collect(),
        ),
        Visibility::Followers => (vec![followers], mentioned),
        Visibility::Direct => (mentioned, Vec::new()),
    }
}

/// The archive's outbox item for one status.
fn outbox_item(i: &Item) -> Value {
    let published = format!("{}T10:00:00Z", i.day);
    let (to, cc) = addressing(i);
    if let Some((uri, _)) = &i.boost_of {
        return json!({"id": format!("{}/activity", status_uri(i.n)), "type": "Announce", "actor": ME,
            "published": published, "to": to, "cc": cc, "object": uri});
    }
    let in_reply_to = i
        .reply_own
        .map(status_uri)
        .or_else(|| i.reply_to.map(|(u, _)| u.to_string()));
    let tags: Vec<Value> = i
        .mentions
        .iter()
        .map(|p| json!({"type": "Mention", "href": p.actor, "name": format!("@{}", p.acct)}))
        .collect();
    json!({"id": format!("{}/activity", status_uri(i.n)), "type": "Create", "actor": ME,
        "published": published, "to": to, "cc": cc,
        "object": {"id": status_uri(i.n), "type": "Note", "inReplyTo": in_reply_to,
            "published": published, "attributedTo": ME, "to": to, "cc": cc,
            "content": i.content, "tag": tags}})
}

/// The API's Status entity for the same status.
fn api_status(i: &Item) -> Value {
    let created = format!("{}T10:00:00.000Z", i.day);
    let visibility = match i.visibility {
        Visibility::Public => "public",
        Visibility::Unlisted => "unlisted",
        Visibility::Followers => "private",
        Visibility::Direct => "direct",
    };
    let me = json!({"id": "1", "username": "robin", "acct": "robin",
        "url": "https://social.example/@robin", "uri": ME});
    if let Some((uri, author)) = &i.boost_of {
        let author = author.map_or(
            json!({"id": "1", "username": "robin", "acct": "robin", "url": "https://social.example/@robin", "uri": ME}),
            |p| json!({"id": p.id, "acct": p.acct, "url": p.url}),
        );
        return json!({"id": i.n.to_string(), "uri": format!("{}/activity", status_uri(i.n)),
            "created_at": created, "visibility": visibility, "content": "",
            "in_reply_to_id": null, "in_reply_to_account_id": null, "mentions": [],
            "reblog": {"id": "5000", "uri": uri, "account": author, "content": "<p>theirs</p>"},
            "account": me});
    }
    let (reply_id, reply_account) = match (i.reply_own, i.reply_to) {
        (Some(n), _) => (json!(n.to_string()), json!("1")),
        (None, Some((_, p))) => (json!("88888"), json!(p.id)),
        _ => (Value::Null, Value::Null),
    };
    let mentions: Vec<Value> = i
        .mentions
        .iter()
        .map(|p| {
            json!({"id": p.id, "url": p.url, "acct": p.acct,
                "username": p.acct.split('@').next().unwrap_or("")})
        })
        .collect();
    json!({"id": i.n.to_string(), "uri": status_uri(i.n), "created_at": created,
        "visibility": visibility, "content": i.content, "in_reply_to_id": reply_id,
        "in_reply_to_account_id": reply_account, "mentions": mentions, "reblog": null,
        "account": me})
}

fn write_archive(dir: &std::path::Path, items: &[Item]) {
    let outbox = json!({"id": "outbox.json", "type": "OrderedCollection",
        "totalItems": items.len(), "orderedItems": items.iter().map(outbox_item).collect::<Vec<_>>()});
    let actor = json!({"id": ME, "type": "Person", "preferredUsername": "robin",
        "followers": format!("{ME}/followers"), "outbox": "outbox.json"});
    let likes = json!({"id": "likes.json", "type": "OrderedCollection", "orderedItems": LIKED});
    for (name, v) in [
        ("outbox.json", outbox),
        ("actor.json", actor),
        ("likes.json", likes),
    ] {
        std::fs::write(dir.join(name), serde_json::to_vec(&v).expect("json")).expect("write");
    }
}

/// metrics.csv without the `received` column.
fn without_received(metrics: &str) -> Vec<String> {
    let mut lines = metrics.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let skip = header.iter().position(|c| *c == "received");
    lines
        .map(|l| {
            l.split(',')
                .enumerate()
                .filter(|(i, _)| Some(*i) != skip)
                .map(|(_, c)| c)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn mastodon_account_fetched_equals_the_same_account_exported() {
    let items = account_items();
    let archive = tempfile::tempdir().expect("tmp");
    write_archive(archive.path(), &items);
    let statuses: Vec<Value> = items.iter().map(api_status).collect();
    let fake = Fake::start(statuses, Vec::new(), 5).await;
    if let Ok(mut f) = fake.favourites.lock() {
        *f = LIKED
            .iter()
            .enumerate()
            .map(|(k, uri)| json!({"id": (900 + k).to_string(), "uri": uri, "created_at": "2024-01-01T00:00:00Z"}))
            .collect();
    }
    for p in [&SAM, &KIM, &ANA, &LEE] {
        Mock::given(method("GET"))
            .and(path(format!("/api/v1/accounts/{}", p.id)))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(
                    json!({"id": p.id, "acct": p.acct, "url": p.url, "uri": p.actor}),
                ),
            )
            .mount(&fake.server)
            .await;
    }
    mount_owner(&fake.server).await;
    let env = Env::new();
    login(&env, &fake.server);
    env.rapport().args(["fetch", "mastodon"]).assert().success();

    let analyze = |input: &[&str]| {
        let out = tempfile::tempdir().expect("tmp");
        env.rapport()
            .arg("analyze")
            .args(input)
            .arg("--out")
            .arg(out.path())
            .assert()
            .success();
        std::fs::read_to_string(out.path().join("metrics.csv")).expect("metrics.csv")
    };
    let fetched = analyze(&["--account", &account_spec(&fake.server)]);
    let exported = analyze(&["--export", &archive.path().display().to_string()]);
    assert_eq!(without_received(&fetched), without_received(&exported));
    // The table is not trivially equal: every rule is in it.
    assert!(exported.contains("2024-04,mastodon,"), "{exported}");
    assert!(exported.lines().count() >= 8, "{exported}");
}

/// verify_credentials of this account's owner (Robin), before the Fake's own mock.
async fn mount_owner(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path_regex("^/api/v1/accounts/verify_credentials$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "1", "username": "me", "acct": "me",
            "url": "https://social.example/@robin", "uri": ME
        })))
        .with_priority(1)
        .mount(server)
        .await;
}
