//! TF-IDF features (scikit-learn's `TfidfVectorizer` defaults): raw counts times the smoothed
//! inverse document frequency of the training texts, each row scaled to unit length.
//!
//! ```text
//! idf(w)  = ln((1 + n) / (1 + df(w))) + 1      n training texts, df(w) of them contain w
//! x_w     = count(w) idf(w) / || count idf ||_2
//! ```

#![warn(missing_docs)]

use super::bag::SparseRow;

/// The inverse document frequencies of the training texts.
#[derive(Clone, Debug)]
pub struct Tfidf {
    /// `idf(w)` per word.
    pub idf: Vec<f64>,
}

impl Tfidf {
    /// Fits the idf on the training texts' counts.
    pub fn fit(rows: &[SparseRow], features: usize) -> Self {
        let mut df = vec![0.0; features];
        for &(w, _) in rows.iter().flatten() {
            df[w as usize] += 1.0;
        }
        let n = rows.len() as f64;
        Tfidf { idf: df.iter().map(|d| ((1.0 + n) / (1.0 + d)).ln() + 1.0).collect() }
    }

    /// A text's counts as unit-length TF-IDF features (a text with no known word stays empty).
    pub fn transform(&self, counts: &SparseRow) -> SparseRow {
        let row: SparseRow = counts.iter().map(|&(w, x)| (w, x * self.idf[w as usize])).collect();
        let norm = row.iter().map(|(_, x)| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            return row;
        }
        row.into_iter().map(|(w, x)| (w, x / norm)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idf_and_unit_rows_by_hand() {
        // Word 0 in both texts, word 1 in one: idf 1 and ln(3/2) + 1.
        let rows = vec![vec![(0, 1.0), (1, 2.0)], vec![(0, 3.0)]];
        let tfidf = Tfidf::fit(&rows, 2);
        assert!((tfidf.idf[0] - 1.0).abs() < 1e-12);
        assert!((tfidf.idf[1] - (1.5f64.ln() + 1.0)).abs() < 1e-12);
        let row = tfidf.transform(&rows[0]);
        let (a, b): (f64, f64) = (1.0, 2.0 * tfidf.idf[1]);
        let norm = (a * a + b * b).sqrt();
        assert!((row[0].1 - a / norm).abs() < 1e-12 && (row[1].1 - b / norm).abs() < 1e-12);
        assert_eq!(tfidf.transform(&rows[1]), vec![(0, 1.0)]);
        assert_eq!(tfidf.transform(&vec![]), vec![]);
    }
}
