//! What the plug-in makes of values a host hands over, as pure functions: the
//! parameters (the Region state's JSON, the instruction, sliders, choices) and
//! the properties of clips and images (components, depth, premultiplication,
//! render scale, the frame's rectangle, an image's memory layout). All of it is
//! reachable from host data, so none of it may panic: [`fuzz`] drives every
//! function here from raw bytes (fuzz/fuzz_targets/ofx_host_values.rs).

use crate::abi::names::*;
use crate::abi::*;
use crate::handles::Clip;
use crate::params::VIEWS;
use crate::suites::{OfxError, OfxResult};
use pertouch_core::params::{Attribute, RegionState, GLOBAL};
use pertouch_core::raster::Depth;
use serde_json::Value;

/// A pixel rectangle in OpenFX's pixel coordinates (y up, x2/y2 exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x1: i32,
    pub y1: i32,
    pub x2: i32,
    pub y2: i32,
}

impl Rect {
    pub fn from(r: OfxRectI) -> Self {
        Rect {
            x1: r.x1,
            y1: r.y1,
            x2: r.x2,
            y2: r.y2,
        }
    }
    pub fn width(&self) -> usize {
        (i64::from(self.x2) - i64::from(self.x1)).max(0) as usize
    }
    pub fn height(&self) -> usize {
        (i64::from(self.y2) - i64::from(self.y1)).max(0) as usize
    }
    pub fn is_empty(&self) -> bool {
        self.width() == 0 || self.height() == 0
    }
    pub fn intersect(&self, o: &Rect) -> Rect {
        Rect {
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
            x2: self.x2.min(o.x2),
            y2: self.y2.min(o.y2),
        }
    }
    pub fn contains(&self, o: &Rect) -> bool {
        o.x1 >= self.x1 && o.y1 >= self.y1 && o.x2 <= self.x2 && o.y2 <= self.y2
    }
}

/// The parameters as the host gave them at one time.
#[derive(Debug, Clone, Copy)]
pub struct RawSettings<'a> {
    pub state: &'a str,
    pub instruction: &'a str,
    pub sliders: [f64; 4],
    pub renderer: i32,
    pub mix: f64,
    pub view: i32,
    pub view_region: &'a str,
}

/// What the parameters say at one time.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The Region state parameter (empty: nothing applied).
    pub stored: RegionState,
    /// The instruction to read at render time: set when nothing is applied (the
    /// stored state is empty) and words are typed.
    pub words: Option<String>,
    /// The global sliders, added on top of the state.
    pub sliders: [f32; 4],
    pub diffusion: bool,
    pub mix: f32,
    pub view: usize,
    pub view_region: String,
    /// What the user should know: values clamped to the scale.
    pub notes: Vec<String>,
    /// Region names of connected mask inputs, with their clip handles.
    pub mask_regions: Vec<(Clip, String)>,
}

impl Settings {
    /// True when the node shows its Source unchanged: the result view with a
    /// mix of 0, or nothing set at all (no state, no words, sliders at 0).
    pub fn is_identity(&self) -> bool {
        self.view == 0
            && (self.mix == 0.0
                || (self.stored.is_empty()
                    && self.words.is_none()
                    && self.sliders.iter().all(|v| *v == 0.0)))
    }

    /// `base` with the sliders added to its global changes, and notes for sums
    /// that went past the scale's end and were clamped.
    pub fn with_sliders(&self, base: RegionState) -> OfxResult<(RegionState, Vec<String>)> {
        let mut state = base;
        let mut notes = Vec::new();
        for (v, attr) in self.sliders.iter().zip(Attribute::ALL) {
            if *v == 0.0 {
                continue;
            }
            let want = state.get(GLOBAL, attr).unwrap_or(0.0) + v;
            if want.abs() > 1.0 {
                notes.push(format!(
                    "the {attr} slider and the state add up to {want:+.2}, beyond [-1, 1]; using {:+.0}",
                    want.clamp(-1.0, 1.0)
                ));
            }
            state
                .set(GLOBAL, attr, want)
                .map_err(|e| OfxError::new(kOfxStatErrValue, e.to_string()))?;
        }
        Ok((state, notes))
    }
}

