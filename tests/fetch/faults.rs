//! Transport faults and hostile servers the HTTP client must survive, against a raw TCP
//! server: a connection dropped before any answer, a body cut short of its Content-Length,
//! giving up after the bounded number of attempts, absurd `Retry-After` values, a body of
//! gigabytes, a stalled answer, and a failing POST that must not be sent twice.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rapport::fetch::{Http, RetryPolicy};

/// Serves connections on a thread: the first `bad` get `fault`, the rest a JSON array.
fn serve(bad: usize, fault: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut sock) = conn else { continue };
            if fault == "stall" {
                // Each stalled answer on its own thread: the next connection is not held up.
                let n = counter.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let _ = sock.read(&mut buf);
                    if n < bad {
                        let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[");
                        std::thread::sleep(Duration::from_secs(30));
                    } else {
                        let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]");
                    }
                });
                continue;
            }
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf);
            if n < bad {
                match fault {
                    "drop" => {}
                    "retry-inf" => {
                        let _ = sock.write_all(b"HTTP/1.1 429 Too Many Requests\r\nretry-after: inf\r\ncontent-length: 0\r\n\r\n");
                    }
                    "retry-1e20" => {
                        let _ = sock.write_all(b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1e20\r\nratelimit-reset: 1e300\r\ncontent-length: 0\r\n\r\n");
                    }
                    "error-500" => {
                        let _ = sock.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                    }
                    "huge" => {
                        // Announces nothing, then streams far more than the cap allows.
                        let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n[");
                        let chunk = vec![b' '; 64 * 1024];
                        for _ in 0..(64 * 1024) {
                            if sock.write_all(&chunk).is_err() {
                                break;
                            }
                        }
                    }
                    "stall" => {
                        let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[");
                        std::thread::sleep(Duration::from_secs(30));
                    }
                    _ => {
                        let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[{\"id\":");
                    }
                }
                drop(sock);
                continue;
            }
            let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]");
        }
    });
    (format!("http://{addr}/x"), seen)
}

fn policy(retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries: retries,
        base: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        max_wait: Duration::from_secs(5),
        timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(2),
        max_body: 1 << 20,
    }
}

#[tokio::test]
async fn dropped_connection_is_retried() {
    let (url, seen) = serve(2, "drop");
    let http = Http::new(policy(3)).expect("client");
    let r = http
        .send(|c| c.get(&url))
        .await
        .expect("retried to success");
    assert_eq!(r.json, Some(serde_json::json!([])));
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn body_cut_short_is_retried() {
    let (url, seen) = serve(1, "short");
    let http = Http::new(policy(3)).expect("client");
    let r = http
        .send(|c| c.get(&url))
        .await
        .expect("retried to success");
    assert_eq!(r.status, 200);
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn retries_are_bounded() {
    let (url, seen) = serve(100, "drop");
    let http = Http::new(policy(2)).expect("client");
    let err = http.send(|c| c.get(&url)).await.expect_err("gives up");
    assert!(err.to_string().contains("3 attempt"), "{err}");
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn infinite_retry_after_stops_with_a_message_and_no_panic() {
    for fault in ["retry-inf", "retry-1e20"] {
        let (url, seen) = serve(100, fault);
        let http = Http::new(policy(3)).expect("client");
        let err = http.send(|c| c.get(&url)).await.expect_err("gives up");
        let message = err.to_string();
        assert!(message.contains("max_wait_secs"), "{fault}: {message}");
        assert!(message.contains("run the fetch again later"), "{message}");
        // Asked once, not waited on for ever.
        assert_eq!(seen.load(Ordering::SeqCst), 1, "{fault}");
    }
}

#[tokio::test]
async fn body_of_gigabytes_is_refused_at_the_cap() {
    let (url, _seen) = serve(100, "huge");
    let http = Http::new(policy(3)).expect("client");
    let err = http.send(|c| c.get(&url)).await.expect_err("refused");
    assert!(err.to_string().contains("max_body_bytes"), "{err}");
}

#[tokio::test]
async fn stalled_answer_times_out_and_is_retried() {
    let (url, seen) = serve(1, "stall");
    let http = Http::new(policy(2)).expect("client");
    let started = std::time::Instant::now();
    let r = http
        .send(|c| c.get(&url))
        .await
        .expect("the second attempt answers");
    assert_eq!(r.json, Some(serde_json::json!([])));
    assert_eq!(seen.load(Ordering::SeqCst), 2);
    // Bounded by the 2 s timeout, far from the server's 30 s stall.
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn post_that_creates_something_is_not_retried() {
    let (url, seen) = serve(100, "error-500");
    let http = Http::new(policy(3)).expect("client");
    let err = http
        .send_once(|c| c.post(&url).body("{}"))
        .await
        .expect_err("fails");
    assert!(err.to_string().contains("HTTP 500"), "{err}");
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}
