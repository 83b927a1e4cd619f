// scripts/bench's browser half: round trips through a real Chromium
// connectNative port, wasm sizes, and click-to-call (detection against
// libphonenumber-js, precision and recall on the corpus, content script heap,
// click to INVITE). Merges the host cold-start figures given as JSON in
// argv[2], writes target/bench/report.json, prints a table.
import { readFileSync, writeFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { launch, openExtensionPage, swState, until, EXTENSION_DIR, ROOT } from '../e2e/lib/harness.mjs';
import { benchCorpus, benchDetectNoHost, benchDetectPage, REGION } from './detect.mjs';
import { benchHeap } from './heap.mjs';
import { benchClickToInvite, benchHoldToRemote } from './calls.mjs';
import { benchSignIn } from './signin.mjs';
import { benchMail } from './mail.mjs';
import { benchSidebar } from './context.mjs';
import { benchForceInstall } from './deploy.mjs';
import { benchContacts } from './contacts.mjs';
import { benchOutlookContacts } from './contacts_outlook.mjs';
import { benchOpen } from './open.mjs';
import { benchHistory } from './history.mjs';

const report = JSON.parse(process.argv[2] || '{}');
const MESSAGES = Number(process.env.RINGSIDE_BENCH_MESSAGES || 10000);

// Round trips: an extension page opens its own port to a host (the same
// native messaging path the service worker uses) and pings sequentially.
async function pingLoop(page, hostName, n) {
  return page.evaluate(async ([n, hostName]) => {
    const port = chrome.runtime.connectNative(hostName);
    let waiting = null;
    port.onMessage.addListener((m) => waiting && waiting(m));
    port.onDisconnect.addListener(() => waiting && waiting({ error: chrome.runtime.lastError?.message }));
    const call = (msg) => new Promise((resolve) => { waiting = resolve; port.postMessage(msg); });
    const hello = await call({ id: 0, type: 'hello', params: { versions: [1] } });
    if (hello.error) throw new Error(`${hostName}: ${JSON.stringify(hello)}`);
    // Warm up the pipe and the JIT.
    for (let i = 1; i <= 200; i++) await call({ id: i, type: 'ping', params: { payload: i } });
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await call({ id: 1000 + i, type: 'ping', params: { payload: i } });
      out[i] = performance.now() - t0;
      if (r.id !== 1000 + i) throw new Error(`out of order reply ${JSON.stringify(r)}`);
    }
    port.disconnect();
    return Array.from(out).sort((a, b) => a - b);
  }, [n, hostName]);
}
const pct = (s, p) => +s[Math.round((s.length - 1) * p)].toFixed(3);

const b = await launch({ host: true });
try {
  // Baseline: a do-nothing echo host registered for the same profile.
  const echoDir = path.join(b.dirs.profile, 'NativeMessagingHosts');
  writeFileSync(path.join(echoDir, 'com.ringside.bench_echo.json'), JSON.stringify({
    name: 'com.ringside.bench_echo',
    description: 'Ringside bench baseline',
    path: fileURLToPath(new URL('./echo_host.py', import.meta.url)),
    type: 'stdio',
    allowed_origins: [`chrome-extension://${b.extensionId}/`],
  }));
  const page = await openExtensionPage(b, 'options.html');
  const ours = await pingLoop(page, 'com.ringside.host', MESSAGES);
  report.host_roundtrip_p50_ms = pct(ours, 0.5);
  report.host_roundtrip_p99_ms = pct(ours, 0.99);
  report.host_roundtrip_messages = ours.length;
  const echo = await pingLoop(page, 'com.ringside.bench_echo', MESSAGES);
  report.chromium_echo_roundtrip_p50_ms = pct(echo, 0.5);
  report.chromium_echo_roundtrip_p99_ms = pct(echo, 0.99);
} finally {
  await b.close();
}

// Opening the popup and the side panel, against a static extension page.
await benchOpen(report);

