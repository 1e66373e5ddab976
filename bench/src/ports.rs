//! Ports for the servers the bench starts, chosen outside the kernel's
//! ephemeral range (`net.ipv4.ip_local_port_range`).
//!
//! A port from that range (what binding port 0 hands out) is free when
//! asked, but the kernel may hand it out again before the server binds it:
//! to another port-0 bind, or as the source port of a connection. `chat`
//! binds its three services' listeners to port 0 before it binds `PORT`.
//! After a scenario, the generator's sockets (bound to port 0 too) lie in
//! TIME_WAIT over blocks of the range, and the kernel's scan for a free
//! port then keeps landing on the same few: with 14,000 such sockets, a
//! port just released came back within the next four port-0 binds 1,220
//! times in 2,000 (2 in 2,000 with about 1,000 sockets in TIME_WAIT).
//! About one `chat` start in twelve after an idle scenario failed with
//! `cannot listen on 127.0.0.1:35449 (HOST/PORT): Address already in
//! use`. Outside the range only an explicit bind takes a port.

use std::ops::Range;
use std::sync::Mutex;

use crate::error::Error;

const RANGE_FILE: &str = "/proc/sys/net/ipv4/ip_local_port_range";
/// Linux's default ephemeral range, when the file cannot be read.
const DEFAULT_EPHEMERAL: (u16, u16) = (32768, 60999);
/// Below this, ports are left to well-known and registered services.
const LOWEST: u16 = 10_000;

/// The last port handed out: the next search starts after it, so this
/// process hands no port out twice (short of going round the whole range).
static LAST: Mutex<Option<u16>> = Mutex::new(None);

/// A loopback port no socket holds now, outside the ephemeral range, and
/// not one this process handed out before.
pub fn free_port() -> Result<u16, Error> {
    let range = usable(ephemeral());
    let span = range.end - range.start;
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    let mut port = last.unwrap_or_else(|| range.start + rand::random_range(0..span));
    for _ in 0..span {
        port = if port + 1 >= range.end {
            range.start
        } else {
            port + 1
        };
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            *last = Some(port);
            return Ok(port);
        }
    }
    Err(Error::Server(format!(
        "no free loopback port in {range:?}, outside the ephemeral range"
    )))
}

/// The kernel's ephemeral range, inclusive.
fn ephemeral() -> (u16, u16) {
    std::fs::read_to_string(RANGE_FILE)
        .ok()
        .and_then(|text| {
            let mut bounds = text.split_whitespace().map(str::parse::<u16>);
            Some((bounds.next()?.ok()?, bounds.next()?.ok()?))
        })
        .unwrap_or(DEFAULT_EPHEMERAL)
}

/// The larger of the ranges below and above the ephemeral one.
fn usable((low, high): (u16, u16)) -> Range<u16> {
    let below = LOWEST..low.max(LOWEST);
    let above = high.saturating_add(1).max(LOWEST)..u16::MAX;
    if below.len() >= above.len() {
        below
    } else {
        above
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_range_leaves_the_ports_below_it() {
        assert_eq!(usable((32768, 60999)), 10_000..32768);
    }

    #[test]
    fn a_range_starting_low_leaves_the_ports_above_it() {
        assert_eq!(usable((1024, 40000)), 40001..u16::MAX);
    }

    #[test]
    fn ports_come_from_outside_the_range_and_never_twice() {
        let range = usable(ephemeral());
        let a = free_port().unwrap();
        let b = free_port().unwrap();
        assert_ne!(a, b);
        assert!(range.contains(&a) && range.contains(&b));
    }
}
