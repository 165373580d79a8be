//! What the node offers: contexts, pixel formats, clips and parameters.

use crate::abi::names::*;
use crate::abi::*;
use crate::effect;
use crate::handles::{Effect, ParamSet, PropSet};
use crate::params;
use crate::suites::{check, ofx_fn, Host, OfxError, OfxResult, Props};
use std::ffi::CStr;

/// kOfxActionDescribe.
pub fn describe(host: &Host, effect: Effect) -> OfxResult<()> {
    let p = effect::props(host, effect)?;
    p.set_string(kOfxPropLabel, 0, "PerTouch")?;
    p.set_string(kOfxImageEffectPluginPropGrouping, 0, "Color")?;
    p.set_string(
        kOfxPropPluginDescription,
        0,
        "Semantic retouching by region: colorfulness, contrast, temperature and brightness \
         moved to measured levels per region (sky, face, grass, ... or your own mattes). \
         Type an instruction and press Apply; the result is stored as a region state and \
         rendered deterministically.",
    )?;
    p.set_strings(
        kOfxImageEffectPropSupportedContexts,
        &[kOfxImageEffectContextFilter, kOfxImageEffectContextGeneral],
    )?;
    p.set_strings(
        kOfxImageEffectPropSupportedPixelDepths,
        &[kOfxBitDepthByte, kOfxBitDepthShort, kOfxBitDepthFloat],
    )?;
    p.set_int(kOfxImageEffectPropSupportsTiles, 0, 1)?;
    p.set_int(kOfxImageEffectPropSupportsMultiResolution, 0, 1)?;
    p.set_int(kOfxImageEffectPropTemporalClipAccess, 0, 0)?;
    p.set_int(kOfxImageEffectPropSupportsMultipleClipDepths, 0, 0)?;
    p.set_int(kOfxImageEffectPluginPropSingleInstance, 0, 0)?;
    // The core threads each render itself; the host may call render on any number
    // of threads at once.
    p.set_int(kOfxImageEffectPluginPropHostFrameThreading, 0, 0)?;
    p.set_string(
        kOfxImageEffectPluginRenderThreadSafety,
        0,
        &kOfxImageEffectRenderFullySafe.to_string_lossy(),
    )?;
    let version = [
        crate::VERSION_MAJOR as i32,
        crate::VERSION_MINOR as i32,
        crate::VERSION_PATCH as i32,
    ];
    for (i, v) in version.iter().enumerate() {
        // Optional in older hosts: a refusal is not an error.
        let _ = p.set_int(kOfxPropVersion, i as i32, *v);
    }
    let _ = p.set_string(kOfxPropVersionLabel, 0, crate::VERSION_LABEL);
    Ok(())
}

fn context_of(in_args: &Props<'_>) -> OfxResult<bool> {
    let ctx = in_args.string(kOfxImageEffectPropContext, 0)?;
    if ctx.as_bytes() == kOfxImageEffectContextGeneral.to_bytes() {
        Ok(true)
    } else if ctx.as_bytes() == kOfxImageEffectContextFilter.to_bytes() {
        Ok(false)
    } else {
        Err(OfxError::new(
            kOfxStatErrUnsupported,
            format!("context {ctx} is not supported"),
        ))
    }
}

fn define_clip<'h>(host: &'h Host, effect: Effect, name: &CStr) -> OfxResult<Props<'h>> {
    let mut p = std::ptr::null_mut();
    let f = ofx_fn!(host.effects => OfxImageEffectSuiteV1::clipDefine)?;
    // SAFETY: a descriptor handle, a C string name and a valid out pointer.
    let st = unsafe { f(effect.as_ptr(), name.as_ptr(), &mut p) };
    check(st, || format!("defining clip {}", name.to_string_lossy()))?;
    // SAFETY: the host just gave `p` as the new clip descriptor's properties.
    Props::new(host, unsafe { PropSet::new(p) }, "a clip descriptor")
}

fn define_param<'h>(
    host: &'h Host,
    set: ParamSet,
    kind: &CStr,
    name: &CStr,
    label: &str,
    hint: &str,
) -> OfxResult<Props<'h>> {
    let mut p = std::ptr::null_mut();
    let f = ofx_fn!(host.params => OfxParameterSuiteV1::paramDefine)?;
    // SAFETY: the descriptor's parameter set, C string type and name, a valid
    // out pointer.
    let st = unsafe { f(set.as_ptr(), kind.as_ptr(), name.as_ptr(), &mut p) };
    check(st, || {
        format!("defining parameter {}", name.to_string_lossy())
    })?;
    // SAFETY: the host just gave `p` as the new parameter's properties.
    let props = Props::new(host, unsafe { PropSet::new(p) }, "a parameter descriptor")?;
    props.set_string(kOfxPropLabel, 0, label)?;
    let _ = props.set_string(kOfxParamPropHint, 0, hint);
    let _ = props.set_string(kOfxParamPropScriptName, 0, &name.to_string_lossy());
    Ok(props)
}

