// The Firefox end-to-end harness: Debian's Firefox ESR driven by npm
// puppeteer-core over WebDriver BiDi (no browser download), the same built
// extension as Chromium's (dist/extension) installed as a temporary add-on,
// and the same host registered for Firefox in the test's own HOME.
//
// Facts this relies on (issue 25):
// - `--remote-allow-system-access`, or navigation to moz-extension:// pages is refused;
// - the pref `extensions.webextensions.uuids` fixes the add-on's uuid, so its
//   pages' origin is known before it starts;
// - `page.goto` on a moz-extension:// page never resolves: start it and poll
//   `location.href`;
// - the background page (Firefox runs `background.scripts` as an event page)
//   is reached with `runtime.getBackgroundPage()` from an extension page.
// What these helpers write (native host manifest, managed storage) lives under
// the test's own HOME. One test (account.test.mjs) writes Firefox's
// machine-wide /etc/firefox/policies/policies.json and removes it: run the
// suite under /tmp/ringside-e2e.lock beside other e2e runs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { EXTENSION_DIR, HOST_BIN, freshDirs, envFor, until } from '../../e2e/lib/harness.mjs';

export const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
/** manifest.json's browser_specific_settings.gecko.id. */
export const GECKO_ID = 'ringside@ringside.dev';
/** The add-on's uuid in these tests' profiles (extensions.webextensions.uuids). */
export const UUID = '7d3c1a52-9e0b-4f6d-8a21-5c4e3b2a1f00';
export const ORIGIN = `moz-extension://${UUID}`;

/** `ringside-host install --browser firefox --extension-id <gecko id>`, as an agent would run it. */
export function installHost(dirs) {
  return execFileSync(HOST_BIN, ['install', '--browser', 'firefox', '--extension-id', GECKO_ID], {
    env: envFor(dirs),
    encoding: 'utf8',
  });
}

/**
 * Ringside's managed configuration as Firefox reads it for one user:
 * `~/.mozilla/managed-storage/<add-on id>.json` (docs/admin-guide.md also
 * covers policies.json's `3rdparty` section, which is machine-wide).
 */
