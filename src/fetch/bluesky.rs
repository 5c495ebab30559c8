//! Bluesky XRPC → raw pages in the store + Activities: the login (createSession with an app
//! password, refreshed when expired), `com.atproto.repo.listRecords` for posts, reposts and
//! likes on the user's PDS, and `app.bsky.notification.listNotifications` (reply/mention →
//! `in`). Owns Bluesky paging; records are mapped by the CAR importer's rules
//! (`sources::bluesky::record_activity`), so a listed record and the same record in an exported
//! repository are classified alike. Must not classify modes, parse CAR exports or use Polars.
//!
//! Paging: records are listed oldest first (`reverse=true`), so the last cursor stored is
//! where the next fetch continues: an unchanged repo costs one request per collection (the
//! PDS answers an empty page). Notifications only come newest first: a pass walks down until
//! it reaches the newest notification of the previous complete pass (also one request when
//! nothing is new). A PDS without an AppView does not serve notifications: that is a note, not
//! an error. A cursor handed out twice ends the loop, with a note.

use std::collections::HashSet;
use std::sync::Arc;

use ipld_core::ipld::Ipld;
use serde_json::{Value, json};

use super::auth::{Credentials, save};
use super::{
    Context, FetchFuture, FetchOptions, Fetcher, Http, LoginArgs, PageGuard, Progress, join,
    parse_time,
};
use crate::diag::Diagnostics;
use crate::error::FetchError;
use crate::model::{Activity, Direction, Kind, Platform, Secret, Source};
use crate::sources::bluesky::{Place, is_counted_collection, record_activity};
use crate::store::{AccountState, AccountStore};

/// Record collections fetched, with their endpoint names in the store.
pub const COLLECTIONS: [(&str, &str); 3] = [
    ("posts", "app.bsky.feed.post"),
    ("reposts", "app.bsky.feed.repost"),
    ("likes", "app.bsky.feed.like"),
];
/// Endpoint name of notifications in the store.
pub const NOTIFICATIONS: &str = "notifications";

/// The Bluesky API client.
pub struct BlueskyApi;

impl Fetcher for BlueskyApi {
    fn platform(&self) -> Platform {
        Platform::Bluesky
    }

    fn login<'a>(
        &'a self,
        ctx: &'a Context<'a>,
        args: &'a LoginArgs<'a>,
    ) -> FetchFuture<'a, Credentials> {
        Box::pin(async move {
            let handle = args.handle.as_deref().ok_or_else(|| {
                FetchError::Usage(
                    "Bluesky login needs your handle: rapport login bluesky --handle alice.bsky.social"
                        .into(),
                )
            })?;
            let password = args
                .app_password
                .as_ref()
                .or(args.token.as_ref())
                .ok_or_else(|| {
                    FetchError::Usage(
                        "an app password is needed: --app-password (or - to read it from standard input) or RAPPORT_BLUESKY_APP_PASSWORD"
                            .into(),
                    )
                })?;
            let server = ctx.api.bluesky_pds.trim_end_matches('/').to_string();
            // An explicitly chosen server is used as it is; the entryway hands over to the PDS.
            let follow = server == "https://bsky.social";
            login(ctx.http, &server, follow, handle, password).await
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
        Box::pin(fetch(ctx.http, creds.clone(), account, options, progress))
    }
}

/// A Bluesky session as createSession/refreshSession return it.
fn session_creds(
    server: &str,
    body: &serde_json::Value,
    url: &str,
) -> Result<Credentials, FetchError> {
    let s = |k: &str| body.get(k).and_then(|v| v.as_str()).map(String::from);
    let proto = |m: &str| FetchError::Protocol {
        url: url.to_string(),
        message: m.to_string(),
    };
    let mut creds = Credentials::new(
        Platform::Bluesky,
        s("handle").ok_or_else(|| proto("the session has no handle"))?,
        server,
        Secret::new(s("accessJwt").ok_or_else(|| proto("no accessJwt"))?),
    );
    creds.owner = Some(s("did").ok_or_else(|| proto("the session has no did"))?);
    creds.refresh_token = s("refreshJwt").map(Secret::new);
    Ok(creds)
}

