//! Reading and writing photos: PNG, JPEG, TIFF (8/16-bit), WebP.
//!
//! EXIF orientation is applied to the pixels on load (and the tag reset on save);
//! the ICC profile and EXIF block are carried to the output where the format can
//! hold them. Dimensions are checked against limits before any pixel is decoded
//! ([`decode`]), and saves go to a temporary file that is renamed into place, so a
//! killed process never leaves a half-written photo under the target name.

use crate::atomic_file;
use crate::error::{Cause, Error, Result};
use crate::raster::{Raster, Samples};
use image::{DynamicImage, ImageEncoder};
use rayon::prelude::*;
use std::io::{BufWriter, Write};
use std::path::Path;

mod bands;
pub mod decode;
pub mod jpeg_end;
mod jpeg_strips;
mod panic_guard;
pub use bands::save_bands;
pub use decode::{decode_bytes, load, MAX_SIDE};

/// Default ceiling on decoded image size, in megapixels.
pub const DEFAULT_MAX_MEGAPIXELS: f64 = 250.0;

/// Options for [`load`].
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Largest image accepted, in megapixels.
    pub max_megapixels: f64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_megapixels: DEFAULT_MAX_MEGAPIXELS,
        }
    }
}

/// Metadata carried from input to output.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    /// Embedded ICC colour profile.
    pub icc_profile: Option<Vec<u8>>,
    /// Raw EXIF block (TIFF structure), orientation already reset to "normal".
    pub exif: Option<Vec<u8>>,
}

/// A decoded photo with its metadata.
#[derive(Debug, Clone)]
pub struct LoadedImage {
    pub raster: Raster,
    pub metadata: Metadata,
}

/// Converts any decoded image to an RGB(A) raster of matching depth.
pub fn raster_from_dynamic(img: DynamicImage) -> Raster {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let has_alpha = img.color().has_alpha();
    let ch = if has_alpha { 4 } else { 3 };
    let samples = match img {
        DynamicImage::ImageRgb8(b) => Samples::U8(b.into_raw()),
        DynamicImage::ImageRgba8(b) => Samples::U8(b.into_raw()),
        DynamicImage::ImageRgb16(b) => Samples::U16(b.into_raw()),
        DynamicImage::ImageRgba16(b) => Samples::U16(b.into_raw()),
        DynamicImage::ImageRgb32F(b) => Samples::F32(b.into_raw()),
        DynamicImage::ImageRgba32F(b) => Samples::F32(b.into_raw()),
        DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA16(_) => {
            if has_alpha {
                Samples::U16(img.to_rgba16().into_raw())
            } else {
                Samples::U16(img.to_rgb16().into_raw())
            }
        }
        other => {
            if has_alpha {
                Samples::U8(other.to_rgba8().into_raw())
            } else {
                Samples::U8(other.to_rgb8().into_raw())
            }
        }
    };
    // Lengths come from the decoder's own buffers, so they always fit.
    Raster::new(w, h, ch, samples).expect("decoded buffer matches its dimensions")
}

/// Converts a raster to the `image` crate's type (for encoding and previews).
pub fn raster_to_dynamic(r: &Raster) -> DynamicImage {
    let (w, h) = (r.width() as u32, r.height() as u32);
    let built = match (r.samples(), r.has_alpha()) {
        (Samples::U8(v), false) => {
            image::RgbImage::from_raw(w, h, v.clone()).map(DynamicImage::from)
        }
        (Samples::U8(v), true) => {
            image::RgbaImage::from_raw(w, h, v.clone()).map(DynamicImage::from)
        }
        (Samples::U16(v), false) => {
            image::ImageBuffer::<image::Rgb<u16>, _>::from_raw(w, h, v.clone())
                .map(DynamicImage::from)
        }
        (Samples::U16(v), true) => {
            image::ImageBuffer::<image::Rgba<u16>, _>::from_raw(w, h, v.clone())
                .map(DynamicImage::from)
        }
        (Samples::F32(v), false) => {
            image::Rgb32FImage::from_raw(w, h, v.clone()).map(DynamicImage::from)
        }
        (Samples::F32(v), true) => {
            image::Rgba32FImage::from_raw(w, h, v.clone()).map(DynamicImage::from)
        }
    };
    built.expect("raster invariants guarantee matching length")
}

/// Output format, chosen from the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Png,
    Jpeg,
    Tiff,
    WebP,
}

