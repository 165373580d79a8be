//! Baseline JPEG encoded in horizontal strips, one strip per core at a time.
//!
//! A JPEG scan may be cut by restart markers, after which the decoder forgets the
//! DC predictions: the scan data between two markers depends on nothing before it.
//! With a restart interval of one row of MCUs, each strip of rows is encoded on
//! its own (by the same encoder, with the same tables), and the strips' scan data
//! joined with the restart markers a single encoder would have written between
//! them is that encoder's file, byte for byte (tested). Markers count modulo 8, so
//! a strip holds a multiple of 8 MCU rows ([`STRIP_ROWS`]) and every strip's own
//! markers already carry the image's count.

use super::{jpeg_encoder_for, Cause, Metadata};
use std::io::Write;

/// Rows per strip: 8 MCU rows at every sampling the encoder uses (MCUs are 8 or
/// 16 rows high).
pub(crate) const STRIP_ROWS: usize = 128;

/// The strips of one image: its size, channels (3 or 4, alpha dropped) and quality.
#[derive(Debug, Clone)]
pub(crate) struct Strips {
    width: u16,
    height: u16,
    channels: usize,
    quality: u8,
    /// The encoder's luma sampling at that quality (horizontal, vertical).
    sampling: (u8, u8),
}

/// One strip's encoding: the encoder's whole file for those rows, and where its
/// scan data starts.
#[derive(Debug)]
pub(crate) struct EncodedStrip {
    bytes: Vec<u8>,
    scan: usize,
}

impl Strips {
    /// Strips of a `width` x `height` 8-bit image of `channels` channels.
    pub fn new(width: usize, height: usize, channels: usize, quality: u8) -> Result<Self, Cause> {
        match (u16::try_from(width), u16::try_from(height)) {
            (Ok(w), Ok(h)) if w > 0 && h > 0 && matches!(channels, 3 | 4) => Ok(Strips {
                width: w,
                height: h,
                channels,
                quality,
                sampling: sampling(&jpeg_encoder::Encoder::new(Vec::new(), quality)),
            }),
            (Ok(_), Ok(_)) => Err(format!("cannot encode a {width} x {height} image of {channels} channels as JPEG").into()),
            _ => Err(format!(
                "{width} x {height} is larger than JPEG allows (65535 per side); save as PNG or TIFF"
            )
            .into()),
        }
    }

    /// Number of strips.
    pub fn count(&self) -> usize {
        (self.height as usize).div_ceil(STRIP_ROWS)
    }

    /// Rows of strip `j`.
    pub fn rows(&self, j: usize) -> std::ops::Range<usize> {
        let start = j * STRIP_ROWS;
        start..(start + STRIP_ROWS).min(self.height as usize)
    }

    /// Encodes strip `j` from its rows' `pixels`; the first strip carries the
    /// file's header with `metadata`.
    pub fn encode(
        &self,
        j: usize,
        pixels: &[u8],
        metadata: &Metadata,
    ) -> Result<EncodedStrip, Cause> {
        let rows = self.rows(j);
        let expected = rows.len() * self.width as usize * self.channels;
        if pixels.len() != expected {
            return Err(format!("strip {j}: {} bytes for {expected}", pixels.len()).into());
        }
        let mut bytes = Vec::with_capacity(expected / 4);
        let none = Metadata::default();
        let mut enc = jpeg_encoder_for(
            &mut bytes,
            if j == 0 { metadata } else { &none },
            self.quality,
        )?;
        enc.set_restart_interval(self.width.div_ceil(8 * self.sampling.0 as u16));
        let colour = match self.channels {
            3 => jpeg_encoder::ColorType::Rgb,
            _ => jpeg_encoder::ColorType::Rgba,
        };
        enc.encode(pixels, self.width, rows.len() as u16, colour)?;
        let scan = scan_start(&bytes).ok_or("the encoder wrote no scan")?;
        if !bytes.ends_with(&[0xFF, 0xD9]) {
            return Err("the encoder's output does not end with EOI".into());
        }
        Ok(EncodedStrip { bytes, scan })
    }

    /// Writes the whole file from every strip's encoding, in order.
    pub fn write(&self, out: &mut impl Write, strips: &[EncodedStrip]) -> Result<(), Cause> {
        let (first, _) = strips.split_first().ok_or("no strips")?;
        if strips.len() != self.count() {
            return Err(format!("{} of {} strips", strips.len(), self.count()).into());
        }
        let mut header = first.bytes[..first.scan].to_vec();
        set_height(&mut header, self.height).ok_or("the encoder wrote no frame header")?;
        out.write_all(&header)?;
        let mcu_rows = STRIP_ROWS / (8 * self.sampling.1 as usize);
        for (j, s) in strips.iter().enumerate() {
            if j > 0 {
                // The marker before MCU row i is RST((i - 1) mod 8).
                let i = j * mcu_rows;
                out.write_all(&[0xFF, 0xD0 + ((i - 1) % 8) as u8])?;
            }
            out.write_all(&s.bytes[s.scan..s.bytes.len() - 2])?;
        }
        out.write_all(&[0xFF, 0xD9])?;
        Ok(())
    }
}

