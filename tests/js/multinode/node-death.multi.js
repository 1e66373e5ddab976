'use strict';
// A gateway node that dies (SIGKILL) or stops answering (SIGSTOP): the other
// nodes keep working, and its users leave presence within a bound. A killed
// node's Redis connection closes with it, so Redis stops counting it at
// once; a frozen one is waited for at most the adapter's request timeout
// (2 s) and left out of the answer.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const { describe, it, after } = require('node:test');
const c = require('../lib/client');
const { assertAckOk } = require('../lib/shapes');
const { clusterForFile, until } = require('./lib/cluster');

const cluster = clusterForFile('node-death', 3);
after(c.closeAll);

/** The bound this file holds the gateway to, from a node's death to presence without its users. */
const DEAD_NODE_BOUND_MS = 3000;
const FROZEN_NODE_REQUEST_TIMEOUT_MS = 2000;

async function presence(socket, room) {
  const p = await c.ack(socket, 'presence', { room });
  assertAckOk(p);
  return p.users;
}

/** Whether every thread of process `pid` is stopped (state T in /proc). */
function allStopped(pid) {
  const dir = `/proc/${pid}/task`;
  return fs.readdirSync(dir).every((tid) => {
    try {
      const stat = fs.readFileSync(`${dir}/${tid}/stat`, 'utf8');
      // "pid (comm) S ...": the state follows the last ')'.
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
    } catch {
      return true; // the thread is gone
    }
  });
}

async function on(i, user) {
  const gw = cluster.gateways[i];
  const u = user || await c.register(gw);
  return { ...u, socket: await c.connect(gw, '/chat', { token: u.token }) };
}

describe('a gateway node dies', () => {
  it('SIGKILL: its users leave presence within the bound; the other nodes carry on', async (t) => {
    const alice = await on(0);
    const bob = await on(1);
    const dave = await on(2);
    const frank1 = await on(1);
    const frank2 = await on(2, frank1); // frank is on the dying node and another
    const room = c.uniqueName('dn');
    for (const u of [alice, bob, dave, frank1, frank2]) await c.join(u.socket, room);
    const everyone = [alice, bob, dave, frank1].map((u) => u.username).sort();
    assert.deepEqual(await presence(alice.socket, room), everyone);

    const killedAt = Date.now();
    await cluster.gateways[2].proc.stop('SIGKILL');
    const survivors = [alice, bob, frank1].map((u) => u.username).sort();
    await until('presence drops the dead node\'s users', async () => {
      const users = await presence(alice.socket, room);
      return JSON.stringify(users) === JSON.stringify(survivors);
    }, 10000);
    const noticed = Date.now() - killedAt;
    t.diagnostic(`presence noticed the killed node after ${noticed} ms`);
    assert.ok(noticed <= DEAD_NODE_BOUND_MS, `took ${noticed} ms`);
    assert.deepEqual(await presence(bob.socket, room), survivors);

    const rec = c.record(bob.socket, ['message']);
    const sent = await c.ack(alice.socket, 'sendMessage', { room, content: 'still here' });
    assertAckOk(sent);
    const [m] = await rec.waitFor('message');
    assert.equal(m.id, sent.message.id);
  });

  it('SIGSTOP: a frozen node is waited for at most the request timeout and left out', async (t) => {
    const alice = await on(0);
    const bob = await on(1);
    const room = c.uniqueName('fz');
    await c.join(alice.socket, room);
    await c.join(bob.socket, room);
    const frozen = cluster.gateways[1].proc.child;
    frozen.kill('SIGSTOP');
    try {
      // The signal is queued at once but takes effect a moment later.
      await until('every thread of the node is stopped', () => allStopped(frozen.pid), 5000);
      const started = Date.now();
      const users = await presence(alice.socket, room);
      const took = Date.now() - started;
      t.diagnostic(`presence answered in ${took} ms with a frozen node: ${JSON.stringify(users)}`);
      assert.deepEqual(users, [alice.username]);
      assert.ok(took >= FROZEN_NODE_REQUEST_TIMEOUT_MS - 200 && took <= FROZEN_NODE_REQUEST_TIMEOUT_MS + 1500,
        `took ${took} ms`);
    } finally {
      frozen.kill('SIGCONT');
    }
    // Thawed, it answers again.
    await until('the thawed node is counted again', async () =>
      JSON.stringify(await presence(alice.socket, room)) === JSON.stringify([alice.username, bob.username].sort()));
  });
});
