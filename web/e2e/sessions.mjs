// End-to-end, v1.1 sessions through the UI: one user signed in from two
// browsers. Signing the other one out from "Where you're signed in", a
// password change and "sign out everywhere" each put the other browser on
// the signed-out screen saying why, while the browser that acted goes on.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { assert, logIn, register, repoRoot, runScenario } from "./harness.mjs";

const screenshotPath = process.env.SCREENSHOT_SESSIONS ?? path.join(repoRoot, "docs", "screenshot-sessions.png");
const suffix = Math.random().toString(36).slice(2, 7);
const carol = { name: `carol_${suffix}`, password: "first passphrase here" };
const NEW_PASSWORD = "second passphrase here";

await runScenario({}, async ({ server, browser, step, watch }) => {
  const ctxA = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const ctxB = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const pa = await ctxA.newPage();
  const pb = await ctxB.newPage();
  watch("laptop", pa);
  watch("phone", pb);

  const openAccount = async (p) => {
    await p.getByRole("button", { name: carol.name }).click();
    await p.getByRole("menuitem", { name: "Account & security…" }).click();
    return p.getByRole("dialog", { name: "Account & security" });
  };
  const signedOut = async (p, reason) => {
    const notice = p.getByTestId("signed-out");
    await notice.waitFor({ timeout: 5_000 });
    const got = await notice.getAttribute("data-reason");
    assert(got === reason, `signed out for "${got}", expected "${reason}"`);
    await p.getByRole("button", { name: "Log in" }).waitFor();
  };
  const stillConnected = (p) => p.locator(".conn-banner[data-status=connected]").waitFor({ state: "attached" });

  await step("carol signs up on her laptop and signs in on her phone", async () => {
    await register(pa, server.base, carol);
    await logIn(pb, server.base, carol);
  });

  await step("the laptop lists both sessions, itself marked as this device", async () => {
    const dialog = await openAccount(pa);
    const rows = dialog.getByTestId("sessions").getByRole("listitem");
    await rows.nth(1).waitFor();
    assert((await rows.count()) === 2, `listed ${await rows.count()} sessions`);
    assert((await dialog.locator("li[data-current]").count()) === 1, "not exactly one session marked current");
    await dialog.locator("li[data-current]").getByText("this device").waitFor();
    mkdirSync(path.dirname(screenshotPath), { recursive: true });
    await pa.screenshot({ path: screenshotPath });
  });

  await step("signing the phone out from the list signs it out at once, saying so", async () => {
    const dialog = pa.getByRole("dialog", { name: "Account & security" });
    await dialog.locator("li:not([data-current])").getByRole("button", { name: /^Sign out / }).click();
    await signedOut(pb, "revoked");
    await dialog.getByTestId("sessions").getByRole("listitem").nth(1).waitFor({ state: "detached" });
    await stillConnected(pa);
    // A reload does not bring the ended session back.
    await pb.reload();
    await pb.getByRole("button", { name: "Log in" }).waitFor();
  });

  await step("a wrong current password is refused and changes nothing", async () => {
    await logIn(pb, server.base, carol);
    const dialog = pa.getByRole("dialog", { name: "Account & security" });
    await dialog.getByLabel("Current password").fill("not my password");
    await dialog.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await dialog.getByLabel("Repeat the new password").fill(NEW_PASSWORD);
    await dialog.getByRole("button", { name: "Change password" }).click();
    await dialog.getByRole("alert").getByText("The current password is wrong.").waitFor();
    await stillConnected(pb);
  });

  await step("a password change on the laptop signs the phone out; the laptop goes on", async () => {
    const dialog = pa.getByRole("dialog", { name: "Account & security" });
    await dialog.getByLabel("Current password").fill(carol.password);
    await dialog.getByRole("button", { name: "Change password" }).click();
    await dialog.getByRole("status").getByText("Password changed").waitFor();
    await signedOut(pb, "password");
    assert((await pb.getByTestId("signed-out").textContent()).includes("password was changed"), "the phone does not say why");
    await dialog.getByRole("button", { name: "Close" }).click();
    await stillConnected(pa);
  });

  await step("the old password no longer signs in; the new one does", async () => {
    await pb.getByLabel("Username").fill(carol.name);
    await pb.getByLabel("Password").fill(carol.password);
    await pb.getByRole("button", { name: "Log in" }).click();
    await pb.getByRole("alert").getByText("Invalid credentials").waitFor();
    await logIn(pb, server.base, { ...carol, password: NEW_PASSWORD }, { goto: false });
  });

  await step("sign out everywhere from the phone ends both browsers' sessions", async () => {
    const dialog = await openAccount(pb);
    await dialog.getByRole("button", { name: "Sign out everywhere" }).click();
    await pb.getByRole("button", { name: "Log in" }).waitFor();
    assert((await pb.getByTestId("signed-out").count()) === 0, "the phone that chose to sign out is told it was signed out");
    await signedOut(pa, "logout");
  });
});
