//! CSV time series: `csv::read_column` (the default column, and a named one).
#![no_main]

use libfuzzer_sys::fuzz_target;
use recur::data::csv::read_column;
use recur_fuzz::{check_error, write};

fuzz_target!(|data: &[u8]| {
    let path = write("series.csv", data);
    for column in [None, Some("value"), Some("Temp")] {
        match read_column(&path, column) {
            Ok(col) => {
                assert!(!col.values.is_empty());
                assert!(col.values.iter().all(|v| v.is_finite()));
                if let Some(labels) = &col.labels {
                    assert_eq!(labels.len(), col.values.len());
                }
            }
            Err(e) => check_error(&e, &path),
        }
    }
});
