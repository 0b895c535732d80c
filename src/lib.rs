//! recur: recurrent neural networks (RNN, LSTM, GRU) with explicit forward and backward passes.
//!
//! Letters used in every shape comment: N batch rows, T time steps, D input width, H hidden
//! width, V vocabulary size, G gate blocks of a cell, S state blocks of a cell.
//! Start with ARCHITECTURE.md for the map of the code.

#![warn(missing_docs)]

pub mod bench;
pub mod data;
pub mod error;
pub mod io;
pub mod layers;
pub mod models;
pub mod optim;
pub mod params;
pub mod plot;
pub mod prelude;
pub mod tasks;
pub mod tensor;
pub mod time;
pub mod train;

pub use error::{Error, Result};

/// The README's Rust blocks, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
