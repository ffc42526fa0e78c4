//! Whole runs through the library: targets of every kind in, a schema-v1 report out.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cookie_audit::facts::Coverage;
use cookie_audit::page::ErrorKind;
use cookie_audit::pipeline::{self, RunOptions};

fn settings(
    targets: Vec<String>,
    out: &std::path::Path,
    adjust: impl FnOnce(&mut RunOptions),
) -> RunOptions {
    let mut options = RunOptions::unattended(targets, out, std::time::Duration::from_secs(3));
    adjust(&mut options);
    options
}

#[tokio::test]
async fn every_target_ends_as_a_page_or_a_clear_error() {
    let server = common::start().await;
    let out = tempfile::tempdir().unwrap();
    let seed = common::fixtures().join("pages/generic/seed-fr-news.html");
    let targets = vec![
        seed.display().to_string(),
        server.url("/hop1"),
        server.url("/pdf"),
        server.url("/forbidden"),
        "ftp://example.com/".into(),
        server.url("/hop1"),
    ];
    let outcome = pipeline::run(settings(targets, out.path(), |a| a.fetch.retries = 0))
        .await
        .expect("run");
    let r = &outcome.report;
    assert_eq!(r.schema, "cookie-audit/report/v1");
    assert_eq!(r.summary.targets, 5, "the duplicate URL is dropped");
    assert_eq!((r.summary.audited, r.summary.errors), (2, 3));
    let by_input = |s: &str| {
        r.pages
            .iter()
            .find(|p| p.input == s)
            .unwrap_or_else(|| panic!("no page {s}"))
    };
    let landing = by_input(&server.url("/hop1"));
    assert_eq!(landing.coverage, Coverage::BannerFound);
    let cookies: Vec<_> = landing
        .facts
        .cookies
        .iter()
        .map(|c| (c.name.as_str(), c.before_consent))
        .collect();
    assert!(
        cookies.contains(&("_ga", true)) && cookies.contains(&("_fbp", true)),
        "{cookies:?}"
    );
    assert!(
        landing
            .findings
            .iter()
            .any(|f| f.rule == "cookie-before-consent"),
        "{:?}",
        landing.findings
    );
    assert_eq!(
        by_input(&server.url("/pdf")).error.as_ref().unwrap().kind,
        ErrorKind::NotHtml
    );
    assert_eq!(
        by_input(&server.url("/forbidden")).coverage,
        Coverage::Blocked
    );
    let ftp = by_input("ftp://example.com/");
    assert!(
        ftp.error
            .as_ref()
            .unwrap()
            .message
            .contains("only http and https")
    );
    // The journal names what judged the pages, then holds every finished page, one a line.
    let journal = std::fs::read_to_string(out.path().join("pages.jsonl")).unwrap();
    assert!(journal.lines().next().unwrap().starts_with("{\"judge\""));
    assert_eq!(journal.lines().count(), 1 + 5);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["pages"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn lists_folders_and_sitemap_indexes_are_expanded() {
    let server = common::start().await;
    let out = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("a.html"), "<html><body>a</body></html>").unwrap();
    std::fs::write(dir.path().join("sub/b.htm"), "<html><body>b</body></html>").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a page").unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(
        &list,
        format!(
            "# pages\n\n{}\nnot a url at all\n",
            server.url("/article/x")
        ),
    )
    .unwrap();
    let s = settings(vec![dir.path().display().to_string()], out.path(), |a| {
        a.inputs = vec![PathBuf::from(&list)];
        a.sitemap = Some(server.url("/sitemap.xml"));
        a.limit = Some(4);
    });
    let outcome = pipeline::run(s).await.expect("run");
    let inputs: Vec<&str> = outcome
        .report
        .pages
        .iter()
        .map(|p| p.input.as_str())
        .collect();
    assert_eq!(
        inputs
            .iter()
            .filter(|i| i.ends_with(".html") || i.ends_with(".htm"))
            .count(),
        2,
        "{inputs:?}"
    );
    assert_eq!(
        inputs
            .iter()
            .filter(|i| i.contains("/article/") && i.contains('-'))
            .count(),
        4,
        "sitemap --limit 4: {inputs:?}"
    );
    let bad = outcome
        .report
        .pages
        .iter()
        .find(|p| p.input == "not a url at all")
        .expect("bad line reported");
    assert!(
        bad.error.as_ref().unwrap().message.contains("list.txt:4"),
        "{:?}",
        bad.error
    );
}

