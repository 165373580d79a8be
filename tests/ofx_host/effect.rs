//! Effects (descriptors and instances), clips, images and the image effect suite
//! of the test host. Images are laid out as OpenFX says: row y of an image with
//! bounds (x1, y1, x2, y2) starts at data + (y - y1) * rowBytes, rows padded;
//! with the `top_down` quirk rowBytes is negative (top-down memory).

use super::props::{self, Value};
use super::{params, quirks};
use parking_lot::Mutex;
use pertouch_core::host::Registry;
use pertouch_core::plane::Plane;
use pertouch_core::raster::{Depth, Raster, Samples};
use pertouch_ofx::abi::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What a clip shows at a time: a picture, or a matte.
#[derive(Clone)]
pub enum Footage {
    Picture { image: Raster, premultiplied: bool },
    Matte { mask: Plane, depth: Depth },
}

impl Footage {
    fn size(&self) -> (usize, usize) {
        match self {
            Footage::Picture { image, .. } => (image.width(), image.height()),
            Footage::Matte { mask, .. } => (mask.width(), mask.height()),
        }
    }
}

pub struct Clip {
    pub name: String,
    pub props: OfxPropertySetHandle,
    pub effect: usize,
    pub footage: Mutex<HashMap<i64, Arc<Footage>>>,
}
// SAFETY: `props` is a registry key of this host, looked up, never dereferenced.
unsafe impl Send for Clip {}
// SAFETY: as above; footage is behind a mutex.
unsafe impl Sync for Clip {}

pub struct Effect {
    pub props: OfxPropertySetHandle,
    pub params: OfxParamSetHandle,
    pub clips: Mutex<Vec<usize>>,
    pub abort: AtomicBool,
}
// SAFETY: handles are registry keys of this host.
unsafe impl Send for Effect {}
// SAFETY: as above.
unsafe impl Sync for Effect {}

/// Pixel memory of an image, 8-byte aligned.
pub struct Pixels {
    pub buf: Arc<Vec<u64>>,
}

pub static EFFECTS: Registry<Effect> = Registry::new();
pub static CLIPS: Registry<Clip> = Registry::new();
/// Fetched images by their property set handle.
pub static IMAGES: Mutex<Option<HashMap<usize, Pixels>>> = Mutex::new(None);
type InputKey = (usize, i64, (i32, i32, i32, i32), bool, usize);
/// Input images already laid out (a host's image cache).
static INPUTS: Mutex<std::collections::BTreeMap<InputKey, (Arc<Layout>, usize)>> =
    Mutex::new(std::collections::BTreeMap::new());
/// Image memory blocks (imageMemoryAlloc).
static MEMORY: Registry<Mutex<Vec<u64>>> = Registry::new();

thread_local! {
    /// The render scale and window of the action running on this thread.
    pub static CURRENT: RefCell<([f64; 2], Option<OfxRectI>)> = const { RefCell::new(([1.0, 1.0], None)) };
    /// Output images the plug-in released on this thread (properties and
    /// memory), for the host to read after the action.
    pub static OUTPUTS: RefCell<Vec<(OfxPropertySetHandle, Pixels)>> = const { RefCell::new(Vec::new()) };
}

pub fn new_effect() -> OfxImageEffectHandle {
    EFFECTS.insert(Effect {
        props: props::new(),
        params: params::new_set(),
        clips: Mutex::new(Vec::new()),
        abort: AtomicBool::new(false),
    }) as OfxImageEffectHandle
}

pub fn new_clip(
    effect: OfxImageEffectHandle,
    name: &str,
    from: Option<OfxPropertySetHandle>,
) -> Option<usize> {
    let e = EFFECTS.get(effect as usize)?;
    let p = match from {
        Some(src) => props::copy(src),
        None => props::new(),
    };
    props::set_str(p, "OfxPropName", name);
    props::set_str(p, "OfxPropType", "OfxTypeClip");
    let c = CLIPS.insert(Clip {
        name: name.to_string(),
        props: p,
        effect: effect as usize,
        footage: Mutex::new(HashMap::new()),
    });
    e.clips.lock().push(c);
    Some(c)
}

pub fn find_clip(effect: OfxImageEffectHandle, name: &str) -> Option<(usize, Arc<Clip>)> {
    let e = EFFECTS.get(effect as usize)?;
    let list = e.clips.lock().clone();
    list.into_iter()
        .filter_map(|c| CLIPS.get(c).map(|x| (c, x)))
        .find(|(_, c)| c.name == name)
}

