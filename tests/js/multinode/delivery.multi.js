'use strict';
// PROTOCOL.md § Several gateway nodes: with Redis, three gateways form one
// system. Clients are spread over the nodes; every room event, presence
// answer and notification reaches the sockets of every node, and a user with
// sockets on two nodes is one user.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const c = require('../lib/client');
const { assertAckOk, assertMessage } = require('../lib/shapes');
const { clusterForFile } = require('./lib/cluster');

const cluster = clusterForFile('delivery', 3);
after(c.closeAll);

const node = (i) => cluster.gateways[i];

/** A registered user with a socket on namespace `ns` of gateway `i`. */
async function on(i, ns = '/chat', user) {
  const u = user || await c.register(node(i));
  const socket = await c.connect(node(i), ns, { token: u.token });
  return { ...u, socket };
}

describe('room events cross nodes', () => {
  it('message, edit, delete, typing and read reach members on every node, both chat namespaces', async () => {
    const alice = await on(0);
    const bob = await on(1);
    const carol = await on(2, '/'); // the tutorial's namespace, same rooms
    const room = c.uniqueName('mn');
    for (const u of [alice, bob, carol]) await c.join(u.socket, room);
    const events = ['message', 'messageEdited', 'messageDeleted', 'typing', 'read'];
    const recA = c.record(alice.socket, events);
    const recB = c.record(bob.socket, events);
    const recC = c.record(carol.socket, events);

    const sent = await c.ack(alice.socket, 'sendMessage', { room, content: 'hello from node 0' });
    assertAckOk(sent);
    for (const rec of [recA, recB, recC]) {
      const [m] = await rec.waitFor('message');
      assertMessage(m, { id: sent.message.id, room, sender: alice.username, content: 'hello from node 0' });
    }

    assertAckOk(await c.ack(alice.socket, 'editMessage', { id: sent.message.id, content: 'edited' }));
    for (const rec of [recA, recB, recC]) {
      const [m] = await rec.waitFor('messageEdited');
      assert.equal(m.content, 'edited');
    }

    bob.socket.emit('typing', { room, typing: true });
    for (const rec of [recA, recC]) {
      const [t] = await rec.waitFor('typing');
      assert.deepEqual(t, { room, user: bob.username, typing: true });
    }

    assertAckOk(await c.ack(carol.socket, 'markRead', { room, messageId: sent.message.id }));
    for (const rec of [recA, recB, recC]) {
      const [r] = await rec.waitFor('read');
      assert.deepEqual(r, { room, user: carol.username, messageId: sent.message.id });
    }

    assertAckOk(await c.ack(alice.socket, 'deleteMessage', { id: sent.message.id }));
    for (const rec of [recA, recB, recC]) {
      const [d] = await rec.waitFor('messageDeleted');
      assert.deepEqual(d, { id: sent.message.id, room });
    }

    await c.sleep(c.QUIET_MS);
    // Exactly once each: no node delivered twice (Redis echo + local).
    for (const rec of [recA, recB, recC]) {
      for (const e of ['message', 'messageEdited', 'messageDeleted', 'read']) assert.equal(rec.count(e), 1, e);
    }
    assert.equal(recB.count('typing'), 0, 'the typist got its own typing event');
  });

  it('a non-member on another node receives nothing', async () => {
    const alice = await on(0);
    const eve = await on(1);
    const room = c.uniqueName('mn');
    await c.join(alice.socket, room);
    await c.join(eve.socket, c.uniqueName('other'));
    const rec = c.record(eve.socket, ['message']);
    assertAckOk(await c.ack(alice.socket, 'sendMessage', { room, content: 'members only' }));
    await c.sleep(c.QUIET_MS);
    assert.equal(rec.count('message'), 0);
  });
});

describe('presence and arrivals across nodes', () => {
  it('a user on two nodes is one user: one userJoined, one presence entry, userLeft only when the last socket goes', async () => {
    const alice = await on(0);
    const bob1 = await on(1);
    const room = c.uniqueName('pr');
    await c.join(alice.socket, room);
    const rec = c.record(alice.socket, ['userJoined', 'userLeft']);

    await c.join(bob1.socket, room);
    const [joined] = await rec.waitFor('userJoined');
    assert.deepEqual(joined, { room, user: bob1.username });

    // Bob's second socket, on a third node: not a new arrival.
    const bob2 = await on(2, '/chat', bob1);
    await c.join(bob2.socket, room);
    await c.sleep(c.QUIET_MS);
    assert.equal(rec.count('userJoined'), 1, 'a second socket of bob was announced');

    for (const asker of [alice, bob1, bob2]) {
      const p = await c.ack(asker.socket, 'presence', { room });
      assertAckOk(p);
      assert.deepEqual(p.users, [alice.username, bob1.username].sort(), 'presence asked on another node');
    }

    // Leaving on node 1 while still there through node 2: no departure.
    assertAckOk(await c.ack(bob1.socket, 'leaveRoom', { room }));
    await c.sleep(c.QUIET_MS);
    assert.equal(rec.count('userLeft'), 0, 'bob left while still in the room on another node');
    let p = await c.ack(alice.socket, 'presence', { room });
    assert.deepEqual(p.users, [alice.username, bob1.username].sort());

    // The last socket goes (a disconnect): now bob has left.
    bob2.socket.close();
    const [left] = await rec.waitFor('userLeft');
    assert.deepEqual(left, { room, user: bob1.username });
    p = await c.ack(alice.socket, 'presence', { room });
    assert.deepEqual(p.users, [alice.username]);
  });
});

describe('notifications across nodes', () => {
  it('mentions and direct messages reach the user on another node; broadcasts reach every node', async () => {
    const alice = await on(0);
    const bob = await on(1);
    const bobNotes = await c.connect(node(2), '/notifications', { token: bob.token });
    const aliceNotes = await c.connect(node(1), '/notifications', { token: alice.token });
    const carol = await c.register(node(2));
    const carolNotes = await c.connect(node(0), '/notifications', { token: carol.token });
    const recBob = c.record(bobNotes, ['notification']);
    const recAlice = c.record(aliceNotes, ['notification']);
    const recCarol = c.record(carolNotes, ['notification']);

    const room = c.uniqueName('nt');
    await c.join(alice.socket, room);
    const sent = await c.ack(alice.socket, 'sendMessage', { room, content: `hi @${bob.username}` });
    assertAckOk(sent);
    const [mention] = await recBob.waitFor('notification');
    assert.deepEqual(mention, {
      type: 'mention', room, messageId: sent.message.id, from: alice.username, message: `hi @${bob.username}`,
    });

    const dm = `dm:${[alice.username, bob.username].map((n) => n.toLowerCase()).sort().join(':')}`;
    await c.join(alice.socket, dm);
    const dmSent = await c.ack(alice.socket, 'sendMessage', { room: dm, content: 'psst' });
    assertAckOk(dmSent);
    const [, dmNote] = await recBob.waitFor('notification', 2);
    assert.equal(dmNote.type, 'dm');
    assert.equal(dmNote.messageId, dmSent.message.id);

    assertAckOk(await c.ack(carolNotes, 'sendNotification', { message: 'to everyone' }));
    for (const rec of [recAlice, recBob, recCarol]) {
      const notes = await rec.waitFor('notification', rec === recBob ? 3 : 1);
      const b = notes[notes.length - 1];
      assert.equal(b.type, 'broadcast');
      assert.equal(b.message, 'to everyone');
      assert.equal(b.user, carol.username);
    }
    await c.sleep(c.QUIET_MS);
    assert.equal(recAlice.count('notification'), 1, 'alice was notified of her own mention or twice');
  });
});
