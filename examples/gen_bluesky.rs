//! Deterministic generator of Bluesky repositories (CAR v1) for fixtures, benchmarks and load
//! tests. Owns nothing of rapport's logic: it shares the test-only repository builder
//! (`src/sources/bluesky/testrepo.rs`) by path.
//!
//! ```text
//! cargo run --example gen_bluesky -- --fixture --out fixtures/bluesky/repo.car
//! cargo run --release --example gen_bluesky -- --posts 100000 --out big.car [--seed 7]
//! ```
//! `--fixture` writes the committed test fixture (`--follows-only` the repository that holds
//! nothing but follows and a block); `--posts N` writes N records of mixed kinds
//! (posts, replies, self-replies, mention posts, reposts, likes, follows) over two years. Every
//! DID and text is invented.

#[path = "../src/sources/bluesky/testrepo.rs"]
mod testrepo;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut posts: usize = 10_000;
    let mut fixture = false;
    let mut follows_only = false;
    let mut out = String::from("big.car");
    let mut seed: u64 = 7;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--posts" => posts = args.next().ok_or("--posts N")?.parse()?,
            "--fixture" => fixture = true,
            "--follows-only" => follows_only = true,
            "--out" => out = args.next().ok_or("--out FILE")?,
            "--seed" => seed = args.next().ok_or("--seed N")?.parse()?,
            "-h" | "--help" => {
                println!(
                    "gen_bluesky (--fixture | --follows-only | --posts N) --out FILE.car [--seed S]"
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let repo = if follows_only {
        testrepo::follows_only()
    } else if fixture {
        testrepo::fixture()
    } else {
        testrepo::synthetic(posts, seed)
    };
    let bytes = repo.to_car();
    std::fs::write(&out, &bytes)?;
    println!(
        "wrote {out}: {} records, {} tree nodes, {} bytes, owner {}",
        repo.records.len(),
        repo.nodes.len(),
        bytes.len(),
        repo.did
    );
    Ok(())
}
