//! LinkedIn Member Data Portability fetch against a wiremock server whose bodies are shaped like
//! the Microsoft Learn documentation of `memberSnapshotData` (invented data): `paging.links`
//! paging, a domain answering 404 (no data), 429 + Retry-After, a revoked token, no login, a
//! fetch failed mid-way then resumed, the browser login's code exchange with a token answer
//! lacking `token_type`, and metrics of the fetched account equal to those of the same data as
//! an export.

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Authorize, Env, browse};

const TOKEN: &str = "AQV-li-token-5b2e90aa";
const SNAPSHOT: &str = "/rest/memberSnapshotData";

fn page(domain: &str, start: u64, rows: Value, next: Option<&str>) -> Value {
    let links = match next {
        Some(h) => json!([{"type": "application/json", "rel": "next", "href": h}]),
        None => json!([]),
    };
    json!({
        "paging": {"start": start, "count": 10, "links": links},
        "elements": [{"snapshotDomain": domain, "snapshotData": rows}]
    })
}

fn shares_page_1() -> Value {
    page(
        "MEMBER_SHARE_INFO",
        0,
        json!([
            {"Date": "2024-03-02 09:15:00", "ShareLink": "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A7169000000000000001",
             "ShareCommentary": "Hello, world", "SharedUrl": "", "MediaUrl": "", "Visibility": "PUBLIC"},
            {"Date": "2024-03-05 17:40:12", "ShareLink": "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A7170000000000000002",
             "ShareCommentary": "", "SharedUrl": "https://example.org/a", "MediaUrl": "", "Visibility": "PUBLIC"}
        ]),
        Some("/rest/memberSnapshotData?q=criteria&domain=MEMBER_SHARE_INFO&start=10&count=10"),
    )
}

fn shares_page_2() -> Value {
    page(
        "MEMBER_SHARE_INFO",
        10,
        json!([
            {"Date": "2024-04-01 08:00:00", "ShareLink": "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A7180000000000000003",
             "ShareCommentary": "April post", "SharedUrl": "", "MediaUrl": "", "Visibility": "MEMBER_NETWORK"}
        ]),
        None,
    )
}

fn comments() -> Value {
    page(
        "ALL_COMMENTS",
        0,
        json!([
            {"Date": "2024-03-06 08:00:01", "Link": "https://www.linkedin.com/feed/update/urn:li:activity:7170300000000000003", "Message": "Great point"},
            {"Date": "2024-04-02 10:00:00", "Link": "https://www.linkedin.com/feed/update/urn:li:activity:7180300000000000004", "Message": "Agree, fully"}
        ]),
        None,
    )
}

fn likes() -> Value {
    page(
        "ALL_LIKES",
        0,
        json!([
            {"Date": "2024-03-07 12:00:00", "Type": "LIKE", "Link": "https://www.linkedin.com/feed/update/urn:li:activity:7170500000000000005"},
            {"Date": "2024-03-08 12:00:00", "Type": "PRAISE", "Link": "https://www.linkedin.com/feed/update/urn:li:activity:7170600000000000006"},
            {"Date": "2024-04-03 12:00:00", "Type": "LIKE", "Link": "https://www.linkedin.com/feed/update/urn:li:activity:7180500000000000007"}
        ]),
        None,
    )
}

fn inbox() -> Value {
    let msg = |conv: &str,
               from: &str,
               from_url: &str,
               to: &str,
               to_url: &str,
               date: &str,
               content: &str| {
        json!({"CONVERSATION ID": conv, "CONVERSATION TITLE": "", "FROM": from, "SENDER PROFILE URL": from_url,
               "TO": to, "RECIPIENT PROFILE URLS": to_url, "DATE": date, "SUBJECT": "", "CONTENT": content,
               "FOLDER": "INBOX", "ATTACHMENTS": "", "IS MESSAGE DRAFT": "No", "IS CONVERSATION DRAFT": "No"})
    };
    page(
        "INBOX",
        0,
        json!([
            msg(
                "2-BBB==",
                "Robin Example",
                "https://www.linkedin.com/in/robin-example",
                "Kim Placeholder",
                "https://www.linkedin.com/in/kim-placeholder",
                "2024-04-05 09:00:00 UTC",
                "Coffee?"
            ),
            msg(
                "2-AAA==",
                "Robin Example",
                "https://www.linkedin.com/in/Robin-Example?trk=x",
                "Sam Sample",
                "https://www.linkedin.com/in/sam-sample",
                "2024-03-07 10:05:00 UTC",
                "Sure! \"quoted\" \\ back"
            ),
            msg(
                "2-AAA==",
                "Sam Sample",
                "https://www.linkedin.com/in/sam-sample",
                "Robin Example",
                "https://www.linkedin.com/in/robin-example/",
                "2024-03-07 10:00:00 UTC",
                "Hi Robin,\nquick question"
            )
        ]),
        None,
    )
}

