//! Deterministic generator of large invented Mastodon account archives for benchmarks and load
//! tests. Owns nothing of rapport's logic; it only writes files in the archive's format
//!: a `.tar.gz` holding a media file, `outbox.json`, `likes.json`,
//! `bookmarks.json` and `actor.json`, in Mastodon's order (actor last).
//!
//! ```text
//! cargo run --release --example gen_mastodon -- --statuses 1000000 --out big.tar.gz [--seed 7]
//! ```
//! The mix follows a heavy user's outbox, unsorted as Mastodon writes it: public, unlisted and
//! followers-only posts (some starting with a mention), self-threads, replies to other people
//! under three URI shapes (`/users/<name>/statuses/`, `/ap/users/<id>/statuses/`, `/objects/`),
//! boosts (URI and inlined), polls and direct messages; ~300 bytes of HTML per status, with
//! `contentMap` and a `replies` collection as in real archives (~1.8 KB per item: a million
//! statuses make a ~1.8 GB `outbox.json`). Every name, URI
//! and text is invented. Nothing is built in memory: each file is generated twice, once to
//! count its bytes (the tar header needs the size) and once into the gzip stream.

use std::fs::File;
use std::io::{self, BufWriter, Write};

mod common;

use common::Rng;

const WORDS: &[&str] = &[
    "garden",
    "compost",
    "coffee",
    "release",
    "thanks",
    "meeting",
    "rust",
    "team",
    "idea",
    "great",
    "question",
    "follow",
    "article",
    "data",
    "design",
    "weekend",
    "event",
    "talk",
    "community",
    "lesson",
    "bike",
    "server",
    "federation",
    "week",
    "plan",
    "draft",
    "review",
    "music",
    "photo",
    "bread",
];

const ME: &str = "https://social.example/users/robin";
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const FOLLOWERS: &str = "https://social.example/users/robin/followers";
const FIRST_ID: u64 = 110_000_000_000_000_000;

fn sentence(rng: &mut Rng, words: usize) -> String {
    let mut s = String::with_capacity(words * 8);
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s
}

/// A random instant over ~5 years from 2020-01-01, ISO 8601.
fn timestamp(rng: &mut Rng) -> String {
    let secs = 1_577_836_800i64 + rng.below(5 * 365 * 86_400) as i64;
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Another person: (actor URI, `@user@host`, profile URL, a status URI of theirs).
struct Person {
    actor: String,
    name: String,
    profile: String,
    status: String,
}

fn person(rng: &mut Rng, people: u64) -> Person {
    let i = rng.below(people);
    let n = rng.below(1_000_000_000);
    match i % 3 {
        0 => {
            let host = format!("node{}.example", i % 97);
            Person {
                actor: format!("https://{host}/users/member{i}"),
                name: format!("@member{i}@{host}"),
                profile: format!("https://{host}/@member{i}"),
                status: format!("https://{host}/users/member{i}/statuses/{n}"),
            }
        }
        1 => {
            let host = format!("numeric{}.example", i % 13);
            let id = 115_000_000_000_000_000 + i;
            Person {
                actor: format!("https://{host}/ap/users/{id}"),
                name: format!("@member{i}@{host}"),
                profile: format!("https://{host}/@member{i}"),
                status: format!("https://{host}/ap/users/{id}/statuses/{}", id + n),
            }
        }
        _ => {
            let host = format!("other{}.example", i % 31);
            Person {
                actor: format!("https://{host}/users/member{i}"),
                name: format!("@member{i}@{host}"),
                profile: format!("https://{host}/users/member{i}"),
                status: format!("https://{host}/objects/{n:016x}-{i:08x}"),
            }
        }
    }
}

fn hcard(p: &Person) -> String {
    let user = p.name.split('@').nth(1).unwrap_or("someone");
    format!(
        r#"<span class=\"h-card\" translate=\"no\"><a href=\"{}\" class=\"u-url mention\">@<span>{user}</span></a></span>"#,
        p.profile
    )
}

fn list(uris: &[&str]) -> String {
    let quoted: Vec<String> = uris.iter().map(|u| format!("\"{u}\"")).collect();
    format!("[{}]", quoted.join(","))
}

struct Note<'a> {
    id: u64,
    kind: &'a str,
    published: &'a str,
    reply: Option<&'a str>,
    to: &'a [&'a str],
    cc: &'a [&'a str],
    conversation: String,
    html: String,
    mentions: &'a [&'a Person],
}

