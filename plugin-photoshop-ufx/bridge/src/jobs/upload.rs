//! Assembling a job's frame from the bands a panel sends. Every band is checked
//! before a byte of it is used: its kind, job, layout and depth, that its rows lie
//! inside the frame and were not sent before, and that its payload is exactly the
//! announced size. At the end every row must have arrived.

use super::spec::JobSpec;
use super::JobFailure;
use crate::protocol::{BandHeader, BandKind, MAX_BAND_BYTES};
use pertouch_core::raster::{Depth, Raster, Samples};

/// The selection, one 16-bit value per pixel (0 = not selected).
#[derive(Debug, Clone)]
pub struct Selection {
    pub width: usize,
    pub height: usize,
    pub values: Vec<u16>,
}

enum Frame {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

/// A frame (and selection) being received.
pub struct Upload {
    width: usize,
    height: usize,
    components: usize,
    depth: Depth,
    frame: Frame,
    rows: Vec<bool>,
    selection: Option<(Vec<u16>, Vec<bool>)>,
}

fn fail(code: &'static str, message: String) -> JobFailure {
    JobFailure::new(code, message)
}

/// The first row of `covered[y0..y0 + n]` already covered, if any.
fn first_covered(covered: &[bool], y0: usize, n: usize) -> Option<usize> {
    covered[y0..y0 + n].iter().position(|&c| c).map(|i| y0 + i)
}

/// The ranges of rows not covered, as "a-b" text (at most a few).
fn missing_rows(covered: &[bool]) -> Option<String> {
    let mut ranges = Vec::new();
    let mut y = 0;
    while y < covered.len() {
        if covered[y] {
            y += 1;
            continue;
        }
        let start = y;
        while y < covered.len() && !covered[y] {
            y += 1;
        }
        ranges.push(if y - start == 1 {
            format!("{start}")
        } else {
            format!("{start}-{}", y - 1)
        });
    }
    if ranges.is_empty() {
        return None;
    }
    let n = ranges.len();
    ranges.truncate(4);
    Some(format!(
        "{}{}",
        ranges.join(", "),
        if n > 4 { ", ..." } else { "" }
    ))
}

impl Upload {
    /// Room for `spec`'s frame (and selection), nothing received yet.
    pub fn new(spec: &JobSpec) -> Upload {
        let n = spec.width * spec.height * spec.components;
        Upload {
            width: spec.width,
            height: spec.height,
            components: spec.components,
            depth: spec.depth,
            frame: match spec.depth {
                Depth::U8 => Frame::U8(vec![0; n]),
                _ => Frame::U16(vec![0; n]),
            },
            rows: vec![false; spec.height],
            selection: spec
                .selection
                .then(|| (vec![0; spec.width * spec.height], vec![false; spec.height])),
        }
    }

    /// Checks band `header` of job `job` and copies its `payload` in.
    pub fn accept(
        &mut self,
        job: u32,
        header: &BandHeader,
        payload: &[u8],
    ) -> Result<(), JobFailure> {
        let band = header.band;
        if header.job != job {
            return Err(fail(
                "band_job",
                format!(
                    "band {band} is for job {}, the current job is {job}",
                    header.job
                ),
            ));
        }
        let (components, bits) = match header.kind {
            BandKind::Source => (self.components, if self.depth == Depth::U8 { 8 } else { 16 }),
            BandKind::Selection if self.selection.is_some() => (1, header.bits as usize),
            BandKind::Selection => {
                return Err(fail(
                    "band_kind",
                    format!("selection band {band} for a job started without a selection"),
                ))
            }
            BandKind::Result | BandKind::Preview => {
                return Err(fail(
                    "band_kind",
                    format!("band {band} is a result or preview band; the panel sends source and selection bands"),
                ))
            }
        };
        if header.width as usize != self.width
            || header.components as usize != components
            || header.bits as usize != bits
        {
            return Err(fail(
                "band_format",
                format!(
                    "band {band} is {} pixels wide, {} components, {} bits; the job expects {}, {components}, {bits}",
                    header.width, header.components, header.bits, self.width
                ),
            ));
        }
        let (y0, n) = (header.y0 as usize, header.rows as usize);
        if y0 >= self.height || n > self.height - y0 {
            return Err(fail(
                "band_outside",
                format!(
                    "band {band} (rows {y0}..{}) lies outside the {}-row frame",
                    y0 as u64 + n as u64,
                    self.height
                ),
            ));
        }
        let expected = header.sample_bytes().unwrap_or(usize::MAX);
        if expected > MAX_BAND_BYTES {
            return Err(fail(
                "band_too_big",
                format!("band {band} holds {expected} bytes; bands are at most {MAX_BAND_BYTES}"),
            ));
        }
        if payload.len() != expected {
            return Err(fail(
                "band_size",
                format!(
                    "band {band} announces {expected} bytes of samples but carries {}",
                    payload.len()
                ),
            ));
        }
        let covered = if header.kind == BandKind::Selection {
            match &mut self.selection {
                Some((_, c)) => c,
                None => {
                    return Err(fail(
                        "band_kind",
                        "selection band without a selection".into(),
                    ))
                }
            }
        } else {
            &mut self.rows
        };
        if let Some(y) = first_covered(covered, y0, n) {
            return Err(fail(
                "band_overlap",
                format!("band {band} sends row {y} again (bands must not overlap)"),
            ));
        }
        covered[y0..y0 + n].iter_mut().for_each(|c| *c = true);
        match header.kind {
            BandKind::Selection => {
                if let Some((values, _)) = &mut self.selection {
                    let dst = &mut values[y0 * self.width..(y0 + n) * self.width];
                    if bits == 8 {
                        // 8-bit selections widen exactly (255 -> 65535).
                        dst.iter_mut()
                            .zip(payload)
                            .for_each(|(d, &s)| *d = s as u16 * 257);
                    } else {
                        copy_u16(payload, dst);
                    }
                }
            }
            _ => {
                let row = self.width * self.components;
                match &mut self.frame {
                    Frame::U8(v) => v[y0 * row..(y0 + n) * row].copy_from_slice(payload),
                    Frame::U16(v) => copy_u16(payload, &mut v[y0 * row..(y0 + n) * row]),
                }
            }
        }
        Ok(())
    }

