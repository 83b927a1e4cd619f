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

// A page script trying to start a call by itself: a synthetic click.
window.syntheticClick = () => {
  const hostEl = document.querySelector('ringside-call');
  const button = hostEl && hostEl.shadowRoot && hostEl.shadowRoot.querySelector('button');
  if (button) button.click();
  return !!button;
};
