//! Previews of a slider change: a frame already planned (segmented, its masks
//! found and refined, its strengths solved) is re-planned with a new region state
//! and rendered whole on a ~1-megapixel copy of the frame. Nothing is segmented
//! or refined again and the frame's analysis proxy is reused; only the edits whose
//! target changed are solved again, starting from the frame's strengths.

use super::engine::{Engine, Frame};
use crate::error::Result;
use crate::params::RegionState;
use crate::raster::{Depth, Raster};
use crate::render::{Control, FramePlan, RenderJob};

/// Pixels in a preview: about one megapixel.
pub const PREVIEW_PIXELS: usize = 1_000_000;

/// The size, with `width` x `height`'s aspect, that holds about `pixels` pixels
/// (never larger than the frame itself).
pub fn preview_size(width: usize, height: usize, pixels: usize) -> (usize, usize) {
    let (w, h) = (width.max(1) as f64, height.max(1) as f64);
    let scale = (pixels as f64 / (w * h)).sqrt().min(1.0);
    (
        ((w * scale).round() as usize).max(1),
        ((h * scale).round() as usize).max(1),
    )
}

/// The small copy of a frame that previews are planned and rendered on
/// (area-averaged to [`PREVIEW_PIXELS`]); a host makes it once per frame.
pub fn preview_source(frame: &Raster) -> Raster {
    let (w, h) = preview_size(frame.width(), frame.height(), PREVIEW_PIXELS);
    crate::render::resample(frame, w, h)
}

/// A rendered preview and the plan it came from.
pub struct Preview {
    /// The renderer's plan of the preview (its report says what each edit reached).
    pub plan: Box<dyn FramePlan>,
    /// The rendered preview, at the size of the source it was given.
    pub image: Raster,
}

