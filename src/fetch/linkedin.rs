//! LinkedIn Member Data Portability API (DMA) → raw pages in the store + Activities: the login
//! (authorization code flow with the user's own app, or a token), and the `memberSnapshotData`
//! domains for shares, comments, likes, inbox and invitations (plus `PROFILE`, read only for the
//! owner's profile URL). Owns the snapshot paging and the JSON row → cells mapping; the rows go
//! through the export importer's row handlers (`sources::linkedin::RowSet`), so an API account
//! and an export follow the very same rules. Must not classify modes or use Polars.
//!
//! The snapshot has no increments: every fetch reads each domain again from its first page
//! (following `paging.links` `rel="next"`), replacing the pages of the previous fetch. A fetch
//! is a numbered *pass*; a domain finished in the current pass is not fetched again when a
//! killed or failed fetch is resumed, and a half-read domain continues at its stored `next`
//! link. The activity table is a pure function of the raw pages.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::{Value, json};

use super::auth::{CodeFlow, Credentials, Loopback, code_flow};
use super::{
    Context, FetchFuture, FetchOptions, Fetcher, Http, LoginArgs, PageGuard, Progress, join,
};
use crate::config::ApiConfig;
use crate::error::FetchError;
use crate::model::{Activity, Platform, Secret};
use crate::sources::linkedin::{Col, Record, RowKind, RowSet, column_key};
use crate::sources::text::normalize_linkedin_url;
use crate::sources::{Collected, ImportOptions, Sink as _};
use crate::store::{AccountState, AccountStore};

/// Path of the snapshot endpoint under the API base.
pub const SNAPSHOT_PATH: &str = "/rest/memberSnapshotData";
/// The `LinkedIn-Version` header the DMA APIs need.
pub const LINKEDIN_VERSION: &str = "202312";

/// One snapshot domain rapport reads.
#[derive(Debug, Clone, Copy)]
pub struct Domain {
    /// Endpoint name in the store (`raw/<endpoint>/`).
    pub endpoint: &'static str,
    /// The `domain` query value.
    pub domain: &'static str,
    /// The export file its rows mirror (`None`: not activity data).
    pub rows: Option<RowKind>,
    /// Not confirmed to exist: an HTTP 400 or 422 also means "no data".
    pub unconfirmed: bool,
}

/// The domains fetched, in order.
pub const DOMAINS: [Domain; 6] = [
    Domain {
        endpoint: "profile",
        domain: "PROFILE",
        rows: None,
        unconfirmed: false,
    },
    Domain {
        endpoint: "shares",
        domain: "MEMBER_SHARE_INFO",
        rows: Some(RowKind::Shares),
        unconfirmed: false,
    },
    Domain {
        endpoint: "comments",
        domain: "ALL_COMMENTS",
        rows: Some(RowKind::Comments),
        unconfirmed: false,
    },
    Domain {
        endpoint: "likes",
        domain: "ALL_LIKES",
        rows: Some(RowKind::Reactions),
        unconfirmed: false,
    },
    Domain {
        endpoint: "inbox",
        domain: "INBOX",
        rows: Some(RowKind::Messages),
        unconfirmed: false,
    },
    Domain {
        endpoint: "invitations",
        domain: "INVITATIONS",
        rows: Some(RowKind::Invitations),
        unconfirmed: true,
    },
];

/// The LinkedIn API client.
pub struct LinkedInApi;

impl Fetcher for LinkedInApi {
    fn platform(&self) -> Platform {
        Platform::LinkedIn
    }

    fn login<'a>(
        &'a self,
        ctx: &'a Context<'a>,
        args: &'a LoginArgs<'a>,
    ) -> FetchFuture<'a, Credentials> {
        Box::pin(async move {
            let account = args.account.clone().unwrap_or_else(|| "me".into());
            match &args.token {
                Some(t) => with_token(ctx.http, ctx.api, &account, t.clone()).await,
                None => oauth(ctx.http, ctx.api, &account, args.open).await,
            }
        })
    }

    fn fetch<'a>(
        &'a self,
        ctx: &'a Context<'a>,
        creds: &'a Credentials,
        account: &'a AccountStore,
        options: &'a FetchOptions,
        progress: &'a Progress,
    ) -> FetchFuture<'a, Vec<String>> {
        Box::pin(fetch(ctx, creds, account, options, progress))
    }
}

