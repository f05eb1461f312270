// Unit tests of the page's pure logic (folder order, error texts, list
// helpers). They import web/ui/*.js directly and need no browser or rig.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { orderFolders, findInbox } from '../../web/ui/folders.js';
import { describeError, redact } from '../../web/ui/errors.js';
import {
  newestLowUid, hasFlag, senderText, messageTime, formatListDate, countText, withFlag, uidRuns, rowMarkers,
} from '../../web/ui/messages.js';
import {
  emptySelection, selectOne, toggle, extendTo, selectAll, prune, selectedInOrder, focusAfterRemoval,
} from '../../web/ui/selection.js';
import { folderNameProblem } from '../../web/ui/folder-names.js';
import { windowRange } from '../../web/ui/virtual-list.js';
import { searchCriteria, flattenThreads } from '../../web/ui/view.js';
import { labelsOf, labelProblem } from '../../web/ui/labels.js';
import { splitLinks, safeHref, formatSize, addressText, addressList } from '../../web/ui/links.js';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { MailCache, accountKey, summaryKey, prefixBounds, openArgument, catchUp, sizeOf } from '../../web/ui/cache.js';

const folder = (name, extra = {}) => ({
  name,
  display: name,
  delimiter: '/',
  attributes: [],
  special_use: null,
  selectable: true,
  ...extra,
});

test('folders: INBOX, then special-use in fixed order, then the rest alphabetically', () => {
  const rows = orderFolders([
    folder('zeta'),
    folder('Papierkorb', { special_use: 'trash' }),
    folder('Alpha'),
    folder('Gesendet', { special_use: 'sent' }),
    folder('Spam', { special_use: 'junk' }),
    folder('inbox'),
    folder('Entwürfe', { special_use: 'drafts' }),
    folder('Archiv', { special_use: 'archive' }),
    folder('All Mail', { special_use: 'all' }),
    folder('beta'),
  ]);
  assert.deepEqual(rows.map((r) => r.name),
    ['inbox', 'Entwürfe', 'Gesendet', 'Archiv', 'Spam', 'Papierkorb', 'All Mail', 'Alpha', 'beta', 'zeta']);
  assert.ok(rows.every((r) => r.depth === 0));
});

test('folders: nested by delimiter, missing parents greyed, display used for labels', () => {
  const rows = orderFolders([
    folder('Work/B'),
    folder('Work/A'),
    folder('Work', { selectable: false }),
    folder('Old.2019.Q1', { delimiter: '.', display: 'Old.2019.Q1' }),
    folder('INBOX/Sent', { special_use: 'sent' }),
    folder('INBOX/Aaa'),
    folder('INBOX'),
    folder('&AMk-t&AOk-', { display: 'Été', delimiter: null }),
  ]);
  assert.deepEqual(rows.map((r) => [r.label, r.depth, r.selectable]), [
    ['INBOX', 0, true],
    ['Sent', 1, true],
    ['Aaa', 1, true],
    ['Été', 0, true],
    ['Old', 0, false],
    ['2019', 1, false],
    ['Q1', 2, true],
    ['Work', 0, false],
    ['A', 1, true],
    ['B', 1, true],
  ]);
  assert.equal(rows.find((r) => r.label === 'Été').name, '&AMk-t&AOk-');
  assert.equal(rows.find((r) => r.label === 'Q1').name, 'Old.2019.Q1');
});

test('folders: undefined fields (serde None) and junk input are tolerated', () => {
  const rows = orderFolders([
    { name: 'INBOX', display: undefined, delimiter: undefined, special_use: undefined, selectable: true },
    null,
    { display: 'no name' },
  ]);
  assert.deepEqual(rows.map((r) => [r.name, r.label, r.selectable]), [['INBOX', 'INBOX', true]]);
  assert.deepEqual(orderFolders(undefined), []);
  assert.equal(findInbox([folder('Sent'), folder('Inbox')]), 'Inbox');
  assert.equal(findInbox([]), 'INBOX');
});

