//! The tables the bench prints: Markdown, so a run's output pastes into `docs/benchmarks.md`
//! as it is.

use std::fmt;

/// One printed table: a numbered title, a caption that says what was measured and how, a header
/// and rows of already formatted cells.
pub struct Table {
    pub title: String,
    pub caption: Vec<String>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with `header` as its columns.
    pub fn new(title: impl Into<String>, header: &[&str]) -> Self {
        Self {
            title: title.into(),
            caption: Vec::new(),
            header: header.iter().map(|cell| cell.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a line to the caption.
    pub fn note(&mut self, line: impl Into<String>) -> &mut Self {
        self.caption.push(line.into());
        self
    }

    /// Adds a row; it must have as many cells as the header.
    pub fn row(&mut self, cells: Vec<String>) -> &mut Self {
        assert_eq!(
            cells.len(),
            self.header.len(),
            "a row of table {:?} has the wrong number of cells",
            self.title
        );
        self.rows.push(cells);
        self
    }

    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self
            .header
            .iter()
            .map(|cell| cell.chars().count())
            .collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        widths
    }
}

fn write_row(f: &mut fmt::Formatter<'_>, cells: &[String], widths: &[usize]) -> fmt::Result {
    write!(f, "|")?;
    for (cell, width) in cells.iter().zip(widths) {
        write!(f, " {cell:<width$} |")?;
    }
    writeln!(f)
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "### {}", self.title)?;
        writeln!(f)?;
        for line in &self.caption {
            writeln!(f, "{line}")?;
        }
        if !self.caption.is_empty() {
            writeln!(f)?;
        }
        let widths = self.widths();
        write_row(f, &self.header, &widths)?;
        let rules: Vec<String> = widths.iter().map(|width| "-".repeat(*width)).collect();
        write_row(f, &rules, &widths)?;
        for row in &self.rows {
            write_row(f, row, &widths)?;
        }
        Ok(())
    }
}

/// A whole number with thousands separators: `1234567` → `1,234,567`.
pub fn grouped(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A rate with as many decimals as make sense for its size.
pub fn rate(per_second: f64) -> String {
    if per_second >= 100.0 {
        grouped(per_second.round() as u64)
    } else {
        format!("{per_second:.1}")
    }
}

/// A ratio such as `0.42x`.
pub fn ratio(value: f64) -> String {
    format!("{value:.2}x")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }

    #[test]
    fn prints_markdown() {
        let mut table = Table::new("1. T", &["a", "bb"]);
        table.note("caption").row(vec!["x".into(), "1".into()]);
        let text = table.to_string();
        assert!(text.contains("| a | bb |"), "{text}");
        assert!(text.contains("| - | -- |"), "{text}");
        assert!(text.contains("| x | 1  |"), "{text}");
    }
}
