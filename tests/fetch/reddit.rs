//! Reddit's OAuth API against a local server shaped like its documentation (Listings with
//! `after`/`before`, `/api/v1/me`, the inbox mixing `t4` messages and `t1` comment replies):
//! token and browser logins (HTTP Basic with an empty secret, `duration=permanent`), the
//! descriptive User-Agent, paging, an unchanged account costing one request per listing, 429
//! with `X-Ratelimit-*`, a revoked token, a refresh.

use serde_json::{Value, json};
use wiremock::matchers::{
    body_string_contains, header, header_regex, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Authorize, Env, cli_browser_login};

const TOKEN: &str = "reddit-access-SECRET-19";
const UA: &str = r"^cli:[^:]+:v\d+\.\d+\.\d+ \(by /u/robin_ex\)$";

fn thing(kind: &str, data: Value) -> Value {
    json!({ "kind": kind, "data": data })
}

fn listing(children: Vec<Value>, after: Option<&str>) -> Value {
    json!({"kind": "Listing", "data": {"after": after, "before": null, "dist": children.len(), "children": children}})
}

fn post(id: &str, at: f64) -> Value {
    thing(
        "t3",
        json!({"id": id, "name": format!("t3_{id}"), "created_utc": at, "title": "A post",
               "selftext": "", "subreddit": "gardening", "author": "Robin_Ex",
               "permalink": format!("/r/gardening/comments/{id}/a_post/"), "num_comments": 0}),
    )
}

/// The pages of one listing: (`after` asked with, body).
type Pages = Vec<(Option<&'static str>, Value)>;

/// Mounts the API for the token. Listings: submitted over two pages, one comment, an inbox with
/// Sam's message (a reply to Robin's first) and Kim's comment reply, the sent message.
async fn fake(server: &MockServer, token: &str) {
    let bearer = format!("Bearer {token}");
    Mock::given(method("GET"))
        .and(path("/api/v1/me"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"name": "Robin_Ex", "id": "3ebyblla", "created_utc": 1_500_000_000.0}),
        ))
        .mount(server)
        .await;
    let pages: [(&str, Pages); 4] = [
        (
            "/user/robin_ex/submitted",
            vec![
                (
                    None,
                    listing(
                        vec![post("b2", 1_717_000_000.0), post("b1", 1_716_000_000.0)],
                        Some("t3_b1"),
                    ),
                ),
                (
                    Some("t3_b1"),
                    listing(vec![post("a1", 1_714_600_000.0)], None),
                ),
            ],
        ),
        (
            "/user/robin_ex/comments",
            vec![(
                None,
                listing(
                    vec![thing(
                        "t1",
                        json!({
                "id": "c1", "name": "t1_c1", "created_utc": 1_716_500_000.0, "body": "agreed",
                "author": "Robin_Ex", "parent_id": "t3_zz9", "link_id": "t3_zz9",
                "link_author": "sam_s", "subreddit": "gardening"}),
                    )],
                    None,
                ),
            )],
        ),
        (
            "/message/inbox",
            vec![(
                None,
                listing(
                    vec![
                        thing(
                            "t4",
                            json!({"id": "m2", "name": "t4_m2", "author": "sam_s", "dest": "Robin_Ex",
                    "created_utc": 1_717_100_000.0, "body": "sure", "subject": "re: hello",
                    "first_message": 1, "first_message_name": "t4_m1", "parent_id": "t4_m1",
                    "was_comment": false, "context": "", "type": "unknown"}),
                        ),
                        thing(
                            "t1",
                            json!({"id": "r1", "name": "t1_r1", "author": "kim_k", "dest": "Robin_Ex",
                    "created_utc": 1_717_050_000.0, "body": "nice", "subject": "comment reply",
                    "parent_id": "t1_c1", "was_comment": true, "type": "comment_reply",
                    "context": "/r/gardening/comments/zz9/x/r1/?context=3"}),
                        ),
                    ],
                    None,
                ),
            )],
        ),
        (
            "/message/sent",
            vec![(
                None,
                listing(
                    vec![thing(
                        "t4",
                        json!({"id": "m1", "name": "t4_m1",
                "author": "Robin_Ex", "dest": "sam_s", "created_utc": 1_717_090_000.0,
                "body": "hello", "subject": "hello", "first_message": null,
                "first_message_name": null, "was_comment": false, "context": ""}),
                    )],
                    None,
                ),
            )],
        ),
    ];
    for (p, replies) in pages {
        for (after, body) in replies {
            let m = Mock::given(method("GET"))
                .and(path(p))
                .and(header("authorization", bearer.as_str()))
                .and(header_regex("user-agent", UA))
                .and(query_param("limit", "100"))
                .and(query_param("raw_json", "1"))
                .and(query_param_is_missing("before"));
            let m = match after {
                Some(a) => m.and(query_param("after", a)),
                None => m.and(query_param_is_missing("after")),
            };
            m.respond_with(ResponseTemplate::new(200).set_body_json(body))
                .mount(server)
                .await;
        }
        // Increments: nothing newer than the newest item.
        Mock::given(method("GET"))
            .and(path(p))
            .and(header("authorization", bearer.as_str()))
            .and(wiremock::matchers::query_param_contains("before", "t"))
            .respond_with(ResponseTemplate::new(200).set_body_json(listing(Vec::new(), None)))
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header(
                    "www-authenticate",
                    "Bearer realm=\"reddit\", error=\"invalid_token\"",
                )
                .set_body_json(json!({"message": "Unauthorized", "error": 401})),
        )
        .with_priority(10)
        .mount(server)
        .await;
}

