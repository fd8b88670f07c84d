//! Formula injection ("CSV injection"): Excel and LibreOffice run a cell that starts with `=`,
//! `+`, `-`, `@`, a tab or a carriage return as a formula when the file is opened, so a person
//! named `=HYPERLINK(…)` in a register would become a live link in an auditor's spreadsheet.
//! Every CSV and XLSX cell Evident writes goes through [`formula_like`]; CSV importers undo the
//! CSV form with [`restore`], so an export imports back unchanged.

use std::borrow::Cow;

/// OWASP's list of characters that make a spreadsheet read a cell as a formula.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A plain decimal number with an optional sign (`-5`, `+1`, `-0.25`): a spreadsheet reads it as
/// that number and nothing else, so it is left readable (OWASP allows this exception).
fn plain_number(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match digits.split_once('.') {
        Some((whole, fraction)) => all_digits(whole) && all_digits(fraction),
        None => all_digits(digits),
    }
}

/// Whether a spreadsheet could take this text for a formula. Leading quotes are looked past so
/// that text which itself starts with `'` also gets the prefix, and [`restore`] stays the exact
/// inverse of [`neutralise`] (`'=x` is written `''=x` and read back as `'=x`).
pub fn formula_like(text: &str) -> bool {
    let rest = text.trim_start_matches('\'');
    rest.starts_with(TRIGGERS) && !plain_number(rest)
}

/// The text as a CSV cell: formula-like text gets one leading `'`, which spreadsheets take as
/// "this is text" (OWASP's recommendation). Anything else is written as it is.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if formula_like(text) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// A cell read from a CSV file: the one `'` that [`neutralise`] adds is removed, so `'=1+1`
/// (from our export, or typed as a spreadsheet user would) is stored as `=1+1`.
pub fn restore(cell: &str) -> Cow<'_, str> {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest.into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trigger_is_prefixed() {
        for text in [
            "=1+1",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "-",
            "+",
        ] {
            assert_eq!(neutralise(text), format!("'{text}"), "{text:?}");
        }
    }

    #[test]
    fn plain_text_and_numbers_are_left_alone() {
        for text in [
            "Ana Lopez",
            "",
            "2026-01-31",
            "-5",
            "+1",
            "-0.25",
            "12",
            "a=b",
            " =1",
            "'quoted'",
        ] {
            assert_eq!(neutralise(text), text, "{text:?}");
        }
        for text in ["-5-5", "-1e5", "-.5", "-5.", "+1 555 0100", "--5"] {
            assert!(formula_like(text), "{text:?} is not a plain number");
        }
    }

    #[test]
    fn restore_is_the_inverse_of_neutralise() {
        for text in [
            "=1+1", "'=1+1", "''=1+1", "-5", "'-5", "'", "''", "plain", "'plain", "@x", "\t=1", "-2+3", "",
        ] {
            assert_eq!(restore(&neutralise(text)), text, "{text:?}");
        }
        assert_eq!(
            restore("'=1+1"),
            "=1+1",
            "a quote typed in a spreadsheet is dropped once"
        );
        assert_eq!(
            restore("'-5"),
            "'-5",
            "a number never gets the prefix, so its quote is kept"
        );
    }
}
