// The detection part of scripts/bench alone (docs/bench.md): the generated
// page with and without the native host, and precision and recall on the
// corpus, after `scripts/build`. Prints the detect_* figures as JSON and
// writes them to target/bench/detect-report.json.
//   node tests/bench/detect_only.mjs            everything
//   node tests/bench/detect_only.mjs page       the page with the host only
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { launch, openExtensionPage, swState, until } from '../e2e/lib/harness.mjs';
import { OUT_DIR, REGION, benchCorpus, benchDetectNoHost, benchDetectPage } from './detect.mjs';

const only = process.argv[2];
const report = {};

async function withRegion(host, run) {
  const c = await launch({ host });
  try {
    const ext = await openExtensionPage(c, 'options.html');
    await ext.evaluate((r) => chrome.storage.local.set({ options: { dialer: { adapter: 'tel' }, defaultRegion: r } }), REGION);
    await until(async () => (await swState(ext)).settings.defaultRegion === REGION, { what: 'the default region' });
    if (!host) await until(async () => (await swState(ext)).host.state === 'not_installed', { what: 'no host found' });
    await ext.close();
    return await run(c);
  } finally {
    await c.close();
  }
}

const page = await withRegion(true, (c) => benchDetectPage(c, report));
if (only !== 'page') {
  await withRegion(false, (c) => benchDetectNoHost(c, report));
  benchCorpus(report);
}
for (const [name, d] of Object.entries(page).filter(([k]) => k === 'ringside' || k === 'libphonenumber_js')) {
  console.error(`detect page, ${name}: ${d.found} marked for ${d.expected} numbers; ${d.extra.length} not numbers; ${d.missed.length} missed`);
}
mkdirSync(OUT_DIR, { recursive: true });
writeFileSync(path.join(OUT_DIR, 'detect-report.json'), JSON.stringify(report, null, 2) + '\n');
console.log(JSON.stringify(report, null, 2));
