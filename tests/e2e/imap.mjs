// A tiny raw IMAP client over node:tls, for tests that need "another
// connection": it logs in to the rig directly (not through the bridge) and
// APPENDs messages. Only what the tests need; not a general client.
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

function quote(text) {
  return `"${String(text).replace(/(["\\])/g, '\\$1')}"`;
}

/** Connects, logs in, runs `fn(send)` and logs out. `send(cmd, literal?)` resolves to the response text. */
export async function withImap({ port, ca, user, pass, host = '127.0.0.1', servername = 'localhost' }, fn) {
  const socket = tls.connect({ host, port: Number(port), servername, ca: readFileSync(ca) });
  socket.setEncoding('utf8');
  let buffer = '';
  let waiter = null;
  const failed = new Promise((_, reject) => {
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('IMAP connection closed')));
  });
  failed.catch(() => {});
  socket.on('data', (chunk) => {
    buffer += chunk;
    if (waiter) waiter();
  });
  const waitFor = (test) => Promise.race([failed, new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`IMAP timeout; got: ${buffer.slice(-300)}`)), 10_000);
    const check = () => {
      const hit = test(buffer);
      if (hit !== null) {
        clearTimeout(timer);
        waiter = null;
        resolve(hit);
      }
    };
    waiter = check;
    check();
  })]);
  let n = 0;
  const send = async (command, literal) => {
    const tag = `t${++n}`;
    buffer = '';
    if (literal === undefined) {
      socket.write(`${tag} ${command}\r\n`);
    } else {
      const bytes = Buffer.from(literal, 'utf8');
      socket.write(`${tag} ${command} {${bytes.length}}\r\n`);
      await waitFor((b) => (/^\+/m.test(b) ? true : null));
      buffer = '';
      socket.write(Buffer.concat([bytes, Buffer.from('\r\n')]));
    }
    const done = new RegExp(`^${tag} (OK|NO|BAD)([^\\r\\n]*)`, 'm');
    const text = await waitFor((b) => (done.test(b) ? b : null));
    const [, status, rest] = text.match(done);
    if (status !== 'OK') throw new Error(`IMAP ${command.split(' ')[0]} failed: ${status}${rest}`);
    return text;
  };
  try {
    await waitFor((b) => (/^\* OK/m.test(b) ? true : null));
    await send(`LOGIN ${quote(user)} ${quote(pass)}`);
    return await fn(send);
  } finally {
    try {
      await send('LOGOUT');
    } catch {
      // closing anyway
    }
    socket.destroy();
  }
}

/** A complete RFC 5322 message with CRLF line ends. */
export function rfc822({
  from = 'Tester <tester@example.org>', to = 'alice@example.org', subject, date = new Date(),
  contentType = 'text/plain; charset=utf-8', body,
  messageId = `<${Date.now()}.${Math.random().toString(36).slice(2)}@e2e.test>`, headers = [],
}) {
  const lines = [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${messageId}`,
    ...headers,
    'MIME-Version: 1.0',
    `Content-Type: ${contentType}`,
    'Content-Transfer-Encoding: 8bit',
    '',
    ...body.split(/\r?\n/),
  ];
  return lines.join('\r\n');
}

/** APPEND `message` to `mailbox` (flags e.g. '(\\Seen)' or ''). */
export async function appendMessage(conn, mailbox, message, flags = '') {
  return withImap(conn, (send) => send(`APPEND ${quote(mailbox)}${flags ? ` ${flags}` : ''}`, message));
}
