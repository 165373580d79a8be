//! An OpenFX host written for testing: the host side of the C API (property,
//! parameter, image effect, memory, multithread and message suites), a loader
//! for `.ofx.bundle`s, and the action sequence a compositor runs: load, describe,
//! describe in context, create instance, parameter changes, clip preferences,
//! regions of interest, identity, render (tiles, render scales, several threads),
//! destroy, unload. Quirks make it behave like odd hosts (no optional suites,
//! top-down rows, refusing properties, inputs cut to the render window, null
//! suite slots) and like MLT's openfx module (non-square pixels, regions of
//! definition reported at the render scale, no tiles, no IsIdentity, no
//! InstanceChanged, hidden push buttons): [`Quirks::mlt`].

#![allow(non_upper_case_globals)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod effect;
mod misc;
mod params;
pub mod props;

pub use effect::Footage;
pub use params::PValue;
pub use props::Value;

use parking_lot::Mutex;
use pertouch_core::raster::{Raster, Samples};
use pertouch_ofx::abi::names::*;
use pertouch_ofx::abi::*;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::{Path, PathBuf};

/// Ways this host can misbehave (within what OpenFX allows, or a little beyond).
#[derive(Debug, Clone, Default)]
pub struct Quirks {
    /// fetchSuite returns null for the memory, multithread and message suites.
    pub omit_optional_suites: bool,
    /// Image rows stored top-down (negative rowBytes).
    pub top_down: bool,
    /// Input images cover only the render window, whatever the plug-in asked for.
    pub window_only_inputs: bool,
    /// Property names the host refuses to set (kOfxStatErrUnknown).
    pub refuse_props: Vec<String>,
    /// fetchSuite is missing altogether.
    pub no_fetch_suite: bool,
    /// Suite slots served null, as `Suite::function` (e.g.
    /// "OfxImageEffectSuiteV1::clipGetRegionOfDefinition").
    pub null_slots: Vec<&'static str>,
    /// The footage's pixel aspect ratio (0 means 1): regions of definition are
    /// canonical, x in square pixels (720 pixels of 16/15 are 768 units).
    pub pixel_aspect: f64,
    /// clipGetRegionOfDefinition answers in the pixels of the image at the
    /// render scale (times the pixel aspect), not in canonical coordinates: what
    /// MLT does.
    pub rod_at_render_scale: bool,
    /// The host property kOfxImageEffectPropSupportsTiles is 0 (images are whole
    /// frames).
    pub no_tiles: bool,
    /// Images lack kOfxImagePropRegionOfDefinition (an OpenFX 1.4 property
    /// older hosts do not set).
    pub no_image_rod: bool,
    /// Parameter changes are not announced (no kOfxActionInstanceChanged) and
    /// push buttons cannot be pressed (the host does not show them).
    pub no_instance_changed: bool,
    /// Output images come from memory the host reuses (MLT's `mlt_pool`, an
    /// image cache): an output the host is done with goes back to a pool, and
    /// the next output of the same size gets that memory, pixels as left.
    pub pooled_outputs: bool,
}

impl Quirks {
    /// A host that behaves like MLT's openfx module (melt 7.42, Shotcut,
    /// Kdenlive) with footage of `pixel_aspect` (IsIdentity is never called:
    /// that is up to the test, which renders straight away as MLT does).
    pub fn mlt(pixel_aspect: f64) -> Quirks {
        Quirks {
            pixel_aspect,
            rod_at_render_scale: true,
            no_tiles: true,
            no_instance_changed: true,
            ..Quirks::default()
        }
    }

    /// The pixel aspect ratio (1 when unset).
    pub fn par(&self) -> f64 {
        if self.pixel_aspect > 0.0 {
            self.pixel_aspect
        } else {
            1.0
        }
    }
}

static QUIRKS: Mutex<Option<Quirks>> = Mutex::new(None);

pub fn quirks() -> Quirks {
    QUIRKS.lock().clone().unwrap_or_default()
}

/// Sets the quirks for what follows (tests hold [`serial`] while they run).
pub fn set_quirks(q: Quirks) {
    *props::REFUSED.lock() = Some(q.refuse_props.iter().cloned().collect());
    *QUIRKS.lock() = Some(q);
}

/// Tests that load the plug-in run one at a time (a binary has one host).
pub fn serial() -> parking_lot::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
}

/// Parameters the plug-in set (by name), in order.
pub static PLUGIN_SETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn note_param_set(name: &str) {
    PLUGIN_SETS.lock().push(name.to_string());
}

/// Messages the plug-in posted so far: (type, text, persistent).
pub fn messages() -> Vec<(String, String, bool)> {
    misc::MESSAGES.lock().clone()
}

