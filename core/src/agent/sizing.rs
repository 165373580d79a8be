//! The wording's intensity in what a person sees.
//!
//! The words give a nominal level change ("a little" 0.1, plain 0.2, "very" 0.4),
//! but a level step is a quantile of the reference photos: near the tables' ends a
//! plain step is a huge edit, in their crowded middle a faint one, and cooling and
//! warming the same photo by 0.2 can differ three-fold in what one sees. So each
//! edit is sized in CIEDE2000: the nominal change asks for a mean visible change of
//! [`DE_PER_LEVEL`] x |change| over its region (plain: ΔE00 3, like moving a white
//! balance by 1000 K), and the level change that gives it on this photo is found by
//! rendering a small preview with the parametric renderer. The state still holds
//! level changes (what maps, memories and the diffusion renderer read); only how
//! large they are comes from the eye.
//!
//! Absolute asks are not sized: a colourfulness change of -1 means no colour at all
//! (`render::targets`), whatever the photo.

use super::instruction::Edit;
use crate::error::Result;
use crate::mask::MaskSet;
use crate::measure::{change_size, LevelTables};
use crate::params::{Attribute, RegionState, GLOBAL};
use crate::plane::Plane;
use crate::raster::{Depth, Raster, RgbF32};
use crate::render::{
    Control, ParametricRenderer, RenderJob, RenderOptions, RenderRequest, Renderer,
};

/// Mean CIEDE2000 difference per unit of nominal level change: plain wording (0.2)
/// asks for ΔE00 3, "a little" (0.1) for 1.5, "very" (0.4) for 6.
pub const DE_PER_LEVEL: f64 = 15.0;

/// Long side of the preview edits are sized on (the level tables' analysis size,
/// so the solver's proxy is the preview itself).
pub const SIZING_LONG_SIDE: usize = 512;

/// A size within this fraction of the asked one is close enough.
const RELATIVE_TOLERANCE: f64 = 0.1;

/// Most renders spent on one edit.
const MAX_EVALS: usize = 5;

/// Largest level change a size may ask for (the state's limit).
const MAX_CHANGE: f64 = 1.0;

/// An edit's size: the level change to use and what it looks like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sized {
    /// Level change that gives the visible size on this photo.
    pub amount: f32,
    /// The mean ΔE00 over the region the words asked for (`None`: not sized).
    pub asked: Option<f64>,
    /// The mean ΔE00 the sized change measured on the sizing preview.
    pub measured: Option<f64>,
}

/// True for an ask that names a state rather than a change (no colour at all).
pub fn is_absolute(e: &Edit) -> bool {
    e.attribute == Attribute::Colorfulness && e.amount <= -1.0
}

/// Sizes `edits` (nominal level changes on top of `base`) for the photo whose
/// preview is `preview`, with region masks `masks` (any resolution with the
/// photo's aspect ratio). Edits of regions the masks lack, absolute asks and zero
/// changes keep their amounts.
pub fn size_edits(
    preview: &Raster,
    masks: &MaskSet,
    tables: &LevelTables,
    base: &RegionState,
    edits: &[Edit],
    ctl: &Control<'_>,
) -> Result<Vec<Sized>> {
    let small = super::preview(preview, SIZING_LONG_SIDE).with_depth(Depth::F32);
    let renderer = ParametricRenderer::new(RenderOptions {
        tables: tables.clone(),
        verify: false,
        ..RenderOptions::default()
    });
    let (w, h) = (small.width(), small.height());
    let render = |state: &RegionState| -> Result<RgbF32> {
        if state.is_empty() {
            return Ok(small.rgb_resized(w, h));
        }
        let job = RenderJob {
            source: &small,
            masks,
            state,
        };
        let out = renderer.render(&job, &RenderRequest::default(), ctl)?;
        Ok(out.image.rgb_resized(w, h))
    };
    let before = render(base)?;
    let mut sized = Vec::with_capacity(edits.len());
    for e in edits {
        ctl.check()?;
        let keep = Sized {
            amount: e.amount,
            asked: None,
            measured: None,
        };
        let weights: Option<Plane> = match e.region.as_str() {
            GLOBAL => None,
            r => match masks.get(r) {
                Some(m) => Some(m.resized(w, h)),
                None => {
                    sized.push(keep);
                    continue;
                }
            },
        };
        if e.amount == 0.0 || is_absolute(e) || weights.as_ref().is_some_and(|m| m.mean() < 1e-3) {
            sized.push(keep);
            continue;
        }
        let asked = DE_PER_LEVEL * e.amount.abs() as f64;
        let old = base.get(&e.region, e.attribute).unwrap_or(0.0);
        let size_of = |change: f64| -> Result<f64> {
            let mut state = base.clone();
            state.set(&e.region, e.attribute, old + change as f32)?;
            let after = render(&state)?;
            Ok(change_size(&before, &after, weights.as_ref()).map_or(0.0, |s| s.mean))
        };
        sized.push(search(e.amount as f64, asked, size_of)?);
    }
    Ok(sized)
}

