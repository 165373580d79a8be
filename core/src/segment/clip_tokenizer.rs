//! CLIP's byte-level BPE tokenizer, as the text-prompted segmenter (CLIPSeg) needs
//! it: the `vocab.json` and `merges.txt` files of a Hugging Face CLIP tokenizer.
//!
//! The text is cleaned as Hugging Face's `CLIPTokenizer` does without `ftfy`
//! (control characters dropped, whitespace collapsed, CJK characters split, NFC,
//! lower case), split with CLIP's word pattern, each word's UTF-8 bytes mapped to
//! printable characters, then merged pair by pair in merge-rank order with `</w>`
//! marking the word's end. The fixture tests compare the ids with Python's
//! `CLIPTokenizer` on the real CLIP vocabulary.

use parking_lot::Mutex;
use regex::Regex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use unicode_normalization::UnicodeNormalization;

/// Start and end markers of every sequence.
pub const START: &str = "<|startoftext|>";
pub const END: &str = "<|endoftext|>";
/// CLIP's text context length.
pub const CONTEXT: usize = 77;

/// Errors reading a tokenizer.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a CLIP tokenizer file: {reason}")]
    Format { path: PathBuf, reason: String },
}

/// Token ids of a batch of texts, padded to the longest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    /// `[batch, length]`, row-major.
    pub ids: Vec<i64>,
    /// 1 for real tokens, 0 for padding.
    pub attention: Vec<i64>,
    pub batch: usize,
    pub length: usize,
}

/// A loaded tokenizer.
pub struct ClipTokenizer {
    vocab: HashMap<String, i64>,
    ranks: HashMap<(String, String), usize>,
    byte_chars: [char; 256],
    pattern: Regex,
    start: i64,
    end: i64,
    cache: Mutex<HashMap<String, Vec<i64>>>,
}

impl std::fmt::Debug for ClipTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipTokenizer")
            .field("vocab", &self.vocab.len())
            .field("merges", &self.ranks.len())
            .finish()
    }
}

