//! The built-in segmenter: colour, tone, texture and position, no model files.
//!
//! Each region is a soft score from per-pixel features in Oklab (lightness, chroma,
//! hue angle), local texture (standard deviation of lightness) and position; sky must
//! connect to the top of the frame and water must lie below the sky. The masks are
//! rough by design: the renderer refines every mask edge-aware at full resolution.

use super::names::{resolve, Region, ALL_REGIONS};
use super::{describe, Offer, Segmenter};
use crate::color::{linear_to_oklab, srgb_to_linear};
use crate::error::{Error, Result};
use crate::plane::Plane;
use crate::raster::RgbF32;
use std::collections::VecDeque;

/// The built-in segmenter.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinSegmenter;

impl Segmenter for BuiltinSegmenter {
    fn name(&self) -> &str {
        "builtin"
    }

    fn offers(&self) -> Vec<Offer> {
        ALL_REGIONS.into_iter().map(Offer::region).collect()
    }

    fn finds(&self, name: &str) -> bool {
        resolve(name).is_some()
    }

    fn segment(&self, image: &RgbF32, names: &[&str]) -> Result<Vec<Plane>> {
        Ok(self.segment_regions(image, &self.regions_named(names)?))
    }
}

impl BuiltinSegmenter {
    /// The regions `names` call for (any alias); a name it does not find is an
    /// [`Error::UnknownRegion`].
    pub fn regions_named(&self, names: &[&str]) -> Result<Vec<Region>> {
        names
            .iter()
            .map(|n| {
                resolve(n).ok_or_else(|| Error::UnknownRegion {
                    region: n.to_string(),
                    available: describe(&self.offers()),
                })
            })
            .collect()
    }

    /// Soft masks of `regions` at the size of `image`.
    pub fn segment_regions(&self, image: &RgbF32, regions: &[Region]) -> Vec<Plane> {
        self.analyse(image).regions(regions)
    }

    /// The per-pixel features of `image`, worked out once for any number of
    /// [`BuiltinAnalysis::regions`] calls (the scene tags and a command's regions
    /// of one photo share them).
    pub fn analyse(&self, image: &RgbF32) -> BuiltinAnalysis {
        BuiltinAnalysis {
            f: Features::of(image),
            sky: std::sync::OnceLock::new(),
        }
    }
}

/// A photo analysed by the built-in segmenter: its features, and its sky once a
/// region that depends on it was asked for.
pub struct BuiltinAnalysis {
    f: Features,
    sky: std::sync::OnceLock<Vec<f32>>,
}

impl std::fmt::Debug for BuiltinAnalysis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinAnalysis")
            .field("width", &self.f.w)
            .field("height", &self.f.h)
            .finish()
    }
}

impl BuiltinAnalysis {
    /// Soft masks of `regions` at the analysed image's size.
    pub fn regions(&self, regions: &[Region]) -> Vec<Plane> {
        let f = &self.f;
        let sky = || self.sky.get_or_init(|| f.sky()).as_slice();
        regions
            .iter()
            .map(|r| {
                let data = match r {
                    Region::Sky => sky().to_vec(),
                    Region::Water => f.water(sky()),
                    Region::Vegetation => f.vegetation(sky()),
                    Region::Skin => f.map(skin),
                    Region::Shadows => f.map(|p| shadows(p.l)),
                    Region::Highlights => f.map(|p| highlights(p.l)),
                    Region::Midtones => {
                        f.map(|p| (1.0 - shadows(p.l) - highlights(p.l)).clamp(0.0, 1.0))
                    }
                    Region::Reds => f.map(|p| colour_range(p, 25.0, 20.0)),
                    Region::Oranges => f.map(|p| colour_range(p, 58.0, 15.0)),
                    Region::Yellows => f.map(|p| colour_range(p, 100.0, 18.0)),
                    Region::Greens => f.map(|p| colour_range(p, 140.0, 25.0)),
                    Region::Cyans => f.map(|p| colour_range(p, 195.0, 20.0)),
                    Region::Blues => f.map(|p| colour_range(p, 255.0, 25.0)),
                    Region::Purples => f.map(|p| colour_range(p, 320.0, 30.0)),
                };
                Plane::from_vec(f.w, f.h, data).expect("one value per pixel")
            })
            .collect()
    }
}

/// Features of one pixel.
#[derive(Debug, Clone, Copy)]
struct Pixel {
    /// Oklab lightness, 0..1.
    l: f32,
    /// Oklab chroma.
    c: f32,
    /// Oklab hue angle in degrees, 0..360 (red ~29, yellow ~110, green ~142,
    /// cyan ~195, blue ~264, magenta ~328).
    h: f32,
    /// Local standard deviation of lightness (7 x 7).
    texture: f32,
}

