'use strict';
// Frozen, not dead (issue 19): a process that stops answering but keeps its
// connections open (SIGSTOP — a stuck host, a long pause). Two gateways
// behind the compose stack's nginx (infra/nginx.conf) and Redis:
// - a frozen gateway: its client notices within 10 s, is connected again
//   through nginx to the other gateway soon after, and catches up with
//   `history {after}` exactly once;
// - a frozen Redis: delivery within a node goes on, delivery across nodes
//   resumes once it thaws;
// and after everything thaws, nothing acknowledged is missing.
// (A frozen message service is faults-service.multi.js.)

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');
const c = require('../lib/client');
const { assertAckOk } = require('../lib/shapes');
const { clusterForFile, until } = require('./lib/cluster');
const { startNginx } = require('./lib/nginx');

const GRPC_TIMEOUT_MS = 2000;
const cluster = clusterForFile('failover', 2, {
  gatewayEnv: { GRPC_TIMEOUT_MS: String(GRPC_TIMEOUT_MS), RATE_MESSAGES_PER_SEC: '1000', RATE_MESSAGES_BURST: '1000', RATE_EVENTS_PER_SEC: '1000', RATE_EVENTS_BURST: '1000' },
});
let proxy;
after(async () => {
  c.closeAll();
  // Never leave a process stopped behind: the cluster's stop would hang on it.
  for (const p of [cluster.redis, ...cluster.gateways.map((g) => g.proc)]) if (p && !p.exited) p.child.kill('SIGCONT');
  if (proxy) await proxy.stop();
});

/** What README recommends to third-party clients: retry soon, with jitter. */
const RECONNECTING = { transports: ['polling', 'websocket'], reconnection: true, reconnectionDelay: 500, reconnectionDelayMax: 2000, randomizationFactor: 0.5 };
/** The heartbeat's worst case (PING_INTERVAL_MS 5000 + PING_TIMEOUT_MS 4000) and a margin. */
const DETECT_BOUND_MS = 10000;
const RECONNECT_BOUND_MS = 10000;
/** An event's answer comes by GRPC_TIMEOUT_MS + 1 s whatever is frozen. */
const ACK_BOUND_MS = GRPC_TIMEOUT_MS + 1000 + 500;

function freeze(proc) {
  proc.child.kill('SIGSTOP');
}
function thaw(proc) {
  proc.child.kill('SIGCONT');
}
const next = (socket, event) => new Promise((resolve) => socket.once(event, (...a) => resolve(a)));

async function timedAck(socket, event, payload) {
  const t0 = Date.now();
  const res = await c.ack(socket, event, payload, ACK_BOUND_MS + 2000);
  return { res, ms: Date.now() - t0 };
}