/// The encoder's (horizontal, vertical) luma sampling.
fn sampling<W: jpeg_encoder::JfifWrite>(enc: &jpeg_encoder::Encoder<W>) -> (u8, u8) {
    let v = enc.sampling_factor() as u8;
    ((v >> 4) & 0x07, v & 0x0F)
}

/// Walks the marker segments after SOI; calls `seen(marker, segment start)` for
/// each (the start is the marker's 0xFF) and returns where the scan data begins.
fn walk(bytes: &[u8], mut seen: impl FnMut(u8, usize)) -> Option<usize> {
    let mut pos = 2;
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    loop {
        let (&ff, &marker) = (bytes.get(pos)?, bytes.get(pos + 1)?);
        if ff != 0xFF {
            return None;
        }
        let len = u16::from_be_bytes([*bytes.get(pos + 2)?, *bytes.get(pos + 3)?]) as usize;
        seen(marker, pos);
        pos += 2 + len;
        if marker == 0xDA {
            return Some(pos);
        }
    }
}

fn scan_start(bytes: &[u8]) -> Option<usize> {
    walk(bytes, |_, _| {})
}

/// Writes `height` into the frame header (SOF0-2) of `header`.
fn set_height(header: &mut [u8], height: u16) -> Option<()> {
    let mut sof = None;
    walk(header, |m, at| {
        if (0xC0..=0xC2).contains(&m) {
            sof = Some(at);
        }
    })?;
    let at = sof? + 5;
    header
        .get_mut(at..at + 2)?
        .copy_from_slice(&height.to_be_bytes());
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(w: usize, h: usize, ch: usize) -> Vec<u8> {
        (0..w * h * ch)
            .map(|i| {
                let (x, y, c) = ((i / ch) % w, i / ch / w, i % ch);
                let wave = ((x as f32 * 0.07).sin() * 60.0 + (y as f32 * 0.05).cos() * 50.0) as i32;
                (128 + wave + (c as i32 * 37) + ((x * y) % 7) as i32).clamp(0, 255) as u8
            })
            .collect()
    }

    fn whole(pixels: &[u8], w: usize, h: usize, ch: usize, q: u8, meta: &Metadata) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = jpeg_encoder_for(&mut out, meta, q).unwrap();
        let (hs, _) = sampling(&enc);
        enc.set_restart_interval((w as u16).div_ceil(8 * hs as u16));
        let colour = if ch == 3 {
            jpeg_encoder::ColorType::Rgb
        } else {
            jpeg_encoder::ColorType::Rgba
        };
        enc.encode(pixels, w as u16, h as u16, colour).unwrap();
        out
    }

    fn in_strips(pixels: &[u8], w: usize, h: usize, ch: usize, q: u8, meta: &Metadata) -> Vec<u8> {
        let strips = Strips::new(w, h, ch, q).unwrap();
        let encoded: Vec<EncodedStrip> = (0..strips.count())
            .map(|j| {
                let r = strips.rows(j);
                strips
                    .encode(j, &pixels[r.start * w * ch..r.end * w * ch], meta)
                    .unwrap()
            })
            .collect();
        let mut out = Vec::new();
        strips.write(&mut out, &encoded).unwrap();
        out
    }

    /// Strips joined are the single encoder's file, byte for byte: 4:4:4 and
    /// 4:2:0, RGB and RGBA, sizes that are and are not whole MCUs and strips, one
    /// strip and many, with metadata in the header.
    #[test]
    fn joined_strips_are_the_single_encoders_file() {
        let meta = Metadata {
            exif: Some(b"II*\0\x08\0\0\0\0\0".to_vec()),
            ..Default::default()
        };
        for (w, h) in [(97, 600), (64, 512), (33, 5), (300, 257), (17, 1030)] {
            for ch in [3, 4] {
                for q in [92, 80] {
                    let px = photo(w, h, ch);
                    let a = whole(&px, w, h, ch, q, &meta);
                    let b = in_strips(&px, w, h, ch, q, &meta);
                    assert!(
                        a == b,
                        "{w}x{h} ch {ch} q {q}: {} vs {} bytes",
                        a.len(),
                        b.len()
                    );
                }
            }
        }
    }

    /// The file decodes to the image a plain encoder's file decodes to.
    #[test]
    fn strips_decode_like_a_plain_encoding() {
        let (w, h) = (150, 700);
        let px = photo(w, h, 3);
        let b = in_strips(&px, w, h, 3, 92, &Metadata::default());
        let mut plain = Vec::new();
        jpeg_encoder_for(&mut plain, &Metadata::default(), 92)
            .unwrap()
            .encode(&px, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        let decode = |bytes: &[u8]| {
            image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
                .unwrap()
                .to_rgb8()
                .into_raw()
        };
        assert_eq!(decode(&b), decode(&plain));
    }

    #[test]
    fn sizes_jpeg_cannot_hold_are_refused() {
        assert!(Strips::new(70_000, 10, 3, 90).is_err());
        assert!(Strips::new(0, 10, 3, 90).is_err());
        assert!(Strips::new(10, 10, 2, 90).is_err());
        let s = Strips::new(10, 600, 3, 90).unwrap();
        let last = s.count() - 1;
        assert_eq!(s.count(), 600usize.div_ceil(STRIP_ROWS));
        assert_eq!(s.rows(last), last * STRIP_ROWS..600);
        assert!(s.encode(0, &[0; 10], &Metadata::default()).is_err());
    }
}
