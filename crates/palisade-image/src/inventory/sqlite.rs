//! A minimal, read-only reader of the SQLite 3 file format — just enough to list the rows of
//! one table (table b-tree traversal, record decoding, overflow pages). Used for rpm's
//! `rpmdb.sqlite`, so the crate needs neither a C SQLite nor an async database driver. Every
//! offset is bounds-checked; page loops and runaway overflow chains are refused.

use std::collections::HashSet;

/// A value of one record column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer.
    Integer(i64),
    /// A float.
    Real(f64),
    /// Text (lossily decoded as UTF-8).
    Text(String),
    /// A blob.
    Blob(Vec<u8>),
}

/// A read-only view of a database file in memory.
pub struct Database<'a> {
    data: &'a [u8],
    page_size: usize,
    usable: usize,
}

type Result<T> = std::result::Result<T, String>;

impl<'a> Database<'a> {
    /// Checks the header and page geometry.
    pub fn open(data: &'a [u8]) -> Result<Self> {
        if data.len() < 100 || &data[..16] != b"SQLite format 3\0" {
            return Err("not an SQLite 3 database".into());
        }
        let raw = u16::from_be_bytes([data[16], data[17]]) as usize;
        let page_size = if raw == 1 { 65536 } else { raw };
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(format!("invalid page size {page_size}"));
        }
        let reserved = data[20] as usize;
        let usable = page_size
            .checked_sub(reserved)
            .filter(|u| *u >= 480)
            .ok_or("invalid reserved space")?;
        Ok(Database {
            data,
            page_size,
            usable,
        })
    }

    fn page(&self, number: u32) -> Result<&'a [u8]> {
        let n = number as usize;
        if n == 0 {
            return Err("page number 0".into());
        }
        let start = (n - 1) * self.page_size;
        self.data
            .get(start..start + self.page_size)
            .ok_or_else(|| format!("page {n} beyond the end of the file"))
    }

    /// The root page of a table named in `sqlite_schema` (case-insensitive).
    pub fn table_root(&self, table: &str) -> Result<u32> {
        for row in self.rows(1)? {
            let (_, cols) = row;
            let is_table = matches!(cols.first(), Some(Value::Text(t)) if t == "table");
            let name_matches =
                matches!(cols.get(1), Some(Value::Text(n)) if n.eq_ignore_ascii_case(table));
            if is_table
                && name_matches
                && let Some(Value::Integer(root)) = cols.get(3)
            {
                return u32::try_from(*root).map_err(|_| "bad root page".to_string());
            }
        }
        Err(format!("no table {table:?}"))
    }

    /// All rows (rowid, columns) of the table b-tree rooted at `root`.
    pub fn rows(&self, root: u32) -> Result<Vec<(i64, Vec<Value>)>> {
        let mut out = Vec::new();
        let mut visited = HashSet::new();
        let mut stack = vec![root];
        while let Some(number) = stack.pop() {
            if !visited.insert(number) {
                return Err(format!("page {number} referenced twice (corrupt b-tree)"));
            }
            let page = self.page(number)?;
            let header_at = if number == 1 { 100 } else { 0 };
            let kind = *page.get(header_at).ok_or("short page")?;
            let cells = be16(page, header_at + 3)? as usize;
            match kind {
                0x0d => {
                    for i in 0..cells {
                        let ptr = be16(page, header_at + 8 + 2 * i)? as usize;
                        out.push(self.leaf_cell(page, ptr)?);
                    }
                }
                0x05 => {
                    let mut children = Vec::with_capacity(cells + 1);
                    for i in 0..cells {
                        let ptr = be16(page, header_at + 12 + 2 * i)? as usize;
                        children.push(be32(page, ptr)?);
                    }
                    children.push(be32(page, header_at + 8)?);
                    // Push in reverse so rows come out in rowid order.
                    stack.extend(children.into_iter().rev());
                }
                other => {
                    return Err(format!(
                        "page {number}: not a table b-tree page ({other:#x})"
                    ));
                }
            }
        }
        Ok(out)
    }

    fn leaf_cell(&self, page: &[u8], at: usize) -> Result<(i64, Vec<Value>)> {
        let (payload_len, n1) = varint(page, at)?;
        let (rowid, n2) = varint(page, at + n1)?;
        let payload_len = usize::try_from(payload_len).map_err(|_| "payload too large")?;
        if payload_len > self.data.len() {
            return Err("payload larger than the database".into());
        }
        let start = at + n1 + n2;
        let payload = self.payload(page, start, payload_len)?;
        Ok((rowid as i64, decode_record(&payload)?))
    }

    /// Gathers a cell payload: the local part and, if it spills, the overflow chain.
    fn payload(&self, page: &[u8], start: usize, len: usize) -> Result<Vec<u8>> {
        let u = self.usable;
        let x = u - 35;
        let local = if len <= x {
            len
        } else {
            let m = ((u - 12) * 32 / 255) - 23;
            let k = m + ((len - m) % (u - 4));
            if k <= x { k } else { m }
        };
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(page.get(start..start + local).ok_or("cell beyond page")?);
        if local < len {
            let mut next = be32(page, start + local)?;
            let mut seen = HashSet::new();
            while out.len() < len {
                if next == 0 || !seen.insert(next) {
                    return Err("broken overflow chain".into());
                }
                let p = self.page(next)?;
                next = be32(p, 0)?;
                let take = (len - out.len()).min(u - 4);
                out.extend_from_slice(p.get(4..4 + take).ok_or("short overflow page")?);
            }
        }
        Ok(out)
    }
}

