//! The OpenFX C API as this plug-in (and our test host) use it: handles, the
//! structures a host hands over, the suites' function tables in the order the
//! OpenFX 1.4 headers declare them, and the names of actions and properties.
//! Written from the published headers (ofxCore.h, ofxProperty.h, ofxParam.h,
//! ofxImageEffect.h, ofxMemory.h, ofxMultiThread.h, ofxMessage.h).
//!
//! Every function slot of a suite is an `Option`: the headers say a host fills
//! them all, but hosts leave some null, and calling a null slot is undefined
//! behaviour. `Option<fn>` has the C layout of a nullable function pointer, so
//! the tables match the headers; the plug-in calls through
//! `suites::ofx_fn!`, which names a missing `Suite::function`.
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};

pub type OfxStatus = c_int;
pub type OfxTime = f64;

/// Opaque handle types (pointers the host owns).
#[repr(C)]
pub struct OfxPropertySetStruct {
    _p: [u8; 0],
}
pub type OfxPropertySetHandle = *mut OfxPropertySetStruct;
#[repr(C)]
pub struct OfxImageEffectStruct {
    _p: [u8; 0],
}
pub type OfxImageEffectHandle = *mut OfxImageEffectStruct;
#[repr(C)]
pub struct OfxImageClipStruct {
    _p: [u8; 0],
}
pub type OfxImageClipHandle = *mut OfxImageClipStruct;
#[repr(C)]
pub struct OfxParamStruct {
    _p: [u8; 0],
}
pub type OfxParamHandle = *mut OfxParamStruct;
#[repr(C)]
pub struct OfxParamSetStruct {
    _p: [u8; 0],
}
pub type OfxParamSetHandle = *mut OfxParamSetStruct;
#[repr(C)]
pub struct OfxImageMemoryStruct {
    _p: [u8; 0],
}
pub type OfxImageMemoryHandle = *mut OfxImageMemoryStruct;
#[repr(C)]
pub struct OfxMutex {
    _p: [u8; 0],
}
pub type OfxMutexHandle = *mut OfxMutex;

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OfxRectD {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OfxRectI {
    pub x1: c_int,
    pub y1: c_int,
    pub x2: c_int,
    pub y2: c_int,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OfxRangeD {
    pub min: f64,
    pub max: f64,
}

pub type FetchSuiteFn = unsafe extern "C" fn(
    host: OfxPropertySetHandle,
    suite_name: *const c_char,
    suite_version: c_int,
) -> *const c_void;

#[repr(C)]
pub struct OfxHost {
    pub host: OfxPropertySetHandle,
    pub fetchSuite: Option<FetchSuiteFn>,
}

pub type OfxPluginEntryPoint = unsafe extern "C" fn(
    action: *const c_char,
    handle: *const c_void,
    in_args: OfxPropertySetHandle,
    out_args: OfxPropertySetHandle,
) -> OfxStatus;

#[repr(C)]
pub struct OfxPlugin {
    pub pluginApi: *const c_char,
    pub apiVersion: c_int,
    pub pluginIdentifier: *const c_char,
    pub pluginVersionMajor: c_uint,
    pub pluginVersionMinor: c_uint,
    pub setHost: Option<unsafe extern "C" fn(host: *mut OfxHost)>,
    pub mainEntry: Option<OfxPluginEntryPoint>,
}

type P = OfxPropertySetHandle;
type S = *const c_char;

#[repr(C)]
pub struct OfxPropertySuiteV1 {
    pub propSetPointer: Option<unsafe extern "C" fn(P, S, c_int, *mut c_void) -> OfxStatus>,
    pub propSetString: Option<unsafe extern "C" fn(P, S, c_int, S) -> OfxStatus>,
    pub propSetDouble: Option<unsafe extern "C" fn(P, S, c_int, f64) -> OfxStatus>,
    pub propSetInt: Option<unsafe extern "C" fn(P, S, c_int, c_int) -> OfxStatus>,
    pub propSetPointerN: Option<unsafe extern "C" fn(P, S, c_int, *const *mut c_void) -> OfxStatus>,
    pub propSetStringN: Option<unsafe extern "C" fn(P, S, c_int, *const S) -> OfxStatus>,
    pub propSetDoubleN: Option<unsafe extern "C" fn(P, S, c_int, *const f64) -> OfxStatus>,
    pub propSetIntN: Option<unsafe extern "C" fn(P, S, c_int, *const c_int) -> OfxStatus>,
    pub propGetPointer: Option<unsafe extern "C" fn(P, S, c_int, *mut *mut c_void) -> OfxStatus>,
    pub propGetString: Option<unsafe extern "C" fn(P, S, c_int, *mut *mut c_char) -> OfxStatus>,
    pub propGetDouble: Option<unsafe extern "C" fn(P, S, c_int, *mut f64) -> OfxStatus>,
    pub propGetInt: Option<unsafe extern "C" fn(P, S, c_int, *mut c_int) -> OfxStatus>,
    pub propGetPointerN: Option<unsafe extern "C" fn(P, S, c_int, *mut *mut c_void) -> OfxStatus>,
    pub propGetStringN: Option<unsafe extern "C" fn(P, S, c_int, *mut *mut c_char) -> OfxStatus>,
    pub propGetDoubleN: Option<unsafe extern "C" fn(P, S, c_int, *mut f64) -> OfxStatus>,
    pub propGetIntN: Option<unsafe extern "C" fn(P, S, c_int, *mut c_int) -> OfxStatus>,
    pub propReset: Option<unsafe extern "C" fn(P, S) -> OfxStatus>,
    pub propGetDimension: Option<unsafe extern "C" fn(P, S, *mut c_int) -> OfxStatus>,
}

type E = OfxImageEffectHandle;
type C = OfxImageClipHandle;

#[repr(C)]
pub struct OfxImageEffectSuiteV1 {
    pub getPropertySet: Option<unsafe extern "C" fn(E, *mut P) -> OfxStatus>,
    pub getParamSet: Option<unsafe extern "C" fn(E, *mut OfxParamSetHandle) -> OfxStatus>,
    pub clipDefine: Option<unsafe extern "C" fn(E, S, *mut P) -> OfxStatus>,
    pub clipGetHandle: Option<unsafe extern "C" fn(E, S, *mut C, *mut P) -> OfxStatus>,
    pub clipGetPropertySet: Option<unsafe extern "C" fn(C, *mut P) -> OfxStatus>,
    pub clipGetImage:
        Option<unsafe extern "C" fn(C, OfxTime, *const OfxRectD, *mut P) -> OfxStatus>,
    pub clipReleaseImage: Option<unsafe extern "C" fn(P) -> OfxStatus>,
    pub clipGetRegionOfDefinition:
        Option<unsafe extern "C" fn(C, OfxTime, *mut OfxRectD) -> OfxStatus>,
    pub abort: Option<unsafe extern "C" fn(E) -> c_int>,
    pub imageMemoryAlloc:
        Option<unsafe extern "C" fn(E, usize, *mut OfxImageMemoryHandle) -> OfxStatus>,
    pub imageMemoryFree: Option<unsafe extern "C" fn(OfxImageMemoryHandle) -> OfxStatus>,
    pub imageMemoryLock:
        Option<unsafe extern "C" fn(OfxImageMemoryHandle, *mut *mut c_void) -> OfxStatus>,
    pub imageMemoryUnlock: Option<unsafe extern "C" fn(OfxImageMemoryHandle) -> OfxStatus>,
}

type PS = OfxParamSetHandle;
type PH = OfxParamHandle;

#[repr(C)]
pub struct OfxParameterSuiteV1 {
    pub paramDefine: Option<unsafe extern "C" fn(PS, S, S, *mut P) -> OfxStatus>,
    pub paramGetHandle: Option<unsafe extern "C" fn(PS, S, *mut PH, *mut P) -> OfxStatus>,
    pub paramSetGetPropertySet: Option<unsafe extern "C" fn(PS, *mut P) -> OfxStatus>,
    pub paramGetPropertySet: Option<unsafe extern "C" fn(PH, *mut P) -> OfxStatus>,
    /// Variadic: one pointer per dimension of the parameter's value.
    pub paramGetValue: Option<unsafe extern "C" fn(PH, ...) -> OfxStatus>,
    pub paramGetValueAtTime: Option<unsafe extern "C" fn(PH, OfxTime, ...) -> OfxStatus>,
    pub paramGetDerivative: Option<unsafe extern "C" fn(PH, OfxTime, ...) -> OfxStatus>,
    pub paramGetIntegral: Option<unsafe extern "C" fn(PH, OfxTime, OfxTime, ...) -> OfxStatus>,
    /// Variadic: the value (a double, int or const char* per dimension).
    pub paramSetValue: Option<unsafe extern "C" fn(PH, ...) -> OfxStatus>,
    pub paramSetValueAtTime: Option<unsafe extern "C" fn(PH, OfxTime, ...) -> OfxStatus>,
    pub paramGetNumKeys: Option<unsafe extern "C" fn(PH, *mut c_uint) -> OfxStatus>,
    pub paramGetKeyTime: Option<unsafe extern "C" fn(PH, c_uint, *mut OfxTime) -> OfxStatus>,
    pub paramGetKeyIndex: Option<unsafe extern "C" fn(PH, OfxTime, c_int, *mut c_int) -> OfxStatus>,
    pub paramDeleteKey: Option<unsafe extern "C" fn(PH, OfxTime) -> OfxStatus>,
    pub paramDeleteAllKeys: Option<unsafe extern "C" fn(PH) -> OfxStatus>,
    pub paramCopy: Option<unsafe extern "C" fn(PH, PH, OfxTime, *const OfxRangeD) -> OfxStatus>,
    pub paramEditBegin: Option<unsafe extern "C" fn(PS, S) -> OfxStatus>,
    pub paramEditEnd: Option<unsafe extern "C" fn(PS) -> OfxStatus>,
}

#[repr(C)]
pub struct OfxMemorySuiteV1 {
    pub memoryAlloc:
        Option<unsafe extern "C" fn(*mut c_void, usize, *mut *mut c_void) -> OfxStatus>,
    pub memoryFree: Option<unsafe extern "C" fn(*mut c_void) -> OfxStatus>,
}

pub type OfxThreadFunctionV1 =
    unsafe extern "C" fn(thread_index: c_uint, thread_max: c_uint, custom_arg: *mut c_void);

#[repr(C)]
pub struct OfxMultiThreadSuiteV1 {
    pub multiThread:
        Option<unsafe extern "C" fn(OfxThreadFunctionV1, c_uint, *mut c_void) -> OfxStatus>,
    pub multiThreadNumCPUs: Option<unsafe extern "C" fn(*mut c_uint) -> OfxStatus>,
    pub multiThreadIndex: Option<unsafe extern "C" fn(*mut c_uint) -> OfxStatus>,
    pub multiThreadIsSpawnedThread: Option<unsafe extern "C" fn() -> c_int>,
    pub mutexCreate: Option<unsafe extern "C" fn(*mut OfxMutexHandle, c_int) -> OfxStatus>,
    pub mutexDestroy: Option<unsafe extern "C" fn(OfxMutexHandle) -> OfxStatus>,
    pub mutexLock: Option<unsafe extern "C" fn(OfxMutexHandle) -> OfxStatus>,
    pub mutexUnLock: Option<unsafe extern "C" fn(OfxMutexHandle) -> OfxStatus>,
    pub mutexTryLock: Option<unsafe extern "C" fn(OfxMutexHandle) -> OfxStatus>,
}

#[repr(C)]
pub struct OfxMessageSuiteV1 {
    /// Variadic: printf-style format and arguments.
    pub message: Option<unsafe extern "C" fn(*mut c_void, S, S, S, ...) -> OfxStatus>,
}

#[repr(C)]
pub struct OfxMessageSuiteV2 {
    pub message: Option<unsafe extern "C" fn(*mut c_void, S, S, S, ...) -> OfxStatus>,
    pub setPersistentMessage: Option<unsafe extern "C" fn(*mut c_void, S, S, S, ...) -> OfxStatus>,
    pub clearPersistentMessage: Option<unsafe extern "C" fn(*mut c_void) -> OfxStatus>,
}

// Status codes.
pub const kOfxStatOK: OfxStatus = 0;
pub const kOfxStatFailed: OfxStatus = 1;
pub const kOfxStatErrFatal: OfxStatus = 2;
pub const kOfxStatErrUnknown: OfxStatus = 3;
pub const kOfxStatErrMissingHostFeature: OfxStatus = 4;
pub const kOfxStatErrUnsupported: OfxStatus = 5;
pub const kOfxStatErrExists: OfxStatus = 6;
pub const kOfxStatErrFormat: OfxStatus = 7;
pub const kOfxStatErrMemory: OfxStatus = 8;
pub const kOfxStatErrBadHandle: OfxStatus = 9;
pub const kOfxStatErrBadIndex: OfxStatus = 10;
pub const kOfxStatErrValue: OfxStatus = 11;
pub const kOfxStatReplyYes: OfxStatus = 12;
pub const kOfxStatReplyNo: OfxStatus = 13;
pub const kOfxStatReplyDefault: OfxStatus = 14;
pub const kOfxStatErrImageFormat: OfxStatus = 1000;

/// Names (C strings) of suites, actions, properties and values.
pub mod names {
    use super::CStr;
    macro_rules! names {
        ($($id:ident = $s:literal;)*) => { $(pub const $id: &CStr = $s;)* };
    }
    names! {
        kOfxImageEffectPluginApi = c"OfxImageEffectPluginAPI";
        kOfxPropertySuite = c"OfxPropertySuite";
        kOfxImageEffectSuite = c"OfxImageEffectSuite";
        kOfxParameterSuite = c"OfxParameterSuite";
        kOfxMemorySuite = c"OfxMemorySuite";
        kOfxMultiThreadSuite = c"OfxMultiThreadSuite";
        kOfxMessageSuite = c"OfxMessageSuite";

        kOfxActionLoad = c"OfxActionLoad";
        kOfxActionDescribe = c"OfxActionDescribe";
        kOfxActionUnload = c"OfxActionUnload";
        kOfxActionPurgeCaches = c"OfxActionPurgeCaches";
        kOfxActionSyncPrivateData = c"OfxActionSyncPrivateData";
        kOfxActionCreateInstance = c"OfxActionCreateInstance";
        kOfxActionDestroyInstance = c"OfxActionDestroyInstance";
        kOfxActionInstanceChanged = c"OfxActionInstanceChanged";
        kOfxActionBeginInstanceChanged = c"OfxActionBeginInstanceChanged";
        kOfxActionEndInstanceChanged = c"OfxActionEndInstanceChanged";
        kOfxActionBeginInstanceEdit = c"OfxActionBeginInstanceEdit";
        kOfxActionEndInstanceEdit = c"OfxActionEndInstanceEdit";
        kOfxImageEffectActionDescribeInContext = c"OfxImageEffectActionDescribeInContext";
        kOfxImageEffectActionGetRegionOfDefinition = c"OfxImageEffectActionGetRegionOfDefinition";
        kOfxImageEffectActionGetRegionsOfInterest = c"OfxImageEffectActionGetRegionsOfInterest";
        kOfxImageEffectActionGetTimeDomain = c"OfxImageEffectActionGetTimeDomain";
        kOfxImageEffectActionGetFramesNeeded = c"OfxImageEffectActionGetFramesNeeded";
        kOfxImageEffectActionGetClipPreferences = c"OfxImageEffectActionGetClipPreferences";
        kOfxImageEffectActionIsIdentity = c"OfxImageEffectActionIsIdentity";
        kOfxImageEffectActionRender = c"OfxImageEffectActionRender";
        kOfxImageEffectActionBeginSequenceRender = c"OfxImageEffectActionBeginSequenceRender";
        kOfxImageEffectActionEndSequenceRender = c"OfxImageEffectActionEndSequenceRender";

        kOfxPropAPIVersion = c"OfxPropAPIVersion";
        kOfxPropTime = c"OfxPropTime";
        kOfxPropIsInteractive = c"OfxPropIsInteractive";
        kOfxPluginPropFilePath = c"OfxPluginPropFilePath";
        kOfxPropInstanceData = c"OfxPropInstanceData";
        kOfxPropType = c"OfxPropType";
        kOfxPropName = c"OfxPropName";
        kOfxPropVersion = c"OfxPropVersion";
        kOfxPropVersionLabel = c"OfxPropVersionLabel";
        kOfxPropPluginDescription = c"OfxPropPluginDescription";
        kOfxPropLabel = c"OfxPropLabel";
        kOfxPropIcon = c"OfxPropIcon";
        kOfxPropShortLabel = c"OfxPropShortLabel";
        kOfxPropLongLabel = c"OfxPropLongLabel";
        kOfxPropChangeReason = c"OfxPropChangeReason";
        kOfxPropEffectInstance = c"OfxPropEffectInstance";
        kOfxChangeUserEdited = c"OfxChangeUserEdited";
        kOfxChangePluginEdited = c"OfxChangePluginEdited";
        kOfxTypeParameter = c"OfxTypeParameter";
        kOfxTypeClip = c"OfxTypeClip";
        kOfxTypeImageEffectHost = c"OfxTypeImageEffectHost";
        kOfxTypeImageEffect = c"OfxTypeImageEffect";
        kOfxTypeImageEffectInstance = c"OfxTypeImageEffectInstance";
        kOfxTypeImage = c"OfxTypeImage";

        kOfxBitDepthNone = c"OfxBitDepthNone";
        kOfxBitDepthByte = c"OfxBitDepthByte";
        kOfxBitDepthShort = c"OfxBitDepthShort";
        kOfxBitDepthHalf = c"OfxBitDepthHalf";
        kOfxBitDepthFloat = c"OfxBitDepthFloat";
        kOfxImageComponentNone = c"OfxImageComponentNone";
        kOfxImageComponentRGBA = c"OfxImageComponentRGBA";
        kOfxImageComponentRGB = c"OfxImageComponentRGB";
        kOfxImageComponentAlpha = c"OfxImageComponentAlpha";
        kOfxImageOpaque = c"OfxImageOpaque";
        kOfxImagePreMultiplied = c"OfxImageAlphaPremultiplied";
        kOfxImageUnPreMultiplied = c"OfxImageAlphaUnPremultiplied";

        kOfxImageEffectContextFilter = c"OfxImageEffectContextFilter";
        kOfxImageEffectContextGeneral = c"OfxImageEffectContextGeneral";
        kOfxImageEffectOutputClipName = c"Output";
        kOfxImageEffectSimpleSourceClipName = c"Source";

        kOfxImageEffectPropSupportedContexts = c"OfxImageEffectPropSupportedContexts";
        kOfxImageEffectPluginPropGrouping = c"OfxImageEffectPluginPropGrouping";
        kOfxImageEffectPluginPropSingleInstance = c"OfxImageEffectPluginPropSingleInstance";
        kOfxImageEffectPluginRenderThreadSafety = c"OfxImageEffectPluginRenderThreadSafety";
        kOfxImageEffectRenderFullySafe = c"OfxImageEffectRenderFullySafe";
        kOfxImageEffectPluginPropHostFrameThreading = c"OfxImageEffectPluginPropHostFrameThreading";
        kOfxImageEffectPropSupportsMultipleClipDepths = c"OfxImageEffectPropMultipleClipDepths";
        kOfxImageEffectPropSupportsMultiResolution = c"OfxImageEffectPropSupportsMultiResolution";
        kOfxImageEffectPropSupportsTiles = c"OfxImageEffectPropSupportsTiles";
        kOfxImageEffectPropTemporalClipAccess = c"OfxImageEffectPropTemporalClipAccess";
        kOfxImageEffectPropSupportedPixelDepths = c"OfxImageEffectPropSupportedPixelDepths";
        kOfxImageEffectPropSupportedComponents = c"OfxImageEffectPropSupportedComponents";
        kOfxImageEffectPropContext = c"OfxImageEffectPropContext";
        kOfxImageEffectPropPixelDepth = c"OfxImageEffectPropPixelDepth";
        kOfxImageEffectPropComponents = c"OfxImageEffectPropComponents";
        kOfxImageEffectPropPreMultiplication = c"OfxImageEffectPropPreMultiplication";
        kOfxImageEffectPropRenderScale = c"OfxImageEffectPropRenderScale";
        kOfxImageEffectPropRenderWindow = c"OfxImageEffectPropRenderWindow";
        kOfxImageEffectPropRegionOfInterest = c"OfxImageEffectPropRegionOfInterest";
        kOfxImageEffectPropRegionOfDefinition = c"OfxImageEffectPropRegionOfDefinition";
        kOfxImageClipPropOptional = c"OfxImageClipPropOptional";
        kOfxImageClipPropIsMask = c"OfxImageClipPropIsMask";
        kOfxImageClipPropConnected = c"OfxImageClipPropConnected";
        kOfxImagePropData = c"OfxImagePropData";
        kOfxImagePropBounds = c"OfxImagePropBounds";
        kOfxImagePropRowBytes = c"OfxImagePropRowBytes";
        kOfxImagePropPixelAspectRatio = c"OfxImagePropPixelAspectRatio";
        kOfxImagePropRegionOfDefinition = c"OfxImagePropRegionOfDefinition";

        kOfxParamTypeDouble = c"OfxParamTypeDouble";
        kOfxParamTypeChoice = c"OfxParamTypeChoice";
        kOfxParamTypeString = c"OfxParamTypeString";
        kOfxParamTypePushButton = c"OfxParamTypePushButton";
        kOfxParamTypePage = c"OfxParamTypePage";
        kOfxParamTypeBoolean = c"OfxParamTypeBoolean";
        kOfxParamTypeInteger = c"OfxParamTypeInteger";
        kOfxParamPropType = c"OfxParamPropType";
        kOfxParamPropHint = c"OfxParamPropHint";
        kOfxParamPropDefault = c"OfxParamPropDefault";
        kOfxParamPropMin = c"OfxParamPropMin";
        kOfxParamPropMax = c"OfxParamPropMax";
        kOfxParamPropDisplayMin = c"OfxParamPropDisplayMin";
        kOfxParamPropDisplayMax = c"OfxParamPropDisplayMax";
        kOfxParamPropIncrement = c"OfxParamPropIncrement";
        kOfxParamPropDigits = c"OfxParamPropDigits";
        kOfxParamPropAnimates = c"OfxParamPropAnimates";
        kOfxParamPropPersistant = c"OfxParamPropPersistant";
        kOfxParamPropEvaluateOnChange = c"OfxParamPropEvaluateOnChange";
        kOfxParamPropScriptName = c"OfxParamPropScriptName";
        kOfxParamPropChoiceOption = c"OfxParamPropChoiceOption";
        kOfxParamPropStringMode = c"OfxParamPropStringMode";
        kOfxParamStringIsSingleLine = c"OfxParamStringIsSingleLine";
        kOfxParamStringIsMultiLine = c"OfxParamStringIsMultiLine";
        kOfxParamPropPageChild = c"OfxParamPropPageChild";
        kOfxParamPropEnabled = c"OfxParamPropEnabled";

        kOfxMessageFatal = c"OfxMessageFatal";
        kOfxMessageError = c"OfxMessageError";
        kOfxMessageWarning = c"OfxMessageWarning";
        kOfxMessageMessage = c"OfxMessageMessage";
    }

    /// "OfxImageClipPropRoI_" + clip name etc. are built with [`clip_prop`].
    pub const ROI_PREFIX: &str = "OfxImageClipPropRoI_";
    pub const COMPONENTS_PREFIX: &str = "OfxImageClipPropComponents_";
    pub const DEPTH_PREFIX: &str = "OfxImageClipPropDepth_";

    /// A per-clip property name: `prefix` followed by the clip's name.
    pub fn clip_prop(prefix: &str, clip: &CStr) -> std::ffi::CString {
        let mut s = prefix.as_bytes().to_vec();
        s.extend_from_slice(clip.to_bytes());
        std::ffi::CString::new(s).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_have_the_headers_function_counts() {
        let f = std::mem::size_of::<usize>();
        assert_eq!(std::mem::size_of::<OfxPropertySuiteV1>(), 18 * f);
        assert_eq!(std::mem::size_of::<OfxImageEffectSuiteV1>(), 13 * f);
        assert_eq!(std::mem::size_of::<OfxParameterSuiteV1>(), 18 * f);
        assert_eq!(std::mem::size_of::<OfxMemorySuiteV1>(), 2 * f);
        assert_eq!(std::mem::size_of::<OfxMultiThreadSuiteV1>(), 9 * f);
        assert_eq!(std::mem::size_of::<OfxMessageSuiteV2>(), 3 * f);
        assert_eq!(std::mem::size_of::<OfxHost>(), 2 * f);
        // pluginApi, apiVersion (+pad), identifier, two versions, two functions.
        assert_eq!(std::mem::size_of::<OfxPlugin>(), 6 * f);
        assert_eq!(std::mem::size_of::<OfxRectI>(), 16);
        assert_eq!(std::mem::size_of::<OfxRectD>(), 32);
    }
}