/// The PDS named in a session's DID document (`#atproto_pds`), if any.
fn pds_of(body: &serde_json::Value) -> Option<String> {
    body.get("didDoc")?
        .get("service")?
        .as_array()?
        .iter()
        .find(|s| {
            s.get("id")
                .and_then(|v| v.as_str())
                .is_some_and(|id| id.ends_with("#atproto_pds"))
        })?
        .get("serviceEndpoint")?
        .as_str()
        .map(|s| s.trim_end_matches('/').to_string())
}

/// createSession with an app password on `server` (sent once: sessions are rate-limited and a
/// retry would make a second one). When `server` is the default entryway, later requests go to
/// the PDS the DID document names.
async fn login(
    http: &Http,
    server: &str,
    follow_did_doc: bool,
    handle: &str,
    password: &Secret,
) -> Result<Credentials, FetchError> {
    let url = join(server, "/xrpc/com.atproto.server.createSession");
    let body = json!({"identifier": handle, "password": password.expose()});
    let resp = http.send_once(|c| c.post(&url).json(&body)).await?;
    if resp.status == 401 || resp.status == 400 {
        return Err(FetchError::Auth {
            platform: "bluesky".into(),
            message: format!(
                "{server} refused the login for {handle} (HTTP {}): check the handle and use an app password (Settings → Privacy and security → App passwords)",
                resp.status
            ),
        });
    }
    let resp = resp.ok("bluesky", "")?;
    let json = resp.json()?;
    let pds = if follow_did_doc {
        pds_of(json).unwrap_or_else(|| server.trim_end_matches('/').to_string())
    } else {
        server.trim_end_matches('/').to_string()
    };
    session_creds(&pds, json, &url)
}

/// refreshSession with the stored refresh token (sent once: the refresh token rotates); the
/// new tokens replace the old ones.
async fn refresh(http: &Http, creds: &Credentials) -> Result<Credentials, FetchError> {
    let url = join(&creds.server, "/xrpc/com.atproto.server.refreshSession");
    let relogin = format!(
        "The Bluesky session expired and could not be refreshed: run `rapport login bluesky --handle {}` again.",
        creds.account
    );
    let Some(refresh) = &creds.refresh_token else {
        return Err(FetchError::Auth {
            platform: "bluesky".into(),
            message: relogin,
        });
    };
    let resp = http
        .send_once(|c| c.post(&url).bearer_auth(refresh.expose()))
        .await?;
    if matches!(resp.status, 400 | 401) {
        return Err(FetchError::Auth {
            platform: "bluesky".into(),
            message: relogin,
        });
    }
    let resp = resp.ok("bluesky", &relogin)?;
    session_creds(&creds.server, resp.json()?, &url)
}

fn is_expired(resp: &super::Response) -> bool {
    resp.status == 401
        || (resp.status == 400
            && resp
                .json
                .as_ref()
                .and_then(|j| j.get("error"))
                .and_then(|e| e.as_str())
                .is_some_and(|e| e == "ExpiredToken" || e == "InvalidToken"))
}

/// Checks the session (refreshing and saving it when expired); returns the current login.
async fn session(http: &Http, mut creds: Credentials) -> Result<Credentials, FetchError> {
    let url = join(&creds.server, "/xrpc/com.atproto.server.getSession");
    let resp = http
        .send(|c| c.get(&url).bearer_auth(creds.access_token.expose()))
        .await?;
    if is_expired(&resp) {
        creds = refresh(http, &creds).await?;
        save(&creds)?;
        return Ok(creds);
    }
    let relogin = format!(
        "Run `rapport login bluesky --handle {}` again.",
        creds.account
    );
    let resp = resp.ok("bluesky", &relogin)?;
    if let Some(did) = resp.json()?.get("did").and_then(|d| d.as_str()) {
        creds.owner = Some(did.to_string());
    }
    Ok(creds)
}

