//! Parameter maps: H x W x 4 per-pixel attribute values rasterised from a region state.

use super::attribute::Attribute;
use super::region_state::{RegionState, GLOBAL};
use crate::error::{Error, Result};
use crate::mask::MaskSet;
use crate::plane::Plane;

/// An H x W x 4 float map, channels in [`Attribute`] order, values in [-1, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct ParamMap {
    width: usize,
    height: usize,
    data: Vec<[f32; 4]>,
}

impl ParamMap {
    /// Rasterises `state` at `width` x `height` with the reference rule: every pixel
    /// starts at the global values (0 where unset), then each named region in order
    /// blends in its values by its mask m: `v_map = v_map * (1 - m) + v_region * m`.
    /// Masks are resampled to the map size.
    pub fn rasterize(
        state: &RegionState,
        masks: &MaskSet,
        width: usize,
        height: usize,
    ) -> Result<ParamMap> {
        Self::paint(state, masks, width, height, |m| m.resized(width, height))
    }

    /// The `width` x `height` window at (`x0`, `y0`) of the map of a
    /// `frame_width` x `frame_height` frame, masks sampled at the window's pixel
    /// centres ([`Plane::frame_window`]): a tile's map without painting the frame.
    pub fn rasterize_window(
        state: &RegionState,
        masks: &MaskSet,
        (frame_width, frame_height): (usize, usize),
        (x0, y0, width, height): (usize, usize, usize, usize),
    ) -> Result<ParamMap> {
        if x0 + width > frame_width || y0 + height > frame_height {
            return Err(Error::InvalidRequest(format!(
                "window {width} x {height} at ({x0}, {y0}) is outside the {frame_width} x {frame_height} frame"
            )));
        }
        Self::paint(state, masks, width, height, |m| {
            m.frame_window(frame_width, frame_height, x0, y0, width, height)
        })
    }

    /// The reference rule, with `fit` bringing each mask to the map's size.
    fn paint(
        state: &RegionState,
        masks: &MaskSet,
        width: usize,
        height: usize,
        fit: impl Fn(&Plane) -> Plane,
    ) -> Result<ParamMap> {
        if width == 0 || height == 0 {
            return Err(Error::InvalidRequest(
                "parameter map size must be non-zero".into(),
            ));
        }
        let global = state.region(GLOBAL).copied().unwrap_or_default();
        let base: [f32; 4] = std::array::from_fn(|c| global.get(Attribute::ALL[c]).unwrap_or(0.0));
        let mut data = vec![base; width * height];
        for (name, values) in state.named_regions() {
            if values.is_empty() {
                continue;
            }
            let mask = masks.get(name).ok_or_else(|| Error::MissingRegion {
                region: name.to_string(),
                available: masks.available(),
            })?;
            let m = fit(mask);
            for (px, &mk) in data.iter_mut().zip(m.data()) {
                let mk = mk.clamp(0.0, 1.0);
                for (attr, v) in values.iter() {
                    let c = attr.channel();
                    px[c] = px[c] * (1.0 - mk) + v * mk;
                }
            }
        }
        Ok(ParamMap {
            width,
            height,
            data,
        })
    }

    /// Width.
    pub fn width(&self) -> usize {
        self.width
    }
    /// Height.
    pub fn height(&self) -> usize {
        self.height
    }
    /// Values at one pixel.
    pub fn at(&self, x: usize, y: usize) -> [f32; 4] {
        self.data[y * self.width + x]
    }
    /// One channel as a plane.
    pub fn channel(&self, attr: Attribute) -> Plane {
        let c = attr.channel();
        Plane::from_vec(
            self.width,
            self.height,
            self.data.iter().map(|p| p[c]).collect(),
        )
        .expect("sizes match")
    }
    /// Row-major HWC samples.
    pub fn as_hwc(&self) -> Vec<f32> {
        self.data.iter().flat_map(|p| p.iter().copied()).collect()
    }

