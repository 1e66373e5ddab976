//! Typed reading of environment variables, shared by every crate's config.
//!
//! [`Vars`] wraps any name → value lookup: the process environment in
//! production, a fixed table ([`from_pairs`]) in tests. Every reader trims
//! the value and treats an unset, empty or all-blank variable as absent, so
//! `FOO=` in an env file means "use the default". A value that does not fit
//! becomes one [`InvalidVar`] naming the variable and the form it must take.

use std::collections::HashMap;
use std::fmt::Display;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

/// A variable whose value has the wrong form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} must be {expected}, got {value:?}")]
pub struct InvalidVar {
    pub name: String,
    /// The form the value must take, e.g. "a whole number from 1 to 65535".
    pub expected: String,
    /// The value as read, before trimming.
    pub value: String,
}

/// The unsigned integer types a variable may hold.
pub trait Number: FromStr + Copy + PartialOrd + Display {
    const ZERO: Self;
    const MAX: Self;
}

macro_rules! number {
    ($($t:ty),*) => {$(
        impl Number for $t {
            const ZERO: Self = 0;
            const MAX: Self = <$t>::MAX;
        }
    )*};
}
number!(u16, u32, u64, usize);

/// The default of [`Vars::shutdown_grace`].
pub const SHUTDOWN_GRACE_DEFAULT: Duration = Duration::from_secs(10);

/// Settings source: a lookup function and the typed readers over it.
pub struct Vars<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    pub fn new(lookup: F) -> Self {
        Vars { lookup }
    }

    /// The trimmed value, or `None` when unset or blank.
    pub fn string(&self, name: &str) -> Option<String> {
        self.raw(name).map(|v| v.trim().to_owned())
    }

    pub fn string_or(&self, name: &str, default: &str) -> String {
        self.string(name).unwrap_or_else(|| default.to_owned())
    }

    /// Any whole number `T` can hold, zero included.
    pub fn number_or<T: Number>(&self, name: &str, default: T) -> Result<T, InvalidVar> {
        self.read(name, default, number_form::<T>(false), |v| v.parse().ok())
    }

    /// A whole number of at least 1.
    pub fn positive_or<T: Number>(&self, name: &str, default: T) -> Result<T, InvalidVar> {
        self.read(name, default, number_form::<T>(true), |v| {
            v.parse().ok().filter(|n| *n > T::ZERO)
        })
    }

    /// `true`/`false`, also `1`/`0`, `yes`/`no` and `on`/`off`, in any case.
    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool, InvalidVar> {
        self.read(name, default, "true or false", |v| {
            match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Some(true),
                "0" | "false" | "no" | "off" => Some(false),
                _ => None,
            }
        })
    }

    /// A positive whole number of seconds.
    pub fn duration_secs_or(&self, name: &str, default: Duration) -> Result<Duration, InvalidVar> {
        self.read(name, default, "a positive whole number of seconds", |v| {
            positive_u64(v).map(Duration::from_secs)
        })
    }

    /// `SHUTDOWN_GRACE_SECS`: how long a process may take to stop once
    /// asked (SIGTERM/SIGINT) before it cuts off what is still running. One
    /// variable and one default for every component, so compose's
    /// `stop_grace_period` can match them all.
    pub fn shutdown_grace(&self) -> Result<Duration, InvalidVar> {
        self.duration_secs_or("SHUTDOWN_GRACE_SECS", SHUTDOWN_GRACE_DEFAULT)
    }

    /// A positive whole number of milliseconds.
    pub fn duration_ms_or(&self, name: &str, default: Duration) -> Result<Duration, InvalidVar> {
        self.read(
            name,
            default,
            "a positive whole number of milliseconds",
            |v| positive_u64(v).map(Duration::from_millis),
        )
    }

    /// `host:port` with an IP host, e.g. `127.0.0.1:50051` or `[::1]:50051`.
    pub fn socket_addr_or(
        &self,
        name: &str,
        default: SocketAddr,
    ) -> Result<SocketAddr, InvalidVar> {
        let form = format!("an address like {default}");
        self.read(name, default, form, |v| v.parse().ok())
    }

    /// An IPv4 or IPv6 address; IPv6 may come bracketed (`[::]`).
    pub fn ip_or(&self, name: &str, default: IpAddr) -> Result<IpAddr, InvalidVar> {
        self.read(name, default, "an IP address", |v| {
            let bare = v.strip_prefix('[').and_then(|v| v.strip_suffix(']'));
            bare.unwrap_or(v).parse().ok()
        })
    }

    /// One of a fixed set of words, in any case.
    pub fn choice_or<T: Copy>(
        &self,
        name: &str,
        choices: &[(&str, T)],
        default: T,
    ) -> Result<T, InvalidVar> {
        self.read(name, default, choice_form(choices), |v| {
            choices
                .iter()
                .find(|(word, _)| word.eq_ignore_ascii_case(v))
                .map(|(_, value)| *value)
        })
    }

    fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    fn read<T>(
        &self,
        name: &str,
        default: T,
        expected: impl Into<String>,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, InvalidVar> {
        let Some(value) = self.raw(name) else {
            return Ok(default);
        };
        parse(value.trim()).ok_or_else(|| InvalidVar {
            name: name.to_owned(),
            expected: expected.into(),
            value,
        })
    }
}

/// A fixed table standing in for the environment, so tests never touch the
/// process-wide one.
pub fn from_pairs(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let table: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| table.get(name).cloned()
}

