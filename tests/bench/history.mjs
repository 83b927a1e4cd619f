// Call history bench (docs/bench.md): real Chromium, the popup's history
// search over a full history of 200 calls.
//   history_search_p99_ms   a keystroke in the history's search field → the
//                           list for that text rendered (popup → worker →
//                           search → answer → render of the newest 40
//                           matches), over 200 calls
// The 200 calls are written into the worker's IndexedDB (`ringside-calls`,
// as the worker writes them: no sign-in set up, so they are the calls of
// "nobody") before the popup first asks for them; placing 200 real calls
// would measure baresip, not the search.
import { launch, openExtensionPage } from '../e2e/lib/harness.mjs';

const CALLS = 200;
const TYPED = ['marie', 'billing', '612 3', '+33 1', 'refund later', 'missed', 'dupont 1', 'zzz'];
const FIRST = ['Marie', 'Jean', 'Ana', 'Karim', 'Zoë', 'Hugo'];
const LAST = ['Curie', 'Dupont', 'Ruiz', 'Weber', 'Moreau', 'Fischer'];

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.round((s.length - 1) * p)].toFixed(2);
};

/** 200 calls as the worker stores them (`ringside_core::history::Entry::record`). */
function records() {
  const now = Date.now();
  return Array.from({ length: CALLS }, (_, i) => {
    const ended = now - i * 600000;
    const number = `+336123${String(i).padStart(5, '0')}`;
    const name = i % 4 === 3 ? '' : `${FIRST[i % 6]} ${LAST[(i >> 1) % 6]} ${i}`;
    const wrapped = i % 2 === 1;
    const id = `${ended}-${i}`;
    return [id, [
      id, number, number, number, name,
      i % 3 ? 'out' : 'in',
      i % 5 === 0 ? 'historyMissed' : 'historyAnswered',
      String(ended - 120000), String(ended), String(100 + i),
      wrapped ? ['billing', `t${i % 7}`].join('\u001e') : '',
      wrapped ? `refund later ${i}` : '',
      wrapped ? 'wrapupSavedPlatform' : '',
    ].join('\u001f')];
  });
}

/** Adds history_* keys to `report`. */
export async function benchHistory(report) {
  const b = await launch({ host: true });
  try {
    await b.sw.evaluate((list) => new Promise((resolve, reject) => {
      const r = indexedDB.open('ringside-calls', 1);
      r.onupgradeneeded = () => {
        r.result.createObjectStore('history');
        r.result.createObjectStore('meta');
      };
      r.onerror = () => reject(r.error);
      r.onsuccess = () => {
        const tx = r.result.transaction(['history', 'meta'], 'readwrite');
        for (const [id, record] of list) tx.objectStore('history').put(record, id);
        // Nobody's calls (no sign-in set up): the owner "" (`=` and the owner).
        tx.objectStore('meta').put('=', 'owner');
        tx.oncomplete = () => { r.result.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
      };
    }), records());
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
    // The popup lists the newest 40 matches (`ringside_core::history::SHOWN`).
    await popup.waitForFunction(() => document.querySelectorAll('[data-testid=history-entry]').length === 40);
    const samples = await popup.evaluate(async (typed) => {
      const out = [];
      for (const word of typed) {
        for (let i = 1; i <= word.length; i++) {
          const q = word.slice(0, i);
          const t0 = performance.now();
          await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no history rendered for "${q}"`)), 10000);
            const done = () => document.getElementById('history-list')?.dataset.query === q;
            const obs = new MutationObserver(() => {
              if (done()) {
                obs.disconnect();
                clearTimeout(timer);
                resolve();
              }
            });
            obs.observe(document.getElementById('app'), { subtree: true, childList: true, attributes: true });
            const input = document.getElementById('history-query');
            input.value = q;
            input.dispatchEvent(new Event('input', { bubbles: true }));
          });
          out.push(performance.now() - t0);
        }
      }
      return out;
    }, TYPED);
    report.history_search_p50_ms = pct(samples, 0.5);
    report.history_search_p99_ms = pct(samples, 0.99);
    report.history_search_samples = samples.length;
    report.history_calls = CALLS;
  } finally {
    await b.close();
  }
}

// Alone: `scripts/with-keyring node tests/bench/history.mjs`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const report = {};
  await benchHistory(report);
  console.log(JSON.stringify(report, null, 2));
}
