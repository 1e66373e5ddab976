'use strict';
// The one-process `chat` stopped mid-burst, on the same DATA_DIR:
// killed (SIGKILL) — every message acknowledged ok is there after the
// restart; stopped (SIGTERM) — clients are disconnected by the server
// (`io server disconnect`), every accepted send is acknowledged, it exits 0
// within SHUTDOWN_GRACE_SECS, and nothing acknowledged is lost. Resends of
// what was not acknowledged store each message once.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');
const { assertAckOk } = require('../lib/shapes');

const GRACE_SECS = 5;
const server = serverForFile('faults', {
  SHUTDOWN_GRACE_SECS: String(GRACE_SECS),
  RATE_MESSAGES_PER_SEC: '1000',
  RATE_MESSAGES_BURST: '1000',
  // Sends as fast as acks come: not what the per-socket event budget is for.
  RATE_EVENTS_PER_SEC: '1000',
  RATE_EVENTS_BURST: '1000',
});
after(c.closeAll);

/** Sends without waiting for each ack, as a busy client does. */
function burst(u, room, tag, n, stopAt, stop) {
  const outcomes = [];
  const sends = [];
  u.socket.once('disconnect', (reason) => { outcomes.reason = reason; });
  return (async () => {
    for (let i = 0; i < n; i += 1) {
      const payload = { room, content: `${tag} ${i}`, clientId: `${room}-${i}` };
      sends.push(c.ack(u.socket, 'sendMessage', payload, 10000)
        .then((res) => outcomes.push({ payload, res }), (e) => outcomes.push({ payload, error: e.message })));
      if (i === stopAt) stop();
      await c.sleep(10);
    }
    await Promise.all(sends);
    return outcomes;
  })();
}

async function resendAndCheck(room, u, outcomes, n, tag) {
  const login = await c.http(server, 'POST', '/login', { json: { username: u.username, password: u.password } });
  assert.equal(login.status, 200, login.text);
  const socket = await c.connect(server, '/chat', { token: login.body.token });
  await c.join(socket, room);
  const before = await c.ack(socket, 'history', { room, limit: 200 });
  assertAckOk(before);
  const stored = new Set(before.messages.map((m) => m.id));
  const acked = outcomes.filter((o) => o.res && o.res.ok);
  for (const o of acked) assert.ok(stored.has(o.res.message.id), `${o.payload.content} was acked, then lost`);
  for (const o of outcomes.filter((x) => !(x.res && x.res.ok))) {
    assertAckOk(await c.ack(socket, 'sendMessage', o.payload), o.payload.content);
  }
  const all = await c.ack(socket, 'history', { room, limit: 200 });
  const contents = all.messages.map((m) => m.content);
  for (let i = 0; i < n; i += 1) {
    assert.equal(contents.filter((x) => x === `${tag} ${i}`).length, 1, `${tag} ${i}`);
  }
  return acked.length;
}

describe('the one-process chat stopped mid-burst', () => {
  it('SIGKILL: every acked message is there after a restart on the same DATA_DIR', async (t) => {
    const u = await c.userWithSocket(server, c.TRANSPORTS[0]);
    const room = c.uniqueName('k9');
    await c.join(u.socket, room);
    const child = server.child;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const outcomes = await burst(u, room, 'k9', 30, 15, () => child.kill('SIGKILL'));
    await exited;
    c.closeAll();
    await server.start();
    const acked = await resendAndCheck(room, u, outcomes, 30, 'k9');
    t.diagnostic(`killed mid-burst: ${acked} of 30 acked before the kill, all kept; the rest resent once`);
  });

  it('SIGTERM: io server disconnect, every accepted send acked, exit 0 within the grace, nothing lost', async (t) => {
    const u = await c.userWithSocket(server, c.TRANSPORTS[0]);
    const room = c.uniqueName('st');
    await c.join(u.socket, room);
    const child = server.child;
    let exitedAt;
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      exitedAt = Date.now();
      resolve({ code, signal });
    }));
    let termAt;
    const outcomes = await burst(u, room, 'st', 30, 15, () => { termAt = Date.now(); child.kill('SIGTERM'); });
    const exit = await exited;
    const took = exitedAt - termAt;
    t.diagnostic(`SIGTERM: reason '${outcomes.reason}', exit ${JSON.stringify(exit)} after ${took} ms, ` +
      `${outcomes.filter((o) => o.res && o.res.ok).length} ok, ${outcomes.filter((o) => o.res && !o.res.ok).length} refused, ` +
      `${outcomes.filter((o) => o.error).length} unanswered (sent after the disconnect)`);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(took <= GRACE_SECS * 1000 + 1000, `took ${took} ms`);
    assert.equal(outcomes.reason, 'io server disconnect');
    for (const o of outcomes.filter((x) => x.res && !x.res.ok)) assert.equal(o.res.error.code, 'UNAVAILABLE');
    c.closeAll();
    await server.start();
    await resendAndCheck(room, u, outcomes, 30, 'st');
  });
});
