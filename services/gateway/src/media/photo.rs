//! A submitted photo made safe to keep and show: the kind told from its
//! bytes (never from its name or the browser's word), its size and pixels
//! bounded before anything is decoded, turned the way the camera held it,
//! and encoded again from its pixels. What is kept is only what we encoded:
//! no EXIF (so no GPS position), no comment, nothing appended after the
//! image (so no polyglot), and a thumbnail beside it.

use cogov_kit::ErrorReason;
use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// What a photo may be.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Bytes as submitted.
    pub max_bytes: usize,
    /// Width × height.
    pub max_pixels: u64,
}

impl Bounds {
    /// The refusal of a photo over the byte limit.
    pub fn too_large(&self) -> Refusal {
        Refusal::TooLarge {
            max_mib: self.max_bytes / (1024 * 1024),
        }
    }
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_bytes: 10 * 1024 * 1024,
            max_pixels: 40_000_000,
        }
    }
}

/// Why a photo was refused; each says what to do in its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Nothing was sent.
    #[error("the file is empty")]
    Empty,
    /// Over the byte limit.
    #[error("the file is larger than {max_mib} MB")]
    TooLarge {
        /// The limit, in MiB.
        max_mib: usize,
    },
    /// Not a JPEG, PNG or WebP by its bytes.
    #[error("not a photo: send a JPEG, PNG or WebP image")]
    NotAPhoto,
    /// A HEIC photo (iPhones' own format), which the server cannot read.
    #[error(
        "HEIC photos cannot be read here: choose JPEG (“Most Compatible”) or send a screenshot"
    )]
    Heic,
    /// More pixels than allowed (a decompression bomb looks like this).
    #[error("the image has more than {max_megapixels} million pixels")]
    TooManyPixels {
        /// The limit, in millions.
        max_megapixels: u64,
    },
    /// Its header or data is broken.
    #[error("the image is damaged and cannot be read")]
    Unreadable,
}

impl Refusal {
    /// The stable reason, for the upload's answer and the pages' words.
    pub fn reason(&self) -> &'static str {
        self.reason_code().as_str_name()
    }

    /// The stable reason, as the catalog's value.
    pub fn reason_code(&self) -> ErrorReason {
        match self {
            Refusal::Empty => ErrorReason::PhotoEmpty,
            Refusal::TooLarge { .. } => ErrorReason::PhotoTooLarge,
            Refusal::NotAPhoto => ErrorReason::PhotoNotAnImage,
            Refusal::Heic => ErrorReason::PhotoHeic,
            Refusal::TooManyPixels { .. } => ErrorReason::PhotoTooManyPixels,
            Refusal::Unreadable => ErrorReason::PhotoUnreadable,
        }
    }
}

/// A photo as kept.
#[derive(Debug, Clone)]
pub struct Photo {
    /// `image/jpeg` or `image/png`.
    pub content_type: &'static str,
    /// The file's extension for that type.
    pub extension: &'static str,
    /// The image, encoded again.
    pub bytes: Vec<u8>,
    /// A JPEG at most [`THUMBNAIL_SIDE`] on its longer side.
    pub thumbnail: Vec<u8>,
    /// Its size after turning.
    pub width: u32,
    /// Its size after turning.
    pub height: u32,
}

/// The longer side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 480;
const JPEG_QUALITY: u8 = 82;
const THUMBNAIL_QUALITY: u8 = 72;

/// The kind of image `bytes` start like.
fn sniff(bytes: &[u8]) -> Result<ImageFormat, Refusal> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Ok(ImageFormat::Jpeg),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Ok(ImageFormat::Png),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Ok(ImageFormat::WebP),
        [_, _, _, _, b'f', b't', b'y', b'p', brand @ ..]
            if [&b"heic"[..], b"heix", b"hevc", b"mif1", b"msf1"]
                .iter()
                .any(|b| brand.starts_with(b)) =>
        {
            Err(Refusal::Heic)
        }
        _ => Err(Refusal::NotAPhoto),
    }
}

/// Checks, turns and encodes again a submitted photo. CPU-bound: call it
/// off the async workers.
pub fn process(bytes: &[u8], bounds: Bounds) -> Result<Photo, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if bytes.len() > bounds.max_bytes {
        return Err(bounds.too_large());
    }
    let format = sniff(bytes)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    // Each side at most the whole budget; the product is checked below
    // from the header, before a pixel is decoded.
    let side = u32::try_from(bounds.max_pixels).unwrap_or(u32::MAX);
    limits.max_image_width = Some(side);
    limits.max_image_height = Some(side);
    limits.max_alloc = Some(bounds.max_pixels.saturating_mul(4) + 64 * 1024 * 1024);
    reader.limits(limits);
    let too_many = Refusal::TooManyPixels {
        max_megapixels: bounds.max_pixels / 1_000_000,
    };
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => too_many.clone(),
        _ => Refusal::Unreadable,
    })?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > bounds.max_pixels {
        return Err(too_many);
    }
    let orientation = decoder.orientation().map_err(|_| Refusal::Unreadable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => too_many.clone(),
        _ => Refusal::Unreadable,
    })?;
    image.apply_orientation(orientation);
    let (content_type, extension, bytes) = if format == ImageFormat::Png {
        ("image/png", "png", encode(&image, ImageFormat::Png)?)
    } else {
        ("image/jpeg", "jpg", jpeg(&image, JPEG_QUALITY)?)
    };
    let thumbnail = jpeg(
        &image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE),
        THUMBNAIL_QUALITY,
    )?;
    Ok(Photo {
        content_type,
        extension,
        bytes,
        thumbnail,
        width: image.width(),
        height: image.height(),
    })
}

