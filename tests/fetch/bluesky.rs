//! Bluesky login and fetch: a wiremock PDS (expired session refreshed, listRecords cursor
//! paging oldest first, notifications), then the real `@atproto/pds` when
//! RAPPORT_TEST_PDS_URL points at one (scripts/test-servers.sh).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::Env;

const DID: &str = "did:plc:alice0000000000000000000";

/// listRecords with `reverse=true`: records after `cursor` (an rkey), oldest first.
#[derive(Clone)]
struct Records {
    by_collection: Arc<Mutex<Vec<(String, Value)>>>,
    page: usize,
}

impl Respond for Records {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let q = |k: &str| {
            req.url
                .query_pairs()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.into_owned())
        };
        let coll = q("collection").unwrap_or_default();
        let cursor = q("cursor");
        let all = self
            .by_collection
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default();
        let page: Vec<Value> = all
            .into_iter()
            .filter(|(c, _)| *c == coll)
            .map(|(_, r)| r)
            .filter(|r| {
                let rkey = r["uri"]
                    .as_str()
                    .and_then(|u| u.rsplit('/').next())
                    .unwrap_or("");
                cursor.as_deref().is_none_or(|c| rkey > c)
            })
            .take(self.page)
            .collect();
        let next = page
            .last()
            .and_then(|r| r["uri"].as_str())
            .and_then(|u| u.rsplit('/').next());
        let mut body = json!({"records": page});
        if let Some(n) = next {
            body["cursor"] = json!(n);
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

fn rec(coll: &str, rkey: &str, value: Value) -> (String, Value) {
    (
        coll.to_string(),
        json!({"uri": format!("at://{DID}/{coll}/{rkey}"), "cid": "bafy", "value": value}),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn bluesky_refreshes_expired_session_and_pages_records() {
    let server = MockServer::start().await;
    let session = |access: &str, refresh: &str| json!({"did": DID, "handle": "alice.test", "accessJwt": access, "refreshJwt": refresh, "active": true});
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .respond_with(ResponseTemplate::new(200).set_body_json(session("acc-1", "ref-1")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.server.getSession"))
        .and(header("authorization", "Bearer acc-1"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "ExpiredToken", "message": "Token has expired"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.refreshSession"))
        .and(header("authorization", "Bearer ref-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(session("acc-2", "ref-2")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.server.getSession"))
        .and(header("authorization", "Bearer acc-2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"did": DID, "handle": "alice.test"})),
        )
        .mount(&server)
        .await;
    let records = Arc::new(Mutex::new(vec![
        rec(
            "app.bsky.feed.post",
            "3k001",
            json!({"text": "hello", "createdAt": "2024-04-01T10:00:00Z"}),
        ),
        rec(
            "app.bsky.feed.post",
            "3k002",
            json!({"text": "more", "createdAt": "2024-04-01T11:00:00Z",
            "reply": {"root": {"uri": format!("at://{DID}/app.bsky.feed.post/3k001")}, "parent": {"uri": format!("at://{DID}/app.bsky.feed.post/3k001")}}}),
        ),
        rec(
            "app.bsky.feed.post",
            "3k003",
            json!({"text": "@bob yes", "createdAt": "2024-04-02T10:00:00Z",
            "reply": {"root": {"uri": "at://did:plc:bob/app.bsky.feed.post/9"}, "parent": {"uri": "at://did:plc:bob/app.bsky.feed.post/9"}}}),
        ),
        rec(
            "app.bsky.feed.repost",
            "3k004",
            json!({"subject": {"uri": "at://did:plc:bob/app.bsky.feed.post/9"}, "createdAt": "2024-04-02T11:00:00Z"}),
        ),
        rec(
            "app.bsky.feed.like",
            "3k005",
            json!({"subject": {"uri": "at://did:plc:bob/app.bsky.feed.post/9"}, "createdAt": "2024-04-02T12:00:00Z"}),
        ),
    ]));
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.repo.listRecords"))
        .and(query_param("reverse", "true"))
        .respond_with(Records {
            by_collection: records.clone(),
            page: 2,
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.notification.listNotifications"))
        .and(header("authorization", "Bearer acc-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"notifications": [
            {"uri": "at://did:plc:bob/app.bsky.feed.post/10", "cid": "b", "reason": "reply", "author": {"did": "did:plc:bob", "handle": "bob.test"},
             "record": {"text": "thanks", "createdAt": "2024-04-02T13:00:00Z"}, "isRead": false, "indexedAt": "2024-04-02T13:00:01Z"}
        ]})))
        .mount(&server)
        .await;
    let env = Env::new();
    env.rapport()
        .args(["login", "bluesky", "--handle", "alice.test"])
        .env("RAPPORT_BLUESKY_PDS", server.uri())
        .env("RAPPORT_BLUESKY_APP_PASSWORD", "app-pass-xyz")
        .assert()
        .success();
    env.rapport().args(["fetch", "bluesky"]).assert().success();
    // The refreshed session replaced the old one on disk.
    let files = env.token_files();
    let saved = std::fs::read_to_string(&files[0]).unwrap_or_default();
    assert!(saved.contains("acc-2") && !saved.contains("acc-1"));
    let store = rapport::store::Store::open(Some(&env.data_dir())).expect("store");
    let acts = store
        .find("bluesky:alice.test")
        .and_then(|a| a.read_activities())
        .expect("stored");
    assert_eq!(acts.len(), 6);
    // Unchanged: getSession + one listRecords per collection + one notifications page.
    let before = server.received_requests().await.map_or(0, |r| r.len());
    env.rapport().args(["fetch", "bluesky"]).assert().success();
    assert_eq!(
        server.received_requests().await.map_or(0, |r| r.len()) - before,
        5
    );
    let out = tempfile::tempdir().expect("tmp");
    env.rapport()
        .args(["analyze", "--account", "bluesky:alice.test", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let metrics = std::fs::read_to_string(out.path().join("metrics.csv")).expect("metrics");
    // 2024-04: post broadcast, self-thread, reply to bob, repost, like; bob's reply received.
    assert!(
        metrics.contains("2024-04,bluesky,1,1,1,1,0,1,0.3333,1,1,1,"),
        "{metrics}"
    );
}

/// Creates an account on the real PDS and returns (did, access token).
async fn account(
    http: &reqwest::Client,
    pds: &str,
    handle: &str,
    password: &str,
) -> (String, String) {
    let r: Value = http
        .post(format!("{pds}/xrpc/com.atproto.server.createAccount"))
        .json(&json!({"handle": handle, "email": format!("{handle}@example.com"), "password": password}))
        .send()
        .await
        .expect("createAccount")
        .json()
        .await
        .expect("json");
    (
        r["did"].as_str().expect("did").to_string(),
        r["accessJwt"].as_str().expect("jwt").to_string(),
    )
}

async fn create(
    http: &reqwest::Client,
    pds: &str,
    token: &str,
    did: &str,
    coll: &str,
    record: Value,
) -> (String, String) {
    let r: Value = http
        .post(format!("{pds}/xrpc/com.atproto.repo.createRecord"))
        .bearer_auth(token)
        .json(&json!({"repo": did, "collection": coll, "record": record}))
        .send()
        .await
        .expect("createRecord")
        .json()
        .await
        .expect("json");
    (
        r["uri"].as_str().expect("uri").to_string(),
        r["cid"].as_str().expect("cid").to_string(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn bluesky_against_real_pds() {
    let Some(pds) = super::server("RAPPORT_TEST_PDS_URL", "bluesky_against_real_pds") else {
        return;
    };
    let http = reqwest::Client::new();
    let tag = format!("{}", std::process::id() % 100000);
    let (alice, at) = account(&http, &pds, &format!("alice{tag}.test"), "alice-pass").await;
    let (bob, bt) = account(&http, &pds, &format!("bob{tag}.test"), "bob-pass").await;
    let now = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let post =
        |text: &str| json!({"$type": "app.bsky.feed.post", "text": text, "createdAt": now()});
    let (u1, c1) = create(
        &http,
        &pds,
        &at,
        &alice,
        "app.bsky.feed.post",
        post("hello from alice"),
    )
    .await;
    let mut self_reply = post("alice continues");
    self_reply["reply"] = json!({"root": {"uri": u1, "cid": c1}, "parent": {"uri": u1, "cid": c1}});
    create(&http, &pds, &at, &alice, "app.bsky.feed.post", self_reply).await;
    let (u3, c3) = create(
        &http,
        &pds,
        &bt,
        &bob,
        "app.bsky.feed.post",
        post("bob here"),
    )
    .await;
    let mut to_bob = post("reply to bob");
    to_bob["reply"] = json!({"root": {"uri": u3, "cid": c3}, "parent": {"uri": u3, "cid": c3}});
    create(&http, &pds, &at, &alice, "app.bsky.feed.post", to_bob).await;
    let subject = json!({"uri": u3, "cid": c3});
    create(
        &http,
        &pds,
        &at,
        &alice,
        "app.bsky.feed.repost",
        json!({"$type": "app.bsky.feed.repost", "subject": subject, "createdAt": now()}),
    )
    .await;
    create(
        &http,
        &pds,
        &at,
        &alice,
        "app.bsky.feed.like",
        json!({"$type": "app.bsky.feed.like", "subject": subject, "createdAt": now()}),
    )
    .await;

    let env = Env::new();
    env.rapport()
        .args(["login", "bluesky", "--handle", &format!("alice{tag}.test")])
        .env("RAPPORT_BLUESKY_PDS", &pds)
        .env("RAPPORT_BLUESKY_APP_PASSWORD", "alice-pass")
        .assert()
        .success();
    env.rapport().args(["fetch", "bluesky"]).assert().success();
    let store = rapport::store::Store::open(Some(&env.data_dir())).expect("store");
    let acct = store.find("bluesky").expect("stored");
    let mut acts = acct.read_activities().expect("table");
    assert_eq!(acts.len(), 5, "{acts:#?}");
    rapport::classify::classify(&mut acts, 8);
    let mut modes: Vec<&str> = acts
        .iter()
        .filter_map(|a| a.mode.map(|m| m.as_str()))
        .collect();
    modes.sort_unstable();
    assert_eq!(
        modes,
        vec![
            "amplification",
            "broadcast",
            "conversation",
            "passive",
            "self_thread"
        ]
    );
    assert!(
        acts.iter()
            .any(|a| a.counterparts.iter().any(|c| **c == *bob))
    );
    // Unchanged re-fetch: no new page.
    let out = env.rapport().args(["fetch", "bluesky"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains(" 0 new page(s)"), "{text}");
    // One more post is picked up by the increment.
    create(
        &http,
        &pds,
        &at,
        &alice,
        "app.bsky.feed.post",
        post("later"),
    )
    .await;
    env.rapport().args(["fetch", "bluesky"]).assert().success();
    assert_eq!(acct.read_activities().expect("table").len(), 6);
}
