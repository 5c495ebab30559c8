//! Threads API against a local server shaped like Meta's documentation (`/v1.0/me`,
//! `/me/threads` and `/me/replies` paged by `paging.cursors.after` with `paging.next`,
//! increments by `since`, `+0000` times, Graph error bodies): token and browser logins (the
//! exchange for a long-lived token), paging, an unchanged account costing one request per
//! listing, the authors of posts replied to looked up once, a Graph rate-limit code, a revoked
//! token (code 190) and the refresh of a day-old token.

use serde_json::{Value, json};
use wiremock::matchers::{
    body_string_contains, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Authorize, Env, cli_browser_login};

const TOKEN: &str = "THQVJ-long-lived-SECRET";

fn page(data: Vec<Value>, after: Option<&str>) -> Value {
    let mut p = json!({"data": data, "paging": {"cursors": {"before": "QVFIUb", "after": after.unwrap_or("QVFIUz")}}});
    if let Some(a) = after {
        p["paging"]["next"] = json!(format!(
            "https://graph.threads.net/v1.0/me/threads?after={a}"
        ));
    }
    p
}

fn thread(id: &str, at: &str, text: &str) -> Value {
    json!({"id": id, "media_product_type": "THREADS", "media_type": "TEXT_POST", "text": text,
           "timestamp": at, "username": "robin.example", "permalink": format!("https://www.threads.net/@robin.example/post/{id}"),
           "is_quote_post": false})
}

fn reply(id: &str, at: &str, to: &str) -> Value {
    let mut r = thread(id, at, "a reply");
    r["is_reply"] = json!(true);
    r["replied_to"] = json!({"id": to});
    r["root_post"] = json!({"id": to});
    r
}

async fn fake(server: &MockServer, token: &str) {
    let bearer = format!("Bearer {token}");
    Mock::given(method("GET"))
        .and(path("/v1.0/me"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "17841400000000001", "username": "Robin.Example"})),
        )
        .mount(server)
        .await;
    let threads = [
        (
            None,
            page(
                vec![
                    thread("t3", "2024-04-02T08:00:00+0000", "April"),
                    thread("t2", "2024-03-20T08:00:00+0000", "March, later"),
                ],
                Some("CUR2"),
            ),
        ),
        (
            Some("CUR2"),
            page(
                vec![thread("t1", "2024-03-02T09:00:00+0000", "March")],
                None,
            ),
        ),
    ];
    for (after, body) in threads {
        let m = Mock::given(method("GET"))
            .and(path("/v1.0/me/threads"))
            .and(header("authorization", bearer.as_str()))
            .and(query_param("limit", "100"))
            .and(query_param_is_missing("since"));
        let m = match after {
            Some(a) => m.and(query_param("after", a)),
            None => m.and(query_param_is_missing("after")),
        };
        m.respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/v1.0/me/replies"))
        .and(header("authorization", bearer.as_str()))
        .and(query_param_is_missing("since"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![
                // To Sam's post (looked up), and to the owner's own thread (a self-thread).
                reply("r2", "2024-03-21T08:00:00+0000", "sam1"),
                reply("r1", "2024-03-02T09:05:00+0000", "t1"),
            ],
            None,
        )))
        .mount(server)
        .await;
    // Increments: `since` is one second after the newest stored item.
    for (p, newest) in [
        ("/v1.0/me/threads", "2024-04-02T08:00:01+00:00"),
        ("/v1.0/me/replies", "2024-03-21T08:00:01+00:00"),
    ] {
        let since = chrono::DateTime::parse_from_rfc3339(newest)
            .map(|t| t.timestamp().to_string())
            .unwrap_or_default();
        Mock::given(method("GET"))
            .and(path(p))
            .and(query_param("since", since.as_str()))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"data": [], "paging": {}})),
            )
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/v1.0/sam1"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "sam1", "username": "Sam.Sample"})),
        )
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Error validating access token: Session has expired",
            "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "A1"}})))
        .with_priority(10)
        .mount(server)
        .await;
}

fn threads(env: &Env, server: &MockServer) -> assert_cmd::Command {
    let mut c = env.rapport();
    c.env("RAPPORT_THREADS_API", server.uri());
    c
}

