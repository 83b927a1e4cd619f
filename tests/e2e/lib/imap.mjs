// IMAP servers for the Gmail-with-an-app-password tests: a real dovecot on
// loopback (IMAPS with a certificate from a throwaway test CA made by openssl,
// a passwd-file user, a Maildir "All Mail" seeded with messages), and a tiny
// scripted IMAPS responder for the one Gmail answer dovecot cannot give:
// `NO [ALERT] Application-specific password required`.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const USER = 'ana@example.com';
export const APP_PASSWORD = 'abcdefghijklmnop';
export const CONTACT = 'bob@contoso.com';

/** Gmail's answers, word for word (design brief). */
export const GMAIL_ALERT =
  'NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)';

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function run(cmd, args) {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A test CA and a localhost certificate it signed, in `dir`. */
export function makeCerts(dir) {
  const d = (f) => path.join(dir, f);
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Ringside Test CA',
    '-keyout', d('ca.key'), '-out', d('ca.pem')]);
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', d('server.key'), '-out', d('server.csr')]);
  writeFileSync(d('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('openssl', ['x509', '-req', '-days', '2', '-CAcreateserial', '-in', d('server.csr'), '-CA', d('ca.pem'),
    '-CAkey', d('ca.key'), '-out', d('server.pem'), '-extfile', d('ext.cnf')]);
  return { ca: d('ca.pem'), cert: d('server.pem'), key: d('server.key') };
}

/**
 * The seeded mailbox: `count` messages in All Mail, dated one hour apart
 * (message i at 2026-09-01 00:00 UTC + i hours); every `every`-th is from or
 * to the contact (alternately). Returns the shared ones, newest first.
 */
export function seed(maildir, { count, every = 7 }) {
  const all = path.join(maildir, '.All Mail', 'cur');
  mkdirSync(all, { recursive: true });
  mkdirSync(path.join(maildir, 'cur'), { recursive: true });
  const shared = [];
  const base = Date.UTC(2026, 8, 1);
  for (let i = 0; i < count; i++) {
    const withContact = i % every === 0;
    const [from, to] = withContact ? (i % 2 === 0 ? [CONTACT, USER] : [USER, CONTACT]) : [`someone${i}@example.org`, USER];
    const date = new Date(base + i * 3600_000);
    const subject = withContact ? `Order ${i} follow-up` : `Newsletter ${i}`;
    const msg = `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: ${date.toUTCString().replace('GMT', '+0000')}\r\n`
      + `Message-ID: <m${i}@test>\r\n\r\nbody ${i}\r\n`;
    writeFileSync(path.join(all, `${1_700_000_000 + i}.m${i}:2,S`), msg);
    if (withContact) shared.push({ subject, date: date.toISOString(), id: `m${i}@test` });
  }
  return shared.reverse();
}

/**
 * Starts dovecot on a free loopback port. `count` seeded messages.
 * Returns { port, ca, shared, setPassword(p), log(), stop() }, or null when dovecot
 * is not installed (fails instead under RINGSIDE_REQUIRE_DOVECOT=1).
 */
