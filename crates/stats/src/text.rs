//! Plain-text tables for human summaries.

/// A plain text table: the first column left-aligned, the others right-aligned, a header line
/// and a rule under it; trailing spaces trimmed.
///
/// ```
/// let t = causalkit_stats::text::plain_table(&["metric", "p"], &[vec!["aht".into(), "0.01".into()]]);
/// assert_eq!(t, "metric     p\n------------\naht     0.01\n");
/// ```
pub fn plain_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let fmt_row = |cells: &[String]| -> String {
        let mut line = String::new();
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            if i == 0 {
                line += &format!("{c:<w$}");
            } else {
                line += &format!("  {c:>w$}");
            }
        }
        line.trim_end().to_string() + "\n"
    };
    let head: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut s = fmt_row(&head);
    s += &"-".repeat(widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1));
    s += "\n";
    for r in rows {
        s += &fmt_row(r);
    }
    s
}
