//! The app's small rules, as plain functions tested without a browser.

use api::auth::Requirement;

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

/// A `data:` URL so the codes download without any script. Written out: the `percent-encoding`
/// crate added 0.7 KB to the gzipped download for these few lines.
pub fn text_download_href(text: &str) -> String {
    let mut href = String::from("data:text/plain;charset=utf-8,");
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => href.push(b as char),
            _ => href.push_str(&format!("%{b:02X}")),
        }
    }
    href
}

/// The UTC date and time of epoch seconds (the epoch itself if out of range).
fn utc(epoch: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(epoch).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Epoch seconds of midnight UTC on `yyyy-mm-dd` (an `<input type=date>` value); `None` for
/// anything that is not a day of the calendar.
pub fn parse_date(value: &str) -> Option<i64> {
    let mut parts = value.split('-');
    let (y, m, d): (i32, u8, u8) =
        (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    if parts.next().is_some() {
        return None;
    }
    let date = time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

/// `yyyy-mm-dd` for an `<input type=date>`.
pub fn date_input_value(epoch: i64) -> String {
    let date = utc(epoch).date();
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `28 Dec 2026`, for "Activate Later is possible until ...".
pub fn format_date(epoch: i64) -> String {
    let date = utc(epoch).date();
    format!("{} {} {}", date.day(), MONTHS[usize::from(u8::from(date.month())) - 1], date.year())
}

/// `28 Nov 2026, 22:53 UTC`, for when a session started.
pub fn format_time(epoch: i64) -> String {
    let at = utc(epoch);
    format!("{}, {:02}:{:02} UTC", format_date(epoch), at.hour(), at.minute())
}

/// The prompt's text, in the announcement's words.
pub fn prompt_text(deferral_allowed: bool, deferral_until: Option<i64>) -> String {
    if !deferral_allowed {
        return "Two-Factor Authentication (2FA) is now required to use Take Control and Remote Background Management. Activate 2FA to continue.".into();
    }
    let mut text = String::from(
        "Soon you will be required to use Two-Factor Authentication (2FA) when logging into the Dashboard in order to use Take Control and Remote Background Management. Enable 2FA now or, if not convenient, defer it to another time that suits you better.",
    );
    // `until` is the first moment 2FA is required: 00:00 UTC of that day.
    if let Some(until) = deferral_until {
        text.push_str(&format!(
            " You can choose Activate Later until the end of {} (UTC).",
            format_date(until - 1)
        ));
    }
    text
}

/// What the dashboard says to a user without active 2FA about Take Control and RBM.
pub fn dashboard_2fa_text(rule: Requirement) -> String {
    match rule {
        Requirement::Met => String::new(),
        Requirement::Recommended => "Protect your login with two-factor authentication: it will soon be required for Take Control and Remote Background Management.".into(),
        Requirement::RequiredFrom(from) => format!(
            "Protect your login with two-factor authentication: it is required for Take Control and Remote Background Management from {} (00:00 UTC).",
            format_date(from.seconds())
        ),
        Requirement::Required => "Two-factor authentication is now required for Take Control and Remote Background Management. Set it up to start these sessions.".into(),
    }
}

/// How long the IP-verification waiting screen waits before asking again, after waiting
/// `previous_ms`: 2 s at first, then half as long again each time, at most 15 s. The link is
/// usually opened within a minute, and a login that waits two hours asks about 500 times instead
/// of 3,600.
pub fn next_poll_ms(previous_ms: Option<u32>) -> u32 {
    match previous_ms {
        None => 2_000,
        Some(ms) => (ms + ms / 2).min(15_000),
    }
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
    fn dates_and_times_in_utc() {
        assert_eq!(format_date(0), "1 Jan 1970");
        assert_eq!(format_date(1_798_416_000), "28 Dec 2026");
        assert_eq!(format_time(1_795_906_380), "28 Nov 2026, 22:53 UTC");
    }

    #[test]
    fn date_inputs_round_trip() {
        assert_eq!(parse_date("2026-12-28"), Some(1_798_416_000));
        assert_eq!(date_input_value(1_798_416_000), "2026-12-28");
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("2026-02-31"), None);
        assert_eq!(parse_date("2028-02-29"), Some(1_835_395_200));
        assert_eq!(parse_date("soon"), None);
    }

    #[test]
    fn the_prompt_says_how_long_deferral_remains() {
        // Required from 28 Dec 2026, 00:00 UTC: the last day to choose later is the 27th.
        assert!(
            prompt_text(true, Some(1_798_416_000))
                .ends_with("Activate Later until the end of 27 Dec 2026 (UTC).")
        );
        assert!(prompt_text(true, None).contains("defer it to another time that suits you better."));
        assert!(prompt_text(false, None).starts_with("Two-Factor Authentication (2FA) is now required"));
    }

    #[test]
    fn the_dashboard_says_whether_2fa_is_required_yet() {
        use Requirement::*;
        assert!(dashboard_2fa_text(Recommended).contains("it will soon be required"));
        assert!(
            dashboard_2fa_text(RequiredFrom(domain::UnixTime(1_798_416_000)))
                .ends_with("from 28 Dec 2026 (00:00 UTC).")
        );
        assert!(dashboard_2fa_text(Required).starts_with("Two-factor authentication is now required"));
    }

    #[test]
    fn download_href_escapes_everything_but_safe_characters() {
        assert_eq!(text_download_href("A b\n"), "data:text/plain;charset=utf-8,A%20b%0A");
    }

    #[test]
    fn the_waiting_screen_asks_less_and_less_often() {
        let mut delays = vec![next_poll_ms(None)];
        for _ in 0..8 {
            delays.push(next_poll_ms(delays.last().copied()));
        }
        assert_eq!(delays[..5], [2_000, 3_000, 4_500, 6_750, 10_125]);
        assert!(delays[5..].iter().all(|&d| d == 15_000));
    }
}