export async function startDovecot({ count = 300, every = 7 } = {}) {
  const bin = ['/usr/sbin/dovecot', '/usr/bin/dovecot'].find((p) => existsSync(p));
  const doveadm = ['/usr/bin/doveadm', '/usr/sbin/doveadm'].find((p) => existsSync(p)) ?? 'doveadm';
  if (!bin) {
    if (process.env.RINGSIDE_REQUIRE_DOVECOT) throw new Error('dovecot is not installed (scripts/setup installs it)');
    return null;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'ringside-dovecot-'));
  const certs = makeCerts(dir);
  const passwd = path.join(dir, 'passwd');
  writeFileSync(passwd, `${USER}:{PLAIN}${APP_PASSWORD}::::::\n`);
  const shared = seed(path.join(dir, 'home', USER, 'Maildir'), { count, every });
  const root = process.getuid?.() === 0;
  const me = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
  // As root, dovecot's own users run the login and mail processes.
  const [internal, login, uid] = root ? ['dovecot', 'dovenull', 'dovecot'] : [me, me, me];
  if (root) {
    run('chown', ['-R', 'dovecot:dovecot', path.join(dir, 'home')]);
    chmodSync(dir, 0o755);
  }
  const port = await freePort();
  writeFileSync(path.join(dir, 'dovecot.conf'), [
    'protocols = imap', 'listen = 127.0.0.1', `base_dir = ${dir}/run`, `state_dir = ${dir}/state`, `log_path = ${dir}/dovecot.log`,
    'ssl = required', `ssl_cert = <${certs.cert}`, `ssl_key = <${certs.key}`,
    `default_internal_user = ${internal}`, `default_internal_group = ${internal}`, `default_login_user = ${login}`,
    'auth_mechanisms = plain login', 'first_valid_uid = 1',
    `passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u ${passwd}\n}`,
    `userdb {\n  driver = static\n  args = uid=${uid} gid=${uid} home=${dir}/home/%u\n}`,
    'mail_location = maildir:~/Maildir',
    'namespace inbox {\n  inbox = yes\n  mailbox "All Mail" {\n    special_use = \\All\n    auto = create\n  }\n}',
    `service imap-login {\n  chroot =\n  inet_listener imap {\n    port = 0\n  }\n  inet_listener imaps {\n    port = ${port}\n    ssl = yes\n  }\n}`,
    'service anvil {\n  chroot =\n}', '',
  ].join('\n'));
  let child;
  let stderr = '';
  const halt = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  const stop = async () => {
    await halt();
    rmSync(dir, { recursive: true, force: true });
  };
  const listening = () => new Promise((res) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
  });
  const begin = async () => {
    child = spawn(bin, ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d) => (stderr += d));
    const deadline = Date.now() + 10000;
    while (!(await listening())) {
      if (Date.now() > deadline || child.exitCode !== null) {
        const log = existsSync(path.join(dir, 'dovecot.log')) ? readFileSync(path.join(dir, 'dovecot.log'), 'utf8') : '';
        await stop();
        throw new Error(`dovecot did not listen on ${port}: ${stderr}\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // The probe that found it listening is logged (asynchronously): wait for
    // its line, so tests can count the connections that follow.
    const logged = () => existsSync(path.join(dir, 'dovecot.log'))
      && readFileSync(path.join(dir, 'dovecot.log'), 'utf8').includes('imap-login:');
    for (let i = 0; i < 100 && !logged(); i++) await new Promise((r) => setTimeout(r, 20));
  };
  await begin();
  const logPath = path.join(dir, 'dovecot.log');
  return {
    port,
    ca: certs.ca,
    shared,
    /** dovecot's log: an `imap-login:` line for every connection, `Login: user=<…>` for every login. */
    log: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
    /**
     * The password changes on the server and its open sessions end (as Gmail
     * ends them when app passwords are revoked): `doveadm kick`.
     */
    setPassword(p) {
      writeFileSync(passwd, `${USER}:{PLAIN}${p}::::::\n`);
      // dovecot re-reads passwd-file when its mtime changes.
      const t = new Date(Date.now() + 2000);
      utimesSync(passwd, t, t);
      try {
        execFileSync(doveadm, ['-c', path.join(dir, 'dovecot.conf'), 'kick', USER], { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (e) {
        // 68 (EX_NOUSER): nobody was logged in, nothing to end.
        if (e.status !== 68) throw e;
      }
    },
    stop,
  };
}

/**
 * An IMAPS responder that greets like Gmail and answers every LOGIN with
 * Gmail's 2-Step Verification line. Uses the same test CA's certificate.
 */
export async function startGmailAlert(certs) {
  const port = await freePort();
  const server = tls.createServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) }, (sock) => {
    sock.write('* OK Gimap ready for requests from 127.0.0.1\r\n');
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const [tag, cmd = ''] = line.split(' ');
        switch (cmd.toUpperCase()) {
          case 'CAPABILITY':
            sock.write(`* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK Thats all she wrote!\r\n`);
            break;
          case 'LOGIN':
          case 'AUTHENTICATE':
            sock.write(`${tag} ${GMAIL_ALERT}\r\n`);
            break;
          case 'LOGOUT':
            sock.end(`* BYE LOGOUT Requested\r\n${tag} OK 73 good day (Success)\r\n`);
            break;
          default:
            sock.write(`${tag} BAD Unknown command\r\n`);
        }
      }
    });
    sock.on('error', () => {});
  });
  await new Promise((res) => server.listen(port, '127.0.0.1', res));
  return { port, stop: () => server.close() };
}
