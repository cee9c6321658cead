//! Issue 13: English mode uses ASCII punctuation. Every English text the pages and messages
//! choose with `pick("中文", "English")` (templates, the web and app crates) and every English
//! text of the label table is free of full-width punctuation, and no template puts full-width
//! punctuation outside such a choice (it would show in both languages).

use std::path::{Path, PathBuf};

const FULL_WIDTH: &[char] = &[
    '，', '。', '：', '；', '（', '）', '、', '！', '？', '“', '”',
];

/// A string literal starting at `s[0] == '"'`: its text and the bytes it spans.
fn literal(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    out.push(n);
                }
            }
            '"' => return Some((out, i + 1)),
            _ => out.push(c),
        }
    }
    None
}

/// The `("a", "b")` pairs after each occurrence of `opener` (which ends with `(`), with the
/// byte ranges of the whole call.
fn pairs(s: &str, opener: &str) -> Vec<(String, String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = s[from..].find(opener) {
        let start = from + at;
        let mut i = start + opener.len();
        from = i;
        let skip_ws = |i: &mut usize| {
            while s[*i..].starts_with(char::is_whitespace) {
                *i += s[*i..].chars().next().unwrap().len_utf8();
            }
        };
        skip_ws(&mut i);
        if !s[i..].starts_with('"') {
            continue;
        }
        let Some((a, n)) = literal(&s[i..]) else {
            continue;
        };
        i += n;
        skip_ws(&mut i);
        if !s[i..].starts_with(',') {
            continue;
        }
        i += 1;
        skip_ws(&mut i);
        if !s[i..].starts_with('"') {
            continue;
        }
        let Some((b, n)) = literal(&s[i..]) else {
            continue;
        };
        i += n;
        skip_ws(&mut i);
        if s[i..].starts_with(')') {
            out.push((a, b, start..i + 1));
        }
    }
    out
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

fn crate_dir(name: &str) -> PathBuf {
    PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    )
    .join("..")
    .join(name)
}

/// The text of a template outside `{{ }}`, `{% %}` and `{# #}`.
fn template_text(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let close = match rest[i + 1..].chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            Some('#') => "#}",
            _ => {
                out.push('{');
                rest = &rest[i + 1..];
                continue;
            }
        };
        match rest[i + 2..].find(close) {
            Some(j) => rest = &rest[i + 2 + j + 2..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn english_texts_use_ascii_punctuation() {
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut sources = Vec::new();
    files(&crate_dir("web/templates"), "html", &mut sources);
    files(&crate_dir("web/src"), "rs", &mut sources);
    files(&crate_dir("app/src"), "rs", &mut sources);
    for path in &sources {
        let s = std::fs::read_to_string(path).unwrap();
        let mut calls = pairs(&s, "pick(");
        if path.ends_with("i18n.rs") {
            calls.extend(pairs(&s, "=> ("));
        }
        for (zh, en, _) in &calls {
            checked += 1;
            if en.contains(FULL_WIDTH) {
                problems.push(format!(
                    "{}: English \"{en}\" (for \"{zh}\")",
                    path.display()
                ));
            }
        }
        if path.extension().is_some_and(|x| x == "html") {
            for line in template_text(&s).lines() {
                if line.contains(FULL_WIDTH) {
                    problems.push(format!(
                        "{}: full-width punctuation outside a pick(): {}",
                        path.display(),
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(checked > 500, "the scan found the texts ({checked})");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_scan_sees_what_it_looks_for() {
    let s = r#"{{ c.t.pick("中文：", "English: ") }}x（{{ y }}）{% if a %}，{% endif %}"#;
    let p = pairs(s, "pick(");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].1, "English: ");
    assert_eq!(template_text(s), "x（），");
    assert!(
        pairs(r#"pick("a", "b（")"#, "pick(")[0]
            .1
            .contains(FULL_WIDTH)
    );
}