/// Fetches records and notifications of the logged-in account into `store`, then rebuilds its
/// activity table. Returns notes for the user.
async fn fetch(
    http: &Http,
    creds: Credentials,
    store: &AccountStore,
    options: &FetchOptions,
    progress: &Progress,
) -> Result<Vec<String>, FetchError> {
    let creds = session(http, creds).await?;
    let did = creds.owner.clone().ok_or_else(|| FetchError::Protocol {
        url: creds.server.clone(),
        message: "the session names no DID".into(),
    })?;
    let mut notes = Vec::new();
    let mut state = store.load_state()?;
    state.owner = Some(did.clone());
    state.server = Some(creds.server.clone());
    store.save_state(&state)?;
    let list = join(&creds.server, "/xrpc/com.atproto.repo.listRecords");
    for (endpoint, collection) in COLLECTIONS {
        let mut cursor = state
            .endpoints
            .get(endpoint)
            .and_then(|e| e.cursor.get("cursor"))
            .and_then(|c| c.as_str())
            .map(String::from);
        let mut guard = PageGuard::new(endpoint, options.max_pages);
        loop {
            if let Err(note) = guard.admit(cursor.as_deref()) {
                notes.push(note);
                break;
            }
            let mut query = vec![
                ("repo", did.as_str()),
                ("collection", collection),
                ("limit", "100"),
                ("reverse", "true"),
            ];
            let current = cursor.clone();
            if let Some(c) = &current {
                query.push(("cursor", c));
            }
            let resp = http
                .send(|c| c.get(&list).query(&query))
                .await?
                .ok("bluesky", "")?;
            let body = resp.json()?;
            let records = body
                .get("records")
                .and_then(|r| r.as_array())
                .ok_or_else(|| FetchError::Protocol {
                    url: resp.url.clone(),
                    message: "no records array".into(),
                })?;
            // The PDS ends with an empty page; the last non-empty one still has a cursor.
            if records.is_empty() {
                break;
            }
            let next = body
                .get("cursor")
                .and_then(|c| c.as_str())
                .map(String::from)
                .or_else(|| {
                    records
                        .last()
                        .and_then(|r| r.get("uri"))
                        .and_then(|u| u.as_str())
                        .and_then(|u| u.rsplit('/').next())
                        .map(String::from)
                });
            store.store_page(
                &mut state,
                endpoint,
                &resp.body,
                records.len() as u64,
                json!({ "cursor": next }),
            )?;
            progress.page(endpoint, records.len() as u64);
            if next.is_none() || next == current {
                break;
            }
            cursor = next;
        }
    }
    if let Some(note) = notifications(http, &creds, store, &mut state, options, progress).await? {
        notes.push(note);
    }
    let pages: Vec<(&str, Vec<Vec<u8>>)> = COLLECTIONS
        .iter()
        .map(|(e, _)| Ok((*e, store.pages(&state, e)?)))
        .collect::<Result<_, crate::error::StoreError>>()?;
    let mut diag = Diagnostics::default();
    let activities = normalize(
        &did,
        &pages,
        &store.pages(&state, NOTIFICATIONS)?,
        &mut diag,
    );
    notes.extend(diag.problems().iter().map(crate::diag::describe));
    store.write_activities(&activities)?;
    state.last_fetch = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    store.save_state(&state)?;
    Ok(notes)
}