struct HostCell(std::cell::UnsafeCell<OfxHost>);
// SAFETY: written once under HOST_INIT before any plug-in sees it, then only read.
unsafe impl Sync for HostCell {}
static HOST: HostCell = HostCell(std::cell::UnsafeCell::new(OfxHost {
    host: std::ptr::null_mut(),
    fetchSuite: None,
}));
static HOST_INIT: std::sync::Once = std::sync::Once::new();

unsafe extern "C" fn fetch_suite(
    _host: OfxPropertySetHandle,
    name: *const c_char,
    version: c_int,
) -> *const c_void {
    if name.is_null() {
        return std::ptr::null();
    }
    // SAFETY: a C string from the plug-in.
    let name = unsafe { CStr::from_ptr(name) };
    let q = quirks();
    let optional = !q.omit_optional_suites;
    if !q.null_slots.is_empty() {
        return with_null_slots(name, version, optional, &q.null_slots);
    }
    match (name.to_bytes(), version) {
        (b"OfxPropertySuite", 1) => std::ptr::addr_of!(props::SUITE).cast(),
        (b"OfxParameterSuite", 1) => std::ptr::addr_of!(params::SUITE).cast(),
        (b"OfxImageEffectSuite", 1) => std::ptr::addr_of!(effect::SUITE).cast(),
        (b"OfxMemorySuite", 1) if optional => std::ptr::addr_of!(misc::MEMORY_SUITE).cast(),
        (b"OfxMultiThreadSuite", 1) if optional => std::ptr::addr_of!(misc::THREAD_SUITE).cast(),
        (b"OfxMessageSuite", 1 | 2) if optional => std::ptr::addr_of!(misc::MESSAGE_SUITE).cast(),
        _ => std::ptr::null(),
    }
}

/// A copy of the suite `name` with the slots named in `nulls` left null
/// (leaked: a plug-in keeps suite pointers while it is loaded).
fn with_null_slots(name: &CStr, version: c_int, optional: bool, nulls: &[&str]) -> *const c_void {
    let null = |ty: &str, slot: &str| nulls.iter().any(|n| *n == format!("{ty}::{slot}"));
    macro_rules! copy {
        ($base:expr, $ty:ident { $($slot:ident),* }) => {{
            let mut s = $ty { ..$base };
            $(if null(stringify!($ty), stringify!($slot)) {
                s.$slot = None;
            })*
            (Box::leak(Box::new(s)) as *const $ty).cast::<c_void>()
        }};
    }
    match (name.to_bytes(), version) {
        (b"OfxPropertySuite", 1) => copy!(
            props::SUITE,
            OfxPropertySuiteV1 {
                propSetString,
                propSetInt,
                propSetDoubleN,
                propGetString,
                propGetIntN,
                propGetPointer
            }
        ),
        (b"OfxParameterSuite", 1) => copy!(
            params::SUITE,
            OfxParameterSuiteV1 {
                paramDefine,
                paramGetHandle,
                paramGetValueAtTime,
                paramSetValue
            }
        ),
        (b"OfxImageEffectSuite", 1) => copy!(
            effect::SUITE,
            OfxImageEffectSuiteV1 {
                getParamSet,
                clipGetImage,
                clipReleaseImage,
                clipGetRegionOfDefinition,
                abort
            }
        ),
        (b"OfxMessageSuite", 1 | 2) if optional => copy!(
            misc::MESSAGE_SUITE,
            OfxMessageSuiteV2 {
                message,
                setPersistentMessage,
                clearPersistentMessage
            }
        ),
        _ => fetch_plain(name, version, optional),
    }
}

fn fetch_plain(name: &CStr, version: c_int, optional: bool) -> *const c_void {
    match (name.to_bytes(), version) {
        (b"OfxMemorySuite", 1) if optional => std::ptr::addr_of!(misc::MEMORY_SUITE).cast(),
        (b"OfxMultiThreadSuite", 1) if optional => std::ptr::addr_of!(misc::THREAD_SUITE).cast(),
        _ => std::ptr::null(),
    }
}

/// A suite as a plug-in would fetch it from this host (null when not offered).
pub fn fetch(name: &CStr, version: c_int) -> *const c_void {
    let h = host_struct();
    // SAFETY: host_struct initialised the host; fetch_suite takes a C string.
    unsafe { fetch_suite((*h).host, name.as_ptr(), version) }
}