#[tokio::test]
async fn resume_skips_finished_targets() {
    let server = common::start().await;
    let out = tempfile::tempdir().unwrap();
    let first = vec![server.url("/article/1")];
    pipeline::run(settings(first, out.path(), |_| {}))
        .await
        .expect("first run");
    let both = vec![server.url("/article/1"), server.url("/article/2")];
    let outcome = pipeline::run(settings(both, out.path(), |a| a.resume = true))
        .await
        .expect("resumed run");
    assert_eq!(outcome.report.pages.len(), 2);
    let pages_in_journal = || {
        std::fs::read_to_string(out.path().join("pages.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"findings\""))
            .count()
    };
    assert_eq!(
        pages_in_journal(),
        2,
        "the finished page is not audited again"
    );

    // Other settings judged those pages: resuming under another profile audits them again.
    let both = vec![server.url("/article/1"), server.url("/article/2")];
    pipeline::run(settings(both, out.path(), |a| {
        a.resume = true;
        a.profile = "fr-cnil".into();
    }))
    .await
    .expect("resumed under another profile");
    assert_eq!(pages_in_journal(), 2, "a fresh journal of two pages");
    let journal = std::fs::read_to_string(out.path().join("pages.jsonl")).unwrap();
    assert!(
        journal.lines().next().unwrap().contains("fr-cnil"),
        "{journal}"
    );
}

#[tokio::test]
async fn an_empty_shard_writes_an_empty_report_and_bad_targets_belong_to_the_first() {
    let server = common::start().await;
    let out = tempfile::tempdir().unwrap();
    let page = server.url("/article/1");
    let target = cookie_audit::targets::Target::Url {
        input: page.clone(),
        url: page.parse().unwrap(),
    };
    // Of 64 shards one holds the page; take another.
    let empty = (1..=64)
        .find(|k| !cookie_audit::targets::in_shard(&target, (*k, 64)))
        .unwrap();
    let targets = vec![page, "./no-such-page.html".to_owned()];
    let outcome = pipeline::run(settings(targets.clone(), out.path(), |a| {
        a.shard = Some((empty, 64))
    }))
    .await
    .expect("an empty shard is no error");
    let expected_bad = usize::from(empty == 1);
    assert_eq!(outcome.report.pages.len(), expected_bad);
    assert!(out.path().join("report.json").is_file());
    let first = pipeline::run(settings(targets, out.path(), |a| a.shard = Some((1, 64))))
        .await
        .unwrap();
    assert!(
        first
            .report
            .pages
            .iter()
            .any(|p| p.input == "./no-such-page.html" && p.error.is_some())
    );
}

/// A sitemap index on 127.0.0.1 whose child is on `localhost`: another host for credentials.
async fn sitemap_server(cookies: Arc<Mutex<Vec<(String, bool)>>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = move |path: &'static str| {
        let cookies = cookies.clone();
        move |headers: axum::http::HeaderMap| {
            cookies
                .lock()
                .unwrap()
                .push((path.to_owned(), headers.contains_key("cookie")));
            std::future::ready(())
        }
    };
    let (index_seen, child_seen) = (seen("/index.xml"), seen("/child.xml"));
    let app = axum::Router::new()
        .route(
            "/index.xml",
            axum::routing::get(move |h: axum::http::HeaderMap| async move {
                index_seen(h).await;
                format!("<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><sitemap><loc>http://localhost:{port}/child.xml</loc></sitemap></sitemapindex>")
            }),
        )
        .route(
            "/child.xml",
            axum::routing::get(move |h: axum::http::HeaderMap| async move {
                child_seen(h).await;
                "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"></urlset>"
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://127.0.0.1:{port}/index.xml")
}

#[tokio::test]
async fn a_child_sitemap_on_another_host_gets_no_credentials() {
    let cookies: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let index = sitemap_server(cookies.clone()).await;
    let out = tempfile::tempdir().unwrap();
    let _ = pipeline::run(settings(Vec::new(), out.path(), |a| {
        a.sitemap = Some(index);
        a.fetch.cookie = Some("session=staging-secret".into());
    }))
    .await;
    let seen = cookies.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            ("/index.xml".to_owned(), true),
            ("/child.xml".to_owned(), false)
        ]
    );
}