struct Features {
    w: usize,
    h: usize,
    px: Vec<Pixel>,
}

impl Features {
    fn of(image: &RgbF32) -> Self {
        let (w, h) = (image.width, image.height);
        let lab: Vec<[f32; 3]> = image
            .data
            .iter()
            .map(|p| linear_to_oklab(p.map(|v| srgb_to_linear(v / 255.0))))
            .collect();
        let l = Plane::from_vec(w, h, lab.iter().map(|p| p[0]).collect()).expect("sizes");
        let l2 = l.map(|v| v * v);
        let (mean, mean2) = (l.box_mean(3), l2.box_mean(3));
        let px = lab
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let var = mean2.data()[k] - mean.data()[k] * mean.data()[k];
                Pixel {
                    l: p[0],
                    c: p[1].hypot(p[2]),
                    h: p[2].atan2(p[1]).to_degrees().rem_euclid(360.0),
                    texture: var.max(0.0).sqrt(),
                }
            })
            .collect();
        Features { w, h, px }
    }

    fn map(&self, f: impl Fn(&Pixel) -> f32) -> Vec<f32> {
        self.px.iter().map(f).collect()
    }

    /// Sky-coloured, smooth pixels connected to the top of the frame without crossing
    /// a colour edge; nothing if that is under 3% of the frame.
    fn sky(&self) -> Vec<f32> {
        let score = self.map(|p| {
            // Day blue down to dusk blue.
            let blue =
                hue_window(p.h, 245.0, 40.0, 20.0) * ramp(p.c, 0.012, 0.035) * ramp(p.l, 0.2, 0.32);
            // Overcast, haze, white and grey clouds, storm clouds.
            let grey = ramp(p.c, 0.06, 0.03) * ramp(p.l, 0.25, 0.4);
            // Sunset glow: warm and bright but not saturated like a flower.
            let sunset =
                hue_window(p.h, 60.0, 40.0, 20.0) * ramp(p.l, 0.7, 0.82) * ramp(p.c, 0.14, 0.09);
            let smooth = ramp(p.texture, 0.07, 0.025);
            blue.max(grey).max(sunset) * smooth
        });
        let connected = self.flood_from_top(&score, 0.3);
        let area = connected.iter().filter(|&&c| c).count();
        if (area as f32) < 0.03 * (self.w * self.h) as f32 {
            return vec![0.0; self.w * self.h];
        }
        score
            .iter()
            .zip(&connected)
            .map(|(s, &c)| if c { ramp(*s, 0.3, 0.6) } else { 0.0 })
            .collect()
    }

    /// Blue, cyan or grey-blue pixels below the sky (below 35% of the frame when
    /// there is no sky), in pieces of at least 0.2% of the frame (grass in front of
    /// the sea cuts it into pieces) that together cover 2% of the frame and span 40%
    /// of its width (so blue flowers or clothes are not a lake).
    fn water(&self, sky: &[f32]) -> Vec<f32> {
        let horizon = self.horizon(sky);
        let score = self.map(|p| {
            let hue = hue_window(p.h, 225.0, 40.0, 20.0) * ramp(p.c, 0.01, 0.03);
            let grey = ramp(p.c, 0.04, 0.02) * 0.5;
            hue.max(grey) * ramp(p.l, 0.12, 0.25) * ramp(p.texture, 0.12, 0.05)
        });
        let below: Vec<f32> = score
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let (x, y) = (k % self.w, k / self.w);
                let under = ramp(y as f32, horizon[x] as f32, horizon[x] as f32 + 3.0);
                s * under * (1.0 - sky[k])
            })
            .collect();
        let keep = self.large_components(&below, 0.35, 0.002);
        let kept = keep.iter().filter(|&&k| k).count();
        let (lo, hi) = (0..self.w * self.h)
            .filter(|&k| keep[k])
            .fold((self.w, 0), |(lo, hi), k| {
                (lo.min(k % self.w), hi.max(k % self.w))
            });
        if (kept as f32) < 0.02 * (self.w * self.h) as f32
            || ((hi + 1).saturating_sub(lo) as f32) < 0.4 * self.w as f32
        {
            return vec![0.0; self.w * self.h];
        }
        below
            .iter()
            .zip(keep)
            .map(|(s, k)| if k { ramp(*s, 0.35, 0.6) } else { 0.0 })
            .collect()
    }

    /// Green and yellow-green pixels that are not sky.
    fn vegetation(&self, sky: &[f32]) -> Vec<f32> {
        self.px
            .iter()
            .zip(sky)
            .map(|(p, s)| {
                let green = hue_window(p.h, 135.0, 35.0, 20.0) * ramp(p.c, 0.025, 0.055);
                // Dry grass and autumn leaves: yellow, saturated.
                let dry = hue_window(p.h, 95.0, 15.0, 10.0) * ramp(p.c, 0.06, 0.1) * 0.8;
                green.max(dry) * ramp(p.l, 0.1, 0.18) * (1.0 - s)
            })
            .collect()
    }

    /// Per column, the row just below the lowest sky pixel (35% of the height where
    /// the column has no sky).
    fn horizon(&self, sky: &[f32]) -> Vec<usize> {
        let default = (self.h as f32 * 0.35) as usize;
        (0..self.w)
            .map(|x| {
                (0..self.h)
                    .rev()
                    .find(|&y| sky[y * self.w + x] > 0.5)
                    .map_or(default, |y| y + 1)
            })
            .collect()
    }

    /// Pixels reachable from the top rows through pixels scoring at least `t`
    /// without crossing a colour edge, plus a 2-pixel rim over the edge itself.
    fn flood_from_top(&self, score: &[f32], t: f32) -> Vec<bool> {
        let (w, h) = (self.w, self.h);
        let edge = self.colour_edges(2, 0.03);
        let open = |k: usize| score[k] >= t && !edge[k];
        let mut seen = vec![false; w * h];
        let mut queue = VecDeque::new();
        let top = (h / 50).max(1);
        for (k, s) in seen.iter_mut().enumerate().take(w * top) {
            if open(k) {
                *s = true;
                queue.push_back(k);
            }
        }
        while let Some(k) = queue.pop_front() {
            for n in neighbours(k, w, h) {
                if !seen[n] && open(n) {
                    seen[n] = true;
                    queue.push_back(n);
                }
            }
        }
        // The rim: edge pixels next to the region, twice.
        for _ in 0..2 {
            let grow: Vec<usize> = (0..w * h)
                .filter(|&k| !seen[k] && score[k] >= t && neighbours(k, w, h).any(|n| seen[n]))
                .collect();
            for k in grow {
                seen[k] = true;
            }
        }
        seen
    }

    /// Pixels where the Oklab colour differs by more than `threshold` between the
    /// pixels `r` to either side, horizontally or vertically: edges, even soft ones
    /// blurred over several pixels, which a neighbour-to-neighbour test would miss.
    fn colour_edges(&self, r: usize, threshold: f32) -> Vec<bool> {
        let (w, h) = (self.w, self.h);
        let lab: Vec<[f32; 3]> = self
            .px
            .iter()
            .map(|p| {
                let a = p.h.to_radians();
                [p.l, p.c * a.cos(), p.c * a.sin()]
            })
            .collect();
        let d = |a: usize, b: usize| {
            let (p, q) = (lab[a], lab[b]);
            ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt()
        };
        (0..w * h)
            .map(|k| {
                let (x, y) = (k % w, k / w);
                let horizontal = x >= r && x + r < w && d(k - r, k + r) > threshold;
                let vertical = y >= r && y + r < h && d(k - r * w, k + r * w) > threshold;
                horizontal || vertical
            })
            .collect()
    }

    /// Pixels scoring at least `t` in 4-connected components of at least
    /// `min_share` of the frame.
    fn large_components(&self, score: &[f32], t: f32, min_share: f32) -> Vec<bool> {
        let (w, h) = (self.w, self.h);
        let min = ((w * h) as f32 * min_share) as usize;
        let mut label = vec![usize::MAX; w * h];
        let mut keep = vec![false; w * h];
        let mut members = Vec::new();
        for start in 0..w * h {
            if label[start] != usize::MAX || score[start] < t {
                continue;
            }
            members.clear();
            label[start] = start;
            members.push(start);
            let mut i = 0;
            while i < members.len() {
                let k = members[i];
                i += 1;
                for n in neighbours(k, w, h) {
                    if label[n] == usize::MAX && score[n] >= t {
                        label[n] = start;
                        members.push(n);
                    }
                }
            }
            if members.len() >= min {
                for &k in &members {
                    keep[k] = true;
                }
            }
        }
        keep
    }
}

