//! The limits on what a person may register with (PROTOCOL.md, "Limits").

use crate::error::Error;

pub use chat_common::names::{USERNAME_MAX, USERNAME_MIN};
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

/// The shared username rule (`chat_common::names`), as this service's error.
pub fn validate_username(name: &str) -> Result<(), Error> {
    if !chat_common::names::is_username(name) {
        return Err(Error::InvalidArgument(format!(
            "Username must be {USERNAME_MIN}-{USERNAME_MAX} characters of letters, digits, '_', '.' or '-'"
        )));
    }
    Ok(())
}

/// Counts characters, not bytes, so non-ASCII passphrases get the same limits.
pub fn validate_password(password: &str) -> Result<(), Error> {
    let len = password.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&len) {
        return Err(Error::InvalidArgument(format!(
            "Password must be {PASSWORD_MIN}-{PASSWORD_MAX} characters long"
        )));
    }
    Ok(())
}

/// The key that makes names unique ignoring case.
pub fn username_key(name: &str) -> String {
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["abc", "Alice_01", "a.b-c", &"x".repeat(32)] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ab",
            &"x".repeat(33),
            "has space",
            "émile",
            "a/b",
            "ab\n",
        ] {
            let err = validate_username(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{bad}");
        }
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password("1234567").is_err());
        assert!(validate_password(&"p".repeat(128)).is_ok());
        assert!(validate_password(&"p".repeat(129)).is_err());
        // 8 characters, 16 bytes.
        assert!(validate_password("éééééééé").is_ok());
        // 128 characters, 256 bytes: still allowed.
        assert!(validate_password(&"é".repeat(128)).is_ok());
        assert!(validate_password(&"é".repeat(129)).is_err());
        // 4 characters but 16 bytes: too short.
        assert!(validate_password("😀😀😀😀").is_err());
    }

    #[test]
    fn key_ignores_case() {
        assert_eq!(username_key("Alice"), username_key("aLICE"));
    }

    /// Property-based fuzzing of what `Register` reads from a client
    /// (`PROPTEST_CASES` inputs; `scripts/fuzz` runs a million).
    mod fuzz {
        use super::super::*;
        use proptest::prelude::*;

        fn name() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<String>(),
                "[A-Za-z0-9_.\\-]{0,40}",
                "[A-Za-z0-9_.éİß -]{0,40}",
            ]
        }

        proptest! {
            #[test]
            fn fuzz_registration(username in name(), password in any::<String>()) {
                let ok = validate_username(&username).is_ok();
                // The gateway's rule (chat_common::names) and this one agree.
                prop_assert_eq!(ok, chat_common::names::is_username(&username));
                if ok {
                    prop_assert_eq!(username_key(&username), username.to_ascii_lowercase());
                }
                let n = password.chars().count();
                prop_assert_eq!(
                    validate_password(&password).is_ok(),
                    (PASSWORD_MIN..=PASSWORD_MAX).contains(&n)
                );
            }
        }
    }
}
