//! The date column of a CSV series: the formats read (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`,
//! `YYYY-MM-DD HH:MM`, a `T` allowed for the space), the step between rows (monthly, yearly, or a
//! constant number of minutes: daily, hourly, ...), the dates after the end, and date ticks for
//! a plot's x axis.
//!
//! The date column is the first column other than the series' that holds a date in its first data
//! row; then every row must hold a date of the same format, each after the one before (an error
//! naming the file and the line otherwise). A date is placed on a plot's x axis as days since
//! 1970-01-01 (the time of day a fraction of a day).

use super::csv::{parse_table, Column, Table};
use super::fill::Fill;
use crate::error::{Error, Result};
use crate::io::read_text;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How the dates of a column are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DateFormat {
    /// `YYYY`: one value a year.
    #[serde(rename = "YYYY")]
    Year,
    /// `YYYY-MM`: one value a month.
    #[serde(rename = "YYYY-MM")]
    Month,
    /// `YYYY-MM-DD`: one value a day.
    #[serde(rename = "YYYY-MM-DD")]
    Day,
    /// `YYYY-MM-DD HH:MM`: a date and a time of day.
    #[serde(rename = "YYYY-MM-DD HH:MM")]
    Minute,
}

impl DateFormat {
    /// The format as written in `config.json` and messages (`YYYY-MM-DD`).
    pub fn name(self) -> &'static str {
        match self {
            DateFormat::Year => "YYYY",
            DateFormat::Month => "YYYY-MM",
            DateFormat::Day => "YYYY-MM-DD",
            DateFormat::Minute => "YYYY-MM-DD HH:MM",
        }
    }
}

/// A calendar date and time of day (minutes after midnight).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp {
    /// Calendar year.
    pub year: i32,
    /// Month, 1 to 12 (1 when the format has no month).
    pub month: u32,
    /// Day of the month, from 1 (1 when the format has no day).
    pub day: u32,
    /// Minutes after midnight, 0 to 1439 (0 when the format has no time).
    pub minute: u32,
}

impl Stamp {
    /// The date in `text` and its format, if it is one.
    pub fn parse(text: &str) -> Option<(Stamp, DateFormat)> {
        let text = text.trim();
        let number = |s: &str, digits: usize| {
            (s.len() == digits && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u32>().ok())
                .flatten()
        };
        let (date, time) = match text.split_once([' ', 'T']) {
            Some((d, t)) => (d, Some(t)),
            None => (text, None),
        };
        let parts: Vec<&str> = date.split('-').collect();
        let year = number(parts[0], 4)? as i32;
        let month = parts.get(1).map_or(Some(1), |m| number(m, 2))?;
        let day = parts.get(2).map_or(Some(1), |d| number(d, 2))?;
        if parts.len() > 3 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        let minute = match time {
            None => 0,
            Some(t) if parts.len() == 3 => {
                let (h, m) = t.split_once(':')?;
                let (h, m) = (number(h, 2)?, number(m, 2)?);
                if h > 23 || m > 59 {
                    return None;
                }
                h * 60 + m
            }
            Some(_) => return None,
        };
        let format = match (parts.len(), time) {
            (1, _) => DateFormat::Year,
            (2, _) => DateFormat::Month,
            (_, None) => DateFormat::Day,
            (_, Some(_)) => DateFormat::Minute,
        };
        Some((Stamp { year, month, day, minute }, format))
    }

    /// The stamp written in `format` (fields the format lacks are left out).
    pub fn format(&self, format: DateFormat) -> String {
        let Stamp { year, month, day, minute } = *self;
        match format {
            DateFormat::Year => format!("{year:04}"),
            DateFormat::Month => format!("{year:04}-{month:02}"),
            DateFormat::Day => format!("{year:04}-{month:02}-{day:02}"),
            DateFormat::Minute => {
                format!("{year:04}-{month:02}-{day:02} {:02}:{:02}", minute / 60, minute % 60)
            }
        }
    }

    /// Days since 1970-01-01.
    pub fn days(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    /// Where the date lies on a plot's x axis: days since 1970-01-01, the time a fraction.
    pub fn x(&self) -> f64 {
        self.days() as f64 + f64::from(self.minute) / 1440.0
    }

    fn minutes(&self) -> i64 {
        self.days() * 1440 + i64::from(self.minute)
    }

    fn from_minutes(total: i64) -> Stamp {
        let (year, month, day) = civil_from_days(total.div_euclid(1440));
        Stamp { year, month, day, minute: total.rem_euclid(1440) as u32 }
    }

    fn is_month_end(&self) -> bool {
        self.day == days_in_month(self.year, self.month)
    }

    fn month_index(&self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.month) - 1
    }
}

