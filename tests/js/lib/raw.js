'use strict';
// A raw Engine.IO v4 / Socket.IO v5 client over a bare WebSocket (the `ws`
// package) or HTTP long-polling, for sending what no well-behaved client
// sends: truncated packets, unknown types, oversized frames, floods.
//
// Well-formed Socket.IO packets are encoded for the parser the server runs
// (CHAT_PARSER: JSON text packets, or msgpack binary frames as
// socket.io-msgpack-parser sends them); garbage is sent exactly as given.

const WebSocket = require('ws');
const notepack = require('notepack.io');
const { PARSER } = require('./client');

const TYPES = { CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4 };

/** Socket.IO packet → what goes after the Engine.IO `4` (JSON parser). */
function encodeJson({ type, nsp = '/', data, id }) {
  let s = String(type);
  if (nsp !== '/') s += `${nsp},`;
  if (id !== undefined) s += String(id);
  if (data !== undefined) s += JSON.stringify(data);
  return s;
}

/**
 * Socket.IO packet → one binary Engine.IO message, as socket.io-msgpack-parser
 * encodes it: a msgpack map {type, nsp, data?, id?}. Absent fields are left
 * out, as socket.io-client does: notepack would encode `undefined` as a
 * fixext, which the server's parser refuses (closing the connection).
 */
function encodeMsgpack({ type, nsp = '/', data, id }) {
  const packet = { type, nsp };
  if (data !== undefined) packet.data = data;
  if (id !== undefined) packet.id = id;
  return notepack.encode(packet);
}

/** The JSON parser's text packet → {type, nsp, id, data}; null if unreadable. */
function decodeJson(text) {
  const m = /^(\d)(?:(\d+)-)?(\/[^,]*,)?(\d+)?(.*)$/s.exec(text);
  if (!m) return null;
  let data;
  try {
    data = m[5] ? JSON.parse(m[5]) : undefined;
  } catch {
    return null;
  }
  return {
    type: Number(m[1]),
    nsp: m[3] ? m[3].slice(0, -1) : '/',
    id: m[4] !== undefined ? Number(m[4]) : undefined,
    data,
  };
}

