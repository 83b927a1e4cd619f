// Content script: plain JS on purpose. WebAssembly in a content script obeys
// the page's CSP and fails on pages with `script-src 'self'`, so this file only
// walks the DOM, ships candidate text to the service worker (which asks the
// native host's Rust detector), and places call buttons where numbers were
// found. No detection logic lives here (docs/architecture.md).
//
// The page is hostile (docs/security.md): it can restyle, move, cover or hide
// anything in its DOM and read any open shadow root. So: buttons live in
// closed shadow roots and carry no contact data; text and links the page hid
// are not marked; a click counts only on a visible, unobscured button of its
// normal size, still beside its number, that the pointer rested on; and what
// is sent to the worker is bounded (the worker and the host check again).
(() => {
  if (globalThis.__ringsideContent) return;
  globalThis.__ringsideContent = true;

  const t0 = performance.now();
  let wasm = true;
  try {
    // The smallest valid module: compiles only if the page's CSP allows wasm.
    new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  } catch (_) {
    wasm = false;
  }

  // What is the page's text to scan, visibility, geometry, slices, labels
  // and the buttons' stylesheet: content_page.js, loaded just before this
  // file in the same isolated world.
  const {
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
  } = globalThis.__ringsidePage;

  // What one request to the worker may hold (core::page_budget checks it):
  // text in UTF-16 units, links, and the longest href considered.
  const BATCH_UNITS = 32 * 1024;
  const BATCH_LINKS = 500;
  const MAX_HREF = 2048;
  // Most text one scan sends (a page of several megabytes is read in part),
  // and most buttons in one frame (a page of 25,000 links gets the first ones).
  const MAX_SCAN_UNITS = 4 * 1024 * 1024;
  const MAX_MARKED = 5000;
  // A scan yields to the page after this much work, so no task runs long.
  const SLICE_MS = 10;
  // Most text nodes in the viewport's own first batch.
  const FRONT_MAX = 150;
  // How long the pointer must rest on a button, unmoved, before a click counts.
  const DWELL_MS = 150;
  // A reloaded or updated extension leaves this script orphaned: sendMessage
  // then throws at once, and runtime.id is gone.
  const alive = () => Boolean(chrome.runtime && chrome.runtime.id);
  const send = (msg) => {
    try {
      return chrome.runtime.sendMessage(msg);
    } catch (e) {
      return Promise.reject(e);
    }
  };
  let scanned = new WeakMap(); // text node -> the data it had when scanned
  let ours = new WeakSet(); // nodes Ringside created
  let observed = new WeakSet(); // roots under observation
  let enabled = false;
  let marked = 0;
  let pending = new Set();
  let idle = 0;
  let observer = null;
  // Bumped when switched off: a scan still waiting for the worker then marks nothing.
  let generation = 0;



  // A walk over `roots` that stops at a deadline and goes on from there:
  // candidate text nodes (at least six digits, not in a skipped element),
  // dial links, and the open shadow roots met on the way (queued, then
  // walked). Plain TreeWalkers with no filter callback: the skip rules are
  // read per ancestor from a cache instead. No layout is read here except,
  // while the walk is still near the viewport, each candidate's parent box
  // (to send the numbers the agent sees first).
  function walk(roots) {
    const queue = [...roots];
    const skipped = skippedFrom(new Map());
    const w = {
      texts: [], // [node, inView]
      links: [],
      done: false,
      // Still looking for the viewport's candidates; closed once the walk
      // has met many candidates below it.
      nearViewport: true,
      step,
    };
    let cur = null;
    let below = 0;
    const queueShadow = (shadow) => {
      if (observed.has(shadow)) return; // already walked, and watched since
      observe(shadow);
      queue.push(shadow);
    };
    function start(root) {
      if (!root.isConnected || insideSkipped(root)) return null;
      if (root.nodeType === Node.TEXT_NODE) {
        consider(root);
        return null;
      }
      if (root.nodeType === Node.ELEMENT_NODE) {
        if (root.tagName === 'A' && LINK.test(root.getAttribute('href') || '')) {
          w.links.push(root);
          return null;
        }
        if (skipElement(root)) return null;
        if (root.shadowRoot) queueShadow(root.shadowRoot);
      }
      return {
        root,
        texts: document.createTreeWalker(root, NodeFilter.SHOW_TEXT),
        elements: document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT),
      };
    }
    function consider(node) {
      const data = node.data;
      if (data.length < 6 || !DIGITS.test(data) || ours.has(node) || scanned.get(node) === data) return;
      const parent = node.parentElement;
      if (!parent || skipped(parent)) return;
      scanned.set(node, data);
      let inView = false;
      if (w.nearViewport) {
        const r = parent.getBoundingClientRect();
        inView = r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
        below = r.top >= innerHeight ? below + 1 : 0;
        if (below > 50) w.nearViewport = false;
      }
      w.texts.push([node, inView]);
    }
    // A walker whose current node the page removed meanwhile starts over
    // from its root (what was seen is skipped quickly: `scanned`).
    const resume = (walker, root) => {
      if (!walker.currentNode.isConnected) walker.currentNode = root;
    };
    function step(deadline) {
      let n = 0;
      while (cur || queue.length) {
        if (!cur) {
          cur = start(queue.shift());
          continue;
        }
        if (!cur.root.isConnected) {
          cur = null;
          continue;
        }
        if (cur.texts) {
          resume(cur.texts, cur.root);
          for (let t = cur.texts.nextNode(); t; t = cur.texts.nextNode()) {
            consider(t);
            if ((++n & 63) === 0 && performance.now() > deadline) return;
          }
          cur.texts = null;
        }
        resume(cur.elements, cur.root);
        for (let e = cur.elements.nextNode(); e; e = cur.elements.nextNode()) {
          if (e.shadowRoot && !skipped(e)) queueShadow(e.shadowRoot);
          if (
            e.tagName === 'A' &&
            w.links.length < MAX_MARKED &&
            LINK.test(e.getAttribute('href') || '') &&
            !(e.parentElement && skipped(e.parentElement))
          ) {
            w.links.push(e);
          }
          if ((++n & 255) === 0 && performance.now() > deadline) return;
        }
        cur = null;
      }
      w.done = true;
    }
    return w;
  }

  // A dial link counts only when the page shows it (hidden, transparent,
  // off-screen and screen-reader-only links are not marked).
  function linkShown(a, size) {
    if (ours.has(a) || a.hidden || a.closest('[hidden]')) return false;
    return shown(a, a.getBoundingClientRect(), size);
  }


  function observe(root) {
    if (!observer || observed.has(root)) return;
    observed.add(root);
    observer.observe(root, { childList: true, subtree: true, characterData: true });
  }

  // A scan, so that no task holds the page for long and the numbers the
  // agent sees come first (issue 20):
  // - the walk runs in slices of SLICE_MS; the candidates found near the
  //   viewport go to the worker at once, in a batch of their own, and are
  //   marked as soon as it answers;
  // - the other candidates go in batches as they fill (the worker detects
  //   while the walk goes on), bounded like every request (BATCH_*, long
  //   text nodes in overlapping slices, at most MAX_SCAN_UNITS a scan);
  // - answers are marked in slices: each reads the page first (is the text
  //   still there and shown?) and then writes, so a slice lays out the page
  //   at most once. Visibility is checked for the numbers found only, just
  //   before their buttons go in.
  async function scan(roots) {
    const gen = generation;
    resetOpacity();
    const w = walk(roots.filter((r) => r.isConnected));
    const ready = []; // [node, hits], complete answers waiting to be marked
    const linkReplies = [];
    const partsLeft = new Map(); // node -> [hits, parts not answered yet]
    let inflight = 0;
    let wake = null;
    const settle = () => {
      if (wake) wake();
      wake = null;
    };
    let total = 0;
    let front = { parts: [], links: [], front: true };
    let frontSize = 0;
    let batch = { parts: [], links: [] };
    let size = 0;
    let frontSent = false;
    const held = []; // batches waiting until the viewport's batch is sent

    function dispatch(b) {
      if (b.parts.length === 0 && b.links.length === 0) return;
      if (!frontSent && !b.front) {
        held.push(b);
        return;
      }
      inflight++;
      send({ type: 'detect', texts: b.parts.map((p) => p.text), links: b.links.map((l) => l.href) })
        .catch(() => null)
        .then((reply) => {
          inflight--;
          if (gen === generation) answered(b, reply);
          settle();
        });
    }
    function sendFront() {
      if (frontSent) return;
      frontSent = true;
      dispatch(front);
      for (const b of held.splice(0)) dispatch(b);
    }
    function add(node, inView) {
      for (const part of slices(node)) {
        if (total + part.text.length > MAX_SCAN_UNITS) return;
        const left = partsLeft.get(node);
        if (left) left[1]++;
        else partsLeft.set(node, [[], 1]);
        total += part.text.length;
        if (inView && !frontSent && front.parts.length < FRONT_MAX && frontSize + part.text.length <= BATCH_UNITS) {
          front.parts.push(part);
          frontSize += part.text.length;
          continue;
        }
        if (size + part.text.length > BATCH_UNITS) {
          dispatch(batch);
          batch = { parts: [], links: [] };
          size = 0;
        }
        batch.parts.push(part);
        size += part.text.length;
      }
    }
    function answered(b, reply) {
      if (!reply || !reply.ok) {
        // Only a missing host is worth asking again; a refusal is final.
        if (!reply || reply.key === 'errHostMissing') retryLater(b);
        for (const p of b.parts) partsLeft.delete(p.node);
        return;
      }
      retryDelay = 0;
      for (const h of reply.result.texts) {
        const part = b.parts[h.i];
        if (!part || h.start < part.from || h.start >= part.to || h.end > part.limit) continue;
        const left = partsLeft.get(part.node);
        if (left) left[0].push({ start: part.base + h.start, end: part.base + h.end, e164: h.e164, extension: h.extension });
      }
      const done = [];
      for (const p of b.parts) {
        const left = partsLeft.get(p.node);
        if (!left || --left[1] > 0) continue;
        partsLeft.delete(p.node);
        if (left[0].length) done.push([p.node, left[0]]);
      }
      // The viewport's numbers go in now, in this task (a few dozen).
      if (b.front) markChecked(done);
      else ready.push(...done);
      if (b.links.length) linkReplies.push([b.links.map((l) => l.a), reply.result.links]);
    }

    // Walk, sending as batches fill; the viewport's batch leaves as soon as
    // the walk is past the viewport or its first slice ends.
    let firstSlice = true;
    while (!w.done) {
      w.step(performance.now() + SLICE_MS);
      if (gen !== generation) return;
      for (const [node, inView] of w.texts.splice(0)) add(node, inView);
      if (!w.nearViewport || firstSlice || w.done) sendFront();
      firstSlice = false;
      if (!w.done) {
        await pause();
        if (gen !== generation) return;
      }
    }
    dispatch(batch);
    sendFront();
    // Links after text: the cap on buttons keeps the page's text numbers.
    let room = MAX_MARKED - marked - partsLeft.size - ready.length;
    let links = { parts: [], links: [] };
    for (const a of w.links) {
      const href = a.getAttribute('href') || '';
      if (href.length > MAX_HREF || ours.has(a)) continue;
      if (room-- <= 0) break;
      if (links.links.length >= BATCH_LINKS) {
        dispatch(links);
        links = { parts: [], links: [] };
      }
      links.links.push({ a, href });
    }
    dispatch(links);
    // Mark the answers as they come, in slices.
    const m = marker(ready);
    while (inflight > 0 || ready.length || m.busy()) {
      if (gen !== generation) return;
      if (!ready.length && !m.busy()) {
        await new Promise((resolve) => {
          wake = resolve;
        });
        continue;
      }
      m.slice(performance.now() + SLICE_MS);
      await pause();
    }
    for (const [anchors, hits] of linkReplies) {
      if (gen !== generation) return;
      const size = pageSize();
      const ok = [];
      for (const h of hits) ok[h.i] = Boolean(anchors[h.i] && anchors[h.i].isConnected && linkShown(anchors[h.i], size));
      markLinks(anchors, hits, ok);
      await pause();
    }
  }

  // Marks the answers waiting in `ready` in slices. Reading (is the text
  // still there, still shown?) takes every answer waiting at once and comes
  // before any writing, so the page is laid out once for many buttons, not
  // once for every few (issue 20: on a 1 MB page each layout after a write
  // cost about 4 ms, and reading after every few buttons made marking
  // several times slower than the buttons themselves).
  function marker(ready) {
    let toRead = [];
    let r = 0;
    const toWrite = [];
    let w = 0;
    return {
      busy: () => r < toRead.length || w < toWrite.length,
      slice(deadline) {
        if (r >= toRead.length && w >= toWrite.length && ready.length) {
          toRead = ready.splice(0);
          r = 0;
          toWrite.length = 0;
          w = 0;
        }
        if (r < toRead.length) {
          const size = pageSize();
          while (r < toRead.length && performance.now() < deadline) {
            const item = toRead[r++];
            if (textShown(item[0], size)) toWrite.push(item);
          }
          if (r < toRead.length) return;
        }
        while (w < toWrite.length && performance.now() < deadline) {
          const [node, hits] = toWrite[w++];
          markTexts(node, hits);
        }
      },
    };
  }

  // Still the text that was scanned, and shown to the agent.
  function textShown(node, size) {
    const parent = node.parentElement;
    return node.isConnected && node.data === scanned.get(node) && parent && shown(parent, textRect(node), size);
  }

  // The viewport's answers, at once: all reads, then all writes.
  function markChecked(done) {
    const size = pageSize();
    for (const [node, hits] of done.filter(([node]) => textShown(node, size))) markTexts(node, hits);
  }



  // The host was not there (not installed yet, restarting): forget these nodes
  // and scan again later, backing off to once a minute.
  let retryDelay = 0;
  let retryTimer = 0;
  function retryLater(b) {
    if (!alive() || !enabled) return;
    for (const p of b.parts) {
      scanned.delete(p.node);
      pending.add(p.node);
    }
    for (const l of b.links) pending.add(l.a);
    if (retryTimer) return;
    retryDelay = Math.min(retryDelay ? retryDelay * 2 : 2000, 60000);
    retryTimer = setTimeout(() => {
      retryTimer = 0;
      flushPending();
    }, retryDelay);
  }

  // Hits for one node, marked right to left so earlier offsets stay valid.
  function markTexts(node, hits) {
    if (!node.isConnected || node.data !== scanned.get(node)) return;
    hits.sort((x, y) => y.start - x.start);
    let limit = Infinity;
    for (const h of hits) {
      if (marked >= MAX_MARKED) break;
      if (h.end > limit) continue; // overlaps one already marked
      limit = h.start;
      const tail = node.splitText(h.end);
      const numberNode = node.splitText(h.start);
      for (const n of [node, numberNode, tail]) {
        ours.add(n);
        scanned.set(n, n.data);
      }
      numberNode.after(button(h.e164, h.extension, numberNode.data.trim(), null, numberNode));
    }
  }

  // `ok[i]`: anchors[i] is still there and shown (read before any write).
  function markLinks(anchors, hits, ok) {
    for (const h of hits) {
      if (marked >= MAX_MARKED) break;
      const a = anchors[h.i];
      if (!a || !ok[h.i] || !a.isConnected || ours.has(a)) continue;
      ours.add(a);
      const target = h.target;
      const display = ((a.textContent || '').trim() || target.e164 || target.uri).slice(0, 64);
      a.after(
        target.kind === 'sip'
          ? button(null, null, display, target.uri, a)
          : button(target.e164, target.extension, display, null, a),
      );
    }
  }


  // Each button's own facts, kept in the isolated world (never in the page).
  const facts = new WeakMap(); // button -> { host, shadow, anchor, enter, focusByAgent, msg }

  // Where the agent's last Tab went: keyboard focus that the agent moved
  // (listened to only while switched on).
  let lastTab = -Infinity;
  const onKeydown = (ev) => {
    if (ev.isTrusted && ev.key === 'Tab') lastTab = performance.now();
  };

  // Intersection Observer v2 (Chromium): whether the browser itself saw the
  // button unobscured, untransformed and opaque (across frames too). Made
  // when switched on, before any button.
  const seen = new WeakMap(); // host -> latest isVisible && in view
  const IO_V2 = 'isVisible' in (globalThis.IntersectionObserverEntry ? IntersectionObserverEntry.prototype : {});
  let io = null;


  // Whether a click on `b` is the agent's, on the button they see, where
  // Ringside put it. Anything else does nothing, with no sign to the page.
  function honest(ev, b) {
    const f = facts.get(b);
    if (!ev.isTrusted || !f || !f.host.isConnected || !f.anchor.isConnected) return false;
    const box = b.getBoundingClientRect();
    // Its normal size: an ancestor's transform or zoom changes it.
    if (!near(box.width, SIZE, SIZE * 0.2) || !near(box.height, SIZE, SIZE * 0.2)) return false;
    // Visible: rendered, opaque, not hidden (as drawn, through every ancestor).
    resetOpacity();
    if (!shown(f.host, box) || drawnOpacity(f.host) < 0.95) return false;
    // Still beside the number it was made for.
    const rects = anchorRects(f.anchor);
    if (!rects.length || Math.min(...rects.map((r) => gap(r, box))) > SIZE * 1.5) return false;
    // Unobscured, as the browser itself judged it.
    if (io && seen.get(f.host) !== true) return false;
    if (ev.detail > 0) {
      // A pointer click: on this button, topmost at that point, after the
      // pointer rested on it and the button did not move meanwhile.
      if (document.elementFromPoint(ev.clientX, ev.clientY) !== f.host) return false;
      if (ev.clientX < box.left || ev.clientX > box.right || ev.clientY < box.top || ev.clientY > box.bottom) return false;
      if (!f.enter || performance.now() - f.enter.t < DWELL_MS || !sameRect(f.enter.rect, box)) return false;
      return true;
    }
    // The keyboard: the focus is on this button and the agent put it there.
    return f.shadow.activeElement === b && f.focusByAgent;
  }

  function guard(b) {
    b.addEventListener('pointerenter', (ev) => {
      const f = facts.get(b);
      if (f && ev.isTrusted) f.enter = { t: performance.now(), rect: b.getBoundingClientRect() };
    });
    b.addEventListener('pointerleave', () => {
      const f = facts.get(b);
      if (f) f.enter = null;
    });
    b.addEventListener('focus', () => {
      const f = facts.get(b);
      if (!f) return;
      const byPointer = f.enter && performance.now() - f.enter.t < 10000;
      f.focusByAgent = performance.now() - lastTab < 1000 || Boolean(byPointer);
    });
    b.addEventListener('blur', () => {
      const f = facts.get(b);
      if (f) f.focusByAgent = false;
    });
    b.addEventListener('click', onClick);
  }


  function button(e164, extension, display, uri, anchor) {
    const host = document.createElement(TAG);
    ours.add(host);
    // Closed: the page cannot reach the buttons, their labels or their focus.
    const shadow = host.attachShadow({ mode: 'closed' });
    shadow.adoptedStyleSheets = [buttonSheet()];
    const add = (path, labelKey, msg) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.append(icon(path)); // decorative: the accessible name says what it does
      // The number as the page wrote it, nothing more: no contact data enters a page.
      const label = message(labelKey, display);
      b.setAttribute('aria-label', label);
      b.title = label;
      facts.set(b, { host, shadow, anchor, enter: null, focusByAgent: false, msg });
      guard(b);
      shadow.append(b);
    };
    add(PHONE_PATH, 'callButtonLabel', { type: 'dial', number: e164 || null, uri: uri || null, extension: extension || null, display });
    // Beside it: the other party's context in the side panel.
    if (e164) add(PERSON_PATH, 'showContactLabel', { type: 'contact.show', number: e164 });
    host.dataset.e164 = e164 || uri || '';
    if (io) io.observe(host);
    marked++;
    return host;
  }

  // The one click handler of every button: an honest click sends the
  // button's message; a refusal is said beside the button.
  function onClick(ev) {
    const b = ev.currentTarget;
    ev.preventDefault();
    ev.stopPropagation();
    if (!enabled || !honest(ev, b)) return;
    const f = facts.get(b);
    send(f.msg)
      .then((reply) => {
        if (reply && !reply.ok) toast(f.host, reply.message);
      })
      .catch(() => toast(f.host, chrome.i18n.getMessage('errExtensionReloaded')));
  }


  // A short message beside the button, announced to screen readers.
  function toast(anchor, message) {
    const host = document.createElement(TAG);
    ours.add(host);
    const shadow = host.attachShadow({ mode: 'closed' });
    const box = document.createElement('span');
    box.setAttribute('role', 'alert');
    box.textContent = message;
    box.style.cssText =
      'all:initial;display:inline-block;font:12px/1.4 system-ui,sans-serif;background:#fce8e6;' +
      'color:#8c1d18;border:1px solid #f2b8b5;border-radius:4px;padding:2px 6px;margin-inline-start:4px;max-width:28em';
    shadow.append(box);
    host.dataset.ringsideToast = '';
    anchor.after(host);
    setTimeout(() => host.remove(), 8000);
  }

  function unmark() {
    const walk = (root) => {
      for (const el of root.querySelectorAll(TAG)) el.remove();
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
    };
    walk(document);
    marked = 0;
  }

  function onMutations(records) {
    if (!enabled) return;
    for (const r of records) {
      if (r.type === 'characterData') {
        if (!ours.has(r.target)) pending.add(r.target);
        continue;
      }
      for (const n of r.addedNodes) if (!ours.has(n)) pending.add(n);
    }
    if (pending.size && !idle) {
      idle = requestIdleCallback(flushPending, { timeout: 500 });
    }
  }

  function flushPending() {
    idle = 0;
    const roots = [...pending];
    pending = new Set();
    if (enabled) scan(roots).catch(() => {});
  }

  // Switched on: watch the page and scan all of it.
  function switchOn() {
    enabled = true;
    addEventListener('keydown', onKeydown, true);
    if (IO_V2 && !io) {
      io = new IntersectionObserver(
        (entries) => {
          for (const e of entries) seen.set(e.target, e.isVisible && e.intersectionRatio > 0.5);
        },
        { threshold: [0, 0.5, 1], trackVisibility: true, delay: 100 },
      );
    }
    observer = new MutationObserver(onMutations);
    observe(document.documentElement);
    return scan([document.documentElement]);
  }

  // Switched off: no observer, listener, timer or queue is left working, and
  // the buttons go; what was scanned is forgotten, to be scanned again.
  function switchOff() {
    enabled = false;
    generation++;
    removeEventListener('keydown', onKeydown, true);
    if (observer) observer.disconnect();
    observer = null;
    observed = new WeakSet();
    if (io) io.disconnect();
    if (idle) cancelIdleCallback(idle);
    idle = 0;
    clearTimeout(retryTimer);
    retryTimer = 0;
    retryDelay = 0;
    pending = new Set();
    unmark();
    scanned = new WeakMap();
    ours = new WeakSet();
  }

  async function start() {
    let hello;
    try {
      hello = await send({ type: 'content.hello', wasm });
    } catch (_) {
      return; // the extension was reloaded or updated under this page
    }
    if (!(hello && hello.enabled) || enabled) return;
    await switchOn();
    send({ type: 'content.scanned', ms: performance.now() - t0, marked }).catch(() => {});
  }

  chrome.runtime.onMessage.addListener((msg) => {
    if (!msg || msg.type !== 'content.enabled') return;
    if (msg.enabled && !enabled) {
      switchOn().catch(() => {});
    } else if (!msg.enabled && enabled) {
      switchOff();
    }
  });

  start();
})();
