//! One table model for every table the tool prints: columns (title,
//! alignment, a priority saying which to drop first in a narrow terminal,
//! an optional legend) and rows of cells, rendered as a box-drawn table for
//! terminals, GitHub-flavoured Markdown, or CSV.
//!
//! A cell holds lines separated by `\n` (the alerts of both sides, a
//! two-line title): the terminal stacks them, Markdown joins them with
//! `; ` (titles with a space), CSV keeps the cell whole.
//!
//! The box renderer streams: give it the widths (measured while the rows
//! were collected, [`Widths`]) and the rows one by one, so that a table of
//! millions of rows never has to be in memory at once (see
//! [`crate::output::listing`]).

use crate::text::markdown;
use std::io::{self, Write};
use unicode_width::UnicodeWidthStr;

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A column of a table.
#[derive(Debug, Clone)]
pub struct Column {
    /// The title; `\n` starts a second line in a terminal.
    pub title: &'static str,
    pub align: Align,
    /// 0: always shown; in a terminal too narrow for every column, the
    /// highest priority number goes first.
    pub drop_order: u8,
    /// A shorter form for a narrow terminal, tried before any column is
    /// dropped.
    pub short: Option<Short>,
    /// In a terminal, a column with the same value on every row moves into
    /// the line above the table, as this says it (`SNI server.test`).
    pub hoist: Option<fn(&str) -> String>,
    /// What the column means, for the legend under a terminal table.
    pub explain: Option<&'static str>,
}

/// How a column's title and cells are shortened, and the legend line that
/// explains it under the table.
#[derive(Debug, Clone, Copy)]
pub struct Short {
    pub title: &'static str,
    pub cell: fn(&str) -> String,
    pub legend: &'static str,
}

impl Column {
    pub const fn new(title: &'static str, align: Align, drop_order: u8) -> Column {
        Column {
            title,
            align,
            drop_order,
            short: None,
            hoist: None,
            explain: None,
        }
    }

    pub const fn with_short(mut self, short: Short) -> Column {
        self.short = Some(short);
        self
    }

    pub const fn hoisted_as(mut self, f: fn(&str) -> String) -> Column {
        self.hoist = Some(f);
        self
    }

    pub const fn explained(mut self, what: &'static str) -> Column {
        self.explain = Some(what);
        self
    }
}

/// Display width of a string: its widest line, as a terminal (and
/// comfy-table) counts columns (a CJK character two, a combining mark
/// none; `µ`, `→` and `…` one). Counted in chars, a file name or server
/// name in CJK got a column too narrow, and comfy-table wrapped it.
pub fn width(s: &str) -> usize {
    s.lines().map(display_width).max().unwrap_or(0)
}

/// `text` broken into lines of at most `width` columns at spaces (a word
/// longer than `width` stands on a line of its own, whole); existing line
/// breaks are kept.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0usize;
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let w = display_width(word);
            if line_w > 0 && line_w + 1 + w > width {
                lines.push(std::mem::take(&mut line));
                line_w = 0;
            }
            if line_w > 0 {
                line.push(' ');
                line_w += 1;
            }
            line.push_str(word);
            line_w += w;
        }
        lines.push(line);
    }
    lines
}

/// `text` wrapped to `width` (see [`wrap`]) when there is a width.
pub fn wrapped(text: &str, width: Option<usize>) -> String {
    match width {
        Some(w) => wrap(text, w).join("\n"),
        None => text.to_owned(),
    }
}

