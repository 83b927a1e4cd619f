// Detection bench: Ringside against libphonenumber-js (max metadata), on the
// generated ~1 MB page in one headless Chromium (docs/bench.md), and both on
// the labelled corpus for precision and recall.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { findPhoneNumbersInText } from 'libphonenumber-js/max';
import { EMULATOR_BIN, HOST_BIN, ROOT, openExtensionPage, swState, until } from '../e2e/lib/harness.mjs';
import { generatePage } from './page.mjs';

export const REGION = 'FR';
const RUNS = Number(process.env.RINGSIDE_BENCH_DETECT_RUNS || 5);
const LIB_BUNDLE = path.join(ROOT, 'node_modules', 'libphonenumber-js', 'bundle', 'libphonenumber-max.js');
// The labelled corpus: the first set and the world set (docs/bench.md).
const CORPUS = ['phone_corpus.tsv', 'phone_corpus_world.tsv'].map((f) => path.join(ROOT, 'core', 'tests', 'data', f));
export const OUT_DIR = path.join(ROOT, 'target', 'bench');

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, d = 3) => +x.toFixed(d);

/** The emulator serving `dir` under /pages/ (its own origin). */
export async function serveDir(dir) {
  const child = spawn(EMULATOR_BIN, ['--port', '0', '--pages', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
    rl.once('line', (line) => resolve(JSON.parse(line).url));
  });
  return { url, origin: new URL(url).origin, stop: () => child.kill('SIGTERM') };
}

/**
 * Runs in the page: libphonenumber-js with the content script's walk (the
 * same elements skipped, the same at-least-six-digits prefilter) and the same
 * marking (split the text node, check the parent is visible, insert an
 * element with its own shadow root and button after the number).
 */
async function libScanInPage(region) {
  const t0 = performance.now();
  const SKIP = new Set([
    'INPUT', 'TEXTAREA', 'SELECT', 'OPTION', 'SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE',
    'BUTTON', 'CODE', 'PRE', 'HEAD', 'TITLE', 'IFRAME', 'OBJECT', 'SVG', 'MATH', 'BENCH-CALL',
  ]);
  const DIGITS = /(?:\d\D{0,3}){6}/;
  const skip = (el) =>
    SKIP.has(el.tagName.toUpperCase()) || el.isContentEditable || el.hidden || el.hasAttribute('data-ringside-ignore');
  const texts = [];
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
    acceptNode(n) {
      if (n.nodeType === Node.TEXT_NODE) return NodeFilter.FILTER_ACCEPT;
      return skip(n) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_SKIP;
    },
  });
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.data.length >= 6 && DIGITS.test(n.data)) texts.push(n);
  }
  const button = (e164, display) => {
    const host = document.createElement('bench-call');
    const shadow = host.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent =
      ':host{all:initial;display:inline-block;vertical-align:baseline;margin-inline-start:.2em}' +
      'button{all:initial;cursor:pointer;font:inherit;font-size:.9em;line-height:1;padding:0 .15em}';
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = '\u260E';
    b.setAttribute('aria-label', `Call ${display}`);
    b.title = `Call ${display}`;
    shadow.append(style, b);
    host.dataset.e164 = e164;
    return host;
  };
  let marked = 0;
  for (const node of texts) {
    const hits = globalThis.libphonenumber.findPhoneNumbersInText(node.data, region);
    if (hits.length === 0) continue;
    const parent = node.parentElement;
    if (!parent || !(parent.checkVisibility ? parent.checkVisibility() : parent.getClientRects().length)) continue;
    for (let k = hits.length - 1; k >= 0; k--) {
      const h = hits[k];
      node.splitText(h.endsAt);
      const numberNode = node.splitText(h.startsAt);
      numberNode.after(button(h.number.number, numberNode.data.trim()));
      marked++;
    }
  }
  // The clock stops once the browser has laid out and painted what was
  // inserted (the frame after the last insertion), as Ringside's does.
  const markedMs = performance.now() - t0;
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  return { ms: performance.now() - t0, markedMs, marked };
}

/**
 * Added to Ringside's tab before its page loads: long tasks on the page's main
 * thread (PerformanceObserver), and when call buttons are inserted (the first
 * inside the first viewport, the last of all), for detect_longest_task_ms and
 * detect_first_viewport_ms.
 */
