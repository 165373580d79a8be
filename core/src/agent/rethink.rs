//! Applying an interpretation to a photo, with the measured rethink loop.

use super::auto::auto_edits;
use super::instruction::{Edit, Interpretation, Kind};
use crate::error::Result;
use crate::mask::MaskSet;
use crate::measure::{measure, LevelTables, RegionWeights};
use crate::params::{Attribute, RegionState, GLOBAL};
use crate::raster::Raster;
use crate::render::{Control, RenderJob, RenderReport, RenderRequest, Renderer};
use serde::Serialize;

/// Long side of the preview the rethink loop renders, in hosts and the CLI.
pub const PREVIEW_LONG_SIDE: usize = 1024;

/// `photo` scaled to fit `long_side` (area-averaged): what a session renders.
pub fn preview(photo: &Raster, long_side: usize) -> Raster {
    let (w, h) = crate::plane::fit_long_side(photo.width(), photo.height(), long_side);
    crate::render::parametric::resample(photo, w, h)
}

/// Most render-measure-adjust rounds for a strong instruction.
pub const MAX_ROUNDS: usize = 3;

/// A measured change within this of what the wording asked for is a match.
pub const TOLERANCE: f64 = 0.05;

/// What one edit achieved in one round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub region: String,
    pub attribute: Attribute,
    /// Level change the wording asked for (on top of the starting state).
    pub asked: f64,
    /// Level change measured on the rendered preview; `None` if the region is empty.
    pub measured: Option<f64>,
}

/// One round of the loop: the state rendered, what was measured, what was decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Round {
    pub round: usize,
    pub state: serde_json::Value,
    pub checks: Vec<Check>,
    pub decision: String,
}

/// The result of applying an instruction.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub interpretation: Interpretation,
    /// The edits actually applied (for weak optimise: the auto look's).
    pub edits: Vec<Edit>,
    /// The region state to render at full resolution.
    #[serde(skip)]
    pub state: RegionState,
    pub trace: Vec<Round>,
    /// Every edit's measured change matched the wording (or could not go further).
    pub converged: bool,
}

/// A photo (a preview of it: the loop renders it several times), its region masks and
/// the renderer, for applying instructions one after another.
pub struct Session<'a> {
    pub renderer: &'a dyn Renderer,
    pub preview: &'a Raster,
    pub masks: &'a MaskSet,
    pub tables: &'a LevelTables,
}

impl Session<'_> {
    /// Applies `interp` on top of `base` and returns the state to render, with the
    /// trace of the rethink loop.
    pub fn apply(
        &self,
        base: &RegionState,
        interp: &Interpretation,
        ctl: &Control<'_>,
    ) -> Result<Outcome> {
        let edits = match interp.kind {
            Kind::WeakOptimize => {
                let rgb = self.preview.analysis_rgb(self.tables.analysis_long_side);
                match measure(&rgb, RegionWeights::Whole) {
                    Some(m) => auto_edits(self.tables.levels(&m)),
                    None => Vec::new(),
                }
            }
            _ => interp.edits.clone(),
        };
        // Start: the base state plus each edit's change.
        let mut state = base.clone();
        let mut asked = Vec::with_capacity(edits.len());
        for e in &edits {
            let old = base.get(&e.region, e.attribute).unwrap_or(0.0);
            let v = state.set(&e.region, e.attribute, old + e.amount)?;
            asked.push(v as f64);
        }
        // Held regions keep every attribute the edits change globally.
        for h in &interp.holds {
            for e in edits.iter().filter(|e| e.region == GLOBAL) {
                state.set(h, e.attribute, 0.0)?;
            }
        }
        let rounds = if interp.kind == Kind::Strong {
            MAX_ROUNDS
        } else {
            1
        };
        let mut trace = Vec::new();
        let mut converged = false;
        for round in 1..=rounds {
            ctl.check()?;
            let report = self.render(&state, ctl)?;
            let checks: Vec<Check> = edits
                .iter()
                .zip(&asked)
                .map(|(e, &a)| Check {
                    region: e.region.clone(),
                    attribute: e.attribute,
                    asked: a,
                    measured: find(&report, &e.region, e.attribute)
                        .and_then(|r| r.achieved.map(|x| x - r.before)),
                })
                .collect();
            let off: Vec<(usize, f64)> = checks
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.measured.map(|m| (i, c.asked - m)))
                .filter(|(_, err)| err.abs() > TOLERANCE)
                .collect();
            // Edits the renderer says it cannot push further.
            let limited: Vec<String> = off
                .iter()
                .filter_map(|&(i, _)| {
                    let e = &edits[i];
                    find(&report, &e.region, e.attribute)
                        .and_then(|r| r.note.clone())
                        .filter(|n| {
                            n.contains("limit") || n.contains("beyond") || n.contains("closest")
                        })
                        .map(|n| format!("{} {}: {n}", e.region, e.attribute))
                })
                .collect();
            let decision;
            if interp.kind != Kind::Strong {
                decision = match interp.kind {
                    Kind::WeakStyle => "applied the look once".to_string(),
                    _ => "applied the auto look once".to_string(),
                };
                converged = true;
            } else if off.is_empty() {
                decision = "every measured change matches the wording: done".to_string();
                converged = true;
            } else if limited.len() == off.len() {
                decision = format!("as far as the photo allows: {}", limited.join("; "));
                converged = true;
            } else if round == rounds {
                decision = "out of rounds: keeping the closest result".to_string();
            } else {
                let mut parts = Vec::new();
                for &(i, err) in &off {
                    let e = &edits[i];
                    let now = state.get(&e.region, e.attribute).unwrap_or(0.0);
                    let next = state.set(&e.region, e.attribute, now + err as f32)?;
                    parts.push(format!(
                        "{} {} measured {:+.2} for {:+.2} asked: {:+.2} -> {:+.2}",
                        e.region,
                        e.attribute,
                        checks[i].measured.unwrap_or(0.0),
                        checks[i].asked,
                        now,
                        next
                    ));
                }
                decision = format!("adjusting: {}", parts.join("; "));
            }
            trace.push(Round {
                round,
                state: state_value(&state),
                checks,
                decision,
            });
            if converged {
                break;
            }
        }
        Ok(Outcome {
            interpretation: interp.clone(),
            edits,
            state,
            trace,
            converged,
        })
    }

    fn render(&self, state: &RegionState, ctl: &Control<'_>) -> Result<RenderReport> {
        let job = RenderJob {
            source: self.preview,
            masks: self.masks,
            state,
        };
        Ok(self
            .renderer
            .render(&job, &RenderRequest::default(), ctl)?
            .report)
    }
}

fn find<'r>(
    report: &'r RenderReport,
    region: &str,
    attr: Attribute,
) -> Option<&'r crate::render::RegionReport> {
    report
        .edits
        .iter()
        .find(|r| r.region == region && r.attribute == attr)
}

fn state_value(state: &RegionState) -> serde_json::Value {
    state.to_value()
}
