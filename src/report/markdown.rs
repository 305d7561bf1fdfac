//! GitHub-flavoured markdown building blocks.

/// A markdown table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new<S: AsRef<str>>(header: &[S]) -> Self {
        Table {
            header: header.iter().map(|s| s.as_ref().to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (cells beyond the header are dropped, missing ones left empty).
    pub fn row(&mut self, cells: Vec<String>) -> &mut Self {
        self.rows.push(cells);
        self
    }

    /// Renders the table, first column left-aligned, the others right-aligned.
    pub fn render(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let n = self.header.len();
        let mut out = String::new();
        out.push_str(&format!(
            "| {} |\n",
            self.header
                .iter()
                .map(|h| esc(h))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
        let align: Vec<&str> = (0..n)
            .map(|i| if i == 0 { ":---" } else { "---:" })
            .collect();
        out.push_str(&format!("|{}|\n", align.join("|")));
        for r in &self.rows {
            let cells: Vec<String> = (0..n)
                .map(|i| r.get(i).map_or(String::new(), |c| esc(c)))
                .collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }
}

/// A markdown bullet list of `items`, set off by blank lines; empty when
/// there are none.
pub fn bullets<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let list: String = items
        .iter()
        .map(|i| format!("- {}\n", i.as_ref()))
        .collect();
    format!("\n{list}\n")
}

/// A number for a table: integers without decimals, others with up to four
/// significant decimals, `–` for NaN.
pub fn num(x: f64) -> String {
    let s = format_num(x);
    // A tiny negative number rounds to "-0.0000"; show it as zero.
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

fn format_num(x: f64) -> String {
    if x.is_nan() {
        "–".into()
    } else if x == x.trunc() && x.abs() < 1e15 {
        format!("{x:.0}")
    } else if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else if x.abs() >= 1.0 {
        format!("{x:.3}")
    } else {
        format!("{x:.4}")
    }
}

/// A quantile probability as a column header: 0 → `min`, 1 → `max`, 0.05 → `p5`.
pub fn quantile_label(q: f64) -> String {
    if q == 0.0 {
        "min".into()
    } else if q == 1.0 {
        "max".into()
    } else if q == 0.5 {
        "median".into()
    } else {
        format!("p{}", num(q * 100.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_table() {
        let mut t = Table::new(&["a", "b"]);
        t.row(vec!["x|y".into(), num(0.5)]);
        assert_eq!(t.render(), "| a | b |\n|:---|---:|\n| x\\|y | 0.5000 |\n");
        assert_eq!(quantile_label(0.05), "p5");
        assert_eq!(num(-1e-9), "0.0000");
        assert_eq!(num(-1.0), "-1");
    }
}
