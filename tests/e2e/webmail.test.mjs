// End-to-end test of the webmail page against the running rig: the bridge
// serving web/ (and relaying /imap to a real IMAP server) at E2E_BASE_URL.
//
//   E2E_BASE_URL=http://127.0.0.1:18080 E2E_SERVER_ID=demo E2E_USER=… \
//   E2E_PASS=… E2E_NEWEST_SUBJECT=… node --test tests/e2e/
//
// Optional: E2E_OUTPUT (screenshots, default tests/output),
//           E2E_CHROMIUM (browser binary, default /usr/bin/chromium).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, copyFile, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { inflateRawSync, constants as zlibConstants } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { appendMessage, rfc822, withImap } from './imap.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');

const env = process.env;
const BASE_URL = (env.E2E_BASE_URL || '').replace(/\/+$/, '');
const SERVER_ID = env.E2E_SERVER_ID || '';
const USER = env.E2E_USER || '';
const PASS = env.E2E_PASS || '';
const NEWEST_SUBJECT = env.E2E_NEWEST_SUBJECT;
// Bridge server ids that must fail: nothing listens there / its certificate names another host.
const UNREACHABLE_SERVER = env.E2E_UNREACHABLE_SERVER || '';
const BAD_CERT_SERVER = env.E2E_BAD_CERT_SERVER || '';
const OUTPUT = path.resolve(env.E2E_OUTPUT || path.join(REPO, 'tests', 'output'));
const CHROMIUM = env.E2E_CHROMIUM || '/usr/bin/chromium';
// Direct IMAP (TLS) to the rig, for tests that need "another connection".
const IMAP_TLS_PORT = env.E2E_IMAP_TLS_PORT || '';
const IMAP_CA = env.E2E_IMAP_CA || '';
// The rig's big mailbox (tests/rig/dovecot.sh --bulk): its user, password and message count.
const BULK_USER = env.E2E_BULK_USER || '';
const BULK_PASS = env.E2E_BULK_PASS || '';
const BULK = Number(env.E2E_BULK || 0);
const SCREENSHOTS = path.join(REPO, 'docs', 'screenshots');
/** Where the tests put the messages they create (INBOX's newest stays as test a expects). */
const SCRATCH = 'Junk';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const TEST_TIMEOUT = 30_000;
const STEP_TIMEOUT = 15_000;

/** Fail with a clear message unless the rig's variables are set. */
function requireRig() {
  if (!BASE_URL) {
    throw new Error(
      'E2E_BASE_URL is not set: the test rig (the bridge serving web/ in front of an IMAP server) ' +
      'is not running. Start the rig with its orchestrating script, which sets E2E_BASE_URL, ' +
      'E2E_SERVER_ID, E2E_USER, E2E_PASS and E2E_NEWEST_SUBJECT.');
  }
  const missing = ['E2E_SERVER_ID', 'E2E_USER', 'E2E_PASS', 'E2E_UNREACHABLE_SERVER', 'E2E_BAD_CERT_SERVER']
    .filter((k) => !env[k]);
  if (missing.length) {
    throw new Error(`The test rig is not fully configured: ${missing.join(', ')} not set.`);
  }
}

// Everything the pages did, across tests (checked by tests c and d).
const seen = {
  requests: [],
  websockets: [],
  pageErrorsInA: null, // array once test a has run
  consoleInA: null,
};

let browser = null;