fn bytes_of(depth: Depth) -> usize {
    match depth {
        Depth::U8 => 1,
        Depth::U16 => 2,
        Depth::F32 => 4,
    }
}

fn depth_name(depth: Depth) -> &'static str {
    match depth {
        Depth::U8 => "OfxBitDepthByte",
        Depth::U16 => "OfxBitDepthShort",
        Depth::F32 => "OfxBitDepthFloat",
    }
}

pub fn depth_from_name(s: &str) -> Option<Depth> {
    match s {
        "OfxBitDepthByte" => Some(Depth::U8),
        "OfxBitDepthShort" => Some(Depth::U16),
        "OfxBitDepthFloat" => Some(Depth::F32),
        _ => None,
    }
}

/// Sample `i` of a raster as native-endian bytes of `depth`.
fn sample_bytes(r: &Raster, i: usize, out: &mut Vec<u8>) {
    match r.samples() {
        Samples::U8(s) => out.push(s[i]),
        Samples::U16(s) => out.extend_from_slice(&s[i].to_ne_bytes()),
        Samples::F32(s) => out.extend_from_slice(&s[i].to_ne_bytes()),
    }
}

/// Pixel memory laid out for the host's row order: the buffer and the row stride.
pub struct Layout {
    pub buf: Arc<Vec<u64>>,
    /// The buffer's address, taken while it was still uniquely ours (the
    /// plug-in writes output images through it).
    pub base: usize,
    pub stride: usize,
    pub rows: usize,
}

/// Bytes from one row to the next for rows of `row_len` bytes: padded to a
/// multiple of 8 plus 16, as hosts align rows.
fn stride_for(row_len: usize) -> usize {
    (row_len + 16).div_ceil(8) * 8
}

/// Output image memory the host is done with ([`Quirks::pooled_outputs`]).
static POOL: Mutex<Vec<Vec<u64>>> = Mutex::new(Vec::new());

/// Gives an output image's memory back to the pool when the host pools its
/// outputs and nothing else holds it.
pub fn recycle(pixels: Pixels) {
    if quirks().pooled_outputs {
        if let Ok(buf) = Arc::try_unwrap(pixels.buf) {
            POOL.lock().push(buf);
        }
    }
}

/// Memory for `h` rows of `row_len` bytes (an output image): zeroed, or pooled
/// memory of that size as the last image left it ([`Quirks::pooled_outputs`]).
fn zeroed(row_len: usize, h: usize) -> Layout {
    let stride = stride_for(row_len);
    let len = (stride * h).div_ceil(8).max(1);
    let pooled = quirks().pooled_outputs.then(|| {
        let mut pool = POOL.lock();
        let at = pool.iter().position(|b| b.len() == len)?;
        Some(pool.swap_remove(at))
    });
    let mut buf = pooled.flatten().unwrap_or_else(|| vec![0u64; len]);
    let base = buf.as_mut_ptr() as usize;
    Layout {
        buf: Arc::new(buf),
        base,
        stride,
        rows: h,
    }
}

/// Lays `rows` (top row first, each the same length) out in memory as the host
/// stores images: bottom-up unless the host is top-down, rows padded
/// ([`stride_for`]).
fn lay_out(rows: Vec<Vec<u8>>) -> Layout {
    let h = rows.len();
    let row_len = rows.first().map_or(0, Vec::len);
    let stride = stride_for(row_len);
    let mut buf = vec![0u64; (stride * h).div_ceil(8).max(1)];
    let top_down = quirks().top_down;
    // SAFETY: viewing the u64 buffer as bytes (u8 has no alignment or validity
    // requirements); the slice covers exactly the buffer.
    let bytes =
        unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), buf.len() * 8) };
    for (r, row) in rows.iter().enumerate() {
        let m = if top_down { r } else { h - 1 - r };
        bytes[m * stride..m * stride + row_len].copy_from_slice(row);
    }
    let base = buf.as_mut_ptr() as usize;
    Layout {
        buf: Arc::new(buf),
        base,
        stride,
        rows: h,
    }
}

