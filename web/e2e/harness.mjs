// What every e2e scenario shares: named steps that count passes and
// failures, the headless Chromium of this machine, the `chat` binary and
// the built app, and the sign-up/sign-in moves through the real UI.
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startChat } from "./server.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const webRoot = path.resolve(here, "..");
export const repoRoot = path.resolve(webRoot, "..");
export const bin = process.env.CHAT_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? "/var/tmp/chat-target", "debug", "chat");
export const T = 15_000;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** A scenario's run: `step` records each outcome, `finish` reports and exits. */
export function scenario() {
  let passed = 0;
  let failed = 0;
  const pageErrors = [];
  return {
    pageErrors,
    async step(name, fn) {
      const t0 = Date.now();
      try {
        await fn();
        passed++;
        console.log(`ok   ${name} (${Date.now() - t0} ms)`);
      } catch (e) {
        failed++;
        const msg = (e instanceof Error ? e.message : String(e)).split("\n").slice(0, 6).join("\n     ");
        console.log(`FAIL ${name}\n     ${msg}`);
      }
    },
    fail(e) {
      failed++;
      console.log(`FAIL setup\n     ${e instanceof Error ? e.message : String(e)}`);
    },
    /** Pages report uncaught errors here; the last step checks there were none. */
    watch(who, page) {
      page.on("pageerror", (e) => pageErrors.push(`${who}: ${e.message}`));
      page.setDefaultTimeout(T);
    },
    async finish(server, browser) {
      await browser?.close().catch(() => {});
      await server?.stop();
      // Keep the data and server log of a failed run for a look; drop a clean one.
      if (server && failed === 0) rmSync(server.dataDir, { recursive: true, force: true });
      else if (server) console.log(`server data and log kept in ${server.dataDir}`);
      console.log(`${passed} passed, ${failed} failed`);
      process.exit(failed > 0 || passed === 0 ? 1 : 0);
    },
  };
}

/**
 * Runs one scenario: starts `chat` (with `env`) and Chromium, calls
 * `body({server, browser, step, watch})`, checks that no page threw, and
 * reports and exits.
 */
export async function runScenario(env, body) {
  const sc = scenario();
  let server;
  let browser;
  try {
    server = await startServer(env);
    console.log(`chat is up at ${server.base} (data in ${server.dataDir})`);
    browser = await launchBrowser();
    await body({ server, browser, step: sc.step, watch: sc.watch });
    await sc.step("no uncaught errors in the pages", async () => {
      assert(sc.pageErrors.length === 0, sc.pageErrors.join("\n"));
    });
  } catch (e) {
    sc.fail(e);
  } finally {
    await sc.finish(server, browser);
  }
}

export function startServer(env = {}) {
  return startChat({ bin, webDir: path.join(webRoot, "dist"), env });
}

/**
 * Starts Chromium, trying again when the browser process dies before it
 * is up: Debian's Chromium, on a busy VM, has crashed at start-up (SIGSEGV
 * before any page: once in some thirty launches here), which says nothing about
 * our app. A failure after the launch is never retried.
 */
export async function launchBrowser() {
  const attempts = 3;
  for (let i = 1; ; i++) {
    try {
      return await chromium.launch({
        executablePath: "/usr/bin/chromium",
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
    } catch (e) {
      if (i === attempts) throw e;
      console.log(`chromium did not start (attempt ${i} of ${attempts}): ${String(e.message).split("\n")[0]}`);
    }
  }
}

async function signedIn(p) {
  await p.getByRole("navigation", { name: "Rooms" }).waitFor();
  await p.locator(".conn-banner[data-status=connected]").waitFor({ state: "attached" });
}

export async function register(p, base, u) {
  await p.goto(base);
  await p.getByRole("button", { name: "Create an account" }).click();
  await p.getByLabel("Username").fill(u.name);
  await p.getByLabel("Password").fill(u.password);
  await p.getByRole("button", { name: "Create account" }).click();
  await signedIn(p);
}

/** Signs in from the sign-in screen (which `p` must be showing, or at `base`). */
export async function logIn(p, base, u, { goto = true } = {}) {
  if (goto) await p.goto(base);
  await p.getByLabel("Username").fill(u.name);
  await p.getByLabel("Password").fill(u.password);
  await p.getByRole("button", { name: "Log in" }).click();
  await signedIn(p);
}