/// The LinkedIn app's client id and secret (config or environment), or a usage error naming
/// both ways to give them.
fn client(api: &ApiConfig) -> Result<(String, Secret), FetchError> {
    let id = api.linkedin.client_id.trim();
    if id.is_empty() || api.linkedin.client_secret.is_empty() {
        return Err(FetchError::Usage(
            "LinkedIn login needs your own developer app: set RAPPORT_LINKEDIN_CLIENT_ID and \
             RAPPORT_LINKEDIN_CLIENT_SECRET (or api.linkedin.client_id and \
             api.linkedin.client_secret in your config file); see README \"Fetch from platform \
             APIs\". Or pass an access token obtained elsewhere with --token."
                .into(),
        ));
    }
    Ok((id.to_string(), api.linkedin.client_secret.clone()))
}

/// `rapport login linkedin`: authorization code flow (PKCE sent too, harmless where it is not
/// used) with the user's own app, then the stored login (`account` names it, e.g. `me`).
async fn oauth(
    http: &Http,
    api: &ApiConfig,
    account: &str,
    open: &dyn Fn(&str),
) -> Result<Credentials, FetchError> {
    let (client_id, client_secret) = client(api)?;
    let loopback = Loopback::bind_port(api.linkedin.redirect_port).await?;
    let (access, refresh) = code_flow(
        http,
        CodeFlow {
            platform: "linkedin",
            authorize_url: api.linkedin.authorize_url.trim().to_string(),
            token_url: api.linkedin.token_url.trim().to_string(),
            client_id,
            client_secret: Some(client_secret),
            scopes: api.linkedin.scope.clone(),
            timeout: Duration::from_secs(300),
            form_exchange: true,
            extra: Vec::new(),
            basic_auth: false,
        },
        loopback,
        |u| open(&u),
    )
    .await?;
    let mut creds = Credentials::new(
        Platform::LinkedIn,
        account,
        api.linkedin.api.trim().trim_end_matches('/'),
        access,
    );
    creds.refresh_token = refresh;
    Ok(creds)
}

/// `rapport login linkedin --token`: checks the token with one snapshot request for the
/// `PROFILE` domain (a 404 only means that domain is not built yet) and returns the login.
async fn with_token(
    http: &Http,
    api: &ApiConfig,
    account: &str,
    token: Secret,
) -> Result<Credentials, FetchError> {
    let base = api.linkedin.api.trim().trim_end_matches('/').to_string();
    let url = first_url(&base, "PROFILE");
    let resp = http.send(|c| request(c, &url, &token)).await?;
    let owner = if resp.status == 404 {
        None
    } else {
        let resp = resp.ok(
            "linkedin",
            "Check the token: it must come from an app with the Member Data Portability (Member) product and carry its scope (api.linkedin.scope).",
        )?;
        resp.json.as_ref().and_then(profile_owner)
    };
    let mut creds = Credentials::new(Platform::LinkedIn, account, base, token);
    creds.owner = owner;
    Ok(creds)
}

/// The hint given when LinkedIn rejects the token.
pub fn login_hint() -> String {
    "Run `rapport login linkedin` again (LinkedIn tokens expire after about 60 days; the app \
     needs the Member Data Portability (Member) product and the scope in api.linkedin.scope)."
        .into()
}

/// The first page of `domain`: `{base}/rest/memberSnapshotData?q=criteria&domain=<domain>`.
pub fn first_url(base: &str, domain: &str) -> String {
    format!(
        "{}?q=criteria&domain={domain}",
        join(base, SNAPSHOT_PATH).trim_end_matches('/')
    )
}

/// A snapshot request with LinkedIn's headers.
pub fn request(client: &reqwest::Client, url: &str, token: &Secret) -> reqwest::RequestBuilder {
    client
        .get(url)
        .bearer_auth(token.expose())
        .header("LinkedIn-Version", LINKEDIN_VERSION)
        .header("X-Restli-Protocol-Version", "2.0.0")
}

