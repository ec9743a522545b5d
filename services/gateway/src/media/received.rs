//! Reading an upload's bytes with a bound that still lets the sender hear
//! why it was refused. A server that stops reading and closes while the
//! body is still coming makes the kernel reset the connection, and the
//! answer in flight is lost: the resident sees "network error" instead of
//! "the photo is too large". So past a photo's bound the rest is read and
//! dropped (never held), up to [`DRAIN_LIMIT`] for the whole request.

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};

use super::photo::{Bounds, Refusal};

/// The most a photo upload's request is read, refused or not; beyond it the
/// connection is cut as before.
pub const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// A photo's bytes from an upload: within [`Bounds`]' byte limit, or
/// refused as too large once the rest has been read and dropped.
pub async fn photo<S, E>(stream: S) -> Result<Result<Bytes, Refusal>, E>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let bounds = Bounds::default();
    Ok(up_to(stream, bounds.max_bytes)
        .await?
        .ok_or_else(|| bounds.too_large()))
}

/// Collects `stream` up to `max` bytes; past that, drains it to its end
/// and answers `None`.
async fn up_to<S, E>(stream: S, max: usize) -> Result<Option<Bytes>, E>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let mut stream = std::pin::pin!(stream);
    let mut kept = Some(BytesMut::new());
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if let Some(held) = &mut kept {
            if held.len() + chunk.len() > max {
                kept = None;
            } else {
                held.extend_from_slice(&chunk);
            }
        }
    }
    Ok(kept.map(BytesMut::freeze))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(sizes: &[usize]) -> impl Stream<Item = Result<Bytes, ()>> {
        let v: Vec<Result<Bytes, ()>> = sizes
            .iter()
            .map(|n| Ok(Bytes::from(vec![7u8; *n])))
            .collect();
        futures_util::stream::iter(v)
    }

    #[tokio::test]
    async fn within_the_bound_it_is_kept_whole() {
        let got = up_to(chunks(&[3, 4, 3]), 10).await.unwrap();
        assert_eq!(got, Some(Bytes::from(vec![7u8; 10])));
    }

    #[tokio::test]
    async fn past_the_bound_the_rest_is_read_and_dropped() {
        let drained = std::sync::atomic::AtomicUsize::new(0);
        let counted = chunks(&[6, 6, 6]).inspect(|_| {
            drained.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(up_to(counted, 10).await.unwrap(), None);
        assert_eq!(drained.into_inner(), 3, "read to its end");
    }

    #[tokio::test]
    async fn a_broken_stream_is_an_error() {
        let broken = futures_util::stream::iter(vec![Ok(Bytes::from_static(b"ab")), Err("cut")]);
        assert_eq!(up_to(broken, 10).await, Err("cut"));
    }
}