async fn notifications(
    http: &Http,
    creds: &Credentials,
    store: &AccountStore,
    state: &mut AccountState,
    options: &FetchOptions,
    progress: &Progress,
) -> Result<Option<String>, FetchError> {
    let url = join(
        &creds.server,
        "/xrpc/app.bsky.notification.listNotifications",
    );
    let saved = state
        .endpoints
        .get(NOTIFICATIONS)
        .map(|e| e.cursor.clone())
        .unwrap_or(Value::Null);
    let s = |k: &str| saved.get(k).and_then(|v| v.as_str()).map(String::from);
    let mark = s("mark");
    let mut pending = s("pending");
    let mut cursor = s("cursor");
    let relogin = format!(
        "Run `rapport login bluesky --handle {}` again.",
        creds.account
    );
    let mut guard = PageGuard::new(NOTIFICATIONS, options.max_pages);
    loop {
        if let Err(note) = guard.admit(cursor.as_deref()) {
            // What was read is kept; the next fetch continues from the stored cursor.
            return Ok(Some(note));
        }
        let mut query = vec![("limit", "100")];
        let current = cursor.clone();
        if let Some(c) = &current {
            query.push(("cursor", c));
        }
        let resp = http
            .send(|c| {
                c.get(&url)
                    .query(&query)
                    .bearer_auth(creds.access_token.expose())
            })
            .await?;
        if matches!(resp.status, 400 | 404 | 501) && !is_expired(&resp) {
            // A bare PDS has no AppView to answer app.bsky.* methods.
            return Ok(Some(format!(
                "{} does not serve notifications (HTTP {}: {}); received replies and mentions are not included",
                creds.server,
                resp.status,
                super::short(&resp.body)
            )));
        }
        let resp = resp.ok("bluesky", &relogin)?;
        let body = resp.json()?;
        let items = body
            .get("notifications")
            .and_then(|n| n.as_array())
            .ok_or_else(|| FetchError::Protocol {
                url: resp.url.clone(),
                message: "no notifications array".into(),
            })?;
        let time = |n: &Value| {
            n.get("indexedAt")
                .and_then(|v| v.as_str())
                .map(String::from)
        };
        let newest_here = items.iter().filter_map(time).max();
        if pending.is_none() {
            pending = newest_here.clone();
        }
        let is_new = |n: &Value| match (&mark, time(n)) {
            (Some(m), Some(t)) => t > *m,
            _ => true,
        };
        let new_items = items.iter().filter(|n| is_new(n)).count() as u64;
        let reached = new_items < items.len() as u64;
        let next = body
            .get("cursor")
            .and_then(|c| c.as_str())
            .map(String::from);
        let done = items.is_empty() || next.is_none() || next == current || reached;
        let saved = if done {
            json!({ "mark": pending.clone().or(mark.clone()) })
        } else {
            json!({ "mark": mark, "pending": pending, "cursor": next })
        };
        store.store_page(state, NOTIFICATIONS, &resp.body, new_items, saved)?;
        if new_items > 0 {
            progress.page(NOTIFICATIONS, new_items);
        }
        if done {
            return Ok(None);
        }
        cursor = next;
    }
}

/// `did`, collection and rkey of an `at://did/collection/rkey` URI.
fn parts_of(uri: &str) -> Option<(&str, &str, &str)> {
    let mut it = uri.strip_prefix("at://")?.splitn(3, '/');
    Some((it.next()?, it.next()?, it.next()?))
}

