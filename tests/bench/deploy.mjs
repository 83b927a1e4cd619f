// Force-install bench (docs/bench.md): from launching Chromium with a fresh
// profile and Ringside on the policy's force-install list (CRX and updates.xml
// from scripts/package, served on loopback) to Ringside's service worker
// answering an extension page with its managed configuration loaded. Each run
// downloads and installs the CRX, as a new agent's first start does.
import { EXTENSION_ID, until } from '../e2e/lib/harness.mjs';
import {
  canDeploy, startUpdateServer, packageVersion, writeDeployPolicy, removeDeployPolicy, launchManaged,
} from '../e2e/lib/deploy.mjs';

const RUNS = Number(process.env.RINGSIDE_BENCH_FORCEINSTALL_RUNS || 5);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.round((s.length - 1) * p)].toFixed(1);
};

/** Adds forceinstall_to_ready_ms_* to `report` (nothing without root). */
export async function benchForceInstall(report) {
  if (!canDeploy()) {
    console.error('force-install bench skipped: writing Chromium policy needs root');
    return;
  }
  const updates = await startUpdateServer();
  const pkg = packageVersion('1.0.0', updates.base, { dialer: { adapter: 'tel' }, siteBlockList: ['bank.example.com'] });
  updates.publish(pkg);
  writeDeployPolicy(pkg);
  const times = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const b = await launchManaged();
      try {
        const page = await b.context.newPage();
        await page.goto(`chrome-extension://${EXTENSION_ID}/options.html`);
        await until(async () => {
          const s = await page.evaluate(() => chrome.runtime.sendMessage({ type: 'state' }));
          return s?.settings?.locked?.includes('siteBlockList');
        }, { timeout: 20000, interval: 10, what: 'managed configuration in the worker' });
        times.push(performance.now() - t0);
      } finally {
        await b.close();
      }
    }
  } finally {
    removeDeployPolicy();
    updates.stop();
  }
  report.forceinstall_to_ready_ms_p50 = pct(times, 0.5);
  report.forceinstall_to_ready_ms_max = pct(times, 1);
  console.error(`force-install to ready: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
}
