//! The contact sheets of docs/PERCEPTUAL.md: each sample photo before and after the
//! plain global instructions both ways, next to GEGL's white balance
//! (`gegl:color-temperature` from 6500 K to 7500 K, warmer, and to 5500 K, cooler)
//! for temperature, and
//! full-size crops of sky edges after sky edits. Prints the mean ΔE00 of every cell
//! as Markdown tables.
//!
//! ```sh
//! cargo run -p pertouch-e2e --example contact_sheet -- docs/images/contact
//! ```
//!
//! Needs `gegl` (0.4) on the PATH for the GEGL columns (left grey without it); CI
//! does not run this.

use image::{imageops, Rgb, RgbImage};
use pertouch_core::agent::preview;
use pertouch_core::measure::change_size;
use pertouch_core::raster::{Raster, Samples};
use pertouch_e2e::{refined_mask, retouch_say, sample_photos};
use std::path::{Path, PathBuf};
use std::process::Command;

const TILE_W: u32 = 300;
const TILE_H: u32 = 210;
const GAP: u32 = 6;

fn to_rgb8(r: &Raster) -> RgbImage {
    let (w, h, ch) = (r.width(), r.height(), r.channels());
    let data: Vec<u8> = match r.samples() {
        Samples::U8(v) => v.chunks(ch).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        _ => (0..w * h)
            .flat_map(|k| {
                r.rgb255(k % w, k / w)
                    .map(|v| v.round().clamp(0.0, 255.0) as u8)
            })
            .collect(),
    };
    RgbImage::from_raw(w as u32, h as u32, data).expect("sizes match")
}

fn from_rgb8(img: &RgbImage) -> Raster {
    Raster::new(
        img.width() as usize,
        img.height() as usize,
        3,
        Samples::U8(img.as_raw().clone()),
    )
    .expect("sizes match")
}

/// `img` scaled to fit a tile, centred on grey.
fn tile(img: &RgbImage) -> RgbImage {
    let s = (TILE_W as f32 / img.width() as f32).min(TILE_H as f32 / img.height() as f32);
    let (w, h) = (
        (img.width() as f32 * s).round() as u32,
        (img.height() as f32 * s).round() as u32,
    );
    let small = imageops::resize(img, w, h, imageops::FilterType::Triangle);
    let mut t = RgbImage::from_pixel(TILE_W, TILE_H, Rgb([128, 128, 128]));
    imageops::overlay(
        &mut t,
        &small,
        ((TILE_W - w) / 2) as i64,
        ((TILE_H - h) / 2) as i64,
    );
    t
}

/// Rows of tiles on white.
fn sheet(rows: &[Vec<RgbImage>]) -> RgbImage {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0) as u32;
    let (cw, ch) = (rows[0][0].width(), rows[0][0].height());
    let mut out = RgbImage::from_pixel(
        cols * (cw + GAP) + GAP,
        rows.len() as u32 * (ch + GAP) + GAP,
        Rgb([255, 255, 255]),
    );
    for (r, row) in rows.iter().enumerate() {
        for (c, t) in row.iter().enumerate() {
            imageops::overlay(
                &mut out,
                t,
                (GAP + c as u32 * (cw + GAP)) as i64,
                (GAP + r as u32 * (ch + GAP)) as i64,
            );
        }
    }
    out
}

fn save_jpeg(img: &RgbImage, path: &Path) {
    let f = std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut enc =
        image::codecs::jpeg::JpegEncoder::new_with_quality(std::io::BufWriter::new(f), 88);
    enc.encode_image(img).expect("encodes");
    println!("wrote {}", path.display());
}

/// GEGL's `intended-temperature` for the same wish from 6500 K: GEGL corrects a
/// photo shot at the original temperature to look as if shot at the intended one,
/// so a higher intended temperature warms the picture.
fn gegl_intended(instruction: &str) -> u32 {
    if instruction == "warmer" {
        7500
    } else {
        5500
    }
}

/// GEGL's white balance from 6500 K to `intended` K, if gegl is installed.
fn gegl(photo: &RgbImage, intended: u32, scratch: &Path) -> Option<RgbImage> {
    let (src, dst) = (scratch.join("gegl-in.png"), scratch.join("gegl-out.png"));
    photo.save(&src).ok()?;
    let ok = Command::new("gegl")
        .arg(&src)
        .arg("-o")
        .arg(&dst)
        .args([
            "--",
            "gegl:color-temperature",
            "original-temperature=6500",
            &format!("intended-temperature={intended}"),
        ])
        .status()
        .ok()?
        .success();
    if !ok {
        return None;
    }
    Some(image::open(&dst).ok()?.to_rgb8())
}

fn de(before: &RgbImage, after: &RgbImage) -> (f64, f64, f64) {
    let (a, b) = (from_rgb8(before), from_rgb8(after));
    let (w, h) = (a.width(), a.height());
    let s = change_size(&a.rgb_resized(w, h), &b.rgb_resized(w, h), None).expect("pixels");
    (s.mean, s.mean_da, s.mean_db)
}

