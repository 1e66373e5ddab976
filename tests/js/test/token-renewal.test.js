'use strict';
// PROTOCOL.md § Sessions: a socket lives no longer than its access token
// unless renewed with `renewToken`. Access tokens live 4 s here (their
// `exp` has one-second granularity).

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');

const TTL_MS = 4000;
const server = serverForFile('token-renewal', { ACCESS_TOKEN_TTL_SECS: String(TTL_MS / 1000) });
after(c.closeAll);

function ending(socket, ms) {
  return new Promise((resolve, reject) => {
    let reason;
    const timer = setTimeout(() => reject(new Error('socket was not ended')), ms);
    socket.once('sessionEnded', (p) => { reason = p && p.reason; });
    socket.once('disconnect', (why) => { clearTimeout(timer); resolve({ reason, disconnect: why }); });
  });
}

describe('sockets bound to their token', () => {
  for (const ns of ['/', '/chat', '/notifications']) {
    it(`${ns}: at expiry without renewal, sessionEnded {reason: "expired"} then disconnect`, async () => {
      const u = await c.register(server);
      const started = Date.now();
      const socket = await c.connect(server, ns, { token: u.token });
      const got = await ending(socket, TTL_MS + 4000);
      assert.deepEqual(got, { reason: 'expired', disconnect: 'io server disconnect' });
      assert.ok(Date.now() - started < TTL_MS + 2000);
    });

    it(`${ns}: renewal keeps it; a foreign or bad token does not`, async () => {
      const u = await c.register(server);
      const other = await c.register(server);
      const socket = await c.connect(server, ns, { token: u.token });
      let ended = false;
      socket.on('disconnect', () => { ended = true; });
      const bad = await c.ack(socket, 'renewToken', { token: 'garbage' });
      assert.equal(bad.ok, false);
      assert.equal(bad.error.code, 'UNAUTHORIZED');
      const foreign = await c.ack(socket, 'renewToken', { token: other.token });
      assert.equal(foreign.error.code, 'UNAUTHORIZED');
      await c.sleep(2000);
      const fresh = await c.http(server, 'POST', '/refresh', { json: { refreshToken: u.refreshToken } });
      assert.equal(fresh.status, 200);
      const res = await c.ack(socket, 'renewToken', { token: fresh.body.token });
      assert.deepEqual(res, { ok: true });
      // Past the first token's expiry (at most 4 s after it was issued),
      // before the second's (at least 3 s after the refresh).
      await c.sleep(2500);
      assert.equal(ended, false, 'the renewed socket was disconnected');
      assert.equal(socket.connected, true);
      // And the renewed lease ends in its turn.
      const got = await ending(socket, TTL_MS + 2000);
      assert.equal(got.reason, 'expired');
    });
  }
});
