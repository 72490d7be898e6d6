//! Reading CSV and Parquet files into a validated, typed view.

use crate::error::{DataError, Result};
use polars::prelude::*;
use std::path::Path;

/// Whether missing values are an error or rows holding them are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingPolicy {
    /// A missing value is a [`DataError::MissingValues`] (the default).
    #[default]
    Error,
    /// Rows with a missing value in a column the analysis uses are dropped, and the count
    /// dropped is reported.
    Drop,
}

/// A data file loaded into memory (a polars `DataFrame`) with typed, validated accessors.
#[derive(Debug, Clone)]
pub struct Dataset {
    df: DataFrame,
    source: String,
}

fn read_err(path: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::Read {
        path: path.display().to_string(),
        message: first_line(&e.to_string()),
    }
}

/// The first line of a message, without the hints and backtraces polars may append.
fn first_line(message: &str) -> String {
    crate::error::clip(message.lines().next().unwrap_or_default().trim())
}

/// An operating-system error on `path` as a [`DataError::Read`] naming the file ("no such
/// file", "it is a directory, not a file", or the system's one-line message).
pub fn io_error(path: &Path, e: std::io::Error) -> DataError {
    let message = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a directory, not a file".to_string(),
        _ => first_line(&e.to_string()),
    };
    DataError::Read {
        path: path.display().to_string(),
        message,
    }
}

/// A reader (polars) error on `path` as a [`DataError`] with the file named; polars' own
/// message is never shown whole (only its first line, for errors without a variant of ours).
/// For a CSV file, a structural fault (a line with more or fewer fields than the header,
/// bytes that are not UTF-8) is located by [`check_csv`] and reported with its line.
pub fn reader_error(path: &Path, e: PolarsError) -> DataError {
    if let PolarsError::IO { error, .. } = &e {
        return io_error(path, std::io::Error::new(error.kind(), error.to_string()));
    }
    if let Err(located) = check_file(path).and_then(|()| {
        if is_csv(path) {
            check_csv(path)
        } else {
            Ok(())
        }
    }) {
        return located;
    }
    read_err(path, e)
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
}

fn is_csv(path: &Path) -> bool {
    extension(path).as_deref() == Some("csv")
}

/// The path names an existing regular file (not a directory).
fn check_file(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.is_dir() {
        return Err(DataError::Read {
            path: path.display().to_string(),
            message: "it is a directory, not a file".into(),
        });
    }
    Ok(())
}

/// Checks the structure of a CSV file in one pass over its bytes, so that faults are reported
/// with their line instead of as a reader's message: every byte is UTF-8 text
/// ([`DataError::InvalidUtf8`] with row, line and byte column), every record has as many fields
/// as the header ([`DataError::RaggedRow`] with row and line; fields are separated by commas outside double
/// quotes, a quoted field may span lines, and blank lines are skipped as the reader skips
/// them), and no column name repeats ([`DataError::DuplicateColumn`]).
pub fn check_csv(path: &Path) -> Result<()> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let p = || path.display().to_string();
    let mut buf: Vec<u8> = Vec::new();
    let mut line = 0usize;
    let mut expected: Option<usize> = None;
    // The record being read: fields so far, the line it started on, whether inside quotes.
    let mut fields = 1usize;
    let mut start_line = 1usize;
    let mut in_quotes = false;
    let mut header: Vec<u8> = Vec::new();
    // Data records started so far; the current record is `records - 1`.
    let mut records = 0usize;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| io_error(path, e))?;
        if n == 0 {
            break;
        }
        line += 1;
        if let Err(e) = std::str::from_utf8(&buf) {
            // The header, the record this line continues (inside quotes), or the record it
            // starts.
            let row = match (expected.is_some(), in_quotes) {
                (false, _) => None,
                (true, true) => Some(records.saturating_sub(1)),
                (true, false) => Some(records),
            };
            return Err(DataError::InvalidUtf8 {
                path: p(),
                row,
                line,
                column: e.valid_up_to() + 1,
            });
        }
        let mut content: &[u8] = &buf;
        if let Some(rest) = content.strip_suffix(b"\n") {
            content = rest;
        }
        if let Some(rest) = content.strip_suffix(b"\r") {
            content = rest;
        }
        if !in_quotes {
            if content.is_empty() && expected.is_some_and(|e| e > 1) {
                continue;
            }
            fields = 1;
            start_line = line;
            if expected.is_some() {
                records += 1;
            }
        }
        for &b in content {
            match b {
                b'"' => in_quotes = !in_quotes,
                b',' if !in_quotes => fields += 1,
                _ => {}
            }
        }
        if expected.is_none() {
            header.extend_from_slice(content);
            if in_quotes {
                header.push(b'\n');
                continue;
            }
            expected = Some(fields);
            let names = split_header(&header);
            for (i, name) in names.iter().enumerate() {
                if names[..i].contains(name) {
                    return Err(DataError::DuplicateColumn {
                        path: p(),
                        column: name.clone(),
                    });
                }
            }
            continue;
        }
        if in_quotes {
            continue;
        }
        if let Some(e) = expected {
            if fields != e {
                return Err(DataError::RaggedRow {
                    path: p(),
                    row: records - 1,
                    line: start_line,
                    fields,
                    expected: e,
                });
            }
        }
    }
    Ok(())
}

