//! Live objects of one kind, by address: a handle the plug-in passes back is
//! looked up here, never trusted, so a stale or forged handle gets
//! kOfxStatErrBadHandle rather than a crash in the host.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

pub struct Registry<T> {
    map: Mutex<Option<HashMap<usize, Arc<T>>>>,
}

impl<T> Registry<T> {
    pub const fn new() -> Self {
        Registry {
            map: Mutex::new(None),
        }
    }

    /// Registers `value`; its address is the handle.
    pub fn insert(&self, value: T) -> usize {
        let a = Arc::new(value);
        let key = Arc::as_ptr(&a) as usize;
        self.map
            .lock()
            .get_or_insert_with(HashMap::new)
            .insert(key, a);
        key
    }

    pub fn get(&self, key: usize) -> Option<Arc<T>> {
        self.map.lock().as_ref()?.get(&key).cloned()
    }

    pub fn remove(&self, key: usize) -> Option<Arc<T>> {
        self.map.lock().as_mut()?.remove(&key)
    }
}