/// The Region state parameter's text: an empty text is no edit; values outside
/// [-1, 1] are clamped by the core, each with a note saying so.
pub fn parse_state(text: &str) -> OfxResult<(RegionState, Vec<String>)> {
    if text.trim().is_empty() {
        return Ok((RegionState::default(), Vec::new()));
    }
    let state = RegionState::from_json(text)
        .map_err(|e| OfxError::new(kOfxStatErrValue, format!("Region state: {e}")))?;
    let mut notes = Vec::new();
    if let Ok(Value::Object(regions)) = serde_json::from_str::<Value>(text) {
        for (region, attrs) in &regions {
            let Value::Object(attrs) = attrs else {
                continue;
            };
            for (key, n) in attrs.iter().filter_map(|(k, v)| v.as_f64().map(|n| (k, n))) {
                if n.abs() > 1.0 {
                    notes.push(format!(
                        "Region state: \"{region}\" {key} {n} is outside [-1, 1]; using {:+.0}",
                        n.clamp(-1.0, 1.0)
                    ));
                }
            }
        }
    }
    Ok((state, notes))
}

/// The settings the raw parameter values make.
pub fn settings(raw: &RawSettings<'_>) -> OfxResult<Settings> {
    let (stored, mut notes) = parse_state(raw.state)?;
    let mut sliders = [0.0f32; 4];
    for ((s, v), attr) in sliders.iter_mut().zip(raw.sliders).zip(Attribute::ALL) {
        if !v.is_finite() {
            return Err(OfxError::new(
                kOfxStatErrValue,
                format!("the {attr} slider is not a number ({v})"),
            ));
        }
        if v.abs() > 1.0 {
            notes.push(format!(
                "the {attr} slider is at {v:+.2}, beyond [-1, 1]; using {:+.0}",
                v.clamp(-1.0, 1.0)
            ));
        }
        *s = v.clamp(-1.0, 1.0) as f32;
    }
    if !raw.mix.is_finite() {
        return Err(OfxError::new(
            kOfxStatErrValue,
            format!("Mix is not a number ({})", raw.mix),
        ));
    }
    let words = raw.instruction.trim();
    Ok(Settings {
        words: (stored.is_empty() && !words.is_empty()).then(|| words.to_string()),
        stored,
        sliders,
        diffusion: raw.renderer == 1,
        mix: raw.mix.clamp(0.0, 1.0) as f32,
        view: raw.view.clamp(0, VIEWS.len() as i32 - 1) as usize,
        view_region: raw.view_region.trim().to_string(),
        notes,
        mask_regions: Vec::new(),
    })
}

/// Channels of an image's components.
pub fn channels(components: &str) -> OfxResult<usize> {
    match components.as_bytes() {
        c if c == kOfxImageComponentRGBA.to_bytes() => Ok(4),
        c if c == kOfxImageComponentRGB.to_bytes() => Ok(3),
        c if c == kOfxImageComponentAlpha.to_bytes() => Ok(1),
        _ => Err(OfxError::new(
            kOfxStatErrImageFormat,
            format!("unsupported components {components}"),
        )),
    }
}

/// An image's sample depth.
pub fn depth(name: &str) -> OfxResult<Depth> {
    match name.as_bytes() {
        d if d == kOfxBitDepthByte.to_bytes() => Ok(Depth::U8),
        d if d == kOfxBitDepthShort.to_bytes() => Ok(Depth::U16),
        d if d == kOfxBitDepthFloat.to_bytes() => Ok(Depth::F32),
        _ => Err(OfxError::new(
            kOfxStatErrImageFormat,
            format!("unsupported depth {name}"),
        )),
    }
}

/// Bytes per sample of `depth`.
pub fn sample_bytes(depth: Depth) -> usize {
    match depth {
        Depth::U8 => 1,
        Depth::U16 => 2,
        Depth::F32 => 4,
    }
}

