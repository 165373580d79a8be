//! Who may use the bridge: a random token kept in a private file, handed to a
//! panel once through a short one-time pairing code, and compared in constant
//! time. Neither the token nor a code is ever written to the logs.

pub mod pairing;
pub mod token;

pub use pairing::{PairOutcome, Pairing, PairingPolicy};
pub use token::{default_token_path, Token};
