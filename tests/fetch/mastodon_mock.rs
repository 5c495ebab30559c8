//! `rapport login/fetch/analyze` against the `mastodon-mock` server (a stateful mock of the
//! Mastodon REST API, started by scripts/test-servers.sh): real Link paging, a 429 with
//! Retry-After injected by the mock's fault API, notifications of mentions.

use serde_json::{Value, json};

use super::Env;

async fn post(c: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut r = c.post(url).json(&body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await.expect("mock reachable");
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread")]
async fn mastodon_fetch_against_mastodon_mock() {
    let Some(m) = super::server(
        "RAPPORT_TEST_MASTODON_URL",
        "mastodon_fetch_against_mastodon_mock",
    ) else {
        return;
    };
    let c = reqwest::Client::new();
    // Invented users; usernames unique per run so the shared server can be reused.
    let suffix = std::process::id();
    let (alice, bob) = (format!("alice{suffix}"), format!("bob{suffix}"));
    for u in [&alice, &bob] {
        post(
            &c,
            format!("{m}/api/v1/_mock/dev_user"),
            None,
            json!({"username": u}),
        )
        .await;
    }
    let token = |v: Value| v["access_token"].as_str().unwrap_or_default().to_string();
    let at = token(
        post(
            &c,
            format!("{m}/api/v1/_mock/login"),
            None,
            json!({"username": alice}),
        )
        .await,
    );
    let bt = token(
        post(
            &c,
            format!("{m}/api/v1/_mock/login"),
            None,
            json!({"username": bob}),
        )
        .await,
    );
    let status = |v: Value| v["id"].as_str().unwrap_or_default().to_string();
    let s1 = status(
        post(
            &c,
            format!("{m}/api/v1/statuses"),
            Some(&at),
            json!({"status": "hello"}),
        )
        .await,
    );
    post(
        &c,
        format!("{m}/api/v1/statuses"),
        Some(&at),
        json!({"status": "more", "in_reply_to_id": s1}),
    )
    .await;
    let b1 = status(
        post(
            &c,
            format!("{m}/api/v1/statuses"),
            Some(&bt),
            json!({"status": "bob here"}),
        )
        .await,
    );
    let s3 = status(
        post(
            &c,
            format!("{m}/api/v1/statuses"),
            Some(&at),
            json!({"status": format!("@{bob} hi"), "in_reply_to_id": b1}),
        )
        .await,
    );
    post(
        &c,
        format!("{m}/api/v1/statuses/{b1}/reblog"),
        Some(&at),
        json!({}),
    )
    .await;
    post(
        &c,
        format!("{m}/api/v1/statuses"),
        Some(&bt),
        json!({"status": format!("@{alice} thanks"), "in_reply_to_id": s3}),
    )
    .await;
    // The next page request of the account's statuses gets a 429 with Retry-After.
    post(
        &c,
        format!("{m}/api/v1/_mock/faults"),
        None,
        json!({"match": {"methods": ["GET"], "path_regex": "^/api/v1/accounts/[0-9]+/statuses$"},
               "effect": {"type": "ratelimit", "headers": {"Retry-After": "1"}}, "count": 1}),
    )
    .await;

    let env = Env::new();
    env.rapport()
        .args(["login", "mastodon", "--instance", &m, "--token", &at])
        .assert()
        .success();
    let started = std::time::Instant::now();
    env.rapport().args(["fetch", "mastodon"]).assert().success();
    assert!(
        started.elapsed().as_millis() >= 900,
        "Retry-After was not honoured"
    );
    let host = m.trim_start_matches("http://");
    let out = tempfile::tempdir().expect("tmp");
    env.rapport()
        .args([
            "analyze",
            "--account",
            &format!("mastodon:@{alice}@{host}"),
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let metrics = std::fs::read_to_string(out.path().join("metrics.csv")).expect("metrics");
    let row = metrics
        .lines()
        .find(|l| l.contains(",mastodon,"))
        .unwrap_or_default()
        .to_string();
    // post → broadcast, self reply → self_thread, boost → amplification, reply to bob →
    // conversation (ratio 1/3); bob's reply mentioning alice is received and reciprocates.
    let cells: Vec<&str> = row.split(',').collect();
    assert_eq!(
        cells.get(2..12),
        Some(&["1", "1", "1", "1", "0", "0", "0.3333", "1", "1", "1"][..]),
        "{metrics}"
    );
}
