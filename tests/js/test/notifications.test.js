'use strict';
// PROTOCOL.md § Notifications: sendNotification broadcasts, @mentions,
// direct-message rooms and their `dm` notification.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');
const { assertAckError, assertAckOk, assertChatError, assertRecentTimestamp } = require('../lib/shapes');

const server = serverForFile('notifications');
after(c.closeAll);

/** A user with a /chat socket and a /notifications socket. */
async function member(transport, name) {
  const u = await c.userWithSocket(server, transport, { name });
  u.notif = await c.connect(server, '/notifications', { token: u.token, transport });
  u.rec = c.record(u.notif, ['notification', 'chatError']);
  return u;
}

const dmName = (x, y) => `dm:${[x.toLowerCase(), y.toLowerCase()].sort().join(':')}`;

for (const transport of c.TRANSPORTS) {
  describe(`notifications over ${transport}`, () => {
    it('sendNotification reaches every /notifications socket as {type, message, user, timestamp}', async () => {
      const a = await member(transport);
      const b = await member(transport);
      const bTab = await c.connect(server, '/notifications', { token: b.token, transport });
      const recTab = c.record(bTab, ['notification']);
      const text = `hello ${c.uniqueName('n')}`;
      a.notif.emit('sendNotification', { message: text });
      const mine = (n) => n.type === 'broadcast' && n.message === text;
      for (const rec of [a.rec, b.rec, recTab]) {
        const deadline = Date.now() + 5000;
        while (!rec.seen.notification.some(mine) && Date.now() < deadline) await c.sleep(20);
        const got = rec.seen.notification.filter(mine);
        assert.equal(got.length, 1, `got ${JSON.stringify(rec.seen.notification)}`);
        assert.deepEqual(Object.keys(got[0]).sort(), ['message', 'timestamp', 'type', 'user']);
        assert.equal(got[0].user, a.username);
        assertRecentTimestamp(got[0].timestamp);
      }
      assert.equal(a.rec.count('chatError'), 0);
    });

    it('notifications are limited to 1 a second per user; the excess is RATE_LIMITED', async () => {
      const a = await member(transport);
      const b = await member(transport);
      const text = c.uniqueName('burst');
      a.notif.emit('sendNotification', { message: `${text} 1` });
      a.notif.emit('sendNotification', { message: `${text} 2` });
      const [err] = await a.rec.waitFor('chatError');
      assertChatError(err, 'sendNotification', 'RATE_LIMITED');
      await c.sleep(c.QUIET_MS);
      const got = b.rec.seen.notification.filter((n) => n.type === 'broadcast' && n.message.startsWith(text));
      assert.deepEqual(got.map((n) => n.message), [`${text} 1`]);
      await c.sleep(1100);
      a.notif.emit('sendNotification', { message: `${text} 3` });
      const deadline = Date.now() + 5000;
      while (!b.rec.seen.notification.some((n) => n.message === `${text} 3`) && Date.now() < deadline) await c.sleep(20);
      assert.ok(b.rec.seen.notification.some((n) => n.message === `${text} 3`), 'the limit did not refill');
      assert.equal(a.rec.count('chatError'), 1);
    });

    it('@username sends a mention to every socket of that user, ignoring case', async () => {
      const a = await member(transport);
      const b = await member(transport, c.uniqueName('Bob'));
      const bTab = await c.connect(server, '/notifications', { token: b.token, transport });
      const recTab = c.record(bTab, ['notification']);
      const bystander = await member(transport);
      const r = c.uniqueName('n');
      await c.join(a.socket, r);
      await c.join(bystander.socket, r);
      const content = `hey @${b.username.toUpperCase()}, look`;
      const res = await c.ack(a.socket, 'sendMessage', { room: r, content });
      assertAckOk(res);
      const expected = { type: 'mention', room: r, messageId: res.message.id, from: a.username, message: content };
      assert.deepEqual((await b.rec.waitFor('notification'))[0], expected);
      assert.deepEqual((await recTab.waitFor('notification'))[0], expected);
      await c.sleep(c.QUIET_MS);
      assert.equal(b.rec.count('notification'), 1, 'one mention must notify once');
      assert.equal(bystander.rec.count('notification'), 0, 'a mention notified someone not named');
      assert.equal(a.rec.count('notification'), 0, 'the sender got a notification');
    });

    it('e-mail addresses are not mentions; unknown users are harmless; one message notifies once', async () => {
      const a = await member(transport);
      const b = await member(transport);
      const r = c.uniqueName('n');
      await c.join(a.socket, r);
      for (const content of [`mail me at someone@${b.username}.com`, `${a.username}@${b.username}`, `x@${b.username}`]) {
        assertAckOk(await c.ack(a.socket, 'sendMessage', { room: r, content }), content);
      }
      const ghost = await c.ack(a.socket, 'sendMessage', { room: r, content: `@${c.uniqueName('ghost')} are you there?` });
      assertAckOk(ghost);
      await c.sleep(c.QUIET_MS);
      assert.equal(b.rec.count('notification'), 0, `e-mail address treated as a mention: ${JSON.stringify(b.rec.seen.notification)}`);
      const twice = await c.ack(a.socket, 'sendMessage', { room: r, content: `@${b.username} and again @${b.username}` });
      assertAckOk(twice);
      await b.rec.waitFor('notification');
      await c.sleep(c.QUIET_MS);
      assert.equal(b.rec.count('notification'), 1);
      assert.equal(b.rec.seen.notification[0].messageId, twice.message.id);
    });

    it('DM room: only its two users, name rules, and a `dm` notification to the other member', async () => {
      const a = await member(transport, c.uniqueName('Ann'));
      const b = await member(transport, c.uniqueName('bea'));
      const third = await member(transport);
      const room = dmName(a.username, b.username);
      const res = await c.ack(a.socket, 'joinRoom', { room });
      assertAckOk(res);
      assert.equal(res.room, room);
      assertAckError(await c.ack(third.socket, 'joinRoom', { room }), 'FORBIDDEN', 'third user');
      assertAckError(await c.ack(third.socket, 'sendMessage', { room, content: 'x' }), 'FORBIDDEN', 'third user sending');
      const [x, y] = [a.username.toLowerCase(), b.username.toLowerCase()].sort();
      assertAckError(await c.ack(a.socket, 'joinRoom', { room: `dm:${y}:${x}` }), 'INVALID_INPUT', 'unsorted');
      assertAckError(await c.ack(a.socket, 'joinRoom', { room: `dm:${x}:${x}` }), 'INVALID_INPUT', 'same user twice');
      const ghost = `zz${c.uniqueName('ghost')}`.slice(0, 32);
      assertAckError(await c.ack(a.socket, 'joinRoom', { room: dmName(a.username, ghost) }), 'NOT_FOUND', 'no such user');

      // b has not joined the DM room: the notification still tells b about it.
      const sent = await c.ack(a.socket, 'sendMessage', { room, content: 'psst' });
      assertAckOk(sent);
      const [n] = await b.rec.waitFor('notification');
      assert.deepEqual(n, { type: 'dm', room, messageId: sent.message.id, from: a.username, message: 'psst' });
      await c.ack(b.socket, 'joinRoom', { room });
      const recA = c.record(a.socket, ['message']);
      const reply = await c.ack(b.socket, 'sendMessage', { room, content: 'hi back' });
      assertAckOk(reply);
      assert.deepEqual((await recA.waitFor('message'))[0], reply.message);
      await a.rec.waitFor('notification');
      await c.sleep(c.QUIET_MS);
      const toA = a.rec.seen.notification;
      assert.equal(toA.length, 1, `a expected one dm notification, got ${JSON.stringify(toA)}`);
      assert.deepEqual(toA[0], { type: 'dm', room, messageId: reply.message.id, from: b.username, message: 'hi back' });
      assert.equal(b.rec.count('notification'), 1, 'the sender of a dm got a notification');
      assert.equal(third.rec.count('notification'), 0);
    });

    it('mentions inside a DM room send no mention notification', async () => {
      const a = await member(transport);
      const b = await member(transport);
      const c3 = await member(transport);
      const room = dmName(a.username, b.username);
      await c.join(a.socket, room);
      const sent = await c.ack(a.socket, 'sendMessage', { room, content: `@${b.username} @${c3.username} secret` });
      assertAckOk(sent);
      const [n] = await b.rec.waitFor('notification');
      assert.equal(n.type, 'dm');
      await c.sleep(c.QUIET_MS);
      assert.equal(b.rec.count('notification'), 1, `got ${JSON.stringify(b.rec.seen.notification)}`);
      assert.equal(c3.rec.count('notification'), 0, 'a mention inside a DM notified a third user');
    });
  });
}
