//! The optional suites of the test host: memory, multithread, message.

use super::params::{ofx_shim_message, ofx_shim_persistent_message};
use parking_lot::{Condvar, Mutex};
use pertouch_core::host::Registry;
use pertouch_ofx::abi::*;
use std::cell::Cell;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};

/// Messages posted by the plug-in: (type, text, persistent).
pub static MESSAGES: Mutex<Vec<(String, String, bool)>> = Mutex::new(Vec::new());

/// # Safety
/// `p` is null or a C string.
unsafe fn text(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: per the contract.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Called by the C shim with the formatted message.
pub unsafe extern "C" fn shim_message(
    _h: *mut c_void,
    kind: *const c_char,
    _id: *const c_char,
    msg: *const c_char,
    persistent: c_int,
) -> OfxStatus {
    // SAFETY: C strings from the shim (which formatted `msg`).
    let (kind, msg) = unsafe { (text(kind), text(msg)) };
    let mut m = MESSAGES.lock();
    if persistent != 0 {
        // A node has one persistent message: a new one replaces the old.
        m.retain(|x| !x.2);
    }
    m.push((kind, msg, persistent != 0));
    kOfxStatOK
}

unsafe extern "C" fn clear_persistent(_h: *mut c_void) -> OfxStatus {
    MESSAGES.lock().retain(|m| !m.2);
    kOfxStatOK
}

pub static MESSAGE_SUITE: OfxMessageSuiteV2 = OfxMessageSuiteV2 {
    message: Some(ofx_shim_message),
    setPersistentMessage: Some(ofx_shim_persistent_message),
    clearPersistentMessage: Some(clear_persistent),
};

static BLOCKS: Registry<Mutex<Vec<u64>>> = Registry::new();
static BLOCK_OF: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

unsafe extern "C" fn memory_alloc(_h: *mut c_void, n: usize, out: *mut *mut c_void) -> OfxStatus {
    if out.is_null() {
        return kOfxStatErrValue;
    }
    let key = BLOCKS.insert(Mutex::new(vec![0u64; n.div_ceil(8).max(1)]));
    let Some(block) = BLOCKS.get(key) else {
        return kOfxStatErrMemory;
    };
    let p = block.lock().as_mut_ptr() as usize;
    BLOCK_OF.lock().push((p, key));
    // SAFETY: writable out pointer; the block lives until memory_free.
    unsafe { *out = p as *mut c_void };
    kOfxStatOK
}

unsafe extern "C" fn memory_free(p: *mut c_void) -> OfxStatus {
    let mut list = BLOCK_OF.lock();
    match list.iter().position(|(a, _)| *a == p as usize) {
        Some(i) => {
            let (_, key) = list.remove(i);
            BLOCKS.remove(key);
            kOfxStatOK
        }
        None => kOfxStatErrBadHandle,
    }
}

pub static MEMORY_SUITE: OfxMemorySuiteV1 = OfxMemorySuiteV1 {
    memoryAlloc: Some(memory_alloc),
    memoryFree: Some(memory_free),
};

thread_local! {
    static THREAD_INDEX: Cell<Option<u32>> = const { Cell::new(None) };
}

struct SendPtr(*mut c_void);
// SAFETY: the plug-in's custom argument is shared with its own thread function,
// which is the plug-in's to make thread-safe (the OpenFX contract).
unsafe impl Send for SendPtr {}
// SAFETY: as above.
unsafe impl Sync for SendPtr {}

unsafe extern "C" fn multi_thread(
    f: OfxThreadFunctionV1,
    n: c_uint,
    arg: *mut c_void,
) -> OfxStatus {
    if THREAD_INDEX.with(|t| t.get()).is_some() {
        return kOfxStatErrExists;
    }
    let arg = SendPtr(arg);
    let arg = &arg;
    std::thread::scope(|s| {
        for i in 0..n {
            s.spawn(move || {
                THREAD_INDEX.with(|t| t.set(Some(i)));
                // SAFETY: the plug-in's function with its own argument.
                unsafe { f(i, n, arg.0) };
            });
        }
    });
    kOfxStatOK
}
unsafe extern "C" fn num_cpus(n: *mut c_uint) -> OfxStatus {
    if n.is_null() {
        return kOfxStatErrValue;
    }
    // SAFETY: writable out pointer.
    unsafe { *n = std::thread::available_parallelism().map_or(1, |n| n.get() as c_uint) };
    kOfxStatOK
}
unsafe extern "C" fn thread_index(i: *mut c_uint) -> OfxStatus {
    if i.is_null() {
        return kOfxStatErrValue;
    }
    // SAFETY: writable out pointer.
    unsafe { *i = THREAD_INDEX.with(|t| t.get()).unwrap_or(0) };
    kOfxStatOK
}
unsafe extern "C" fn is_spawned() -> c_int {
    THREAD_INDEX.with(|t| t.get()).is_some() as c_int
}

/// A counting lock: the count is how many holds are outstanding.
struct HostMutex {
    count: Mutex<i32>,
    free: Condvar,
}
static MUTEXES: Registry<HostMutex> = Registry::new();

unsafe extern "C" fn mutex_create(out: *mut OfxMutexHandle, count: c_int) -> OfxStatus {
    if out.is_null() {
        return kOfxStatErrValue;
    }
    let h = MUTEXES.insert(HostMutex {
        count: Mutex::new(count.max(0)),
        free: Condvar::new(),
    });
    // SAFETY: writable out pointer.
    unsafe { *out = h as OfxMutexHandle };
    kOfxStatOK
}
unsafe extern "C" fn mutex_destroy(m: OfxMutexHandle) -> OfxStatus {
    if MUTEXES.remove(m as usize).is_some() {
        kOfxStatOK
    } else {
        kOfxStatErrBadHandle
    }
}
unsafe extern "C" fn mutex_lock(m: OfxMutexHandle) -> OfxStatus {
    let Some(m) = MUTEXES.get(m as usize) else {
        return kOfxStatErrBadHandle;
    };
    let mut c = m.count.lock();
    while *c > 0 {
        m.free.wait(&mut c);
    }
    *c += 1;
    kOfxStatOK
}
unsafe extern "C" fn mutex_unlock(m: OfxMutexHandle) -> OfxStatus {
    let Some(m) = MUTEXES.get(m as usize) else {
        return kOfxStatErrBadHandle;
    };
    let mut c = m.count.lock();
    *c = (*c - 1).max(0);
    m.free.notify_one();
    kOfxStatOK
}
unsafe extern "C" fn mutex_try_lock(m: OfxMutexHandle) -> OfxStatus {
    let Some(m) = MUTEXES.get(m as usize) else {
        return kOfxStatErrBadHandle;
    };
    let mut c = m.count.lock();
    if *c > 0 {
        return kOfxStatFailed;
    }
    *c += 1;
    kOfxStatOK
}

pub static THREAD_SUITE: OfxMultiThreadSuiteV1 = OfxMultiThreadSuiteV1 {
    multiThread: Some(multi_thread),
    multiThreadNumCPUs: Some(num_cpus),
    multiThreadIndex: Some(thread_index),
    multiThreadIsSpawnedThread: Some(is_spawned),
    mutexCreate: Some(mutex_create),
    mutexDestroy: Some(mutex_destroy),
    mutexLock: Some(mutex_lock),
    mutexUnLock: Some(mutex_unlock),
    mutexTryLock: Some(mutex_try_lock),
};
