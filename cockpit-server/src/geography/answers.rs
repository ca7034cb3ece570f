//! Big answers built from one geography (the region layers, the point and area layers),
//! kept with it: serialised once, compressed once with gzip and brotli, and named by a
//! hash of their JSON.
//! They live in the `Geography` they were built from, and an edit replaces the whole
//! `Geography`, so a changed city can never be answered from the old one's bytes.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

/// One answer in its three encodings, with the tag of its JSON.
#[derive(Debug)]
pub struct EncodedAnswer {
    /// The JSON itself.
    pub json: Bytes,
    /// The JSON compressed with gzip.
    pub gzip: Bytes,
    /// The JSON compressed with brotli.
    pub br: Bytes,
    /// 32 hex digits of the SHA-256 of `json`: equal on every instance for equal JSON.
    pub tag: String,
}

impl EncodedAnswer {
    /// Encodes `json` (gzip at level 9, brotli at quality 9 with a 4 MiB window: near the
    /// smallest either makes, in well under a second for the largest layer).
    pub fn new(json: Vec<u8>) -> EncodedAnswer {
        let tag = hex::encode(&Sha256::digest(&json)[..16]);
        let mut gzip = flate2::write::GzEncoder::new(Vec::with_capacity(json.len() / 8), flate2::Compression::best());
        // Writing to a Vec cannot fail.
        let gzip = gzip.write_all(&json).and_then(|()| gzip.finish()).unwrap_or_default();
        let mut br = Vec::with_capacity(json.len() / 8);
        let params = brotli::enc::BrotliEncoderParams { quality: 9, lgwin: 22, ..Default::default() };
        if brotli::BrotliCompress(&mut &json[..], &mut br, &params).is_err() {
            br.clear();
        }
        EncodedAnswer { json: json.into(), gzip: gzip.into(), br: br.into(), tag }
    }
}

/// The answers built so far from one geography, by key (`regions:grid:`, `layer:cameras`).
/// Keys are bounded by the geography itself: the callers build them from a level or layer
/// and a code that exists.
#[derive(Default)]
pub struct Answers {
    // std Mutex: held only to find or insert a cell, never across an await.
    cells: Mutex<HashMap<String, Arc<OnceCell<Arc<EncodedAnswer>>>>>,
}

impl Answers {
    /// The answer under `key`, built by `build` (on a blocking thread) the first time it is
    /// asked for; callers that ask while it is being built wait for that one build. The
    /// caller checks its parameters first: a build cannot fail, only panic (the error).
    pub async fn get_or_build(
        &self,
        key: &str,
        build: impl FnOnce() -> Vec<u8> + Send + 'static,
    ) -> Result<Arc<EncodedAnswer>, tokio::task::JoinError> {
        let cell = {
            let mut cells = match self.cells.lock() {
                Ok(cells) => cells,
                Err(poisoned) => poisoned.into_inner(),
            };
            cells.entry(key.to_string()).or_default().clone()
        };
        cell.get_or_try_init(|| async {
            tokio::task::spawn_blocking(move || Arc::new(EncodedAnswer::new(build()))).await
        })
        .await
        .cloned()
    }

    /// How many answers are built or being built.
    pub fn len(&self) -> usize {
        self.cells.lock().map_or(0, |cells| cells.len())
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn the_encodings_decode_to_the_json_and_the_tag_follows_the_content() {
        let json = br#"{"type":"FeatureCollection","features":[]}"#.repeat(100);
        let a = EncodedAnswer::new(json.clone());
        let mut gunzipped = Vec::new();
        flate2::read::GzDecoder::new(&a.gzip[..]).read_to_end(&mut gunzipped).unwrap();
        let mut unbrotlied = Vec::new();
        brotli::Decompressor::new(&a.br[..], 4096).read_to_end(&mut unbrotlied).unwrap();
        assert_eq!(gunzipped, json);
        assert_eq!(unbrotlied, json);
        assert!(a.gzip.len() < json.len() / 10 && a.br.len() < json.len() / 10);
        assert_eq!(a.tag, EncodedAnswer::new(json.clone()).tag);
        assert_ne!(a.tag, EncodedAnswer::new(b"{}".to_vec()).tag);
    }

    #[tokio::test]
    async fn an_answer_is_built_once_per_key() {
        let answers = Answers::default();
        let built = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for _ in 0..3 {
            let built = built.clone();
            let a = answers
                .get_or_build("k", move || {
                    built.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    b"[1]".to_vec()
                })
                .await
                .unwrap();
            assert_eq!(&a.json[..], b"[1]");
        }
        assert_eq!(built.load(std::sync::atomic::Ordering::SeqCst), 1);
        let panicked = answers.get_or_build("bad", || panic!("a builder that panics")).await;
        assert!(panicked.is_err());
        assert_eq!(&answers.get_or_build("other", || b"[2]".to_vec()).await.unwrap().json[..], b"[2]");
        assert_eq!(answers.len(), 3);
    }
}
