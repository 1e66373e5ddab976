'use strict';
// PROTOCOL.md § HTTP: register, login, refresh (rotation), logout, me.

const assert = require('node:assert/strict');
const { describe, it } = require('node:test');
const { serverForFile } = require('../lib/server');
const { http, register, uniqueName } = require('../lib/client');
const { assertHttpError, assertUser, assertTokens } = require('../lib/shapes');

const server = serverForFile('http-auth');
const PASSWORD = 'correct horse 1';

describe('POST /register', () => {
  it('answers 201 {token, refreshToken, user} with avatar null', async () => {
    const username = uniqueName('Reg');
    const res = await http(server, 'POST', '/register', { json: { username, password: PASSWORD } });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['refreshToken', 'token', 'user']);
    assertTokens(res.body);
    assertUser(res.body.user, username, null);
    // Short-lived: 15 minutes by default.
    const claims = JSON.parse(Buffer.from(res.body.token.split('.')[1], 'base64url').toString());
    const ttl = claims.exp - Date.now() / 1000;
    assert.ok(ttl > 14 * 60 && ttl <= 15 * 60 + 5, `the token lives ${ttl} s, not 15 minutes`);
    const me = await http(server, 'GET', '/me', { token: res.body.token });
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.body, res.body.user);
  });

  it('accepts the boundaries: 3 and 32 character names, 8 and 128 character passwords', async () => {
    const suffix = uniqueName('').slice(0, 8);
    const cases = [
      [`a${suffix}`.slice(0, 3), 'x'.repeat(8)],
      [`A.b_c-${suffix}`.padEnd(32, 'z'), 'y'.repeat(128)],
    ];
    for (const [username, password] of cases) {
      const res = await http(server, 'POST', '/register', { json: { username, password } });
      assert.equal(res.status, 201, `${username}: ${res.text}`);
      assertUser(res.body.user, username);
    }
  });

  it('answers 400 {"error"} for every invalid input', async () => {
    const n = uniqueName('v');
    const bad = [
      { username: 'ab', password: PASSWORD },
      { username: `${n}`.padEnd(33, 'x'), password: PASSWORD },
      { username: `${n} x`, password: PASSWORD },
      { username: `${n}!`, password: PASSWORD },
      { username: `${n}@x`, password: PASSWORD },
      { username: `${n}é`, password: PASSWORD },
      { username: `dm:${n}`, password: PASSWORD },
      { username: '', password: PASSWORD },
      { username: n, password: 'x'.repeat(7) },
      { username: n, password: 'x'.repeat(129) },
      { username: n },
      { password: PASSWORD },
      { username: 42, password: PASSWORD },
      { username: n, password: 12345678 },
    ];
    for (const body of bad) {
      const res = await http(server, 'POST', '/register', { json: body });
      assertHttpError(res, 400);
    }
    const notJson = await http(server, 'POST', '/register', { json: '{"username": ' });
    assertHttpError(notJson, 400);
    // None of the refused names got created.
    const login = await http(server, 'POST', '/login', { json: { username: n, password: PASSWORD } });
    assertHttpError(login, 401);
  });

  it('answers 409 for a taken name, ignoring case', async () => {
    const username = uniqueName('Taken');
    await register(server, username);
    for (const variant of [username, username.toLowerCase(), username.toUpperCase()]) {
      const res = await http(server, 'POST', '/register', { json: { username: variant, password: PASSWORD } });
      assertHttpError(res, 409);
    }
  });
});

