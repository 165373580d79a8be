//! Several segmenters behind one: installed ONNX models in front, the built-in
//! segmenter behind them.
//!
//! Each region name goes to exactly one segmenter: tone and colour ranges
//! (shadows, reds, ...) always to the built-in one, which measures them from pixel
//! values; any other name to the first model that finds it (label-set models
//! before text-prompted ones), else to the built-in one. A model that cannot be
//! loaded is skipped with a note, never an error: the built-in segmenter still
//! works with no ONNX Runtime and no model files.

use super::builtin::BuiltinAnalysis;
use super::{describe, labels, text, BuiltinSegmenter, LabelSegmenter, Offer, Segmenter};
use super::{resolve, TextSegmenter};
use crate::error::{Error, Result};
use crate::onnx::{self, package, RuntimeConfig, SessionOptions};
use crate::plane::Plane;
use crate::raster::RgbF32;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// Which segmentation models to use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmenterConfig {
    /// Package names, in the order they are asked. `None`: every installed
    /// segmentation package (label-set ones first). `Some([])`: built-in only.
    pub models: Option<Vec<String>>,
}

/// The segmenter the CLI and the plug-ins use.
pub struct Layered {
    models: Vec<Arc<dyn Segmenter>>,
    builtin: BuiltinSegmenter,
    /// What could not be loaded, for the user.
    pub notes: Vec<String>,
}

impl std::fmt::Debug for Layered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layered")
            .field(
                "models",
                &self
                    .models
                    .iter()
                    .map(|m| m.name().to_string())
                    .collect::<Vec<_>>(),
            )
            .field("notes", &self.notes)
            .finish()
    }
}

impl Layered {
    /// The built-in segmenter alone.
    pub fn builtin_only() -> Self {
        Self::new(Vec::new())
    }

    /// `models` in front of the built-in segmenter.
    pub fn new(models: Vec<Arc<dyn Segmenter>>) -> Self {
        Layered {
            models,
            builtin: BuiltinSegmenter,
            notes: Vec::new(),
        }
    }

