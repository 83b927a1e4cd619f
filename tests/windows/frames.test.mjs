// Windows, under Wine: native messaging through the real exe's stdin and
// stdout, as Chrome and Edge run it. The golden sessions of the Linux suite
// (native-host/tests/golden/*.frames, read by the same rules as golden.rs)
// byte for byte, except what differs by OS: hello's `pid` and `os`, and the
// OS's own error text after "os error"; then frames whose length prefix holds
// CR, LF and Ctrl-Z bytes both ways (no text-mode translation), the origin
// allow-list and a refusal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { prepare, hostOk, session, frame, frames, HELLO, DEV_ID, DEV_ORIGIN, ROOT } from './lib/wine.mjs';

const GOLDEN = path.join(ROOT, 'native-host/tests/golden');

before(() => {
  prepare();
  hostOk(['install', '--browser', 'chrome', '--extension-id', DEV_ID]);
});
after(() => hostOk(['uninstall', '--browser', 'chrome']));

function unhex(s) {
  return Buffer.from(s, 'hex');
}

function frameLine(line) {
  if (line.startsWith('raw ')) return unhex(line.slice(4).trim());
  if (line.startsWith('fill ')) {
    const [byte, count] = line.slice(5).trim().split(' ');
    return Buffer.alloc(Number(count), unhex(byte)[0]);
  }
  const space = line.indexOf(' ');
  const len = unhex(space < 0 ? line : line.slice(0, space));
  const body = Buffer.from(space < 0 ? '' : line.slice(space + 1));
  assert.equal(len.readUInt32LE(), body.length, `length prefix does not match body: ${line}`);
  return Buffer.concat([len, body]);
}

function golden(file) {
  const input = [];
  const expected = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('-> ')) input.push(frameLine(line.slice(3)));
    if (line.startsWith('<- ')) expected.push(frameLine(line.slice(3)));
  }
  return { input: Buffer.concat(input), expected: frames(Buffer.concat(expected)) };
}

/** What may differ by OS, blanked. */
function normalise(v, pid) {
  const r = structuredClone(v);
  if (r.result?.os !== undefined) {
    r.result.pid = pid;
    r.result.os = '<os>';
  }
  if (typeof r.error?.message === 'string') r.error.message = r.error.message.replace(/\([^()]*\(os error \d+\)\)/, '(<os error>)');
  return r;
}

test('the golden sessions through the exe: the same frames as on Linux', () => {
  const files = readdirSync(GOLDEN).filter((f) => f.endsWith('.frames')).sort();
  assert.ok(files.length >= 10, `golden cases missing from ${GOLDEN}`);
  for (const f of files) {
    const { input, expected } = golden(path.join(GOLDEN, f));
    const s = session(input);
    assert.equal(s.frames.length, expected.length, `${f}: ${s.frames.length} frames, expected ${expected.length}\n${s.stdout.toString('utf8')}\n${s.stderr}`);
    s.frames.forEach((got, i) => {
      if (got.raw.equals(expected[i].raw)) return;
      const g = JSON.parse(got.body);
      const e = JSON.parse(expected[i].body);
      if (g.result?.os !== undefined) {
        assert.equal(g.result.os, 'windows', `${f}: hello names the OS`);
        assert.ok(Number.isInteger(g.result.pid) && g.result.pid > 0);
      }
      // Only hello's pid and os and the OS's error text may differ; every
      // other frame is byte for byte the Linux one.
      assert.deepEqual(normalise(g, 0), normalise(e, 0), `${f}, frame ${i}`);
    });
  }
});

test('length prefixes holding CR, LF and Ctrl-Z bytes pass both ways untranslated', () => {
  // A ping of 0x0d1a bytes (prefix 1a 0d 00 00) whose echo is 0x0a1a bytes
  // (prefix 1a 0a 00 00), with CR LF inside the body: text-mode stdio would
  // turn LF into CR LF, drop CR or stop at Ctrl-Z, and the frames would no
  // longer parse.
  const reply = (n) => Buffer.byteLength(JSON.stringify({ id: 1, result: { payload: 'x'.repeat(n) } }));
  const n = 0x0a1a - reply(0);
  assert.equal(reply(n), 0x0a1a);
  const body = JSON.stringify({ id: 1, type: 'ping', params: { payload: 'x'.repeat(n) } });
  // Pad the request with JSON whitespace (CR LF pairs, one space if odd).
  const gap = 0x0d1a - body.length;
  const padded = body.slice(0, -1) + ' '.repeat(gap % 2) + '\r\n'.repeat(Math.floor(gap / 2)) + '}';
  assert.equal(padded.length, 0x0d1a);
  const s = session(Buffer.concat([frame(HELLO), frame(padded), frame({ id: 2, type: 'ping', params: { payload: 'a\r\nb\u001a' } })]));
  assert.equal(s.frames.length, 3, s.stderr);
  assert.deepEqual([...s.frames[1].raw.subarray(0, 4)], [0x1a, 0x0a, 0, 0]);
  assert.equal(s.json[1].result.payload, 'x'.repeat(n));
  assert.deepEqual(s.json[2], { id: 2, result: { payload: 'a\r\nb\u001a' } });
  assert.equal(s.status, 0);
});

test('an origin outside the allow-list is refused with one frame and exit status 1; the allowed one is served', () => {
  const stranger = `chrome-extension://${'a'.repeat(32)}/`;
  const s = session(frame(HELLO), { origin: stranger });
  assert.deepEqual(s.json, [{
    event: 'host.error',
    data: { code: 1008, name: 'origin_not_allowed', message: `${stranger} is not in this host's allow-list` },
  }]);
  assert.equal(s.status, 1);
  assert.match(s.stderr, /refusing caller .* Run `ringside-host install --extension-id <id>`/);
  const ok = session(frame(HELLO), { origin: DEV_ORIGIN });
  assert.equal(ok.json[0].result.os, 'windows');
  assert.equal(ok.status, 0);
});

test('an oversized frame is skipped with frame_too_large and the session goes on', () => {
  const big = Buffer.alloc(4);
  big.writeUInt32LE(1024 * 1024 + 1);
  const s = session(Buffer.concat([
    frame(HELLO), big, Buffer.alloc(1024 * 1024 + 1, 0x37), frame({ id: 2, type: 'ping', params: { payload: 1 } }),
  ]));
  assert.equal(s.json[1].event, 'frame.skipped');
  assert.equal(s.json[1].data.name, 'frame_too_large');
  assert.deepEqual(s.json[2], { id: 2, result: { payload: 1 } });
});