function scanProbe() {
  const probe = { tasks: [], firstViewport: null, last: null, painted: null };
  // The end of the frame after an insertion: its layout, pre-paint and paint done.
  const painted = () =>
    requestAnimationFrame(() =>
      setTimeout(() => {
        probe.painted = performance.now();
      }, 0),
    );
  window.__ringsideBench = probe;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) probe.tasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
  new MutationObserver((records) => {
    const now = performance.now();
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (n.nodeName !== 'RINGSIDE-CALL') continue;
        if (probe.last !== now) painted();
        probe.last = now;
        if (probe.firstViewport == null) {
          const rect = n.getBoundingClientRect();
          if (rect.bottom > 0 && rect.top < innerHeight) probe.firstViewport = now;
        }
      }
    }
  }).observe(document, { childList: true, subtree: true });
}

/** The probe's figures for a scan of `scanMs` that ended with the last button. */
function probeFigures(probe, scanMs) {
  if (!probe || probe.last == null) return { longest: null, firstViewport: null, tasks: [] };
  const start = probe.last - scanMs;
  const overlapping = probe.tasks.filter(([t, d]) => t + d > start && t < probe.last);
  const longest = Math.max(0, ...overlapping.map(([, d]) => d));
  const firstViewport = probe.firstViewport == null ? null : probe.firstViewport - start;
  // For the diagnostics: each long task's start from the scan's, and its length.
  const tasks = overlapping.map(([t, d]) => [round(t - start, 1), round(d, 1)]);
  return { longest, firstViewport, tasks };
}

/** One Ringside scan of `url` in a fresh tab: the content script's report, and the probe's figures. */
async function ringsideRun(b, ext, url, origin, seen) {
  const page = await b.context.newPage();
  try {
    await page.addInitScript(scanProbe);
    await page.goto(url);
    const entry = await until(
      async () =>
        (await swState(ext)).pages.find(
          (p) => p.origin === origin && p.frame === 0 && p.scan_ms != null && !seen.has(`${p.tab}/${p.frame}`),
        ),
      { timeout: 120000, interval: 50, what: 'the Ringside scan report' },
    );
    seen.add(`${entry.tab}/${entry.frame}`);
    // The scan's clock runs to its last insertion; the frame that lays it out follows.
    const probed = await until(
      async () => {
        const p = await page.evaluate(() => window.__ringsideBench);
        return p && (p.last == null || (p.painted != null && p.painted >= p.last)) ? p : null;
      },
      { timeout: 30000, interval: 20, what: 'the frame after the last button' },
    );
    const probe = probeFigures(probed, entry.scan_ms);
    const paintMs = probed.last == null ? 0 : probed.painted - probed.last;
    return { ms: entry.scan_ms + paintMs, scanMs: entry.scan_ms, marked: entry.marked, ...probe, page };
  } catch (e) {
    await page.close();
    throw e;
  }
}

/** The content script's candidate texts (the same walk and prefilter as libScanInPage). */
function candidateTexts() {
  const SKIP = new Set([
    'INPUT', 'TEXTAREA', 'SELECT', 'OPTION', 'SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE',
    'BUTTON', 'CODE', 'PRE', 'HEAD', 'TITLE', 'IFRAME', 'OBJECT', 'SVG', 'MATH', 'BENCH-CALL',
  ]);
  const DIGITS = /(?:\d\D{0,3}){6}/;
  const texts = [];
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
    acceptNode(n) {
      if (n.nodeType === Node.TEXT_NODE) return NodeFilter.FILTER_ACCEPT;
      const el = n;
      return SKIP.has(el.tagName.toUpperCase()) || el.isContentEditable || el.hidden ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_SKIP;
    },
  });
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.data.length >= 6 && DIGITS.test(n.data)) texts.push(n.data);
  }
  return texts;
}

/**
 * The detectors alone on the page's candidate texts, in the same browser:
 * libphonenumber-js's findPhoneNumbersInText per text in the page, Ringside's
 * detection module in the service worker (one call with every text, JSON in
 * and out included). Each warmed up once, then the median of `runs`.
 */