/// True for premultiplied colour.
pub fn premultiplied(name: &str) -> bool {
    name.as_bytes() == kOfxImagePreMultiplied.to_bytes()
}

/// A render scale the plug-in can render at: both in (0, 1].
pub fn render_scale(s: [f64; 2]) -> OfxResult<[f64; 2]> {
    if !(s[0] > 0.0 && s[0] <= 1.0 && s[1] > 0.0 && s[1] <= 1.0) {
        return Err(OfxError::new(
            kOfxStatErrValue,
            format!("render scale {s:?} is not in (0, 1]"),
        ));
    }
    Ok(s)
}

/// What a render knows about where the frame is.
#[derive(Debug, Clone, Copy)]
pub struct FrameFacts {
    /// The Source image's own region of definition in pixels at this render
    /// scale (kOfxImagePropRegionOfDefinition, OpenFX 1.4), when the host sets it.
    pub image_rod: Option<OfxRectI>,
    /// The Source image's bounds.
    pub bounds: Rect,
    /// Whether the host renders in tiles (else every image is the whole frame).
    pub host_tiles: bool,
    /// The Source clip's region of definition, canonical coordinates.
    pub clip_rod: OfxRectD,
    /// The Source's pixel aspect ratio.
    pub par: f64,
    pub scale: [f64; 2],
}

/// The whole frame in pixels at the render scale. In order of trust: the
/// image's own region of definition in pixels; the image's bounds when the host
/// does not tile (it hands over whole frames); else the clip's region of
/// definition, which OpenFX gives in canonical coordinates (x in square pixels,
/// unscaled): pixel x = canonical x * scale / pixel aspect ratio.
pub fn frame_rect(f: &FrameFacts) -> OfxResult<Rect> {
    if let Some(r) = f.image_rod.map(Rect::from).filter(|r| !r.is_empty()) {
        return Ok(r);
    }
    if !f.host_tiles && !f.bounds.is_empty() {
        return Ok(f.bounds);
    }
    let par = if f.par.is_finite() && f.par > 0.0 {
        f.par
    } else {
        1.0
    };
    let (sx, sy) = (f.scale[0] / par, f.scale[1]);
    let rod = f.clip_rod;
    // `as` saturates (NaN -> 0), so a wild region cannot wrap around.
    let r = Rect {
        x1: (rod.x1 * sx).floor() as i32,
        y1: (rod.y1 * sy).floor() as i32,
        x2: (rod.x2 * sx).ceil() as i32,
        y2: (rod.y2 * sy).ceil() as i32,
    };
    if r.is_empty() {
        return Err(OfxError::new(
            kOfxStatErrValue,
            format!("the Source's region of definition is empty ({rod:?})"),
        ));
    }
    Ok(r)
}

/// Where a view of `rect` starts in an image's memory, and its row step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewLayout {
    /// Bytes from the image's data pointer (its bottom row, left edge) to the
    /// view's top row, left edge.
    pub offset: isize,
    /// Bytes from one view row to the next one down (OpenFX rows run up).
    pub row_step: isize,
}

