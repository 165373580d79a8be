//! Opaque handles for C APIs (ours, and the OpenFX test host's). A handle is the
//! address of an `Arc` the registry holds while the handle lives; a call looks the
//! address up (under the registry's lock) and works on its own clone of the `Arc`.
//! So a pointer the other side passes back is never dereferenced: a freed, forged
//! or wrong-kind handle is simply not found, and freeing a handle while another
//! thread works with it is safe (the object lives until that work returns).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// Live handles of one kind.
pub struct Registry<T> {
    map: Mutex<Option<HashMap<usize, Arc<T>>>>,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Registry<T> {
    pub const fn new() -> Self {
        Registry {
            map: Mutex::new(None),
        }
    }

    /// Registers `value`; the returned address is its handle.
    pub fn insert(&self, value: T) -> usize {
        let a = Arc::new(value);
        let key = Arc::as_ptr(&a) as usize;
        self.map
            .lock()
            .get_or_insert_with(HashMap::new)
            .insert(key, a);
        key
    }

    /// The object behind a live handle.
    pub fn get(&self, key: usize) -> Option<Arc<T>> {
        self.map.lock().as_ref()?.get(&key).cloned()
    }

    /// Ends a handle, giving its object back; `None` if it was not live.
    pub fn remove(&self, key: usize) -> Option<Arc<T>> {
        self.map.lock().as_mut()?.remove(&key)
    }
}
