// End-to-end tests of compose (drafts, reply, forward) and attachment downloads,
// against the rig as in webmail.test.mjs (same E2E_* variables). What the page
// stores is checked over a second, direct IMAP connection (imap.mjs).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { appendMessage, rfc822, withImap } from './imap.mjs';

const env = process.env;
const BASE_URL = (env.E2E_BASE_URL || '').replace(/\/+$/, '');
const CHROMIUM = env.E2E_CHROMIUM || '/usr/bin/chromium';
const SCRATCH = 'Junk';
const DRAFTS = 'Drafts';
const TIMEOUT = 45_000;
const imapConn = () => ({ port: env.E2E_IMAP_TLS_PORT, ca: env.E2E_IMAP_CA, user: env.E2E_USER, pass: env.E2E_PASS });
const uniqueWord = (prefix) => `${prefix}${randomBytes(5).toString('hex')}`;

let browser = null;

function requireRig() {
  const missing = ['E2E_BASE_URL', 'E2E_SERVER_ID', 'E2E_USER', 'E2E_PASS', 'E2E_IMAP_TLS_PORT', 'E2E_IMAP_CA']
    .filter((k) => !env[k]);
  if (missing.length) throw new Error(`The test rig is not running or not configured: ${missing.join(', ')} not set.`);
}

/** A new page, signed in, with folder `name` open; console lines and page errors recorded. */
async function signedIn(name) {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const record = { console: [], errors: [] };
  page.on('console', (msg) => record.console.push(msg.text()));
  page.on('pageerror', (err) => record.errors.push(String(err)));
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(`${BASE_URL}/`);
  await page.waitForSelector('#sign-in:not([disabled])');
  await page.selectOption('#server', env.E2E_SERVER_ID);
  await page.fill('#user', env.E2E_USER);
  await page.fill('#password', env.E2E_PASS);
  await page.click('#sign-in');
  await page.waitForSelector('#mail-view:not([hidden]) #folder-list .folder');
  await openFolder(page, name);
  return { context, page, record };
}

async function openFolder(page, name) {
  await page.click(`#folder-list .folder[data-name="${name}"]`);
  await page.waitForFunction((want) => {
    const pane = document.getElementById('message-pane');
    return pane.dataset.mailbox === want && pane.getAttribute('aria-busy') === 'false';
  }, name);
}

function rowFor(page, subject) {
  return page.locator('#message-list .msg-row', { has: page.locator('.col-subject', { hasText: subject }) });
}

async function openRow(page, subject) {
  await rowFor(page, subject).click();
  await page.waitForFunction((want) => document.getElementById('reader').getAttribute('aria-busy') === 'false' &&
    document.getElementById('reader-subject').textContent.includes(want), subject);
}

async function saveDraft(page) {
  // Two saves within a second say the same: forget the last one's words first.
  await page.evaluate(() => { document.getElementById('compose-status').textContent = ''; });
  await page.click('#compose-save');
  await page.waitForFunction(() => /^(Draft saved|Could not)/.test(document.getElementById('compose-status').textContent));
  assert.match(await page.textContent('#compose-status'), /^Draft saved/);
}

/** The Drafts messages whose subject holds `word`: [{uid, text}] with flags and headers. */
async function draftsWith(word) {
  return withImap(imapConn(), async (send) => {
    await send(`SELECT ${DRAFTS}`);
    const found = (await send(`UID SEARCH SUBJECT "${word}"`)).match(/^\* SEARCH([ \d]*)/m)[1].trim();
    const uids = found ? found.split(' ') : [];
    const out = [];
    for (const uid of uids) out.push({ uid, text: await send(`UID FETCH ${uid} (FLAGS BODYSTRUCTURE BODY.PEEK[])`) });
    return out;
  });
}

const MULTIPART = (subject, id, word) => rfc822({
  subject,
  contentType: 'multipart/mixed; boundary="e2e-b1"',
  body: [
    '--e2e-b1', 'Content-Type: text/plain; charset=utf-8', '', `Body line one ${word}`, 'Body line two',
    '--e2e-b1', 'Content-Type: text/plain; name="notes.txt"', 'Content-Disposition: attachment; filename="notes.txt"',
    'Content-Transfer-Encoding: base64', '', Buffer.from(`plain notes ${word}\n`).toString('base64'),
    '--e2e-b1', 'Content-Type: text/html; name="page.html"', 'Content-Disposition: attachment; filename="page.html"',
    'Content-Transfer-Encoding: base64', '',
    Buffer.from(`<html><body><h1 id="evil">${word}</h1><script>console.log("ATTACH-MARKER")</script></body></html>`)
      .toString('base64'),
    '--e2e-b1--', '',
  ].join('\r\n'),
}).replace(/^Message-ID: .*$/m, `Message-ID: <${id}>\r\nReferences: <root-${id}>`);

