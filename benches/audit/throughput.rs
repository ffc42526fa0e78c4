//! 1. Parse vs full audit, and pages per second through the pipeline.

use super::*;

// 1. Parse vs full audit, and pages per second.

pub(crate) fn parse_vs_full(fixtures: &[Fixture]) -> Vec<String> {
    println!("\n== 1. parse vs full audit ==");
    let loaded = pipeline::load(None, "eu").expect("embedded rules load");
    let corpus: Vec<(usize, Page)> = fixtures
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let size = SIZES[i % SIZES.len()];
            (size, page(&f.name, padded(f, size, i as u64 + 1)))
        })
        .collect();
    let bytes: usize = corpus.iter().map(|(_, p)| p.html.len()).sum();
    println!(
        "corpus: {} pages, {:.1} MB, {} to {} KB, padded from {} fixture pages (CMPs, languages, with and without banners)",
        corpus.len(),
        bytes as f64 / 1e6,
        corpus.iter().map(|(_, p)| p.html.len()).min().unwrap_or(0) / KB,
        corpus.iter().map(|(_, p)| p.html.len()).max().unwrap_or(0) / KB,
        fixtures.len(),
    );
    // Best of two runs a page, parse and full interleaved so both see the same machine state.
    let mut parse = vec![Duration::MAX; corpus.len()];
    let mut full = vec![Duration::MAX; corpus.len()];
    let mut banners = 0;
    for round in 0..2 {
        for (i, (_, p)) in corpus.iter().enumerate() {
            let t = Instant::now();
            let doc = scraper::Html::parse_document(&p.html);
            std::hint::black_box(&doc);
            drop(doc);
            parse[i] = parse[i].min(t.elapsed());
            let t = Instant::now();
            let (report, _) = pipeline::analyse(p, &loaded.knowledge, &loaded.engine);
            full[i] = full[i].min(t.elapsed());
            if round == 0 && report.facts.banner.as_ref().is_some_and(|b| b.present) {
                banners += 1;
            }
            std::hint::black_box(report);
        }
    }
    println!("pages with a banner found: {banners}/{}", corpus.len());
    println!(
        "{:>8} {:>6} {:>12} {:>12} {:>10}",
        "size", "pages", "parse ms", "full ms", "full/parse"
    );
    for size in SIZES {
        let idx: Vec<usize> = (0..corpus.len()).filter(|&i| corpus[i].0 == size).collect();
        let p: Duration = idx.iter().map(|&i| parse[i]).sum();
        let f: Duration = idx.iter().map(|&i| full[i]).sum();
        let n = idx.len().max(1) as f64;
        println!(
            "{:>6}KB {:>6} {:>12.2} {:>12.2} {:>10.2}",
            size / KB,
            idx.len(),
            p.as_secs_f64() * 1e3 / n,
            f.as_secs_f64() * 1e3 / n,
            f.as_secs_f64() / p.as_secs_f64()
        );
    }
    let mut worst: Vec<(f64, usize)> = (0..corpus.len())
        .map(|i| (full[i].as_secs_f64() / parse[i].as_secs_f64(), i))
        .collect();
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("slowest pages relative to parsing:");
    for (r, i) in worst.iter().take(5) {
        println!(
            "  {r:>6.2}×  {} ({} KB, full {:.1} ms)",
            corpus[*i].1.input,
            corpus[*i].1.html.len() / KB,
            full[*i].as_secs_f64() * 1e3
        );
    }
    let n = corpus.len() as f64;
    let parse_ms = parse.iter().sum::<Duration>().as_secs_f64() * 1e3 / n;
    let full_ms = full.iter().sum::<Duration>().as_secs_f64() * 1e3 / n;
    let ratio = full_ms / parse_ms;
    println!("per page: parse {parse_ms:.2} ms, full audit {full_ms:.2} ms");
    let line = format!(
        "full/parse = {ratio:.2} (target ≤ {FULL_OVER_PARSE_TARGET}) {}",
        verdict(ratio <= FULL_OVER_PARSE_TARGET)
    );
    println!("{line}");
    vec![line]
}

pub(crate) fn pages_per_second(fixtures: &[Fixture]) -> String {
    println!("\n== 1b. pages per second, 200 KB pages, static mode, 2 cores ==");
    let dir = tempfile::tempdir().expect("temp dir");
    let pages_dir = dir.path().join("pages");
    std::fs::create_dir_all(&pages_dir).expect("pages dir");
    let count = 400;
    let mut htmls = Vec::new();
    for i in 0..count {
        let f = &fixtures[i % fixtures.len()];
        let html = padded(f, 200 * KB, 1000 + i as u64);
        std::fs::write(pages_dir.join(format!("p{i:04}.html")), &html).expect("write page");
        htmls.push(html);
    }
    // analyse() alone on two threads: the CPU ceiling of the pipeline.
    let loaded = pipeline::load(None, "eu").expect("embedded rules load");
    let t = Instant::now();
    std::thread::scope(|s| {
        for half in htmls.chunks(count.div_ceil(2)) {
            let loaded = &loaded;
            s.spawn(move || {
                for html in half {
                    std::hint::black_box(pipeline::analyse(
                        &page("p", html.clone()),
                        &loaded.knowledge,
                        &loaded.engine,
                    ));
                }
            });
        }
    });
    let analyse_rate = count as f64 / t.elapsed().as_secs_f64();
    println!("analyse() on 2 threads: {analyse_rate:.0} pages/s");
    drop(htmls);

    // The real pipeline over files: read, decode, extract, rules, journal, report.json.
    let settings = settings(
        vec![pages_dir.display().to_string()],
        &dir.path().join("out"),
        |a| a.concurrency = 8,
    );
    let rt = runtime(2);
    let t = Instant::now();
    let outcome = rt.block_on(pipeline::run(settings)).expect("run");
    let elapsed = t.elapsed().as_secs_f64();
    assert_eq!(outcome.report.summary.audited, count, "every file audited");
    let rate = count as f64 / elapsed;
    println!("pipeline::run over {count} files: {elapsed:.2} s");
    let line = format!(
        "pages/s (200 KB, files, 2 cores) = {rate:.0} (target ≥ {PAGES_PER_SEC_TARGET}) {}",
        verdict(rate >= PAGES_PER_SEC_TARGET)
    );
    println!("{line}");
    line
}

pub(crate) fn settings(
    targets: Vec<String>,
    out: &Path,
    adjust: impl FnOnce(&mut RunOptions),
) -> RunOptions {
    let mut options = RunOptions::unattended(targets, out, std::time::Duration::from_secs(20));
    adjust(&mut options);
    options
}

pub(crate) fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime")
}
