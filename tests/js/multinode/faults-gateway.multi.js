'use strict';
// A gateway node dies (SIGKILL) with users on it: the surviving node
// announces `userLeft` for them within seconds, its clients reconnect to the
// other node and catch up with `history {after}` exactly once; and one user
// joining a room on two nodes at the same moment is announced once.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const c = require('../lib/client');
const { assertAckOk } = require('../lib/shapes');
const { clusterForFile, until } = require('./lib/cluster');

const cluster = clusterForFile('faults-gateway', 2, {
  gatewayEnv: { RATE_MESSAGES_PER_SEC: '1000', RATE_MESSAGES_BURST: '1000', RATE_EVENTS_PER_SEC: '1000', RATE_EVENTS_BURST: '1000' },
});
after(c.closeAll);

/** From a node's death to `userLeft` on the survivors: heartbeat expiry (3 s) + a tick. */
const USER_LEFT_BOUND_MS = 6000;

async function on(i, user) {
  const gw = cluster.gateways[i];
  const u = user || await c.register(gw);
  return { ...u, socket: await c.connect(gw, '/chat', { token: u.token }) };
}

describe('a gateway node fails', () => {
  it('one user joining on two nodes at once is announced once', async () => {
    const carol = await on(1);
    for (let round = 0; round < 5; round += 1) {
      const room = c.uniqueName('sj');
      await c.join(carol.socket, room);
      const rec = c.record(carol.socket, ['userJoined']);
      const dave0 = await on(0);
      const dave1 = await on(1, dave0);
      await Promise.all([c.join(dave0.socket, room), c.join(dave1.socket, room)]);
      await c.sleep(c.QUIET_MS);
      const joined = rec.seen.userJoined.filter((e) => e.user === dave0.username);
      assert.equal(joined.length, 1, `round ${round}: ${JSON.stringify(rec.seen.userJoined)}`);
      // And leaving on both at once is announced once too.
      const left = c.record(carol.socket, ['userLeft']);
      await Promise.all([
        c.ack(dave0.socket, 'leaveRoom', { room }),
        c.ack(dave1.socket, 'leaveRoom', { room }),
      ]);
      await c.sleep(c.QUIET_MS);
      assert.equal(left.seen.userLeft.filter((e) => e.user === dave0.username).length, 1, `round ${round}`);
      dave0.socket.close();
      dave1.socket.close();
    }
  });

  it('SIGKILL: userLeft for its users within seconds; its clients catch up on the other node exactly once', async (t) => {
    const alice = await on(0); // on the node that dies
    const frank0 = await on(0);
    const frank1 = await on(1, frank0); // also on the survivor: frank never leaves
    const bob = await on(1);
    const room = c.uniqueName('gk');
    for (const u of [alice, frank0, frank1, bob]) await c.join(u.socket, room);
    const sentBefore = await c.sendMany(alice.socket, room, 3, 'before');
    const lastSeen = sentBefore[sentBefore.length - 1].id;
    const left = c.record(bob.socket, ['userLeft']);
    const disconnected = new Promise((resolve) => alice.socket.once('disconnect', resolve));

    const killedAt = Date.now();
    await cluster.gateways[0].proc.stop('SIGKILL');
    const reason = await disconnected;
    t.diagnostic(`alice's client saw '${reason}' after ${Date.now() - killedAt} ms`);
    assert.equal(reason, 'transport close');

    const [gone] = await left.waitFor('userLeft', 1, USER_LEFT_BOUND_MS + 2000);
    const noticed = Date.now() - killedAt;
    t.diagnostic(`userLeft for the dead node's user after ${noticed} ms`);
    assert.deepEqual(gone, { room, user: alice.username });
    assert.ok(noticed <= USER_LEFT_BOUND_MS, `took ${noticed} ms`);
    await c.sleep(c.QUIET_MS);
    // frank still has a socket in the room on the survivor.
    assert.deepEqual(left.seen.userLeft, [gone]);
    const p = await c.ack(bob.socket, 'presence', { room });
    assertAckOk(p);
    assert.deepEqual(p.users, [bob.username, frank0.username].sort());

    // Meanwhile the room goes on.
    const missed = await c.sendMany(bob.socket, room, 4, 'missed');
    // Alice's client comes back on the survivor, re-joins and catches up.
    const back = await on(1, alice);
    const joinedAgain = c.record(bob.socket, ['userJoined']);
    await c.join(back.socket, room);
    const caught = await c.ack(back.socket, 'history', { room, after: lastSeen });
    assertAckOk(caught);
    assert.deepEqual(caught.messages.map((m) => m.id), missed.map((m) => m.id), 'each missed message exactly once, in order');
    assert.equal(caught.hasMore, false);
    await joinedAgain.waitFor('userJoined');
    await c.sleep(c.QUIET_MS);
    assert.equal(joinedAgain.count('userJoined'), 1);
    // Back in the cluster: the survivor delivers to it live.
    const rec = c.record(back.socket, ['message']);
    const sent = await c.ack(bob.socket, 'sendMessage', { room, content: 'welcome back' });
    assertAckOk(sent);
    const [m] = await rec.waitFor('message');
    assert.equal(m.id, sent.message.id);

    // The dead node comes back and is part of the cluster again.
    await cluster.startGateway(0);
    const late = await on(0);
    await c.join(late.socket, room);
    const lateRec = c.record(late.socket, ['message']);
    const again = await c.ack(bob.socket, 'sendMessage', { room, content: 'all nodes again' });
    assertAckOk(again);
    await lateRec.waitFor('message');
    await until('presence counts both nodes', async () => {
      const r = await c.ack(bob.socket, 'presence', { room });
      return r.ok && r.users.includes(late.username) && r.users.includes(alice.username);
    });
  });
});
