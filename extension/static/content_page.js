// Content script, first part: the page-reading rules and helpers that
// content.js uses (which text is the page's to scan, whether the page shows
// an element, geometry, how a long text node is sliced, labels, the icons and the
// buttons' stylesheet). Plain JavaScript in the extension's isolated world,
// loaded just before content.js (manifest.json); it touches nothing itself
// and exposes its functions on `globalThis.__ringsidePage`, which the page's
// own scripts cannot see.
(() => {
  if (globalThis.__ringsidePage) return;

  const TAG = 'ringside-call';
  const SKIP = new Set([
    'INPUT', 'TEXTAREA', 'SELECT', 'OPTION', 'SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE',
    'BUTTON', 'CODE', 'PRE', 'HEAD', 'TITLE', 'IFRAME', 'OBJECT', 'SVG', 'MATH',
    TAG.toUpperCase(),
  ]);
  // The same list as a selector, for what a mutation adds inside one of them
  // (a number appended to a `pre` or a `button` is no more the page's text to
  // call than the `pre` itself), plus hidden, ignored and editable subtrees.
  const SKIP_SELECTOR = [
    ...[...SKIP].map((t) => t.toLowerCase()),
    '[hidden]',
    '[data-ringside-ignore]',
    '[contenteditable=""]',
    '[contenteditable=true]',
    '[contenteditable=plaintext-only]',
  ].join(',');
  const LINK = /^\s*(tel|callto|sips?):/i;
  // At least six digits (ASCII, Arabic-Indic, Persian, Devanagari or
  // full-width): shorter text cannot hold a number the detector accepts.
  const DIGITS = /(?:[0-9\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\uff10-\uff19][^0-9]{0,3}){6}/;

  const skipElement = (el) =>
    SKIP.has(el.tagName.toUpperCase()) ||
    el.isContentEditable ||
    el.hidden ||
    el.hasAttribute('data-ringside-ignore') ||
    (el.tagName === 'A' && LINK.test(el.getAttribute('href') || ''));

  // Whether a node a mutation added sits inside something never scanned: a
  // skipped element, or a dial link (which has its own button), looked up
  // through the hosts of the open shadow roots it is in.
  function insideSkipped(node) {
    const up = node instanceof ShadowRoot ? node : node.parentNode;
    for (let el = up instanceof ShadowRoot ? up.host : node.parentElement; el; ) {
      if (el.closest(SKIP_SELECTOR) || el.isContentEditable) return true;
      const a = el.closest('a[href]');
      if (a && LINK.test(a.getAttribute('href') || '')) return true;
      const root = el.getRootNode();
      el = root instanceof ShadowRoot ? root.host : null;
    }
    return false;
  }

  // Per scan: whether an element or one of its ancestors (up to the top of
  // its tree) is skipped, so each ancestor is looked at once per scan.
  function skippedFrom(cache) {
    return (el) => {
      const chain = [];
      let out = false;
      for (let e = el; e; e = e.parentElement) {
        const known = cache.get(e);
        if (known !== undefined) {
          out = known;
          break;
        }
        chain.push(e);
        if (skipElement(e)) {
          out = true;
          break;
        }
      }
      for (const e of chain) cache.set(e, out);
      return out;
    };
  }

  // A longer text node is sent in overlapping slices; a number is kept from
  // the slice that saw it with at least HALF_OVERLAP units of context around.
  const SLICE = 16 * 1024;
  const OVERLAP = 256;
  const HALF_OVERLAP = OVERLAP / 2;

  // The call button's size in CSS pixels (the stylesheet below); a click
  // counts only when it is drawn at about this size.
  const SIZE = 20;

  // One Range, reused: a text node's box as drawn.
  const range = document.createRange();
  function textRect(node) {
    range.selectNodeContents(node);
    return range.getBoundingClientRect();
  }

  // Opacity as drawn: the product of the element's and its ancestors' (across
  // shadow roots). Cached for one scan.
  let opacityCache = new Map();
  function drawnOpacity(el) {
    let out = 1;
    const seen = [];
    for (let e = el; e && e.nodeType === Node.ELEMENT_NODE; ) {
      if (opacityCache.has(e)) {
        out *= opacityCache.get(e);
        break;
      }
      seen.push(e);
      out *= Number(getComputedStyle(e).opacity);
      const parent = e.parentElement;
      e = parent || (e.getRootNode() instanceof ShadowRoot ? e.getRootNode().host : null);
    }
    if (seen.length) opacityCache.set(seen[0], out);
    return out;
  }

  // The page's scrollable size (read once per batch of checks).
  function pageSize() {
    const root = document.documentElement;
    return { w: Math.max(root.scrollWidth, innerWidth), h: Math.max(root.scrollHeight, innerHeight) };
  }

  // Whether the page shows this element to the agent: rendered, not
  // transparent, of a readable size, and not placed out of reach.
  function shown(el, rect, size = pageSize()) {
    // content-visibility: auto is not hiding: it is content below the fold.
    const opts = { opacityProperty: true, visibilityProperty: true };
    if (el.checkVisibility ? !el.checkVisibility(opts) : el.getClientRects().length === 0) return false;
    if (drawnOpacity(el) < 0.5) return false;
    if (!rect || rect.width < 4 || rect.height < 4) return false;
    const x = rect.left + scrollX;
    const y = rect.top + scrollY;
    if (x + rect.width <= 0 || y + rect.height <= 0 || x >= size.w || y >= size.h) return false;
    // Clipped away: the legacy `clip` (the screen-reader-only pattern) or a
    // clip-path that leaves nothing (inset of half or more, a zero circle).
    // Decorative clip-paths (rounded corners, shapes) are not hiding.
    const style = getComputedStyle(el);
    if (style.clip && style.clip !== 'auto') return false;
    if (/inset\(\s*(5\d|[6-9]\d|100)(\.\d+)?%|circle\(\s*0(px)?[\s)]/.test(style.clipPath)) return false;
    return true;
  }

  // Yields to the page's event loop as an ordinary task, so that the
  // worker's answers and the page's own tasks waiting get their turn
  // (scheduler.yield would put this scan ahead of them).
  const pause = () =>
    globalThis.scheduler && typeof globalThis.scheduler.postTask === 'function'
      ? globalThis.scheduler.postTask(() => {}, { priority: 'user-visible' })
      : new Promise((resolve) => setTimeout(resolve, 0));

  // A text node as the parts sent for it: whole when short; otherwise slices
  // of SLICE units that overlap by OVERLAP, each keeping only the numbers that
  // start in its middle and end before its last HALF_OVERLAP/2 units (so no
  // number is read cut in two, or twice). Offsets are within the slice.
  function slices(node) {
    const data = node.data;
    if (data.length <= SLICE) {
      return [{ node, text: data, base: 0, from: 0, to: Infinity, limit: Infinity }];
    }
    const out = [];
    for (let base = 0; base < data.length; base += SLICE - OVERLAP) {
      const last = base + SLICE >= data.length;
      out.push({
        node,
        text: data.slice(base, base + SLICE),
        base,
        from: base === 0 ? 0 : HALF_OVERLAP,
        to: last ? Infinity : SLICE - HALF_OVERLAP,
        limit: last ? Infinity : SLICE - HALF_OVERLAP / 2,
      });
      if (last) break;
    }
    return out;
  }

  const near = (a, b, within) => Math.abs(a - b) <= within;
  const sameRect = (a, b) =>
    near(a.left, b.left, 1) && near(a.top, b.top, 1) && near(a.width, b.width, 1) && near(a.height, b.height, 1);

  // The distance between two rectangles (0 when they touch or overlap).
  function gap(a, b) {
    const dx = Math.max(0, a.left - b.right, b.left - a.right);
    const dy = Math.max(0, a.top - b.bottom, b.top - a.bottom);
    return Math.hypot(dx, dy);
  }

  // The anchor's boxes: a text node's line boxes, or the link's.
  function anchorRects(anchor) {
    if (anchor.nodeType === Node.TEXT_NODE) {
      const r = document.createRange();
      r.selectNodeContents(anchor);
      return [...r.getClientRects()];
    }
    return [...anchor.getClientRects()];
  }

  // A label with one substitution, from the catalog once per key and
  // language (thousands of buttons on a long page).
  const HOLE = '\u{F0000}';
  const templates = new Map();
  function message(key, value) {
    let t = templates.get(key);
    if (t === undefined) {
      t = chrome.i18n.getMessage(key, [HOLE]);
      templates.set(key, t);
    }
    return t.includes(HOLE) ? t.split(HOLE).join(value) : chrome.i18n.getMessage(key, [value]);
  }

  // One stylesheet shared by every button's shadow root. `!important` in a
  // shadow root's :host wins over the page's styles, inline ones included.
  let sheet = null;
  function buttonSheet() {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(
        ':host{all:initial !important;display:inline-flex !important;vertical-align:middle !important;' +
          'margin:0 0 0 .2em !important;position:static !important;opacity:1 !important;' +
          'visibility:visible !important;transform:none !important;filter:none !important;' +
          'pointer-events:auto !important;font:14px/1 system-ui,sans-serif !important}' +
          `button{all:initial;box-sizing:border-box;width:${SIZE}px;height:${SIZE}px;display:inline-flex;` +
          'align-items:center;justify-content:center;cursor:pointer;font:14px/1 system-ui,sans-serif;' +
          'border-radius:4px;color:#0b57d0}' +
          'button:hover{background:#e8f0fe}button:focus-visible{outline:2px solid #0b57d0;outline-offset:1px}',
      );
    }
    return sheet;
  }

  // Opacity as drawn is cached for one scan (or one click check).
  function resetOpacity() {
    opacityCache = new Map();
  }

  // Icons as inline SVG made with DOM calls (no emoji font needed; never
  // markup). Our own simple shapes on a 24x24 grid (as extension/src/icons.rs).
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const PHONE_PATH = 'M5 3h4l2 5-2.5 1.5a12 12 0 0 0 6 6L16 13l5 2v4a2 2 0 0 1-2 2C10.7 21 3 13.3 3 5a2 2 0 0 1 2-2z';
  const PERSON_PATH = 'M12 3a4.5 4.5 0 1 1 0 9 4.5 4.5 0 0 1 0-9zM3 21c0-4.4 4-7 9-7s9 2.6 9 7z';
  function icon(d) {
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '14');
    svg.setAttribute('height', '14');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    p.setAttribute('fill', 'currentColor');
    svg.append(p);
    return svg;
  }

  globalThis.__ringsidePage = Object.freeze({
    DIGITS,
    LINK,
    SIZE,
    TAG,
    anchorRects,
    buttonSheet,
    drawnOpacity,
    gap,
    insideSkipped,
    message,
    near,
    pageSize,
    pause,
    resetOpacity,
    sameRect,
    shown,
    skipElement,
    skippedFrom,
    slices,
    textRect,
    icon,
    PHONE_PATH,
    PERSON_PATH,
  });
})();