/// Registers an image over `layout` with bounds `b` (of a frame whose pixel
/// rectangle at this render scale is `frame`) and returns its property set.
fn register_image(
    layout: &Layout,
    b: OfxRectI,
    frame: OfxRectI,
    channels: usize,
    depth: Depth,
    premult: &str,
    is_output: bool,
) -> OfxPropertySetHandle {
    let (h, stride) = (layout.rows, layout.stride);
    let base = layout.base as *mut u8;
    let (data, row_bytes) = if quirks().top_down {
        (base.wrapping_add((h - 1) * stride), -(stride as i32))
    } else {
        (base, stride as i32)
    };
    let p = props::new();
    props::set_str(p, "OfxPropType", "OfxTypeImage");
    props::set(p, "OfxImagePropData", vec![Value::Ptr(data as usize)]);
    props::set(
        p,
        "OfxImagePropBounds",
        vec![
            Value::Int(b.x1),
            Value::Int(b.y1),
            Value::Int(b.x2),
            Value::Int(b.y2),
        ],
    );
    if !quirks().no_image_rod {
        props::set(
            p,
            "OfxImagePropRegionOfDefinition",
            vec![
                Value::Int(frame.x1),
                Value::Int(frame.y1),
                Value::Int(frame.x2),
                Value::Int(frame.y2),
            ],
        );
    }
    props::set(p, "OfxImagePropRowBytes", vec![Value::Int(row_bytes)]);
    let comps = match channels {
        4 => "OfxImageComponentRGBA",
        3 => "OfxImageComponentRGB",
        _ => "OfxImageComponentAlpha",
    };
    props::set_str(p, "OfxImageEffectPropComponents", comps);
    props::set_str(p, "OfxImageEffectPropPixelDepth", depth_name(depth));
    props::set_str(p, "OfxImageEffectPropPreMultiplication", premult);
    props::set(
        p,
        "OfxImagePropPixelAspectRatio",
        vec![Value::Double(quirks().par())],
    );
    props::set_str(p, "OfxImagePropField", "OfxImageFieldNone");
    props::set_str(
        p,
        "OfxImagePropUniqueIdentifier",
        &format!("{:x}", p as usize),
    );
    props::set(p, "OfxImageEffectPropRenderScale", {
        let s = CURRENT.with(|c| c.borrow().0);
        vec![Value::Double(s[0]), Value::Double(s[1])]
    });
    props::set(
        p,
        "pertouch.test.isOutput",
        vec![Value::Int(is_output as i32)],
    );
    IMAGES.lock().get_or_insert_with(HashMap::new).insert(
        p as usize,
        Pixels {
            buf: layout.buf.clone(),
        },
    );
    p
}

/// Reads an output image back (top row first) as a raster and forgets it.
pub fn take_output(p: OfxPropertySetHandle, pixels: Pixels) -> Option<Raster> {
    let r = read_image(p, &pixels).map(|x| x.1);
    props::PROPS.remove(p as usize);
    r
}

/// Forgets an output image unread.
pub fn drop_output(p: OfxPropertySetHandle) {
    props::PROPS.remove(p as usize);
}

/// Reads an image back (top row first) as a raster.
fn read_image(p: OfxPropertySetHandle, pixels: &Pixels) -> Option<(OfxRectI, Raster)> {
    let b = props::get_doubles(p, "OfxImagePropBounds");
    let b = OfxRectI {
        x1: b[0] as i32,
        y1: b[1] as i32,
        x2: b[2] as i32,
        y2: b[3] as i32,
    };
    let channels = match props::get_str(p, "OfxImageEffectPropComponents")?.as_str() {
        "OfxImageComponentRGBA" => 4,
        "OfxImageComponentRGB" => 3,
        _ => return None,
    };
    let depth = depth_from_name(&props::get_str(p, "OfxImageEffectPropPixelDepth")?)?;
    let row_bytes = props::get_i32(p, "OfxImagePropRowBytes")? as isize;
    let data = props::get_ptr(p, "OfxImagePropData")? as *const u8;
    let (w, h) = ((b.x2 - b.x1) as usize, (b.y2 - b.y1) as usize);
    let n = w * channels;
    let _keep = &pixels.buf;
    let row = |r: usize| -> &[u8] {
        // Image row r from the top is y = y2 - 1 - r.
        let y = (h - 1 - r) as isize;
        // SAFETY: `data` and `row_bytes` describe the buffer `pixels` owns (it is
        // borrowed for this call); row y lies inside it.
        unsafe { std::slice::from_raw_parts(data.offset(y * row_bytes), n * bytes_of(depth)) }
    };
    let samples = match depth {
        Depth::U8 => {
            let mut v = Vec::with_capacity(n * h);
            (0..h).for_each(|r| v.extend_from_slice(row(r)));
            Samples::U8(v)
        }
        Depth::U16 => Samples::U16(
            (0..h)
                .flat_map(|r| {
                    row(r)
                        .chunks_exact(2)
                        .map(|c| u16::from_ne_bytes([c[0], c[1]]))
                        .collect::<Vec<_>>()
                })
                .collect(),
        ),
        Depth::F32 => Samples::F32(
            (0..h)
                .flat_map(|r| {
                    row(r)
                        .chunks_exact(4)
                        .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                        .collect::<Vec<_>>()
                })
                .collect(),
        ),
    };
    Some((b, Raster::new(w, h, channels, samples)?))
}

