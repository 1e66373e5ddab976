'use strict';
// PROTOCOL.md § Message: `avatar` is the sender's avatar when the message was
// sent, also when the avatar was uploaded through another gateway node
// (each node remembers avatars; an upload tells every node over Redis).

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const c = require('../lib/client');
const { PNG, upload } = require('../lib/media');
const { clusterForFile } = require('./lib/cluster');

const cluster = clusterForFile('avatar', 2);
after(c.closeAll);

describe('avatars across nodes', () => {
  it('a send through node B carries the avatar just uploaded through node A', async () => {
    const [gwA, gwB] = cluster.gateways;
    const user = await c.register(gwA);
    const socket = await c.connect(gwB, '/chat', { token: user.token });
    const room = c.uniqueName('av');
    await c.join(socket, room);
    const before = await c.ack(socket, 'sendMessage', { room, content: 'no avatar yet' });
    assert.equal(before.ok, true, JSON.stringify(before));
    assert.equal(before.message.avatar, null);
    for (let round = 0; round < 2; round += 1) {
      const up = await upload(gwA, user.token, { field: 'avatar', bytes: PNG, name: `me${round}.png`, type: 'image/png' });
      assert.equal(up.status, 201, JSON.stringify(up.body));
      const sent = await c.ack(socket, 'sendMessage', { room, content: `with avatar ${round}` });
      assert.equal(sent.ok, true, JSON.stringify(sent));
      // Relative without PUBLIC_URL (PROTOCOL.md § Browsers).
      assert.equal(sent.message.avatar, `/media/${up.body.id}`, `round ${round}`);
    }
  });
});
