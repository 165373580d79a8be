//! A label-set semantic segmentation model (SegFormer fine-tuned on ADE20K is the
//! reference): one `[1, 3, H, W]` image in, `[1, classes, h, w]` logits out.
//!
//! A region's mask is the softmax probability, per pixel, that the pixel belongs
//! to any of the region's classes, brought to the analysis size with the shared
//! bilinear rule. Our region names map onto class sets (vegetation = tree, grass,
//! plant, flower, palm, field); every class of the label set can also be asked for
//! by its own name ("building", "mountain", "car") or its plural.

use super::model_io::{class_group_probabilities, image_tensor, to_image_size};
use super::names::{resolve, Region};
use super::{model_err, Offer, Segmenter};
use crate::error::{Error, Result};
use crate::onnx::package::Normalisation;
use crate::onnx::{OnnxSession, Package, Runtime, SessionOptions};
use crate::plane::Plane;
use crate::raster::RgbF32;

/// The package task this segmenter runs.
pub const TASK: &str = "segmentation-labels";

/// Label-set classes that make up each of our semantic regions (ADE20K names).
fn region_classes(region: Region) -> &'static [&'static str] {
    match region {
        Region::Sky => &["sky"],
        Region::Vegetation => &["tree", "grass", "plant", "flower", "palm", "field"],
        Region::Water => &[
            "water",
            "sea",
            "river",
            "lake",
            "waterfall",
            "swimming pool",
        ],
        // A label set has people, not skin: the whole person stands in.
        Region::Skin => &["person"],
        _ => &[],
    }
}

/// A loaded label-set model.
#[derive(Debug)]
pub struct LabelSegmenter {
    name: String,
    session: OnnxSession,
    input: String,
    width: usize,
    height: usize,
    norm: Normalisation,
    labels: Vec<String>,
}

impl LabelSegmenter {
    /// Verifies and opens a `segmentation-labels` package.
    pub fn open(pkg: &Package, rt: &Runtime, opts: &SessionOptions) -> Result<Self> {
        let m = &pkg.manifest;
        let bad = |reason: String| model_err(&m.name, reason);
        if m.task != TASK {
            return Err(bad(format!("task is \"{}\", not \"{TASK}\"", m.task)));
        }
        let input = m
            .inputs
            .first()
            .filter(|i| m.inputs.len() == 1 && i.shape.len() == 4 && i.shape[1] == 3)
            .ok_or_else(|| bad("expects one image input shaped [1, 3, H, W]".into()))?;
        if m.outputs.len() != 1 || m.outputs[0].shape.len() != 4 {
            return Err(bad(
                "expects one logits output shaped [1, classes, h, w]".into()
            ));
        }
        if m.labels.is_empty() {
            return Err(bad("the manifest lists no labels".into()));
        }
        let norm = m
            .normalisation
            .clone()
            .ok_or_else(|| bad("the manifest gives no input normalisation".into()))?;
        if let Some(p) = norm.problem() {
            return Err(bad(p.into()));
        }
        let side = |d: i64| if d > 0 { d as usize } else { 512 };
        let session = pkg.open_session(rt, opts).map_err(|e| bad(e.to_string()))?;
        Ok(LabelSegmenter {
            name: m.name.clone(),
            session,
            input: input.name.clone(),
            width: side(input.shape[3]),
            height: side(input.shape[2]),
            norm,
            labels: m.labels.iter().map(|l| l.to_lowercase()).collect(),
        })
    }

    /// The execution provider the model runs on.
    pub fn provider(&self) -> crate::onnx::Provider {
        self.session.provider
    }

    /// Class indices a user's region name stands for, if any.
    pub fn classes_for(&self, name: &str) -> Option<Vec<usize>> {
        let index = |label: &str| self.labels.iter().position(|l| l == label);
        if let Some(r) = resolve(name) {
            let classes: Vec<usize> = region_classes(r).iter().filter_map(|l| index(l)).collect();
            if !classes.is_empty() {
                return Some(classes);
            }
        }
        let n = name.trim().to_lowercase().replace(['_', '-'], " ");
        let n = n.strip_prefix("the ").unwrap_or(&n).trim();
        let mut forms = vec![n.to_string()];
        forms.extend(n.strip_suffix('s').map(str::to_string));
        forms.extend(n.strip_suffix("es").map(str::to_string));
        forms.extend(n.strip_suffix("ies").map(|s| format!("{s}y")));
        for f in forms.iter().filter(|f| !f.is_empty()) {
            if let Some(i) = index(f) {
                return Some(vec![i]);
            }
        }
        None
    }
}

impl Segmenter for LabelSegmenter {
    fn name(&self) -> &str {
        &self.name
    }

    fn offers(&self) -> Vec<Offer> {
        let mut out: Vec<Offer> = [Region::Sky, Region::Vegetation, Region::Water, Region::Skin]
            .into_iter()
            .filter(|r| self.classes_for(r.name()).is_some())
            .map(Offer::region)
            .collect();
        out.extend(self.labels.iter().map(|l| Offer {
            name: l.clone(),
            aliases: Vec::new(),
        }));
        out
    }

    fn finds(&self, name: &str) -> bool {
        self.classes_for(name).is_some()
    }

    fn segment(&self, image: &RgbF32, names: &[&str]) -> Result<Vec<Plane>> {
        let groups = names
            .iter()
            .map(|n| {
                self.classes_for(n).ok_or_else(|| Error::UnknownRegion {
                    region: n.to_string(),
                    available: super::describe(&self.offers()),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if image.width == 0 || image.height == 0 {
            return Err(Error::InvalidRequest("empty image".into()));
        }
        let tensor = image_tensor(image, self.width, self.height, &self.norm, 1);
        let outputs = self
            .session
            .run_f32(&[(self.input.as_str(), &tensor)])
            .map_err(|e| {
                Error::model_caused(&self.name, "the segmentation model failed to run", e)
            })?;
        let (_, logits) = outputs
            .into_iter()
            .next()
            .ok_or_else(|| model_err(&self.name, "the model returned nothing"))?;
        let [_, classes, h, w] = logits.shape[..] else {
            return Err(model_err(
                &self.name,
                format!("logits shaped {:?}, expected 4 dimensions", logits.shape),
            ));
        };
        if classes != self.labels.len() || h == 0 || w == 0 {
            return Err(model_err(
                &self.name,
                format!(
                    "logits shaped {:?} but the manifest lists {} labels",
                    logits.shape,
                    self.labels.len()
                ),
            ));
        }
        let probs =
            class_group_probabilities(&logits.data[..classes * h * w], classes, h, w, &groups);
        Ok(probs
            .iter()
            .map(|p| to_image_size(p, w, h, image))
            .collect())
    }
}