/** The bridge's count of bytes relayed from IMAP servers to browsers, from `/metrics`. */
async function bytesToBrowser() {
  const text = await (await fetch(`${BASE_URL}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('bridge_bytes_server_to_browser_total'));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function openPage(label) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  const record = { label, console: [], pageErrors: [] };
  page.on('request', (req) => seen.requests.push(req.url()));
  page.on('websocket', (ws) => seen.websockets.push(ws.url()));
  page.on('pageerror', (err) => record.pageErrors.push(String(err && err.stack ? err.stack : err)));
  page.on('console', (msg) => record.console.push(`${msg.type()}: ${msg.text()}`));
  return { context, page, record };
}

/** Run `fn`; on failure save a screenshot named after the test, then rethrow. */
async function shotOnFailure(page, name, fn) {
  try {
    return await fn();
  } catch (err) {
    try {
      await mkdir(OUTPUT, { recursive: true });
      await page.screenshot({ path: path.join(OUTPUT, `${name}-failure.png`), fullPage: true });
    } catch {
      // The failure itself matters more.
    }
    throw err;
  }
}

/** Load the page and wait until the login form is usable (or report why not). */
async function openLoginForm(page) {
  await page.goto(`${BASE_URL}/`, { waitUntil: 'domcontentloaded' });
  const handle = await page.waitForFunction((serverId) => {
    const error = document.getElementById('login-error');
    if (error && error.textContent.trim()) return { error: error.textContent.trim() };
    const select = document.getElementById('server');
    const button = document.getElementById('sign-in');
    if (!select || select.disabled || !button || button.disabled) return false;
    const ids = [...select.options].map((o) => o.value);
    return ids.includes(serverId) ? { ready: true } : { error: `server ${serverId} not offered: ${ids.join(', ')}` };
  }, SERVER_ID, { timeout: STEP_TIMEOUT });
  const result = await handle.jsonValue();
  assert.ok(!result.error, `login form not usable: ${result.error}`);
}

/**
 * Watch the sign-in button and status line, so a test can check afterwards
 * that the page showed "Connecting…" with the button disabled, however fast
 * the connection was.
 */
async function watchSignIn(page) {
  await page.evaluate(() => {
    const button = document.getElementById('sign-in');
    const status = document.getElementById('login-status');
    window.__signInSeen = { disabledWhileConnecting: false, statuses: [] };
    const observer = new MutationObserver(() => {
      const text = status.textContent;
      const seenNow = window.__signInSeen;
      if (seenNow.statuses[seenNow.statuses.length - 1] !== text) seenNow.statuses.push(text);
      if (text.startsWith('Connecting') && button.disabled) seenNow.disabledWhileConnecting = true;
    });
    observer.observe(status, { childList: true, characterData: true, subtree: true });
    observer.observe(button, { attributes: true });
  });
}

async function submitLogin(page, password, serverId = SERVER_ID, user = USER) {
  await page.selectOption('#server', serverId);
  await page.fill('#user', user);
  await page.fill('#password', password);
  await page.click('#sign-in');
}

/** Wait for the mail view, or fail with the login error the page shows. */
async function waitForMailView(page) {
  const handle = await page.waitForFunction(() => {
    const error = document.getElementById('login-error');
    if (error && error.textContent.trim()) return { error: error.textContent.trim() };
    const view = document.getElementById('mail-view');
    return view && !view.hidden ? { ok: true } : false;
  }, null, { timeout: STEP_TIMEOUT });
  const result = await handle.jsonValue();
  assert.ok(!result.error, `sign-in failed: ${result.error}`);
}

/** Wait until the message pane shows the folder `name` fully loaded. */
async function waitForMailbox(page, name) {
  await page.waitForFunction((want) => {
    const pane = document.getElementById('message-pane');
    return pane && pane.dataset.mailbox === want && pane.getAttribute('aria-busy') === 'false';
  }, name, { timeout: STEP_TIMEOUT });
  const status = await page.textContent('#list-status');
  assert.ok(!/^Could not open/.test(status.trim()), `opening ${name} failed: ${status}`);
}

async function folderRows(page) {
  return page.$$eval('#folder-list .folder', (nodes) => nodes.map((n) => ({
    name: n.dataset.name,
    text: n.querySelector('.folder-label').textContent.trim(),
    use: n.dataset.specialUse || null,
    clickable: n.getAttribute('role') === 'treeitem' && n.getAttribute('aria-disabled') !== 'true',
  })));
}

/** The subjects of the rows in the DOM, in list order (the list is virtual: only rows near the view exist). */
async function shownSubjects(page) {
  const rows = await page.$$eval('#message-list .msg-row[data-uid]', (nodes) => nodes.map((n) => ({
    at: Number(n.getAttribute('aria-posinset')),
    subject: n.querySelector('.col-subject').textContent.trim(),
  })));
  return rows.sort((a, b) => a.at - b.at).map((r) => r.subject);
}

/** The row at list position `n` (1-based). */
function rowAt(page, n) {
  return page.locator(`#message-list .msg-row[aria-posinset="${n}"]`);
}

function findSpecial(rows, use) {
  const byUse = rows.find((r) => r.use === use);
  if (byUse) return byUse;
  const word = use[0].toUpperCase() + use.slice(1);
  return rows.find((r) => r.text.toLowerCase().startsWith(word.toLowerCase()));
}

function sameOrigin(url, base) {
  const u = new URL(url);
  const b = new URL(base);
  const scheme = { 'ws:': 'http:', 'wss:': 'https:' }[u.protocol] || u.protocol;
  return scheme === b.protocol && u.host === b.host;
}

describe('webmail page', () => {
  before(async () => {
    if (!BASE_URL) return; // every test reports the missing rig
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: TEST_TIMEOUT });
  });

  after(async () => {
    if (browser) await browser.close();
  });

  test('a. sign in, see INBOX and special folders, switch to Sent, sign out', { timeout: TEST_TIMEOUT }, async () => {
    requireRig();
    const { context, page, record } = await openPage('a');
    seen.pageErrorsInA = record.pageErrors;
    seen.consoleInA = record.console;
    try {
      await shotOnFailure(page, 'webmail-a', async () => {
        await openLoginForm(page);
        await watchSignIn(page);
        await submitLogin(page, PASS);
        await waitForMailView(page);

        const signInSeen = await page.evaluate(() => window.__signInSeen);
        assert.ok(signInSeen.statuses.some((s) => s.startsWith('Connecting')),
          `status never said "Connecting…": ${JSON.stringify(signInSeen.statuses)}`);
        assert.ok(signInSeen.disabledWhileConnecting, 'Sign in button was not disabled while connecting');
        assert.equal((await page.textContent('#account-user')).trim(), USER);

        // Folder list: INBOX first, then the special-use folders.
        await page.waitForSelector('#folder-list .folder');
        const rows = await folderRows(page);
        assert.ok(rows.length > 0, 'folder list is empty');
        assert.equal(rows[0].name.toUpperCase(), 'INBOX', `first folder is ${rows[0].name}, not INBOX`);
        const specials = {};
        for (const use of ['drafts', 'sent', 'trash']) {
          specials[use] = findSpecial(rows, use);
          assert.ok(specials[use], `no ${use} folder in ${JSON.stringify(rows.map((r) => r.text))}`);
        }
        // INBOX and each special-use folder carry an icon of their own (whatever their name).
        const icons = await page.$$eval('#folder-list .folder', (nodes) => Object.fromEntries(
          nodes.map((n) => {
            const style = getComputedStyle(n.querySelector('.folder-icon'));
            return [n.dataset.name, style.maskImage || style.webkitMaskImage];
          })));
        const shown = [rows[0].name, ...Object.values(specials).map((r) => r.name)].map((n) => icons[n]);
        for (const icon of shown) assert.match(icon, /^url\("data:image\/svg\+xml/, `icon ${icon}`);
        assert.equal(new Set(shown).size, shown.length, `special folders share icons: ${shown}`);

        // INBOX is open, newest message first.
        await waitForMailbox(page, rows[0].name);
        assert.match(await page.textContent('#mailbox-count'), /\d+ messages?/);
        const subjects = await shownSubjects(page);
        if (NEWEST_SUBJECT !== undefined) {
          assert.ok(subjects.length > 0, 'INBOX shows no messages');
          assert.equal(subjects[0], NEWEST_SUBJECT.trim(), 'first row is not the newest message');
        }

        await mkdir(OUTPUT, { recursive: true });
        await page.screenshot({ path: path.join(OUTPUT, 'webmail-inbox.png'), fullPage: true });

        // Switch to Sent.
        const sent = specials.sent;
        assert.ok(sent.clickable, 'Sent folder is not clickable');
        const buttons = await page.$$('#folder-list .folder');
        let sentButton = null;
        for (const b of buttons) {
          if ((await b.getAttribute('data-name')) === sent.name) sentButton = b;
        }
        assert.ok(sentButton, 'Sent folder button not found');
        await sentButton.click();
        await waitForMailbox(page, sent.name);
        assert.equal((await page.textContent('#mailbox-title')).trim(), sent.text);
        assert.equal(await sentButton.getAttribute('aria-selected'), 'true');
        const sentState = await page.evaluate(() => ({
          table: !document.getElementById('message-list').hidden,
          rows: document.querySelectorAll('#message-list .msg-row[data-uid]').length,
          empty: !document.getElementById('list-empty').hidden,
          emptyText: document.getElementById('list-empty').textContent.trim(),
        }));
        assert.ok((sentState.table && sentState.rows > 0) || (sentState.empty && sentState.emptyText),
          `Sent shows neither messages nor an empty note: ${JSON.stringify(sentState)}`);

        // Sign out returns to the login form.
        await page.click('#sign-out');
        await page.waitForSelector('#login-form', { state: 'visible' });
        assert.equal(await page.isHidden('#mail-view'), true);
        assert.equal(await page.inputValue('#password'), '');
      });
    } finally {
      await context.close();
    }
  });

  test('b. wrong password shows the error and never the password', { timeout: TEST_TIMEOUT }, async () => {
    requireRig();
    const { context, page, record } = await openPage('b');
    const wrong = `${PASS}-wrong-${randomBytes(6).toString('hex')}`;
    try {
      await shotOnFailure(page, 'webmail-b', async () => {
        await openLoginForm(page);
        const before = await page.evaluate(() => document.body.innerText);
        await submitLogin(page, wrong);

        await page.waitForFunction(() => document.getElementById('login-error').textContent.trim() !== '',
          null, { timeout: STEP_TIMEOUT });
        const alert = page.locator('#login-error');
        assert.equal(await alert.getAttribute('role'), 'alert');
        const text = (await alert.textContent()).trim();
        assert.ok(text.startsWith('Wrong user name or password.'), `unexpected error text: ${text}`);

        // The form is usable again.
        assert.equal(await page.isVisible('#login-form'), true);
        assert.equal(await page.isEnabled('#sign-in'), true);
        assert.equal(await page.isEnabled('#password'), true);

        // No password anywhere: page text, markup, console.
        const after = await page.evaluate(() => ({
          text: document.body.innerText,
          html: document.documentElement.outerHTML,
          title: document.title,
        }));
        for (const [where, value] of Object.entries(after)) {
          assert.ok(!value.includes(wrong), `the password appears in the page ${where}`);
          if (!before.includes(PASS)) {
            assert.ok(!value.includes(PASS), `the real password appears in the page ${where}`);
          }
        }
        for (const line of record.console) {
          assert.ok(!line.includes(wrong) && !line.includes(PASS), 'a console message contains the password');
        }
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  /** Signs in to `serverId` (after `prepare` ran in the page) and returns the alert text. */
  async function failingSignIn(name, serverId, prepare) {
    const { context, page, record } = await openPage(name);
    try {
      return await shotOnFailure(page, `webmail-${name}`, async () => {
        await openLoginForm(page);
        if (prepare) await page.evaluate(prepare);
        await submitLogin(page, PASS, serverId);
        await page.waitForFunction(() => document.getElementById('login-error').textContent.trim() !== '',
          null, { timeout: STEP_TIMEOUT });
        assert.equal(await page.isEnabled('#sign-in'), true, 'the form is not usable again');
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
        return (await page.textContent('#login-error')).trim();
      });
    } finally {
      await context.close();
    }
  }

  test('e. unreachable server, untrusted certificate and unlisted server read clearly', { timeout: TEST_TIMEOUT }, async () => {
    requireRig();
    const unreachable = await failingSignIn('e-unreachable', UNREACHABLE_SERVER);
    assert.match(unreachable, /^Could not reach the mail server: .*refused/i);
    const badCert = await failingSignIn('e-cert', BAD_CERT_SERVER);
    assert.match(badCert, /^The mail server's certificate is not trusted: .*name/i);
    // A tampered page asks for a server the bridge does not offer.
    const unlisted = await failingSignIn('e-unlisted', 'not-configured', () => {
      const option = document.createElement('option');
      option.value = 'not-configured';
      option.textContent = 'Tampered';
      document.getElementById('server').append(option);
    });
    assert.equal(unlisted, 'This server is not offered by the bridge.');
  });

  test('c. the page only talks to its own origin', { timeout: TEST_TIMEOUT }, () => {
    requireRig();
    assert.ok(seen.requests.length > 0, 'no requests were recorded (did tests a and b run?)');
    assert.ok(seen.websockets.length > 0, 'the page opened no WebSocket');
    const foreign = [...seen.requests, ...seen.websockets].filter((url) => !sameOrigin(url, BASE_URL));
    assert.deepEqual(foreign, [], `requests to other origins than ${BASE_URL}`);
    const wsExpected = `${BASE_URL.replace(/^http/, 'ws')}/imap`;
    for (const url of seen.websockets) assert.equal(url, wsExpected);
  });

  test('cb. the page as served is the build (web/dist): its own modules come as one minified app.js', { timeout: TEST_TIMEOUT }, async () => {
    requireRig();
    const paths = [...new Set(seen.requests.map((url) => new URL(url).pathname))];
    for (const file of ['/app.js', '/style.css', '/pkg/client_wasm.js', '/pkg/client_wasm_bg.wasm']) {
      assert.ok(paths.includes(file), `${file} was not loaded (did test a run?)`);
    }
    assert.deepEqual(paths.filter((p) => p.startsWith('/ui/')), [], 'the page loaded its modules one by one');
    const served = await (await fetch(`${BASE_URL}/app.js`)).text();
    assert.doesNotMatch(served, /^\s*\/\//m, 'the served app.js keeps its comments');
  });

  test('d. no uncaught page errors while signed in (test a)', { timeout: TEST_TIMEOUT }, () => {
    requireRig();
    assert.ok(seen.pageErrorsInA, 'test a did not run');
    assert.deepEqual(seen.pageErrorsInA, [], 'uncaught errors in the page during test a');
    const csp = seen.consoleInA.filter((line) => /Content Security Policy/i.test(line));
    assert.deepEqual(csp, [], 'the page broke its Content Security Policy during test a');
  });

  // ------------------------------------------------------------ reader, actions, search, live

  function requireImap() {
    requireRig();
    const missing = ['E2E_IMAP_TLS_PORT', 'E2E_IMAP_CA'].filter((k) => !env[k]);
    if (missing.length) throw new Error(`direct IMAP to the rig is not configured: ${missing.join(', ')} not set.`);
  }

  const imapConn = () => ({ port: IMAP_TLS_PORT, ca: IMAP_CA, user: USER, pass: PASS });

  /** A unique word, so each test finds its own message. */
  const uniqueWord = (prefix) => `${prefix}${randomBytes(5).toString('hex')}`;

  async function appendPlain(subject, body, flags = '') {
    await appendMessage(imapConn(), SCRATCH, rfc822({ subject, body }), flags);
  }

  /** A new page, signed in, with the folder `name` (default INBOX) open; `prepare(page)` runs before it loads. */
  async function signedIn(label, name = null, prepare = null) {
    const opened = await openPage(label);
    const { page } = opened;
    if (prepare) await prepare(page);
    await page.setViewportSize({ width: 1400, height: 860 });
    await openLoginForm(page);
    await submitLogin(page, PASS);
    await waitForMailView(page);
    await page.waitForSelector('#folder-list .folder');
    const rows = await folderRows(page);
    await waitForMailbox(page, rows[0].name);
    if (name) await openFolder(page, name);
    return { ...opened, folders: rows };
  }

  async function openFolder(page, name) {
    await page.click(`#folder-list .folder[data-name="${name}"]`);
    await waitForMailbox(page, name);
  }

  /** The list row whose subject is exactly `subject`. */
  function rowFor(page, subject) {
    return page.locator('#message-list .msg-row', {
      has: page.locator('.col-subject', { hasText: new RegExp(`^${subject}$`) }),
    });
  }

  async function openRow(page, subject) {
    const row = rowFor(page, subject);
    await row.click();
    await page.waitForFunction((want) => {
      const reader = document.getElementById('reader');
      const article = document.getElementById('reader-message');
      return reader.getAttribute('aria-busy') === 'false' && !article.hidden &&
        document.getElementById('reader-subject').textContent.trim() === want;
    }, subject);
    return row;
  }

  async function rowClass(row) {
    return (await row.getAttribute('class')) || '';
  }

  async function waitRowClass(page, subject, cls, present) {
    await page.waitForFunction(({ want, cls, present }) => {
      const row = [...document.querySelectorAll('#message-list .msg-row[data-uid]')]
        .find((tr) => tr.querySelector('.col-subject').textContent.trim() === want);
      return row && row.classList.contains(cls) === present;
    }, { want: subject, cls, present });
  }

  /** The next message frame the page posts: its CSP, the HTML posted and the document served. */
  async function nextFrame(page) {
    const response = await page.waitForResponse((res) => new URL(res.url()).pathname === '/frame' &&
      res.request().method() === 'POST', { timeout: STEP_TIMEOUT });
    assert.equal(response.status(), 200);
    return {
      csp: (await response.allHeaders())['content-security-policy'],
      posted: new URLSearchParams(response.request().postData()).get('html'),
      served: await response.text(),
    };
  }

  async function saveShot(page, name) {
    await mkdir(OUTPUT, { recursive: true });
    await mkdir(SCREENSHOTS, { recursive: true });
    const file = path.join(OUTPUT, name);
    await page.screenshot({ path: file });
    const { size } = await stat(file);
    assert.ok(size < 400_000, `${name} is ${size} bytes`);
    await copyFile(file, path.join(SCREENSHOTS, name));
  }

  test('f. open the newest message: subject and text in the reader, row becomes read', { timeout: TEST_TIMEOUT }, async () => {
    requireRig();
    const { context, page, record } = await signedIn('f');
    try {
      await shotOnFailure(page, 'webmail-f', async () => {
        const first = rowAt(page, 1);
        const subject = (await first.locator('.col-subject').textContent()).trim();
        if (NEWEST_SUBJECT !== undefined) assert.equal(subject, NEWEST_SUBJECT.trim());
        await openRow(page, subject);
        const text = (await page.textContent('#reader-text')).trim();
        assert.ok(await page.isVisible('#reader-text'), 'the plain text is not shown');
        assert.ok(text.length > 0, 'the reader shows no text');
        if (NEWEST_SUBJECT !== undefined) assert.match(text, /the newest in this mailbox/);
        const headers = await page.textContent('#reader-headers');
        assert.match(headers, /From/);
        assert.match(headers, /Date/);
        await waitRowClass(page, subject, 'read', true);
        assert.equal(await first.getAttribute('aria-selected'), 'true');

        // Keyboard: j/k move the selection, ? shows the help.
        await page.keyboard.press('j');
        assert.equal(await rowAt(page, 2).getAttribute('aria-selected'), 'true');
        await page.keyboard.press('k');
        assert.equal(await first.getAttribute('aria-selected'), 'true');
        // Shift+arrows extend the selection from the list; Space toggles the focused row.
        await page.focus('#message-list');
        await page.keyboard.press('Shift+ArrowDown');
        await page.keyboard.press('Shift+ArrowDown');
        assert.equal(await page.locator('#message-list .msg-row[aria-selected="true"]').count(), 3);
        assert.equal((await page.textContent('#selection-count')).trim(), '3 selected');
        assert.equal(await page.getAttribute('#message-list', 'aria-activedescendant'), await rowAt(page, 3).getAttribute('id'));
        await page.keyboard.press('Space');
        assert.equal(await rowAt(page, 3).getAttribute('aria-selected'), 'false');
        await page.keyboard.press('ArrowUp');
        await page.keyboard.press('ArrowUp');
        assert.equal(await page.locator('#message-list .msg-row[aria-selected="true"]').count(), 1);
        assert.equal(await first.getAttribute('aria-selected'), 'true');
        await page.keyboard.press('?');
        await page.waitForSelector('#help[open]');
        assert.match(await page.textContent('#help'), /Mark read \/ unread/);
        await page.keyboard.press('Escape');
        await page.waitForSelector('#help:not([open])', { state: 'attached' });

        await saveShot(page, 'webmail-reader.png');
        await page.emulateMedia({ colorScheme: 'dark' });
        await saveShot(page, 'webmail-reader-dark.png');
        await page.emulateMedia({ colorScheme: 'light' });

        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
        const csp = record.console.filter((line) => /Content Security Policy/i.test(line));
        assert.deepEqual(csp, [], 'the page broke its Content Security Policy');
      });
    } finally {
      await context.close();
    }
  });

  test('g. hostile HTML mail executes nothing and loads nothing from outside', { timeout: TEST_TIMEOUT }, async () => {
    requireImap();
    const subject = uniqueWord('Hostile HTML ');
    const remote = 'http://198.51.100.7';
    const html = [
      '<html><head><style>body { background: url(' + remote + '/style-bg.png) }</style>',
      '<link rel="stylesheet" href="' + remote + '/sheet.css"></head><body>',
      '<p id="visible">Visible HTML body</p>',
      '<script>alert("XSS-MARKER"); console.log("XSS-MARKER script")</script>',
      '<svg onload="console.log(\'XSS-MARKER svg\')"><image href="' + remote + '/svg.png"/></svg>',
      '<div style="background-image: url(' + remote + '/inline-bg.png)">styled</div>',
      '<img src="' + remote + '/remote.png" alt="remote" onerror="console.log(\'XSS-MARKER img\')">',
      '<img srcset="' + remote + '/set.png 2x">',
      '<table background="' + remote + '/table.png"><tr><td>cell</td></tr></table>',
      '<a href="javascript:console.log(\'XSS-MARKER link\')">js link</a>',
      '<form action="' + remote + '/form"><input name="q"></form>',
      '<iframe src="' + remote + '/frame"></iframe>',
      '</body></html>',
    ].join('\n');
    await appendMessage(imapConn(), SCRATCH,
      rfc822({ subject, contentType: 'text/html; charset=utf-8', body: html }));

    const { context, page, record } = await signedIn('g', SCRATCH);
    const requests = [];
    const dialogs = [];
    page.on('request', (req) => requests.push(req.url()));
    page.on('dialog', async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    try {
      await shotOnFailure(page, 'webmail-g', async () => {
        const framed = nextFrame(page);
        await openRow(page, subject);
        await page.waitForSelector('#reader-html:not([hidden])');
        const { csp, posted, served } = await framed;
        assert.match(posted, /Visible HTML body/);
        assert.ok(served.endsWith(posted), 'the frame shows exactly what the page posted');
        for (const bad of ['198.51.100.7', '<script', '<svg', 'onload', 'onerror', 'javascript:', '<form', '<iframe', 'url(']) {
          assert.ok(!posted.includes(bad), `the sanitized HTML still contains ${bad}`);
        }
        assert.match(csp, /^sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; /);
        assert.match(csp, /img-src data: blob:;/);
        assert.ok(!/script|allow-same-origin/.test(csp), `frame CSP too open: ${csp}`);
        const sandbox = await page.getAttribute('#reader-html', 'sandbox');
        assert.ok(!/allow-scripts|allow-same-origin/.test(sandbox), `sandbox too open: ${sandbox}`);
        assert.equal(await page.isVisible('#reader-note'), true, 'no note about blocked remote content');
        // The frame rendered (read from outside; nothing runs inside).
        const frame = await (await page.$('#reader-html')).contentFrame();
        if (frame) {
          await frame.waitForSelector('#visible', { state: 'attached' }).catch(() => {});
          const body = await frame.textContent('body').catch(() => null);
          if (body !== null) assert.match(body, /Visible HTML body/);
        }
        await page.waitForTimeout(1500);

        const foreign = requests.filter((url) => !sameOrigin(url, BASE_URL) && !url.startsWith('data:') &&
          !url.startsWith('about:'));
        assert.deepEqual(foreign, [], 'requests left the bridge');
        assert.deepEqual(dialogs, [], 'a dialog opened');
        const markers = record.console.filter((line) => line.includes('XSS-MARKER'));
        assert.deepEqual(markers, [], 'script from the message ran');
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
        await page.screenshot({ path: path.join(OUTPUT, 'webmail-html.png') });
      });
    } finally {
      await context.close();
    }
  });

  test('h. flag/unflag and read/unread toggle the row', { timeout: TEST_TIMEOUT }, async () => {
    requireImap();
    const subject = uniqueWord('Toggle me ');
    await appendPlain(subject, 'Flags test.');
    const { context, page, record } = await signedIn('h', SCRATCH);
    try {
      await shotOnFailure(page, 'webmail-h', async () => {
        const row = rowFor(page, subject);
        assert.match(await rowClass(row), /\bunread\b/);
        await openRow(page, subject);
        await waitRowClass(page, subject, 'read', true);
        await page.keyboard.press('u');
        await waitRowClass(page, subject, 'unread', true);
        assert.equal((await page.textContent('#act-read')).trim(), 'Mark read');
        await page.click('#act-read');
        await waitRowClass(page, subject, 'read', true);
        await page.keyboard.press('s');
        await waitRowClass(page, subject, 'flagged', true);
        assert.equal((await page.textContent('#act-flag')).trim(), 'Unflag');
        await page.click('#act-flag');
        await waitRowClass(page, subject, 'flagged', false);
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  test('i. delete moves the message to Trash', { timeout: TEST_TIMEOUT }, async () => {
    requireImap();
    const subject = uniqueWord('Delete me ');
    await appendPlain(subject, 'Delete test.');
    const { context, page, record, folders } = await signedIn('i', SCRATCH);
    try {
      await shotOnFailure(page, 'webmail-i', async () => {
        const trash = findSpecial(folders, 'trash');
        await rowFor(page, subject).click();
        await page.keyboard.press('#');
        await rowFor(page, subject).waitFor({ state: 'detached' });
        assert.match(await page.textContent('#list-status'), /Moved to Trash/);
        await openFolder(page, trash.name);
        await rowFor(page, subject).waitFor();
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  test('j. search finds a message by a unique word', { timeout: TEST_TIMEOUT }, async () => {
    requireImap();
    const word = uniqueWord('zebra');
    const subject = `Search target ${word.slice(5)}`;
    await appendPlain(subject, `The body carries the word ${word} once.`);
    const { context, page, record } = await signedIn('j', SCRATCH);
    try {
      await shotOnFailure(page, 'webmail-j', async () => {
        await page.keyboard.press('/');
        assert.equal(await page.evaluate(() => document.activeElement.id), 'search-input');
        await page.keyboard.type(word);
        await page.keyboard.press('Enter');
        await page.waitForSelector('#search-clear:not([hidden])');
        await waitForMailbox(page, SCRATCH);
        assert.deepEqual(await shownSubjects(page), [subject]);
        assert.match(await page.textContent('#mailbox-count'), /1 result for/);
        await page.click('#search-clear');
        await page.waitForSelector('#search-clear', { state: 'hidden' });
        await waitForMailbox(page, SCRATCH);
        assert.ok((await page.locator('#message-list .msg-row[data-uid]').count()) >= 1);
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  test('k. a message appended by another connection appears without reload', { timeout: TEST_TIMEOUT }, async () => {
    requireImap();
    const subject = uniqueWord('Live arrival ');
    const { context, page, record } = await signedIn('k', SCRATCH);
    try {
      await shotOnFailure(page, 'webmail-k', async () => {
        await page.evaluate(() => { window.__notReloaded = true; });
        await page.waitForTimeout(500); // IDLE starts once the page is quiet
        await appendPlain(subject, 'Arrived while the folder was open.');
        await rowFor(page, subject).waitFor({ timeout: 10_000 });
        const first = (await rowAt(page, 1).locator('.col-subject').textContent()).trim();
        assert.equal(first, subject, 'the new message is not on top');
        assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page reloaded');
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  test('kb. folders open with QRESYNC enabled: an expunge and a flag change by another connection show live', { timeout: 45_000 }, async () => {
    requireImap();
    const gone = uniqueWord('Expunged elsewhere ');
    const kept = uniqueWord('Flagged elsewhere ');
    for (const subject of [gone, kept]) await appendPlain(subject, 'Changed by another connection.');
    let latest;
    const { context, page, record } = await signedIn('kb', SCRATCH, (page) => { latest = watchImap(page); });
    try {
      await shotOnFailure(page, 'webmail-kb', async () => {
        const wire = latest().sent;
        const enable = wire.search(/^\S+ ENABLE QRESYNC\r$/m);
        const select = wire.search(/^\S+ SELECT /m);
        assert.ok(enable >= 0 && enable < select, `QRESYNC not enabled before the first SELECT:\n${wire.slice(0, 2000)}`);
        assert.match(wire, new RegExp(`^\\S+ SELECT ${SCRATCH}\\r$`, 'm'));
        await rowFor(page, gone).waitFor();
        await page.waitForTimeout(500); // IDLE starts once the page is quiet
        await withImap(imapConn(), async (send) => {
          await send(`SELECT ${SCRATCH}`);
          const uidOf = async (subject) => (await send(`UID SEARCH SUBJECT "${subject}"`)).match(/^\* SEARCH (\d+)/m)[1];
          const [goneUid, keptUid] = [await uidOf(gone), await uidOf(kept)];
          await send(`UID STORE ${keptUid} +FLAGS.SILENT (\\Flagged)`);
          await send(`UID STORE ${goneUid} +FLAGS.SILENT (\\Deleted)`);
          await send(`UID EXPUNGE ${goneUid}`);
        });
        await rowFor(page, gone).waitFor({ state: 'detached', timeout: 10_000 });
        await waitRowClass(page, kept, 'flagged', true);
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  // ------------------------------------------------------------ the cache on the device (row L0001)

  /** Entries the page's IndexedDB cache holds in `stores` for `folder` (all folders when null) of this account. */
  const cachedCounts = (page, folder = null, stores = ['summaries', 'mailboxes']) => page.evaluate(async ({ account, folder, stores }) => {
    if (!(await indexedDB.databases()).some((d) => d.name === 'webmail-cache')) return Object.fromEntries(stores.map((n) => [n, 0]));
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open('webmail-cache');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const prefix = folder === null ? [account] : [account, folder];
    const range = IDBKeyRange.bound(prefix, [...prefix, []]);
    const tx = db.transaction(stores);
    const counts = stores.map((name) => tx.objectStore(name).count(range));
    await new Promise((resolve) => { tx.oncomplete = resolve; });
    db.close();
    return Object.fromEntries(stores.map((name, i) => [name, counts[i].result]));
  }, { account: JSON.stringify([SERVER_ID, USER]), folder, stores });

  /** The cache's counts once `ready(counts)` holds (its writes land a moment after the list shows), or after 5 s. */
  async function cachedWhen(page, folder, ready, stores = undefined) {
    for (let i = 0; ; i++) {
      const counts = await cachedCounts(page, folder, stores);
      if (ready(counts) || i >= 50) return counts;
      await page.waitForTimeout(100);
    }
  }

  /**
   * A WebSocket's IMAP bytes as text: after the line containing `marker` (the COMPRESS
   * exchange) the stream is raw DEFLATE, inflated here.
   */
  function imapText(frames, marker) {
    const all = Buffer.concat(frames);
    const at = all.indexOf(marker);
    if (at < 0) return all.toString('latin1');
    const body = all.indexOf('\r\n', at) + 2;
    const inflated = inflateRawSync(all.subarray(body), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    return all.subarray(0, body).toString('latin1') + inflated.toString('latin1');
  }

  /**
   * Records the IMAP bytes of each sign-in's WebSocket; the function returned reads the newest:
   * how many header FETCH responses came, what the page sent and what it received.
   */
  function watchImap(page) {
    const sockets = [];
    page.on('websocket', (ws) => {
      const socket = { received: [], sent: [] };
      sockets.push(socket);
      ws.on('framereceived', (frame) => socket.received.push(Buffer.from(frame.payload)));
      ws.on('framesent', (frame) => socket.sent.push(Buffer.from(frame.payload)));
    });
    return () => {
      const { received, sent } = sockets[sockets.length - 1];
      const text = imapText(received, 'Begin compression');
      return { headers: (text.match(/BODY\[HEADER\]/g) || []).length, sent: imapText(sent, 'COMPRESS DEFLATE'), received: text };
    };
  }

  /** The UIDs of an IMAP UID set (`3:5,9`), one by one. */
  function uidList(set) {
    return set.split(',').flatMap((run) => {
      const [first, last = first] = run.split(':').map(Number);
      return Array.from({ length: last - first + 1 }, (_, i) => first + i);
    });
  }

  /** Sign in on an already loaded page, wait for INBOX and then `folder` to finish syncing. */
  async function signInAndSync(page, folder) {
    await openLoginForm(page);
    await submitLogin(page, PASS);
    await waitForMailView(page);
    await page.waitForSelector('#message-pane[data-mailbox="INBOX"][data-synced="true"]', { timeout: 30_000 });
    if (folder) {
      await openFolder(page, folder);
      await page.waitForSelector('#message-pane[data-synced="true"]', { timeout: 30_000 });
    }
  }

  async function signOutToLogin(page) {
    await page.click('#sign-out');
    await page.waitForSelector('#login-form', { state: 'visible' });
  }

  test('kc. l0001 a folder and an opened message come from the IndexedDB cache; a flag change, an expunge and new mail from elsewhere show', { timeout: 90_000 }, async () => {
    requireImap();
    const count = 30;
    const subjects = Array.from({ length: count }, (_, i) => uniqueWord(`Cached ${i} `));
    const folder = await scratchFolder('Cache', subjects.map((subject) => ({ subject, body: 'Kept on the device.' })));
    const [flagged, gone, arrived] = [subjects[5], subjects[10], uniqueWord('Arrived while away ')];
    const created = uniqueWord('CreatedAway');
    const { context, page, record } = await openPage('kc');
    const latest = watchImap(page);
    try {
      await shotOnFailure(page, 'webmail-kc', async () => {
        await page.setViewportSize({ width: 1400, height: 860 });
        await signInAndSync(page, folder);
        const first = latest().headers;
        assert.ok(first >= count, `the first visit fetched only ${first} headers`);
        await openRow(page, subjects[count - 2]);
        // The opened message is kept once its structure came too, a moment after it shows.
        const stored = await cachedWhen(page, folder, (c) => c.mailboxes > 0 && c.bodies > 0, ['summaries', 'mailboxes', 'bodies']);
        assert.deepEqual(stored, { summaries: count, mailboxes: 1, bodies: 1 });
        await signOutToLogin(page);

        await withImap(imapConn(), async (send) => {
          await send(`SELECT ${folder}`);
          const uidOf = async (subject) => (await send(`UID SEARCH SUBJECT "${subject}"`)).match(/^\* SEARCH (\d+)/m)[1];
          const [flaggedUid, goneUid] = [await uidOf(flagged), await uidOf(gone)];
          await send(`UID STORE ${flaggedUid} +FLAGS.SILENT (\\Flagged)`);
          await send(`UID STORE ${goneUid} +FLAGS.SILENT (\\Deleted)`);
          await send(`UID EXPUNGE ${goneUid}`);
          await send(`CREATE ${created}`);
        });
        await appendMessage(imapConn(), folder, rfc822({ subject: arrived, body: 'New since the last visit.' }));

        await signInAndSync(page, folder);
        const again = latest().headers;
        assert.ok(again <= 5, `the second visit fetched ${again} headers; the cache should have had them`);
        assert.match(latest().sent, new RegExp(`^\\S+ SELECT ${folder} \\(QRESYNC \\(\\d+ \\d+\\)\\)`, 'm'),
          'the folder was not opened with the cached state');
        // The folders showed from the cache: INBOX was selected before they were listed again.
        const wire = latest().sent;
        const selectInbox = wire.search(/^\S+ SELECT INBOX[ \r]/m);
        assert.ok(selectInbox >= 0 && selectInbox < wire.search(/^\S+ LIST /m), 'INBOX waited for LIST: the folders did not come from the cache');
        await page.locator(`#folder-list .folder[data-name="${created}"]`).waitFor();
        await waitRowClass(page, flagged, 'flagged', true);
        await openRow(page, subjects[count - 2]);
        assert.match(await page.textContent('#reader-text'), /Kept on the device\./);
        assert.doesNotMatch(latest().sent, /BODY\.PEEK\[\]|BODYSTRUCTURE/, 'the opened message was fetched again');
        await rowFor(page, arrived).waitFor();
        assert.equal(await rowFor(page, gone).count(), 0, 'the message expunged elsewhere still shows');
        assert.match(await page.textContent('#mailbox-count'), new RegExp(`^${count} messages`));
        const after = await cachedWhen(page, folder, (c) => c.summaries === count);
        assert.deepEqual(after, { summaries: count, mailboxes: 1 }, 'the cache did not follow the changes');
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
      await dropFolder(folder);
      await dropFolder(created);
    }
  });

  test('kd. l0001 "Forget mail on this device" at sign-out leaves nothing in IndexedDB', { timeout: 60_000 }, async () => {
    requireRig();
    const { context, page, record } = await openPage('kd');
    try {
      await shotOnFailure(page, 'webmail-kd', async () => {
        await page.setViewportSize({ width: 1400, height: 860 });
        await openLoginForm(page);
        assert.match(await page.textContent('#login-form'), /kept on this device/);
        await signInAndSync(page, null);
        await openRow(page, (await rowAt(page, 1).locator('.col-subject').textContent()).trim());
        const all = ['summaries', 'mailboxes', 'bodies', 'folders'];
        const before = await cachedWhen(page, null, (c) => c.mailboxes > 0 && c.bodies > 0, all);
        assert.deepEqual(Object.values(before).map((n) => n > 0), [true, true, true, true], `not all cached: ${JSON.stringify(before)}`);
        await page.check('#forget-setting');
        await signOutToLogin(page);
        assert.match(await page.textContent('#login-status'), /deleted/);
        assert.deepEqual(await cachedCounts(page, null, all), { summaries: 0, mailboxes: 0, bodies: 0, folders: 0 });
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  test('ke. l0001 without QRESYNC the page catches up on the cached flags with FETCH CHANGEDSINCE', { timeout: 60_000 }, async () => {
    requireImap();
    const subjects = [uniqueWord('Catch up '), uniqueWord('Catch up ')];
    const folder = await scratchFolder('CatchUp', subjects.map((subject) => ({ subject, body: 'Flags only.' })));
    const { context, page, record } = await openPage('ke');
    // The page hears of no QRESYNC, as from a server with CONDSTORE alone.
    await page.route('**/pkg/client_wasm.js', async (route) => {
      const response = await route.fetch();
      const body = `${await response.text()}
const login = ImapClient.prototype.login;
ImapClient.prototype.login = async function (...args) {
  const answer = await login.apply(this, args);
  return { ...answer, capabilities: answer.capabilities.filter((c) => c !== 'QRESYNC') };
};`;
      await route.fulfill({ response, body });
    });
    const latest = watchImap(page);
    try {
      await shotOnFailure(page, 'webmail-ke', async () => {
        await page.setViewportSize({ width: 1400, height: 860 });
        await signInAndSync(page, folder);
        assert.doesNotMatch(latest().sent, /CHANGEDSINCE/, 'nothing was cached, yet flags were caught up');
        await cachedWhen(page, folder, (c) => c.mailboxes > 0);
        await signOutToLogin(page);
        await withImap(imapConn(), async (send) => {
          await send(`SELECT ${folder}`);
          await send(`STORE 1 +FLAGS.SILENT (\\Flagged)`);
        });
        await signInAndSync(page, folder);
        assert.match(latest().sent, /^\S+ UID FETCH 1:\* \(UID FLAGS\) \(CHANGEDSINCE \d+/m, 'no flag catch-up');
        await waitRowClass(page, subjects[0], 'flagged', true);
        assert.equal(latest().headers, 0, 'headers were fetched again');
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
      await dropFolder(folder);
    }
  });

  test('kf. l0001 a folder recreated under the same name (new UIDVALIDITY) drops its cache', { timeout: 60_000 }, async () => {
    requireImap();
    const [old1, old2, fresh] = [uniqueWord('Old one '), uniqueWord('Old two '), uniqueWord('Recreated ')];
    const folder = await scratchFolder('Recreate', [old1, old2].map((subject) => ({ subject, body: 'Before.' })));
    const { context, page, record } = await openPage('kf');
    const latest = watchImap(page);
    try {
      await shotOnFailure(page, 'webmail-kf', async () => {
        await page.setViewportSize({ width: 1400, height: 860 });
        await signInAndSync(page, folder);
        await expectSubjects(page, [old2, old1]);
        assert.deepEqual(await cachedWhen(page, folder, (c) => c.mailboxes > 0), { summaries: 2, mailboxes: 1 });
        await signOutToLogin(page);
        await withImap(imapConn(), async (send) => {
          await send(`DELETE ${folder}`);
          await send(`CREATE ${folder}`);
          await send(`APPEND ${folder}`, rfc822({ subject: fresh, body: 'After.' }));
        });
        await signInAndSync(page, folder);
        assert.match(latest().sent, new RegExp(`^\\S+ SELECT ${folder} \\(QRESYNC \\(`, 'm'), 'the cache was not offered');
        await expectSubjects(page, [fresh]);
        assert.deepEqual(await cachedWhen(page, folder, (c) => c.summaries === 1), { summaries: 1, mailboxes: 1 });
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
      await dropFolder(folder);
    }
  });

  // ------------------------------------------------------------ big folder, selection, undo, folders, narrow

  /** Rows of the list in the DOM (the list is virtual). */
  const domRows = (page) => page.locator('#message-list .msg-row');

  test('l. a 100,000-message folder: newest rows first, a bounded DOM, background sync, scroll to the end', { timeout: 180_000 }, async () => {
    requireRig();
    if (!BULK_USER || !BULK_PASS || !BULK) throw new Error('E2E_BULK_USER, E2E_BULK_PASS and E2E_BULK are not set');
    const { context, page, record } = await openPage('l');
    await page.setViewportSize({ width: 1400, height: 860 });
    const relayedBefore = await bytesToBrowser();
    try {
      await shotOnFailure(page, 'webmail-l', async () => {
        await openLoginForm(page);
        await submitLogin(page, BULK_PASS, SERVER_ID, BULK_USER);
        await waitForMailView(page);
        await rowAt(page, 1).locator('.col-subject', { hasText: `Newest test message ${BULK}` }).waitFor();
        assert.equal(await rowAt(page, 1).getAttribute('aria-setsize'), String(BULK));
        assert.match(await page.textContent('#mailbox-count'), new RegExp(`${BULK.toLocaleString()} messages`));
        // The rest loads in the background behind a progress bar.
        assert.equal(await page.isVisible('#sync'), true, 'no progress bar while the headers load');
        const progress = await page.$eval('#sync-progress', (p) => ({ value: p.value, max: p.max }));
        assert.ok(progress.value < progress.max, `already complete: ${JSON.stringify(progress)}`);
        // Markers: the generated mailbox has unread, flagged and answered messages near the top.
        for (const mark of ['mark-unread', 'mark-flagged', 'mark-answered']) {
          assert.ok(await page.locator(`#message-list .msg-row .${mark}`).count() > 0, `no ${mark} in view`);
        }
        assert.match(await page.locator('#message-list .msg-row.unread').first().textContent(), /Unread/);
        await saveShot(page, 'webmail-100k.png');

        // Jump to the middle while the sync runs: the rows now on screen are fetched next,
        // long before the background order (newest first) would reach them.
        await page.$eval('#list-scroller', (s) => { s.scrollTop = s.scrollHeight / 2; });
        const middle = await page.evaluate(() => {
          const s = document.getElementById('list-scroller');
          const h = parseFloat(getComputedStyle(document.getElementById('message-list')).getPropertyValue('--row-h'));
          return Math.floor(s.scrollTop / h) + 2;
        });
        await page.locator(`#message-list .msg-row[aria-posinset="${middle}"][data-uid]`).waitFor();
        const loadedThen = await page.$eval('#sync-progress', (p) => p.value);
        assert.ok(loadedThen < BULK / 2, `the middle came only after ${loadedThen} headers`);

        await page.waitForSelector('#message-pane[data-synced="true"]', { timeout: 150_000 });
        assert.equal(await page.isHidden('#sync'), true);
        // COMPRESS=DEFLATE (Dovecot's imap_zlib): the headers cross the bridge deflated.
        // Uncompressed they are over 600 bytes per message with the FETCH syntax.
        const relayed = (await bytesToBrowser()) - relayedBefore;
        console.log(`test l: ${(relayed / BULK).toFixed(0)} bytes per message relayed to the browser`);
        assert.ok(relayed < BULK * 300, `${relayed} bytes relayed for ${BULK} headers: not compressed?`);
        // Scroll through the list frame by frame: the DOM stays small, frames stay short.
        const frames = await page.evaluate(async () => {
          const scroller = document.getElementById('list-scroller');
          const times = [];
          let max = 0;
          for (let i = 0; i < 60; i++) {
            const t = performance.now();
            scroller.scrollTop += 40_000;
            await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
            times.push(performance.now() - t);
            max = Math.max(max, document.querySelectorAll('#message-list .msg-row').length);
          }
          times.sort((a, b) => a - b);
          return { median: times[30], maxRows: max };
        });
        assert.ok(frames.maxRows <= 80, `${frames.maxRows} rows in the DOM`);
        assert.ok(frames.median < 100, `scrolling took ${frames.median} ms per step (median)`);
        // To the end with the keyboard: the oldest message, position 100,000.
        await page.focus('#message-list');
        await page.keyboard.press('End');
        const last = rowAt(page, BULK);
        await last.locator('.col-subject', { hasText: 'Welcome to the test mailbox' }).waitFor();
        assert.equal(await last.getAttribute('aria-selected'), 'true');
        assert.ok(await domRows(page).count() <= 80);
        assert.equal(await page.getAttribute('#message-list', 'aria-activedescendant'), await last.getAttribute('id'));
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  test('m. select with Shift and Ctrl, drag the selection onto a folder, undo', { timeout: TEST_TIMEOUT }, async () => {
    requireImap();
    const subjects = [uniqueWord('Drag one '), uniqueWord('Drag two '), uniqueWord('Drag three ')];
    for (const subject of subjects) await appendPlain(subject, 'Drag test.');
    let latest;
    const { context, page, record, folders } = await signedIn('m', SCRATCH, (page) => { latest = watchImap(page); });
    const archive = findSpecial(folders, 'archive');
    try {
      await shotOnFailure(page, 'webmail-m', async () => {
        // Newest first: three, two, one.
        await rowFor(page, subjects[2]).click();
        await rowFor(page, subjects[0]).click({ modifiers: ['Shift'] });
        assert.equal(await page.locator('#message-list .msg-row[aria-selected="true"]').count(), 3);
        await rowFor(page, subjects[1]).click({ modifiers: ['Control'] });
        assert.equal(await rowFor(page, subjects[1]).getAttribute('aria-selected'), 'false');
        assert.equal(await page.locator('#message-list .msg-row[aria-selected="true"]').count(), 2);

        await rowFor(page, subjects[0]).dragTo(page.locator(`#folder-list .folder[data-name="${archive.name}"]`));
        await rowFor(page, subjects[0]).waitFor({ state: 'detached' });
        await rowFor(page, subjects[2]).waitFor({ state: 'detached' });
        assert.equal(await rowFor(page, subjects[1]).count(), 1, 'the unselected message moved too');
        assert.match(await page.textContent('#list-status'), /Moved to .*2 messages/);

        await page.click('#undo');
        await waitForMailbox(page, SCRATCH);
        await page.waitForFunction(() => /back to/.test(document.getElementById('list-status').textContent));
        assert.match(await page.textContent('#list-status'), /^Moved 2 messages back to Junk\.$/);
        // Undo moved back exactly the UIDs the server's COPYUID gave the moved messages.
        const { sent, received } = latest();
        // The first COPYUID answers the move to Archive, the second the move back.
        const given = [...received.matchAll(/^\* OK \[COPYUID \d+ \S+ (\S+)\]/gm)].map((m) => m[1]);
        assert.equal(given.length, 2, `COPYUID answers: ${given}`);
        // Nothing looked for them in Archive (no FETCH of new headers, no SEARCH).
        const back = sent.match(/^\S+ SELECT Archive\r\n\S+ UID MOVE (\S+) Junk\r$/m);
        assert.ok(back, `undo did not move back at once after selecting Archive:\n${sent}`);
        assert.deepEqual(uidList(back[1]), uidList(given[0]));
        await rowFor(page, subjects[0]).waitFor();
        await rowFor(page, subjects[2]).waitFor();
        await openFolder(page, archive.name);
        await page.waitForSelector('#message-pane[data-synced="true"]');
        assert.equal(await rowFor(page, subjects[0]).count(), 0, 'still in Archive after undo');

        // The Move to… menu, by keyboard: back in Junk, move one message to Archive.
        await openFolder(page, SCRATCH);
        await rowFor(page, subjects[1]).click();
        await page.focus('#message-list');
        await page.keyboard.press('v');
        await page.waitForSelector('#menu:not([hidden])');
        const items = await page.$$eval('#menu [role="menuitem"]', (n) => n.map((i) => i.textContent));
        assert.ok(items.includes(archive.text), `menu lacks Archive: ${items}`);
        await page.click(`#menu [role="menuitem"][data-value="${archive.name}"]`);
        await rowFor(page, subjects[1]).waitFor({ state: 'detached' });
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  test('n. delete, undo brings it back; delete again and find it in Trash', { timeout: TEST_TIMEOUT }, async () => {
    requireImap();
    const subject = uniqueWord('Undo delete ');
    await appendPlain(subject, 'Undo test.');
    const { context, page, record, folders } = await signedIn('n', SCRATCH);
    try {
      await shotOnFailure(page, 'webmail-n', async () => {
        await rowFor(page, subject).click();
        await page.keyboard.press('#');
        await rowFor(page, subject).waitFor({ state: 'detached' });
        assert.match(await page.textContent('#list-status'), /Moved to Trash/);
        await page.focus('#message-list');
        await page.keyboard.press('z');
        await page.waitForFunction(() => /back to/.test(document.getElementById('list-status').textContent));
        await rowFor(page, subject).waitFor();
        await rowFor(page, subject).click();
        await page.click('#act-delete');
        await rowFor(page, subject).waitFor({ state: 'detached' });
        await openFolder(page, findSpecial(folders, 'trash').name);
        await rowFor(page, subject).waitFor();
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  test('q. undo brings back a message without Message-ID (found above the old UIDNEXT)', { timeout: TEST_TIMEOUT }, async () => {
    requireImap();
    const subject = uniqueWord('No id ');
    const bare = rfc822({ subject, body: 'This one has no id header.' }).replace(/^Message-ID: .*\r\n/m, '');
    assert.ok(!/Message-ID/i.test(bare));
    await appendMessage(imapConn(), SCRATCH, bare);
    const { context, page, record } = await signedIn('q', SCRATCH);
    try {
      await shotOnFailure(page, 'webmail-q', async () => {
        await rowFor(page, subject).click();
        await page.click('#act-archive');
        await rowFor(page, subject).waitFor({ state: 'detached' });
        await page.click('#undo');
        await page.waitForFunction(() => /back to/.test(document.getElementById('list-status').textContent));
        assert.equal((await page.textContent('#list-status')).trim(), 'Moved 1 message back to Junk.');
        await rowFor(page, subject).waitFor();
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  test('z. copy with Shift+C; undo removes exactly the copies (COPYUID) and keeps the originals', { timeout: 45_000 }, async () => {
    requireImap();
    const subjects = [uniqueWord('Copy one '), uniqueWord('Copy two ')];
    for (const subject of subjects) await appendPlain(subject, 'Copy test.');
    const dest = await scratchFolder('CopyDest', [{ subject: 'Already there', body: 'stays' }]);
    const count = async (box, subject) => {
      const text = await withImap(imapConn(), async (send) => {
        await send(`EXAMINE ${box}`);
        return send(subject ? `UID SEARCH SUBJECT "${subject}"` : 'UID SEARCH ALL');
      });
      return (text.match(/^\* SEARCH([ \d]*)/m)?.[1] || '').trim().split(/\s+/).filter(Boolean).length;
    };
    const { context, page, record } = await signedIn('z', SCRATCH);
    try {
      await shotOnFailure(page, 'webmail-z', async () => {
        await rowFor(page, subjects[1]).click();
        await rowFor(page, subjects[0]).click({ modifiers: ['Shift'] });
        await page.focus('#message-list');
        await page.keyboard.press('Shift+C');
        await page.waitForSelector('#menu:not([hidden])');
        await page.click(`#menu [role="menuitem"][data-value="${dest}"]`);
        await page.waitForFunction(() => /^Copied/.test(document.getElementById('list-status').textContent));
        assert.equal((await page.textContent('#list-status')).trim(), `Copied 2 messages to ${dest}.`);
        assert.equal(await page.isVisible('#undo'), true);
        assert.equal(await count(dest), 3);

        await page.focus('#message-list');
        await page.keyboard.press('z');
        await page.waitForFunction(() => /^Removed/.test(document.getElementById('list-status').textContent));
        assert.equal((await page.textContent('#list-status')).trim(), `Removed 2 copied messages from ${dest}.`);
        await waitForMailbox(page, SCRATCH);
        for (const subject of subjects) {
          await rowFor(page, subject).waitFor();
          assert.equal(await count(dest, subject), 0, 'a copy is left');
          assert.equal(await count(SCRATCH, subject), 1, 'the original is gone');
        }
        assert.equal(await count(dest), 1, 'undo took more than the copies');
        assert.equal(await page.isVisible('#undo'), false);
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
      await dropFolder(dest);
    }
  });

  test('za. without COPYUID a copy says it cannot be undone, and z then undoes nothing', { timeout: 45_000 }, async () => {
    requireImap();
    const [archived, copied] = [uniqueWord('Archived before '), uniqueWord('Copy without COPYUID ')];
    for (const subject of [archived, copied]) await appendPlain(subject, 'Copy test.');
    const dest = await scratchFolder('CopyBare', []);
    // The server's answers reach the page without their COPYUID codes, as from a server without
    // UIDPLUS; COMPRESS=DEFLATE is hidden too, so the answers stay readable to rewrite.
    const withoutCopyUid = (page) => page.routeWebSocket(/\/imap$/, (ws) => {
      const server = ws.connectToServer();
      server.onMessage((message) => ws.send(typeof message === 'string' ? message
        : Buffer.from(message.toString('latin1').replace(/\[COPYUID [^\]]*\] /g, '')
          .replace(/ COMPRESS=DEFLATE/g, ''), 'latin1')));
    });
    const found = async (box, subject) => withImap(imapConn(), async (send) => {
      await send(`EXAMINE ${box}`);
      return /^\* SEARCH \d/m.test(await send(`UID SEARCH SUBJECT "${subject}"`));
    });
    const { context, page, record } = await signedIn('za', SCRATCH, withoutCopyUid);
    try {
      await shotOnFailure(page, 'webmail-za', async () => {
        // A move leaves Undo ready; the copy after it must not leave that Undo behind.
        await rowFor(page, archived).click();
        await page.click('#act-archive');
        await rowFor(page, archived).waitFor({ state: 'detached' });
        assert.equal(await page.isVisible('#undo'), true);
        await rowFor(page, copied).click();
        await page.keyboard.press('Shift+C');
        await page.click(`#menu [role="menuitem"][data-value="${dest}"]`);
        await page.waitForFunction(() => /^Copied/.test(document.getElementById('list-status').textContent));
        assert.match(await page.textContent('#list-status'), /cannot be undone/);
        assert.equal(await page.isVisible('#undo'), false);
        await page.focus('#message-list');
        await page.keyboard.press('z');
        await page.waitForTimeout(1000);
        assert.match(await page.textContent('#list-status'), /cannot be undone/);
        assert.equal(await found(dest, copied), true, 'the copy was removed');
        assert.equal(await found(SCRATCH, archived), false, 'z undid the earlier move');
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
      await dropFolder(dest);
    }
  });

  test('zb. v0007 a message over 10 MB opens as its text and attachment list; the whole comes only when asked', { timeout: 90_000 }, async () => {
    requireImap();
    const subject = uniqueWord('Large message ');
    // 8 MiB of attachment, about 11 MB once base64-encoded: over the reader's 10 MB limit.
    const attachment = Buffer.alloc(8 * 1024 * 1024, 0x5a).toString('base64').replace(/.{76}/g, '$&\n');
    const body = [
      '--large-b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Read me first: the attachment is large.',
      '--large-b1',
      'Content-Type: application/octet-stream; name="big.bin"',
      'Content-Disposition: attachment; filename="big.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      attachment,
      '--large-b1--',
      '',
    ].join('\n');
    await appendMessage(imapConn(), SCRATCH, rfc822({ subject, contentType: 'multipart/mixed; boundary="large-b1"', body }));
    let latest;
    const { context, page, record } = await signedIn('zb', SCRATCH, (page) => { latest = watchImap(page); });
    // The whole-message fetch (`BODY.PEEK[]`), as opposed to a part's (`BODY.PEEK[1]`).
    const wholeFetched = () => /BODY\.PEEK\[\]/.test(latest().sent);
    try {
      await shotOnFailure(page, 'webmail-zb', async () => {
        await openRow(page, subject);
        assert.match(await page.textContent('#reader-text'), /Read me first/);
        await page.waitForSelector('#reader-large:not([hidden])');
        assert.match(await page.textContent('#reader-large'), /This message is 1\d(\.\d)? MB/);
        await page.waitForSelector('#reader-attachments:not([hidden])');
        assert.match(await page.textContent('#attachment-list'), /big\.bin/);
        assert.equal(wholeFetched(), false, 'the whole message was fetched without asking');

        await page.click('#load-whole');
        await page.waitForSelector('#reader-large', { state: 'hidden' });
        await page.waitForFunction(() => document.getElementById('reader').getAttribute('aria-busy') === 'false');
        assert.match(await page.textContent('#reader-text'), /Read me first/);
        assert.equal(wholeFetched(), true, 'asking for the whole message did not fetch it');
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  async function folderAction(page, label) {
    await page.click('#folder-menu-button');
    await page.locator('#menu [role="menuitem"]', { hasText: label }).click();
    await page.waitForSelector('#name-dialog[open]');
  }

  async function folderCount(page, name) {
    return (await page.locator(`#folder-list .folder[data-name="${name}"] .folder-count`).textContent()).replace(/\D/g, '');
  }

  test('o. folders: create with %, *, & and non-ASCII, delimiter refused, rename, (un)subscribe, delete; unread counts', { timeout: 45_000 }, async () => {
    requireImap();
    await appendPlain(uniqueWord('Unread count '), 'Counted.');
    const unseen = async (box) => {
      const text = await withImap(imapConn(), (send) => send(`STATUS "${box}" (UNSEEN)`));
      return text.match(/UNSEEN (\d+)/)[1];
    };
    const { context, page, record, folders } = await signedIn('o');
    try {
      await shotOnFailure(page, 'webmail-o', async () => {
        // Counts: other folders by STATUS, the open INBOX from its own headers.
        await page.waitForFunction((n) => document.querySelector(`#folder-list .folder[data-name="${n}"] .folder-count`).textContent !== '', SCRATCH);
        assert.equal(await folderCount(page, SCRATCH), await unseen(SCRATCH));
        await page.waitForSelector('#message-pane[data-synced="true"]');
        const inbox = folders[0].name;
        const before = await unseen(inbox);
        assert.equal(await folderCount(page, inbox), before);
        await page.locator('#message-list .msg-row.unread').first().click();
        await page.waitForFunction(({ n, want }) => document.querySelector(`#folder-list .folder[data-name="${n}"] .folder-count`)
          .textContent.replace(/\D/g, '') === want, { n: inbox, want: String(Number(before) - 1) });

        const word = randomBytes(3).toString('hex');
        const label = `E2E 100% *wild* & Été ${word}`;
        await folderAction(page, 'New folder…');
        await page.fill('#name-input', `bad/${word}`);
        await page.click('#name-ok');
        await page.waitForFunction(() => document.getElementById('name-error').textContent !== '');
        assert.match(await page.textContent('#name-error'), /^A folder name cannot contain the hierarchy separator '\/'$/);
        await page.fill('#name-input', label);
        await page.click('#name-ok');
        const created = page.locator('#folder-list .folder', { has: page.locator('.folder-label', { hasText: label }) });
        await created.waitFor();
        const wire = await created.getAttribute('data-name');
        assert.equal(wire, `E2E 100% *wild* &- &AMk-t&AOk- ${word}`);
        assert.equal(await created.getAttribute('role'), 'treeitem');
        await created.click();
        await waitForMailbox(page, wire);
        assert.equal((await page.textContent('#mailbox-title')).trim(), label);

        await folderAction(page, 'Rename');
        await page.fill('#name-input', `${label} renamed`);
        await page.click('#name-ok');
        const renamed = page.locator('#folder-list .folder', { has: page.locator('.folder-label', { hasText: `${label} renamed` }) });
        await renamed.waitFor();
        await waitForMailbox(page, `${wire} renamed`);

        // Subscriptions, checked with LSUB on a separate connection.
        const subscribed = async () => (await withImap(imapConn(), (send) => send('LSUB "" "*"')))
          .includes(`"${wire} renamed"`);
        for (const [item, done, want] of [['Unsubscribe from', 'Unsubscribed from', false], ['Subscribe to', 'Subscribed to', true]]) {
          await page.click('#folder-menu-button');
          await page.locator('#menu [role="menuitem"]', { hasText: item }).click();
          await page.waitForFunction((text) => document.getElementById('list-status').textContent.startsWith(text), done);
          assert.equal(await subscribed(), want, `after ${item}`);
        }

        await folderAction(page, 'Delete');
        await page.fill('#name-input', 'wrong');
        await page.click('#name-ok');
        assert.match(await page.textContent('#name-error'), /does not match/);
        await page.fill('#name-input', `${label} renamed`);
        await page.click('#name-ok');
        await renamed.waitFor({ state: 'detached' });
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  test('ob. a subfolder gets its name from the engine: the parent\'s wire name, its delimiter, modified UTF-7', { timeout: 45_000 }, async () => {
    requireImap();
    const parent = await scratchFolder('Parent', []);
    const child = `${parent}/Kid &- &AMk-t&AOk-`;
    const { context, page, record } = await signedIn('ob', parent);
    try {
      await shotOnFailure(page, 'webmail-ob', async () => {
        await folderAction(page, `New folder in “${parent}”`);
        await page.fill('#name-input', 'Kid/Two');
        await page.click('#name-ok');
        await page.waitForFunction(() => document.getElementById('name-error').textContent !== '');
        assert.match(await page.textContent('#name-error'), /separator '\/'/);
        await page.fill('#name-input', 'Kid & Été');
        await page.click('#name-ok');
        const created = page.locator(`#folder-list .folder[data-name="${child}"]`);
        await created.waitFor();
        assert.equal((await created.locator('.folder-label').textContent()).trim(), 'Kid & Été');
        const listed = await withImap(imapConn(), (send) => send(`LIST "" "${parent}/*"`));
        assert.ok(listed.includes(`"${child}"`), listed);
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
      await dropFolder(`"${child}"`);
      await dropFolder(parent);
    }
  });

  test('p. narrow screen: one pane at a time with back buttons; ARIA roles; screenshots', { timeout: TEST_TIMEOUT }, async () => {
    requireRig();
    const { context, page, record } = await signedIn('p');
    try {
      await shotOnFailure(page, 'webmail-p', async () => {
        assert.equal(await page.getAttribute('#folder-list', 'role'), 'tree');
        assert.equal(await page.getAttribute('#message-list', 'role'), 'listbox');
        assert.equal(await page.getAttribute('#list-status', 'aria-live'), 'polite');
        assert.equal(await rowAt(page, 1).getAttribute('role'), 'option');

        await page.setViewportSize({ width: 390, height: 800 });
        const visible = async () => ({
          folders: await page.isVisible('#folder-pane'),
          list: await page.isVisible('#message-pane'),
          reader: await page.isVisible('#reader'),
        });
        assert.deepEqual(await visible(), { folders: false, list: true, reader: false });
        await saveShot(page, 'webmail-narrow-list.png');
        const subject = (await rowAt(page, 1).locator('.col-subject').textContent()).trim();
        await openRow(page, subject);
        assert.deepEqual(await visible(), { folders: false, list: false, reader: true });
        assert.equal(await page.evaluate(() => document.activeElement.id), 'reader-subject');
        await saveShot(page, 'webmail-narrow.png');
        await page.click('#back-to-list');
        assert.deepEqual(await visible(), { folders: false, list: true, reader: false });
        assert.equal(await page.evaluate(() => document.activeElement.id), 'message-list');
        await page.click('#back-to-folders');
        assert.deepEqual(await visible(), { folders: true, list: false, reader: false });
        assert.equal(await page.evaluate(() => document.activeElement.getAttribute('role')), 'treeitem');
        // Arrow keys walk the tree; Enter opens the folder and shows its list.
        await page.keyboard.press('ArrowDown');
        const name = await page.evaluate(() => document.activeElement.dataset.name);
        await page.keyboard.press('Enter');
        await waitForMailbox(page, name);
        assert.deepEqual(await visible(), { folders: false, list: true, reader: false });
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  /** A new folder holding `messages` (rfc822 options plus `flags`), made over a direct IMAP connection. */
  async function scratchFolder(prefix, messages) {
    const name = uniqueWord(prefix);
    await withImap(imapConn(), async (send) => {
      await send(`CREATE ${name}`);
      for (const { flags = '', ...m } of messages) {
        await send(`APPEND ${name}${flags ? ` ${flags}` : ''}`, rfc822(m));
      }
    });
    return name;
  }

  async function dropFolder(name) {
    await withImap(imapConn(), (send) => send(`DELETE ${name}`)).catch(() => {});
  }

  /** Wait until the list shows exactly `want` (subjects, in order). */
  async function expectSubjects(page, want) {
    await page.waitForFunction((n) => document.getElementById('message-pane').getAttribute('aria-busy') === 'false' &&
      document.querySelectorAll('#message-list .msg-row[data-uid]').length === n &&
      !document.getElementById('message-list').hidden, want.length, { timeout: STEP_TIMEOUT }).catch(() => {});
    assert.deepEqual(await shownSubjects(page), want);
  }

  test('r. search fields: sender, unread with a date range, flagged; clear shows the folder again', { timeout: 45_000 }, async () => {
    requireImap();
    const day = (d) => new Date(`${d}T12:00:00Z`);
    const folder = await scratchFolder('Fields', [
      { subject: 'Alpha', from: 'Ann <ann@example.org>', date: day('2020-01-05'), body: 'one', flags: '(\\Flagged)' },
      { subject: 'Beta', from: 'Bob <bob@example.org>', date: day('2021-06-01'), body: 'two' },
      { subject: 'Gamma', from: 'Cat <cat@example.org>', date: day('2022-03-03'), body: 'three', flags: '(\\Seen)' },
    ]);
    const { context, page, record } = await signedIn('r', folder);
    const search = async (fields) => {
      if (await page.getAttribute('#search-more', 'open') === null) await page.click('#search-more summary');
      for (const [name, value] of Object.entries(fields)) {
        const input = `#search-form [name="${name}"]`;
        if (value === true) await page.check(input);
        else await page.fill(input, value);
      }
      await page.click('#search-submit');
      await page.waitForSelector('#search-clear:not([hidden])');
    };
    const clearFields = async () => {
      await page.click('#search-clear');
      await page.waitForSelector('#search-clear', { state: 'hidden' });
    };
    try {
      await shotOnFailure(page, 'webmail-r', async () => {
        await expectSubjects(page, ['Gamma', 'Beta', 'Alpha']);
        await search({ from: 'bob' });
        await expectSubjects(page, ['Beta']);
        assert.match(await page.textContent('#mailbox-count'), /1 result for “from: bob”/);
        await clearFields();
        await search({ unseen: true, since: '2021-01-01' });
        await expectSubjects(page, ['Beta']);
        await clearFields();
        await search({ unseen: true, before: '2021-01-01' });
        await expectSubjects(page, ['Alpha']);
        await clearFields();
        await search({ flagged: true });
        await expectSubjects(page, ['Alpha']);
        await clearFields();
        await expectSubjects(page, ['Gamma', 'Beta', 'Alpha']);
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
      await dropFolder(folder);
    }
  });

  test('s. sort by subject and by sender; conversations put a reply under its parent', { timeout: 45_000 }, async () => {
    requireImap();
    const day = (d) => new Date(`2021-01-0${d}T12:00:00Z`);
    const kiwiId = `<kiwi.${randomBytes(4).toString('hex')}@e2e.test>`;
    const folder = await scratchFolder('Sorted', [
      { subject: 'Mango', from: 'Zed <zed@example.org>', date: day(1), body: 'm' },
      { subject: 'apple', from: 'Mia <mia@example.org>', date: day(2), body: 'a' },
      { subject: 'Kiwi', from: 'Abe <abe@example.org>', date: day(3), body: 'k', messageId: kiwiId },
      { subject: 'Re: Kiwi', from: 'Yan <yan@example.org>', date: day(4), body: 'r', headers: [`In-Reply-To: ${kiwiId}`, `References: ${kiwiId}`] },
    ]);
    const { context, page, record } = await signedIn('s', folder);
    try {
      await shotOnFailure(page, 'webmail-s', async () => {
        await expectSubjects(page, ['Re: Kiwi', 'Kiwi', 'apple', 'Mango']);
        await page.selectOption('#sort-order', 'subject');
        await expectSubjects(page, ['apple', 'Kiwi', 'Re: Kiwi', 'Mango']);
        // New mail while sorted: it takes its place in the order; the open message stays open.
        await openRow(page, 'Kiwi');
        await appendMessage(imapConn(), folder, rfc822({ subject: 'banana', from: 'Bea <bea@example.org>', date: day(5), body: 'b' }));
        await expectSubjects(page, ['apple', 'banana', 'Kiwi', 'Re: Kiwi', 'Mango']);
        assert.equal(await page.textContent('#reader-subject'), 'Kiwi');
        await page.selectOption('#sort-order', 'from');
        await expectSubjects(page, ['Kiwi', 'banana', 'apple', 'Re: Kiwi', 'Mango']);
        await page.selectOption('#sort-order', 'date');
        await expectSubjects(page, ['banana', 'Re: Kiwi', 'Kiwi', 'apple', 'Mango']);
        await page.click('#thread-toggle');
        assert.equal(await page.getAttribute('#thread-toggle', 'aria-pressed'), 'true');
        await expectSubjects(page, ['banana', 'Kiwi', 'Re: Kiwi', 'apple', 'Mango']);
        const replies = await page.$$eval('#message-list .msg-row.reply', (rows) => rows.map((r) => r.querySelector('.col-subject').textContent));
        assert.deepEqual(replies, ['Re: Kiwi']);
        await page.click('#thread-toggle');
        await page.selectOption('#sort-order', '');
        await expectSubjects(page, ['banana', 'Re: Kiwi', 'Kiwi', 'apple', 'Mango']);
        assert.equal(await page.locator('#message-list .msg-row.reply').count(), 0);
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
      await dropFolder(folder);
    }
  });

  test('t. a new label on two selected messages shows on rows and in the reader; removing it clears it', { timeout: 45_000 }, async () => {
    requireImap();
    const label = uniqueWord('Urgent');
    const folder = await scratchFolder('Labels', [
      { subject: 'First labelled', body: '1' },
      { subject: 'Second labelled', body: '2' },
      { subject: 'Not labelled', body: '3' },
    ]);
    const serverFlags = () => withImap(imapConn(), async (send) => {
      await send(`SELECT ${folder}`);
      const text = await send('UID FETCH 1:* (FLAGS)');
      return [...text.matchAll(/UID (\d+) FLAGS \(([^)]*)\)|FLAGS \(([^)]*)\) UID (\d+)/g)]
        .map((m) => ((m[2] ?? m[3]).split(' ').includes(label) ? 'L' : '-')).join('');
    });
    const { context, page, record } = await signedIn('t', folder);
    const labelsIn = (selector) => page.$$eval(selector, (nodes) => nodes.map((n) => n.textContent));
    try {
      await shotOnFailure(page, 'webmail-t', async () => {
        await expectSubjects(page, ['Not labelled', 'Second labelled', 'First labelled']);
        await openRow(page, 'Second labelled');
        await rowFor(page, 'First labelled').click({ modifiers: ['Shift'] });
        await page.click('#act-label');
        await page.locator('#menu [role="menuitem"]', { hasText: 'New label…' }).click();
        await page.fill('#name-input', 'bad label');
        await page.click('#name-ok');
        assert.match(await page.textContent('#name-error'), /No spaces/);
        await page.fill('#name-input', label);
        await page.click('#name-ok');
        await page.waitForFunction((n) => document.querySelectorAll('#message-list .col-subject .label').length === n, 2);
        assert.deepEqual(await labelsIn('#message-list .msg-row[data-uid] .label'), [label, label]);
        assert.equal(await serverFlags(), 'LL-');
        // The row's subject cell now ends with the label: open it by the row's text.
        await page.locator('#message-list .msg-row', { hasText: 'Second labelled' }).click();
        await page.waitForFunction(() => document.getElementById('reader-subject').textContent === 'Second labelled' &&
          document.getElementById('reader').getAttribute('aria-busy') === 'false');
        assert.deepEqual(await labelsIn('#reader-labels li'), [label]);

        await page.click('#act-label');
        await page.locator('#menu [role="menuitem"]', { hasText: `✓ ${label}` }).click();
        await page.waitForSelector('#reader-labels', { state: 'hidden' });
        assert.deepEqual(await labelsIn('#message-list .msg-row[data-uid] .label'), [label]);
        assert.equal(await serverFlags(), 'L--');
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
      await dropFolder(folder);
    }
  });

  test('u. HTML mail keeps its inline styles; remote images load only when asked, still without scripts', { timeout: 45_000 }, async () => {
    requireImap();
    const hits = [];
    const images = http.createServer((req, res) => {
      hits.push(req.url);
      res.writeHead(200, { 'content-type': 'image/gif' });
      res.end(Buffer.from('R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==', 'base64'));
    });
    await new Promise((resolve) => images.listen(0, '127.0.0.1', resolve));
    const remote = `http://127.0.0.1:${images.address().port}`;
    const subject = uniqueWord('Styled HTML ');
    const html = [
      '<html><head><style>.boxed { border: 3px solid rgb(0, 0, 200) }</style></head><body>',
      '<p id="styled" style="color: rgb(200, 0, 0); font-size: 30px">Styled text</p>',
      '<div class="boxed" id="boxed">boxed</div>',
      `<img id="pic" src="${remote}/pic.gif" alt="pic" onerror="console.log('XSS-MARKER img')">`,
      `<div id="bg" style="background: url(${remote}/bg.gif)">bg</div>`,
      '<script>console.log("XSS-MARKER script")</script>',
      '</body></html>',
    ].join('\n');
    const other = `${subject} other`;
    await appendMessage(imapConn(), SCRATCH, rfc822({ subject, contentType: 'text/html; charset=utf-8', body: html }));
    await appendMessage(imapConn(), SCRATCH, rfc822({
      subject: other, contentType: 'text/html; charset=utf-8', body: `<p>Other</p><img src="${remote}/other.gif">`,
    }));
    const { context, page, record } = await signedIn('u', SCRATCH);
    try {
      await shotOnFailure(page, 'webmail-u', async () => {
        let framed = nextFrame(page);
        await openRow(page, subject);
        if ((await page.getAttribute('#view-html', 'aria-pressed')) !== 'true') {
          framed = nextFrame(page);
          await page.click('#view-html');
        }
        const first = await framed;
        const history = await page.evaluate(() => window.history.length);
        assert.match(first.csp, /style-src 'unsafe-inline'; img-src data: blob:;/);
        const frame = await (await page.$('#reader-html')).contentFrame();
        await frame.waitForSelector('#styled');
        const style = await frame.$eval('#styled', (p) => [getComputedStyle(p).color, getComputedStyle(p).fontSize]);
        assert.deepEqual(style, ['rgb(200, 0, 0)', '30px']);
        assert.equal(await frame.$eval('#boxed', (d) => getComputedStyle(d).borderTopColor), 'rgb(0, 0, 200)');
        assert.equal(await frame.$eval('#pic', (img) => img.hasAttribute('src')), false);
        await page.waitForSelector('#load-remote:not([hidden])');
        await page.waitForTimeout(500);
        assert.deepEqual(hits, [], 'a remote image loaded before it was asked for');

        framed = nextFrame(page);
        await page.click('#load-remote');
        const second = await framed;
        assert.match(second.csp, /img-src data: blob: https: http:;/);
        assert.ok(!/script|allow-same-origin/.test(second.csp), `frame CSP too open: ${second.csp}`);
        assert.match(second.posted, new RegExp(`src="${remote}/pic.gif"`));
        assert.ok(!second.posted.includes('url('), 'remote CSS kept');
        const deadline = Date.now() + 5000;
        while (!hits.includes('/pic.gif') && Date.now() < deadline) await page.waitForTimeout(100);
        assert.deepEqual(hits, ['/pic.gif']);
        assert.equal(await page.evaluate(() => window.history.length), history, 'the frame filled the tab history');
        const markers = record.console.filter((line) => line.includes('XSS-MARKER'));
        assert.deepEqual(markers, [], 'script from the message ran');
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');

        // Another message starts with remote images blocked again.
        framed = nextFrame(page);
        await openRow(page, other);
        assert.match((await framed).csp, /img-src data: blob:;/);
        await page.waitForSelector('#load-remote:not([hidden])');
        await page.waitForTimeout(500);
        assert.deepEqual(hits, ['/pic.gif']);
      });
    } finally {
      await context.close();
      images.close();
    }
  });

  test('x. cid: images in HTML mail show from the message\'s own parts, also from the cache; unknown cids show nothing', { timeout: 45_000 }, async () => {
    requireImap();
    const subject = uniqueWord('Inline logo ');
    const gif = 'R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==';
    const body = [
      '--inline-b1',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>Logo:</p><img id="logo" src="cid:logo@e2e.test" alt="logo"><img id="missing" src="cid:nothere@e2e.test" alt="x">',
      '--inline-b1',
      'Content-Type: image/gif',
      'Content-ID: <logo@e2e.test>',
      'Content-Disposition: inline',
      'Content-Transfer-Encoding: base64',
      '',
      gif,
      '--inline-b1--',
      '',
    ].join('\n');
    await appendMessage(imapConn(), SCRATCH, rfc822({
      subject, contentType: 'multipart/related; boundary="inline-b1"', body,
    }));
    let latest = null;
    const { context, page, record } = await signedIn('x', SCRATCH, (p) => { latest = watchImap(p); });
    try {
      await shotOnFailure(page, 'webmail-x', async () => {
        await openRow(page, subject);
        const shown = async () => {
          const frame = await (await page.$('#reader-html'))?.contentFrame();
          if (!frame) return null;
          return frame.evaluate(() => {
            const logo = document.querySelector('#logo');
            const missing = document.querySelector('#missing');
            if (!logo || !logo.complete || logo.naturalWidth === 0) return null;
            return { src: logo.getAttribute('src'), width: logo.naturalWidth, missing: missing && missing.hasAttribute('src') };
          }).catch(() => null);
        };
        const imageShown = async () => {
          let seen = null;
          const deadline = Date.now() + 10_000;
          while (!(seen = await shown()) && Date.now() < deadline) await page.waitForTimeout(100);
          assert.ok(seen, 'the cid: image never showed');
          assert.equal(seen.src, `data:image/gif;base64,${gif}`);
          assert.equal(seen.width, 1);
          assert.equal(seen.missing, false, 'an unknown cid kept a src');
        };
        await imageShown();
        assert.match(latest().sent, /UID FETCH \d+ \(UID BODY\.PEEK\[2\]/, 'the image part was not fetched');
        // Opened again from the IndexedDB cache: the image with it, no part fetched.
        await cachedWhen(page, SCRATCH, (c) => c.bodies > 0, ['bodies']);
        await signOutToLogin(page);
        await signInAndSync(page, SCRATCH);
        await openRow(page, subject);
        await imageShown();
        assert.doesNotMatch(latest().sent, /BODY\.PEEK\[2?\]|BODYSTRUCTURE/, 'the message or its image was fetched again');
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  test('y. rows of multipart/mixed messages carry a labelled paperclip; others do not', { timeout: 45_000 }, async () => {
    requireImap();
    const subject = uniqueWord('With attachment ');
    const plain = `${subject} alternative`;
    const body = [
      '--mixed-b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'See the file.',
      '--mixed-b1',
      'Content-Type: application/pdf; name="notes.pdf"',
      'Content-Disposition: attachment; filename="notes.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      'JVBERi0xLjQKJSVFT0YK',
      '--mixed-b1--',
      '',
    ].join('\n');
    await appendMessage(imapConn(), SCRATCH, rfc822({ subject, contentType: 'multipart/mixed; boundary="mixed-b1"', body }));
    await appendMessage(imapConn(), SCRATCH, rfc822({
      subject: plain, contentType: 'multipart/alternative; boundary="alt-b1"',
      body: '--alt-b1\nContent-Type: text/plain\n\nHello\n--alt-b1--\n',
    }));
    // The rig's INBOX: the rows the server finds multipart/mixed, to compare the shown rows with.
    const found = await withImap(imapConn(), async (send) => {
      await send('EXAMINE INBOX');
      return send('UID SEARCH HEADER Content-Type "multipart/mixed"');
    });
    const mixedUids = new Set((found.match(/^\* SEARCH([ \d]*)/m)?.[1] || '').trim().split(/\s+/).filter(Boolean).map(Number));
    const { context, page, record } = await signedIn('y');
    try {
      await shotOnFailure(page, 'webmail-y', async () => {
        const marked = () => page.$$eval('#message-list .msg-row[data-uid]', (rows) => rows.map((r) => ({
          uid: Number(r.dataset.uid),
          clip: Boolean(r.querySelector('.mark-attachment')),
          label: r.querySelector('.col-status').textContent,
        })));
        const inbox = await marked();
        assert.ok(inbox.length > 5, 'INBOX shows rows');
        for (const row of inbox) assert.equal(row.clip, mixedUids.has(row.uid), `INBOX UID ${row.uid}`);

        await openFolder(page, SCRATCH);
        await page.waitForFunction((want) => [...document.querySelectorAll('#message-list .msg-row .col-subject')]
          .some((c) => c.textContent.trim() === want), subject);
        const status = (s) => rowFor(page, s).locator('.col-status');
        assert.equal(await status(subject).locator('.mark-attachment[aria-hidden="true"]').count(), 1);
        assert.match(await status(subject).locator('.sr-only').textContent(), /Has attachments/);
        assert.equal(await status(plain).locator('.mark-attachment').count(), 0);
        assert.doesNotMatch(await status(plain).textContent(), /attachment/i);
        // The reader agrees: the marked message lists its file.
        await openRow(page, subject);
        await page.waitForSelector('#reader-attachments:not([hidden])');
        assert.match(await page.textContent('#attachment-list'), /notes\.pdf/);
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
    }
  });

  test('v. with "Opening marks read" off, an opened message stays unread, and the choice survives a reload', { timeout: 45_000 }, async () => {
    requireImap();
    const folder = await scratchFolder('Unread', [{ subject: 'Stay unread', body: 'still unread' }]);
    const seenOnServer = () => withImap(imapConn(), async (send) => {
      await send(`SELECT ${folder}`);
      return /\\Seen/.test(await send('UID FETCH 1:* (FLAGS)'));
    });
    const { context, page, record } = await signedIn('v', folder);
    try {
      await shotOnFailure(page, 'webmail-v', async () => {
        assert.equal(await page.isChecked('#mark-read-setting'), true, 'on by default');
        await page.uncheck('#mark-read-setting');
        await openRow(page, 'Stay unread');
        await page.waitForTimeout(500);
        assert.match(await rowClass(rowFor(page, 'Stay unread')), /\bunread\b/);
        assert.equal(await seenOnServer(), false);
        await page.reload();
        await openLoginForm(page);
        await submitLogin(page, PASS);
        await waitForMailView(page);
        await page.waitForSelector('#folder-list .folder');
        assert.equal(await page.isChecked('#mark-read-setting'), false, 'the choice was forgotten');
        await page.check('#mark-read-setting');
        await openFolder(page, folder);
        await openRow(page, 'Stay unread');
        await waitRowClass(page, 'Stay unread', 'read', true);
        assert.equal(await seenOnServer(), true);
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
      await dropFolder(folder);
    }
  });

  test('w. without IDLE, the page polls with NOOP: new mail shows up after the poll interval', { timeout: 45_000 }, async () => {
    requireImap();
    const folder = await scratchFolder('Poll', [{ subject: 'Before the poll', body: 'old' }]);
    const { context, page, record } = await openPage('w');
    // The engine refuses IDLE as it does when the server does not advertise it.
    await page.route('**/pkg/client_wasm.js', async (route) => {
      const response = await route.fetch();
      const body = `${await response.text()}
ImapClient.prototype.idle = function () {
  return Promise.reject(Object.assign(new Error('IDLE is not advertised'), { code: 'not_supported' }));
};`;
      await route.fulfill({ response, body });
    });
    await page.clock.install();
    try {
      await shotOnFailure(page, 'webmail-w', async () => {
        await page.setViewportSize({ width: 1400, height: 860 });
        await openLoginForm(page);
        await submitLogin(page, PASS);
        await waitForMailView(page);
        await page.waitForSelector('#folder-list .folder');
        await openFolder(page, folder);
        await expectSubjects(page, ['Before the poll']);
        await appendMessage(imapConn(), folder, rfc822({ subject: 'Found by NOOP', body: 'new' }));
        await page.clock.runFor(5_000);
        // Real time for news to come (it would, within this, through IDLE).
        await new Promise((resolve) => setTimeout(resolve, 2000));
        assert.deepEqual(await shownSubjects(page), ['Before the poll'], 'news arrived without a poll');
        await page.clock.runFor(30_000);
        await expectSubjects(page, ['Found by NOOP', 'Before the poll']);
        assert.deepEqual(record.pageErrors, [], 'uncaught errors in the page');
      });
    } finally {
      await context.close();
      await dropFolder(folder);
    }
  });
});
