//! Decoding photos and masks from files or bytes that may be hostile: sizes are
//! checked against the limits before any pixel is decoded, cut-off JPEGs are
//! refused (their decoder would fill the gap with grey), a decoder's panic is that
//! file's error, and every error says what is wrong with the file in words, with
//! the decoder's own error kept as its cause.

use super::jpeg_end::{jpeg_end, JpegEnd};
use super::{panic_guard, LoadOptions, LoadedImage, Metadata};
use crate::error::{Cause, Error, Result};
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use std::io::{BufRead, BufReader, Cursor, Read, Seek};
use std::path::Path;

/// Longest side accepted, in pixels, whatever the megapixel limit. Photos and
/// panoramas stay far below it; a file of 249,000,000 x 1 pixels (30 KB as a PNG)
/// is not a photo, and per-row buffers of that width alone would take gigabytes.
pub const MAX_SIDE: u32 = 100_000;

/// Decodes the photo at `path` (format from its content), applying EXIF
/// orientation, within `opts`' limits.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<LoadedImage> {
    let (img, metadata) = decode_file(path, opts)?;
    Ok(LoadedImage {
        raster: super::raster_from_dynamic(img),
        metadata,
    })
}

/// Decodes a photo held in memory; `name` stands for it in messages (a host's
/// document name, say).
pub fn decode_bytes(bytes: &[u8], name: &Path, opts: &LoadOptions) -> Result<LoadedImage> {
    let (img, metadata) = decode_reader(Cursor::new(bytes), name, opts)?;
    Ok(LoadedImage {
        raster: super::raster_from_dynamic(img),
        metadata,
    })
}

/// The decoded image at `path` as the `image` crate holds it (masks keep their
/// grey and alpha channels), with its metadata, orientation applied.
pub(crate) fn decode_file(path: &Path, opts: &LoadOptions) -> Result<(DynamicImage, Metadata)> {
    check_options(opts)?;
    let file = std::fs::File::open(path).map_err(|e| open_error(path, e))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(decode_error(
            path,
            "it is a folder, not an image file",
            None,
        ));
    }
    decode_reader(BufReader::new(file), path, opts)
}

fn decode_reader<R: BufRead + Seek>(
    reader: R,
    path: &Path,
    opts: &LoadOptions,
) -> Result<(DynamicImage, Metadata)> {
    check_options(opts)?;
    let reader = ImageReader::new(reader)
        .with_guessed_format()
        .map_err(|e| read_error(path, e))?;
    match reader.format() {
        None => Err(decode_error(
            path,
            "it is not a PNG, JPEG, TIFF or WebP image (its first bytes match none of them)",
            None,
        )),
        Some(ImageFormat::Jpeg) => {
            // The JPEG decoder reads the whole file into memory anyway; reading it
            // here first lets the end marker be checked.
            let mut inner = reader.into_inner();
            let mut bytes = Vec::new();
            let limit = max_file_bytes(opts);
            inner
                .by_ref()
                .take(limit + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| read_error(path, e))?;
            if bytes.len() as u64 > limit {
                return Err(decode_error(
                    path,
                    format!("the JPEG file is larger than {limit} bytes, more than any photo within the {} megapixel limit needs", opts.max_megapixels),
                    None,
                ));
            }
            if let JpegEnd::Truncated { at } = jpeg_end(&bytes) {
                return Err(decode_error(
                    path,
                    format!("the JPEG is cut off after {at} bytes (an interrupted download or copy?): its decoder would fill the missing part with grey; copy or export the photo again"),
                    None,
                ));
            }
            let reader = ImageReader::with_format(Cursor::new(bytes), ImageFormat::Jpeg);
            decode_checked(reader, path, opts)
        }
        Some(ImageFormat::WebP) => {
            // A cut-off WebP decodes as a "corrupt bitstream"; its RIFF header
            // says how long the file should be.
            let mut inner = reader.into_inner();
            if let Some((declared, actual)) = riff_shortfall(&mut inner) {
                return Err(decode_error(
                    path,
                    format!("the WebP file ends early: it should be {declared} bytes and is {actual} (an interrupted download or copy?); copy or export it again"),
                    None,
                ));
            }
            decode_checked(
                ImageReader::with_format(inner, ImageFormat::WebP),
                path,
                opts,
            )
        }
        Some(_) => decode_checked(reader, path, opts),
    }
}

/// The length a RIFF file declares and the length it has, when it is shorter;
/// the reader is left at its start.
fn riff_shortfall<R: Read + Seek>(r: &mut R) -> Option<(u64, u64)> {
    use std::io::SeekFrom;
    let mut head = [0u8; 8];
    let start = r.stream_position().ok()?;
    let read = r.read_exact(&mut head);
    let actual = r.seek(SeekFrom::End(0)).ok()? - start;
    r.seek(SeekFrom::Start(start)).ok()?;
    read.ok()?;
    if &head[..4] != b"RIFF" {
        return None;
    }
    let declared = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as u64 + 8;
    (actual < declared).then_some((declared, actual))
}

