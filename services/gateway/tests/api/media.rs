//! Photos kept in an S3-compatible bucket: a real S3 API (moto's server,
//! started by the test) behind the same `Media` that `cogov up` points at
//! a folder.

use bytes::Bytes;
use cogov_gateway::media::{Kept, Media, Size};
use cogov_kit::testing::servers::TestS3;
use object_store::aws::AmazonS3Builder;

#[tokio::test]
async fn photos_are_kept_in_an_s3_bucket() {
    let Some(s3) = TestS3::start().await else {
        return;
    };
    s3.create_bucket("cogov-photos").await;
    let media = Media::in_s3(
        AmazonS3Builder::new()
            .with_endpoint(s3.endpoint())
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test"),
        "cogov-photos",
    )
    .unwrap();

    // A PNG screenshot: kept as a PNG, with a JPEG thumbnail.
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
        900,
        600,
        image::Rgb([200, 40, 40]),
    ))
    .write_to(&mut png, image::ImageFormat::Png)
    .unwrap();
    let kept = media.keep(Bytes::from(png.into_inner())).await.unwrap();
    assert_eq!(kept.content_type(), "image/png");
    assert_eq!(Kept::parse(&kept.uri()), Some(kept));

    let full = media.get(kept, Size::Full).await.unwrap().unwrap();
    let full = image::load_from_memory(&full).unwrap();
    assert_eq!((full.width(), full.height()), (900, 600));
    let thumb = media.get(kept, Size::Thumbnail).await.unwrap().unwrap();
    assert!(thumb.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG thumbnail");

    // A photo nobody kept is none, not an error.
    let missing = Kept::parse("cogov-media:01a23f6b-1116-7731-9448-eab52f848cbe.jpg").unwrap();
    assert!(media.get(missing, Size::Full).await.unwrap().is_none());

    // A refused photo puts nothing in the bucket.
    assert!(media.keep(Bytes::from_static(b"GIF89a")).await.is_err());
}
