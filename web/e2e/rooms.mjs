// End-to-end, v1.2 rooms through the UI: a private room made by its owner,
// an invited member who sees it appear live, an outsider who cannot get in,
// a removal that takes it away live, and "Leave" ending a membership for
// good. Takes the private-room screenshot for docs/.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { assert, register, repoRoot, runScenario } from "./harness.mjs";

const screenshotPath = process.env.SCREENSHOT_ROOMS ?? path.join(repoRoot, "docs", "screenshot-private-room.png");
const suffix = Math.random().toString(36).slice(2, 7);
const dave = { name: `dave_${suffix}`, password: "owner passphrase ok" };
const erin = { name: `erin_${suffix}`, password: "member passphrase ok" };
const frank = { name: `frank_${suffix}`, password: "outsider passphrase" };
const room = `plans-${suffix}`;
const lobby = `lobby-${suffix}`;

await runScenario({}, async ({ server, browser, step, watch }) => {
  const pages = {};
  for (const [who, u] of [["dave", dave], ["erin", erin], ["frank", frank]]) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    pages[who] = await ctx.newPage();
    watch(who, pages[who]);
    pages[who].user = u;
  }
  const { dave: pd, erin: pe, frank: pf } = pages;
  const item = (p, r) => p.locator(`.room-item[data-room="${r}"]`);
  const members = (p) => p.getByTestId("members");

  await step("three people sign up", async () => {
    for (const p of [pd, pe, pf]) await register(p, server.base, p.user);
  });

  await step("dave creates a private room with a topic; it shows locked with him as owner", async () => {
    await pd.getByRole("button", { name: "+ New room" }).click();
    const dialog = pd.getByTestId("new-room");
    await dialog.getByLabel("Room name").fill(room);
    await dialog.getByLabel("Private (invite only)").check();
    await dialog.getByLabel("Topic (optional)").fill("Q3 roadmap and hiring");
    await dialog.getByRole("button", { name: "Create" }).click();
    await item(pd, room).locator(".lock").waitFor();
    await pd.locator("#room-title", { hasText: room }).waitFor();
    await pd.getByText("Q3 roadmap and hiring").first().waitFor();
    await members(pd).locator(`li[data-member="${dave.name}"][data-role="owner"]`).waitFor();
  });

  await step("dave invites erin: the room appears in her sidebar live, and she can talk in it", async () => {
    await members(pd).getByLabel("Invite a user").fill(erin.name);
    await members(pd).getByRole("button", { name: "Invite" }).click();
    await members(pd).locator(`li[data-member="${erin.name}"][data-role="member"]`).waitFor();
    await item(pe, room).waitFor();
    await item(pe, room).locator(".lock").waitFor();
    await item(pe, room).click();
    await pe.locator("#room-title", { hasText: room }).waitFor();
    await pe.locator(`#composer-${room}`).fill("Thanks for the invite, reading the plan now");
    await pe.locator(`#composer-${room}`).press("Enter");
    await pd.locator(".msg .text", { hasText: "reading the plan now" }).waitFor();
  });

  await step("frank, not invited, cannot join the private room by its name", async () => {
    await pf.getByLabel("Join or create a room").fill(room);
    await pf.getByLabel("Join or create a room").press("Enter");
    await pf.locator(".join-form .form-error").waitFor();
    assert((await item(pf, room).count()) === 0, "the private room is in frank's sidebar");
    assert((await pf.locator(".msg .text", { hasText: "reading the plan now" }).count()) === 0, "frank sees the private room's messages");
  });

  await step("screenshot of the private room: sidebar and members panel", async () => {
    await members(pd).locator(`li[data-member="${erin.name}"][data-online="true"]`).waitFor();
    for (const close of await pd.locator(".toast").getByRole("button", { name: "Dismiss" }).all()) await close.click();
    await pd.mouse.move(0, 0);
    mkdirSync(path.dirname(screenshotPath), { recursive: true });
    await pd.screenshot({ path: screenshotPath });
  });

  await step("dave removes erin: her view says so live and the room stops reaching her", async () => {
    await members(pd).locator(`li[data-member="${erin.name}"]`).getByRole("button", { name: "Remove" }).click();
    await members(pd).locator(`li[data-member="${erin.name}"]`).waitFor({ state: "detached" });
    await pe.getByTestId("removed").getByText(`You were removed from this room by ${dave.name}`).waitFor();
    await pd.locator(`#composer-${room}`).fill("erin should not get this");
    await pd.locator(`#composer-${room}`).press("Enter");
    await pd.locator(".msg .text", { hasText: "erin should not get this" }).waitFor();
    await pe.reload();
    await pe.getByRole("navigation", { name: "Rooms" }).waitFor();
    await pe.locator(".conn-banner[data-status=connected]").waitFor({ state: "attached" });
    // The remembered room goes once the server refuses it (it is no longer hers).
    await item(pe, room).waitFor({ state: "detached", timeout: 5_000 });
  });

  await step("Leave ends a membership on every device: the room does not come back on reload", async () => {
    await pe.getByLabel("Join or create a room").fill(lobby);
    await pe.getByLabel("Join or create a room").press("Enter");
    await pe.locator("#room-title", { hasText: lobby }).waitFor();
    await pe.reload();
    await item(pe, lobby).waitFor();
    await item(pe, lobby).click();
    await pe.getByRole("button", { name: "Leave", exact: true }).click();
    await item(pe, lobby).waitFor({ state: "detached" });
    await pe.reload();
    await pe.getByRole("navigation", { name: "Rooms" }).waitFor();
    await pe.locator(".conn-banner[data-status=connected]").waitFor({ state: "attached" });
    await pe.waitForTimeout(500);
    assert((await item(pe, lobby).count()) === 0, "the room left came back after a reload");
  });
});