/// The step between two rows of a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Whole months (12: yearly); the day of the month kept (the last day stays the last).
    Months(i64),
    /// A constant number of minutes (1440: daily).
    Minutes(i64),
}

impl Step {
    /// The step from `a` to `b` (None unless `b` is after `a`): whole months where the day of
    /// the month and the time agree (or both are the last day of their month), else minutes.
    pub fn between(a: &Stamp, b: &Stamp) -> Option<Step> {
        let months = b.month_index() - a.month_index();
        let same_day = a.day == b.day || (a.is_month_end() && b.is_month_end() && a.day > 28);
        if months > 0 && same_day && a.minute == b.minute {
            return Some(Step::Months(months));
        }
        let minutes = b.minutes() - a.minutes();
        (minutes > 0).then_some(Step::Minutes(minutes))
    }

    /// `from` moved `n` steps on.
    pub fn advance(&self, from: &Stamp, n: i64) -> Stamp {
        match *self {
            Step::Minutes(m) => Stamp::from_minutes(from.minutes() + m * n),
            Step::Months(m) => {
                let index = from.month_index() + m * n;
                let (year, month) = (index.div_euclid(12) as i32, index.rem_euclid(12) as u32 + 1);
                let last = days_in_month(year, month);
                let day = if from.is_month_end() && from.day > 28 { last } else { from.day.min(last) };
                Stamp { year, month, day, minute: from.minute }
            }
        }
    }

    /// `monthly`, `yearly`, `daily`, `every 3 months`, `every 60 minutes`, ...
    pub fn name(&self) -> String {
        match *self {
            Step::Months(1) => "monthly".into(),
            Step::Months(12) => "yearly".into(),
            Step::Months(m) if m % 12 == 0 => format!("every {} years", m / 12),
            Step::Months(m) => format!("every {m} months"),
            Step::Minutes(1440) => "daily".into(),
            Step::Minutes(m) if m % 1440 == 0 => format!("every {} days", m / 1440),
            Step::Minutes(60) => "hourly".into(),
            Step::Minutes(m) => format!("every {m} minutes"),
        }
    }
}

/// What a run records of its date column (`config.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateColumn {
    /// Header name of the date column in the CSV file.
    pub column: String,
    /// How its dates are written.
    pub format: DateFormat,
}

/// The date column of a series: its name, format and one date a row.
#[derive(Clone, Debug, PartialEq)]
pub struct Dates {
    /// Which column holds the dates and how they are written.
    pub column: DateColumn,
    /// The date of each data row, in file order.
    pub stamps: Vec<Stamp>,
}

impl Dates {
    /// The date column of `table` beside the series in column `series` (see the module header):
    /// the column named `named`, else the first that holds a date in the first row; None if none.
    pub fn of(table: &Table, series: usize, named: Option<&str>, path: &Path) -> Result<Option<Dates>> {
        let first = &table.rows[0].1;
        let found = match named {
            Some(name) => match table.header.iter().position(|h| h == name) {
                Some(i) => Some(i),
                None => return Err(Error::line(path, table.header_line, format!("no date column `{name}`"))),
            },
            None => (0..table.header.len()).find(|&i| i != series && Stamp::parse(&first[i]).is_some()),
        };
        let Some(index) = found else { return Ok(None) };
        let name = &table.header[index];
        let Some((_, format)) = Stamp::parse(&first[index]) else {
            let line = table.rows[0].0;
            return Err(Error::line(
                path,
                line,
                format!("column `{name}`: expected a date, found `{}`", first[index]),
            ));
        };
        let mut stamps: Vec<Stamp> = Vec::with_capacity(table.rows.len());
        for (line, fields) in &table.rows {
            let field = &fields[index];
            let stamp = match Stamp::parse(field) {
                Some((stamp, f)) if f == format => stamp,
                _ => {
                    return Err(Error::line(
                        path,
                        *line,
                        format!(
                        "column `{name}`: expected a date written {} as in the first row, found `{field}`",
                        format.name()
                    ),
                    ))
                }
            };
            if let Some(before) = stamps.last().filter(|b| **b >= stamp) {
                return Err(Error::line(
                    path,
                    *line,
                    format!(
                        "column `{name}`: {field} is not after the row before ({}); expected the dates in increasing order",
                        before.format(format)
                    ),
                ));
            }
            stamps.push(stamp);
        }
        Ok(Some(Dates { column: DateColumn { column: name.clone(), format }, stamps }))
    }

