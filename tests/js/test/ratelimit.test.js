'use strict';
// PROTOCOL.md § Limits, sending rate: 10 messages a second per user with
// bursts of 20; a resend of a stored clientId costs nothing; check order.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');
const { assertAckError, assertAckOk, ids } = require('../lib/shapes');

const server = serverForFile('ratelimit');
after(c.closeAll);

const BURST = 20;
const PER_SECOND = 10;

/** Fires `n` sends at once from `sockets` (round robin); returns replies and elapsed ms. */
async function burst(sockets, room, n, tag) {
  const started = Date.now();
  const replies = await Promise.all(Array.from({ length: n }, (_, i) =>
    c.ack(sockets[i % sockets.length], 'sendMessage', { room, content: `${tag} ${i}` }, 15000)));
  return { replies, elapsed: Date.now() - started };
}

function split(replies) {
  const accepted = [];
  for (const rep of replies) {
    if (rep && rep.ok === true) accepted.push(rep.message);
    else assertAckError(rep, 'RATE_LIMITED', 'burst reply');
  }
  return accepted;
}

function assertWithinLimit(count, elapsed) {
  assert.ok(count >= BURST, `only ${count} of the burst were accepted; the bucket holds ${BURST}`);
  const max = BURST + Math.ceil((elapsed / 1000) * PER_SECOND) + 1;
  assert.ok(count <= max, `${count} accepted in ${elapsed} ms; at most ${max} allowed`);
}

for (const transport of c.TRANSPORTS) {
  describe(`rate limit over ${transport}`, () => {
    it('a burst of 60 yields only ok / RATE_LIMITED and the history holds exactly the accepted ones', async () => {
      const a = await c.userWithSocket(server, transport);
      const watcher = await c.userWithSocket(server, transport);
      const r = c.uniqueName('rl');
      await c.join(a.socket, r);
      await c.join(watcher.socket, r);
      const rec = c.record(watcher.socket, ['message']);
      const { replies, elapsed } = await burst([a.socket], r, 60, 'burst');
      const accepted = split(replies);
      assertWithinLimit(accepted.length, elapsed);
      assert.ok(accepted.length < 60, 'nothing was rate limited');
      await c.sleep(c.QUIET_MS);
      const hist = await c.ack(watcher.socket, 'history', { room: r, limit: 200 });
      assertAckOk(hist);
      assert.deepEqual(new Set(ids(hist.messages)), new Set(ids(accepted)));
      assert.equal(hist.messages.length, accepted.length);
      assert.equal(rec.count('message'), accepted.length, 'a refused message was emitted');
    });

    it('while limited: a stored clientId resend succeeds, input and access errors come first, other users are unaffected', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const r = c.uniqueName('rl');
      await c.join(a.socket, r);
      await c.join(b.socket, r);
      const kept = await c.ack(a.socket, 'sendMessage', { room: r, content: 'keep me', clientId: 'keep-1' });
      assertAckOk(kept);
      const { replies } = await burst([a.socket], r, 40, 'drain');
      assert.ok(replies.some((rep) => rep.ok === false), 'the burst did not reach the limit');
      // Everything below races a fresh burst, so the bucket stays empty
      // however slow the transport is.
      const [resend, invalid, forbidden, more] = await Promise.all([
        c.ack(a.socket, 'sendMessage', { room: r, content: 'keep me', clientId: 'keep-1' }),
        c.ack(a.socket, 'sendMessage', { room: r, content: '  ' }),
        c.ack(a.socket, 'sendMessage', { room: c.uniqueName('rl'), content: 'x' }),
        burst([a.socket], r, 20, 'more'),
      ]);
      assert.deepEqual(resend, kept, 'a resend of a stored clientId was limited or changed');
      assertAckError(invalid, 'INVALID_INPUT');
      assertAckError(forbidden, 'FORBIDDEN');
      split(more.replies);
      assert.ok(more.replies.some((rep) => rep.ok === false), 'the bucket refilled too fast');
      assertAckOk(await c.ack(b.socket, 'sendMessage', { room: r, content: 'b is fine' }));
      await c.sleep(1200);
      assertAckOk(await c.ack(a.socket, 'sendMessage', { room: r, content: 'refilled' }));
    });

    it('resends of a stored clientId spend no token, whatever the bucket holds', async () => {
      const a = await c.userWithSocket(server, transport);
      const r = c.uniqueName('rl');
      await c.join(a.socket, r);
      const started = Date.now();
      const kept = await c.ack(a.socket, 'sendMessage', { room: r, content: 'once', clientId: 'free-1' });
      assertAckOk(kept);
      // Had they cost a token, these would empty the bucket of 20.
      for (let i = 0; i < BURST + 5; i += 1) {
        assert.deepEqual(await c.ack(a.socket, 'sendMessage', { room: r, content: 'once', clientId: 'free-1' }), kept);
      }
      const { replies } = await burst([a.socket], r, 40, 'after');
      const elapsed = Date.now() - started;
      // The first message took one token; the resends none.
      const accepted = split(replies).length;
      assert.ok(accepted >= BURST - 1, `only ${accepted} new messages fit after the resends`);
      assert.ok(accepted <= BURST + Math.ceil((elapsed / 1000) * PER_SECOND), `${accepted} accepted in ${elapsed} ms`);
    });

    it('the limit is per user across that user\'s sockets', async () => {
      const a = await c.userWithSocket(server, transport);
      const tab = await c.connect(server, '/chat', { token: a.token, transport });
      const r = c.uniqueName('rl');
      await c.join(a.socket, r);
      await c.join(tab, r);
      const { replies, elapsed } = await burst([a.socket, tab], r, 60, 'tabs');
      assertWithinLimit(split(replies).length, elapsed);
    });

    it('without an ack a limited send arrives as chatError RATE_LIMITED', async () => {
      const a = await c.userWithSocket(server, transport);
      const r = c.uniqueName('rl');
      await c.join(a.socket, r);
      const rec = c.record(a.socket, ['chatError', 'message']);
      for (let i = 0; i < 30; i += 1) a.socket.emit('sendMessage', { room: r, content: `fire ${i}` });
      await rec.waitFor('chatError');
      await c.sleep(c.QUIET_MS);
      for (const e of rec.seen.chatError) {
        assert.deepEqual(Object.keys(e).sort(), ['code', 'event', 'message']);
        assert.equal(e.event, 'sendMessage');
        assert.equal(e.code, 'RATE_LIMITED');
      }
      assert.equal(rec.count('message') + rec.count('chatError'), 30, 'a send failed silently');
    });
  });
}
