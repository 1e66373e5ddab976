'use strict';
// Client-side helpers: HTTP calls, users, sockets, acks and event recording.

const crypto = require('node:crypto');
const nodeHttp = require('node:http');
const { io } = require('socket.io-client');

const PARSER = process.env.CHAT_PARSER === 'msgpack' ? 'msgpack' : 'json';
const TRANSPORTS = (process.env.CHAT_TRANSPORTS || 'websocket,polling')
  .split(',').map((t) => t.trim()).filter(Boolean);
/** How long to wait before concluding that nothing was (or will be) emitted. */
const QUIET_MS = Number(process.env.CHAT_QUIET_MS || 300);
const ACK_TIMEOUT_MS = Number(process.env.CHAT_ACK_TIMEOUT_MS || 5000);

const parserOption = PARSER === 'msgpack' ? { parser: require('socket.io-msgpack-parser') } : {};

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** A fresh valid username (3–32 chars of A-Z a-z 0-9 _ . -). */
function uniqueName(prefix = 'u') {
  return `${prefix}${crypto.randomBytes(6).toString('hex')}`.slice(0, 32);
}

/**
 * Sends a buffered request with node:http. Unlike fetch, it still reports a
 * response the server sent before reading the whole body (a refused upload)
 * when the server then closes the connection under the client's writes.
 */
function sendBuffered(url, method, headers, payload) {
  return new Promise((resolve, reject) => {
    let response = null;
    const req = nodeHttp.request(url, { method, headers: { ...headers, 'content-length': payload.length } }, (res) => {
      const chunks = [];
      res.on('data', (ch) => chunks.push(ch));
      res.on('end', () => {
        response = { status: res.statusCode, headers: new Headers(res.headers), bytes: Buffer.concat(chunks) };
        resolve(response);
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      // EPIPE/ECONNRESET after an early response: the response is what counts.
      if (!response) setTimeout(() => (response ? resolve(response) : reject(err)), 200);
    });
    req.end(payload);
  });
}

/** Performs an HTTP request; returns {status, headers, body, text, bytes}. */
async function http(server, method, path, { json, token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload = body;
  if (json !== undefined) {
    h['content-type'] = 'application/json';
    payload = typeof json === 'string' ? json : JSON.stringify(json);
  }
  let res;
  if (payload instanceof FormData) {
    const encoded = new Response(payload);
    h['content-type'] = encoded.headers.get('content-type');
    res = await sendBuffered(server.url + path, method, h, Buffer.from(await encoded.arrayBuffer()));
  } else {
    const r = await fetch(server.url + path, { method, headers: h, body: payload });
    res = { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
  }
  const { bytes } = res;
  const text = bytes.toString('utf8');
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text, bytes };
}

/** Registers a fresh user; returns {username, password, token, refreshToken, user}. */
async function register(server, username = uniqueName(), password = 'correct horse 1') {
  const res = await http(server, 'POST', '/register', { json: { username, password } });
  if (res.status !== 201) {
    throw new Error(`register ${username}: ${res.status} ${res.text}`);
  }
  return { username, password, ...res.body };
}

const openSockets = new Set();

function socketOptions({ token, auth, transport, extra }) {
  const opts = {
    transports: [transport],
    forceNew: true,
    reconnection: false,
    timeout: 10000,
    ...parserOption,
    ...extra,
  };
  if (auth !== undefined) opts.auth = auth;
  else if (token !== undefined) opts.auth = { token };
  return opts;
}

/** Connects to namespace `ns` and resolves with the connected socket. */
function connect(server, ns, { token, auth, transport = TRANSPORTS[0], extra } = {}) {
  const socket = io(server.url + ns, socketOptions({ token, auth, transport, extra }));
  openSockets.add(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(new Error(`connect ${ns} (${transport}) failed: ${err.message}`));
    });
  });
}

/**
 * Makes the socket's user a member of `count` new public rooms with no
 * socket in them (each joined, then left: leaving keeps the membership);
 * resolves with their names.
 */