/// The 4-connected neighbours of pixel `k` in a `w` x `h` grid.
fn neighbours(k: usize, w: usize, h: usize) -> impl Iterator<Item = usize> {
    let (x, y) = (k % w, k / w);
    [
        (x > 0).then(|| k - 1),
        (x + 1 < w).then(|| k + 1),
        (y > 0).then(|| k - w),
        (y + 1 < h).then(|| k + w),
    ]
    .into_iter()
    .flatten()
}

/// Skin: orange-pink hues of moderate chroma, fairly smooth, neither very dark nor
/// blown out.
fn skin(p: &Pixel) -> f32 {
    hue_window(p.h, 62.0, 14.0, 8.0)
        * ramp(p.texture, 0.09, 0.04)
        * ramp(p.c, 0.028, 0.04)
        * ramp(p.c, 0.1, 0.075)
        * ramp(p.l, 0.35, 0.45)
        * ramp(p.l, 0.96, 0.9)
}

fn shadows(l: f32) -> f32 {
    ramp(l, 0.55, 0.35)
}

fn highlights(l: f32) -> f32 {
    ramp(l, 0.72, 0.86)
}

/// A hue range of colourful pixels.
fn colour_range(p: &Pixel, centre: f32, half_width: f32) -> f32 {
    hue_window(p.h, centre, half_width, 15.0) * ramp(p.c, 0.02, 0.06)
}