    /// A viewable false-colour picture: the four channels as a 2 x 2 grid of panels
    /// (colourfulness, contrast / temperature, brightness), each on a diverging scale:
    /// blue for -1, neutral grey for 0, orange for +1, over a faint copy of `backdrop`
    /// (luma in [0, 1] at the map's size) so regions can be recognised. A one-pixel
    /// white line separates the panels. Returns RGB8 pixels and the picture's size.
    pub fn false_colour(&self, backdrop: Option<&Plane>) -> (Vec<u8>, usize, usize) {
        let (w, h) = (self.width, self.height);
        let (ow, oh) = (2 * w + 1, 2 * h + 1);
        let mut out = vec![255u8; ow * oh * 3];
        for (ci, attr) in Attribute::ALL.iter().enumerate() {
            let (px, py) = ((ci % 2) * (w + 1), (ci / 2) * (h + 1));
            for y in 0..h {
                for x in 0..w {
                    let v = self.data[y * w + x][attr.channel()];
                    let luma = backdrop.map_or(0.5, |b| b.at(x, y));
                    let rgb = diverging(v, luma);
                    let o = ((py + y) * ow + px + x) * 3;
                    out[o..o + 3].copy_from_slice(&rgb);
                }
            }
        }
        (out, ow, oh)
    }
}

/// The map views' colour for a value v in [-1, 1] over a backdrop luma in [0, 1]:
/// blue for -1, grey for 0, orange for +1.
pub fn diverging(v: f32, luma: f32) -> [u8; 3] {
    let v = v.clamp(-1.0, 1.0);
    let grey = 0.35 + 0.3 * luma;
    let (end, t) = if v >= 0.0 {
        ([0.96, 0.55, 0.10], v)
    } else {
        ([0.15, 0.45, 0.95], -v)
    };
    let t = t.powf(0.7);
    std::array::from_fn(|k| {
        ((grey + (end[k] - grey) * t) * 255.0)
            .round()
            .clamp(0.0, 255.0) as u8
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rasterisation_follows_the_reference_rule() {
        let state = RegionState::from_json(
            r#"{"global": {"brightness": 0.2, "contrast": 0.1}, "sky": {"brightness": -0.4, "temperature": 0.5}}"#,
        )
        .unwrap();
        let mut masks = MaskSet::new();
        masks.insert("sky", Plane::from_vec(3, 1, vec![1.0, 0.5, 0.0]).unwrap());
        let map = ParamMap::rasterize(&state, &masks, 3, 1).unwrap();
        // Fully inside the sky.
        assert_eq!(map.at(0, 0), [0.0, 0.1, 0.5, -0.4]);
        // Half: 0.2 * 0.5 + (-0.4) * 0.5 = -0.1; temperature 0 * 0.5 + 0.5 * 0.5.
        let half = map.at(1, 0);
        assert!(
            (half[3] + 0.1).abs() < 1e-6
                && (half[2] - 0.25).abs() < 1e-6
                && (half[1] - 0.1).abs() < 1e-6
        );
        // Outside: global only.
        assert_eq!(map.at(2, 0), [0.0, 0.1, 0.0, 0.2]);
    }

    #[test]
    fn later_regions_paint_over_earlier_ones() {
        let state =
            RegionState::from_json(r#"{"a": {"brightness": 1.0}, "b": {"brightness": -1.0}}"#)
                .unwrap();
        let mut masks = MaskSet::new();
        masks.insert("a", Plane::filled(2, 2, 1.0));
        masks.insert(
            "b",
            Plane::from_vec(2, 2, vec![1.0, 0.0, 0.0, 0.0]).unwrap(),
        );
        let map = ParamMap::rasterize(&state, &masks, 2, 2).unwrap();
        assert_eq!(map.at(0, 0)[3], -1.0);
        assert_eq!(map.at(1, 1)[3], 1.0);
    }

    #[test]
    fn missing_mask_names_the_region_and_what_exists() {
        let state = RegionState::from_json(r#"{"face": {"brightness": 0.1}}"#).unwrap();
        let mut masks = MaskSet::new();
        masks.insert("sky", Plane::filled(2, 2, 1.0));
        let err = ParamMap::rasterize(&state, &masks, 2, 2)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"face\"") && err.contains("sky"), "{err}");
    }

    #[test]
    fn false_colour_has_four_panels() {
        let state =
            RegionState::from_json(r#"{"global": {"colorfulness": 1.0, "brightness": -1.0}}"#)
                .unwrap();
        let map = ParamMap::rasterize(&state, &MaskSet::new(), 4, 3).unwrap();
        let (px, w, h) = map.false_colour(None);
        assert_eq!((w, h), (9, 7));
        let at = |x: usize, y: usize| &px[(y * w + x) * 3..(y * w + x) * 3 + 3];
        assert!(at(0, 0)[0] > at(0, 0)[2], "colourfulness +1 is orange");
        assert!(at(5, 4)[2] > at(5, 4)[0], "brightness -1 is blue");
        assert_eq!(at(4, 0), [255, 255, 255], "separator");
    }
}
