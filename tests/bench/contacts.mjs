// Contact store bench (docs/bench.md): real Chromium, host and Secret
// Service, the emulator's People sync with 20,000 generated contacts.
//   contacts_full_sync_20k_ms   "Sign in with Google" clicked → the popup says
//                               20,000 contacts synced (sign-in included)
//   contacts_incremental_ms     10 contacts edited at the source → popup opened
//                               → the worker's run complete (popup load included)
//   contacts_search_p99_ms      a keystroke in the dial pad → the result list
//                               for that text rendered, over the 20,000
//   contacts_search_worker_p99_ms  the same query as a message to the worker
//                               and its answer, without rendering
//   contacts_store_mb           IndexedDB usage after the full sync
import { launch, openExtensionPage, startEmulator, swState, until } from '../e2e/lib/harness.mjs';

const CONTACTS = Number(process.env.RINGSIDE_BENCH_CONTACTS || 20000);
const INCREMENTAL_RUNS = 5;
const ANA = { email: 'ana@example.com', name: 'Ana Ruiz', hd: 'example.com' };
// Typed one key at a time: names, number fragments, an email.
const TYPED = ['ana ruiz', 'élodie m', '612 0', '+34 60', 'karim.weber', 'zoë', 'lópez 19', 'hugo dubois', 'oskar fischer 3', '600 123', 'inès', 'chloé moreau'];

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.round((s.length - 1) * p)].toFixed(2);
};

async function signIn(b, emu) {
  const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
  const t0 = performance.now();
  await popup.getByRole('button', { name: 'Sign in with Google' }).click();
  await until(async () => {
    const s = await swState(popup);
    return s.contacts.count === CONTACTS && !s.contacts.syncing && s.contacts.synced_ms;
  }, { timeout: 300000, interval: 20, what: `${CONTACTS} contacts synced` });
  return { popup, ms: performance.now() - t0 };
}

/**
 * `rounds` times: 10 edits at the source (`edit(round, k)`), the popup's 2 s
 * staleness rule waited out, then the popup opened → the worker's run
 * complete. Returns each round's milliseconds.
 */
export async function incrementalRuns(b, rounds, edit) {
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < 10; k++) await edit(r, k);
    await new Promise((res) => setTimeout(res, 2100));
    const before = await b.sw.evaluate(() => Date.now());
    const t0 = performance.now();
    const p = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
    await until(async () => {
      const s = await swState(p);
      return !s.contacts.syncing && s.contacts.synced_ms > before;
    }, { timeout: 30000, interval: 5, what: 'the incremental run' });
    runs.push(performance.now() - t0);
    await p.close();
  }
  return runs;
}

/** Adds contacts_* keys to `report`. */
export async function benchContacts(report) {
  const emu = await startEmulator();
  // The admin's policy (written before launch, removed by close).
  const b = await launch({
    host: true,
    policy: {
      identityProviders: [{ kind: 'google', issuer: `${emu.url}/google`, clientId: 'ringside-e2e' }],
      googleApiRoot: `${emu.url}/googleapis`,
    },
  });
  try {
    await emu.control('PUT', '/oidc/clients', [{ client_id: 'ringside-e2e', redirect_uris: [`https://${b.extensionId}.chromiumapp.org/`] }]);
    await emu.control('PUT', '/oidc/users', [ANA]);
    await emu.control('PUT', '/oidc/consent', { auto: ANA.email });
    await emu.control('POST', '/google/people/generate', { contacts: CONTACTS });

    const { popup, ms } = await signIn(b, emu);
    report.contacts_full_sync_20k_ms = +ms.toFixed(0);
    report.contacts_full_sync_count = CONTACTS;

    // Store size, as the browser accounts it.
    const usage = await b.sw.evaluate(async () => {
      const e = await navigator.storage.estimate();
      return e.usageDetails?.indexedDB ?? e.usage;
    });
    report.contacts_store_mb = +(usage / 1048576).toFixed(1);

    // Search as you type, in the popup.
    const samples = await popup.evaluate(async (typed) => {
      const out = [];
      for (const word of typed) {
        for (let i = 1; i <= word.length; i++) {
          const q = word.slice(0, i);
          if (!q.trim()) continue;
          const t0 = performance.now();
          await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no results rendered for "${q}"`)), 10000);
            const done = () => document.getElementById('dial-results')?.dataset.query === q.trim();
            const obs = new MutationObserver(() => {
              if (done()) {
                obs.disconnect();
                clearTimeout(timer);
                resolve();
              }
            });
            obs.observe(document.getElementById('app'), { subtree: true, childList: true, attributes: true });
            // Each render replaces the field (keeping its value): type into the current one.
            const input = document.getElementById('dial-query');
            input.value = q;
            input.dispatchEvent(new Event('input', { bubbles: true }));
          });
          out.push(performance.now() - t0);
        }
      }
      return out;
    }, TYPED);
    report.contacts_search_p50_ms = pct(samples, 0.5);
    report.contacts_search_p99_ms = pct(samples, 0.99);
    report.contacts_search_samples = samples.length;
    // The worker's part alone: the same keystrokes as one-shot messages.
    const worker = await popup.evaluate(async (typed) => {
      const out = [];
      for (const word of typed) {
        for (let i = 1; i <= word.length; i++) {
          const t0 = performance.now();
          await chrome.runtime.sendMessage({ type: 'contacts.search', query: word.slice(0, i) });
          out.push(performance.now() - t0);
        }
      }
      return out;
    }, TYPED);
    report.contacts_search_worker_p50_ms = pct(worker, 0.5);
    report.contacts_search_worker_p99_ms = pct(worker, 0.99);
    await popup.close();

    // Ten changes at the source, picked up when the popup opens.
    const runs = await incrementalRuns(b, INCREMENTAL_RUNS, async (r, k) => {
      const n = 100 * r + k;
      await emu.control('PATCH', `/google/people/contacts/c${n}`, { names: [{ unstructuredName: `Changed ${r} ${k}` }] });
    });
    report.contacts_incremental_ms = pct(runs, 0.5);
    report.contacts_incremental_max_ms = pct(runs, 1);
  } finally {
    await b.close();
    emu.stop();
  }
}
