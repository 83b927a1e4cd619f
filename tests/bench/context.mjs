// Side panel bench (docs/bench.md): with the emulator adding 100 ms to every
// Google API call, from Enter in the panel's search box to every section
// rendered (no placeholder left, the meeting badge shown); then the same
// contact again (served from the per-contact cache). Real Chromium, host,
// Secret Service; Gmail, Drive and Calendar connected through the consent flow.
import { launch, openExtensionPage, startEmulator, until, EXTENSION_ID } from '../e2e/lib/harness.mjs';

const RUNS = Number(process.env.RINGSIDE_BENCH_SIDEBAR_RUNS || 10);
const LATENCY_MS = 100;
const ANA = 'ana@example.com';
const HOUR = 3600_000;

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.round((s.length - 1) * p)].toFixed(1);
};
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `n` contacts, each with messages, files and events shared with the agent. */
function fixtures(n, now) {
  const contacts = [];
  const messages = [];
  const files = [];
  const events = [];
  for (let c = 0; c < n; c++) {
    const email = `person${c}@contoso.com`;
    contacts.push({
      resourceName: `people/c${c}`,
      names: [{ displayName: `Person ${c}` }],
      emailAddresses: [{ value: email }],
      phoneNumbers: [{ value: `+3461234${String(c).padStart(4, '0')}`, canonicalForm: `+3461234${String(c).padStart(4, '0')}` }],
    });
    for (let i = 0; i < 6; i++) {
      messages.push({ id: `m${c}-${i}`, from: email, to: [ANA], subject: `Hello ${c}/${i}`, date_ms: now - i * HOUR });
    }
    for (let i = 0; i < 4; i++) {
      files.push({ id: `f${c}-${i}`, name: `Doc ${c}/${i}`, modified_time: iso(now - i * HOUR), owners: [ANA], readers: [email] });
    }
    events.push({ id: `e${c}`, summary: `Meeting ${c}`, start: iso(now - 15 * 60_000), end: iso(now + 45 * 60_000), attendees: [ANA, email] });
  }
  return { contacts, messages, files, events };
}

/** Enter in the search box → sections rendered and the badge shown (ms). */
async function timeToContext(panel, query) {
  return panel.evaluate((q) => new Promise((resolve, reject) => {
    const input = document.getElementById('contact-query');
    input.value = q;
    const t0 = performance.now();
    const done = () => {
      const sections = ['gmail', 'drive', 'calendar'].map((s) => document.querySelector(`[data-testid=section-${s}]`));
      return sections.every((s) => s && !s.hasAttribute('aria-busy') && s.querySelector('.item'))
        && document.querySelector('[data-testid=meeting-badge]');
    };
    const obs = new MutationObserver(() => {
      if (done()) {
        obs.disconnect();
        resolve(performance.now() - t0);
      }
    });
    obs.observe(document.body, { childList: true, subtree: true });
    setTimeout(() => reject(new Error('sections not rendered after 30 s')), 30000);
    document.querySelector('[data-action=contact-search]').click();
  }), query);
}

/** Adds sidebar_time_to_context_ms_* and sidebar_cached_ms_* to `report`. */
export async function benchSidebar(report) {
  const emu = await startEmulator();
  // The admin's policy (written before launch, removed by close).
  const b = await launch({
    host: true,
    policy: {
      identityProviders: [{ kind: 'google', issuer: `${emu.url}/google`, clientId: 'ringside-bench' }],
      googleApiRoot: `${emu.url}/googleapis`,
    },
  });
  try {
    await emu.control('PUT', '/oidc/clients', [{ client_id: 'ringside-bench', redirect_uris: [`https://${EXTENSION_ID}.chromiumapp.org/`] }]);
    await emu.control('PUT', '/oidc/users', [{ email: ANA, name: 'Ana Ruiz', hd: 'example.com' }]);
    await emu.control('PUT', '/oidc/consent', { auto: ANA });
    await emu.control('PUT', '/google/fixtures', fixtures(RUNS + 1, Date.now()));
    const popup = await openExtensionPage(b, 'popup.html');
    const signIn = popup.getByRole('button', { name: 'Sign in with Google' });
    await signIn.waitFor({ timeout: 15000 });
    await signIn.click();
    await popup.getByTestId('profile-name').waitFor({ timeout: 15000 });
    const panel = await openExtensionPage(b, 'sidepanel.html');
    await panel.getByLabel('Find a contact').fill('person0@contoso.com');
    await panel.getByLabel('Find a contact').press('Enter');
    for (const name of ['Connect Gmail', 'Connect Drive', 'Connect Calendar']) {
      const button = panel.getByRole('button', { name, exact: true });
      await button.click();
      await button.waitFor({ state: 'detached', timeout: 15000 });
    }
    await emu.control('PUT', '/latency', [{ path_prefix: '/googleapis', ms: LATENCY_MS }]);
    const first = [];
    const again = [];
    // Person 0 warmed the connections; each run looks up a new contact, then reopens it.
    for (let i = 1; i <= RUNS; i++) {
      first.push(await timeToContext(panel, `person${i}@contoso.com`));
      again.push(await timeToContext(panel, `person${i}@contoso.com`));
    }
    report.sidebar_time_to_context_ms_p50 = pct(first, 0.5);
    report.sidebar_time_to_context_ms_p90 = pct(first, 0.9);
    report.sidebar_cached_ms_p50 = pct(again, 0.5);
    report.sidebar_cached_ms_p90 = pct(again, 0.9);
    // Contact lookup, then Gmail's list and message reads (or Calendar's
    // freeBusy then events for the badge): 3 dependent calls.
    report.sidebar_longest_chain_ms = 3 * LATENCY_MS;
    report.sidebar_api_latency_ms = LATENCY_MS;
  } finally {
    await emu.control('PUT', '/latency', []);
    await b.close();
    emu.stop();
  }
}
