'use strict';
// PROTOCOL.md § Several gateway nodes: "the sending rate is counted per user
// across nodes". A user with sockets on two gateways shares one bucket of
// 10 messages a second with bursts of 20, and one notification a second.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const c = require('../lib/client');
const { assertAckError } = require('../lib/shapes');
const { clusterForFile } = require('./lib/cluster');

const cluster = clusterForFile('ratelimit', 2);
after(c.closeAll);

const BURST = 20;
const PER_SECOND = 10;

describe('rate limits across nodes', () => {
  it('a burst spread over two nodes is limited as one: the sum, not 20 per node', async () => {
    const user = await c.register(cluster.gateways[0]);
    const sockets = [];
    for (const gw of cluster.gateways) sockets.push(await c.connect(gw, '/chat', { token: user.token }));
    const room = c.uniqueName('rl');
    for (const s of sockets) await c.join(s, room);
    const started = Date.now();
    // 30 from each node: each alone is over the burst, and so is the sum.
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) =>
      c.ack(sockets[i % 2], 'sendMessage', { room, content: `burst ${i}` }, 15000)));
    const elapsed = Date.now() - started;
    const accepted = replies.filter((r) => r && r.ok === true);
    for (const r of replies) if (!r || r.ok !== true) assertAckError(r, 'RATE_LIMITED', 'burst reply');
    const max = BURST + Math.ceil((elapsed / 1000) * PER_SECOND) + 1;
    assert.ok(accepted.length >= BURST, `only ${accepted.length} accepted`);
    assert.ok(accepted.length <= max,
      `${accepted.length} accepted in ${elapsed} ms over two nodes; one shared bucket allows at most ${max}`);
    // Both nodes refused some: each counted the other's sends.
    for (const k of [0, 1]) {
      assert.ok(replies.some((r, i) => i % 2 === k && r && r.ok !== true), `node ${k} refused nothing`);
    }
  });

  it('one notification a second, whichever node it is sent from', async () => {
    const user = await c.register(cluster.gateways[0]);
    const a = await c.connect(cluster.gateways[0], '/notifications', { token: user.token });
    const b = await c.connect(cluster.gateways[1], '/notifications', { token: user.token });
    const first = await c.ack(a, 'sendNotification', { message: 'one' });
    assert.equal(first.ok, true, JSON.stringify(first));
    assertAckError(await c.ack(b, 'sendNotification', { message: 'two' }), 'RATE_LIMITED');
    await c.sleep(1100);
    assert.equal((await c.ack(b, 'sendNotification', { message: 'three' })).ok, true);
  });
});
