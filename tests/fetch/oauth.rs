//! Mastodon's browser login (authorization code + PKCE S256, random state, loopback listener)
//! against oauth2-mock-server in STRICT mode (RAPPORT_TEST_OAUTH_URL), with the instance's
//! app registration and verify_credentials on wiremock. The "browser" is an HTTP client that
//! follows the authorize redirect to rapport's loopback listener.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use rapport::fetch::{Http, RetryPolicy};

#[derive(Clone, Copy)]
enum Browser {
    Honest,
    ForgedState,
    ForgedCode,
}

/// What a browser does with the authorize URL: follow the 302 to the loopback callback.
async fn browse(url: String, how: Browser) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = http.get(&url).send().await.expect("authorize");
    let location = resp
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("authorize redirects")
        .to_string();
    let mut cb = url::Url::parse(&location).expect("callback url");
    let pairs: Vec<(String, String)> = cb
        .query_pairs()
        .map(|(k, v)| match (how, k.as_ref()) {
            (Browser::ForgedState, "state") => (k.into_owned(), "forged".to_string()),
            (Browser::ForgedCode, "code") => (k.into_owned(), "made-up-code".to_string()),
            _ => (k.into_owned(), v.into_owned()),
        })
        .collect();
    cb.query_pairs_mut().clear().extend_pairs(pairs);
    let _ = http.get(cb.as_str()).send().await;
}

async fn instance() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/apps"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "1", "name": "rapport", "client_id": "rapport-test-client", "client_secret": "app-secret"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/verify_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "1", "username": "me", "acct": "me", "url": "https://social.example/@me"
        })))
        .mount(&server)
        .await;
    server
}

async fn login(oauth: &str, how: Browser) -> Result<String, String> {
    let server = instance().await;
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = tmp.path().join("c.toml");
    std::fs::write(&file, "").map_err(|e| e.to_string())?;
    let mut cfg = rapport::config::Config::load(Some(&file)).map_err(|e| e.to_string())?;
    cfg.api.mastodon_authorize_url = format!("{oauth}/authorize");
    cfg.api.mastodon_token_url = format!("{oauth}/token");
    let http = Http::new(RetryPolicy::from(&cfg.api)).map_err(|e| e.to_string())?;
    let open = |url: &str| {
        assert!(url.contains("code_challenge_method=S256"), "{url}");
        assert!(url.contains("state="), "{url}");
        tokio::spawn(browse(url.to_string(), how));
    };
    let args = rapport::fetch::LoginArgs {
        instance: Some(server.uri()),
        handle: None,
        app_password: None,
        token: None,
        account: None,
        open: &open,
    };
    let ctx = rapport::fetch::Context {
        http: &http,
        api: &cfg.api,
    };
    let creds = rapport::fetch::fetcher(rapport::model::Platform::Mastodon)
        .map_err(|e| e.to_string())?
        .login(&ctx, &args)
        .await
        .map_err(|e| e.to_string())?;
    let apps = server.received_requests().await.unwrap_or_default();
    let body = apps
        .iter()
        .find(|r| r.url.path() == "/api/v1/apps")
        .map(|r| String::from_utf8_lossy(&r.body).to_string())
        .unwrap_or_default();
    assert!(
        body.contains("read%3Aaccounts+read%3Astatuses+read%3Anotifications"),
        "{body}"
    );
    assert!(
        body.contains("redirect_uris=http%3A%2F%2F127.0.0.1%3A"),
        "{body}"
    );
    Ok(creds.account)
}

#[tokio::test(flavor = "multi_thread")]
async fn mastodon_browser_login_against_strict_oauth_server() {
    let Some(oauth) = super::server(
        "RAPPORT_TEST_OAUTH_URL",
        "mastodon_browser_login_against_strict_oauth_server",
    ) else {
        return;
    };
    let ok = login(&oauth, Browser::Honest).await;
    assert!(
        ok.as_deref().is_ok_and(|a| a.starts_with("@me@127.0.0.1:")),
        "{ok:?}"
    );
    let forged = login(&oauth, Browser::ForgedState).await;
    assert!(
        forged
            .as_ref()
            .is_err_and(|e| e.contains("different state")),
        "{forged:?}"
    );
    let bad_code = login(&oauth, Browser::ForgedCode).await;
    assert!(
        bad_code
            .as_ref()
            .is_err_and(|e| e.contains("token exchange failed")),
        "{bad_code:?}"
    );
}
