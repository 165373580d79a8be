//! The diffusion model as a [`Renderer`]: the region state of *changes* becomes the
//! map of *levels* the model was trained on (PERTOUCH.md section 2: each region's
//! measured level plus its change), the model renders at its own size, and the edit
//! is carried to the full-resolution frame by [`ColourTransfer`]. The report has the
//! same shape as the parametric renderer's, so the agent's rethink loop measures
//! and corrects either renderer the same way.

use super::pipeline::{DiffusionModel, SampleOptions};
use super::transfer::{ColourTransfer, TransferOptions};
use crate::error::{Error, Result};
use crate::mask::MaskSet;
use crate::measure::{measure_regions, LevelTables, RegionWeights};
use crate::onnx::TensorF32;
use crate::params::{Attribute, AttributeValues, ParamMap, RegionState, GLOBAL};
use crate::plane::Plane;
use crate::raster::Raster;
use crate::raster::RgbF32;
use crate::render::refine::{guide_value, RefineOptions, RefinedMask};
use crate::render::targets::{edit_targets, measure_targets, start_report, Target};
use crate::render::{Control, FramePlan, RegionReport, RenderJob, RenderReport, Renderer};
use std::sync::Arc;

/// PerTouch's diffusion renderer.
#[derive(Debug, Clone)]
pub struct DiffusionRenderer {
    model: Arc<DiffusionModel>,
    pub sample: SampleOptions,
    pub transfer: TransferOptions,
    pub refine: RefineOptions,
    /// Measure the full-resolution output and report achieved levels.
    pub verify: bool,
}

/// What the model is asked for, before it runs.
#[derive(Debug, Clone)]
pub struct LevelMap {
    /// `[1, 4, S, S]`, channels in [`Attribute`] order.
    pub tensor: TensorF32,
    /// Per edit: the region, attribute, current level, change and target.
    pub report: RenderReport,
    /// The edits and what each is measured on (the analysis proxy's masks).
    targets: Vec<Target>,
    proxy: RgbF32,
}

impl DiffusionRenderer {
    pub fn new(model: Arc<DiffusionModel>) -> Self {
        DiffusionRenderer {
            model,
            sample: SampleOptions::default(),
            transfer: TransferOptions::default(),
            refine: RefineOptions::default(),
            verify: true,
        }
    }

    pub fn model(&self) -> &DiffusionModel {
        &self.model
    }

    /// The model, shared (an engine keeps it to describe the renderer).
    pub fn model_arc(&self) -> Arc<DiffusionModel> {
        self.model.clone()
    }

    fn tables(&self) -> &LevelTables {
        self.model.tables()
    }

    /// Measures every region's current levels and builds the level map: outside the
    /// named regions, the whole photo's levels plus the global changes; inside each
    /// named region (blended by its refined mask), that region's own levels plus its
    /// changes, or plus the global change for attributes it does not set.
    pub fn level_map(&self, job: &RenderJob<'_>, ctl: &Control<'_>) -> Result<LevelMap> {
        let src = job.source;
        let tables = self.tables();
        job.masks.check_fits(src.width(), src.height())?;
        let named: Vec<(&str, &AttributeValues)> = job
            .state
            .named_regions()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let mut rough = Vec::with_capacity(named.len());
        for (name, _) in &named {
            rough.push(job.masks.get(name).ok_or_else(|| Error::MissingRegion {
                region: name.to_string(),
                available: job.masks.available(),
            })?);
        }
        ctl.report("analyse", 0.0);
        let proxy = src.analysis_rgb(tables.analysis_long_side);
        let guide = Plane::from_vec(
            proxy.width,
            proxy.height,
            proxy
                .data
                .iter()
                .map(|p| guide_value(p.map(|v| v / 255.0)))
                .collect(),
        )
        .expect("sizes match");
        let masks: Vec<Plane> = rough
            .iter()
            .map(|r| RefinedMask::refine(r, &guide, &self.refine).to_plane(&guide))
            .collect();
        ctl.check()?;
        let global = job.state.region(GLOBAL).cloned().unwrap_or_default();
        // Current levels: the whole photo and each named region, all four attributes.
        let mut weights: Vec<RegionWeights<'_>> = vec![RegionWeights::Whole];
        weights.extend(masks.iter().map(RegionWeights::Mask));
        let levels: Vec<Option<[f64; 4]>> = measure_regions(&proxy, &weights)
            .into_iter()
            .map(|m| {
                m.map(|m| {
                    let raw = m.to_array();
                    std::array::from_fn(|c| tables.table(Attribute::ALL[c]).level(raw[c]))
                })
            })
            .collect();
        let whole = levels[0]
            .ok_or_else(|| Error::InvalidRequest("the photo has no pixels to measure".into()))?;
        let target = |level: f64, change: Option<f32>| {
            (level + change.unwrap_or(0.0) as f64).clamp(-1.0, 1.0) as f32
        };
        // The map is painted by the reference rule (ParamMap::rasterize) from a state
        // of target levels: the whole photo's under "global", each region's own.
        let mut levels_state = RegionState::default();
        let mut refined = MaskSet::new();
        for attr in Attribute::ALL {
            let c = attr.channel();
            levels_state.set(GLOBAL, attr, target(whole[c], global.get(attr)))?;
        }
        for (((name, values), mask), lv) in named.iter().zip(&masks).zip(&levels[1..]) {
            let Some(lv) = lv else { continue };
            for attr in Attribute::ALL {
                let c = attr.channel();
                levels_state.set(
                    name,
                    attr,
                    target(lv[c], values.get(attr).or(global.get(attr))),
                )?;
            }
            refined.insert(name, mask.clone());
        }
        let s = self.model.size();
        let map = ParamMap::rasterize(&levels_state, &refined, s, s)?;
        let tensor: Vec<f32> = Attribute::ALL
            .into_iter()
            .flat_map(|attr| map.channel(attr).data().to_vec())
            .collect();
        // The report's edits, measured as every renderer measures them.
        let targets = edit_targets(job.state, &named, &masks, proxy.width, proxy.height);
        let edits = targets
            .iter()
            .zip(measure_targets(&proxy, &targets))
            .map(|(t, b)| {
                let level = b.map(|b| tables.table(t.attribute()).level(b.to_array()[t.channel]));
                start_report(t, level)
            })
            .collect();
        Ok(LevelMap {
            tensor: TensorF32 {
                shape: vec![1, 4, s, s],
                data: tensor,
            },
            report: RenderReport {
                renderer: "diffusion".into(),
                edits,
            },
            targets,
            proxy,
        })
    }
}

