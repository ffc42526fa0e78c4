//! A raw-TCP server on 127.0.0.1 that misbehaves in ways an HTTP framework would not allow:
//! trickled headers, endless or truncated bodies, resets, bombs, a self-signed certificate.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A normal page with a consent banner, for the pages that must still be audited.
pub const BANNER_PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><title>News</title></head><body>\
<main><h1>Rail plan announced</h1><p>The region presented a rail plan on Wednesday.</p></main>\
<div id=\"cookie-banner\" role=\"dialog\" aria-label=\"Cookie consent\"><p>We use cookies for audience \
measurement and advertising. You can change your choices at any time. <a href=\"/privacy\">Privacy policy</a></p>\
<button>Accept all</button><button>Reject all</button><button>Customise</button></div></body></html>";

/// What every request looked like, for assertions on what the client sent.
pub type Seen = Arc<Mutex<Vec<String>>>;

pub struct Hostile {
    pub addr: SocketAddr,
    /// Accepts and closes at once, before reading anything.
    pub drop_addr: SocketAddr,
    /// HTTPS with a self-signed certificate for 127.0.0.1.
    pub tls_addr: SocketAddr,
    pub seen: Seen,
}

impl Hostile {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The same server under another host name: a different site to the client.
    pub fn other_host_url(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.addr.port())
    }

    pub fn requests_to(&self, path: &str) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|h| h.starts_with(&format!("GET {path} ")))
            .cloned()
            .collect()
    }
}

pub async fn start() -> Hostile {
    let seen = Seen::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, addr, record.clone()));
        }
    });
    let dropper = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let drop_addr = dropper.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = dropper.accept().await {
            drop(stream);
        }
    });
    Hostile {
        addr,
        drop_addr,
        tls_addr: start_tls().await,
        seen,
    }
}

async fn serve(mut stream: TcpStream, addr: SocketAddr, seen: Seen) {
    let Some(head) = read_head(&mut stream).await else {
        return;
    };
    seen.lock().unwrap().push(head.clone());
    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
    let _ = route(&path, &mut stream, addr).await;
}

/// The request head, up to the blank line (requests here have no body).
async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

async fn route(path: &str, s: &mut TcpStream, addr: SocketAddr) -> std::io::Result<()> {
    if let Some(n) = path.strip_prefix("/hop/") {
        let n: usize = n.parse().unwrap_or(0);
        return if n >= 50 {
            html(s, "text/html", BANNER_PAGE.as_bytes()).await
        } else {
            redirect(s, &format!("/hop/{}", n + 1)).await
        };
    }
    match path {
        "/ok" => html(s, "text/html; charset=utf-8", BANNER_PAGE.as_bytes()).await,
        "/slowloris" => slowloris(s).await,
        "/slow-body" => slow_body(s).await,
        "/endless" => endless(s).await,
        "/gzip-bomb" => gzip_bomb(s).await,
        "/loop-a" => redirect(s, "/loop-b").await,
        "/loop-b" => redirect(s, "/loop-a").await,
        "/mislabelled" => {
            let page = BANNER_PAGE.replace("choices", "choix r\u{e9}vocables");
            let (latin1, _, _) = encoding_rs::WINDOWS_1252.encode(&page);
            html(s, "text/html; charset=utf-8", &latin1).await
        }
        "/unknown-charset" => {
            let page = BANNER_PAGE
                .replace("<head>", "<head><meta charset=\"windows-1250\">")
                .replace("Customise", "Zarz\u{105}dzaj");
            let (latin2, _, _) = encoding_rs::WINDOWS_1250.encode(&page);
            html(s, "text/html; charset=x-klingon", &latin2).await
        }
        "/truncated-chunked" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n<html><body>cut")
                .await?;
            s.flush().await
        }
        "/truncated-length" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html><body>cut")
                .await?;
            s.flush().await
        }
        "/reset" => {
            s.set_zero_linger()?;
            Ok(())
        }
        "/one-line" => html(s, "text/html; charset=utf-8", one_line_page().as_bytes()).await,
        "/deep" => html(s, "text/html; charset=utf-8", deep_page().as_bytes()).await,
        "/binary" => html(s, "text/html", &png_like()).await,
        "/binary-no-nul" => html(s, "text/html", &noise(64 * 1024)).await,
        "/cookies" => thousand_cookies(s).await,
        "/header-flood" => {
            let flood = "Set-Cookie: flood=1\r\n".repeat(40_000);
            s.write_all(format!("HTTP/1.1 200 OK\r\n{flood}\r\n").as_bytes())
                .await
        }
        "/mega-banner" => html(s, "text/html; charset=utf-8", mega_banner_page().as_bytes()).await,
        "/to-other-host" => {
            let to = format!("http://localhost:{}/other", addr.port());
            redirect(s, &to).await
        }
        "/other" => html(s, "text/html", BANNER_PAGE.as_bytes()).await,
        "/broken" => {
            s.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops")
                .await
        }
        _ => {
            s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await
        }
    }
}

async fn html(
    s: &mut (impl AsyncWrite + Unpin),
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    s.flush().await
}

async fn redirect(s: &mut TcpStream, to: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await
}

