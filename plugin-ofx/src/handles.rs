//! Typed host handles. OpenFX hands out opaque pointers for effects, clips,
//! parameters, parameter sets and property sets; kept as bare addresses, a clip
//! handle could be passed where a parameter handle is expected and the host
//! would read it as the wrong object. [`HostPtr<T>`] is non-null and typed by the
//! opaque struct it points at, so each kind is its own type (nih-plug's
//! `ClapPtr<T>` is the model): a handle is made once, where the host gives it,
//! under an `unsafe` constructor whose contract says what the host promises.

use crate::abi::{
    OfxImageClipStruct, OfxImageEffectStruct, OfxParamSetStruct, OfxParamStruct,
    OfxPropertySetStruct,
};
use std::fmt;
use std::ptr::NonNull;

/// A non-null handle the host gave for an object of kind `T`.
pub struct HostPtr<T> {
    ptr: NonNull<T>,
}

impl<T> HostPtr<T> {
    /// A typed handle for `ptr`, or `None` when it is null.
    ///
    /// # Safety
    /// `ptr` is null or a handle of kind `T` that the host gave this plug-in, and
    /// the host keeps it valid for as long as the returned value is used: an
    /// action's arguments for that action, an instance's clips, parameters and
    /// property sets until `kOfxActionDestroyInstance`. The handle is only ever
    /// passed back to the host's suites, never dereferenced by the plug-in.
    pub unsafe fn new(ptr: *mut T) -> Option<Self> {
        NonNull::new(ptr).map(|ptr| HostPtr { ptr })
    }

    /// The raw handle, to pass back to the host.
    pub fn as_ptr(self) -> *mut T {
        self.ptr.as_ptr()
    }
}

impl<T> Clone for HostPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for HostPtr<T> {}

impl<T> PartialEq for HostPtr<T> {
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }
}
impl<T> Eq for HostPtr<T> {}

impl<T> fmt::Debug for HostPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({:p})", std::any::type_name::<T>(), self.ptr)
    }
}

// SAFETY: a handle is a token the host resolves; the plug-in never dereferences
// it. OpenFX lets a plug-in that declares full render thread safety use its
// handles on any thread (the host serialises what it must).
unsafe impl<T> Send for HostPtr<T> {}
// SAFETY: as above; a shared handle is only copied and passed back to the host.
unsafe impl<T> Sync for HostPtr<T> {}

/// An image effect: a descriptor during describe actions, else an instance.
pub type Effect = HostPtr<OfxImageEffectStruct>;
/// A clip of an instance (Source, Output, a mask input).
pub type Clip = HostPtr<OfxImageClipStruct>;
/// A parameter of an instance.
pub type Param = HostPtr<OfxParamStruct>;
/// A parameter set (a descriptor's or an instance's).
pub type ParamSet = HostPtr<OfxParamSetStruct>;
/// A property set (an effect's, a clip's, an image's, an action's arguments).
pub type PropSet = HostPtr<OfxPropertySetStruct>;