/// Measures `rgb` (an analysis-size image of the output) for the edits of `map`
/// and writes the levels into `report` through `set`.
fn measure_into(
    tables: &LevelTables,
    map: &LevelMap,
    rgb: &RgbF32,
    report: &mut RenderReport,
    set: impl Fn(&mut RegionReport, f64),
) {
    let measured = measure_targets(rgb, &map.targets);
    for (e, m) in report.edits.iter_mut().zip(measured) {
        if let (Some(m), None) = (m, e.note.as_deref().filter(|n| n.contains("empty"))) {
            let level = tables
                .table(e.attribute)
                .level(m.to_array()[e.attribute.channel()]);
            set(e, level);
        }
    }
}

/// A frame's diffusion edit, ready to apply to any tile at any scale: the model
/// ran once, the colour transfer was fitted once.
#[derive(Debug, Clone)]
pub struct DiffusionPlan {
    transfer: ColourTransfer,
    map: LevelMap,
    /// The model's level tables (what "achieved" is measured with).
    tables: LevelTables,
    report: RenderReport,
}

impl FramePlan for DiffusionPlan {
    /// What was asked and what the model's edit does on the analysis proxy.
    fn report(&self) -> &RenderReport {
        &self.report
    }

    /// The edit applied to `tile` by the fitted colour transfer.
    fn render_tile(
        &self,
        tile: &Raster,
        x0: usize,
        y0: usize,
        frame_width: usize,
        frame_height: usize,
        ctl: &Control<'_>,
    ) -> Result<Raster> {
        self.transfer
            .apply(tile, x0, y0, frame_width, frame_height, ctl)
    }

    fn verify_output(&mut self, output: &Raster) {
        let rgb = output.analysis_rgb(self.tables.analysis_long_side);
        measure_into(&self.tables, &self.map, &rgb, &mut self.report, |e, l| {
            e.achieved = Some(l)
        });
    }
}

impl DiffusionRenderer {
    /// Runs the model for `job` once and fits the transfer: the expensive part of a
    /// render, shared by every tile and render scale of the frame.
    pub fn plan(&self, job: &RenderJob<'_>, ctl: &Control<'_>) -> Result<DiffusionPlan> {
        let map = self.level_map(job, ctl)?;
        let s = self.model.size();
        let small = job.source.rgb_resized(s, s);
        let (edited, stats) = self.model.retouch(&small, &map.tensor, &self.sample, ctl)?;
        tracing::debug!(steps = stats.steps, total = ?stats.total, onnx = ?stats.onnx, "diffusion sampled");
        let transfer = ColourTransfer::fit(&small, &edited, &self.transfer)?;
        let mut report = map.report.clone();
        // What the edit does on the analysis proxy: the renderer's prediction.
        let predicted = transfer.apply_rgb(&map.proxy);
        measure_into(self.tables(), &map, &predicted, &mut report, |e, l| {
            e.predicted = l
        });
        Ok(DiffusionPlan {
            transfer,
            map,
            tables: self.tables().clone(),
            report,
        })
    }
}

impl Renderer for DiffusionRenderer {
    fn name(&self) -> &'static str {
        "diffusion"
    }

    fn plan_frame(&self, job: &RenderJob<'_>, ctl: &Control<'_>) -> Result<Box<dyn FramePlan>> {
        Ok(Box::new(self.plan(job, ctl)?))
    }

    fn verifies(&self) -> bool {
        self.verify
    }
}