fn note_json(n: &Note<'_>) -> String {
    let uri = format!("{ME}/statuses/{}", n.id);
    let reply = n.reply.map_or("null".to_string(), |r| format!("\"{r}\""));
    let tags: Vec<String> = n
        .mentions
        .iter()
        .map(|p| {
            format!(
                r#"{{"type":"Mention","href":"{}","name":"{}"}}"#,
                p.actor, p.name
            )
        })
        .collect();
    let poll = if n.kind == "Question" {
        r#","endTime":"2030-01-01T00:00:00Z","votersCount":3,"oneOf":[{"type":"Note","name":"yes","replies":{"type":"Collection","totalItems":2}},{"type":"Note","name":"no","replies":{"type":"Collection","totalItems":1}}]"#
    } else {
        ""
    };
    format!(
        r#"{{"id":"{uri}","type":"{kind}","summary":null,"inReplyTo":{reply},"published":"{p}","url":"https://social.example/@robin/{id}","attributedTo":"{ME}","to":{to},"cc":{cc},"sensitive":false,"atomUri":"{uri}","inReplyToAtomUri":{reply},"conversation":"{conv}","content":"{html}","contentMap":{{"en":"{html}"}},"attachment":[],"tag":[{tags}],"replies":{{"id":"{uri}/replies","type":"Collection","first":{{"type":"CollectionPage","next":"{uri}/replies?only_other_accounts=true&page=true","partOf":"{uri}/replies","items":[]}}}}{poll}}}"#,
        kind = n.kind,
        p = n.published,
        id = n.id,
        to = list(n.to),
        cc = list(n.cc),
        conv = n.conversation,
        html = n.html,
        tags = tags.join(","),
    )
}

