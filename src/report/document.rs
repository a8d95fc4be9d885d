//! A small, format-neutral document: titled sections of key/value lines,
//! aligned tables and text. Rendered as terminal text, Markdown or HTML.
//! Results hold text other programs wrote (node names, paths, commands):
//! each renderer escapes it for its format.

use std::fmt::Write as _;

use crate::text::printable;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Labelled values, one per line.
    Pairs(Vec<(String, String)>),
    Table {
        headers: Vec<String>,
        align: Vec<Align>,
        rows: Vec<Vec<String>>,
    },
    /// A paragraph of prose.
    Text(String),
    /// A command a user can copy.
    Command(String),
    /// A list of short remarks.
    Bullets(Vec<String>),
    /// An SVG chart with a caption: inlined in HTML, left out of text and
    /// Markdown (which say where to find it).
    Chart { caption: String, svg: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub title: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    pub title: String,
    pub sections: Vec<Section>,
}

impl Block {
    /// A table whose column alignments are spelled as letters, one per
    /// column: `l` left, `r` right (e.g. `"lrrl"`).
    pub fn table(headers: &[&str], align: &str, rows: Vec<Vec<String>>) -> Block {
        Block::Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            align: align
                .chars()
                .map(|c| if c == 'r' { Align::Right } else { Align::Left })
                .collect(),
            rows,
        }
    }
}

impl Section {
    pub fn new(title: impl Into<String>) -> Self {
        Section {
            title: title.into(),
            blocks: Vec::new(),
        }
    }
    pub fn with(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }
}

fn widths(headers: &[String], rows: &[Vec<String>]) -> Vec<usize> {
    let mut w: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < w.len() {
                w[i] = w[i].max(cell.chars().count());
            }
        }
    }
    w
}

fn pad(cell: &str, width: usize, align: Align) -> String {
    let n = cell.chars().count();
    let fill = " ".repeat(width.saturating_sub(n));
    match align {
        Align::Left => format!("{cell}{fill}"),
        Align::Right => format!("{fill}{cell}"),
    }
}

fn text_row(cells: &[String], w: &[usize], align: &[Align]) -> String {
    let parts: Vec<String> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| pad(c, w[i], *align.get(i).unwrap_or(&Align::Left)))
        .collect();
    format!("  {}", parts.join("  ")).trim_end().to_string()
}

/// Text for Markdown: HTML in it (a node named `<img onerror=...>`) is
/// escaped as the HTML page escapes it; a line break cannot start a heading
/// or end a table row, and `|` and brackets cannot make a cell or a link of
/// what a result stores. (Backticks stay: cryocap's notes quote commands in
/// them, and code spans carry no links.)
fn md_escape(cell: &str) -> String {
    let text = printable(&html_escape(cell))
        .replace('|', "\\|")
        .replace('[', "\\[")
        .replace(']', "\\]");
    match text.starts_with(['#', '>']) {
        true => format!("\\{text}"),
        false => text,
    }
}

/// A fenced code block holding `code`: the fence is longer than any run of
/// backticks inside, so the code cannot close it.
fn md_code(code: &str) -> String {
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}sh\n{}\n{fence}", printable(code))
}

impl Document {
    /// The same document with control characters in every text written as
    /// escapes, so that a stored name cannot move a terminal's cursor, colour
    /// it, or add lines that look like the report's own.
    fn printable(&self) -> Document {
        let all = |v: &[String]| v.iter().map(|t| printable(t)).collect::<Vec<_>>();
        let block = |b: &Block| match b {
            Block::Pairs(p) => Block::Pairs(
                p.iter()
                    .map(|(k, v)| (printable(k), printable(v)))
                    .collect(),
            ),
            Block::Table {
                headers,
                align,
                rows,
            } => Block::Table {
                headers: all(headers),
                align: align.clone(),
                rows: rows.iter().map(|r| all(r)).collect(),
            },
            Block::Text(t) => Block::Text(printable(t)),
            Block::Command(c) => Block::Command(printable(c)),
            Block::Bullets(b) => Block::Bullets(all(b)),
            Block::Chart { caption, svg } => Block::Chart {
                caption: printable(caption),
                svg: svg.clone(),
            },
        };
        Document {
            title: printable(&self.title),
            sections: self
                .sections
                .iter()
                .map(|s| Section {
                    title: printable(&s.title),
                    blocks: s.blocks.iter().map(block).collect(),
                })
                .collect(),
        }
    }

    /// Plain text for a terminal: aligned columns, upper-case headings.
    pub fn to_text(&self) -> String {
        self.printable().text()
    }

    fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.title);
        for section in &self.sections {
            if section.title.is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, "\n{}", section.title);
                let _ = writeln!(out, "{}", "=".repeat(section.title.chars().count()));
            }
            for block in &section.blocks {
                match block {
                    Block::Pairs(pairs) => {
                        let w = pairs
                            .iter()
                            .map(|(k, _)| k.chars().count())
                            .max()
                            .unwrap_or(0);
                        for (k, v) in pairs {
                            let _ = writeln!(out, "  {}  {v}", pad(k, w, Align::Left));
                        }
                    }
                    Block::Table {
                        headers,
                        align,
                        rows,
                    } => {
                        let w = widths(headers, rows);
                        let _ = writeln!(out, "{}", text_row(headers, &w, align));
                        let rule: Vec<String> = w.iter().map(|n| "-".repeat(*n)).collect();
                        let _ = writeln!(out, "  {}", rule.join("  "));
                        for row in rows {
                            let _ = writeln!(out, "{}", text_row(row, &w, align));
                        }
                    }
                    Block::Text(t) => {
                        let _ = writeln!(out, "  {t}");
                    }
                    Block::Command(c) => {
                        let _ = writeln!(out, "  $ {c}");
                    }
                    Block::Bullets(items) => {
                        for i in items {
                            let _ = writeln!(out, "  - {i}");
                        }
                    }
                    Block::Chart { caption, .. } => {
                        let _ = writeln!(out, "  [chart in the HTML report: {caption}]");
                    }
                }
            }
        }
        out
    }

    /// GitHub-flavoured Markdown: headings, pipe tables, code blocks.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}", md_escape(&self.title));
        for section in &self.sections {
            if !out.ends_with("\n\n") {
                out.push('\n');
            }
            if !section.title.is_empty() {
                let _ = writeln!(out, "## {}\n", md_escape(&section.title));
            }
            for block in &section.blocks {
                match block {
                    Block::Pairs(pairs) => {
                        let _ = writeln!(out, "| | |\n|---|---|");
                        for (k, v) in pairs {
                            let _ = writeln!(out, "| {} | {} |", md_escape(k), md_escape(v));
                        }
                    }
                    Block::Table {
                        headers,
                        align,
                        rows,
                    } => {
                        let h: Vec<String> = headers.iter().map(|c| md_escape(c)).collect();
                        let _ = writeln!(out, "| {} |", h.join(" | "));
                        let rule: Vec<&str> = (0..headers.len())
                            .map(|i| match align.get(i) {
                                Some(Align::Right) => "---:",
                                _ => "---",
                            })
                            .collect();
                        let _ = writeln!(out, "|{}|", rule.join("|"));
                        for row in rows {
                            let r: Vec<String> = row.iter().map(|c| md_escape(c)).collect();
                            let _ = writeln!(out, "| {} |", r.join(" | "));
                        }
                    }
                    Block::Text(t) => {
                        let _ = writeln!(out, "{}", md_escape(t));
                    }
                    Block::Command(c) => {
                        let _ = writeln!(out, "{}", md_code(c));
                    }
                    Block::Bullets(items) => {
                        for i in items {
                            let _ = writeln!(out, "- {}", md_escape(i));
                        }
                    }
                    Block::Chart { caption, .. } => {
                        let _ = writeln!(out, "_Chart in the HTML report: {}_", md_escape(caption));
                    }
                }
                out.push('\n');
            }
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
        out
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}\
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}\
table{border-collapse:collapse;margin:.6em 0}td,th{padding:.25em .7em;border-bottom:1px solid #eee;vertical-align:top}\
th{text-align:left;background:#f4f4f4}td.r,th.r{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
pre{background:#f6f6f6;padding:.6em;overflow-x:auto}figure{margin:1em 0}figcaption{color:#555;font-size:.9em}\
.PASS{color:#126b12;font-weight:600}.WARN{color:#8a5a00;font-weight:600}.FAIL{color:#b00000;font-weight:700}\
.INCONCLUSIVE{color:#5b3c99;font-weight:600}.REGRESSION{color:#b00000;font-weight:700}";

/// Verdict words get a class so the stylesheet can colour them.
fn cell_class(cell: &str) -> &'static str {
    match cell {
        "PASS" => " class=\"PASS\"",
        "WARN" => " class=\"WARN\"",
        "FAIL" => " class=\"FAIL\"",
        "INCONCLUSIVE" => " class=\"INCONCLUSIVE\"",
        "REGRESSION" => " class=\"REGRESSION\"",
        _ => "",
    }
}

impl Document {
    /// One self-contained HTML page: inline style, inline SVG charts.
    pub fn to_html(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n",
            t = html_escape(&self.title)
        );
        for section in &self.sections {
            if !section.title.is_empty() {
                let _ = writeln!(out, "<h2>{}</h2>", html_escape(&section.title));
            }
            for block in &section.blocks {
                match block {
                    Block::Pairs(pairs) => {
                        out.push_str("<table>\n");
                        for (k, v) in pairs {
                            let _ = writeln!(
                                out,
                                "<tr><th>{}</th><td>{}</td></tr>",
                                html_escape(k),
                                html_escape(v)
                            );
                        }
                        out.push_str("</table>\n");
                    }
                    Block::Table {
                        headers,
                        align,
                        rows,
                    } => {
                        let cls = |i: usize| match align.get(i) {
                            Some(Align::Right) => " class=\"r\"",
                            _ => "",
                        };
                        out.push_str("<table>\n<tr>");
                        for (i, h) in headers.iter().enumerate() {
                            let _ = write!(out, "<th{}>{}</th>", cls(i), html_escape(h));
                        }
                        out.push_str("</tr>\n");
                        for row in rows {
                            out.push_str("<tr>");
                            for (i, c) in row.iter().enumerate() {
                                let class = match cell_class(c) {
                                    "" => cls(i),
                                    v => v,
                                };
                                let _ = write!(out, "<td{class}>{}</td>", html_escape(c));
                            }
                            out.push_str("</tr>\n");
                        }
                        out.push_str("</table>\n");
                    }
                    Block::Text(t) => {
                        let _ = writeln!(out, "<p>{}</p>", html_escape(t));
                    }
                    Block::Command(c) => {
                        let _ = writeln!(out, "<pre>{}</pre>", html_escape(c));
                    }
                    Block::Bullets(items) => {
                        out.push_str("<ul>\n");
                        for i in items {
                            let _ = writeln!(out, "<li>{}</li>", html_escape(i));
                        }
                        out.push_str("</ul>\n");
                    }
                    Block::Chart { caption, svg } => {
                        let _ = writeln!(
                            out,
                            "<figure>{svg}<figcaption>{}</figcaption></figure>",
                            html_escape(caption)
                        );
                    }
                }
            }
        }
        out.push_str("</body></html>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Document {
        Document {
            title: "t".into(),
            sections: vec![
                Section::new("Sizes")
                    .with(Block::Pairs(vec![
                        ("a".into(), "1".into()),
                        ("longer".into(), "2".into()),
                    ]))
                    .with(Block::Table {
                        headers: vec!["name".into(), "n".into()],
                        align: vec![Align::Left, Align::Right],
                        rows: vec![
                            vec!["x|y".into(), "10".into()],
                            vec!["zz".into(), "2".into()],
                        ],
                    }),
            ],
        }
    }

    #[test]
    fn text_aligns_columns() {
        let t = doc().to_text();
        assert!(t.contains("  a       1\n  longer  2\n"), "{t}");
        assert!(
            t.contains("  name   n\n  ----  --\n  x|y   10\n  zz     2\n"),
            "{t}"
        );
    }

    #[test]
    fn stored_text_cannot_add_lines_links_or_close_a_code_block() {
        let doc = Document {
            title: "node\n# injected\u{1b}[31m".into(),
            sections: vec![
                Section::new("s")
                    .with(Block::Pairs(vec![(
                        "node".into(),
                        "[x](javascript:alert(1))".into(),
                    )]))
                    .with(Block::Text("# not a heading".into()))
                    .with(Block::Command("echo ```\n<b>".into())),
            ],
        };
        let md = doc.to_markdown();
        assert!(md.starts_with("# node\\n# injected\\u{1b}\\[31m\n"), "{md}");
        assert!(md.contains("\\[x\\](javascript:alert(1))"), "{md}");
        assert!(md.contains("\n\\# not a heading"), "{md}");
        assert!(md.contains("````sh\necho ```\\n<b>\n````"), "{md}");
        let text = doc.to_text();
        assert!(
            !text.contains('\u{1b}') && text.starts_with("node\\n# injected"),
            "{text}"
        );
        assert_eq!(text.lines().count(), doc.printable().text().lines().count());
    }

    #[test]
    fn html_escapes_and_inlines_charts() {
        let mut d = doc();
        d.sections[0].blocks.push(Block::Chart {
            caption: "a <chart>".into(),
            svg: "<svg></svg>".into(),
        });
        let h = d.to_html();
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.contains("<td>x|y</td>"));
        assert!(h.contains("<figure><svg></svg><figcaption>a &lt;chart&gt;</figcaption></figure>"));
    }

    #[test]
    fn markdown_escapes_html_as_the_page_does() {
        let d = Document {
            title: "node <img src=x onerror=alert(1)>".into(),
            sections: vec![Section::new("a & b").with(Block::Text("<script>".into()))],
        };
        let m = d.to_markdown();
        assert!(
            !m.contains('<') && m.contains("&lt;img") && m.contains("a &amp; b"),
            "{m}"
        );
    }

    #[test]
    fn markdown_escapes_pipes_and_aligns_numbers_right() {
        let m = doc().to_markdown();
        assert!(m.contains("| x\\|y | 10 |"), "{m}");
        assert!(m.contains("|---|---:|"), "{m}");
    }
}
