//! GitHub-flavoured Markdown escaping (tables: [`crate::output::table`]).

/// Text safe inside a Markdown paragraph or table cell: characters that
/// would start markup are escaped, `|` cannot end the cell, line breaks
/// become `<br>`, and `<` / `&` cannot start HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(&mut out, s);
    out
}

/// [`escape`], appended to `out` (no allocation of its own).
pub fn escape_into(out: &mut String, s: &str) {
    let mut prev: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // inside a word (close_notify) `_` cannot start emphasis
            '_' if prev.is_some_and(char::is_alphanumeric)
                && chars.peek().is_some_and(|n| n.is_alphanumeric()) =>
            {
                out.push(c)
            }
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
        prev = Some(c);
    }
}

/// Inline code; the backtick fence is longer than any run of backticks
/// inside. `|` is escaped (GitHub reads it as a cell end even in code).
pub fn code(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in clean.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if clean.starts_with('`') || clean.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{clean}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_cells_whole() {
        assert_eq!(escape("a|b"), "a\\|b");
        assert_eq!(escape("<script>"), "&lt;script&gt;");
        assert_eq!(escape("x\ny"), "x<br>y");
        assert_eq!(escape("*.example_1"), "\\*.example_1");
        assert_eq!(escape("_x_ close_notify"), "\\_x\\_ close_notify");
        assert_eq!(code("ip.addr==1"), "`ip.addr==1`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("a|b"), "`a\\|b`");
    }
}