/// Refuses limits that would switch the size checks off (NaN compares false).
fn check_options(opts: &LoadOptions) -> Result<()> {
    if opts.max_megapixels.is_finite() && opts.max_megapixels > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "the image size limit {} megapixels is not a positive number",
            opts.max_megapixels
        )))
    }
}

/// A generous ceiling on an encoded file's size: 4 bytes per allowed pixel plus
/// room for metadata.
fn max_file_bytes(opts: &LoadOptions) -> u64 {
    (opts.max_megapixels * 4e6) as u64 + (64 << 20)
}

fn decode_checked<R: BufRead + Seek>(
    reader: ImageReader<R>,
    path: &Path,
    opts: &LoadOptions,
) -> Result<(DynamicImage, Metadata)> {
    let format = reader.format();
    let caught = panic_guard::catch(|| -> Result<(DynamicImage, Metadata)> {
        let mut decoder = reader
            .into_decoder()
            .map_err(|e| image_error(path, format, e))?;
        let (w, h) = decoder.dimensions();
        check_size(path, w, h, opts)?;
        let mut limits = Limits::default();
        // Room for the decoded pixels at 16-bit RGBA plus decoder working space.
        limits.max_alloc = Some((w as u64 * h as u64 * 8).saturating_mul(2).max(64 << 20));
        decoder
            .set_limits(limits)
            .map_err(|e| image_error(path, format, e))?;
        let icc_profile = decoder.icc_profile().ok().flatten();
        let mut exif = decoder.exif_metadata().ok().flatten();
        let orientation = decoder
            .orientation()
            .unwrap_or(image::metadata::Orientation::NoTransforms);
        if let Some(chunk) = exif.as_mut() {
            let _ = image::metadata::Orientation::remove_from_exif_chunk(chunk);
        }
        let mut img =
            DynamicImage::from_decoder(decoder).map_err(|e| image_error(path, format, e))?;
        img.apply_orientation(orientation);
        Ok((img, Metadata { icc_profile, exif }))
    });
    match caught {
        Ok(result) => result,
        Err(panic) => Err(decode_error(
            path,
            format!(
                "the {} decoder failed inside on this file (a layout it does not handle, or a damaged file); convert it to a plain PNG or TIFF",
                format_name(format)
            ),
            Some(format!("decoder panic: {panic}").into()),
        )),
    }
}

fn check_size(path: &Path, w: u32, h: u32, opts: &LoadOptions) -> Result<()> {
    if w == 0 || h == 0 {
        return Err(decode_error(
            path,
            format!("it says it is {w} x {h} pixels: an empty image"),
            None,
        ));
    }
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(decode_error(
            path,
            format!("it says it is {w} x {h} pixels; a side longer than {MAX_SIDE} pixels is not a photo (a crafted or damaged file?)"),
            None,
        ));
    }
    let megapixels = w as f64 * h as f64 / 1e6;
    if megapixels > opts.max_megapixels {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            width: w,
            height: h,
            megapixels,
            limit: opts.max_megapixels,
        });
    }
    Ok(())
}

pub(crate) fn decode_error(path: &Path, reason: impl Into<String>, source: Option<Cause>) -> Error {
    Error::Decode {
        path: path.to_path_buf(),
        reason: reason.into(),
        source,
    }
}

/// A file that cannot be opened or read is an I/O failure (hosts tell it from a
/// damaged file), named with the system's reason ("No such file or directory").
fn open_error(path: &Path, e: std::io::Error) -> Error {
    Error::io(path, e)
}

fn read_error(path: &Path, e: std::io::Error) -> Error {
    Error::io(path, e)
}

fn format_name(format: Option<ImageFormat>) -> &'static str {
    match format {
        Some(ImageFormat::Png) => "PNG",
        Some(ImageFormat::Jpeg) => "JPEG",
        Some(ImageFormat::Tiff) => "TIFF",
        Some(ImageFormat::WebP) => "WebP",
        _ => "image",
    }
}

/// The `image` crate's error in words: what is wrong with the file and what to do,
/// the error itself kept as the cause.
fn image_error(path: &Path, format: Option<ImageFormat>, e: ImageError) -> Error {
    let name = format_name(format);
    let reason = if ends_early(&e) {
        format!("the {name} file ends early (an interrupted download or copy?); copy or export it again")
    } else {
        match &e {
            ImageError::Limits(_) => format!(
                "decoding this {name} would need more memory than its size warrants (a crafted or damaged file?)"
            ),
            ImageError::Unsupported(u) => format!(
                "this kind of {name} is not supported ({u}); convert it to an 8- or 16-bit RGB PNG or TIFF"
            ),
            ImageError::IoError(_) => format!("reading the {name} file failed"),
            _ => format!("the {name} data is damaged or not valid {name}"),
        }
    };
    decode_error(path, reason, Some(Box::new(e)))
}

