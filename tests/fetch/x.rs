//! X API v2 against a local server shaped like the documentation (`/2/users/me`, user tweets
//! and mentions paged by `meta.next_token` with `since_id` increments, DM events): token and
//! browser logins, paging, an unchanged account costing one request per endpoint, 429 with
//! `x-rate-limit-*`, a revoked token, a refresh that rotates the refresh token, and the same
//! invented tweets as an archive and as API pages giving equal metrics.

use serde_json::{Value, json};
use wiremock::matchers::{
    body_string_contains, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Authorize, Env, cli_browser_login};

const TOKEN: &str = "x-bearer-SECRET-7f3a";
const ME: &str = "1000000001";
const SAM: &str = "2000000002";
const KIM: &str = "3000000003";

/// One invented tweet, in both shapes: (API v2 object, archive `tweet` object).
struct Tweet {
    id: &'static str,
    at: (&'static str, &'static str),
    text: &'static str,
    reply_to: Option<(&'static str, &'static str)>,
    retweet_of: Option<&'static str>,
    mentions: &'static [(&'static str, &'static str)],
}

const TWEETS: &[Tweet] = &[
    Tweet {
        id: "1760000000000000006",
        at: ("2024-02-02T08:00:00.000Z", "Fri Feb 02 08:00:00 +0000 2024"),
        text: "Tea &lt; coffee",
        reply_to: None,
        retweet_of: None,
        mentions: &[],
    },
    Tweet {
        id: "1760000000000000005",
        at: ("2024-01-13T08:00:00.000Z", "Sat Jan 13 08:00:00 +0000 2024"),
        text: "@sam_sample @kim_placeholder lunch?",
        reply_to: None,
        retweet_of: None,
        mentions: &[("sam_sample", SAM), ("kim_placeholder", KIM)],
    },
    Tweet {
        id: "1760000000000000004",
        at: ("2024-01-12T08:00:00.000Z", "Fri Jan 12 08:00:00 +0000 2024"),
        text: "RT @sam_sample: big news",
        reply_to: None,
        retweet_of: Some("1739999999999999990"),
        mentions: &[("sam_sample", SAM)],
    },
    Tweet {
        id: "1760000000000000003",
        at: ("2024-01-10T12:00:00.000Z", "Wed Jan 10 12:00:00 +0000 2024"),
        text: "@sam_sample agreed",
        reply_to: Some(("1739999999999999999", SAM)),
        retweet_of: None,
        mentions: &[("sam_sample", SAM)],
    },
    Tweet {
        id: "1760000000000000002",
        at: ("2024-01-05T09:05:00.000Z", "Fri Jan 05 09:05:00 +0000 2024"),
        text: "2/ more bread",
        reply_to: Some(("1760000000000000001", ME)),
        retweet_of: None,
        mentions: &[],
    },
    Tweet {
        id: "1760000000000000001",
        at: ("2024-01-05T09:00:00.000Z", "Fri Jan 05 09:00:00 +0000 2024"),
        text: "Starting a thread about bread &amp; butter",
        reply_to: None,
        retweet_of: None,
        mentions: &[],
    },
];

/// Direct messages of the one-to-one conversation with Sam, newest first: (id, sender, time).
const DMS: &[(&str, &str, &str)] = &[
    ("1770000000000000003", SAM, "2024-02-01T10:00:00.000Z"),
    ("1770000000000000002", ME, "2024-01-10T15:20:00.000Z"),
    ("1770000000000000001", SAM, "2024-01-10T15:00:00.000Z"),
];

fn api_tweet(t: &Tweet) -> Value {
    let mut v = json!({
        "id": t.id,
        "text": t.text,
        "created_at": t.at.0,
        "author_id": ME,
        "conversation_id": t.id,
        "edit_history_tweet_ids": [t.id],
    });
    let mut refs = Vec::new();
    if let Some((status, user)) = t.reply_to {
        v["in_reply_to_user_id"] = json!(user);
        refs.push(json!({"type": "replied_to", "id": status}));
    }
    if let Some(rt) = t.retweet_of {
        refs.push(json!({"type": "retweeted", "id": rt}));
    }
    if !refs.is_empty() {
        v["referenced_tweets"] = json!(refs);
    }
    if !t.mentions.is_empty() {
        v["entities"] = json!({"mentions": t.mentions.iter().enumerate().map(|(i, (u, id))| json!({
            "start": i * 12, "end": i * 12 + u.len() + 1, "username": u, "id": id
        })).collect::<Vec<_>>()});
    }
    v
}