class RawSocket {
  constructor(ws) {
    this.ws = ws;
    this.packets = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve({ code })));
    this.isClosed = false;
    this.closed.then(() => {
      this.isClosed = true;
      this.wake();
    });
    ws.on('error', () => {});
    ws.on('message', (raw, isBinary) => this.onFrame(raw, isBinary));
  }

  /** Opens `/socket.io/` over a WebSocket; resolves once Engine.IO said hello. */
  static open(server, { headers } = {}) {
    const url = `${server.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(url, { headers, maxPayload: 64 << 20 });
    const sock = new RawSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`handshake answered ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
      sock.waitFrame((f) => typeof f === 'string' && f.startsWith('0'), 5000)
        .then(() => resolve(sock), reject);
    });
  }

  onFrame(raw, isBinary) {
    if (!isBinary) {
      const text = raw.toString('utf8');
      if (text === '2') {
        this.send('3');
        return;
      }
      this.packets.push(text);
    } else {
      this.packets.push(Buffer.from(raw));
    }
    this.wake();
  }

  wake() {
    for (const w of [...this.waiters]) {
      const found = this.packets.find(w.pred);
      if (found !== undefined || this.isClosed) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        if (found !== undefined) w.resolve(found);
        else w.reject(new Error('the connection closed'));
      }
    }
  }

  /** Resolves with the first received frame matching `pred`. */
  waitFrame(pred, ms = 5000) {
    return new Promise((resolve, reject) => {
      const w = { pred, resolve, reject };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no matching frame within ${ms} ms`));
      }, ms);
      this.waiters.push(w);
      this.wake();
    });
  }

  /** Decoded Socket.IO packets received so far. */
  decoded() {
    return this.packets.map(decodeFrame).filter(Boolean);
  }

  /** Resolves with the first decoded Socket.IO packet matching `pred`. */
  async waitPacket(pred, ms = 5000) {
    const frame = await this.waitFrame((f) => {
      const p = decodeFrame(f);
      return p !== null && pred(p);
    }, ms);
    return decodeFrame(frame);
  }

  /** Sends a frame as is (string → text frame, Buffer → binary frame). */
  send(frame) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  /** Sends a well-formed Socket.IO packet for the server's parser. */
  sendPacket(packet) {
    if (PARSER === 'msgpack') this.send(encodeMsgpack(packet));
    else this.send(`4${encodeJson(packet)}`);
  }

  /** CONNECT to `nsp`; resolves with the CONNECT or CONNECT_ERROR answer. */
  connect(nsp, auth) {
    this.sendPacket({ type: TYPES.CONNECT, nsp, data: auth });
    return this.waitPacket((p) => p.nsp === nsp && (p.type === TYPES.CONNECT || p.type === TYPES.CONNECT_ERROR));
  }

  emit(nsp, args, id) {
    this.sendPacket({ type: TYPES.EVENT, nsp, data: args, id });
  }

  /** Emits with ack id `id` and resolves with the ack's first argument. */
  async ack(nsp, args, id, ms = 5000) {
    this.emit(nsp, args, id);
    const p = await this.waitPacket((q) => q.type === TYPES.ACK && q.nsp === nsp && q.id === id, ms);
    return p.data[0];
  }

  close() {
    this.ws.terminate();
  }
}

function decodeFrame(f) {
  if (Buffer.isBuffer(f)) {
    try {
      return notepack.decode(f);
    } catch {
      return null;
    }
  }
  if (typeof f !== 'string' || !f.startsWith('4')) return null;
  return decodeJson(f.slice(1));
}

/**
 * A msgpack EVENT packet to /chat whose `data` is `dataBytes` spliced in raw,
 * for payloads notepack cannot write (lies, nesting deeper than its stack).
 */
function msgpackWithData(dataBytes, id) {
  const marker = Buffer.from('\xa8SPLICEME', 'latin1');
  const encoded = encodeMsgpack({ type: TYPES.EVENT, nsp: '/chat', data: 'SPLICEME', id });
  const at = encoded.indexOf(marker);
  return Buffer.concat([encoded.subarray(0, at), dataBytes, encoded.subarray(at + marker.length)]);
}

/** Near-valid and invalid msgpack packets (the msgpack parser's garbage). */
function msgpackGarbage() {
  const ok = encodeMsgpack({ type: TYPES.EVENT, nsp: '/chat', data: ['presence', { room: 'general' }] });
  return [
    ok.subarray(0, 5), ok.subarray(0, ok.length - 1), Buffer.concat([ok, Buffer.from([0xc1])]),
    notepack.encode({ type: 9, nsp: '/chat', data: [] }),
    notepack.encode({ type: 2, nsp: 5, data: ['presence', {}] }),
    notepack.encode({ type: 2, nsp: '/chat', data: 'presence' }),
    notepack.encode({ type: 2, nsp: '/chat', data: [] }),
    notepack.encode({ type: 2, nsp: '/chat', data: [7, {}] }),
    notepack.encode({ type: 2, nsp: '/chat', data: ['presence', {}], id: -1 }),
    notepack.encode({ type: 2, nsp: '/chat', data: ['presence', {}], id: 'x' }),
    notepack.encode({ type: 3, nsp: '/chat', data: [1], id: 99 }),
    notepack.encode({ type: 2, nsp: '/chat', data: ['presence', {}], id: undefined }),
    notepack.encode([2, '/chat', ['presence']]), notepack.encode('42/chat,["typing"]'),
  ];
}
/** One long-polling HTTP request; returns {status, text, headers}. */
async function poll(server, { method = 'GET', sid, body, headers = {} } = {}) {
  const q = sid ? `&sid=${encodeURIComponent(sid)}` : '';
  const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling${q}`, {
    method,
    headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers },
    body,
    signal: AbortSignal.timeout(10000),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** Opens an Engine.IO polling session; returns its sid. */
async function pollOpen(server, headers) {
  const res = await poll(server, { headers });
  if (res.status !== 200) throw Object.assign(new Error(`polling handshake answered ${res.status}`), { status: res.status });
  return JSON.parse(res.text.slice(1)).sid;
}

module.exports = {
  RawSocket, TYPES, poll, pollOpen, encodeJson, decodeJson, encodeMsgpack, msgpackWithData, msgpackGarbage,
};
