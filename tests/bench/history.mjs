// Call history bench (docs/bench.md): real Chromium, the popup's history
// search over a full history of 200 calls.
//   history_search_p99_ms   a keystroke in the history's search field → the
//                           list for that text rendered (popup → worker →
//                           search → answer → render), over 200 calls
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

function entries() {
  const now = Date.now();
  return Array.from({ length: CALLS }, (_, i) => {
    const ended = now - i * 600000;
    const number = `+336123${String(i).padStart(5, '0')}`;
    return {
      id: `${ended}-${i}`,
      number,
      display: number,
      dial: number,
      name: i % 4 === 3 ? undefined : `${FIRST[i % 6]} ${LAST[(i >> 1) % 6]} ${i}`,
      direction: i % 3 ? 'outgoing' : 'incoming',
      outcome: i % 5 === 0 ? 'missed' : 'answered',
      startedMs: ended - 120000,
      endedMs: ended,
      talkSeconds: 100 + i,
      wrapup: i % 2 ? { tags: ['billing', `t${i % 7}`], note: `refund later ${i}`, savedTo: 'platform' } : undefined,
    };
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
        for (const e of list) tx.objectStore('history').put(JSON.stringify(e), e.id);
        tx.objectStore('meta').put(JSON.stringify(''), 'owner');
        tx.oncomplete = () => { r.result.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
      };
    }), entries());
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
    await popup.waitForFunction((n) => document.querySelectorAll('[data-testid=history-entry]').length === n, CALLS);
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