fn archive_tweet(t: &Tweet) -> Value {
    let mut v = json!({
        "id_str": t.id,
        "id": t.id,
        "full_text": t.text,
        "created_at": t.at.1,
        "entities": {"user_mentions": t.mentions.iter().map(|(u, id)| json!({
            "screen_name": u, "id_str": id, "id": id, "name": u, "indices": ["0", "12"]
        })).collect::<Vec<_>>()},
    });
    if let Some((status, user)) = t.reply_to {
        v["in_reply_to_status_id_str"] = json!(status);
        v["in_reply_to_user_id_str"] = json!(user);
    }
    json!({ "tweet": v })
}

fn page(data: &[Value], next: Option<&str>) -> Value {
    let mut meta = json!({"result_count": data.len()});
    if let (Some(first), Some(last)) = (data.first(), data.last()) {
        meta["newest_id"] = first["id"].clone();
        meta["oldest_id"] = last["id"].clone();
    }
    if let Some(n) = next {
        meta["next_token"] = json!(n);
    }
    if data.is_empty() {
        json!({ "meta": meta })
    } else {
        json!({ "data": data, "meta": meta })
    }
}

fn dm_events() -> Value {
    let data: Vec<Value> = DMS
        .iter()
        .map(|(id, sender, at)| {
            json!({"id": id, "event_type": "MessageCreate", "text": "hi", "sender_id": sender,
                   "dm_conversation_id": format!("{ME}-{SAM}"), "created_at": at})
        })
        .collect();
    json!({"data": data, "meta": {"result_count": data.len()}})
}

/// Mounts the API: users/me, tweets over two pages (and an empty increment), the given
/// mentions, the DM events. Anything without the token is a 401.
async fn fake(server: &MockServer, token: &str, mentions: Vec<Value>) {
    let bearer = format!("Bearer {token}");
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"id": ME, "name": "Robin", "username": "robin_example"}}),
        ))
        .mount(server)
        .await;
    let tweets: Vec<Value> = TWEETS.iter().map(api_tweet).collect();
    let timeline = format!("/2/users/{ME}/tweets");
    Mock::given(method("GET"))
        .and(path(timeline.as_str()))
        .and(header("authorization", bearer.as_str()))
        .and(query_param("max_results", "100"))
        .and(query_param_is_missing("pagination_token"))
        .and(query_param_is_missing("since_id"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&tweets[..4], Some("p2"))))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(timeline.as_str()))
        .and(header("authorization", bearer.as_str()))
        .and(query_param("pagination_token", "p2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&tweets[4..], None)))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(timeline.as_str()))
        .and(header("authorization", bearer.as_str()))
        .and(query_param("since_id", TWEETS[0].id))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&[], None)))
        .mount(server)
        .await;
    let mentions_path = format!("/2/users/{ME}/mentions");
    let newest_mention = mentions
        .first()
        .map(|m| m["id"].as_str().unwrap_or("").to_string());
    Mock::given(method("GET"))
        .and(path(mentions_path.as_str()))
        .and(header("authorization", bearer.as_str()))
        .and(query_param_is_missing("since_id"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&mentions, None)))
        .mount(server)
        .await;
    if let Some(n) = newest_mention {
        Mock::given(method("GET"))
            .and(path(mentions_path.as_str()))
            .and(query_param("since_id", n.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(page(&[], None)))
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/2/dm_events"))
        .and(header("authorization", bearer.as_str()))
        .and(query_param(
            "dm_event.fields",
            "id,text,event_type,created_at,dm_conversation_id,sender_id,participant_ids",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(dm_events()))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"
        })))
        .with_priority(10)
        .mount(server)
        .await;
}

/// X's 429: the bucket is empty and resets (epoch seconds) 2 s after the request.
struct RateLimited;

impl wiremock::Respond for RateLimited {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let reset = chrono::Utc::now().timestamp() + 2;
        ResponseTemplate::new(429)
            .insert_header("x-rate-limit-limit", "900")
            .insert_header("x-rate-limit-remaining", "0")
            .insert_header("x-rate-limit-reset", reset.to_string().as_str())
            .set_body_json(json!({"title": "Too Many Requests", "status": 429}))
    }
}

fn mention() -> Value {
    json!({"id": "1760000000000000100", "text": "@robin_example welcome!", "author_id": KIM,
           "created_at": "2024-02-03T10:00:00.000Z", "in_reply_to_user_id": ME,
           "referenced_tweets": [{"type": "replied_to", "id": "1760000000000000006"}]})
}

fn x(env: &Env, server: &MockServer) -> assert_cmd::Command {
    let mut c = env.rapport();
    c.env("RAPPORT_X_API", server.uri());
    c
}

