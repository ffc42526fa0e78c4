//! The corpus: fixture pages padded with realistic markup.

use super::*;

// The corpus: fixture pages padded with realistic markup.

pub(crate) struct Fixture {
    pub(crate) name: String,
    pub(crate) html: String,
    pub(crate) lang: String,
}

pub(crate) fn load_fixtures() -> Vec<Fixture> {
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
pub(crate) struct Rng(u64);

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
pub(crate) struct Vocabulary {
    sections: [&'static str; 10],
    sentences: [&'static str; 4],
    search: &'static str,
    read_more: &'static str,
}

pub(crate) fn vocabulary(lang: &str) -> Vocabulary {
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

pub(crate) const AUTHORS: [&str; 6] = [
    "Marie Dubois",
    "Jan Kowalski",
    "Anna Schmidt",
    "Luca Rossi",
    "Sofia García",
    "Tom Baker",
];
pub(crate) const FOOTER: [&str; 12] = [
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

pub(crate) fn header_markup(v: &Vocabulary, rng: &mut Rng) -> String {
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
pub(crate) fn chunk_markup(v: &Vocabulary, rng: &mut Rng, k: usize) -> String {
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

pub(crate) fn footer_markup(v: &Vocabulary) -> String {
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

pub(crate) fn slug(s: &str) -> String {
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
pub(crate) fn padded(fixture: &Fixture, size: usize, seed: u64) -> String {
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

pub(crate) fn page(input: &str, html: String) -> Page {
    let url = format!("https://www.dailycourier.example/{input}");
    Page {
        status: Some(200),
        ..Page::from_html(input, &url, html)
    }
}