    /// The step between the last two rows (None for a single row).
    pub fn step(&self) -> Option<Step> {
        match self.stamps[..] {
            [.., a, b] => Step::between(&a, &b),
            _ => None,
        }
    }

    /// The `n` dates after the last row, one step apart.
    pub fn after_end(&self, n: usize) -> Option<Vec<Stamp>> {
        let step = self.step()?;
        let last = *self.stamps.last()?;
        Some((1..=n as i64).map(|i| step.advance(&last, i)).collect())
    }
}

/// Column `column` of the CSV file at `path` (the default as [`super::csv::read_column`]'s) and
/// its date column: the one named `date_column`, else the first found (see the module header).
/// Missing values are treated by `fill` (None: an error); `Fill::Drop` drops their dates too.
pub fn read_dated_column(
    path: &Path,
    column: Option<&str>,
    date_column: Option<&str>,
    fill: Option<Fill>,
) -> Result<(Column, Option<Dates>)> {
    let mut table = parse_table(&read_text(path)?, path)?;
    let series = table.column_filled(path, column, fill)?;
    if fill == Some(Fill::Drop) {
        table = table.without_missing(series.index);
    }
    let dates = Dates::of(&table, series.index, date_column, path)?;
    Ok((series, dates))
}

/// Labelled ticks for a date x axis over `[lo, hi]` (days since 1970-01-01): the finest of
/// minutes, hours, days, weeks, months, quarters, years and decades that gives few enough labels
/// for their length, each labelled as precisely as its step needs (`1985`, `1985-03`,
/// `1985-03-07`, `1985-03-07 12:00`).
pub fn date_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let minutes = [1, 5, 15, 30, 60, 120, 180, 360, 720].map(Step::Minutes);
    let days = [1, 2, 7, 14].map(|d| Step::Minutes(d * 1440));
    let months = [1, 2, 3, 6].map(Step::Months);
    let years = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].map(|y| Step::Months(12 * y));
    for step in minutes.into_iter().chain(days).chain(months).chain(years) {
        let (format, most) = match step {
            Step::Months(m) if m % 12 == 0 => (DateFormat::Year, 9),
            Step::Months(_) => (DateFormat::Month, 8),
            Step::Minutes(m) if m % 1440 == 0 => (DateFormat::Day, 6),
            Step::Minutes(_) => (DateFormat::Minute, 5),
        };
        let span = match step {
            Step::Months(m) => m as f64 * 30.4,
            Step::Minutes(m) => m as f64 / 1440.0,
        };
        if (hi - lo) / span > most as f64 + 1.0 {
            continue;
        }
        let ticks = ticks_at(step, lo, hi);
        if ticks.len() <= most {
            return ticks.into_iter().map(|s| (s.x(), s.format(format))).collect();
        }
    }
    Vec::new()
}

