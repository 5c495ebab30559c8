//! Mastodon fetch against a wiremock server shaped like Mastodon's documentation: Link-header
//! paging, min_id increments, 429 + Retry-After, 500s, 401, kill-and-resume, `--account`.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::Env;

const TOKEN: &str = "pat-secret-3f9a1c77";

/// A stateful fake of `GET /api/v1/accounts/1/statuses` or `/api/v1/notifications`:
/// newest first, `max_id`/`min_id` paging, Link header like Mastodon's.
#[derive(Clone)]
pub struct Paged {
    items: Arc<Mutex<Vec<Value>>>,
    page: usize,
    base: String,
    path: String,
}

fn id_num(v: &Value) -> u64 {
    v["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

impl Respond for Paged {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let q = |k: &str| {
            req.url
                .query_pairs()
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        let limit = q("limit").map_or(self.page, |l| (l as usize).min(self.page));
        let mut all = self.items.lock().map(|v| v.clone()).unwrap_or_default();
        all.sort_by_key(|v| std::cmp::Reverse(id_num(v)));
        let page: Vec<Value> = if let Some(min) = q("min_id") {
            let mut newer: Vec<Value> = all.into_iter().filter(|v| id_num(v) > min).collect();
            let keep = newer.len().saturating_sub(limit);
            newer.drain(..keep);
            newer
        } else {
            all.into_iter()
                .filter(|v| q("max_id").is_none_or(|m| id_num(v) < m))
                .take(limit)
                .collect()
        };
        let mut t = ResponseTemplate::new(200).set_body_json(&page);
        if let (Some(first), Some(last)) = (page.first(), page.last()) {
            t = t.insert_header(
                "link",
                format!(
                    "<{b}{p}?limit={limit}&max_id={}>; rel=\"next\", <{b}{p}?limit={limit}&min_id={}>; rel=\"prev\"",
                    id_num(last),
                    id_num(first),
                    b = self.base,
                    p = self.path
                )
                .as_str(),
            );
        }
        t
    }
}

pub fn status(id: u64, extra: Value) -> Value {
    let mut s = json!({
        "id": id.to_string(),
        "uri": format!("https://social.example/users/me/statuses/{id}"),
        "created_at": format!("2024-03-{:02}T10:00:00.000Z", 1 + id % 28),
        "visibility": "public",
        "content": "<p>hello</p>",
        "in_reply_to_id": null,
        "in_reply_to_account_id": null,
        "reblog": null,
        "mentions": [],
        "account": {"id": "1", "username": "me", "acct": "me", "url": "https://social.example/@me", "uri": "https://social.example/users/me"}
    });
    if let (Some(o), Some(e)) = (s.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    s
}

pub struct Fake {
    pub server: MockServer,
    pub statuses: Arc<Mutex<Vec<Value>>>,
    pub mentions: Arc<Mutex<Vec<Value>>>,
    pub favourites: Arc<Mutex<Vec<Value>>>,
}

impl Fake {
    pub async fn start(statuses: Vec<Value>, mentions: Vec<Value>, page: usize) -> Fake {
        let server = MockServer::start().await;
        let fake = Fake {
            statuses: Arc::new(Mutex::new(statuses)),
            mentions: Arc::new(Mutex::new(mentions)),
            favourites: Arc::new(Mutex::new(Vec::new())),
            server,
        };
        fake.mount(page).await;
        fake
    }

    pub async fn mount(&self, page: usize) {
        let base = self.server.uri();
        Mock::given(method("GET"))
            .and(path("/api/v1/accounts/verify_credentials"))
            .and(wiremock::matchers::header(
                "authorization",
                format!("Bearer {TOKEN}").as_str(),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": "1", "username": "me", "acct": "me",
                "url": "https://social.example/@me", "uri": "https://social.example/users/me"
            })))
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/accounts/verify_credentials"))
            .respond_with(
                ResponseTemplate::new(401)
                    .set_body_json(json!({"error": "The access token was revoked"})),
            )
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/accounts/1/statuses"))
            .respond_with(Paged {
                items: self.statuses.clone(),
                page,
                base: base.clone(),
                path: "/api/v1/accounts/1/statuses".into(),
            })
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/favourites"))
            .respond_with(Paged {
                items: self.favourites.clone(),
                page,
                base: base.clone(),
                path: "/api/v1/favourites".into(),
            })
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/notifications"))
            .and(query_param("types[]", "mention"))
            .respond_with(Paged {
                items: self.mentions.clone(),
                page,
                base,
                path: "/api/v1/notifications".into(),
            })
            .mount(&self.server)
            .await;
    }

    pub async fn requests(&self) -> usize {
        self.server.received_requests().await.map_or(0, |r| r.len())
    }
}

pub fn sample_statuses() -> Vec<Value> {
    vec![
        status(101, json!({})),
        status(
            102,
            json!({"in_reply_to_id": "101", "in_reply_to_account_id": "1"}),
        ),
        status(
            103,
            json!({"in_reply_to_id": "900", "in_reply_to_account_id": "7",
            "mentions": [{"id": "7", "username": "sam", "acct": "sam@other.example", "url": "https://other.example/@sam"}]}),
        ),
        status(
            104,
            json!({"reblog": {"id": "555"}, "uri": "https://social.example/users/me/statuses/104/activity"}),
        ),
        status(
            105,
            json!({"visibility": "direct",
            "mentions": [{"id": "7", "username": "sam", "acct": "sam@other.example", "url": "https://other.example/@sam"}]}),
        ),
    ]
}

pub fn sample_mentions() -> Vec<Value> {
    vec![json!({
        "id": "9001", "type": "mention", "created_at": "2024-03-05T09:00:00.000Z",
        "account": {"id": "7", "username": "sam", "acct": "sam@other.example", "url": "https://other.example/@sam", "uri": "https://other.example/users/sam"},
        "status": {"id": "777", "uri": "https://other.example/users/sam/statuses/777",
            "created_at": "2024-03-05T09:00:00.000Z", "visibility": "direct", "in_reply_to_id": null,
            "mentions": [{"id": "1", "username": "me", "acct": "me", "url": "https://social.example/@me"}]}
    })]
}

pub fn login(env: &Env, server: &MockServer) {
    env.rapport()
        .args([
            "login",
            "mastodon",
            "--instance",
            &server.uri(),
            "--token",
            TOKEN,
        ])
        .assert()
        .success();
}

pub fn account_spec(server: &MockServer) -> String {
    let host = server.uri().trim_start_matches("http://").to_string();
    format!("mastodon:@me@{host}")
}

fn stored(env: &Env, server: &MockServer) -> Vec<rapport::model::Activity> {
    let store = rapport::store::Store::open(Some(&env.data_dir())).expect("store");
    let acct = store.find(&account_spec(server)).expect("account stored");
    let mut v = acct.read_activities().expect("table");
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

fn raw_pages(env: &Env) -> Vec<(String, Vec<u8>)> {
    super::files_under(&env.data_dir())
        .into_iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "raw"))
        .map(|p| {
            let name = p
                .strip_prefix(env.data_dir())
                .map(|r| r.display().to_string())
                .unwrap_or_default();
            let bytes = std::fs::read(&p).unwrap_or_default();
            (name, bytes)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn mastodon_token_login_paging_and_unchanged_refetch() {
    let fake = Fake::start(sample_statuses(), sample_mentions(), 2).await;
    let env = Env::new();
    login(&env, &fake.server);
    // The token file is private and the token never printed.
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
    let before = fake.requests().await;
    let out = env.rapport().args(["fetch", "mastodon"]).assert().success();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.get_output().stdout),
        String::from_utf8_lossy(&out.get_output().stderr)
    );
    assert!(!text.contains(TOKEN));
    // 5 statuses in pages of 2 → 3 pages + the empty end page; no favourites → 1 empty
    // page; 1 mention → 1 page + end.
    assert_eq!(fake.requests().await - before, 1 + 4 + 1 + 2);
    let acts = stored(&env, &fake.server);
    assert_eq!(acts.len(), 6);
    // Unchanged account: one request per endpoint.
    let before = fake.requests().await;
    env.rapport().args(["fetch", "mastodon"]).assert().success();
    assert_eq!(fake.requests().await - before, 4);
    assert_eq!(stored(&env, &fake.server), acts);
    // A new status arrives: min_id picks it up.
    if let Ok(mut s) = fake.statuses.lock() {
        s.push(status(106, json!({})));
    }
    env.rapport().args(["fetch", "mastodon"]).assert().success();
    assert_eq!(stored(&env, &fake.server).len(), 7);
    let listing = env.rapport().arg("accounts").assert().success();
    let listing = String::from_utf8_lossy(&listing.get_output().stdout).to_string();
    assert!(listing.contains(&account_spec(&fake.server)), "{listing}");
    assert!(listing.contains("7 activities"), "{listing}");
    // Analyze the stored account together with an export.
    let out_dir = tempfile::tempdir().expect("tmp");
    env.rapport()
        .args([
            "analyze",
            "--account",
            &account_spec(&fake.server),
            "--export",
        ])
        .arg(crate::fixture("linkedin.zip"))
        .arg("--out")
        .arg(out_dir.path())
        .assert()
        .success();
    let metrics = std::fs::read_to_string(out_dir.path().join("metrics.csv")).expect("metrics");
    // 2024-03 mastodon: posts 101,106 broadcast; 102 self-thread; 103 and the DM 105
    // conversation; 104 amplification; the DM from sam received and reciprocated.
    assert!(
        metrics.contains("2024-03,mastodon,2,1,1,2,1,0,0.4000,1,1,1,"),
        "{metrics}"
    );
    assert!(metrics.contains(",linkedin,"));
    for f in super::files_under(out_dir.path()) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(TOKEN),
            "token leaked into {f:?}"
        );
    }
    // Parquet export, partitioned.
    let pq = tempfile::tempdir().expect("tmp");
    env.rapport()
        .args(["export", "--parquet"])
        .arg(pq.path())
        .assert()
        .success();
    assert!(
        pq.path()
            .join("platform=mastodon/month=2024-03/part-0.parquet")
            .is_file()
    );
    // Logout removes the token.
    env.rapport()
        .args(["logout", "mastodon"])
        .assert()
        .success();
    assert!(env.token_files().is_empty());
    env.rapport().args(["fetch", "mastodon"]).assert().code(3);
}

