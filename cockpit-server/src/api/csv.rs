//! The one CSV writer of every export (cases, the audit trail): RFC 4180 quoting, and
//! every text a spreadsheet would run as a formula neutralised. Texts in exports come
//! from reporters, hotline operators and failed logins' usernames, so any of them may be
//! an attacker's `=HYPERLINK(...)`.

/// Rows of CSV, written field by field.
pub(crate) struct Csv {
    out: String,
    row_started: bool,
}

impl Csv {
    /// An empty document; with `bom`, a UTF-8 byte-order mark first, so that Excel reads
    /// the Chinese text.
    pub(crate) fn new(bom: bool, capacity: usize) -> Csv {
        let mut out = String::with_capacity(capacity);
        if bom {
            out.push('\u{feff}');
        }
        Csv { out, row_started: false }
    }

    /// A text from anywhere: a text that starts as a formula would (`=`, `+`, `-`, `@`, a
    /// tab or a carriage return) gets a `'` in front, then it is quoted where needed.
    pub(crate) fn text(&mut self, text: &str) -> &mut Csv {
        if text.starts_with(['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠']) {
            self.write(&format!("'{text}"))
        } else {
            self.write(text)
        }
    }

    /// A value the server wrote itself (a number, a time, a hash), quoted where needed
    /// and never altered: a negative number stays a number.
    pub(crate) fn value(&mut self, value: &str) -> &mut Csv {
        self.write(value)
    }

    /// Ends the row (CRLF, as RFC 4180 says).
    pub(crate) fn end_row(&mut self) {
        self.out.push_str("\r\n");
        self.row_started = false;
    }

    /// The document.
    pub(crate) fn finish(self) -> String {
        self.out
    }

    fn write(&mut self, field: &str) -> &mut Csv {
        if self.row_started {
            self.out.push(',');
        }
        self.row_started = true;
        if field.contains([',', '"', '\r', '\n']) {
            self.out.push('"');
            self.out.push_str(&field.replace('"', "\"\""));
            self.out.push('"');
        } else {
            self.out.push_str(field);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::Csv;

    #[test]
    fn formulas_are_neutralised_and_fields_quoted() {
        let mut csv = Csv::new(false, 0);
        csv.text("=HYPERLINK(\"http://x\",\"y\")").text("@SUM(A1)").text("+1").text("-2").text("＝1").text("a,b");
        csv.value("-3").text("普通文字");
        csv.end_row();
        assert_eq!(
            csv.finish(),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'@SUM(A1),'+1,'-2,'＝1,\"a,b\",-3,普通文字\r\n"
        );
    }
}
