'use strict';
// PROTOCOL.md § HTTP /upload and /media, avatars and message attachments.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');
const { PNG, GIF, MIB, upload, absolute } = require('../lib/media');
const { assertAckError, assertAckOk, assertHttpError, assertMessage, assertUser } = require('../lib/shapes');

const server = serverForFile('media');
after(c.closeAll);

function assertUploaded(res, { name, size, contentType }) {
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(Object.keys(res.body).sort(), ['contentType', 'id', 'name', 'size', 'url']);
  assert.equal(typeof res.body.id, 'string');
  assert.equal(res.body.name, name);
  assert.equal(res.body.size, size);
  if (contentType) assert.equal(res.body.contentType, contentType);
  assert.ok(new URL(res.body.url, server.url).pathname.endsWith(`/media/${res.body.id}`), res.body.url);
  return res.body;
}

async function getMedia(url) {
  const res = await fetch(absolute(server, url));
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('POST /upload and GET /media', () => {
  it('an avatar upload answers 201 and becomes the user\'s avatar', async () => {
    const u = await c.register(server);
    const up = assertUploaded(await upload(server, u.token, {
      field: 'avatar', bytes: PNG, name: 'me.png', type: 'image/png',
    }), { name: 'me.png', size: PNG.length, contentType: 'image/png' });
    const me = await c.http(server, 'GET', '/me', { token: u.token });
    assert.equal(me.status, 200);
    assertUser(me.body, u.username, up.url);
    const login = await c.http(server, 'POST', '/login', { json: { username: u.username, password: u.password } });
    assertUser(login.body.user, u.username, up.url);
    const { res, bytes } = await getMedia(up.url);
    assert.equal(res.status, 200);
    assert.ok(bytes.equals(PNG), 'served bytes differ from the upload');
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const disposition = res.headers.get('content-disposition');
    assert.ok(!disposition || disposition.startsWith('inline'), `an image is served inline, got ${disposition}`);
  });

  it('avatars are judged by their bytes: a GIF named .png is fine, text named .png is 415', async () => {
    const u = await c.register(server);
    assertUploaded(await upload(server, u.token, {
      field: 'avatar', bytes: GIF, name: 'cat.png', type: 'image/png',
    }), { name: 'cat.png', size: GIF.length, contentType: 'image/gif' });
    const before = (await c.http(server, 'GET', '/me', { token: u.token })).body.avatar;
    const fakes = [
      { bytes: Buffer.from('definitely not an image\n'), name: 'x.png', type: 'image/png' },
      { bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), name: 'x.svg', type: 'image/svg+xml' },
      { bytes: Buffer.from('<html><script>alert(1)</script></html>'), name: 'x.jpg', type: 'image/jpeg' },
    ];
    for (const f of fakes) {
      assertHttpError(await upload(server, u.token, { field: 'avatar', ...f }), 415);
    }
    const after = (await c.http(server, 'GET', '/me', { token: u.token })).body.avatar;
    assert.equal(after, before, 'a refused avatar replaced the avatar');
  });

  it('non-images are served as attachments with nosniff; HTML and SVG are never inline', async () => {
    const u = await c.register(server);
    const files = [
      { bytes: Buffer.from('plain notes\n'), name: 'notes.txt', type: 'text/plain' },
      { bytes: Buffer.from('<!doctype html><script>alert(1)</script>'), name: 'page.html', type: 'text/html' },
      { bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), name: 'pic.svg', type: 'image/svg+xml' },
    ];
    for (const f of files) {
      const up = assertUploaded(await upload(server, u.token, f), { name: f.name, size: f.bytes.length });
      const { res, bytes } = await getMedia(up.url);
      assert.equal(res.status, 200);
      assert.ok(bytes.equals(f.bytes), `${f.name}: served bytes differ`);
      assert.equal(res.headers.get('content-type'), up.contentType, f.name);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', f.name);
      assert.match(res.headers.get('content-disposition') || '', /^attachment/, `${f.name} must be an attachment`);
    }
    const me = await c.http(server, 'GET', '/me', { token: u.token });
    assert.equal(me.body.avatar, null, 'a `file` upload changed the avatar');
  });

  it('a client holding the file gets 304 for its ETag, the bytes otherwise', async () => {
    const u = await c.register(server);
    const up = await upload(server, u.token, { field: 'file', bytes: PNG, name: 'cached.png', type: 'image/png' });
    assert.equal(up.status, 201);
    const path = `/media/${up.body.id}`;
    const first = await c.http(server, 'GET', path);
    assert.equal(first.status, 200);
    const etag = first.headers.get('etag');
    assert.ok(etag, 'no ETag');
    const again = await c.http(server, 'GET', path, { headers: { 'if-none-match': `"other", ${etag}` } });
    assert.equal(again.status, 304);
    assert.equal(again.bytes.length, 0);
    assert.equal(again.headers.get('etag'), etag);
    const changed = await c.http(server, 'GET', path, { headers: { 'if-none-match': '"other"' } });
    assert.equal(changed.status, 200);
    assert.deepEqual(changed.bytes, PNG);
  });

  it('refusals: 401 without a token, 400 without a file field, 413 over 10 MiB, 404 unknown media', async () => {
    const u = await c.register(server);
    assertHttpError(await upload(server, undefined, { bytes: PNG, name: 'a.png', type: 'image/png' }), 401);
    assertHttpError(await upload(server, 'garbage', { bytes: PNG, name: 'a.png', type: 'image/png' }), 401);
    assertHttpError(await upload(server, u.token, { extra: { other: 'value' } }), 400);
    assertHttpError(await upload(server, u.token, { field: 'picture', bytes: PNG, name: 'a.png', type: 'image/png' }), 400);
    const big = Buffer.alloc(10 * MIB + 1, 0x61);
    assertHttpError(await upload(server, u.token, { bytes: big, name: 'big.bin' }), 413);
    const atLimit = Buffer.alloc(10 * MIB, 0x62);
    assertUploaded(await upload(server, u.token, { bytes: atLimit, name: 'limit.bin' }), { name: 'limit.bin', size: 10 * MIB });
    assertHttpError(await c.http(server, 'GET', '/media/01890000-0000-7000-8000-000000000000'), 404);
    assertHttpError(await c.http(server, 'GET', '/media/not-an-id'), 404);
  });
});

