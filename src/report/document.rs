//! A small, format-neutral document: titled sections of key/value lines,
//! aligned tables and text. Rendered as terminal text or Markdown.

use std::fmt::Write as _;

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

fn md_escape(cell: &str) -> String {
    cell.replace('|', "\\|")
}

impl Document {
    /// Plain text for a terminal: aligned columns, upper-case headings.
    pub fn to_text(&self) -> String {
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
                }
            }
        }
        out
    }

    /// GitHub-flavoured Markdown: headings, pipe tables, code blocks.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}", self.title);
        for section in &self.sections {
            if section.title.is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, "\n## {}\n", section.title);
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
                        let _ = writeln!(out, "{t}");
                    }
                    Block::Command(c) => {
                        let _ = writeln!(out, "```sh\n{c}\n```");
                    }
                    Block::Bullets(items) => {
                        for i in items {
                            let _ = writeln!(out, "- {i}");
                        }
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
    fn markdown_escapes_pipes_and_aligns_numbers_right() {
        let m = doc().to_markdown();
        assert!(m.contains("| x\\|y | 10 |"), "{m}");
        assert!(m.contains("|---|---:|"), "{m}");
    }
}
