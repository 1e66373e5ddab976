'use strict';
// PROTOCOL.md § history: pages before/after an id, limits, errors, and
// catch-up after a reconnect.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');
const { assertAckError, assertAckOk, assertMessage, ids } = require('../lib/shapes');

const server = serverForFile('history');
after(c.closeAll);

/** A user in a fresh room holding `n` messages. */
async function roomWith(transport, n) {
  const a = await c.userWithSocket(server, transport);
  const r = c.uniqueName('h');
  await c.join(a.socket, r);
  const sent = await c.sendMany(a.socket, r, n);
  return { a, r, sent };
}

async function history(socket, query) {
  const res = await c.ack(socket, 'history', query);
  assertAckOk(res, `history ${JSON.stringify(query)}`);
  assert.deepEqual(Object.keys(res).sort(), ['hasMore', 'messages', 'ok']);
  return res;
}

for (const transport of c.TRANSPORTS) {
  describe(`history over ${transport}`, () => {
    it('without a cursor: the latest page, oldest first', async () => {
      const { a, r, sent } = await roomWith(transport, 7);
      const all = await history(a.socket, { room: r });
      assert.deepEqual(ids(all.messages), ids(sent));
      assert.equal(all.hasMore, false);
      all.messages.forEach((m, i) => assertMessage(m, { room: r, sender: a.username, content: `msg ${i}` }));
      const page = await history(a.socket, { room: r, limit: 3 });
      assert.deepEqual(ids(page.messages), ids(sent.slice(4)));
      assert.equal(page.hasMore, true);
      const exact = await history(a.socket, { room: r, limit: 7 });
      assert.equal(exact.hasMore, false);
      const empty = await c.userWithSocket(server, transport);
      const r2 = c.uniqueName('h');
      await c.join(empty.socket, r2);
      assert.deepEqual(await history(empty.socket, { room: r2 }), { ok: true, messages: [], hasMore: false });
    });

    it('before: the page older than the id, oldest first', async () => {
      const { a, r, sent } = await roomWith(transport, 7);
      const older = await history(a.socket, { room: r, before: sent[4].id });
      assert.deepEqual(ids(older.messages), ids(sent.slice(0, 4)));
      assert.equal(older.hasMore, false);
      const two = await history(a.socket, { room: r, before: sent[4].id, limit: 2 });
      assert.deepEqual(ids(two.messages), ids(sent.slice(2, 4)));
      assert.equal(two.hasMore, true);
      const none = await history(a.socket, { room: r, before: sent[0].id });
      assert.deepEqual(none, { ok: true, messages: [], hasMore: false });
    });

    it('after: the page newer than the id, oldest first', async () => {
      const { a, r, sent } = await roomWith(transport, 7);
      const newer = await history(a.socket, { room: r, after: sent[3].id });
      assert.deepEqual(ids(newer.messages), ids(sent.slice(4)));
      assert.equal(newer.hasMore, false);
      const two = await history(a.socket, { room: r, after: sent[3].id, limit: 2 });
      assert.deepEqual(ids(two.messages), ids(sent.slice(4, 6)));
      assert.equal(two.hasMore, true);
      const none = await history(a.socket, { room: r, after: sent[6].id });
      assert.deepEqual(none, { ok: true, messages: [], hasMore: false });
    });

    it('before and after together, bad limits, unknown and foreign ids are refused', async () => {
      const { a, r, sent } = await roomWith(transport, 3);
      const other = c.uniqueName('h');
      await c.join(a.socket, other);
      const [foreign] = await c.sendMany(a.socket, other, 1);
      assertAckError(await c.ack(a.socket, 'history', { room: r, before: sent[2].id, after: sent[0].id }), 'INVALID_INPUT', 'both');
      for (const limit of [0, 201, -5, 2.5, '10']) {
        assertAckError(await c.ack(a.socket, 'history', { room: r, limit }), 'INVALID_INPUT', `limit ${limit}`);
      }
      assertAckOk(await c.ack(a.socket, 'history', { room: r, limit: 200 }));
      assertAckOk(await c.ack(a.socket, 'history', { room: r, limit: 1 }));
      for (const key of ['before', 'after']) {
        assertAckError(await c.ack(a.socket, 'history', { room: r, [key]: '01890000-0000-7000-8000-000000000000' }), 'NOT_FOUND', `${key} unknown`);
        assertAckError(await c.ack(a.socket, 'history', { room: r, [key]: foreign.id }), 'NOT_FOUND', `${key} foreign`);
      }
      assertAckError(await c.ack(a.socket, 'history', { room: 'no such room!' }), 'INVALID_INPUT', 'bad room');
    });

    it('the default page is 50', async () => {
      const { a, r, sent } = await roomWith(transport, 0);
      const writers = [a, await c.userWithSocket(server, transport), await c.userWithSocket(server, transport)];
      for (const w of writers.slice(1)) await c.join(w.socket, r);
      // Three writers keep each under the per-user rate limit.
      for (let i = 0; i < 18; i += 1) {
        for (const w of writers) {
          const res = await c.ack(w.socket, 'sendMessage', { room: r, content: `n${i}` });
          assertAckOk(res);
          sent.push(res.message);
        }
        await c.sleep(60);
      }
      const page = await history(a.socket, { room: r });
      assert.equal(page.messages.length, 50);
      assert.equal(page.hasMore, true);
      assert.deepEqual(ids(page.messages), ids(sent.slice(-50)));
      const join = await c.ack(writers[1].socket, 'joinRoom', { room: r });
      assert.deepEqual(ids(join.messages), ids(sent.slice(-50)));
      assert.equal(join.hasMore, true);
    });

    it('catch-up: after a reconnect, history with `after` recovers every missed message once, in order', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const r = c.uniqueName('h');
      await c.join(a.socket, r);
      await c.join(b.socket, r);
      const seen = await c.sendMany(b.socket, r, 2, 'before');
      a.socket.disconnect();
      const missed = [];
      for (let i = 0; i < 12; i += 1) {
        const res = await c.ack(b.socket, 'sendMessage', { room: r, content: `missed ${i}` });
        assertAckOk(res);
        missed.push(res.message);
        if (i % 5 === 4) await c.sleep(250); // stay under the rate limit
      }
      const back = await c.connect(server, '/chat', { token: a.token, transport });
      await c.join(back, r);
      let cursor = seen[seen.length - 1].id;
      const recovered = [];
      for (;;) {
        const page = await history(back, { room: r, after: cursor, limit: 5 });
        recovered.push(...page.messages);
        if (!page.hasMore) break;
        cursor = page.messages[page.messages.length - 1].id;
        assert.ok(recovered.length <= missed.length, 'paging never ends');
      }
      assert.deepEqual(ids(recovered), ids(missed));
      assert.deepEqual(recovered, missed);
    });

    it('messages in a room are ordered by (timestamp, id) across senders', async () => {
      const users = [];
      const r = c.uniqueName('h');
      for (let i = 0; i < 4; i += 1) {
        const u = await c.userWithSocket(server, transport);
        await c.join(u.socket, r);
        users.push(u);
      }
      await Promise.all(users.map((u) => c.sendMany(u.socket, r, 5, u.username)));
      const page = await history(users[0].socket, { room: r, limit: 200 });
      assert.equal(page.messages.length, 20);
      const keys = page.messages.map((m) => [m.timestamp, m.id]);
      const sorted = [...keys].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
      assert.deepEqual(keys, sorted);
    });
  });
}