/// The memory layout of a view of `rect` in an image with `bounds` and
/// `row_bytes` (negative for top-down memory) of `channels` x `depth` pixels:
/// checked so that every row of the view lies inside the image.
pub fn view_layout(
    bounds: Rect,
    row_bytes: i32,
    channels: usize,
    depth: Depth,
    rect: Rect,
) -> OfxResult<ViewLayout> {
    if rect.is_empty() || !bounds.contains(&rect) {
        return Err(OfxError::new(
            kOfxStatErrValue,
            format!("{rect:?} is not inside the image's bounds {bounds:?}"),
        ));
    }
    let px = channels
        .checked_mul(sample_bytes(depth))
        .filter(|&p| p > 0)
        .ok_or_else(|| OfxError::new(kOfxStatErrImageFormat, "no bytes per pixel"))?;
    let row_len = bounds.width().checked_mul(px);
    if row_len.is_none_or(|n| (row_bytes.unsigned_abs() as usize) < n) {
        return Err(OfxError::new(
            kOfxStatErrImageFormat,
            format!("row bytes {row_bytes} hold less than a row"),
        ));
    }
    let top = i64::from(rect.y2) - 1 - i64::from(bounds.y1);
    let left = i64::from(rect.x1) - i64::from(bounds.x1);
    let offset = top
        .checked_mul(i64::from(row_bytes))
        .and_then(|o| o.checked_add(left.checked_mul(px as i64)?))
        .and_then(|o| isize::try_from(o).ok())
        .ok_or_else(|| OfxError::new(kOfxStatErrImageFormat, "the image is too large"))?;
    Ok(ViewLayout {
        offset,
        row_step: -(row_bytes as isize),
    })
}

/// Reads numbers from fuzz bytes (zeros once they run out).
struct Numbers<'a>(&'a [u8]);

impl Numbers<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
    fn f64(&mut self) -> f64 {
        f64::from_le_bytes(self.take())
    }
    fn i32(&mut self) -> i32 {
        i32::from_le_bytes(self.take())
    }
    fn rect_i(&mut self) -> OfxRectI {
        OfxRectI {
            x1: self.i32(),
            y1: self.i32(),
            x2: self.i32(),
            y2: self.i32(),
        }
    }
}

