//! CSV time series: one numeric column of a file with a header row (`date,value`, `Date,Temp`).
//!
//! Rules: the first non-blank line is the header; fields are separated by commas and may be
//! quoted (`"date","value"`, `""` inside quotes is one quote); CRLF line ends, a UTF-8 byte-order
//! mark and blank lines are accepted. Every data row must have as many fields as the header and a
//! number in the chosen column. A missing value (an empty field, `NA`, `N/A`, `NaN`, `null`) is an
//! error naming the file, the line and the column, never a silent zero or a dropped row, unless a
//! [`Fill`] is given (`--fill`, `super::fill`).
//!
//! The column: the one named (exact match, else the only case-insensitive match), else `value`
//! (any case), else the last column whose first data row holds a number.

use super::fill::{fill_gaps, is_missing, Fill};
use crate::error::{Error, Result};
use crate::io::read_text;
use std::path::Path;

/// One column of a CSV file, in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The header of the chosen column.
    pub name: String,
    /// Its position in the header (0 = first).
    pub index: usize,
    /// The column's numbers, one a data row (missing cells filled or dropped by the fill rule).
    pub values: Vec<f64>,
    /// The first column's text of each row (dates), when the first column is not the chosen one.
    pub labels: Option<Vec<String>>,
    /// How many values were missing (filled or dropped by the [`Fill`]).
    pub missing: usize,
}

/// Reads `column` (see the module header for the default) of the CSV file at `path`.
pub fn read_column(path: &Path, column: Option<&str>) -> Result<Column> {
    read_column_filled(path, column, None)
}

/// Like [`read_column`], missing values treated by `fill` (None: refused).
pub fn read_column_filled(path: &Path, column: Option<&str>, fill: Option<Fill>) -> Result<Column> {
    parse_table(&read_text(path)?, path)?.column_filled(path, column, fill)
}

/// Like [`read_column`] on text already read; `path` names the source in errors.
pub fn parse_column(text: &str, path: &Path, column: Option<&str>) -> Result<Column> {
    parse_table(text, path)?.column(path, column)
}