test('errors: codes map to sentences, the password is never echoed', () => {
  const e = (code, message) => Object.assign(new Error(message), { code });
  assert.equal(describeError(e('auth_failed', '')), 'Wrong user name or password.');
  assert.equal(describeError(e('auth_failed', '[AUTHENTICATIONFAILED] Invalid credentials')),
    'Wrong user name or password. (Server said: Invalid credentials)');
  assert.equal(describeError(e('auth_failed', 'bad pass hunter22'), { secrets: ['hunter22'] }),
    'Wrong user name or password. (Server said: bad pass •••)');
  assert.equal(describeError(e('unknown_server', 'x')), 'This server is not offered by the bridge.');
  assert.equal(describeError(e('connect_failed', 'connection refused')),
    'Could not reach the mail server: connection refused');
  assert.equal(describeError(e('connect_timeout', 'x')), 'The mail server did not answer in time.');
  assert.equal(describeError(e('tls_failed', 'unknown issuer')),
    "The mail server's certificate is not trusted: unknown issuer");
  assert.equal(describeError(e('connection_lost', 'x')), 'The connection to the mail server was lost.');
  assert.equal(describeError(e('server_bye', 'shutting down')), 'The server closed the connection: shutting down');
  assert.equal(describeError(e('timeout', 'x')), 'The mail server stopped answering.');
  assert.equal(describeError(e('bridge_unreachable', 'x')), 'Could not reach the bridge.');
  assert.match(describeError(e('address_denied', 'x')), /network policy does not allow/);
  assert.match(describeError(e('limit_reached', 'x')), /^The bridge is busy/);
  assert.equal(describeError(e('starttls_failed', 'the server refused STARTTLS: no')),
    'The mail server could not set up encryption (STARTTLS): the server refused STARTTLS: no');
  assert.match(describeError(e('insecure_transport', 'x')), /password was not sent/);
  assert.match(describeError(e('read_only', 'x')), /^This folder is read-only/);
  assert.equal(describeError(e('no', 'Mailbox does not exist')), 'Mailbox does not exist');
  assert.equal(describeError({ code: 'closed', message: 'bye' }), 'bye');
  assert.equal(describeError('plain string'), 'plain string');
  assert.equal(describeError(undefined), 'Something went wrong.');
  assert.equal(describeError(e('weird', '')), 'Something went wrong (weird).');
  assert.equal(redact('abc', ['ab']), 'abc', 'very short secrets are not redacted');
});

test('messages: newest window, ordering, flags, sender, dates', () => {
  assert.equal(newestLowUid(131, 50), 81);
  assert.equal(newestLowUid(20, 50), 1);
  assert.equal(newestLowUid(undefined, 50), 1);
  assert.equal(newestLowUid(131n, 60), 71);

  assert.equal(hasFlag(['\\seen'], '\\Seen'), true);
  assert.equal(hasFlag(undefined, '\\Seen'), false);

  assert.equal(senderText({ name: 'Alice', address: 'a@b' }), 'Alice');
  assert.equal(senderText({ name: undefined, address: 'a@b' }), 'a@b');
  assert.equal(senderText(null), '(unknown sender)');

  assert.equal(messageTime({ date: undefined, internal_date: 5 }), 5);
  assert.equal(messageTime({ date: 7, internal_date: 5 }), 7);

  const now = new Date(2026, 4, 15, 18, 0);
  const today = new Date(2026, 4, 15, 9, 5).getTime();
  assert.equal(formatListDate(today, now, 'en-GB'), '09:05');
  assert.equal(formatListDate(new Date(2026, 0, 3).getTime(), now, 'en-GB'), '3 Jan');
  assert.equal(formatListDate(new Date(2024, 0, 3).getTime(), now, 'en-GB'), '3 Jan 2024');
  assert.equal(formatListDate(NaN, now), '');

  assert.equal(countText(1), '1 message');
  assert.equal(countText(0), '0 messages');
});

