// Opening the surfaces (docs/bench.md): navigation to the account card in the
// DOM, for the popup and the side panel (each loads the UI wasm, connects to
// the worker and renders its first state), and for a static extension page
// with the same stylesheet and no script, measured in the same browser and
// interleaved with them: the floor the wasm module and the first state add to.
// Runs alone too: `scripts/with-keyring node tests/bench/open.mjs` after
// scripts/build prints its figures as JSON.
import { fileURLToPath } from 'node:url';
import { launch } from '../e2e/lib/harness.mjs';

const RUNS = Number(process.env.RINGSIDE_BENCH_OPEN_RUNS || 10);

// Set in every page before its own scripts: the page's clock (0 = the
// navigation's start) when the account card first enters the DOM.
function watchForCard() {
  const seen = () => {
    if (globalThis.__ringsideCardAt === undefined && document.querySelector('[data-testid="account"]')) {
      globalThis.__ringsideCardAt = performance.now();
      return true;
    }
    return false;
  };
  const mo = new MutationObserver(() => seen() && mo.disconnect());
  mo.observe(document, { childList: true, subtree: true });
}

async function openOnce(b, file) {
  const page = await b.context.newPage();
  try {
    await page.goto(`chrome-extension://${b.extensionId}/${file}`, { waitUntil: 'commit' });
    const at = await page.waitForFunction(() => globalThis.__ringsideCardAt, null, { timeout: 10000, polling: 10 });
    return at.jsonValue();
  } finally {
    await page.close();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return +(s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2).toFixed(1);
};

/** Adds popup_open_ms, sidepanel_open_ms and static_page_open_ms to `report`. */
export async function benchOpen(report) {
  const b = await launch({ host: true });
  try {
    await b.context.addInitScript(watchForCard);
    const pages = { static_page: 'bench-static.html', popup: 'popup.html', sidepanel: 'sidepanel.html' };
    const times = Object.fromEntries(Object.keys(pages).map((k) => [k, []]));
    // One round first, not counted (the first opening compiles the module).
    for (let i = -1; i < RUNS; i++) {
      for (const [key, file] of Object.entries(pages)) {
        const ms = await openOnce(b, file);
        if (i >= 0) times[key].push(ms);
      }
    }
    for (const [key, xs] of Object.entries(times)) report[`${key}_open_ms`] = median(xs);
    report.open_runs = RUNS;
  } finally {
    await b.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = {};
  await benchOpen(report);
  console.log(JSON.stringify(report, null, 2));
}
