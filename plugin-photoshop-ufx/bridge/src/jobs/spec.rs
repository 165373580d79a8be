//! A job's description, checked: sizes within the limits, a depth and layout the
//! bridge renders, a region state that parses.

use super::JobFailure;
use crate::protocol::messages::{JobStart, Op};
use crate::protocol::MAX_BAND_BYTES;
use pertouch_core::host::pixels::MAX_SIDE;
use pertouch_core::params::RegionState;
use pertouch_core::raster::Depth;

/// A checked job.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub id: u32,
    pub op: Op,
    pub width: usize,
    pub height: usize,
    pub components: usize,
    pub depth: Depth,
    pub profile: String,
    pub selection: bool,
    pub state: RegionState,
    pub instruction: String,
    pub mix: f32,
    pub recall: bool,
    pub remember: bool,
}

/// The limits a job is checked against.
#[derive(Debug, Clone, Copy)]
pub struct JobLimits {
    pub max_pixels: u64,
    pub max_preview_pixels: u64,
}

impl JobSpec {
    /// Checks `start`.
    pub fn check(start: &JobStart, limits: JobLimits) -> Result<JobSpec, JobFailure> {
        let (w, h) = (start.width as usize, start.height as usize);
        if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
            return Err(JobFailure::new(
                "size",
                format!("a {w} x {h} frame (each side 1 to {MAX_SIDE})"),
            ));
        }
        let pixels = w as u64 * h as u64;
        let cap = match start.op {
            Op::Apply => limits.max_pixels,
            Op::Preview | Op::Agent => limits.max_preview_pixels,
        };
        if pixels > cap {
            return Err(JobFailure::new(
                "too_many_pixels",
                format!(
                    "{w} x {h} is {:.1} MP; a {} job takes at most {:.1} MP{}",
                    pixels as f64 / 1e6,
                    op_name(start.op),
                    cap as f64 / 1e6,
                    if start.op == Op::Apply {
                        " (start the bridge with a larger --max-megapixels)"
                    } else {
                        " (send a smaller preview)"
                    }
                ),
            ));
        }
        if !matches!(start.components, 3 | 4) {
            return Err(JobFailure::new(
                "layout",
                format!(
                    "{} components: the bridge renders RGB or RGBA (convert Grayscale documents to RGB)",
                    start.components
                ),
            ));
        }
        let depth = match start.depth {
            8 => Depth::U8,
            16 => Depth::U16,
            d => {
                return Err(JobFailure::new(
                    "depth",
                    format!("{d}-bit samples: the bridge renders 8- and 16-bit documents"),
                ))
            }
        };
        let row = w * start.components as usize * (start.depth as usize / 8);
        if row > MAX_BAND_BYTES {
            return Err(JobFailure::new(
                "size",
                format!("one row is {row} bytes, more than a band holds ({MAX_BAND_BYTES})"),
            ));
        }
        let state = match &start.state {
            None => RegionState::new(),
            Some(v) => RegionState::from_value(v)
                .map_err(|e| JobFailure::new("state", format!("region state: {e}")))?,
        };
        let instruction = start.instruction.clone().unwrap_or_default();
        if start.op == Op::Agent && instruction.trim().is_empty() && !start.recall {
            return Err(JobFailure::new(
                "instruction",
                "type an instruction first (e.g. \"make the sky a little warmer\")",
            ));
        }
        let mix = start.mix.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&mix) {
            return Err(JobFailure::new("mix", format!("mix {mix} is not in 0..1")));
        }
        Ok(JobSpec {
            id: start.job,
            op: start.op,
            width: w,
            height: h,
            components: start.components as usize,
            depth,
            profile: start.profile.clone(),
            selection: start.selection,
            state,
            instruction,
            mix,
            recall: start.recall,
            remember: start.remember,
        })
    }

    /// Bytes per sample.
    pub fn sample_bytes(&self) -> usize {
        match self.depth {
            Depth::U8 => 1,
            _ => 2,
        }
    }

    /// Bits per sample on the wire.
    pub fn bits(&self) -> u8 {
        (self.sample_bytes() * 8) as u8
    }

    /// Bytes of one row of the source.
    pub fn row_bytes(&self) -> usize {
        self.width * self.components * self.sample_bytes()
    }

    /// Rows per band that keep a band under [`MAX_BAND_BYTES`].
    pub fn rows_per_band(&self) -> usize {
        (MAX_BAND_BYTES / self.row_bytes()).clamp(1, self.height)
    }

    /// Memory the job holds at its peak: the source, the selection (stored as
    /// 16-bit), and for an apply the whole result until the panel has pulled it.
    pub fn memory_needed(&self) -> usize {
        let frame = self.row_bytes() * self.height;
        let selection = if self.selection {
            self.width * self.height * 2
        } else {
            0
        };
        let result = match self.op {
            Op::Apply => frame,
            // A preview's result and JPEGs, an agent's previews: small.
            Op::Preview | Op::Agent => frame / 2,
        };
        frame + selection + result + (1 << 20)
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Preview => "preview",
        Op::Apply => "apply",
        Op::Agent => "agent",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(op: Op, w: u32, h: u32) -> JobStart {
        JobStart {
            job: 1,
            op,
            width: w,
            height: h,
            components: 3,
            depth: 16,
            profile: "sRGB IEC61966-2.1".into(),
            selection: false,
            state: None,
            instruction: None,
            mix: None,
            recall: false,
            remember: false,
        }
    }

    const LIMITS: JobLimits = JobLimits {
        max_pixels: 200_000_000,
        max_preview_pixels: 4_000_000,
    };

    #[test]
    fn checks_sizes_depths_and_states() {
        let s = JobSpec::check(&start(Op::Apply, 6000, 4000), LIMITS).unwrap();
        assert_eq!(s.rows_per_band(), 116);
        assert_eq!(s.memory_needed(), 2 * 6000 * 4000 * 6 + (1 << 20));
        let e = JobSpec::check(&start(Op::Preview, 6000, 4000), LIMITS).unwrap_err();
        assert_eq!(e.code, "too_many_pixels");
        let mut bad = start(Op::Apply, 10, 10);
        bad.depth = 32;
        assert_eq!(JobSpec::check(&bad, LIMITS).unwrap_err().code, "depth");
        bad.depth = 8;
        bad.components = 1;
        assert_eq!(JobSpec::check(&bad, LIMITS).unwrap_err().code, "layout");
        bad.components = 3;
        bad.state = Some(serde_json::json!({"sky": {"sparkle": 1}}));
        let e = JobSpec::check(&bad, LIMITS).unwrap_err();
        assert!(e.message.contains("sparkle"), "{e}");
        let agent = start(Op::Agent, 10, 10);
        assert_eq!(
            JobSpec::check(&agent, LIMITS).unwrap_err().code,
            "instruction"
        );
        assert_eq!(
            JobSpec::check(&start(Op::Apply, 0, 10), LIMITS)
                .unwrap_err()
                .code,
            "size"
        );
    }
}