impl Engine {
    /// Renders `state` on `small` (this frame at preview size, see
    /// [`preview_source`]) with `frame`'s masks: no region is segmented again, so
    /// a region of `state` the frame has no mask for is an
    /// [`Error::MissingRegion`](crate::error::Error::MissingRegion) (plan the frame
    /// with the new state through [`Engine::frame`] for that).
    pub fn preview(
        &self,
        frame: &Frame,
        small: &Raster,
        state: &RegionState,
        ctl: &Control<'_>,
    ) -> Result<Preview> {
        // The frame's plan re-plans from its own analysis (no mask refined again,
        // its strengths the start, only changed edits solved), with tables on the
        // preview grid for 8-bit pixels: previews render in 8 bits and go back to
        // the depth they came in. A plan that cannot (a region the frame's plan did
        // not edit, another renderer) is planned whole on the small copy.
        let t = std::time::Instant::now();
        let plan = match frame.plan.plan_preview(state, ctl)? {
            Some(plan) => plan,
            None => {
                let job = RenderJob {
                    source: small,
                    masks: &frame.masks,
                    state,
                };
                self.renderer().plan_frame(&job, ctl)?
            }
        };
        let planned = t.elapsed();
        let depth = small.depth();
        let work = if depth == Depth::U8 {
            std::borrow::Cow::Borrowed(small)
        } else {
            std::borrow::Cow::Owned(small.with_depth(Depth::U8))
        };
        let (w, h) = (small.width(), small.height());
        let mut image = plan.render_tile(&work, 0, 0, w, h, ctl)?;
        if depth != Depth::U8 {
            image = image.with_depth(depth);
        }
        tracing::debug!(?planned, elapsed = ?t.elapsed(), width = w, height = h, "preview");
        Ok(Preview { plan, image })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::error::Error;
    use crate::host::{EngineConfig, FrameInputs, FrameKey};
    use crate::mask::MaskSet;
    use crate::plane::Plane;
    use crate::raster::Samples;

    /// A sunset-like photo: blue sky over warm ground, with smooth texture.
    fn photo(w: usize, h: usize) -> Raster {
        let data = (0..w * h)
            .flat_map(|k| {
                let (x, y) = (k % w, k / w);
                // Texture a few pixels wide and more, not at the pixel scale (a
                // downscale would average pixel-scale texture away and measure
                // another contrast).
                let t = ((x as f32 / 37.0).sin() * 10.0 + (y as f32 / 23.0).cos() * 10.0 + 20.0)
                    as usize;
                if y < h * 2 / 5 {
                    [(90 + t) as u8, (140 + t) as u8, (220 - t) as u8]
                } else {
                    [(150 + t) as u8, (110 + t) as u8, (60 + t) as u8]
                }
            })
            .collect();
        Raster::new(w, h, 3, Samples::U8(data)).unwrap()
    }

    fn engine() -> Engine {
        Engine::open_with(&EngineConfig::default(), Config::default()).unwrap()
    }

    #[test]
    fn sizes_hold_about_a_megapixel() {
        let (w, h) = preview_size(6000, 4000, PREVIEW_PIXELS);
        assert_eq!((w, h), (1225, 816));
        assert!((w * h).abs_diff(PREVIEW_PIXELS) < PREVIEW_PIXELS / 100);
        // Never enlarged.
        assert_eq!(preview_size(640, 480, PREVIEW_PIXELS), (640, 480));
    }

    #[test]
    fn a_preview_is_the_downscaled_full_render_without_segmenting_again() {
        let engine = engine();
        // Larger than the analysis proxy (512 px), as a 24 MP frame and its 1 MP
        // preview both are: both are measured on the same proxy.
        let (w, h) = (1536, 1024);
        let full = photo(w, h);
        // A soft user mask for the ground; "shadows" is found by the segmenter
        // when the frame is planned.
        let mut masks = MaskSet::new();
        masks.insert(
            "ground",
            Plane::from_vec(
                120,
                80,
                (0..120 * 80)
                    .map(|k| ((k / 120) as f32 / 79.0 * 2.0 - 0.6).clamp(0.0, 1.0))
                    .collect(),
            )
            .unwrap(),
        );
        let before = RegionState::from_json(
            r#"{"ground": {"temperature": 0.2}, "shadows": {"brightness": 0.1}}"#,
        )
        .unwrap();
        let ctl = Control::default();
        let frame = engine
            .frame(
                FrameKey::for_raster(&full, &before),
                &before,
                || {
                    Ok(FrameInputs {
                        source: std::borrow::Cow::Borrowed(&full),
                        masks,
                    })
                },
                &ctl,
            )
            .unwrap();
        assert!(frame.masks.get("shadows").is_some());
        // The slider change (and a new global edit: the whole set is solved again,
        // from the frame's strengths). A target near the end of the scale (ground
        // temperature +0.5 here reaches level 0.92) is ill-conditioned: the level
        // barely moves over a wide range of strength, so two solves within the
        // level tolerance (warm and cold) can differ visibly; this one is not.
        let after = RegionState::from_json(
            r#"{"ground": {"temperature": 0.35}, "shadows": {"brightness": 0.1}, "global": {"contrast": 0.2}}"#,
        )
        .unwrap();
        let small = crate::render::resample(&full, 768, 512);
        let preview = engine.preview(&frame, &small, &after, &ctl).unwrap();
        assert_eq!((preview.image.width(), preview.image.height()), (768, 512));
        // The same state rendered at full size, then downscaled.
        let job = RenderJob {
            source: &full,
            masks: &frame.masks,
            state: &after,
        };
        let plan = engine.renderer().plan_frame(&job, &ctl).unwrap();
        let rendered = plan.render_tile(&full, 0, 0, w, h, &ctl).unwrap();
        let reference = crate::render::resample(&rendered, 768, 512);
        let (Samples::U8(p), Samples::U8(r), Samples::U8(s)) = (
            preview.image.samples(),
            reference.samples(),
            small.samples(),
        ) else {
            panic!("8-bit in, 8-bit out");
        };
        let diff: Vec<u32> = p
            .iter()
            .zip(r)
            .map(|(a, b)| a.abs_diff(*b) as u32)
            .collect();
        let mean = diff.iter().sum::<u32>() as f64 / diff.len() as f64;
        let max = diff.iter().copied().max().unwrap();
        let mut sorted = diff.clone();
        sorted.sort_unstable();
        let p99 = sorted[sorted.len() * 99 / 100];
        // Stated tolerance: mean within 2.5 levels of 255, 99% of samples within
        // 10, none beyond 32. The largest differences sit on the hard sky/ground
        // edge, where the preview edits averaged pixels and the reference averages
        // edited ones; the levels are solved on the same analysis proxy.
        assert!(
            mean <= 2.5 && p99 <= 10 && max <= 32,
            "mean {mean:.3}, p99 {p99}, max {max}"
        );
        // And the preview is an edit, not the source.
        let moved = p.iter().zip(s).filter(|(a, b)| a.abs_diff(**b) > 4).count();
        assert!(moved > p.len() / 4, "only {moved} samples moved");
        // The targets the preview was solved for are those of the new state.
        assert!(preview
            .plan
            .report()
            .edits
            .iter()
            .any(|e| e.region == "global" && e.attribute == crate::params::Attribute::Contrast));

        // No segmentation: a region the frame has no mask for is refused, not found.
        let new_region = RegionState::from_json(r#"{"highlights": {"brightness": 0.2}}"#).unwrap();
        let e = engine
            .preview(&frame, &small, &new_region, &ctl)
            .err()
            .unwrap();
        assert!(matches!(e, Error::MissingRegion { .. }), "{e}");
        // Planning the frame was the only plan the cache made.
        assert_eq!(engine.cache_stats().1, 1);
    }
}