fn jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&rgb)
        .map_err(|_| Refusal::Unreadable)?;
    Ok(out)
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Result<Vec<u8>, Refusal> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, format)
        .map_err(|_| Refusal::Unreadable)?;
    Ok(out.into_inner())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small JPEG photo, as a camera would send it, with an EXIF block
    /// holding a GPS position after its start.
    pub fn camera_jpeg() -> Vec<u8> {
        let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(64, 48, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 5) as u8, 128])
        }));
        let plain = jpeg(&image, 90).unwrap();
        let payload = b"Exif\0\0GPSLatitude 39.8841 N GPSLongitude 116.3652 E";
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        app1.extend_from_slice(payload);
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&app1);
        out.extend_from_slice(&plain[2..]);
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// A PNG whose header claims `w` × `h` pixels but holds a tiny image:
    /// what a decompression bomb looks like from its header.
    pub fn bomb_png(w: u32, h: u32) -> Vec<u8> {
        let small = encode(
            &DynamicImage::ImageLuma8(image::GrayImage::new(1, 1)),
            ImageFormat::Png,
        )
        .unwrap();
        let mut out = small.clone();
        // Signature (8), IHDR length (4), "IHDR" (4), then width, height.
        out[16..20].copy_from_slice(&w.to_be_bytes());
        out[20..24].copy_from_slice(&h.to_be_bytes());
        let crc = crc32(&out[12..29]);
        out[29..33].copy_from_slice(&crc.to_be_bytes());
        out
    }

    #[test]
    fn a_camera_photo_is_kept_without_its_exif() {
        let sent = camera_jpeg();
        assert!(sent.windows(11).any(|w| w == b"GPSLatitude"));
        let photo = process(&sent, Bounds::default()).unwrap();
        assert_eq!(photo.content_type, "image/jpeg");
        assert_eq!((photo.width, photo.height), (64, 48));
        for kept in [&photo.bytes, &photo.thumbnail] {
            assert!(!kept.windows(4).any(|w| w == b"Exif"), "no EXIF kept");
            assert!(!kept.windows(3).any(|w| w == b"GPS"));
            assert_eq!(sniff(kept).unwrap(), ImageFormat::Jpeg);
        }
    }

    #[test]
    fn what_is_not_a_photo_is_refused() {
        let script = b"<script>alert(1)</script>".to_vec();
        assert_eq!(
            process(&script, Bounds::default()).unwrap_err(),
            Refusal::NotAPhoto
        );
        assert_eq!(process(&[], Bounds::default()).unwrap_err(), Refusal::Empty);
        let mut heic = vec![0, 0, 0, 24];
        heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
        assert_eq!(
            process(&heic, Bounds::default()).unwrap_err(),
            Refusal::Heic
        );
        // A JPEG's start on anything else is no JPEG.
        let mut fake = vec![0xFF, 0xD8, 0xFF, 0xE0];
        fake.extend_from_slice(b"#!/bin/sh\nrm -rf /\n");
        assert_eq!(
            process(&fake, Bounds::default()).unwrap_err(),
            Refusal::Unreadable
        );
    }

    #[test]
    fn size_and_pixels_are_bounded_before_decoding() {
        let big = vec![0xFFu8; 11 * 1024 * 1024];
        assert_eq!(
            process(&big, Bounds::default()).unwrap_err(),
            Refusal::TooLarge { max_mib: 10 }
        );
        let bomb = bomb_png(100_000, 100_000);
        assert!(bomb.len() < 200, "a few bytes claim 10 gigapixels");
        assert_eq!(
            process(&bomb, Bounds::default()).unwrap_err(),
            Refusal::TooManyPixels { max_megapixels: 40 }
        );
    }

    #[test]
    fn a_polyglot_keeps_only_its_image() {
        let mut polyglot = camera_jpeg();
        polyglot.extend_from_slice(b"PK\x03\x04<html><script>steal()</script></html>");
        let photo = process(&polyglot, Bounds::default()).unwrap();
        assert!(!photo.bytes.windows(6).any(|w| w == b"script"));
        assert!(!photo.bytes.windows(2).any(|w| w == b"PK"));
    }

    #[test]
    fn a_png_stays_a_png_with_a_jpeg_thumbnail() {
        let png = encode(
            &DynamicImage::ImageRgba8(image::RgbaImage::new(1000, 500)),
            ImageFormat::Png,
        )
        .unwrap();
        let photo = process(&png, Bounds::default()).unwrap();
        assert_eq!(photo.content_type, "image/png");
        let thumb = image::load_from_memory(&photo.thumbnail).unwrap();
        assert_eq!(
            (thumb.width(), thumb.height()),
            (THUMBNAIL_SIDE, THUMBNAIL_SIDE / 2)
        );
    }
}
