// The detection bench's page: about 1 MB of HTML with about 2,000 phone
// numbers (FR written nationally, as a French agent's pages would; FR, DE, GB,
// US, ES, IT, NL, CH, AU, BE internationally, in mixed formats) among
// lookalikes: dates, times, prices, IP addresses, ISBNs, card numbers, order
// and ticket ids, versions, digits glued to words. Deterministic: the same seed
// gives the same page. `expected` lists the E.164 of every number a reader
// would call, in document order; numbers placed only inside elements that
// nobody should mark (script, style, code, inputs) are not in it.

/** mulberry32: a small seeded PRNG, enough for test data. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generatePage({ seed = 20241122, numbers = 2000, targetBytes = 1_000_000 } = {}) {
  const r = rng(seed);
  const int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const digits = (n) => Array.from({ length: n }, () => int(0, 9)).join('');
  const pad = (n, w) => String(n).padStart(w, '0');
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

  // ---- phone numbers: each maker returns { text, e164 } -------------------
  // Ranges are ones libphonenumber's metadata calls valid (fixed lines and
  // mobiles), so both detectors agree on what a real number is.
  const pairs = (s) => s.match(/../g).join(' ');
  const fr = () => {
    // 1-5 geographic, 6 and 7 mobile, 9 VoIP.
    const first = pick(['1', '2', '3', '4', '5', '6', '6', '7', '9']);
    let rest;
    if (first === '6') rest = pick(['0', '1', '2', '4', '5', '6', '7', '8']) + digits(7);
    else if (first === '7') rest = String(int(3, 8)) + digits(7);
    else if (first === '9') rest = String(int(1, 8)) + digits(7);
    // Not 026x or 059x: those belong to overseas departments' own country codes.
    else rest = String(pick(first === '2' || first === '5' ? [1, 2, 3, 4, 5, 7, 8] : [1, 2, 3, 4, 5, 6, 7, 8, 9])) + digits(7);
    const nsn = first + rest; // 9 digits
    const e164 = `+33${nsn}`;
    const national = `0${nsn}`;
    const text = pick([
      () => pairs(national),
      () => pairs(national),
      () => pairs(national),
      () => pairs(national).replace(/ /g, '.'),
      () => national,
      () => pairs(national).replace(/ /g, '-'),
      () => `+33 ${first} ${pairs(rest)}`,
      () => `+33 (0)${first} ${pairs(rest)}`,
      () => `+33${nsn}`,
      () => `0033 ${first} ${pairs(rest)}`,
    ])();
    return { text, e164 };
  };
  const de = () => {
    const kind = pick(['berlin', 'munich', 'hamburg', 'mobile']);
    let area, sub;
    if (kind === 'berlin') [area, sub] = ['30', String(int(2, 9)) + digits(7)];
    else if (kind === 'munich') [area, sub] = ['89', String(int(2, 9)) + digits(7)];
    else if (kind === 'hamburg') [area, sub] = ['40', String(int(2, 9)) + digits(7)];
    else [area, sub] = [pick(['151', '160', '170', '171', '176']), digits(8)];
    const e164 = `+49${area}${sub}`;
    const text = pick([
      () => `+49 ${area} ${sub}`,
      () => `+49 (0)${area} ${sub}`,
      () => `+49-${area}-${sub}`,
      () => `+49 ${area} ${sub.slice(0, 4)} ${sub.slice(4)}`,
    ])();
    return { text, e164 };
  };
  const gb = () => {
    const kind = pick(['london', 'manchester', 'mobile']);
    let parts;
    if (kind === 'london') parts = ['20', '7946', `0${digits(3)}`];
    else if (kind === 'manchester') parts = ['161', '496', `0${digits(3)}`];
    else parts = [`7${pick(['400', '500', '800', '900'])}`, String(int(1, 9)) + digits(5)];
    const nsn = parts.join('');
    const text = pick([
      () => `+44 ${parts.join(' ')}`,
      () => `+44 (0)${parts.join(' ')}`,
      () => `+44${nsn}`,
    ])();
    return { text, e164: `+44${nsn}` };
  };
  const us = () => {
    const area = pick(['201', '212', '213', '305', '312', '404', '415', '512', '617', '646', '702', '206']);
    let exch;
    do exch = String(int(2, 9)) + digits(2);
    while (exch.endsWith('11'));
    const line = digits(4);
    const text = pick([
      () => `+1 (${area}) ${exch}-${line}`,
      () => `+1 ${area}-${exch}-${line}`,
      () => `+1.${area}.${exch}.${line}`,
      () => `+1 ${area} ${exch} ${line}`,
    ])();
    return { text, e164: `+1${area}${exch}${line}` };
  };
  const es = () => {
    const nsn = pick([() => `6${digits(8)}`, () => `91${String(int(1, 9))}${digits(6)}`])();
    return { text: `+34 ${nsn.slice(0, 3)} ${nsn.slice(3, 5)} ${nsn.slice(5, 7)} ${nsn.slice(7)}`, e164: `+34${nsn}` };
  };
  const it = () => {
    const nsn = pick([() => `02${String(int(2, 9))}${digits(7)}`, () => `06${String(int(2, 9))}${digits(7)}`, () => `34${String(int(0, 9))}${digits(7)}`])();
    return { text: `+39 ${nsn.slice(0, 2)} ${nsn.slice(2, 6)} ${nsn.slice(6)}`, e164: `+39${nsn}` };
  };
  const nl = () => {
    const nsn = pick([() => `20${String(int(2, 9))}${digits(6)}`, () => `6${String(int(1, 5))}${digits(7)}`])();
    return { text: `+31 ${nsn.slice(0, 2)} ${nsn.slice(2, 5)} ${nsn.slice(5)}`, e164: `+31${nsn}` };
  };
  const ch = () => {
    const nsn = `${pick(['44', '43', '22', '31', '79', '78'])}${String(int(2, 9))}${digits(6)}`;
    return { text: `+41 ${nsn.slice(0, 2)} ${nsn.slice(2, 5)} ${nsn.slice(5, 7)} ${nsn.slice(7)}`, e164: `+41${nsn}` };
  };
  const au = () => {
    const nsn = pick([() => `2${pick(['8', '9'])}${digits(7)}`, () => `3${pick(['8', '9'])}${digits(7)}`, () => `4${pick(['0', '1', '2'])}${digits(7)}`])();
    return { text: `+61 ${nsn.slice(0, 1)} ${nsn.slice(1, 5)} ${nsn.slice(5)}`, e164: `+61${nsn}` };
  };
  const be = () => {
    const nsn = `4${pick(['70', '75', '77', '78', '79', '85', '86', '87', '88', '89'])}${digits(6)}`;
    return { text: `+32 ${nsn.slice(0, 3)} ${nsn.slice(3, 5)} ${nsn.slice(5, 7)} ${nsn.slice(7)}`, e164: `+32${nsn}` };
  };
  // Weights: a French agent's pages, with plenty of foreign numbers.
  const makers = [
    ...Array(8).fill(fr), ...Array(3).fill(de), ...Array(3).fill(gb), ...Array(3).fill(us),
    es, it, nl, ch, au, be,
  ];
  const phone = () => pick(makers)();

  // ---- lookalikes: digit runs a reader would never call ------------------
  const luhnDigit = (body) => {
    let sum = 0;
    for (let i = 0; i < body.length; i++) {
      let v = Number(body[body.length - 1 - i]);
      if (i % 2 === 0) {
        v *= 2;
        if (v > 9) v -= 9;
      }
      sum += v;
    }
    return String((10 - (sum % 10)) % 10);
  };
  const isbn13 = () => {
    const body = `978${digits(9)}`;
    let sum = 0;
    for (let i = 0; i < 12; i++) sum += Number(body[i]) * (i % 2 ? 3 : 1);
    const d = body + ((10 - (sum % 10)) % 10);
    return pick([
      () => `ISBN ${d.slice(0, 3)}-${d[3]}-${d.slice(4, 7)}-${d.slice(7, 12)}-${d[12]}`,
      () => `ISBN ${d}`,
      () => `ISBN-13: ${d.slice(0, 3)}-${d.slice(3, 12)}-${d[12]}`,
    ])();
  };
  const card = () => {
    const body = pick(['4', '51', '52', '55']);
    const payload = body + digits(15 - body.length);
    const n = payload + luhnDigit(payload);
    return pick([() => `card ${n.match(/..../g).join(' ')}`, () => `Visa ${n.match(/..../g).join('-')}`, () => `carte ${n}`])();
  };
  const date = () => {
    const [y, m, d] = [int(1990, 2030), int(1, 12), int(1, 28)];
    return pick([
      () => `${y}-${pad(m, 2)}-${pad(d, 2)}`,
      () => `${pad(d, 2)}/${pad(m, 2)}/${y}`,
      () => `${pad(d, 2)}.${pad(m, 2)}.${y}`,
      () => `${pad(m, 2)}/${pad(d, 2)}/${y}`,
      () => `${y}${pad(m, 2)}${pad(d, 2)}`,
      () => `${y}-${pad(m, 2)}-${pad(d, 2)} ${pad(int(0, 23), 2)}:${pad(int(0, 59), 2)}`,
    ])();
  };
  const time = () =>
    pick([
      () => `${pad(int(7, 12), 2)}:${pick(['00', '15', '30', '45'])}–${pad(int(13, 19), 2)}:${pick(['00', '30'])}`,
      () => `${int(8, 20)}h${pick(['00', '15', '30', '45'])}`,
      () => `${pad(int(0, 23), 2)}:${pad(int(0, 59), 2)}:${pad(int(0, 59), 2)}`,
    ])();
  const price = () =>
    pick([
      () => `${int(1, 9)} ${pad(int(0, 999), 3)},${pad(int(0, 99), 2)} €`,
      () => `$${int(1, 99)},${pad(int(0, 999), 3)}.${pad(int(0, 99), 2)}`,
      () => `${int(10, 99)}.${pad(int(0, 999), 3)},${pad(int(0, 99), 2)} EUR`,
      () => `£${int(1, 9)},${pad(int(0, 999), 3)},${pad(int(0, 999), 3)}.00`,
      () => `€ ${int(1, 999)},${pad(int(0, 99), 2)}`,
      () => `${int(100, 999)} ${pad(int(0, 999), 3)} ${pad(int(0, 999), 3)} FCFA`,
    ])();
  const ip = () => pick([() => `${int(10, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`, () => `192.168.${int(0, 255)}.${int(1, 254)}`])();
  const version = () =>
    pick([
      () => `v${int(1, 20)}.${int(0, 9)}.${int(10000, 99999)}.${int(1, 999)}`,
      () => `version ${int(1, 9)}.${int(0, 99)}.${int(1000000, 9999999)}`,
      () => `build ${int(2015, 2025)}.${pad(int(1, 12), 2)}.${pad(int(1, 28), 2)}.${int(1000, 9999)}`,
    ])();
  const ident = () =>
    pick([
      () => `Order #${digits(9)}`,
      () => `Order #0${int(1, 7)}${digits(8)}`,
      () => `commande n° 0${int(1, 7)}${digits(8)}`,
      () => `Ticket #${int(2, 9)}${digits(9)}`,
      () => `invoice ${digits(8)}`,
      () => `Rechnung ${int(1, 9)}${digits(9)}`,
      () => `tracking ${int(1, 9)}${digits(11)}`,
      () => `dossier ${int(2015, 2025)}-${digits(7)}`,
      () => `IBAN FR76 ${digits(4)} ${digits(4)} ${digits(4)} ${digits(4)} ${digits(4)} ${digits(3)}`,
      () => `SIRET ${digits(3)} ${digits(3)} ${digits(3)} ${digits(5)}`,
    ])();
  const glued = () =>
    pick([
      () => `ABC${digits(10)}`,
      () => `0${int(1, 7)}${digits(8)}XYZ`,
      () => `id=33${int(1, 7)}${digits(8)}`,
      () => `SKU-49${digits(8)}`,
      () => `user${digits(9)}`,
      () => `${digits(10)}${digits(10)}`,
    ])();
  const misc = () =>
    pick([
      () => `pages ${int(100, 999)}-${int(1000, 1999)}`,
      () => `${int(1990, 2010)}–${int(2011, 2025)}`,
      () => `${int(1, 99)} ${pad(int(0, 999), 3)} ${pad(int(0, 999), 3)} visitors`,
      () => `${int(40, 52)}.${digits(4)}, ${int(1, 9)}.${digits(4)}`,
      () => `${int(1, 99)},${int(0, 9)} %`,
      () => `${int(10, 999)} km`,
    ])();
  const lookalikes = [date, date, time, price, price, ip, isbn13, card, version, ident, ident, ident, glued, glued, misc, misc];
  const lookalike = () => pick(lookalikes)();

  // ---- filler prose -------------------------------------------------------
  const words = (
    'the agent team office support customer contract delivery service account renewal meeting ' +
    'schedule quarterly report branch regional partner supplier warehouse invoice payment update ' +
    'le la les des une pour avec notre équipe client service bureau livraison rendez-vous ' +
    'der die das und mit für unsere Kunden Büro Lieferung Termin bitte heute morgen ' +
    'please note that our opening hours changed since last spring and the new address is listed below'
  ).split(' ');
  const sentence = (n = int(6, 16)) => {
    const s = Array.from({ length: n }, () => pick(words)).join(' ');
    return s[0].toUpperCase() + s.slice(1) + '.';
  };
  const phoneLead = ['Call', 'Phone:', 'Tel.', 'Tél. :', 'Contact', 'Mobile', 'Fax', 'Hotline', 'Telefon:',
    'Appelez le', 'Reach us on', 'Support:', 'Standard :', 'Rufen Sie an:', 'Our office:', ''];

  // ---- assembly --------------------------------------------------------------
  const expected = [];
  const written = new Map(); // e164 -> how it was written (first time)
  const place = () => {
    const p = phone();
    expected.push(p.e164);
    if (!written.has(p.e164)) written.set(p.e164, p.text);
    return esc(p.text);
  };
  const out = [];
  let size = 0;
  const emit = (s) => {
    out.push(s);
    size += Buffer.byteLength(s);
  };
  emit('<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Directory (bench)</title>\n');
  emit('<style>.price{font-weight:bold} /* 01 23 45 67 89 */</style>\n');
  emit('<script>window.analytics = {id: "0612345678", started: 20240115093000};</script>\n');
  emit('</head><body>\n<h1>Directory and orders</h1>\n');

  // Bytes of filler per number so the page reaches targetBytes.
  const blocks = ['para', 'para', 'para', 'table', 'list', 'mixed'];
  let section = 0;
  while (expected.length < numbers) {
    section++;
    emit(`<section id="s${section}"><h2>${esc(sentence(4))}</h2>\n`);
    const kind = pick(blocks);
    if (kind === 'para') {
      for (let k = 0; k < 3 && expected.length < numbers; k++) {
        const lead = pick(phoneLead);
        emit(
          `<p>${esc(sentence())} ${esc(lookalike())} ${esc(sentence())} ${lead ? esc(lead) + ' ' : ''}${place()}` +
            `${r() < 0.3 ? ` or ${place()}` : ''}. ${esc(sentence())} ${esc(lookalike())}, ${esc(lookalike())}.</p>\n`,
        );
      }
    } else if (kind === 'table') {
      emit('<table><tr><th>Name</th><th>Phone</th><th>Order</th><th>Date</th><th>Amount</th><th>Host</th></tr>\n');
      for (let k = 0; k < 8 && expected.length < numbers; k++) {
        emit(
          `<tr><td>${esc(pick(words))} ${esc(pick(words))}</td><td>${place()}</td><td>${esc(ident())}</td>` +
            `<td>${esc(date())}</td><td>${esc(price())}</td><td>${esc(ip())}</td></tr>\n`,
        );
      }
      emit('</table>\n');
    } else if (kind === 'list') {
      emit('<ul>\n');
      for (let k = 0; k < 6 && expected.length < numbers; k++) {
        emit(`<li><strong>${esc(pick(words))}</strong> — ${place()} <em>(${esc(lookalike())})</em></li>\n`);
        emit(`<li>${esc(lookalike())}; ${esc(lookalike())}; ${esc(sentence(5))}</li>\n`);
      }
      emit('</ul>\n');
    } else {
      // Elements nobody should mark: numbers there are not expected.
      emit(`<p>${esc(sentence())} <code>${esc(version())} ${esc(phone().text)}</code> ${esc(sentence())}</p>\n`);
      emit(`<form><input aria-label="phone" value="${esc(phone().text)}"><textarea aria-label="notes">${esc(phone().text)}</textarea></form>\n`);
      emit(`<p><span>${esc(lookalike())}</span> <span>${esc(sentence())}</span> <b>${place()}</b> <span>${esc(lookalike())}</span></p>\n`);
    }
    // Filler so numbers are spread over the whole page.
    const want = (targetBytes * expected.length) / numbers;
    while (size < want) emit(`<p>${esc(sentence(int(20, 60)))} ${esc(lookalike())}. ${esc(sentence(int(20, 60)))}</p>\n`);
    emit('</section>\n');
  }
  emit('</body></html>\n');
  return { html: out.join(''), expected, written };
}

// `node tests/bench/page.mjs out.html` writes the page (to look at it).
if (import.meta.url === `file://${process.argv[1]}`) {
  const { writeFileSync } = await import('node:fs');
  const { html, expected } = generatePage();
  writeFileSync(process.argv[2] || '/dev/stdout', html);
  console.error(`${Buffer.byteLength(html)} bytes, ${expected.length} numbers`);
}
