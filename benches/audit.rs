//! `cargo bench`: the figures of issue "Performance and scale", each a ratio or a rate measured in
//! this run, printed with its target and PASS/FAIL.
//!
//! 1. Parse vs full audit on a generated corpus of realistic pages (20 KB to 2 MB), and pages per
//!    second for 200 KB pages through the real pipeline over files on 2 worker threads.
//! 2. The network path: 2,000 URLs on 127.0.0.1 with 50 ms latency each, concurrency 64.
//! 3. Peak memory (VmHWM) of the release binary over 10,000 local URLs.
//!
//! `cargo bench -- parse` (or `network`, `memory`) runs one part only.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cookie_audit::fetch::FetchOptions;
use cookie_audit::page::Page;
use cookie_audit::pipeline::{self, RunOptions};
use cookie_audit::report::Format;

const FULL_OVER_PARSE_TARGET: f64 = 1.5;
const PAGES_PER_SEC_TARGET: f64 = 150.0;
const NETWORK_RATIO_TARGET: f64 = 1.3;
const PEAK_MB_TARGET: f64 = 150.0;

const KB: usize = 1024;
/// Sizes of the generated corpus, cycled over the fixture pages.
const SIZES: [usize; 6] = [20 * KB, 50 * KB, 100 * KB, 200 * KB, 500 * KB, 2048 * KB];

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |part: &str| filters.is_empty() || filters.iter().any(|f| part.contains(f));
    let fixtures = load_fixtures();
    println!(
        "cookie-audit bench: {} fixture pages, {} cores",
        fixtures.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut verdicts = Vec::new();
    if wanted("parse") {
        verdicts.extend(parse_vs_full(&fixtures));
        verdicts.push(pages_per_second(&fixtures));
    }
    if wanted("network") {
        verdicts.push(network(&fixtures));
    }
    if wanted("memory") {
        verdicts.push(memory(&fixtures));
    }
    println!("\nsummary");
    for v in &verdicts {
        println!("  {v}");
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

// ---------------------------------------------------------------------------------------------
// The corpus: fixture pages padded with realistic markup.

struct Fixture {
    name: String,
    html: String,
    lang: String,
}

fn load_fixtures() -> Vec<Fixture> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pages");
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixtures folder") {
            let path = entry.expect("fixture entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "html") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let html = std::fs::read_to_string(&path).expect("fixture page");
            let lang = html
                .find("lang=\"")
                .map(|i| &html[i + 6..])
                .and_then(|rest| rest.get(..2))
                .unwrap_or("en")
                .to_ascii_lowercase();
            Fixture {
                name: path
                    .strip_prefix(&root)
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
                html,
                lang,
            }
        })
        .collect()
}

