//! Does a JPEG file end? Decoders fill what a cut-off JPEG lacks with grey and
//! report success, so a photo whose download or copy stopped half way would be
//! retouched and saved as if whole. Walking the file's markers to its end-of-image
//! marker tells a complete file from a truncated one without decoding it.

/// What the marker walk found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegEnd {
    /// The end-of-image marker follows the last scan.
    Complete,
    /// The data stops inside a segment or a scan: bytes are missing.
    Truncated { at: usize },
    /// Not laid out as the walk expects (no start marker, a second image start):
    /// left to the decoder to judge.
    Unknown,
}

/// Walks `b`'s segments and scans, in time linear in its length.
pub fn jpeg_end(b: &[u8]) -> JpegEnd {
    if b.len() < 2 || b[0] != 0xFF || b[1] != 0xD8 {
        return JpegEnd::Unknown;
    }
    let mut i = 2;
    loop {
        // Tolerate stray bytes between segments (decoders do), then fill bytes.
        while i < b.len() && b[i] != 0xFF {
            i += 1;
        }
        while i < b.len() && b[i] == 0xFF {
            i += 1;
        }
        let Some(&marker) = b.get(i) else {
            return JpegEnd::Truncated { at: b.len() };
        };
        i += 1;
        match marker {
            0xD9 => return JpegEnd::Complete,
            0xD8 => return JpegEnd::Unknown,
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {}
            _ => {
                let Some(len) = segment_length(b, i) else {
                    return JpegEnd::Truncated { at: b.len() };
                };
                if len < 2 {
                    return JpegEnd::Unknown;
                }
                i += len;
                if i > b.len() {
                    return JpegEnd::Truncated { at: b.len() };
                }
                if marker == 0xDA {
                    // Entropy-coded data: a 0xFF in it is followed by 0x00 (a data
                    // byte) or a restart marker; anything else ends the scan.
                    loop {
                        while i < b.len() && b[i] != 0xFF {
                            i += 1;
                        }
                        match b.get(i + 1) {
                            None => return JpegEnd::Truncated { at: b.len() },
                            Some(0x00) | Some(0xD0..=0xD7) | Some(0xFF) => i += 1,
                            Some(_) => break,
                        }
                    }
                }
            }
        }
    }
}

fn segment_length(b: &[u8], at: usize) -> Option<usize> {
    let hi = *b.get(at)? as usize;
    let lo = *b.get(at + 1)? as usize;
    Some(hi << 8 | lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u16, h: u16, progressive: bool) -> Vec<u8> {
        let px: Vec<u8> = (0..w as usize * h as usize * 3)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, 90);
        enc.set_progressive(progressive);
        enc.set_restart_interval(4);
        enc.add_app_segment(1, b"Exif\0\0\xFF\xD9 a thumbnail's end marker")
            .unwrap();
        enc.encode(&px, w, h, jpeg_encoder::ColorType::Rgb).unwrap();
        out
    }

    #[test]
    fn complete_files_end_and_every_cut_is_truncated() {
        for progressive in [false, true] {
            let full = jpeg(37, 23, progressive);
            assert_eq!(jpeg_end(&full), JpegEnd::Complete);
            // Bytes after the end (camera trailers) do not matter.
            let mut trailer = full.clone();
            trailer.extend_from_slice(b"trailing data");
            assert_eq!(jpeg_end(&trailer), JpegEnd::Complete);
            for cut in 2..full.len() - 1 {
                assert!(
                    matches!(jpeg_end(&full[..cut]), JpegEnd::Truncated { .. }),
                    "progressive {progressive}, cut at {cut} of {}",
                    full.len()
                );
            }
        }
        assert_eq!(jpeg_end(b"not a jpeg"), JpegEnd::Unknown);
    }
}