/// The fields of a CSV file: its header and its data rows, each with its line number.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The column names of the header row, in file order.
    pub header: Vec<String>,
    /// Line number of the header (from 1; blank lines before it are skipped).
    pub header_line: usize,
    /// (line number, fields), at least one row, each as many fields as the header.
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Splits `text` into the header and the data rows (the module header's rules).
pub fn parse_table(text: &str, path: &Path) -> Result<Table> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = text
        .split('\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix('\r').unwrap_or(line)))
        .filter(|(_, line)| !line.trim().is_empty());
    let (header_line, header) = rows
        .next()
        .ok_or_else(|| Error::file(path, "empty file; expected a header row such as `date,value`"))?;
    let header = split_fields(header).map_err(|m| Error::line(path, header_line, m))?;
    let rows: Vec<(usize, Vec<String>)> = rows
        .map(|(n, line)| {
            let fields = split_fields(line).map_err(|m| Error::line(path, n, m))?;
            if fields.len() != header.len() {
                return Err(Error::line(
                    path,
                    n,
                    format!(
                        "expected {} comma-separated fields (as in the header `{}`), found {}",
                        header.len(),
                        header.join(","),
                        fields.len()
                    ),
                ));
            }
            Ok((n, fields))
        })
        .collect::<Result<_>>()?;
    if rows.is_empty() {
        return Err(Error::file(path, "no data rows after the header; expected one value per line"));
    }
    Ok(Table { header, header_line, rows })
}

impl Table {
    /// The numbers of `column` (see the module header for the default); a missing value is an
    /// error.
    pub fn column(&self, path: &Path, column: Option<&str>) -> Result<Column> {
        self.column_filled(path, column, None)
    }

    /// The position of `column` in the header (see the module header for the default).
    pub fn column_index(&self, path: &Path, column: Option<&str>) -> Result<usize> {
        choose_column(&self.header, &self.rows[0].1, column)
            .map_err(|m| Error::line(path, self.header_line, m))
    }

    /// The numbers of `column`, missing values treated by `fill` (None: an error naming the line).
    pub fn column_filled(&self, path: &Path, column: Option<&str>, fill: Option<Fill>) -> Result<Column> {
        let index = self.column_index(path, column)?;
        let name = self.header[index].clone();
        let values =
            self.rows
                .iter()
                .map(|(n, fields)| {
                    let field = fields[index].trim();
                    match field.parse::<f64>() {
                        Ok(v) if v.is_finite() => Ok(Some(v)),
                        _ if is_missing(field) && fill.is_some() => Ok(None),
                        _ if is_missing(field) => Err(Error::line(
                            path,
                            *n,
                            format!(
                            "column `{name}`: expected a number, found {}; pass --fill linear|previous|drop \
                             to fill or drop missing values",
                            if field.is_empty() { "an empty field".to_string() } else { format!("`{field}`") }
                        ),
                        )),
                        _ => Err(Error::line(
                            path,
                            *n,
                            format!("column `{name}`: expected a number, found `{field}`"),
                        )),
                    }
                })
                .collect::<Result<Vec<Option<f64>>>>()?;
        let missing = values.iter().filter(|v| v.is_none()).count();
        let kept: Vec<&(usize, Vec<String>)> = self
            .rows
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_some() || fill != Some(Fill::Drop))
            .map(|(r, _)| r)
            .collect();
        let values = match fill {
            None => values.into_iter().flatten().collect(),
            Some(fill) => fill_gaps(&values, fill)
                .map_err(|(i, m)| Error::line(path, self.rows[i].0, format!("column `{name}`: {m}")))?,
        };
        if values.is_empty() {
            return Err(Error::file(path, format!("column `{name}`: every value is missing")));
        }
        let labels = (index != 0).then(|| kept.iter().map(|(_, f)| f[0].trim().to_string()).collect());
        Ok(Column { name, index, values, labels, missing })
    }

    /// The rows whose field `index` holds a value (the rows `--fill drop` keeps).
    pub fn without_missing(&self, index: usize) -> Table {
        let rows = self.rows.iter().filter(|(_, f)| !is_missing(&f[index])).cloned().collect();
        Table { header: self.header.clone(), header_line: self.header_line, rows }
    }
}

fn choose_column(header: &[String], first: &[String], column: Option<&str>) -> crate::Result<usize> {
    let names = || header.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ");
    if let Some(want) = column {
        if let Some(i) = header.iter().position(|h| h == want) {
            return Ok(i);
        }
        let folded: Vec<usize> =
            (0..header.len()).filter(|&i| header[i].eq_ignore_ascii_case(want)).collect();
        return match folded[..] {
            [i] => Ok(i),
            _ => Err(Error::msg(format!("no column `{want}`; the header has {}", names()))),
        };
    }
    if let Some(i) = header.iter().position(|h| h.eq_ignore_ascii_case("value")) {
        return Ok(i);
    }
    (0..header.len()).rev().find(|&i| first[i].trim().parse::<f64>().is_ok()).ok_or_else(|| {
        Error::msg(format!(
            "no numeric column (the first data row has no number); the header has {}; pass --column NAME",
            names()
        ))
    })
}

/// Splits one line at commas outside double quotes; quotes are removed, `""` inside quotes is `"`.
fn split_fields(line: &str) -> crate::Result<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(Error::msg("a quoted field is not closed; expected a closing `\"`"));
    }
    fields.push(field);
    Ok(fields.into_iter().map(|f| f.trim().to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_escaped_quotes() {
        assert_eq!(split_fields(r#""date","value""#).unwrap(), ["date", "value"]);
        assert_eq!(split_fields(r#"a,"b,c","say ""hi""""#).unwrap(), ["a", "b,c", r#"say "hi""#]);
        assert!(split_fields(r#""open,1"#).is_err());
    }
}
