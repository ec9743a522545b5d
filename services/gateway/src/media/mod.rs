//! Photos of issues and their resolutions: made safe ([`photo`]), kept in
//! an object store (a folder under the data directory for `cogov up`, any
//! S3-compatible store in production), and served back only through
//! short-lived signed links ([`links`]) that the gateway hands to callers
//! who could see the issue the photo belongs to.
//!
//! An issue names a kept photo as `cogov-media:{id}.{ext}` in its `media`;
//! the services store that string like any other URI. The upload door
//! ([`upload`]) takes a photo from any signed-in caller and answers that
//! name; the residents' app keeps the photos of a report the same way.

pub mod links;
pub mod photo;
pub mod received;
pub mod upload;

use std::path::Path as FsPath;
use std::sync::Arc;

use bytes::Bytes;
use cogov_kit::{Error, Result};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use uuid::Uuid;

use photo::{Bounds, Photo, Refusal};

/// The scheme of a kept photo's name in an issue's `media`.
pub const SCHEME: &str = "cogov-media:";

/// Where photos are kept, as configured.
#[derive(Clone)]
pub struct Media {
    store: Arc<dyn ObjectStore>,
    bounds: Bounds,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Media({})", self.store)
    }
}

/// A kept photo's name: its id and extension (`{id}.jpg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kept {
    /// Its id.
    pub id: Uuid,
    /// `jpg` or `png`.
    pub extension: &'static str,
}

impl Kept {
    /// `cogov-media:{id}.{ext}`, as an issue's media names it.
    pub fn uri(&self) -> String {
        format!("{SCHEME}{}.{}", self.id, self.extension)
    }

    /// The photo a `cogov-media:` URI names; `None` for any other URI.
    pub fn parse(uri: &str) -> Option<Kept> {
        Kept::from_file(uri.strip_prefix(SCHEME)?)
    }

    /// From `{id}.{ext}`.
    pub fn from_file(file: &str) -> Option<Kept> {
        let (id, extension) = file.split_once('.')?;
        let extension = match extension {
            "jpg" => "jpg",
            "png" => "png",
            _ => return None,
        };
        Some(Kept {
            id: Uuid::try_parse(id).ok()?,
            extension,
        })
    }

    /// Its content type.
    pub fn content_type(&self) -> &'static str {
        if self.extension == "png" {
            "image/png"
        } else {
            "image/jpeg"
        }
    }

    fn path(&self, size: Size) -> Path {
        match size {
            Size::Full => Path::from(format!("photos/{}.{}", self.id, self.extension)),
            Size::Thumbnail => Path::from(format!("photos/{}.thumb.jpg", self.id)),
        }
    }
}

/// Which of a photo's two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// The photo.
    Full,
    /// Its thumbnail (always a JPEG).
    Thumbnail,
}

impl Size {
    /// The word in a link.
    pub fn word(self) -> &'static str {
        match self {
            Size::Full => "full",
            Size::Thumbnail => "thumb",
        }
    }

    /// From the word in a link.
    pub fn from_word(word: &str) -> Option<Size> {
        match word {
            "full" => Some(Size::Full),
            "thumb" => Some(Size::Thumbnail),
            _ => None,
        }
    }
}

impl Media {
    /// Photos kept by `store`.
    pub fn new(store: Arc<dyn ObjectStore>) -> Media {
        Media {
            store,
            bounds: Bounds::default(),
        }
    }

    /// Photos in a folder (made if missing).
    pub fn in_folder(dir: &FsPath) -> Result<Media> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Internal(format!("making {}: {e}", dir.display())))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| Error::Internal(format!("photos in {}: {e}", dir.display())))?;
        Ok(Media::new(Arc::new(store)))
    }

    /// Photos in an S3-compatible bucket, the endpoint and credentials from
    /// the `AWS_*` variables (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ALLOW_HTTP`), as MinIO,
    /// Aliyun OSS and Tencent COS take them.
    pub fn in_bucket(bucket: &str) -> Result<Media> {
        Media::in_s3(object_store::aws::AmazonS3Builder::from_env(), bucket)
    }

    /// Photos in `bucket` of the S3-compatible store `builder` describes.
    pub fn in_s3(builder: object_store::aws::AmazonS3Builder, bucket: &str) -> Result<Media> {
        crate::outbound_tls();
        let store = builder
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| Error::Internal(format!("photos in bucket {bucket}: {e}")))?;
        Ok(Media::new(Arc::new(store)))
    }

    /// The store a setting names: `s3://bucket`, or a folder (`file://` or
    /// a plain path).
    pub fn from_setting(setting: &str) -> Result<Media> {
        match setting.strip_prefix("s3://") {
            Some(bucket) => Media::in_bucket(bucket.trim_end_matches('/')),
            None => Media::in_folder(FsPath::new(
                setting.strip_prefix("file://").unwrap_or(setting),
            )),
        }
    }

    /// Makes a submitted photo safe (off the async workers) and keeps it
    /// with its thumbnail.
    pub async fn keep(&self, submitted: Bytes) -> std::result::Result<Kept, KeepError> {
        let bounds = self.bounds;
        let photo = tokio::task::spawn_blocking(move || photo::process(&submitted, bounds))
            .await
            .map_err(|e| KeepError::Store(Error::Internal(format!("photo task: {e}"))))?
            .map_err(KeepError::Refused)?;
        self.put(&photo).await.map_err(KeepError::Store)
    }

    async fn put(&self, photo: &Photo) -> Result<Kept> {
        let kept = Kept {
            id: cogov_kit::names::new_id(),
            extension: photo.extension,
        };
        let store = |e: object_store::Error| Error::Internal(format!("keeping a photo: {e}"));
        self.store
            .put(
                &kept.path(Size::Thumbnail),
                PutPayload::from(photo.thumbnail.clone()),
            )
            .await
            .map_err(store)?;
        self.store
            .put(
                &kept.path(Size::Full),
                PutPayload::from(photo.bytes.clone()),
            )
            .await
            .map_err(store)?;
        Ok(kept)
    }

    /// A kept photo's bytes; `None` when there is none.
    pub async fn get(&self, kept: Kept, size: Size) -> Result<Option<Bytes>> {
        match self.store.get(&kept.path(size)).await {
            Ok(got) => {
                Ok(Some(got.bytes().await.map_err(|e| {
                    Error::Internal(format!("reading a photo: {e}"))
                })?))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::Internal(format!("reading a photo: {e}"))),
        }
    }
}

/// Why a photo was not kept.
#[derive(Debug)]
pub enum KeepError {
    /// The photo itself was refused.
    Refused(Refusal),
    /// The store failed.
    Store(Error),
}

impl From<KeepError> for Error {
    fn from(e: KeepError) -> Error {
        match e {
            KeepError::Refused(r) => Error::invalid("photo", format!("{r} ({})", r.reason())),
            KeepError::Store(e) => e,
        }
    }
}