fn positive_u64(v: &str) -> Option<u64> {
    v.parse().ok().filter(|n| *n > 0)
}

fn number_form<T: Number>(positive: bool) -> String {
    let min = if positive { 1 } else { 0 };
    format!("a whole number from {min} to {}", T::MAX)
}

fn choice_form<T>(choices: &[(&str, T)]) -> String {
    let words: Vec<&str> = choices.iter().map(|(word, _)| *word).collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => words.concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars<impl Fn(&str) -> Option<String>> {
        Vars::new(from_pairs(pairs))
    }

    #[test]
    fn strings_are_trimmed_and_blank_means_unset() {
        let v = vars(&[("A", "  x y "), ("EMPTY", ""), ("BLANK", " \t")]);
        assert_eq!(v.string("A").as_deref(), Some("x y"));
        assert_eq!(v.string("EMPTY"), None);
        assert_eq!(v.string("BLANK"), None);
        assert_eq!(v.string("UNSET"), None);
        assert_eq!(v.string_or("BLANK", "d"), "d");
        assert_eq!(v.string_or("A", "d"), "x y");
    }

    #[test]
    fn numbers_parse_default_and_name_the_variable_on_error() {
        let v = vars(&[
            ("PORT", " 6000 "),
            ("BAD", "abc"),
            ("BIG", "70000"),
            ("E", ""),
        ]);
        assert_eq!(v.number_or::<u16>("PORT", 5000), Ok(6000));
        assert_eq!(v.number_or::<u16>("UNSET", 5000), Ok(5000));
        assert_eq!(v.number_or::<u16>("E", 5000), Ok(5000));
        let err = v.number_or::<u16>("BAD", 5000).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"BAD must be a whole number from 0 to 65535, got "abc""#
        );
        assert!(v.number_or::<u16>("BIG", 1).is_err());
        assert_eq!(v.number_or::<u32>("BIG", 1), Ok(70_000));
    }

    #[test]
    fn positive_numbers_reject_zero_and_negatives() {
        let v = vars(&[("ZERO", "0"), ("NEG", "-1"), ("ONE", "1")]);
        assert_eq!(v.positive_or::<u32>("ONE", 9), Ok(1));
        assert_eq!(v.positive_or::<u32>("UNSET", 9), Ok(9));
        let err = v.positive_or::<u32>("ZERO", 9).unwrap_err();
        assert_eq!(err.expected, "a whole number from 1 to 4294967295");
        assert_eq!(err.value, "0");
        assert!(v.positive_or::<usize>("NEG", 9).is_err());
        assert_eq!(v.number_or::<u64>("ZERO", 9), Ok(0));
    }

    #[test]
    fn bools_accept_the_usual_spellings() {
        for (word, want) in [("TRUE", true), ("on", true), ("1", true), ("No", false)] {
            assert_eq!(vars(&[("B", word)]).bool_or("B", !want), Ok(want));
        }
        assert_eq!(vars(&[]).bool_or("B", true), Ok(true));
        let err = vars(&[("B", "maybe")]).bool_or("B", true).unwrap_err();
        assert_eq!(err.to_string(), r#"B must be true or false, got "maybe""#);
    }

    #[test]
    fn durations_must_be_positive() {
        let v = vars(&[("S", "60"), ("MS", "250"), ("ZERO", "0"), ("WORD", "soon")]);
        let d = Duration::from_secs(7);
        assert_eq!(v.duration_secs_or("S", d), Ok(Duration::from_secs(60)));
        assert_eq!(v.duration_ms_or("MS", d), Ok(Duration::from_millis(250)));
        assert_eq!(v.duration_secs_or("UNSET", d), Ok(d));
        assert!(v.duration_secs_or("ZERO", d).is_err());
        assert!(v.duration_ms_or("ZERO", d).is_err());
        let err = v.duration_secs_or("WORD", d).unwrap_err();
        assert!(
            err.to_string()
                .contains("WORD must be a positive whole number of seconds")
        );
    }

    #[test]
    fn addresses_parse_and_show_an_example_on_error() {
        let default = SocketAddr::from(([127, 0, 0, 1], 50051));
        let v = vars(&[("A", "0.0.0.0:9000"), ("BAD", "nowhere"), ("H", "[::]")]);
        assert_eq!(v.socket_addr_or("A", default).unwrap().port(), 9000);
        assert_eq!(v.socket_addr_or("UNSET", default), Ok(default));
        let err = v.socket_addr_or("BAD", default).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"BAD must be an address like 127.0.0.1:50051, got "nowhere""#
        );
        let any = IpAddr::from([0, 0, 0, 0]);
        assert_eq!(v.ip_or("H", any), Ok("::".parse().unwrap()));
        assert_eq!(v.ip_or("UNSET", any), Ok(any));
        assert!(v.ip_or("BAD", any).is_err());
    }

    #[test]
    fn choices_ignore_case_and_list_the_options() {
        let choices = [("json", 1), ("msgpack", 2)];
        let v = vars(&[("P", "MsgPack"), ("BAD", "xml")]);
        assert_eq!(v.choice_or("P", &choices, 1), Ok(2));
        assert_eq!(v.choice_or("UNSET", &choices, 1), Ok(1));
        let err = v.choice_or("BAD", &choices, 1).unwrap_err();
        assert_eq!(err.to_string(), r#"BAD must be json or msgpack, got "xml""#);
    }
}
