//! The rows of a table printed in order of first packet, kept compact and
//! bounded: flows end in another order than they began, so the table and
//! Markdown sort before printing. A row is only its printed cells (one
//! string) and its place; past [`SPILL_ROWS`] rows in memory they are
//! sorted and written to a temporary file as one sorted run, and the runs
//! are merged at the end (an external merge sort). Memory is then bounded
//! by the threshold, whatever the number of flows; the column widths are
//! measured as rows arrive, so the merged rows print straight out.
//!
//! Flows the filters left out are kept as bare places (no cells), so that
//! each printed row knows its number among all the flows of the run.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// Rows held in memory before a sorted run goes to a temporary file.
pub const SPILL_ROWS: usize = 10_000;

/// Separates the cells of a row (cells never hold control characters:
/// [`crate::output::table::clean`]).
const SEP: char = '\u{1f}';

/// A row: its place (input, first frame) and its cells; `None` for a flow
/// that is counted but not shown.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub key: (usize, u64),
    text: Option<Box<str>>,
}

impl Row {
    pub fn shown(key: (usize, u64), cells: &[String]) -> Row {
        let mut text = String::with_capacity(cells.iter().map(|c| c.len() + 1).sum());
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                text.push(SEP);
            }
            text.push_str(c);
        }
        Row {
            key,
            text: Some(text.into_boxed_str()),
        }
    }

    pub fn counted(key: (usize, u64)) -> Row {
        Row { key, text: None }
    }

    /// The cells, or `None` for a counted-only flow.
    pub fn cells(&self) -> Option<impl Iterator<Item = &str>> {
        self.text.as_deref().map(|t| t.split(SEP))
    }

    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&(self.key.0 as u64).to_le_bytes())?;
        out.write_all(&self.key.1.to_le_bytes())?;
        match &self.text {
            None => out.write_all(&u32::MAX.to_le_bytes()),
            Some(t) => {
                let len = u32::try_from(t.len())
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "row too long"))?;
                out.write_all(&len.to_le_bytes())?;
                out.write_all(t.as_bytes())
            }
        }
    }

    fn read_from(r: &mut impl Read) -> io::Result<Option<Row>> {
        let mut head = [0u8; 20];
        match r.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&head[i..i + 8]);
            u64::from_le_bytes(b)
        };
        let key = (usize::try_from(word(0)).unwrap_or(usize::MAX), word(8));
        let mut l = [0u8; 4];
        l.copy_from_slice(&head[16..20]);
        let len = u32::from_le_bytes(l);
        if len == u32::MAX {
            return Ok(Some(Row::counted(key)));
        }
        let mut buf = vec![0u8; len as usize];
        r.read_exact(&mut buf)?;
        let text = String::from_utf8(buf)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "temporary rows damaged"))?;
        Ok(Some(Row {
            key,
            text: Some(text.into_boxed_str()),
        }))
    }
}

/// Rows sorted by their place, in memory and in sorted runs on disk.
#[derive(Debug, Default)]
pub struct SortedRows {
    mem: Vec<Row>,
    runs: Vec<File>,
    spill_at: usize,
}

impl SortedRows {
    pub fn new() -> SortedRows {
        SortedRows::with_threshold(SPILL_ROWS)
    }

    pub fn with_threshold(spill_at: usize) -> SortedRows {
        SortedRows {
            mem: Vec::new(),
            runs: Vec::new(),
            spill_at: spill_at.max(1),
        }
    }

    pub fn push(&mut self, row: Row) -> io::Result<()> {
        self.mem.push(row);
        if self.mem.len() >= self.spill_at {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.mem.sort_unstable();
        let mut file = temp_file()?;
        {
            let mut w = BufWriter::new(&mut file);
            for r in self.mem.drain(..) {
                r.write_to(&mut w)?;
            }
            w.flush()?;
        }
        file.seek(SeekFrom::Start(0))?;
        self.runs.push(file);
        // give the memory back: the next run starts small again
        self.mem = Vec::new();
        Ok(())
    }

    /// Every row in order of place; `each` gets its number among all
    /// rows (1-based) and the row.
    pub fn drain(&mut self, mut each: impl FnMut(u64, &Row) -> io::Result<()>) -> io::Result<()> {
        self.mem.sort_unstable();
        let mut readers: Vec<BufReader<File>> = self.runs.drain(..).map(BufReader::new).collect();
        let mut mem = std::mem::take(&mut self.mem).into_iter();
        // a heap of the next row of each source (the memory run is source
        // readers.len())
        let mut heap: BinaryHeap<Reverse<(Row, usize)>> = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(row) = Row::read_from(r)? {
                heap.push(Reverse((row, i)));
            }
        }
        let mem_source = readers.len();
        if let Some(row) = mem.next() {
            heap.push(Reverse((row, mem_source)));
        }
        let mut n = 0u64;
        while let Some(Reverse((row, source))) = heap.pop() {
            n += 1;
            each(n, &row)?;
            let next = match readers.get_mut(source) {
                Some(r) => Row::read_from(r)?,
                None => mem.next(),
            };
            if let Some(next) = next {
                heap.push(Reverse((next, source)));
            }
        }
        Ok(())
    }
}

/// A temporary file that is gone from the directory as soon as it is open
/// (its space is freed when it is closed, even on a crash).
fn temp_file() -> io::Result<File> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    let path = dir.join(format!(
        "tlsclose-{}-{}.rows",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let _ = std::fs::remove_file(&path);
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_in_order_with_numbers_among_all_flows() {
        for threshold in [1, 3, 1000] {
            let mut rows = SortedRows::with_threshold(threshold);
            // flows end out of order; every third is filtered out
            let mut state = 7u64;
            let mut keys = Vec::new();
            for _ in 0..50 {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                keys.push(((state >> 60) as usize % 2, state >> 40));
            }
            for (i, &k) in keys.iter().enumerate() {
                let row = if i % 3 == 0 {
                    Row::counted(k)
                } else {
                    Row::shown(k, &[format!("{}", k.1), "x\ny".into(), String::new()])
                };
                rows.push(row).unwrap_or_default();
            }
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            let mut seen = Vec::new();
            rows.drain(|n, row| {
                assert_eq!(sorted.get(n as usize - 1), Some(&row.key));
                if let Some(cells) = row.cells() {
                    let cells: Vec<&str> = cells.collect();
                    assert_eq!(cells, [row.key.1.to_string().as_str(), "x\ny", ""]);
                }
                seen.push(row.key);
                Ok(())
            })
            .unwrap_or_default();
            assert_eq!(seen, sorted, "threshold {threshold}");
        }
    }
}
