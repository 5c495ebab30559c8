//! Deterministic generator of large invented Reddit data-request exports (a flat zip of CSVs)
//! for benchmarks. Owns nothing of rapport's logic; it only writes the export's files:
//! `statistics.csv`, `posts.csv`, `comments.csv`, `messages.csv`, `chat_history.csv`,
//! `post_votes.csv` and `comment_votes.csv`.
//!
//! ```text
//! cargo run --release --example gen_reddit -- --activities 1000000 --out big-reddit.zip [--seed 7]
//! ```
//! Mix: 10 % posts, 35 % comments, 25 % messages in threads of 2–8, 10 % chat messages in
//! channels of 2–5 people, 20 % votes. Every name and text is invented.

use std::fs::File;
use std::io::{BufWriter, Write};

mod common;

use common::Rng;

const WORDS: &[&str] = &[
    "tomatoes",
    "soil",
    "thanks",
    "question",
    "compost",
    "great",
    "idea",
    "seeds",
    "water",
    "spring",
    "harvest",
    "\"quoted\"",
    "line, with comma",
];

const OWNER: &str = "robin_ex";
const START: i64 = 1_577_836_800; // 2020-01-01

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

/// A CSV cell, quoted when needed.
fn cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn date(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut n: u64 = 10_000;
    let mut out = String::from("big-reddit.zip");
    let mut seed: u64 = 7;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--activities" => n = args.next().ok_or("--activities N")?.parse()?,
            "--out" => out = args.next().ok_or("--out FILE")?,
            "--seed" => seed = args.next().ok_or("--seed N")?.parse()?,
            "-h" | "--help" => {
                println!("gen_reddit --activities N --out FILE.zip [--seed S]");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let mut rng = Rng(seed);
    let file = BufWriter::with_capacity(1 << 20, File::create(&out)?);
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default();
    let span = 5 * 365 * 86_400u64;
    let when = |rng: &mut Rng| START + rng.below(span) as i64;
    let posts = n / 10;
    let comments = n * 35 / 100;
    let messages = n / 4;
    let chats = n / 10;
    let votes = n - posts - comments - messages - chats;

    zip.start_file("statistics.csv", opts)?;
    write!(zip, "statistic,value\naccount name,{OWNER}\n")?;
    zip.start_file("posts.csv", opts)?;
    writeln!(
        zip,
        "id,permalink,date,ip,subreddit,gildings,title,url,body"
    )?;
    for i in 0..posts {
        let sub = format!("sub{}", rng.below(200));
        writeln!(
            zip,
            "p{i:x},https://www.reddit.com/r/{sub}/comments/p{i:x}/,{},,{sub},0,{},,{}",
            date(when(&mut rng)),
            cell(&text(&mut rng, 4)),
            cell(&text(&mut rng, 20))
        )?;
    }
    zip.start_file("comments.csv", opts)?;
    writeln!(
        zip,
        "id,permalink,date,ip,subreddit,gildings,link,parent,body,media"
    )?;
    for i in 0..comments {
        let sub = format!("sub{}", rng.below(200));
        let post = rng.below(1 << 40);
        writeln!(
            zip,
            "c{i:x},https://www.reddit.com/r/{sub}/comments/{post:x}/x/c{i:x}/,{},,{sub},0,https://www.reddit.com/r/{sub}/comments/{post:x}/,t3_{post:x},{},",
            date(when(&mut rng)),
            cell(&text(&mut rng, 15))
        )?;
    }
    zip.start_file("messages.csv", opts)?;
    writeln!(zip, "id,permalink,thread_id,date,ip,from,to,subject,body")?;
    let (mut left, mut id, mut thread) = (messages, 0u64, 0u64);
    while left > 0 {
        thread += 1;
        let len = (2 + rng.below(7)).min(left);
        left -= len;
        let other = format!("user{}", rng.below(5000));
        let mut t = when(&mut rng);
        for _ in 0..len {
            id += 1;
            let (from, to) = if rng.below(2) == 0 {
                (OWNER.to_string(), format!("/u/{other}"))
            } else {
                (other.clone(), format!("/u/{OWNER}"))
            };
            writeln!(
                zip,
                "m{id:x},https://www.reddit.com/message/messages/m{id:x},th{thread:x},{},,{from},{to},hello,{}",
                date(t),
                cell(&text(&mut rng, 12))
            )?;
            t += 60 + rng.below(7200) as i64;
        }
    }
    zip.start_file("chat_history.csv", opts)?;
    writeln!(
        zip,
        "message_id,created_at,updated_at,username,message,thread_parent_message_id,channel_url,subreddit,channel_name,conversation_type"
    )?;
    let (mut left, mut id, mut channel) = (chats, 0u64, 0u64);
    while left > 0 {
        channel += 1;
        let len = (2 + rng.below(9)).min(left);
        left -= len;
        let people: Vec<String> = std::iter::once(OWNER.to_string())
            .chain((0..1 + rng.below(4)).map(|_| format!("user{}", rng.below(5000))))
            .collect();
        let mut t = when(&mut rng);
        for _ in 0..len {
            id += 1;
            writeln!(
                zip,
                "ch{id:x},{},,{},{},,sendbird_group_channel_{channel:x},,,{}",
                date(t),
                people[rng.below(people.len() as u64) as usize],
                cell(&text(&mut rng, 8)),
                if people.len() > 2 { "group" } else { "direct" }
            )?;
            t += 30 + rng.below(600) as i64;
        }
    }
    zip.start_file("post_votes.csv", opts)?;
    writeln!(zip, "id,permalink,direction")?;
    for i in 0..votes / 2 {
        writeln!(zip, "v{i:x},https://www.reddit.com/r/a/comments/v{i:x}/,up")?;
    }
    zip.start_file("comment_votes.csv", opts)?;
    writeln!(zip, "id,permalink,direction")?;
    for i in votes / 2..votes {
        writeln!(
            zip,
            "v{i:x},https://www.reddit.com/r/a/comments/z/v{i:x}/,down"
        )?;
    }
    zip.finish()?;
    eprintln!("wrote {out} ({n} activities, seed {seed})");
    Ok(())
}