for (const transport of c.TRANSPORTS) {
  describe(`avatars and attachments on messages over ${transport}`, () => {
    it('messages carry the avatar the sender had when sending', async () => {
      const a = await c.userWithSocket(server, transport);
      const r = c.uniqueName('md');
      await c.join(a.socket, r);
      const before = await c.ack(a.socket, 'sendMessage', { room: r, content: 'no avatar yet' });
      assertMessage(before.message, { avatar: null, sender: a.username, room: r, content: 'no avatar yet' });
      const up = assertUploaded(await upload(server, a.token, {
        field: 'avatar', bytes: PNG, name: 'me.png', type: 'image/png',
      }), { name: 'me.png', size: PNG.length, contentType: 'image/png' });
      const withAvatar = await c.ack(a.socket, 'sendMessage', { room: r, content: 'now with one', avatar: 'http://evil.example/a.png' });
      assertMessage(withAvatar.message, { avatar: up.url, sender: a.username, room: r, content: 'now with one' });
      const hist = await c.ack(a.socket, 'history', { room: r });
      assert.deepEqual(hist.messages.map((m) => m.avatar), [null, up.url]);
    });

    it('sendMessage with attachments returns them as {id, url, contentType, size, name}', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const r = c.uniqueName('md');
      await c.join(a.socket, r);
      await c.join(b.socket, r);
      const img = assertUploaded(await upload(server, a.token, { bytes: PNG, name: 'cat.png', type: 'image/png' }),
        { name: 'cat.png', size: PNG.length, contentType: 'image/png' });
      const txt = assertUploaded(await upload(server, a.token, { bytes: Buffer.from('hello'), name: 'a.txt', type: 'text/plain' }),
        { name: 'a.txt', size: 5 });
      const recB = c.record(b.socket, ['message']);
      const res = await c.ack(a.socket, 'sendMessage', { room: r, content: 'see attached', attachments: [img.id, txt.id] });
      assertAckOk(res);
      assertMessage(res.message, { room: r, sender: a.username, content: 'see attached', attachments: [img, txt] });
      assert.deepEqual((await recB.waitFor('message'))[0], res.message);
      const { res: served, bytes } = await getMedia(res.message.attachments[0].url);
      assert.equal(served.status, 200);
      assert.ok(bytes.equals(PNG));

      assert.deepEqual(await c.ack(a.socket, 'deleteMessage', { id: res.message.id }), { ok: true });
      const hist = await c.ack(a.socket, 'history', { room: r });
      assert.deepEqual(hist.messages[0].attachments, [], 'a deleted message kept its attachments');
      for (const up of [img, txt]) {
        assertHttpError(await c.http(server, 'GET', new URL(absolute(server, up.url)).pathname), 404);
      }
    });

    it('a foreign, unknown or malformed attachment is INVALID_INPUT and nothing is stored', async () => {
      const a = await c.userWithSocket(server, transport);
      const b = await c.userWithSocket(server, transport);
      const r = c.uniqueName('md');
      await c.join(a.socket, r);
      await c.join(b.socket, r);
      const theirs = assertUploaded(await upload(server, b.token, { bytes: PNG, name: 'b.png', type: 'image/png' }),
        { name: 'b.png', size: PNG.length, contentType: 'image/png' });
      const mine = assertUploaded(await upload(server, a.token, { bytes: PNG, name: 'a.png', type: 'image/png' }),
        { name: 'a.png', size: PNG.length, contentType: 'image/png' });
      const recB = c.record(b.socket, ['message']);
      const bad = [[theirs.id], [mine.id, theirs.id], ['01890000-0000-7000-8000-000000000000'], 'not-an-array', [42]];
      for (const attachments of bad) {
        const res = await c.ack(a.socket, 'sendMessage', { room: r, content: 'steal', attachments, clientId: 'att-1' });
        assertAckError(res, 'INVALID_INPUT', `attachments ${JSON.stringify(attachments)}`);
      }
      await c.sleep(c.QUIET_MS);
      assert.equal(recB.count('message'), 0, 'a refused message was emitted');
      assert.deepEqual((await c.ack(a.socket, 'history', { room: r })).messages, []);
      // The refused clientId was not stored either.
      const ok = await c.ack(a.socket, 'sendMessage', { room: r, content: 'mine', attachments: [mine.id], clientId: 'att-1' });
      assertAckOk(ok);
      assertMessage(ok.message, { content: 'mine', attachments: [mine], clientId: 'att-1', room: r, sender: a.username });
    });
  });
}