/// The rows (`elements[].snapshotData[]`) of one page that belong to `domain` (elements
/// without a `snapshotDomain` are taken as the asked one).
pub fn page_rows<'a>(page: &'a Value, domain: &str) -> Vec<&'a serde_json::Map<String, Value>> {
    let Some(elements) = page.get("elements").and_then(|e| e.as_array()) else {
        return Vec::new();
    };
    elements
        .iter()
        .filter(|e| {
            e.get("snapshotDomain")
                .and_then(|d| d.as_str())
                .is_none_or(|d| d.eq_ignore_ascii_case(domain))
        })
        .filter_map(|e| e.get("snapshotData").and_then(|d| d.as_array()))
        .flatten()
        .filter_map(|r| r.as_object())
        .collect()
}

/// The owner's profile URL in a `PROFILE` page, if a row carries one (`…/in/<slug>`).
pub fn profile_owner(page: &Value) -> Option<String> {
    let rows = page_rows(page, "PROFILE");
    // Keys that name a profile URL first, then any value that is one.
    let pick = |profile_keys: bool| {
        rows.iter().find_map(|row| {
            row.iter().find_map(|(k, v)| {
                let k = column_key(k);
                if profile_keys && !(k.contains("profile") || k.contains("url")) {
                    return None;
                }
                normalize_linkedin_url(v.as_str()?)
                    .filter(|u| u.starts_with("https://www.linkedin.com/in/"))
            })
        })
    };
    pick(true).or_else(|| pick(false))
}

/// The `rel="next"` link of a page, resolved against `base`. A link to another server is
/// refused: the token must not travel there.
fn next_link(page: &Value, base: &url::Url, current: &str) -> Result<Option<String>, FetchError> {
    let href = page
        .get("paging")
        .and_then(|p| p.get("links"))
        .and_then(|l| l.as_array())
        .and_then(|links| {
            links.iter().find(|l| {
                l.get("rel")
                    .and_then(|r| r.as_str())
                    .is_some_and(|r| r.eq_ignore_ascii_case("next"))
            })
        })
        .and_then(|l| l.get("href"))
        .and_then(|h| h.as_str())
        .map(str::trim)
        .filter(|h| !h.is_empty());
    let Some(href) = href else { return Ok(None) };
    let url = base.join(href).map_err(|e| FetchError::Protocol {
        url: current.to_string(),
        message: format!("the next link {href:?} is not a URL: {e}"),
    })?;
    if url.origin() != base.origin() {
        return Err(FetchError::Protocol {
            url: current.to_string(),
            message: format!(
                "the next link points to another server ({}); not following it with your token",
                url.origin().ascii_serialization()
            ),
        });
    }
    Ok(Some(url.to_string()))
}

/// The paging state of one domain (stored as JSON in `state.json`).
#[derive(Debug, Default, Clone, PartialEq)]
struct Cursor {
    /// The fetch pass the stored pages belong to.
    pass: u64,
    /// Every page of this pass is stored.
    done: bool,
    /// The next page to fetch (`None`: the first one).
    next: Option<String>,
}

impl Cursor {
    fn from(v: &Value) -> Cursor {
        Cursor {
            pass: v.get("pass").and_then(|x| x.as_u64()).unwrap_or(0),
            done: v.get("done").and_then(|x| x.as_bool()) == Some(true),
            next: v.get("next").and_then(|x| x.as_str()).map(String::from),
        }
    }
    fn to_json(&self) -> Value {
        json!({"pass": self.pass, "done": self.done, "next": self.next})
    }
}

const META_PASS: &str = "snapshot_pass";
const META_COMPLETE: &str = "snapshot_complete";
const META_ME: &str = "me";

