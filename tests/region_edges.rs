//! Region edits at their edges (issue 14): on photos with sky and clouds, a sky edit
//! through the `retouch --say` path must not spill (pixels outside the refined mask
//! change by at most 1/255 on average) nor leave a fringe: the mean CIEDE2000
//! change in a band of 3 pixels either side of the mask's edge stays under the
//! region's own mean change.

use pertouch_core::measure::change_size;
use pertouch_core::plane::Plane;
use pertouch_core::raster::{Raster, Samples};
use pertouch_e2e::{refined_mask, retouch_say, sample_photos};

/// Pixels either side of the edge that count as the edge band.
const BAND: usize = 3;

fn u8s(r: &Raster) -> &[u8] {
    match r.samples() {
        Samples::U8(v) => v,
        _ => panic!("8-bit photos"),
    }
}

/// 1 within `BAND` pixels (Chebyshev) of where the mask crosses 0.5.
fn edge_band(m: &Plane) -> Plane {
    let (w, h) = (m.width(), m.height());
    let inside: Vec<bool> = m.data().iter().map(|&v| v >= 0.5).collect();
    let mut edge = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let k = y * w + x;
            if (x + 1 < w && inside[k] != inside[k + 1])
                || (y + 1 < h && inside[k] != inside[k + w])
            {
                edge[k] = true;
            }
        }
    }
    // Dilate by BAND in x, then in y.
    let dilate = |src: &[bool], dx: usize, dy: usize| -> Vec<bool> {
        let mut out = vec![false; w * h];
        for y in 0..h {
            for x in 0..w {
                if !src[y * w + x] {
                    continue;
                }
                let (x0, x1) = (x.saturating_sub(dx), (x + dx).min(w - 1));
                let (y0, y1) = (y.saturating_sub(dy), (y + dy).min(h - 1));
                for yy in y0..=y1 {
                    for xx in x0..=x1 {
                        out[yy * w + xx] = true;
                    }
                }
            }
        }
        out
    };
    let band = dilate(&dilate(&edge, BAND, 0), 0, BAND);
    Plane::from_vec(w, h, band.iter().map(|&b| b as u8 as f32).collect()).unwrap()
}

#[test]
fn sky_edits_keep_their_edges_clean() {
    let photos: Vec<(String, Raster)> = sample_photos()
        .into_iter()
        .filter(|(n, _)| matches!(n.as_str(), "storm" | "dune" | "rocket"))
        .collect();
    assert_eq!(photos.len(), 3, "the sky photos are in the samples");
    let mut rows = Vec::new();
    for (name, photo) in &photos {
        for text in [
            "make the sky warmer",
            "make the sky cooler",
            "give the sky more colour",
        ] {
            let (out, outcome, masks) = retouch_say(photo, text);
            assert!(
                outcome.notes.is_empty(),
                "{name}: the sky is found: {:?}",
                outcome.notes
            );
            let refined = refined_mask(photo, &masks, &outcome.state);
            let (w, h) = (photo.width(), photo.height());
            let (before, after) = (photo.rgb_resized(w, h), out.rgb_resized(w, h));
            let region = change_size(&before, &after, Some(&refined)).unwrap();
            let band = edge_band(&refined);
            let edge = change_size(&before, &after, Some(&band)).unwrap();
            // Spill: mean 8-bit change of pixels the refined mask leaves out.
            let (src, dst) = (u8s(photo), u8s(&out));
            let ch = photo.channels();
            let (mut sum, mut n) = (0f64, 0usize);
            for (k, &m) in refined.data().iter().enumerate() {
                if m == 0.0 {
                    for c in 0..3 {
                        sum += (src[k * ch + c] as f64 - dst[k * ch + c] as f64).abs();
                    }
                    n += 3;
                }
            }
            let spill = if n == 0 { 0.0 } else { sum / n as f64 };
            println!(
                "{name:<8} {text:<26} region ΔE00 {:.2} (p99 {:.2}), edge band {:.2} (p99 {:.2}), outside {spill:.3}/255",
                region.mean, region.p99, edge.mean, edge.p99
            );
            rows.push((name.clone(), text, region, edge, spill));
        }
    }
    for (name, text, region, edge, spill) in &rows {
        assert!(
            *spill <= 1.0,
            "{name} {text}: pixels outside the mask changed by {spill:.3}/255"
        );
        assert!(
            region.mean > 0.5,
            "{name} {text}: the sky edit is visible ({:.2})",
            region.mean
        );
        assert!(
            edge.mean < region.mean,
            "{name} {text}: a fringe: ΔE00 {:.2} at the edge vs {:.2} in the sky",
            edge.mean,
            region.mean
        );
    }
}

/// "make the sky warmer and the grass greener" on a photo whose "vegetation" is a
/// few stray pixels (0.1% of the frame, like a kite photo's): the sky is edited,
/// the vegetation is left alone and the user is told why, instead of a silent edit
/// of those pixels.
#[test]
fn an_almost_absent_region_is_reported_not_edited() {
    use pertouch_core::agent::{interpret, preview, Session, MIN_REGION_COVERAGE};
    use pertouch_core::mask::MaskSet;
    use pertouch_core::measure::LevelTables;
    use pertouch_core::params::{Attribute, RegionState};
    use pertouch_core::render::{Control, ParametricRenderer, RenderOptions};
    let (_, photo) = sample_photos()
        .into_iter()
        .find(|(n, _)| n == "rocket")
        .expect("the rocket photo is in the samples");
    let small = preview(&photo, 512);
    let (w, h) = (small.width(), small.height());
    // Sky: the top half. Vegetation: a 0.1% patch at the bottom.
    let sky = Plane::from_vec(
        w,
        h,
        (0..w * h).map(|k| (k / w < h / 2) as u8 as f32).collect(),
    )
    .unwrap();
    let patch = ((w * h) as f64 * 0.001).sqrt().round() as usize;
    let veg = Plane::from_vec(
        w,
        h,
        (0..w * h)
            .map(|k| (k % w < patch && k / w >= h - patch) as u8 as f32)
            .collect(),
    )
    .unwrap();
    let coverage = veg.mean();
    assert!(
        coverage > 0.0 && coverage < MIN_REGION_COVERAGE,
        "{coverage}"
    );
    let mut masks = MaskSet::new();
    masks.insert("sky", sky);
    masks.insert("vegetation", veg);
    let tables = LevelTables::builtin().clone();
    let renderer = ParametricRenderer::new(RenderOptions {
        tables: tables.clone(),
        ..Default::default()
    });
    let interp = interpret("make the sky warmer and the grass greener").unwrap();
    assert!(interp.regions().iter().any(|r| r == "vegetation"));
    let session = Session {
        renderer: &renderer,
        preview: &small,
        masks: &masks,
        tables: &tables,
    };
    let out = session
        .apply(&RegionState::new(), &interp, &Control::default())
        .unwrap();
    println!("notes: {:?}", out.notes);
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("vegetation") && n.contains("almost no")),
        "the user is told: {:?}",
        out.notes
    );
    assert!(
        Attribute::ALL
            .iter()
            .all(|&a| out.state.get("vegetation", a).is_none()),
        "the stray pixels are not edited: {:?}",
        out.state
    );
    assert!(
        out.state
            .get("sky", Attribute::Temperature)
            .is_some_and(|t| t > 0.0),
        "the sky still gets warmer: {:?}",
        out.state
    );
}
