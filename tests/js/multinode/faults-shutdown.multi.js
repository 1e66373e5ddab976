'use strict';
// A gateway is stopped (SIGTERM) while its clients send as fast as they
// can: `/healthz` says `draining` at once, every event it accepted is
// acknowledged, its clients are disconnected by the server (`io server
// disconnect`), it exits 0 within SHUTDOWN_GRACE_SECS, and no message
// acknowledged ok is missing afterwards. Unacknowledged sends, resent on the
// other node with their clientId, are stored once.
//
// Also: a gateway started while Redis is away serves its own sockets at
// once and joins the cluster when Redis comes.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const c = require('../lib/client');
const { assertAckOk } = require('../lib/shapes');
const { clusterForFile, healthz, until } = require('./lib/cluster');

const GRACE_SECS = 5;
const cluster = clusterForFile('faults-shutdown', 2, {
  gatewayEnv: {
    SHUTDOWN_GRACE_SECS: String(GRACE_SECS),
    RATE_MESSAGES_PER_SEC: '1000',
    RATE_MESSAGES_BURST: '1000',
    // Sends as fast as acks come: not what the per-socket event budget is for.
    RATE_EVENTS_PER_SEC: '1000',
    RATE_EVENTS_BURST: '1000',
  },
});
after(c.closeAll);

async function on(i, user) {
  const gw = cluster.gateways[i];
  const u = user || await c.register(gw);
  return { ...u, socket: await c.connect(gw, '/chat', { token: u.token }) };
}

/** Every message of `room`, paging back with `before` (a fast machine
 * stores more than one page during the burst). */
async function fullHistory(socket, room) {
  const all = [];
  let before;
  for (;;) {
    const res = await c.ack(socket, 'history', before ? { room, limit: 200, before } : { room, limit: 200 });
    assertAckOk(res);
    all.unshift(...res.messages);
    if (!res.hasMore || res.messages.length === 0) return all;
    before = res.messages[0].id;
  }
}

describe('a gateway stopped gracefully', () => {
  it('SIGTERM under load: draining, every accepted event acked, io server disconnect, exit 0 in time, nothing lost', async (t) => {
    const senders = [await on(0), await on(0), await on(0)];
    const bob = await on(1);
    const room = c.uniqueName('st');
    for (const u of [...senders, bob]) await c.join(u.socket, room);

    const outcomes = []; // { payload, user, res | error }
    const reasons = [];
    let stopped = false;
    const loops = senders.map((u, k) => (async () => {
      u.socket.once('disconnect', (reason) => { reasons.push(reason); });
      for (let i = 0; !stopped && u.socket.connected; i += 1) {
        const payload = { room, content: `u${k} m${i}`, clientId: `${room}-${k}-${i}` };
        try {
          outcomes.push({ u, payload, res: await c.ack(u.socket, 'sendMessage', payload, 10000) });
        } catch (error) {
          outcomes.push({ u, payload, error: error.message });
        }
      }
    })());

    await c.sleep(400);
    const gw = cluster.gateways[0];
    const exited = new Promise((resolve) => gw.proc.child.once('exit', (code, signal) => resolve({ code, signal })));
    const termAt = Date.now();
    gw.proc.child.kill('SIGTERM');
    let h;
    const draining = await until('/healthz says draining', async () => {
      h = await healthz(gw.url);
      return h.status === 503;
    }, 1000);
    t.diagnostic(`/healthz 503 ${draining} ms after SIGTERM: ${h.body}`);
    assert.deepEqual(JSON.parse(h.body), { status: 'draining' });
    // No new session on a draining node.
    await assert.rejects(c.connect(gw, '/chat', { token: bob.token }));

    const exit = await exited;
    const took = Date.now() - termAt;
    stopped = true;
    await Promise.all(loops);
    t.diagnostic(`exit ${JSON.stringify(exit)} after ${took} ms; reasons ${JSON.stringify(reasons)}; ` +
      `${outcomes.length} sends: ${outcomes.filter((o) => o.res && o.res.ok).length} ok, ` +
      `${outcomes.filter((o) => o.res && !o.res.ok).length} refused, ${outcomes.filter((o) => o.error).length} unanswered`);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(took <= GRACE_SECS * 1000 + 1000, `exit took ${took} ms`);
    assert.deepEqual(reasons, ['io server disconnect', 'io server disconnect', 'io server disconnect']);
    for (const o of outcomes.filter((x) => x.res && !x.res.ok)) {
      assert.equal(o.res.error.code, 'UNAVAILABLE', JSON.stringify(o.res));
    }

    // Zero acked-then-lost.
    const stored = new Set((await fullHistory(bob.socket, room)).map((m) => m.id));
    const acked = outcomes.filter((o) => o.res && o.res.ok);
    assert.ok(acked.length > 0);
    for (const o of acked) assert.ok(stored.has(o.res.message.id), `${o.payload.content} acked but lost`);

    // The rest is resent on the other node and stored once.
    const backs = new Map();
    for (const o of outcomes.filter((x) => !(x.res && x.res.ok))) {
      if (!backs.has(o.u)) {
        const b = await on(1, o.u);
        await c.join(b.socket, room);
        backs.set(o.u, b);
      }
      const back = backs.get(o.u);
      assertAckOk(await c.ack(back.socket, 'sendMessage', o.payload));
    }
    const contents = (await fullHistory(bob.socket, room)).map((m) => m.content);
    assert.equal(new Set(contents).size, contents.length, 'a message stored twice');
    assert.equal(contents.length, outcomes.length);
  });

  it('a gateway started without Redis serves its sockets and joins the cluster when Redis comes', async (t) => {
    await cluster.stopRedis();
    const startedAt = Date.now();
    await cluster.startGateway(0);
    t.diagnostic(`healthy without Redis after ${Date.now() - startedAt} ms`);
    const h = JSON.parse((await healthz(cluster.gateways[0].url)).body);
    assert.equal(h.status, 'degraded');
    assert.ok(h.degraded.includes('redis'));
    const alice = await on(0);
    const room = c.uniqueName('nr');
    await c.join(alice.socket, room);
    assertAckOk(await c.ack(alice.socket, 'sendMessage', { room, content: 'alone' }));

    await cluster.startRedis();
    const joined = await until('both nodes report ok', async () => {
      const hs = await Promise.all(cluster.gateways.map((g) => healthz(g.url)));
      return hs.every((x) => x.status === 200 && JSON.parse(x.body).status === 'ok');
    }, 15000);
    t.diagnostic(`cluster whole again ${joined} ms after Redis started`);
    const bob = await on(1);
    await c.join(bob.socket, room);
    const rec = c.record(alice.socket, ['message']);
    await until('cross-node delivery works', async () => {
      const sent = await c.ack(bob.socket, 'sendMessage', { room, content: `hello ${Date.now()}` });
      assertAckOk(sent);
      await c.sleep(200);
      return rec.seen.message.some((m) => m.id === sent.message.id);
    }, 15000);
  });
});
