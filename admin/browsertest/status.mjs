// Drives Debian's chromium through the status page for TestStatusPageInBrowser (status_test.go).
// Usage: node status.mjs URL SCREENSHOT.png USER_DATA_DIR
// Protocol on stdout, one line each: "closed" once the page shows the gifts breaker closed
// (the Go test then makes the upstream fail), then a JSON result once it shows it open and
// the moderation route's Shadow panel lists disagreements.
import { chromium } from "playwright-core";

const [url, screenshot, userDataDir] = process.argv.slice(2);
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const timeout = 30_000; // a shared, noisy machine

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: chromiumPath,
  headless: true,
  viewport: { width: 1440, height: 1000 },
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const result = { consoleErrors: [], pageErrors: [], failedRequests: [] };
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => { if (m.type() === "error") result.consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => result.pageErrors.push(String(e)));
  page.on("requestfailed", (r) => result.failedRequests.push(r.url() + " " + (r.failure()?.errorText || "")));

  const resp = await page.goto(url, { waitUntil: "load", timeout });
  result.status = resp ? resp.status() : 0;
  result.title = await page.title();
  await page.locator('[data-breaker="gifts"][data-state="closed"]').waitFor({ timeout });
  // For the README's screenshot, let the sparklines fill before the failure.
  await page.waitForTimeout(Number(process.env.SETTLE_MS || 0));
  console.log("closed");

  const open = page.locator('[data-breaker="gifts"][data-state="open"]');
  await open.waitFor({ timeout });
  result.breakerOpen = true;
  // Let a few more polls land so the rates and the fallback list show the failure.
  await page.waitForFunction(() => document.querySelectorAll("#fallbacks tr td span.pill.open").length >= 3, null, { timeout });
  await page.waitForTimeout(2500);
  result.fallbackRows = await page.locator("#fallbacks tr").count();
  result.fallbackReasons = await page.locator("#fallbacks tr td:nth-child(6)").allTextContents();
  result.fallbackApps = await page.locator("#fallbacks [data-app]").allTextContents();
  result.routeApps = await page.locator("#routes [data-apps]").evaluateAll((els) => els.map((e) => e.dataset.apps + ": " + e.textContent));
  result.giftsReasons = await page.locator('[data-route="gifts"] [data-reason]').evaluateAll((els) => els.map((e) => e.dataset.reason));
  result.transitions = await page.locator("#transitions tr").allTextContents();
  result.openTile = await page.locator("#t-open").textContent();
  result.queueBackend = await page.locator("#t-backend").textContent();
  result.deadTile = await page.locator("#t-dead").textContent();
  // The Shadow panel: the moderation route's candidate disagrees now and then.
  const shadow = page.locator('[data-shadow-route="moderation"]');
  await shadow.locator("tr[data-disagreement]").first().waitFor({ timeout });
  result.shadowAgreement = await page.locator('[data-agreement="moderation"]').textContent();
  result.shadowResults = await shadow.locator("tr[data-disagreement] td:nth-child(7)").allTextContents();
  result.shadowIds = await shadow.locator("tr[data-disagreement] td:nth-child(4)").allTextContents();
  result.shadowSub = await shadow.locator(".sub").textContent();
  result.polls = Number(await page.evaluate(() => document.body.dataset.polls || 0));
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (err) {
  result.error = String(err && err.stack || err);
} finally {
  await context.close();
}
console.log(JSON.stringify(result));
