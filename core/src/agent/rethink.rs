//! Applying an interpretation to a photo, with the measured rethink loop.

use super::auto::auto_edits;
use super::instruction::{Edit, Interpretation, Kind};
use crate::error::Result;
use crate::mask::MaskSet;
use crate::measure::{measure, LevelTables, RegionWeights};
use crate::params::{Attribute, RegionState, GLOBAL};
use crate::raster::Raster;
use crate::render::{Control, RenderJob, RenderOutput, RenderReport, RenderRequest, Renderer};
use serde::Serialize;

/// Long side of the preview the rethink loop renders, in hosts and the CLI.
pub const PREVIEW_LONG_SIDE: usize = 1024;

/// `photo` scaled to fit `long_side` (area-averaged): what a session renders.
pub fn preview(photo: &Raster, long_side: usize) -> Raster {
    let (w, h) = crate::plane::fit_long_side(photo.width(), photo.height(), long_side);
    crate::render::resample(photo, w, h)
}

/// Most render-measure-adjust rounds for a strong instruction.
pub const MAX_ROUNDS: usize = 3;

/// A measured change within this of what the wording asked for is a match.
pub const TOLERANCE: f64 = 0.05;

/// A named region covering less of the photo than this (1%) is too small to edit
/// as asked: the agent says so instead of editing a few stray pixels.
pub const MIN_REGION_COVERAGE: f64 = 0.01;

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
    /// Per edit: the visible size (mean CIEDE2000 over its region) the wording
    /// asked for, when the edit was sized by it (`agent::sizing`).
    pub visible: Vec<Option<f64>>,
    /// What the user should know: parts left out, regions (almost) absent.
    pub notes: Vec<String>,
}

/// A photo (a preview of it: the loop renders it several times), its region masks and
/// the renderer, for applying instructions one after another.
pub struct Session<'a> {
    pub renderer: &'a dyn Renderer,
    pub preview: &'a Raster,
    pub masks: &'a MaskSet,
    pub tables: &'a LevelTables,
}

/// What an advisor (the VLM) sees when a round's measurements are off.
pub struct RethinkContext<'a> {
    /// The instruction's words, when known.
    pub instruction: &'a str,
    /// The preview before this instruction, and as this round rendered it.
    pub previous: &'a Raster,
    pub current: &'a Raster,
    /// What the last round did, in words.
    pub last_action: &'a str,
    /// Per edit: asked change and measured change (levels).
    pub checks: &'a [Check],
    /// Per edit: the state value this round rendered.
    pub values: &'a [f32],
}

/// An advisor's judgement: done, or new state values for some edits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Advice {
    pub done: bool,
    /// (region, attribute, new state value).
    pub values: Vec<(String, Attribute, f32)>,
    /// The advisor's reasoning, for the trace.
    pub think: String,
}

/// Something that looks at a round's result and proposes what to do (the VLM's
/// rethink step). Its advice is checked against the measurements: it is taken only
/// where it agrees with them.
pub trait Advisor {
    /// `Err` with a reason when it could not advise (the loop goes on with the
    /// measurements alone and says so).
    fn rethink(&self, ctx: &RethinkContext<'_>) -> std::result::Result<Advice, String>;
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
        self.apply_with(base, interp, &Guidance::default(), ctl)
    }

