// The Windows suite's harness: the host built for x86_64-pc-windows-gnu
// (dist/windows/ringside-host.exe, `scripts/build`) run under Wine 8.
//
// One Wine prefix, target/windows-test/prefix, made once by `wineboot` (about
// 10 s) and reused by every test file and every run; `prepare()` clears what
// Ringside and these tests write there, so each run starts from a known
// machine. Wine runs headless: no DISPLAY, WINEDEBUG=-all, and Mono and Gecko
// disabled (their install dialogs would wait for a click).
//
// Test setup only, never shipped: bcryptprimitives.dll (Wine 8 lacks it, and
// Rust's std takes its randomness from its ProcessPrng; Windows 10 and later
// have it) goes into the prefix's system32, so the host starts from anywhere,
// the MSI's copy under Program Files included; wintool.exe reads Credential
// Manager and is the tel: handler the suite registers. Both are built here
// with mingw-w64 from tests/windows/shim and tests/windows/tools.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, copyFileSync, rmSync, readFileSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const EXE = path.join(ROOT, 'dist', 'windows', 'ringside-host.exe');
export const WORK = path.join(ROOT, 'target', 'windows-test');
export const PREFIX = path.join(WORK, 'prefix');
export const WINTOOL = path.join(WORK, 'wintool.exe');
const SHIM = path.join(WORK, 'bcryptprimitives.dll');
const MINGW = 'x86_64-w64-mingw32-gcc';
export const DEV_ID = 'fempdkhheodefkjhkbekalfieneojckb';
export const DEV_ORIGIN = `chrome-extension://${DEV_ID}/`;
export const HOST = 'com.ringside.host';

/** Debian's wine64 package puts the loader here, not on PATH. */
export const WINE = ['/usr/lib/wine/wine64', '/usr/bin/wine64', '/usr/bin/wine'].find(existsSync) ?? 'wine64';
const WINESERVER = ['/usr/lib/wine/wineserver64', '/usr/bin/wineserver'].find(existsSync) ?? 'wineserver';

export function wineEnv(extra = {}) {
  const env = {
    ...process.env,
    WINEPREFIX: PREFIX,
    WINEDEBUG: '-all',
    WINEDLLOVERRIDES: 'mscoree,mshtml=',
    ...extra,
  };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  delete env.RINGSIDE_LOG;
  return env;
}

/** Fails with what to do, not just that it failed. */
function need(ok, what, fix) {
  if (!ok) throw new Error(`Windows suite: ${what}.\n  Fix: ${fix}`);
}

function newer(src, out) {
  return !existsSync(out) || statSync(src).mtimeMs > statSync(out).mtimeMs;
}

function mingw(src, out, args) {
  if (!newer(src, out)) return;
  const r = spawnSync(MINGW, ['-O2', '-s', '-o', out, src, ...args], { encoding: 'utf8' });
  need(r.status === 0, `${MINGW} could not build ${path.basename(out)}: ${r.error?.message ?? r.stderr}`,
    'run scripts/setup (it installs gcc-mingw-w64-x86-64)');
}

let prepared = false;

/**
 * Makes the prefix (once), installs the test DLL and tool, and clears what
 * earlier runs left: registrations, policies, the tel: handler, Ringside's
 * folders and credentials, an installed MSI.
 */
