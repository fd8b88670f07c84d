//! The stand-in time-stamping authority of evident-pack's tests (`openssl ts -reply` with a CA
//! and TSA certificate made at test time), served over HTTP on 127.0.0.1 the way RFC 3161
//! §3.4 has it: a DER query POSTed as application/timestamp-query, the reply in the body. It
//! answers as told (a grant, an HTTP 500, a rejection or garbage) and counts the requests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

// Shared with evident-pack's tests, which use the parts this binary does not.
#[allow(dead_code)]
#[path = "../../../pack/tests/pack/tsa.rs"]
mod openssl_tsa;

pub use openssl_tsa::{KeyKind, TestTsa, openssl_present};

#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// The TSA's token, as `openssl ts -reply` grants it.
    Grant,
    /// HTTP 500 with a text body.
    ServerError,
    /// HTTP 200 with a TimeStampResp whose status is rejection (badAlg).
    Refuse,
    /// HTTP 200 with a body that is no TimeStampResp.
    Garbage,
}

/// A stand-in TSA listening on 127.0.0.1; stops when dropped.
pub struct Served {
    pub url: String,
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Served {
    /// How many timestamp queries it has been sent.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn serve(tsa: Arc<TestTsa>, answer: Answer) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (counter, stopping) = (hits.clone(), stop.clone());
    let thread = std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stopping.load(Ordering::SeqCst) {
                break;
            }
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let Some((content_type, query)) = read_post(&mut stream) else {
                continue;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let (status, body) = if content_type != "application/timestamp-query" {
                ("415 Unsupported Media Type", content_type.into_bytes())
            } else {
                match answer {
                    Answer::Grant => ("200 OK", tsa.reply(&query)),
                    Answer::ServerError => ("500 Internal Server Error", b"the TSA is down".to_vec()),
                    Answer::Refuse => ("200 OK", tsa.refusal(&query)),
                    Answer::Garbage => ("200 OK", b"<html>maintenance</html>".to_vec()),
                }
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&body));
        }
    });
    Served {
        url: format!("http://{addr}/tsa"),
        addr,
        hits,
        stop,
        thread: Some(thread),
    }
}

/// A POST's Content-Type and body, or `None` for anything else (such as the wake-up connect).
fn read_post(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    if !head.starts_with("POST ") {
        return None;
    }
    let header = |name: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    let length: usize = header("content-length")?.parse().ok()?;
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((
        header("content-type").unwrap_or_default(),
        buf[head_end..head_end + length].to_vec(),
    ))
}
