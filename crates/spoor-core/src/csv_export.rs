//! CSV for people's spreadsheets: the one writer every CSV Spoor produces goes
//! through (report exports, usage and billing, the CRM's contacts, the CLI's
//! event export).
//!
//! Quoting is the `csv` crate's (RFC 4180, CRLF line ends). On top of it, a
//! cell that a spreadsheet would run as a formula is defused: every cell comes
//! from someone's input (an event name, a contact's name, a page title), and a
//! cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return can run as
//! a formula when the file is opened (OWASP's "CSV injection"). Such a cell
//! gets a leading `'`, which spreadsheets show as text. Negative numbers
//! (`-12.5`) are left as they are.

use std::borrow::Cow;
use std::io::Write;

/// Whether a spreadsheet could read the cell as a formula. A lone sign (a
/// report's "-" for "none") cannot, and a negative number stays a number; a
/// leading `+` is defused even before digits, so that a phone number such as
/// `+15550100` keeps its sign as text.
fn runs_as_formula(cell: &str) -> bool {
    let negative_number = cell.strip_prefix('-').is_some_and(|digits| {
        digits.bytes().any(|b| b.is_ascii_digit())
            && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && digits.bytes().filter(|&b| b == b'.').count() <= 1
    });
    cell.len() > 1 && cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !negative_number
}

/// The cell as written: defused if a spreadsheet would run it.
pub fn defused(cell: &str) -> Cow<'_, str> {
    if runs_as_formula(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Writes rows of cells as CSV, each cell defused.
pub struct CsvWriter<W: Write> {
    /// Always `Some` between calls; taken only to write a blank line past
    /// `csv`, which writes an empty record as `""`.
    inner: Option<csv::Writer<W>>,
}

fn writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        // Rows of a report differ in length (a title row, then a table).
        .flexible(true)
        .from_writer(out)
}

impl<W: Write> CsvWriter<W> {
    pub fn new(out: W) -> CsvWriter<W> {
        CsvWriter {
            inner: Some(writer(out)),
        }
    }

    pub fn row<I, S>(&mut self, cells: I) -> std::io::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.csv()?
            .write_record(cells.into_iter().map(|c| defused(c.as_ref()).into_owned()))
            .map_err(std::io::Error::other)
    }

    /// An empty line, between the sections of a report.
    pub fn blank_line(&mut self) -> std::io::Result<()> {
        let mut out = self.take()?;
        out.write_all(b"\r\n")?;
        self.inner = Some(writer(out));
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.csv()?.flush()
    }

    pub fn into_inner(mut self) -> std::io::Result<W> {
        self.take()
    }

    fn csv(&mut self) -> std::io::Result<&mut csv::Writer<W>> {
        self.inner
            .as_mut()
            .ok_or_else(|| std::io::Error::other("an earlier write failed"))
    }

    /// The underlying output, with everything written so far flushed to it.
    fn take(&mut self) -> std::io::Result<W> {
        let csv = self
            .inner
            .take()
            .ok_or_else(|| std::io::Error::other("an earlier write failed"))?;
        csv.into_inner()
            .map_err(|e| std::io::Error::other(e.error().to_string()))
    }
}

/// Rows written to a string.
pub fn to_string<R, I, S>(rows: R) -> String
where
    R: IntoIterator<Item = I>,
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut w = CsvWriter::new(Vec::new());
    for row in rows {
        w.row(row).expect("writing to memory cannot fail");
    }
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("the cells were UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_when_they_must_be() {
        assert_eq!(
            to_string([["Support", "a,b", "say \"hi\"", "two\nlines"]]),
            "Support,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn whatever_a_spreadsheet_would_run_is_defused() {
        for (cell, written) in [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "\"'\r=1\""),
            ("-12.5", "-12.5"),
            ("+15550100", "'+15550100"),
            ("-inf", "'-inf"),
            ("a=b", "a=b"),
            ("-", "-"),
            ("", "\"\""),
        ] {
            assert_eq!(to_string([[cell]]), format!("{written}\r\n"), "{cell:?}");
        }
    }

    #[test]
    fn sections_are_separated_by_a_blank_line() {
        let mut w = CsvWriter::new(Vec::new());
        w.row(["Title", "Subtitle"]).unwrap();
        w.blank_line().unwrap();
        w.row(["a", "b", "c"]).unwrap();
        let s = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(s, "Title,Subtitle\r\n\r\na,b,c\r\n");
    }
}
