//! Misbehaving servers and concurrent runs at the command line: cursors that cycle, a page
//! cap, two fetches of one account at once, a failing createSession that must not be repeated,
//! a token read from standard input, and the modes of every stored file.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::Env;
use super::mastodon::{Fake, account_spec, login, sample_mentions, sample_statuses, status};

/// Statuses whose `Link: rel="next"` cycles: no max_id → 30, 30 → 20, 20 → 30.
struct Cycling {
    base: String,
}

impl Respond for Cycling {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let max = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "max_id")
            .map(|(_, v)| v.into_owned());
        let (items, next): (Vec<Value>, &str) = match max.as_deref() {
            None => (vec![status(40, json!({})), status(39, json!({}))], "30"),
            Some("30") => (vec![status(29, json!({})), status(28, json!({}))], "20"),
            _ => (vec![status(19, json!({})), status(18, json!({}))], "30"),
        };
        ResponseTemplate::new(200)
            .set_body_json(items)
            .insert_header(
                "link",
                format!(
                    "<{}/api/v1/accounts/1/statuses?max_id={next}>; rel=\"next\"",
                    self.base
                )
                .as_str(),
            )
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cycling_cursor_stops_paging_with_a_note() {
    let fake = Fake::start(Vec::new(), Vec::new(), 2).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/1/statuses"))
        .respond_with(Cycling {
            base: fake.server.uri(),
        })
        .with_priority(1)
        .mount(&fake.server)
        .await;
    let env = Env::new();
    login(&env, &fake.server);
    let out = env
        .rapport()
        .args(["fetch", "mastodon"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("does not move back in time"), "{stderr}");
    // Three pages were read (40/39, 29/28, 19/18); the cycle back to 30 was not followed.
    let store = rapport::store::Store::open(Some(&env.data_dir())).expect("store");
    let acts = store
        .find(&account_spec(&fake.server))
        .expect("account")
        .read_activities()
        .expect("table");
    assert_eq!(acts.len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn page_cap_stops_an_endless_server_with_a_note() {
    // Every page has a fresh, older max_id: only the cap ends it.
    let statuses: Vec<Value> = (1..=40).rev().map(|i| status(i, json!({}))).collect();
    let fake = Fake::start(statuses, Vec::new(), 2).await;
    let env = Env::new();
    login(&env, &fake.server);
    let out = env
        .rapport()
        .args(["fetch", "mastodon"])
        .env("RAPPORT_MAX_PAGES", "3")
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("api.max_pages"), "{stderr}");
    // The next fetch continues where the cap stopped.
    env.rapport()
        .args(["fetch", "mastodon"])
        .env("RAPPORT_MAX_PAGES", "100")
        .assert()
        .success();
    let store = rapport::store::Store::open(Some(&env.data_dir())).expect("store");
    let acts = store
        .find(&account_spec(&fake.server))
        .expect("account")
        .read_activities()
        .expect("table");
    assert_eq!(acts.len(), 40);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_fetches_at_once_one_exits_and_the_store_equals_one_run() {
    let fake = Fake::start(sample_statuses(), sample_mentions(), 2).await;
    // A slow endpoint: the first fetch still holds the account when the second starts.
    Mock::given(method("GET"))
        .and(path("/api/v1/favourites"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .set_delay(std::time::Duration::from_millis(1200)),
        )
        .with_priority(1)
        .mount(&fake.server)
        .await;
    let env = Env::new();
    login(&env, &fake.server);
    let piped = |mut c: std::process::Command| {
        c.args(["fetch", "mastodon"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let one = piped(env.command());
    std::thread::sleep(std::time::Duration::from_millis(300));
    let two = piped(env.command()).wait_with_output().expect("wait");
    let one = one.wait_with_output().expect("wait");
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    assert_eq!(two.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&two.stderr).to_string();
    assert!(msg.contains("another `rapport fetch`"), "{msg}");
    // The store equals that of a single fetch of the same server.
    let reference = Env::new();
    login(&reference, &fake.server);
    reference
        .rapport()
        .args(["fetch", "mastodon"])
        .assert()
        .success();
    let table = |env: &Env| {
        let store = rapport::store::Store::open(Some(&env.data_dir())).expect("store");
        let mut v = store
            .find(&account_spec(&fake.server))
            .expect("account")
            .read_activities()
            .expect("table");
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    };
    assert_eq!(table(&env), table(&reference));
    // Once the first is done, the account can be fetched again.
    env.rapport().args(["fetch", "mastodon"]).assert().success();
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn stored_pages_and_tables_are_readable_by_the_user_only() {
    use std::os::unix::fs::PermissionsExt;
    let fake = Fake::start(sample_statuses(), sample_mentions(), 2).await;
    let env = Env::new();
    login(&env, &fake.server);
    env.rapport().args(["fetch", "mastodon"]).assert().success();
    let account = env.data_dir().join("accounts");
    let mut files = 0;
    let mut stack = vec![account];
    while let Some(dir) = stack.pop() {
        let mode = std::fs::metadata(&dir).expect("dir").permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{}", dir.display());
        for e in std::fs::read_dir(&dir).expect("read").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files += 1;
                let mode = std::fs::metadata(&p).expect("file").permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", p.display());
            }
        }
    }
    assert!(files >= 5, "raw pages, state, table and lock");
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_create_session_is_sent_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .respond_with(
            ResponseTemplate::new(500).set_body_json(json!({"error": "InternalServerError"})),
        )
        .mount(&server)
        .await;
    let env = Env::new();
    env.rapport()
        .args(["login", "bluesky", "--handle", "alice.test"])
        .env("RAPPORT_BLUESKY_PDS", server.uri())
        .env("RAPPORT_BLUESKY_APP_PASSWORD", "aaaa-bbbb-cccc-dddd")
        .assert()
        .code(3);
    let sent = server.received_requests().await.unwrap_or_default();
    assert_eq!(sent.len(), 1, "a session is made once, never retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn token_from_standard_input_never_on_the_command_line() {
    let fake = Fake::start(sample_statuses(), Vec::new(), 5).await;
    let env = Env::new();
    env.rapport()
        .args([
            "login",
            "mastodon",
            "--instance",
            &fake.server.uri(),
            "--token",
            "-",
        ])
        .write_stdin("pat-secret-3f9a1c77\n")
        .assert()
        .success();
    env.rapport().args(["fetch", "mastodon"]).assert().success();
    let sent = fake.server.received_requests().await.unwrap_or_default();
    assert!(sent.iter().any(|r| {
        r.headers
            .get("authorization")
            .is_some_and(|v| v == "Bearer pat-secret-3f9a1c77")
    }));
}
