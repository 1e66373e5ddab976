// Starts the one-process `chat` binary on a free port for the e2e run.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Spawns `bin` with PORT, DATA_DIR (fresh unless given), WEB_DIR and `env`; resolves
 * once GET /healthz answers 200. `stop()` kills it (SIGTERM, then SIGKILL).
 */
export async function startChat({ bin, webDir, port, dataDir, env = {}, timeoutMs = 120_000 }) {
  if (!existsSync(bin)) throw new Error(`chat binary not found at ${bin} (build it with: cargo build -p chat-standalone, or set CHAT_BIN)`);
  if (!existsSync(path.join(webDir, "index.html"))) throw new Error(`${webDir}/index.html missing: run npm run build first`);
  port ??= await freePort();
  dataDir ??= mkdtempSync(path.join(os.tmpdir(), "chat-e2e-"));
  const logPath = path.join(dataDir, `server-${port}-${Date.now()}.log`);
  const log = createWriteStream(logPath);
  const child = spawn(bin, [], {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "info", ...env, PORT: String(port), DATA_DIR: dataDir, WEB_DIR: webDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  const base = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    for (let i = 0; i < 30 && !exited; i++) await sleep(100);
    if (!exited) child.kill("SIGKILL");
    for (let i = 0; i < 20 && !exited; i++) await sleep(50);
  };
  const logTail = () => {
    try {
      return readFileSync(logPath, "utf8").split("\n").slice(-40).join("\n");
    } catch {
      return "";
    }
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`chat exited early (${JSON.stringify(exited)}):\n${logTail()}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`chat did not become healthy within ${timeoutMs} ms:\n${logTail()}`);
    }
    await sleep(250);
  }
  return { base, port, dataDir, stop, logTail, get exited() { return exited; } };
}
