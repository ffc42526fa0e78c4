//! 2. The network path against a local server with latency.

use super::*;

// A local server: `/slow/{n}` answers after the latency, `/fast/{n}` at once.

pub(crate) struct Served {
    pages: Vec<String>,
    latency: Duration,
}

async fn slow_page(UrlPath(n): UrlPath<usize>, State(s): State<Arc<Served>>) -> Response {
    tokio::time::sleep(s.latency).await;
    serve(&s, n)
}

async fn fast_page(UrlPath(n): UrlPath<usize>, State(s): State<Arc<Served>>) -> Response {
    serve(&s, n)
}

pub(crate) fn serve(s: &Served, n: usize) -> Response {
    match s.pages.get(n % s.pages.len().max(1)) {
        Some(html) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Starts the server on its own thread and runtime; returns its base URL.
pub(crate) fn start_server(pages: Vec<String>, latency: Duration) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = runtime(1);
        rt.block_on(async move {
            let state = Arc::new(Served { pages, latency });
            let app = Router::new()
                .route("/slow/{n}", get(slow_page))
                .route("/fast/{n}", get(fast_page))
                .with_state(state);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind 127.0.0.1");
            tx.send(listener.local_addr().expect("addr"))
                .expect("send addr");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    let addr = rx.recv().expect("server address");
    format!("http://{addr}")
}

// 2. The network path.

pub(crate) fn network(fixtures: &[Fixture]) -> String {
    println!("\n== 2. network path ==");
    let urls = 2000;
    let concurrency = 64;
    let latency = Duration::from_millis(50);
    let pages: Vec<String> = fixtures.iter().map(|f| f.html.clone()).collect();
    let avg = pages.iter().map(String::len).sum::<usize>() / pages.len().max(1);
    let base = start_server(pages, latency);
    let dir = tempfile::tempdir().expect("temp dir");
    let targets = (0..urls).map(|i| format!("{base}/slow/{i}")).collect();
    let settings = settings(targets, &dir.path().join("out"), |a| {
        a.concurrency = concurrency;
        a.fetch.per_host = concurrency;
        a.fetch.retries = 0;
    });
    let rt = runtime(2);
    let t = Instant::now();
    let outcome = rt.block_on(pipeline::run(settings)).expect("run");
    let wall = t.elapsed().as_secs_f64();
    let s = &outcome.report.summary;
    let ideal = urls as f64 * latency.as_secs_f64() / concurrency as f64;
    let ratio = wall / ideal;
    println!(
        "{urls} URLs (fixture pages as served, {} KB on average), {} ms latency, concurrency {concurrency}: \
         {} audited, {} errors, wall {wall:.2} s, ideal {ideal:.4} s",
        avg / KB,
        latency.as_millis(),
        s.audited,
        s.errors
    );
    let line = format!(
        "network wall/ideal = {ratio:.2} (target ≤ {NETWORK_RATIO_TARGET}) {}",
        verdict(ratio <= NETWORK_RATIO_TARGET && s.errors == 0)
    );
    println!("{line}");
    line
}