async function memberOfRooms(socket, count, prefix = 'm') {
  const rooms = [];
  for (let i = 0; i < count; i++) {
    const room = uniqueName(prefix);
    await join(socket, room);
    const left = await ack(socket, 'leaveRoom', { room });
    if (!left.ok) throw new Error(`leaveRoom ${room}: ${JSON.stringify(left)}`);
    rooms.push(room);
  }
  return rooms;
}

/**
 * Opens `count` sockets to namespace `ns` that each close their transport
 * 0–2 ms after the Engine.IO open, so right after sending CONNECT, while
 * the server is still in their handshake: clients that drop mid-handshake.
 */
function dropDuringHandshake(server, ns, { auth, transport = TRANSPORTS[0], count = 20 } = {}) {
  for (let i = 0; i < count; i++) {
    const socket = io(server.url + ns, socketOptions({ auth, transport }));
    socket.io.on('open', () => setTimeout(() => socket.io.engine.close(), i % 3));
  }
}

/** Connects expecting a refusal; resolves with the connect_error. */
function connectRefused(server, ns, { token, auth, transport = TRANSPORTS[0] } = {}) {
  const socket = io(server.url + ns, socketOptions({ token, auth, transport }));
  openSockets.add(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.close();
      reject(new Error(`connect ${ns} (${transport}) unexpectedly succeeded`));
    });
    socket.once('connect_error', (err) => {
      socket.close();
      resolve(err);
    });
  });
}

/** Emits with an ack callback and resolves with the ack reply. */
function ack(socket, event, payload, ms = ACK_TIMEOUT_MS) {
  const s = socket.timeout(ms);
  return payload === undefined ? s.emitWithAck(event) : s.emitWithAck(event, payload);
}

/**
 * Records every occurrence of the given events on a socket, so a test can
 * wait for the n-th one and later assert that no further ones arrived.
 */
function record(socket, events) {
  const seen = Object.fromEntries(events.map((e) => [e, []]));
  const waiters = [];
  const wake = () => {
    for (const w of [...waiters]) {
      if (seen[w.event].length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(seen[w.event].slice(0, w.count));
      }
    }
  };
  for (const e of events) {
    socket.on(e, (...args) => {
      seen[e].push(args.length <= 1 ? args[0] : args);
      wake();
    });
  }
  return {
    seen,
    /** Resolves with the first `count` payloads of `event`. */
    waitFor(event, count = 1, ms = ACK_TIMEOUT_MS) {
      if (!(event in seen)) throw new Error(`event ${event} is not recorded`);
      return new Promise((resolve, reject) => {
        const w = { event, count, resolve };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`timed out after ${ms} ms waiting for ${count}× '${event}' ` +
            `(got ${seen[event].length}: ${JSON.stringify(seen[event]).slice(0, 500)})`));
        }, ms);
        waiters.push(w);
        wake();
      });
    },
    count(event) {
      return seen[event].length;
    },
  };
}

function closeAll() {
  for (const s of openSockets) s.close();
  openSockets.clear();
}

/** A registered user with a /chat socket on `transport`. */
async function userWithSocket(server, transport, { ns = '/chat', name } = {}) {
  const user = await register(server, name);
  const socket = await connect(server, ns, { token: user.token, transport });
  return { ...user, socket };
}

/** Joins `room` on `socket`, failing loudly when the ack is not ok. */
async function join(socket, room, extra = {}) {
  const res = await ack(socket, 'joinRoom', { room, ...extra });
  if (!res || res.ok !== true) throw new Error(`joinRoom ${room} failed: ${JSON.stringify(res)}`);
  return res;
}

/** Sends `n` messages one after another; returns the stored messages in order. */
async function sendMany(socket, room, n, prefix = 'msg') {
  const out = [];
  for (let i = 0; i < n; i += 1) {
    const res = await ack(socket, 'sendMessage', { room, content: `${prefix} ${i}` });
    if (!res || res.ok !== true) throw new Error(`sendMessage failed: ${JSON.stringify(res)}`);
    out.push(res.message);
  }
  return out;
}

module.exports = {
  PARSER,
  TRANSPORTS,
  QUIET_MS,
  sleep,
  uniqueName,
  http,
  register,
  connect,
  connectRefused,
  dropDuringHandshake,
  memberOfRooms,
  ack,
  record,
  closeAll,
  userWithSocket,
  join,
  sendMany,
};