async function engineTimes(b, page, region, runs) {
  const texts = await page.evaluate(candidateTexts);
  const lib = await page.evaluate(
    ({ texts, region, runs }) => {
      const times = [];
      let found = 0;
      for (let r = 0; r <= runs; r++) {
        const t0 = performance.now();
        let n = 0;
        for (const t of texts) n += globalThis.libphonenumber.findPhoneNumbersInText(t, region).length;
        if (r > 0) times.push(performance.now() - t0);
        found = n;
      }
      return { times, found };
    },
    { texts, region, runs },
  );
  const ours = await b.sw.evaluate(
    async ({ texts, region, runs }) => {
      const json = JSON.stringify({ region, texts, links: [] });
      const times = [];
      let found = 0;
      for (let r = 0; r <= runs; r++) {
        const t0 = performance.now();
        const out = JSON.parse(await self.ringsideDetect(json));
        if (r > 0) times.push(performance.now() - t0);
        found = out.texts.length;
      }
      return { times, found };
    },
    { texts, region, runs },
  );
  return { texts: texts.length, lib, ours };
}

/** E.164 and some context of every marked element of `tag`, in document order. */
function markedInPage(tag) {
  return [...document.querySelectorAll(tag)].map((el) => {
    const num = el.previousSibling?.textContent ?? '';
    const before = el.previousSibling?.previousSibling?.textContent ?? '';
    const after = el.nextSibling?.textContent ?? '';
    return { e164: el.dataset.e164, text: num, context: `${before.slice(-24)}[${num}]${after.slice(0, 12)}` };
  });
}

/** Page-level true/false positives against the generator's list (as multisets). */
function compare(found, expected, written) {
  const left = new Map();
  for (const e of expected) left.set(e, (left.get(e) || 0) + 1);
  const extra = [];
  for (const f of found) {
    const n = left.get(f.e164) || 0;
    if (n > 0) left.set(f.e164, n - 1);
    else extra.push(f);
  }
  const missed = [];
  for (const [e, n] of left) for (let i = 0; i < n; i++) missed.push({ e164: e, written: written.get(e) });
  return { found: found.length, expected: expected.length, extra, missed };
}

/**
 * `b` is a launched browser (harness launch()) with options already set for
 * REGION. Adds detect_* keys to `report`; returns diagnostics.
 */
export async function benchDetectPage(b, report) {
  const dir = path.join(OUT_DIR, 'detect-page');
  mkdirSync(dir, { recursive: true });
  const { html, expected, written } = generatePage();
  writeFileSync(path.join(dir, 'page.html'), html);
  // Two origins for the same file: Ringside marks on the first; the second is
  // switched off for Ringside (its content script says hello and stays idle)
  // and runs libphonenumber-js.
  let ours, theirs, ext;
  try {
    ours = await serveDir(dir);
    theirs = await serveDir(dir);
    ext = await openExtensionPage(b, 'options.html');
    await ext.evaluate((o) => chrome.storage.local.set({ switchedOff: [o] }), theirs.origin);
    await until(async () => (await swState(ext)).switched_off?.includes(theirs.origin), {
      what: 'the libphonenumber-js origin switched off',
    });
    const bundle = readFileSync(LIB_BUNDLE, 'utf8');
    const ringside = [];
    const lib = [];
    let ringsideFound = [];
    let libFound = [];
    let engine = null;
    const seen = new Set((await swState(ext)).pages.map((p) => `${p.tab}/${p.frame}`));
    for (let run = 0; run < RUNS; run++) {
      // Ringside: the content script reports its first full scan to the worker.
      {
        const { page, ...r } = await ringsideRun(b, ext, `${ours.url}/pages/page.html?run=${run}`, ours.origin, seen);
        try {
          ringside.push(r);
          if (run === 0) ringsideFound = await page.evaluate(markedInPage, 'ringside-call');
        } finally {
          await page.close();
        }
      }
      // libphonenumber-js: the library is loaded first, then only the scan is timed.
      {
        const page = await b.context.newPage();
        try {
          await page.goto(`${theirs.url}/pages/page.html?run=${run}`);
          await page.addScriptTag({ content: bundle });
          const r = await page.evaluate(libScanInPage, REGION);
          lib.push(r);
          if (run === 0) libFound = await page.evaluate(markedInPage, 'bench-call');
          if ((await page.locator('ringside-call').count()) !== 0) throw new Error('Ringside marked the switched-off origin');
          if (run === RUNS - 1) engine = await engineTimes(b, page, REGION, RUNS);
        } finally {
          await page.close();
        }
      }
    }
    report.detect_ringside_ms = median(ringside.map((x) => x.ms));
    report.detect_ringside_marked = median(ringside.map((x) => x.marked));
    report.detect_ringside_scan_ms = median(ringside.map((x) => x.scanMs));
    report.detect_libphonenumber_js_ms = round(median(lib.map((x) => x.ms)), 1);
    report.detect_libphonenumber_js_marked_ms = round(median(lib.map((x) => x.markedMs)), 1);
    report.detect_libphonenumber_js_marked = median(lib.map((x) => x.marked));
    report.detect_speedup = round(report.detect_libphonenumber_js_ms / report.detect_ringside_ms, 2);
    report.detect_longest_task_ms = round(median(ringside.map((x) => x.longest ?? 0)), 1);
    report.detect_first_viewport_ms = round(median(ringside.map((x) => x.firstViewport ?? x.ms)), 1);
    report.detect_engine_texts = engine.texts;
    report.detect_engine_ringside_ms = round(median(engine.ours.times), 2);
    report.detect_engine_libphonenumber_js_ms = round(median(engine.lib.times), 2);
    report.detect_engine_speedup = round(report.detect_engine_libphonenumber_js_ms / report.detect_engine_ringside_ms, 2);
    report.detect_page_numbers = expected.length;
    report.detect_page_bytes = Buffer.byteLength(html);
    const diag = {
      runs: { ringside, libphonenumber_js: lib },
      engine: { texts: engine.texts, ringside: engine.ours, libphonenumber_js: engine.lib },
      ringside: compare(ringsideFound, expected, written),
      libphonenumber_js: compare(libFound, expected, written),
    };
    writeFileSync(path.join(OUT_DIR, 'detect-diagnostics.json'), JSON.stringify(diag, null, 2) + '\n');
    return diag;
  } finally {
    await ext?.close().catch(() => {});
    ours?.stop();
    theirs?.stop();
  }
}

