//! One-time pairing codes: 8 characters (Crockford base 32, shown `ABCD-EFGH`),
//! valid for a few minutes and for one use. Wrong codes are counted across all
//! connections; too many burn the code and lock pairing for a while, so a page or
//! process guessing codes gets a handful of tries per code, not millions.

use crate::error::BridgeError;
use parking_lot::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// Crockford's base 32: no I, L, O, U (easy to read aloud and to type).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LEN: usize = 8;

/// How long codes live and how guessing is limited.
#[derive(Debug, Clone, Copy)]
pub struct PairingPolicy {
    pub code_ttl: Duration,
    /// Wrong codes allowed before pairing locks.
    pub max_failures: u32,
    pub lockout: Duration,
}

impl Default for PairingPolicy {
    fn default() -> Self {
        PairingPolicy {
            code_ttl: Duration::from_secs(300),
            max_failures: 5,
            lockout: Duration::from_secs(60),
        }
    }
}

/// What a pairing attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairOutcome {
    Paired,
    /// Wrong, expired, already used, or no code issued.
    BadCode,
    /// Too many wrong codes: try again after this long.
    Locked(Duration),
}

struct State {
    code: Option<([u8; CODE_LEN], Instant)>,
    failures: u32,
    locked_until: Option<Instant>,
}

/// The bridge's pairing state (one per bridge, shared by every connection).
pub struct Pairing {
    policy: PairingPolicy,
    state: Mutex<State>,
}

/// A code typed by a person: upper case, separators dropped, the letters
/// Crockford reads as digits (O -> 0, I/L -> 1) mapped.
fn normalize(code: &str) -> Option<[u8; CODE_LEN]> {
    let mut out = [0u8; CODE_LEN];
    let mut n = 0;
    for c in code.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if n == CODE_LEN || !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out[n] = c as u8;
        n += 1;
    }
    (n == CODE_LEN).then_some(out)
}

impl Pairing {
    pub fn new(policy: PairingPolicy) -> Self {
        Pairing {
            policy,
            state: Mutex::new(State {
                code: None,
                failures: 0,
                locked_until: None,
            }),
        }
    }

    /// A new code, replacing any earlier one; issuing (which only the token's
    /// owner can do) also lifts a lockout.
    pub fn issue(&self) -> Result<String, BridgeError> {
        let random = super::token::random_bytes::<CODE_LEN>()?;
        let code = random.map(|b| ALPHABET[(b & 31) as usize]);
        let mut s = self.state.lock();
        s.code = Some((code, Instant::now() + self.policy.code_ttl));
        s.failures = 0;
        s.locked_until = None;
        let text = String::from_utf8_lossy(&code).into_owned();
        Ok(format!("{}-{}", &text[..4], &text[4..]))
    }

    /// Seconds a freshly issued code stays valid.
    pub fn code_ttl(&self) -> Duration {
        self.policy.code_ttl
    }

    /// Checks `typed`: a match consumes the code.
    pub fn attempt(&self, typed: &str) -> PairOutcome {
        let now = Instant::now();
        let mut s = self.state.lock();
        if let Some(until) = s.locked_until {
            if now < until {
                return PairOutcome::Locked(until - now);
            }
            s.locked_until = None;
            s.failures = 0;
        }
        let ok = match (normalize(typed), s.code) {
            (Some(t), Some((code, expires))) => {
                // Compare before looking at the expiry so that timing says nothing.
                bool::from(t.ct_eq(&code)) && now < expires
            }
            _ => false,
        };
        if ok {
            s.code = None;
            s.failures = 0;
            return PairOutcome::Paired;
        }
        s.failures += 1;
        if s.failures >= self.policy.max_failures {
            s.code = None;
            s.locked_until = Some(now + self.policy.lockout);
            tracing::warn!(
                failures = s.failures,
                "too many wrong pairing codes: the code is void and pairing is locked for {} s",
                self.policy.lockout.as_secs()
            );
        }
        PairOutcome::BadCode
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_use_and_typed_loosely() {
        let p = Pairing::new(PairingPolicy::default());
        assert_eq!(p.attempt("ABCD-EFGH"), PairOutcome::BadCode);
        let code = p.issue().unwrap();
        assert_eq!(code.len(), 9);
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(p.attempt(&typed), PairOutcome::Paired);
        assert_eq!(p.attempt(&code), PairOutcome::BadCode);
    }

    #[test]
    fn expires() {
        let p = Pairing::new(PairingPolicy {
            code_ttl: Duration::from_millis(1),
            ..PairingPolicy::default()
        });
        let code = p.issue().unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(p.attempt(&code), PairOutcome::BadCode);
    }

    #[test]
    fn locks_after_failures_and_burns_the_code() {
        let p = Pairing::new(PairingPolicy::default());
        let code = p.issue().unwrap();
        for _ in 0..5 {
            assert_eq!(p.attempt("0000-0000"), PairOutcome::BadCode);
        }
        assert!(matches!(p.attempt(&code), PairOutcome::Locked(_)));
        let again = p.issue().unwrap();
        assert_eq!(p.attempt(&again), PairOutcome::Paired);
    }

    #[test]
    fn normalizes_crockford() {
        assert_eq!(normalize("o1l0-abcd"), Some(*b"0110ABCD"));
        assert_eq!(normalize("ABCD-EFG"), None);
        assert_eq!(normalize("ABCD-EFGHJ"), None);
        assert_eq!(normalize("ABCD-EFGU"), None);
        assert_eq!(normalize("ÄBCD-EFGH"), None);
    }
}