fn invitations() -> Value {
    page(
        "INVITATIONS",
        0,
        json!([
            {"From": "Robin Example", "To": "Kim Placeholder", "Sent At": "3/8/24, 4:20 PM", "Message": "Enjoyed your talk, let's connect",
             "Direction": "OUTGOING", "inviterProfileUrl": "https://www.linkedin.com/in/robin-example", "inviteeProfileUrl": "https://www.linkedin.com/in/kim-placeholder"},
            {"From": "Lee Dummy", "To": "Robin Example", "Sent At": "3/9/24, 9:01 AM", "Message": "",
             "Direction": "INCOMING", "inviterProfileUrl": "https://www.linkedin.com/in/lee-dummy", "inviteeProfileUrl": "https://www.linkedin.com/in/robin-example"}
        ]),
        None,
    )
}

/// The same data as an extracted export (what LinkedIn's "Get a copy of your data" gives).
const EXPORT: &[(&str, &str)] = &[
    (
        "Shares.csv",
        "Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility\n\
2024-03-02 09:15:00,https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A7169000000000000001,\"Hello, world\",,,PUBLIC\n\
2024-03-05 17:40:12,https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A7170000000000000002,,https://example.org/a,,PUBLIC\n\
2024-04-01 08:00:00,https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A7180000000000000003,April post,,,MEMBER_NETWORK\n",
    ),
    (
        "Comments.csv",
        "Date,Link,Message\n\
2024-03-06 08:00:01,https://www.linkedin.com/feed/update/urn:li:activity:7170300000000000003,Great point\n\
2024-04-02 10:00:00,https://www.linkedin.com/feed/update/urn:li:activity:7180300000000000004,\"Agree, fully\"\n",
    ),
    (
        "Reactions.csv",
        "Date,Type,Link\n\
2024-03-07 12:00:00,LIKE,https://www.linkedin.com/feed/update/urn:li:activity:7170500000000000005\n\
2024-03-08 12:00:00,PRAISE,https://www.linkedin.com/feed/update/urn:li:activity:7170600000000000006\n\
2024-04-03 12:00:00,LIKE,https://www.linkedin.com/feed/update/urn:li:activity:7180500000000000007\n",
    ),
    (
        "messages.csv",
        "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER,ATTACHMENTS,IS MESSAGE DRAFT,IS CONVERSATION DRAFT\n\
2-BBB==,,Robin Example,https://www.linkedin.com/in/robin-example,Kim Placeholder,https://www.linkedin.com/in/kim-placeholder,2024-04-05 09:00:00 UTC,,Coffee?,INBOX,,No,No\n\
2-AAA==,,Robin Example,https://www.linkedin.com/in/Robin-Example?trk=x,Sam Sample,https://www.linkedin.com/in/sam-sample,2024-03-07 10:05:00 UTC,,Sure!,INBOX,,No,No\n\
2-AAA==,,Sam Sample,https://www.linkedin.com/in/sam-sample,Robin Example,https://www.linkedin.com/in/robin-example/,2024-03-07 10:00:00 UTC,,\"Hi Robin,\nquick question\",INBOX,,No,No\n",
    ),
    (
        "Invitations.csv",
        "From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl\n\
Robin Example,Kim Placeholder,\"3/8/24, 4:20 PM\",\"Enjoyed your talk, let's connect\",OUTGOING,https://www.linkedin.com/in/robin-example,https://www.linkedin.com/in/kim-placeholder\n\
Lee Dummy,Robin Example,\"3/9/24, 9:01 AM\",,INCOMING,https://www.linkedin.com/in/lee-dummy,https://www.linkedin.com/in/robin-example\n",
    ),
];

/// Counted by hand (UTC, group_max 8). 2024-03: 2 shares broadcast; conversation = the comment,
/// the reply to Sam (private) and the invitation with a note; passive = 2 likes; ratio 3/5;
/// engaged Sam and Kim, reciprocated Sam; received Sam's message and Lee's invitation; Robin
/// answered Sam after 5 minutes. 2024-04: 1 share; the comment and the message to Kim (private);
/// 1 like; ratio 2/3; engaged Kim; nothing received. New people: Sam and Kim in March, nobody
/// in April; nobody waiting (Robin wrote last in both conversations). Wilson intervals of 3/5
/// and 2/3.
const EXPECTED: [&str; 2] = [
    "2024-03,linkedin,2,0,0,3,1,2,0.6000,2,1,2,5.0,2,0,0.2307,0.8824",
    "2024-04,linkedin,1,0,0,2,1,1,0.6667,1,0,0,,0,0,0.2077,0.9385",
];