export function writeManagedStorage(dirs, data) {
  const dir = path.join(dirs.home, '.mozilla', 'managed-storage');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${GECKO_ID}.json`), JSON.stringify({ name: GECKO_ID, description: 'Ringside', type: 'storage', data }));
}

/**
 * Starts Firefox ESR headless with Ringside as a temporary add-on.
 * `host: true` registers the host first; `managed` writes managed storage;
 * `install: false` leaves installing it to policy.
 * Returns { browser, dirs, close }.
 */
export async function launchFirefox({ host = true, dirs = freshDirs('ringside-ff'), managed = null, prefs = {}, install = true } = {}) {
  if (host) installHost(dirs);
  if (managed) writeManagedStorage(dirs, managed);
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: dirs.profile,
    args: ['--remote-allow-system-access'],
    env: envFor(dirs),
    defaultViewport: { width: 1000, height: 700 },
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: UUID }),
      'intl.locale.requested': 'en-US',
      ...prefs,
    },
  });
  try {
    // `install: false`: policy installs it (ExtensionSettings), not the test.
    const id = install ? await browser.installExtension(EXTENSION_DIR) : GECKO_ID;
    if (id !== GECKO_ID) throw new Error(`the add-on installed as ${id}, not ${GECKO_ID}`);
  } catch (e) {
    await browser.close();
    throw e;
  }
  return {
    browser,
    dirs,
    async close({ keep = false } = {}) {
      try {
        await browser.close();
      } finally {
        if (!keep) rmSync(dirs.base, { recursive: true, force: true });
      }
    },
  };
}

/** Navigates without awaiting `goto` (it never resolves on moz-extension:// pages); polls location.href. */
async function navigate(page, url) {
  page.goto(url).catch(() => {});
  await until(async () => {
    try {
      return (await page.evaluate(() => location.href + ' ' + document.readyState)) === `${url} complete`;
    } catch {
      return false;
    }
  }, { timeout: 15000, interval: 100, what: `${url} loaded` });
}

/** Opens one of Ringside's pages (popup.html, options.html, sidepanel.html) in a tab. */
export async function openExtensionPage(b, file) {
  const page = await b.browser.newPage();
  await navigate(page, `${ORIGIN}/${file}`);
  return page;
}

/** Opens a web page; resolves once it has loaded. */
export async function openWebPage(b, url) {
  const page = await b.browser.newPage();
  await page.goto(url, { waitUntil: 'load' });
  return page;
}

/** The worker's state, as the options page asks for it. */
export async function swState(page) {
  return page.evaluate(() => chrome.runtime.sendMessage({ type: 'state' }));
}

/** The text of the first element matching `selector` (null when absent). */
export async function textOf(page, selector) {
  return page.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);
}

/** Waits until the page's visible text contains `text`. */
export async function waitForText(page, text, { timeout = 10000 } = {}) {
  await until(async () => (await page.evaluate(() => document.body?.innerText ?? '')).includes(text), {
    timeout,
    interval: 100,
    what: `"${text}" on ${page.url()}`,
  });
}

/**
 * Ringside's call-button hosts in a frame (open shadow roots included): each
 * with the number it dials and its box in the frame's viewport. The buttons
 * themselves are in closed shadow roots; the call button is the host's first,
 * the show-contact button its second, each `SIZE` wide.
 */
export async function callButtons(frame) {
  return frame.evaluate(() => {
    const out = [];
    const walk = (root) => {
      for (const el of root.querySelectorAll('ringside-call:not([data-ringside-toast])')) {
        const r = el.getBoundingClientRect();
        out.push({ e164: el.dataset.e164, x: r.left, y: r.top, width: r.width, height: r.height });
      }
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
    };
    walk(document);
    return out;
  });
}

/** The call buttons' size (content.js's SIZE). */
const SIZE = 20;

/**
 * The agent's click on the call button (`which = 0`) or the show-contact
 * button (`which = 1`) for `e164` in the page's main frame: the real pointer
 * (WebDriver BiDi input actions: trusted events) moves onto it, rests, clicks.
 */
export async function clickButton(page, e164, { which = 0, rest = 400 } = {}) {
  const button = await until(async () => (await callButtons(page)).find((b) => b.e164 === e164), {
    timeout: 10000,
    interval: 100,
    what: `the button for ${e164}`,
  });
  await page.evaluate((y) => window.scrollTo(0, Math.max(0, y - 200)), button.y);
  const now = (await callButtons(page)).find((b) => b.e164 === e164);
  const x = now.x + SIZE * which + SIZE / 2;
  const y = now.y + now.height / 2;
  await page.mouse.move(x - 30, y);
  await page.mouse.move(x, y, { steps: 4 });
  await new Promise((r) => setTimeout(r, rest));
  await page.mouse.down();
  await page.mouse.up();
}

/**
 * Firefox cannot tell a covered button (no IntersectionObserver v2), so a
 * page's call waits for the agent: the popup's confirmation card shows the
 * real number and why. Checks both, then the agent confirms with the card's
 * own button (real pointer input). Returns the card's text.
 */
export async function confirmHeldDial(b, e164) {
  const popup = await openExtensionPage(b, 'popup.html');
  await until(async () => popup.evaluate(() => Boolean(document.querySelector('[data-testid=confirm-dial]'))), {
    timeout: 10000, interval: 100, what: 'the confirmation card in the popup',
  });
  const card = await popup.evaluate(() => ({
    target: document.querySelector('[data-testid=confirm-target]')?.textContent,
    text: document.querySelector('[data-testid=confirm-dial]').textContent,
  }));
  if (card.target !== e164) throw new Error(`the card names ${card.target}, not ${e164}`);
  const button = await popup.$(`[data-testid=confirm-dial] [data-action=confirm-dial][aria-label="Call ${e164}"]`);
  if (!button) throw new Error(`no "Call ${e164}" button on the card: ${card.text}`);
  await button.click();
  await popup.close();
  return card.text;
}