describe('compose and attachments', () => {
  before(async () => {
    if (BASE_URL) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  });
  after(async () => {
    if (browser) await browser.close();
  });

  test('compose a. a draft is saved to Drafts with \\Draft; saving again leaves one; it reopens for editing', { timeout: TIMEOUT }, async () => {
    requireRig();
    const word = uniqueWord('Draft');
    const { context, page, record } = await signedIn('INBOX');
    try {
      await page.keyboard.press('c');
      await page.waitForSelector('#compose[open]');
      await page.fill('#compose-to', 'not an address');
      await page.click('#compose-save');
      await page.waitForSelector('#compose-to[aria-invalid="true"]');
      assert.equal(await page.textContent('#compose-status'), 'Not an address: not an address');
      await page.fill('#compose-to', 'Bob <bob@example.org>');
      await page.fill('#compose-subject', `Subject ${word}`);
      await page.fill('#compose-body', 'first version');
      await page.setInputFiles('#compose-files', { name: 'a.txt', mimeType: 'text/plain', buffer: Buffer.from('attached text') });
      await page.waitForSelector('#compose-files-list li');
      await saveDraft(page);
      const first = await draftsWith(word);
      assert.equal(first.length, 1, 'one draft after the first save');
      assert.match(first[0].text, /FLAGS \([^)]*\\Draft/);

      await page.fill('#compose-body', 'second version');
      await saveDraft(page);
      // Replacing the draft selected Drafts; the folder shown is INBOX again.
      await page.waitForFunction(() => document.getElementById('message-pane').dataset.mailbox === 'INBOX' &&
        document.getElementById('message-pane').getAttribute('aria-busy') === 'false');
      const second = await draftsWith(word);
      assert.equal(second.length, 1, 'saving again replaces the draft');
      assert.notEqual(second[0].uid, first[0].uid);
      assert.match(second[0].text, /second version/);
      assert.match(second[0].text, /filename\*?=(utf-8'')?"?a\.txt/);
      assert.match(second[0].text, /^To: "?Bob"? <bob@example\.org>/m);
      await page.click('#compose-close');

      // Opening it from Drafts resumes editing; a save there replaces it again.
      await openFolder(page, DRAFTS);
      await rowFor(page, word).click();
      await page.waitForSelector('#compose[open]');
      assert.equal(await page.inputValue('#compose-subject'), `Subject ${word}`);
      assert.equal(await page.inputValue('#compose-to'), 'Bob <bob@example.org>');
      assert.match(await page.inputValue('#compose-body'), /^second version/);
      assert.match(await page.textContent('#compose-files-list'), /a\.txt/);
      await page.fill('#compose-body', 'third version');
      await saveDraft(page);
      const third = await draftsWith(word);
      assert.equal(third.length, 1);
      assert.match(third[0].text, /third version/);
      const messageId = (draft) => draft.text.match(/^Message-ID: (.*)$/m)[1];
      assert.equal(messageId(third[0]), messageId(first[0]), 'a draft keeps its Message-ID');

      // Unsaved changes: Esc asks first; "no" keeps the form, "yes" closes it.
      await page.fill('#compose-body', 'unsaved words');
      const asked = [];
      page.once('dialog', (d) => asked.push(d.message()) && d.dismiss());
      await page.keyboard.press('Escape');
      await page.waitForFunction(() => document.getElementById('compose').open);
      assert.equal(await page.inputValue('#compose-body'), 'unsaved words');
      page.once('dialog', (d) => asked.push(d.message()) && d.accept());
      await page.click('#compose-close');
      await page.waitForFunction(() => !document.getElementById('compose').open);
      assert.equal(asked.length, 2);
      assert.match(asked[0], /Discard the unsaved changes/);
      assert.match(third[0].text, /filename\*?=(utf-8'')?"?a\.txt/);
      assert.deepEqual(record.errors, []);
    } finally {
      await context.close();
    }
  });

  test('compose b. reply carries In-Reply-To, References and Re:; forward carries the attachments', { timeout: TIMEOUT }, async () => {
    requireRig();
    const word = uniqueWord('Reply');
    const id = `${word}@e2e.test`;
    await appendMessage(imapConn(), SCRATCH, MULTIPART(`Original ${word}`, id, word));
    const { context, page } = await signedIn(SCRATCH);
    try {
      await openRow(page, `Original ${word}`);
      await page.keyboard.press('r');
      await page.waitForSelector('#compose[open]');
      assert.equal(await page.inputValue('#compose-subject'), `Re: Original ${word}`);
      assert.equal(await page.inputValue('#compose-to'), 'Tester <tester@example.org>');
      assert.match(await page.inputValue('#compose-body'), new RegExp(`wrote:\\n> Body line one ${word}\\n> Body line two`));
      await saveDraft(page);
      await page.click('#compose-close');
      const [reply] = await draftsWith(`Re: Original ${word}`);
      assert.match(reply.text, new RegExp(`^In-Reply-To: <${id}>`, 'm'));
      assert.match(reply.text, new RegExp(`^References: <root-${id}>\\s+<${id}>`, 'm'));

      await page.keyboard.press('f');
      await page.waitForSelector('#compose[open]');
      await page.fill('#compose-to', 'first@example.org');
      await saveDraft(page);
      await page.fill('#compose-to', 'second@example.org');
      await saveDraft(page);
      // The second save replaced the first in Drafts; the message stays open behind the form.
      await page.waitForFunction((want) => document.getElementById('reader').getAttribute('aria-busy') === 'false' &&
        document.getElementById('reader-subject').textContent === want, `Original ${word}`);
      assert.equal(await page.inputValue('#compose-subject'), `Fwd: Original ${word}`);
      assert.match(await page.inputValue('#compose-body'), /Forwarded message/);
      const drafts = await draftsWith(`Fwd: Original ${word}`);
      assert.equal(drafts.length, 1);
      const [forward] = drafts;
      assert.match(forward.text, /^To: second@example\.org/m);
      assert.match(forward.text, /filename\*?=(utf-8'')?"?notes\.txt/);
      assert.match(forward.text, /filename\*?=(utf-8'')?"?page\.html/);
      assert.ok(forward.text.includes(Buffer.from(`plain notes ${word}\n`).toString('base64')), 'the attachment bytes');
      assert.doesNotMatch(forward.text, /^In-Reply-To:/m);
      await page.click('#compose-close');

      // Reply all to a single-part message: sender and recipients, its text quoted.
      await appendMessage(imapConn(), SCRATCH, rfc822({
        subject: `Plain ${word}`, to: 'Dee <dee@example.org>', body: `Plain text ${word}`,
      }).replace(/^To: .*$/m, (to) => `${to}\r\nCc: Cy <cy@example.org>`));
      await rowFor(page, `Plain ${word}`).waitFor();
      await openRow(page, `Plain ${word}`);
      await page.keyboard.press('a');
      await page.waitForSelector('#compose[open]');
      assert.equal(await page.inputValue('#compose-to'),
        'Tester <tester@example.org>, Dee <dee@example.org>');
      assert.equal(await page.inputValue('#compose-cc'), 'Cy <cy@example.org>');
      assert.match(await page.inputValue('#compose-body'), new RegExp(`wrote:\\n> Plain text ${word}\\n$`));
    } finally {
      await context.close();
    }
  });

  test('compose c. attachments download as files; HTML arrives as octet-stream and is never rendered', { timeout: TIMEOUT }, async () => {
    requireRig();
    const word = uniqueWord('Attach');
    await appendMessage(imapConn(), SCRATCH, MULTIPART(`Files ${word}`, `${word}@e2e.test`, word));
    const { context, page, record } = await signedIn(SCRATCH);
    await page.evaluate(() => {
      window.__blobTypes = [];
      const create = URL.createObjectURL;
      URL.createObjectURL = (blob) => {
        window.__blobTypes.push(blob.type);
        return create(blob);
      };
    });
    try {
      await openRow(page, `Files ${word}`);
      const items = page.locator('#attachment-list li');
      await items.first().waitFor();
      assert.deepEqual(await items.locator('.attachment-name').allTextContents(), ['notes.txt', 'page.html']);
      assert.match(await items.nth(1).locator('.attachment-meta').textContent(), /text\/html/);

      const download = async (name) => {
        const [file] = await Promise.all([page.waitForEvent('download'),
          page.getByRole('button', { name: `Download ${name}` }).click()]);
        return { name: file.suggestedFilename(), body: await readFile(await file.path(), 'utf8') };
      };
      assert.deepEqual(await download('notes.txt'), { name: 'notes.txt', body: `plain notes ${word}\n` });
      const html = await download('page.html');
      assert.equal(html.name, 'page.html');
      assert.match(html.body, /console\.log\("ATTACH-MARKER"\)/);
      assert.deepEqual(await page.evaluate(() => window.__blobTypes), ['text/plain', 'application/octet-stream']);

      assert.equal(context.pages().length, 1, 'no page opened');
      assert.equal(page.url(), `${BASE_URL}/`);
      assert.equal(await page.locator('#evil').count(), 0);
      assert.ok(!record.console.some((line) => line.includes('ATTACH-MARKER')), 'the HTML attachment ran');
      assert.deepEqual(record.errors, []);
    } finally {
      await context.close();
    }
  });
});