/// A snapshot mock for `domain` that insists on LinkedIn's headers and the token.
fn snapshot(domain: &str) -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path(SNAPSHOT))
        .and(query_param("q", "criteria"))
        .and(query_param("domain", domain))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("linkedin-version", "202312"))
        .and(header("x-restli-protocol-version", "2.0.0"))
}

fn not_found(domain: &str) -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({
        "status": 404, "code": "NOT_FOUND",
        "message": format!("No data found for this memberId and domain {domain}")
    }))
}

/// A server with every domain; `invitations_found: false` makes INVITATIONS answer 404.
async fn fake(invitations_found: bool) -> MockServer {
    let server = MockServer::start().await;
    mount(
        &server,
        invitations_found,
        ResponseTemplate::new(200).set_body_json(shares_page_2()),
    )
    .await;
    server
}

/// Mounts every domain; `shares_2` answers the second page of shares.
async fn mount(server: &MockServer, invitations_found: bool, shares_2: ResponseTemplate) {
    snapshot("PROFILE")
        .respond_with(not_found("PROFILE"))
        .mount(server)
        .await;
    snapshot("MEMBER_SHARE_INFO")
        .and(query_param("start", "10"))
        .respond_with(shares_2)
        .with_priority(1)
        .mount(server)
        .await;
    snapshot("MEMBER_SHARE_INFO")
        .respond_with(ResponseTemplate::new(200).set_body_json(shares_page_1()))
        .mount(server)
        .await;
    for (domain, body) in [
        ("ALL_COMMENTS", comments()),
        ("ALL_LIKES", likes()),
        ("INBOX", inbox()),
    ] {
        snapshot(domain)
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(server)
            .await;
    }
    let inv = if invitations_found {
        ResponseTemplate::new(200).set_body_json(invitations())
    } else {
        not_found("INVITATIONS")
    };
    snapshot("INVITATIONS")
        .respond_with(inv)
        .mount(server)
        .await;
    // Anything else (no token, wrong headers): rejected.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
            "message": "Invalid access token"
        })))
        .with_priority(10)
        .mount(server)
        .await;
}

fn linkedin(env: &Env, server: &MockServer) -> assert_cmd::Command {
    let mut c = env.rapport();
    c.env("RAPPORT_LINKEDIN_API", server.uri());
    c
}

fn login(env: &Env, server: &MockServer) {
    let out = linkedin(env, server)
        .args(["login", "linkedin", "--token", TOKEN])
        .assert()
        .success();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.get_output().stdout),
        String::from_utf8_lossy(&out.get_output().stderr)
    );
    assert!(!text.contains(TOKEN), "{text}");
}

fn stored(env: &Env) -> Vec<rapport::model::Activity> {
    let store = rapport::store::Store::open(Some(&env.data_dir())).expect("store");
    let acct = store.find("linkedin:me").expect("account stored");
    let mut v = acct.read_activities().expect("table");
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

fn linkedin_rows(metrics: &str) -> Vec<String> {
    metrics
        .lines()
        .filter(|l| l.contains(",linkedin,"))
        .map(String::from)
        .collect()
}

fn analyze(env: &Env, input: &[&str]) -> Vec<String> {
    let out = tempfile::tempdir().expect("tmp");
    env.rapport()
        .arg("analyze")
        .args(input)
        .arg("--out")
        .arg(out.path())
        .arg("--quiet")
        .assert()
        .success();
    let metrics = std::fs::read_to_string(out.path().join("metrics.csv")).expect("metrics");
    for f in super::files_under(out.path()) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(TOKEN),
            "token leaked into {f:?}"
        );
    }
    linkedin_rows(&metrics)
}