fn reddit(env: &Env, server: &MockServer) -> assert_cmd::Command {
    let mut c = env.rapport();
    c.env("RAPPORT_REDDIT_API", server.uri());
    c
}

fn login(env: &Env, server: &MockServer) {
    let out = reddit(env, server)
        .args(["login", "reddit", "--token", "-"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("robin_ex"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test(flavor = "multi_thread")]
async fn reddit_token_login_listings_inbox_and_increments() {
    let server = MockServer::start().await;
    fake(&server, TOKEN).await;
    let env = Env::new();
    login(&env, &server);
    let before = requests(&server).await;
    let out = reddit(&env, &server)
        .args(["fetch", "reddit"])
        .assert()
        .success();
    let notes = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        notes.contains("1,000"),
        "the listing cap is explained: {notes}"
    );
    // me, 2 submitted pages, comments, inbox, sent.
    assert_eq!(requests(&server).await - before, 6);
    let store = rapport::store::Store::open(Some(&env.data_dir())).expect("store");
    let mut acts = store
        .find("reddit:robin_ex")
        .and_then(|a| a.read_activities())
        .expect("stored");
    acts.sort_by(|a, b| a.id.cmp(&b.id));
    let ids: Vec<&str> = acts.iter().map(|a| &*a.id).collect();
    assert_eq!(
        ids,
        [
            "t1_c1", "t1_r1", "t3_a1", "t3_b1", "t3_b2", "t4_m1", "t4_m2"
        ]
    );
    use rapport::model::{Direction, Kind};
    let by = |id: &str| acts.iter().find(|a| &*a.id == id).expect(id);
    // Comments keep the export's rule: counterpart unknown.
    assert!(by("t1_c1").counterparts.is_empty());
    assert_eq!(by("t1_r1").direction, Direction::In);
    assert_eq!(&*by("t1_r1").counterparts[0], "u:kim_k");
    let sent = by("t4_m1");
    assert_eq!((sent.direction, sent.kind), (Direction::Out, Kind::Message));
    assert_eq!(&*sent.counterparts[0], "u:sam_s");
    assert_eq!(by("t4_m2").direction, Direction::In);
    assert_eq!(sent.conversation, by("t4_m2").conversation, "one thread");
    // Unchanged: one request per listing (and me).
    let before = requests(&server).await;
    reddit(&env, &server)
        .args(["fetch", "reddit"])
        .assert()
        .success();
    assert_eq!(requests(&server).await - before, 5);
    let again = store
        .find("reddit:robin_ex")
        .and_then(|a| a.read_activities())
        .expect("stored");
    assert_eq!(again.len(), acts.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn reddit_429_with_ratelimit_headers_is_waited_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user/robin_ex/submitted"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-remaining", "0.0")
                .insert_header("x-ratelimit-used", "100")
                .insert_header("x-ratelimit-reset", "1")
                .insert_header("content-type", "text/html")
                .set_body_string("<html><body>whoa there, pardner!</body></html>"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    fake(&server, TOKEN).await;
    let env = Env::new();
    login(&env, &server);
    let t0 = std::time::Instant::now();
    reddit(&env, &server)
        .args(["fetch", "reddit"])
        .assert()
        .success();
    assert!(t0.elapsed() >= std::time::Duration::from_millis(900));
}

#[tokio::test(flavor = "multi_thread")]
async fn reddit_revoked_token_exits_3_naming_the_login() {
    let server = MockServer::start().await;
    fake(&server, TOKEN).await;
    let env = Env::new();
    login(&env, &server);
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": 401})))
        .mount(&server)
        .await;
    let out = reddit(&env, &server)
        .args(["fetch", "reddit"])
        .assert()
        .code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("rapport login reddit"), "{err}");
    assert!(!err.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn reddit_browser_login_with_basic_auth_then_a_refresh() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/authorize"))
        .and(query_param("client_id", "rd-client"))
        .and(query_param("response_type", "code"))
        .and(query_param("duration", "permanent"))
        .and(query_param("scope", "identity history privatemessages"))
        .respond_with(Authorize("rd-code-1"))
        .mount(&server)
        .await;
    // Installed app: client id as the Basic user, empty password ("rd-client:").
    let basic = "Basic cmQtY2xpZW50Og==";
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .and(header("authorization", basic))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=rd-code-1"))
        .and(body_string_contains(
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "rd-old-access", "token_type": "bearer", "expires_in": 3600,
            "refresh_token": "rd-refresh-1", "scope": "identity history privatemessages"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .and(header("authorization", basic))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=rd-refresh-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": TOKEN, "token_type": "bearer", "expires_in": 3600,
            "scope": "identity history privatemessages"
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/me"))
        .and(header("authorization", "Bearer rd-old-access"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": "Robin_Ex"})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    fake(&server, TOKEN).await;
    let env = Env::new();
    let mut cmd = env.command();
    cmd.env("RAPPORT_REDDIT_API", server.uri())
        .env(
            "RAPPORT_REDDIT_AUTHORIZE_URL",
            format!("{}/api/v1/authorize", server.uri()),
        )
        .env(
            "RAPPORT_REDDIT_TOKEN_URL",
            format!("{}/api/v1/access_token", server.uri()),
        )
        .env("RAPPORT_REDDIT_CLIENT_ID", "rd-client")
        .args(["login", "reddit"]);
    let out = cli_browser_login(cmd).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = std::fs::read_to_string(&env.token_files()[0]).expect("token file");
    assert!(file.contains("rd-refresh-1"));
    reddit(&env, &server)
        .env(
            "RAPPORT_REDDIT_TOKEN_URL",
            format!("{}/api/v1/access_token", server.uri()),
        )
        .env("RAPPORT_REDDIT_CLIENT_ID", "rd-client")
        .args(["fetch", "reddit"])
        .assert()
        .success();
    // Reddit's refresh keeps the refresh token: the new access token is saved with it.
    let file = std::fs::read_to_string(&env.token_files()[0]).expect("token file");
    assert!(file.contains(TOKEN) && file.contains("rd-refresh-1"));
}
