//! LinkedIn Member Data Portability API (DMA) → raw pages in the store + Activities: the
//! `memberSnapshotData` domains for shares, comments, likes, inbox and invitations (plus
//! `PROFILE`, read only for the owner's profile URL). Owns the snapshot paging and the JSON row →
//! CSV row mapping; the rows are then read by the LinkedIn export importer
//! (`sources::linkedin`), so an API account and an export follow the very same rules. Must not
//! classify modes or use Polars.
//!
//! The snapshot has no increments: every fetch reads each domain again from its first page
//! (following `paging.links` `rel="next"`), replacing the pages of the previous fetch. A fetch
//! is a numbered *pass*; a domain finished in the current pass is not fetched again when a
//! killed or failed fetch is resumed, and a half-read domain continues at its stored `next`
//! link. Rows become CSV files (with the headers LinkedIn's export uses) in
//! `accounts/linkedin/<account>/csv/`, a pure function of the raw pages, which the importer
//! reads like an extracted export.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};

use super::auth::{Credentials, Secret, join};
use super::{Http, Progress};
use crate::error::{Error, FetchError};
use crate::model::Activity;
use crate::sources::linkedin::LinkedInExport;
use crate::sources::text::normalize_linkedin_url;
use crate::sources::{Archive, Collected, ImportOptions, Importer as _};
use crate::store::{AccountState, AccountStore, write_atomic};

/// Path of the snapshot endpoint under the API base.
pub const SNAPSHOT_PATH: &str = "/rest/memberSnapshotData";
/// The `LinkedIn-Version` header the DMA APIs need.
pub const LINKEDIN_VERSION: &str = "202312";
/// Folder (in the account's store folder) of the CSV files rebuilt from the raw pages.
pub const CSV_DIR: &str = "csv";

/// One snapshot domain rapport reads.
#[derive(Debug, Clone, Copy)]
pub struct Domain {
    /// Endpoint name in the store (`raw/<endpoint>/`).
    pub endpoint: &'static str,
    /// The `domain` query value.
    pub domain: &'static str,
    /// The CSV header of the matching export file (`None`: not activity data).
    pub header: Option<&'static [&'static str]>,
    /// Not confirmed to exist: an HTTP 400 or 422 also means "no data".
    pub unconfirmed: bool,
}

/// The domains fetched, in order.
pub const DOMAINS: [Domain; 6] = [
    Domain {
        endpoint: "profile",
        domain: "PROFILE",
        header: None,
        unconfirmed: false,
    },
    Domain {
        endpoint: "shares",
        domain: "MEMBER_SHARE_INFO",
        header: Some(&[
            "Date",
            "ShareLink",
            "ShareCommentary",
            "SharedUrl",
            "MediaUrl",
            "Visibility",
        ]),
        unconfirmed: false,
    },
    Domain {
        endpoint: "comments",
        domain: "ALL_COMMENTS",
        header: Some(&["Date", "Link", "Message"]),
        unconfirmed: false,
    },
    Domain {
        endpoint: "likes",
        domain: "ALL_LIKES",
        header: Some(&["Date", "Type", "Link"]),
        unconfirmed: false,
    },
    Domain {
        endpoint: "inbox",
        domain: "INBOX",
        header: Some(&[
            "CONVERSATION ID",
            "CONVERSATION TITLE",
            "FROM",
            "SENDER PROFILE URL",
            "TO",
            "RECIPIENT PROFILE URLS",
            "DATE",
            "SUBJECT",
            "CONTENT",
            "FOLDER",
            "ATTACHMENTS",
            "IS MESSAGE DRAFT",
            "IS CONVERSATION DRAFT",
        ]),
        unconfirmed: false,
    },
    Domain {
        endpoint: "invitations",
        domain: "INVITATIONS",
        header: Some(&[
            "From",
            "To",
            "Sent At",
            "Message",
            "Direction",
            "inviterProfileUrl",
            "inviteeProfileUrl",
        ]),
        unconfirmed: true,
    },
];