/// Turns stored pages into activities (pure: the same pages give the same table). Records go
/// through the CAR importer's rules; problems with them are reported into `diag`.
pub fn normalize(
    did: &str,
    records: &[(&str, Vec<Vec<u8>>)],
    notifications: &[Vec<u8>],
    diag: &mut Diagnostics,
) -> Vec<Activity> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut seq = 0u64;
    for (endpoint, pages) in records {
        let source: Source = Source::from(format!("bluesky API: listRecords {endpoint}"));
        for page in pages {
            let Ok(body) = serde_json::from_slice::<Value>(page) else {
                continue;
            };
            for r in body
                .get("records")
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
            {
                let (Some(uri), Some(value)) =
                    (r.get("uri").and_then(|u| u.as_str()), r.get("value"))
                else {
                    continue;
                };
                let Some((author, collection, rkey)) = parts_of(uri) else {
                    continue;
                };
                if author != did
                    || !is_counted_collection(collection)
                    || !seen.insert(uri.to_string())
                {
                    continue;
                }
                // JSON → the IPLD data model the importer reads (strings, integers, maps and
                // lists are the same values; `$link` objects stay maps, which no rule reads).
                let Ok(record) = serde_json::from_value::<Ipld>(value.clone()) else {
                    continue;
                };
                let place = Place {
                    source: &source,
                    seq,
                    line: Some(seq + 1),
                };
                seq += 1;
                if let Some(a) = record_activity(did, collection, rkey, &record, &place, diag) {
                    out.push(a);
                }
            }
        }
    }
    let source: Source = Source::from("bluesky API: listNotifications");
    let mut received = HashSet::new();
    for page in notifications {
        let Ok(body) = serde_json::from_slice::<Value>(page) else {
            continue;
        };
        for n in body
            .get("notifications")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
        {
            let reason = n.get("reason").and_then(|r| r.as_str()).unwrap_or("");
            if reason != "reply" && reason != "mention" {
                continue;
            }
            let (Some(uri), Some(author)) = (
                n.get("uri").and_then(|u| u.as_str()),
                n.get("author")
                    .and_then(|a| a.get("did"))
                    .and_then(|d| d.as_str()),
            ) else {
                continue;
            };
            if author == did || !received.insert(uri.to_string()) {
                continue;
            }
            let at = n
                .get("record")
                .and_then(|r| r.get("createdAt"))
                .and_then(|v| v.as_str())
                .or_else(|| n.get("indexedAt").and_then(|v| v.as_str()))
                .and_then(parse_time);
            let kind = if reason == "reply" {
                Kind::Reply
            } else {
                Kind::Post
            };
            let mut a = Activity::new(
                Platform::Bluesky,
                uri.to_string(),
                at,
                Direction::In,
                kind,
                source.clone(),
            );
            a.counterparts = vec![Arc::from(author)].into();
            a.hints.seq = seq;
            seq += 1;
            out.push(a);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: &Value) -> Vec<u8> {
        serde_json::to_vec(v).unwrap_or_default()
    }

    #[test]
    fn records_become_activities_by_the_importers_rules() {
        let me = "did:plc:me";
        let posts = json!({"records": [
            {"uri": "at://did:plc:me/app.bsky.feed.post/1", "value": {"text": "hello", "createdAt": "2024-03-01T00:00:00Z"}},
            {"uri": "at://did:plc:me/app.bsky.feed.post/2", "value": {"text": "more", "createdAt": "2024-03-01T01:00:00Z",
              "reply": {"root": {"uri": "at://did:plc:me/app.bsky.feed.post/1"}, "parent": {"uri": "at://did:plc:me/app.bsky.feed.post/1"}}}},
            {"uri": "at://did:plc:me/app.bsky.feed.post/3", "value": {"text": "@bob yes", "createdAt": "2024-03-02T00:00:00Z",
              "reply": {"root": {"uri": "at://did:plc:bob/app.bsky.feed.post/9"}, "parent": {"uri": "at://did:plc:bob/app.bsky.feed.post/9"}}}}
        ]});
        let likes = json!({"records": [
            {"uri": "at://did:plc:me/app.bsky.feed.like/4", "value": {"subject": {"uri": "at://did:plc:bob/app.bsky.feed.post/9"}, "createdAt": "2024-03-02T00:00:00Z"}}
        ]});
        let notes = json!({"notifications": [
            {"uri": "at://did:plc:bob/app.bsky.feed.post/10", "reason": "reply", "author": {"did": "did:plc:bob"},
             "record": {"createdAt": "2024-03-03T00:00:00Z"}, "indexedAt": "2024-03-03T00:00:01Z"},
            {"uri": "at://did:plc:bob/app.bsky.feed.like/11", "reason": "like", "author": {"did": "did:plc:bob"}, "indexedAt": "2024-03-03T00:00:01Z"}
        ]});
        let mut diag = Diagnostics::default();
        let v = normalize(
            me,
            &[("posts", vec![body(&posts)]), ("likes", vec![body(&likes)])],
            &[body(&notes)],
            &mut diag,
        );
        let kinds: Vec<Kind> = v.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Kind::Post,
                Kind::Reply,
                Kind::Reply,
                Kind::Reaction,
                Kind::Reply
            ]
        );
        assert!(v[1].hints.parent_is_owner);
        assert_eq!(*v[2].counterparts, vec![Arc::<str>::from("did:plc:bob")]);
        assert_eq!(v[4].direction, Direction::In);
    }

    /// The JSON form of a DAG-CBOR value, as XRPC writes records (`$link`, `$bytes`).
    fn to_json(v: &Ipld) -> Value {
        match v {
            Ipld::Null => Value::Null,
            Ipld::Bool(b) => json!(b),
            Ipld::Integer(i) => json!(*i as i64),
            Ipld::Float(f) => json!(f),
            Ipld::String(s) => json!(s),
            Ipld::Bytes(b) => json!({"$bytes": b.len()}),
            Ipld::List(l) => Value::Array(l.iter().map(to_json).collect()),
            Ipld::Map(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
            Ipld::Link(c) => json!({"$link": c.to_string()}),
        }
    }

    #[test]
    fn records_listed_by_the_api_count_like_the_exported_repository() {
        use crate::sources::bluesky::testrepo;
        use crate::sources::{Archive, Collected, ImportOptions, Importer as _};
        let repo = testrepo::fixture();
        // The export, read by the importer.
        let dir = tempfile::tempdir().expect("tmp");
        let car = dir.path().join("repo.car");
        std::fs::write(&car, repo.to_car()).expect("write");
        let archive = Archive::open(&car, u64::MAX).expect("open");
        let mut exported = Collected::default();
        crate::sources::bluesky::BlueskyRepo
            .read(&archive, &ImportOptions::default(), &mut exported)
            .expect("read");
        // The same records as listRecords pages, read by the fetcher.
        let blocks: std::collections::HashMap<_, _> = repo.blocks.iter().cloned().collect();
        let mut pages = Vec::new();
        for (endpoint, collection) in COLLECTIONS {
            let records: Vec<Value> = repo
                .records
                .iter()
                .filter(|(key, _)| key.starts_with(&format!("{collection}/")))
                .map(|(key, cid)| {
                    let value: Ipld =
                        serde_ipld_dagcbor::from_slice(&blocks[cid]).expect("record");
                    json!({"uri": format!("at://{}/{key}", repo.did), "cid": cid.to_string(), "value": to_json(&value)})
                })
                .collect();
            pages.push((endpoint, vec![body(&json!({"records": records}))]));
        }
        let mut diag = Diagnostics::default();
        let mut fetched = normalize(&repo.did, &pages, &[], &mut diag);
        let summary = |acts: &mut Vec<Activity>| {
            crate::classify::classify(acts, 8);
            let threads = crate::classify::threads(acts, 8);
            crate::analysis::summarize(
                acts,
                &threads,
                &crate::analysis::AnalysisOptions {
                    zone: crate::model::Zone::Utc,
                    from: None,
                    to: None,
                },
            )
            .expect("summary")
        };
        let (a, b) = (summary(&mut exported.activities), summary(&mut fetched));
        assert!(a.rows.len() >= 4, "{:?}", a.rows);
        assert_eq!(a.rows, b.rows);
    }

    #[test]
    fn mention_facets_follow_the_leading_run_rule() {
        // Three facets: the owner first (never a counterpart), then Bob; a facet outside the
        // text ends the run instead of making the post a broadcast.
        let me = "did:plc:me";
        let text = "@me.test @bob.test hi";
        let facet = |s: usize, e: usize, did: &str| json!({"index": {"byteStart": s, "byteEnd": e}, "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]});
        let posts = json!({"records": [
            {"uri": "at://did:plc:me/app.bsky.feed.post/1", "value": {"text": text, "createdAt": "2024-03-01T00:00:00Z",
             "facets": [facet(0, 8, me), facet(9, 18, "did:plc:bob"), facet(40, 50, "did:plc:eve")]}}
        ]});
        let mut diag = Diagnostics::default();
        let v = normalize(me, &[("posts", vec![body(&posts)])], &[], &mut diag);
        assert_eq!(v[0].hints.leading_mentions, Some(2));
        assert_eq!(*v[0].counterparts, vec![Arc::<str>::from("did:plc:bob")]);
    }
}
