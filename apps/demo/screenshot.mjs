// The README's screenshot of the demo page: starts the server, opens the page in Debian's chromium, waits for the
// first clip's reactions to play, and saves docs/images/demo.png. From the repository root, after `pnpm build`:
//   node apps/demo/screenshot.mjs
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startDemoServer } from "./dist/server.js";

const server = await startDemoServer({ port: 0, log: () => {} });
const browser = await chromium.launch({
  executablePath: process.env.PERFRDIFF_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1150, height: 1100 } });
  await page.goto(server.url);
  await page.waitForFunction(() => window.demo.frame >= 0, null, { timeout: 600_000 });
  await page.waitForTimeout(6500); // a few seconds into the clip: the faces mid-reaction
  await page.screenshot({ path: fileURLToPath(new URL("../../docs/images/demo.png", import.meta.url)) });
} finally {
  await browser.close();
  await server.close();
}