fn be16(b: &[u8], at: usize) -> Result<u16> {
    b.get(at..at + 2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]))
        .ok_or_else(|| "read beyond page".to_string())
}

fn be32(b: &[u8], at: usize) -> Result<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| "read beyond page".to_string())
}

/// SQLite's big-endian varint (1–9 bytes).
fn varint(b: &[u8], at: usize) -> Result<(u64, usize)> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let byte = *b.get(at + i).ok_or("varint beyond page")?;
        if i == 8 {
            return Ok(((v << 8) | byte as u64, 9));
        }
        v = (v << 7) | (byte & 0x7f) as u64;
        if byte & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    Ok((v, 9))
}

fn decode_record(p: &[u8]) -> Result<Vec<Value>> {
    let (header_len, mut pos) = varint(p, 0)?;
    let header_len = usize::try_from(header_len).map_err(|_| "bad record header")?;
    if header_len > p.len() {
        return Err("record header beyond payload".into());
    }
    let mut types = Vec::new();
    while pos < header_len {
        let (t, n) = varint(p, pos)?;
        types.push(t);
        pos += n;
    }
    let mut at = header_len;
    let mut out = Vec::with_capacity(types.len());
    for t in types {
        let int = |len: usize, at: usize| -> Result<i64> {
            let s = p.get(at..at + len).ok_or("value beyond payload")?;
            let mut v: i64 = if s.first().is_some_and(|b| b & 0x80 != 0) {
                -1
            } else {
                0
            };
            for b in s {
                v = (v << 8) | *b as i64;
            }
            Ok(v)
        };
        let (value, len) = match t {
            0 => (Value::Null, 0),
            1 => (Value::Integer(int(1, at)?), 1),
            2 => (Value::Integer(int(2, at)?), 2),
            3 => (Value::Integer(int(3, at)?), 3),
            4 => (Value::Integer(int(4, at)?), 4),
            5 => (Value::Integer(int(6, at)?), 6),
            6 => (Value::Integer(int(8, at)?), 8),
            7 => (Value::Real(f64::from_bits(int(8, at)? as u64)), 8),
            8 => (Value::Integer(0), 0),
            9 => (Value::Integer(1), 0),
            10 | 11 => return Err("reserved serial type".into()),
            n if n % 2 == 0 => {
                let len = ((n - 12) / 2) as usize;
                let s = p.get(at..at + len).ok_or("blob beyond payload")?;
                (Value::Blob(s.to_vec()), len)
            }
            n => {
                let len = ((n - 13) / 2) as usize;
                let s = p.get(at..at + len).ok_or("text beyond payload")?;
                (Value::Text(String::from_utf8_lossy(s).into_owned()), len)
            }
        };
        out.push(value);
        at += len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_decode_as_the_file_format_says() {
        assert_eq!(varint(&[0x05], 0).unwrap(), (5, 1));
        assert_eq!(varint(&[0x81, 0x00], 0).unwrap(), (128, 2));
        assert_eq!(varint(&[0xff; 9], 0).unwrap().1, 9);
    }

    #[test]
    fn refuses_non_databases() {
        assert!(Database::open(b"not a database at all").is_err());
    }
}
