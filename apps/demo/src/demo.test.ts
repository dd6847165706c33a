/**
 * The demo page in a real browser (Debian's chromium, driven by playwright-core; CI installs it): the first clip's
 * reactions play on load without a click, the faces move and the K faces differ, a bad upload gets a clear message
 * and the page keeps working. Skipped, saying why, where no chromium is installed.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { startDemoServer, type DemoServer } from "./server";

const CHROMIUM = process.env.PERFRDIFF_CHROMIUM ?? "/usr/bin/chromium";
const pageDir = fileURLToPath(new URL("../dist/page/", import.meta.url));
const available = existsSync(CHROMIUM) && existsSync(join(pageDir, "index.html"));
if (!available) console.warn(`demo browser test skipped: ${existsSync(CHROMIUM) ? "the page is not built (pnpm build)" : `no chromium at ${CHROMIUM} (apt-get install chromium)`}`);

/** The canvas' RGBA pixels of face `i` (the speaker is 0), 192 x 192. */
async function facePixels(page: Page, i: number): Promise<number[]> {
  return page.evaluate((i) => {
    const c = document.getElementById("faces") as HTMLCanvasElement;
    return Array.from(c.getContext("2d")!.getImageData(i * 192, 0, 192, 192).data);
  }, i);
}
const differing = (a: number[], b: number[]) => a.reduce((n, v, j) => n + (Math.abs(v - b[j]!) > 24 ? 1 : 0), 0) / 4;

describe.runIf(available)("the demo page", () => {
  let server: DemoServer;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    server = await startDemoServer({ port: 0, pageDir, first: { k: 3, steps: 4 }, log: () => {} });
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("plays the first clip's reactions on load: the faces move, and the K reactions differ", async () => {
    await page.goto(server.url);
    await page.waitForFunction(() => (window as unknown as { demo: { result: unknown; frame: number } }).demo.frame >= 0, null, { timeout: 240_000 });
    const k = await page.evaluate(() => (window as unknown as { demo: { result: { k: number } } }).demo.result.k);
    expect(k).toBe(3);
    expect(await page.locator("#labels span").count()).toBe(4);
    expect(await page.locator("#timeline svg polyline.reaction").count()).toBe(2 * 3); // valence and arousal, K lines each
    expect(await page.locator("#metrics").textContent()).toMatch(/FRDiv \d\.\d{3}/);
    const before = await Promise.all([0, 1, 2, 3].map((i) => facePixels(page, i)));
    await page.waitForTimeout(3000);
    const after = await Promise.all([0, 1, 2, 3].map((i) => facePixels(page, i)));
    const moved = before.map((b, i) => differing(b, after[i]!));
    expect(Math.max(...moved), `pixels changed per face in 3 s: ${moved}`).toBeGreaterThan(50);
    // the reactions are not copies of each other
    const between = [differing(after[1]!, after[2]!), differing(after[1]!, after[3]!), differing(after[2]!, after[3]!)];
    expect(Math.max(...between), `pixels differing between reaction faces: ${between}`).toBeGreaterThan(50);
    await page.screenshot({ path: join(tmpdir(), "perfrdiff-demo.png") });
  }, 300_000);

  it("names a bad upload and keeps working", async () => {
    const dir = mkdtempSync(join(tmpdir(), "demo-upload-"));
    const notWav = join(dir, "notes.wav");
    writeFileSync(notWav, "these are my notes, not audio");
    await page.setInputFiles("#wav", notWav);
    await page.click("#generate");
    await expect.poll(() => page.locator("#error").textContent(), { timeout: 60_000 }).toMatch(/the speaker WAV: not a readable WAV file/);
    // a WAV cut off after its header and a few samples
    const { encodeWav } = await import("@perfrdiff/features/audio");
    const whole = encodeWav([Float64Array.from({ length: 16000 * 3 }, (_, i) => Math.sin(i / 20) / 3)], 16000);
    const cut = join(dir, "cut.wav");
    writeFileSync(cut, whole.subarray(0, 5000));
    await page.setInputFiles("#wav", cut);
    await page.click("#generate");
    await expect.poll(() => page.locator("#error").textContent(), { timeout: 60_000 }).toMatch(/the WAV file is cut off: its data chunk declares 96000 bytes, the file holds 4956/);
    // still working: a sample clip, personalised, 2 reactions
    await page.setInputFiles("#wav", []);
    await page.selectOption("#listener", "L03");
    await page.fill("#k", "2");
    await page.fill("#steps", "2");
    await page.click("#generate");
    await page.waitForFunction(() => (window as unknown as { demo: { result: { k: number; personalised: boolean } } }).demo.result.k === 2, null, { timeout: 240_000 });
    expect(await page.locator("#error").textContent()).toBe("");
    expect(await page.evaluate(() => (window as unknown as { demo: { result: { listener: string } } }).demo.result.listener)).toBe("L03");
  }, 300_000);
});
