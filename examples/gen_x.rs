//! Deterministic generator of large invented X/Twitter archives (2019+ "YTD" layout) for
//! benchmarks. Owns nothing of rapport's logic; it only writes the archive's format
//!: `data/account.js`, `data/tweets.js` (`window.YTD.tweets.part0 = [...]`),
//! `data/direct-messages.js` and `data/like.js`, zipped.
//!
//! ```text
//! cargo run --release --example gen_x -- --tweets 1000000 --out big-x.zip [--seed 7]
//! ```
//! Items carry the fields real archives carry (~600 bytes per tweet: entities, counts, source,
//! `display_text_range`), ids as strings above 2^53, HTML-escaped text; the mix has posts,
//! retweets, self-threads, replies to others and addressed mentions. Every id and text is
//! invented.

use std::fs::File;
use std::io::{BufWriter, Write};

mod common;

use common::Rng;

const WORDS: &[&str] = &[
    "coffee",
    "release",
    "thanks",
    "meeting",
    "rust",
    "team",
    "idea",
    "great",
    "question",
    "thread",
    "data",
    "design",
    "weekend",
    "event",
    "talk",
    "community",
    "lesson",
    "&amp;",
];

const OWNER: u64 = 1_000_000_001;

fn text(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s
}

fn created_at(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%a %b %d %H:%M:%S +0000 %Y").to_string())
        .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut tweets: u64 = 10_000;
    let mut out = String::from("big-x.zip");
    let mut seed: u64 = 7;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--tweets" => tweets = args.next().ok_or("--tweets N")?.parse()?,
            "--out" => out = args.next().ok_or("--out FILE")?,
            "--seed" => seed = args.next().ok_or("--seed N")?.parse()?,
            "-h" | "--help" => {
                println!("gen_x --tweets N --out FILE.zip [--seed S]");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let mut rng = Rng(seed);
    let file = BufWriter::with_capacity(1 << 20, File::create(&out)?);
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let root = "twitter-2026-01-01-0123456789abcdef/";

    zip.start_file(format!("{root}data/account.js"), opts)?;
    write!(
        zip,
        "window.YTD.account.part0 = [ {{ \"account\" : {{ \"email\" : \"robin@example.org\", \"createdVia\" : \"web\", \"username\" : \"robin_ex\", \"accountId\" : \"{OWNER}\", \"createdAt\" : \"2011-06-23T13:04:14.000Z\", \"accountDisplayName\" : \"Robin\" }} }} ]"
    )?;

    zip.start_file(format!("{root}data/tweets.js"), opts)?;
    zip.write_all(b"window.YTD.tweets.part0 = [")?;
    let base: u64 = 1_500_000_000_000_000_000;
    let start = 1_546_300_800i64;
    let span = 7 * 365 * 86_400u64;
    for i in 0..tweets {
        let id = base + i * 4096;
        let at = created_at(start + (span * i / tweets.max(1)) as i64);
        let other = 2_000_000_000 + rng.below(5_000);
        let roll = rng.below(100);
        let (full_text, reply) = match roll {
            0..=14 => (format!("RT @user{other}: {}", text(&mut rng, 12)), None),
            15..=29 if i > 0 => (
                text(&mut rng, 18),
                Some((base + (i - 1) * 4096, OWNER, "robin_ex".to_string())),
            ),
            30..=54 => (
                format!("@user{other} {}", text(&mut rng, 14)),
                Some((
                    base + 1_000_000_000 + rng.below(1 << 30),
                    other,
                    format!("user{other}"),
                )),
            ),
            55..=59 => (format!("@user{other} {}", text(&mut rng, 14)), None),
            _ => (text(&mut rng, 20), None),
        };
        if i > 0 {
            zip.write_all(b",")?;
        }
        let reply_fields = match &reply {
            Some((sid, uid, name)) => format!(
                "\"in_reply_to_status_id_str\" : \"{sid}\", \"in_reply_to_status_id\" : \"{sid}\", \"in_reply_to_user_id\" : \"{uid}\", \"in_reply_to_user_id_str\" : \"{uid}\", \"in_reply_to_screen_name\" : \"{name}\", "
            ),
            None => String::new(),
        };
        let mentions = if full_text.contains("@user") {
            format!(
                "{{ \"name\" : \"User {other}\", \"screen_name\" : \"user{other}\", \"indices\" : [ \"0\", \"13\" ], \"id_str\" : \"{other}\", \"id\" : \"{other}\" }}"
            )
        } else {
            String::new()
        };
        write!(
            zip,
            "\n  {{\n    \"tweet\" : {{\n      \"edit_info\" : {{ \"initial\" : {{ \"editTweetIds\" : [ \"{id}\" ], \"editableUntil\" : \"2023-02-18T13:33:11.000Z\", \"editsRemaining\" : \"5\", \"isEditEligible\" : true }} }},\n      \"retweeted\" : false,\n      \"source\" : \"<a href=\\\"https://mobile.twitter.com\\\" rel=\\\"nofollow\\\">Twitter Web App</a>\",\n      \"entities\" : {{ \"hashtags\" : [ ], \"symbols\" : [ ], \"user_mentions\" : [ {mentions} ], \"urls\" : [ ] }},\n      \"display_text_range\" : [ \"0\", \"{}\" ],\n      \"favorite_count\" : \"{}\",\n      {reply_fields}\"id_str\" : \"{id}\",\n      \"truncated\" : false,\n      \"retweet_count\" : \"{}\",\n      \"id\" : \"{id}\",\n      \"created_at\" : \"{at}\",\n      \"favorited\" : false,\n      \"full_text\" : \"{full_text}\",\n      \"lang\" : \"en\"\n    }}\n  }}",
            full_text.len(),
            rng.below(50),
            rng.below(10)
        )?;
    }
    zip.write_all(b"\n]")?;

    // Direct messages: conversations of a few messages, newest first.
    zip.start_file(format!("{root}data/direct-messages.js"), opts)?;
    zip.write_all(b"window.YTD.direct_messages.part0 = [")?;
    let conversations = (tweets / 20).max(1);
    for c in 0..conversations {
        let other = 3_000_000_000 + c;
        if c > 0 {
            zip.write_all(b",")?;
        }
        write!(
            zip,
            "\n  {{ \"dmConversation\" : {{ \"conversationId\" : \"{OWNER}-{other}\", \"messages\" : ["
        )?;
        let t0 = start + rng.below(span) as i64;
        for m in (0..4u64).rev() {
            let (from, to) = if m % 2 == 0 {
                (other, OWNER)
            } else {
                (OWNER, other)
            };
            let when = chrono::DateTime::from_timestamp(t0 + (m * 600) as i64, 0)
                .map(|d| d.format("%Y-%m-%dT%H:%M:%S.000Z").to_string())
                .unwrap_or_default();
            let sep = if m == 3 { "" } else { "," };
            write!(
                zip,
                "{sep} {{ \"messageCreate\" : {{ \"recipientId\" : \"{to}\", \"reactions\" : [ ], \"urls\" : [ ], \"text\" : \"{}\", \"mediaUrls\" : [ ], \"senderId\" : \"{from}\", \"id\" : \"{}\", \"createdAt\" : \"{when}\", \"editHistory\" : [ ] }} }}",
                text(&mut rng, 10),
                1_600_000_000_000_000_000u64 + c * 8 + m
            )?;
        }
        zip.write_all(b" ] } }")?;
    }
    zip.write_all(b"\n]")?;

    zip.start_file(format!("{root}data/like.js"), opts)?;
    zip.write_all(b"window.YTD.like.part0 = [")?;
    for l in 0..tweets / 4 {
        if l > 0 {
            zip.write_all(b",")?;
        }
        write!(
            zip,
            "\n  {{ \"like\" : {{ \"tweetId\" : \"{}\", \"fullText\" : \"{}\", \"expandedUrl\" : \"https://twitter.com/i/web/status/{}\" }} }}",
            1_400_000_000_000_000_000u64 + l,
            text(&mut rng, 8),
            1_400_000_000_000_000_000u64 + l
        )?;
    }
    zip.write_all(b"\n]")?;
    zip.finish()?.flush()?;
    eprintln!("wrote {out} ({tweets} tweets, seed {seed})");
    Ok(())
}
