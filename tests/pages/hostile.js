// What a hostile page does to Ringside's buttons (tests/e2e/hostile.test.mjs).
// Each attack returns what the page could observe.
const hosts = () => [...document.querySelectorAll('ringside-call')];

window.ringsideMarked = () => hosts().map((h) => h.dataset.e164);

window.attack = (kind) => {
  const host = document.querySelector('#real ringside-call');
  if (!host) return { found: false };
  const claim = document.getElementById('claim');
  const c = claim ? claim.getBoundingClientRect() : null;
  switch (kind) {
    // Restyle the button's element to cover the whole viewport, invisible.
    case 'restyle':
      host.setAttribute(
        'style',
        'position:fixed !important;inset:0 !important;width:100vw !important;height:100vh !important;' +
          'opacity:0 !important;z-index:2147483647 !important;display:block !important;transform:scale(50) !important',
      );
      break;
    // Move it into a transparent, magnified layer over the whole page.
    case 'cover': {
      const layer = document.createElement('div');
      layer.style.cssText =
        'position:fixed;inset:0;opacity:0.01;z-index:2147483647;display:flex;align-items:center;justify-content:center;transform:scale(40)';
      document.body.append(layer);
      layer.append(host);
      break;
    }
    // Keep it beside its number, but make the paragraph nearly transparent
    // and lay it over the page's own "Claim" button.
    case 'transparent': {
      const p = document.getElementById('real');
      const b = host.getBoundingClientRect();
      const pr = p.getBoundingClientRect();
      p.style.cssText = `position:absolute;margin:0;opacity:0.02;z-index:10;left:${c.left + c.width / 2 - (b.left - pr.left) - b.width / 4}px;top:${c.top + c.height / 2 - (b.top - pr.top) - b.height / 2}px`;
      break;
    }
    // Leave it in place and lay an opaque decoy over it that lets clicks through.
    case 'decoy': {
      const b = host.getBoundingClientRect();
      const d = document.createElement('div');
      d.textContent = 'Play';
      d.style.cssText = `position:absolute;left:${b.left + scrollX - 30}px;top:${b.top + scrollY - 15}px;width:${b.width + 60}px;height:${b.height + 30}px;background:#c00;color:#fff;pointer-events:none;z-index:10`;
      d.id = 'decoy';
      document.body.append(d);
      break;
    }
    // Try to give Ringside's button the keyboard focus.
    case 'focus': {
      host.tabIndex = 0;
      host.focus();
      const inner = host.shadowRoot && host.shadowRoot.querySelector('button');
      if (inner) inner.focus();
      break;
    }
    default:
      return { found: true, unknown: kind };
  }
  const r = host.getBoundingClientRect();
  return {
    found: true,
    shadowRoot: Boolean(host.shadowRoot),
    width: Math.round(r.width),
    height: Math.round(r.height),
    active: document.activeElement === host,
  };
};
