'use strict';
// PROTOCOL.md § Chat events: joinRoom, join, leaveRoom, presence, typing,
// userJoined/userLeft, room name rules and membership (FORBIDDEN).

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');
const { assertAckError, assertAckOk, assertChatError, assertMessage, ids } = require('../lib/shapes');
const { RawSocket, TYPES } = require('../lib/raw');

const server = serverForFile('rooms');
after(c.closeAll);

const room = (p = 'r') => c.uniqueName(p);

for (const transport of c.TRANSPORTS) {
  describe(`rooms over ${transport}`, () => {
    it('joinRoom acks {ok, room, messages, hasMore} and emits previousMessages to this socket only', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const r = room();
      const bPrev = c.record(b.socket, ['previousMessages']);
      await c.join(b.socket, r);
      await bPrev.waitFor('previousMessages');
      const sent = await c.sendMany(b.socket, r, 3);

      const rec = c.record(a.socket, ['previousMessages']);
      const res = await c.ack(a.socket, 'joinRoom', { room: r });
      assert.deepEqual(Object.keys(res).sort(), ['hasMore', 'messages', 'ok', 'room']);
      assert.equal(res.ok, true);
      assert.equal(res.room, r);
      assert.equal(res.hasMore, false);
      assert.deepEqual(ids(res.messages), ids(sent));
      res.messages.forEach((m, i) => assertMessage(m, { room: r, sender: b.username, content: `msg ${i}` }));
      const [prev] = await rec.waitFor('previousMessages');
      assert.deepEqual(prev, res.messages);
      await c.sleep(c.QUIET_MS);
      assert.equal(rec.count('previousMessages'), 1);
      assert.equal(bPrev.count('previousMessages'), 1, 'previousMessages went to another socket');
    });

    it('joinRoom with limit gives the latest `limit`, oldest first, with hasMore', async () => {
      const a = await c.userWithSocket(server, transport);
      const r = room();
      await c.join(a.socket, r);
      const sent = await c.sendMany(a.socket, r, 5);
      const b = await c.userWithSocket(server, transport);
      const rec = c.record(b.socket, ['previousMessages']);
      const res = await c.ack(b.socket, 'joinRoom', { room: r, limit: 3 });
      assertAckOk(res);
      assert.deepEqual(ids(res.messages), ids(sent.slice(2)));
      assert.equal(res.hasMore, true);
      const [prev] = await rec.waitFor('previousMessages');
      assert.deepEqual(ids(prev), ids(sent.slice(2)));
      const exact = await c.ack(b.socket, 'joinRoom', { room: r, limit: 5 });
      assert.deepEqual(ids(exact.messages), ids(sent));
      assert.equal(exact.hasMore, false);
      for (const limit of [0, 201, -1, 1.5, 'x']) {
        assertAckError(await c.ack(b.socket, 'joinRoom', { room: r, limit }), 'INVALID_INPUT', `limit ${limit}`);
      }
    });

    it('join (tutorial §1.4) acks as joinRoom for general and emits previousMessages', async () => {
      const a = await c.userWithSocket(server, transport);
      const rec = c.record(a.socket, ['previousMessages']);
      const res = await c.ack(a.socket, 'join');
      assertAckOk(res);
      assert.equal(res.room, 'general');
      assert.ok(Array.isArray(res.messages));
      assert.equal(typeof res.hasMore, 'boolean');
      const [prev] = await rec.waitFor('previousMessages');
      assert.deepEqual(prev, res.messages);
      // Without an ack (the tutorial's way) it still joins and emits previousMessages.
      const b = await c.userWithSocket(server, transport);
      const recB = c.record(b.socket, ['previousMessages', 'chatError']);
      b.socket.emit('join');
      await recB.waitFor('previousMessages');
      const sent = await c.ack(b.socket, 'sendMessage', { content: 'hello general' });
      assertAckOk(sent);
      assertMessage(sent.message, { room: 'general', sender: b.username, content: 'hello general' });
      assert.equal(recB.count('chatError'), 0);
    });

    it('room names: 1–64 of A-Z a-z 0-9 _ -, anything else INVALID_INPUT', async () => {
      const a = await c.userWithSocket(server, transport);
      for (const ok of ['a', 'Z', 'x'.repeat(64), 'A-b_9']) {
        const res = await c.ack(a.socket, 'joinRoom', { room: ok });
        assertAckOk(res, ok);
        assert.equal(res.room, ok);
      }
      const bad = ['', 'x'.repeat(65), 'a b', 'a/b', 'a.b', 'é', 'room#1', 'dm:', 'dm:x', ' general', null, 42, {}];
      for (const name of bad) {
        assertAckError(await c.ack(a.socket, 'joinRoom', { room: name }), 'INVALID_INPUT', `room ${JSON.stringify(name)}`);
      }
      assertAckError(await c.ack(a.socket, 'joinRoom', 'general'), 'INVALID_INPUT', 'a string payload');
      assertAckError(await c.ack(a.socket, 'joinRoom', {}), 'INVALID_INPUT', 'no room');
    });

    it('a socket must join before sending, reading history, marking read, typing or presence', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const r = room();
      await c.join(a.socket, r);
      const [m] = await c.sendMany(a.socket, r, 1);
      const recA = c.record(a.socket, ['typing', 'message']);
      assertAckError(await c.ack(b.socket, 'sendMessage', { room: r, content: 'hi' }), 'FORBIDDEN', 'sendMessage');
      assertAckError(await c.ack(b.socket, 'history', { room: r }), 'FORBIDDEN', 'history');
      assertAckError(await c.ack(b.socket, 'markRead', { room: r, messageId: m.id }), 'FORBIDDEN', 'markRead');
      assertAckError(await c.ack(b.socket, 'presence', { room: r }), 'FORBIDDEN', 'presence');
      const recB = c.record(b.socket, ['chatError']);
      b.socket.emit('typing', { room: r, typing: true });
      const [err] = await recB.waitFor('chatError');
      assertChatError(err, 'typing', 'FORBIDDEN');
      await c.sleep(c.QUIET_MS);
      assert.equal(recA.count('typing'), 0, 'typing from a non-member reached the room');
      assert.equal(recA.count('message'), 0, 'a refused message reached the room');
    });

    it('a socket that did not join receives none of the room events', async () => {
      const a = await c.userWithSocket(server, transport);
      const outsider = await c.userWithSocket(server, transport);
      const r = room();
      await c.join(a.socket, r);
      const rec = c.record(outsider.socket, ['message', 'typing', 'userJoined', 'messageEdited', 'messageDeleted', 'read']);
      const b = await c.userWithSocket(server, transport);
      await c.join(b.socket, r);
      const [m] = await c.sendMany(a.socket, r, 1);
      b.socket.emit('typing', { room: r, typing: true });
      assertAckOk(await c.ack(a.socket, 'editMessage', { id: m.id, content: 'edited' }));
      assertAckOk(await c.ack(b.socket, 'markRead', { room: r, messageId: m.id }));
      assertAckOk(await c.ack(a.socket, 'deleteMessage', { id: m.id }));
      await c.sleep(c.QUIET_MS);
      for (const [event, got] of Object.entries(rec.seen)) assert.equal(got.length, 0, `${event} leaked`);
    });

    it('leaveRoom acks {ok}; afterwards the socket neither sends nor receives there', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const r = room();
      await c.join(a.socket, r);
      await c.join(b.socket, r);
      const res = await c.ack(b.socket, 'leaveRoom', { room: r });
      assert.deepEqual(res, { ok: true });
      const rec = c.record(b.socket, ['message']);
      await c.sendMany(a.socket, r, 1);
      assertAckError(await c.ack(b.socket, 'sendMessage', { room: r, content: 'x' }), 'FORBIDDEN');
      await c.sleep(c.QUIET_MS);
      assert.equal(rec.count('message'), 0);
    });

    it('userJoined/userLeft go to others only on a user\'s first join and last leave (two tabs)', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const b2 = await c.connect(server, '/chat', { token: b.token, transport });
      const r = room();
      await c.join(a.socket, r);
      const recA = c.record(a.socket, ['userJoined', 'userLeft']);
      const recB = c.record(b.socket, ['userJoined']);

      await c.join(b.socket, r);
      const [joined] = await recA.waitFor('userJoined');
      assert.deepEqual(joined, { room: r, user: b.username });
      await c.join(b2, r);
      await c.sleep(c.QUIET_MS);
      assert.equal(recA.count('userJoined'), 1, 'a second tab announced the user again');
      assert.equal(recB.seen.userJoined.filter((e) => e.user === b.username && e.room === r).length, 0,
        'userJoined went to the joining socket itself');

      const presence = await c.ack(a.socket, 'presence', { room: r });
      assert.deepEqual(Object.keys(presence).sort(), ['ok', 'users']);
      assert.equal(presence.ok, true);
      assert.deepEqual([...presence.users].sort(), [a.username, b.username].sort());

      assert.deepEqual(await c.ack(b2, 'leaveRoom', { room: r }), { ok: true });
      await c.sleep(c.QUIET_MS);
      assert.equal(recA.count('userLeft'), 0, 'one tab leaving announced the user as gone');
      const still = await c.ack(a.socket, 'presence', { room: r });
      assert.deepEqual([...still.users].sort(), [a.username, b.username].sort());

      assert.deepEqual(await c.ack(b.socket, 'leaveRoom', { room: r }), { ok: true });
      const [left] = await recA.waitFor('userLeft');
      assert.deepEqual(left, { room: r, user: b.username });
      const gone = await c.ack(a.socket, 'presence', { room: r });
      assert.deepEqual(gone.users, [a.username]);
    });

    it('a disconnect counts as leaving every room', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const r1 = room();
      const r2 = room();
      for (const r of [r1, r2]) {
        await c.join(a.socket, r);
        await c.join(b.socket, r);
      }
      const rec = c.record(a.socket, ['userLeft']);
      b.socket.disconnect();
      const got = await rec.waitFor('userLeft', 2);
      assert.deepEqual(got.map((e) => e.room).sort(), [r1, r2].sort());
      for (const e of got) assert.equal(e.user, b.username);
      for (const r of [r1, r2]) {
        assert.deepEqual((await c.ack(a.socket, 'presence', { room: r })).users, [a.username]);
      }
    });

    it('typing reaches the room except the sender', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const r = room();
      await c.join(a.socket, r);
      await c.join(b.socket, r);
      const recA = c.record(a.socket, ['typing', 'chatError']);
      const recB = c.record(b.socket, ['typing']);
      a.socket.emit('typing', { room: r, typing: true });
      const [t] = await recB.waitFor('typing');
      assert.deepEqual(t, { room: r, user: a.username, typing: true });
      a.socket.emit('typing', { room: r, typing: false });
      const [, t2] = await recB.waitFor('typing', 2);
      assert.deepEqual(t2, { room: r, user: a.username, typing: false });
      await c.sleep(c.QUIET_MS);
      assert.equal(recA.count('typing'), 0, 'typing echoed to its sender');
      assert.equal(recA.count('chatError'), 0);
    });

    it('internal rooms (per socket, per user) cannot be joined whatever the name', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const recA = c.record(a.socket, ['message', 'chatError', 'typing']);
      for (const name of [a.socket.id, a.username, `user:${a.username}`, `user-${a.username}`]) {
        const res = await c.ack(b.socket, 'joinRoom', { room: name });
        if (res.ok !== true) continue; // refusing is fine; joining must not reach a's private room
        await c.ack(b.socket, 'sendMessage', { room: name, content: 'peek' });
        b.socket.emit('typing', { room: name, typing: true });
      }
      // Make `a` receive a private event (a chatError) and check b does not see it.
      const recB = c.record(b.socket, ['chatError']);
      a.socket.emit('noSuchEvent', {});
      await recA.waitFor('chatError');
      await c.sleep(c.QUIET_MS);
      assert.equal(recA.count('message'), 0, 'a message to an internal room reached its owner');
      assert.equal(recA.count('typing'), 0, 'typing to an internal room reached its owner');
      assert.equal(recB.count('chatError'), 0, 'a private chatError reached another user');
    });

    it('the "/" namespace carries the same chat events (tutorial §2.2)', async () => {
      const a = await c.userWithSocket(server, transport, { ns: '/' });
      const b = await c.userWithSocket(server, transport, { ns: '/' });
      const r = room();
      const rec = c.record(a.socket, ['previousMessages', 'message']);
      a.socket.emit('joinRoom', { room: r });
      await rec.waitFor('previousMessages');
      await c.join(b.socket, r);
      b.socket.emit('sendMessage', { content: 'from the tutorial', room: r, sender: 'mallory' });
      const [m] = await rec.waitFor('message');
      assertMessage(m, { room: r, sender: b.username, content: 'from the tutorial' });
    });
  });
}

