//! Mobile numbers as people type them, in one canonical form: E.164
//! (`+8613812345678`). A number is how a resident signs in and how the
//! registry finds them, so every service compares numbers in this form.

/// Why a number was refused, for the caller's field violation.
pub const EXPECTED: &str =
    "a mainland mobile number (11 digits, 13x–19x) or an E.164 number (+ and 8 to 15 digits)";

/// `input` in E.164, or why not. Accepts a mainland mobile with or without
/// `+86`/`0086`/`86`, and any other country's number in E.164 (`+` or
/// `00` first); spaces, `-`, `.` and parentheses between digits are
/// ignored, and full-width digits (as Chinese input methods type them)
/// count as digits.
pub fn normalize(input: &str) -> Result<String, &'static str> {
    let halfwidth: String = input.chars().map(halfwidth).collect();
    let trimmed = halfwidth.trim();
    let (international, rest) = if let Some(rest) = trimmed.strip_prefix('+') {
        (true, rest)
    } else if let Some(rest) = trimmed.strip_prefix("00") {
        (true, rest)
    } else {
        (false, trimmed)
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(EXPECTED),
        }
    }
    if !international {
        return match digits.len() {
            11 if is_mainland_mobile(&digits) => Ok(format!("+86{digits}")),
            13 if digits.starts_with("86") && is_mainland_mobile(&digits[2..]) => {
                Ok(format!("+{digits}"))
            }
            _ => Err(EXPECTED),
        };
    }
    if let Some(national) = digits.strip_prefix("86") {
        // Mainland numbers that sign in are mobiles.
        return if is_mainland_mobile(national) {
            Ok(format!("+{digits}"))
        } else {
            Err(EXPECTED)
        };
    }
    if (8..=15).contains(&digits.len()) && !digits.starts_with('0') {
        Ok(format!("+{digits}"))
    } else {
        Err(EXPECTED)
    }
}

/// A full-width digit or plus sign as its ASCII twin.
fn halfwidth(c: char) -> char {
    match c {
        '\u{FF10}'..='\u{FF19}' => char::from(b'0' + (c as u32 - 0xFF10) as u8),
        '\u{FF0B}' => '+',
        other => other,
    }
}

/// `1[3-9]` and nine more digits.
fn is_mainland_mobile(digits: &str) -> bool {
    let b = digits.as_bytes();
    b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
}

/// The normalised form of a stored number, or empty when it is not one
/// (a landline typed by staff, say): such a record cannot sign in.
pub fn canonical_or_empty(input: &str) -> String {
    normalize(input).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainland_mobiles_in_every_spelling() {
        for input in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "+8613812345678",
            "008613812345678",
            "8613812345678",
            " (138) 1234-5678 ",
            "１３８１２３４５６７８",
            "＋８６ １３８ １２３４ ５６７８",
        ] {
            assert_eq!(normalize(input).as_deref(), Ok("+8613812345678"), "{input}");
        }
    }

    #[test]
    fn other_countries_in_e164() {
        assert_eq!(
            normalize("+44 20 7946 0958").as_deref(),
            Ok("+442079460958")
        );
        assert_eq!(normalize("+852 9123 4567").as_deref(), Ok("+85291234567"));
        assert_eq!(normalize("001 212 555 0100").as_deref(), Ok("+12125550100"));
    }

    #[test]
    fn everything_else_is_refused() {
        for input in [
            "",
            "+",
            "12345678901",       // 12x is no mobile prefix
            "23812345678",       // does not start with 1
            "1381234567",        // 10 digits
            "138123456789",      // 12 digits
            "010-12345678",      // a Beijing landline
            "+86 10 1234 5678",  // a landline with +86
            "+0123456789",       // no country code starts with 0
            "+1234567",          // 7 digits
            "+1234567890123456", // 16 digits
            "13812345678x",
            "١٣٨١٢٣٤٥٦٧٨", // other scripts' digits
            "138\u{0}12345678",
        ] {
            assert_eq!(normalize(input), Err(EXPECTED), "{input:?}");
        }
        assert_eq!(canonical_or_empty("010-12345678"), "");
    }
}