#[tokio::test(flavor = "multi_thread")]
async fn mastodon_retries_429_with_retry_after_and_500s() {
    let fake = Fake::start(sample_statuses(), vec![], 40).await;
    let env = Env::new();
    login(&env, &fake.server);
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/1/statuses"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string("slow down"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fake.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/notifications"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&fake.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/1/statuses"))
        .and(query_param("max_id", "101"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[{\"id\":\"100\",\"uri\":"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fake.server)
        .await;
    let t0 = std::time::Instant::now();
    env.rapport().args(["fetch", "mastodon"]).assert().success();
    assert!(
        t0.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(stored(&env, &fake.server).len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn mastodon_revoked_token_says_log_in_again() {
    let fake = Fake::start(sample_statuses(), vec![], 40).await;
    let env = Env::new();
    login(&env, &fake.server);
    fake.server.reset().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "The access token was revoked"})),
        )
        .mount(&fake.server)
        .await;
    let out = env.rapport().args(["fetch", "mastodon"]).assert().code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("rapport login mastodon"), "{err}");
    assert!(!err.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn mastodon_failed_midway_then_resumed_equals_uninterrupted() {
    let many: Vec<Value> = (101..=111).map(|i| status(i, json!({}))).collect();
    // Uninterrupted reference.
    let reference = Fake::start(many.clone(), sample_mentions(), 3).await;
    let env_ref = Env::new();
    login(&env_ref, &reference.server);
    env_ref
        .rapport()
        .args(["fetch", "mastodon"])
        .assert()
        .success();

    let fake = Fake::start(many, sample_mentions(), 3).await;
    let env = Env::new();
    login(&env, &fake.server);
    // The third page keeps failing: the fetch gives up with exit 3 after two stored pages.
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/1/statuses"))
        .and(query_param("max_id", "106"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .mount(&fake.server)
        .await;
    env.rapport().args(["fetch", "mastodon"]).assert().code(3);
    let store = rapport::store::Store::open(Some(&env.data_dir())).expect("store");
    let acct = store.find(&account_spec(&fake.server)).expect("stored");
    let state = acct.load_state().expect("state");
    assert_eq!(state.endpoints["statuses"].pages, 2);
    // The server recovers; the fetch resumes at the third page.
    fake.server.reset().await;
    fake.mount(3).await;
    env.rapport().args(["fetch", "mastodon"]).assert().success();
    // Same table, same raw pages (the account part of the path differs by port).
    let strip = |v: Vec<rapport::model::Activity>| v;
    assert_eq!(
        strip(stored(&env, &fake.server)),
        strip(stored(&env_ref, &reference.server))
    );
    let pages = |e: &Env| {
        raw_pages(e)
            .into_iter()
            .map(|(n, b)| (n.rsplit("raw").next().unwrap_or("").to_string(), b))
            .collect::<Vec<_>>()
    };
    let (a, b) = (pages(&env), pages(&env_ref));
    assert_eq!(a.len(), b.len());
    assert_eq!(
        a.iter().map(|x| &x.0).collect::<Vec<_>>(),
        b.iter().map(|x| &x.0).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mastodon_fetch_killed_midway_then_resumed_equals_uninterrupted() {
    let many: Vec<Value> = (101..=109).map(|i| status(i, json!({}))).collect();
    let reference = Fake::start(many.clone(), vec![], 3).await;
    let env_ref = Env::new();
    login(&env_ref, &reference.server);
    env_ref
        .rapport()
        .args(["fetch", "mastodon"])
        .assert()
        .success();

    let fake = Fake::start(many, vec![], 3).await;
    let env = Env::new();
    login(&env, &fake.server);
    // The second page is slow: the process is killed while it waits for it.
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/1/statuses"))
        .and(query_param("max_id", "107"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .set_delay(std::time::Duration::from_secs(30)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fake.server)
        .await;
    let bin = assert_cmd::cargo::cargo_bin("rapport");
    let mut cmd = std::process::Command::new(bin);
    cmd.args(["fetch", "mastodon", "--quiet"])
        .env("XDG_CONFIG_HOME", env.config_home())
        .env("HOME", env.home.path())
        .env("RAPPORT_DATA_DIR", env.data_dir())
        .env("RAPPORT_HTTP_TIMEOUT_SECS", "60")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("spawn");
    let state_file = rapport::store::Store::open(Some(&env.data_dir()))
        .expect("store")
        .account(
            rapport::model::Platform::Mastodon,
            account_spec(&fake.server).trim_start_matches("mastodon:"),
        )
        .dir()
        .join("state.json");
    let t0 = std::time::Instant::now();
    loop {
        let pages = std::fs::read(&state_file)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["endpoints"]["statuses"]["pages"].as_u64());
        if pages == Some(1) {
            break;
        }
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(20),
            "first page never stored"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let _ = child.kill();
    let _ = child.wait();
    env.rapport().args(["fetch", "mastodon"]).assert().success();
    assert_eq!(
        stored(&env, &fake.server),
        stored(&env_ref, &reference.server)
    );
}