/// The window of `size` where the mask's edge (its 0.5 crossing) is longest:
/// where a fringe would show.
fn edge_window(mask: &pertouch_core::plane::Plane, size: (usize, usize)) -> (usize, usize) {
    let (w, h) = (mask.width(), mask.height());
    let d = mask.data();
    let edge: Vec<u32> = (0..w * h)
        .map(|k| {
            let (x, y) = (k % w, k / w);
            let inside = d[k] >= 0.5;
            ((x + 1 < w && (d[k + 1] >= 0.5) != inside)
                || (y + 1 < h && (d[k + w] >= 0.5) != inside)) as u32
        })
        .collect();
    let mut best = (0, (0, 0));
    for y0 in (0..=h.saturating_sub(size.1)).step_by(8) {
        for x0 in (0..=w.saturating_sub(size.0)).step_by(8) {
            let n: u32 = (y0..y0 + size.1)
                .map(|y| edge[y * w + x0..y * w + x0 + size.0].iter().sum::<u32>())
                .sum();
            if n > best.0 {
                best = (n, (x0, y0));
            }
        }
    }
    best.1
}

fn main() {
    let out_dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/images/contact".into()),
    );
    std::fs::create_dir_all(&out_dir).expect("output folder");
    let scratch = tempfile::tempdir().expect("scratch folder");
    let photos = sample_photos();
    let grey = RgbImage::from_pixel(TILE_W, TILE_H, Rgb([128, 128, 128]));

    let groups: [(&str, &[&str]); 3] = [
        ("temperature", &["warmer", "cooler"]),
        (
            "tone",
            &["brighter", "darker", "more contrast", "less contrast"],
        ),
        (
            "colour",
            &["more saturated", "less saturated", "black and white"],
        ),
    ];
    let mut tables: Vec<String> = Vec::new();
    for (group, instructions) in groups {
        let mut rows = Vec::new();
        let mut header = "| photo |".to_string();
        let mut rule = "|---|".to_string();
        for i in instructions {
            header += &format!(" \"{i}\" |");
            rule += "---|";
            if group == "temperature" {
                let k = gegl_intended(i);
                header += &format!(" GEGL 6500 K -> {k} K |");
                rule += "---|";
            }
        }
        let mut lines = vec![header, rule];
        for (name, full) in &photos {
            let photo = preview(full, 1024);
            let before = to_rgb8(&photo);
            let mut row = vec![tile(&before)];
            let mut line = format!("| {name} |");
            for i in instructions {
                let (after, _, _) = retouch_say(&photo, i);
                let after = to_rgb8(&after);
                let (m, da, db) = de(&before, &after);
                row.push(tile(&after));
                line += &if group == "temperature" {
                    format!(" {m:.2} (Δa* {da:+.2}, Δb* {db:+.2}) |")
                } else {
                    format!(" {m:.2} |")
                };
                if group == "temperature" {
                    match gegl(&before, gegl_intended(i), scratch.path()) {
                        Some(g) => {
                            let (m, da, db) = de(&before, &g);
                            row.push(tile(&g));
                            line += &format!(" {m:.2} (Δa* {da:+.2}, Δb* {db:+.2}) |");
                        }
                        None => {
                            row.push(grey.clone());
                            line += " - |";
                        }
                    }
                }
            }
            eprintln!("{group}: {name}");
            rows.push(row);
            lines.push(line);
        }
        save_jpeg(&sheet(&rows), &out_dir.join(format!("{group}.jpg")));
        tables.push(format!(
            "### {group}\n\nMean ΔE00 over the photo (1024 px long side)\n\n{}",
            lines.join("\n")
        ));
    }

    // Sky edges at full size: before | warmer sky | cooler sky, 2x nearest.
    let mut rows = Vec::new();
    for (name, full) in &photos {
        let (warm, outcome, masks) = retouch_say(full, "make the sky warmer");
        let Some(sky) = masks.get("sky") else {
            continue;
        };
        if sky.mean() < 0.05 {
            continue;
        }
        let (cool, _, _) = retouch_say(full, "make the sky cooler");
        let size = (200usize.min(full.width()), 140usize.min(full.height()));
        // Where the edge the renderer draws (the refined mask's) is longest.
        let refined = refined_mask(full, &masks, &outcome.state);
        let (x0, y0) = edge_window(&refined, size);
        let crop = |r: &Raster| {
            let img = to_rgb8(r);
            let c = imageops::crop_imm(&img, x0 as u32, y0 as u32, size.0 as u32, size.1 as u32)
                .to_image();
            imageops::resize(
                &c,
                c.width() * 2,
                c.height() * 2,
                imageops::FilterType::Nearest,
            )
        };
        eprintln!("edges: {name} at ({x0}, {y0})");
        rows.push(vec![crop(full), crop(&warm), crop(&cool)]);
    }
    if !rows.is_empty() {
        save_jpeg(&sheet(&rows), &out_dir.join("sky-edges.jpg"));
    }
    println!("{}", tables.join("\n\n"));
}