/// The hint given when LinkedIn rejects the token.
pub fn login_hint() -> String {
    "Run `rapport login linkedin` again (LinkedIn tokens expire after about 60 days; the app \
     needs the Member Data Portability (Member) product and the scope in api.linkedin_scope)."
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
                let k = norm_key(k);
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
/// `me` (the owner's profile URL) is remembered for later fetches. Returns notes for the user.
pub async fn fetch(
    http: &Http,
    creds: &Credentials,
    store: &AccountStore,
    api_base: &str,
    me: Option<&str>,
    progress: &Progress,
) -> Result<Vec<String>, Error> {
    let base_str = api_base.trim().trim_end_matches('/').to_string();
    let base = url::Url::parse(&base_str).map_err(|e| {
        Error::Usage(format!(
            "api.linkedin_api = {base_str:?} is not a URL ({e})"
        ))
    })?;
    let hint = login_hint();
    let mut notes = Vec::new();
    let mut state = store.load_state()?;
    state.server = Some(base_str.clone());
    if let Some(me) = me.map(str::trim).filter(|m| !m.is_empty()) {
        let me = normalize_linkedin_url(me).ok_or_else(|| {
            Error::Usage(format!(
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
    for d in &DOMAINS {
        walk(
            http,
            &creds.access_token,
            &base,
            store,
            &mut state,
            d,
            pass,
            progress,
            &hint,
            &mut notes,
        )
        .await?;
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

#[allow(clippy::too_many_arguments)]
async fn walk(
    http: &Http,
    token: &Secret,
    base: &url::Url,
    store: &AccountStore,
    state: &mut AccountState,
    d: &Domain,
    pass: u64,
    progress: &Progress,
    hint: &str,
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let base_str = base.as_str().trim_end_matches('/').to_string();
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
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        if !seen.insert(next.clone()) {
            // A server whose next link goes in circles: what was read is all there is.
            let done = Cursor {
                pass,
                done: true,
                next: None,
            };
            store.set_cursor(state, d.endpoint, done.to_json())?;
            return Ok(());
        }
        let resp = http.send(|c| request(c, &next, token)).await?;
        let no_data =
            resp.status == 404 || (d.unconfirmed && matches!(resp.status, 400 | 422 | 501));
        if no_data {
            let first = state.endpoints.get(d.endpoint).is_none_or(|e| e.pages == 0);
            if first && d.header.is_some() {
                notes.push(format!(
                    "LinkedIn has no {} data for this account (HTTP {}); LinkedIn builds the snapshot domain by domain after you consent, so some domains may appear only hours later",
                    d.domain, resp.status
                ));
            }
            let done = Cursor {
                pass,
                done: true,
                next: None,
            };
            store.set_cursor(state, d.endpoint, done.to_json())?;
            return Ok(());
        }
        let resp = resp.ok("linkedin", hint)?;
        let page = resp.json()?;
        if !page.is_object() {
            return Err(FetchError::Protocol {
                url: resp.url.clone(),
                message: "expected a JSON object with paging and elements".into(),
            }
            .into());
        }
        let rows = page_rows(page, d.domain).len() as u64;
        let following = next_link(page, base, &resp.url)?;
        let done = following.is_none() || rows == 0;
        let cursor = Cursor {
            pass,
            done,
            next: if done { None } else { following.clone() },
        };
        // Pages without rows are not stored (`store_page` skips them); their cursor is.
        store.store_page(state, d.endpoint, &resp.body, rows, cursor.to_json())?;
        progress.page(d.domain, rows);
        match (done, following) {
            (false, Some(n)) => next = n,
            _ => return Ok(()),
        }
    }
}

/// Lower-cased letters and digits only: `CONVERSATION ID`, `conversationId` and
/// `conversation_id` all become `conversationid`.
fn norm_key(k: &str) -> String {
    k.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A JSON cell as CSV text: strings as they are, arrays joined with `,`, epoch numbers in
/// date columns as `YYYY-MM-DD HH:MM:SS UTC`.
fn cell_text(column: &str, v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            let is_date = {
                let k = norm_key(column);
                k.contains("date") || k == "sentat"
            };
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

/// The CSV text of one domain (header of the export file, one line per row of every page).
/// Cells are matched to columns by name, ignoring case, spaces and underscores.
pub fn domain_csv(d: &Domain, pages: &[Vec<u8>]) -> Vec<u8> {
    let Some(header) = d.header else {
        return Vec::new();
    };
    let keys: Vec<String> = header.iter().map(|h| norm_key(h)).collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    for page in pages {
        let Ok(page) = serde_json::from_slice::<Value>(page) else {
            continue;
        };
        for row in page_rows(&page, d.domain) {
            let by_key: BTreeMap<String, &Value> =
                row.iter().map(|(k, v)| (norm_key(k), v)).collect();
            let cells: Vec<String> = header
                .iter()
                .zip(&keys)
                .map(|(h, k)| by_key.get(k).map(|v| cell_text(h, v)).unwrap_or_default())
                .collect();
            rows.push(cells);
        }
    }
    match d.endpoint {
        "comments" => comments_csv(header, rows),
        // messages.csv is read with `\` as the quote escape: quote every cell, double every `\`.
        "inbox" => write_csv(header, rows, true),
        _ => write_csv(header, rows, false),
    }
}

fn write_csv(header: &[&str], rows: Vec<Vec<String>>, backslash_escaped: bool) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .quote_style(if backslash_escaped {
            csv::QuoteStyle::Always
        } else {
            csv::QuoteStyle::Necessary
        })
        .from_writer(Vec::new());
    let _ = w.write_record(header);
    for row in rows {
        let row: Vec<String> = if backslash_escaped {
            row.into_iter().map(|c| c.replace('\\', "\\\\")).collect()
        } else {
            row
        };
        let _ = w.write_record(&row);
    }
    w.into_inner().unwrap_or_default()
}

/// Comments.csv is read line by line (a record starts with a date and a link, as LinkedIn
/// writes it): one line per comment, the message on that line, an empty link made a URN so
/// the record is not taken for the previous comment's text.
fn comments_csv(header: &[&str], rows: Vec<Vec<String>>) -> Vec<u8> {
    let rows = rows
        .into_iter()
        .map(|mut r| {
            if let Some(link) = r.get_mut(1)
                && link.trim().is_empty()
            {
                *link = "urn:li:comment:unknown".into();
            }
            if let Some(m) = r.get_mut(2) {
                *m = m.replace(['\r', '\n'], " ");
            }
            r
        })
        .collect();
    write_csv(header, rows, false)
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

/// Rebuilds the CSV files from the stored pages and reads them with the LinkedIn export
/// importer.
pub fn normalize(store: &AccountStore, state: &AccountState) -> Result<Normalized, Error> {
    let dir = store.dir().join(CSV_DIR);
    let mut profile = None;
    for d in &DOMAINS {
        let pages = store.pages(state, d.endpoint)?;
        if d.header.is_none() {
            if profile.is_none() {
                profile = pages
                    .iter()
                    .filter_map(|p| serde_json::from_slice::<Value>(p).ok())
                    .find_map(|p| profile_owner(&p));
            }
            continue;
        }
        write_atomic(
            &dir.join(format!("{}.csv", d.domain)),
            &domain_csv(d, &pages),
            false,
        )?;
    }
    let archive = Archive::open(&dir, u64::MAX)?;
    let options = ImportOptions {
        me: state
            .meta
            .get(META_ME)
            .cloned()
            .or(profile)
            .into_iter()
            .collect(),
        threads: 2,
    };
    let mut sink = Collected::default();
    LinkedInExport.read(&archive, &options, &mut sink)?;
    let owner = sink.owners.first().and_then(|o| o.id.clone());
    let notes = sink
        .diagnostics
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

    fn domain(name: &str) -> Domain {
        DOMAINS
            .iter()
            .copied()
            .find(|d| d.domain == name)
            .unwrap_or(DOMAINS[0])
    }

    #[test]
    fn rows_become_export_csv() {
        let page = json!({
            "paging": {"start": 0, "count": 10, "links": []},
            "elements": [{"snapshotDomain": "INBOX", "snapshotData": [
                {"CONVERSATION ID": "2-A==", "FROM": "Sam \"S\" Sample", "SENDER PROFILE URL": "https://www.linkedin.com/in/sam",
                 "TO": "Robin", "RECIPIENT PROFILE URLS": ["https://www.linkedin.com/in/robin"],
                 "DATE": "2024-03-07 10:00:00 UTC", "CONTENT": "a\\\"b, c\nd", "IS MESSAGE DRAFT": false}
            ]}]
        });
        let csv = domain_csv(&domain("INBOX"), &[page.to_string().into_bytes()]);
        let text = String::from_utf8_lossy(&csv).to_string();
        assert!(
            text.starts_with("\"CONVERSATION ID\",\"CONVERSATION TITLE\""),
            "{text}"
        );
        assert!(text.contains("\"a\\\\\"\"b, c\nd\""), "{text}");
        assert!(text.contains("\"false\""), "{text}");
        let comments = json!({"elements": [{"snapshotDomain": "ALL_COMMENTS", "snapshotData": [
            {"Date": "2024-03-06 08:00:01", "Link": "", "Message": "two\nlines"},
            {"date": 1709712001000_i64, "link": "https://www.linkedin.com/feed/update/urn:li:activity:1", "message": "x"}
        ]}]});
        let csv = domain_csv(
            &domain("ALL_COMMENTS"),
            &[comments.to_string().into_bytes()],
        );
        let text = String::from_utf8_lossy(&csv).to_string();
        assert_eq!(
            text,
            "Date,Link,Message\n2024-03-06 08:00:01,urn:li:comment:unknown,two lines\n2024-03-06 08:00:01 UTC,https://www.linkedin.com/feed/update/urn:li:activity:1,x\n"
        );
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
