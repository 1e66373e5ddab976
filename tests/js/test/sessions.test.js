'use strict';
// PROTOCOL.md § Sessions (v1.1): every way a session ends disconnects the
// sockets of that session — `sessionEnded {reason}` first, then
// `io server disconnect`, within a second — and only those; its access
// tokens are refused on HTTP and at handshakes; its refresh token stops.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');

const server = serverForFile('sessions');
after(c.closeAll);

/** Resolves with {reason, disconnect, ms} once the socket was ended. */
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

/** Fails if the socket is ended within `ms`. */
async function staysConnected(socket, ms = 700) {
  let ended = false;
  socket.once('sessionEnded', () => { ended = true; });
  socket.once('disconnect', () => { ended = true; });
  await c.sleep(ms);
  assert.equal(ended, false, 'a socket of another session was ended');
  assert.equal(socket.connected, true);
}

async function login(u) {
  const res = await c.http(server, 'POST', '/login', { json: { username: u.username, password: u.password } });
  assert.equal(res.status, 200, res.text);
  return { ...u, ...res.body };
}

/** A user with two sessions, each with a /chat and a /notifications socket. */
async function twoSessions() {
  const a = await c.register(server);
  const b = await login(a);
  const sockets = async (s) => ({
    chat: await c.connect(server, '/chat', { token: s.token }),
    root: await c.connect(server, '/', { token: s.token }),
    notes: await c.connect(server, '/notifications', { token: s.token }),
  });
  return { a: { ...a, s: await sockets(a) }, b: { ...b, s: await sockets(b) } };
}

async function assertEnded(session, reason) {
  for (const [ns, socket] of Object.entries(session.s)) {
    // eslint-disable-next-line no-await-in-loop
    const got = await session.endings[ns];
    assert.equal(got.reason, reason, `${ns}: sessionEnded reason`);
    assert.equal(got.disconnect, 'io server disconnect', `${ns}: disconnect reason`);
    assert.ok(got.ms < 1000, `${ns}: ended after ${got.ms} ms`);
    assert.equal(socket.connected, false);
  }
  const me = await c.http(server, 'GET', '/me', { token: session.token });
  assert.equal(me.status, 401, 'the ended session\'s token is refused on HTTP');
  const err = await c.connectRefused(server, '/chat', { token: session.token });
  assert.equal(err.message, 'Authentication error');
  const refresh = await c.http(server, 'POST', '/refresh', { json: { refreshToken: session.refreshToken } });
  assert.equal(refresh.status, 401);
}

function watch(session) {
  session.endings = Object.fromEntries(Object.entries(session.s).map(([ns, s]) => [ns, ending(s)]));
}

