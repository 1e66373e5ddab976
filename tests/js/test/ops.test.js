'use strict';
// PROTOCOL.md § HTTP: /healthz and /metrics.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');

const server = serverForFile('ops');
after(c.closeAll);

describe('operations endpoints', () => {
  it('GET /healthz answers 200', async () => {
    const res = await c.http(server, 'GET', '/healthz');
    assert.equal(res.status, 200, res.text);
  });

  it('every HTTP error body is {"error": TEXT}, unknown routes and methods included', async () => {
    const { assertHttpError } = require('../lib/shapes');
    assertHttpError(await c.http(server, 'GET', '/definitely/not/here'), 404);
    assertHttpError(await c.http(server, 'GET', '/login'), 405);
    assertHttpError(await c.http(server, 'POST', '/me'), 405);
    const garbled = await c.http(server, 'POST', '/login', { body: 'x', headers: { 'content-type': 'text/plain' } });
    assert.ok(garbled.status >= 400 && garbled.status < 500, `status ${garbled.status}`);
    assertHttpError(garbled, garbled.status);
  });

  it('GET /metrics answers Prometheus text', async () => {
    // Some traffic first, so there is something to count.
    const u = await c.userWithSocket(server, c.TRANSPORTS[0]);
    await c.join(u.socket, 'general');
    await c.ack(u.socket, 'sendMessage', { content: 'count me' });
    const res = await c.http(server, 'GET', '/metrics');
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') || '', /^text\/plain/);
    const lines = res.text.split('\n').filter((l) => l.trim() !== '');
    assert.ok(lines.length > 0, 'no metrics at all');
    assert.ok(lines.some((l) => l.startsWith('# TYPE ')), 'no # TYPE lines');
    const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+]?(\d+(\.\d+)?([eE][-+]?\d+)?|NaN|[-+]?Inf)( \d+)?$/;
    for (const l of lines) {
      if (l.startsWith('#')) assert.match(l, /^# (TYPE|HELP|UNIT|EOF)/, l);
      else assert.match(l, sample, `not a Prometheus sample: ${l}`);
    }
  });
});
