//! The app's small rules, as plain functions tested without a browser.

/// The recovery codes as a text file the user keeps.
pub fn recovery_codes_text(account_email: &str, codes: &[String]) -> String {
    let mut text = format!(
        "MSP Dashboard recovery codes for {account_email}\n\
         Each code works once, instead of a passcode from your authenticator app.\n\
         Keep them somewhere safe, away from your phone.\n\n"
    );
    for code in codes {
        text.push_str(code);
        text.push('\n');
    }
    text
}

/// A `data:` URL so the codes download without any script.
pub fn text_download_href(text: &str) -> String {
    let mut href = String::from("data:text/plain;charset=utf-8,");
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                href.push(b as char)
            }
            _ => href.push_str(&format!("%{b:02X}")),
        }
    }
    href
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_file_lists_every_code_once() {
        let codes = vec!["AAAA-BBBB-CCCC".to_owned(), "DDDD-EEEE-FFFF".to_owned()];
        let text = recovery_codes_text("sam@example.com", &codes);
        assert!(text.starts_with("MSP Dashboard recovery codes for sam@example.com"));
        assert!(text.ends_with("AAAA-BBBB-CCCC\nDDDD-EEEE-FFFF\n"));
    }

    #[test]
    fn download_href_escapes_everything_but_safe_characters() {
        assert_eq!(
            text_download_href("A b\n"),
            "data:text/plain;charset=utf-8,A%20b%0A"
        );
    }
}
