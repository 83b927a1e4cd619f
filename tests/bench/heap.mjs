// Content script memory: the JS heap of a tab showing tests/pages/numbers.html
// with Ringside active (buttons placed) against the same page in a Chromium
// launched without the extension (docs/bench.md).
import { chromium } from 'playwright-core';
import { CHROMIUM, chromiumArgs, openExtensionPage, startEmulator, swState, until } from '../e2e/lib/harness.mjs';
import { median } from './detect.mjs';

const SAMPLES = Number(process.env.RINGSIDE_BENCH_HEAP_SAMPLES || 3);

/** Used JS heap (bytes) of the renderer showing `page`, after full garbage collections. */
async function usedHeap(context, page) {
  const cdp = await context.newCDPSession(page);
  try {
    for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    return usedSize;
  } finally {
    await cdp.detach();
  }
}

/** `b` is a launched browser with Ringside (options set). Adds content_script_heap_kb to `report`. */
export async function benchHeap(b, report) {
  let emu, plain, ext;
  try {
    emu = await startEmulator();
    const origin = new URL(emu.url).origin;
    const url = `${emu.url}/pages/numbers.html`;
    plain = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: chromiumArgs().filter((a) => !a.includes('extension')),
    });
    ext = await openExtensionPage(b, 'options.html');
    const plainContext = await plain.newContext();
    const withRingside = [];
    const without = [];
    const seen = new Set((await swState(ext)).pages.map((p) => `${p.tab}/${p.frame}`));
    for (let i = 0; i < SAMPLES; i++) {
      // Ringside active: wait for the first scan's report, then for the row the
      // page adds after load to be marked too (8 buttons in the main frame).
      {
        const page = await b.context.newPage();
        try {
          await page.goto(url);
          await page.waitForFunction(() => document.body.dataset.rowsAdded === 'yes');
          const entry = await until(
            async () =>
              (await swState(ext)).pages.find(
                (p) => p.origin === origin && p.frame === 0 && p.scan_ms != null && !seen.has(`${p.tab}/${p.frame}`),
              ),
            { timeout: 15000, what: 'the scan report' },
          );
          seen.add(`${entry.tab}/${entry.frame}`);
          await page.waitForFunction(() => document.querySelectorAll('ringside-call').length >= 7, null, { timeout: 5000 });
          await page.waitForTimeout(300);
          withRingside.push(await usedHeap(b.context, page));
        } finally {
          await page.close();
        }
      }
      {
        const page = await plainContext.newPage();
        try {
          await page.goto(url);
          await page.waitForFunction(() => document.body.dataset.rowsAdded === 'yes');
          await page.waitForTimeout(300);
          without.push(await usedHeap(plainContext, page));
        } finally {
          await page.close();
        }
      }
    }
    // The same page on a site switched off: the content script only says
    // hello; what remains is the extension's isolated world itself.
    const idle = [];
    await ext.evaluate((o) => chrome.storage.local.set({ switchedOff: [o] }), origin);
    await until(async () => (await swState(ext)).switched_off?.includes(origin), { what: 'the site switched off' });
    for (let i = 0; i < SAMPLES; i++) {
      const page = await b.context.newPage();
      try {
        await page.goto(url);
        await page.waitForFunction(() => document.body.dataset.rowsAdded === 'yes');
        await until(
          async () => (await swState(ext)).pages.find((p) => p.origin === origin && p.frame === 0 && !seen.has(`${p.tab}/${p.frame}`)),
          { what: 'the content script hello' },
        ).then((p) => seen.add(`${p.tab}/${p.frame}`));
        await page.waitForTimeout(300);
        idle.push(await usedHeap(b.context, page));
      } finally {
        await page.close();
      }
    }
    await ext.evaluate(() => chrome.storage.local.set({ switchedOff: [] }));
    report.content_script_heap_kb = Math.round((median(withRingside) - median(without)) / 1024);
    report.content_script_heap_kb_idle = Math.round((median(idle) - median(without)) / 1024);
    return { withRingside, idle, without };
  } finally {
    await ext?.close().catch(() => {});
    await plain?.close();
    emu?.stop();
  }
}
