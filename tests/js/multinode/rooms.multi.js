'use strict';
// PROTOCOL.md § Rooms and membership across gateway nodes: a removal on
// node A takes the member's sockets on node B out of the room at once (they
// get removedFromRoom and hear the room no more); an invite made on one node
// notifies the invitee on another; members' online state covers every node;
// a socket put in its user's rooms at the handshake arrives as a join would;
// a removed member who comes back is announced again.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const c = require('../lib/client');
const { assertAckError, assertAckOk } = require('../lib/shapes');
const { clusterForFile } = require('./lib/cluster');

const cluster = clusterForFile('rooms', 2);
after(c.closeAll);

const node = (i) => cluster.gateways[i];

async function on(i, ns = '/chat', user) {
  const u = user || await c.register(node(i));
  const socket = await c.connect(node(i), ns, { token: u.token });
  return { ...u, socket };
}

describe('rooms and memberships across nodes', () => {
  it('an invite on node 0 notifies the invitee on node 1; members sees them online', async () => {
    const owner = await on(0);
    const bob = await on(1);
    const bobNotes = await c.connect(node(1), '/notifications', { token: bob.token });
    const notes = c.record(bobNotes, ['notification']);
    const room = c.uniqueName('mr');
    assertAckOk(await c.ack(owner.socket, 'createRoom', { room, private: true }));
    await c.join(owner.socket, room);
    assertAckOk(await c.ack(owner.socket, 'invite', { room, user: bob.username }));
    const [note] = await notes.waitFor('notification');
    assert.deepEqual(note, { type: 'invite', room, from: owner.username });
    const members = await c.ack(owner.socket, 'members', { room });
    assertAckOk(members);
    assert.equal(members.members.find((m) => m.user === bob.username).online, true);
    const rooms = await c.ack(bob.socket, 'rooms', {});
    assert.ok(rooms.rooms.some((r) => r.room === room));
  });

  it('a removal on node 0 makes the member\'s sockets on node 1 leave at once', async () => {
    const owner = await on(0);
    const bob = await on(1);
    const bobOld = await on(1, '/', bob);
    const room = c.uniqueName('mr');
    assertAckOk(await c.ack(owner.socket, 'createRoom', { room, private: true }));
    assertAckOk(await c.ack(owner.socket, 'invite', { room, user: bob.username }));
    await c.join(owner.socket, room);
    await c.join(bob.socket, room);
    await c.join(bobOld.socket, room);
    const rec = c.record(bob.socket, ['removedFromRoom', 'message']);
    const recOld = c.record(bobOld.socket, ['removedFromRoom']);
    const left = c.record(owner.socket, ['memberLeft']);
    assertAckOk(await c.ack(owner.socket, 'removeMember', { room, user: bob.username, ban: true }));
    assert.deepEqual((await rec.waitFor('removedFromRoom'))[0], { room, by: owner.username });
    assert.deepEqual((await recOld.waitFor('removedFromRoom'))[0], { room, by: owner.username });
    assert.deepEqual((await left.waitFor('memberLeft'))[0], { room, user: bob.username, by: owner.username });
    assertAckError(await c.ack(bob.socket, 'sendMessage', { room, content: 'x' }), 'FORBIDDEN');
    assertAckError(await c.ack(bob.socket, 'joinRoom', { room }), 'FORBIDDEN');
    assertAckOk(await c.ack(owner.socket, 'sendMessage', { room, content: 'after' }));
    await c.sleep(c.QUIET_MS);
    assert.equal(rec.count('message'), 0);
  });

  it('auth {rooms: "all"} on node 1 announces userJoined and userLeft to members on node 0', async () => {
    const a = await on(0);
    const b = await on(0);
    const room = c.uniqueName('mr');
    await c.join(a.socket, room);
    assert.deepEqual(await c.ack(a.socket, 'leaveRoom', { room }), { ok: true });
    await c.join(b.socket, room);
    const rec = c.record(b.socket, ['userJoined', 'userLeft']);
    const all = await c.connect(node(1), '/chat', { auth: { token: a.token, rooms: 'all' } });
    assert.deepEqual((await rec.waitFor('userJoined'))[0], { room, user: a.username });
    // A socket of the same user joining on node 0 is not a second arrival.
    await c.join(a.socket, room);
    all.disconnect();
    await c.sleep(c.QUIET_MS);
    assert.equal(rec.count('userLeft'), 0, 'a left while its socket on node 0 is still in the room');
    assert.deepEqual(await c.ack(a.socket, 'leaveRoom', { room }), { ok: true });
    assert.deepEqual((await rec.waitFor('userLeft'))[0], { room, user: a.username });
    assert.equal(rec.count('userJoined'), 1);
  });

  it('auth {rooms: "all"} on node 1 hears a message sent to the last of its 100 rooms right after connect', async () => {
    const a = await on(0);
    const b = await on(0);
    // Four sockets, so that no socket's event budget refuses the joins.
    const rooms = [];
    for (let i = 0; i < 4; i++) {
      const s = await c.connect(node(0), '/chat', { token: a.token });
      rooms.push(...await c.memberOfRooms(s, 25, 'mr'));
    }
    // The least recently active: the last in the user's list of rooms.
    const last = rooms[0];
    await c.join(b.socket, last);
    const all = await c.connect(node(1), '/chat', { auth: { token: a.token, rooms: 'all' } });
    const rec = c.record(all, ['message']);
    const sent = await c.ack(b.socket, 'sendMessage', { room: last, content: 'right after connect' });
    assertAckOk(sent);
    const [m] = await rec.waitFor('message');
    assert.equal(m.id, sent.message.id);
  });

  it('auth {rooms: "all"} sockets dropped during their handshake on node 1 leave nothing in the roster', async () => {
    const a = await on(0);
    const b = await on(0);
    const rooms = await c.memberOfRooms(a.socket, 20, 'mr');
    const watched = rooms[rooms.length - 1];
    await c.join(b.socket, watched);
    const rec = c.record(b.socket, ['userJoined', 'userLeft']);
    // Each closes while node 1 is still putting it in its 20 rooms (a
    // Redis round trip each).
    c.dropDuringHandshake(node(1), '/chat', { auth: { token: a.token, rooms: 'all' } });
    await c.sleep(1500);
    assert.equal(rec.count('userJoined'), rec.count('userLeft'),
      `joined ${JSON.stringify(rec.seen.userJoined)}, left ${JSON.stringify(rec.seen.userLeft)}`);
    const before = rec.count('userJoined');
    // The user really arriving on node 1 is announced, and leaving too.
    const later = await c.connect(node(1), '/chat', { token: a.token });
    await c.join(later, watched);
    const joined = await rec.waitFor('userJoined', before + 1);
    assert.deepEqual(joined[before], { room: watched, user: a.username });
    assert.deepEqual(await c.ack(later, 'leaveRoom', { room: watched }), { ok: true });
    const left = await rec.waitFor('userLeft', before + 1);
    assert.deepEqual(left[before], { room: watched, user: a.username });
  });

  it('a member removed on node 0 and invited back is announced again when they join on node 1', async () => {
    const owner = await on(0);
    const bob = await on(1);
    const room = c.uniqueName('mr');
    assertAckOk(await c.ack(owner.socket, 'createRoom', { room, private: true }));
    await c.join(owner.socket, room);
    const rec = c.record(owner.socket, ['userJoined', 'userLeft', 'memberLeft']);
    assertAckOk(await c.ack(owner.socket, 'invite', { room, user: bob.username }));
    await c.join(bob.socket, room);
    await rec.waitFor('userJoined');
    assertAckOk(await c.ack(owner.socket, 'removeMember', { room, user: bob.username }));
    await rec.waitFor('memberLeft');
    assertAckOk(await c.ack(owner.socket, 'invite', { room, user: bob.username }));
    await c.join(bob.socket, room);
    const joined = await rec.waitFor('userJoined', 2);
    assert.deepEqual(joined[1], { room, user: bob.username });
    assert.deepEqual(await c.ack(bob.socket, 'leaveRoom', { room }), { ok: true });
    assert.deepEqual((await rec.waitFor('userLeft'))[0], { room, user: bob.username });
  });

  it('setTopic on node 1 reaches members on node 0 as roomUpdated', async () => {
    const a = await on(0);
    const b = await on(1);
    const room = c.uniqueName('mr');
    await c.join(a.socket, room);
    await c.join(b.socket, room);
    const rec = c.record(a.socket, ['roomUpdated']);
    assertAckOk(await c.ack(b.socket, 'setTopic', { room, topic: 'cross-node' }));
    const [u] = await rec.waitFor('roomUpdated');
    assert.equal(u.topic, 'cross-node');
  });
});