/// Fetches every domain of the logged-in member into `store` and rebuilds the activity table.
/// `--me` (the owner's profile URL) is remembered for later fetches. Returns notes for the user.
async fn fetch(
    ctx: &Context<'_>,
    creds: &Credentials,
    store: &AccountStore,
    options: &FetchOptions,
    progress: &Progress,
) -> Result<Vec<String>, FetchError> {
    let base_str = ctx
        .api
        .linkedin
        .api
        .trim()
        .trim_end_matches('/')
        .to_string();
    let base = url::Url::parse(&base_str).map_err(|e| {
        FetchError::Usage(format!(
            "api.linkedin.api = {base_str:?} is not a URL ({e})"
        ))
    })?;
    let hint = login_hint();
    let mut notes = Vec::new();
    if options.since.is_some() {
        notes.push(
            "--since is ignored for LinkedIn: its snapshot always holds your whole history".into(),
        );
    }
    let mut state = store.load_state()?;
    state.server = Some(base_str.clone());
    if let Some(me) = options
        .me
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        let me = normalize_linkedin_url(me).ok_or_else(|| {
            FetchError::Usage(format!(
                "--me {me:?} is not a LinkedIn profile URL; use e.g. https://www.linkedin.com/in/<you>"
            ))
        })?;
        state.meta.insert(META_ME.into(), me);
    }
    let complete = state.meta.get(META_COMPLETE).is_none_or(|v| v == "true");
    let mut pass: u64 = state
        .meta
        .get(META_PASS)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if complete {
        pass += 1;
        state.meta.insert(META_PASS.into(), pass.to_string());
        state.meta.insert(META_COMPLETE.into(), "false".into());
    }
    store.save_state(&state)?;
    let walk = Walk {
        http: ctx.http,
        token: &creds.access_token,
        base: &base,
        store,
        pass,
        max_pages: options.max_pages,
        progress,
        hint: &hint,
    };
    for d in &DOMAINS {
        walk.domain(&mut state, d, &mut notes).await?;
    }
    let mut built = normalize(store, &state)?;
    notes.append(&mut built.notes);
    store.write_activities(&built.activities)?;
    state.owner = built.owner;
    state.meta.insert(META_COMPLETE.into(), "true".into());
    state.last_fetch = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    store.save_state(&state)?;
    Ok(notes)
}

struct Walk<'a> {
    http: &'a Http,
    token: &'a Secret,
    base: &'a url::Url,
    store: &'a AccountStore,
    pass: u64,
    max_pages: u64,
    progress: &'a Progress,
    hint: &'a str,
}

impl Walk<'_> {
    async fn domain(
        &self,
        state: &mut AccountState,
        d: &Domain,
        notes: &mut Vec<String>,
    ) -> Result<(), FetchError> {
        let (pass, store) = (self.pass, self.store);
        let base_str = self.base.as_str().trim_end_matches('/').to_string();
        let stored = state
            .endpoints
            .get(d.endpoint)
            .map(|e| Cursor::from(&e.cursor));
        let mut next = match stored {
            Some(c) if c.pass == pass && c.done => return Ok(()),
            Some(c) if c.pass == pass => c.next.unwrap_or_else(|| first_url(&base_str, d.domain)),
            _ => {
                // A new pass replaces the previous pages (they stay readable until overwritten,
                // but only the count in the state is ever read).
                let entry = state.endpoints.entry(d.endpoint.to_string()).or_default();
                entry.pages = 0;
                entry.items = 0;
                entry.cursor = Cursor {
                    pass,
                    done: false,
                    next: None,
                }
                .to_json();
                store.save_state(state)?;
                first_url(&base_str, d.domain)
            }
        };
        let done_cursor = Cursor {
            pass,
            done: true,
            next: None,
        };
        let mut guard = PageGuard::new(d.domain, self.max_pages);
        loop {
            if let Err(note) = guard.admit(Some(&next)) {
                // A server whose next link goes in circles: what was read is all there is.
                notes.push(note);
                store.set_cursor(state, d.endpoint, done_cursor.to_json())?;
                return Ok(());
            }
            let resp = self.http.send(|c| request(c, &next, self.token)).await?;
            let no_data =
                resp.status == 404 || (d.unconfirmed && matches!(resp.status, 400 | 422 | 501));
            if no_data {
                let first = state.endpoints.get(d.endpoint).is_none_or(|e| e.pages == 0);
                if first && d.rows.is_some() {
                    notes.push(format!(
                        "LinkedIn has no {} data for this account (HTTP {}); LinkedIn builds the snapshot domain by domain after you consent, so some domains may appear only hours later",
                        d.domain, resp.status
                    ));
                }
                store.set_cursor(state, d.endpoint, done_cursor.to_json())?;
                return Ok(());
            }
            let resp = resp.ok("linkedin", self.hint)?;
            let page = resp.json()?;
            if !page.is_object() {
                return Err(FetchError::Protocol {
                    url: resp.url.clone(),
                    message: "expected a JSON object with paging and elements".into(),
                });
            }
            let rows = page_rows(page, d.domain).len() as u64;
            let following = next_link(page, self.base, &resp.url)?;
            let done = following.is_none() || rows == 0;
            let cursor = Cursor {
                pass,
                done,
                next: if done { None } else { following.clone() },
            };
            // Pages without rows are not stored (`store_page` skips them); their cursor is.
            store.store_page(state, d.endpoint, &resp.body, rows, cursor.to_json())?;
            self.progress.page(d.domain, rows);
            match (done, following) {
                (false, Some(n)) => next = n,
                _ => return Ok(()),
            }
        }
    }
}