    /// Opens the models `config` names from `models_dir`. Anything that fails
    /// (no ONNX Runtime, a missing or tampered package) becomes a note and the
    /// built-in segmenter covers for it.
    pub fn open(
        config: &SegmenterConfig,
        models_dir: Option<&Path>,
        runtime: &RuntimeConfig,
        session: &SessionOptions,
    ) -> Self {
        let mut out = Self::builtin_only();
        let Some(root) = models_dir else {
            return out;
        };
        let mut wanted: Vec<package::Package> = Vec::new();
        match &config.models {
            Some(names) => {
                for n in names {
                    match package::find(root, n) {
                        Ok(p) => wanted.push(p),
                        Err(e) => out.notes.push(e.to_string()),
                    }
                }
            }
            None => {
                let mut found: Vec<package::Package> = package::installed(root)
                    .into_iter()
                    .filter_map(|(_, p)| p.ok())
                    .filter(|p| matches!(p.manifest.task.as_str(), labels::TASK | text::TASK))
                    .collect();
                found.sort_by_key(|p| (p.manifest.task != labels::TASK, p.manifest.name.clone()));
                wanted = found;
            }
        }
        if wanted.is_empty() {
            return out;
        }
        let rt = match onnx::load(runtime) {
            Ok(rt) => rt,
            Err(e) => {
                out.notes.push(format!(
                    "segmentation models not used ({}): {e}",
                    wanted
                        .iter()
                        .map(|p| p.manifest.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                return out;
            }
        };
        for p in wanted {
            let opened: Result<Arc<dyn Segmenter>> = match p.manifest.task.as_str() {
                labels::TASK => LabelSegmenter::open(&p, rt, session).map(|s| {
                    tracing::info!(model = %p.manifest.name, provider = s.provider().name(), "segmentation model loaded");
                    Arc::new(s) as Arc<dyn Segmenter>
                }),
                text::TASK => TextSegmenter::open(&p, rt, session).map(|s| {
                    tracing::info!(model = %p.manifest.name, provider = s.provider().name(), "segmentation model loaded");
                    Arc::new(s) as Arc<dyn Segmenter>
                }),
                other => Err(Error::Model {
                    model: p.manifest.name.clone(),
                    reason: format!("task \"{other}\" is not segmentation"),
                }),
            };
            match opened {
                Ok(s) => out.models.push(s),
                Err(e) => out
                    .notes
                    .push(format!("{e}; using the built-in segmenter instead")),
            }
        }
        out
    }

    /// Names of the models in front of the built-in segmenter.
    pub fn model_names(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.name()).collect()
    }

    /// The segmenter a region name goes to.
    pub fn route(&self, name: &str) -> Option<&dyn Segmenter> {
        if resolve(name).is_some_and(|r| r.is_pixel_range()) {
            return Some(&self.builtin);
        }
        self.models
            .iter()
            .map(|m| m.as_ref())
            .find(|m| m.finds(name))
            .or_else(|| {
                self.builtin
                    .finds(name)
                    .then_some(&self.builtin as &dyn Segmenter)
            })
    }
}

impl Segmenter for Layered {
    fn name(&self) -> &str {
        "layered"
    }

    fn offers(&self) -> Vec<Offer> {
        let mut out: Vec<Offer> = Vec::new();
        for o in self
            .models
            .iter()
            .flat_map(|m| m.offers())
            .chain(self.builtin.offers())
        {
            if !out.iter().any(|x| x.name == o.name) {
                out.push(o);
            }
        }
        out
    }

    fn open_vocabulary(&self) -> bool {
        self.models.iter().any(|m| m.open_vocabulary())
    }

    fn finds(&self, name: &str) -> bool {
        self.route(name).is_some()
    }

    fn segment(&self, image: &RgbF32, names: &[&str]) -> Result<Vec<Plane>> {
        let analysis = std::sync::OnceLock::new();
        self.segment_with(image, names, &|| {
            analysis.get_or_init(|| self.builtin.analyse(image))
        })
    }
}

impl Layered {
    /// [`Segmenter::segment`] with the built-in segmenter's analysis of `image`
    /// given by `builtin` (asked for only when a name goes to the built-in
    /// segmenter), so several calls on one photo analyse it once.
    pub fn segment_with<'a>(
        &self,
        image: &RgbF32,
        names: &[&str],
        builtin: &dyn Fn() -> &'a BuiltinAnalysis,
    ) -> Result<Vec<Plane>> {
        // Group the names by segmenter so each model runs once.
        let mut groups: Vec<(&dyn Segmenter, Vec<usize>)> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let Some(s) = self.route(n) else {
                return Err(Error::UnknownRegion {
                    region: n.to_string(),
                    available: describe(&self.offers()),
                });
            };
            match groups.iter_mut().find(|(g, _)| {
                std::ptr::addr_eq(*g as *const dyn Segmenter, s as *const dyn Segmenter)
            }) {
                Some((_, idx)) => idx.push(i),
                None => groups.push((s, vec![i])),
            }
        }
        let mut out: Vec<Option<Plane>> = vec![None; names.len()];
        for (s, idx) in groups {
            let asked: Vec<&str> = idx.iter().map(|&i| names[i]).collect();
            tracing::debug!(segmenter = s.name(), regions = ?asked, "segmenting");
            let is_builtin = std::ptr::addr_eq(
                s as *const dyn Segmenter,
                &self.builtin as &dyn Segmenter as *const dyn Segmenter,
            );
            let planes = if is_builtin {
                builtin().regions(&self.builtin.regions_named(&asked)?)
            } else {
                s.segment(image, &asked)?
            };
            for (i, p) in idx.into_iter().zip(planes) {
                out[i] = Some(p);
            }
        }
        out.into_iter()
            .map(|p| {
                p.ok_or_else(|| Error::Model {
                    model: "layered".into(),
                    reason: "a segmenter returned fewer masks than asked".into(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A segmenter that finds one word and paints it a constant.
    struct Fixed(&'static str, f32);
    impl Segmenter for Fixed {
        fn name(&self) -> &str {
            self.0
        }
        fn offers(&self) -> Vec<Offer> {
            vec![Offer {
                name: self.0.into(),
                aliases: vec![],
            }]
        }
        fn finds(&self, name: &str) -> bool {
            name == self.0 || name == "sky" || name == "shadows"
        }
        fn segment(&self, image: &RgbF32, names: &[&str]) -> Result<Vec<Plane>> {
            Ok(names
                .iter()
                .map(|_| Plane::filled(image.width, image.height, self.1))
                .collect())
        }
    }

    #[test]
    fn names_go_to_the_right_layer() {
        let l = Layered::new(vec![
            Arc::new(Fixed("car", 0.25)),
            Arc::new(Fixed("boat", 0.5)),
        ]);
        assert_eq!(l.route("car").map(|s| s.name()), Some("car"));
        assert_eq!(l.route("boat").map(|s| s.name()), Some("boat"));
        // The first model that finds a name gets it.
        assert_eq!(l.route("sky").map(|s| s.name()), Some("car"));
        // Tone ranges are always measured by the built-in segmenter.
        assert_eq!(l.route("shadows").map(|s| s.name()), Some("builtin"));
        assert_eq!(l.route("trees").map(|s| s.name()), Some("builtin"));
        assert!(l.route("unicorn").is_none());

        let img = RgbF32 {
            width: 4,
            height: 2,
            data: vec![[10.0, 10.0, 10.0]; 8],
        };
        let m = l.segment(&img, &["boat", "shadows", "car"]).unwrap();
        assert_eq!(m[0].data()[0], 0.5);
        assert_eq!(m[1].data()[0], 1.0, "a dark pixel is all shadow");
        assert_eq!(m[2].data()[0], 0.25);
        let e = l.segment(&img, &["unicorn"]).unwrap_err().to_string();
        assert!(
            e.contains("unicorn") && e.contains("car") && e.contains("sky"),
            "{e}"
        );
    }

    #[test]
    fn missing_models_become_notes() {
        let dir = tempfile::tempdir().unwrap();
        let l = Layered::open(
            &SegmenterConfig {
                models: Some(vec!["segformer-ade20k".into()]),
            },
            Some(dir.path()),
            &RuntimeConfig::default(),
            &SessionOptions::default(),
        );
        assert!(l.model_names().is_empty());
        assert_eq!(l.notes.len(), 1);
        assert!(l.notes[0].contains("segformer-ade20k"), "{:?}", l.notes);
        // Auto with nothing installed: no notes, built-in only.
        let l = Layered::open(
            &SegmenterConfig::default(),
            Some(dir.path()),
            &RuntimeConfig::default(),
            &SessionOptions::default(),
        );
        assert!(l.notes.is_empty() && l.model_names().is_empty());
    }
}
