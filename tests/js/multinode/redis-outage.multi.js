'use strict';
// Redis goes away and comes back on the same port. Meanwhile every node
// serves its own sockets: sends are stored, acknowledged and delivered on
// the sender's node; /healthz names Redis. Once Redis is back the nodes
// reconnect and re-subscribe by themselves and cross-node delivery resumes.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const c = require('../lib/client');
const { assertAckOk } = require('../lib/shapes');
const { clusterForFile, healthz, until } = require('./lib/cluster');

const cluster = clusterForFile('redis-outage', 2);
after(c.closeAll);

async function on(i) {
  const gw = cluster.gateways[i];
  const u = await c.register(gw);
  return { ...u, socket: await c.connect(gw, '/chat', { token: u.token }) };
}

describe('Redis outage', () => {
  it('is survived: local service during it, cross-node delivery after it', async (t) => {
    const [g0, g1] = cluster.gateways;
    const alice = await on(0);
    const carol = await on(0);
    const bob = await on(1);
    const room = c.uniqueName('ro');
    for (const u of [alice, carol, bob]) await c.join(u.socket, room);
    const recA = c.record(alice.socket, ['message']);
    const recB = c.record(bob.socket, ['message']);
    const recC = c.record(carol.socket, ['message']);

    await cluster.stopRedis();
    // The nodes still serve their own sockets: 200 "degraded", naming Redis.
    const down = await until('/healthz says degraded: redis on both nodes', async () => {
      const hs = await Promise.all([healthz(g0.url), healthz(g1.url)]);
      return hs.every((h) => {
        if (h.status !== 200) return false;
        const body = JSON.parse(h.body);
        return body.status === 'degraded' && body.degraded.includes('redis');
      });
    }, 10000);
    t.diagnostic(`/healthz reported redis down after ${down} ms`);

    const started = Date.now();
    const during = await c.ack(carol.socket, 'sendMessage', { room, content: 'during the outage' });
    const took = Date.now() - started;
    assertAckOk(during);
    assert.ok(took < 1500, `the send took ${took} ms during the outage`);
    const [local] = await recA.waitFor('message');
    assert.equal(local.id, during.message.id, 'not delivered on the sender\'s own node');
    await recC.waitFor('message');
    await c.sleep(c.QUIET_MS);
    assert.equal(recB.count('message'), 0, 'crossed to node 1 with Redis down?');
    // This node's view of the room, rather than an error.
    const p = await c.ack(alice.socket, 'presence', { room });
    assertAckOk(p);
    assert.deepEqual(p.users, [alice.username, carol.username].sort());
    // Joining still works, on either node.
    const late = await on(1);
    await c.join(late.socket, room);
    // Rate limits fall back to this node's buckets (still limited, still answering).
    assertAckOk(await c.ack(bob.socket, 'sendMessage', { room, content: 'bob, alone on node 1' }));
    await recB.waitFor('message');

    await cluster.startRedis();
    const back = await until('/healthz is 200 on both nodes again', async () => {
      const hs = await Promise.all([healthz(g0.url), healthz(g1.url)]);
      return hs.every((h) => h.status === 200 && !h.body.includes('redis'));
    }, 20000);
    t.diagnostic(`/healthz reported redis back after ${back} ms`);

    const after1 = await c.ack(alice.socket, 'sendMessage', { room, content: 'after the outage' });
    assertAckOk(after1);
    const got = await recB.waitFor('message', 2);
    assert.equal(got[1].id, after1.message.id, `cross-node delivery did not resume: ${JSON.stringify(recB.seen.message.map((m) => m.content))}`);
    const after2 = await c.ack(bob.socket, 'sendMessage', { room, content: 'and back' });
    assertAckOk(after2);
    // alice: the outage message, her own, then bob's from the other node.
    const gotA = await recA.waitFor('message', 3);
    assert.equal(gotA[2].id, after2.message.id);
    const p2 = await c.ack(bob.socket, 'presence', { room });
    assert.deepEqual(p2.users, [alice.username, bob.username, carol.username, late.username].sort());
    // The message sent during the outage was stored: bob can read it.
    const hist = await c.ack(bob.socket, 'history', { room });
    assertAckOk(hist);
    assert.ok(hist.messages.some((m) => m.id === during.message.id));
  });
});
