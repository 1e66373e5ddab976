'use strict';
// Starts and stops the one-process `chat` binary for a test file.
//
// Each test file gets its own server on a free port with a fresh DATA_DIR, so
// files are independent and can run concurrently. The server's output goes to
// a log file whose path is printed when start-up fails, and kept under
// tests/js/.logs for post-mortems.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { before, after } = require('node:test');

const TARGET_DIR = process.env.CARGO_TARGET_DIR || '/var/tmp/chat-target';
const CHAT_BIN = process.env.CHAT_BIN || path.join(TARGET_DIR, 'debug', 'chat');
const START_TIMEOUT_MS = Number(process.env.CHAT_START_TIMEOUT_MS || 60000);
const LOG_DIR = process.env.CHAT_LOG_DIR || path.join(__dirname, '..', '.logs');

/** Asks the OS for a loopback port nobody is using right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** What our binaries log once they listen on `port`. */
const listeningOn = (port) => `listening addr=127.0.0.1:${port}`;

/** A start-up failure; `addrInUse` when `output` says the port was taken. */
function startError(message, output) {
  const err = new Error(message);
  err.addrInUse = /Address already in use/.test(output);
  return err;
}

/**
 * Runs `start()` until it does not fail for a taken port (at most 5
 * times): a free port can be taken between `freePort()` and the bind, as
 * test files run in parallel and every `chat` also binds OS-picked ports.
 * A first start (`firstStart`) picks a new port itself on each try; a
 * restart keeps its port, which others know, and waits a moment instead.
 */
async function retryTakenPort(firstStart, start) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= 5 || !err.addrInUse) throw err;
      if (!firstStart) await sleep(500);
    }
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

class ChatServer {
  constructor({ dataDir, name, env }) {
    this.dataDir = dataDir;
    this.name = name;
    this.extraEnv = env || {};
    this.child = null;
    this.port = null;
    this.url = null;
    this.logPath = null;
    this.starts = 0;
  }

  /**
   * Spawns the binary and resolves once it logged that it listens on its
   * port and GET /healthz answers 200 (the log line, so that another test
   * file's server on a port taken meanwhile does not pass for this one).
   * A start refused for a taken port is tried again (`retryTakenPort`).
   */
  async start() {
    if (!fs.existsSync(CHAT_BIN)) {
      throw new Error(`chat binary not found at ${CHAT_BIN}; build it with ` +
        '`cargo build -p chat-standalone` or set CHAT_BIN');
    }
    const fresh = this.port === null;
    return retryTakenPort(fresh, () => {
      if (fresh) this.port = null;
      return this.startOnce();
    });
  }

  async startOnce() {
    this.starts += 1;
    // A restart keeps the port: stored media URLs may name it.
    if (this.port === null) this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    fs.mkdirSync(LOG_DIR, { recursive: true });
    const parser = process.env.CHAT_PARSER || 'json';
    this.logPath = path.join(LOG_DIR, `${this.name}-${parser}-${process.pid}-${this.starts}.log`);
    const log = fs.openSync(this.logPath, 'w');
    const env = {
      ...process.env,
      PORT: String(this.port),
      DATA_DIR: this.dataDir,
      HOST: '127.0.0.1',
      RUST_LOG: process.env.RUST_LOG || 'info',
      NO_COLOR: '1',
      ...this.extraEnv,
    };
    if (process.env.CHAT_PARSER) env.CHAT_PARSER = process.env.CHAT_PARSER;
    const child = spawn(CHAT_BIN, [], { env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.child = child;
    let exited = null;
    child.once('exit', (code, signal) => {
      exited = { code, signal };
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const output = fs.readFileSync(this.logPath, 'utf8');
      if (exited) {
        throw startError(`chat exited during start-up (${JSON.stringify(exited)}); ` +
          `log ${this.logPath}:\n${tail(this.logPath)}`, output);
      }
      if (!output.includes(listeningOn(this.port))) {
        await sleep(100);
        continue;
      }
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200) return this;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    await this.stop();
    throw new Error(`chat did not become healthy within ${START_TIMEOUT_MS} ms; ` +
      `log ${this.logPath}:\n${tail(this.logPath)}`);
  }

  /** SIGTERM, then SIGKILL if it does not exit within 5 s. */
  async stop() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }

  async restart() {
    await this.stop();
    await this.start();
  }
}

/** Keeps the log directory from growing without bound across runs. */
function pruneOldLogs(maxAgeMs = 24 * 3600 * 1000) {
  let files = [];
  try {
    files = fs.readdirSync(LOG_DIR);
  } catch {
    return;
  }
  for (const f of files) {
    const p = path.join(LOG_DIR, f);
    try {
      if (Date.now() - fs.statSync(p).mtimeMs > maxAgeMs) fs.rmSync(p, { force: true });
    } catch {
      // another test file pruned it first
    }
  }
}

const live = new Set();
process.on('exit', () => {
  for (const s of live) if (s.child) s.child.kill('SIGKILL');
});

/**
 * Registers before/after hooks that run one server for the calling test
 * file, and returns the (not yet started) server object.
 */
function serverForFile(name, env) {
  pruneOldLogs();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `chat-js-${name}-`));
  const server = new ChatServer({ dataDir, name, env });
  live.add(server);
  before(async () => {
    await server.start();
  });
  after(async () => {
    await server.stop();
    live.delete(server);
    if (!process.env.CHAT_KEEP_DATA) fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return server;
}

module.exports = {
  ChatServer, serverForFile, freePort, sleep, CHAT_BIN, listeningOn, startError, retryTakenPort,
};
