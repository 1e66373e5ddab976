'use strict';
// PROTOCOL.md preamble: a client written for the tutorial (§2.2 onward) keeps
// working by changing only the server URL — default transports (polling,
// then the upgrade to WebSocket) and a browser on another origin (CORS).

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { io } = require('socket.io-client');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');
const { assertAckOk, assertMessage } = require('../lib/shapes');

const server = serverForFile('tutorial-compat');
after(c.closeAll);

const ORIGIN = 'http://localhost:3000';

function assertCorsAllows(res, what) {
  const allowed = res.headers.get('access-control-allow-origin');
  assert.ok(allowed === '*' || allowed === ORIGIN, `${what}: access-control-allow-origin is ${allowed}`);
}

describe('tutorial clients', () => {
  it('connect with default transports, upgrade to WebSocket and chat', async () => {
    const u = await c.register(server);
    const parser = c.PARSER === 'msgpack' ? { parser: require('socket.io-msgpack-parser') } : {};
    const socket = io(`${server.url}/chat`, { auth: { token: u.token }, forceNew: true, reconnection: false, ...parser });
    try {
      const upgraded = new Promise((resolve) => socket.io.on('open', () => socket.io.engine.once('upgrade', resolve)));
      await new Promise((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      await Promise.race([upgraded, c.sleep(5000).then(() => assert.fail('no upgrade to websocket'))]);
      assert.equal(socket.io.engine.transport.name, 'websocket');
      const rec = c.record(socket, ['previousMessages', 'message']);
      socket.emit('joinRoom', { room: 'tutorial' });
      await rec.waitFor('previousMessages');
      const res = await c.ack(socket, 'sendMessage', { content: 'Message delivered?', room: 'tutorial', sender: 'someone-else' });
      assertAckOk(res);
      assertMessage(res.message, { room: 'tutorial', sender: u.username, content: 'Message delivered?' });
      assert.deepEqual((await rec.waitFor('message'))[0], res.message);
    } finally {
      socket.close();
    }
  });

  it('a browser on another origin may call the HTTP API (CORS preflight)', async () => {
    for (const [path, headers] of [['/login', 'content-type'], ['/upload', 'authorization'], ['/me', 'authorization']]) {
      const res = await fetch(server.url + path, {
        method: 'OPTIONS',
        headers: {
          origin: ORIGIN,
          'access-control-request-method': path === '/me' ? 'GET' : 'POST',
          'access-control-request-headers': headers,
        },
      });
      await res.arrayBuffer();
      assert.ok(res.status >= 200 && res.status < 300, `preflight ${path}: ${res.status}`);
      assertCorsAllows(res, `preflight ${path}`);
      const allowHeaders = (res.headers.get('access-control-allow-headers') || '').toLowerCase();
      assert.ok(allowHeaders === '*' || allowHeaders.includes(headers), `preflight ${path}: allow-headers ${allowHeaders}`);
    }
    const u = await c.register(server);
    const login = await fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ username: u.username, password: u.password }),
    });
    assert.equal(login.status, 200);
    assertCorsAllows(login, 'POST /login');
    const { token } = await login.json();
    assert.equal(typeof token, 'string');
  });

  it('a browser on another origin may open a polling session', async () => {
    const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: ORIGIN } });
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assertCorsAllows(res, 'polling handshake');
    assert.match(body, /^0\{.*"sid"/, 'an Engine.IO v4 open packet');
  });
});
