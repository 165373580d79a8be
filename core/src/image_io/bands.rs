//! Saving an image whose rows arrive band by band while later bands are still being
//! rendered, so that encoding overlaps rendering instead of following it.

use super::jpeg_strips::{EncodedStrip, Strips, STRIP_ROWS};
use super::{write_atomically, OutputFormat, SaveOptions};
use crate::error::{Cause, Error, Result};
use crate::image_io::Metadata;
use crate::raster::{Raster, Samples};
use std::borrow::Borrow;
use std::path::Path;
use std::sync::OnceLock;

/// Saves the bands `bands` yields, top to bottom, as one `width` x `height` image at
/// `path`, atomically, and returns the assembled image.
///
/// 8-bit JPEG is encoded while the bands arrive, each strip of rows
/// ([`super::jpeg_strips`]) on the thread pool as soon as its rows are in; other
/// formats and depths are assembled first and then saved. If a band is an error
/// (a cancelled render, say) nothing is written and that error is returned.
pub fn save_bands(
    path: &Path,
    width: usize,
    height: usize,
    metadata: &Metadata,
    opts: &SaveOptions,
    bands: impl Iterator<Item = Result<impl Borrow<Raster>>>,
) -> Result<Raster> {
    let format = OutputFormat::from_path(path)?;
    let mut bands = bands.peekable();
    let channels = match bands.peek() {
        Some(Ok(b))
            if format == OutputFormat::Jpeg && matches!(b.borrow().samples(), Samples::U8(_)) =>
        {
            Some(b.borrow().channels())
        }
        _ => None,
    };
    let Some(channels) = channels else {
        let mut rows = Assembler::new(width, height);
        for band in bands {
            rows.push(band?.borrow())?;
        }
        let image = rows.finish()?;
        super::save(path, &image, metadata, opts)?;
        return Ok(image);
    };
    let strips =
        Strips::new(width, height, channels, opts.jpeg_quality).map_err(|e| Error::Encode {
            path: path.to_path_buf(),
            reason: e.to_string(),
            source: None,
        })?;
    let mut pixels = vec![0u8; width * height * channels];
    let encoded: Vec<OnceLock<std::result::Result<EncodedStrip, Cause>>> =
        (0..strips.count()).map(|_| OnceLock::new()).collect();
    let row = width * channels;
    let mut failed = None;
    rayon::in_place_scope(|scope| {
        // The strips' rows, in order: the current one fills from the bands and,
        // once full, is handed to an encoding job.
        let mut chunks = pixels.chunks_mut(STRIP_ROWS * row).enumerate();
        let mut current = chunks.next();
        let mut filled = 0;
        for band in bands {
            let band = match band {
                Ok(b) => b,
                Err(e) => {
                    failed = Some(e);
                    return;
                }
            };
            let mut src: &[u8] = match band_samples(band.borrow(), width, channels) {
                Ok(v) => v,
                Err(e) => {
                    failed = Some(e);
                    return;
                }
            };
            while !src.is_empty() {
                let Some((_, chunk)) = current.as_mut() else {
                    failed = Some(Error::InvalidRequest(format!(
                        "more than the {height} rows of the image"
                    )));
                    return;
                };
                let n = (chunk.len() - filled).min(src.len());
                chunk[filled..filled + n].copy_from_slice(&src[..n]);
                filled += n;
                src = &src[n..];
                if filled == chunk.len() {
                    if let Some((j, full)) = current.take() {
                        let done: &[u8] = full;
                        let (slot, strips) = (&encoded[j], &strips);
                        scope.spawn(move |_| {
                            let _ = slot.set(strips.encode(j, done, metadata));
                        });
                    }
                    current = chunks.next();
                    filled = 0;
                }
            }
        }
        if let Some((j, _)) = current {
            failed = Some(Error::InvalidRequest(format!(
                "the image ended after {} of {height} rows",
                strips.rows(j).start + filled / row
            )));
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    write_atomically(path, |out| {
        let strips_done = encoded
            .into_iter()
            .map(|s| {
                s.into_inner()
                    .unwrap_or_else(|| Err("a strip was not encoded".into()))
            })
            .collect::<std::result::Result<Vec<_>, Cause>>()?;
        strips.write(out, &strips_done)
    })?;
    Raster::new(width, height, channels, Samples::U8(pixels))
        .ok_or_else(|| Error::InvalidRequest("the bands do not form an image".into()))
}

/// The samples of a band that fits the image being assembled: `width` wide,
/// 8-bit, `channels` deep.
fn band_samples(band: &Raster, width: usize, channels: usize) -> Result<&[u8]> {
    if band.width() != width {
        return Err(Error::InvalidRequest(format!(
            "a band {} wide for an image {width} wide",
            band.width()
        )));
    }
    match band.samples() {
        Samples::U8(v) if band.channels() == channels => Ok(v),
        _ => Err(Error::InvalidRequest(
            "bands with different channel counts or sample types".into(),
        )),
    }
}

/// Bands appended into one image.
struct Assembler {
    width: usize,
    height: usize,
    channels: usize,
    rows: usize,
    samples: Option<Samples>,
}

impl Assembler {
    fn new(width: usize, height: usize) -> Self {
        Assembler {
            width,
            height,
            channels: 0,
            rows: 0,
            samples: None,
        }
    }

    fn push(&mut self, band: &Raster) -> Result<()> {
        let mismatch = |what: String| Err(Error::InvalidRequest(what));
        if band.width() != self.width {
            return mismatch(format!(
                "a band {} wide for an image {} wide",
                band.width(),
                self.width
            ));
        }
        if self.rows + band.height() > self.height {
            return mismatch(format!("more than the {} rows of the image", self.height));
        }
        let total = self.width * self.height * band.channels();
        match (&mut self.samples, band.samples()) {
            (None, s) => {
                self.channels = band.channels();
                self.samples = Some(match s {
                    Samples::U8(v) => Samples::U8(with_capacity(v, total)),
                    Samples::U16(v) => Samples::U16(with_capacity(v, total)),
                    Samples::F32(v) => Samples::F32(with_capacity(v, total)),
                });
            }
            (Some(_), _) if band.channels() != self.channels => {
                return mismatch("bands with different channel counts".into())
            }
            (Some(Samples::U8(a)), Samples::U8(b)) => a.extend_from_slice(b),
            (Some(Samples::U16(a)), Samples::U16(b)) => a.extend_from_slice(b),
            (Some(Samples::F32(a)), Samples::F32(b)) => a.extend_from_slice(b),
            _ => return mismatch("bands with different sample types".into()),
        }
        self.rows += band.height();
        Ok(())
    }

    fn finish(self) -> Result<Raster> {
        if self.rows != self.height {
            return Err(Error::InvalidRequest(format!(
                "{} of {} rows arrived",
                self.rows, self.height
            )));
        }
        self.samples
            .and_then(|s| Raster::new(self.width, self.height, self.channels, s))
            .ok_or_else(|| Error::InvalidRequest("the bands do not form an image".into()))
    }
}

fn with_capacity<T: Copy>(first: &[T], total: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(total);
    v.extend_from_slice(first);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_io::{load, save, LoadOptions};

    fn gradient(w: usize, h: usize, ch: usize) -> Raster {
        let v = (0..w * h * ch)
            .map(|i| {
                let (x, y, c) = ((i / ch) % w, i / ch / w, i % ch);
                ((x * 255 / w + y * 3 + c * 60) % 256) as u8
            })
            .collect();
        Raster::new(w, h, ch, Samples::U8(v)).unwrap()
    }

    fn bands(img: &Raster, rows: usize) -> impl Iterator<Item = Result<Raster>> + '_ {
        (0..img.height()).step_by(rows).map(move |y| {
            crate::render::crop(
                img,
                crate::render::Rect {
                    x: 0,
                    y,
                    width: img.width(),
                    height: rows.min(img.height() - y),
                },
            )
        })
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Streamed JPEG is the same file as the image saved whole (both encode the
    /// same strips), whatever the bands' height, and the assembled image comes
    /// back intact.
    #[test]
    fn streamed_jpeg_matches_a_whole_save() {
        let dir = tempfile::tempdir().unwrap();
        for (ch, h, rows) in [(3, 600, 16), (4, 77, 16), (3, 300, 256), (3, 129, 1)] {
            let img = gradient(123, h, ch);
            let (a, b) = (dir.path().join("a.jpg"), dir.path().join("b.jpg"));
            let meta = Metadata {
                exif: None,
                icc_profile: Some(vec![7u8; 300]),
            };
            let back = save_bands(
                &a,
                123,
                h,
                &meta,
                &SaveOptions::default(),
                bands(&img, rows),
            )
            .unwrap();
            assert_eq!(back, img);
            save(&b, &img, &meta, &SaveOptions::default()).unwrap();
            let (fa, fb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
            assert!(fa == fb, "{ch} channels, {h} rows in bands of {rows}");
            let la = load(&a, &LoadOptions::default()).unwrap();
            assert_eq!(la.metadata.icc_profile, meta.icc_profile);
            let Samples::U8(pa) = la.raster.samples() else {
                panic!("8-bit expected")
            };
            let Samples::U8(pi) = img.samples() else {
                unreachable!()
            };
            // Only JPEG's own loss between what was rendered and what is read back.
            let read = la.raster.channels();
            let mean = pa
                .chunks_exact(read)
                .zip(pi.chunks_exact(ch))
                .flat_map(|(x, y)| (0..3).map(|k| x[k].abs_diff(y[k]) as f64))
                .sum::<f64>()
                / (123 * h * 3) as f64;
            assert!(mean < 2.0, "mean difference {mean}");
        }
    }

    /// Other formats are assembled and saved exactly.
    #[test]
    fn png_is_assembled_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let img = gradient(50, 40, 4);
        let p = dir.path().join("x.png");
        save_bands(
            &p,
            50,
            40,
            &Metadata::default(),
            &SaveOptions::default(),
            bands(&img, 7),
        )
        .unwrap();
        assert_eq!(load(&p, &LoadOptions::default()).unwrap().raster, img);
    }

    /// A failed band, a band of the wrong width, or too few rows: an error, and no
    /// file (not even a temporary one) is left.
    #[test]
    fn bad_bands_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let img = gradient(50, 40, 3);
        for ext in ["jpg", "png"] {
            let p = dir.path().join(format!("x.{ext}"));
            let failing =
                bands(&img, 8)
                    .enumerate()
                    .map(|(i, b)| if i == 3 { Err(Error::Cancelled) } else { b });
            let e = save_bands(
                &p,
                50,
                40,
                &Metadata::default(),
                &SaveOptions::default(),
                failing,
            );
            assert!(matches!(e, Err(Error::Cancelled)), "{e:?}");
            let short = bands(&img, 8).take(2);
            let e = save_bands(
                &p,
                50,
                40,
                &Metadata::default(),
                &SaveOptions::default(),
                short,
            );
            assert!(e.unwrap_err().to_string().contains("rows"));
            let narrow = gradient(49, 8, 3);
            let e = save_bands(
                &p,
                50,
                40,
                &Metadata::default(),
                &SaveOptions::default(),
                std::iter::once(Ok(narrow)),
            );
            assert!(e.unwrap_err().to_string().contains("wide"));
            assert!(
                files(dir.path()).is_empty(),
                "{ext}: {:?}",
                files(dir.path())
            );
        }
    }
}