/// One snapshot row as a LinkedIn record: its fields by column key (`Share Link`, `shareLink`
/// and `share_link` alike), values as the export would write them.
struct JsonRow<'a> {
    line: u64,
    cells: HashMap<String, &'a Value>,
}

impl<'a> JsonRow<'a> {
    fn new(line: u64, row: &'a serde_json::Map<String, Value>) -> JsonRow<'a> {
        JsonRow {
            line,
            cells: row.iter().map(|(k, v)| (column_key(k), v)).collect(),
        }
    }
}

impl Record for JsonRow<'_> {
    fn line(&self) -> u64 {
        self.line
    }

    fn cell(&self, column: Col) -> Cow<'_, str> {
        match self.cells.get(column.key()) {
            Some(Value::String(s)) => Cow::Borrowed(s),
            Some(v) => Cow::Owned(cell_text(column.key(), v)),
            None => Cow::Borrowed(""),
        }
    }
}

/// A JSON value as export text: arrays joined with `,`, epoch numbers in date columns as
/// `YYYY-MM-DD HH:MM:SS UTC`, booleans as `true`/`false`.
fn cell_text(column: &str, v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            let is_date = column.contains("date") || column == "sentat";
            match n.as_i64() {
                Some(x) if is_date && x > 100_000_000 => {
                    let ms = if x > 100_000_000_000 { x } else { x * 1000 };
                    chrono::DateTime::from_timestamp_millis(ms)
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                        .unwrap_or_else(|| n.to_string())
                }
                _ => n.to_string(),
            }
        }
        Value::Array(items) => items
            .iter()
            .map(|i| cell_text(column, i))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => v.to_string(),
    }
}

/// What the stored pages of a LinkedIn account amount to.
#[derive(Debug, Default)]
pub struct Normalized {
    /// The activities, as the export importer builds them.
    pub activities: Vec<Activity>,
    /// The owner's profile URL, when found.
    pub owner: Option<String>,
    /// Rows the importer skipped or repaired, one line each.
    pub notes: Vec<String>,
}