/// Pixel bounds of a `w` x `h` frame at render scale `s`.
pub fn scaled_bounds(w: usize, h: usize, s: [f64; 2]) -> OfxRectI {
    OfxRectI {
        x1: 0,
        y1: 0,
        x2: (w as f64 * s[0]).ceil() as i32,
        y2: (h as f64 * s[1]).ceil() as i32,
    }
}

/// The footage scaled to `b` (nearest pixel), as rows of bytes, top row first.
fn scaled_rows(f: &Footage, b: OfxRectI, depth_out: Depth) -> (Vec<Vec<u8>>, usize) {
    let (fw, fh) = f.size();
    let (w, h) = ((b.x2 - b.x1) as usize, (b.y2 - b.y1) as usize);
    let sx = |x: usize| (((x as f64 + 0.5) * fw as f64 / w as f64) as usize).min(fw - 1);
    let sy = |y: usize| (((y as f64 + 0.5) * fh as f64 / h as f64) as usize).min(fh - 1);
    match f {
        Footage::Picture { image, .. } => {
            let ch = image.channels();
            let rows = (0..h)
                .map(|y| {
                    let mut row = Vec::with_capacity(w * ch * 4);
                    for x in 0..w {
                        let base = (sy(y) * fw + sx(x)) * ch;
                        for c in 0..ch {
                            sample_bytes(image, base + c, &mut row);
                        }
                    }
                    row
                })
                .collect();
            (rows, ch)
        }
        Footage::Matte { mask, .. } => {
            let rows = (0..h)
                .map(|y| {
                    let mut row = Vec::new();
                    for x in 0..w {
                        let v = mask.at(sx(x), sy(y)).clamp(0.0, 1.0);
                        match depth_out {
                            Depth::U8 => row.push((v * 255.0).round() as u8),
                            Depth::U16 => {
                                row.extend_from_slice(&((v * 65535.0).round() as u16).to_ne_bytes())
                            }
                            Depth::F32 => row.extend_from_slice(&v.to_ne_bytes()),
                        }
                    }
                    row
                })
                .collect();
            (rows, 1)
        }
    }
}

fn footage_at(clip: &Clip, time: f64) -> Option<Arc<Footage>> {
    clip.footage.lock().get(&(time.round() as i64)).cloned()
}

/// The Source clip of the clip's effect (for the Output's region of definition).
fn source_of(clip: &Clip) -> Option<Arc<Clip>> {
    find_clip(clip.effect as OfxImageEffectHandle, "Source").map(|c| c.1)
}

/// Writes `value(found)` to `out` when `found` is a live object.
fn give<O, T>(found: Option<O>, out: *mut T, value: impl FnOnce(O) -> T) -> OfxStatus {
    match found {
        Some(x) if !out.is_null() => {
            // SAFETY: the plug-in passes a writable out pointer (null refused above).
            unsafe { *out = value(x) };
            kOfxStatOK
        }
        Some(_) => kOfxStatErrValue,
        None => kOfxStatErrBadHandle,
    }
}

unsafe extern "C" fn get_property_set(
    e: OfxImageEffectHandle,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    give(EFFECTS.get(e as usize), out, |x| x.props)
}

unsafe extern "C" fn get_param_set(
    e: OfxImageEffectHandle,
    out: *mut OfxParamSetHandle,
) -> OfxStatus {
    give(EFFECTS.get(e as usize), out, |x| x.params)
}

