//! CSV cells that a spreadsheet would run as formulas ("CSV injection"): every CSV the
//! service writes goes through [`neutralise`], and the asset import reads cells through
//! [`restore`], its exact inverse, so an export re-imports unchanged.
//!
//! The rule is OWASP's: a cell beginning with `=`, `+`, `-`, `@`, tab or carriage return
//! gets a leading `'`, which spreadsheets show as text and do not evaluate. Two choices
//! make it exact and keep numbers numbers:
//! - a plain negative decimal number (`-2.9779`, the longitudes of England) is left alone:
//!   it is a number, not a formula. Only `-`, digits and at most one `.` qualify, so
//!   `-1+2` is neutralised, and so is every `+` cell (a phone number such as
//!   `+44 20 7946 0000` is text; `+442079460000` would be read as a number);
//! - a cell that already begins with `'`s followed by one of those characters gets one more
//!   `'`, so that [`restore`] (which removes one `'` from such cells) gives back exactly
//!   what was written, whatever it was.

use std::borrow::Cow;

/// What a spreadsheet reads as the start of a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `-` then digits with at most one `.` between digits, e.g. `-2.9779`.
fn is_negative_number(cell: &str) -> bool {
    let Some(digits) = cell.strip_prefix('-') else {
        return false;
    };
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && parts.next().is_none_or(all_digits)
}

/// Whether the cell, after any leading `'`s, begins like a formula.
fn formula_like(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_START)
}

/// The cell as written to a CSV: with a leading `'` when a spreadsheet would run it.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if formula_like(cell) && !is_negative_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The inverse of [`neutralise`], for the import: removes the `'` it added.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_left_alone() {
        for (cell, written) in [
            ("=1+1", "'=1+1"),
            ("+44 20 7946 0000", "'+44 20 7946 0000"),
            ("+442079460000", "'+442079460000"),
            ("-1+2", "'-1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-", "'-"),
            ("-.5", "'-.5"),
            ("-5.", "'-5."),
            ("'=x", "''=x"),
            ("'-5", "''-5"),
            ("-2.9779", "-2.9779"),
            ("-3", "-3"),
            ("2.5", "2.5"),
            ("'quoted'", "'quoted'"),
            ("Walker Art Gallery", "Walker Art Gallery"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), written, "{cell:?}");
            assert_eq!(restore(&neutralise(cell)), cell, "{cell:?}");
        }
    }

    #[test]
    fn restore_inverts_neutralise_exactly() {
        let pieces = ["'", "=", "-", "1", ".", "+", "a", "\t", "@", " "];
        // Every string of up to four pieces.
        let mut cells = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = cells
                .iter()
                .flat_map(|c| pieces.iter().map(move |p| format!("{c}{p}")))
                .collect();
            cells.extend(longer);
            cells.sort();
            cells.dedup();
        }
        for c in &cells {
            assert_eq!(restore(&neutralise(c)), c, "{c:?}");
        }
    }
}