fn login(env: &Env, server: &MockServer) {
    let out = x(env, server)
        .args(["login", "x", "--token", "-"])
        .write_stdin(format!("{TOKEN}\n"))
        .assert()
        .success();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.get_output().stdout),
        String::from_utf8_lossy(&out.get_output().stderr)
    );
    assert!(text.contains("robin_example"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

fn metrics(env: &Env, input: &[&str]) -> String {
    let out = tempfile::tempdir().expect("tmp");
    env.rapport()
        .arg("analyze")
        .args(input)
        .arg("--out")
        .arg(out.path())
        .arg("--quiet")
        .assert()
        .success();
    let m = std::fs::read_to_string(out.path().join("metrics.csv")).expect("metrics");
    for f in super::files_under(out.path()) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(TOKEN),
            "token in {f:?}"
        );
    }
    m
}

#[tokio::test(flavor = "multi_thread")]
async fn x_token_login_paging_increments_and_mentions_received() {
    let server = MockServer::start().await;
    fake(&server, TOKEN, vec![mention()]).await;
    let env = Env::new();
    login(&env, &server);
    let files = env.token_files();
    assert_eq!(files.len(), 1, "{files:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0])
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = requests(&server).await;
    let out = x(&env, &server).args(["fetch", "x"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        text.contains("3,200"),
        "the API window is explained: {text}"
    );
    // users/me, 2 tweet pages, mentions, DM events.
    assert_eq!(requests(&server).await - before, 5);
    let store = rapport::store::Store::open(Some(&env.data_dir())).expect("store");
    let acts = store
        .find("x:robin_example")
        .and_then(|a| a.read_activities())
        .expect("stored");
    assert_eq!(acts.len(), TWEETS.len() + 1 + DMS.len(), "{acts:?}");
    let received = acts
        .iter()
        .find(|a| &*a.id == "1760000000000000100")
        .expect("the mention");
    assert_eq!(received.direction, rapport::model::Direction::In);
    assert_eq!(received.counterparts.len(), 1);
    // Unchanged account: one request per endpoint (and users/me).
    let before = requests(&server).await;
    x(&env, &server).args(["fetch", "x"]).assert().success();
    assert_eq!(requests(&server).await - before, 4);
    let again = store
        .find("x:robin_example")
        .and_then(|a| a.read_activities())
        .expect("stored");
    assert_eq!(again.len(), acts.len(), "nothing doubles");
    // Logged out: no token file left.
    env.rapport().args(["logout", "x"]).assert().success();
    assert!(env.token_files().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn x_fetched_equals_exported() {
    let server = MockServer::start().await;
    fake(&server, TOKEN, Vec::new()).await;
    let env = Env::new();
    login(&env, &server);
    x(&env, &server).args(["fetch", "x"]).assert().success();
    let fetched = metrics(&env, &["--account", "x:robin_example"]);
    // The same tweets and messages as an archive.
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    let tweets: Vec<Value> = TWEETS.iter().map(archive_tweet).collect();
    let js = |name: &str, v: &Value| format!("window.YTD.{name}.part0 = {v}");
    std::fs::write(data.join("tweets.js"), js("tweets", &json!(tweets))).expect("tweets");
    std::fs::write(
        data.join("account.js"),
        js(
            "account",
            &json!([{"account": {"accountId": ME, "username": "robin_example"}}]),
        ),
    )
    .expect("account");
    let messages: Vec<Value> = DMS
        .iter()
        .map(|(id, sender, at)| {
            let to = if *sender == ME { SAM } else { ME };
            json!({"messageCreate": {"id": id, "senderId": sender, "recipientId": to,
                   "text": "hi", "createdAt": at}})
        })
        .collect();
    std::fs::write(
        data.join("direct-messages.js"),
        js(
            "direct_messages",
            &json!([{"dmConversation": {"conversationId": format!("{ME}-{SAM}"), "messages": messages}}]),
        ),
    )
    .expect("dms");
    let exported = metrics(&env, &["--export", &dir.path().display().to_string()]);
    assert_eq!(fetched, exported);
    // By hand: January 1 broadcast (the thread), 1 self-thread, 1 retweet, 3 conversation
    // (the reply to Sam, the addressed post, the DM answer), Sam and Kim engaged.
    assert!(
        exported.contains("\n2024-01,x,1,1,1,3,1,0,0.6000,2,1,1,20.0,2,0,"),
        "{exported}"
    );
    // February: Sam's message is waiting.
    assert!(
        exported.contains("\n2024-02,x,1,0,0,0,0,0,0.0000,0,0,1,,0,1,"),
        "{exported}"
    );
    // Archive and fetch together: every act once.
    let both = metrics(
        &env,
        &[
            "--export",
            &dir.path().display().to_string(),
            "--account",
            "x:robin_example",
        ],
    );
    assert_eq!(both, exported);
}

#[tokio::test(flavor = "multi_thread")]
async fn x_429_with_rate_limit_headers_is_waited_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/2/users/{ME}/tweets").as_str()))
        .respond_with(RateLimited)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    fake(&server, TOKEN, Vec::new()).await;
    let env = Env::new();
    login(&env, &server);
    let t0 = std::time::Instant::now();
    x(&env, &server).args(["fetch", "x"]).assert().success();
    assert!(
        t0.elapsed() >= std::time::Duration::from_millis(300),
        "waited for the reset"
    );
    let store = rapport::store::Store::open(Some(&env.data_dir())).expect("store");
    let state = store
        .find("x:robin_example")
        .and_then(|a| a.load_state())
        .expect("state");
    assert_eq!(state.endpoints["tweets"].pages, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn x_revoked_token_exits_3_naming_the_login() {
    let server = MockServer::start().await;
    fake(&server, TOKEN, Vec::new()).await;
    let env = Env::new();
    login(&env, &server);
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "title": "Unauthorized", "status": 401, "detail": "Unauthorized"
        })))
        .mount(&server)
        .await;
    let out = x(&env, &server).args(["fetch", "x"]).assert().code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("rapport login x"), "{err}");
    assert!(!err.contains(TOKEN), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn x_browser_login_with_pkce_then_a_refresh_that_rotates() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/i/oauth2/authorize"))
        .and(query_param("response_type", "code"))
        .and(query_param("client_id", "x-client"))
        .and(query_param("code_challenge_method", "S256"))
        .and(query_param(
            "scope",
            "tweet.read users.read dm.read offline.access",
        ))
        .respond_with(Authorize("x-code-1"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/oauth2/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=x-code-1"))
        .and(body_string_contains("client_id=x-client"))
        .and(body_string_contains("code_verifier="))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "bearer", "expires_in": 7200, "access_token": "x-old-access",
            "scope": "tweet.read users.read dm.read offline.access", "refresh_token": "x-refresh-1"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/oauth2/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=x-refresh-1"))
        .and(body_string_contains("client_id=x-client"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "bearer", "expires_in": 7200, "access_token": TOKEN,
            "scope": "tweet.read users.read dm.read offline.access", "refresh_token": "x-refresh-2"
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    // The old token works at login, then has expired by the fetch.
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .and(header("authorization", "Bearer x-old-access"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"id": ME, "name": "Robin", "username": "robin_example"}}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    fake(&server, TOKEN, Vec::new()).await;
    let env = Env::new();
    let mut cmd = env.command();
    cmd.env("RAPPORT_X_API", server.uri())
        .env(
            "RAPPORT_X_AUTHORIZE_URL",
            format!("{}/i/oauth2/authorize", server.uri()),
        )
        .env(
            "RAPPORT_X_TOKEN_URL",
            format!("{}/2/oauth2/token", server.uri()),
        )
        .env("RAPPORT_X_CLIENT_ID", "x-client")
        .args(["login", "x"]);
    let out = cli_browser_login(cmd).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        !text.contains("x-old-access") && !text.contains("x-refresh-1"),
        "{text}"
    );
    let token_file = std::fs::read_to_string(&env.token_files()[0]).expect("token file");
    assert!(token_file.contains("x-refresh-1"));
    // The fetch meets a 401, refreshes once, saves the rotated token and goes on.
    let mut fetch = x(&env, &server);
    fetch
        .env(
            "RAPPORT_X_TOKEN_URL",
            format!("{}/2/oauth2/token", server.uri()),
        )
        .env("RAPPORT_X_CLIENT_ID", "x-client")
        .args(["fetch", "x"])
        .assert()
        .success();
    let token_file = std::fs::read_to_string(&env.token_files()[0]).expect("token file");
    assert!(token_file.contains("x-refresh-2") && !token_file.contains("x-refresh-1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn x_cycling_pagination_token_stops_with_a_note() {
    let server = MockServer::start().await;
    // Page p2 points back to p2 for ever.
    Mock::given(method("GET"))
        .and(path(format!("/2/users/{ME}/tweets").as_str()))
        .and(query_param("pagination_token", "p2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(page(&[api_tweet(&TWEETS[4])], Some("p2"))),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    fake(&server, TOKEN, Vec::new()).await;
    let env = Env::new();
    login(&env, &server);
    let out = x(&env, &server).args(["fetch", "x"]).assert().success();
    let notes = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(notes.contains("tweets"), "{notes}");
    let tweet_requests = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().ends_with("/tweets"))
        .count();
    assert_eq!(tweet_requests, 2, "the repeated cursor is not followed");
}