/// 0 at `a`, 1 at `b`, linear between (either order).
fn ramp(x: f32, a: f32, b: f32) -> f32 {
    ((x - a) / (b - a)).clamp(0.0, 1.0)
}

/// 1 within `half` degrees of `centre`, falling to 0 over the next `soft` degrees.
fn hue_window(h: f32, centre: f32, half: f32, soft: f32) -> f32 {
    let d = (h - centre).rem_euclid(360.0);
    let d = d.min(360.0 - d);
    ramp(d, half + soft, half)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(p: &Plane, rows: std::ops::Range<usize>) -> f32 {
        let w = p.width();
        let v: Vec<f32> = rows.flat_map(|y| p.row(y)[..w].to_vec()).collect();
        v.iter().sum::<f32>() / v.len() as f32
    }

    /// Blue sky over green grass; a blue lake under the grass.
    #[test]
    fn finds_sky_grass_and_water_where_they_are() {
        let img = RgbF32::from_fn(60, 90, |x, y| match y {
            0..30 => [110.0, 160.0, 230.0],
            30..60 => [60.0 + (x * 13 % 9) as f32 * 4.0, 130.0, 40.0],
            _ => [40.0, 80.0 + (x % 3) as f32, 140.0],
        });
        let seg = BuiltinSegmenter;
        let m = seg.segment(&img, &["sky", "vegetation", "water"]).unwrap();
        assert!(mean(&m[0], 0..28) > 0.9, "sky {}", mean(&m[0], 0..28));
        assert!(mean(&m[0], 32..90) < 0.05);
        assert!(mean(&m[1], 32..58) > 0.9, "grass {}", mean(&m[1], 32..58));
        assert!(mean(&m[1], 0..28) < 0.05 && mean(&m[1], 62..90) < 0.05);
        assert!(mean(&m[2], 62..90) > 0.9, "water {}", mean(&m[2], 62..90));
        assert!(mean(&m[2], 0..58) < 0.05);
    }

    /// A blue object that does not touch the top is not sky.
    #[test]
    fn sky_must_reach_the_top() {
        let img = RgbF32::from_fn(40, 40, |x, y| {
            if (10..30).contains(&x) && (15..35).contains(&y) {
                [110.0, 160.0, 230.0]
            } else {
                [120.0, 60.0, 40.0]
            }
        });
        let m = BuiltinSegmenter.segment(&img, &["sky"]).unwrap();
        assert!(m[0].data().iter().all(|&v| v == 0.0));
    }

    #[test]
    fn tones_partition_the_image() {
        let img = RgbF32::from_fn(64, 4, |x, _| [x as f32 * 4.0; 3]);
        let m = BuiltinSegmenter
            .segment(&img, &["shadows", "midtones", "highlights"])
            .unwrap();
        for k in 0..64 * 4 {
            let sum: f32 = m.iter().map(|p| p.data()[k]).sum();
            assert!((sum - 1.0).abs() < 1e-5);
        }
        assert_eq!(m[0].data()[0], 1.0);
        assert_eq!(m[2].data()[63], 1.0);
    }

    #[test]
    fn colour_ranges_pick_their_hue() {
        let img = RgbF32::from_fn(3, 1, |x, _| match x {
            0 => [220.0, 30.0, 30.0],
            1 => [30.0, 180.0, 40.0],
            _ => [30.0, 60.0, 220.0],
        });
        let m = BuiltinSegmenter
            .segment(&img, &["reds", "greens", "blues"])
            .unwrap();
        for (i, p) in m.iter().enumerate() {
            for x in 0..3 {
                assert_eq!(
                    p.data()[x] > 0.9,
                    x == i,
                    "range {i} at {x}: {}",
                    p.data()[x]
                );
            }
        }
    }
}
