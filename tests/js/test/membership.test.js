'use strict';
// PROTOCOL.md § Rooms and membership (v1.2): createRoom, rooms, members,
// invite, removeMember (+ ban), unban, setRole, setTopic, the server events
// memberJoined, memberLeft, removedFromRoom, roomUpdated and invite
// notifications, private rooms, `auth: {rooms: "all"}`, and DM memberships.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');
const { assertAckError, assertAckOk, assertChatError } = require('../lib/shapes');

const server = serverForFile('membership');
after(c.closeAll);

const room = (p = 'm') => c.uniqueName(p);

async function notifications(u, transport) {
  return c.connect(server, '/notifications', { token: u.token, transport });
}

const SUMMARY_KEYS = ['createdAt', 'lastMessage', 'owner', 'private', 'role', 'room', 'topic', 'unread'];

for (const transport of c.TRANSPORTS) {
  describe(`membership over ${transport}`, () => {
    it('createRoom makes the caller owner; a taken name is CONFLICT; bad input INVALID_INPUT', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const r = room();
      const res = await c.ack(a.socket, 'createRoom', { room: r, private: true, topic: 'Plans' });
      assertAckOk(res);
      assert.deepEqual(Object.keys(res.room).sort(), SUMMARY_KEYS);
      assert.equal(res.room.room, r);
      assert.equal(res.room.private, true);
      assert.equal(res.room.topic, 'Plans');
      assert.equal(res.room.owner, a.username);
      assert.equal(res.room.role, 'owner');
      assertAckError(await c.ack(b.socket, 'createRoom', { room: r }), 'CONFLICT');
      // A public room made by a first join is taken as well.
      const open = room();
      await c.join(b.socket, open);
      assertAckError(await c.ack(a.socket, 'createRoom', { room: open }), 'CONFLICT');
      for (const bad of [{ room: 'a b' }, { room: r, private: 'yes' }, { room: room(), topic: 'x'.repeat(251) },
        { room: `dm:${a.username}:${b.username}`.toLowerCase() }, 'nope']) {
        assertAckError(await c.ack(a.socket, 'createRoom', bad), 'INVALID_INPUT', JSON.stringify(bad));
      }
      // Without an ack the refusal is a chatError.
      const rec = c.record(b.socket, ['chatError']);
      b.socket.emit('createRoom', { room: r });
      const [err] = await rec.waitFor('chatError');
      assertChatError(err, 'createRoom', 'CONFLICT');
    });

    it('a private room refuses non-members on join and every room event; members get in', async () => {
      const owner = await c.userWithSocket(server, transport);
      const other = await c.userWithSocket(server, transport);
      const r = room();
      assertAckOk(await c.ack(owner.socket, 'createRoom', { room: r, private: true }));
      assertAckError(await c.ack(other.socket, 'joinRoom', { room: r }), 'FORBIDDEN');
      await c.join(owner.socket, r);
      const sent = await c.ack(owner.socket, 'sendMessage', { room: r, content: 'secret' });
      assertAckOk(sent);
      assertAckError(await c.ack(other.socket, 'history', { room: r }), 'FORBIDDEN');
      assertAckError(await c.ack(other.socket, 'sendMessage', { room: r, content: 'x' }), 'FORBIDDEN');
      assertAckError(await c.ack(other.socket, 'markRead', { room: r, messageId: sent.message.id }), 'FORBIDDEN');
      assertAckError(await c.ack(other.socket, 'presence', { room: r }), 'FORBIDDEN');
      assertAckError(await c.ack(other.socket, 'members', { room: r }), 'FORBIDDEN');
      assertAckError(await c.ack(other.socket, 'invite', { room: r, user: other.username }), 'FORBIDDEN');
      assertAckError(await c.ack(other.socket, 'setTopic', { room: r, topic: 'mine' }), 'FORBIDDEN');
      const rec = c.record(other.socket, ['chatError']);
      other.socket.emit('typing', { room: r, typing: true });
      const [err] = await rec.waitFor('chatError');
      assertChatError(err, 'typing', 'FORBIDDEN');
      // Once invited, the same user may join and read.
      assertAckOk(await c.ack(owner.socket, 'invite', { room: r, user: other.username }));
      const joined = await c.join(other.socket, r);
      assert.deepEqual(joined.messages.map((m) => m.id), [sent.message.id]);
    });

    it('invite: notification to the invitee, memberJoined to the room; roles decide who may', async () => {
      const owner = await c.userWithSocket(server, transport);
      const bob = await c.userWithSocket(server, transport);
      const carol = await c.userWithSocket(server, transport);
      const r = room();
      assertAckOk(await c.ack(owner.socket, 'createRoom', { room: r, private: true }));
      await c.join(owner.socket, r);
      const bobNotes = await notifications(bob, transport);
      const notes = c.record(bobNotes, ['notification']);
      const roomRec = c.record(owner.socket, ['memberJoined']);
      assertAckOk(await c.ack(owner.socket, 'invite', { room: r, user: bob.username }));
      const [note] = await notes.waitFor('notification');
      assert.deepEqual(note, { type: 'invite', room: r, from: owner.username });
      const [mj] = await roomRec.waitFor('memberJoined');
      assert.deepEqual(mj, { room: r, user: bob.username, by: owner.username });
      // Inviting a member again: ok, nothing emitted.
      assertAckOk(await c.ack(owner.socket, 'invite', { room: r, user: bob.username }));
      // A plain member cannot invite to a private room.
      await c.join(bob.socket, r);
      assertAckError(await c.ack(bob.socket, 'invite', { room: r, user: carol.username }), 'FORBIDDEN');
      // Unknown users and rooms are NOT_FOUND; bad names INVALID_INPUT.
      assertAckError(await c.ack(owner.socket, 'invite', { room: r, user: c.uniqueName('ghost') }), 'NOT_FOUND');
      assertAckError(await c.ack(owner.socket, 'invite', { room: room(), user: bob.username }), 'NOT_FOUND');
      assertAckError(await c.ack(owner.socket, 'invite', { room: r, user: 'a b' }), 'INVALID_INPUT');
      await c.sleep(c.QUIET_MS);
      assert.equal(roomRec.count('memberJoined'), 1);
      assert.equal(notes.count('notification'), 1);
      // In a public room any member invites.
      const pub = room();
      await c.join(bob.socket, pub);
      assertAckOk(await c.ack(bob.socket, 'invite', { room: pub, user: carol.username }));
    });

    it('rooms lists memberships with role, unread and lastMessage, most recently active first', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const [r1, r2] = [room('first'), room('second')];
      await c.join(a.socket, r1);
      await c.join(a.socket, r2);
      await c.join(b.socket, r1);
      await c.join(b.socket, r2);
      await c.sendMany(b.socket, r2, 1);
      await c.sleep(5);
      const last = await c.sendMany(b.socket, r1, 2);
      const res = await c.ack(a.socket, 'rooms', {});
      assertAckOk(res);
      const mine = res.rooms.filter((x) => x.room === r1 || x.room === r2);
      assert.deepEqual(mine.map((x) => x.room), [r1, r2]);
      assert.deepEqual(Object.keys(mine[0]).sort(), SUMMARY_KEYS);
      assert.equal(mine[0].unread, 2);
      assert.equal(mine[1].unread, 1);
      assert.equal(mine[0].lastMessage.id, last[1].id);
      assert.equal(mine[0].role, 'member');
      assert.equal(mine[0].private, false);
      assertAckOk(await c.ack(a.socket, 'markRead', { room: r1, messageId: last[1].id }));
      const again = await c.ack(a.socket, 'rooms', {});
      assert.equal(again.rooms.find((x) => x.room === r1).unread, 0);
      // A second device sees the same list.
      const device = await c.connect(server, '/chat', { token: a.token, transport });
      const other = await c.ack(device, 'rooms', {});
      assert.deepEqual(other.rooms.map((x) => x.room), again.rooms.map((x) => x.room));
    });

    it('a first direct message makes both users members; the DM shows in the other one\'s rooms', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const dm = `dm:${[a.username, b.username].map((n) => n.toLowerCase()).sort().join(':')}`;
      await c.join(a.socket, dm);
      assertAckOk(await c.ack(a.socket, 'sendMessage', { room: dm, content: 'psst' }));
      const res = await c.ack(b.socket, 'rooms', {});
      const entry = res.rooms.find((x) => x.room === dm);
      assert.ok(entry, JSON.stringify(res));
      assert.equal(entry.unread, 1);
      assert.equal(entry.private, true);
      assert.equal(entry.lastMessage.content, 'psst');
      const members = await c.ack(b.socket, 'members', { room: dm });
      assertAckOk(members);
      assert.deepEqual(members.members.map((m) => m.user).sort(), [a.username, b.username].sort());
    });

    it('members: roles and online state', async () => {
      const owner = await c.userWithSocket(server, transport);
      const bob = await c.register(server);
      const r = room();
      assertAckOk(await c.ack(owner.socket, 'createRoom', { room: r }));
      assertAckOk(await c.ack(owner.socket, 'invite', { room: r, user: bob.username }));
      let res = await c.ack(owner.socket, 'members', { room: r });
      assertAckOk(res);
      const byUser = (list) => Object.fromEntries(list.map((m) => [m.user, m]));
      let m = byUser(res.members);
      assert.deepEqual(m[owner.username], { user: owner.username, role: 'owner', online: true });
      assert.deepEqual(m[bob.username], { user: bob.username, role: 'member', online: false });
      await c.connect(server, '/chat', { token: bob.token, transport });
      res = await c.ack(owner.socket, 'members', { room: r });
      m = byUser(res.members);
      assert.equal(m[bob.username].online, true);
      assertAckError(await c.ack(owner.socket, 'members', { room: room() }), 'NOT_FOUND');
      assertAckError(await c.ack(owner.socket, 'members', {}), 'INVALID_INPUT');
    });

    it('setRole (owner only) and setTopic (owner/admin) emit roomUpdated', async () => {
      const owner = await c.userWithSocket(server, transport);
      const bob = await c.userWithSocket(server, transport);
      const carol = await c.userWithSocket(server, transport);
      const r = room();
      assertAckOk(await c.ack(owner.socket, 'createRoom', { room: r }));
      await c.join(owner.socket, r);
      await c.join(bob.socket, r);
      await c.join(carol.socket, r);
      const rec = c.record(carol.socket, ['roomUpdated']);
      assertAckError(await c.ack(bob.socket, 'setTopic', { room: r, topic: 'x' }), 'FORBIDDEN');
      assertAckError(await c.ack(bob.socket, 'setRole', { room: r, user: carol.username, role: 'admin' }), 'FORBIDDEN');
      assertAckError(await c.ack(owner.socket, 'setRole', { room: r, user: bob.username, role: 'owner' }), 'INVALID_INPUT');
      assertAckError(await c.ack(owner.socket, 'setRole', { room: r, user: owner.username, role: 'member' }), 'FORBIDDEN');
      assertAckOk(await c.ack(owner.socket, 'setRole', { room: r, user: bob.username, role: 'admin' }));
      const [u1] = await rec.waitFor('roomUpdated');
      assert.equal(u1.room, r);
      assert.equal(u1.user, bob.username);
      assert.equal(u1.role, 'admin');
      assertAckOk(await c.ack(bob.socket, 'setTopic', { room: r, topic: 'Release day' }));
      const [, u2] = await rec.waitFor('roomUpdated', 2);
      assert.equal(u2.room, r);
      assert.equal(u2.topic, 'Release day');
      assertAckError(await c.ack(bob.socket, 'setTopic', { room: r, topic: 'x'.repeat(251) }), 'INVALID_INPUT');
      assertAckOk(await c.ack(bob.socket, 'setTopic', { room: r, topic: 'é'.repeat(250) }));
      const members = await c.ack(carol.socket, 'members', { room: r });
      assert.equal(members.members.find((x) => x.user === bob.username).role, 'admin');
      // In an ownerless public room any member sets the topic.
      const free = room();
      await c.join(carol.socket, free);
      assertAckOk(await c.ack(carol.socket, 'setTopic', { room: free, topic: 'anyone' }));
    });

    it('removeMember: the removed sockets leave at once and get removedFromRoom; memberLeft to the room', async () => {
      const owner = await c.userWithSocket(server, transport);
      const bob = await c.userWithSocket(server, transport);
      const bob2 = await c.connect(server, '/', { token: bob.token, transport });
      const r = room();
      assertAckOk(await c.ack(owner.socket, 'createRoom', { room: r, private: true }));
      assertAckOk(await c.ack(owner.socket, 'invite', { room: r, user: bob.username }));
      await c.join(owner.socket, r);
      await c.join(bob.socket, r);
      await c.join(bob2, r);
      const bobRec = c.record(bob.socket, ['removedFromRoom', 'message']);
      const bob2Rec = c.record(bob2, ['removedFromRoom']);
      const ownerRec = c.record(owner.socket, ['memberLeft']);
      assertAckError(await c.ack(bob.socket, 'removeMember', { room: r, user: owner.username }), 'FORBIDDEN');
      assertAckOk(await c.ack(owner.socket, 'removeMember', { room: r, user: bob.username }));
      assert.deepEqual((await bobRec.waitFor('removedFromRoom'))[0], { room: r, by: owner.username });
      assert.deepEqual((await bob2Rec.waitFor('removedFromRoom'))[0], { room: r, by: owner.username });
      assert.deepEqual((await ownerRec.waitFor('memberLeft'))[0], { room: r, user: bob.username, by: owner.username });
      assertAckError(await c.ack(bob.socket, 'sendMessage', { room: r, content: 'still here?' }), 'FORBIDDEN');
      assertAckError(await c.ack(bob2, 'history', { room: r }), 'FORBIDDEN');
      assertAckOk(await c.ack(owner.socket, 'sendMessage', { room: r, content: 'after' }));
      await c.sleep(c.QUIET_MS);
      assert.equal(bobRec.count('message'), 0, 'a removed socket still hears the room');
      assertAckError(await c.ack(bob.socket, 'joinRoom', { room: r }), 'FORBIDDEN');
      const rooms = await c.ack(bob.socket, 'rooms', {});
      assert.ok(!rooms.rooms.some((x) => x.room === r));
      assertAckError(await c.ack(owner.socket, 'removeMember', { room: r, user: bob.username }), 'NOT_FOUND');
    });

    it('anyone leaves; bans keep a user out until unban (owner or admin)', async () => {
      const owner = await c.userWithSocket(server, transport);
      const bob = await c.userWithSocket(server, transport);
      const carol = await c.userWithSocket(server, transport);
      const r = room();
      assertAckOk(await c.ack(owner.socket, 'createRoom', { room: r }));
      await c.join(bob.socket, r);
      await c.join(carol.socket, r);
      // Leaving: removeMember of oneself.
      const carolRec = c.record(carol.socket, ['removedFromRoom']);
      assertAckOk(await c.ack(carol.socket, 'removeMember', { room: r, user: carol.username }));
      await carolRec.waitFor('removedFromRoom');
      // A member cannot ban; the owner can.
      await c.join(carol.socket, r);
      assertAckError(await c.ack(carol.socket, 'removeMember', { room: r, user: bob.username, ban: true }), 'FORBIDDEN');
      assertAckOk(await c.ack(owner.socket, 'removeMember', { room: r, user: bob.username, ban: true }));
      assertAckError(await c.ack(bob.socket, 'joinRoom', { room: r }), 'FORBIDDEN');
      assertAckError(await c.ack(carol.socket, 'invite', { room: r, user: bob.username }), 'FORBIDDEN');
      assertAckError(await c.ack(carol.socket, 'unban', { room: r, user: bob.username }), 'FORBIDDEN');
      assertAckOk(await c.ack(owner.socket, 'unban', { room: r, user: bob.username }));
      await c.join(bob.socket, r);
      assertAckError(await c.ack(owner.socket, 'unban', { room: room(), user: bob.username }), 'NOT_FOUND');
    });

    it('auth {rooms: "all"} puts a new socket in every room of its user, without previousMessages', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const [r1, r2] = [room(), room()];
      await c.join(a.socket, r1);
      assertAckOk(await c.ack(a.socket, 'createRoom', { room: r2, private: true }));
      await c.join(b.socket, r1);
      const all = await c.connect(server, '/chat', { auth: { token: a.token, rooms: 'all' }, transport });
      const rec = c.record(all, ['message', 'previousMessages']);
      assertAckOk(await c.ack(b.socket, 'sendMessage', { room: r1, content: 'to everyone' }));
      const [m] = await rec.waitFor('message');
      assert.equal(m.content, 'to everyone');
      assertAckOk(await c.ack(all, 'sendMessage', { room: r2, content: 'mine' }));
      assertAckOk(await c.ack(all, 'presence', { room: r2 }));
      assert.equal(rec.count('previousMessages'), 0);
      // Without it, a socket is in no room.
      const plain = await c.connect(server, '/chat', { token: a.token, transport });
      assertAckError(await c.ack(plain, 'history', { room: r1 }), 'FORBIDDEN');
    });

    it('auth {rooms: "all"} arrives as a join would: userJoined where the user had no socket, userLeft when it goes', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const [away, here] = [room(), room()];
      // a is a member of both rooms, with a socket in `here` only.
      await c.join(a.socket, away);
      assert.deepEqual(await c.ack(a.socket, 'leaveRoom', { room: away }), { ok: true });
      await c.join(a.socket, here);
      await c.join(b.socket, away);
      await c.join(b.socket, here);
      const rec = c.record(b.socket, ['userJoined', 'userLeft']);

      const all = await c.connect(server, '/chat', { auth: { token: a.token, rooms: 'all' }, transport });
      const [joined] = await rec.waitFor('userJoined');
      assert.deepEqual(joined, { room: away, user: a.username });
      const presence = await c.ack(b.socket, 'presence', { room: away });
      assert.deepEqual([...presence.users].sort(), [a.username, b.username].sort());

      all.disconnect();
      const [left] = await rec.waitFor('userLeft');
      assert.deepEqual(left, { room: away, user: a.username });
      await c.sleep(c.QUIET_MS);
      assert.equal(rec.count('userJoined'), 1, `announced again: ${JSON.stringify(rec.seen.userJoined)}`);
      assert.equal(rec.count('userLeft'), 1, `a socket still in the room was announced gone: ${JSON.stringify(rec.seen.userLeft)}`);
    });

    it('auth {rooms: "all"} sockets dropped during their handshake announce nothing, and leave no one behind', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const rooms = await c.memberOfRooms(a.socket, 20);
      const watched = rooms[rooms.length - 1];
      await c.join(b.socket, watched);
      const rec = c.record(b.socket, ['userJoined', 'userLeft']);
      // Each closes while the server is still putting it in its 20 rooms.
      c.dropDuringHandshake(server, '/chat', { auth: { token: a.token, rooms: 'all' }, transport });
      await c.sleep(1500);
      const presence = await c.ack(b.socket, 'presence', { room: watched });
      assert.deepEqual(presence.users, [b.username]);
      assert.equal(rec.count('userJoined'), rec.count('userLeft'),
        `joined ${JSON.stringify(rec.seen.userJoined)}, left ${JSON.stringify(rec.seen.userLeft)}`);
    });
  });
}
