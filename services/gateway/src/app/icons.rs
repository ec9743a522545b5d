//! The app's icons: small inline SVG line drawings in the text's colour.
//! Emoji would be lighter still, but older phones draw them as empty boxes.
//! Each is decoration beside its words, hidden from screen readers.

/// The icon `name` as markup (empty for an unknown name).
pub fn icon(name: &str) -> &'static str {
    macro_rules! svg {
        ($paths:literal) => {
            concat!(
                r#"<svg class="i" aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">"#,
                $paths,
                "</svg>"
            )
        };
    }
    match name {
        "home" => svg!(r#"<path d="M3 11l9-7 9 7"/><path d="M5 10v10h5v-6h4v6h5V10"/>"#),
        "report" => svg!(r#"<path d="M3 10v4h3l7 5V5L6 10z"/><path d="M17 9a4 4 0 0 1 0 6"/>"#),
        "reports" => svg!(
            r#"<rect x="5" y="3" width="14" height="18" rx="2"/><path d="M9 8h6M9 12h6M9 16h4"/>"#
        ),
        "activities" => svg!(
            r#"<rect x="3" y="5" width="18" height="16" rx="2"/><path d="M3 10h18M8 3v4M16 3v4"/>"#
        ),
        "council" => svg!(
            r#"<circle cx="8" cy="8" r="3"/><circle cx="16" cy="8" r="3"/><path d="M2 20c0-3 3-5 6-5s6 2 6 5M14 15c3 0 8 1 8 5"/>"#
        ),
        "inbox" => {
            svg!(r#"<path d="M6 16V11a6 6 0 0 1 12 0v5l2 2H4z"/><path d="M10 20a2 2 0 0 0 4 0"/>"#)
        }
        "me" => svg!(r#"<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4 4-6 8-6s8 2 8 6"/>"#),
        "environment" => svg!(r#"<path d="M14 3l-4 10M6 13h10l2 8H4z"/>"#),
        "parking_traffic" => svg!(
            r#"<path d="M5 16l1-5 2-4h8l2 4 1 5z"/><circle cx="8" cy="17" r="2"/><circle cx="16" cy="17" r="2"/>"#
        ),
        "infrastructure" => svg!(r#"<path d="M14 6a4 4 0 0 0 5 5l-9 9-3-3 9-9"/>"#),
        "safety" => svg!(r#"<path d="M12 3l8 3v6c0 5-4 8-8 9-4-1-8-4-8-9V6z"/>"#),
        "services" => svg!(r#"<path d="M4 12l4-4 4 3 4-3 4 4-8 8z"/>"#),
        "pin" => svg!(
            r#"<path d="M12 21s-7-6-7-11a7 7 0 0 1 14 0c0 5-7 11-7 11z"/><circle cx="12" cy="10" r="2.5"/>"#
        ),
        "ok" => svg!(r#"<path d="M5 12l5 5 9-10"/>"#),
        "warn" => svg!(r#"<path d="M12 3l10 18H2z"/><path d="M12 10v5M12 18v0"/>"#),
        _ => "",
    }
}
