'use strict';
// PROTOCOL.md § Namespaces and authentication: every namespace needs the token.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const { TRANSPORTS, register, connect, connectRefused, closeAll, http } = require('../lib/client');

const server = serverForFile('handshake');
after(closeAll);

const NAMESPACES = ['/', '/chat', '/notifications'];

for (const transport of TRANSPORTS) {
  describe(`handshake over ${transport}`, () => {
    for (const ns of NAMESPACES) {
      it(`${ns}: a missing token is refused with "No token provided"`, async () => {
        const noAuth = await connectRefused(server, ns, { transport });
        assert.equal(noAuth.message, 'No token provided');
        const emptyAuth = await connectRefused(server, ns, { transport, auth: {} });
        assert.equal(emptyAuth.message, 'No token provided');
      });

      it(`${ns}: a bad token is refused with "Authentication error"`, async () => {
        const u = await register(server);
        const [h, p, s] = u.token.split('.');
        const tampered = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
        for (const token of ['garbage', u.refreshToken, tampered, `${h}.${p}.`]) {
          const err = await connectRefused(server, ns, { transport, token });
          assert.equal(err.message, 'Authentication error', `token ${token.slice(0, 20)}…`);
        }
      });

      it(`${ns}: a valid access token connects`, async () => {
        const u = await register(server);
        const socket = await connect(server, ns, { transport, token: u.token });
        assert.equal(socket.connected, true);
        socket.close();
      });
    }

    it('a token stays valid for sockets after its refresh token is rotated', async () => {
      const u = await register(server);
      const r = await http(server, 'POST', '/refresh', { json: { refreshToken: u.refreshToken } });
      assert.equal(r.status, 200);
      const socket = await connect(server, '/chat', { transport, token: r.body.token });
      assert.equal(socket.connected, true);
      socket.close();
    });
  });
}
