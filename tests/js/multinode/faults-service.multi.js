'use strict';
// The message service dies (SIGKILL) or freezes (SIGSTOP) under the
// gateways. Every send is answered — ok or UNAVAILABLE — within the gRPC
// deadline + 1 s, nothing answered ok is lost, the gateways use the
// restarted (or thawed) service again without being restarted themselves,
// and a resend stores each message once. Messages whose reply was lost are
// broadcast by their resend, so a member on the other node sees every
// stored message live.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const c = require('../lib/client');
const { assertAckOk } = require('../lib/shapes');
const { clusterForFile, until } = require('./lib/cluster');

const GRPC_TIMEOUT_MS = 2000;
/** PROTOCOL-side bound: every ack by the deadline + 1 s; 500 ms for the test's own scheduling. */
const ACK_BOUND_MS = GRPC_TIMEOUT_MS + 1000 + 500;

const cluster = clusterForFile('faults-service', 2, {
  gatewayEnv: {
    GRPC_TIMEOUT_MS: String(GRPC_TIMEOUT_MS),
    RATE_MESSAGES_PER_SEC: '1000',
    RATE_MESSAGES_BURST: '1000',
    // Sends as fast as acks come: not what the per-socket event budget is for.
    RATE_EVENTS_PER_SEC: '1000',
    RATE_EVENTS_BURST: '1000',
  },
});
after(c.closeAll);

async function on(i) {
  const gw = cluster.gateways[i];
  const u = await c.register(gw);
  return { ...u, socket: await c.connect(gw, '/chat', { token: u.token }) };
}

/** Sends and times the answer; an ack that never comes fails the test. */
async function timedSend(socket, payload) {
  const started = Date.now();
  const res = await c.ack(socket, 'sendMessage', payload, ACK_BOUND_MS + 5000);
  return { res, ms: Date.now() - started, payload };
}

async function fullHistory(socket, room) {
  const res = await c.ack(socket, 'history', { room, limit: 200 });
  assertAckOk(res);
  return res.messages;
}

describe('the message service fails under load', () => {
  it('SIGKILL mid-burst: every send answered in time, no ok lost, resends store once, all seen live', async (t) => {
    const alice = await on(0);
    const bob = await on(1);
    const room = c.uniqueName('ks');
    await c.join(alice.socket, room);
    await c.join(bob.socket, room);
    const live = c.record(bob.socket, ['message']);

    const N = 40;
    const sends = [];
    for (let i = 0; i < N; i += 1) {
      sends.push(timedSend(alice.socket, { room, content: `burst ${i}`, clientId: `${room}-${i}` }));
      if (i === 12) await cluster.service('chat-message').stop('SIGKILL');
      await c.sleep(15);
    }
    const results = await Promise.all(sends);
    const ok = results.filter((r) => r.res && r.res.ok === true);
    const failed = results.filter((r) => !(r.res && r.res.ok === true));
    const slowest = Math.max(...results.map((r) => r.ms));
    t.diagnostic(`killed at send 12: ${ok.length} ok, ${failed.length} failed, slowest ack ${slowest} ms`);
    for (const r of failed) {
      assert.equal(r.res.ok, false, JSON.stringify(r.res));
      assert.equal(r.res.error.code, 'UNAVAILABLE', JSON.stringify(r.res));
    }
    assert.ok(slowest <= ACK_BOUND_MS, `an ack took ${slowest} ms`);
    assert.ok(failed.length > 0, 'the kill went unnoticed?');

    const restartedAt = Date.now();
    await cluster.startService('chat-message');
    // The gateways were not restarted: their channels redial on their own.
    const recovered = await until('a send through each gateway succeeds again', async () => {
      const a = await c.ack(alice.socket, 'history', { room, limit: 1 });
      const b = await c.ack(bob.socket, 'history', { room, limit: 1 });
      return a.ok === true && b.ok === true;
    }, 15000);
    t.diagnostic(`calls succeeded again ${recovered} ms after the restart began (${Date.now() - restartedAt} ms in all)`);

    const stored = await fullHistory(bob.socket, room);
    const storedIds = new Set(stored.map((m) => m.id));
    for (const r of ok) assert.ok(storedIds.has(r.res.message.id), `acked ${r.payload.content} is not in history`);

    // The failed ones are resent with their clientId: each ends up stored once.
    for (const r of failed) {
      const again = await timedSend(alice.socket, r.payload);
      assertAckOk(again.res, r.payload.content);
    }
    const after = await fullHistory(bob.socket, room);
    const contents = after.map((m) => m.content);
    for (let i = 0; i < N; i += 1) {
      assert.equal(contents.filter((x) => x === `burst ${i}`).length, 1, `burst ${i} stored ${contents.filter((x) => x === `burst ${i}`).length}×`);
    }
    // Whatever was stored reached the member on the other node at least
    // once (a resend broadcasts a message whose reply was lost).
    await until('bob saw every stored message live', () => {
      const seen = new Set(live.seen.message.map((m) => m.id));
      return after.every((m) => seen.has(m.id));
    }, 5000).catch(() => {
      const seen = new Set(live.seen.message.map((m) => m.id));
      assert.fail(`never seen live: ${after.filter((m) => !seen.has(m.id)).map((m) => m.content)}`);
    });
  });

  it('SIGSTOP: sends answer UNAVAILABLE within the bound and succeed once it resumes', async (t) => {
    const alice = await on(0);
    const room = c.uniqueName('fz');
    await c.join(alice.socket, room);
    const proc = cluster.service('chat-message').child;
    proc.kill('SIGSTOP');
    let resumed = false;
    try {
      await c.sleep(200);
      // Two sends back to back: the second queues behind the first and is
      // still answered by its own deadline.
      const [a, b] = await Promise.all([
        timedSend(alice.socket, { room, content: 'frozen 1', clientId: `${room}-1` }),
        timedSend(alice.socket, { room, content: 'frozen 2', clientId: `${room}-2` }),
      ]);
      t.diagnostic(`frozen service: acks after ${a.ms} ms and ${b.ms} ms`);
      for (const r of [a, b]) {
        assert.equal(r.res.ok, false);
        assert.equal(r.res.error.code, 'UNAVAILABLE');
        assert.ok(r.ms <= ACK_BOUND_MS, `took ${r.ms} ms`);
      }
      proc.kill('SIGCONT');
      resumed = true;
      const thawedAt = Date.now();
      let last;
      await until('a send succeeds after SIGCONT', async () => {
        last = await timedSend(alice.socket, { room, content: 'frozen 1', clientId: `${room}-1` });
        return last.res.ok === true;
      }, 15000);
      t.diagnostic(`sends succeeded again ${Date.now() - thawedAt} ms after SIGCONT`);
      const again = await timedSend(alice.socket, { room, content: 'frozen 2', clientId: `${room}-2` });
      assertAckOk(again.res);
      const contents = (await fullHistory(alice.socket, room)).map((m) => m.content);
      assert.deepEqual(contents.sort(), ['frozen 1', 'frozen 2']);
    } finally {
      if (!resumed) proc.kill('SIGCONT');
    }
  });
});
