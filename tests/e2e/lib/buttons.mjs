// Ringside's call buttons live in closed shadow roots, out of the page's (and
// so Playwright's) reach. Tests find them as assistive technology does, in the
// browser's accessibility tree over the DevTools protocol, and press them as
// the agent does: the real mouse, resting on the button before the click, or
// the real keyboard.
import { until } from './harness.mjs';

/** `target`: a Page, or a Frame of another process (an out-of-process iframe). */
async function withCdp(target, fn) {
  const page = typeof target.page === 'function' ? target.page() : target;
  const cdp = await page.context().newCDPSession(target);
  try {
    return await fn(cdp);
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/** Every node of the main frame's accessibility tree: { role, name, backendNodeId, focused }. */
export async function axNodes(page) {
  return withCdp(page, async (cdp) => {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    return nodes
      .filter((n) => !n.ignored)
      .map((n) => ({
        role: n.role?.value,
        name: n.name?.value ?? '',
        backendNodeId: n.backendDOMNodeId,
        focused: Boolean(n.properties?.find((p) => p.name === 'focused' && p.value?.value)),
      }));
  });
}

/** The names of the buttons in the main frame (Ringside's and the page's). */
export async function buttonNames(page) {
  return (await axNodes(page)).filter((n) => n.role === 'button').map((n) => n.name);
}

/** The text the accessibility tree holds (what a screen reader could read). */
export async function axText(page) {
  return (await axNodes(page)).map((n) => n.name).join('\n');
}

/** Waits for the button named `name`; returns its centre in page coordinates. */
export async function buttonCentre(page, name, { timeout = 8000 } = {}) {
  const node = await until(
    async () => (await axNodes(page)).find((n) => n.role === 'button' && n.name === name),
    { timeout, interval: 200, what: `the button "${name}"` },
  );
  return withCdp(page, async (cdp) => {
    await cdp.send('DOM.getDocument', { depth: 0 });
    const { model } = await cdp.send('DOM.getBoxModel', { backendNodeId: node.backendNodeId });
    const q = model.border;
    return { x: (q[0] + q[2] + q[4] + q[6]) / 4, y: (q[1] + q[3] + q[5] + q[7]) / 4, width: model.width, height: model.height };
  });
}

/** The agent's click: the pointer moves onto the button, rests, and clicks. */
export async function clickButton(page, name, { rest = 400 } = {}) {
  const c = await buttonCentre(page, name);
  await page.mouse.move(c.x, c.y, { steps: 4 });
  await page.waitForTimeout(rest);
  await page.mouse.down();
  await page.mouse.up();
  return c;
}

/** The name of the focused element in the main frame's accessibility tree (the document itself also counts as focused: the deepest node wins). */
export async function focusedName(page) {
  const focused = (await axNodes(page)).filter((n) => n.focused && n.role !== 'RootWebArea');
  return focused.at(-1)?.name ?? '';
}

/** Tabs (at most `max` times) until the button named `name` has the focus. */
export async function tabTo(page, name, { max = 40 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if ((await focusedName(page)) === name) return;
  }
  throw new Error(`Tab never reached "${name}"`);
}

/**
 * Everything of the page's DOM, closed shadow roots included, as one string
 * (DOM.getDocument with pierce: what the page's process holds, not only what
 * its scripts can reach).
 */
export async function wholeDom(page) {
  return withCdp(page, async (cdp) => {
    const { root } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
    return JSON.stringify(root);
  });
}
