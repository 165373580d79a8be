//! Saving an image whose rows arrive band by band while later bands are still being
//! rendered, so that encoding overlaps rendering instead of following it.

use super::{jpeg_encoder_for, write_atomically, OutputFormat, SaveOptions};
use crate::error::{Error, Result};
use crate::image_io::Metadata;
use crate::raster::{Raster, Samples};
use jpeg_encoder::{ImageBuffer, JpegColorType};
use std::cell::RefCell;
use std::path::Path;

/// Saves the bands `bands` yields, top to bottom, as one `width` x `height` image at
/// `path`, atomically, and returns the assembled image.
///
/// 8-bit JPEG is encoded while the bands arrive; other formats and depths are
/// assembled first and then saved. If a band is an error (a cancelled render, say)
/// nothing is written and that error is returned.
pub fn save_bands(
    path: &Path,
    width: usize,
    height: usize,
    metadata: &Metadata,
    opts: &SaveOptions,
    bands: impl Iterator<Item = Result<Raster>>,
) -> Result<Raster> {
    let format = OutputFormat::from_path(path)?;
    let mut bands = bands.peekable();
    let streamable = format == OutputFormat::Jpeg
        && matches!(
            bands.peek(),
            Some(Ok(b)) if matches!(b.samples(), Samples::U8(_))
        );
    if !streamable {
        let mut rows = Assembler::new(width, height);
        for band in bands {
            rows.push(band?)?;
        }
        let image = rows.finish()?;
        super::save(path, &image, metadata, opts)?;
        return Ok(image);
    }
    let (w16, h16) = jpeg_size(path, width, height)?;
    let source = RowSource {
        width: w16,
        height: h16,
        state: RefCell::new(Pulling {
            bands,
            rows: Assembler::new(width, height),
            failed: None,
        }),
    };
    let written = write_atomically(path, |out| {
        let enc = jpeg_encoder_for(out, metadata, opts.jpeg_quality)?;
        enc.encode_image(&source)?;
        // A failed band must not be published as a finished photo.
        match source.state.borrow().failed {
            Some(_) => Err("a band failed".into()),
            None => Ok(()),
        }
    });
    let state = source.state.into_inner();
    if let Some(e) = state.failed {
        return Err(e);
    }
    written?;
    state.rows.finish()
}

fn jpeg_size(path: &Path, width: usize, height: usize) -> Result<(u16, u16)> {
    match (u16::try_from(width), u16::try_from(height)) {
        (Ok(w), Ok(h)) => Ok((w, h)),
        _ => Err(Error::Encode {
            path: path.to_path_buf(),
            reason: format!("{width} x {height} is larger than JPEG allows (65535 per side); save as PNG or TIFF"),
            source: None,
        }),
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

    fn push(&mut self, band: Raster) -> Result<()> {
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

    /// Row `y` of an 8-bit image, once it has arrived.
    fn row_u8(&self, y: usize) -> Option<&[u8]> {
        match &self.samples {
            Some(Samples::U8(v)) if y < self.rows => {
                let len = self.width * self.channels;
                Some(&v[y * len..(y + 1) * len])
            }
            _ => None,
        }
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

struct Pulling<I> {
    bands: I,
    rows: Assembler,
    /// The first error met; the encoder is then fed black rows and its output discarded.
    failed: Option<Error>,
}

/// Feeds the JPEG encoder rows as they arrive, converted to YCbCr.
struct RowSource<I> {
    width: u16,
    height: u16,
    state: RefCell<Pulling<I>>,
}

impl<I: Iterator<Item = Result<Raster>>> ImageBuffer for &RowSource<I> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        JpegColorType::Ycbcr
    }

    fn width(&self) -> u16 {
        self.width
    }

    fn height(&self) -> u16 {
        self.height
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let y = y as usize;
        let mut s = self.state.borrow_mut();
        while s.failed.is_none() && s.rows.rows <= y {
            let next = s.bands.next();
            let pushed = match next {
                Some(band) => band.and_then(|b| s.rows.push(b)),
                None => Err(Error::InvalidRequest(format!(
                    "the image ended after {} of {} rows",
                    s.rows.rows, s.rows.height
                ))),
            };
            if let Err(e) = pushed {
                s.failed = Some(e);
            }
        }
        let ch = s.rows.channels;
        match s.rows.row_u8(y) {
            Some(row) => {
                for p in row.chunks_exact(ch) {
                    let (l, cb, cr) = jpeg_encoder::rgb_to_ycbcr(p[0], p[1], p[2]);
                    buffers[0].push(l);
                    buffers[1].push(cb);
                    buffers[2].push(cr);
                }
            }
            // Black after a failure; the file is discarded anyway.
            None => {
                let w = self.width as usize;
                buffers[0].extend(std::iter::repeat_n(0, w));
                buffers[1].extend(std::iter::repeat_n(128, w));
                buffers[2].extend(std::iter::repeat_n(128, w));
            }
        }
    }
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

    /// Streamed JPEG decodes like the same image saved whole (the colour conversion
    /// may round differently by a code), and the assembled image comes back intact.
    #[test]
    fn streamed_jpeg_matches_a_whole_save() {
        let dir = tempfile::tempdir().unwrap();
        for ch in [3, 4] {
            let img = gradient(123, 77, ch);
            let (a, b) = (dir.path().join("a.jpg"), dir.path().join("b.jpg"));
            let meta = Metadata {
                exif: None,
                icc_profile: Some(vec![7u8; 300]),
            };
            let back =
                save_bands(&a, 123, 77, &meta, &SaveOptions::default(), bands(&img, 16)).unwrap();
            assert_eq!(back, img);
            save(&b, &img, &meta, &SaveOptions::default()).unwrap();
            let (la, lb) = (
                load(&a, &LoadOptions::default()).unwrap(),
                load(&b, &LoadOptions::default()).unwrap(),
            );
            assert_eq!(la.metadata.icc_profile, meta.icc_profile);
            let (Samples::U8(pa), Samples::U8(pb)) = (la.raster.samples(), lb.raster.samples())
            else {
                panic!("8-bit expected")
            };
            let worst = pa
                .iter()
                .zip(pb)
                .map(|(x, y)| x.abs_diff(*y))
                .max()
                .unwrap();
            assert!(worst <= 3, "{ch} channels: worst {worst}");
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