export function prepare() {
  if (prepared) return;
  need(existsSync(EXE), `${EXE} is missing`, 'run scripts/build (it builds the host for x86_64-pc-windows-gnu)');
  need(spawnSync(WINE, ['--version']).status === 0, `cannot run ${WINE}`, 'run scripts/setup (it installs wine64)');
  mkdirSync(WORK, { recursive: true });
  mingw(path.join(ROOT, 'tests/windows/shim/bcryptprimitives.c'), SHIM, ['-shared', '-ladvapi32']);
  mingw(path.join(ROOT, 'tests/windows/tools/wintool.c'), WINTOOL, ['-municode', '-ladvapi32']);
  // Wine's own background processes (services.exe, winedevice.exe...) are
  // started by the first program of a session and inherit its stdout and
  // stderr: spawnSync would then wait for them to exit (seconds per call). So
  // a session is started here with its output in a log file, and a server
  // that persists 30 s past the last program keeps them for every later call.
  const log = path.join(WORK, 'wine.log');
  const boot = (args, timeout) => {
    const fd = openSync(log, 'a');
    try {
      return spawnSync(WINE, args, { env: wineEnv(), stdio: ['ignore', fd, fd], timeout });
    } finally {
      closeSync(fd);
    }
  };
  if (!existsSync(path.join(PREFIX, 'system.reg'))) {
    const r = boot(['wineboot', '-i'], 180_000);
    // The registry files are written when the server exits: wait for it.
    spawnSync(WINESERVER, ['-w'], { env: wineEnv(), stdio: 'ignore', timeout: 60_000 });
    need(existsSync(path.join(PREFIX, 'system.reg')),
      `wineboot could not make the prefix ${PREFIX} (status ${r.status}${r.error ? `, ${r.error.message}` : ''}); its output is in ${log}`,
      `rm -rf ${PREFIX} and run again; if it still fails, try by hand: WINEPREFIX=${PREFIX} ${WINE} wineboot -i`);
  }
  spawnSync(WINESERVER, ['-p30'], { env: wineEnv(), stdio: 'ignore' });
  const warm = boot(['cmd', '/c', 'rem'], 120_000);
  need(warm.status === 0, `Wine does not start programs in ${PREFIX} (status ${warm.status}); see ${log}`,
    `rm -rf ${PREFIX} and run again (a half-made prefix), or run WINEPREFIX=${PREFIX} ${WINE} cmd /c ver by hand`);
  copyFileSync(SHIM, path.join(PREFIX, 'drive_c/windows/system32/bcryptprimitives.dll'));
  // What an earlier (failed) run may have left.
  uninstallMsiLeftovers();
  for (const key of [
    'HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts',
    'HKCU\\Software\\Microsoft\\Edge\\NativeMessagingHosts',
    'HKLM\\Software\\Google\\Chrome\\NativeMessagingHosts',
    'HKLM\\Software\\Microsoft\\Edge\\NativeMessagingHosts',
    'HKLM\\Software\\Policies',
    'HKCU\\Software\\Policies',
    'HKCR\\tel',
  ]) {
    wine(['reg', 'delete', key, '/f']);
  }
  for (const dir of ['ProgramData/Ringside', 'users', 'Program Files/Ringside']) {
    if (dir === 'users') {
      rmSync(path.join(PREFIX, 'drive_c/users', process.env.USER ?? 'root', 'AppData/Local/Ringside'), { recursive: true, force: true });
    } else {
      rmSync(path.join(PREFIX, 'drive_c', dir), { recursive: true, force: true });
    }
  }
  for (const target of credentials()) {
    if (target.endsWith('.ringside')) wineTool(['cred-delete', target]);
  }
  prepared = true;
}

function uninstallMsiLeftovers() {
  const marker = path.join(WORK, 'installed.msi');
  if (existsSync(marker)) {
    wine(['msiexec', '/x', winPath(marker), '/qn']);
    rmSync(marker, { force: true });
  }
}

