// Real baresip softphones on loopback for the end-to-end tests, the demo and
// the bench: the agent's (driven by the native host through ctrl_tcp) and the
// remote party's (auto-answer, or manual for incoming-call tests), whose own
// ctrl_tcp events the tests read to assert what really reached it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import { tmpdir } from 'node:os';
import path from 'node:path';

function listenable(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function udpBindable(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A port p with p (UDP and TCP) and p+1 (baresip's TLS listener) free. */
async function freeSipPort() {
  for (let i = 0; i < 200; i++) {
    const p = await freePort();
    if (p < 65000 && (await udpBindable(p)) && (await listenable(p + 1))) return p;
  }
  throw new Error('no free SIP port pair');
}

async function waitListening(port, child) {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`baresip exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    // ctrl_tcp takes one client at a time; give the probe time to go away.
    if (ok) return new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`baresip did not open ctrl_tcp on ${port}`);
}

/**
 * Starts baresip with account `user` on a free loopback SIP port.
 * `tone`: the microphone is a 440 Hz tone (baresip's ausine) instead of the
 * bridge, so RTP flows from this phone and its DTMF (RTP telephone-events)
 * reach the other party; ausine takes only 48 kHz stereo.
 * Returns { user, sip, ctrl, uri, stop() }.
 */
export async function startSoftphone({ user, autoAnswer, tone = false }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ringside-baresip-'));
  const sip = await freeSipPort();
  const ctrl = await freePort();
  writeFileSync(
    path.join(dir, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sip}`,
      'net_interface 127.0.0.1',
      'audio_player aubridge,nil',
      tone ? 'audio_source ausine,440' : 'audio_source aubridge,nil',
      ...(tone ? ['ausrc_srate 48000', 'ausrc_channels 2'] : []),
      'audio_alert aubridge,nil',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aubridge.so',
      ...(tone ? ['module ausine.so'] : []),
      'module_app account.so',
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      `ctrl_tcp_listen 127.0.0.1:${ctrl}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(dir, 'accounts'),
    `<sip:${user}@127.0.0.1:${sip}>;regint=0;answermode=${autoAnswer ? 'auto' : 'manual'}\n`,
  );
  const child = spawn('baresip', ['-f', dir], { stdio: 'ignore' });
  await waitListening(ctrl, child);
  return {
    user,
    sip,
    ctrl,
    uri: `sip:${user}@127.0.0.1:${sip}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A ctrl_tcp client (JSON in netstrings) that records every event with its arrival time. */
export async function controlClient(port) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const events = [];
  const waiters = [];
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    const at = performance.now();
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const colon = buf.indexOf(':');
      if (colon < 0) break;
      const len = Number(buf.subarray(0, colon).toString());
      if (buf.length < colon + 1 + len + 1) break;
      const body = buf.subarray(colon + 1, colon + 1 + len).toString();
      buf = buf.subarray(colon + 1 + len + 1);
      let msg;
      try {
        msg = JSON.parse(body);
      } catch {
        continue;
      }
      if (msg.event) {
        msg.at = at;
        events.push(msg);
        for (const w of [...waiters]) {
          if (w.pred(msg)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(msg);
          }
        }
      }
    }
  });
  let token = 0;
  return {
    events,
    /** Resolves with the first event (past or future) matching `pred`. */
    waitFor(pred, { timeout = 5000, what = 'event' } = {}) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(new Error(`timed out waiting for ${what}; saw ${JSON.stringify(events.map((e) => e.type))}`));
          }
        }, timeout);
      });
    },
    command(command, params) {
      const body = JSON.stringify({ command, params, token: `t${++token}` });
      socket.write(`${Buffer.byteLength(body)}:${body},`);
    },
    close() {
      socket.destroy();
    },
  };
}
