//! Transport faults the retry loop must survive, against a raw TCP server: a connection
//! dropped before any answer, a body cut short of its Content-Length, and giving up after the
//! bounded number of attempts.

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
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf);
            if n < bad {
                match fault {
                    "drop" => {}
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