    /// [`Session::apply`] with a first proposal per edit and an advisor for the
    /// rethink rounds. The edits' amounts are what the words asked for; the loop
    /// starts from `guidance.start` (else the asked amounts) and corrects by
    /// measurement, taking the advisor's proposals where they agree with it.
    pub fn apply_with(
        &self,
        base: &RegionState,
        interp: &Interpretation,
        guidance: &Guidance<'_>,
        ctl: &Control<'_>,
    ) -> Result<Outcome> {
        let mut notes = interp.notes.clone();
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
        // Which of the original edits remain (the first proposals are per original edit).
        let (kept, edits): (Vec<usize>, Vec<Edit>) =
            self.present(edits, &mut notes).into_iter().unzip();
        // The words' intensities as visible sizes on this photo (the auto look
        // moves levels toward the reference median by design, so it is not sized).
        let (edits, visible) = match interp.kind {
            Kind::WeakOptimize => {
                let n = edits.len();
                (edits, vec![None; n])
            }
            _ => {
                let sized = super::sizing::size_edits(
                    self.preview,
                    self.masks,
                    self.tables,
                    base,
                    &edits,
                    ctl,
                )?;
                let edits = edits
                    .iter()
                    .zip(&sized)
                    .map(|(e, s)| Edit {
                        amount: s.amount,
                        ..e.clone()
                    })
                    .collect::<Vec<_>>();
                (edits, sized.iter().map(|s| s.asked).collect())
            }
        };
        // Start: the base state plus each edit's change (or the first proposal).
        let mut state = base.clone();
        let mut asked = Vec::with_capacity(edits.len());
        for (i, e) in edits.iter().enumerate() {
            let old = base.get(&e.region, e.attribute).unwrap_or(0.0);
            asked.push((old + e.amount).clamp(-1.0, 1.0) as f64);
            let first = guidance
                .start
                .and_then(|s| s.get(kept[i]).copied())
                .unwrap_or(e.amount);
            state.set(&e.region, e.attribute, old + first)?;
        }
        let previous = self.preview;
        let mut last_action = format!(
            "applied {}",
            edits
                .iter()
                .map(|e| format!(
                    "{} {} {:+.2}",
                    e.region,
                    e.attribute,
                    state.get(&e.region, e.attribute).unwrap_or(0.0)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
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
            let rendered = self.render(&state, ctl)?;
            let report = rendered.report;
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
                // Ask the advisor, if there is one; its proposals are checked
                // against the measured correction below.
                let values: Vec<f32> = edits
                    .iter()
                    .map(|e| state.get(&e.region, e.attribute).unwrap_or(0.0))
                    .collect();
                let mut advice_note = String::new();
                let advice = match guidance.advisor {
                    Some(a) => {
                        let ctx = RethinkContext {
                            instruction: guidance.instruction,
                            previous,
                            current: &rendered.image,
                            last_action: &last_action,
                            checks: &checks,
                            values: &values,
                        };
                        match a.rethink(&ctx) {
                            Ok(adv) => {
                                if adv.done {
                                    advice_note =
                                        "the VLM judged it done, but the measurement disagrees; "
                                            .into();
                                }
                                Some(adv)
                            }
                            Err(why) => {
                                advice_note = format!(
                                    "the VLM's rethink failed ({why}); using the measurement alone; "
                                );
                                None
                            }
                        }
                    }
                    None => None,
                };
                let mut parts = Vec::new();
                for &(i, err) in &off {
                    let e = &edits[i];
                    let now = values[i];
                    let measured_next = now + err as f32;
                    let proposed = advice.as_ref().and_then(|a| {
                        a.values
                            .iter()
                            .find(|(r, at, _)| *r == e.region && *at == e.attribute)
                            .map(|(_, _, v)| *v)
                    });
                    let (value, how) = match proposed {
                        Some(p) if agrees(now, p, err) => (
                            p,
                            "the VLM's proposal, which the measurement supports".to_string(),
                        ),
                        Some(p) => (
                            measured_next,
                            format!("the measurement's correction (the VLM proposed {p:+.2})"),
                        ),
                        None => (measured_next, "the measurement's correction".to_string()),
                    };
                    let next = state.set(&e.region, e.attribute, value)?;
                    parts.push(format!(
                        "{} {} measured {:+.2} for {:+.2} asked: {:+.2} -> {:+.2} ({how})",
                        e.region,
                        e.attribute,
                        checks[i].measured.unwrap_or(0.0),
                        checks[i].asked,
                        now,
                        next
                    ));
                }
                decision = format!("{advice_note}adjusting: {}", parts.join("; "));
                last_action = decision.clone();
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
            visible,
            notes,
        })
    }

    /// The edits whose regions this photo has: a named region under
    /// [`MIN_REGION_COVERAGE`] of the frame is left out, with a note.
    fn present(&self, edits: Vec<Edit>, notes: &mut Vec<String>) -> Vec<(usize, Edit)> {
        let mut said: Vec<String> = Vec::new();
        edits
            .into_iter()
            .enumerate()
            .filter(|(_, e)| {
                let Some(coverage) = (e.region != GLOBAL)
                    .then(|| self.masks.get(&e.region).map(|m| m.mean()))
                    .flatten()
                else {
                    return true;
                };
                if coverage >= MIN_REGION_COVERAGE {
                    return true;
                }
                if !said.contains(&e.region) {
                    notes.push(format!(
                        "there is almost no {} in this photo ({:.1}% of the frame), so it was left as it is",
                        e.region,
                        coverage * 100.0
                    ));
                    said.push(e.region.clone());
                }
                false
            })
            .collect()
    }

    fn render(&self, state: &RegionState, ctl: &Control<'_>) -> Result<RenderOutput> {
        let job = RenderJob {
            source: self.preview,
            masks: self.masks,
            state,
        };
        self.renderer.render(&job, &RenderRequest::default(), ctl)
    }
}

/// How a session is steered beyond the words' edits.
#[derive(Default, Clone, Copy)]
pub struct Guidance<'a> {
    /// The instruction's words, for the advisor.
    pub instruction: &'a str,
    /// First value per edit (a change on top of the base state), instead of the
    /// asked amount.
    pub start: Option<&'a [f32]>,
    /// Consulted when a round's measurements are off.
    pub advisor: Option<&'a dyn Advisor>,
}

/// An advisor's proposed value agrees with the measurement when it moves the same
/// way as the measured correction `err` and lands within a quarter of it (plus
/// half the tolerance) of where the correction lands.
fn agrees(now: f32, proposed: f32, err: f64) -> bool {
    let step = (proposed - now) as f64;
    step.signum() == err.signum() && (step - err).abs() <= 0.25 * err.abs() + 0.5 * TOLERANCE
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
