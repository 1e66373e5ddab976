// End-to-end: the real `chat` binary serving web/dist, driven by two
// headless Chromium users (plus a socket.io-client bot for the reconnect
// catch-up). Prints "N passed, N failed" and exits non-zero on any failure.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { io } from "socket.io-client";
import { assert, register as registerAt, repoRoot, runScenario, sleep, T } from "./harness.mjs";
import { avatarPng, chartPng } from "./png.mjs";

const screenshotPath = process.env.SCREENSHOT ?? path.join(repoRoot, "docs", "screenshot-room.png");
const TOKEN_TTL_SECS = 20;

const suffix = Math.random().toString(36).slice(2, 7);
const alice = { name: `alice_${suffix}`, password: "correct horse battery" };
const bob = { name: `bob_${suffix}`, password: "another good passphrase" };
const room = `e2e-${suffix}`;

// Short-lived access tokens make the app refresh them (and reconnect with
// fresh ones) during the run.
await runScenario({ ACCESS_TOKEN_TTL_SECS: String(TOKEN_TTL_SECS) }, async ({ server, browser, step, watch }) => {

  // Bob's WebSockets go through a switch so the test can cut his connection.
  let bobCut = false;
  const bobSockets = new Set();
  const ctxA = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const ctxB = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await ctxB.route("**/socket.io/**", (r) => (bobCut ? r.abort("internetdisconnected") : r.continue()));
  await ctxB.routeWebSocket("**/socket.io/**", (ws) => {
    if (bobCut) return void ws.close();
    ws.connectToServer();
    bobSockets.add(ws);
  });
  const pa = await ctxA.newPage();
  const pb = await ctxB.newPage();
  watch("alice", pa);
  watch("bob", pb);

  const composer = (p) => p.locator(`#composer-${room}`);
  const messageWith = (p, text) => p.locator(".msg", { has: p.locator(".text", { hasText: text }) });
  const send = async (p, text) => {
    await composer(p).fill(text);
    await composer(p).press("Enter");
  };

  // The list is virtualised: scroll through all of it to see every message.
  const allMessages = async (p) => {
    for (let i = 0; i < 50; i++) {
      if ((await p.locator(".history-start").count()) > 0) break;
      await p.locator(".messages").evaluate((el) => (el.scrollTop = 0));
      await p.getByRole("button", { name: "Load older messages" }).click({ timeout: 2000 }).catch(() => {});
      await sleep(150);
    }
    return p.locator(".messages").evaluate(async (el) => {
      const seen = new Map();
      const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      for (let top = 0; ; top += el.clientHeight / 2) {
        el.scrollTop = top;
        await frame();
        for (const m of el.querySelectorAll(".msg")) {
          seen.set(m.dataset.id, { text: m.querySelector(".text")?.textContent ?? "", image: m.querySelector(".thumb img")?.getAttribute("src") ?? null });
        }
        if (top >= el.scrollHeight) break;
      }
      return [...seen].map(([id, m]) => ({ id, ...m }));
    });
  };

  // A sent message's row id, once the server's id replaced the local one.
  const confirmedId = async (row) => {
    for (let i = 0; i < 100; i++) {
      const id = await row.getAttribute("data-id");
      if (id && !id.startsWith("local:")) return id;
      await sleep(100);
    }
    throw new Error("the message was never confirmed by the server");
  };

  const register = (p, u) => registerAt(p, server.base, u);

  await step("alice and bob register", async () => {
    await register(pa, alice);
    await register(pb, bob);
  });

  await step("bob uploads an avatar from the profile menu", async () => {
    await pb.getByRole("button", { name: bob.name }).click();
    await pb.locator("#avatar-file").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: avatarPng() });
    await pb.getByText("Avatar updated").waitFor();
  });

  await step("both join the same room", async () => {
    for (const p of [pa, pb]) {
      await p.getByLabel("Join or create a room").fill(room);
      await p.getByLabel("Join or create a room").press("Enter");
      await p.locator("#room-title", { hasText: `#${room}` }).waitFor();
    }
  });

  await step("each sees the other online", async () => {
    await pa.getByTestId("online").getByText(bob.name, { exact: true }).waitFor();
    await pb.getByTestId("online").getByText(alice.name, { exact: true }).waitFor();
  });

  await step("alice's message reaches bob and shows as sent", async () => {
    await send(pa, "Hey Bob! Did the deploy go out?");
    await messageWith(pb, "Did the deploy go out?").waitFor();
    await messageWith(pa, "Did the deploy go out?").locator(".state-sent").waitFor();
  });

  await step("bob's reply reaches alice, grouped under his name", async () => {
    await send(pb, "Yep, shipped ten minutes ago.");
    // Shift+Enter is a new line inside one message; Enter sends.
    await composer(pb).pressSequentially("Error rates look flat so far.");
    await composer(pb).press("Shift+Enter");
    await composer(pb).pressSequentially("p99 latency is down 12%.");
    await composer(pb).press("Enter");
    await messageWith(pa, "Error rates look flat").waitFor();
    const text = await messageWith(pa, "Error rates look flat").locator(".text").textContent();
    assert(text === "Error rates look flat so far.\np99 latency is down 12%.", `multi-line message arrived as ${JSON.stringify(text)}`);
    const start = messageWith(pa, "shipped ten minutes ago");
    assert((await start.getAttribute("class")).includes("msg-start"), "first reply should start a group");
    const next = messageWith(pa, "Error rates look flat");
    assert(!(await next.getAttribute("class")).includes("msg-start"), "second reply should join the group");
    assert((await start.locator(".avatar img").count()) === 1, "bob's avatar picture should show on his messages");
  });

  await step("message content renders as text, never HTML", async () => {
    await send(pa, "<img src=x onerror=alert(1)> <b>not bold</b>");
    const row = messageWith(pb, "<b>not bold</b>");
    await row.waitFor();
    assert((await row.locator(".text b, .text img").count()) === 0, "markup was interpreted");
  });

  await step("alice edits her message and bob sees the edit", async () => {
    const id = await confirmedId(messageWith(pa, "<b>not bold</b>"));
    const row = pa.locator(`.msg[data-id="${id}"]`);
    await row.hover();
    await row.getByRole("button", { name: "Edit message" }).click();
    const box = row.getByLabel("Edit message");
    await box.fill("Ignore that, wrong window.");
    await box.press("Enter");
    const seen = messageWith(pb, "Ignore that, wrong window.");
    await seen.waitFor();
    await seen.locator(".edited").waitFor();
  });

  await step("alice deletes a message and bob sees it deleted", async () => {
    await send(pa, "this one is a mistake");
    const mine = messageWith(pa, "this one is a mistake");
    const id = await confirmedId(mine);
    await messageWith(pb, "this one is a mistake").waitFor();
    await mine.hover();
    await mine.getByRole("button", { name: "Delete message" }).click();
    await mine.getByRole("button", { name: "Delete", exact: true }).click();
    await pb.locator(`.msg[data-id="${id}"] .text-deleted`).waitFor();
    await pa.locator(`.msg[data-id="${id}"] .text-deleted`).waitFor();
  });

  await step("alice uploads an image and bob sees it inline", async () => {
    await pa.locator(`#composer-${room}-file`).setInputFiles({ name: "dashboard.png", mimeType: "image/png", buffer: chartPng() });
    await pa.getByRole("list", { name: "Attachments to send" }).getByText("dashboard.png").waitFor();
    await send(pa, "Here's the dashboard since the release:");
    const img = messageWith(pb, "Here's the dashboard").locator(".thumb img");
    await img.waitFor();
    await pb.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
    const src = await img.getAttribute("src");
    assert(src.includes("/media/"), `image should come from /media, got ${src}`);
  });

  await step("bob's read receipt reaches alice", async () => {
    await pa.locator(".seen", { hasText: `Seen by ${bob.name}` }).waitFor();
  });

  await step("alice sees bob typing, and it clears when he sends", async () => {
    await composer(pb).pressSequentially("Looks great, thanks", { delay: 20 });
    await pa.getByTestId("typing").getByText(`${bob.name} is typing…`).waitFor();
    await composer(pb).press("Enter");
    await pa.getByTestId("typing").getByText(`${bob.name} is typing…`).waitFor({ state: "detached" });
    await messageWith(pa, "Looks great, thanks").waitFor();
  });

  await step("a mention in another room notifies and marks it unread", async () => {
    await pa.locator(".room-item[data-room=general]").click();
    await pa.locator("#room-title", { hasText: "#general" }).waitFor();
    await send(pb, `@${alice.name} can you review the rollout notes?`);
    await pa.locator(".toast", { hasText: `${bob.name} mentioned you` }).waitFor();
    const item = pa.locator(`.room-item[data-room="${room}"]`);
    await item.locator(".badge", { hasText: "1" }).waitFor();
    await item.locator(".mention-dot").waitFor();
    await item.click();
    await item.locator(".badge").waitFor({ state: "detached" });
  });

  await step("a direct message opens the conversation for both", async () => {
    await pa.getByLabel("Message a user").fill(bob.name.toUpperCase());
    await pa.getByLabel("Message a user").press("Enter");
    const dm = `dm:${[alice.name, bob.name].map((s) => s.toLowerCase()).sort().join(":")}`;
    await pa.locator(`.room-item[data-room="${dm}"]`).waitFor();
    await pa.locator(`[id="composer-${dm}"]`).fill("Quick private question");
    await pa.locator(`[id="composer-${dm}"]`).press("Enter");
    await pb.locator(".toast", { hasText: `New message from ${alice.name}` }).waitFor();
    await pb.locator(`.room-item[data-room="${dm}"] .badge`).waitFor();
    await pa.locator(`.room-item[data-room="${room}"]`).click();
  });

  await step("the short-lived access token is refreshed and the session keeps working", async () => {
    const token = () => pa.evaluate(() => JSON.parse(localStorage.getItem("chat.session") ?? "{}").token);
    const first = await token();
    const exp = JSON.parse(Buffer.from(first.split(".")[1], "base64url").toString()).exp * 1000;
    for (let i = 0; i < 4 * TOKEN_TTL_SECS && (await token()) === first; i++) await sleep(250);
    assert((await token()) !== first, "the access token was not refreshed before it expired");
    await sleep(Math.max(0, exp - Date.now() + 1000));
    await send(pa, "Sure, looking at them now.");
    await messageWith(pb, "Sure, looking at them now.").waitFor();
    const me = await pa.evaluate(async () => {
      const s = JSON.parse(localStorage.getItem("chat.session") ?? "{}");
      return (await fetch("/me", { headers: { Authorization: `Bearer ${s.token}` } })).status;
    });
    assert(me === 200, `GET /me with the refreshed token answered ${me}`);
    const errors = await pa.locator(".room-error").allTextContents();
    assert(errors.length === 0, `room error shown after a refresh: ${errors.join("; ")}`);
  });

  await step("screenshot of the room with both users, an image and typing", async () => {
    await composer(pb).pressSequentially("One more thing", { delay: 20 });
    await pa.getByTestId("typing").getByText(`${bob.name} is typing…`).waitFor();
    for (const close of await pa.locator(".toast").getByRole("button", { name: "Dismiss" }).all()) await close.click();
    await pa.mouse.move(0, 0);
    await composer(pa).focus();
    mkdirSync(path.dirname(screenshotPath), { recursive: true });
    await pa.screenshot({ path: screenshotPath });
    await composer(pb).fill("");
  });

  const replyScreenshot = process.env.SCREENSHOT_V12 ?? path.join(repoRoot, "docs", "screenshot-replies-reactions-search.png");
  const hoverAction = async (p, row, name) => {
    await row.hover();
    await row.getByRole("button", { name, exact: true }).click();
  };

  await step("bob replies: the quote shows above his composer and on the message; a click jumps to the original", async () => {
    await hoverAction(pb, messageWith(pb, "Did the deploy go out?"), "Reply");
    await pb.getByTestId("reply-draft").getByText("Did the deploy go out?").waitFor();
    await send(pb, "Yes, the dashboard is green");
    assert((await pb.getByTestId("reply-draft").count()) === 0, "the reply draft stayed after sending");
    const reply = messageWith(pa, "the dashboard is green");
    await reply.getByTestId("reply-quote").getByText("Did the deploy go out?").waitFor();
    await reply.getByTestId("reply-quote").click();
    await pa.locator(".vrow-focus .msg", { has: pa.locator(".text", { hasText: "Did the deploy go out?" }) }).waitFor();
  });

  await step("alice reacts from the picker; bob sees the count and who reacted; each sees their own highlighted", async () => {
    await hoverAction(pa, messageWith(pa, "the dashboard is green"), "Add reaction");
    await pa.getByRole("menuitem", { name: "React with 🎉" }).click();
    const chipB = messageWith(pb, "the dashboard is green").locator(".reaction", { hasText: "🎉" });
    await chipB.getByText("1", { exact: true }).waitFor();
    assert((await chipB.getAttribute("title")) === `${alice.name} reacted with 🎉`, `hover text: ${await chipB.getAttribute("title")}`);
    assert(!(await chipB.getAttribute("class")).includes("reaction-mine"), "bob's view marks alice's reaction as his");
    const chipA = messageWith(pa, "the dashboard is green").locator(".reaction", { hasText: "🎉" });
    assert((await chipA.getAttribute("class")).includes("reaction-mine"), "alice's own reaction is not highlighted");
    await chipB.click();
    await chipA.getByText("2", { exact: true }).waitFor();
    await messageWith(pb, "the dashboard is green").locator(".reaction-mine", { hasText: "🎉" }).waitFor();
    await hoverAction(pb, messageWith(pb, "Did the deploy go out?"), "Add reaction");
    await pb.getByRole("menuitem", { name: "React with 👍" }).click();
    await messageWith(pa, "Did the deploy go out?").locator(".reaction", { hasText: "👍" }).waitFor();
  });

  await step("search finds messages grouped by room with matches highlighted; a result opens the room at it", async () => {
    await pa.getByLabel("Search messages").fill("DEPLOY go");
    await pa.getByLabel("Search messages").press("Enter");
    const results = pa.getByTestId("search-results");
    const group = results.getByRole("region", { name: `Results in #${room}` }).or(results.locator("section", { hasText: room }));
    const hit = group.locator(".search-hit", { hasText: "Did the deploy go out?" }).first();
    await hit.waitFor();
    const marks = await hit.locator("mark").allTextContents();
    assert(JSON.stringify(marks) === JSON.stringify(["deploy", "go"]), `highlighted ${JSON.stringify(marks)}`);
    await pa.mouse.move(0, 0);
    mkdirSync(path.dirname(replyScreenshot), { recursive: true });
    await pa.screenshot({ path: replyScreenshot });
    await hit.click();
    await pa.locator("#room-title", { hasText: `#${room}` }).waitFor();
    await pa.locator(".vrow-focus .msg", { has: pa.locator(".text", { hasText: "Did the deploy go out?" }) }).waitFor();
    // Back to the newest messages for the steps that follow.
    await pa.getByLabel("Search messages").fill("");
    for (const p of [pa, pb]) await p.locator(".messages").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await sleep(300);
  });

  await step("after a dropped connection bob catches up on missed messages and resends his own", async () => {
    bobCut = true;
    for (const ws of bobSockets) await ws.close().catch(() => {});
    bobSockets.clear();
    await pb.locator(".conn-banner", { hasText: "Reconnecting" }).waitFor();
    await send(pb, "written while offline");
    await messageWith(pb, "written while offline").getByRole("button", { name: "Retry" }).waitFor();
    // Alice's bot sends more than a page while bob is away.
    const login = await fetch(`${server.base}/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: alice.name, password: alice.password }) });
    const { token } = await login.json();
    const bot = io(`${server.base}/chat`, { auth: { token }, transports: ["websocket"] });
    try {
      const join = await bot.timeout(T).emitWithAck("joinRoom", { room });
      assert(join.ok, `bot join failed: ${JSON.stringify(join)}`);
      for (let i = 1; i <= 70; i++) {
        for (;;) {
          const r = await bot.timeout(T).emitWithAck("sendMessage", { room, content: `catch-up ${i} of 70`, clientId: `bot-${suffix}-${i}` });
          if (r.ok) break;
          assert(r.error.code === "RATE_LIMITED", `bot send failed: ${JSON.stringify(r)}`);
          await sleep(250);
        }
      }
    } finally {
      bot.disconnect();
    }
    bobCut = false;
    await pb.locator(".conn-banner[data-status=connected]").waitFor({ state: "attached", timeout: 30_000 });
    await messageWith(pb, "catch-up 70 of 70").waitFor();
    // The latest page comes with the re-join; the rest through `history` after the last seen id.
    let all = [];
    for (let i = 0; i < 20; i++) {
      all = await allMessages(pb);
      if (all.some((m) => m.text === "catch-up 1 of 70")) break;
      await sleep(500);
    }
    for (let i = 1; i <= 70; i++) {
      const n = all.filter((m) => m.text === `catch-up ${i} of 70`).length;
      assert(n === 1, `"catch-up ${i} of 70" shown ${n} times`);
    }
    assert(all.some((m) => m.text.includes("Did the deploy go out?")), "earlier history lost");
    // The failed send went out by itself after the reconnect, exactly once.
    await messageWith(pb, "written while offline").locator(".state-sent").waitFor();
    await messageWith(pa, "written while offline").waitFor();
    const seenByAlice = (await allMessages(pa)).filter((m) => m.text === "written while offline");
    assert(seenByAlice.length === 1, `offline message delivered ${seenByAlice.length} times`);
  });

  await step("a reload keeps bob's session and the history", async () => {
    await pb.reload();
    await pb.getByRole("navigation", { name: "Rooms" }).waitFor();
    await pb.locator("#room-title", { hasText: `#${room}` }).waitFor();
    await messageWith(pb, "catch-up 70 of 70").waitFor();
    const all = await allMessages(pb);
    assert(all.some((m) => m.text === "Hey Bob! Did the deploy go out?"), "older history missing after reload");
    const dashboard = all.find((m) => m.text.startsWith("Here's the dashboard"));
    assert(dashboard?.image?.includes("/media/"), "the image is missing after reload");
    assert((await pb.getByLabel("Password").count()) === 0, "login form shown after reload");
  });

  await step("log out returns to the sign-in screen and stays there on reload", async () => {
    await pb.getByRole("button", { name: bob.name }).click();
    await pb.getByRole("menuitem", { name: "Log out" }).click();
    await pb.getByRole("button", { name: "Log in" }).waitFor();
    await pb.reload();
    await pb.getByRole("button", { name: "Log in" }).waitFor();
  });
});
