// `host_cold_start_wine_ms`: median over N launches of the Windows host under
// Wine 8 (dist/windows/ringside-host.exe with the origin, as Chrome starts
// it), from spawning the process to reading its `hello` reply, with Wine's
// server and services already up (the prefix is warm). A figure, not a
// budget: it measures Wine as much as the host. Prints one JSON object.
import { spawn } from 'node:child_process';
import { prepare, hostOk, frame, HELLO, DEV_ID, DEV_ORIGIN, EXE, WINE, wineEnv } from './lib/wine.mjs';

const runs = Number(process.argv[2] || 20);
prepare();
hostOk(['install', '--browser', 'chrome', '--extension-id', DEV_ID]);

function once() {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(WINE, [EXE, DEV_ORIGIN], { env: wineEnv(), stdio: ['pipe', 'pipe', 'ignore'] });
    let out = Buffer.alloc(0);
    child.stdout.on('data', (d) => {
      out = Buffer.concat([out, d]);
      if (out.length >= 4 && out.length >= 4 + out.readUInt32LE(0)) {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        child.stdin.end();
        child.once('exit', () => resolve(ms));
      }
    });
    child.once('error', reject);
    child.stdin.write(frame(HELLO));
  });
}

const times = [];
for (let i = 0; i < runs; i++) times.push(await once());
hostOk(['uninstall', '--browser', 'chrome']);
times.sort((a, b) => a - b);
console.log(JSON.stringify({ host_cold_start_wine_ms: Math.round(times[Math.floor(times.length / 2)] * 10) / 10 }));
