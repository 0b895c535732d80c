//! Missing values of a CSV series (`--fill`): refused without it (one error naming the file and
//! the line), each fill's values exactly on a tiny file, the choice saved in `config.json` and used
//! again by `forecast eval` and `forecast predict`.

mod common;

use common::cli::{failure, read_json, recur, success, Scratch};
use recur::data::csv::parse_table;
use recur::data::dates::read_dated_column;
use recur::data::fill::Fill;
use std::path::Path;

const GAPS: &str = "date,value\n2020-01,1\n2020-02,\n2020-03,NA\n2020-04,4\n2020-05,NaN\n2020-06,8\n";

fn column(text: &str, fill: Option<Fill>) -> recur::Result<recur::data::csv::Column> {
    let path = Path::new("gaps.csv");
    parse_table(text, path)?.column_filled(path, None, fill)
}

#[test]
fn each_fill_gives_exact_values() {
    let linear = column(GAPS, Some(Fill::Linear)).unwrap();
    assert_eq!(linear.values, [1.0, 2.0, 3.0, 4.0, 6.0, 8.0]);
    assert_eq!(linear.missing, 3);
    let previous = column(GAPS, Some(Fill::Previous)).unwrap();
    assert_eq!(previous.values, [1.0, 1.0, 1.0, 4.0, 4.0, 8.0]);
    let dropped = column(GAPS, Some(Fill::Drop)).unwrap();
    assert_eq!(dropped.values, [1.0, 4.0, 8.0]);
    assert_eq!(dropped.labels.unwrap(), ["2020-01", "2020-04", "2020-06"]);
}

#[test]
fn missing_values_are_refused_without_a_fill_naming_the_line() {
    let err = column(GAPS, None).unwrap_err();
    assert_eq!(
        err.message(),
        "gaps.csv:3: column `value`: expected a number, found an empty field; pass --fill linear|previous|drop \
         to fill or drop missing values"
    );
    let err = column("date,value\n2020-01,1\n2020-02,na\n", None).unwrap_err();
    assert!(err
        .message()
        .starts_with("gaps.csv:3: column `value`: expected a number, found `na`; pass --fill"));
    // Gaps with no known value on the side a fill needs: the line of the gap's first value.
    let err = column("date,value\n2020-01,\n2020-02,2\n", Some(Fill::Linear)).unwrap_err();
    assert!(err.message().starts_with("gaps.csv:2: column `value`: missing value before the first"), "{err}");
    let err = column("date,value\n2020-01,1\n2020-02,2\n2020-03,\n", Some(Fill::Linear)).unwrap_err();
    assert!(err.message().starts_with("gaps.csv:4: column `value`: missing value after the last"), "{err}");
    assert_eq!(column("date,value\n2020-01,1\n2020-02,\n", Some(Fill::Previous)).unwrap().values, [1.0, 1.0]);
    let err = column("date,value\n2020-01,\n", Some(Fill::Drop)).unwrap_err();
    assert_eq!(err.message(), "gaps.csv: column `value`: every value is missing");
}

#[test]
fn drop_drops_the_dates_too() {
    let s = Scratch::new("forecast-fill-dates");
    let csv = s.file("gaps.csv", GAPS);
    let (col, dates) = read_dated_column(&csv, None, None, Some(Fill::Drop)).unwrap();
    assert_eq!(col.values.len(), dates.unwrap().stamps.len());
}

/// 60 months of a rising line with 8 gaps, one every 7th month up to month 56.
fn gappy_csv(s: &Scratch) -> std::path::PathBuf {
    let mut text = String::from("date,value\n");
    for i in 0..60 {
        let v = if i % 7 == 3 && i < 56 { String::new() } else { format!("{}", 100 + 2 * i) };
        text.push_str(&format!("{}-{:02}-01,{v}\n", 2000 + i / 12, i % 12 + 1));
    }
    s.file("gappy.csv", text)
}

#[test]
fn cli_fill_is_saved_and_used_by_eval_and_predict() {
    let s = Scratch::new("forecast-fill");
    let csv = gappy_csv(&s);
    let base = ["forecast", "train", "--csv", csv.to_str().unwrap(), "--window", "6", "--test-last", "6"];
    let out = recur(&s.root, base.iter().copied().chain(["--out", "refused"]));
    failure("no --fill", &out, &["gappy.csv:5:", "empty field", "--fill"]);
    for fill in ["linear", "previous", "drop"] {
        let dir = s.path(fill);
        let args = ["--fill", fill, "--hidden-size", "3", "--epochs", "1", "--out", dir.to_str().unwrap()];
        let out = success(fill, &recur(&s.root, base.iter().copied().chain(args)));
        let values = if fill == "drop" { 52 } else { 60 };
        assert!(out.contains(&format!("{values} values of `value`")) && out.contains("8 missing"), "{out}");
        assert_eq!(read_json(&dir.join("config.json"))["data"]["fill"], fill);
        success("eval", &recur(&s.root, ["forecast", "eval", "--model", dir.to_str().unwrap()]));
        let out =
            success("predict", &recur(&s.root, ["forecast", "predict", "--model", dir.to_str().unwrap()]));
        assert!(out.starts_with("2005-01-01"), "{fill}: {out}");
    }
    // The linear fill of a straight line is the line: the linear model forecasts it exactly.
    let result = read_json(&s.path("linear").join("result.json"));
    assert!(result["rows"][1]["test"].as_f64().unwrap() < 1e-6, "{result}");
}
