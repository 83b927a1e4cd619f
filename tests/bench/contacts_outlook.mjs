// Outlook contact sync bench (docs/bench.md): real Chromium, host and Secret
// Service, the emulator's Microsoft Graph with 20,000 generated contacts.
//   contacts_outlook_full_sync_20k_ms   "Sign in with Microsoft" clicked → the
//                                       worker holds 20,000 contacts, no run in
//                                       progress (sign-in, the folder lookup and
//                                       20 delta pages of 1,000 included)
//   contacts_outlook_incremental_ms     10 contacts edited in Outlook → popup
//                                       opened → the delta round complete
import { launch, openExtensionPage, startEmulator, swState, until } from '../e2e/lib/harness.mjs';
import { incrementalRuns } from './contacts.mjs';

const CONTACTS = Number(process.env.RINGSIDE_BENCH_CONTACTS || 20000);
const RUNS = 5;
const AGENT = 'ana@contoso.com';
const TENANT = '11111111-2222-4333-8444-555555555555';

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.round((s.length - 1) * p)].toFixed(2);
};

/** Adds contacts_outlook_* keys to `report`. */
export async function benchOutlookContacts(report) {
  const emu = await startEmulator();
  // The admin's policy (written before launch, removed by close).
  const b = await launch({
    host: true,
    policy: {
      identityProviders: [{ kind: 'microsoft', issuer: `${emu.url}/microsoft/${TENANT}/v2.0`, clientId: 'ringside-e2e', tenant: TENANT }],
      graphApiRoot: `${emu.url}/graph/v1.0`,
    },
  });
  try {
    await emu.control('PUT', '/oidc-microsoft/clients', [{ client_id: 'ringside-e2e', redirect_uris: [`https://${b.extensionId}.chromiumapp.org/`] }]);
    await emu.control('PUT', '/oidc-microsoft/users', [{ email: AGENT, name: 'Ana Ruiz' }]);
    await emu.control('PUT', '/oidc-microsoft/consent', { auto: AGENT });
    await emu.control('POST', '/graph/generate', { contacts: CONTACTS });

    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
    const t0 = performance.now();
    await popup.getByRole('button', { name: 'Sign in with Microsoft' }).click();
    await until(async () => {
      const s = await swState(popup);
      return s.contacts.count === CONTACTS && !s.contacts.syncing && s.contacts.synced_ms;
    }, { timeout: 300000, interval: 20, what: `${CONTACTS} Outlook contacts synced` });
    report.contacts_outlook_full_sync_20k_ms = +(performance.now() - t0).toFixed(0);
    await popup.close();

    const runs = await incrementalRuns(b, RUNS, async (r, k) => {
      const id = `AAMkOl${String(100 * r + k).padStart(5, '0')}`;
      await emu.control('PATCH', `/graph/contacts/${id}`, { displayName: `Changed ${r} ${k}` });
    });
    report.contacts_outlook_incremental_ms = pct(runs, 0.5);
    report.contacts_outlook_incremental_max_ms = pct(runs, 1);
  } finally {
    await b.close();
    emu.stop();
  }
}