describe('sessions end for every reason, only theirs', () => {
  it('logout ends that session; the other goes on', async () => {
    const { a, b } = await twoSessions();
    watch(a);
    const res = await c.http(server, 'POST', '/logout', { json: { refreshToken: a.refreshToken } });
    assert.equal(res.status, 204);
    await assertEnded(a, 'logout');
    await staysConnected(b.s.chat);
    assert.equal((await c.http(server, 'GET', '/me', { token: b.token })).status, 200);
  });

  it('logout everywhere ends every session of the user, no one else\'s', async () => {
    const { a, b } = await twoSessions();
    const other = await c.userWithSocket(server, c.TRANSPORTS[0]);
    watch(a);
    watch(b);
    const res = await c.http(server, 'POST', '/logout', { json: { refreshToken: a.refreshToken, everywhere: true } });
    assert.equal(res.status, 204);
    await assertEnded(a, 'logout');
    await assertEnded(b, 'logout');
    await staysConnected(other.socket);
  });

  it('a password change ends every other session and keeps the caller\'s', async () => {
    const { a, b } = await twoSessions();
    const wrong = await c.http(server, 'POST', '/password', { token: a.token, json: { currentPassword: 'not it at all', newPassword: 'brand new pass 1' } });
    assert.equal(wrong.status, 403);
    const short = await c.http(server, 'POST', '/password', { token: a.token, json: { currentPassword: a.password, newPassword: 'short' } });
    assert.equal(short.status, 400);
    const anon = await c.http(server, 'POST', '/password', { json: { currentPassword: a.password, newPassword: 'brand new pass 1' } });
    assert.equal(anon.status, 401);
    // Timed from the change itself: the refused attempts above cost a
    // password hash each, which a loaded machine can stretch past a second.
    watch(b);
    const res = await c.http(server, 'POST', '/password', { token: a.token, json: { currentPassword: a.password, newPassword: 'brand new pass 1' } });
    assert.equal(res.status, 204, res.text);
    await assertEnded(b, 'password');
    await staysConnected(a.s.chat);
    const old = await c.http(server, 'POST', '/login', { json: { username: a.username, password: a.password } });
    assert.equal(old.status, 401);
    const fresh = await c.http(server, 'POST', '/login', { json: { username: a.username, password: 'brand new pass 1' } });
    assert.equal(fresh.status, 200);
  });

  it('DELETE /sessions/{id} revokes one session; the list shows live ones only', async () => {
    const { a, b } = await twoSessions();
    const list = await c.http(server, 'GET', '/sessions', { token: a.token });
    assert.equal(list.status, 200);
    assert.equal(list.body.length, 2);
    for (const s of list.body) {
      assert.deepEqual(Object.keys(s).sort(), ['createdAt', 'current', 'id', 'lastUsedAt', 'userAgent']);
      assert.match(s.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    assert.equal(list.body.filter((s) => s.current).length, 1);
    const theirs = list.body.find((s) => !s.current);
    const stranger = await c.register(server);
    assert.equal((await c.http(server, 'DELETE', `/sessions/${theirs.id}`, { token: stranger.token })).status, 404);
    assert.equal((await c.http(server, 'DELETE', '/sessions/nope', { token: a.token })).status, 404);
    assert.equal((await c.http(server, 'DELETE', `/sessions/${theirs.id}`)).status, 401);
    watch(b);
    const res = await c.http(server, 'DELETE', `/sessions/${theirs.id}`, { token: a.token });
    assert.equal(res.status, 204);
    await assertEnded(b, 'revoked');
    await staysConnected(a.s.chat);
    const after = await c.http(server, 'GET', '/sessions', { token: a.token });
    assert.deepEqual(after.body.map((s) => s.id), [list.body.find((s) => s.current).id]);
    assert.equal((await c.http(server, 'DELETE', `/sessions/${theirs.id}`, { token: a.token })).status, 404);
  });

  it('a replayed refresh token ends its whole session', async () => {
    const { a, b } = await twoSessions();
    const first = await c.http(server, 'POST', '/refresh', { json: { refreshToken: a.refreshToken } });
    assert.equal(first.status, 200);
    watch(a);
    const replay = await c.http(server, 'POST', '/refresh', { json: { refreshToken: a.refreshToken } });
    assert.equal(replay.status, 401);
    await assertEnded(a, 'replayed');
    // The rotated token and its access token died with the session.
    assert.equal((await c.http(server, 'POST', '/refresh', { json: { refreshToken: first.body.refreshToken } })).status, 401);
    assert.equal((await c.http(server, 'GET', '/me', { token: first.body.token })).status, 401);
    await staysConnected(b.s.chat);
  });

  it('tokens carry sid and aud', async () => {
    const u = await c.register(server);
    const claims = JSON.parse(Buffer.from(u.token.split('.')[1], 'base64url').toString());
    assert.equal(claims.aud, 'chat');
    assert.equal(typeof claims.sid, 'string');
    const header = JSON.parse(Buffer.from(u.token.split('.')[0], 'base64url').toString());
    assert.equal(typeof header.kid, 'string');
  });

  // Each socket has a watcher that ends it at its token's `exp`. It must
  // end with its socket, not at `exp`: under connection churn, watchers of
  // closed sockets kept for 15 minutes grew the gateway by ~0.7 KiB per
  // connection (the bench's soak found it).
  it('a closed socket leaves no expiry watcher behind', async () => {
    const watchers = async () => {
      const res = await c.http(server, 'GET', '/metrics');
      const m = /^chat_socket_expiry_watchers (\S+)$/m.exec(res.text);
      return m ? Number(m[1]) : 0;
    };
    const settled = async (want) => {
      const deadline = Date.now() + 3000;
      let got;
      while (Date.now() < deadline) {
        got = await watchers();
        if (want === undefined ? got === (await c.sleep(200), await watchers()) : got === want) return got;
        await c.sleep(50);
      }
      assert.fail(`watchers stayed at ${got}, expected ${want}`);
    };
    const u = await c.register(server);
    const before = await settled();
    const sockets = [];
    for (let i = 0; i < 20; i += 1) sockets.push(await c.connect(server, '/chat', { token: u.token }));
    assert.equal(await watchers(), before + 20);
    for (const s of sockets) s.close();
    await settled(before);
  });
});