/** Runs a Windows program under Wine; stdout is bytes. */
export function wine(args, { input, env, timeout = 60_000 } = {}) {
  const r = spawnSync(WINE, args, {
    env: wineEnv(env),
    input,
    timeout,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${WINE} ${args.join(' ')}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8'), text: r.stdout.toString('utf8') };
}

/** The host exe (from dist/, or the path given) with these arguments. */
export function host(args, opts = {}) {
  return wine([opts.exe ?? EXE, ...args], opts);
}

/**
 * Like `host`, but the command must succeed. Wine 8 now and then fails a
 * file operation of `install` with ERROR_INTERNAL_ERROR (os error 1359: seen
 * on writing host.json.tmp, in about one suite run of four, never in a loop
 * of 60 installs and uninstalls alone; Windows has no such error there):
 * that one error is retried once, and said.
 */
export function hostOk(args, opts = {}) {
  let r = host(args, opts);
  if (r.status !== 0 && /\(os error 1359\)/.test(r.stderr)) {
    process.stderr.write(`Windows suite: Wine's intermittent ERROR_INTERNAL_ERROR on \`${args.join(' ')}\`, retried once: ${r.stderr.trim()}\n`);
    r = host(args, opts);
  }
  if (r.status !== 0) {
    throw new Error(`ringside-host.exe ${args.join(' ')} exited with ${r.status}\nstdout: ${r.text}\nstderr: ${r.stderr}`);
  }
  return r;
}

export function wineTool(args) {
  return wine([WINTOOL, ...args]);
}

/** Every generic credential's target name in Credential Manager. */
export function credentials() {
  return wineTool(['cred-list']).text.split(/\r?\n/).filter(Boolean);
}

/** The default value of a registry key, or null when the key is absent. */
export function regDefault(key) {
  const r = wine(['reg', 'query', key, '/ve']);
  if (r.status !== 0) return null;
  const m = r.text.match(/\(Default\)\s+REG_SZ\s+(.*?)\r?\n/);
  return m ? m[1] : '';
}

export function regExists(key) {
  return wine(['reg', 'query', key]).status === 0;
}

export function regAdd(key, args) {
  const r = wine(['reg', 'add', key, ...args, '/f']);
  if (r.status !== 0) throw new Error(`reg add ${key} ${args.join(' ')}: ${r.text} ${r.stderr}`);
}

export function regDelete(key) {
  wine(['reg', 'delete', key, '/f']);
}

/** A Unix path as Wine's Z: drive sees it. */
export function winPath(p) {
  return `Z:${path.resolve(p).replace(/\//g, '\\')}`;
}

/** Where a C:\ (or Z:\) path of the prefix is on this machine. */
export function unixPath(p) {
  const m = p.match(/^([A-Za-z]):\\(.*)$/);
  if (!m) throw new Error(`not a drive path: ${p}`);
  const rest = m[2].replace(/\\/g, '/');
  if (m[1].toUpperCase() === 'Z') return `/${rest}`;
  if (m[1].toUpperCase() === 'C') {
    // The prefix's folder names keep their case; Windows paths may not.
    return path.join(PREFIX, 'drive_c', rest);
  }
  throw new Error(`no such drive in the prefix: ${p}`);
}

export function readJson(winFile) {
  return JSON.parse(readFileSync(unixPath(winFile), 'utf8'));
}

// Native messaging frames: 32-bit little-endian length, then UTF-8 JSON.
export function frame(body) {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(b.length);
  return Buffer.concat([len, b]);
}

/** Splits stdout into frames; fails on any byte that is not part of one. */
export function frames(out) {
  const list = [];
  let i = 0;
  while (i < out.length) {
    if (out.length - i < 4) throw new Error(`stray bytes on stdout: ${out.subarray(i).toString('hex')}`);
    const n = out.readUInt32LE(i);
    if (out.length - i - 4 < n) throw new Error(`truncated frame on stdout (${n} bytes announced)`);
    list.push({ raw: out.subarray(i, i + 4 + n), body: out.subarray(i + 4, i + 4 + n) });
    i += 4 + n;
  }
  return list;
}

/** Runs the host as a browser does: the origin as argv[1], frames on stdin. */
export function session(input, { origin = DEV_ORIGIN, exe, env } = {}) {
  const r = host([origin], { input, exe, env, timeout: 120_000 });
  return { ...r, frames: frames(r.stdout), json: frames(r.stdout).map((f) => JSON.parse(f.body.toString('utf8'))) };
}

export const HELLO = { id: 0, type: 'hello', params: { versions: [1] } };
