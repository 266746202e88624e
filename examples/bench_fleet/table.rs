//! The Markdown table the benchmark prints.

use crate::*;

pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) what: String,
    pub(crate) measured: String,
    pub(crate) bound: String,
    pub(crate) ratio: Option<f64>,
    pub(crate) result: String,
}

impl Row {
    pub(crate) fn new(
        id: &str,
        what: String,
        measured: String,
        bound: String,
        ratio: Option<f64>,
        result: String,
    ) -> Row {
        Row {
            id: id.to_owned(),
            what,
            measured,
            bound,
            ratio,
            result,
        }
    }
}

pub(crate) fn verdict(met: bool, target: &str) -> String {
    if met {
        format!("met ({target})")
    } else {
        format!("MISSED ({target})")
    }
}

pub(crate) fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

#[derive(Default)]
pub(crate) struct Table {
    pub(crate) rows: Vec<Row>,
    pub(crate) notes: Vec<String>,
}

impl Table {
    pub(crate) fn extend(&mut self, rows: Vec<Row>) {
        self.rows.extend(rows);
    }

    pub(crate) fn sort(&mut self) {
        self.rows.sort_by(|a, b| a.id.cmp(&b.id));
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("| # | measurement | measured | lower bound / target | ratio | result |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for row in &self.rows {
            let ratio = row.ratio.map_or("-".to_owned(), |r| format!("{r:.2}"));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                row.id, row.what, row.measured, row.bound, ratio, row.result
            );
        }
        for note in &self.notes {
            let _ = writeln!(out, "\n{note}");
        }
        out
    }
}