#[tokio::test]
async fn a_bad_baseline_or_an_unwritable_output_fails_before_any_fetch() {
    let server = common::start().await;
    let out = tempfile::tempdir().unwrap();
    let bad = out.path().join("baseline.json");
    std::fs::write(&bad, "{not json").unwrap();
    let err = pipeline::run(settings(vec![server.url("/article/1")], out.path(), |a| {
        a.baseline = Some(bad.clone())
    }))
    .await
    .err()
    .expect("a broken baseline is an error");
    assert!(
        err.to_string().contains("not a cookie-audit baseline"),
        "{err}"
    );
    assert!(
        !out.path().join("pages.jsonl").exists(),
        "nothing was fetched"
    );

    let nowhere = out.path().join("no-such-folder/baseline.json");
    let err = pipeline::run(settings(vec![server.url("/article/1")], out.path(), |a| {
        a.write_baseline = Some(nowhere)
    }))
    .await
    .err()
    .expect("the baseline cannot be written");
    assert!(
        err.to_string().contains("no-such-folder/baseline.json"),
        "{err}"
    );
    assert!(
        !out.path().join("pages.jsonl").exists(),
        "an unwritable output is found before the first fetch"
    );
}

/// An index that lists itself, a moved child, a gzip child and a missing one.
async fn awkward_sitemaps() -> String {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    use std::io::Write;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let urlset = |page: &str| {
        format!(
            "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><url><loc>{page}</loc></url></urlset>"
        )
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(urlset(&format!("{base}/page/b")).as_bytes())
        .unwrap();
    let gz = gz.finish().unwrap();
    let index = format!(
        "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{}</sitemapindex>",
        ["index.xml", "moved.xml", "gz.xml.gz", "missing.xml"]
            .iter()
            .map(|p| format!("<sitemap><loc>{base}/{p}</loc></sitemap>"))
            .collect::<String>()
    );
    let child = urlset(&format!("{base}/page/a"));
    let app = axum::Router::new()
        .route(
            "/index.xml",
            axum::routing::get(move || async move { index }),
        )
        .route(
            "/moved.xml",
            axum::routing::get(|| async {
                (
                    StatusCode::MOVED_PERMANENTLY,
                    [(header::LOCATION, "/child-a.xml")],
                )
                    .into_response()
            }),
        )
        .route(
            "/child-a.xml",
            axum::routing::get(move || async move { child }),
        )
        .route(
            "/gz.xml.gz",
            axum::routing::get(move || async move {
                ([(header::CONTENT_TYPE, "application/gzip")], gz).into_response()
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("{base}/index.xml")
}

#[tokio::test]
async fn sitemaps_follow_redirects_read_gzip_and_survive_loops_and_broken_children() {
    let index = awkward_sitemaps().await;
    let out = tempfile::tempdir().unwrap();
    let outcome = pipeline::run(settings(Vec::new(), out.path(), |a| {
        a.sitemap = Some(index)
    }))
    .await
    .expect("a broken child sitemap does not end the run");
    let inputs: Vec<&str> = outcome
        .report
        .pages
        .iter()
        .map(|p| p.input.as_str())
        .collect();
    assert!(inputs.iter().any(|i| i.ends_with("/page/a")), "{inputs:?}");
    assert!(inputs.iter().any(|i| i.ends_with("/page/b")), "{inputs:?}");
    assert!(
        inputs.iter().any(|i| i.ends_with("/missing.xml")),
        "{inputs:?}"
    );
    assert_eq!(inputs.len(), 3, "{inputs:?}");
}

/// A small shop: a home page with a consent banner, a blog template without one, a product tree
/// three links deep, a private area robots.txt closes, a PDF and links to other sites. Records
/// every path requested.
async fn shop_site(hits: Arc<Mutex<Vec<String>>>) -> String {
    use axum::extract::{Request, State};
    use axum::response::{Html, IntoResponse, Response};
    type Hits = Arc<Mutex<Vec<String>>>;
    async fn serve(State((hits, port)): State<(Hits, u16)>, request: Request) -> Response {
        let path = request.uri().path().to_owned();
        hits.lock().unwrap().push(path.clone());
        let page = |title: &str, body: &str| {
            Html(format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
                 <body><header><nav><a href=\"/\">Home</a> <a href=\"/products/\">Products</a> <a href=\"/blog\">Blog</a></nav></header>\
                 <main><h1>{title}</h1>{body}</main>\
                 <footer><a href=\"mailto:shop@example.org\">Contact</a> <a href=\"/terms.pdf\">Terms (PDF)</a> \
                 <a href=\"http://localhost:{port}/elsewhere\">Partner shop</a> <a href=\"https://social.example.com/roastery\">Follow us</a></footer></body></html>"
            ))
            .into_response()
        };
        match path.as_str() {
            "/robots.txt" => "User-agent: *\nDisallow: /private\n".into_response(),
            "/" => page(
                "Fresh coffee roastery",
                "<p>Beans roasted every Monday. <a href=\"/products#beans\">See our beans</a>, \
                 <a href=\"/private/account\">your account</a>.</p>\
                 <div id=\"cookie-notice\" role=\"dialog\" aria-label=\"Cookie consent\"><p>We use cookies to measure our audience \
                 and show you personalised ads. <a href=\"/privacy\">Privacy policy</a></p>\
                 <button>Accept all</button> <button>Reject all</button></div>",
            ),
            "/products" => page(
                "Our coffees",
                "<p><a href=\"/products/ethiopia\">Ethiopia Guji</a></p>",
            ),
            "/products/ethiopia" => page(
                "Ethiopia Guji",
                "<p>Floral and bright. <a href=\"/products/ethiopia/reviews\">Reviews</a></p>",
            ),
            "/blog" => page(
                "Roastery blog",
                "<script async src=\"https://www.googletagmanager.com/gtag/js?id=G-SHOP1\"></script><p>Brewing guides.</p>",
            ),
            _ => page("A page", "<p>More coffee.</p>"),
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .fallback(serve)
        .with_state((hits, addr.port()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_crawl_follows_same_site_links_breadth_first_within_depth_budget_and_robots() {
    let hits: Arc<Mutex<Vec<String>>> = Arc::default();
    let site = shop_site(hits.clone()).await;
    let crawl = |depth, max_pages, ignore_robots| {
        Some(pipeline::CrawlOptions {
            depth,
            max_pages,
            ignore_robots,
        })
    };
    let audited = |outcome: &pipeline::RunOutcome| {
        let mut paths: Vec<String> = outcome
            .report
            .pages
            .iter()
            .map(|p| p.input.trim_start_matches(&site).to_owned())
            .collect();
        paths.sort();
        paths
    };

    let out = tempfile::tempdir().unwrap();
    let run = pipeline::run(settings(vec![format!("{site}/")], out.path(), |o| {
        o.crawl = crawl(2, 50, false)
    }))
    .await
    .unwrap();
    assert_eq!(
        audited(&run),
        ["/", "/blog", "/privacy", "/products", "/products/ethiopia"]
    );
    assert_eq!(
        run.report.pages[0].input,
        format!("{site}/"),
        "the start page first"
    );
    let blog = run
        .report
        .pages
        .iter()
        .find(|p| p.input.ends_with("/blog"))
        .unwrap();
    assert!(
        blog.findings.iter().any(|f| f.rule == "banner-missing"),
        "another template, another verdict: {:?}",
        blog.findings
    );
    let fetched = hits.lock().unwrap().clone();
    for never in [
        "/private/account",
        "/terms.pdf",
        "/products/ethiopia/reviews",
        "/elsewhere",
    ] {
        assert!(
            !fetched.iter().any(|p| p == never),
            "{never} was fetched: {fetched:?}"
        );
    }
    assert_eq!(fetched.iter().filter(|p| *p == "/robots.txt").count(), 1);

    let out = tempfile::tempdir().unwrap();
    let run = pipeline::run(settings(vec![format!("{site}/")], out.path(), |o| {
        o.crawl = crawl(1, 50, true)
    }))
    .await
    .unwrap();
    assert_eq!(
        audited(&run),
        ["/", "/blog", "/privacy", "/private/account", "/products"],
        "--ignore-robots"
    );

    let out = tempfile::tempdir().unwrap();
    let run = pipeline::run(settings(vec![format!("{site}/")], out.path(), |o| {
        o.crawl = crawl(3, 2, false)
    }))
    .await
    .unwrap();
    assert_eq!(
        audited(&run),
        ["/", "/products"],
        "--max-pages 2, in link order"
    );
}

#[tokio::test]
async fn the_sqlite_database_grows_run_after_run_and_answers_a_study_question() {
    use cookie_audit::report::Format;
    let out = tempfile::tempdir().unwrap();
    let pages = |names: &[&str]| -> Vec<String> {
        names
            .iter()
            .map(|n| {
                common::fixtures()
                    .join("pages")
                    .join(n)
                    .display()
                    .to_string()
            })
            .collect()
    };
    let first = pages(&["cmp-a/onetrust-en.html", "cmp-a/cookieyes-es-noreject.html"]);
    let second = pages(&[
        "cmp-a/didomi-fr.html",
        "generic/seed-fr-news.html",
        "cmp-a/klaro-de.html",
    ]);
    let mut reports = Vec::new();
    for targets in [first, second] {
        let run = pipeline::run(settings(targets, out.path(), |o| {
            o.formats = vec![Format::Json, Format::Sqlite]
        }))
        .await
        .expect("run");
        assert!(run.unwritten.is_none(), "{:?}", run.unwritten);
        reports.push(run.report);
    }
    let db = rusqlite::Connection::open(out.path().join("report.sqlite")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT COUNT(*) FROM runs"),
        2,
        "appended, not replaced"
    );
    assert_eq!(count("SELECT COUNT(*) FROM pages"), 5);
    assert_eq!(
        count("SELECT COUNT(*) FROM pages WHERE run_id = (SELECT MAX(id) FROM runs)"),
        3
    );
    let findings: usize = reports
        .iter()
        .flat_map(|r| &r.pages)
        .map(|p| p.findings.len())
        .sum();
    assert_eq!(count("SELECT COUNT(*) FROM findings") as usize, findings);
    let cookies: usize = reports
        .iter()
        .flat_map(|r| &r.pages)
        .map(|p| p.facts.cookies.len())
        .sum();
    assert_eq!(count("SELECT COUNT(*) FROM cookies") as usize, cookies);

    // "Which CMPs' banners lack a first-layer reject, and on what share of pages?"
    let mut query = db
        .prepare(
            "SELECT p.cmp, AVG(1 - b.first_layer_reject) FROM pages p JOIN banners b ON b.page_id = p.id \
             WHERE b.present GROUP BY p.cmp ORDER BY p.cmp",
        )
        .unwrap();
    let shares: Vec<(Option<String>, f64)> = query
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let expected: Vec<(Option<String>, f64)> = {
        let mut by_cmp = std::collections::BTreeMap::<Option<String>, Vec<f64>>::new();
        for page in reports.iter().flat_map(|r| &r.pages) {
            if let Some(b) = page.facts.banner.as_ref().filter(|b| b.present) {
                let reject = b
                    .buttons
                    .iter()
                    .any(|x| x.first_layer && x.role.as_str() == "reject");
                by_cmp
                    .entry(b.cmp.clone())
                    .or_default()
                    .push(if reject { 0.0 } else { 1.0 });
            }
        }
        by_cmp
            .into_iter()
            .map(|(cmp, v)| (cmp, v.iter().sum::<f64>() / v.len() as f64))
            .collect()
    };
    assert_eq!(shares, expected);
    assert!(
        shares
            .iter()
            .any(|(cmp, share)| cmp.as_deref() == Some("cookieyes") && *share == 1.0)
    );
}