// A client's `disconnect()` sends the namespace's DISCONNECT and closes its
// transport at once; the server sees two closes of one socket back to back.
describe('rooms: a disconnect racing the transport close', () => {
  /** A raw socket of a fresh user on /chat, in `rooms` (each join acked). */
  async function rawMember(rooms) {
    const user = await c.register(server);
    const raw = await RawSocket.open(server);
    await raw.connect('/chat', { token: user.token });
    let id = 1;
    for (const r of rooms) {
      const res = await raw.ack('/chat', ['joinRoom', { room: r }], id);
      assert.equal(res.ok, true, `joinRoom ${r}`);
      id += 1;
    }
    return { user, raw, nextId: id };
  }

  function closeAbruptly(raw) {
    raw.sendPacket({ type: TYPES.DISCONNECT, nsp: '/chat' });
    raw.ws.close();
  }

  it('DISCONNECT then the transport closing still announces every room', async () => {
    const a = await c.userWithSocket(server, 'websocket');
    const rooms = [room(), room()];
    for (const r of rooms) await c.join(a.socket, r);
    const b = await rawMember(rooms);
    const rec = c.record(a.socket, ['userLeft']);
    closeAbruptly(b.raw);
    const got = await rec.waitFor('userLeft', 2);
    assert.deepEqual(got.map((e) => e.room).sort(), [...rooms].sort());
    for (const r of rooms) {
      assert.deepEqual((await c.ack(a.socket, 'presence', { room: r })).users, [a.username]);
    }
  });

  it('a joinRoom still running at the disconnect leaves no member behind and no userJoined unanswered', async () => {
    // Timing decides whether the join lands before the close (mostly it
    // does not); either way the room must end up clean, so several rounds.
    for (let round = 0; round < 5; round += 1) {
      const a = await c.userWithSocket(server, 'websocket');
      const [r1, r2] = [room(), room()];
      await c.join(a.socket, r1);
      await c.join(a.socket, r2);
      const b = await rawMember([r1]);
      const rec = c.record(a.socket, ['userJoined', 'userLeft']);
      b.raw.emit('/chat', ['joinRoom', { room: r2 }], b.nextId);
      closeAbruptly(b.raw);
      await rec.waitFor('userLeft');
      await c.sleep(c.QUIET_MS * 3);
      const joinedR2 = rec.seen.userJoined.some((e) => e.room === r2);
      const left = rec.seen.userLeft.map((e) => e.room).sort();
      assert.deepEqual(left, (joinedR2 ? [r1, r2] : [r1]).sort(),
        `round ${round}: userJoined ${JSON.stringify(rec.seen.userJoined)}`);
      for (const e of rec.seen.userLeft) assert.equal(e.user, b.user.username);
      for (const r of [r1, r2]) {
        assert.deepEqual((await c.ack(a.socket, 'presence', { room: r })).users, [a.username],
          `round ${round}: ${r} still lists the departed user`);
      }
      a.socket.disconnect();
    }
  });
});
