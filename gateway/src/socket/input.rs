//! Reading event payloads: shape checks and the input limits, all answered
//! with `INVALID_INPUT` before anything else happens.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::config::Limits;
use crate::error::Error;

use super::rooms::{GENERAL, RoomName};

/// The fields of an object payload.
pub struct Input<'a>(&'a Map<String, Value>);

impl<'a> Input<'a> {
    pub fn new(v: &'a Value) -> Result<Self, Error> {
        v.as_object()
            .map(Input)
            .ok_or_else(|| Error::InvalidInput("The payload must be an object".into()))
    }

    /// A field that is absent or `null` reads as `None`.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Error::InvalidInput(format!("'{key}' must be a string"))),
        }
    }

    pub fn str(&self, key: &str) -> Result<&'a str, Error> {
        self.opt_str(key)?
            .ok_or_else(|| Error::InvalidInput(format!("'{key}' is required")))
    }

    /// A required, non-empty id.
    pub fn id(&self, key: &str) -> Result<&'a str, Error> {
        match self.opt_id(key)? {
            Some(id) => Ok(id),
            None => Err(Error::InvalidInput(format!("'{key}' is required"))),
        }
    }

    pub fn opt_id(&self, key: &str) -> Result<Option<&'a str>, Error> {
        match self.opt_str(key)? {
            Some(s) if s.is_empty() || s.len() > 128 => {
                Err(Error::InvalidInput(format!("'{key}' is not a valid id")))
            }
            other => Ok(other),
        }
    }

    pub fn bool(&self, key: &str) -> Result<bool, Error> {
        match self.get(key) {
            Some(Value::Bool(b)) => Ok(*b),
            None => Err(Error::InvalidInput(format!("'{key}' is required"))),
            Some(_) => Err(Error::InvalidInput(format!(
                "'{key}' must be true or false"
            ))),
        }
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Error::InvalidInput(format!(
                "'{key}' must be true or false"
            ))),
        }
    }

    pub fn room(&self) -> Result<RoomName, Error> {
        RoomName::parse(self.str("room")?)
    }

    /// `room`, defaulting to `general` (the tutorial's `sendMessage`).
    pub fn room_or_general(&self) -> Result<RoomName, Error> {
        RoomName::parse(self.opt_str("room")?.unwrap_or(GENERAL))
    }

    /// A page size: `history_max` at most, `history_default` when absent.
    pub fn limit(&self, limits: &Limits) -> Result<u32, Error> {
        let bad = || {
            Error::InvalidInput(format!(
                "'limit' must be a whole number from 1 to {}",
                limits.history_max
            ))
        };
        match self.get("limit") {
            None => Ok(limits.history_default.clamp(1, limits.history_max.max(1))),
            Some(v) => {
                let n = v.as_u64().or_else(|| {
                    v.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                        .map(|f| f as u64)
                });
                match n {
                    Some(n) if n >= 1 && n <= u64::from(limits.history_max) => Ok(n as u32),
                    _ => Err(bad()),
                }
            }
        }
    }

    /// Message content, trimmed, 1 to `max` code points.
    pub fn content(&self, key: &str, max: usize) -> Result<String, Error> {
        content(self.str(key)?, max)
    }

    /// A list of ids (e.g. attachments), duplicates dropped; linear in the
    /// ids sent, however many a client sends.
    pub fn ids(&self, key: &str, max: usize) -> Result<Vec<String>, Error> {
        let Some(v) = self.get(key) else {
            return Ok(Vec::new());
        };
        let list = v
            .as_array()
            .ok_or_else(|| Error::InvalidInput(format!("'{key}' must be a list of ids")))?;
        let mut seen: HashSet<&str> = HashSet::new();
        let mut out: Vec<String> = Vec::new();
        for item in list {
            match item.as_str() {
                Some(s) if !s.is_empty() && s.len() <= 128 => {
                    if seen.insert(s) {
                        if out.len() == max {
                            return Err(too_many(key, max));
                        }
                        out.push(s.to_string());
                    }
                }
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "'{key}' must be a list of ids"
                    )));
                }
            }
        }
        Ok(out)
    }
}

fn too_many(key: &str, max: usize) -> Error {
    Error::InvalidInput(format!("At most {max} entries are allowed in '{key}'"))
}

/// The shared content rule (`chat_common::text`): trimmed, 1 to `max`
/// Unicode code points.
pub fn content(raw: &str, max: usize) -> Result<String, Error> {
    chat_common::text::message_content(raw, max)
        .map(str::to_owned)
        .map_err(|e| Error::InvalidInput(e.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn only_objects_are_payloads() {
        for v in [
            json!(null),
            json!("general"),
            json!(3),
            json!([{"room": "x"}]),
        ] {
            assert!(Input::new(&v).is_err(), "{v}");
        }
        assert!(Input::new(&json!({})).is_ok());
    }

    #[test]
    fn strings_and_types_are_checked() {
        let v = json!({"a": "x", "n": 5, "z": null, "b": true, "e": ""});
        let i = Input::new(&v).unwrap();
        assert_eq!(i.str("a").unwrap(), "x");
        assert!(i.str("n").is_err());
        assert!(i.str("missing").is_err());
        assert_eq!(i.opt_str("z").unwrap(), None);
        assert!(i.bool("b").unwrap());
        assert!(i.bool("a").is_err());
        assert!(i.id("e").is_err());
    }

    #[test]
    fn limit_defaults_and_bounds() {
        let l = limits();
        let lim = |v: Value| Input::new(&v).unwrap().limit(&l);
        assert_eq!(lim(json!({})).unwrap(), 50);
        assert_eq!(lim(json!({"limit": null})).unwrap(), 50);
        assert_eq!(lim(json!({"limit": 1})).unwrap(), 1);
        assert_eq!(lim(json!({"limit": 200})).unwrap(), 200);
        assert_eq!(lim(json!({"limit": 7.0})).unwrap(), 7);
        for bad in [
            json!(0),
            json!(201),
            json!(-1),
            json!(2.5),
            json!("10"),
            json!(true),
        ] {
            assert!(lim(json!({ "limit": bad })).is_err(), "{bad}");
        }
    }

    #[test]
    fn content_is_trimmed_and_counted_in_code_points() {
        assert_eq!(content("  hi \n", 10).unwrap(), "hi");
        assert!(content(" \t\n ", 10).is_err());
        assert!(content("", 10).is_err());
        assert_eq!(content(&"é".repeat(10), 10).unwrap().chars().count(), 10);
        assert!(content(&"é".repeat(11), 10).is_err());
        assert!(content(&format!("  {}  ", "x".repeat(10)), 10).is_ok());
    }

    #[test]
    fn id_lists_are_deduplicated_and_bounded() {
        let v = json!({"a": ["x", "y", "x"], "bad": [1], "s": "x"});
        let i = Input::new(&v).unwrap();
        assert_eq!(i.ids("a", 10).unwrap(), ["x", "y"]);
        assert!(i.ids("a", 1).is_err());
        assert!(i.ids("bad", 10).is_err());
        assert!(i.ids("s", 10).is_err());
        assert!(i.ids("missing", 10).unwrap().is_empty());
    }

    #[test]
    fn room_defaults_to_general_only_where_allowed() {
        let v = json!({});
        let i = Input::new(&v).unwrap();
        assert_eq!(
            i.room_or_general().unwrap(),
            RoomName::Public("general".into())
        );
        assert!(i.room().is_err());
    }
}
