//! safetensors files: named tensors, written atomically, read with every header field checked.
//!
//! The names are PyTorch's state_dict names, so `safetensors.torch.load_file` reads recur's
//! files and recur reads PyTorch's (f32 or f64).

use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;
use crate::tensor::Real;
use ndarray::{ArrayD, IxDyn};
use safetensors::tensor::TensorView;
use safetensors::SafeTensors;
use std::collections::BTreeMap;
use std::path::Path;

/// Writes `tensors` to `path` (temporary file, then rename).
pub fn save<F: Real>(path: &Path, tensors: &[(String, ArrayD<F>)]) -> Result<()> {
    save_with_metadata(path, tensors, &[])
}

/// [`save`] with extra `__metadata__` entries beside `"format": "pt"` (the header's free-form
/// strings; a training checkpoint keeps its progress there, so one atomic write holds it all).
pub fn save_with_metadata<F: Real>(
    path: &Path,
    tensors: &[(String, ArrayD<F>)],
    extra: &[(&str, String)],
) -> Result<()> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, a)| {
            let data = match a.as_slice() {
                Some(s) => F::to_le_bytes_vec(s),
                None => F::to_le_bytes_vec(&a.iter().copied().collect::<Vec<_>>()),
            };
            (name.clone(), a.shape().to_vec(), data)
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, shape, data)| {
            let view = TensorView::new(F::DTYPE, shape.clone(), data)
                .map_err(|e| Error::file(path, format!("cannot encode tensor `{name}`: {e}")))?;
            Ok((name.as_str(), view))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut metadata = std::collections::HashMap::from([("format".to_string(), "pt".to_string())]);
    metadata.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let metadata = Some(metadata);
    let encoded = safetensors::serialize(views, metadata)
        .map_err(|e| Error::file(path, format!("cannot encode safetensors: {e}")))?;
    write_atomic(path, &encoded)
}

/// Reads every tensor of a safetensors file as `F` (f32 and f64 files are accepted).
pub fn load<F: Real>(path: &Path) -> Result<BTreeMap<String, ArrayD<F>>> {
    let bytes = crate::io::read_bytes(path)?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::file(path, format!("not a valid safetensors file ({e})")))?;
    let mut out = BTreeMap::new();
    let mut tensors = file.tensors();
    tensors.sort_by(|a, b| a.0.cmp(&b.0)); // the first bad tensor by name, the same every time
    for (name, view) in tensors {
        let data = F::from_le_bytes_of(view.dtype(), view.data()).ok_or_else(|| {
            Error::file(path, format!("tensor `{name}` has dtype {:?}; expected F32 or F64", view.dtype()))
        })?;
        // safetensors checked that the data fills the shape; a shape with a zero in it holds no
        // data whatever its other sizes, which ndarray refuses when their product overflows.
        let array = ArrayD::from_shape_vec(IxDyn(view.shape()), data).map_err(|e| {
            Error::file(path, format!("tensor `{name}` cannot have shape {:?} ({e})", view.shape()))
        })?;
        out.insert(name, array);
    }
    Ok(out)
}