/// One header byte a second, never reaching the blank line.
async fn slowloris(s: &mut TcpStream) -> std::io::Result<()> {
    s.write_all(b"HTTP/1.1 200 OK\r\nX-Slow: ").await?;
    for _ in 0..120 {
        s.write_all(b"a").await?;
        s.flush().await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(())
}

/// A body without length that drips a byte every 100 ms.
async fn slow_body(s: &mut TcpStream) -> std::io::Result<()> {
    s.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html><body>",
    )
    .await?;
    for _ in 0..1200 {
        s.write_all(b"x").await?;
        s.flush().await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// A chunked body sent as fast as the client reads, up to 4 GiB.
async fn endless(s: &mut TcpStream) -> std::io::Result<()> {
    s.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    .await?;
    let mut chunk = b"10000\r\n".to_vec();
    chunk.extend(std::iter::repeat_n(b'x', 0x10000));
    chunk.extend_from_slice(b"\r\n");
    for _ in 0..65_536 {
        s.write_all(&chunk).await?;
    }
    Ok(())
}

async fn gzip_bomb(s: &mut TcpStream) -> std::io::Result<()> {
    let bomb = gzip_bomb_bytes();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        bomb.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(bomb).await?;
    s.flush().await
}

/// Bytes the bomb inflates to.
pub const BOMB_INFLATED: u64 = 2 << 30;

/// A valid gzip stream of 2 GiB of zeros, about 2 MB: one fully flushed (self-contained,
/// byte-aligned) deflate run of 1 MiB repeated 2048 times, so it is built in milliseconds.
pub fn gzip_bomb_bytes() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let zeros = vec![0u8; 1 << 20];
        let mut deflater = flate2::Compress::new(flate2::Compression::best(), false);
        let mut block = Vec::with_capacity(1 << 20);
        deflater
            .compress_vec(&zeros, &mut block, flate2::FlushCompress::Full)
            .expect("deflate");
        assert_eq!(deflater.total_in(), zeros.len() as u64);
        let mut crc = flate2::Crc::new();
        crc.update(&zeros);
        let mut total = flate2::Crc::new();
        let repeats = (BOMB_INFLATED >> 20) as usize;
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        for _ in 0..repeats {
            out.extend_from_slice(&block);
            total.combine(&crc);
        }
        out.extend_from_slice(&[0x03, 0x00]); // the final, empty block
        out.extend_from_slice(&total.sum().to_le_bytes());
        out.extend_from_slice(&(BOMB_INFLATED as u32).to_le_bytes());
        out
    })
}

async fn thousand_cookies(s: &mut TcpStream) -> std::io::Result<()> {
    let mut head = String::from("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n");
    for i in 0..1000 {
        head.push_str(&format!(
            "Set-Cookie: c{i}=value{i}; Path=/; Max-Age=86400\r\n"
        ));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        BANNER_PAGE.len()
    ));
    s.write_all(head.as_bytes()).await?;
    s.write_all(BANNER_PAGE.as_bytes()).await?;
    s.flush().await
}

/// 5 MB on one line of two-byte characters, placed so that every even byte offset (any
/// round-number cut) falls inside a character.
pub fn one_line_page() -> String {
    let filler = "àéè\u{a0}".repeat(5 * 1024 * 1024 / 8);
    let (head, tail) = BANNER_PAGE.split_once("</main>").unwrap();
    let pad = if (head.len() + 3) % 2 == 0 { " " } else { "" };
    let page = format!("{head}{pad}<p>{filler}</p></main>{tail}");
    assert!(!page.is_char_boundary(200_000) && !page.contains('\n'));
    page
}

pub const DEPTH: usize = 100_000;

/// The banner at the bottom of 100,000 nested elements.
pub fn deep_page() -> String {
    let banner = BANNER_PAGE
        .split_once("<div id=\"cookie-banner\"")
        .map(|(_, rest)| {
            format!(
                "<div id=\"cookie-banner\"{}",
                rest.trim_end_matches("</body></html>")
            )
        })
        .unwrap();
    format!(
        "<!DOCTYPE html><html lang=\"en\"><body>{}{banner}{}</body></html>",
        "<div><span>".repeat(DEPTH / 2),
        "</span></div>".repeat(DEPTH / 2)
    )
}

/// Megabytes of text inside a CMP's banner (a signature match reads all of it, where the
/// generic detector would pass over so long a text).
pub fn mega_banner_page() -> String {
    let words = "We and our 900 partners store and access information on your device for audience \
measurement, personalised advertising and content. "
        .repeat(3 * 1024 * 1024 / 130);
    format!(
        "<!DOCTYPE html><html lang=\"en\"><body><main><h1>News</h1></main>\
<div id=\"onetrust-banner-sdk\" role=\"dialog\"><p>{words}</p><p>We use cookies. You can change your choices \
at any time. <a href=\"/privacy\">Privacy policy</a></p><button id=\"onetrust-accept-btn-handler\">Accept all</button>\
<button id=\"onetrust-reject-all-handler\">Reject all</button></div></body></html>"
    )
}

fn png_like() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    bytes.extend(noise(16 * 1024));
    bytes
}

/// Deterministic high-entropy bytes without a single NUL, like compressed or encrypted data.
pub fn noise(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8 | 1
        })
        .collect()
}

async fn start_tls() -> SocketAddr {
    use tokio_rustls::rustls;
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("self-signed certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to serve.
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                if read_head(&mut tls).await.is_some() {
                    let _ = html(&mut tls, "text/html", BANNER_PAGE.as_bytes()).await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    addr
}
