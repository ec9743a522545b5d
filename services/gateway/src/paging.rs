//! Reading a whole listing from a service, page by page, for the gateway's
//! HTTP doors (Open311, the console).

/// The items of a listing, following `next_page_token` from the first page,
/// until the last page or at least `cap` items.
pub async fn every_page<T, Page>(
    cap: usize,
    mut page: impl FnMut(String) -> Page,
) -> Result<Vec<T>, tonic::Status>
where
    Page: Future<Output = Result<(Vec<T>, String), tonic::Status>>,
{
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let (items, next) = page(token).await?;
        all.extend(items);
        if next.is_empty() || all.len() >= cap {
            return Ok(all);
        }
        token = next;
    }
}