/// GPT-2's reversible map from bytes to printable characters: printable Latin-1
/// bytes map to themselves, the rest to code points from 256 on.
fn byte_chars() -> [char; 256] {
    let printable = |b: u32| {
        (b'!' as u32..=b'~' as u32).contains(&b)
            || (0xA1..=0xAC).contains(&b)
            || (0xAE..=0xFF).contains(&b)
    };
    let mut out = ['\0'; 256];
    let mut next = 256u32;
    for (b, slot) in out.iter_mut().enumerate() {
        let b = b as u32;
        let code = if printable(b) {
            b
        } else {
            next += 1;
            next - 1
        };
        *slot = char::from_u32(code).unwrap_or('?');
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F
        | 0x2B820..=0x2CEAF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
}

/// Control and format characters Hugging Face's cleaning drops (tab and newlines
/// are whitespace instead).
fn is_dropped(c: char) -> bool {
    c == '\0'
        || c == '\u{FFFD}'
        || (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c as u32, 0xAD | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0xFEFF)
}

/// The cleaned, lower-cased text the word pattern runs over.
pub fn clean(text: &str) -> String {
    let mut spaced = String::with_capacity(text.len());
    for c in text.chars() {
        if is_dropped(c) {
            continue;
        }
        if is_cjk(c) {
            spaced.push(' ');
            spaced.push(c);
            spaced.push(' ');
        } else if c.is_whitespace() {
            spaced.push(' ');
        } else {
            spaced.push(c);
        }
    }
    let nfc: String = spaced.nfc().collect();
    nfc.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

impl ClipTokenizer {
    /// Reads `vocab.json` (token -> id) and `merges.txt` (one "a b" pair per line,
    /// after an optional `#version` line).
    pub fn open(vocab: &Path, merges: &Path) -> Result<Self, TokenizerError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| TokenizerError::Io {
                path: p.to_path_buf(),
                source,
            })
        };
        let format = |p: &Path, reason: String| TokenizerError::Format {
            path: p.to_path_buf(),
            reason,
        };
        let vocab_map: HashMap<String, i64> =
            serde_json::from_str(&read(vocab)?).map_err(|e| format(vocab, e.to_string()))?;
        let mut ranks = HashMap::new();
        for (n, line) in read(merges)?
            .lines()
            .filter(|l| !l.starts_with("#version") && !l.trim().is_empty())
            .enumerate()
        {
            let Some((a, b)) = line.split_once(' ') else {
                return Err(format(
                    merges,
                    format!("line {} is not a pair: {line:?}", n + 1),
                ));
            };
            ranks.entry((a.to_string(), b.to_string())).or_insert(n);
        }
        let id = |t: &str| {
            vocab_map
                .get(t)
                .copied()
                .ok_or_else(|| format(vocab, format!("no {t} token")))
        };
        let start = id(START)?;
        let end = id(END)?;
        let pattern = Regex::new(
            r"(?i)<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+",
        )
        .map_err(|e| format(vocab, e.to_string()))?;
        Ok(ClipTokenizer {
            vocab: vocab_map,
            ranks,
            byte_chars: byte_chars(),
            pattern,
            start,
            end,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Id of the end marker, which also pads.
    pub fn end_id(&self) -> i64 {
        self.end
    }

    /// The BPE ids of `text` without start and end markers.
    pub fn tokens(&self, text: &str) -> Vec<i64> {
        let cleaned = clean(text);
        let mut ids = Vec::new();
        for word in self.pattern.find_iter(&cleaned) {
            let word = word.as_str();
            if let Some(cached) = self.cache.lock().get(word) {
                ids.extend_from_slice(cached);
                continue;
            }
            let mapped: String = word.bytes().map(|b| self.byte_chars[b as usize]).collect();
            let word_ids: Vec<i64> = self
                .bpe(&mapped)
                .iter()
                // Every single byte character is in the vocabulary with and without
                // `</w>`, so a miss means a broken vocabulary: skip the piece.
                .filter_map(|piece| self.vocab.get(piece).copied())
                .collect();
            let mut cache = self.cache.lock();
            if cache.len() < 10_000 {
                cache.insert(word.to_string(), word_ids.clone());
            }
            ids.extend(word_ids);
        }
        ids
    }

    fn bpe(&self, word: &str) -> Vec<String> {
        if word == START || word == END {
            return vec![word.to_string()];
        }
        let chars: Vec<char> = word.chars().collect();
        let mut parts: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
        if let Some(last) = parts.last_mut() {
            last.push_str("</w>");
        }
        loop {
            let best = parts
                .windows(2)
                .filter_map(|p| self.ranks.get(&(p[0].clone(), p[1].clone())))
                .min()
                .copied();
            let Some(rank) = best else { break };
            let mut merged = Vec::with_capacity(parts.len());
            let mut i = 0;
            while i < parts.len() {
                if i + 1 < parts.len()
                    && self.ranks.get(&(parts[i].clone(), parts[i + 1].clone())) == Some(&rank)
                {
                    merged.push(format!("{}{}", parts[i], parts[i + 1]));
                    i += 2;
                } else {
                    merged.push(parts[i].clone());
                    i += 1;
                }
            }
            parts = merged;
            if parts.len() == 1 {
                break;
            }
        }
        parts
    }

    /// Start marker, at most `CONTEXT - 2` tokens of each text, end marker; padded
    /// with the end marker to the longest text of the batch.
    pub fn encode_batch(&self, texts: &[&str]) -> Encoding {
        let seqs: Vec<Vec<i64>> = texts
            .iter()
            .map(|t| {
                let mut ids = vec![self.start];
                ids.extend(self.tokens(t).into_iter().take(CONTEXT - 2));
                ids.push(self.end);
                ids
            })
            .collect();
        let length = seqs.iter().map(Vec::len).max().unwrap_or(2);
        let mut ids = Vec::with_capacity(seqs.len() * length);
        let mut attention = Vec::with_capacity(seqs.len() * length);
        for s in &seqs {
            ids.extend_from_slice(s);
            ids.extend(std::iter::repeat_n(self.end, length - s.len()));
            attention.extend(std::iter::repeat_n(1, s.len()));
            attention.extend(std::iter::repeat_n(0, length - s.len()));
        }
        Encoding {
            ids,
            attention,
            batch: seqs.len(),
            length,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_map_is_a_bijection_onto_printables() {
        let m = byte_chars();
        assert_eq!(m[b'a' as usize], 'a');
        assert_eq!(m[b' ' as usize], '\u{120}');
        let mut seen: Vec<char> = m.to_vec();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 256);
    }

    #[test]
    fn cleaning_collapses_space_and_lowers() {
        assert_eq!(clean("  The\tRed\u{200B} CAR\n"), "the red car");
        assert_eq!(clean("山川"), "山 川");
        assert_eq!(clean("Cafe\u{301}"), "café");
    }

    #[test]
    fn bpe_merges_in_rank_order() {
        let dir = tempfile::tempdir().unwrap();
        let vocab = dir.path().join("vocab.json");
        let merges = dir.path().join("merges.txt");
        std::fs::write(
            &vocab,
            r#"{"s":0,"k":1,"y":2,"y</w>":3,"sk":4,"sky</w>":5,"<|startoftext|>":6,"<|endoftext|>":7}"#,
        )
        .unwrap();
        std::fs::write(&merges, "#version: 0.2\ns k\nsk y</w>\n").unwrap();
        let t = ClipTokenizer::open(&vocab, &merges).unwrap();
        assert_eq!(t.tokens("Sky"), vec![5]);
        let e = t.encode_batch(&["sky", "sky sky"]);
        assert_eq!((e.batch, e.length), (2, 4));
        assert_eq!(e.ids, vec![6, 5, 7, 7, 6, 5, 5, 7]);
        assert_eq!(e.attention, vec![1, 1, 1, 0, 1, 1, 1, 1]);
    }

    #[test]
    fn broken_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let vocab = dir.path().join("vocab.json");
        let merges = dir.path().join("merges.txt");
        std::fs::write(&vocab, "{\"a\": 0}").unwrap();
        std::fs::write(&merges, "a b\n").unwrap();
        let e = ClipTokenizer::open(&vocab, &merges).unwrap_err();
        assert!(e.to_string().contains("no <|startoftext|> token"), "{e}");
        std::fs::write(&vocab, "not json").unwrap();
        assert!(ClipTokenizer::open(&vocab, &merges).is_err());
        std::fs::write(&vocab, r#"{"<|startoftext|>":0,"<|endoftext|>":1}"#).unwrap();
        std::fs::write(&merges, "ab\n").unwrap();
        let e = ClipTokenizer::open(&vocab, &merges).unwrap_err();
        assert!(e.to_string().contains("not a pair"), "{e}");
    }
}