#[tokio::test(flavor = "multi_thread")]
async fn linkedin_token_login_paging_and_metrics_equal_the_export() {
    let server = fake(true).await;
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
    let before = server.received_requests().await.map_or(0, |r| r.len());
    let out = linkedin(&env, &server)
        .args(["fetch", "linkedin"])
        .assert()
        .success();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.get_output().stdout),
        String::from_utf8_lossy(&out.get_output().stderr)
    );
    assert!(!text.contains(TOKEN), "{text}");
    // PROFILE + 2 share pages + comments + likes + inbox + invitations.
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len() - before, 7);
    let acts = stored(&env);
    assert_eq!(acts.len(), 3 + 2 + 3 + 3 + 2, "{acts:?}");
    // Raw pages are kept verbatim.
    let raw = env
        .data_dir()
        .join("accounts/linkedin/me/raw/shares/00000001.json");
    assert_eq!(
        std::fs::read(&raw).expect("second page stored"),
        serde_json::to_vec(&shares_page_2()).expect("json")
    );
    let store = rapport::store::Store::open(Some(&env.data_dir())).expect("store");
    let state = store
        .find("linkedin:me")
        .and_then(|a| a.load_state())
        .expect("state");
    assert_eq!(
        state.owner.as_deref(),
        Some("https://www.linkedin.com/in/robin-example")
    );
    assert_eq!(state.endpoints["shares"].pages, 2);
    // A second fetch reads the snapshot again and replaces it: nothing doubles.
    linkedin(&env, &server)
        .args(["fetch", "linkedin"])
        .assert()
        .success();
    assert_eq!(stored(&env), acts);
    let state = store
        .find("linkedin:me")
        .and_then(|a| a.load_state())
        .expect("state");
    assert_eq!(state.endpoints["shares"].pages, 2);
    assert_eq!(state.endpoints["inbox"].items, 3);
    // The fetched account and the same data as an export give the same metrics.
    let fetched = analyze(&env, &["--account", "linkedin:me"]);
    assert_eq!(fetched, EXPECTED, "{fetched:?}");
    let dir = tempfile::tempdir().expect("tmp");
    for (name, body) in EXPORT {
        std::fs::write(dir.path().join(name), body).expect("write");
    }
    let export_dir = dir.path().display().to_string();
    let exported = analyze(&env, &["--export", &export_dir]);
    assert_eq!(exported, fetched);
    // Listed, exported as Parquet, logged out.
    let listing = env.rapport().arg("accounts").assert().success();
    let listing = String::from_utf8_lossy(&listing.get_output().stdout).to_string();
    assert!(listing.contains("linkedin:me\t13 activities"), "{listing}");
    env.rapport()
        .args(["logout", "linkedin"])
        .assert()
        .success();
    assert!(env.token_files().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn linkedin_429_with_retry_after_and_a_404_domain() {
    let server = fake(false).await;
    snapshot("INBOX")
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(
                    json!({"status": 429, "message": "Resource level throttle limit reached"}),
                ),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let env = Env::new();
    login(&env, &server);
    let t0 = std::time::Instant::now();
    let out = linkedin(&env, &server)
        .args(["fetch", "linkedin"])
        .assert()
        .success();
    assert!(
        t0.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After honoured"
    );
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("no INVITATIONS data"), "{err}");
    // No invitations: the owner comes from the messages (in the most conversations).
    let acts = stored(&env);
    assert_eq!(acts.len(), 3 + 2 + 3 + 3);
    let out_dir = analyze(&env, &["--account", "linkedin:me"]);
    assert!(
        out_dir
            .iter()
            .any(|r| r.starts_with("2024-03,linkedin,2,0,0,2,1,2,0.5000,1,1,1,5.0")),
        "{out_dir:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn linkedin_without_login_client_or_valid_token() {
    let server = fake(true).await;
    let env = Env::new();
    // Not logged in.
    let out = linkedin(&env, &server)
        .args(["fetch", "linkedin"])
        .assert()
        .code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("rapport login linkedin"), "{err}");
    // No app configured for the browser login.
    let out = linkedin(&env, &server)
        .args(["login", "linkedin"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("RAPPORT_LINKEDIN_CLIENT_ID")
            && err.contains("RAPPORT_LINKEDIN_CLIENT_SECRET"),
        "{err}"
    );
    // A token LinkedIn rejects is not stored.
    linkedin(&env, &server)
        .args(["login", "linkedin", "--token", "not-the-token"])
        .assert()
        .code(3);
    assert!(env.token_files().is_empty());
    // A token revoked after login: fetch stops with the login command to run.
    login(&env, &server);
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "status": 401, "code": "REVOKED_ACCESS_TOKEN", "message": "The token used in the request has been revoked by the user"
        })))
        .mount(&server)
        .await;
    let out = linkedin(&env, &server)
        .args(["fetch", "linkedin"])
        .assert()
        .code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("rapport login linkedin"), "{err}");
    assert!(!err.contains(TOKEN));
}

