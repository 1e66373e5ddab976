'use strict';
// PROTOCOL.md § Limits (v1.1): failed logins per username are throttled
// (429 + Retry-After after the 10th, whatever the password, not for other
// names; a success clears the count), and password hashing is bounded (at
// most HASH_CONCURRENCY at once, a bounded queue, 503 + Retry-After past it),
// so a login flood cannot take unbounded memory. HASH_CONCURRENCY is 2 here.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const { describe, it, after } = require('node:test');
const { serverForFile } = require('../lib/server');
const c = require('../lib/client');

const server = serverForFile('login-limits', { HASH_CONCURRENCY: '2' });
after(c.closeAll);

function login(username, password) {
  return c.http(server, 'POST', '/login', { json: { username, password } });
}

function rssKiB() {
  const status = fs.readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

describe('failed-login throttling', () => {
  it('429 with Retry-After after the 10th failure, for that username only', async () => {
    const u = await c.register(server);
    const bystander = await c.register(server);
    for (let i = 0; i < 10; i += 1) {
      const res = await login(u.username, `wrong password ${i}`);
      assert.equal(res.status, 401, `failure ${i + 1}`);
    }
    for (const password of ['another wrong one', u.password]) {
      const res = await login(u.username, password);
      assert.equal(res.status, 429, 'throttled whatever the password');
      const after = Number(res.headers.get('retry-after'));
      assert.ok(Number.isInteger(after) && after > 0 && after <= 900, `Retry-After ${after}`);
      assert.equal(typeof res.body.error, 'string');
    }
    // Case does not dodge the count.
    assert.equal((await login(u.username.toUpperCase(), u.password)).status, 429);
    assert.equal((await login(bystander.username, bystander.password)).status, 200);
  });

  it('a success clears the count', async () => {
    const u = await c.register(server);
    for (let i = 0; i < 9; i += 1) assert.equal((await login(u.username, `nope nope ${i}`)).status, 401);
    assert.equal((await login(u.username, u.password)).status, 200);
    for (let i = 0; i < 9; i += 1) assert.equal((await login(u.username, `nope nope ${i}`)).status, 401);
    assert.equal((await login(u.username, u.password)).status, 200);
  });
});

describe('bounded password hashing', () => {
  it('100 concurrent logins all answer 200, 401 or 503 (Retry-After), with RSS bounded', async () => {
    const u = await c.register(server);
    const before = rssKiB();
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, rssKiB()); }, 20);
    const started = Date.now();
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2
      ? login(u.username, u.password)
      : login(c.uniqueName('ghost'), 'whatever pass'))));
    clearInterval(sampler);
    peak = Math.max(peak, rssKiB());
    const counts = {};
    for (const r of replies) {
      counts[r.status] = (counts[r.status] || 0) + 1;
      assert.ok([200, 401, 503].includes(r.status), `unexpected ${r.status} ${r.text}`);
      if (r.status === 503) assert.ok(Number(r.headers.get('retry-after')) > 0, 'Retry-After on 503');
    }
    const growth = (peak - before) / 1024;
    console.log(`login flood: ${JSON.stringify(counts)} in ${Date.now() - started} ms; ` +
      `RSS ${(before / 1024).toFixed(1)} MiB -> peak ${(peak / 1024).toFixed(1)} MiB (+${growth.toFixed(1)} MiB)`);
    assert.ok(counts[503] > 0, 'some logins were refused with 503');
    assert.ok(counts[200] > 0, 'some logins went through');
    // Two argon2 hashes of 19 MiB at once, plus slack; unbounded would be ~1.9 GiB.
    assert.ok(growth < 150, `RSS grew by ${growth.toFixed(1)} MiB`);
    // Afterwards the server answers normally.
    assert.equal((await login(u.username, u.password)).status, 200);
  });
});