fn host_struct() -> *mut OfxHost {
    HOST_INIT.call_once(|| {
        params::install_shim();
        let p = props::new();
        props::set_str(p, "OfxPropType", "OfxTypeImageEffectHost");
        props::set_str(p, "OfxPropName", "org.pertouch.TestHost");
        props::set_str(p, "OfxPropLabel", "PerTouch test host");
        props::set(p, "OfxImageEffectHostPropIsBackground", vec![Value::Int(1)]);
        props::set(
            p,
            "OfxImageEffectPropSupportsMultiResolution",
            vec![Value::Int(1)],
        );
        props::set(p, "OfxImageEffectPropSupportsTiles", vec![Value::Int(1)]);
        props::set(
            p,
            "OfxImageEffectPropTemporalClipAccess",
            vec![Value::Int(0)],
        );
        props::set(
            p,
            "OfxImageEffectPropMultipleClipDepths",
            vec![Value::Int(0)],
        );
        for (k, v) in [
            (
                "OfxImageEffectPropSupportedComponents",
                vec![
                    "OfxImageComponentRGBA",
                    "OfxImageComponentRGB",
                    "OfxImageComponentAlpha",
                ],
            ),
            (
                "OfxImageEffectPropSupportedContexts",
                vec![
                    "OfxImageEffectContextFilter",
                    "OfxImageEffectContextGeneral",
                ],
            ),
            (
                "OfxImageEffectPropSupportedPixelDepths",
                vec!["OfxBitDepthByte", "OfxBitDepthShort", "OfxBitDepthFloat"],
            ),
        ] {
            props::set(
                p,
                k,
                v.into_iter()
                    .map(|s| Value::Str(CString::new(s).unwrap_or_default()))
                    .collect(),
            );
        }
        // SAFETY: the only write, before any plug-in has the pointer.
        unsafe {
            *HOST.0.get() = OfxHost {
                host: p,
                fetchSuite: Some(fetch_suite),
            };
        }
    });
    HOST.0.get()
}

/// A loaded plug-in binary and its one plug-in.
pub struct Plugin {
    _lib: libloading::Library,
    entry: OfxPluginEntryPoint,
    pub id: String,
    pub version: (u32, u32),
    pub api: String,
    pub descriptor: OfxImageEffectHandle,
    contexts: Mutex<HashMap<String, OfxImageEffectHandle>>,
    host_copy: Box<OfxHost>,
}

/// Where a bundle keeps its Linux binary.
pub fn bundle_binary(bundle: &Path) -> PathBuf {
    bundle.join("Contents/Linux-x86-64").join(
        bundle
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".bundle"))
            .unwrap_or("PerTouch.ofx"),
    )
}

/// In-args/out-args: a fresh property set with `values`.
pub fn args(values: &[(&str, Vec<Value>)]) -> OfxPropertySetHandle {
    let p = props::new();
    for (k, v) in values {
        props::set(p, k, v.clone());
    }
    p
}

pub fn s(v: &str) -> Value {
    Value::Str(CString::new(v).unwrap_or_default())
}

fn rect_values(r: OfxRectI) -> Vec<Value> {
    vec![
        Value::Int(r.x1),
        Value::Int(r.y1),
        Value::Int(r.x2),
        Value::Int(r.y2),
    ]
}

