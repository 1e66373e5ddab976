'use strict';
// PROTOCOL.md: `token` is short-lived; an expired one is refused with 401 on
// HTTP and "Authentication error" in the handshake, and /refresh renews it.
// The server runs with a one-second access-token lifetime (the auth
// service's ACCESS_TOKEN_TTL_SECS) so expiry is observable quickly.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');
const { assertHttpError } = require('../lib/shapes');

const server = serverForFile('expiry', { ACCESS_TOKEN_TTL_SECS: '1' });
after(c.closeAll);

describe('expired access tokens', () => {
  it('are refused everywhere, and /refresh issues a working one', async () => {
    const u = await c.register(server);
    const deadline = Date.now() + 20000;
    let me;
    do {
      await c.sleep(500);
      me = await c.http(server, 'GET', '/me', { token: u.token });
    } while (me.status === 200 && Date.now() < deadline);
    assertHttpError(me, 401);
    for (const transport of c.TRANSPORTS) {
      for (const ns of ['/', '/chat', '/notifications']) {
        const err = await c.connectRefused(server, ns, { transport, token: u.token });
        assert.equal(err.message, 'Authentication error', `${ns} over ${transport}`);
      }
    }
    const fresh = await c.http(server, 'POST', '/refresh', { json: { refreshToken: u.refreshToken } });
    assert.equal(fresh.status, 200, fresh.text);
    const again = await c.http(server, 'GET', '/me', { token: fresh.body.token });
    assert.equal(again.status, 200, again.text);
    const socket = await c.connect(server, '/chat', { token: fresh.body.token, transport: c.TRANSPORTS[0] });
    assert.equal(socket.connected, true);
  });
});