/// # Safety
/// `p` is null or a C string.
unsafe fn text(p: *const c_char) -> Option<String> {
    // SAFETY: per the contract.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

unsafe extern "C" fn clip_define(
    e: OfxImageEffectHandle,
    name: *const c_char,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    // SAFETY: a C string from the plug-in.
    let Some(name) = (unsafe { text(name) }) else {
        return kOfxStatErrValue;
    };
    if find_clip(e, &name).is_some() {
        return kOfxStatErrExists;
    }
    let Some(c) = new_clip(e, &name, None) else {
        return kOfxStatErrBadHandle;
    };
    if !out.is_null() {
        // SAFETY: writable out pointer.
        unsafe { *out = CLIPS.get(c).map_or(std::ptr::null_mut(), |c| c.props) };
    }
    kOfxStatOK
}

unsafe extern "C" fn clip_get_handle(
    e: OfxImageEffectHandle,
    name: *const c_char,
    out: *mut OfxImageClipHandle,
    props_out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    // SAFETY: a C string from the plug-in.
    let Some(name) = (unsafe { text(name) }) else {
        return kOfxStatErrValue;
    };
    if EFFECTS.get(e as usize).is_none() {
        return kOfxStatErrBadHandle;
    }
    let Some((h, c)) = find_clip(e, &name) else {
        return kOfxStatErrUnknown;
    };
    if out.is_null() {
        return kOfxStatErrValue;
    }
    // SAFETY: writable out pointers (props_out may be null).
    unsafe {
        *out = h as OfxImageClipHandle;
        if !props_out.is_null() {
            *props_out = c.props;
        }
    }
    kOfxStatOK
}

unsafe extern "C" fn clip_get_property_set(
    c: OfxImageClipHandle,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    give(CLIPS.get(c as usize), out, |x| x.props)
}

unsafe extern "C" fn clip_get_image(
    c: OfxImageClipHandle,
    time: OfxTime,
    _region: *const OfxRectD,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    let Some(clip) = CLIPS.get(c as usize) else {
        return kOfxStatErrBadHandle;
    };
    if out.is_null() {
        return kOfxStatErrValue;
    }
    let (scale, window) = CURRENT.with(|c| *c.borrow());
    let image = if clip.name == "Output" {
        // The output image: the render window, the Source's format, zeroed.
        let (Some(window), Some(src)) =
            (window, source_of(&clip).and_then(|s| footage_at(&s, time)))
        else {
            return kOfxStatFailed;
        };
        let Footage::Picture {
            image,
            premultiplied,
        } = &*src
        else {
            return kOfxStatFailed;
        };
        let depth = props::get_str(clip.props, "OfxImageEffectPropPixelDepth")
            .and_then(|d| depth_from_name(&d))
            .unwrap_or(image.depth());
        let ch = image.channels();
        let row_len = (window.x2 - window.x1) as usize * ch * bytes_of(depth);
        let premult = if *premultiplied {
            "OfxImageAlphaPremultiplied"
        } else {
            "OfxImageOpaque"
        };
        let (fw, fh) = (image.width(), image.height());
        register_image(
            &zeroed(row_len, (window.y2 - window.y1) as usize),
            window,
            scaled_bounds(fw, fh, scale),
            ch,
            depth,
            premult,
            true,
        )
    } else {
        let Some(f) = footage_at(&clip, time) else {
            return kOfxStatFailed;
        };
        let (w, h) = f.size();
        let frame = scaled_bounds(w, h, scale);
        let mut b = frame;
        if quirks().window_only_inputs {
            if let Some(win) = window {
                b = win;
            }
        }
        let (depth, premult) = match &*f {
            Footage::Picture {
                image,
                premultiplied,
            } => (
                image.depth(),
                if *premultiplied {
                    "OfxImageAlphaPremultiplied"
                } else {
                    "OfxImageOpaque"
                },
            ),
            Footage::Matte { depth, .. } => (*depth, "OfxImageOpaque"),
        };
        // Inputs are laid out once per clip, time, bounds and row order, as a
        // host's image cache would hold them.
        let key = (
            c as usize,
            time.round() as i64,
            (b.x1, b.y1, b.x2, b.y2),
            quirks().top_down,
            Arc::as_ptr(&f) as usize,
        );
        let cached = INPUTS.lock().get(&key).cloned();
        let (layout, ch) = match cached {
            Some(x) => x,
            None => {
                let (rows, ch) = scaled_rows(&f, b, depth);
                let l = Arc::new(lay_out(rows));
                let mut m = INPUTS.lock();
                if m.len() > 16 {
                    m.clear();
                }
                m.insert(key, (l.clone(), ch));
                (l, ch)
            }
        };
        register_image(&layout, b, frame, ch, depth, premult, false)
    };
    // SAFETY: writable out pointer.
    unsafe { *out = image };
    kOfxStatOK
}

unsafe extern "C" fn clip_release_image(img: OfxPropertySetHandle) -> OfxStatus {
    let Some(pixels) = IMAGES
        .lock()
        .as_mut()
        .and_then(|m| m.remove(&(img as usize)))
    else {
        return kOfxStatErrBadHandle;
    };
    if props::get_i32(img, "pertouch.test.isOutput") == Some(1) {
        OUTPUTS.with(|o| o.borrow_mut().push((img, pixels)));
    } else {
        props::PROPS.remove(img as usize);
    }
    kOfxStatOK
}

unsafe extern "C" fn clip_get_rod(
    c: OfxImageClipHandle,
    time: OfxTime,
    out: *mut OfxRectD,
) -> OfxStatus {
    let Some(clip) = CLIPS.get(c as usize) else {
        return kOfxStatErrBadHandle;
    };
    let f = if clip.name == "Output" {
        source_of(&clip).and_then(|s| footage_at(&s, time))
    } else {
        footage_at(&clip, time)
    };
    let (w, h) = f.map_or((0, 0), |f| f.size());
    if out.is_null() {
        return kOfxStatErrValue;
    }
    let q = quirks();
    // Canonical coordinates: x in square pixels, at render scale 1. MLT gives
    // the image's pixels at the render scale instead (times the pixel aspect).
    let (w, h) = if q.rod_at_render_scale {
        let b = scaled_bounds(w, h, CURRENT.with(|c| c.borrow().0));
        (b.x2 as f64, b.y2 as f64)
    } else {
        (w as f64, h as f64)
    };
    // SAFETY: writable out pointer.
    unsafe {
        *out = OfxRectD {
            x1: 0.0,
            y1: 0.0,
            x2: w * q.par(),
            y2: h,
        }
    };
    kOfxStatOK
}

unsafe extern "C" fn abort(e: OfxImageEffectHandle) -> c_int {
    EFFECTS
        .get(e as usize)
        .is_some_and(|e| e.abort.load(Ordering::Relaxed)) as c_int
}

unsafe extern "C" fn memory_alloc(
    _e: OfxImageEffectHandle,
    n: usize,
    out: *mut OfxImageMemoryHandle,
) -> OfxStatus {
    if out.is_null() {
        return kOfxStatErrValue;
    }
    let h = MEMORY.insert(Mutex::new(vec![0u64; n.div_ceil(8).max(1)]));
    // SAFETY: writable out pointer.
    unsafe { *out = h as OfxImageMemoryHandle };
    kOfxStatOK
}
unsafe extern "C" fn memory_free(h: OfxImageMemoryHandle) -> OfxStatus {
    if MEMORY.remove(h as usize).is_some() {
        kOfxStatOK
    } else {
        kOfxStatErrBadHandle
    }
}
unsafe extern "C" fn memory_lock(h: OfxImageMemoryHandle, out: *mut *mut c_void) -> OfxStatus {
    let Some(m) = MEMORY.get(h as usize) else {
        return kOfxStatErrBadHandle;
    };
    if out.is_null() {
        return kOfxStatErrValue;
    }
    let p = m.lock().as_mut_ptr().cast::<c_void>();
    // SAFETY: writable out pointer; the block lives until memory_free.
    unsafe { *out = p };
    kOfxStatOK
}
unsafe extern "C" fn memory_unlock(h: OfxImageMemoryHandle) -> OfxStatus {
    if MEMORY.get(h as usize).is_some() {
        kOfxStatOK
    } else {
        kOfxStatErrBadHandle
    }
}

pub static SUITE: OfxImageEffectSuiteV1 = OfxImageEffectSuiteV1 {
    getPropertySet: Some(get_property_set),
    getParamSet: Some(get_param_set),
    clipDefine: Some(clip_define),
    clipGetHandle: Some(clip_get_handle),
    clipGetPropertySet: Some(clip_get_property_set),
    clipGetImage: Some(clip_get_image),
    clipReleaseImage: Some(clip_release_image),
    clipGetRegionOfDefinition: Some(clip_get_rod),
    abort: Some(abort),
    imageMemoryAlloc: Some(memory_alloc),
    imageMemoryFree: Some(memory_free),
    imageMemoryLock: Some(memory_lock),
    imageMemoryUnlock: Some(memory_unlock),
};