/// Writes `outbox.json`. Deterministic for a given seed.
fn outbox(w: &mut dyn Write, statuses: u64, seed: u64) -> io::Result<()> {
    let mut rng = Rng(seed ^ 0x0b0c);
    let people = (statuses / 20).clamp(50, 50_000);
    write!(
        w,
        r#"{{"@context":"https://www.w3.org/ns/activitystreams","id":"outbox.json","type":"OrderedCollection","totalItems":{statuses},"orderedItems":["#
    )?;
    for i in 0..statuses {
        if i > 0 {
            w.write_all(b",")?;
        }
        let id = FIRST_ID + i;
        let published = timestamp(&mut rng);
        let text = sentence(&mut rng, 28);
        let conversation = format!(
            "tag:social.example,2024-01-01:objectId={}:objectType=Conversation",
            rng.below(statuses.max(1)) + 1
        );
        let roll = rng.below(100);
        let (item_to, item_cc, object): (String, String, String) = if roll < 10 {
            // A boost: of someone's status (a URI), or of an own followers-only one (inlined).
            let uri = format!("{ME}/statuses/{id}/activity");
            let who = person(&mut rng, people);
            if rng.below(20) == 0 && i > 0 {
                let own = FIRST_ID + rng.below(i);
                let inner = note_json(&Note {
                    id: own,
                    kind: "Note",
                    published: &published,
                    reply: None,
                    to: &[FOLLOWERS],
                    cc: &[],
                    conversation,
                    html: format!("<p>{text}</p>"),
                    mentions: &[],
                });
                write!(
                    w,
                    r#"{{"id":"{uri}","type":"Announce","actor":"{ME}","published":"{published}","to":["{FOLLOWERS}"],"cc":["{ME}"],"object":{inner}}}"#
                )?;
            } else {
                write!(
                    w,
                    r#"{{"id":"{uri}","type":"Announce","actor":"{ME}","published":"{published}","to":["{PUBLIC}"],"cc":["{}","{FOLLOWERS}"],"object":"{}"}}"#,
                    who.actor, who.status
                )?;
            }
            continue;
        } else if roll < 45 {
            // A top-level post: public, unlisted or followers-only; some start with a mention,
            // a few are polls.
            let vis = rng.below(10);
            let (to, cc): (&[&str], &[&str]) = match vis {
                0..=6 => (&[PUBLIC], &[FOLLOWERS]),
                7 | 8 => (&[FOLLOWERS], &[PUBLIC]),
                _ => (&[FOLLOWERS], &[]),
            };
            let kind = if rng.below(50) == 0 {
                "Question"
            } else {
                "Note"
            };
            if rng.below(12) == 0 {
                let who = person(&mut rng, people);
                let html = format!("<p>{} {text}</p>", hcard(&who));
                let mut cc2: Vec<&str> = cc.to_vec();
                cc2.push(&who.actor);
                let obj = note_json(&Note {
                    id,
                    kind,
                    published: &published,
                    reply: None,
                    to,
                    cc: &cc2,
                    conversation,
                    html,
                    mentions: &[&who],
                });
                (list(to), list(&cc2), obj)
            } else {
                let obj = note_json(&Note {
                    id,
                    kind,
                    published: &published,
                    reply: None,
                    to,
                    cc,
                    conversation,
                    html: format!("<p>{text}</p><p>{}</p>", sentence(&mut rng, 6)),
                    mentions: &[],
                });
                (list(to), list(cc), obj)
            }
        } else if roll < 60 && i > 0 {
            // A reply to one of the owner's earlier statuses (a self-thread).
            let parent = format!("{ME}/statuses/{}", FIRST_ID + i - 1 - rng.below(i.min(5)));
            let obj = note_json(&Note {
                id,
                kind: "Note",
                published: &published,
                reply: Some(&parent),
                to: &[PUBLIC],
                cc: &[FOLLOWERS],
                conversation,
                html: format!("<p>{text}</p>"),
                mentions: &[],
            });
            (list(&[PUBLIC]), list(&[FOLLOWERS]), obj)
        } else if roll < 88 {
            // A public reply to someone else.
            let who = person(&mut rng, people);
            let cc = [FOLLOWERS, who.actor.as_str()];
            let obj = note_json(&Note {
                id,
                kind: "Note",
                published: &published,
                reply: Some(&who.status),
                to: &[PUBLIC],
                cc: &cc,
                conversation,
                html: format!("<p>{} {text}</p>", hcard(&who)),
                mentions: &[&who],
            });
            (list(&[PUBLIC]), list(&cc), obj)
        } else {
            // A direct message to 1–3 people, sometimes answering one of theirs.
            let count = 1 + rng.below(10).saturating_sub(7);
            let who: Vec<Person> = (0..count).map(|_| person(&mut rng, people)).collect();
            let to: Vec<&str> = who.iter().map(|p| p.actor.as_str()).collect();
            let refs: Vec<&Person> = who.iter().collect();
            let cards: Vec<String> = who.iter().map(hcard).collect();
            let reply = (rng.below(2) == 0).then(|| who[0].status.clone());
            let obj = note_json(&Note {
                id,
                kind: "Note",
                published: &published,
                reply: reply.as_deref(),
                to: &to,
                cc: &[],
                conversation,
                html: format!("<p>{} {text}</p>", cards.join(" ")),
                mentions: &refs,
            });
            (list(&to), "[]".to_string(), obj)
        };
        write!(
            w,
            r#"{{"id":"{ME}/statuses/{id}/activity","type":"Create","actor":"{ME}","published":"{published}","to":{item_to},"cc":{item_cc},"object":{object}}}"#
        )?;
    }
    w.write_all(b"]}")?;
    Ok(())
}

