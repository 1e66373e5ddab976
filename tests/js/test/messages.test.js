'use strict';
// PROTOCOL.md § sendMessage: the message object, content rules, check order,
// chatError without an ack, unknown events, idempotent clientId.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');
const { assertAckError, assertAckOk, assertChatError, assertMessage, ids } = require('../lib/shapes');

const server = serverForFile('messages');
after(c.closeAll);

async function pair(transport) {
  const a = await c.userWithSocket(server, transport);
  const b = await c.userWithSocket(server, transport);
  const r = c.uniqueName('m');
  await c.join(a.socket, r);
  await c.join(b.socket, r);
  return { a, b, r };
}

for (const transport of c.TRANSPORTS) {
  describe(`messages over ${transport}`, () => {
    it('sendMessage acks {ok, message} and emits the same message to the room, sender included', async () => {
      const { a, b, r } = await pair(transport);
      const recA = c.record(a.socket, ['message']);
      const recB = c.record(b.socket, ['message']);
      const res = await c.ack(a.socket, 'sendMessage', { room: r, content: 'hello', clientId: 'c-42' });
      assert.deepEqual(Object.keys(res).sort(), ['message', 'ok']);
      assert.equal(res.ok, true);
      assertMessage(res.message, { room: r, sender: a.username, content: 'hello', clientId: 'c-42' });
      const [toA] = await recA.waitFor('message');
      const [toB] = await recB.waitFor('message');
      assert.deepEqual(toA, res.message);
      assert.deepEqual(toB, res.message);
      await c.sleep(c.QUIET_MS);
      assert.equal(recA.count('message'), 1);
      assert.equal(recB.count('message'), 1);
    });

    it('sender is the authenticated user; a client-supplied sender or avatar is ignored', async () => {
      const { a, b, r } = await pair(transport);
      const res = await c.ack(a.socket, 'sendMessage', {
        room: r, content: 'spoof', sender: b.username, avatar: 'http://evil.example/x.png',
      });
      assertAckOk(res);
      assertMessage(res.message, { room: r, sender: a.username, content: 'spoof', avatar: null });
    });

    it('room defaults to general', async () => {
      const a = await c.userWithSocket(server, transport);
      assertAckError(await c.ack(a.socket, 'sendMessage', { content: 'no room yet' }), 'FORBIDDEN');
      await c.join(a.socket, 'general');
      const res = await c.ack(a.socket, 'sendMessage', { content: 'to general' });
      assertAckOk(res);
      assert.equal(res.message.room, 'general');
    });

    it('content is trimmed; whitespace-only, empty, missing or non-string content is INVALID_INPUT', async () => {
      const { a, r } = await pair(transport);
      const rec = c.record(a.socket, ['message']);
      const res = await c.ack(a.socket, 'sendMessage', { room: r, content: ' \n\t hi there \t\n ' });
      assertAckOk(res);
      assert.equal(res.message.content, 'hi there');
      for (const content of ['', '   ', '\n\t \r\n', '\u00a0\u2003', undefined, null, 42, ['x'], { a: 1 }]) {
        const bad = await c.ack(a.socket, 'sendMessage', { room: r, content });
        assertAckError(bad, 'INVALID_INPUT', `content ${JSON.stringify(content)}`);
      }
      assertAckError(await c.ack(a.socket, 'sendMessage', 'just a string'), 'INVALID_INPUT', 'string payload');
      await c.sleep(c.QUIET_MS);
      assert.equal(rec.count('message'), 1, 'a refused message was emitted');
      const hist = await c.ack(a.socket, 'history', { room: r });
      assert.deepEqual(ids(hist.messages), [res.message.id]);
    });

    it('content is 1–4000 code points after trimming (emoji count once)', async () => {
      const { a, r } = await pair(transport);
      const accepted = ['x'.repeat(4000), '😀'.repeat(4000), `  ${'y'.repeat(4000)}  `, 'z', '😀'];
      for (const content of accepted) {
        const res = await c.ack(a.socket, 'sendMessage', { room: r, content });
        assertAckOk(res, `${[...content].length} code points`);
        assert.equal(res.message.content, content.trim());
      }
      for (const content of ['x'.repeat(4001), '😀'.repeat(4001), `${'😀'.repeat(3999)}ab`]) {
        assertAckError(await c.ack(a.socket, 'sendMessage', { room: r, content }), 'INVALID_INPUT',
          `${[...content].length} code points`);
      }
    });

    it('input is checked before access: a bad message to a room not joined is INVALID_INPUT', async () => {
      const a = await c.userWithSocket(server, transport);
      const r = c.uniqueName('m');
      assertAckError(await c.ack(a.socket, 'sendMessage', { room: r, content: '   ' }), 'INVALID_INPUT');
      assertAckError(await c.ack(a.socket, 'sendMessage', { room: 'bad room', content: 'x' }), 'INVALID_INPUT');
      assertAckError(await c.ack(a.socket, 'sendMessage', { room: r, content: 'x' }), 'FORBIDDEN');
      assertAckError(await c.ack(a.socket, 'history', { room: r, before: 'a', after: 'b' }), 'INVALID_INPUT');
    });

    it('without an ack a failure arrives as chatError {event, code, message}; with one, no chatError', async () => {
      const a = await c.userWithSocket(server, transport);
      const rec = c.record(a.socket, ['chatError']);
      a.socket.emit('sendMessage', { room: c.uniqueName('m'), content: 'x' });
      const [e1] = await rec.waitFor('chatError');
      assertChatError(e1, 'sendMessage', 'FORBIDDEN');
      a.socket.emit('joinRoom', { room: 'not valid!' });
      const [, e2] = await rec.waitFor('chatError', 2);
      assertChatError(e2, 'joinRoom', 'INVALID_INPUT');
      a.socket.emit('history', { room: 'general' });
      const [, , e3] = await rec.waitFor('chatError', 3);
      assertChatError(e3, 'history', 'FORBIDDEN');
      assertAckError(await c.ack(a.socket, 'sendMessage', { room: 'general', content: 'x' }), 'FORBIDDEN');
      await c.sleep(c.QUIET_MS);
      assert.equal(rec.count('chatError'), 3, 'a failure answered by ack also produced chatError');
    });

    it('an unknown event gets chatError INVALID_INPUT on /, /chat and /notifications', async () => {
      const u = await c.register(server);
      for (const ns of ['/', '/chat', '/notifications']) {
        const s = await c.connect(server, ns, { token: u.token, transport });
        const rec = c.record(s, ['chatError']);
        s.emit('definitelyNotAnEvent', { room: 'general' });
        const [e] = await rec.waitFor('chatError');
        assertChatError(e, 'definitelyNotAnEvent', 'INVALID_INPUT');
        s.emit('anotherUnknown');
        const [, e2] = await rec.waitFor('chatError', 2);
        assertChatError(e2, 'anotherUnknown', 'INVALID_INPUT');
        s.close();
      }
    });

    it('a resent clientId returns the stored message and emits nothing new', async () => {
      const { a, b, r } = await pair(transport);
      const recA = c.record(a.socket, ['message']);
      const recB = c.record(b.socket, ['message']);
      const first = await c.ack(a.socket, 'sendMessage', { room: r, content: 'once', clientId: 'dup-1' });
      assertAckOk(first);
      await recB.waitFor('message');
      const again = await c.ack(a.socket, 'sendMessage', { room: r, content: 'once', clientId: 'dup-1' });
      assert.deepEqual(again, first);
      const changed = await c.ack(a.socket, 'sendMessage', { room: r, content: 'other text', clientId: 'dup-1' });
      assert.deepEqual(changed, first, 'a resend with another content must still return the stored message');
      // From another tab of the same user too.
      const tab = await c.connect(server, '/chat', { token: a.token, transport });
      await c.join(tab, r);
      assert.deepEqual(await c.ack(tab, 'sendMessage', { room: r, content: 'once', clientId: 'dup-1' }), first);
      await c.sleep(c.QUIET_MS);
      assert.equal(recA.count('message'), 1);
      assert.equal(recB.count('message'), 1);
      const hist = await c.ack(a.socket, 'history', { room: r });
      assert.deepEqual(ids(hist.messages), [first.message.id]);
    });

    it('input and access are checked before a stored clientId', async () => {
      const { a, r } = await pair(transport);
      const first = await c.ack(a.socket, 'sendMessage', { room: r, content: 'stored', clientId: 'order-1' });
      assertAckOk(first);
      assertAckError(await c.ack(a.socket, 'sendMessage', { room: r, content: '   ', clientId: 'order-1' }), 'INVALID_INPUT');
      assert.deepEqual(await c.ack(a.socket, 'leaveRoom', { room: r }), { ok: true });
      assertAckError(await c.ack(a.socket, 'sendMessage', { room: r, content: 'stored', clientId: 'order-1' }), 'FORBIDDEN');
    });

    it('concurrent resends of one clientId store one message', async () => {
      const { a, b, r } = await pair(transport);
      const recB = c.record(b.socket, ['message']);
      const replies = await Promise.all(Array.from({ length: 8 }, () =>
        c.ack(a.socket, 'sendMessage', { room: r, content: 'race', clientId: 'race-1' })));
      for (const rep of replies) assertAckOk(rep);
      assert.equal(new Set(replies.map((rep) => rep.message.id)).size, 1, 'several messages were stored');
      await recB.waitFor('message');
      await c.sleep(c.QUIET_MS);
      assert.equal(recB.count('message'), 1);
      const hist = await c.ack(a.socket, 'history', { room: r });
      assert.equal(hist.messages.length, 1);
    });

    it('clientId is unique per user: another user with the same clientId gets its own message', async () => {
      const { a, b, r } = await pair(transport);
      const ma = await c.ack(a.socket, 'sendMessage', { room: r, content: 'from a', clientId: 'shared' });
      const mb = await c.ack(b.socket, 'sendMessage', { room: r, content: 'from b', clientId: 'shared' });
      assertAckOk(ma);
      assertAckOk(mb);
      assert.notEqual(ma.message.id, mb.message.id);
      assertMessage(mb.message, { sender: b.username, content: 'from b', clientId: 'shared', room: r });
    });
  });
}