/// The names in a CSV header line (quotes removed, `""` inside quotes read as one `"`).
fn split_header(header: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(header);
    let mut names = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => names.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    names.push(cur);
    names
}

/// The header line of a CSV file, checked for repeated names (the rest is checked by
/// [`check_csv`]).
fn check_csv_header(path: &Path) -> Result<()> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut reader = std::io::BufReader::new(file);
    let mut first = Vec::new();
    reader
        .read_until(b'\n', &mut first)
        .map_err(|e| io_error(path, e))?;
    // A header with a quoted line break is left to the full check.
    if first.iter().filter(|b| **b == b'"').count() % 2 == 1 {
        return Ok(());
    }
    let names = split_header(first.trim_ascii_end());
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(DataError::DuplicateColumn {
                path: path.display().to_string(),
                column: name.clone(),
            });
        }
    }
    Ok(())
}

/// The column names of a Parquet file, checked for repeats ([`DataError::DuplicateColumn`]).
fn check_parquet_names(path: &Path) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut reader = ParquetReader::new(file);
    let meta = reader.get_metadata().map_err(|e| read_err(path, e))?;
    let names: Vec<&str> = meta.schema().fields().iter().map(|f| f.name()).collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(DataError::DuplicateColumn {
                path: path.display().to_string(),
                column: name.to_string(),
            });
        }
    }
    Ok(())
}

/// Opens a CSV or Parquet file lazily (nothing is read until the plan is collected), for
/// aggregations over files larger than memory. The path must be an existing file (not a
/// directory) and its column names unique (checked from the CSV header line or the Parquet
/// footer); the rest of a CSV file's structure is checked by [`check_csv`], which
/// [`Dataset::read`] and the scans run.
pub fn scan(path: &Path) -> Result<LazyFrame> {
    let ext = extension(path);
    if matches!(ext.as_deref(), Some("csv") | Some("parquet") | Some("pq")) {
        check_file(path)?;
    }
    let pl_path = PlRefPath::try_from_path(path).map_err(|e| read_err(path, e))?;
    match ext.as_deref() {
        Some("csv") => {
            check_csv_header(path)?;
            LazyCsvReader::new(pl_path)
                .with_has_header(true)
                .with_infer_schema_length(Some(10_000))
                .finish()
                .map_err(|e| reader_error(path, e))
        }
        Some("parquet") | Some("pq") => {
            check_parquet_names(path)?;
            LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default())
                .map_err(|e| reader_error(path, e))
        }
        _ => Err(DataError::UnsupportedFormat {
            path: path.display().to_string(),
        }),
    }
}

impl Dataset {
    /// Reads a `.csv` (header row, comma separated, empty fields are missing) or `.parquet`
    /// file.
    pub fn read(path: &Path) -> Result<Self> {
        check_file(path)?;
        let lf = scan(path)?;
        if is_csv(path) {
            check_csv(path)?;
        }
        let df = lf.collect().map_err(|e| reader_error(path, e))?;
        Ok(Dataset {
            df,
            source: path.display().to_string(),
        })
    }

    /// Reads only the column names and types of a `.csv` or `.parquet` file (no rows), for
    /// callers that validate a request before aggregating the file in one streaming pass.
    pub fn read_schema(path: &Path) -> Result<Self> {
        check_file(path)?;
        let df = scan(path)?
            .limit(0)
            .collect()
            .map_err(|e| reader_error(path, e))?;
        Ok(Dataset {
            df,
            source: path.display().to_string(),
        })
    }

