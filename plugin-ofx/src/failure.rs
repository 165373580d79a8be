//! What a failed render leaves in the output image. A host that honours the
//! failure status shows its own error (and discards the output); MLT (Shotcut,
//! Kdenlive) ignores the status and shows whatever the output holds, which is
//! the Source unchanged unless we write something: a failure that looks like
//! "nothing set". So the output gets a picture that cannot pass for a result:
//! the frame dimmed to grey inside a red border, and a red band across the top
//! that says "PerTouch failed" and why. Opaque, so nothing turns transparent;
//! drawn in frame coordinates, so the tiles of a frame agree.

use crate::host_values::Rect;
use font8x8::legacy::BASIC_LEGACY;
use pertouch_core::color::luminance;
use pertouch_core::raster::{Raster, Samples};

const RED: [f32; 3] = [0.78, 0.06, 0.06];
const WHITE: [f32; 3] = [1.0, 1.0, 1.0];
/// How much of the frame's brightness shows through (grey, so no colour of it
/// reads as an edit).
const DIM: f32 = 0.3;
const MAX_LINES: usize = 6;

/// The failure picture for `window` of `frame` (pixel rectangles), with
/// `channels` channels; `source` is the window's source pixels when they could
/// be read.
pub fn picture(
    frame: Rect,
    window: Rect,
    channels: usize,
    source: Option<&Raster>,
    message: &str,
) -> Option<Raster> {
    let (w, h) = (window.width(), window.height());
    let (fw, fh) = (frame.width().max(1), frame.height().max(1));
    let scale = (fw.min(fh) / 240).max(1);
    let (cell, line) = (8 * scale, 10 * scale);
    let margin = 3 * scale;
    let cols = (fw.saturating_sub(2 * margin) / cell).max(1);
    let lines = wrap(&format!("PerTouch failed: {message}"), cols);
    let band = margin * 2 + lines.len() * line;
    let border = 2 * scale;
    let src = source.filter(|s| (s.width(), s.height()) == (w, h) && s.channels() >= 3);
    let src_samples = src.map(Raster::unit_samples);
    let src_ch = src.map_or(0, Raster::channels);
    let mut out = vec![1.0f32; w * h * channels];
    for y in 0..h {
        // Frame coordinates, top row 0 (a window may stick out of the frame).
        let fy = i64::from(frame.y2) - i64::from(window.y2) + y as i64;
        for x in 0..w {
            let fx = i64::from(window.x1) - i64::from(frame.x1) + x as i64;
            let colour = if fy < band as i64 && fy >= 0 && fx >= 0 {
                if text_pixel(&lines, fx as usize, fy as usize, margin, scale) {
                    WHITE
                } else {
                    RED
                }
            } else if fx < border as i64
                || fy < border as i64
                || fx >= (fw - border.min(fw)) as i64
                || fy >= (fh - border.min(fh)) as i64
            {
                RED
            } else {
                let luma = src_samples.as_ref().map_or(0.0, |s| {
                    let i = (y * w + x) * src_ch;
                    luminance([s[i], s[i + 1], s[i + 2]])
                });
                let g = (luma.clamp(0.0, 1.0)) * DIM;
                [g, g, g]
            };
            let o = (y * w + x) * channels;
            for (c, v) in colour.iter().take(channels).enumerate() {
                out[o + c] = *v;
            }
        }
    }
    Raster::new(w, h, channels, Samples::F32(out))
}

/// Whether pixel (`x`, `y`) of the band (frame coordinates) is part of a glyph.
fn text_pixel(lines: &[String], x: usize, y: usize, margin: usize, scale: usize) -> bool {
    let (Some(tx), Some(ty)) = (x.checked_sub(margin), y.checked_sub(margin)) else {
        return false;
    };
    let (row, in_line) = (ty / (10 * scale), ty % (10 * scale) / scale);
    let (col, in_cell) = (tx / (8 * scale), tx % (8 * scale) / scale);
    let Some(ch) = lines.get(row).and_then(|l| l.as_bytes().get(col)) else {
        return false;
    };
    // Glyphs are 8 rows of 8 bits, the lowest bit the leftmost pixel; lines
    // leave 2 rows between them.
    in_line < 8 && BASIC_LEGACY[usize::from(*ch & 0x7F)][in_line] >> in_cell & 1 == 1
}

/// `text` in lines of at most `cols` ASCII characters, broken at spaces where it
/// can, at most [`MAX_LINES`] (the last ends in "..." when text was cut).
fn wrap(text: &str, cols: usize) -> Vec<String> {
    let ascii: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else if c.is_whitespace() {
                ' '
            } else {
                '?'
            }
        })
        .collect();
    let mut lines: Vec<String> = Vec::new();
    let mut rest = ascii.trim();
    while !rest.is_empty() {
        if lines.len() == MAX_LINES {
            if let Some(last) = lines.last_mut() {
                last.truncate(cols.saturating_sub(3));
                last.push_str("...");
            }
            break;
        }
        let cut = if rest.len() <= cols {
            rest.len()
        } else {
            rest[..=cols].rfind(' ').filter(|&i| i > 0).unwrap_or(cols)
        };
        lines.push(rest[..cut].trim_end().to_string());
        rest = rest[cut..].trim_start();
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_wrap_at_spaces_and_stop_at_six_lines() {
        let l = wrap("Region state: not valid JSON (EOF while parsing)", 16);
        assert_eq!(l[0], "Region state:");
        assert!(l.iter().all(|s| s.len() <= 16), "{l:?}");
        let many = wrap(&"word ".repeat(100), 10);
        assert_eq!(many.len(), MAX_LINES);
        assert!(many[5].ends_with("..."));
        assert_eq!(wrap("naïve\ttext", 40), ["na?ve text"]);
    }

    #[test]
    fn the_picture_is_opaque_and_tiles_agree_with_the_whole_frame() {
        let frame = Rect {
            x1: 0,
            y1: 0,
            x2: 300,
            y2: 200,
        };
        let whole = picture(frame, frame, 4, None, "a reason").unwrap();
        let s = whole.unit_samples();
        assert!(s.chunks_exact(4).all(|p| p[3] == 1.0), "opaque");
        // Red band at the top, with white text in it.
        assert_eq!(&s[..3], &RED);
        assert!(s[..300 * 4 * 20].chunks_exact(4).any(|p| p[..3] == WHITE));
        let tile = Rect {
            x1: 100,
            y1: 150,
            x2: 200,
            y2: 200,
        };
        let part = picture(frame, tile, 4, None, "a reason").unwrap();
        let p = part.unit_samples();
        for y in 0..50 {
            for x in 0..100 {
                let a = &p[(y * 100 + x) * 4..][..4];
                let b = &s[(y * 300 + 100 + x) * 4..][..4];
                assert_eq!(a, b, "({x}, {y})");
            }
        }
    }
}