impl OutputFormat {
    /// From the extension of `path`.
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match ext.as_str() {
            "png" => Ok(OutputFormat::Png),
            "jpg" | "jpeg" => Ok(OutputFormat::Jpeg),
            "tif" | "tiff" => Ok(OutputFormat::Tiff),
            "webp" => Ok(OutputFormat::WebP),
            _ => Err(Error::Encode {
                path: path.to_path_buf(),
                reason: format!(
                    "unknown output extension \"{ext}\" (use .png, .jpg, .tif or .webp)"
                ),
                source: None,
            }),
        }
    }
}

/// Options for [`save`].
#[derive(Debug, Clone)]
pub struct SaveOptions {
    /// JPEG quality, 1..=100.
    pub jpeg_quality: u8,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions { jpeg_quality: 92 }
    }
}

/// Encodes `raster` to `path` (format from the extension) with `metadata`,
/// atomically: the file appears complete or not at all.
///
/// JPEG and WebP are 8-bit without alpha/with alpha respectively; deeper samples are
/// reduced for them. PNG and TIFF keep 16-bit. Float rasters are written as 16-bit.
pub fn save(path: &Path, raster: &Raster, metadata: &Metadata, opts: &SaveOptions) -> Result<()> {
    let format = OutputFormat::from_path(path)?;
    write_atomically(path, |out| encode(out, format, raster, metadata, opts))
}

/// Saves 8-bit grey pixels (a mask), row by row top to bottom, to `path` (format
/// from the extension), atomically.
pub fn save_grey(path: &Path, width: usize, height: usize, pixels: Vec<u8>) -> Result<()> {
    let format = match OutputFormat::from_path(path)? {
        OutputFormat::Png => image::ImageFormat::Png,
        OutputFormat::Jpeg => image::ImageFormat::Jpeg,
        OutputFormat::Tiff => image::ImageFormat::Tiff,
        OutputFormat::WebP => image::ImageFormat::WebP,
    };
    let img = image::GrayImage::from_raw(width as u32, height as u32, pixels).ok_or_else(|| {
        Error::InvalidRequest(format!("{width} x {height} grey pixels: wrong length"))
    })?;
    write_atomically(path, |out| img.write_to(out, format).map_err(Cause::from))
}

/// Runs `write` on a temporary file beside `path` and, if it succeeds, flushes,
/// syncs and renames it over `path`: the file appears complete or not at all.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut std::fs::File>) -> std::result::Result<(), Cause>,
) -> Result<()> {
    atomic_file::replace(path, TEMP_PREFIX, output_permissions(path), write).map_err(|f| match f {
        atomic_file::Failure::Io { path, source } => Error::io(path, source),
        atomic_file::Failure::Write(cause) => Error::Encode {
            path: path.to_path_buf(),
            reason: "encoding it failed; nothing was written (an existing file of that name is untouched)".into(),
            source: Some(cause),
        },
    })
}

/// Prefix of the temporary files saves write beside their target.
pub(crate) const TEMP_PREFIX: &str = ".pertouch-";

