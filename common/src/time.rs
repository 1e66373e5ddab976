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
pub fn millis_to_rfc3339(ms: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
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
    fn round_trips_through_protobuf_and_text() {
        let ms = 1_795_716_000_123;
        assert_eq!(timestamp_to_millis(&millis_to_timestamp(ms)), ms);
        assert_eq!(rfc3339_to_millis(&millis_to_rfc3339(ms)), Some(ms));
        assert_eq!(timestamp_to_millis(&millis_to_timestamp(-1)), -1);
    }
}