fn login(env: &Env, server: &MockServer) {
    let out = threads(env, server)
        .args(["login", "threads", "--token", "-"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("robin.example"), "{text}");
    assert!(!text.contains(TOKEN));
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test(flavor = "multi_thread")]
async fn threads_token_login_paging_replies_and_increments() {
    let server = MockServer::start().await;
    fake(&server, TOKEN).await;
    let env = Env::new();
    login(&env, &server);
    let before = requests(&server).await;
    threads(&env, &server)
        .args(["fetch", "threads"])
        .assert()
        .success();
    // me, 2 thread pages, replies, one author lookup.
    assert_eq!(requests(&server).await - before, 5);
    // Unchanged: one request per listing (and me); the author is not asked again.
    let before = requests(&server).await;
    threads(&env, &server)
        .args(["fetch", "threads"])
        .assert()
        .success();
    assert_eq!(requests(&server).await - before, 3);
    // The metrics, counted by hand: March 2 threads (broadcast), the reply to Sam's post
    // (conversation with threads:sam.sample) and the reply to the own thread (self-thread);
    // April one thread.
    let out = tempfile::tempdir().expect("tmp");
    env.rapport()
        .args(["analyze", "--account", "threads:robin.example", "--out"])
        .arg(out.path())
        .arg("--quiet")
        .assert()
        .success();
    let m = std::fs::read_to_string(out.path().join("metrics.csv")).expect("metrics");
    assert!(
        m.contains("\n2024-03,threads,2,1,0,1,0,0,0.3333,1,0,0,,1,0,"),
        "{m}"
    );
    assert!(
        m.contains("\n2024-04,threads,1,0,0,0,0,0,0.0000,0,0,0,,0,0,"),
        "{m}"
    );
    let acts = std::fs::read_to_string(out.path().join("activities.csv")).expect("acts");
    assert!(acts.contains("threads:sam.sample"), "{acts}");
}

#[tokio::test(flavor = "multi_thread")]
async fn threads_rate_limit_code_is_retried_and_code_190_exits_3() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me/threads"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Application request limit reached", "type": "OAuthException", "code": 4}})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    fake(&server, TOKEN).await;
    let env = Env::new();
    login(&env, &server);
    threads(&env, &server)
        .args(["fetch", "threads"])
        .assert()
        .success();
    // The token is revoked: Graph's code 190 is a login error.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Error validating access token", "type": "OAuthException", "code": 190}})))
        .mount(&server)
        .await;
    let out = threads(&env, &server)
        .args(["fetch", "threads"])
        .assert()
        .code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("rapport login threads"), "{err}");
    assert!(!err.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn threads_browser_login_exchanges_for_a_long_lived_token_and_refreshes_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oauth/authorize"))
        .and(query_param("client_id", "th-app"))
        .and(query_param("response_type", "code"))
        .and(query_param("scope", "threads_basic,threads_read_replies"))
        .respond_with(Authorize("th-code-1"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/access_token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=th-code-1"))
        .and(body_string_contains("client_id=th-app"))
        .and(body_string_contains("client_secret=th-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "THQVJ-short", "user_id": 17841400000000001_u64}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/access_token"))
        .and(query_param("grant_type", "th_exchange_token"))
        .and(query_param("client_secret", "th-secret"))
        .and(query_param("access_token", "THQVJ-short"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "THQVJ-long-1", "token_type": "bearer", "expires_in": 5183944}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/refresh_access_token"))
        .and(query_param("grant_type", "th_refresh_token"))
        .and(query_param("access_token", "THQVJ-long-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": TOKEN, "token_type": "bearer", "expires_in": 5183944}),
        ))
        .mount(&server)
        .await;
    fake(&server, "THQVJ-long-1").await;
    fake(&server, TOKEN).await;
    let env = Env::new();
    let mut cmd = env.command();
    cmd.env("RAPPORT_THREADS_API", server.uri())
        .env(
            "RAPPORT_THREADS_AUTHORIZE_URL",
            format!("{}/oauth/authorize", server.uri()),
        )
        .env(
            "RAPPORT_THREADS_TOKEN_URL",
            format!("{}/oauth/access_token", server.uri()),
        )
        .env("RAPPORT_THREADS_CLIENT_ID", "th-app")
        .env("RAPPORT_THREADS_CLIENT_SECRET", "th-secret")
        .args(["login", "threads"]);
    let out = cli_browser_login(cmd).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        !text.contains("THQVJ") && !text.contains("th-secret"),
        "{text}"
    );
    let file = env.token_files()[0].clone();
    let saved: Value = serde_json::from_slice(&std::fs::read(&file).expect("file")).expect("json");
    assert_eq!(
        saved["access_token"], "THQVJ-long-1",
        "the long-lived token is kept"
    );
    // A day later the fetch refreshes it first.
    let mut aged = saved.clone();
    aged["obtained_at"] = json!("2020-01-01T00:00:00Z");
    std::fs::write(&file, serde_json::to_vec(&aged).expect("json")).expect("write");
    threads(&env, &server)
        .args(["fetch", "threads"])
        .assert()
        .success();
    let saved: Value = serde_json::from_slice(&std::fs::read(&file).expect("file")).expect("json");
    assert_eq!(saved["access_token"], TOKEN);
}