/// Permissions for a saved photo: those of the file it replaces, else (on Unix) the
/// usual 0644, since temporary files are created private and a photo should not stay
/// so. Elsewhere the folder's defaults apply.
pub(crate) fn output_permissions(path: &Path) -> Option<std::fs::Permissions> {
    if let Ok(meta) = std::fs::metadata(path) {
        return Some(meta.permissions());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(std::fs::Permissions::from_mode(0o644))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

fn encode<W: Write + std::io::Seek>(
    out: &mut W,
    format: OutputFormat,
    raster: &Raster,
    metadata: &Metadata,
    opts: &SaveOptions,
) -> std::result::Result<(), Cause> {
    if format == OutputFormat::Jpeg {
        // Straight from the raster: no intermediate copies of a large photo.
        return encode_jpeg(out, raster, metadata, opts.jpeg_quality);
    }
    let img = raster_to_dynamic(raster);
    let (w, h) = (img.width(), img.height());
    let deep = !matches!(raster.samples(), Samples::U8(_));
    let alpha = raster.has_alpha();
    fn with_meta<E: ImageEncoder>(mut e: E, m: &Metadata) -> E {
        // Formats that cannot hold a block simply decline it; the pixels still save.
        if let Some(icc) = &m.icc_profile {
            let _ = e.set_icc_profile(icc.clone());
        }
        if let Some(exif) = &m.exif {
            let _ = e.set_exif_metadata(exif.clone());
        }
        e
    }
    let r = match format {
        OutputFormat::Png => {
            let enc = with_meta(image::codecs::png::PngEncoder::new(out), metadata);
            match (deep, alpha) {
                (false, false) => {
                    enc.write_image(img.to_rgb8().as_raw(), w, h, image::ExtendedColorType::Rgb8)
                }
                (false, true) => enc.write_image(
                    img.to_rgba8().as_raw(),
                    w,
                    h,
                    image::ExtendedColorType::Rgba8,
                ),
                (true, false) => enc.write_image(
                    bytes16(&img.to_rgb16()),
                    w,
                    h,
                    image::ExtendedColorType::Rgb16,
                ),
                (true, true) => enc.write_image(
                    bytes16(&img.to_rgba16()),
                    w,
                    h,
                    image::ExtendedColorType::Rgba16,
                ),
            }
        }
        OutputFormat::Tiff => {
            let enc = with_meta(image::codecs::tiff::TiffEncoder::new(out), metadata);
            match (deep, alpha) {
                (false, false) => {
                    enc.write_image(img.to_rgb8().as_raw(), w, h, image::ExtendedColorType::Rgb8)
                }
                (false, true) => enc.write_image(
                    img.to_rgba8().as_raw(),
                    w,
                    h,
                    image::ExtendedColorType::Rgba8,
                ),
                (true, false) => enc.write_image(
                    bytes16(&img.to_rgb16()),
                    w,
                    h,
                    image::ExtendedColorType::Rgb16,
                ),
                (true, true) => enc.write_image(
                    bytes16(&img.to_rgba16()),
                    w,
                    h,
                    image::ExtendedColorType::Rgba16,
                ),
            }
        }
        OutputFormat::Jpeg => unreachable!("handled above"),
        OutputFormat::WebP => {
            let enc = with_meta(
                image::codecs::webp::WebPEncoder::new_lossless(out),
                metadata,
            );
            if alpha {
                enc.write_image(
                    img.to_rgba8().as_raw(),
                    w,
                    h,
                    image::ExtendedColorType::Rgba8,
                )
            } else {
                enc.write_image(img.to_rgb8().as_raw(), w, h, image::ExtendedColorType::Rgb8)
            }
        }
    };
    r.map_err(Cause::from)
}

/// JPEG through `jpeg-encoder` (SIMD, several times faster than the `image`
/// crate's encoder on large photos), with the ICC profile and EXIF block, its
/// strips encoded in parallel ([`jpeg_strips`]).
fn encode_jpeg<W: Write>(
    out: &mut W,
    raster: &Raster,
    metadata: &Metadata,
    quality: u8,
) -> std::result::Result<(), Cause> {
    let converted;
    let (data, channels): (&[u8], usize) = match raster.samples() {
        // JPEG has no alpha: the encoder drops the fourth channel itself.
        Samples::U8(v) => (v, raster.channels()),
        _ => {
            converted = raster_to_dynamic(raster).to_rgb8();
            (converted.as_raw(), 3)
        }
    };
    let strips = jpeg_strips::Strips::new(raster.width(), raster.height(), channels, quality)?;
    let row = raster.width() * channels;
    let encoded = (0..strips.count())
        .into_par_iter()
        .map(|j| {
            let r = strips.rows(j);
            strips.encode(j, &data[r.start * row..r.end * row], metadata)
        })
        .collect::<std::result::Result<Vec<_>, Cause>>()?;
    strips.write(out, &encoded)
}

/// A JPEG encoder at `quality` that writes `metadata`'s EXIF block and ICC profile.
fn jpeg_encoder_for<W: jpeg_encoder::JfifWrite>(
    out: W,
    metadata: &Metadata,
    quality: u8,
) -> std::result::Result<jpeg_encoder::Encoder<W>, Cause> {
    let mut enc = jpeg_encoder::Encoder::new(out, quality.clamp(1, 100));
    if let Some(exif) = &metadata.exif {
        let mut segment = b"Exif\0\0".to_vec();
        segment.extend_from_slice(exif);
        // An EXIF block too large for one segment is dropped, not the photo.
        if let Err(e) = enc.add_app_segment(1, &segment) {
            tracing::warn!("EXIF not written: {e}");
        }
    }
    if let Some(icc) = &metadata.icc_profile {
        enc.add_icc_profile(icc)?;
    }
    Ok(enc)
}

/// 16-bit samples as native-endian bytes, as the encoders expect.
fn bytes16<P: image::Pixel<Subpixel = u16>>(b: &image::ImageBuffer<P, Vec<u16>>) -> &[u8] {
    use image::EncodableLayout;
    b.as_raw().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Saves with no metadata and default options, panicking on failure.
    fn save_plain(path: &Path, raster: &Raster) {
        save(path, raster, &Metadata::default(), &SaveOptions::default()).unwrap();
    }

    fn gradient(w: usize, h: usize, ch: usize) -> Raster {
        let mut v = Vec::with_capacity(w * h * ch);
        for y in 0..h {
            for x in 0..w {
                v.push((x * 255 / w) as u8);
                v.push((y * 255 / h) as u8);
                v.push(128);
                if ch == 4 {
                    v.push(((x + y) % 256) as u8);
                }
            }
        }
        Raster::new(w, h, ch, Samples::U8(v)).unwrap()
    }

    #[test]
    fn png_round_trip_keeps_alpha_and_icc() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.png");
        let r = gradient(13, 7, 4);
        let meta = Metadata {
            icc_profile: Some(vec![1, 2, 3, 4]),
            exif: None,
        };
        save(&p, &r, &meta, &SaveOptions::default()).unwrap();
        let back = load(&p, &LoadOptions::default()).unwrap();
        assert_eq!(back.raster, r);
        assert_eq!(back.metadata.icc_profile, Some(vec![1, 2, 3, 4]));
    }

    #[cfg(unix)]
    #[test]
    fn saved_photos_are_readable_and_keep_replaced_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jpg");
        save_plain(&p, &gradient(8, 8, 3));
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        save_plain(&p, &gradient(8, 8, 3));
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    #[test]
    fn sixteen_bit_tiff_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.tif");
        let v: Vec<u16> = (0..5 * 3 * 3).map(|i| (i * 1400) as u16).collect();
        let r = Raster::new(5, 3, 3, Samples::U16(v)).unwrap();
        save_plain(&p, &r);
        let back = load(&p, &LoadOptions::default()).unwrap();
        assert_eq!(back.raster, r);
    }

    #[test]
    fn too_large_is_refused_before_decoding() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.png");
        save_plain(&p, &gradient(400, 300, 3));
        let err = load(
            &p,
            &LoadOptions {
                max_megapixels: 0.1,
            },
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::TooLarge {
                    width: 400,
                    height: 300,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn corrupt_and_truncated_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.png");
        std::fs::write(&junk, b"this is not a picture at all").unwrap();
        let e = load(&junk, &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("junk.png"), "{e}");

        let good = dir.path().join("good.png");
        save_plain(&good, &gradient(64, 64, 3));
        let bytes = std::fs::read(&good).unwrap();
        let cut = dir.path().join("cut.png");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let e = load(&cut, &LoadOptions::default()).unwrap_err().to_string();
        assert!(e.contains("cut.png"), "{e}");
    }

    #[test]
    fn failed_save_leaves_existing_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keep.xyz");
        std::fs::write(&p, b"precious").unwrap();
        assert!(save(
            &p,
            &gradient(4, 4, 3),
            &Metadata::default(),
            &SaveOptions::default()
        )
        .is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"precious");
        // No temporary files are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn exif_orientation_is_applied_and_reset() {
        // A minimal big-endian EXIF block with Orientation = 6 (rotate 90 CW).
        let exif: Vec<u8> = vec![
            b'M', b'M', 0, 42, 0, 0, 0, 8, // header, IFD0 at 8
            0, 1, // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, // orientation SHORT 6
            0, 0, 0, 0, // no next IFD
        ];
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("o.jpg");
        let r = gradient(40, 20, 3);
        save(
            &p,
            &r,
            &Metadata {
                icc_profile: None,
                exif: Some(exif),
            },
            &SaveOptions { jpeg_quality: 95 },
        )
        .unwrap();
        let back = load(&p, &LoadOptions::default()).unwrap();
        assert_eq!((back.raster.width(), back.raster.height()), (20, 40));
        let chunk = back.metadata.exif.expect("exif kept");
        assert_eq!(
            image::metadata::Orientation::from_exif_chunk(&chunk),
            Some(image::metadata::Orientation::NoTransforms)
        );
    }
}