/**
 * Ringside on the same page with no native host registered (`b` launched with
 * `host: false`, options set for REGION): the worker's detection module alone.
 */
export async function benchDetectNoHost(b, report) {
  const dir = path.join(OUT_DIR, 'detect-page');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'page.html'), generatePage().html);
  let ours, ext;
  try {
    ours = await serveDir(dir);
    ext = await openExtensionPage(b, 'options.html');
    if ((await swState(ext)).host.state === 'connected') throw new Error('a native host answered: this run must have none');
    const seen = new Set((await swState(ext)).pages.map((p) => `${p.tab}/${p.frame}`));
    const runs = [];
    for (let run = 0; run < RUNS; run++) {
      const { page, ...r } = await ringsideRun(b, ext, `${ours.url}/pages/page.html?run=${run}`, ours.origin, seen);
      await page.close();
      runs.push(r);
    }
    report.detect_ringside_nohost_ms = median(runs.map((x) => x.ms));
    report.detect_ringside_nohost_marked = median(runs.map((x) => x.marked));
  } finally {
    await ext?.close().catch(() => {});
    ours?.stop();
  }
}

/** Precision and recall of both detectors on the labelled corpus. */
export function benchCorpus(report) {
  const lines = CORPUS.map((f) => readFileSync(f, 'utf8'))
    .join('\n')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [region, text, want] = l.split('\t');
      return { region, text, want: new Set(want.trim() === '-' ? [] : want.trim().split(',')) };
    });
  const score = (find) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const wrong = [];
    for (const { region, text, want } of lines) {
      const got = new Set(find(region, text));
      const lineFp = [...got].filter((e) => !want.has(e));
      const lineFn = [...want].filter((e) => !got.has(e));
      tp += got.size - lineFp.length;
      fp += lineFp.length;
      fn += lineFn.length;
      if (lineFp.length || lineFn.length) wrong.push({ region, text, extra: lineFp, missed: lineFn });
    }
    return { precision: round(tp / (tp + fp)), recall: round(tp / (tp + fn)), tp, fp, fn, wrong };
  };
  const ringside = score((region, text) =>
    execFileSync(HOST_BIN, ['detect', '--region', region], { input: text, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).e164),
  );
  const lib = score((region, text) => findPhoneNumbersInText(text, region).map((m) => m.number.number));
  report.detect_precision = ringside.precision;
  report.detect_recall = ringside.recall;
  report.detect_precision_libphonenumber_js = lib.precision;
  report.detect_recall_libphonenumber_js = lib.recall;
  report.detect_corpus_lines = lines.length;
  return { ringside, libphonenumber_js: lib };
}