/// Finds the change (same sign as `nominal`) whose visible size is `asked`:
/// proportional steps first (visible size grows about linearly with small changes),
/// then secant steps, keeping the best; at most [`MAX_EVALS`] renders.
fn search(nominal: f64, asked: f64, mut size_of: impl FnMut(f64) -> Result<f64>) -> Result<Sized> {
    let sign = nominal.signum();
    let clamp = |c: f64| sign * c.abs().clamp(0.005, MAX_CHANGE);
    let mut c = clamp(nominal);
    let mut points: Vec<(f64, f64)> = Vec::new();
    for _ in 0..MAX_EVALS {
        let d = size_of(c)?;
        points.push((c, d));
        if (d - asked).abs() <= RELATIVE_TOLERANCE * asked {
            break;
        }
        let next = match points.len() {
            _ if d <= 1e-6 => c * 4.0,
            1 => c * asked / d,
            n => {
                let (c0, d0) = points[n - 2];
                let slope = (d - d0) / (c - c0);
                if slope.abs() > 1e-9 && (slope > 0.0) == (sign > 0.0) {
                    c + (asked - d) / slope
                } else {
                    c * asked / d.max(1e-6)
                }
            }
        };
        let next = clamp(next);
        if (next - c).abs() < 1e-4 {
            break;
        }
        c = next;
    }
    let (amount, measured) = points
        .iter()
        .copied()
        .min_by(|a, b| (a.1 - asked).abs().total_cmp(&(b.1 - asked).abs()))
        .unwrap_or((nominal, 0.0));
    Ok(Sized {
        amount: amount as f32,
        asked: Some(asked),
        measured: Some(measured),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_finds_the_change_that_looks_the_asked_size() {
        // A visible size that saturates: 10 * (1 - exp(-5 |c|)).
        let f = |c: f64| Ok(10.0 * (1.0 - (-5.0 * c.abs()).exp()));
        let s = search(0.2, 3.0, f).unwrap();
        let got = 10.0 * (1.0 - (-5.0 * s.amount.abs() as f64).exp());
        assert!((got - 3.0).abs() <= 0.3, "{s:?}");
        assert!(s.amount > 0.0);
        let s = search(-0.2, 3.0, f).unwrap();
        assert!(s.amount < 0.0);
        // Out of reach: the largest change, as close as it gets.
        let s = search(0.2, 30.0, f).unwrap();
        assert!((s.amount - 1.0).abs() < 1e-6, "{s:?}");
    }

    #[test]
    fn absolute_asks_are_not_sized() {
        let bw = Edit {
            region: GLOBAL.into(),
            attribute: Attribute::Colorfulness,
            amount: -1.0,
        };
        assert!(is_absolute(&bw));
        assert!(!is_absolute(&Edit {
            amount: -0.4,
            ..bw.clone()
        }));
    }
}
