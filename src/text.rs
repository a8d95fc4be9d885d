//! Text quoted back to people: names and values other programs or users
//! wrote, shown in messages, comments and reports.

/// `text` with control characters written as escapes (`\\n`), so that a
/// message or a script comment quoting a name or value stays one line and
/// prints nothing a terminal or a shell would act on.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_is_one_line() {
        assert_eq!(printable("a\nb\tc\u{1b}[31m"), "a\\nb\\tc\\u{1b}[31m");
        assert_eq!(printable("été 'x'"), "été 'x'");
    }
}