describe('failover when something freezes', () => {
  // Inside the suite: the file's cluster is up by then.
  before(async () => {
    proxy = await startNginx(cluster);
  });

  it('a frozen gateway: its client is back through nginx on the other one and catches up exactly once', async (t) => {
    const front = { url: proxy.url };
    const pinned = await proxy.upstream();
    const frozenIdx = cluster.gateways.findIndex((g) => new URL(g.url).host === pinned);
    assert.ok(frozenIdx >= 0, `nginx answered from ${pinned}, not a gateway of this cluster`);
    const frozen = cluster.gateways[frozenIdx];
    const live = cluster.gateways[1 - frozenIdx];

    const alice = await c.register(front);
    const socket = await c.connect(front, '/chat', { token: alice.token, extra: RECONNECTING });
    const bob = await c.userWithSocket(live);
    const room = c.uniqueName('fo');
    await c.join(socket, room);
    await c.join(bob.socket, room);
    const before = await c.sendMany(bob.socket, room, 2, 'before');
    const lastSeen = before[before.length - 1].id;

    const lost = next(socket, 'disconnect');
    const frozenAt = Date.now();
    freeze(frozen.proc);
    try {
      // The room goes on on the live node meanwhile.
      const missed = await c.sendMany(bob.socket, room, 5, 'missed');
      const [reason] = await lost;
      const detected = Date.now() - frozenAt;
      t.diagnostic(`the client noticed the frozen gateway after ${detected} ms ('${reason}')`);
      assert.ok(detected <= DETECT_BOUND_MS, `noticed after ${detected} ms`);
      await next(socket, 'connect');
      const back = Date.now() - frozenAt;
      t.diagnostic(`connected again through nginx ${back - detected} ms later (${back} ms after the freeze)`);
      assert.ok(back - detected <= RECONNECT_BOUND_MS, `reconnected ${back - detected} ms after noticing`);

      // Resuming as the web client does: re-join, then `history {after}`.
      await c.join(socket, room);
      const caught = await c.ack(socket, 'history', { room, after: lastSeen });
      assertAckOk(caught);
      assert.deepEqual(caught.messages.map((m) => m.id), missed.map((m) => m.id), 'each missed message exactly once, in order');
      assert.equal(caught.hasMore, false);
      // And it is live again, on the other node.
      const rec = c.record(socket, ['message']);
      const sent = await c.ack(bob.socket, 'sendMessage', { room, content: 'welcome back' });
      assertAckOk(sent);
      const [m] = await rec.waitFor('message');
      assert.equal(m.id, sent.message.id);
    } finally {
      thaw(frozen.proc);
    }

    // Thawed, the old node notices its sockets are gone; nothing acked was lost.
    const all = await c.ack(bob.socket, 'history', { room, limit: 50 });
    assertAckOk(all);
    assert.deepEqual(all.messages.map((m) => m.content), ['before 0', 'before 1', 'missed 0', 'missed 1', 'missed 2', 'missed 3', 'missed 4', 'welcome back']);
  });

  it('a frozen Redis: delivery within a node goes on; across nodes it resumes after the thaw', async (t) => {
    const [g0, g1] = cluster.gateways;
    const a = await c.userWithSocket(g0);
    const b = await c.userWithSocket(g0);
    const far = await c.userWithSocket(g1);
    const room = c.uniqueName('fr');
    for (const u of [a, b, far]) await c.join(u.socket, room);
    const near = c.record(b.socket, ['message']);
    const remote = c.record(far.socket, ['message']);
    const acked = [];

    freeze(cluster.redis);
    try {
      for (let i = 0; i < 3; i += 1) {
        const { res, ms } = await timedAck(a.socket, 'sendMessage', { room, content: `frozen ${i}` });
        t.diagnostic(`send ${i} with Redis frozen answered in ${ms} ms: ${res.ok ? 'ok' : res.error.code}`);
        assert.ok(ms <= ACK_BOUND_MS, `answered after ${ms} ms`);
        assertAckOk(res);
        acked.push(res.message);
      }
      const got = await near.waitFor('message', 3, ACK_BOUND_MS);
      assert.deepEqual(got.map((m) => m.id), acked.map((m) => m.id), 'delivered on the same node while Redis is frozen');
    } finally {
      thaw(cluster.redis);
    }

    const thawedAt = Date.now();
    let probe = 0;
    await until('a message crosses nodes again', async () => {
      const res = await c.ack(a.socket, 'sendMessage', { room, content: `thawed ${probe++}` });
      if (res.ok) acked.push(res.message);
      await c.sleep(200);
      return remote.seen.message.some((m) => m.content.startsWith('thawed'));
    }, 15000);
    t.diagnostic(`cross-node delivery resumed ${Date.now() - thawedAt} ms after the thaw`);

    const all = await c.ack(far.socket, 'history', { room, limit: 100 });
    assertAckOk(all);
    const stored = new Set(all.messages.map((m) => m.id));
    for (const m of acked) assert.ok(stored.has(m.id), `acknowledged message "${m.content}" is missing`);
  });
});