/// A small deterministic generator, so every run pads pages the same way.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Words a news site of that language shows around its articles.
struct Vocabulary {
    sections: [&'static str; 10],
    sentences: [&'static str; 4],
    search: &'static str,
    read_more: &'static str,
}

fn vocabulary(lang: &str) -> Vocabulary {
    match lang {
        "fr" => Vocabulary {
            sections: [
                "Accueil",
                "Actualités",
                "Politique",
                "Économie",
                "Sport",
                "Culture",
                "Sciences",
                "Voyages",
                "Opinions",
                "Vidéos",
            ],
            sentences: [
                "Les élus régionaux ont présenté mercredi un plan de développement ferroviaire ambitieux pour la décennie.",
                "Selon les chiffres publiés par l'institut, la fréquentation des lignes de nuit a progressé de vingt pour cent.",
                "Les habitants des communes concernées réclament depuis des années une desserte plus régulière.",
                "Le ministre a annoncé une enveloppe supplémentaire lors de son déplacement dans le Cantal.",
            ],
            search: "Rechercher",
            read_more: "Lire la suite",
        },
        "de" => Vocabulary {
            sections: [
                "Startseite",
                "Nachrichten",
                "Politik",
                "Wirtschaft",
                "Sport",
                "Kultur",
                "Wissenschaft",
                "Reisen",
                "Meinung",
                "Videos",
            ],
            sentences: [
                "Die Landesregierung hat am Mittwoch einen neuen Plan für den Ausbau des Schienennetzes vorgestellt.",
                "Nach Angaben des Statistischen Bundesamtes stiegen die Fahrgastzahlen im Nachtverkehr deutlich an.",
                "Anwohner der betroffenen Gemeinden fordern seit Jahren eine bessere Anbindung an die Großstädte.",
                "Der Minister kündigte bei seinem Besuch zusätzliche Mittel für die Modernisierung der Bahnhöfe an.",
            ],
            search: "Suchen",
            read_more: "Weiterlesen",
        },
        "es" => Vocabulary {
            sections: [
                "Portada",
                "Noticias",
                "Política",
                "Economía",
                "Deportes",
                "Cultura",
                "Ciencia",
                "Viajes",
                "Opinión",
                "Vídeos",
            ],
            sentences: [
                "El gobierno regional presentó el miércoles un ambicioso plan de desarrollo ferroviario para la próxima década.",
                "Según los datos publicados por el instituto, el número de viajeros en los trenes nocturnos creció un veinte por ciento.",
                "Los vecinos de los municipios afectados reclaman desde hace años un servicio más frecuente.",
                "El ministro anunció una partida adicional durante su visita a la provincia.",
            ],
            search: "Buscar",
            read_more: "Leer más",
        },
        "it" => Vocabulary {
            sections: [
                "Home", "Notizie", "Politica", "Economia", "Sport", "Cultura", "Scienza", "Viaggi",
                "Opinioni", "Video",
            ],
            sentences: [
                "La giunta regionale ha presentato mercoledì un piano ambizioso per lo sviluppo della rete ferroviaria.",
                "Secondo i dati pubblicati dall'istituto, i passeggeri dei treni notturni sono aumentati del venti per cento.",
                "Gli abitanti dei comuni interessati chiedono da anni collegamenti più frequenti con le città.",
                "Il ministro ha annunciato nuovi fondi durante la sua visita in provincia.",
            ],
            search: "Cerca",
            read_more: "Continua a leggere",
        },
        "nl" => Vocabulary {
            sections: [
                "Home",
                "Nieuws",
                "Politiek",
                "Economie",
                "Sport",
                "Cultuur",
                "Wetenschap",
                "Reizen",
                "Opinie",
                "Video",
            ],
            sentences: [
                "Het provinciebestuur presenteerde woensdag een ambitieus plan voor de uitbreiding van het spoornet.",
                "Volgens cijfers van het bureau groeide het aantal reizigers in de nachttreinen met twintig procent.",
                "Inwoners van de betrokken gemeenten vragen al jaren om een betere verbinding met de steden.",
                "De minister kondigde tijdens zijn bezoek extra geld aan voor de modernisering van stations.",
            ],
            search: "Zoeken",
            read_more: "Lees verder",
        },
        "pl" => Vocabulary {
            sections: [
                "Strona główna",
                "Wiadomości",
                "Polityka",
                "Gospodarka",
                "Sport",
                "Kultura",
                "Nauka",
                "Podróże",
                "Opinie",
                "Wideo",
            ],
            sentences: [
                "Władze regionu przedstawiły w środę ambitny plan rozwoju sieci kolejowej na najbliższą dekadę.",
                "Według danych instytutu liczba pasażerów pociągów nocnych wzrosła o dwadzieścia procent.",
                "Mieszkańcy gmin od lat domagają się częstszych połączeń z dużymi miastami.",
                "Minister zapowiedział dodatkowe środki podczas wizyty w regionie.",
            ],
            search: "Szukaj",
            read_more: "Czytaj dalej",
        },
        _ => Vocabulary {
            sections: [
                "Home", "News", "Politics", "Business", "Sport", "Culture", "Science", "Travel",
                "Opinion", "Video",
            ],
            sentences: [
                "The regional government unveiled an ambitious plan on Wednesday to expand the rail network over the next decade.",
                "According to figures published by the statistics office, night train ridership rose by twenty percent last year.",
                "Residents of the towns along the line have campaigned for years for a more frequent service to the cities.",
                "The minister announced additional funding for station upgrades during a visit to the region on Tuesday.",
            ],
            search: "Search",
            read_more: "Read more",
        },
    }
}

const AUTHORS: [&str; 6] = [
    "Marie Dubois",
    "Jan Kowalski",
    "Anna Schmidt",
    "Luca Rossi",
    "Sofia García",
    "Tom Baker",
];
const FOOTER: [&str; 12] = [
    "About us",
    "Contact",
    "Careers",
    "Terms of use",
    "Privacy policy",
    "Cookie policy",
    "Advertise with us",
    "Newsletters",
    "Accessibility",
    "Sitemap",
    "RSS feeds",
    "Help centre",
];

fn header_markup(v: &Vocabulary, rng: &mut Rng) -> String {
    let mut out = String::from(
        "\n<header class=\"site-header\"><div class=\"site-header__inner\"><a class=\"logo\" href=\"/\"><img src=\"/static/img/logo.svg\" alt=\"Daily Courier\" width=\"180\" height=\"40\"></a>\n<nav class=\"main-nav\" aria-label=\"Main\"><ul class=\"main-nav__list\">",
    );
    for (i, section) in v.sections.iter().enumerate() {
        out.push_str(&format!(
            "<li class=\"main-nav__item\"><a class=\"main-nav__link\" href=\"/{}/\">{section}</a><ul class=\"main-nav__sub\">",
            slug(section)
        ));
        for j in 0..6 {
            let sub = v.sections[(i + j + 1) % v.sections.len()];
            out.push_str(&format!(
                "<li><a href=\"/{}/{}-{}/\">{sub} {}</a></li>",
                slug(section),
                slug(sub),
                rng.below(90) + 10,
                j + 1
            ));
        }
        out.push_str("</ul></li>");
    }
    out.push_str(&format!(
        "</ul></nav>\n<form class=\"search\" action=\"/search\" role=\"search\"><input type=\"search\" name=\"q\" placeholder=\"{0}\"><button type=\"submit\" class=\"search__submit\">{0}</button></form></div></header>\n",
        v.search
    ));
    out
}

/// One block of a long page: teasers with images and links, article text, scripts, an ad slot.
fn chunk_markup(v: &Vocabulary, rng: &mut Rng, k: usize) -> String {
    let section = v.sections[k % v.sections.len()];
    let mut out = format!(
        "<section class=\"teasers teasers--{k}\" data-section=\"{}\"><h2 class=\"section-title\"><a href=\"/{}/\">{section}</a></h2><ul class=\"teaser-list\">",
        slug(section),
        slug(section)
    );
    for _ in 0..8 {
        let id = 100_000 + rng.below(900_000);
        let title = v.sentences[rng.below(4)]
            .split(' ')
            .take(8 + rng.below(5))
            .collect::<Vec<_>>()
            .join(" ");
        let href = format!("/{}/{id}-{}", slug(section), slug(&title));
        out.push_str(&format!(
            "<li class=\"teaser\"><a class=\"teaser__media\" href=\"{href}\"><img class=\"teaser__img\" src=\"https://img.dailycourier-cdn.net/{id}/320x180.jpg\" srcset=\"https://img.dailycourier-cdn.net/{id}/640x360.jpg 2x\" alt=\"{title}\" loading=\"lazy\" width=\"320\" height=\"180\"></a>\
             <div class=\"teaser__body\"><h3 class=\"teaser__title\"><a href=\"{href}\">{title}</a></h3><p class=\"teaser__dek\">{}</p>\
             <span class=\"teaser__meta\"><time datetime=\"2026-11-{:02}\">{:02}/11</time> · <a class=\"teaser__author\" href=\"/author/{}\">{}</a></span></div></li>",
            v.sentences[rng.below(4)],
            rng.below(28) + 1,
            rng.below(28) + 1,
            rng.below(AUTHORS.len()),
            rng.pick(&AUTHORS),
        ));
    }
    out.push_str("</ul></section>\n<div class=\"article-body\">");
    for _ in 0..3 {
        out.push_str(&format!(
            "<p>{} {} <a href=\"/{}/{}\">{}</a> {}</p>",
            v.sentences[rng.below(4)],
            v.sentences[rng.below(4)],
            slug(section),
            rng.below(1_000_000),
            v.read_more,
            v.sentences[rng.below(4)],
        ));
    }
    out.push_str("</div>\n");
    if k.is_multiple_of(2) {
        out.push_str(&format!(
            "<script src=\"https://static.dailycourier-cdn.net/js/chunk.{k}.{:08x}.js\" defer></script>\n",
            rng.next() as u32
        ));
    }
    if k % 3 == 1 {
        // A bundler's inline state, as SPAs ship it.
        out.push_str(&format!("<script>window.__APP_STATE__=window.__APP_STATE__||{{}};window.__APP_STATE__[\"s{k}\"]={{\"items\":["));
        for i in 0..12 {
            out.push_str(&format!(
                "{{\"id\":{},\"title\":\"{}\",\"url\":\"/{}/{}\",\"tags\":[\"{}\",\"{}\"],\"score\":{}}},",
                rng.below(1_000_000),
                v.sentences[i % 4].replace('"', "'"),
                slug(section),
                rng.below(1_000_000),
                slug(v.sections[i % 10]),
                slug(v.sections[(i + 3) % 10]),
                rng.below(1000)
            ));
        }
        out.push_str("null]};</script>\n");
    }
    if k % 5 == 2 {
        out.push_str(&format!(
            "<div class=\"ad-slot ad-slot--mpu\" id=\"ad-mpu-{k}\" data-ad-unit=\"/21794/dailycourier/{}/mpu\" style=\"min-height:250px\"></div>\
             <script>window.adQueue=window.adQueue||[];adQueue.push(function(){{renderSlot('ad-mpu-{k}',[300,250])}});</script>\n",
            slug(section)
        ));
    }
    out
}

fn footer_markup(v: &Vocabulary) -> String {
    let mut out = String::from("<footer class=\"site-footer\"><div class=\"site-footer__cols\">");
    for col in 0..4 {
        out.push_str("<ul class=\"site-footer__col\">");
        for i in 0..6 {
            let label = if col < 2 {
                FOOTER[col * 6 + i]
            } else {
                v.sections[(col * 6 + i) % 10]
            };
            out.push_str(&format!(
                "<li><a href=\"/{}/\">{label}</a></li>",
                slug(label)
            ));
        }
        out.push_str("</ul>");
    }
    out.push_str("</div><p class=\"site-footer__legal\">© 2026 Daily Courier Media Group. All rights reserved.</p></footer>\n");
    out
}

fn slug(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if c.is_alphanumeric() {
                Some(c.to_ascii_lowercase())
            } else if c == ' ' {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// A fixture page padded to about `size` bytes: a header and navigation after `<body>`, teasers,
/// article text, scripts and a footer before `</body>`. The banner stays where the fixture put it.
fn padded(fixture: &Fixture, size: usize, seed: u64) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let v = vocabulary(&fixture.lang);
    let html = &fixture.html;
    let body_open = html
        .find("<body")
        .and_then(|i| html[i..].find('>').map(|j| i + j + 1));
    let body_close = html.rfind("</body>").filter(|c| Some(*c) > body_open);
    let head = header_markup(&v, &mut rng);
    let footer = footer_markup(&v);
    let mut middle = String::new();
    let mut k = 0;
    while html.len() + head.len() + footer.len() + middle.len() < size {
        middle.push_str(&chunk_markup(&v, &mut rng, k));
        k += 1;
    }
    let mut out = String::with_capacity(size + 16 * KB);
    match (body_open, body_close) {
        (Some(open), Some(close)) => {
            out.push_str(&html[..open]);
            out.push_str(&head);
            out.push_str(&html[open..close]);
            out.push_str(&middle);
            out.push_str(&footer);
            out.push_str(&html[close..]);
        }
        _ => {
            out.push_str(html);
            out.push_str(&head);
            out.push_str(&middle);
            out.push_str(&footer);
        }
    }
    out
}

fn page(input: &str, html: String) -> Page {
    let url = format!("https://www.dailycourier.example/{input}");
    Page {
        status: Some(200),
        ..Page::from_html(input, &url, html)
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Parse vs full audit, and pages per second.

fn parse_vs_full(fixtures: &[Fixture]) -> Vec<String> {
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

fn pages_per_second(fixtures: &[Fixture]) -> String {
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

fn settings(targets: Vec<String>, out: &Path, adjust: impl FnOnce(&mut RunOptions)) -> RunOptions {
    let mut options = RunOptions {
        targets,
        output: out.to_path_buf(),
        formats: vec![Format::Json],
        progress: false,
        cached_lists: false,
        fetch: FetchOptions {
            timeout: std::time::Duration::from_secs(20),
            ..FetchOptions::default()
        },
        ..RunOptions::default()
    };
    adjust(&mut options);
    options
}

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

// ---------------------------------------------------------------------------------------------
// A local server: `/slow/{n}` answers after the latency, `/fast/{n}` at once.

struct Served {
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

fn serve(s: &Served, n: usize) -> Response {
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
fn start_server(pages: Vec<String>, latency: Duration) -> String {
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

// ---------------------------------------------------------------------------------------------
// 2. The network path.

fn network(fixtures: &[Fixture]) -> String {
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

// ---------------------------------------------------------------------------------------------
// 3. Peak memory of the release binary.

struct Peak {
    hwm_kb: u64,
    seconds: f64,
    samples: Vec<(f64, u64)>,
    report_bytes: u64,
    journal_bytes: u64,
}

fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

fn run_binary(base: &str, count: usize, dir: &Path) -> Peak {
    let list = dir.join(format!("list-{count}.txt"));
    let out = dir.join(format!("out-{count}"));
    let text: String = (0..count).map(|i| format!("{base}/fast/{i}\n")).collect();
    std::fs::write(&list, text).expect("write list");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_cookie-audit"));
    let t = Instant::now();
    let mut child = std::process::Command::new(&bin)
        .args(["audit", "-i"])
        .arg(&list)
        .args([
            "--format",
            "json",
            "-o",
            out.to_str().expect("utf-8 path"),
            "--concurrency",
            "16",
            "--per-host",
            "16",
            "--fail-on",
            "never",
            "--quiet",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the release binary");
    let pid = child.id();
    let mut hwm = 0;
    let mut samples = Vec::new();
    let status = loop {
        if let Some(kb) = status_kb(pid, "VmHWM:") {
            hwm = hwm.max(kb);
        }
        if let Some(kb) = status_kb(pid, "VmRSS:") {
            samples.push((t.elapsed().as_secs_f64(), kb));
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let seconds = t.elapsed().as_secs_f64();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        panic!("cookie-audit exited with {status}: {err}");
    }
    let size = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    Peak {
        hwm_kb: hwm,
        seconds,
        samples,
        report_bytes: size(out.join("report.json")),
        journal_bytes: size(out.join("pages.jsonl")),
    }
}

fn memory(fixtures: &[Fixture]) -> String {
    println!("\n== 3. peak memory, release binary ==");
    // Pages of a realistic weight (fixtures padded to 30–120 KB), served at once.
    let pages: Vec<String> = fixtures
        .iter()
        .enumerate()
        .map(|(i, f)| padded(f, [30, 60, 120][i % 3] * KB, 5000 + i as u64))
        .collect();
    let base = start_server(pages, Duration::ZERO);
    let dir = tempfile::tempdir().expect("temp dir");
    let small = run_binary(&base, 2500, dir.path());
    let big = run_binary(&base, 10_000, dir.path());
    for (n, p) in [(2500, &small), (10_000, &big)] {
        println!(
            "{n:>6} targets: peak RSS {:.1} MB, {:.1} s ({:.0} pages/s), report.json {:.1} MB, pages.jsonl {:.1} MB",
            p.hwm_kb as f64 / 1024.0,
            p.seconds,
            n as f64 / p.seconds,
            p.report_bytes as f64 / 1e6,
            p.journal_bytes as f64 / 1e6
        );
    }
    let per_page = (big.hwm_kb as f64 - small.hwm_kb as f64) * 1024.0 / 7500.0;
    println!("peak grows by {:.1} KB per extra target", per_page / 1024.0);
    let quarter = |p: &Peak, q: f64| {
        let at = p.seconds * q;
        p.samples
            .iter()
            .find(|(t, _)| *t >= at)
            .or(p.samples.last())
            .map_or(0, |s| s.1)
    };
    println!(
        "RSS over the 10,000-target run: 25% {:.0} MB, 50% {:.0} MB, 75% {:.0} MB, 95% {:.0} MB",
        quarter(&big, 0.25) as f64 / 1024.0,
        quarter(&big, 0.5) as f64 / 1024.0,
        quarter(&big, 0.75) as f64 / 1024.0,
        quarter(&big, 0.95) as f64 / 1024.0
    );
    let mb = big.hwm_kb as f64 / 1024.0;
    let line = format!(
        "peak RSS (10,000 targets) = {mb:.0} MB (target ≤ {PEAK_MB_TARGET:.0} MB) {}",
        verdict(mb <= PEAK_MB_TARGET)
    );
    println!("{line}");
    line
}