fn define_double(
    host: &Host,
    set: ParamSet,
    name: &CStr,
    label: &str,
    hint: &str,
    (min, max, default): (f64, f64, f64),
) -> OfxResult<()> {
    let p = define_param(host, set, kOfxParamTypeDouble, name, label, hint)?;
    p.set_double(kOfxParamPropDefault, 0, default)?;
    p.set_double(kOfxParamPropMin, 0, min)?;
    p.set_double(kOfxParamPropMax, 0, max)?;
    p.set_double(kOfxParamPropDisplayMin, 0, min)?;
    p.set_double(kOfxParamPropDisplayMax, 0, max)?;
    let _ = p.set_double(kOfxParamPropIncrement, 0, 0.01);
    let _ = p.set_int(kOfxParamPropDigits, 0, 2);
    Ok(())
}

fn define_choice(
    host: &Host,
    set: ParamSet,
    name: &CStr,
    label: &str,
    hint: &str,
    options: &[&CStr],
) -> OfxResult<()> {
    let p = define_param(host, set, kOfxParamTypeChoice, name, label, hint)?;
    p.set_strings(kOfxParamPropChoiceOption, options)?;
    p.set_int(kOfxParamPropDefault, 0, 0)?;
    let _ = p.set_int(kOfxParamPropAnimates, 0, 0);
    Ok(())
}

fn define_string(
    host: &Host,
    set: ParamSet,
    name: &CStr,
    label: &str,
    hint: &str,
    (default, multi_line): (&str, bool),
) -> OfxResult<()> {
    let p = define_param(host, set, kOfxParamTypeString, name, label, hint)?;
    p.set_string(kOfxParamPropDefault, 0, default)?;
    let mode = if multi_line {
        kOfxParamStringIsMultiLine
    } else {
        kOfxParamStringIsSingleLine
    };
    let _ = p.set_string(kOfxParamPropStringMode, 0, &mode.to_string_lossy());
    let _ = p.set_int(kOfxParamPropAnimates, 0, 0);
    Ok(())
}

/// kOfxImageEffectActionDescribeInContext: Source and Output (RGB or RGBA), in the
/// general context two optional mask inputs, and the parameters.
pub fn describe_in_context(host: &Host, effect: Effect, in_args: Option<PropSet>) -> OfxResult<()> {
    let general = context_of(&Props::new(host, in_args, "the in-args")?)?;
    let rgb = [kOfxImageComponentRGBA, kOfxImageComponentRGB];
    let src = define_clip(host, effect, kOfxImageEffectSimpleSourceClipName)?;
    src.set_strings(kOfxImageEffectPropSupportedComponents, &rgb)?;
    src.set_int(kOfxImageEffectPropSupportsTiles, 0, 1)?;
    let out = define_clip(host, effect, kOfxImageEffectOutputClipName)?;
    out.set_strings(kOfxImageEffectPropSupportedComponents, &rgb)?;
    out.set_int(kOfxImageEffectPropSupportsTiles, 0, 1)?;
    if general {
        for clip in MASK_CLIPS {
            let m = define_clip(host, effect, clip)?;
            m.set_strings(
                kOfxImageEffectPropSupportedComponents,
                &[kOfxImageComponentAlpha, kOfxImageComponentRGBA],
            )?;
            m.set_int(kOfxImageClipPropOptional, 0, 1)?;
            m.set_int(kOfxImageClipPropIsMask, 0, 1)?;
            m.set_int(kOfxImageEffectPropSupportsTiles, 0, 1)?;
        }
    }

    let set = effect::param_set(host, effect)?;
    use params::*;
    define_string(host, set, INSTRUCTION, "Instruction",
        "What to do, in words: \"make the sky a little warmer\", \"brighter faces\", \"cinematic\". Press Apply.",
        ("", false))?;
    define_param(host, set, kOfxParamTypePushButton, APPLY, "Apply",
        "Runs the agent once on the current frame and stores the result in Region state. Renders never run the agent.")?;
    define_string(host, set, STATE, "Region state",
        "The edit as JSON, changes per region in [-1, 1]: {\"global\": {\"brightness\": 0.1}, \"sky\": {\"temperature\": -0.3}}. Saved with the project; editable.",
        ("{}", true))?;
    let labels = ["Colorfulness", "Contrast", "Temperature", "Brightness"];
    for (name, label) in SLIDERS.iter().zip(labels) {
        define_double(
            host,
            set,
            name,
            label,
            "Added to the whole frame's change of this attribute, on top of the region state.",
            (-1.0, 1.0, 0.0),
        )?;
    }
    define_choice(host, set, RENDERER, "Renderer",
        "Parametric: fast and exact to the measured levels. Diffusion: PerTouch's model (an installed diffusion package).",
        &RENDERERS)?;
    define_double(
        host,
        set,
        MIX,
        "Mix",
        "Blend between the source (0) and the retouched result (1).",
        (0.0, 1.0, 1.0),
    )?;
    define_choice(host, set, VIEW, "View",
        "Result, or for inspection the parameter map of one attribute (blue -1, grey 0, orange +1) or a region's mask.",
        &VIEWS)?;
    define_string(
        host,
        set,
        VIEW_REGION,
        "Region to show",
        "The region whose mask \"Region mask\" shows (default: the first region of the state).",
        ("", false),
    )?;
    if general {
        for (name, label) in MASK_NAMES.iter().zip(["Region A name", "Region B name"]) {
            define_string(host, set, name, label,
                "The region (as named in the state, e.g. \"subject\") that this mask input stands for; the mask replaces segmentation for it.",
                ("", false))?;
        }
    }
    Ok(())
}