    /// Writes the data to a Parquet file (snappy compression, polars' default row groups).
    pub fn write_parquet(&self, path: &Path) -> Result<()> {
        let write_err = |e: &dyn std::fmt::Display| DataError::Write {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let file = std::fs::File::create(path).map_err(|e| write_err(&e))?;
        let mut df = self.df.clone();
        ParquetWriter::new(file)
            .finish(&mut df)
            .map_err(|e| write_err(&e))?;
        Ok(())
    }

    /// A dataset with no rows and no columns, named `source` in messages (e.g. for a design
    /// whose panel was aggregated by a SQL engine, which has no file to read).
    pub fn empty(source: &str) -> Self {
        Dataset {
            df: DataFrame::empty(),
            source: source.to_string(),
        }
    }

    /// Reads CSV text (e.g. the statistics rows a SQL engine returned) with the same reader
    /// and checks as [`Dataset::read`] on a `.csv` file, so the columns get the same types as
    /// from a file; `source` names it in messages. The text goes through a private temporary
    /// file, removed after reading.
    pub fn from_csv_text(text: &str, source: &str) -> Result<Self> {
        use std::time::{SystemTime, UNIX_EPOCH};
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path =
            std::env::temp_dir().join(format!("causalkit-text-{}-{nanos}.csv", std::process::id()));
        std::fs::write(&path, text).map_err(|e| io_error(&path, e))?;
        let data = Dataset::read(&path);
        let _ = std::fs::remove_file(&path);
        let mut data = data?;
        data.source = source.to_string();
        Ok(data)
    }

    /// Wraps a data frame built in memory.
    pub fn from_frame(df: DataFrame, source: &str) -> Self {
        Dataset {
            df,
            source: source.to_string(),
        }
    }

    /// A copy with `column` (`len` values, named `name`) added, or replaced if it exists; the
    /// length must be the number of rows.
    fn with_column(&self, name: &str, len: usize, column: Column) -> Result<Dataset> {
        if len != self.height() {
            return Err(DataError::Stats(
                causalkit_stats::StatsError::LengthMismatch {
                    what: name.to_string(),
                    got: len,
                    expected: self.height(),
                },
            ));
        }
        let mut df = self.df.clone();
        df.with_column(column)
            .map_err(|e| read_err(Path::new(&self.source), e))?;
        Ok(Dataset {
            df,
            source: self.source.clone(),
        })
    }

    /// A copy with an added (or replaced) text column, e.g. a composite key such as
    /// `agent × segment` built by a caller; `values` must have one entry per row.
    pub fn with_label_column(&self, name: &str, values: Vec<Option<String>>) -> Result<Dataset> {
        self.with_column(name, values.len(), Column::new(name.into(), values))
    }

    /// A copy with a numeric (float64) column `name` added, or replaced if it exists (e.g. a
    /// winsorised metric); `None` is a missing value.
    pub fn with_numeric_column(&self, name: &str, values: Vec<Option<f64>>) -> Result<Dataset> {
        self.with_column(name, values.len(), Column::new(name.into(), values))
    }

    /// A copy with the date column `name` (ISO text `YYYY-MM-DD`, or already dates) stored
    /// as a date type: a `Date`, or with `timestamp` a millisecond `Datetime` at midnight UTC
    /// — the two types a Parquet file holds dates as. Text that is not a date is a
    /// [`DataError::NotADate`] naming the row.
    pub fn with_dates(&self, name: &str, timestamp: bool) -> Result<Dataset> {
        let days = self.days(name)?;
        let err = |e: PolarsError| read_err(Path::new(&self.source), e);
        let col: Column = if timestamp {
            let ms: Vec<Option<i64>> = days.iter().map(|d| d.map(|d| d * 86_400_000)).collect();
            Series::new(name.into(), ms)
                .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
                .map_err(err)?
                .into()
        } else {
            let d32: Vec<Option<i32>> = days
                .iter()
                .map(|d| d.and_then(|d| i32::try_from(d).ok()))
                .collect();
            Series::new(name.into(), d32)
                .cast(&DataType::Date)
                .map_err(err)?
                .into()
        };
        let mut df = self.df.clone();
        df.with_column(col).map_err(err)?;
        Ok(Dataset {
            df,
            source: self.source.clone(),
        })
    }

    /// A copy with only the rows where `keep` is true (e.g. one metric's rows of a
    /// sufficient-statistics file with a `metric` column); `keep` must have one entry per row.
    pub fn filter_rows(&self, keep: &[bool]) -> Result<Dataset> {
        if keep.len() != self.height() {
            return Err(DataError::Stats(
                causalkit_stats::StatsError::LengthMismatch {
                    what: "row filter".to_string(),
                    got: keep.len(),
                    expected: self.height(),
                },
            ));
        }
        let mask = BooleanChunked::from_slice("keep".into(), keep);
        let df = self
            .df
            .filter(&mask)
            .map_err(|e| read_err(Path::new(&self.source), e))?;
        Ok(Dataset {
            df,
            source: self.source.clone(),
        })
    }

    /// The underlying data frame.
    pub fn frame(&self) -> &DataFrame {
        &self.df
    }

    /// Where the data came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Number of rows.
    pub fn height(&self) -> usize {
        self.df.height()
    }

    /// Column names in file order.
    pub fn column_names(&self) -> Vec<String> {
        self.df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn column(&self, name: &str) -> Result<&Column> {
        self.df.column(name).map_err(|_| DataError::MissingColumn {
            column: name.to_string(),
            available: self.column_names(),
        })
    }

    /// Removes a column, freeing its memory once no other frame shares it: a caller that
    /// converts a large file's columns one at a time then holds one copy of the data, not two.
    pub fn drop_column(&mut self, name: &str) -> Result<()> {
        self.column(name)?;
        self.df
            .drop_in_place(name)
            .map_err(|e| read_err(Path::new(&self.source), e))?;
        Ok(())
    }

    /// Checks that every named column exists.
    pub fn require(&self, columns: &[&str]) -> Result<()> {
        for c in columns {
            self.column(c)?;
        }
        Ok(())
    }

    /// The column's data type, as polars names it.
    pub fn dtype(&self, name: &str) -> Result<String> {
        Ok(self.column(name)?.dtype().to_string())
    }

    /// A numeric column, missing values as `None`. Text (also dictionary-encoded text) that
    /// is not a number, NaN and infinite values are a [`DataError::NonNumeric`] naming the
    /// first such row and its value. Integers of every width and floats read as their value,
    /// booleans as 0/1, dates as days since 1970-01-01, datetimes and durations as counts of
    /// their time unit (since 1970-01-01 00:00 for datetimes); for dates and datetimes as
    /// periods see [`Dataset::periods`].
    pub fn numeric(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let col = self.column(name)?;
        // Dictionary-encoded text is parsed like text.
        let text_col;
        let col = if matches!(col.dtype(), DataType::Categorical(..) | DataType::Enum(..)) {
            text_col = col
                .cast(&DataType::String)
                .map_err(|e| read_err(Path::new(&self.source), e))?;
            &text_col
        } else {
            col
        };
        let as_f64 = col
            .cast(&DataType::Float64)
            .map_err(|_| DataError::NonNumeric {
                column: name.to_string(),
                row: 0,
                value: format!("a value of type {}", col.dtype()),
            })?;
        let ca = as_f64
            .f64()
            .map_err(|e| read_err(Path::new(&self.source), e))?;
        let values: Vec<Option<f64>> = ca.iter().collect();
        if as_f64.null_count() > col.null_count() {
            // Some non-missing text failed to parse: find the first.
            let text = col
                .cast(&DataType::String)
                .map_err(|e| read_err(Path::new(&self.source), e))?;
            let text = text
                .str()
                .map_err(|e| read_err(Path::new(&self.source), e))?;
            for (row, (v, t)) in values.iter().zip(text.iter()).enumerate() {
                if let (None, Some(t)) = (v, t) {
                    return Err(DataError::NonNumeric {
                        column: name.to_string(),
                        row,
                        value: t.to_string(),
                    });
                }
            }
        }
        if let Some(row) = values
            .iter()
            .position(|v| v.is_some_and(|x| !x.is_finite()))
        {
            return Err(DataError::NonNumeric {
                column: name.to_string(),
                row,
                value: values[row].map(|v| v.to_string()).unwrap_or_default(),
            });
        }
        Ok(values)
    }

    /// Whether a column holds dates or datetimes (a Parquet `Date`/`Timestamp` column), as
    /// opposed to numbers or text.
    pub fn is_temporal(&self, name: &str) -> Result<bool> {
        Ok(matches!(
            self.column(name)?.dtype(),
            DataType::Date | DataType::Datetime(..)
        ))
    }

    /// A date column as integer periods of `width_days` days, for a `--time` column that
    /// holds dates: the earliest date of the column is the start of period 0, and a date `d`
    /// falls in period ⌊(d − earliest) / width_days⌋ (days counted in the calendar, so periods
    /// of 7 days are weeks starting on the earliest date's weekday). Periods are counted from
    /// the earliest date, not renumbered: a gap in the dates stays a gap in the periods.
    /// Missing values are `None`.
    ///
    /// The column may be a `Date`, a `Datetime` of any unit (the UTC date of each instant is
    /// used; the time of day is dropped), or text in ISO form `YYYY-MM-DD` (optionally followed
    /// by `T` or a space and a time, which is dropped); text that is not such a date is a
    /// [`DataError::NotADate`] naming the row. A column of whole numbers keeps its meaning
    /// (the numbers are the periods) and takes only `width_days = 1`; any other width is a
    /// [`DataError::PeriodWidth`], as is a width below 1.
    pub fn periods(&self, name: &str, width_days: i64) -> Result<Vec<Option<i64>>> {
        let col = self.column(name)?;
        if width_days < 1 {
            return Err(DataError::PeriodWidth {
                column: name.to_string(),
                reason: format!("{width_days} is not a positive number of days"),
            });
        }
        let text_or_dates = matches!(
            col.dtype(),
            DataType::Date
                | DataType::Datetime(..)
                | DataType::String
                | DataType::Categorical(..)
                | DataType::Enum(..)
        );
        if !text_or_dates {
            // Numbers: the periods themselves.
            let v = self.numeric(name)?;
            let mut out = Vec::with_capacity(v.len());
            for (row, x) in v.iter().enumerate() {
                out.push(match x {
                    None => None,
                    Some(x) if x.fract() == 0.0 => Some(*x as i64),
                    Some(x) => {
                        return Err(DataError::OutOfRange {
                            column: name.to_string(),
                            row,
                            value: *x,
                            expected: "a whole-number period".into(),
                        })
                    }
                });
            }
            if width_days != 1 {
                return Err(DataError::PeriodWidth {
                    column: name.to_string(),
                    reason: format!(
                        "the column holds numbers (type {}), which are the periods themselves; a width of {width_days} days applies to date columns only",
                        col.dtype()
                    ),
                });
            }
            return Ok(out);
        }
        let days = self.days(name)?;
        let Some(first) = days.iter().flatten().min().copied() else {
            return Ok(days);
        };
        Ok(days
            .into_iter()
            .map(|d| d.map(|d| (d - first).div_euclid(width_days)))
            .collect())
    }

    /// Whether a column holds integers: any integer width, or booleans (read as 0/1).
    pub fn is_integer(&self, name: &str) -> Result<bool> {
        let dtype = self.column(name)?.dtype().clone();
        Ok(dtype.is_integer() || dtype == DataType::Boolean)
    }

    /// Whether a column holds dates: a `Date` or `Datetime` column, or text whose first
    /// non-missing value is an ISO date `YYYY-MM-DD` (optionally with a time after `T` or a
    /// space). Such a column is read by [`Dataset::days`] and [`Dataset::periods`] as dates.
    pub fn is_date_like(&self, name: &str) -> Result<bool> {
        let col = self.column(name)?;
        Ok(match col.dtype() {
            DataType::Date | DataType::Datetime(..) => true,
            DataType::String | DataType::Categorical(..) | DataType::Enum(..) => self
                .labels(name)?
                .iter()
                .flatten()
                .next()
                .is_some_and(|t| iso_day(t).is_some()),
            _ => false,
        })
    }

    /// A date column as days since 1970-01-01 (missing values as `None`): a `Date`, a
    /// `Datetime` of any unit (the UTC date of each instant; the time of day is dropped), or
    /// ISO text `YYYY-MM-DD` (a time after `T` or a space is dropped). Text that is not such a
    /// date, and any other type, is a [`DataError::NotADate`] naming the row.
    pub fn days(&self, name: &str) -> Result<Vec<Option<i64>>> {
        let col = self.column(name)?;
        Ok(match col.dtype() {
            DataType::Date => {
                let phys = col
                    .cast(&DataType::Int32)
                    .map_err(|e| read_err(Path::new(&self.source), e))?;
                phys.i32()
                    .map_err(|e| read_err(Path::new(&self.source), e))?
                    .iter()
                    .map(|v| v.map(i64::from))
                    .collect()
            }
            DataType::Datetime(unit, _) => {
                let per_day: i64 = match unit {
                    TimeUnit::Nanoseconds => 86_400_000_000_000,
                    TimeUnit::Microseconds => 86_400_000_000,
                    TimeUnit::Milliseconds => 86_400_000,
                };
                let phys = col
                    .cast(&DataType::Int64)
                    .map_err(|e| read_err(Path::new(&self.source), e))?;
                phys.i64()
                    .map_err(|e| read_err(Path::new(&self.source), e))?
                    .iter()
                    .map(|v| v.map(|t| t.div_euclid(per_day)))
                    .collect()
            }
            DataType::String | DataType::Categorical(..) | DataType::Enum(..) => {
                let text = self.labels(name)?;
                let mut out = Vec::with_capacity(text.len());
                for (row, t) in text.iter().enumerate() {
                    out.push(match t {
                        None => None,
                        Some(t) => Some(iso_day(t).ok_or_else(|| DataError::NotADate {
                            column: name.to_string(),
                            row,
                            value: t.clone(),
                        })?),
                    });
                }
                out
            }
            other => {
                let row = col
                    .is_not_null()
                    .iter()
                    .position(|v| v == Some(true))
                    .unwrap_or(0);
                return Err(DataError::NotADate {
                    column: name.to_string(),
                    row,
                    value: format!("a value of type {other}"),
                });
            }
        })
    }

    /// A column as text labels (any type), missing values as `None`.
    pub fn labels(&self, name: &str) -> Result<Vec<Option<String>>> {
        let col = self.column(name)?;
        let text = col
            .cast(&DataType::String)
            .map_err(|e| read_err(Path::new(&self.source), e))?;
        let ca = text
            .str()
            .map_err(|e| read_err(Path::new(&self.source), e))?;
        Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
    }

    /// Per row, whether the column holds a value (is not missing), without converting it.
    pub fn present(&self, name: &str) -> Result<Vec<bool>> {
        Ok(self
            .column(name)?
            .is_not_null()
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect())
    }

    /// Number of missing values in a column.
    pub fn null_count(&self, name: &str) -> Result<usize> {
        Ok(self.column(name)?.null_count())
    }
}

/// Days since 1970-01-01 of an ISO date `YYYY-MM-DD` (a `T` or space and a time after it are
/// ignored); None if the text is not a valid date.
pub(crate) fn parse_iso_day(text: &str) -> Option<i64> {
    iso_day(text)
}

/// The ISO date `YYYY-MM-DD` of a day counted from 1970-01-01 (proleptic Gregorian
/// calendar; H. Hinnant's `civil_from_days`).
pub(crate) fn format_iso_day(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn iso_day(text: &str) -> Option<i64> {
    let t = text.trim();
    let date = t.split(['T', ' ']).next().unwrap_or_default();
    let mut parts = date.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(y) && all_digits(m) && all_digits(d)) {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    // Days from civil (proleptic Gregorian calendar), era-based.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Applies a missing-value policy to several columns at once: returns the mask of rows to
/// keep (true = keep) and the number dropped, or the error naming the first column with a
/// missing value.
pub fn missing_mask(
    columns: &[(&str, Vec<bool>)],
    n: usize,
    policy: MissingPolicy,
) -> Result<(Vec<bool>, usize)> {
    let mut keep = vec![true; n];
    for (name, present) in columns {
        let count = present.iter().filter(|p| !**p).count();
        if count == 0 {
            continue;
        }
        if policy == MissingPolicy::Error {
            let first_row = present.iter().position(|p| !*p).unwrap_or(0);
            return Err(DataError::MissingValues {
                column: name.to_string(),
                count,
                first_row,
            });
        }
        keep.iter_mut().zip(present).for_each(|(k, p)| *k &= *p);
    }
    let dropped = keep.iter().filter(|k| !**k).count();
    Ok((keep, dropped))
}
