'use strict';
// PROTOCOL.md § editMessage, deleteMessage, markRead.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');
const { assertAckError, assertAckOk, assertMessage } = require('../lib/shapes');

const server = serverForFile('edit-delete');
after(c.closeAll);

const UNKNOWN_ID = '01890000-0000-7000-8000-000000000000';

async function setup(transport) {
  const a = await c.userWithSocket(server, transport);
  const b = await c.userWithSocket(server, transport);
  const r = c.uniqueName('e');
  await c.join(a.socket, r);
  await c.join(b.socket, r);
  return { a, b, r };
}

for (const transport of c.TRANSPORTS) {
  describe(`edit, delete and read over ${transport}`, () => {
    it('editMessage by the author acks {ok, message} and emits messageEdited to the room', async () => {
      const { a, b, r } = await setup(transport);
      const [m] = await c.sendMany(a.socket, r, 1);
      const recA = c.record(a.socket, ['messageEdited']);
      const recB = c.record(b.socket, ['messageEdited']);
      const res = await c.ack(a.socket, 'editMessage', { id: m.id, content: '  edited text ' });
      assert.deepEqual(Object.keys(res).sort(), ['message', 'ok']);
      assert.equal(res.ok, true);
      assertMessage(res.message, { ...m, content: 'edited text', editedAt: res.message.editedAt });
      assert.notEqual(res.message.editedAt, null, 'editedAt must be set by an edit');
      assert.ok(res.message.editedAt >= m.timestamp, 'editedAt precedes the message');
      const [toB] = await recB.waitFor('messageEdited');
      const [toA] = await recA.waitFor('messageEdited');
      assert.deepEqual(toB, res.message);
      assert.deepEqual(toA, res.message);
      const hist = await c.ack(b.socket, 'history', { room: r });
      assert.deepEqual(hist.messages, [res.message]);
    });

    it('editing needs only authorship, not membership; others are FORBIDDEN, unknown ids NOT_FOUND', async () => {
      const { a, b, r } = await setup(transport);
      const [m] = await c.sendMany(a.socket, r, 1);
      const recB = c.record(b.socket, ['messageEdited']);
      const tab = await c.connect(server, '/chat', { token: a.token, transport });
      const res = await c.ack(tab, 'editMessage', { id: m.id, content: 'from a tab that never joined' });
      assertAckOk(res);
      await recB.waitFor('messageEdited');
      assertAckError(await c.ack(b.socket, 'editMessage', { id: m.id, content: 'hijack' }), 'FORBIDDEN');
      assertAckError(await c.ack(a.socket, 'editMessage', { id: UNKNOWN_ID, content: 'x' }), 'NOT_FOUND');
      for (const content of ['   ', '', 'x'.repeat(4001), undefined, 7]) {
        assertAckError(await c.ack(a.socket, 'editMessage', { id: m.id, content }), 'INVALID_INPUT', `content ${content}`);
      }
      assertAckError(await c.ack(a.socket, 'editMessage', { content: 'no id' }), 'INVALID_INPUT', 'no id');
      await c.sleep(c.QUIET_MS);
      assert.equal(recB.count('messageEdited'), 1, 'a refused edit was emitted');
      const hist = await c.ack(a.socket, 'history', { room: r });
      assert.equal(hist.messages[0].content, 'from a tab that never joined');
    });

    it('deleteMessage soft-deletes, emits messageDeleted {id, room}; again: {ok:true} and nothing emitted', async () => {
      const { a, b, r } = await setup(transport);
      const [m, keep] = await c.sendMany(a.socket, r, 2);
      const recA = c.record(a.socket, ['messageDeleted']);
      const recB = c.record(b.socket, ['messageDeleted']);
      assertAckError(await c.ack(b.socket, 'deleteMessage', { id: m.id }), 'FORBIDDEN');
      assertAckError(await c.ack(a.socket, 'deleteMessage', { id: UNKNOWN_ID }), 'NOT_FOUND');
      assertAckError(await c.ack(a.socket, 'deleteMessage', {}), 'INVALID_INPUT');
      assert.deepEqual(await c.ack(a.socket, 'deleteMessage', { id: m.id }), { ok: true });
      const [ev] = await recB.waitFor('messageDeleted');
      assert.deepEqual(ev, { id: m.id, room: r });
      await recA.waitFor('messageDeleted');
      assert.deepEqual(await c.ack(a.socket, 'deleteMessage', { id: m.id }), { ok: true });
      await c.sleep(c.QUIET_MS);
      assert.equal(recB.count('messageDeleted'), 1, 'a second delete emitted again');
      assert.equal(recA.count('messageDeleted'), 1, 'a second delete emitted again');

      const hist = await c.ack(b.socket, 'history', { room: r });
      assert.equal(hist.messages.length, 2);
      const [gone, kept] = hist.messages;
      assertMessage(gone, {
        id: m.id, room: r, sender: a.username, timestamp: m.timestamp, content: '', deleted: true, attachments: [],
      });
      assert.deepEqual(kept, keep);
    });

    it('a deleted message cannot be edited (CONFLICT)', async () => {
      const { a, b, r } = await setup(transport);
      const [m] = await c.sendMany(a.socket, r, 1);
      assertAckOk(await c.ack(a.socket, 'deleteMessage', { id: m.id }));
      const recB = c.record(b.socket, ['messageEdited']);
      assertAckError(await c.ack(a.socket, 'editMessage', { id: m.id, content: 'resurrect' }), 'CONFLICT');
      await c.sleep(c.QUIET_MS);
      assert.equal(recB.count('messageEdited'), 0);
      const hist = await c.ack(a.socket, 'history', { room: r });
      assert.equal(hist.messages[0].content, '');
      assert.equal(hist.messages[0].deleted, true);
    });

    it('markRead only moves forward and emits read only on a move', async () => {
      const { a, b, r } = await setup(transport);
      const [m1, m2, m3] = await c.sendMany(a.socket, r, 3);
      const recA = c.record(a.socket, ['read']);
      const recB = c.record(b.socket, ['read']);
      assert.deepEqual(await c.ack(b.socket, 'markRead', { room: r, messageId: m2.id }), { ok: true });
      const [ev] = await recA.waitFor('read');
      assert.deepEqual(ev, { room: r, user: b.username, messageId: m2.id });
      assert.deepEqual(await c.ack(b.socket, 'markRead', { room: r, messageId: m1.id }), { ok: true });
      assert.deepEqual(await c.ack(b.socket, 'markRead', { room: r, messageId: m2.id }), { ok: true });
      await c.sleep(c.QUIET_MS);
      assert.equal(recA.count('read'), 1, 'a position that did not move emitted read');
      assert.deepEqual(await c.ack(b.socket, 'markRead', { room: r, messageId: m3.id }), { ok: true });
      const [, ev2] = await recA.waitFor('read', 2);
      assert.deepEqual(ev2, { room: r, user: b.username, messageId: m3.id });
      // The position is per user: a's own reads are independent of b's.
      assert.deepEqual(await c.ack(a.socket, 'markRead', { room: r, messageId: m1.id }), { ok: true });
      const readsByA = (await recB.waitFor('read', 3)).filter((e) => e.user === a.username);
      assert.deepEqual(readsByA, [{ room: r, user: a.username, messageId: m1.id }]);
    });

    it('markRead refuses bad input, unknown ids and rooms not joined', async () => {
      const { a, b, r } = await setup(transport);
      const [m] = await c.sendMany(a.socket, r, 1);
      assertAckError(await c.ack(b.socket, 'markRead', { room: r }), 'INVALID_INPUT', 'no messageId');
      assertAckError(await c.ack(b.socket, 'markRead', { room: 'bad room', messageId: m.id }), 'INVALID_INPUT');
      assertAckError(await c.ack(b.socket, 'markRead', { room: r, messageId: UNKNOWN_ID }), 'NOT_FOUND');
      const outsider = await c.userWithSocket(server, transport);
      assertAckError(await c.ack(outsider.socket, 'markRead', { room: r, messageId: m.id }), 'FORBIDDEN');
    });
  });
}