/// Writes `likes.json` or `bookmarks.json`: bare status URIs.
fn uris(w: &mut dyn Write, name: &str, count: u64, statuses: u64, seed: u64) -> io::Result<()> {
    let mut rng = Rng(seed ^ 0x11ce);
    let people = (statuses / 20).clamp(50, 50_000);
    write!(
        w,
        r#"{{"@context":"https://www.w3.org/ns/activitystreams","id":"{name}","type":"OrderedCollection","orderedItems":["#
    )?;
    for i in 0..count {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(w, "\"{}\"", person(&mut rng, people).status)?;
    }
    w.write_all(b"]}")?;
    Ok(())
}

fn actor() -> String {
    format!(
        r#"{{"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1"],"id":"{ME}","type":"Person","following":"{ME}/following","followers":"{FOLLOWERS}","inbox":"{ME}/inbox","outbox":"outbox.json","preferredUsername":"robin","name":"Robin Example","summary":"<p>Invented account</p>","url":"https://social.example/@robin","published":"2019-01-01T00:00:00Z","likes":"likes.json","bookmarks":"bookmarks.json","icon":{{"type":"Image","mediaType":"image/png","url":"avatar.png"}}}}"#
    )
}

/// Counts bytes written.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn header(path: &str, size: u64) -> io::Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(1_735_689_600); // 2025-01-01
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    Ok(h)
}

/// Appends a file produced by `generate` without holding it: generated once to count its
/// bytes, then again straight into the archive after its header.
fn append_streamed<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    generate: impl Fn(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut counter = Counter(0);
    generate(&mut counter)?;
    let size = counter.0;
    let h = header(path, size)?;
    let out = tar.get_mut();
    out.write_all(h.as_bytes())?;
    let mut written = Counter(0);
    {
        let mut tee = Tee {
            inner: &mut *out,
            count: &mut written,
        };
        generate(&mut tee)?;
    }
    if written.0 != size {
        return Err(io::Error::other(format!(
            "{path}: generated {} bytes, then {size}: the generator is not deterministic",
            written.0
        )));
    }
    let pad = (512 - size % 512) % 512;
    out.write_all(&vec![0u8; pad as usize])?;
    Ok(())
}

struct Tee<'a, W: Write> {
    inner: &'a mut W,
    count: &'a mut Counter,
}

impl<W: Write> Write for Tee<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count.0 += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut statuses: u64 = 10_000;
    let mut out = String::from("big.tar.gz");
    let mut seed: u64 = 7;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--statuses" => statuses = args.next().ok_or("--statuses N")?.parse()?,
            "--out" => out = args.next().ok_or("--out FILE")?,
            "--seed" => seed = args.next().ok_or("--seed N")?.parse()?,
            "-h" | "--help" => {
                println!("gen_mastodon --statuses N --out FILE.tar.gz [--seed S]");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let file = BufWriter::with_capacity(1 << 20, File::create(&out)?);
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(BufWriter::with_capacity(1 << 20, gz));

    // Mastodon's order: media, outbox, likes, bookmarks, then the actor and its images.
    let media = b"\x89PNG\r\n\x1a\n invented media bytes";
    let h = header(
        "media_attachments/files/110/000/000/original/0000000000000001.png",
        media.len() as u64,
    )?;
    tar.append(&h, &media[..])?;
    append_streamed(&mut tar, "outbox.json", |w| outbox(w, statuses, seed))?;
    let likes = statuses / 2;
    append_streamed(&mut tar, "likes.json", |w| {
        uris(w, "likes.json", likes, statuses, seed)
    })?;
    append_streamed(&mut tar, "bookmarks.json", |w| {
        uris(w, "bookmarks.json", statuses / 50, statuses, seed ^ 0xb00c)
    })?;
    let actor = actor();
    tar.append(&header("actor.json", actor.len() as u64)?, actor.as_bytes())?;
    tar.append(&header("avatar.png", media.len() as u64)?, &media[..])?;

    let buffered = tar.into_inner()?;
    let gz = buffered.into_inner().map_err(|e| e.into_error())?;
    let mut file = gz.finish()?;
    file.flush()?;
    eprintln!("wrote {out}: {statuses} statuses, {likes} likes");
    Ok(())
}
