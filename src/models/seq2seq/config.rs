//! [`Seq2seqConfig`]: the encoder-decoder's cell, sizes, layers and dropout (the `model` object of
//! a seq2seq run's `config.json`), its checks and its parameter count.

use crate::layers::attention::ScoreKind;
use crate::layers::CellKind;
use crate::Error;
use serde::{Deserialize, Serialize};

fn one_layer() -> usize {
    1
}

/// Everything needed to rebuild the model (the `model` object of a seq2seq run's `config.json`).
/// `num_layers` and `dropout` came later: configs without them are the book's one layer, no
/// dropout; `attention` and `bidirectional` later still: without them, no attention and a
/// one-direction encoder (chapter 7).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seq2seqConfig {
    /// The recurrent cell of every layer, encoder and decoder.
    pub cell: CellKind,
    /// V: symbols, shared by the input and the output side.
    pub vocab_size: usize,
    /// D: the width of both embeddings (the book's `wordvec_size`).
    pub embed_size: usize,
    /// H: the hidden width of every recurrent layer.
    pub hidden_size: usize,
    /// The decoder sees the encoder's h at every step (the book's `PeekyDecoder`).
    pub peeky: bool,
    /// L: stacked recurrent layers on each side; decoder layer k starts from encoder layer k.
    #[serde(default = "one_layer")]
    pub num_layers: usize,
    /// Dropout probability on the embeddings, between stacked layers and before the decoder's
    /// affine (0 = none).
    #[serde(default)]
    pub dropout: f64,
    /// The decoder attends to all the encoder's outputs with this score (the book's chapter 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<ScoreKind>,
    /// Every encoder layer reads both directions (outputs and final h 2H wide); the decoder is
    /// then 2H wide and starts from `[fwd final h | rev final h]`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bidirectional: bool,
    /// The encoder skips each input's padding (Keras' masking, PyTorch's packed sequences): every
    /// input starts from the zero state at its first character and hands on the state after its
    /// last, whatever its length; the ids must hold the padding after the characters (a
    /// [`crate::data::pairs::Layout`] with `mask_padding`). Off: the encoder reads the padding
    /// like any symbol (the book's layout, and runs made before this field).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mask_padding: bool,
}

impl Seq2seqConfig {
    /// The book's model: one layer, no dropout.
    pub fn book(
        cell: CellKind,
        vocab_size: usize,
        embed_size: usize,
        hidden_size: usize,
        peeky: bool,
    ) -> Self {
        Seq2seqConfig {
            cell,
            vocab_size,
            embed_size,
            hidden_size,
            peeky,
            num_layers: 1,
            dropout: 0.0,
            attention: None,
            bidirectional: false,
            mask_padding: false,
        }
    }

    /// How the decoder reads the encoder, for reports: "", ", peeky", ", attention dot", and
    /// ", bidirectional" after it when the encoder is.
    pub fn variant(&self) -> String {
        let mut out = String::new();
        if self.peeky {
            out.push_str(", peeky");
        }
        if let Some(kind) = self.attention {
            out.push_str(&format!(", attention {kind}"));
        }
        if self.bidirectional {
            out.push_str(", bidirectional");
        }
        out
    }

    /// E: the width of the encoder's outputs and final h (H, or 2H bidirectional), which is
    /// also the decoder's hidden width.
    pub fn encoder_width(&self) -> usize {
        if self.bidirectional {
            2 * self.hidden_size
        } else {
            self.hidden_size
        }
    }

    /// Why this config cannot be built, if it cannot.
    pub fn check(&self) -> crate::Result<()> {
        if self.vocab_size == 0 || self.embed_size == 0 || self.hidden_size == 0 || self.num_layers == 0 {
            return Err(Error::msg(format!(
                "vocab_size, embed_size, hidden_size and num_layers must be at least 1 (got {}, {}, {}, {})",
                self.vocab_size, self.embed_size, self.hidden_size, self.num_layers
            )));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::msg(format!("dropout must be in [0, 1) (got {})", self.dropout)));
        }
        if self.peeky && self.attention.is_some() {
            return Err(Error::msg("a decoder is peeky or has attention, not both"));
        }
        Ok(())
    }

    /// How many numbers the model's parameters hold (`None` if it overflows 128 bits), computed
    /// without building the model, so a config far larger than its weights file can be refused
    /// before anything is allocated (the file holds at least this many).
    pub fn parameter_count(&self) -> Option<u128> {
        let (v, d, h) = (self.vocab_size as u128, self.embed_size as u128, self.hidden_size as u128);
        let gates: u128 = match self.cell {
            CellKind::Rnn => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        };
        let biases = if self.cell == CellKind::Gru { 2 } else { 1 };
        let e = self.encoder_width() as u128;
        let peek = if self.peeky { e } else { 0 };
        // One side's embedding and layers, the first reading `first_input` values, each layer
        // `width` wide, `directions` of them.
        let side = |first_input: u128, width: u128, directions: u128| -> Option<u128> {
            let mut total = v.checked_mul(d)?;
            for layer in 0..self.num_layers {
                let input = if layer == 0 { first_input } else { e };
                let gh = gates.checked_mul(width)?;
                let one = gh.checked_mul(input.checked_add(width)?.checked_add(biases)?)?;
                total = total.checked_add(one.checked_mul(directions)?)?;
            }
            Some(total)
        };
        let attention = match self.attention {
            None => Some(0),
            Some(ScoreKind::Dot) => Some(0),
            Some(ScoreKind::General) => e.checked_mul(e),
            Some(ScoreKind::Additive) => e.checked_mul(e)?.checked_mul(2)?.checked_add(e),
        }?;
        let context = if self.attention.is_some() { e } else { 0 };
        let head = v.checked_mul(peek.checked_add(context)?.checked_add(e)?.checked_add(1)?)?;
        let directions = if self.bidirectional { 2 } else { 1 };
        let encoder = side(d, h, directions)?;
        let decoder = side(peek.checked_add(d)?, e, 1)?;
        encoder.checked_add(decoder)?.checked_add(head)?.checked_add(attention)
    }
}
