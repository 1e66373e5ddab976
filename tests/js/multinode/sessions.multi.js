'use strict';
// PROTOCOL.md § Several gateway nodes: session endings reach every node.
// A logout through node A disconnects the session's socket on node B
// (`sessionEnded` first, within a second) and node B refuses its token at
// once, while another session of the same user stays connected on B.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const c = require('../lib/client');
const { clusterForFile } = require('./lib/cluster');

const cluster = clusterForFile('sessions', 2);
after(c.closeAll);

function ending(socket, ms = 3000) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let reason;
    const timer = setTimeout(() => reject(new Error('socket was not ended')), ms);
    socket.once('sessionEnded', (p) => { reason = p && p.reason; });
    socket.once('disconnect', (why) => {
      clearTimeout(timer);
      resolve({ reason, disconnect: why, ms: Date.now() - started });
    });
  });
}

async function login(gw, u) {
  const res = await c.http(gw, 'POST', '/login', { json: { username: u.username, password: u.password } });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

describe('session endings across nodes', () => {
  it('logout on node A ends the session\'s sockets on node B, and only those', async () => {
    const [A, B] = cluster.gateways;
    const u = await c.register(A);
    const other = await login(A, u);
    const onB = await c.connect(B, '/chat', { token: u.token });
    const notesOnB = await c.connect(B, '/notifications', { token: u.token });
    const otherOnB = await c.connect(B, '/chat', { token: other.token });
    const ended = [ending(onB), ending(notesOnB)];
    let otherEnded = false;
    otherOnB.on('disconnect', () => { otherEnded = true; });
    const res = await c.http(A, 'POST', '/logout', { json: { refreshToken: u.refreshToken } });
    assert.equal(res.status, 204);
    for (const p of ended) {
      const got = await p;
      assert.equal(got.reason, 'logout');
      assert.equal(got.disconnect, 'io server disconnect');
      assert.ok(got.ms < 1000, `ended after ${got.ms} ms`);
    }
    assert.equal((await c.http(B, 'GET', '/me', { token: u.token })).status, 401);
    const err = await c.connectRefused(B, '/chat', { token: u.token });
    assert.equal(err.message, 'Authentication error');
    await c.sleep(500);
    assert.equal(otherEnded, false);
    assert.equal((await c.http(B, 'GET', '/me', { token: other.token })).status, 200);
  });

  it('a password change on node B ends the other session\'s socket on node A', async () => {
    const [A, B] = cluster.gateways;
    const u = await c.register(A);
    const second = await login(B, u);
    const onA = await c.connect(A, '/chat', { token: u.token });
    const p = ending(onA);
    const res = await c.http(B, 'POST', '/password', {
      token: second.token, json: { currentPassword: u.password, newPassword: 'a new password 9' },
    });
    assert.equal(res.status, 204, res.text);
    const got = await p;
    assert.equal(got.reason, 'password');
    assert.ok(got.ms < 1000, `ended after ${got.ms} ms`);
    assert.equal((await c.http(A, 'GET', '/me', { token: u.token })).status, 401);
  });

  it('failed logins are counted across nodes', async () => {
    const [A, B] = cluster.gateways;
    const u = await c.register(A);
    for (let i = 0; i < 10; i += 1) {
      const gw = i % 2 ? B : A;
      const res = await c.http(gw, 'POST', '/login', { json: { username: u.username, password: `wrong ${i} pass` } });
      assert.equal(res.status, 401);
    }
    for (const gw of [A, B]) {
      const res = await c.http(gw, 'POST', '/login', { json: { username: u.username, password: u.password } });
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get('retry-after')) > 0);
    }
  });
});