/// True when somewhere in `e`'s chain the data ran out.
fn ends_early(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        // `ImageError::IoError` does not give its I/O error as a source.
        let io = err.downcast_ref::<std::io::Error>().or_else(|| {
            match err.downcast_ref::<ImageError>() {
                Some(ImageError::IoError(io)) => Some(io),
                _ => None,
            }
        });
        if io.is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof) {
            return true;
        }
        let text = err.to_string().to_ascii_lowercase();
        if text.contains("unexpected end") || text.contains("unexpected eof") {
            return true;
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_io::{save, Metadata, SaveOptions};
    use crate::raster::{Raster, Samples};

    fn hostile(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/hostile")
            .join(name)
    }

    fn photo(w: usize, h: usize) -> Raster {
        let v = (0..w * h * 3).map(|i| (i * 13 % 251) as u8).collect();
        Raster::new(w, h, 3, Samples::U8(v)).unwrap()
    }

    /// Issue 18 item 4: on main this file panicked inside the `tiff` decoder
    /// (`measure` exited 101).
    #[test]
    fn a_decoder_panic_is_an_error_for_that_file() {
        let path = hostile("tiled-planar.tif");
        let e = load(&path, &LoadOptions::default()).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("tiled-planar.tif") && text.contains("TIFF decoder failed"),
            "{text}"
        );
        let cause = std::error::Error::source(&e).unwrap().to_string();
        assert!(cause.starts_with("decoder panic: "), "{cause}");
        // The next file decodes as usual.
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.tif");
        save(
            &ok,
            &photo(8, 4),
            &Metadata::default(),
            &SaveOptions::default(),
        )
        .unwrap();
        assert!(load(&ok, &LoadOptions::default()).is_ok());
    }

    /// Issue 18 item 8: on main this 30 KB PNG was decoded (249 MP is under the
    /// 250 MP limit) and `measure` peaked at 6.5 GB.
    #[test]
    fn absurdly_long_sides_are_refused_before_decoding() {
        let e = load(&hostile("wide-bomb.png"), &LoadOptions::default()).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("249000000 x 1") && text.contains("100000"),
            "{text}"
        );
    }

    /// Issue 18 item 8: `--max-megapixels NaN` switched the size check off on main
    /// (NaN compares false), and the image decoded.
    #[test]
    fn limits_that_are_not_positive_numbers_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.png");
        save(
            &p,
            &photo(8, 4),
            &Metadata::default(),
            &SaveOptions::default(),
        )
        .unwrap();
        for bad in [f64::NAN, f64::INFINITY, 0.0, -1.0] {
            let e = load(
                &p,
                &LoadOptions {
                    max_megapixels: bad,
                },
            )
            .unwrap_err();
            assert!(matches!(e, Error::InvalidRequest(_)), "{bad}: {e}");
        }
    }

    /// Issue 18 item 6: on main a cut-off JPEG decoded (the missing rows grey) and
    /// every command went on with it. Every format's cut-off file is an error that
    /// says the file ends early, and names it.
    #[test]
    fn cut_off_files_of_every_format_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for ext in ["jpg", "png", "tif", "webp"] {
            let whole = dir.path().join(format!("whole.{ext}"));
            save(
                &whole,
                &photo(64, 48),
                &Metadata::default(),
                &SaveOptions::default(),
            )
            .unwrap();
            let bytes = std::fs::read(&whole).unwrap();
            assert!(decode_bytes(&bytes, &whole, &LoadOptions::default()).is_ok());
            // A JPEG that lost only its end marker is cut off too; other formats'
            // last bytes are a checksum of an empty end chunk, lost harmlessly.
            let keeps = if ext == "jpg" {
                vec![bytes.len() / 2, bytes.len() - 2]
            } else {
                vec![bytes.len() / 2]
            };
            for keep in keeps {
                let cut = dir.path().join(format!("cut.{ext}"));
                std::fs::write(&cut, &bytes[..keep]).unwrap();
                let e = match load(&cut, &LoadOptions::default()) {
                    Ok(_) => panic!("{ext} cut to {keep} of {} bytes decoded", bytes.len()),
                    Err(e) => e.with_causes(),
                };
                assert!(e.contains("cut."), "{ext}: {e}");
                assert!(
                    e.contains("ends early") || e.contains("cut off"),
                    "{ext} cut to {keep} of {}: {e}",
                    bytes.len()
                );
            }
        }
    }

    #[test]
    fn missing_files_and_folders_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(&dir.path().join("nope.jpg"), &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("nope.jpg") && e.to_lowercase().contains("no such file"),
            "{e}"
        );
        let e = load(dir.path(), &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("folder"), "{e}");
    }
}