/// A cell safe for a terminal: control characters (an escape sequence in
/// a server name) become U+FFFD; `\n` separates lines.
pub fn clean(s: &str) -> String {
    if s.chars().any(|c| c.is_control() && c != '\n') {
        s.chars()
            .map(|c| {
                if c.is_control() && c != '\n' {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect()
    } else {
        s.to_owned()
    }
}

/// The widest cell of each column, titles included: as written, and
/// shortened (see [`Short`]).
#[derive(Debug, Clone)]
pub struct Widths {
    pub full: Vec<usize>,
    pub short: Vec<usize>,
    shorts: Vec<Option<Short>>,
    /// Rows added.
    rows: u64,
    /// The value of the first row, for the columns that can be hoisted;
    /// `varies` once another row differs.
    same: Vec<Option<String>>,
    varies: Vec<bool>,
    hoistable: Vec<bool>,
}

impl Widths {
    pub fn of_titles(columns: &[Column]) -> Widths {
        Widths {
            full: columns.iter().map(|c| width(c.title)).collect(),
            short: columns
                .iter()
                .map(|c| width(c.short.map_or(c.title, |s| s.title)))
                .collect(),
            shorts: columns.iter().map(|c| c.short).collect(),
            rows: 0,
            same: vec![None; columns.len()],
            varies: vec![false; columns.len()],
            hoistable: columns.iter().map(|c| c.hoist.is_some()).collect(),
        }
    }

    pub fn add_row<S: AsRef<str>>(&mut self, cells: &[S]) {
        self.rows += 1;
        for (i, c) in cells.iter().enumerate() {
            let c = c.as_ref();
            if self.hoistable.get(i).copied().unwrap_or(false)
                && !self.varies.get(i).copied().unwrap_or(true)
            {
                match self.same.get_mut(i) {
                    Some(Some(first)) if first != c => {
                        if let Some(v) = self.varies.get_mut(i) {
                            *v = true;
                        }
                    }
                    Some(slot @ None) => *slot = Some(c.to_owned()),
                    _ => {}
                }
            }
            let w = width(c);
            if let Some(f) = self.full.get_mut(i) {
                *f = (*f).max(w);
            }
            let sw = match self.shorts.get(i).copied().flatten() {
                Some(short) => width(&(short.cell)(c)),
                None => w,
            };
            if let Some(s) = self.short.get_mut(i) {
                *s = (*s).max(sw);
            }
        }
    }
}

/// What a terminal shows of a table: which columns, and whether in their
/// short form.
#[derive(Debug, Clone)]
pub struct Fit {
    pub shown: Vec<bool>,
    pub short: bool,
    /// Columns with one value on every row, said above the table instead.
    pub hoisted: Vec<bool>,
    /// The table is fitted to a terminal (legends and notes are written).
    pub fitted: bool,
}

/// Which columns a terminal of `max` columns can show whole: every column
/// as written if it fits, else the short forms, then the least important
/// columns go first until the table fits (never the ones with
/// `drop_order` 0). `None`: every column as written.
pub fn fit(columns: &[Column], widths: &Widths, max: Option<usize>) -> Fit {
    let mut shown = vec![true; columns.len()];
    let mut hoisted = vec![false; columns.len()];
    let Some(max) = max else {
        return Fit {
            shown,
            short: false,
            hoisted,
            fitted: false,
        };
    };
    if widths.rows >= 2 {
        for i in 0..columns.len() {
            let constant = widths.hoistable.get(i).copied().unwrap_or(false)
                && !widths.varies.get(i).copied().unwrap_or(true);
            if constant {
                hoisted[i] = true;
                shown[i] = false;
            }
        }
    }
    let total = |shown: &[bool], w: &[usize]| -> usize {
        let n = shown.iter().filter(|s| **s).count();
        let cells: usize = w
            .iter()
            .zip(shown)
            .filter(|(_, s)| **s)
            .map(|(w, _)| w + 2)
            .sum();
        cells + n + 1
    };
    if total(&shown, &widths.full) <= max {
        return Fit {
            shown,
            short: false,
            hoisted,
            fitted: true,
        };
    }
    let mut order: Vec<usize> = (0..columns.len())
        .filter(|&i| columns[i].drop_order > 0 && !hoisted[i])
        .collect();
    // highest drop_order first; among equals, the rightmost
    order.sort_by_key(|&i| {
        (
            std::cmp::Reverse(columns[i].drop_order),
            std::cmp::Reverse(i),
        )
    });
    for i in order {
        if total(&shown, &widths.short) <= max {
            break;
        }
        shown[i] = false;
    }
    Fit {
        shown,
        short: true,
        hoisted,
        fitted: true,
    }
}

/// The columns a line of text takes, as comfy-table measures it
/// (unicode-width; printable ASCII is a column a byte).
fn display_width(line: &str) -> usize {
    if line.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        line.len()
    } else {
        UnicodeWidthStr::width(line)
    }
}

/// Rows drawn by comfy-table together, at fixed column widths: a long
/// listing is drawn chunk by chunk, its memory bounded.
const CHUNK: usize = 1000;

/// A box-drawn table (comfy-table's `UTF8_FULL_CONDENSED`) written chunk
/// by chunk: the project decides the columns, their widths and forms;
/// comfy-table draws the header, the rules and the rows it must wrap, and
/// the rows whose cells' lines all fit are padded here exactly as it would
/// pad them (see [`BoxTable::draw`]).
pub struct BoxTable<'a> {
    columns: Vec<(&'a Column, usize)>,
    /// The shown columns' widths (without padding).
    widths: Vec<usize>,
    /// The titles, until drawn.
    header: Option<Vec<String>>,
    /// Rows not drawn yet (shown cells only).
    pending: Vec<Vec<String>>,
    /// Whether the top rule is out.
    started: bool,
    shown: Vec<bool>,
    short: bool,
    hoisted: Vec<bool>,
    fitted: bool,
    /// What the hoisted columns say (`All flows: TLS 1.3, SNI x`).
    above: Option<String>,
    /// Rows whose cells' lines all fit their columns are padded here, not
    /// by comfy-table (see [`Self::draw`]; off in a test that compares).
    fast: bool,
    /// The top and bottom rules, once drawn.
    rules: Option<(String, String)>,
}

impl<'a> BoxTable<'a> {
    /// `fit`: which columns to print, and how (see [`fit`]).
    pub fn new(columns: &'a [Column], widths: &Widths, fit: Fit) -> BoxTable<'a> {
        let w = if fit.short {
            &widths.short
        } else {
            &widths.full
        };
        let said: Vec<String> = columns
            .iter()
            .enumerate()
            .filter(|(i, _)| fit.hoisted.get(*i).copied().unwrap_or(false))
            .filter_map(|(i, c)| {
                let value = widths.same.get(i)?.as_deref()?;
                Some((c.hoist?)(value))
            })
            .collect();
        let shown_widths = w
            .iter()
            .zip(&fit.shown)
            .filter(|(_, s)| **s)
            .map(|(w, _)| *w)
            .collect();
        BoxTable {
            widths: shown_widths,
            header: None,
            pending: Vec::new(),
            started: false,
            columns: columns.iter().zip(w.iter().copied()).collect(),
            shown: fit.shown,
            short: fit.short,
            hoisted: fit.hoisted,
            fitted: fit.fitted,
            above: (!said.is_empty()).then(|| format!("All flows: {}", said.join(", "))),
            fast: true,
            rules: None,
        }
    }

    /// The line above the table that says the hoisted columns' values.
    pub fn above(&self) -> Option<&str> {
        self.above.as_deref()
    }

    /// The short form of column `i`, when this table uses it.
    fn short(&self, i: usize) -> Option<Short> {
        if !self.short || !self.shown.get(i).copied().unwrap_or(false) {
            return None;
        }
        self.columns.get(i).and_then(|(c, _)| c.short)
    }

    /// The shown cells of a row, in their short form where this table uses it.
    fn shown_cells<S: AsRef<str>>(&self, cells: &[S]) -> Vec<String> {
        cells
            .iter()
            .enumerate()
            .filter(|(i, _)| self.shown.get(*i).copied().unwrap_or(false))
            .map(|(i, c)| match self.short(i) {
                Some(s) => (s.cell)(c.as_ref()),
                None => c.as_ref().to_owned(),
            })
            .collect()
    }

    /// Draws `rows` (the header too when it is pending), every column at
    /// its fixed width so that chunks line up; `last`: the bottom rule
    /// follows them. [`Self::row`] keeps the last rows back for
    /// [`Self::foot`], so every chunk has rows or the header.
    ///
    /// comfy-table draws the header, the rules, and every row with a cell
    /// line wider than its column (alone: no rule runs between rows, so
    /// rows drawn apart join as if drawn together). A row whose cells'
    /// lines all fit is padded here, line by line, as comfy-table pads it:
    /// comfy-table's cell-by-cell formatting cost some 75,000 instructions
    /// a row in chunks of 1,000, ten times a JSON line. A test holds the
    /// two ways equal on random tables.
    fn draw(&mut self, out: &mut dyn Write, rows: Vec<Vec<String>>, last: bool) -> io::Result<()> {
        let header = self.header.take();
        if rows.is_empty() && header.is_none() {
            return Ok(());
        }
        let mut lines: Vec<String> = if self.fast && !rows.is_empty() {
            let (top, bottom) = self.rules();
            let mut lines = match header {
                // the header and its rule: what comfy-table draws above
                // the rows
                Some(h) => {
                    let mut head = self.comfy(Some(h), Vec::new());
                    head.pop();
                    head
                }
                None => vec![top],
            };
            let aligns: Vec<Align> = self.shown_aligns().collect();
            for r in rows {
                if !self.lines(&r, &aligns, &mut lines) {
                    // comfy-table's lines for the row alone, without its
                    // rules (no rule runs between rows)
                    let mut alone = self.comfy(None, vec![r]);
                    alone.pop();
                    lines.extend(alone.into_iter().skip(1));
                }
            }
            lines.push(bottom);
            lines
        } else {
            self.comfy(header, rows)
        };
        // one table across chunks: the top rule once, the bottom rule last
        if self.started && !lines.is_empty() {
            lines.remove(0);
        }
        if !last {
            lines.pop();
        }
        self.started = true;
        for l in lines {
            writeln!(out, "{l}")?;
        }
        Ok(())
    }

    /// The alignments of the shown columns.
    fn shown_aligns(&self) -> impl Iterator<Item = Align> + '_ {
        self.columns
            .iter()
            .zip(&self.shown)
            .filter(|(_, s)| **s)
            .map(|((c, _), _)| c.align)
    }

    /// comfy-table's drawing of a header and rows, line by line, from the
    /// top rule to the bottom one.
    fn comfy(&self, header: Option<Vec<String>>, rows: Vec<Vec<String>>) -> Vec<String> {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(comfy_table::ContentArrangement::Disabled);
        if let Some(h) = header {
            t.set_header(h);
        }
        for r in rows {
            t.add_row(r);
        }
        for ((c, w), align) in t
            .column_iter_mut()
            .zip(&self.widths)
            .zip(self.shown_aligns())
        {
            let w = u16::try_from(w + 2).unwrap_or(u16::MAX);
            c.set_constraint(comfy_table::ColumnConstraint::Absolute(
                comfy_table::Width::Fixed(w),
            ));
            if align == Align::Right {
                c.set_cell_alignment(comfy_table::CellAlignment::Right);
            }
        }
        t.to_string().lines().map(str::to_owned).collect()
    }

    /// The top and bottom rules at these widths, as comfy-table draws them
    /// (around a row of empty cells); made once.
    fn rules(&mut self) -> (String, String) {
        if self.rules.is_none() {
            let empty = vec![String::new(); self.widths.len()];
            let lines = self.comfy(None, vec![empty]);
            self.rules = Some((
                lines.first().cloned().unwrap_or_default(),
                lines.last().cloned().unwrap_or_default(),
            ));
        }
        self.rules.clone().unwrap_or_default()
    }

    /// One row's lines as comfy-table's `UTF8_FULL_CONDENSED` draws them
    /// when every line of every cell fits its column: line k holds each
    /// cell's k-th line (or nothing) padded to the column's width on the
    /// side its alignment leaves free, a space either side, `┆` between
    /// cells and `│` at the ends. False (and nothing added) when a shown
    /// column has no cell or a cell's line is wider than its column (which
    /// comfy-table would wrap).
    fn lines(&self, row: &[String], aligns: &[Align], out: &mut Vec<String>) -> bool {
        if row.len() != self.widths.len() {
            return false;
        }
        let mut height = 1;
        for (cell, &w) in row.iter().zip(&self.widths) {
            let mut n = 0;
            for l in cell.split('\n') {
                if display_width(l) > w {
                    return false;
                }
                n += 1;
            }
            height = height.max(n);
        }
        let room = self.widths.iter().sum::<usize>() * 2 + 32;
        for k in 0..height {
            let mut line = String::with_capacity(room);
            line.push('│');
            for (i, ((cell, &w), align)) in row.iter().zip(&self.widths).zip(aligns).enumerate() {
                let text = if height == 1 {
                    cell.as_str()
                } else {
                    cell.split('\n').nth(k).unwrap_or("")
                };
                let pad = w.saturating_sub(display_width(text));
                if i > 0 {
                    line.push('┆');
                }
                line.push(' ');
                if *align == Align::Right {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                line.push_str(text);
                if *align == Align::Left {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                line.push(' ');
            }
            line.push('│');
            out.push(line);
        }
        true
    }

    /// The titles, drawn with the first rows.
    pub fn head(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        let titles: Vec<&str> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (c, _))| self.short(i).map_or(c.title, |s| s.title))
            .collect();
        self.header = Some(
            titles
                .iter()
                .zip(&self.shown)
                .filter(|(_, s)| **s)
                .map(|(t, _)| (*t).to_owned())
                .collect(),
        );
        Ok(())
    }

    /// A row; drawn with the others of its chunk.
    pub fn row<S: AsRef<str>>(&mut self, out: &mut dyn Write, cells: &[S]) -> io::Result<()> {
        let cells = self.shown_cells(cells);
        self.pending.push(cells);
        // a full chunk is drawn once a row follows it: the bottom rule
        // always comes with rows
        if self.pending.len() > CHUNK {
            let rest = self.pending.split_off(CHUNK);
            let chunk = std::mem::replace(&mut self.pending, rest);
            self.draw(out, chunk, false)?;
        }
        Ok(())
    }

    /// The rows not yet drawn and the bottom rule.
    pub fn foot(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let rows = std::mem::take(&mut self.pending);
        self.draw(out, rows, true)
    }

    /// The legends of the short forms used, then which columns are not
    /// shown: `Columns not shown (terminal too narrow; --wide shows all):
    /// alerts, closer`.
    pub fn notes(&self) -> Vec<String> {
        let mut legends: Vec<&str> = Vec::new();
        for i in 0..self.columns.len() {
            if let Some(s) = self.short(i) {
                if !legends.contains(&s.legend) {
                    legends.push(s.legend);
                }
            }
        }
        if self.fitted {
            for ((c, _), shown) in self.columns.iter().zip(&self.shown) {
                if let (Some(what), true) = (c.explain, shown) {
                    legends.push(what);
                }
            }
        }
        let mut notes = Vec::new();
        if !legends.is_empty() {
            notes.push(format!("Legend: {}", legends.join("; ")));
        }
        notes.extend(self.hidden_note());
        notes
    }

    fn hidden_note(&self) -> Option<String> {
        let hidden: Vec<String> = self
            .columns
            .iter()
            .zip(&self.shown)
            .zip(&self.hoisted)
            .filter(|((_, s), h)| !**s && !**h)
            .map(|(((c, _), _), _)| c.title.replace('\n', " "))
            .collect();
        (!hidden.is_empty()).then(|| {
            format!(
                "Columns not shown (terminal too narrow; --wide shows all): {}",
                hidden.join(", ")
            )
        })
    }
}

/// The Markdown header line and alignment row.
pub fn md_head(out: &mut dyn Write, columns: &[Column]) -> io::Result<()> {
    let mut s = String::from("|");
    for c in columns {
        s.push(' ');
        let t = markdown::escape(&c.title.replace('\n', " "));
        s.push_str(if t.is_empty() { " " } else { &t });
        s.push_str(" |");
    }
    s.push_str("\n|");
    for c in columns {
        s.push_str(match c.align {
            Align::Left => " --- |",
            Align::Right => " ---: |",
        });
    }
    writeln!(out, "{s}")
}

/// A Markdown row: each cell escaped, its lines joined by `; `.
pub fn md_row<S: AsRef<str>>(
    out: &mut dyn Write,
    columns: &[Column],
    cells: &[S],
) -> io::Result<()> {
    let mut s = String::with_capacity(256);
    s.push('|');
    for i in 0..columns.len() {
        let cell = cells.get(i).map_or("", |c| c.as_ref());
        s.push(' ');
        if cell.is_empty() {
            s.push(' ');
        }
        for (n, line) in cell.split('\n').enumerate() {
            if n > 0 {
                s.push_str("; ");
            }
            markdown::escape_into(&mut s, line);
        }
        s.push_str(" |");
    }
    s.push('\n');
    out.write_all(s.as_bytes())
}

/// A whole table (titles and rows in memory): the small tables (groups,
/// endings).
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// For a terminal of `max` columns (`None`: as wide as it takes).
    pub fn to_terminal(&self, out: &mut dyn Write, max: Option<usize>) -> io::Result<()> {
        self.terminal(out, max, true)
    }

    /// `fast`: rows that fit on a line are padded by [`BoxTable`], not
    /// comfy-table (a test compares the two).
    fn terminal(&self, out: &mut dyn Write, max: Option<usize>, fast: bool) -> io::Result<()> {
        let mut widths = Widths::of_titles(&self.columns);
        for r in &self.rows {
            widths.add_row(r);
        }
        let shown = fit(&self.columns, &widths, max);
        let mut t = BoxTable::new(&self.columns, &widths, shown);
        t.fast = fast;
        if let Some(above) = t.above() {
            writeln!(out, "{}", wrapped(above, max))?;
        }
        t.head(out)?;
        for r in &self.rows {
            t.row(out, r)?;
        }
        t.foot(out)?;
        for note in t.notes() {
            writeln!(out, "{}", wrapped(&note, max))?;
        }
        Ok(())
    }

    pub fn to_markdown(&self, out: &mut dyn Write) -> io::Result<()> {
        md_head(out, &self.columns)?;
        for r in &self.rows {
            md_row(out, &self.columns, r)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<Column> {
        vec![
            Column::new("#", Align::Right, 0),
            Column::new("name", Align::Left, 0),
            Column::new("idle\nbefore", Align::Right, 2),
            Column::new("alerts", Align::Left, 1),
        ]
    }

    fn table() -> Table {
        Table {
            columns: cols(),
            rows: vec![
                vec!["1".into(), "a".into(), "10ms".into(), "c: x\ns: y".into()],
                vec!["12".into(), "bbb".into(), "-".into(), "".into()],
            ],
        }
    }

    proptest::proptest! {
        /// Rows padded by BoxTable come out as comfy-table draws them:
        /// random columns and cells (wide, combining and non-ASCII
        /// characters, tabs, line breaks, empty cells), in a terminal of
        /// any width or none.
        #[test]
        fn rows_padded_here_are_comfy_tables(
            aligns in proptest::collection::vec(proptest::bool::ANY, 1..6),
            cells in proptest::collection::vec(
                proptest::collection::vec("[a-z 0-9:é日🦀\u{301}\t\n-]{0,14}", 6), 0..40),
            max in proptest::option::of(20usize..120),
        ) {
            const TITLES: [&str; 6] = ["#", "client", "idle\nbefore", "alerts", "SNI", "x"];
            let columns: Vec<Column> = aligns
                .iter()
                .zip(TITLES)
                .enumerate()
                .map(|(i, (&right, t))| {
                    let align = if right { Align::Right } else { Align::Left };
                    Column::new(t, align, (i % 3) as u8)
                })
                .collect();
            let rows: Vec<Vec<String>> = cells
                .into_iter()
                .map(|mut r| {
                    r.truncate(columns.len());
                    r
                })
                .collect();
            let t = Table { columns, rows };
            let (mut fast, mut comfy) = (Vec::new(), Vec::new());
            proptest::prop_assert!(t.terminal(&mut fast, max, true).is_ok());
            proptest::prop_assert!(t.terminal(&mut comfy, max, false).is_ok());
            proptest::prop_assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&comfy)
            );
        }
    }

    /// A cell of wide characters (a file or server name in CJK) gets a
    /// column as wide as it shows, not as many chars as it has: it stays
    /// on one line, and every line of the table is as wide as the others.
    #[test]
    fn wide_characters_get_columns_as_wide_as_they_show() {
        let t = Table {
            columns: cols(),
            rows: vec![
                vec!["1".into(), "日本語.test".into(), "-".into(), String::new()],
                vec!["2".into(), "a".into(), "-".into(), "é́".into()],
            ],
        };
        let mut out = Vec::new();
        assert!(t.to_terminal(&mut out, None).is_ok());
        let text = String::from_utf8_lossy(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7, "{text}");
        assert!(lines.iter().any(|l| l.contains("日本語.test")), "{text}");
        let widths: Vec<usize> = lines.iter().map(|l| display_width(l)).collect();
        assert!(widths.iter().all(|&w| w == widths[0]), "{text}");
        assert_eq!(wrap("日本語 日本語", 7), ["日本語", "日本語"]);
    }

    #[test]
    fn terminal_tables_stack_lines_and_align_numbers_right() {
        let mut out = Vec::new();
        table().to_terminal(&mut out, None).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        assert_eq!(
            text,
            "┌────┬──────┬────────┬────────┐\n\
             │  # ┆ name ┆   idle ┆ alerts │\n\
             │    ┆      ┆ before ┆        │\n\
             ╞════╪══════╪════════╪════════╡\n\
             │  1 ┆ a    ┆   10ms ┆ c: x   │\n\
             │    ┆      ┆        ┆ s: y   │\n\
             │ 12 ┆ bbb  ┆      - ┆        │\n\
             └────┴──────┴────────┴────────┘\n"
        );
    }

    #[test]
    fn a_long_table_is_drawn_in_chunks_that_join_into_one() {
        // a whole number of chunks too: its bottom rule comes with the rows
        for n in [CHUNK, 2 * CHUNK] {
            let rows: Vec<Vec<String>> = (0..n)
                .map(|i| {
                    vec![
                        (i + 1).to_string(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ]
                })
                .collect();
            let mut out = Vec::new();
            Table {
                columns: cols(),
                rows,
            }
            .to_terminal(&mut out, None)
            .unwrap_or_default();
            let text = String::from_utf8_lossy(&out);
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), n + 5);
            assert_eq!(lines.iter().filter(|l| l.starts_with('└')).count(), 1);
            assert!(lines.last().is_some_and(|l| l.starts_with('└')));
        }
        let rows: Vec<Vec<String>> = (0..2 * CHUNK + 7)
            .map(|i| {
                vec![
                    (i + 1).to_string(),
                    "x".repeat(i % 5),
                    format!("{i}ms"),
                    String::new(),
                ]
            })
            .collect();
        let t = Table {
            columns: cols(),
            rows,
        };
        let mut out = Vec::new();
        t.to_terminal(&mut out, None).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        let lines: Vec<&str> = text.lines().collect();
        // one top rule, one header rule, one bottom rule, a line per row
        assert_eq!(lines.len(), 2 * CHUNK + 7 + 5, "{}", &text[..400]);
        assert_eq!(lines.iter().filter(|l| l.starts_with('┌')).count(), 1);
        assert_eq!(lines.iter().filter(|l| l.starts_with('╞')).count(), 1);
        assert_eq!(lines.iter().filter(|l| l.starts_with('└')).count(), 1);
        assert!(lines.last().is_some_and(|l| l.starts_with('└')));
        // every line as wide as the others, rows in order
        let w = lines.first().map_or(0, |l| l.chars().count());
        assert!(lines.iter().all(|l| l.chars().count() == w));
        assert!(lines.get(4).is_some_and(|l| l.starts_with("│    1 ")));
        assert!(lines
            .get(4 + 2 * CHUNK + 6)
            .is_some_and(|l| l.starts_with(&format!("│ {} ", 2 * CHUNK + 7))));
    }

    #[test]
    fn a_table_without_rows_has_its_header_and_rules() {
        let t = Table {
            columns: cols(),
            rows: Vec::new(),
        };
        let mut out = Vec::new();
        t.to_terminal(&mut out, None).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&out),
            "┌───┬──────┬────────┬────────┐\n\
             │ # ┆ name ┆   idle ┆ alerts │\n\
             │   ┆      ┆ before ┆        │\n\
             ╞═══╪══════╪════════╪════════╡\n\
             └───┴──────┴────────┴────────┘\n"
        );
    }

    #[test]
    fn narrow_terminals_drop_columns_by_priority_and_say_so() {
        let mut out = Vec::new();
        // 32 fits all; 25 drops "idle before" (drop_order 2) first
        table().to_terminal(&mut out, Some(25)).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        let boxed = |l: &&str| l.starts_with(['┌', '│', '╞', '└']);
        assert!(
            text.lines().filter(boxed).all(|l| l.chars().count() <= 25),
            "{text}"
        );
        assert!(!text.lines().nth(1).unwrap_or_default().contains("idle"));
        assert!(text.contains("alerts"));
        // the note is wrapped at words to the width
        assert!(text.lines().all(|l| l.chars().count() <= 25), "{text}");
        assert!(
            text.replace('\n', " ")
                .ends_with("--wide shows all): idle before "),
            "{text}"
        );
        assert!(text.starts_with("┌────┬──────┬────────┐\n│  # ┆ name ┆ alerts │\n╞"));
        // never the columns with drop order 0, even when too narrow
        let mut out = Vec::new();
        table().to_terminal(&mut out, Some(5)).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("name") && text.contains("bbb"));
    }

    #[test]
    fn wrap_breaks_at_spaces_only() {
        assert_eq!(
            wrap("Columns not shown: close_notify client / server", 20),
            ["Columns not shown:", "close_notify client", "/ server"]
        );
        // a word longer than the width stands whole on its line
        assert_eq!(
            wrap("a 127.0.0.1:53760 b", 5),
            ["a", "127.0.0.1:53760", "b"]
        );
        assert_eq!(wrap("one\ntwo", 80), ["one", "two"]);
    }

    #[test]
    fn a_column_with_one_value_on_every_row_is_said_above_in_a_terminal() {
        let mut t = table();
        t.columns[1] = Column::new("name", Align::Left, 0).hoisted_as(|c| format!("name {c}"));
        t.columns[3] = Column::new("alerts", Align::Left, 1)
            .hoisted_as(|c| format!("alerts {c}"))
            .explained("alerts = what was sent");
        for r in &mut t.rows {
            r[1] = "same".into();
        }
        let mut out = Vec::new();
        t.to_terminal(&mut out, Some(80)).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("All flows: name same\n┌"), "{text}");
        assert!(!text.contains("┆ name"), "{text}");
        // the alerts differ: shown, and explained under the table
        assert!(text.contains("┆ alerts"), "{text}");
        assert!(text.ends_with("Legend: alerts = what was sent\n"), "{text}");
        // not in a pipe (no width): the full table
        let mut out = Vec::new();
        t.to_terminal(&mut out, None).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("┌") && text.contains("┆ name"), "{text}");
        assert!(!text.contains("Legend"));
    }

    #[test]
    fn markdown_of_the_model() {
        let mut out = Vec::new();
        table().to_markdown(&mut out).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&out),
            "| \\# | name | idle before | alerts |\n| ---: | --- | ---: | --- |\n\
             | 1 | a | 10ms | c: x; s: y |\n| 12 | bbb | - |   |\n"
        );
    }
}
