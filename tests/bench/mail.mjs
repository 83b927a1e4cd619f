// Gmail-over-IMAP bench (docs/bench.md): the side panel's shared emails for a
// contact in a 10,000-message mailbox on a real dovecot (IMAPS, test CA), the
// host's IMAP connection warm: from Enter in the panel's search box to the
// five messages rendered. Real Chromium, host and Secret Service.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freshDirs, installHost, launch, openExtensionPage } from '../e2e/lib/harness.mjs';
import { startDovecot, USER, APP_PASSWORD, CONTACT } from '../e2e/lib/imap.mjs';

const RUNS = Number(process.env.RINGSIDE_BENCH_IMAP_RUNS || 20);
const MESSAGES = 10_000;

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.round((s.length - 1) * p)].toFixed(1);
};

/** Adds imap_shared_emails_ms_* to `report` (nothing when dovecot is missing). */
export async function benchMail(report) {
  // Every 50th message is shared with the contact: 200 of 10,000.
  const dovecot = await startDovecot({ count: MESSAGES, every: 50 });
  if (!dovecot) {
    console.error('imap bench skipped: dovecot is not installed (scripts/setup installs it)');
    return;
  }
  const dirs = freshDirs('ringside-bench-mail');
  installHost(dirs);
  const cfgPath = path.join(dirs.config, 'ringside', 'host.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  cfg.imap_ca_files = [dovecot.ca];
  writeFileSync(cfgPath, JSON.stringify(cfg));
  // The IMAP server is the admin's policy (written before launch, removed by close).
  const b = await launch({ host: false, dirs, policy: { imapServer: { host: 'localhost', port: dovecot.port } } });
  try {
    const options = await openExtensionPage(b, 'options.html');
    await options.getByLabel('Gmail address').fill(USER);
    await options.getByLabel('App password (16 letters)').fill(APP_PASSWORD);
    await options.getByLabel('App password (16 letters)').press('Enter');
    await options.getByTestId('mail-connected').waitFor({ timeout: 30000 });
    const panel = await openExtensionPage(b, 'sidepanel.html');
    await panel.getByLabel('Find a contact').fill(CONTACT);
    const times = [];
    // The first search is not counted: it selects All Mail and warms dovecot's index.
    for (let i = -1; i < RUNS; i++) {
      const ms = await panel.evaluate(() => new Promise((resolve, reject) => {
        const button = [...document.querySelectorAll('[data-action=contact-search]')][0];
        const t0 = performance.now();
        const done = () => document.querySelectorAll('[data-testid=shared-email]').length === 5
          && !document.querySelector('[aria-busy=true]');
        const obs = new MutationObserver(() => {
          if (done()) {
            obs.disconnect();
            resolve(performance.now() - t0);
          }
        });
        obs.observe(document.body, { childList: true, subtree: true });
        setTimeout(() => reject(new Error('no shared emails after 30 s')), 30000);
        button.click();
      }));
      if (i >= 0) times.push(ms);
    }
    report.imap_shared_emails_ms_p50 = pct(times, 0.5);
    report.imap_shared_emails_ms_p90 = pct(times, 0.9);
    report.imap_shared_emails_ms_max = pct(times, 1);
    report.imap_mailbox_messages = MESSAGES;
  } finally {
    await b.close();
    await dovecot.stop();
  }
}