describe('POST /login', () => {
  it('answers 200 {token, refreshToken, user}', async () => {
    const u = await register(server);
    const res = await http(server, 'POST', '/login', { json: { username: u.username, password: u.password } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['refreshToken', 'token', 'user']);
    assertTokens(res.body);
    assert.deepEqual(res.body.user, u.user);
    assert.notEqual(res.body.refreshToken, u.refreshToken);
  });

  it('answers 401 {"error":"Invalid credentials"} for a wrong password or unknown user', async () => {
    const u = await register(server);
    const attempts = [
      { username: u.username, password: `${u.password}x` },
      { username: uniqueName('ghost'), password: PASSWORD },
    ];
    for (const body of attempts) {
      const res = await http(server, 'POST', '/login', { json: body });
      assertHttpError(res, 401);
      assert.deepEqual(res.body, { error: 'Invalid credentials' });
    }
  });
});

describe('POST /refresh', () => {
  it('rotates: 200 {token, refreshToken}, then the old refresh token is 401', async () => {
    const u = await register(server);
    const first = await http(server, 'POST', '/refresh', { json: { refreshToken: u.refreshToken } });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(Object.keys(first.body).sort(), ['refreshToken', 'token']);
    assertTokens(first.body);
    assert.notEqual(first.body.refreshToken, u.refreshToken);

    const me = await http(server, 'GET', '/me', { token: first.body.token });
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.body, u.user);

    const second = await http(server, 'POST', '/refresh', { json: { refreshToken: first.body.refreshToken } });
    assert.equal(second.status, 200, second.text);
    assertTokens(second.body);
  });

  it('a used refresh token presented again ends its whole session (v1.1 reuse detection)', async () => {
    const u = await register(server);
    const first = await http(server, 'POST', '/refresh', { json: { refreshToken: u.refreshToken } });
    assert.equal(first.status, 200, first.text);
    const replay = await http(server, 'POST', '/refresh', { json: { refreshToken: u.refreshToken } });
    assertHttpError(replay, 401);
    // The session ended: its newest refresh token and access token are
    // refused too.
    assertHttpError(await http(server, 'POST', '/refresh', { json: { refreshToken: first.body.refreshToken } }), 401);
    assertHttpError(await http(server, 'GET', '/me', { token: first.body.token }), 401);
  });

  it('answers 401 for an unknown, missing or access token', async () => {
    const u = await register(server);
    for (const body of [{ refreshToken: 'not-a-refresh-token' }, { refreshToken: u.token }, {}]) {
      // The contract lists 401 as the only refusal of /refresh.
      assertHttpError(await http(server, 'POST', '/refresh', { json: body }), 401);
    }
  });
});

describe('POST /logout', () => {
  it('answers 204 and that refresh token stops working; others keep working', async () => {
    const u = await register(server);
    const other = await http(server, 'POST', '/login', { json: { username: u.username, password: u.password } });
    assert.equal(other.status, 200);
    const res = await http(server, 'POST', '/logout', { json: { refreshToken: u.refreshToken } });
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');
    const after = await http(server, 'POST', '/refresh', { json: { refreshToken: u.refreshToken } });
    assertHttpError(after, 401);
    const still = await http(server, 'POST', '/refresh', { json: { refreshToken: other.body.refreshToken } });
    assert.equal(still.status, 200, still.text);
  });

  it('answers 204 again for a token already logged out', async () => {
    const u = await register(server);
    const a = await http(server, 'POST', '/logout', { json: { refreshToken: u.refreshToken } });
    const b = await http(server, 'POST', '/logout', { json: { refreshToken: u.refreshToken } });
    assert.equal(a.status, 204);
    assert.equal(b.status, 204);
  });
});

describe('GET /me', () => {
  it('answers 401 {"error"} without a token, with a bad token and with a refresh token', async () => {
    const u = await register(server);
    assertHttpError(await http(server, 'GET', '/me'), 401);
    assertHttpError(await http(server, 'GET', '/me', { token: 'garbage' }), 401);
    assertHttpError(await http(server, 'GET', '/me', { token: u.refreshToken }), 401);
    const [h, p, s] = u.token.split('.');
    const flipped = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
    assertHttpError(await http(server, 'GET', '/me', { token: flipped }), 401);
    const forged = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    assertHttpError(await http(server, 'GET', '/me', { token: `${forged}.${p}.` }), 401);
    assertHttpError(await http(server, 'GET', '/me', { headers: { authorization: u.token } }), 401);
  });
});