/// Reads the stored pages' rows with the export importer's row handlers (no files written).
pub fn normalize(store: &AccountStore, state: &AccountState) -> Result<Normalized, FetchError> {
    let mut profile = None;
    let mut pages_of: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for d in &DOMAINS {
        let pages: Vec<Value> = store.json_pages(state, d.endpoint)?;
        if d.rows.is_none() && profile.is_none() {
            profile = pages.iter().find_map(profile_owner);
        }
        pages_of.insert(d.endpoint, pages);
    }
    let mut set = RowSet::new();
    for d in &DOMAINS {
        let (Some(kind), Some(pages)) = (d.rows, pages_of.get(d.endpoint)) else {
            continue;
        };
        let rows: Vec<JsonRow<'_>> = pages
            .iter()
            .flat_map(|p| page_rows(p, d.domain))
            .enumerate()
            .map(|(i, r)| JsonRow::new(i as u64 + 1, r))
            .collect();
        set.add(
            kind,
            &format!("linkedin API: {}", d.domain),
            rows.iter().map(|r| r as &dyn Record),
        );
    }
    let options = ImportOptions {
        me: state
            .meta
            .get(META_ME)
            .cloned()
            .or(profile)
            .into_iter()
            .collect(),
        threads: 1,
    };
    let mut sink = Collected::default();
    set.finish(&options, &mut sink);
    let owner = sink.owners.first().and_then(|o| o.id.clone());
    let notes = sink
        .diag()
        .problems()
        .iter()
        .map(crate::diag::describe)
        .collect();
    Ok(Normalized {
        activities: sink.activities,
        owner,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rows_are_read_by_the_export_row_handlers() {
        let inbox = json!({
            "elements": [{"snapshotDomain": "INBOX", "snapshotData": [
                {"CONVERSATION ID": "2-A==", "FROM": "Sam \"S\" Sample", "SENDER PROFILE URL": "https://www.linkedin.com/in/sam",
                 "TO": "Robin", "RECIPIENT PROFILE URLS": ["https://www.linkedin.com/in/Robin/"],
                 "DATE": "2024-03-07 10:00:00 UTC", "CONTENT": "a, c\nd", "IS MESSAGE DRAFT": false},
                {"conversationId": "2-A==", "from": "Robin", "senderProfileUrl": "https://www.linkedin.com/in/robin",
                 "to": "Sam", "recipientProfileUrls": "https://www.linkedin.com/in/sam",
                 "date": 1709806500000_i64, "content": "hi", "isMessageDraft": "No"}
            ]}]
        });
        let comments = json!({"elements": [{"snapshotDomain": "ALL_COMMENTS", "snapshotData": [
            {"Date": "2024-03-06 08:00:01", "Link": "", "Message": "two\nlines"},
            {"date": 1709712001000_i64, "link": "https://www.linkedin.com/feed/update/urn:li:activity:1", "message": "x"}
        ]}]});
        let mut set = RowSet::new();
        for (kind, page, domain) in [
            (RowKind::Messages, &inbox, "INBOX"),
            (RowKind::Comments, &comments, "ALL_COMMENTS"),
        ] {
            let rows: Vec<JsonRow<'_>> = page_rows(page, domain)
                .into_iter()
                .enumerate()
                .map(|(i, r)| JsonRow::new(i as u64 + 1, r))
                .collect();
            set.add(kind, domain, rows.iter().map(|r| r as &dyn Record));
        }
        let mut sink = Collected::default();
        set.finish(
            &ImportOptions {
                me: vec!["https://www.linkedin.com/in/robin".into()],
                threads: 1,
            },
            &mut sink,
        );
        let messages: Vec<&Activity> = sink
            .activities
            .iter()
            .filter(|a| a.kind == crate::model::Kind::Message)
            .collect();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[1].direction, crate::model::Direction::Out);
        assert_eq!(messages[0].participants(), Some(2));
        assert!(messages[1].at().is_some(), "epoch milliseconds are a date");
        let comments: Vec<&Activity> = sink
            .activities
            .iter()
            .filter(|a| a.kind == crate::model::Kind::Comment)
            .collect();
        assert_eq!(comments.len(), 2);
        assert!(comments.iter().all(|c| c.at().is_some()));
    }

    #[test]
    fn next_links_stay_on_the_api_server() {
        let base = url::Url::parse("http://127.0.0.1:9/").unwrap_or_else(|_| unreachable!());
        let page = json!({"paging": {"links": [{"rel": "next", "href": "/rest/memberSnapshotData?q=criteria&domain=INBOX&start=10"}]}});
        assert_eq!(
            next_link(&page, &base, "x").ok().flatten().as_deref(),
            Some("http://127.0.0.1:9/rest/memberSnapshotData?q=criteria&domain=INBOX&start=10")
        );
        let evil =
            json!({"paging": {"links": [{"rel": "next", "href": "https://evil.example/steal"}]}});
        assert!(next_link(&evil, &base, "x").is_err());
        assert_eq!(
            next_link(&json!({"paging": {"links": []}}), &base, "x").ok(),
            Some(None)
        );
        assert_eq!(
            first_url("https://api.linkedin.com", "INBOX"),
            "https://api.linkedin.com/rest/memberSnapshotData?q=criteria&domain=INBOX"
        );
    }

    #[test]
    fn owner_from_profile_rows() {
        let page = json!({"elements": [{"snapshotDomain": "PROFILE", "snapshotData": [
            {"First Name": "Robin", "Websites": "https://example.org", "Profile Url": "https://www.linkedin.com/in/Robin-Example/"}
        ]}]});
        assert_eq!(
            profile_owner(&page).as_deref(),
            Some("https://www.linkedin.com/in/robin-example")
        );
        assert_eq!(profile_owner(&json!({"elements": []})), None);
    }
}
