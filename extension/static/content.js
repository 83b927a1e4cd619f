// Content script: plain JS on purpose. WebAssembly in a content script obeys
// the page's CSP and fails on pages with `script-src 'self'`, so this file only
// walks the DOM, ships candidate text to the service worker (which asks the
// native host's Rust detector), and places call buttons where numbers were
// found. No detection logic lives here (docs/architecture.md).
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

  const TAG = 'ringside-call';
  const SKIP = new Set([
    'INPUT', 'TEXTAREA', 'SELECT', 'OPTION', 'SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE',
    'BUTTON', 'CODE', 'PRE', 'HEAD', 'TITLE', 'IFRAME', 'OBJECT', 'SVG', 'MATH',
    TAG.toUpperCase(),
  ]);
  const LINK = /^\s*(tel|callto|sips?):/i;
  // At least six digits: shorter text cannot hold a number the detector accepts.
  const DIGITS = /(?:\d\D{0,3}){6}/;
  const BATCH_CHARS = 64 * 1024;
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
  const observed = new WeakSet(); // roots under observation
  let enabled = false;
  let marked = 0;
  let pending = new Set();
  let idle = 0;
  let observer = null;

  const skipElement = (el) =>
    SKIP.has(el.tagName.toUpperCase()) ||
    el.isContentEditable ||
    el.hidden ||
    el.hasAttribute('data-ringside-ignore') ||
    (el.tagName === 'A' && LINK.test(el.getAttribute('href') || ''));

  // Collects candidate text nodes and dial links under `root`; enters open shadow roots.
  function collect(root, texts, links) {
    if (root.nodeType === Node.TEXT_NODE) {
      const p = root.parentElement;
      if (p && !p.closest('[data-ringside-ignore],[contenteditable=""],[contenteditable=true]')) {
        consider(root, texts);
      }
      return;
    }
    if (root.nodeType === Node.ELEMENT_NODE) {
      if (root.closest && root.closest('[data-ringside-ignore]')) return;
      if (root.tagName === 'A' && LINK.test(root.getAttribute('href') || '')) {
        if (!ours.has(root)) links.push(root);
        return;
      }
      if (skipElement(root) || root.isContentEditable) return;
      if (root.shadowRoot) visitShadow(root.shadowRoot, texts, links);
    }
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
      acceptNode(n) {
        if (n.nodeType === Node.TEXT_NODE) return NodeFilter.FILTER_ACCEPT;
        if (ours.has(n)) return NodeFilter.FILTER_REJECT;
        if (n.tagName === 'A' && LINK.test(n.getAttribute('href') || '')) {
          links.push(n);
          return NodeFilter.FILTER_REJECT;
        }
        if (skipElement(n)) return NodeFilter.FILTER_REJECT;
        if (n.shadowRoot) visitShadow(n.shadowRoot, texts, links);
        return NodeFilter.FILTER_SKIP;
      },
    });
    for (let n = walker.nextNode(); n; n = walker.nextNode()) consider(n, texts);
  }

  // Visibility is read while collecting, before this scan writes to the DOM,
  // so style is computed once per scan rather than once per marked batch.
  function consider(node, texts) {
    const data = node.data;
    if (ours.has(node) || scanned.get(node) === data) return;
    scanned.set(node, data);
    if (data.length >= 6 && DIGITS.test(data) && node.parentElement && visible(node.parentElement)) {
      texts.push(node);
    }
  }

  function visitShadow(shadow, texts, links) {
    observe(shadow);
    collect(shadow, texts, links);
  }

  function observe(root) {
    if (!observer || observed.has(root)) return;
    observed.add(root);
    observer.observe(root, { childList: true, subtree: true, characterData: true });
  }

  // Sends candidates in batches, all in flight at once (the host answers them
  // in order), then marks everything in one go: marking between replies would
  // make the browser lay out the page again before each next reply is read
  // (on a 1 MB page that tripled the time).
  async function scan(roots) {
    const texts = [];
    const links = [];
    for (const r of roots) if (r.isConnected) collect(r, texts, links);
    if (texts.length === 0 && links.length === 0) return;
    const batches = [];
    let batch = [];
    let size = 0;
    for (const n of texts) {
      batch.push(n);
      size += n.data.length;
      if (size >= BATCH_CHARS) {
        batches.push(batch);
        batch = [];
        size = 0;
      }
    }
    batches.push(batch);
    const replies = await Promise.all(
      batches.map((nodes, k) => {
        const linkNodes = k === batches.length - 1 ? links : [];
        return send({
          type: 'detect',
          texts: nodes.map((n) => n.data),
          links: linkNodes.map((a) => a.getAttribute('href')),
        })
          .catch(() => null)
          .then((reply) => ({ nodes, linkNodes, reply }));
      }),
    );
    for (const { nodes, linkNodes, reply } of replies) {
      if (!reply || !reply.ok) {
        retryLater(nodes, linkNodes);
        continue;
      }
      retryDelay = 0;
      // Names the worker knows from the agent's synced contacts, by E.164.
      const names = reply.result.names || {};
      markTexts(nodes, reply.result.texts, names);
      markLinks(linkNodes, reply.result.links, names);
    }
  }

  // The host was not there (not installed yet, restarting): forget these nodes
  // and scan again later, backing off to once a minute.
  let retryDelay = 0;
  let retryTimer = 0;
  function retryLater(nodes, linkNodes) {
    if (!alive()) return;
    for (const n of nodes) scanned.delete(n);
    for (const a of linkNodes) pending.add(a);
    for (const n of nodes) pending.add(n);
    if (retryTimer) return;
    retryDelay = Math.min(retryDelay ? retryDelay * 2 : 2000, 60000);
    retryTimer = setTimeout(() => {
      retryTimer = 0;
      flushPending();
    }, retryDelay);
  }

  function visible(el) {
    return el.checkVisibility ? el.checkVisibility() : el.getClientRects().length > 0;
  }

  function markTexts(nodes, hits, names) {
    // Right to left within a node, so earlier offsets stay valid while splitting.
    for (let k = hits.length - 1; k >= 0; k--) {
      const h = hits[k];
      const node = nodes[h.i];
      if (!node || !node.isConnected || node.data !== scanned.get(node)) continue;
      const tail = node.splitText(h.end);
      const numberNode = node.splitText(h.start);
      for (const n of [node, numberNode, tail]) {
        ours.add(n);
        scanned.set(n, n.data);
      }
      numberNode.after(button(h.e164, h.extension, numberNode.data.trim(), null, names[h.e164]));
    }
  }

  function markLinks(anchors, hits, names) {
    for (const h of hits) {
      const a = anchors[h.i];
      if (!a || !a.isConnected || ours.has(a)) continue;
      ours.add(a);
      const target = h.target;
      const display = (a.textContent || '').trim() || target.e164 || target.uri;
      a.after(
        target.kind === 'sip'
          ? button(null, null, display, target.uri)
          : button(target.e164, target.extension, display, null, names[target.e164]),
      );
    }
  }

  function button(e164, extension, display, uri, name) {
    const host = document.createElement(TAG);
    ours.add(host);
    const shadow = host.attachShadow({ mode: 'open' });
    shadow.adoptedStyleSheets = [buttonSheet()];
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = '\u260E'; // ☎, decorative: the accessible name says what it does
    const label = name
      ? chrome.i18n.getMessage('callContactNumber', [name, display])
      : chrome.i18n.getMessage('callButtonLabel', [display]);
    b.setAttribute('aria-label', label);
    b.title = label;
    b.addEventListener('click', (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
      // Only the agent's own click (mouse or keyboard) may start a call.
      if (!ev.isTrusted) return;
      send({ type: 'dial', number: e164 || null, uri: uri || null, extension: extension || null, display })
        .then((reply) => {
          if (reply && !reply.ok) toast(b, reply.message);
        })
        .catch(() => toast(b, chrome.i18n.getMessage('errExtensionReloaded')));
    });
    shadow.append(b);
    if (e164) {
      // Beside it: the other party's context in the side panel.
      const c = document.createElement('button');
      c.type = 'button';
      c.textContent = '\u{1F464}'; // 👤, decorative
      const clabel = chrome.i18n.getMessage('showContactLabel', [display]);
      c.setAttribute('aria-label', clabel);
      c.title = clabel;
      c.addEventListener('click', (ev) => {
        ev.preventDefault();
        ev.stopPropagation();
        if (!ev.isTrusted) return;
        send({ type: 'contact.show', number: e164 })
          .then((reply) => {
            if (reply && !reply.ok) toast(c, reply.message);
          })
          .catch(() => toast(c, chrome.i18n.getMessage('errExtensionReloaded')));
      });
      shadow.append(c);
    }
    host.dataset.e164 = e164 || uri || '';
    marked++;
    return host;
  }

  // One stylesheet shared by every button's shadow root.
  let sheet = null;
  function buttonSheet() {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(
        ':host{all:initial;display:inline-block;vertical-align:baseline;margin-inline-start:.2em}' +
          'button{all:initial;cursor:pointer;font:inherit;font-size:.9em;line-height:1;padding:0 .15em;' +
          'border-radius:.25em;color:#0b57d0}' +
          'button:hover{background:#e8f0fe}button:focus-visible{outline:2px solid #0b57d0;outline-offset:1px}',
      );
    }
    return sheet;
  }

  // A short message beside the button, announced to screen readers.
  function toast(anchor, message) {
    const host = document.createElement(TAG);
    ours.add(host);
    const shadow = host.attachShadow({ mode: 'open' });
    const box = document.createElement('span');
    box.setAttribute('role', 'alert');
    box.textContent = message;
    box.style.cssText =
      'all:initial;display:inline-block;font:12px/1.4 system-ui,sans-serif;background:#fce8e6;' +
      'color:#8c1d18;border:1px solid #f2b8b5;border-radius:4px;padding:2px 6px;margin-inline-start:4px;max-width:28em';
    shadow.append(box);
    host.dataset.ringsideToast = '';
    anchor.getRootNode().host.after(host);
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

  async function start() {
    let hello;
    try {
      hello = await send({ type: 'content.hello', wasm });
    } catch (_) {
      return; // the extension was reloaded or updated under this page
    }
    enabled = !!(hello && hello.enabled);
    if (!enabled) return;
    observer = new MutationObserver(onMutations);
    observe(document.documentElement);
    await scan([document.documentElement]);
    send({ type: 'content.scanned', ms: performance.now() - t0, marked }).catch(() => {});
  }

  chrome.runtime.onMessage.addListener((msg) => {
    if (!msg || msg.type !== 'content.enabled') return;
    if (msg.enabled && !enabled) {
      enabled = true;
      if (!observer) {
        observer = new MutationObserver(onMutations);
        observe(document.documentElement);
      }
      // Scan everything again: what was scanned while switched off was not marked.
      unmark();
      scanned = new WeakMap();
      ours = new WeakSet();
      scan([document.documentElement]).catch(() => {});
    } else if (!msg.enabled && enabled) {
      enabled = false;
      unmark();
    }
  });

  start();
})();