test('links: http(s) and www. become links, trailing punctuation stays text, nothing else does', () => {
  assert.deepEqual(splitLinks('See https://example.org/a?b=1. Thanks'), [
    { text: 'See ' },
    { text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
    { text: '. Thanks' },
  ]);
  assert.deepEqual(splitLinks('(at www.example.com/x_(y))'), [
    { text: '(at ' },
    { text: 'www.example.com/x_(y)', href: 'https://www.example.com/x_(y)' },
    { text: ')' },
  ]);
  assert.deepEqual(splitLinks('javascript:alert(1) <a href="x">'), [{ text: 'javascript:alert(1) <a href="x">' }]);
  assert.deepEqual(splitLinks(''), []);
  assert.equal(safeHref('javascript:alert(1)'), null);
  assert.equal(safeHref('http://a.example/'), 'http://a.example/');
});

test('reader helpers: sizes and addresses', () => {
  assert.equal(formatSize(1), '1 byte');
  assert.equal(formatSize(2048), '2 KB');
  assert.equal(formatSize(3 * 1024 * 1024), '3.0 MB');
  assert.equal(addressText({ name: 'Alice', address: 'a@x' }), 'Alice <a@x>');
  assert.equal(addressText({ name: null, address: 'a@x' }), 'a@x');
  assert.equal(addressList([{ name: 'A', address: 'a@x' }, null, { address: 'b@x' }]), 'A <a@x>, b@x');
});

test('messages: flags toggled, row markers, UID runs for fetches', () => {
  assert.deepEqual(withFlag(['\\Seen'], '\\Flagged', true), ['\\Seen', '\\Flagged']);
  assert.deepEqual(withFlag(['\\seen', '\\Flagged'], '\\Seen', false), ['\\Flagged']);
  assert.deepEqual(rowMarkers([]).map(([, , words]) => words), ['Unread']);
  assert.deepEqual(rowMarkers(['\\Seen', '\\answered', '\\Flagged']).map(([, , words]) => words),
    ['Flagged', 'Answered']);
  assert.deepEqual(rowMarkers(['\\Seen']), []);
  assert.deepEqual(rowMarkers(['\\Seen', '\\Flagged'], true).map(([cls, , words]) => [cls, words]),
    [['mark-flagged', 'Flagged'], ['mark-attachment', 'Has attachments']]);
  assert.deepEqual(uidRuns([50, 1, 2, 3, 30, 200], 20), [[1, 3], [30, 50], [200, 200]]);
  assert.deepEqual(uidRuns([9, 1, 500], Infinity), [[1, 500]]);
  assert.deepEqual(uidRuns([]), []);
});

test('virtual list: the window covers the viewport plus the margin, clamped to the list', () => {
  assert.deepEqual(windowRange(0, 360, 36, 100_000, 8), [0, 18]);
  assert.deepEqual(windowRange(36 * 1000, 360, 36, 100_000, 8), [992, 1018]);
  assert.deepEqual(windowRange(36 * 99_990, 360, 36, 100_000, 8), [99_982, 100_000]);
  assert.deepEqual(windowRange(0, 360, 36, 0), [0, 0]);
  assert.deepEqual(windowRange(5000, 360, 36, 3, 8), [3, 3]);
});

test('selection: click, Ctrl toggles, Shift ranges from the anchor, pruned after removal', () => {
  const order = [50, 40, 30, 20, 10];
  let sel = selectOne(40);
  sel = extendTo(sel, order, 20);
  assert.deepEqual(selectedInOrder(sel, order), [40, 30, 20]);
  assert.equal(sel.anchor, 40);
  sel = extendTo(sel, order, 50);
  assert.deepEqual(selectedInOrder(sel, order), [50, 40], 'a new Shift range replaces the old one');
  sel = toggle(sel, 10);
  assert.deepEqual(selectedInOrder(sel, order), [50, 40, 10]);
  sel = extendTo(sel, order, 30, true);
  assert.deepEqual(selectedInOrder(sel, order), [50, 40, 30, 20, 10], 'Ctrl+Shift adds the range');
  sel = toggle(sel, 40);
  assert.deepEqual(selectedInOrder(sel, order), [50, 30, 20, 10]);
  sel = prune(sel, new Set([50, 20]));
  assert.deepEqual(selectedInOrder(sel, [50, 20]), [50, 20]);
  assert.equal(sel.focus, null, 'the focused row (40) is gone');
  assert.deepEqual(selectedInOrder(selectAll(order), order), order);
  assert.deepEqual(selectedInOrder(emptySelection(), order), []);
  assert.deepEqual(selectedInOrder(extendTo(emptySelection(), order, 30), order), [30]);
  assert.equal(extendTo(sel, order, 999), sel, 'an unknown UID changes nothing');
});

test('selection: after a removal the focus goes to the next row, else the last one left', () => {
  const order = [50, 40, 30, 20, 10];
  assert.equal(focusAfterRemoval(order, new Set([40, 20])), 10);
  assert.equal(focusAfterRemoval(order, new Set([20, 10])), 30);
  assert.equal(focusAfterRemoval(order, new Set(order)), null);
  const big = Array.from({ length: 100_000 }, (_, i) => 100_000 - i);
  assert.equal(focusAfterRemoval(big, new Set(big.slice(0, 99_999))), 1, 'a select-all of 100k minus one');
});

test('folder names: empty and sibling names refused; the rest is the engine\'s to check', () => {
  assert.equal(folderNameProblem('  '), 'Enter a name.');
  assert.match(folderNameProblem('work', { siblings: ['Work'] }), /already a folder/);
  assert.equal(folderNameProblem('100% *wild* & Été', { siblings: ['Work'] }), null);
});

test('search fields become the engine query (the date range as sent days) and a label', () => {
  assert.equal(searchCriteria({ text: '  ', from: '', unseen: false }), null);
  const c = searchCriteria({ text: 'invoice', from: ' bob ', unseen: true, since: '2021-01-02', before: 'junk' });
  assert.deepEqual(c.query, { text: 'invoice', from: 'bob', unseen: true, sent_since: '2021-01-02' });
  assert.equal(c.label, 'invoice, from: bob, unread, since 2021-01-02');
  const range = searchCriteria({ since: '2020-05-01', before: '2020-06-01' });
  assert.deepEqual(range.query, { sent_since: '2020-05-01', sent_before: '2020-06-01' });
});

test('threads flatten newest thread first, replies after their parent, missing parents add no level', () => {
  const threads = [
    { uid: 1, children: [{ uid: 3, children: [{ uid: 4, children: [] }] }] },
    { uid: null, children: [{ uid: 2, children: [] }, { uid: 5, children: [] }] },
  ];
  const { uids, depth } = flattenThreads(threads);
  assert.deepEqual(uids, [2, 5, 1, 3, 4]);
  assert.deepEqual([...depth], [[2, 0], [5, 0], [1, 0], [3, 1], [4, 2]]);
  assert.deepEqual(flattenThreads(null), { uids: [], depth: new Map() });
});

test('labels are atom keywords without $; new names are checked', () => {
  assert.deepEqual(labelsOf(['\\Seen', '$Forwarded', 'work', 'Home', 'a(b', 7]), ['Home', 'work']);
  assert.equal(labelProblem('Urgent-1'), '');
  for (const bad of ['', '$Junk', 'two words', 'x]', 'a"b', 'Ünï', '\\Seen']) assert.notEqual(labelProblem(bad), '', bad);
});

test('l0001 cache keys: account is server + user, summaries by account, mailbox, UIDVALIDITY, UID', () => {
  assert.notEqual(accountKey('srv', 'a b'), accountKey('srv a', 'b'));
  assert.notEqual(accountKey('one', 'alice'), accountKey('two', 'alice'));
  const scope = { account: accountKey('srv', 'alice'), mailbox: 'INBOX', uidValidity: 7 };
  assert.deepEqual(summaryKey(scope, 42), [scope.account, 'INBOX', 7, 42]);
  assert.deepEqual(prefixBounds([scope.account, 'INBOX']), [[scope.account, 'INBOX'], [scope.account, 'INBOX', []]]);
});

test('l0001 the open gets the cached UIDVALIDITY, HIGHESTMODSEQ and UIDs, or nothing', () => {
  assert.equal(openArgument(null, [1, 2]), null);
  assert.deepEqual(openArgument({ uidValidity: 7, highestModseq: 30 }, [9, 1]),
    { uid_validity: 7, highest_modseq: 30, known_uids: [9, 1] });
  assert.deepEqual(openArgument({ uidValidity: 7, highestModseq: null }, []),
    { uid_validity: 7, highest_modseq: null, known_uids: [] });
});

test('l0001 after the open: drop on a new UIDVALIDITY, else fetch only the flags the open did not report', () => {
  const saved = { uidValidity: 7, highestModseq: 30 };
  const box = (uid_validity, highest_modseq) => ({ uid_validity, highest_modseq });
  const plan = (p) => [p.drop, p.fetchFlags, p.changedSince];
  assert.deepEqual(plan(catchUp(null, box(7, 40), false)), [false, false, null], 'nothing cached');
  assert.deepEqual(plan(catchUp(saved, box(8, 40), true)), [true, false, null], 'UIDVALIDITY changed');
  assert.deepEqual(plan(catchUp(saved, box(7, 40), true)), [false, false, null], 'QRESYNC reported the changes');
  assert.deepEqual(plan(catchUp(saved, box(7, 30), false)), [false, false, null], 'HIGHESTMODSEQ unchanged');
  assert.deepEqual(plan(catchUp(saved, box(7, 40), false)), [false, true, 30], 'CONDSTORE: changes since');
  assert.deepEqual(plan(catchUp(saved, box(7, null), true)), [false, true, null], 'no MODSEQ now: every flag');
  const bare = { uidValidity: 7, highestModseq: null };
  assert.deepEqual(plan(catchUp(bare, box(7, 40), true)), [false, true, null], 'no MODSEQ cached: every flag');
  assert.deepEqual(plan(catchUp(saved, box(7n, 40n), false)), [false, true, 30], 'engine BigInts');
});

test('l0001 without IndexedDB, or when it fails to open, the cache is empty and every call still settles', async () => {
  const failing = {
    open() {
      const request = {};
      setTimeout(() => {
        request.error = new Error('private mode');
        request.onerror();
      }, 0);
      return request;
    },
  };
  const throwing = { open() { throw new Error('SecurityError'); } };
  for (const idb of [undefined, failing, throwing]) {
    const cache = new MailCache(idb, undefined);
    const scope = { account: accountKey('srv', 'alice'), mailbox: 'INBOX', uidValidity: 7 };
    cache.put(scope, [{ uid: 1, flags: [] }]);
    cache.remove(scope, [1]);
    cache.saveState(scope, 30);
    cache.putBody(scope, 1, { message: { uid: 1 }, structure: null });
    await cache.drop(scope.account);
    assert.equal(await cache.load(scope.account, 'INBOX'), null);
    assert.equal(await cache.body(scope, 1), null);
  }
});

test('l0001 persistent storage is asked for once, when the database opens; failing transactions read as no cache', async () => {
  let asked = 0;
  const storage = { persist: async () => { asked++; return true; } };
  const db = { transaction() { throw new Error('InvalidStateError: the connection is closing'); } };
  const idb = {
    open() {
      const request = { result: db };
      setTimeout(() => request.onsuccess(), 0);
      return request;
    },
  };
  const cache = new MailCache(idb, storage);
  const scope = { account: accountKey('srv', 'alice'), mailbox: 'INBOX', uidValidity: 7 };
  assert.equal(await cache.load(scope.account, 'INBOX'), null);
  cache.put(scope, [{ uid: 1, flags: [] }]);
  await cache.settled();
  assert.equal(await cache.load(scope.account, 'Sent'), null);
  assert.equal(await cache.body(scope, 1), null);
  assert.equal(asked, 1);
});

test('l0001 opened messages stay within the byte budget, the least recently opened evicted first; list rows stay', async () => {
  globalThis.IDBKeyRange ??= IDBKeyRange;
  let clock = 0;
  const cache = new MailCache(new IDBFactory(), undefined, { bodyBudget: 10_000, now: () => clock });
  const account = accountKey('srv', 'alice');
  const inbox = { account, mailbox: 'INBOX', uidValidity: 7 };
  const sent = { account, mailbox: 'Sent', uidValidity: 9 };
  const body = (uid) => ({ message: { uid, text: 'x'.repeat(1496) }, structure: null });
  assert.equal(sizeOf(body(1)), 3008);
  cache.put(inbox, [1, 2, 3, 4].map((uid) => ({ uid, flags: [] })));
  cache.saveState(inbox, 30);
  for (const uid of [1, 2, 3]) {
    clock = uid;
    cache.putBody(inbox, uid, body(uid));
  }
  await cache.settled();
  clock = 4;
  assert.deepEqual(await cache.body(inbox, 1), body(1), 'three fit in the budget');
  clock = 5;
  cache.putBody(inbox, 4, body(4));
  clock = 6;
  cache.putBody(sent, 5, body(5));
  await cache.settled();
  const kept = async (scope, uid) => (await cache.body(scope, uid)) !== null;
  assert.deepEqual(
    [await kept(inbox, 1), await kept(inbox, 2), await kept(inbox, 3), await kept(inbox, 4), await kept(sent, 5)],
    [true, false, false, true, true],
    'opened at 2 and 3 went first; 1, reopened at 4, stayed',
  );
  const { summaries } = await cache.load(account, 'INBOX');
  assert.deepEqual(summaries.map((s) => s.uid), [1, 2, 3, 4], 'list rows are never evicted');
});

test('l0001 a message over half the budget is not kept, and an opening recorded after its message went counts nothing', async () => {
  globalThis.IDBKeyRange ??= IDBKeyRange;
  let clock = 0;
  const cache = new MailCache(new IDBFactory(), undefined, { bodyBudget: 10_000, now: () => clock });
  const inbox = { account: accountKey('srv', 'alice'), mailbox: 'INBOX', uidValidity: 7 };
  const body = (uid, chars = 1496) => ({ message: { uid, text: 'x'.repeat(chars) }, structure: null });
  const kept = async (uid) => (await cache.body(inbox, uid)) !== null;
  clock = 1;
  cache.putBody(inbox, 1, body(1));
  clock = 2;
  cache.putBody(inbox, 2, body(2, 2600));
  await cache.settled();
  assert.deepEqual([await kept(1), await kept(2)], [true, false], '5,208 bytes of a 10,000 budget: not kept, nothing evicted');
  // As body() records an opening of a message removed while it was being read.
  clock = 5;
  cache.queue({ kind: 'opened', scope: inbox, uid: 3, bytes: 9000, at: clock });
  await cache.settled();
  clock = 6;
  cache.putBody(inbox, 4, body(4));
  await cache.settled();
  assert.deepEqual([await kept(1), await kept(4)], [true, true], 'no phantom 9,000 bytes pushed message 1 out');
});

test('l0001 bodies kept before their sizes were recorded are dropped on upgrade; the rest stays', async () => {
  globalThis.IDBKeyRange ??= IDBKeyRange;
  const idb = new IDBFactory();
  const old = idb.open('webmail-cache', 1);
  await new Promise((resolve) => {
    old.onupgradeneeded = () => {
      for (const name of ['summaries', 'mailboxes', 'bodies', 'folders']) old.result.createObjectStore(name);
    };
    old.onsuccess = resolve;
  });
  const db = old.result;
  const tx = db.transaction(['bodies', 'folders'], 'readwrite');
  const scope = { account: accountKey('srv', 'alice'), mailbox: 'INBOX', uidValidity: 7 };
  tx.objectStore('bodies').put({ message: { uid: 1 }, structure: null }, summaryKey(scope, 1));
  tx.objectStore('folders').put([{ name: 'INBOX' }], [scope.account]);
  await new Promise((resolve) => { tx.oncomplete = resolve; });
  db.close();
  const cache = new MailCache(idb, undefined);
  assert.equal(await cache.body(scope, 1), null);
  assert.deepEqual(await cache.folders(scope.account), [{ name: 'INBOX' }]);
});

test('the page\'s modules import each other without a cycle', () => {
  const web = new URL('../../web/', import.meta.url);
  const ui = readdirSync(new URL('ui/', web)).filter((f) => f.endsWith('.js')).map((f) => `ui/${f}`);
  const files = ['app.js', ...ui];
  const imports = new Map(files.map((file) => {
    const text = readFileSync(new URL(file, web), 'utf8');
    const targets = [...text.matchAll(/^import\s[^'"]*['"](\.{1,2}\/[^'"]+)['"]/gm)]
      .map((m) => posix.join(posix.dirname(file), m[1]));
    return [file, targets.filter((target) => files.includes(target))];
  }));
  assert.ok(imports.get('app.js').includes('ui/compose.js'), 'the imports were not read');
  const cycles = [];
  const done = new Set();
  const visit = (file, trail) => {
    if (trail.includes(file)) cycles.push([...trail.slice(trail.indexOf(file)), file].join(' → '));
    if (done.has(file) || trail.includes(file)) return;
    for (const target of imports.get(file)) visit(target, [...trail, file]);
    done.add(file);
  };
  for (const file of files) visit(file, []);
  assert.deepEqual(cycles, []);
});