    /// The frame and selection, once every row of both has arrived.
    pub fn finish(self) -> Result<(Raster, Option<Selection>), JobFailure> {
        if let Some(m) = missing_rows(&self.rows) {
            return Err(fail(
                "bands_missing",
                format!("source rows {m} never arrived"),
            ));
        }
        let selection = match self.selection {
            None => None,
            Some((values, covered)) => {
                if let Some(m) = missing_rows(&covered) {
                    return Err(fail(
                        "bands_missing",
                        format!("selection rows {m} never arrived"),
                    ));
                }
                Some(Selection {
                    width: self.width,
                    height: self.height,
                    values,
                })
            }
        };
        let samples = match self.frame {
            Frame::U8(v) => Samples::U8(v),
            Frame::U16(v) => Samples::U16(v),
        };
        let raster = Raster::new(self.width, self.height, self.components, samples)
            .ok_or_else(|| fail("layout", "frame sizes do not match".into()))?;
        Ok((raster, selection))
    }
}

/// Little-endian 16-bit samples into `dst` (same count).
fn copy_u16(src: &[u8], dst: &mut [u16]) {
    for (d, s) in dst.iter_mut().zip(src.chunks_exact(2)) {
        *d = u16::from_le_bytes([s[0], s[1]]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::spec::JobLimits;
    use crate::protocol::messages::{JobStart, Op};

    fn spec(depth: u8, selection: bool) -> JobSpec {
        let start = JobStart {
            job: 5,
            op: Op::Apply,
            width: 4,
            height: 6,
            components: 3,
            depth,
            profile: String::new(),
            selection,
            state: None,
            instruction: None,
            mix: None,
            recall: false,
            remember: false,
        };
        JobSpec::check(
            &start,
            JobLimits {
                max_pixels: 1000,
                max_preview_pixels: 1000,
            },
        )
        .unwrap()
    }

    fn band(kind: BandKind, y0: u32, rows: u32, components: u8, bits: u8) -> BandHeader {
        BandHeader {
            kind,
            job: 5,
            band: y0,
            y0,
            rows,
            width: 4,
            components,
            bits,
        }
    }

    #[test]
    fn assembles_16_bit_rows_in_any_order() {
        let s = spec(16, true);
        let mut up = Upload::new(&s);
        let payload = |y0: u16, rows: usize| -> Vec<u8> {
            (0..rows * 12)
                .flat_map(|i| (y0 * 1000 + i as u16).to_le_bytes())
                .collect()
        };
        up.accept(5, &band(BandKind::Source, 4, 2, 3, 16), &payload(4, 2))
            .unwrap();
        up.accept(5, &band(BandKind::Source, 0, 4, 3, 16), &payload(0, 4))
            .unwrap();
        let sel: Vec<u8> = (0..24).map(|i| i as u8).collect();
        up.accept(5, &band(BandKind::Selection, 0, 6, 1, 8), &sel)
            .unwrap();
        let (r, sel) = up.finish().unwrap();
        let Samples::U16(v) = r.samples() else {
            panic!()
        };
        assert_eq!(v[0], 0);
        assert_eq!(v[4 * 12], 4000);
        assert_eq!(v[47], 47);
        assert_eq!(sel.unwrap().values[23], 23 * 257);
    }

    #[test]
    fn refuses_bad_bands_before_using_them() {
        let s = spec(8, false);
        let mut up = Upload::new(&s);
        let ok = vec![0u8; 2 * 12];
        up.accept(5, &band(BandKind::Source, 0, 2, 3, 8), &ok)
            .unwrap();
        let code = |up: &mut Upload, h: BandHeader, p: &[u8]| up.accept(5, &h, p).unwrap_err().code;
        assert_eq!(
            code(&mut up, band(BandKind::Source, 1, 2, 3, 8), &ok),
            "band_overlap"
        );
        assert_eq!(
            code(&mut up, band(BandKind::Source, 5, 2, 3, 8), &ok),
            "band_outside"
        );
        assert_eq!(
            code(&mut up, band(BandKind::Source, 2, 2, 3, 8), &ok[1..]),
            "band_size"
        );
        assert_eq!(
            code(&mut up, band(BandKind::Source, 2, 2, 4, 8), &ok),
            "band_format"
        );
        assert_eq!(
            code(&mut up, band(BandKind::Source, 2, 2, 3, 16), &ok),
            "band_format"
        );
        assert_eq!(
            code(&mut up, band(BandKind::Selection, 2, 2, 1, 8), &ok),
            "band_kind"
        );
        assert_eq!(
            code(&mut up, band(BandKind::Result, 2, 2, 3, 8), &ok),
            "band_kind"
        );
        let mut other = band(BandKind::Source, 2, 2, 3, 8);
        other.job = 6;
        assert_eq!(code(&mut up, other, &ok), "band_job");
        let e = up.finish().unwrap_err();
        assert_eq!(e.code, "bands_missing");
        assert!(e.message.contains("2-5"), "{e}");
    }
}
