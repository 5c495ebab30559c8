//! Bluesky XRPC → raw pages in the store + Activities: the session check (refreshed when
//! expired), `com.atproto.repo.listRecords` for posts, reposts and likes on the user's PDS, and
//! `app.bsky.notification.listNotifications` (reply/mention → `in`). Owns Bluesky paging and the
//! record → hints mapping; must not classify modes, parse CAR exports or use Polars.
//!
//! Paging: records are listed oldest first (`reverse=true`), so the last cursor stored is
//! where the next fetch continues: an unchanged repo costs one request per collection (the
//! PDS answers an empty page). Notifications only come newest first: a pass walks down until
//! it reaches the newest notification of the previous complete pass (also one request when
//! nothing is new). A PDS without an AppView does not serve notifications: that is a note, not
//! an error.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Value, json};

use super::auth::{Credentials, bluesky_refresh, join, save};
use super::{Http, Progress, parse_time};
use crate::error::{Error, FetchError};
use crate::model::{Activity, Direction, Kind, Platform};
use crate::store::{AccountState, AccountStore};

/// Record collections fetched, with their endpoint names in the store.
pub const COLLECTIONS: [(&str, &str); 3] = [
    ("posts", "app.bsky.feed.post"),
    ("reposts", "app.bsky.feed.repost"),
    ("likes", "app.bsky.feed.like"),
];
/// Endpoint name of notifications in the store.
pub const NOTIFICATIONS: &str = "notifications";

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
async fn session(http: &Http, mut creds: Credentials) -> Result<Credentials, Error> {
    let url = join(&creds.server, "/xrpc/com.atproto.server.getSession");
    let resp = http
        .send(|c| c.get(&url).bearer_auth(creds.access_token.expose()))
        .await?;
    if is_expired(&resp) {
        creds = bluesky_refresh(http, &creds).await?;
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
pub async fn fetch(
    http: &Http,
    creds: Credentials,
    store: &AccountStore,
    progress: &Progress,
) -> Result<Vec<String>, Error> {
    let creds = session(http, creds).await?;
    let did = creds.owner.clone().ok_or_else(|| FetchError::Protocol {
        url: creds.server.clone(),
        message: "the session names no DID".into(),
    })?;
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
        loop {
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
    let mut notes = Vec::new();
    if let Some(note) = notifications(http, &creds, store, &mut state, progress).await? {
        notes.push(note);
    }
    let pages: Vec<(&str, Vec<Vec<u8>>)> = COLLECTIONS
        .iter()
        .map(|(e, _)| Ok((*e, store.pages(&state, e)?)))
        .collect::<Result<_, crate::error::StoreError>>()?;
    let activities = normalize(&did, &pages, &store.pages(&state, NOTIFICATIONS)?);
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
    progress: &Progress,
) -> Result<Option<String>, Error> {
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
    loop {
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

/// The DID of an `at://did/collection/rkey` URI.
fn did_of(uri: &str) -> Option<&str> {
    uri.strip_prefix("at://")?.split('/').next()
}

/// Accounts in the leading run of mention facets (UTF-8 byte offsets; the first must start at
/// byte 0 and only separators may stand between them).
pub fn leading_mentions(record: &Value) -> Option<u32> {
    let text = record.get("text")?.as_str()?.as_bytes();
    let mut spans: Vec<(usize, usize)> = record
        .get("facets")?
        .as_array()?
        .iter()
        .filter(|f| {
            f.get("features")
                .and_then(|x| x.as_array())
                .is_some_and(|fs| {
                    fs.iter().any(|x| {
                        x.get("$type").and_then(|t| t.as_str())
                            == Some("app.bsky.richtext.facet#mention")
                    })
                })
        })
        .filter_map(|f| {
            let i = f.get("index")?;
            Some((
                i.get("byteStart")?.as_u64()? as usize,
                i.get("byteEnd")?.as_u64()? as usize,
            ))
        })
        .collect();
    spans.sort_unstable();
    let mut pos = 0usize;
    let mut n = 0u32;
    for (start, end) in spans {
        let gap = text.get(pos..start)?;
        if !gap.iter().all(|b| matches!(b, b' ' | b',' | b';' | b':')) || (n == 0 && start != 0) {
            break;
        }
        n += 1;
        pos = end;
    }
    (n > 0).then_some(n)
}

/// Turns stored pages into activities (pure: the same pages give the same table).
pub fn normalize(
    did: &str,
    records: &[(&str, Vec<Vec<u8>>)],
    notifications: &[Vec<u8>],
) -> Vec<Activity> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut seq = 0u64;
    for (endpoint, pages) in records {
        let source: Arc<str> = Arc::from(format!("bluesky API: listRecords {endpoint}"));
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
                if !seen.insert(uri.to_string()) {
                    continue;
                }
                let at = value
                    .get("createdAt")
                    .and_then(|v| v.as_str())
                    .and_then(parse_time);
                let parent = value
                    .get("reply")
                    .and_then(|r| r.get("parent"))
                    .and_then(|p| p.get("uri"))
                    .and_then(|u| u.as_str());
                let kind = match *endpoint {
                    "reposts" => Kind::Repost,
                    "likes" => Kind::Reaction,
                    _ if parent.is_some() => Kind::Reply,
                    _ => Kind::Post,
                };
                let mut a = Activity::new(
                    Platform::Bluesky,
                    uri.to_string(),
                    at,
                    Direction::Out,
                    kind,
                    source.clone(),
                );
                if kind == Kind::Reply
                    && let Some(p) = parent
                {
                    a.hints.parent = Some(p.to_string());
                    let author = did_of(p).unwrap_or("");
                    a.hints.parent_is_owner = author == did;
                    if !a.hints.parent_is_owner && !author.is_empty() {
                        a.hints.parent_author = Some(author.to_string());
                        a.counterparts = vec![Arc::from(author)];
                    }
                } else if kind == Kind::Post {
                    a.hints.leading_mentions = leading_mentions(value);
                    if a.hints.leading_mentions.is_some() {
                        a.counterparts = mention_dids(value);
                    }
                }
                a.hints.seq = seq;
                seq += 1;
                out.push(a);
            }
        }
    }
    let source: Arc<str> = Arc::from("bluesky API: listNotifications");
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
            if author == did || !seen.insert(uri.to_string()) {
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
            a.counterparts = vec![Arc::from(author)];
            a.hints.seq = seq;
            seq += 1;
            out.push(a);
        }
    }
    out
}

fn mention_dids(record: &Value) -> Vec<Arc<str>> {
    let mut v: Vec<Arc<str>> = record
        .get("facets")
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
        .flat_map(|f| {
            f.get("features")
                .and_then(|x| x.as_array())
                .into_iter()
                .flatten()
        })
        .filter_map(|x| x.get("did").and_then(|d| d.as_str()))
        .map(Arc::from)
        .collect();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mention_facets_in_bytes() {
        let r = json!({"text": "@bob.test @éva.test hi", "facets": [
            {"index": {"byteStart": 0, "byteEnd": 9}, "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:b"}]},
            {"index": {"byteStart": 10, "byteEnd": 20}, "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:e"}]}
        ]});
        assert_eq!(leading_mentions(&r), Some(2));
        let r = json!({"text": "hi @bob.test", "facets": [
            {"index": {"byteStart": 3, "byteEnd": 12}, "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:b"}]}
        ]});
        assert_eq!(leading_mentions(&r), None);
    }

    #[test]
    fn records_become_activities() {
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
        let b = |v: &Value| serde_json::to_vec(v).unwrap_or_default();
        let v = normalize(
            me,
            &[("posts", vec![b(&posts)]), ("likes", vec![b(&likes)])],
            &[b(&notes)],
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
        assert_eq!(v[2].counterparts, vec![Arc::<str>::from("did:plc:bob")]);
        assert_eq!(v[4].direction, Direction::In);
    }
}
