// Page script of numbers.html / numbers.strict.html (an external file, so it
// runs under `script-src 'self'` too): builds an open shadow root and adds
// rows after load, the way single-page apps do.
const host = document.getElementById('shadow-host');
const shadow = host.attachShadow({ mode: 'open' });
shadow.innerHTML = '<p>Shadow support line: +33 6 12 34 56 78</p>';

setTimeout(() => {
  const row = document.createElement('tr');
  row.innerHTML = '<td>Sydney (added later)</td><td>+61 2 1234 5678</td>';
  document.getElementById('contacts').append(row);
  document.body.dataset.rowsAdded = 'yes';
}, 400);

// A page script trying to start a call by itself: synthetic clicks on the
// element Ringside added, on what is drawn at its place, and on a button in
// its shadow root if the page could reach one.
window.syntheticClick = () => {
  const hostEl = document.querySelector('ringside-call');
  if (!hostEl) return { host: false, button: false };
  hostEl.click();
  const r = hostEl.getBoundingClientRect();
  const at = document.elementFromPoint(r.left + 5, r.top + r.height / 2);
  if (at) at.dispatchEvent(new MouseEvent('click', { bubbles: true, composed: true, clientX: r.left + 5, clientY: r.top + 5 }));
  const button = hostEl.shadowRoot && hostEl.shadowRoot.querySelector('button');
  if (button) button.click();
  return { host: true, button: Boolean(button) };
};
