//! Deterministic generator of large invented LinkedIn exports for benchmarks and load tests.
//! Owns nothing of rapport's logic; it only writes files in the export's format.
//!
//! ```text
//! cargo run --release --example gen_linkedin -- --activities 1000000 --out big.zip [--seed 7]
//! ```
//! The mix of files follows a heavy user's export: messages, reactions, comments, shares,
//! invitations, reposts, votes. Every name, URL and text is invented.

use std::fs::File;
use std::io::{BufWriter, Write};

mod common;

use common::Rng;

const WORDS: &[&str] = &[
    "network",
    "coffee",
    "project",
    "update",
    "thanks",
    "meeting",
    "launch",
    "team",
    "idea",
    "great",
    "question",
    "follow",
    "article",
    "data",
    "design",
    "hiring",
    "event",
    "talk",
    "community",
    "lesson",
    "growth",
    "client",
    "insight",
    "week",
    "plan",
    "draft",
    "review",
];

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

/// Seconds since 2019-01-01 spread over ~7 years.
fn timestamp(rng: &mut Rng) -> String {
    let secs = 1_546_300_800i64 + rng.below(7 * 365 * 86_400) as i64;
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn person(i: u64) -> String {
    format!("https://www.linkedin.com/in/member-{i:06}")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut activities: u64 = 10_000;
    let mut out = String::from("big.zip");
    let mut seed: u64 = 7;
    // Words per message: 14 by default; fewer makes a denser export (more activities per MB).
    let mut message_words: usize = 14;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--activities" => activities = args.next().ok_or("--activities N")?.parse()?,
            "--out" => out = args.next().ok_or("--out FILE")?,
            "--seed" => seed = args.next().ok_or("--seed N")?.parse()?,
            "--message-words" => message_words = args.next().ok_or("--message-words N")?.parse()?,
            "-h" | "--help" => {
                println!(
                    "gen_linkedin --activities N --out FILE.zip [--seed S] [--message-words W]"
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let mut rng = Rng(seed);
    let people = (activities / 20).clamp(50, 50_000);
    let owner = "https://www.linkedin.com/in/robin-example";
    let file = BufWriter::with_capacity(1 << 20, File::create(&out)?);
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let prefix = "Complete_LinkedInDataExport_01-01-2026/";
    let share = |p: f64| (activities as f64 * p) as u64;

    zip.start_file(format!("{prefix}Connections.csv"), opts)?;
    zip.write_all(b"Notes:\n\"When exporting your connection data, you may notice that some of the email addresses are missing.\"\n\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\n")?;
    for i in 0..people {
        writeln!(
            zip,
            "Member,Number {i},{},,Acme,Engineer,01 Jan 2020",
            person(i)
        )?;
    }

    zip.start_file(format!("{prefix}Shares_123456789.csv"), opts)?;
    zip.write_all(b"Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility\n")?;
    for i in 0..share(0.10) {
        let text = sentence(&mut rng, 30).replace("idea", "\"\"idea\"\"");
        writeln!(
            zip,
            "{},https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A{},\"{text},\nsecond line\",,,PUBLIC",
            timestamp(&mut rng),
            7_000_000_000_000_000_000u64 + i
        )?;
    }

    zip.start_file(format!("{prefix}Comments_123456789.csv"), opts)?;
    zip.write_all(b"Date,Link,Message\n")?;
    for i in 0..share(0.15) {
        writeln!(
            zip,
            "{},https://www.linkedin.com/feed/update/urn:li:activity:{},\"I said \\\"{}\\\" here\"",
            timestamp(&mut rng),
            7_100_000_000_000_000_000u64 + i,
            sentence(&mut rng, 12)
        )?;
    }

    zip.start_file(format!("{prefix}Reactions_123456789.csv"), opts)?;
    zip.write_all(b"Date,Type,Link\n")?;
    for i in 0..share(0.25) {
        writeln!(
            zip,
            "{},LIKE,https://www.linkedin.com/feed/update/urn:li:activity:{}",
            timestamp(&mut rng),
            7_200_000_000_000_000_000u64 + i
        )?;
    }

    zip.start_file(format!("{prefix}InstantReposts.csv"), opts)?;
    zip.write_all(b"Date,Link\n")?;
    for i in 0..share(0.05) {
        writeln!(
            zip,
            "{},https://www.linkedin.com/feed/update/urn:li:activity:{}",
            timestamp(&mut rng),
            7_300_000_000_000_000_000u64 + i
        )?;
    }

    zip.start_file(format!("{prefix}Votes.csv"), opts)?;
    zip.write_all(b"Date,Link,OptionText\n")?;
    for i in 0..share(0.02) {
        writeln!(
            zip,
            "{},https://www.linkedin.com/feed/update/urn:li:activity:{},Option A",
            timestamp(&mut rng),
            7_400_000_000_000_000_000u64 + i
        )?;
    }

    zip.start_file(format!("{prefix}Invitations.csv"), opts)?;
    zip.write_all(b"From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl\n")?;
    for _ in 0..share(0.08) {
        let other = person(rng.below(people));
        let secs = 1_546_300_800i64 + rng.below(7 * 365 * 86_400) as i64;
        let when = chrono::DateTime::from_timestamp(secs, 0)
            .map(|d| d.format("%-m/%-d/%y, %-I:%M %p").to_string())
            .unwrap_or_default();
        if rng.below(2) == 0 {
            let note = if rng.below(3) == 0 {
                "\"Hi, let's connect\""
            } else {
                ""
            };
            writeln!(
                zip,
                "Robin Example,Member,\"{when}\",{note},OUTGOING,{owner},{other}"
            )?;
        } else {
            writeln!(
                zip,
                "Member,Robin Example,\"{when}\",,INCOMING,{other},{owner}"
            )?;
        }
    }

    // Messages: conversations of 2..12 rows, newest first, 1:1 mostly, some groups.
    zip.start_file(format!("{prefix}messages.csv"), opts)?;
    zip.write_all(b"\"CONVERSATION ID\",\"CONVERSATION TITLE\",\"FROM\",\"SENDER PROFILE URL\",\"TO\",\"RECIPIENT PROFILE URLS\",\"DATE\",\"SUBJECT\",\"CONTENT\",\"FOLDER\",\"ATTACHMENTS\",\"IS MESSAGE DRAFT\",\"IS CONVERSATION DRAFT\"\n")?;
    let mut left = share(0.35);
    let mut conv = 0u64;
    while left > 0 {
        conv += 1;
        let rows = (2 + rng.below(11)).min(left);
        left -= rows;
        let size = if rng.below(10) == 0 {
            3 + rng.below(10)
        } else {
            2
        };
        let members: Vec<String> = (1..size).map(|_| person(rng.below(people))).collect();
        let start = 1_546_300_800i64 + rng.below(7 * 365 * 86_400) as i64;
        let mut times: Vec<i64> = (0..rows)
            .map(|_| start + rng.below(3 * 86_400) as i64)
            .collect();
        times.sort_unstable_by(|a, b| b.cmp(a));
        for t in times {
            let when = chrono::DateTime::from_timestamp(t, 0)
                .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default();
            let from_owner = rng.below(2) == 0;
            let (from, from_url, to_urls) = if from_owner {
                (
                    "Robin Example".to_string(),
                    owner.to_string(),
                    members.join(","),
                )
            } else {
                let s = &members[rng.below(members.len() as u64) as usize];
                let mut to: Vec<String> = members.iter().filter(|m| *m != s).cloned().collect();
                to.push(owner.to_string());
                ("Member Name".to_string(), s.clone(), to.join(","))
            };
            writeln!(
                zip,
                "\"2-conv{conv:08}==\",\"\",\"{from}\",\"{from_url}\",\"Someone\",\"{to_urls}\",\"{when}\",\"\",\"{}\",\"INBOX\",\"\",\"No\",\"No\"",
                sentence(&mut rng, message_words)
            )?;
        }
    }
    zip.finish()?.flush()?;
    eprintln!("wrote {out} ({activities} activities, seed {seed})");
    Ok(())
}
