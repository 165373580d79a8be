//! Showing text that came from a file, a server or a host (region names, memory
//! records, manifest fields) on a terminal or in an error message without letting
//! it act: control characters (ESC and the other C0/C1 codes, which terminals obey
//! as commands) and bidirectional overrides (which reorder what is shown) are
//! escaped, and long text is cut, so a hostile string can neither move the cursor,
//! recolour the terminal nor make a message megabytes long.

use std::fmt::Write;

/// Longest text [`short`] shows, in characters.
pub const SHORT: usize = 80;

/// `text` with every control and bidi-override character written as `\u{..}`
/// (`\n`, `\t`, `\r` as themselves escaped), cut to `max_chars` characters with
/// an ellipsis and the total length when longer.
pub fn printable(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 2));
    for (shown, c) in text.chars().enumerate() {
        if shown == max_chars {
            let _ = write!(out, "… ({} characters in all)", text.chars().count());
            return out;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if acts_on_terminal(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// [`printable`] cut to [`SHORT`] characters: for names inside messages.
pub fn short(text: &str) -> String {
    printable(text, SHORT)
}

/// True for characters a terminal may act on rather than show: C0 and C1
/// controls, DEL, and the Unicode bidirectional embeddings, overrides and isolates.
pub fn acts_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// True when `text` holds a character [`acts_on_terminal`] flags.
pub fn has_terminal_controls(text: &str) -> bool {
    text.chars().any(acts_on_terminal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_cuts() {
        assert_eq!(printable("plain sky", 80), "plain sky");
        assert_eq!(
            printable("a\u{1b}[31mred\u{9b}2J", 80),
            "a\\u{1b}[31mred\\u{9b}2J"
        );
        assert_eq!(printable("x\u{202e}y\nz", 80), "x\\u{202e}y\\nz");
        let long = "é".repeat(1000);
        let s = printable(&long, 10);
        assert!(s.starts_with(&"é".repeat(10)));
        assert!(s.ends_with("(1000 characters in all)"), "{s}");
        assert!(has_terminal_controls("\u{7f}"));
        assert!(!has_terminal_controls("Straße, 東京"));
    }
}
