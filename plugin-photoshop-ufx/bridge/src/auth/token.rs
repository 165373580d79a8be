//! The bridge's token: 32 random bytes (base64url), stored in a file only its
//! owner can read (0600 on Unix). A file others can read is refused, not
//! silently fixed: the token may already have leaked.

use crate::error::BridgeError;
use base64::Engine as _;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use subtle::ConstantTimeEq;

/// The bridge's secret. Its `Debug` form is redacted so that it cannot reach a
/// log through `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct TokenFile {
    token: String,
    created: u64,
}

/// Random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], BridgeError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| BridgeError::Random(e.to_string()))?;
    Ok(b)
}

impl Token {
    /// A fresh random token.
    pub fn generate() -> Result<Token, BridgeError> {
        let bytes = random_bytes::<32>()?;
        Ok(Token(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        ))
    }

    /// True when `candidate` is this token, compared in constant time (the
    /// length is not secret: every token is 43 characters).
    pub fn matches(&self, candidate: &str) -> bool {
        self.0.as_bytes().ct_eq(candidate.as_bytes()).into()
    }

    /// The token's text: for the token file and the `paired` message only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads the token file at `path`, refusing one that others can read.
    pub fn load(path: &Path) -> Result<Token, BridgeError> {
        check_private(path)?;
        let text = std::fs::read_to_string(path).map_err(|e| BridgeError::io(path, e))?;
        let file: TokenFile = serde_json::from_str(&text).map_err(|e| BridgeError::TokenFile {
            path: path.to_path_buf(),
            reason: format!("{e}; delete it and pair the panel again"),
        })?;
        if file.token.len() < 32 {
            return Err(BridgeError::TokenFile {
                path: path.to_path_buf(),
                reason: "the token is too short; delete the file and pair the panel again".into(),
            });
        }
        Ok(Token(file.token))
    }

    /// Reads the token file, or creates it (and its folder) with a new token.
    pub fn load_or_create(path: &Path) -> Result<Token, BridgeError> {
        if path.exists() {
            return Token::load(path);
        }
        let token = Token::generate()?;
        write_private(path, &token)?;
        tracing::info!(path = %path.display(), "created the bridge's token file");
        Ok(token)
    }
}

/// `<config folder>/bridge-token.json` (`~/.config/pertouch/` on Linux,
/// `~/Library/Application Support/org.pertouch.pertouch/` on macOS,
/// `%APPDATA%\pertouch\pertouch\config\` on Windows).
pub fn default_token_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "pertouch", "pertouch")
        .map(|d| d.config_dir().join("bridge-token.json"))
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), BridgeError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| BridgeError::io(path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(BridgeError::TokenFile {
            path: path.to_path_buf(),
            reason: format!(
                "other users can read it (mode {mode:o}); run `chmod 600 {}`, or delete it and pair the panel again",
                path.display()
            ),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), BridgeError> {
    // Windows: the file lives in the user's profile, whose ACL is private.
    Ok(())
}

/// Writes the token file atomically, private from its first byte.
fn write_private(path: &Path, token: &Token) -> Result<(), BridgeError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| BridgeError::io(&dir, e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".bridge-token").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut tmp = builder
        .tempfile_in(&dir)
        .map_err(|e| BridgeError::io(&dir, e))?;
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let body = serde_json::to_string_pretty(&TokenFile {
        token: token.0.clone(),
        created,
    })
    .map_err(|e| BridgeError::TokenFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    tmp.write_all(body.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| BridgeError::io(tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| BridgeError::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/bridge-token.json");
        let t = Token::load_or_create(&path).unwrap();
        assert_eq!(t.expose().len(), 43);
        assert_eq!(Token::load_or_create(&path).unwrap(), t);
        assert!(t.matches(t.expose()));
        assert!(!t.matches(&t.expose()[1..]));
        assert!(!t.matches(""));
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = Token::load(&path).unwrap_err().to_string();
            assert!(e.contains("chmod 600"), "{e}");
        }
    }

    #[test]
    fn a_broken_file_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        std::fs::write(&path, "not json").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let e = Token::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("t.json") && e.contains("pair the panel again"),
            "{e}"
        );
    }
}