// Click-to-call. Precision and recall on the labelled corpus need no browser.
const corpus = benchCorpus(report);
// Detection speed, the content script's heap and click to INVITE, in one
// Chromium with the extension and the host.
let page;
{
  const c = await launch({ host: true });
  try {
    const ext = await openExtensionPage(c, 'options.html');
    await ext.evaluate((r) => chrome.storage.local.set({ options: { dialer: { adapter: 'tel' }, defaultRegion: r } }), REGION);
    await until(async () => (await swState(ext)).settings.defaultRegion === REGION, { what: 'the default region' });
    await ext.close();
    page = await benchDetectPage(c, report);
    await benchHeap(c, report);
    await benchClickToInvite(c, report);
    await benchHoldToRemote(c, report);
  } finally {
    await c.close();
  }
}
// The same page in a browser with no native host registered: the worker's
// own detection module answers the content script.
{
  const c = await launch({ host: false });
  try {
    const ext = await openExtensionPage(c, 'options.html');
    await ext.evaluate((r) => chrome.storage.local.set({ options: { dialer: { adapter: 'tel' }, defaultRegion: r } }), REGION);
    await until(async () => (await swState(ext)).settings.defaultRegion === REGION, { what: 'the default region' });
    await until(async () => (await swState(ext)).host.state === 'not_installed', { what: 'no host found' });
    await ext.close();
    await benchDetectNoHost(c, report);
  } finally {
    await c.close();
  }
}
// What each detector got wrong, for the issue notes (details in target/bench).
const show = (xs, f) => xs.slice(0, 3).map(f).join('; ');
for (const [name, d] of Object.entries(page).filter(([k]) => k !== 'runs')) {
  console.error(
    `detect page, ${name}: ${d.found} marked for ${d.expected} numbers; ${d.extra.length} not numbers` +
      (d.extra.length ? ` (e.g. ${show(d.extra, (e) => JSON.stringify(e.context))})` : '') +
      `; ${d.missed.length} missed` +
      (d.missed.length ? ` (e.g. ${show(d.missed, (e) => JSON.stringify(e.written))})` : ''),
  );
}
for (const [name, d] of Object.entries(corpus)) {
  console.error(
    `corpus, ${name}: ${d.tp} found, ${d.fp} wrong, ${d.fn} missed` +
      (d.wrong.length ? ` (e.g. ${show(d.wrong, (w) => JSON.stringify(`${w.region} ${w.text}`))})` : ''),
  );
}

// Sign-in and token refresh (emulator with auto-consent, host, Secret Service).
await benchSignIn(report);

// Shared emails over IMAP (dovecot with 10,000 messages, warm connection).
await benchMail(report);

// The contact sidebar (emulator adding 100 ms to every Google API call).
await benchSidebar(report);

// The local contact store: full sync of 20,000, incremental, search as you type, size.
await benchContacts(report);
// The same for a Microsoft agent's Outlook contacts (Graph delta).
await benchOutlookContacts(report);

// The popup's call history: search as you type over 200 calls.
await benchHistory(report);

// Force-install from a loopback update URL to the worker answering with its policy.
await benchForceInstall(report);

// Wasm sizes, gzipped at level 9 as a server would send them.
function walk(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
let total = 0;
for (const file of walk(EXTENSION_DIR).filter((f) => f.endsWith('.wasm'))) {
  const gz = gzipSync(readFileSync(file), { level: 9 }).length;
  const name = path.basename(file, '.wasm').replace(/[^a-z0-9]+/gi, '_');
  report[`wasm_gzip_bytes_${name}`] = gz;
  total += gz;
}
report.wasm_gzip_bytes_total = total;

const outDir = path.join(ROOT, 'target', 'bench');
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
const width = Math.max(...Object.keys(report).map((k) => k.length));
console.log(`${'key'.padEnd(width)}  value`);
for (const [k, v] of Object.entries(report)) console.log(`${k.padEnd(width)}  ${v}`);
console.log(`\nwritten to ${path.join(outDir, 'report.json')}`);
