'use strict';
// Starts a multi-node deployment for one test file: a real redis-server, one
// set of services (chat-auth, chat-message, chat-media, each with its own
// DATA_DIR) and several chat-gateway processes sharing that Redis. Every
// process listens on a free loopback port; output goes to tests/js/.logs.
//
// A gateway object has the `url` that the helpers of ../../lib/client.js
// expect of a server.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { before, after } = require('node:test');
const {
  freePort, sleep, listeningOn, startError, retryTakenPort,
} = require('../../lib/server');

const TARGET_DIR = process.env.CARGO_TARGET_DIR || '/var/tmp/chat-target';
const BIN_DIR = process.env.CHAT_BIN_DIR || path.join(TARGET_DIR, 'debug');
const START_TIMEOUT_MS = Number(process.env.CHAT_START_TIMEOUT_MS || 60000);
const LOG_DIR = process.env.CHAT_LOG_DIR || path.join(__dirname, '..', '..', '.logs');
const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';

const SERVICES = [
  ['chat-auth', 'AUTH_GRPC_ADDR', 'AUTH_URL'],
  ['chat-message', 'MESSAGE_GRPC_ADDR', 'MESSAGE_URL'],
  ['chat-media', 'MEDIA_GRPC_ADDR', 'MEDIA_URL'],
];

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Why `proc` stopped during start-up (`addrInUse` when its port was taken). */
function startFailed(what, proc) {
  return startError(`${what} exited during start-up; log ${proc.log}:\n${tail(proc.log)}`, proc.output());
}

/**
 * Resolves when `port` accepts a TCP connection and `proc` has logged
 * `saysListening` (by default what our binaries log): a port picked free a
 * moment ago may meanwhile belong to a process of another test file, and
 * its connection alone must not pass for ours. Rejects at `deadline`.
 */
async function waitListening(port, deadline, what, proc, saysListening = listeningOn(port)) {
  while (Date.now() < deadline) {
    if (proc.exited) throw startFailed(what, proc);
    const ours = proc.output().includes(saysListening);
    const ok = ours && await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${what} did not listen on ${port}; log ${proc.log}:\n${tail(proc.log)}`);
}

/** GET /healthz: {status, body}; status 0 when nothing answers. */
async function healthz(url) {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

/** Polls `cond` (async) every 50 ms; resolves with the elapsed ms. */
async function until(what, cond, ms = 15000) {
  const started = Date.now();
  let last;
  while (Date.now() - started < ms) {
    last = await cond();
    if (last) return Date.now() - started;
    await sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting until ${what}`);
}

