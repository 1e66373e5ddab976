//! A Socket.IO client for tests: events land in a queue the test awaits by
//! name, and acks come back as values.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use futures::FutureExt;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload, TransportType};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::STEP_TIMEOUT;

/// Queue names for the client-side lifecycle, which Socket.IO does not send
/// as events.
const CONNECTED: &str = "$connect";
const ERRORED: &str = "$error";

pub struct ChatSocket {
    client: Client,
    events: mpsc::UnboundedReceiver<(String, Value)>,
    /// Events received while the test waited for another one.
    held: VecDeque<(String, Value)>,
}

/// The first argument of an event, or the single JSON value a payload holds.
fn first_value(payload: Payload) -> Value {
    match payload {
        Payload::Text(mut values) if !values.is_empty() => values.swap_remove(0),
        Payload::Binary(bytes) => json!({ "binary": bytes.len() }),
        #[allow(deprecated)]
        Payload::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        Payload::Text(_) => Value::Null,
    }
}

impl ChatSocket {
    /// Connects to `namespace` on `base` with `auth: {token}` and waits for
    /// the namespace to accept or refuse. `transport` picks WebSocket or
    /// long-polling.
    pub async fn connect(
        base: &str,
        namespace: &str,
        token: Option<&str>,
        transport: TransportType,
    ) -> anyhow::Result<ChatSocket> {
        let (tx, events) = mpsc::unbounded_channel::<(String, Value)>();
        let on_any = tx.clone();
        let on_connect = tx.clone();
        let on_error = tx;
        let mut builder = ClientBuilder::new(base)
            .namespace(namespace)
            .transport_type(transport)
            .reconnect(false)
            .on_any(move |event, payload, _| {
                let _ = on_any.send((String::from(event), first_value(payload)));
                async {}.boxed()
            })
            .on(Event::Connect, move |_, _| {
                let _ = on_connect.send((CONNECTED.into(), Value::Null));
                async {}.boxed()
            })
            .on(Event::Error, move |payload, _| {
                let _ = on_error.send((ERRORED.into(), first_value(payload)));
                async {}.boxed()
            });
        if let Some(token) = token {
            builder = builder.auth(json!({ "token": token }));
        }
        let client = builder
            .connect()
            .await
            .with_context(|| format!("cannot open a Socket.IO connection to {base}{namespace}"))?;
        let mut socket = ChatSocket {
            client,
            events,
            held: VecDeque::new(),
        };
        match socket.next_of(&[CONNECTED, ERRORED], STEP_TIMEOUT).await? {
            (kind, _) if kind == CONNECTED => Ok(socket),
            (_, err) => bail!("{namespace} refused the connection: {err}"),
        }
    }

    /// Emits `event` and returns the ack's first argument.
    pub async fn ack(&self, event: &str, data: Value) -> anyhow::Result<Value> {
        let (tx, rx) = oneshot::channel::<Value>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        self.client
            .emit_with_ack(event, data, STEP_TIMEOUT, move |payload, _| {
                // rust_socketio hands an ack's argument list over as one JSON
                // array.
                let value = match first_value(payload) {
                    Value::Array(mut args) if !args.is_empty() => args.swap_remove(0),
                    other => other,
                };
                if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                    let _ = tx.send(value);
                }
                async {}.boxed()
            })
            .await
            .with_context(|| format!("cannot emit {event}"))?;
        tokio::time::timeout(STEP_TIMEOUT, rx)
            .await
            .with_context(|| format!("no ack for {event} within {STEP_TIMEOUT:?}"))?
            .with_context(|| format!("the ack for {event} was dropped"))
    }

    /// Emits `event` and expects `{ok: true, ...}`.
    pub async fn ack_ok(&self, event: &str, data: Value) -> anyhow::Result<Value> {
        let reply = self.ack(event, data.clone()).await?;
        if reply.get("ok") != Some(&Value::Bool(true)) {
            bail!("{event} {data} was not acknowledged ok: {reply}");
        }
        Ok(reply)
    }

    /// Emits without an ack.
    pub async fn emit(&self, event: &str, data: Value) -> anyhow::Result<()> {
        self.client
            .emit(event, data)
            .await
            .with_context(|| format!("cannot emit {event}"))
    }

    /// The next `event` received (earlier ones of other names stay queued).
    pub async fn expect(&mut self, event: &str) -> anyhow::Result<Value> {
        self.expect_where(event, |_| true).await
    }

    /// The next `event` whose payload satisfies `pred`.
    pub async fn expect_where(
        &mut self,
        event: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        if let Some(pos) = self
            .held
            .iter()
            .position(|(name, v)| name == event && pred(v))
            && let Some((_, v)) = self.held.remove(pos)
        {
            return Ok(v);
        }
        let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
        loop {
            let next = tokio::time::timeout_at(deadline, self.events.recv()).await;
            match next {
                Ok(Some((name, v))) if name == event && pred(&v) => return Ok(v),
                Ok(Some(other)) => self.held.push_back(other),
                Ok(None) => bail!("the socket closed while waiting for {event}"),
                Err(_) => bail!(
                    "no {event} within {STEP_TIMEOUT:?}; received meanwhile: {:?}",
                    self.held
                ),
            }
        }
    }

    /// Fails if an `event` arrives within `wait`.
    pub async fn expect_none(&mut self, event: &str, wait: Duration) -> anyhow::Result<()> {
        if let Some((_, v)) = self.held.iter().find(|(name, _)| name == event) {
            bail!("unexpected {event}: {v}");
        }
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(next) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            match next {
                Some((name, v)) if name == event => bail!("unexpected {event}: {v}"),
                Some(other) => self.held.push_back(other),
                None => break,
            }
        }
        Ok(())
    }

    async fn next_of(&mut self, names: &[&str], wait: Duration) -> anyhow::Result<(String, Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some((name, v))) if names.contains(&name.as_str()) => return Ok((name, v)),
                Ok(Some(other)) => self.held.push_back(other),
                Ok(None) => bail!("the socket closed while waiting for {names:?}"),
                Err(_) => bail!("none of {names:?} within {wait:?}"),
            }
        }
    }

    pub async fn disconnect(self) -> anyhow::Result<()> {
        self.client.disconnect().await.context("disconnect failed")
    }
}
