//! Helper of the browser end-to-end test (e2e/run.mjs): makes test documents
//! from the shared sample photos and renders the reference the panel's new layer
//! must equal, with the core's `host::Engine` directly (not through the bridge).
//!
//! ```text
//! e2e_reference doc PHOTO WIDTH HEIGHT BITS OUT.raw      document samples, Photoshop's scale
//! e2e_reference selection WIDTH HEIGHT OUT.raw           a feathered ellipse, 8-bit
//! e2e_reference render DOC.raw WIDTH HEIGHT BITS STATE.json OUT.raw [SELECTION.raw]
//! ```
//! Raw files are interleaved RGB, little-endian for 16 bits. Photoshop keeps
//! 16-bit samples as 0..32768 and the panel reads them with `fullRange`
//! (0..65535): `render` converts the same way (round(v * 65535 / 32768)) and
//! writes the result in full range, as the bridge returns it.

use pertouch_bridge::jobs::render::{frame_key, host_masks};
use pertouch_bridge::jobs::upload::Selection;
use pertouch_core::host::{Engine, EngineConfig, FrameInputs};
use pertouch_core::params::RegionState;
use pertouch_core::raster::{Raster, Samples};
use pertouch_core::render::Control;
use std::path::Path;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn num(s: &str) -> Result<usize> {
    Ok(s.parse().map_err(|e| format!("{s}: {e}"))?)
}

fn run(a: &[String]) -> Result<()> {
    match a.first().map(String::as_str) {
        Some("doc") if a.len() == 6 => doc(
            Path::new(&a[1]),
            num(&a[2])?,
            num(&a[3])?,
            num(&a[4])?,
            Path::new(&a[5]),
        ),
        Some("selection") if a.len() == 4 => selection(num(&a[1])?, num(&a[2])?, Path::new(&a[3])),
        Some("render") if a.len() == 7 || a.len() == 8 => render(a),
        _ => Err("usage: see the header of examples/e2e_reference.rs".into()),
    }
}

fn doc(photo: &Path, w: usize, h: usize, bits: usize, out: &Path) -> Result<()> {
    let loaded = pertouch_core::image_io::load(photo, &Default::default())?;
    let rgb = loaded.raster.rgb_resized(w, h);
    let mut bytes = Vec::with_capacity(w * h * 3 * bits / 8);
    for (i, p) in rgb.data.iter().enumerate() {
        let (x, y) = (i % w, i / w);
        for (k, c) in p.iter().enumerate() {
            if bits == 8 {
                bytes.push(c.round().clamp(0.0, 255.0) as u8);
            } else {
                // Photoshop's 16-bit scale, with low-order detail an 8-bit photo lacks.
                let wiggle = ((x * 7 + y * 13 + k * 5) % 31) as f32 - 15.0;
                let v = (c / 255.0 * 32768.0 + wiggle).round().clamp(0.0, 32768.0) as u16;
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    std::fs::write(out, bytes)?;
    Ok(())
}

fn selection(w: usize, h: usize, out: &Path) -> Result<()> {
    let mut v = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let dx = (x as f32 - w as f32 * 0.35) / (w as f32 * 0.25);
            let dy = (y as f32 - h as f32 * 0.45) / (h as f32 * 0.3);
            let d = (dx * dx + dy * dy).sqrt();
            v[y * w + x] = ((1.1 - d) / 0.15 * 255.0).clamp(0.0, 255.0) as u8;
        }
    }
    std::fs::write(out, v)?;
    Ok(())
}

fn render(a: &[String]) -> Result<()> {
    let (w, h, bits) = (num(&a[2])?, num(&a[3])?, num(&a[4])?);
    let raw = std::fs::read(&a[1])?;
    let samples = if bits == 8 {
        Samples::U8(raw)
    } else {
        Samples::U16(
            raw.chunks_exact(2)
                .map(|b| {
                    let v = u16::from_le_bytes([b[0], b[1]]) as u32;
                    ((v * 65535 + 16384) / 32768) as u16
                })
                .collect(),
        )
    };
    let source = Raster::new(w, h, 3, samples).ok_or("document size")?;
    let state = RegionState::from_json(&std::fs::read_to_string(&a[5])?)?;
    let selection = match a.get(7) {
        Some(p) => Some(Selection {
            width: w,
            height: h,
            values: std::fs::read(p)?.iter().map(|&v| v as u16 * 257).collect(),
        }),
        None => None,
    };
    let engine = Engine::open(&EngineConfig::default())?;
    let masks = host_masks(&state, selection.as_ref());
    let key = frame_key(&source, &masks, selection.as_ref(), &state);
    let ctl = Control::default();
    let frame = engine.frame(
        key,
        &state,
        || {
            Ok(FrameInputs {
                source: std::borrow::Cow::Borrowed(&source),
                masks,
            })
        },
        &ctl,
    )?;
    let out = frame.render_tile(&source, (0, 0), (w, h), &ctl)?;
    let mut bytes = Vec::with_capacity(w * h * 3 * bits / 8);
    let sel = |i: usize| selection.as_ref().is_none_or(|s| s.values[i] > 0);
    match (out.samples(), source.samples()) {
        (Samples::U8(o), Samples::U8(s)) => {
            for i in 0..w * h {
                bytes.extend_from_slice(if sel(i) {
                    &o[i * 3..i * 3 + 3]
                } else {
                    &s[i * 3..i * 3 + 3]
                });
            }
        }
        (Samples::U16(o), Samples::U16(s)) => {
            for i in 0..w * h {
                let px = if sel(i) {
                    &o[i * 3..i * 3 + 3]
                } else {
                    &s[i * 3..i * 3 + 3]
                };
                px.iter()
                    .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
            }
        }
        _ => return Err("unexpected sample types".into()),
    }
    std::fs::write(&a[6], bytes)?;
    Ok(())
}