/// The fuzz entry: every host-value path of the plug-in on values made from
/// `data` (texts separated by 0xFF bytes: Region state, instruction, region to
/// show, components, depth, premultiplication; then numbers). Must never panic.
pub fn fuzz(data: &[u8]) {
    let mut parts = data.splitn(7, |b| *b == 0xFF);
    let mut text = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (state, instruction, view_region) = (text(), text(), text());
    let (components, depth_name, premult) = (text(), text(), text());
    let mut n = Numbers(parts.next().unwrap_or_default());
    let raw = RawSettings {
        state: &state,
        instruction: &instruction,
        sliders: [n.f64(), n.f64(), n.f64(), n.f64()],
        renderer: n.i32(),
        mix: n.f64(),
        view: n.i32(),
        view_region: &view_region,
    };
    if let Ok(s) = settings(&raw) {
        let _ = s.is_identity();
        let _ = s.with_sliders(s.stored.clone());
        if let Some(words) = &s.words {
            let _ = pertouch_core::agent::interpret(words);
        }
    }
    let ch = channels(&components).unwrap_or(4);
    let d = depth(&depth_name).unwrap_or(Depth::U8);
    let _ = premultiplied(&premult);
    let scale = render_scale([n.f64(), n.f64()]).unwrap_or([1.0, 1.0]);
    let bounds = Rect::from(n.rect_i());
    let facts = FrameFacts {
        image_rod: (n.i32() & 1 == 1).then(|| n.rect_i()),
        bounds,
        host_tiles: n.i32() & 1 == 1,
        clip_rod: OfxRectD {
            x1: n.f64(),
            y1: n.f64(),
            x2: n.f64(),
            y2: n.f64(),
        },
        par: n.f64(),
        scale,
    };
    if let Ok(frame) = frame_rect(&facts) {
        let _ = frame.intersect(&bounds).is_empty();
    }
    let _ = view_layout(bounds, n.i32(), ch, d, Rect::from(n.rect_i()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(state: &str, instruction: &str) -> RawSettings<'static> {
        RawSettings {
            state: Box::leak(state.to_string().into_boxed_str()),
            instruction: Box::leak(instruction.to_string().into_boxed_str()),
            sliders: [0.0; 4],
            renderer: 0,
            mix: 1.0,
            view: 0,
            view_region: "",
        }
    }

    #[test]
    fn out_of_range_values_are_clamped_with_a_note() {
        let s = settings(&raw(r#"{"global": {"brightness": 3}}"#, "")).unwrap();
        assert_eq!(
            s.stored.get(GLOBAL, Attribute::Brightness),
            Some(1.0),
            "clamped"
        );
        assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
        assert!(s.notes[0].contains("brightness 3 is outside [-1, 1]; using +1"));
        let mut r = raw(r#"{"global": {"brightness": 0.8}}"#, "");
        r.sliders[3] = 0.5;
        let s = settings(&r).unwrap();
        let (state, notes) = s.with_sliders(s.stored.clone()).unwrap();
        assert_eq!(state.get(GLOBAL, Attribute::Brightness), Some(1.0));
        assert!(notes[0].contains("add up to +1.30"), "{notes:?}");
    }

    #[test]
    fn words_are_read_only_when_nothing_is_applied() {
        let s = settings(&raw("", "  make the sky warmer ")).unwrap();
        assert_eq!(s.words.as_deref(), Some("make the sky warmer"));
        assert!(!s.is_identity());
        let s = settings(&raw(r#"{"sky": {"temperature": 0.2}}"#, "warmer")).unwrap();
        assert_eq!(s.words, None, "a stored state wins");
        assert!(settings(&raw("{}", "")).unwrap().is_identity());
        let mut r = raw("", "");
        r.mix = f64::NAN;
        assert_eq!(settings(&r).unwrap_err().status, kOfxStatErrValue);
    }

    #[test]
    fn the_frame_comes_from_the_image_then_whole_images_then_the_canonical_rod() {
        let facts = FrameFacts {
            image_rod: None,
            bounds: Rect {
                x1: 0,
                y1: 0,
                x2: 720,
                y2: 480,
            },
            host_tiles: true,
            // NTSC DV: 720 pixels of 8/9 are 640 canonical units.
            clip_rod: OfxRectD {
                x1: 0.0,
                y1: 0.0,
                x2: 640.0,
                y2: 480.0,
            },
            par: 8.0 / 9.0,
            scale: [1.0, 1.0],
        };
        assert_eq!(frame_rect(&facts).unwrap(), facts.bounds);
        // A host that reports the RoD at the render scale but hands over whole
        // images (MLT): the image's bounds.
        let half = FrameFacts {
            host_tiles: false,
            bounds: Rect {
                x1: 0,
                y1: 0,
                x2: 360,
                y2: 240,
            },
            clip_rod: OfxRectD {
                x1: 0.0,
                y1: 0.0,
                x2: 320.0,
                y2: 240.0,
            },
            scale: [0.5, 0.5],
            ..facts
        };
        assert_eq!(frame_rect(&half).unwrap(), half.bounds);
        // The image's own region of definition wins.
        let own = FrameFacts {
            image_rod: Some(OfxRectI {
                x1: 0,
                y1: 0,
                x2: 360,
                y2: 240,
            }),
            host_tiles: true,
            ..half
        };
        assert_eq!(frame_rect(&own).unwrap(), half.bounds);
    }

    #[test]
    fn view_layouts_refuse_short_rows_and_wild_numbers() {
        let b = Rect {
            x1: 0,
            y1: 0,
            x2: 10,
            y2: 10,
        };
        let l = view_layout(b, 40, 4, Depth::U8, b).unwrap();
        assert_eq!(
            l,
            ViewLayout {
                offset: 9 * 40,
                row_step: -40
            }
        );
        assert!(view_layout(b, 39, 4, Depth::U8, b).is_err());
        assert!(view_layout(b, i32::MIN, 4, Depth::F32, b).is_ok());
        let wide = Rect {
            x1: i32::MIN,
            y1: i32::MIN,
            x2: i32::MAX,
            y2: i32::MAX,
        };
        assert!(view_layout(wide, i32::MAX, 4, Depth::F32, wide).is_err());
    }

    #[test]
    fn fuzz_bytes_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..400 {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            fuzz(&data);
        }
        fuzz(b"{\"sky\": {\"warmth\": 9e999}}\xffmake it warmer\xff\xffOfxImageComponentRGBA");
    }
}
