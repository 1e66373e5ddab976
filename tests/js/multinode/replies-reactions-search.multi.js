'use strict';
// PROTOCOL.md § Replies, reactions and search across two gateway nodes:
// messageReactions and replies reach sockets on the other node; search
// answers the same on either node.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const c = require('../lib/client');
const { assertAckOk } = require('../lib/shapes');
const { clusterForFile } = require('./lib/cluster');

const cluster = clusterForFile('replies-reactions-search', 2);
after(c.closeAll);

async function on(i) {
  const u = await c.register(cluster.gateways[i]);
  const socket = await c.connect(cluster.gateways[i], '/chat', { token: u.token });
  return { ...u, socket };
}

describe('v1.2 room events cross nodes', () => {
  it('a reply and messageReactions reach the other node; search sees the same on both', async () => {
    const alice = await on(0);
    const bob = await on(1);
    const room = c.uniqueName('mn');
    await c.join(alice.socket, room);
    await c.join(bob.socket, room);
    const recA = c.record(alice.socket, ['message', 'messageReactions']);
    const recB = c.record(bob.socket, ['message', 'messageReactions']);

    const original = await c.ack(alice.socket, 'sendMessage', { room, content: 'Réunion demain?' });
    assertAckOk(original);
    const reply = await c.ack(bob.socket, 'sendMessage', { room, content: 'oui', replyTo: original.message.id });
    assertAckOk(reply);
    const [, seen] = await recA.waitFor('message', 2);
    assert.deepEqual(seen.replyTo, { id: original.message.id, sender: alice.username, excerpt: 'Réunion demain?' });

    const res = await c.ack(alice.socket, 'react', { id: original.message.id, emoji: '👍', on: true });
    assert.deepEqual(res.reactions, [{ emoji: '👍', count: 1, users: [alice.username] }]);
    const [ev] = await recB.waitFor('messageReactions');
    assert.deepEqual(ev, { id: original.message.id, room, reactions: res.reactions });
    await recA.waitFor('messageReactions');

    for (const s of [alice.socket, bob.socket]) {
      const found = await c.ack(s, 'search', { query: 'REUNION dem', room });
      assert.deepEqual(found.results.map((x) => x.message.id), [original.message.id]);
      assert.deepEqual(found.results[0].message.reactions, res.reactions);
      assert.deepEqual(found.results[0].matches, [[0, 7], [8, 14]]);
    }
  });
});
