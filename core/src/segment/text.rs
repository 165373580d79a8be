//! A text-prompted segmentation model (CLIPSeg is the reference): any region name
//! a user types is a prompt.
//!
//! Inputs: token ids `[prompts, length]` (i64) and their attention mask from CLIP's
//! tokenizer (run here, in Rust), and the image `[prompts, 3, H, W]` repeated per
//! prompt. Output: logits `[prompts, h, w]`. A region's mask is the logistic of its
//! logits brought to the analysis size with the shared bilinear rule.

use super::clip_tokenizer::ClipTokenizer;
use super::model_io::{image_tensor, sigmoid, to_image_size};
use super::names::resolve;
use super::{model_err, Offer, Segmenter};
use crate::error::{Error, Result};
use crate::onnx::package::Normalisation;
use crate::onnx::{Input, OnnxSession, Package, Runtime, SessionOptions, TensorI64};
use crate::plane::Plane;
use crate::raster::RgbF32;

/// The package task this segmenter runs.
pub const TASK: &str = "segmentation-text";
/// The tokenizer kind the manifest must name.
pub const TOKENIZER: &str = "clip-bpe";

/// A loaded text-prompted model.
#[derive(Debug)]
pub struct TextSegmenter {
    name: String,
    session: OnnxSession,
    tokenizer: ClipTokenizer,
    ids_input: String,
    mask_input: Option<String>,
    image_input: String,
    width: usize,
    height: usize,
    norm: Normalisation,
}

/// The words sent to the model for a region name: the name as typed (people's own
/// word is the better prompt than our canonical one), trimmed, underscores as
/// spaces, without a leading "the".
pub fn prompt_for(name: &str) -> String {
    let n = name.trim().replace(['_'], " ");
    let lower = n.to_lowercase();
    match lower.strip_prefix("the ") {
        Some(rest) => rest.trim().to_string(),
        None => n,
    }
}

impl TextSegmenter {
    /// Verifies and opens a `segmentation-text` package.
    pub fn open(pkg: &Package, rt: &Runtime, opts: &SessionOptions) -> Result<Self> {
        let m = &pkg.manifest;
        let bad = |reason: String| model_err(&m.name, reason);
        if m.task != TASK {
            return Err(bad(format!("task is \"{}\", not \"{TASK}\"", m.task)));
        }
        if m.tokenizer.as_deref() != Some(TOKENIZER) {
            return Err(bad(format!(
                "tokenizer is {:?}; this build runs \"{TOKENIZER}\"",
                m.tokenizer
            )));
        }
        let image = m
            .inputs
            .iter()
            .find(|i| i.dtype == "f32" && i.shape.len() == 4 && i.shape[1] == 3)
            .ok_or_else(|| bad("no image input shaped [n, 3, H, W]".into()))?;
        let ints: Vec<_> = m
            .inputs
            .iter()
            .filter(|i| i.dtype == "i64" && i.shape.len() == 2)
            .collect();
        let ids = ints
            .iter()
            .find(|i| !i.name.contains("mask"))
            .ok_or_else(|| bad("no token id input shaped [n, length]".into()))?;
        let mask = ints.iter().find(|i| i.name.contains("mask"));
        if m.outputs.len() != 1 || !(2..=3).contains(&m.outputs[0].shape.len()) {
            return Err(bad("expects one logits output shaped [n, h, w]".into()));
        }
        let norm = m
            .normalisation
            .clone()
            .ok_or_else(|| bad("the manifest gives no input normalisation".into()))?;
        if let Some(p) = norm.problem() {
            return Err(bad(p.into()));
        }
        let file = |role: &str| {
            m.files
                .iter()
                .find(|f| f.role == role)
                .map(|f| pkg.dir.join(&f.path))
                .ok_or_else(|| bad(format!("no file with the role \"{role}\"")))
        };
        let (vocab, merges) = (file("vocab")?, file("merges")?);
        let session = pkg.open_session(rt, opts).map_err(|e| bad(e.to_string()))?;
        let tokenizer = ClipTokenizer::open(&vocab, &merges).map_err(|e| bad(e.to_string()))?;
        let side = |d: i64| if d > 0 { d as usize } else { 352 };
        Ok(TextSegmenter {
            name: m.name.clone(),
            session,
            tokenizer,
            ids_input: ids.name.clone(),
            mask_input: mask.map(|i| i.name.clone()),
            image_input: image.name.clone(),
            width: side(image.shape[3]),
            height: side(image.shape[2]),
            norm,
        })
    }

    /// The execution provider the model runs on.
    pub fn provider(&self) -> crate::onnx::Provider {
        self.session.provider
    }

    /// The tokenizer, for callers that show what a prompt becomes.
    pub fn tokenizer(&self) -> &ClipTokenizer {
        &self.tokenizer
    }
}

impl Segmenter for TextSegmenter {
    fn name(&self) -> &str {
        &self.name
    }

    fn offers(&self) -> Vec<Offer> {
        vec![Offer {
            name: "any words".into(),
            aliases: vec!["a text-prompted model".into()],
        }]
    }

    fn open_vocabulary(&self) -> bool {
        true
    }

    fn finds(&self, name: &str) -> bool {
        // Tone and colour ranges are pixel measurements, not things to look for.
        !prompt_for(name).is_empty() && !resolve(name).is_some_and(|r| r.is_pixel_range())
    }

    fn segment(&self, image: &RgbF32, names: &[&str]) -> Result<Vec<Plane>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        if image.width == 0 || image.height == 0 {
            return Err(Error::InvalidRequest("empty image".into()));
        }
        let prompts: Vec<String> = names.iter().map(|n| prompt_for(n)).collect();
        if let Some(i) = prompts.iter().position(String::is_empty) {
            return Err(Error::UnknownRegion {
                region: names[i].to_string(),
                available: "any non-empty words".into(),
            });
        }
        let refs: Vec<&str> = prompts.iter().map(String::as_str).collect();
        let enc = self.tokenizer.encode_batch(&refs);
        let ids = TensorI64 {
            shape: vec![enc.batch, enc.length],
            data: enc.ids,
        };
        let mask = TensorI64 {
            shape: vec![enc.batch, enc.length],
            data: enc.attention,
        };
        let pixels = image_tensor(image, self.width, self.height, &self.norm, enc.batch);
        let mut inputs = vec![
            (self.ids_input.as_str(), Input::I64(&ids)),
            (self.image_input.as_str(), Input::F32(&pixels)),
        ];
        if let Some(m) = &self.mask_input {
            inputs.push((m.as_str(), Input::I64(&mask)));
        }
        let outputs = self.session.run(&inputs).map_err(|e| {
            Error::model_caused(&self.name, "the segmentation model failed to run", e)
        })?;
        let (_, logits) = outputs
            .into_iter()
            .next()
            .ok_or_else(|| model_err(&self.name, "the model returned nothing"))?;
        let (n, h, w) = match logits.shape[..] {
            [n, h, w] => (n, h, w),
            [h, w] => (1, h, w),
            _ => {
                return Err(model_err(
                    &self.name,
                    format!("logits shaped {:?}, expected [n, h, w]", logits.shape),
                ))
            }
        };
        if n != names.len() || h == 0 || w == 0 {
            return Err(model_err(
                &self.name,
                format!(
                    "logits shaped {:?} for {} prompts",
                    logits.shape,
                    names.len()
                ),
            ));
        }
        Ok(logits
            .data
            .chunks_exact(h * w)
            .map(|l| {
                let p: Vec<f32> = l.iter().map(|&v| sigmoid(v)).collect();
                to_image_size(&p, w, h, image)
            })
            .collect())
    }
}