class Proc {
  constructor(name, bin, args, env, logPath) {
    const log = fs.openSync(logPath, 'a');
    this.name = name;
    this.log = logPath;
    // The log is appended to across restarts: this start's output begins here.
    this.logFrom = fs.fstatSync(log).size;
    this.exited = null;
    this.child = spawn(bin, args, { env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.child.once('exit', (code, signal) => { this.exited = { code, signal }; });
    this.child.once('error', (err) => { this.exited = { error: err.message }; });
  }

  /** What this process wrote to its log so far. */
  output() {
    try {
      const fd = fs.openSync(this.log, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        const buf = Buffer.alloc(Math.max(0, size - this.logFrom));
        fs.readSync(fd, buf, 0, buf.length, this.logFrom);
        return buf.toString('utf8');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return '';
    }
  }

  /** Sends `signal` and waits for the exit (SIGKILL after 5 s). */
  async stop(signal = 'SIGTERM') {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}

const live = new Set();
process.on('exit', () => {
  for (const p of live) if (!p.exited) p.child.kill('SIGKILL');
});

class Cluster {
  constructor(name, gateways, { gatewayEnv = {}, serviceEnv = {} } = {}) {
    this.name = name;
    this.count = gateways;
    this.gatewayEnv = gatewayEnv;
    this.serviceEnv = serviceEnv;
    this.serviceSpecs = {};
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `chat-multinode-${name}-`));
    this.parser = process.env.CHAT_PARSER || 'json';
    this.redis = null;
    this.redisPort = null;
    this.serviceUrls = {};
    this.services = [];
    this.gateways = [];
  }

  logPath(what) {
    fs.mkdirSync(LOG_DIR, { recursive: true });
    return path.join(LOG_DIR, `multinode-${this.name}-${this.parser}-${process.pid}-${what}.log`);
  }

  spawn(name, bin, args, env) {
    const p = new Proc(name, bin, args, { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info,chat_gateway::socket=debug', NO_COLOR: '1', ...env },
      this.logPath(name));
    live.add(p);
    return p;
  }

  /**
   * The platform's gRPC credentials, made with `chat-certs` as an operator
   * would for compose: every process gets the variables it prints.
   */
  makeCerts() {
    const out = execFileSync(path.join(BIN_DIR, 'chat-certs'), [path.join(this.dir, 'certs')], { encoding: 'utf8' });
    this.certEnv = {};
    for (const line of out.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) this.certEnv[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }

  async start() {
    this.makeCerts();
    await retryTakenPort(true, async () => {
      this.redisPort = await freePort();
      await this.spawnRedis();
    });
    for (const [bin, addrVar, urlVar] of SERVICES) {
      const dataDir = path.join(this.dir, bin);
      fs.mkdirSync(dataDir, { recursive: true });
      // chat-auth starts first; the others fetch its keys as the platform.
      const auth = this.serviceUrls.AUTH_URL ? { AUTH_URL: this.serviceUrls.AUTH_URL } : {};
      const proc = await retryTakenPort(true, async () => {
        const port = await freePort();
        this.serviceSpecs[bin] = {
          port,
          env: { [addrVar]: `127.0.0.1:${port}`, DATA_DIR: dataDir, ...this.certEnv, ...auth, ...this.serviceEnv },
        };
        return this.spawnService(bin);
      });
      this.services.push(proc);
      this.serviceUrls[urlVar] = `http://127.0.0.1:${this.serviceSpecs[bin].port}`;
    }
    for (let i = 0; i < this.count; i += 1) await this.startGateway(i);
    return this;
  }

  /** Restarts service `bin` (e.g. 'chat-message') on its port and data directory. */
  async startService(bin) {
    const p = await retryTakenPort(false, () => this.spawnService(bin));
    const i = this.services.findIndex((s) => s.name === bin);
    if (i >= 0) this.services[i] = p;
    return p;
  }

  async spawnService(bin) {
    const { port, env } = this.serviceSpecs[bin];
    const p = this.spawn(bin, path.join(BIN_DIR, bin), [], env);
    await waitListening(port, Date.now() + START_TIMEOUT_MS, bin, p);
    return p;
  }

  /** The running process of service `bin`. */
  service(bin) {
    return this.services.find((s) => s.name === bin);
  }

  get redisUrl() {
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  /** Restarts redis-server on the cluster's port, empty. */
  async startRedis() {
    await retryTakenPort(false, () => this.spawnRedis());
  }

  async spawnRedis() {
    const dir = path.join(this.dir, 'redis');
    fs.mkdirSync(dir, { recursive: true });
    this.redis = this.spawn('redis', REDIS_SERVER,
      ['--port', String(this.redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {});
    await waitListening(this.redisPort, Date.now() + 10000, 'redis-server', this.redis,
      'Ready to accept connections');
  }

  /** Kills redis-server without warning (SIGKILL). */
  async stopRedis() {
    await this.redis.stop('SIGKILL');
  }

  /** (Re)starts gateway `i`, on a new port. */
  async startGateway(i) {
    return retryTakenPort(true, () => this.spawnGateway(i));
  }

  async spawnGateway(i) {
    const port = await freePort();
    const env = {
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL: this.redisUrl,
      ...this.certEnv,
      ...this.serviceUrls,
      ...this.gatewayEnv,
    };
    if (process.env.CHAT_PARSER) env.CHAT_PARSER = process.env.CHAT_PARSER;
    const proc = this.spawn(`gateway${i}`, path.join(BIN_DIR, 'chat-gateway'), [], env);
    const gw = { name: `gateway${i}`, url: `http://127.0.0.1:${port}`, proc };
    this.gateways[i] = gw;
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (proc.exited) throw startFailed(gw.name, proc);
      if (proc.output().includes(listeningOn(port)) && (await healthz(gw.url)).status === 200) return gw;
      await sleep(100);
    }
    throw new Error(`${gw.name} did not become healthy; log ${proc.log}:\n${tail(proc.log)}`);
  }

  async stop() {
    for (const p of [...this.gateways.map((g) => g && g.proc), ...this.services, this.redis]) {
      if (p) await p.stop();
      live.delete(p);
    }
    if (!process.env.CHAT_KEEP_DATA) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Registers before/after hooks running one cluster for the calling file. */
function clusterForFile(name, gateways = 2, options = {}) {
  const cluster = new Cluster(name, gateways, options);
  before(async () => {
    await cluster.start();
  });
  after(async () => {
    await cluster.stop();
  });
  return cluster;
}

module.exports = { Cluster, clusterForFile, healthz, until, tail };
