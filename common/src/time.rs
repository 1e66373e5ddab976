//! Timestamps: protobuf `Timestamp` on the wire between services, Unix
//! milliseconds in stores, RFC 3339 with milliseconds in UTC for clients.

use prost_types::Timestamp;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn millis_to_timestamp(ms: i64) -> Timestamp {
    Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    }
}

pub fn timestamp_to_millis(ts: &Timestamp) -> i64 {
    ts.seconds * 1000 + i64::from(ts.nanos) / 1_000_000
}

/// `2026-11-26T18:00:00.123Z`: always UTC, always three fraction digits.
///
/// Written digit by digit: every message a client is sent carries one or
/// two of these, and `format!` cost 3k instructions each (callgrind).
pub fn millis_to_rfc3339(ms: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let Ok(year @ 0..=9999) = u32::try_from(dt.year()) else {
        return formatted(dt);
    };
    let mut out = String::with_capacity(24);
    let mut field = |n: u32, width: u32, after: char| {
        for place in (0..width).rev() {
            let digit = n / 10u32.pow(place) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
        out.push(after);
    };
    field(year, 4, '-');
    field(u32::from(u8::from(dt.month())), 2, '-');
    field(u32::from(dt.day()), 2, 'T');
    field(u32::from(dt.hour()), 2, ':');
    field(u32::from(dt.minute()), 2, ':');
    field(u32::from(dt.second()), 2, '.');
    field(u32::from(dt.millisecond()), 3, 'Z');
    out
}

/// The same text through `format!`, for years of more or fewer than four
/// digits.
fn formatted(dt: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.millisecond()
    )
}

pub fn timestamp_to_rfc3339(ts: &Timestamp) -> String {
    millis_to_rfc3339(timestamp_to_millis(ts))
}

/// Parses any RFC 3339 string to Unix milliseconds.
pub fn rfc3339_to_millis(s: &str) -> Option<i64> {
    let dt = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    Some((dt.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_millis_and_z() {
        assert_eq!(millis_to_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            millis_to_rfc3339(1_795_716_000_123),
            "2026-11-26T18:00:00.123Z"
        );
    }

    #[test]
    fn digit_by_digit_matches_format_across_the_years() {
        let mut ms: i64 = -62_167_219_200_000; // 0000-01-01
        let end: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999
        while ms <= end {
            let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
            assert_eq!(millis_to_rfc3339(ms), formatted(dt), "{ms}");
            ms += 7_777_777_777_777 / 1000 + 123;
        }
        assert_eq!(millis_to_rfc3339(end), "9999-12-31T23:59:59.999Z");
        // A year before 0 still gets the formatted text.
        let before = -62_167_219_200_001;
        let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(before) * 1_000_000).unwrap();
        assert_eq!(millis_to_rfc3339(before), formatted(dt));
    }

    #[test]
    fn round_trips_through_protobuf_and_text() {
        let ms = 1_795_716_000_123;
        assert_eq!(timestamp_to_millis(&millis_to_timestamp(ms)), ms);
        assert_eq!(rfc3339_to_millis(&millis_to_rfc3339(ms)), Some(ms));
        assert_eq!(timestamp_to_millis(&millis_to_timestamp(-1)), -1);
    }
}
