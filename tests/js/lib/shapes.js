'use strict';
// Assertions for the shapes PROTOCOL.md promises.

const assert = require('node:assert/strict');

/** RFC 3339, UTC, millisecond precision: 2026-11-26T18:00:00.123Z */
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A timestamp in the contract's format, within a minute of now. */
function assertRecentTimestamp(ts, what = 'timestamp') {
  assert.equal(typeof ts, 'string', `${what} must be a string, got ${JSON.stringify(ts)}`);
  assert.match(ts, TIMESTAMP_RE, `${what} ${ts} is not RFC 3339 UTC with milliseconds`);
  const skew = Math.abs(Date.parse(ts) - Date.now());
  assert.ok(skew < 60000, `${what} ${ts} is ${skew} ms away from now`);
}

/** `{ok: false, error: {code, message}}` with exactly that code. */
function assertAckError(res, code, what = '') {
  const ctx = `${what} reply ${JSON.stringify(res)}`;
  assert.ok(res && typeof res === 'object', ctx);
  assert.deepEqual(Object.keys(res).sort(), ['error', 'ok'], ctx);
  assert.equal(res.ok, false, ctx);
  assert.deepEqual(Object.keys(res.error).sort(), ['code', 'message'], ctx);
  assert.equal(res.error.code, code, ctx);
  assert.equal(typeof res.error.message, 'string', ctx);
  assert.ok(res.error.message.trim().length > 0, `${ctx}: the message must say something`);
}

/** `{ok: true, ...}` */
function assertAckOk(res, what = '') {
  assert.ok(res && typeof res === 'object', `${what} reply ${JSON.stringify(res)}`);
  assert.equal(res.ok, true, `${what} reply ${JSON.stringify(res)}`);
}

/** A `chatError` payload: exactly `{event, code, message}`. */
function assertChatError(payload, event, code) {
  const ctx = `chatError ${JSON.stringify(payload)}`;
  assert.ok(payload && typeof payload === 'object', ctx);
  assert.deepEqual(Object.keys(payload).sort(), ['code', 'event', 'message'], ctx);
  assert.equal(payload.event, event, ctx);
  assert.equal(payload.code, code, ctx);
  assert.equal(typeof payload.message, 'string', ctx);
  assert.ok(payload.message.trim().length > 0, ctx);
}

/** An HTTP error: the status and a body that is exactly `{"error": TEXT}`. */
function assertHttpError(res, status) {
  const ctx = `HTTP ${res.status} ${res.text.slice(0, 300)}`;
  assert.equal(res.status, status, ctx);
  assert.ok(res.body && typeof res.body === 'object', `${ctx}: body must be JSON`);
  assert.deepEqual(Object.keys(res.body), ['error'], ctx);
  assert.equal(typeof res.body.error, 'string', ctx);
  assert.ok(res.body.error.trim().length > 0, ctx);
  assert.match(res.headers.get('content-type') || '', /^application\/json/, ctx);
}

/** `user` is `{id, username, avatar}` where avatar is a URL or null. */
function assertUser(user, username, avatar = null) {
  const ctx = `user ${JSON.stringify(user)}`;
  assert.ok(user && typeof user === 'object', ctx);
  assert.equal(typeof user.id, 'string', ctx);
  assert.ok(user.id.length > 0, ctx);
  assert.equal(user.username, username, ctx);
  assert.equal(user.avatar, avatar, ctx);
}

/** A JWT-looking access token and an opaque refresh token. */
function assertTokens(body) {
  assert.equal(typeof body.token, 'string', JSON.stringify(body));
  assert.match(body.token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'token must be a JWT');
  assert.equal(typeof body.refreshToken, 'string', JSON.stringify(body));
  assert.ok(body.refreshToken.length >= 16, 'refreshToken too short to be secret');
}

/**
 * A message object with every field of the contract; `expected` pins the
 * fields the test knows (room, sender, content, clientId, avatar, ...).
 */
function assertMessage(msg, expected = {}) {
  const ctx = `message ${JSON.stringify(msg)}`;
  assert.ok(msg && typeof msg === 'object', ctx);
  for (const key of ['id', 'room', 'sender', 'content', 'avatar', 'timestamp', 'attachments',
    'editedAt', 'deleted', 'replyTo', 'reactions']) {
    assert.ok(key in msg, `${ctx}: missing '${key}'`);
  }
  assert.equal(typeof msg.id, 'string', ctx);
  assert.ok(msg.id.length > 0, ctx);
  assertRecentTimestamp(msg.timestamp, 'message timestamp');
  assert.ok(Array.isArray(msg.attachments), `${ctx}: attachments must be an array`);
  assert.equal(typeof msg.deleted, 'boolean', ctx);
  assert.ok(Array.isArray(msg.reactions), `${ctx}: reactions must be an array`);
  if (msg.replyTo !== null) {
    assert.deepEqual(Object.keys(msg.replyTo).sort(), ['excerpt', 'id', 'sender'], ctx);
  }
  if (msg.editedAt !== null) assertRecentTimestamp(msg.editedAt, 'editedAt');
  const defaults = {
    attachments: [], editedAt: null, deleted: false, avatar: null, replyTo: null, reactions: [],
  };
  for (const [key, value] of Object.entries({ ...defaults, ...expected })) {
    assert.deepEqual(msg[key], value, `${ctx}: '${key}'`);
  }
}

/** Ids of a list of messages, for order comparisons. */
function ids(messages) {
  return messages.map((m) => m.id);
}

module.exports = {
  TIMESTAMP_RE,
  assertRecentTimestamp,
  assertAckError,
  assertAckOk,
  assertChatError,
  assertHttpError,
  assertUser,
  assertTokens,
  assertMessage,
  ids,
};
