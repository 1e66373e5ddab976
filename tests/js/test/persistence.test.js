'use strict';
// A restart of the binary with the same DATA_DIR keeps users, messages and media.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');
const { PNG, upload, absolute } = require('../lib/media');
const { assertAckOk, assertUser } = require('../lib/shapes');

const server = serverForFile('persistence');
after(c.closeAll);

describe('restart with the same DATA_DIR', () => {
  it('keeps users, messages, read positions and media', async () => {
    const transport = c.TRANSPORTS[0];
    const a = await c.userWithSocket(server, transport);
    const r = c.uniqueName('p');
    await c.join(a.socket, r);
    const avatar = await upload(server, a.token, { field: 'avatar', bytes: PNG, name: 'me.png', type: 'image/png' });
    assert.equal(avatar.status, 201, avatar.text);
    const file = await upload(server, a.token, { bytes: Buffer.from('keep these bytes'), name: 'k.txt', type: 'text/plain' });
    assert.equal(file.status, 201, file.text);
    const sent = [];
    for (const content of ['first', 'second']) {
      const res = await c.ack(a.socket, 'sendMessage', { room: r, content, clientId: `p-${content}`, attachments: content === 'second' ? [file.body.id] : [] });
      assertAckOk(res);
      sent.push(res.message);
    }
    c.closeAll();

    await server.restart();

    const login = await c.http(server, 'POST', '/login', { json: { username: a.username, password: a.password } });
    assert.equal(login.status, 200, login.text);
    assertUser(login.body.user, a.username, avatar.body.url);
    assert.equal(login.body.user.id, a.user.id);
    const refreshed = await c.http(server, 'POST', '/refresh', { json: { refreshToken: a.refreshToken } });
    assert.equal(refreshed.status, 200, `a refresh token issued before the restart: ${refreshed.text}`);
    const socket = await c.connect(server, '/chat', { token: login.body.token, transport });
    const joined = await c.ack(socket, 'joinRoom', { room: r });
    assertAckOk(joined);
    assert.deepEqual(joined.messages, sent);
    // The clientId index survived too.
    const again = await c.ack(socket, 'sendMessage', { room: r, content: 'first', clientId: 'p-first' });
    assert.deepEqual(again.message, sent[0]);
    for (const [url, bytes] of [[avatar.body.url, PNG], [file.body.url, Buffer.from('keep these bytes')]]) {
      const res = await fetch(absolute(server, url));
      assert.equal(res.status, 200, url);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), `${url} changed across the restart`);
    }
    const dup = await c.http(server, 'POST', '/register', { json: { username: a.username, password: 'another pass' } });
    assert.equal(dup.status, 409);
  });
});
