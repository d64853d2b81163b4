//! The rows of a table printed in order of first packet, kept compact and
//! bounded: flows end in another order than they began, so the table and
//! Markdown sort before printing. A row is only its printed cells (one
//! string) and its place; past [`SPILL_ROWS`] rows in memory they are
//! sorted and written to a temporary file as one sorted run, and the runs
//! are merged at the end (an external merge sort). Memory is then bounded
//! by the threshold, whatever the number of flows; the column widths are
//! measured as rows arrive, so the merged rows print straight out.
//!

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// Rows held in memory before a sorted run goes to a temporary file.
pub const SPILL_ROWS: usize = 10_000;

/// Separates the cells of a row (cells never hold control characters:
/// [`crate::output::table::clean`]).
const SEP: char = '\u{1f}';

/// A row: its place (the flow's id, its first frame in the run) and its
/// cells.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub key: u64,
    text: Box<str>,
}

impl Row {
    pub fn new(key: u64, cells: &[String]) -> Row {
        let mut text = String::with_capacity(cells.iter().map(|c| c.len() + 1).sum());
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                text.push(SEP);
            }
            text.push_str(c);
        }
        Row {
            key,
            text: text.into_boxed_str(),
        }
    }

    pub fn cells(&self) -> impl Iterator<Item = &str> {
        self.text.split(SEP)
    }

    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&self.key.to_le_bytes())?;
        let len = u32::try_from(self.text.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "row too long"))?;
        out.write_all(&len.to_le_bytes())?;
        out.write_all(self.text.as_bytes())
    }

    fn read_from(r: &mut impl Read) -> io::Result<Option<Row>> {
        let mut key = [0u8; 8];
        match r.read_exact(&mut key) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let mut len = [0u8; 4];
        r.read_exact(&mut len)?;
        let mut buf = vec![0u8; u32::from_le_bytes(len) as usize];
        r.read_exact(&mut buf)?;
        let text = String::from_utf8(buf)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "temporary rows damaged"))?;
        Ok(Some(Row {
            key: u64::from_le_bytes(key),
            text: text.into_boxed_str(),
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

    /// Every row in order of place.
    pub fn drain(&mut self, mut each: impl FnMut(&Row) -> io::Result<()>) -> io::Result<()> {
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
        while let Some(Reverse((row, source))) = heap.pop() {
            each(&row)?;
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
    fn runs_merge_in_order() {
        for threshold in [1, 3, 1000] {
            let mut rows = SortedRows::with_threshold(threshold);
            // flows end out of order
            let mut state = 7u64;
            let mut keys = Vec::new();
            for _ in 0..50 {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                keys.push(state >> 40);
            }
            for &k in &keys {
                let row = Row::new(k, &[format!("{k}"), "x\ny".into(), String::new()]);
                rows.push(row).unwrap_or_default();
            }
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            let mut seen = Vec::new();
            rows.drain(|row| {
                let cells: Vec<&str> = row.cells().collect();
                assert_eq!(cells, [row.key.to_string().as_str(), "x\ny", ""]);
                seen.push(row.key);
                Ok(())
            })
            .unwrap_or_default();
            assert_eq!(seen, sorted, "threshold {threshold}");
        }
    }
}
