//! Opaque handles for C APIs (ours, and the OpenFX test host's). A handle is a
//! key the registry hands out with the object it holds; a call looks the key up
//! (under the registry's lock) and works on its own clone of the `Arc`. So a
//! value the other side passes back is never dereferenced: a freed, forged or
//! wrong-kind handle is simply not found, and freeing a handle while another
//! thread works with it is safe (the object lives until that work returns).
//!
//! Keys are never reused: they come from one process-wide counter (shared by
//! every registry, so a key of one kind is never live in another), scrambled by
//! an odd multiplier (a bijection, so distinct counts give distinct keys) so
//! that they look nothing like small integers or real addresses a confused host
//! might pass. An address would be reused by the allocator, and a stale handle
//! would then find the next object.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Keys handed out so far, in every registry.
static ISSUED: AtomicUsize = AtomicUsize::new(0);

/// An odd constant (the 64-bit golden ratio, cut to the pointer width): the key
/// of count `n` is `n * SCRAMBLE`, which is 0 only for `n` = 0.
const SCRAMBLE: usize = 0x9E37_79B9_7F4A_7C15_u64 as usize;

/// A key no handle has had before: not 0, so never a null pointer. (With 64-bit
/// keys the counter cannot wrap; on a 32-bit target it could after 2^32
/// handles, and then a key still live is skipped.)
fn fresh_key(live: &HashMap<usize, impl Sized>) -> usize {
    loop {
        let n = ISSUED.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        let key = n.wrapping_mul(SCRAMBLE);
        if key != 0 && !live.contains_key(&key) {
            return key;
        }
    }
}

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
    /// An empty registry (usable in a `static`).
    pub const fn new() -> Self {
        Registry {
            map: Mutex::new(None),
        }
    }

    /// Registers `value`; the returned key is its handle, never 0 and never one
    /// any registry has handed out before.
    pub fn insert(&self, value: T) -> usize {
        let mut map = self.map.lock();
        let map = map.get_or_insert_with(HashMap::new);
        let key = fresh_key(map);
        map.insert(key, Arc::new(value));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_keys_never_come_back() {
        let reg = Registry::<u64>::new();
        let mut seen = std::collections::HashSet::new();
        for i in 0..1000 {
            let k = reg.insert(i);
            assert_ne!(k, 0);
            assert!(seen.insert(k), "key {k:#x} handed out twice");
            assert_eq!(reg.remove(k).as_deref(), Some(&i));
            assert!(reg.get(k).is_none(), "a freed key is still live");
        }
    }

    #[test]
    fn a_key_of_one_registry_is_not_live_in_another() {
        let (a, b) = (Registry::<u8>::new(), Registry::<u8>::new());
        let ka = a.insert(1);
        let kb = b.insert(2);
        assert_ne!(ka, kb);
        assert!(b.get(ka).is_none() && a.get(kb).is_none());
        assert!(a.remove(kb).is_none());
        assert_eq!(a.get(ka).as_deref(), Some(&1));
    }

    #[test]
    fn an_object_outlives_its_handle_while_in_use() {
        let reg = Registry::<String>::new();
        let k = reg.insert("engine".into());
        let in_use = reg.get(k).unwrap();
        assert!(reg.remove(k).is_some());
        assert_eq!(*in_use, "engine");
        assert!(reg.get(k).is_none());
    }
}
