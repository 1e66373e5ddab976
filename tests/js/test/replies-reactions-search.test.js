'use strict';
// PROTOCOL.md § Replies, reactions and search (v1.2), and their limits.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');
const { assertAckError, assertAckOk, assertChatError, assertMessage, ids } = require('../lib/shapes');

const server = serverForFile('replies-reactions-search');
after(c.closeAll);

const UNKNOWN_ID = '01890000-0000-7000-8000-000000000000';

async function setup(transport) {
  const a = await c.userWithSocket(server, transport);
  const b = await c.userWithSocket(server, transport);
  const r = c.uniqueName('rrs');
  await c.join(a.socket, r);
  await c.join(b.socket, r);
  return { a, b, r };
}

async function send(socket, room, content, extra = {}) {
  const res = await c.ack(socket, 'sendMessage', { room, content, ...extra });
  assertAckOk(res, 'sendMessage');
  return res.message;
}

for (const transport of c.TRANSPORTS) {
  describe(`replies over ${transport}`, () => {
    it('replyTo is stored and every message object carries {id, sender, excerpt}', async () => {
      const { a, b, r } = await setup(transport);
      const original = await send(a.socket, r, 'Lunch at noon?');
      assert.equal(original.replyTo, null);
      const recA = c.record(a.socket, ['message']);
      const res = await c.ack(b.socket, 'sendMessage', { room: r, content: 'yes', replyTo: original.id });
      assertAckOk(res);
      const replyTo = { id: original.id, sender: a.username, excerpt: 'Lunch at noon?' };
      assertMessage(res.message, { room: r, sender: b.username, content: 'yes', replyTo });
      const [seen] = await recA.waitFor('message');
      assert.deepEqual(seen, res.message);
      const hist = await c.ack(a.socket, 'history', { room: r });
      assert.deepEqual(hist.messages.map((m) => m.replyTo), [null, replyTo]);
      const late = await c.userWithSocket(server, transport);
      const rec = c.record(late.socket, ['previousMessages']);
      await c.join(late.socket, r);
      const [prev] = await rec.waitFor('previousMessages');
      assert.deepEqual(prev[1].replyTo, replyTo);
    });

    it('the excerpt is the first 100 characters and follows edits and deletion', async () => {
      const { a, b, r } = await setup(transport);
      const long = `${'é'.repeat(99)}😀 and more`;
      const original = await send(a.socket, r, long);
      const reply = await send(b.socket, r, 'wow', { replyTo: original.id });
      assert.equal([...reply.replyTo.excerpt].length, 100);
      assert.equal(reply.replyTo.excerpt, `${'é'.repeat(99)}😀`);
      assertAckOk(await c.ack(a.socket, 'editMessage', { id: original.id, content: 'changed my mind' }));
      let hist = await c.ack(b.socket, 'history', { room: r });
      assert.equal(hist.messages[1].replyTo.excerpt, 'changed my mind');
      // A reply's own edit shows its replyTo in messageEdited.
      const recA = c.record(a.socket, ['messageEdited']);
      const edited = await c.ack(b.socket, 'editMessage', { id: reply.id, content: 'wow!' });
      assert.equal(edited.message.replyTo.excerpt, 'changed my mind');
      const [ev] = await recA.waitFor('messageEdited');
      assert.deepEqual(ev.replyTo, edited.message.replyTo);
      assertAckOk(await c.ack(a.socket, 'deleteMessage', { id: original.id }));
      hist = await c.ack(b.socket, 'history', { room: r });
      assert.deepEqual(hist.messages[1].replyTo, { id: original.id, sender: a.username, excerpt: '' });
    });

    it('replyTo must name a message of the same room: NOT_FOUND; a non-string is INVALID_INPUT', async () => {
      const { a, r } = await setup(transport);
      const other = c.uniqueName('rrs');
      await c.join(a.socket, other);
      const elsewhere = await send(a.socket, other, 'elsewhere');
      for (const replyTo of [elsewhere.id, UNKNOWN_ID]) {
        assertAckError(await c.ack(a.socket, 'sendMessage', { room: r, content: 'x', replyTo }), 'NOT_FOUND');
      }
      assertAckError(await c.ack(a.socket, 'sendMessage', { room: r, content: 'x', replyTo: 5 }), 'INVALID_INPUT');
      const hist = await c.ack(a.socket, 'history', { room: r });
      assert.deepEqual(hist.messages, [], 'a refused reply was stored');
    });
  });

  describe(`reactions over ${transport}`, () => {
    it('react adds and removes, acks {ok, reactions}, and the room gets messageReactions on changes only', async () => {
      const { a, b, r } = await setup(transport);
      const m = await send(a.socket, r, 'party tonight');
      const recA = c.record(a.socket, ['messageReactions']);
      const recB = c.record(b.socket, ['messageReactions']);
      let res = await c.ack(b.socket, 'react', { id: m.id, emoji: '👍', on: true });
      assert.deepEqual(res, { ok: true, reactions: [{ emoji: '👍', count: 1, users: [b.username] }] });
      const [evA] = await recA.waitFor('messageReactions');
      assert.deepEqual(evA, { id: m.id, room: r, reactions: res.reactions });
      await recB.waitFor('messageReactions');
      // Idempotent: the same again changes nothing and emits nothing.
      assert.deepEqual(await c.ack(b.socket, 'react', { id: m.id, emoji: '👍', on: true }), res);
      await c.ack(a.socket, 'react', { id: m.id, emoji: '🎉', on: true });
      res = await c.ack(a.socket, 'react', { id: m.id, emoji: '👍', on: true });
      assert.deepEqual(res.reactions, [
        { emoji: '👍', count: 2, users: [b.username, a.username] },
        { emoji: '🎉', count: 1, users: [a.username] },
      ]);
      res = await c.ack(b.socket, 'react', { id: m.id, emoji: '👍', on: false });
      assert.deepEqual(res.reactions, [
        { emoji: '👍', count: 1, users: [a.username] },
        { emoji: '🎉', count: 1, users: [a.username] },
      ], 'an emoji keeps its place while anyone still reacts with it');
      assertAckOk(await c.ack(b.socket, 'react', { id: m.id, emoji: '👍', on: false }));
      const [, , , last] = await recA.waitFor('messageReactions', 4);
      assert.deepEqual(last.reactions, res.reactions);
      await c.sleep(c.QUIET_MS);
      assert.equal(recA.count('messageReactions'), 4, 'a no-op was broadcast');
      const hist = await c.ack(b.socket, 'history', { room: r });
      assert.deepEqual(hist.messages[0].reactions, res.reactions);
    });

    it('refusals: INVALID_INPUT, FORBIDDEN outside the room, NOT_FOUND, CONFLICT once deleted; chatError without ack', async () => {
      const { a, b, r } = await setup(transport);
      const m = await send(a.socket, r, 'hi');
      for (const payload of [
        { id: m.id, emoji: 'ok', on: true },
        { id: m.id, emoji: '👍👍', on: true },
        { id: m.id, emoji: '', on: true },
        { id: m.id, emoji: 5, on: true },
        { id: m.id, emoji: '👍' },
        { id: m.id, emoji: '👍', on: 'yes' },
        { emoji: '👍', on: true },
      ]) {
        assertAckError(await c.ack(a.socket, 'react', payload), 'INVALID_INPUT', JSON.stringify(payload));
      }
      assertAckError(await c.ack(a.socket, 'react', { id: UNKNOWN_ID, emoji: '👍', on: true }), 'NOT_FOUND');
      const outsider = await c.userWithSocket(server, transport);
      assertAckError(await c.ack(outsider.socket, 'react', { id: m.id, emoji: '👍', on: true }), 'FORBIDDEN');
      assertAckOk(await c.ack(a.socket, 'leaveRoom', { room: r }));
      assertAckError(await c.ack(a.socket, 'react', { id: m.id, emoji: '👍', on: true }), 'FORBIDDEN');
      assertAckOk(await c.ack(a.socket, 'deleteMessage', { id: m.id }));
      assertAckError(await c.ack(b.socket, 'react', { id: m.id, emoji: '👍', on: true }), 'CONFLICT');
      const rec = c.record(b.socket, ['chatError']);
      b.socket.emit('react', { id: m.id, emoji: 'nope', on: true });
      const [err] = await rec.waitFor('chatError');
      assertChatError(err, 'react', 'INVALID_INPUT');
    });

    it('skin tones, flags and ZWJ sequences are one emoji; a 21st distinct emoji is INVALID_INPUT', async () => {
      const { a, b, r } = await setup(transport);
      const m = await send(a.socket, r, 'vote');
      for (const emoji of ['👍🏽', '🇫🇷', '👨‍👩‍👧']) {
        assertAckOk(await c.ack(a.socket, 'react', { id: m.id, emoji, on: true }), emoji);
      }
      const more = ['😀', '😃', '😄', '😁', '😆', '😅', '🤣', '😂', '🙂', '🙃', '😉', '😊', '😇', '🥰', '😍', '🤩', '😘'];
      for (const emoji of more) assertAckOk(await c.ack(a.socket, 'react', { id: m.id, emoji, on: true }));
      assertAckError(await c.ack(b.socket, 'react', { id: m.id, emoji: '🚀', on: true }), 'INVALID_INPUT');
      const res = await c.ack(b.socket, 'react', { id: m.id, emoji: '👍🏽', on: true });
      assert.equal(res.reactions.length, 20);
      assert.deepEqual(res.reactions[0], { emoji: '👍🏽', count: 2, users: [a.username, b.username] });
    });
  });

  describe(`search over ${transport}`, () => {
    it('every word, the last as a prefix, ignoring case and accents; newest first with matches offsets', async () => {
      const { a, b, r } = await setup(transport);
      const first = await send(a.socket, r, 'Le Café est fermé');
      const second = await send(b.socket, r, '😀 CAFE au lait, café!');
      await send(a.socket, r, 'nothing to see');
      let res = await c.ack(b.socket, 'search', { query: 'cafe' });
      assert.deepEqual(Object.keys(res).sort(), ['hasMore', 'ok', 'results']);
      assert.equal(res.ok, true);
      assert.equal(res.hasMore, false);
      assert.deepEqual(res.results.map((x) => x.message.id), [second.id, first.id]);
      assert.deepEqual(Object.keys(res.results[0]).sort(), ['matches', 'message']);
      assertMessage(res.results[0].message, second);
      assert.deepEqual(res.results[0].matches, [[2, 6], [16, 20]]);
      res = await c.ack(b.socket, 'search', { query: 'CAFÉ FER', room: r });
      assert.deepEqual(ids(res.results.map((x) => x.message)), [first.id]);
      assert.deepEqual(res.results[0].matches, [[3, 7], [12, 17]]);
      res = await c.ack(b.socket, 'search', { query: 'caf ferme' });
      assert.deepEqual(res.results, [], 'a word before the last must be whole');
    });

    it('searches only the caller\'s rooms; room must be one; deleted never; edits at once', async () => {
      const { a, b, r } = await setup(transport);
      const tag = c.uniqueName('w').replace(/[^a-z0-9]/gi, '');
      const other = c.uniqueName('rrs');
      await c.join(a.socket, other);
      await send(a.socket, other, `${tag} private`);
      const shared = await send(a.socket, r, `${tag} shared`);
      let res = await c.ack(b.socket, 'search', { query: tag });
      assert.deepEqual(res.results.map((x) => x.message.id), [shared.id]);
      res = await c.ack(a.socket, 'search', { query: tag });
      assert.equal(res.results.length, 2);
      assertAckError(await c.ack(b.socket, 'search', { query: tag, room: other }), 'FORBIDDEN');
      assertAckOk(await c.ack(a.socket, 'editMessage', { id: shared.id, content: 'renamed' }));
      res = await c.ack(b.socket, 'search', { query: tag });
      assert.deepEqual(res.results, []);
      res = await c.ack(b.socket, 'search', { query: 'renamed', room: r });
      assert.equal(res.results.length, 1);
      assertAckOk(await c.ack(a.socket, 'deleteMessage', { id: shared.id }));
      res = await c.ack(b.socket, 'search', { query: 'renamed', room: r });
      assert.deepEqual(res.results, []);
    });

    it('searches the rooms the caller is a member of, from any socket; not rooms they left', async () => {
      const { a, b, r } = await setup(transport);
      const tag = c.uniqueName('m').replace(/[^a-z0-9]/gi, '');
      const hit = await send(a.socket, r, `${tag} remembered`);
      // A second device of b, in no room: the membership is what counts.
      const fresh = await c.connect(server, '/chat', { token: b.token, transport });
      let res = await c.ack(fresh, 'search', { query: tag });
      assertAckOk(res);
      assert.deepEqual(res.results.map((x) => x.message.id), [hit.id]);
      res = await c.ack(fresh, 'search', { query: tag, room: r });
      assert.deepEqual(res.results.map((x) => x.message.id), [hit.id]);
      // Leaving (removeMember of oneself) ends the membership.
      assertAckOk(await c.ack(fresh, 'removeMember', { room: r, user: b.username }));
      res = await c.ack(fresh, 'search', { query: tag });
      assert.deepEqual(res.results, []);
      assertAckError(await c.ack(fresh, 'search', { query: tag, room: r }), 'FORBIDDEN');
    });

    it('pages with before and limit; hasMore', async () => {
      const { a, r } = await setup(transport);
      const sent = [];
      for (let i = 0; i < 5; i += 1) sent.push(await send(a.socket, r, `report ${i}`));
      let res = await c.ack(a.socket, 'search', { query: 'report', room: r, limit: 2 });
      assert.deepEqual(res.results.map((x) => x.message.id), [sent[4].id, sent[3].id]);
      assert.equal(res.hasMore, true);
      res = await c.ack(a.socket, 'search', { query: 'report', room: r, limit: 2, before: sent[3].id });
      assert.deepEqual(res.results.map((x) => x.message.id), [sent[2].id, sent[1].id]);
      res = await c.ack(a.socket, 'search', { query: 'report', room: r, before: sent[1].id });
      assert.deepEqual(res.results.map((x) => x.message.id), [sent[0].id]);
      assert.equal(res.hasMore, false);
    });

    it('refusals: query 1–200 characters, limit 1–100, bad room, unknown before', async () => {
      const { a, r } = await setup(transport);
      for (const payload of [
        {}, { query: '' }, { query: '   ' }, { query: 'x'.repeat(201) }, { query: 5 },
        { query: 'a', limit: 0 }, { query: 'a', limit: 101 }, { query: 'a', limit: 'ten' },
        { query: 'a', room: 'bad room' }, { query: 'a', before: 7 },
      ]) {
        assertAckError(await c.ack(a.socket, 'search', payload), 'INVALID_INPUT', JSON.stringify(payload).slice(0, 80));
      }
      assertAckOk(await c.ack(a.socket, 'search', { query: 'x'.repeat(200), limit: 100 }));
      assertAckError(await c.ack(a.socket, 'search', { query: 'a', room: r, before: UNKNOWN_ID }), 'NOT_FOUND');
      const rec = c.record(a.socket, ['chatError']);
      a.socket.emit('search', { query: '' });
      assertChatError((await rec.waitFor('chatError'))[0], 'search', 'INVALID_INPUT');
    });
  });
}
