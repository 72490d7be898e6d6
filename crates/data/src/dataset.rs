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
        message: e.to_string(),
    }
}

/// Opens a CSV or Parquet file lazily (nothing is read until the plan is collected), for
/// aggregations over files larger than memory.
pub fn scan(path: &Path) -> Result<LazyFrame> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let pl_path = PlRefPath::try_from_path(path).map_err(|e| read_err(path, e))?;
    match ext.as_deref() {
        Some("csv") => LazyCsvReader::new(pl_path)
            .with_has_header(true)
            .with_infer_schema_length(Some(10_000))
            .finish()
            .map_err(|e| read_err(path, e)),
        Some("parquet") | Some("pq") => {
            LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default())
                .map_err(|e| read_err(path, e))
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
        if !path.exists() {
            return Err(read_err(path, "no such file"));
        }
        let df = scan(path)?.collect().map_err(|e| read_err(path, e))?;
        Ok(Dataset {
            df,
            source: path.display().to_string(),
        })
    }

    /// Reads only the column names and types of a `.csv` or `.parquet` file (no rows), for
    /// callers that validate a request before aggregating the file in one streaming pass.
    pub fn read_schema(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(read_err(path, "no such file"));
        }
        let df = scan(path)?
            .limit(0)
            .collect()
            .map_err(|e| read_err(path, e))?;
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

    /// Wraps a data frame built in memory.
    pub fn from_frame(df: DataFrame, source: &str) -> Self {
        Dataset {
            df,
            source: source.to_string(),
        }
    }

    /// A copy with an added (or replaced) text column, e.g. a composite key such as
    /// `agent × segment` built by a caller; `values` must have one entry per row.
    pub fn with_label_column(&self, name: &str, values: Vec<Option<String>>) -> Result<Dataset> {
        if values.len() != self.height() {
            return Err(DataError::Stats(
                causalkit_stats::StatsError::LengthMismatch {
                    what: name.to_string(),
                    got: values.len(),
                    expected: self.height(),
                },
            ));
        }
        let mut df = self.df.clone();
        df.with_column(Column::new(name.into(), values))
            .map_err(|e| read_err(Path::new(&self.source), e))?;
        Ok(Dataset {
            df,
            source: self.source.clone(),
        })
    }

    /// A copy with a numeric (float64) column `name` added, or replaced if it exists (e.g. a
    /// winsorised metric); `None` is a missing value.
    pub fn with_numeric_column(&self, name: &str, values: Vec<Option<f64>>) -> Result<Dataset> {
        if values.len() != self.height() {
            return Err(DataError::Stats(
                causalkit_stats::StatsError::LengthMismatch {
                    what: name.to_string(),
                    got: values.len(),
                    expected: self.height(),
                },
            ));
        }
        let mut df = self.df.clone();
        df.with_column(Column::new(name.into(), values))
            .map_err(|e| read_err(Path::new(&self.source), e))?;
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

    /// A numeric column, missing values as `None`. Text that is not a number is a
    /// [`DataError::NonNumeric`] naming the first such row and its value; booleans read as
    /// 0/1.
    pub fn numeric(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let col = self.column(name)?;
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