/// LinkedIn's authorize page, approving at once: a 302 to the redirect URI with a code and the
/// state it was given.
async fn browser_login(token_answer: ResponseTemplate) -> Result<String, String> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oauth/v2/authorization"))
        .and(query_param("response_type", "code"))
        .and(query_param("client_id", "li-client"))
        .and(query_param("scope", "r_dma_portability_self_serve"))
        .respond_with(Authorize("li-code-1"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/v2/accessToken"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=li-code-1"))
        .and(body_string_contains("client_id=li-client"))
        .and(body_string_contains("client_secret=li-app-secret"))
        .and(body_string_contains("code_verifier="))
        .and(body_string_contains(
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A",
        ))
        .respond_with(token_answer)
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = tmp.path().join("c.toml");
    std::fs::write(&file, "").map_err(|e| e.to_string())?;
    let mut cfg = rapport::config::Config::load(Some(&file)).map_err(|e| e.to_string())?;
    cfg.api.linkedin.authorize_url = format!("{}/oauth/v2/authorization", server.uri());
    cfg.api.linkedin.token_url = format!("{}/oauth/v2/accessToken", server.uri());
    cfg.api.linkedin.api = server.uri();
    cfg.api.linkedin.client_id = "li-client".into();
    cfg.api.linkedin.client_secret = rapport::model::Secret::new("li-app-secret");
    cfg.api.linkedin.scope = "r_dma_portability_self_serve".into();
    let http = rapport::fetch::Http::new(rapport::fetch::RetryPolicy::from(&cfg.api))
        .map_err(|e| e.to_string())?;
    let open = |url: &str| {
        assert!(url.contains("state="), "{url}");
        assert!(url.contains("code_challenge_method=S256"), "{url}");
        tokio::spawn(browse(url.to_string()));
    };
    let args = rapport::fetch::LoginArgs {
        instance: None,
        handle: None,
        app_password: None,
        token: None,
        account: Some("me".into()),
        open: &open,
    };
    let ctx = rapport::fetch::Context {
        http: &http,
        api: &cfg.api,
    };
    let creds = rapport::fetch::fetcher(rapport::model::Platform::LinkedIn)
        .map_err(|e| e.to_string())?
        .login(&ctx, &args)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(creds.platform, rapport::model::Platform::LinkedIn);
    assert_eq!(creds.account, "me");
    assert!(!format!("{creds:?}").contains("AQX-li-access"));
    Ok(creds.access_token.expose().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn linkedin_browser_login_accepts_a_token_answer_without_token_type() {
    // LinkedIn's documented answer: no token_type.
    let ok = browser_login(ResponseTemplate::new(200).set_body_json(json!({
        "access_token": "AQX-li-access",
        "expires_in": 5_184_000,
        "scope": "r_dma_portability_self_serve"
    })))
    .await;
    assert_eq!(ok.as_deref(), Ok("AQX-li-access"));
    let refused = browser_login(ResponseTemplate::new(400).set_body_json(json!({
        "error": "invalid_request",
        "error_description": "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code"
    })))
    .await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.contains("token exchange failed") && e.contains("invalid_request")),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn linkedin_failed_midway_then_resumed_equals_uninterrupted() {
    let reference = fake(true).await;
    let env_ref = Env::new();
    login(&env_ref, &reference);
    linkedin(&env_ref, &reference)
        .args(["fetch", "linkedin"])
        .assert()
        .success();

    let server = MockServer::start().await;
    mount(&server, true, ResponseTemplate::new(500)).await;
    let env = Env::new();
    login(&env, &server);
    // The second page of shares keeps failing: the fetch gives up after the first page.
    linkedin(&env, &server)
        .args(["fetch", "linkedin"])
        .assert()
        .code(3);
    let store = rapport::store::Store::open(Some(&env.data_dir())).expect("store");
    let state = store
        .find("linkedin:me")
        .and_then(|a| a.load_state())
        .expect("state");
    assert_eq!(state.endpoints["shares"].pages, 1);
    assert!(state.last_fetch.is_none());
    // The server recovers: the fetch continues at the failed page, PROFILE is not asked again.
    server.reset().await;
    mount(
        &server,
        true,
        ResponseTemplate::new(200).set_body_json(shares_page_2()),
    )
    .await;
    linkedin(&env, &server)
        .args(["fetch", "linkedin"])
        .assert()
        .success();
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(
        requests.len(),
        5,
        "share page 2, then the four other domains"
    );
    assert_eq!(stored(&env), stored(&env_ref));
    let state = store
        .find("linkedin:me")
        .and_then(|a| a.load_state())
        .expect("state");
    assert_eq!(state.endpoints["shares"].pages, 2);
    assert!(state.last_fetch.is_some());
}