impl Plugin {
    /// Loads a bundle (or a bare .ofx binary): OfxGetNumberOfPlugins,
    /// OfxGetPlugin(0), setHost, kOfxActionLoad, kOfxActionDescribe.
    pub fn load(path: &Path) -> Result<Plugin, String> {
        let binary = if path.is_dir() {
            bundle_binary(path)
        } else {
            path.to_path_buf()
        };
        // SAFETY: loading a plug-in runs its initialisers; ours are Rust statics.
        let lib = unsafe { libloading::Library::new(&binary) }
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        // SAFETY: the OpenFX entry points have these C signatures.
        let (count, get) = unsafe {
            (
                lib.get::<unsafe extern "C" fn() -> c_int>(b"OfxGetNumberOfPlugins")
                    .map_err(|e| e.to_string())?,
                lib.get::<unsafe extern "C" fn(c_int) -> *mut OfxPlugin>(b"OfxGetPlugin")
                    .map_err(|e| e.to_string())?,
            )
        };
        // SAFETY: calling the plug-in's exported functions.
        let n = unsafe { count() };
        if n < 1 {
            return Err(format!("{n} plug-ins in the binary"));
        }
        // SAFETY: as above; an index past the end must give null.
        if !unsafe { get(n) }.is_null() {
            return Err("OfxGetPlugin(count) is not null".into());
        }
        // SAFETY: index 0 exists.
        let plugin = unsafe { get(0) };
        // SAFETY: the plug-in's table lives as long as the library.
        let table = unsafe { plugin.as_ref() }.ok_or("OfxGetPlugin(0) is null")?;
        // SAFETY: the table's strings are static C strings.
        let (api, id) = unsafe {
            (
                CStr::from_ptr(table.pluginApi),
                CStr::from_ptr(table.pluginIdentifier),
            )
        };
        let entry = table.mainEntry.ok_or("no mainEntry")?;
        let set_host = table.setHost.ok_or("no setHost")?;
        let mut host_copy = Box::new(OfxHost {
            host: std::ptr::null_mut(),
            fetchSuite: None,
        });
        let h = host_struct();
        // SAFETY: `h` was initialised by host_struct and is only read.
        let host_props = unsafe { (*h).host };
        props::set(
            host_props,
            "OfxImageEffectPropSupportsTiles",
            vec![Value::Int(i32::from(!quirks().no_tiles))],
        );
        // SAFETY: `h` was initialised by host_struct.
        unsafe {
            host_copy.host = (*h).host;
            host_copy.fetchSuite = if quirks().no_fetch_suite {
                None
            } else {
                (*h).fetchSuite
            };
            set_host(&mut *host_copy);
        }
        let mut p = Plugin {
            _lib: lib,
            entry,
            id: id.to_string_lossy().into_owned(),
            api: api.to_string_lossy().into_owned(),
            version: (table.pluginVersionMajor, table.pluginVersionMinor),
            descriptor: std::ptr::null_mut(),
            contexts: Mutex::new(HashMap::new()),
            host_copy,
        };
        let st = p.call(
            kOfxActionLoad,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        if st != kOfxStatOK && st != kOfxStatReplyDefault {
            return Err(format!("load returned {st}"));
        }
        p.descriptor = effect::new_effect();
        props::set_str(
            effect::EFFECTS
                .get(p.descriptor as usize)
                .map(|e| e.props)
                .unwrap_or(std::ptr::null_mut()),
            "OfxPropType",
            "OfxTypeImageEffect",
        );
        let st = p.call(
            kOfxActionDescribe,
            p.descriptor,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        if st != kOfxStatOK {
            return Err(format!("describe returned {st}"));
        }
        let _ = &p.host_copy;
        Ok(p)
    }

    /// Calls the main entry. The handles go to the plug-in as they are (the
    /// tests pass null and wrong ones on purpose: the plug-in must check them).
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn call(
        &self,
        action: &CStr,
        handle: OfxImageEffectHandle,
        in_args: OfxPropertySetHandle,
        out_args: OfxPropertySetHandle,
    ) -> OfxStatus {
        // SAFETY: the plug-in's entry point with a C string action and our handles.
        unsafe { (self.entry)(action.as_ptr(), handle as *const c_void, in_args, out_args) }
    }

    /// The descriptor's properties.
    pub fn descriptor_props(&self) -> OfxPropertySetHandle {
        effect::EFFECTS
            .get(self.descriptor as usize)
            .map_or(std::ptr::null_mut(), |e| e.props)
    }

    /// kOfxImageEffectActionDescribeInContext (once per context).
    pub fn describe_in_context(&self, context: &str) -> Result<OfxImageEffectHandle, OfxStatus> {
        if let Some(d) = self.contexts.lock().get(context) {
            return Ok(*d);
        }
        let d = effect::new_effect();
        let dp = effect::EFFECTS
            .get(d as usize)
            .map_or(std::ptr::null_mut(), |e| e.props);
        if let Some(src) = props::get(self.descriptor_props(), "OfxPropLabel") {
            props::set(dp, "OfxPropLabel", src);
        }
        let st = self.call(
            kOfxImageEffectActionDescribeInContext,
            d,
            args(&[("OfxImageEffectPropContext", vec![s(context)])]),
            std::ptr::null_mut(),
        );
        if st != kOfxStatOK {
            return Err(st);
        }
        self.contexts.lock().insert(context.to_string(), d);
        Ok(d)
    }

    /// The parameters a context describes: (name, type, properties).
    pub fn described_params(&self, context: &str) -> Vec<(String, String, OfxPropertySetHandle)> {
        let Ok(d) = self.describe_in_context(context) else {
            return Vec::new();
        };
        let set = effect::EFFECTS
            .get(d as usize)
            .map_or(std::ptr::null_mut(), |e| e.params);
        params::all(set)
            .iter()
            .map(|p| (p.name.clone(), p.kind.clone(), p.props))
            .collect()
    }

    /// The clips a context describes: (name, properties).
    pub fn described_clips(&self, context: &str) -> Vec<(String, OfxPropertySetHandle)> {
        let Ok(d) = self.describe_in_context(context) else {
            return Vec::new();
        };
        let e = effect::EFFECTS.get(d as usize);
        let list = e.map(|e| e.clips.lock().clone()).unwrap_or_default();
        list.into_iter()
            .filter_map(|c| effect::CLIPS.get(c))
            .map(|c| (c.name.clone(), c.props))
            .collect()
    }

    /// Creates an instance in `context` (kOfxActionCreateInstance).
    pub fn instance(&self, context: &str) -> Result<Instance<'_>, OfxStatus> {
        let d = self.describe_in_context(context)?;
        let desc = effect::EFFECTS
            .get(d as usize)
            .ok_or(kOfxStatErrBadHandle)?;
        let e = effect::new_effect();
        let inst = effect::EFFECTS
            .get(e as usize)
            .ok_or(kOfxStatErrBadHandle)?;
        for name in props::names(desc.props) {
            if let Some(v) = props::get(desc.props, &name) {
                props::set(inst.props, &name, v);
            }
        }
        props::set_str(inst.props, "OfxPropType", "OfxTypeImageEffectInstance");
        props::set_str(inst.props, "OfxImageEffectPropContext", context);
        props::set(inst.props, "OfxPropIsInteractive", vec![Value::Int(0)]);
        props::set(inst.props, "OfxPropInstanceData", vec![Value::Ptr(0)]);
        for p in params::all(desc.params) {
            params::define(inst.params, &p.kind, &p.name, Some(p.props));
        }
        for c in desc
            .clips
            .lock()
            .iter()
            .filter_map(|c| effect::CLIPS.get(*c))
        {
            let h = effect::new_clip(e, &c.name, Some(c.props)).ok_or(kOfxStatErrBadHandle)?;
            let cp = effect::CLIPS
                .get(h)
                .map_or(std::ptr::null_mut(), |c| c.props);
            props::set(cp, "OfxImageClipPropConnected", vec![Value::Int(0)]);
        }
        let st = self.call(
            kOfxActionCreateInstance,
            e,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        if st != kOfxStatOK && st != kOfxStatReplyDefault {
            return Err(st);
        }
        Ok(Instance {
            plugin: self,
            effect: e,
        })
    }

    /// kOfxActionUnload; the library is closed when the plug-in is dropped.
    pub fn unload(self) -> OfxStatus {
        self.call(
            kOfxActionUnload,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    }
}

/// A plug-in instance (a node in a compositor's graph).
pub struct Instance<'p> {
    pub plugin: &'p Plugin,
    pub effect: OfxImageEffectHandle,
}

// SAFETY: the effect handle is a registry key of this host; the plug-in declares
// full render thread safety, which is what the tests exercise.
unsafe impl Send for Instance<'_> {}
// SAFETY: as above.
unsafe impl Sync for Instance<'_> {}

/// The in-args of a render or identity action for `window` at `scale`.
fn render_args(time: f64, scale: f64, window: OfxRectI) -> Vec<(&'static str, Vec<Value>)> {
    vec![
        ("OfxPropTime", vec![Value::Double(time)]),
        (
            "OfxImageEffectPropFieldToRender",
            vec![s("OfxImageFieldNone")],
        ),
        ("OfxImageEffectPropRenderWindow", rect_values(window)),
        (
            "OfxImageEffectPropRenderScale",
            vec![Value::Double(scale), Value::Double(scale)],
        ),
    ]
}

/// A rendered frame, its window in pixels, or the failure.
pub type RenderResult = Result<Raster, OfxStatus>;

impl Instance<'_> {
    fn params(&self) -> OfxParamSetHandle {
        effect::EFFECTS
            .get(self.effect as usize)
            .map_or(std::ptr::null_mut(), |e| e.params)
    }

    pub fn props(&self) -> OfxPropertySetHandle {
        effect::EFFECTS
            .get(self.effect as usize)
            .map_or(std::ptr::null_mut(), |e| e.props)
    }

    /// Connects footage to a clip at a time.
    pub fn set_footage(&self, clip: &str, time: f64, footage: Footage) -> bool {
        let Some((_, c)) = effect::find_clip(self.effect, clip) else {
            return false;
        };
        let (comps, depth, premult) = match &footage {
            Footage::Picture {
                image,
                premultiplied,
            } => (
                if image.channels() == 4 {
                    "OfxImageComponentRGBA"
                } else {
                    "OfxImageComponentRGB"
                },
                image.depth(),
                if *premultiplied {
                    "OfxImageAlphaPremultiplied"
                } else {
                    "OfxImageOpaque"
                },
            ),
            Footage::Matte { depth, .. } => ("OfxImageComponentAlpha", *depth, "OfxImageOpaque"),
        };
        let depth = match depth {
            pertouch_core::raster::Depth::U8 => "OfxBitDepthByte",
            pertouch_core::raster::Depth::U16 => "OfxBitDepthShort",
            pertouch_core::raster::Depth::F32 => "OfxBitDepthFloat",
        };
        let mut targets = vec![c.props];
        if clip == "Source" {
            if let Some((_, o)) = effect::find_clip(self.effect, "Output") {
                targets.push(o.props);
                props::set(o.props, "OfxImageClipPropConnected", vec![Value::Int(1)]);
            }
        }
        for p in targets {
            props::set_str(p, "OfxImageEffectPropComponents", comps);
            props::set_str(p, "OfxImageEffectPropPixelDepth", depth);
            props::set_str(p, "OfxImageEffectPropPreMultiplication", premult);
            props::set(
                p,
                "OfxImagePropPixelAspectRatio",
                vec![Value::Double(quirks().par())],
            );
        }
        props::set(c.props, "OfxImageClipPropConnected", vec![Value::Int(1)]);
        c.footage
            .lock()
            .insert(time.round() as i64, std::sync::Arc::new(footage));
        true
    }

    /// Connects `image` (straight colour, not premultiplied) to the Source at `time`.
    pub fn set_source(&self, time: f64, image: Raster) -> bool {
        self.set_footage(
            "Source",
            time,
            Footage::Picture {
                image,
                premultiplied: false,
            },
        )
    }

    /// A parameter's current value.
    pub fn param(&self, name: &str) -> Option<PValue> {
        params::find(self.params(), name).map(|p| p.value.lock().clone())
    }

    fn changed(&self, kind: &str, name: &str, time: f64) -> OfxStatus {
        if quirks().no_instance_changed {
            return kOfxStatReplyDefault;
        }
        let reason = vec![s("OfxChangeUserEdited")];
        let begin = self.plugin.call(
            kOfxActionBeginInstanceChanged,
            self.effect,
            args(&[("OfxPropChangeReason", reason.clone())]),
            std::ptr::null_mut(),
        );
        let st = self.plugin.call(
            kOfxActionInstanceChanged,
            self.effect,
            args(&[
                ("OfxPropType", vec![s(kind)]),
                ("OfxPropName", vec![s(name)]),
                ("OfxPropChangeReason", reason.clone()),
                ("OfxPropTime", vec![Value::Double(time)]),
                (
                    "OfxImageEffectPropRenderScale",
                    vec![Value::Double(1.0), Value::Double(1.0)],
                ),
            ]),
            std::ptr::null_mut(),
        );
        let end = self.plugin.call(
            kOfxActionEndInstanceChanged,
            self.effect,
            args(&[("OfxPropChangeReason", reason)]),
            std::ptr::null_mut(),
        );
        for b in [begin, end] {
            if b != kOfxStatOK && b != kOfxStatReplyDefault {
                return b;
            }
        }
        st
    }

    /// Sets a parameter as a user would, with the instance-changed actions.
    pub fn set_param(&self, name: &str, value: PValue) -> OfxStatus {
        if !params::user_set(self.params(), name, value) {
            return kOfxStatErrUnknown;
        }
        self.changed("OfxTypeParameter", name, 0.0)
    }

    /// Presses a push button at `time` (kOfxStatErrUnsupported in a host that
    /// hides push buttons).
    pub fn press(&self, name: &str, time: f64) -> OfxStatus {
        if quirks().no_instance_changed {
            return kOfxStatErrUnsupported;
        }
        self.changed("OfxTypeParameter", name, time)
    }

    /// kOfxImageEffectActionGetClipPreferences: the out-args it set.
    pub fn clip_preferences(&self) -> Result<HashMap<String, String>, OfxStatus> {
        let out = args(&[]);
        let st = self.plugin.call(
            kOfxImageEffectActionGetClipPreferences,
            self.effect,
            std::ptr::null_mut(),
            out,
        );
        if st != kOfxStatOK && st != kOfxStatReplyDefault {
            return Err(st);
        }
        Ok(props::names(out)
            .into_iter()
            .filter_map(|n| props::get_str(out, &n).map(|v| (n, v)))
            .collect())
    }

    /// kOfxImageEffectActionGetRegionsOfInterest for a canonical region.
    pub fn regions_of_interest(
        &self,
        time: f64,
        scale: f64,
        region: OfxRectD,
    ) -> Result<HashMap<String, Vec<f64>>, OfxStatus> {
        let whole = vec![
            Value::Double(region.x1),
            Value::Double(region.y1),
            Value::Double(region.x2),
            Value::Double(region.y2),
        ];
        let out = args(&[("OfxImageClipPropRoI_Source", whole.clone())]);
        let st = self.plugin.call(
            kOfxImageEffectActionGetRegionsOfInterest,
            self.effect,
            args(&[
                ("OfxPropTime", vec![Value::Double(time)]),
                (
                    "OfxImageEffectPropRenderScale",
                    vec![Value::Double(scale), Value::Double(scale)],
                ),
                ("OfxImageEffectPropRegionOfInterest", whole),
            ]),
            out,
        );
        if st != kOfxStatOK && st != kOfxStatReplyDefault {
            return Err(st);
        }
        Ok(props::names(out)
            .into_iter()
            .map(|n| (n.clone(), props::get_doubles(out, &n)))
            .collect())
    }

    /// kOfxImageEffectActionIsIdentity: the clip to pass through, if any.
    pub fn is_identity(
        &self,
        time: f64,
        scale: f64,
        window: OfxRectI,
    ) -> Result<Option<String>, OfxStatus> {
        let out = args(&[
            ("OfxPropName", vec![s("")]),
            ("OfxPropTime", vec![Value::Double(time)]),
        ]);
        let st = self.plugin.call(
            kOfxImageEffectActionIsIdentity,
            self.effect,
            args(&render_args(time, scale, window)),
            out,
        );
        match st {
            kOfxStatOK => Ok(props::get_str(out, "OfxPropName")),
            kOfxStatReplyDefault => Ok(None),
            e => Err(e),
        }
    }

    /// Renders `window` (pixels at `scale`) at `time` on this thread; the
    /// output image the plug-in filled, as a raster of the window.
    pub fn render(&self, time: f64, scale: f64, window: OfxRectI) -> RenderResult {
        self.render_with(time, scale, window, &[])
    }

    /// As [`Instance::render`], with in-args replaced or added (odd hosts).
    pub fn render_with(
        &self,
        time: f64,
        scale: f64,
        window: OfxRectI,
        extra: &[(&str, Vec<Value>)],
    ) -> RenderResult {
        let (p, pixels) = self.render_inner(time, scale, window, extra)?;
        effect::take_output(p, pixels).ok_or(kOfxStatErrUnknown)
    }

    /// What a host that ignores the render's status (MLT) shows: the status and
    /// the output image as the plug-in left it, failed or not.
    pub fn render_shown(
        &self,
        time: f64,
        scale: f64,
        window: OfxRectI,
    ) -> (OfxStatus, Option<Raster>) {
        let (st, out) = self.render_action_raw(time, scale, window, &[]);
        (st, out.and_then(|(p, px)| effect::take_output(p, px)))
    }

    fn render_inner(
        &self,
        time: f64,
        scale: f64,
        window: OfxRectI,
        extra: &[(&str, Vec<Value>)],
    ) -> Result<(OfxPropertySetHandle, effect::Pixels), OfxStatus> {
        match self.render_action_raw(time, scale, window, extra) {
            (kOfxStatOK, Some(out)) => Ok(out),
            (kOfxStatOK, None) => Err(kOfxStatErrUnknown),
            (st, out) => {
                if let Some((p, _)) = out {
                    effect::drop_output(p);
                }
                Err(st)
            }
        }
    }

    /// The render action's status and the last output image it released.
    fn render_action_raw(
        &self,
        time: f64,
        scale: f64,
        window: OfxRectI,
        extra: &[(&str, Vec<Value>)],
    ) -> (OfxStatus, Option<(OfxPropertySetHandle, effect::Pixels)>) {
        effect::CURRENT.with(|c| *c.borrow_mut() = ([scale, scale], Some(window)));
        effect::OUTPUTS.with(|o| o.borrow_mut().clear());
        let mut a = render_args(time, scale, window);
        a.extend([
            (
                "OfxImageEffectPropSequentialRenderStatus",
                vec![Value::Int(0)],
            ),
            (
                "OfxImageEffectPropInteractiveRenderStatus",
                vec![Value::Int(0)],
            ),
            ("OfxImageEffectPropRenderQualityDraft", vec![Value::Int(0)]),
        ]);
        for (k, v) in extra {
            a.retain(|(n, _)| n != k);
            if !v.is_empty() {
                a.push((*k, v.clone()));
            }
        }
        let st = self.plugin.call(
            kOfxImageEffectActionRender,
            self.effect,
            args(&a),
            std::ptr::null_mut(),
        );
        effect::CURRENT.with(|c| *c.borrow_mut() = ([1.0, 1.0], None));
        let mut outs = effect::OUTPUTS.with(|o| std::mem::take(&mut *o.borrow_mut()));
        let last = outs.pop();
        for (p, _) in outs {
            effect::drop_output(p);
        }
        (st, last)
    }

    /// Runs the render action only and drops the output unread (benchmarks: the
    /// host's own readback is not the plug-in's cost).
    pub fn render_action(&self, time: f64, scale: f64, window: OfxRectI) -> OfxStatus {
        match self.render_inner(time, scale, window, &[]) {
            Ok((p, pixels)) => {
                effect::drop_output(p);
                effect::recycle(pixels);
                kOfxStatOK
            }
            Err(s) => s,
        }
    }

    /// Renders the whole frame at `scale` as `nx` x `ny` tiles spread over
    /// `threads` threads, and assembles them (top row first).
    pub fn render_tiled(
        &self,
        time: f64,
        scale: f64,
        (nx, ny): (usize, usize),
        threads: usize,
    ) -> RenderResult {
        let (w, h) = self.frame_size("Source", time).ok_or(kOfxStatFailed)?;
        let b = effect::scaled_bounds(w, h, [scale, scale]);
        let (fw, fh) = (b.x2 as usize, b.y2 as usize);
        let cut = |n: usize, len: usize, i: usize| (i * len / n) as i32;
        let tiles: Vec<OfxRectI> = (0..ny)
            .flat_map(|j| (0..nx).map(move |i| (i, j)))
            .map(|(i, j)| OfxRectI {
                x1: cut(nx, fw, i),
                y1: cut(ny, fh, j),
                x2: cut(nx, fw, i + 1),
                y2: cut(ny, fh, j + 1),
            })
            .collect();
        let queue = Mutex::new(tiles.clone());
        let results = Mutex::new(Vec::new());
        std::thread::scope(|sc| {
            for _ in 0..threads.max(1) {
                sc.spawn(|| loop {
                    let Some(t) = queue.lock().pop() else { break };
                    let r = self.render(time, scale, t);
                    results.lock().push((t, r));
                });
            }
        });
        let mut frame: Option<Raster> = None;
        for (t, r) in results.into_inner() {
            let r = r?;
            let f = frame.get_or_insert_with(|| blank_like(&r, fw, fh));
            paste(f, &r, t.x1 as usize, fh - t.y2 as usize);
        }
        frame.ok_or(kOfxStatFailed)
    }

    /// The size of a clip's footage at a time (full resolution).
    pub fn frame_size(&self, clip: &str, time: f64) -> Option<(usize, usize)> {
        let (_, c) = effect::find_clip(self.effect, clip)?;
        let f = c.footage.lock().get(&(time.round() as i64)).cloned()?;
        Some(match &*f {
            Footage::Picture { image, .. } => (image.width(), image.height()),
            Footage::Matte { mask, .. } => (mask.width(), mask.height()),
        })
    }

    /// Asks renders of this instance to abort (the host's abort function).
    pub fn set_abort(&self, on: bool) {
        if let Some(e) = effect::EFFECTS.get(self.effect as usize) {
            e.abort.store(on, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// kOfxActionPurgeCaches.
    pub fn purge_caches(&self) -> OfxStatus {
        self.plugin.call(
            kOfxActionPurgeCaches,
            self.effect,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    }

    /// kOfxActionDestroyInstance.
    pub fn destroy(self) -> OfxStatus {
        self.plugin.call(
            kOfxActionDestroyInstance,
            self.effect,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    }
}

/// A zeroed raster of `r`'s kind at `w` x `h`.
fn blank_like(r: &Raster, w: usize, h: usize) -> Raster {
    let n = w * h * r.channels();
    let samples = match r.samples() {
        Samples::U8(_) => Samples::U8(vec![0; n]),
        Samples::U16(_) => Samples::U16(vec![0; n]),
        Samples::F32(_) => Samples::F32(vec![0.0; n]),
    };
    Raster::new(w, h, r.channels(), samples).expect("sizes")
}

/// Copies `tile` into `frame` at (x0, y0) (top-down coordinates).
pub fn paste(frame: &mut Raster, tile: &Raster, x0: usize, y0: usize) {
    let (fw, ch) = (frame.width(), frame.channels());
    let (tw, th) = (tile.width(), tile.height());
    match (frame.samples_mut(), tile.samples()) {
        (Samples::U8(d), Samples::U8(s)) => paste_rows(d, s, (fw, ch), (tw, th), (x0, y0)),
        (Samples::U16(d), Samples::U16(s)) => paste_rows(d, s, (fw, ch), (tw, th), (x0, y0)),
        (Samples::F32(d), Samples::F32(s)) => paste_rows(d, s, (fw, ch), (tw, th), (x0, y0)),
        _ => panic!("tiles of one frame share a depth"),
    }
}

fn paste_rows<T: Copy>(
    d: &mut [T],
    s: &[T],
    (fw, ch): (usize, usize),
    (tw, th): (usize, usize),
    (x0, y0): (usize, usize),
) {
    for y in 0..th {
        let o = ((y0 + y) * fw + x0) * ch;
        d[o..o + tw * ch].copy_from_slice(&s[y * tw * ch..(y + 1) * tw * ch]);
    }
}

/// The largest difference between two rasters of one size, in 0..1 units.
pub fn max_diff(a: &Raster, b: &Raster) -> f32 {
    assert_eq!(
        (a.width(), a.height(), a.channels()),
        (b.width(), b.height(), b.channels()),
        "sizes differ"
    );
    a.unit_samples()
        .iter()
        .zip(b.unit_samples())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The plug-in binary cargo built beside the running test or benchmark, put in a
/// bundle layout in a temporary folder (as build/ofx-bundle.sh lays it out), or
/// the bundle named by PERTOUCH_OFX_BUNDLE.
pub fn built_bundle() -> PathBuf {
    if let Some(b) = std::env::var_os("PERTOUCH_OFX_BUNDLE") {
        return PathBuf::from(b);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps folder");
    let lib = [
        deps.join("libpertouch_ofx.so"),
        deps.join("../libpertouch_ofx.so"),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .unwrap_or_else(|| panic!("libpertouch_ofx.so not built beside {}", exe.display()));
    let root = std::env::temp_dir().join(format!("pertouch-ofx-test-{}", std::process::id()));
    let bundle = root.join("PerTouch.ofx.bundle");
    let bin = bundle_binary(&bundle);
    std::fs::create_dir_all(bin.parent().expect("bundle folder")).expect("bundle folder");
    if !bin.is_file() {
        // A link, not a copy: a debug plug-in is 60 MB, and every test run
        // would leave one behind in the temporary folder.
        std::os::unix::fs::symlink(&lib, &bin)
            .or_else(|_| std::fs::copy(&lib, &bin).map(|_| ()))
            .expect("putting the plug-in in the bundle");
    }
    bundle
}