/// The dates in `[lo, hi]` on whole multiples of `step` (months counted from year 0, minutes
/// from 1970).
fn ticks_at(step: Step, lo: f64, hi: f64) -> Vec<Stamp> {
    let mut out = Vec::new();
    match step {
        Step::Minutes(m) => {
            let first = ((lo * 1440.0) / m as f64).ceil() as i64;
            let mut k = first;
            while (k * m) as f64 / 1440.0 <= hi {
                out.push(Stamp::from_minutes(k * m));
                k += 1;
            }
        }
        Step::Months(m) => {
            let (year, month, _) = civil_from_days(lo.floor() as i64);
            let mut index = (i64::from(year) * 12 + i64::from(month) - 1).div_euclid(m) * m;
            loop {
                let (y, mo) = (index.div_euclid(12) as i32, index.rem_euclid(12) as u32 + 1);
                let stamp = Stamp { year: y, month: mo, day: 1, minute: 0 };
                if stamp.x() > hi {
                    break;
                }
                if stamp.x() >= lo {
                    out.push(stamp);
                }
                index += m;
            }
        }
    }
    out
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((yoe + era * 400 + i64::from(month <= 2)) as i32, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(text: &str) -> Stamp {
        Stamp::parse(text).unwrap().0
    }

    #[test]
    fn formats_are_read_and_written_back() {
        for (text, format) in [
            ("1949", DateFormat::Year),
            ("1949-02", DateFormat::Month),
            ("1984-02-29", DateFormat::Day),
            ("1990-12-31 23:30", DateFormat::Minute),
        ] {
            let (s, f) = Stamp::parse(text).unwrap();
            assert_eq!((f, s.format(f)), (format, text.to_string()));
        }
        assert_eq!(stamp("2020-01-02T03:04").format(DateFormat::Minute), "2020-01-02 03:04");
        for bad in ["112", "1949-13", "1983-02-29", "1949-01-01 25:00", "20.7", "1949-1-1", "", "abcd"] {
            assert!(Stamp::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn days_round_trip_through_the_calendar() {
        assert_eq!(stamp("1970-01-01").days(), 0);
        assert_eq!(stamp("2000-03-01").days() - stamp("2000-02-28").days(), 2);
        assert_eq!(stamp("1900-03-01").days() - stamp("1900-02-28").days(), 1);
        for days in [-800_000, -1, 0, 59, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn steps_are_found_and_followed() {
        let next = |a: &str, b: &str, n: i64| {
            let (sa, sb) = (stamp(a), stamp(b));
            let f = Stamp::parse(b).unwrap().1;
            Step::between(&sa, &sb).map(|s| (s.name(), s.advance(&sb, n).format(f)))
        };
        assert_eq!(next("1960-11-01", "1960-12-01", 1), Some(("monthly".into(), "1961-01-01".into())));
        assert_eq!(next("1990-12-30", "1990-12-31", 1), Some(("daily".into(), "1991-01-01".into())));
        assert_eq!(next("1990-12-30", "1990-12-31", 60), Some(("daily".into(), "1991-03-01".into())));
        assert_eq!(next("2010", "2011", 2), Some(("yearly".into(), "2013".into())));
        assert_eq!(next("2011-01-01", "2012-01-01", 1), Some(("yearly".into(), "2013-01-01".into())));
        assert_eq!(next("2000-01-31", "2000-02-29", 1), Some(("monthly".into(), "2000-03-31".into())));
        assert_eq!(next("2000-01", "2000-04", 1), Some(("every 3 months".into(), "2000-07".into())));
        assert_eq!(
            next("2000-01-01 10:00", "2000-01-01 11:00", 14),
            Some(("hourly".into(), "2000-01-02 01:00".into()))
        );
        assert_eq!(next("2000-01-03", "2000-01-10", 1), Some(("every 7 days".into(), "2000-01-17".into())));
        assert_eq!(next("2000-01-10", "2000-01-03", 1), None);
    }

    #[test]
    fn the_date_column_is_found_and_checked() {
        let path = Path::new("s.csv");
        let table = |text: &str| super::super::csv::parse_table(text, path).unwrap();
        let t = table("id,Date,Temp\n1,1981-01-01,20.7\n2,1981-01-02,17.9\n");
        let d = Dates::of(&t, 2, None, path).unwrap().unwrap();
        assert_eq!(d.column, DateColumn { column: "Date".into(), format: DateFormat::Day });
        assert_eq!(d.after_end(2).unwrap(), vec![stamp("1981-01-03"), stamp("1981-01-04")]);
        // The series' own column is never its date column, even with four-digit values.
        assert_eq!(Dates::of(&table("n,value\n1,1949\n2,1950\n"), 1, None, path).unwrap(), None);
        let err = Dates::of(&table("date,value\n1981-01-01,1\n1981-01,2\n"), 1, None, path).unwrap_err();
        assert!(err.to_string().contains("s.csv:3") && err.to_string().contains("YYYY-MM-DD"), "{err}");
        let err = Dates::of(&table("date,value\n1981-01-02,1\n1981-01-01,2\n"), 1, None, path).unwrap_err();
        assert!(err.to_string().contains("s.csv:3") && err.to_string().contains("increasing"), "{err}");
    }

    #[test]
    fn ticks_fall_on_calendar_steps() {
        let (lo, hi) = (stamp("1981-01-01").x(), stamp("1990-12-31").x());
        let labels: Vec<String> = date_ticks(lo, hi).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["1982", "1984", "1986", "1988", "1990"]);
        let (lo, hi) = (stamp("1990-10-15").x(), stamp("1990-12-31").x());
        let ticks = date_ticks(lo, hi);
        assert!((3..=6).contains(&ticks.len()), "{ticks:?}");
        assert!(ticks.iter().all(|(x, l)| (lo..=hi).contains(x) && stamp(l).x() == *x), "{ticks:?}");
        let labels: Vec<String> =
            date_ticks(stamp("1949-01-01").x(), stamp("1950-12-01").x()).into_iter().map(|t| t.1).collect();
        assert_eq!(
            labels,
            ["1949-01", "1949-04", "1949-07", "1949-10", "1950-01", "1950-04", "1950-07", "1950-10"]
        );
    }
}
