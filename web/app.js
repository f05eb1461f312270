// Webmail page: login form, folder tree, a virtual message list and the
// reader, on top of the IMAP client engine that runs in this tab as wasm
// (./pkg/client_wasm.js).
//
// Untrusted data (subjects, names, folder names, server texts) only ever
// reaches the page through textContent (see ui/dom.js). The password lives in
// a local variable for the duration of a sign-in and is never logged or shown.

import { clear } from './ui/dom.js';
import { describeError, errorCode } from './ui/errors.js';
import {
  orderFolders, renderFolderList, markCurrentFolder, findInbox, setFolderCount,
} from './ui/folders.js';
import {
  newestLowUid, createMessageRow, fillMessageRow, countText, hasFlag, withFlag, uidRuns,
} from './ui/messages.js';
import { VirtualList } from './ui/virtual-list.js';
import { SORTS, searchCriteria, flattenThreads } from './ui/view.js';
import {
  emptySelection, selectOne, toggle, extendTo, selectAll, prune, selectedInOrder, focusAfterRemoval,
} from './ui/selection.js';
import { openMenu, menuKey, menuIsOpen } from './ui/menu.js';
import { folderNameProblem } from './ui/folder-names.js';
import { renderReader, clearReader, showLabels } from './ui/reader.js';
import { cidKey } from './ui/sanitize.js';
import { formatSize } from './ui/links.js';
import { labelsOf, labelProblem } from './ui/labels.js';
import { Composer, initialFields, loadOriginal } from './ui/compose.js';
import { messageFromParts, partBytes } from './ui/parts.js';
import { renderAttachments, saveBytes } from './ui/attachments.js';
import { MailCache, accountKey, openArgument, catchUp } from './ui/cache.js';

/** Where the "Opening marks read" choice is kept in this browser. */
const MARK_READ_KEY = 'webmail.markRead';
/** How long "Sign out" waits for the server's goodbye before leaving anyway. */
const LOGOUT_TIMEOUT_MS = 5000;
/** Without IDLE, ask the server for news this often; folder counts are refreshed as often. */
const POLL_MS = 30_000;
/** Newest messages fetched before anything else when a folder opens (a screenful and more). */
const FIRST_WINDOW = 60;
/** Messages per background header fetch: ~0.25 s each, so clicks wait little between them. */
const SYNC_BATCH = 2000;
/** At most this many Message-IDs are looked up one by one when undoing a move. */
const UNDO_SEARCH_LIMIT = 50;
/** A cache that has not answered by then is not waited for (the server has the mail). */
const CACHE_WAIT_MS = 5000;

const $ = (id) => document.getElementById(id);
const ui = {
  banner: $('banner'),
  bannerText: $('banner-text'),
  bannerClose: $('banner-close'),
  loginView: $('login-view'),
  loginForm: $('login-form'),
  loginError: $('login-error'),
  loginStatus: $('login-status'),
  server: $('server'),
  serverHint: $('server-hint'),
  user: $('user'),
  password: $('password'),
  signIn: $('sign-in'),
  mailView: $('mail-view'),
  accountUser: $('account-user'),
  signOut: $('sign-out'),
  folderList: $('folder-list'),
  folderMenuButton: $('folder-menu-button'),
  messagePane: $('message-pane'),
  mailboxTitle: $('mailbox-title'),
  mailboxCount: $('mailbox-count'),
  listStatus: $('list-status'),
  undo: $('undo'),
  selectionCount: $('selection-count'),
  sync: $('sync'),
  syncProgress: $('sync-progress'),
  syncText: $('sync-text'),
  listScroller: $('list-scroller'),
  messageList: $('message-list'),
  listEmpty: $('list-empty'),
  searchForm: $('search-form'),
  searchInput: $('search-input'),
  searchClear: $('search-clear'),
  sortOrder: $('sort-order'),
  threadToggle: $('thread-toggle'),
  markReadSetting: $('mark-read-setting'),
  forgetSetting: $('forget-setting'),
  actions: $('actions'),
  actRead: $('act-read'),
  actFlag: $('act-flag'),
  actArchive: $('act-archive'),
  actDelete: $('act-delete'),
  actMove: $('act-move'),
  actCopy: $('act-copy'),
  actLabel: $('act-label'),
  menu: $('menu'),
  reader: $('reader'),
  readerPlaceholder: $('reader-placeholder'),
  readerStatus: $('reader-status'),
  readerMessage: $('reader-message'),
  readerSubject: $('reader-subject'),
  helpButton: $('help-button'),
  help: $('help'),
  helpClose: $('help-close'),
  nameDialog: $('name-dialog'),
  nameForm: $('name-form'),
  nameTitle: $('name-title'),
  nameInput: $('name-input'),
  nameError: $('name-error'),
  nameCancel: $('name-cancel'),
  readerLarge: $('reader-large'),
  readerLargeText: $('reader-large-text'),
  loadWhole: $('load-whole'),
};
/** The reader's parts, for ui/reader.js. */
const readerEls = {
  subject: $('reader-subject'),
  headers: $('reader-headers'),
  labels: $('reader-labels'),
  viewSwitch: $('reader-view'),
  viewText: $('view-text'),
  viewHtml: $('view-html'),
  note: $('reader-note'),
  noteText: $('reader-note-text'),
  loadRemote: $('load-remote'),
  frameForm: $('frame-form'),
  text: $('reader-text'),
  frame: $('reader-html'),
  attachments: $('reader-attachments'),
  attachmentList: $('attachment-list'),
};

/** The engine's class, once the wasm module is initialised. */
let ImapClient = null;

const state = {
  /** 'starting' | 'login' | 'connecting' | 'mail' | 'leaving' | 'broken' */
  phase: 'starting',
  /** Bumped whenever a client's life ends; stale async results compare it. */
  session: 0,
  client: null,
  user: '',
  /** The cache's name for this server and user (ui/cache.js accountKey). */
  account: '',
  /** The server enables QRESYNC: an open with the cache's state reports what changed. */
  qresync: false,
  /** The open folder's place in the cache ({account, mailbox, uidValidity}), or null. */
  cacheScope: null,
  /** While only the first cached window is read: news about the other cached rows. */
  cacheRest: null,
  /** A folder is being opened: its flag changes and VANISHED (EARLIER) already count. */
  opening: false,
  servers: [],
  /** Bumped per folder open; only the newest open may render. */
  loadSeq: 0,
  /** Engine calls are issued one at a time through this chain. */
  queue: Promise.resolve(),
  /** Tasks queued or running; IDLE starts only when this is 0. */
  pending: 0,
  /** Folder rows from orderFolders(), for special-use lookups. */
  folders: [],
  /** Unread counts by folder wire name. */
  unseen: new Map(),
  /** The open folder: {name, label, readOnly, specialUse}, or null. */
  box: null,
  /** Messages in the open folder as the page last knew, and as the server last said. */
  exists: 0,
  serverExists: 0,
  /** Highest UID seen in the open folder (new mail is fetched above it). */
  maxUid: 0,
  /** Every UID of the open folder, newest first; null until UID SEARCH ALL answered. */
  folderUids: null,
  /** The newest UIDs, shown while folderUids is still null. */
  firstUids: [],
  /** Headers fetched so far, by UID. */
  byUid: new Map(),
  /** Background header sync: the next list position to look at, and whether it runs. */
  syncCursor: 0,
  syncRunning: false,
  /** {query, criteria, uids} while the list shows a search (query: its label), a sort or conversations. */
  search: null,
  /** Conversation view: nesting level by UID; null otherwise. */
  depth: null,
  /** Selected rows, the anchor of Shift ranges and the focused row (ui/selection.js). */
  sel: emptySelection(),
  /** The message in the reader: its UID, the fetched message, and the view. */
  openUid: null,
  openMessage: null,
  readerView: 'text',
  /** The reader chose to load the open message's remote images. */
  remoteImages: false,
  /** The open message's `cid:` images: cidKey → data: URL. */
  inline: new Map(),
  readerSeq: 0,
  /** The last move, delete or copy, for Undo: {from, fromLabel, to, toLabel, count} and {moved, uidNext, ids} (a move) or {copies} (a copy). */
  undo: null,
  /** IDLE in progress, IDLE unavailable (poll instead), timers. */
  idling: false,
  noIdle: false,
  idleTimer: 0,
  pollTimer: 0,
  countsTimer: 0,
  /** A live update (new mail / expunge) is queued. */
  syncQueued: false,
};

/** The virtual message list (created in start()). */
let list = null;
/** The compose dialog (ui/compose.js, created in start()). */
let composer = null;
/** The mail kept on this device (IndexedDB). */
const cache = new MailCache();

// ---------------------------------------------------------------- helpers

/** ws(s)://<this host>/imap — the bridge that served the page relays IMAP. */
export function imapUrl(loc = window.location) {
  return (loc.protocol === 'https:' ? 'wss://' : 'ws://') + loc.host + '/imap';
}

/** Engine numbers may be BigInt; the page works with plain numbers. */
function num(value) {
  return Number(value);
}

function enqueue(task) {
  state.pending++;
  const run = state.queue.then(task, task);
  state.queue = run.catch(() => {}).then(() => {
    state.pending--;
    if (state.pending === 0) scheduleIdle();
  });
  return run;
}

// ---------------------------------------------------------------- live (IDLE)

/**
 * While nothing else is queued, the connection IDLEs so the server can tell
 * about new mail, flag changes and expunges at once. Any engine call ends the
 * IDLE first (the engine sends DONE); after the queue drains it starts again.
 */
function scheduleIdle(delay = 50) {
  clearTimeout(state.idleTimer);
  state.idleTimer = setTimeout(startIdle, delay);
}

function startIdle() {
  if (state.phase !== 'mail' || !state.client || !state.box || state.pending > 0 || state.idling) return;
  if (state.noIdle) {
    schedulePoll();
    return;
  }
  const client = state.client;
  const session = state.session;
  const started = Date.now();
  state.idling = true;
  client.idle().then(() => {
    if (session !== state.session) return;
    state.idling = false;
    // Ended by the engine's re-IDLE interval, or by a call (which restarts it when done).
    if (state.pending === 0) scheduleIdle(Date.now() - started < 1000 ? 1000 : 50);
  }, (err) => {
    if (session !== state.session) return;
    state.idling = false;
    const code = errorCode(err);
    if (code === 'closed' || code === 'connection_lost' || state.phase !== 'mail') return;
    // No IDLE on this server (or it failed): ask for news now and then instead.
    state.noIdle = true;
    schedulePoll();
  });
}

function schedulePoll() {
  clearTimeout(state.pollTimer);
  state.pollTimer = setTimeout(() => {
    if (state.phase !== 'mail' || !state.client || !state.box) return;
    const client = state.client;
    enqueue(() => client.noop()).catch(() => {});
  }, POLL_MS);
}

function stopLive() {
  clearTimeout(state.idleTimer);
  clearTimeout(state.pollTimer);
  clearTimeout(state.countsTimer);
  state.idling = false;
  state.noIdle = false;
}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'timeout' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Free a client's wasm memory; later, so it never happens inside its own callback. */
function freeClient(client) {
  if (!client) return;
  setTimeout(() => {
    try {
      client.free();
    } catch {
      // Already freed, or still borrowed by a call that is being torn down.
    }
  }, 0);
}

// ---------------------------------------------------------------- banner

function showBanner(text, kind = 'info') {
  ui.banner.classList.toggle('banner-error', kind === 'error');
  ui.banner.classList.toggle('banner-info', kind !== 'error');
  ui.bannerText.textContent = text;
  ui.banner.hidden = false;
}

function hideBanner() {
  ui.banner.hidden = true;
  ui.bannerText.textContent = '';
}

// ---------------------------------------------------------------- login view

function showLoginError(text) {
  ui.loginError.textContent = text;
  ui.loginError.classList.toggle('visible', Boolean(text));
}

function setLoginStatus(text) {
  ui.loginStatus.textContent = text;
}

function setLoginBusy(busy) {
  ui.loginForm.setAttribute('aria-busy', busy ? 'true' : 'false');
  const usable = !busy && state.servers.length > 0 && ImapClient !== null;
  ui.signIn.disabled = !usable;
  ui.server.disabled = !usable;
  ui.user.disabled = busy;
  ui.password.disabled = busy;
}

const SECURITY_TEXT = {
  tls: 'Encrypted connection (TLS).',
  starttls: 'Encrypted connection (STARTTLS).',
  plain: 'Unencrypted connection.',
  none: 'Unencrypted connection.',
  insecure: 'Unencrypted connection.',
};

function updateServerHint() {
  const server = state.servers.find((s) => s.id === ui.server.value);
  const sec = server && typeof server.security === 'string' ? server.security : '';
  ui.serverHint.textContent = SECURITY_TEXT[sec] || (sec ? `Connection: ${sec}.` : '');
}

function fillServers(servers) {
  clear(ui.server);
  for (const s of servers) {
    const option = document.createElement('option');
    option.value = s.id;
    option.textContent = typeof s.name === 'string' && s.name !== '' ? s.name : s.id;
    ui.server.append(option);
  }
  if (servers.length === 0) {
    const option = document.createElement('option');
    option.value = '';
    option.textContent = 'No servers available';
    ui.server.append(option);
  }
  updateServerHint();
}

async function loadServers() {
  const res = await fetch('/api/servers', { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = await res.json();
  const list = body && Array.isArray(body.servers) ? body.servers : [];
  return list.filter((s) => s && typeof s.id === 'string' && s.id !== '');
}

function showLoginView({ status = '' } = {}) {
  ui.mailView.hidden = true;
  ui.loginView.hidden = false;
  document.title = 'Webmail';
  clear(ui.folderList);
  state.box = null;
  state.folders = [];
  state.unseen = new Map();
  state.undo = null;
  resetList();
  if (ui.help.open) ui.help.close();
  ui.mailboxTitle.textContent = '';
  ui.mailboxCount.textContent = '';
  ui.listStatus.textContent = '';
  delete ui.messagePane.dataset.mailbox;
  ui.password.value = '';
  setLoginStatus(status);
  setLoginBusy(false);
  (ui.user.value ? ui.password : ui.user).focus();
}

function validate(serverId, user, password) {
  for (const input of [ui.user, ui.password]) input.removeAttribute('aria-invalid');
  if (!serverId) return { text: 'Choose a mail server.', field: ui.server };
  if (!user) return { text: 'Enter your user name.', field: ui.user };
  if (!password) return { text: 'Enter your password.', field: ui.password };
  return null;
}

async function signIn(event) {
  event.preventDefault();
  if (state.phase !== 'login' || !ImapClient) return;

  const serverId = ui.server.value;
  const user = ui.user.value.trim();
  let password = ui.password.value;

  const problem = validate(serverId, user, password);
  if (problem) {
    showLoginError(problem.text);
    problem.field.setAttribute('aria-invalid', 'true');
    problem.field.focus();
    return;
  }

  showLoginError('');
  hideBanner();
  state.phase = 'connecting';
  const session = ++state.session;
  state.queue = Promise.resolve();
  setLoginBusy(true);
  setLoginStatus('Connecting…');

  let client = null;
  let folders;
  /** The folder list came from the cache: listed again once the mail view shows. */
  let kept = null;
  try {
    client = await ImapClient.connect(imapUrl(), serverId);
    state.client = client;
    client.onEvent((ev) => onClientEvent(session, ev));

    setLoginStatus('Signing in…');
    const login = await client.login(user, password);
    state.qresync = Array.isArray(login?.capabilities) && login.capabilities.includes('QRESYNC');
    password = '';
    ui.password.value = '';

    setLoginStatus('Loading folders…');
    kept = await withTimeout(cache.folders(accountKey(serverId, user)), CACHE_WAIT_MS).catch(() => null);
    folders = kept || (await client.listMailboxes());
  } catch (err) {
    if (session !== state.session) return; // a 'closed' event already took over
    const code = errorCode(err);
    const text = describeError(err, { secrets: [password] });
    password = '';
    state.session++;
    state.phase = 'login';
    state.client = null;
    freeClient(client);
    setLoginStatus('');
    setLoginBusy(false);
    showLoginError(text);
    if (code === 'auth_failed') {
      ui.password.value = '';
      ui.password.setAttribute('aria-invalid', 'true');
      ui.password.focus();
    } else {
      ui.signIn.focus();
    }
    return;
  }

  state.phase = 'mail';
  state.user = user;
  state.account = accountKey(serverId, user);
  showMailView(folders);
  if (kept) relistFolders();
}

// ---------------------------------------------------------------- engine events

function onClientEvent(session, ev) {
  try {
    if (session !== state.session || !ev || typeof ev !== 'object') return;
    if (ev.type === 'alert') {
      const text = typeof ev.text === 'string' ? ev.text.trim() : '';
      if (text) showBanner(`Message from the mail server: ${text}`, 'info');
    } else if (ev.type === 'mailbox_changed') {
      onMailboxChanged(ev);
    } else if (ev.type === 'fetch_received') {
      onFlagsChanged(ev.message);
    } else if (ev.type === 'flags_changed') {
      onFlagsChanged(ev);
    } else if (ev.type === 'messages_vanished' && ev.earlier) {
      onVanishedEarlier(ev.uids);
    } else if (ev.type === 'uid_validity_changed' && typeof ev.mailbox === 'string') {
      cache.drop(state.account, ev.mailbox);
    } else if (ev.type === 'closed') {
      // While signing in, the pending call rejects and reports; while
      // signing out, the end is expected.
      if (state.phase !== 'mail') return;
      const client = state.client;
      state.session++;
      state.phase = 'login';
      state.client = null;
      state.loadSeq++;
      stopLive();
      freeClient(client);
      showBanner(`Disconnected: ${describeError(ev)}`, 'error');
      showLoginView();
    }
  } catch (err) {
    console.error('webmail: failed to handle an engine event', err);
  }
}

// ---------------------------------------------------------------- mail view

function showMailView(folders) {
  ui.accountUser.textContent = state.user;
  document.title = `${state.user} – Webmail`;
  setLoginStatus('');
  setLoginBusy(false);
  ui.signOut.disabled = false;
  ui.loginView.hidden = true;
  ui.mailView.hidden = false;
  showFolders(folders);

  const inbox = findInbox(folders);
  const inboxRow = state.folders.find((r) => r.name === inbox);
  openMailbox(inbox, inboxRow ? inboxRow.label : inbox);
  showPane('list');
  ui.folderList.querySelector('.folder.current')?.focus();
  refreshCounts();
}

/** List the folders again behind a list that came from the cache; on failure that one stays. */
function relistFolders() {
  const { client } = guarded();
  const session = state.session;
  enqueue(async () => {
    const folders = await client.listMailboxes();
    if (session !== state.session) return;
    const focused = ui.folderList.contains(document.activeElement);
    showFolders(folders);
    if (focused) ui.folderList.querySelector('.folder.current')?.focus();
  }).catch(() => {});
}

function showFolders(folders) {
  cache.putFolders(state.account, folders);
  state.folders = orderFolders(folders);
  renderFolderList(ui.folderList, state.folders);
  if (state.box) markCurrentFolder(ui.folderList, state.box.name);
  for (const [name, n] of state.unseen) setFolderCount(ui.folderList, name, n);
}

/** Narrow screens show one pane at a time: 'folders', 'list' or 'reader'. */
function showPane(pane) {
  ui.mailView.dataset.pane = pane;
}

function setListStatus(text, isError = false) {
  ui.listStatus.textContent = text;
  ui.listStatus.classList.toggle('error', isError);
  if (!text) ui.undo.hidden = true;
}

function specialFolder(use) {
  const row = state.folders.find((r) => r.specialUse === use && r.selectable);
  return row ? row.name : null;
}

function folderLabel(name) {
  const row = state.folders.find((r) => r.name === name);
  return row ? row.label : name;
}

function resetList() {
  state.folderUids = null;
  state.firstUids = [];
  state.byUid = new Map();
  state.cacheScope = null;
  state.opening = false;
  state.syncCursor = 0;
  state.syncRunning = false;
  state.sel = emptySelection();
  state.search = null;
  state.depth = null;
  ui.searchForm.reset();
  ui.searchClear.hidden = true;
  ui.sync.hidden = true;
  delete ui.messagePane.dataset.synced;
  closeReader();
  if (list) list.setCount(0);
  ui.messageList.hidden = true;
  ui.listEmpty.hidden = true;
}

/** The UIDs the list shows, in display order. */
function shownUids() {
  if (state.search) return state.search.uids;
  return state.folderUids || state.firstUids;
}

/** Rows in the list: before UID SEARCH ALL answered, the folder's size. */
function rowCount() {
  if (state.search || state.folderUids) return shownUids().length;
  return Math.max(state.exists, state.firstUids.length);
}

/**
 * Select `name` through the engine's open: it enables QRESYNC before the session's first open
 * and asks CONDSTORE where offered, so expunges arrive as VANISHED and flag changes with MODSEQ.
 * `cached` (ui/cache.js openArgument) lets a QRESYNC open report only what changed since.
 */
function selectFolder(client, name, cached = null) {
  return client.open(name, false, cached);
}

/** The open folder's place in the cache; null without a UIDVALIDITY to key it by. */
function cacheScopeOf(name, uidValidity) {
  const v = num(uidValidity);
  return state.account && Number.isFinite(v) ? { account: state.account, mailbox: name, uidValidity: v } : null;
}

/** Show the cached summaries at once; returns the cache's saved state, or null. */
async function loadCached(name, stale) {
  state.cacheRest = null;
  const cached = await withTimeout(cache.loadNewest(state.account, name, FIRST_WINDOW), CACHE_WAIT_MS)
    .catch(() => null);
  if (stale()) return null;
  if (!cached) {
    // What it may still hold (after a lost write, or too slow to wait for) is of no known age.
    cache.drop(state.account, name);
    return null;
  }
  for (const s of cached.summaries) {
    const uid = num(s.uid);
    if (uid > 0) state.byUid.set(uid, s);
  }
  state.cacheScope = cacheScopeOf(name, cached.saved.uidValidity);
  // News about rows not read yet waits here for loadCachedRest.
  state.cacheRest = { flags: new Map(), vanished: [] };
  return cached.saved;
}

/**
 * The cached rows behind the first window, read once that window shows; the open's news
 * (flag changes, VANISHED) about them, which arrived meanwhile, applied on top.
 */
async function loadCachedRest(name, stale) {
  const rest = state.cacheRest;
  if (!rest) return;
  const cached = await withTimeout(cache.load(state.account, name), CACHE_WAIT_MS).catch(() => null);
  if (stale()) return;
  state.cacheRest = null;
  if (!cached) return; // The background sync fetches what the cache could not give.
  const gone = [];
  const changed = [];
  for (const s of cached.summaries) {
    const uid = num(s.uid);
    if (!(uid > 0) || state.byUid.has(uid)) continue;
    if (rest.vanished.some(([first, last]) => uid >= first && uid <= last)) {
      gone.push(uid);
      continue;
    }
    const flags = rest.flags.get(uid);
    if (flags) {
      s.flags = flags;
      changed.push(s);
    }
    state.byUid.set(uid, s);
  }
  cache.remove(state.cacheScope, gone);
  cache.put(state.cacheScope, changed);
}

/** Drop these UIDs from the list's headers and from the cache. */
function forgetUids(uids) {
  for (const u of uids) state.byUid.delete(u);
  cache.remove(state.cacheScope, uids);
}

function openMailbox(name, label) {
  if (state.phase !== 'mail') return Promise.resolve();
  const seq = ++state.loadSeq;
  const session = state.session;
  const client = state.client;
  const stale = () => seq !== state.loadSeq || session !== state.session;

  markCurrentFolder(ui.folderList, name);
  ui.messagePane.dataset.mailbox = name;
  ui.messagePane.setAttribute('aria-busy', 'true');
  ui.mailboxTitle.textContent = label;
  ui.mailboxCount.textContent = '';
  state.box = null;
  resetList();
  updateActions();
  setListStatus('Loading…');

  return enqueue(async () => {
    if (stale()) return;
    try {
      const saved = await loadCached(name, stale);
      if (stale()) return;
      state.opening = true;
      // No known UIDs: only the first window is read yet, and without them the server
      // reports every UID expunged since the saved MODSEQ (RFC 7162 §3.2.5.2).
      const box = await selectFolder(client, name, openArgument(saved, null));
      if (stale()) return;
      state.opening = false;
      const row = state.folders.find((r) => r.name === name);
      state.box = {
        name,
        label,
        readOnly: box.read_only === true,
        specialUse: row ? row.specialUse : null,
        /** PERMANENTFLAGS has \\*: new labels may be made; and the labels the folder knows. */
        canLabel: box.can_create_keywords === true,
        labels: labelsOf([...(box.flags || []), ...(box.permanent_flags || [])]),
      };
      state.exists = num(box.exists) || 0;
      state.serverExists = state.exists;
      state.maxUid = Math.max(0, (num(box.uid_next) || 1) - 1);
      const plan = catchUp(saved, box, state.qresync);
      if (plan.drop) {
        state.byUid = new Map();
        state.cacheRest = null;
        cache.drop(state.account, name);
      }
      state.cacheScope = cacheScopeOf(name, box.uid_validity);
      if (state.exists === 0) {
        forgetUids([...state.byUid.keys()]);
        state.folderUids = [];
      } else if (state.byUid.size) {
        state.firstUids = [...state.byUid.keys()].sort((a, b) => b - a);
      } else {
        const headers = await client.fetchHeaders(newestLowUid(state.maxUid + 1, FIRST_WINDOW), null);
        if (stale()) return;
        remember(headers);
        state.firstUids = headers.map((h) => num(h.uid)).sort((a, b) => b - a);
      }
      showMessages();
      await loadCachedRest(name, stale);
      if (stale()) return;
      if (plan.fetchFlags && state.exists > 0) {
        await client.fetchFlags(1, plan.changedSince);
        if (stale()) return;
      }
      // Only now are the cached flags as current as the open's HIGHESTMODSEQ.
      cache.saveState(state.cacheScope, box.highest_modseq == null ? null : num(box.highest_modseq));
      if (state.exists > 0) await loadFolderUids(client, stale);
      if (viewWanted()) runSearch();
    } catch (err) {
      state.opening = false;
      if (stale()) return;
      ui.messagePane.setAttribute('aria-busy', 'false');
      setListStatus(`Could not open “${label}”: ${describeError(err)}`, true);
    }
  });
}

/** Keep fetched headers, here and in the cache; new UIDs raise maxUid. */
function remember(headers) {
  for (const h of headers) {
    const uid = num(h.uid);
    if (!Number.isFinite(uid)) continue;
    state.byUid.set(uid, h);
    state.maxUid = Math.max(state.maxUid, uid);
  }
  cache.put(state.cacheScope, headers);
}

/** Every UID of the open folder (UID SEARCH ALL), then the headers in the background. */
async function loadFolderUids(client, stale) {
  const uids = (await client.search({})).map(num).filter((u) => u > 0);
  if (stale()) return;
  uids.sort((a, b) => b - a);
  state.folderUids = uids;
  state.exists = uids.length;
  const present = new Set(uids);
  forgetUids([...state.byUid.keys()].filter((uid) => !present.has(uid)));
  if (uids.length) state.maxUid = Math.max(state.maxUid, uids[0]);
  state.syncCursor = 0;
  startSync();
  showMessages();
}

// ---------------------------------------------------------------- background header sync

/**
 * Fetch the headers the list still lacks, one batch per queued task so other
 * calls (opening a message, a move) get their turn in between: first the rows
 * on screen, then the rest in list order (newest first).
 */
function startSync() {
  if (state.syncRunning || !state.box) return;
  state.syncRunning = true;
  const client = state.client;
  const loadSeq = state.loadSeq;
  const session = state.session;
  const stale = () => loadSeq !== state.loadSeq || session !== state.session;
  const step = async () => {
    if (stale()) return;
    const batch = nextBatch();
    if (!batch) {
      state.syncRunning = false;
      showSyncProgress();
      return;
    }
    try {
      for (const [first, last] of batch) {
        const headers = await client.fetchHeaders(first, last);
        if (stale()) return;
        remember(headers);
      }
    } catch (err) {
      state.syncRunning = false;
      if (!stale()) setListStatus(`Could not load the message list: ${describeError(err)}`, true);
      return;
    }
    showSyncProgress();
    list.refresh();
    enqueue(step);
  };
  enqueue(step).catch(() => {});
  showSyncProgress();
}

/** UID ranges to fetch next, or null when every shown row has its headers. */
function nextBatch() {
  const uids = shownUids();
  const missing = (from, to) => uids.slice(from, to).filter((u) => !state.byUid.has(u));
  // In a folder, UIDs next to each other in the list have none between them: one range.
  const runs = (want) => uidRuns(want, state.search ? 20 : Infinity);
  const [first, last] = list.visibleRange();
  const onScreen = missing(first, Math.min(last + 20, uids.length));
  if (onScreen.length) return runs(onScreen);
  while (state.syncCursor < uids.length && state.byUid.has(uids[state.syncCursor])) state.syncCursor++;
  if (state.syncCursor >= uids.length) return null;
  const want = missing(state.syncCursor, state.syncCursor + SYNC_BATCH);
  state.syncCursor += SYNC_BATCH;
  return runs(want);
}

function loadedCount(uids) {
  let n = 0;
  for (const u of uids) if (state.byUid.has(u)) n++;
  return n;
}

function showSyncProgress() {
  const uids = shownUids();
  const total = uids.length;
  const loaded = state.syncRunning ? loadedCount(uids) : total;
  const done = !state.syncRunning && (state.folderUids !== null || state.search !== null);
  ui.sync.hidden = done || total === 0;
  ui.syncProgress.max = Math.max(1, total);
  ui.syncProgress.value = loaded;
  ui.syncText.textContent = `Loading the list: ${loaded.toLocaleString()} of ${total.toLocaleString()}`;
  if (done) {
    ui.messagePane.dataset.synced = 'true';
    if (!state.search) updateOwnCount();
  } else {
    delete ui.messagePane.dataset.synced;
  }
}

/** The open folder's unread count, from its own headers (never STATUS on a selected folder). */
function updateOwnCount() {
  const box = state.box;
  if (!box || !state.folderUids) return;
  let n = 0;
  for (const uid of state.folderUids) {
    const m = state.byUid.get(uid);
    if (m && !hasFlag(m.flags, '\\Seen')) n++;
  }
  state.unseen.set(box.name, n);
  setFolderCount(ui.folderList, box.name, n);
}

/** Unread counts of the other folders through STATUS, on the poll schedule. */
function refreshCounts(only = null) {
  clearTimeout(state.countsTimer);
  state.countsTimer = setTimeout(() => refreshCounts(), POLL_MS);
  if (state.phase !== 'mail') return Promise.resolve();
  const client = state.client;
  const session = state.session;
  const names = only ? [only] : state.folders.filter((r) => r.selectable).map((r) => r.name);
  return enqueue(async () => {
    for (const name of names) {
      if (session !== state.session) return;
      if (state.box && state.box.name === name) continue;
      try {
        const status = await client.status(name);
        const n = num(status.unseen);
        if (Number.isFinite(n)) {
          state.unseen.set(name, n);
          setFolderCount(ui.folderList, name, n);
        }
      } catch {
        // A folder that vanished or refuses STATUS keeps no count.
      }
    }
  }).catch(() => {});
}

function showMessages() {
  const box = state.box;
  const count = rowCount();
  let text = countText(state.exists);
  if (state.search && state.search.query) {
    const n = state.search.uids.length;
    text = `${n.toLocaleString()} ${n === 1 ? 'result' : 'results'} for “${state.search.query}”`;
  }
  if (box && box.readOnly) text += ' · read-only';
  ui.mailboxCount.textContent = text;
  if (ui.listStatus.textContent === 'Loading…' || ui.listStatus.textContent === 'Searching…') setListStatus('');

  state.sel = prune(state.sel, new Set(shownUids()));
  if (count === 0) {
    if (state.search && state.search.query) ui.listEmpty.textContent = `No messages match “${state.search.query}”.`;
    else ui.listEmpty.textContent = 'No messages';
    ui.listEmpty.hidden = false;
    ui.messageList.hidden = true;
  } else {
    ui.messageList.hidden = false;
    ui.listEmpty.hidden = true;
  }
  list.setCount(count);
  ui.messageList.setAttribute('aria-busy', state.folderUids || state.search ? 'false' : 'true');
  ui.messagePane.setAttribute('aria-busy', 'false');
  showSyncProgress();
  updateActivedescendant();
  updateActions();
}

function fillRow(row, index) {
  const uid = shownUids()[index];
  const m = uid === undefined ? null : state.byUid.get(uid) || null;
  fillMessageRow(row, m, {
    index,
    count: list.count,
    selected: uid !== undefined && state.sel.uids.has(uid),
    focused: uid !== undefined && uid === state.sel.focus,
    depth: state.depth && state.depth.get(uid),
  });
}

function messageByUid(uid) {
  return state.byUid.get(uid) || null;
}

// ---------------------------------------------------------------- selection

function updateActivedescendant() {
  const uid = state.sel.focus;
  const row = uid === null ? null : document.getElementById(`msg-${uid}`);
  if (row) ui.messageList.setAttribute('aria-activedescendant', row.id);
  else ui.messageList.removeAttribute('aria-activedescendant');
}

/** Apply a new selection; `scroll` brings its focused row into view. */
function setSelection(sel, { scroll = true } = {}) {
  state.sel = sel;
  if (scroll && sel.focus !== null) {
    const i = shownUids().indexOf(sel.focus);
    if (i >= 0) list.scrollToIndex(i);
  }
  list.refresh();
  updateActivedescendant();
  updateActions();
}

function select(uid, options) {
  setSelection(selectOne(uid), options);
}

/** Move the focus `step` rows (or to `to`: 'first' | 'last'); `extend` grows the selection. */
function moveSelection(step, extend = false) {
  const uids = shownUids();
  if (uids.length === 0) return;
  const i = uids.indexOf(state.sel.focus);
  let next;
  if (step === 'first') next = 0;
  else if (step === 'last') next = uids.length - 1;
  else next = i < 0 ? 0 : Math.min(uids.length - 1, Math.max(0, i + step));
  const uid = uids[next];
  setSelection(extend ? extendTo(state.sel, uids, uid) : selectOne(uid));
}

/** The rows an action applies to: the selection, in list order. */
function targets() {
  return selectedInOrder(state.sel, shownUids());
}

function onRowClick(event) {
  const row = event.target instanceof Element ? event.target.closest('.msg-row[data-uid]') : null;
  if (!row) return;
  const uid = Number(row.dataset.uid);
  if (event.shiftKey) {
    setSelection(extendTo(state.sel, shownUids(), uid, event.ctrlKey || event.metaKey), { scroll: false });
  } else if (event.ctrlKey || event.metaKey) {
    setSelection(toggle(state.sel, uid), { scroll: false });
  } else {
    select(uid, { scroll: false });
    openMessage(uid);
  }
}

// ---------------------------------------------------------------- reader

function closeReader() {
  state.readerSeq++;
  state.openUid = null;
  state.openMessage = null;
  clearReader(readerEls);
  ui.readerMessage.hidden = true;
  ui.readerPlaceholder.hidden = false;
  ui.readerStatus.textContent = '';
  ui.readerLarge.hidden = true;
  ui.reader.setAttribute('aria-busy', 'false');
  delete ui.reader.dataset.uid;
}

/**
 * Larger messages (RFC822.SIZE) open as their text and a list of attachments, fetched part by
 * part; the whole message only when asked (row V0007; the engine's own limit is the same).
 */
const WHOLE_MESSAGE_LIMIT = 10 * 1024 * 1024;

/** Whether message `uid` of the open folder is read by parts until the user asks for it whole. */
function readByParts(uid, whole) {
  const row = messageByUid(uid);
  return !whole && row !== null && num(row.size) > WHOLE_MESSAGE_LIMIT;
}

/** Says a large message shows by parts, offering the whole; hidden otherwise. */
function showLargeNote(uid, byParts) {
  ui.readerLarge.hidden = !byParts;
  if (!byParts) return;
  const row = messageByUid(uid);
  ui.readerLargeText.textContent = `This message is ${formatSize(num(row && row.size))}: its text is shown, and attachments download one by one.`;
}

function openMessage(uid, { whole = false } = {}) {
  if (state.phase !== 'mail' || !state.box || uid === null) return Promise.resolve();
  if (state.sel.focus !== uid) select(uid);
  if (state.box.name === draftsFolder()) return compose('draft', uid);
  showPane('reader');
  const seq = ++state.readerSeq;
  const loadSeq = state.loadSeq;
  const session = state.session;
  const client = state.client;
  const box = state.box;
  const stale = () => seq !== state.readerSeq || loadSeq !== state.loadSeq || session !== state.session;
  state.openUid = uid;
  state.readerView = 'text';
  ui.reader.setAttribute('aria-busy', 'true');
  ui.reader.dataset.uid = String(uid);
  ui.readerStatus.textContent = 'Loading…';
  ui.readerStatus.classList.remove('error');

  const scope = state.cacheScope;
  return enqueue(async () => {
    if (stale()) return;
    try {
      const kept = await withTimeout(cache.body(scope, uid), CACHE_WAIT_MS).catch(() => null);
      if (stale()) return;
      const byParts = !kept && readByParts(uid, whole);
      const partsOf = byParts ? await client.fetchStructure(uid) : null;
      if (stale()) return;
      const message = kept ? kept.message
        : byParts ? partsOf && await messageFromParts(client, uid, partsOf)
          : await client.fetchMessage(uid);
      if (stale()) return;
      showLargeNote(uid, byParts && Boolean(message));
      if (!message) {
        ui.readerStatus.textContent = 'This message no longer exists.';
        ui.readerMessage.hidden = true;
        ui.reader.setAttribute('aria-busy', 'false');
        return;
      }
      // A kept message's flags are as old as the copy; the row's are current.
      if (kept && messageByUid(uid)) message.flags = messageByUid(uid).flags.slice();
      state.openMessage = message;
      ui.readerPlaceholder.hidden = true;
      ui.readerStatus.textContent = '';
      state.remoteImages = false;
      state.inline = new Map();
      state.readerView = renderReader(readerEls, message, state.readerView);
      ui.readerMessage.hidden = false;
      ui.reader.setAttribute('aria-busy', 'false');
      if (ui.mailView.dataset.pane === 'reader' && isNarrow()) ui.readerSubject.focus();
      const structure = kept ? kept.structure : partsOf || await client.fetchStructure(uid);
      if (stale()) return;
      renderAttachments(readerEls, structure ? structure.attachments : [], (part, button) => downloadPart(uid, part, button));
      // A kept message keeps its cid: images too (as data: URLs); one kept before they were
      // (no `inline`) fetches them again.
      const inline = kept && Array.isArray(kept.inline) ? new Map(kept.inline)
        : await inlineImages(client, uid, message, structure);
      if (stale()) return;
      // Only whole messages are kept: a large one read by parts is fetched again.
      if (!kept && !byParts) cache.putBody(scope, uid, { message, structure, inline: [...inline] });
      if (inline.size > 0) {
        state.inline = inline;
        if (state.readerView === 'html') setReaderView('html');
      }

      const row = messageByUid(uid);
      const flags = row ? row.flags : message.flags;
      if (ui.markReadSetting.checked && !box.readOnly && !hasFlag(flags, '\\Seen')) {
        await client.store([uid], 'add', ['\\Seen']);
        if (stale()) return;
        setFlagLocally([uid], '\\Seen', true);
      }
    } catch (err) {
      if (stale()) return;
      ui.reader.setAttribute('aria-busy', 'false');
      ui.readerStatus.textContent = `Could not open the message: ${describeError(err)}`;
      ui.readerStatus.classList.add('error');
    }
  });
}

// ---------------------------------------------------------------- compose and attachments

/** The Drafts folder: special-use \Drafts, else a folder named Drafts. */
function draftsFolder() {
  const named = state.folders.find((r) => r.selectable && r.label.toLowerCase() === 'drafts');
  return specialFolder('drafts') || (named ? named.name : null);
}

/** Inside a queued task: run fn(client) with `name` selected, then show the open folder (and message) afresh. */
async function inMailbox(name, fn) {
  const client = state.client;
  const box = state.box;
  const uid = state.openUid;
  if (!box || box.name !== name) {
    // Until the folder is reopened, nothing heard may reach its cache: it is about `name`.
    state.cacheScope = null;
    await selectFolder(client, name);
  }
  await fn(client);
  if (!box || state.box !== box) return;
  const seq = state.loadSeq + 1;
  openMailbox(box.name, box.label).then(() => {
    if (uid !== null && seq === state.loadSeq && state.box) openMessage(uid);
  });
}

/** Open the compose dialog: 'new', or 'reply' / 'all' / 'forward' / 'draft' from message `uid`. */
function compose(kind, uid = state.openUid ?? state.sel.focus) {
  if (state.phase !== 'mail') return Promise.resolve();
  const title = { new: 'New message', reply: 'Reply', all: 'Reply to all', forward: 'Forward', draft: 'Edit draft' }[kind];
  if (kind === 'new') return Promise.resolve(composer.open(title));
  if (!state.box || uid === null) return Promise.resolve(setListStatus('Open a message first.'));
  const { client, stale } = guarded();
  setListStatus('Loading…');
  return enqueue(async () => {
    try {
      const original = await loadOriginal(client, uid, { withAttachments: kind === 'forward' || kind === 'draft' });
      if (stale()) return;
      setListStatus('');
      composer.open(title, initialFields(kind, original, state.user), kind === 'draft' ? uid : null);
    } catch (err) {
      if (!stale()) setListStatus(`Could not open the message: ${describeError(err)}`, true);
    }
  });
}

/** Download one attachment of message `uid` (in the open folder) as a file. */
function downloadPart(uid, part, button) {
  const { client, stale } = guarded();
  button.disabled = true;
  return enqueue(async () => {
    try {
      if (stale() || state.openUid !== uid) throw new Error('The message is no longer open.');
      saveBytes(await partBytes(client, uid, part), part.filename, part.content_type);
    } catch (err) {
      ui.readerStatus.textContent = `Could not download the attachment: ${describeError(err)}`;
      ui.readerStatus.classList.add('error');
    } finally {
      button.disabled = false;
    }
  });
}

function isNarrow() {
  return window.matchMedia('(max-width: 700px)').matches;
}

function setReaderView(view) {
  if (!state.openMessage) return;
  state.readerView = renderReader(readerEls, state.openMessage, view, state.remoteImages, state.inline);
}

/** Image types an inline part may be shown as (what the sanitizer lets through as data:). */
const INLINE_TYPES = /^image\/(png|gif|jpeg|webp|bmp)$/;
/**
 * Limits on what one message's inline images may fetch. As base64 in the posted form they
 * grow by about 40 %, and the bridge's /frame takes at most 8 MB with the HTML.
 */
const INLINE_MAX_PARTS = 20;
const INLINE_MAX_BYTES = 2 * 1024 * 1024;

/**
 * The `cid:` images the HTML of `message` refers to, fetched as single parts: cidKey →
 * data: URL. Parts of other types, or beyond the limits, are left out (shown as missing).
 */
async function inlineImages(client, uid, message, structure) {
  const inline = new Map();
  const html = typeof message.html === 'string' ? message.html.toLowerCase() : '';
  if (!structure || !html.includes('cid:')) return inline;
  const wanted = [];
  const walk = (part) => {
    if (!part) return;
    const type = String(part.content_type || '').toLowerCase();
    if (part.id && INLINE_TYPES.test(type) && html.includes(`cid:${cidKey(part.id)}`)) wanted.push([part, type]);
    for (const child of part.children || []) walk(child);
  };
  walk(structure.body);
  let budget = INLINE_MAX_BYTES;
  for (const [part, type] of wanted.slice(0, INLINE_MAX_PARTS)) {
    if (!(Number(part.size) <= budget)) continue;
    budget -= Number(part.size);
    const bytes = await partBytes(client, uid, part);
    inline.set(cidKey(part.id), `data:${type};base64,${base64(bytes)}`);
  }
  return inline;
}

function base64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

// ---------------------------------------------------------------- actions

const ACTION_BUTTONS = () => [ui.actRead, ui.actFlag, ui.actArchive, ui.actDelete, ui.actMove, ui.actCopy, ui.actLabel];

function updateActions() {
  const box = state.box;
  const chosen = targets();
  const focus = state.sel.focus === null ? null : messageByUid(state.sel.focus);
  let why = '';
  if (!box) why = 'No folder is open.';
  else if (box.readOnly) why = 'This folder is read-only: the server does not allow changes here.';
  else if (chosen.length === 0) why = 'Select a message first.';
  for (const b of ACTION_BUTTONS()) {
    b.disabled = Boolean(why);
    b.title = why;
  }
  if (box && box.readOnly && chosen.length) {
    ui.actCopy.disabled = false;
    ui.actCopy.title = '';
  }
  const anyWithout = (flag) => chosen.some((u) => !hasFlag(messageByUid(u)?.flags, flag));
  if (focus || chosen.length) {
    ui.actRead.textContent = anyWithout('\\Seen') ? 'Mark read' : 'Mark unread';
    ui.actFlag.textContent = anyWithout('\\Flagged') ? 'Flag' : 'Unflag';
  }
  if (!why) {
    const archive = specialFolder('archive');
    if (!archive || box.specialUse === 'archive') {
      ui.actArchive.disabled = true;
      ui.actArchive.title = archive ? 'This is the archive folder.' : 'The server has no archive folder.';
    }
    const trash = specialFolder('trash');
    if (!trash && box.specialUse !== 'trash') {
      ui.actDelete.disabled = true;
      ui.actDelete.title = 'The server has no Trash folder.';
    }
    if (!box.canLabel && !box.labels.length) {
      ui.actLabel.disabled = true;
      ui.actLabel.title = 'The server does not keep labels in this folder.';
    }
  }
  for (const b of ACTION_BUTTONS()) {
    if (!b.title) b.title = `${b.textContent} (${b.getAttribute('aria-keyshortcuts')})`;
  }
  ui.actions.classList.toggle('read-only', Boolean(box && box.readOnly));
  const n = chosen.length;
  ui.selectionCount.textContent = n > 1 ? `${n.toLocaleString()} selected` : '';
}

function setFlagLocally(uids, flag, on) {
  const changed = [];
  for (const uid of uids) {
    const m = messageByUid(uid);
    if (m) {
      m.flags = withFlag(m.flags, flag, on);
      changed.push(m);
    }
    if (state.openMessage && num(state.openMessage.uid) === uid) {
      state.openMessage.flags = withFlag(state.openMessage.flags, flag, on);
      showLabels(readerEls, state.openMessage.flags);
    }
  }
  cache.put(state.cacheScope, changed);
  list.refresh();
  updateActions();
  if (flag === '\\Seen' && ui.messagePane.dataset.synced) updateOwnCount();
}

/** Run an action on the selection through the queue; errors go to the status line. */
function act(name) {
  const box = state.box;
  const uids = targets();
  if (state.phase !== 'mail' || !box || uids.length === 0) return Promise.resolve();
  const button = {
    read: ui.actRead, flag: ui.actFlag, archive: ui.actArchive, delete: ui.actDelete, move: ui.actMove, copy: ui.actCopy,
    label: ui.actLabel,
  }[name];
  if (button.disabled) {
    if (button.title) setListStatus(button.title);
    return Promise.resolve();
  }
  if (name === 'move' || name === 'copy') {
    chooseFolder(button, name, uids);
    return Promise.resolve();
  }
  if (name === 'label') {
    chooseLabel(button, uids);
    return Promise.resolve();
  }
  if (name === 'read' || name === 'flag') {
    const flag = name === 'read' ? '\\Seen' : '\\Flagged';
    const on = uids.some((u) => !hasFlag(messageByUid(u)?.flags, flag));
    return changeFlags(uids, flag, on);
  }
  if (name === 'delete' && box.specialUse === 'trash') return deleteForGood(uids);
  const to = specialFolder(name === 'delete' ? 'trash' : 'archive');
  return moveMessages(uids, to, { copy: false });
}

function guarded() {
  const client = state.client;
  const loadSeq = state.loadSeq;
  const session = state.session;
  return { client, stale: () => loadSeq !== state.loadSeq || session !== state.session };
}

function changeFlags(uids, flag, on) {
  const { client, stale } = guarded();
  return enqueue(async () => {
    if (stale()) return;
    try {
      await client.store(uids, on ? 'add' : 'remove', [flag]);
      if (stale()) return;
      setFlagLocally(uids, flag, on);
      setListStatus('');
    } catch (err) {
      if (!stale()) setListStatus(`Could not change the messages: ${describeError(err)}`, true);
    }
  });
}

function plural(n, word) {
  return `${n.toLocaleString()} ${word}${n === 1 ? '' : 's'}`;
}

function deleteForGood(uids) {
  const { client, stale } = guarded();
  return enqueue(async () => {
    if (stale()) return;
    try {
      state.exists = Math.max(0, state.exists - uids.length);
      await client.store(uids, 'add', ['\\Deleted']);
      await client.expunge(uids);
      if (stale()) return;
      removeRows(uids);
      setListStatus(`Deleted ${plural(uids.length, 'message')} for good.`);
    } catch (err) {
      if (stale()) return;
      state.exists = state.serverExists;
      setListStatus(`Could not delete: ${describeError(err)}`, true);
    }
  });
}

/**
 * Move (or copy) `uids` to the folder `to`. A move is remembered for Undo with
 * the moved messages' new UIDs the server reported (COPYUID), which Undo moves
 * back, and, for a server that does not say, the destination's UIDNEXT from
 * before and the Message-IDs, by which Undo finds them; a copy with the copies'
 * UIDs (COPYUID), which Undo expunges. Without them a copy cannot be undone.
 */
function moveMessages(uids, to, { copy }) {
  const box = state.box;
  if (!box || !to || to === box.name) return Promise.resolve();
  const { client, stale } = guarded();
  const toLabel = folderLabel(to);
  const ids = uids.map((u) => messageByUid(u)?.message_id).filter((id) => typeof id === 'string' && id !== '');
  return enqueue(async () => {
    if (stale()) return;
    try {
      let uidNext = null;
      let copies = null;
      let moved = null;
      if (!copy) {
        try {
          uidNext = num((await client.status(to)).uid_next) || null;
        } catch {
          // Undo falls back to searching the Message-IDs.
        }
      }
      if (copy) {
        copies = await client.copy(uids, to);
      } else {
        state.exists = Math.max(0, state.exists - uids.length);
        try {
          moved = await client.moveMessages(uids, to);
        } catch (err) {
          if (errorCode(err) !== 'not_supported') throw err;
          moved = await client.copy(uids, to);
          await client.store(uids, 'add', ['\\Deleted']);
          await client.expunge(uids);
        }
      }
      if (stale()) return;
      const what = plural(uids.length, 'message');
      const last = { from: box.name, fromLabel: box.label, to, toLabel, count: uids.length };
      if (copy && !copies) {
        state.undo = null;
        ui.undo.hidden = true;
        setListStatus(`Copied ${what} to ${toLabel}. The server does not say which messages are the copies, so this cannot be undone.`);
      } else if (copy) {
        setListStatus(`Copied ${what} to ${toLabel}.`);
        state.undo = { ...last, copies };
        ui.undo.hidden = false;
      } else {
        removeRows(uids);
        const verb = to === specialFolder('trash') ? 'Moved to Trash' : `Moved to ${toLabel}`;
        setListStatus(uids.length === 1 ? `${verb}.` : `${verb}: ${what}.`);
        state.undo = { ...last, moved, uidNext, ids };
        ui.undo.hidden = false;
      }
      refreshCounts(to);
    } catch (err) {
      if (stale()) return;
      state.exists = state.serverExists;
      setListStatus(`Could not ${copy ? 'copy' : 'move'} the messages: ${describeError(err)}`, true);
    }
  });
}

/**
 * The UIDs, in the selected destination, of `count` messages moved there whose
 * Message-IDs are `ids` (each used once). Messages at or above the
 * destination's old UIDNEXT are matched first; if exactly as many of them are
 * left unmatched as moved messages had no known Message-ID, they are those.
 * IDs still missing are searched one by one.
 */
async function findMoved(client, { ids, uidNext, count }) {
  const wanted = new Map();
  for (const id of ids) wanted.set(id, (wanted.get(id) || 0) + 1);
  const found = new Set();
  /** Takes the headers whose Message-ID is wanted; returns the others. */
  const take = (headers) => headers.sort((a, b) => num(b.uid) - num(a.uid)).filter((h) => {
    const left = wanted.get(h.message_id) || 0;
    if (left === 0 || found.has(num(h.uid))) return true;
    found.add(num(h.uid));
    wanted.set(h.message_id, left - 1);
    return false;
  });
  if (uidNext) {
    const unmatched = take((await client.fetchHeaders(uidNext, null)).filter((h) => num(h.uid) >= uidNext));
    if (unmatched.length === count - ids.length) for (const h of unmatched) found.add(num(h.uid));
  }
  const rest = [...wanted].filter(([, left]) => left > 0).map(([id]) => id).slice(0, UNDO_SEARCH_LIMIT);
  for (const id of rest) {
    const hits = (await client.search({ text: id })).map(num);
    for (const [first, last] of uidRuns(hits)) take(await client.fetchHeaders(first, last));
  }
  return [...found];
}

/** The UIDs a COPYUID answer names, one by one (no more than were copied or moved). */
function copyUids(copies) {
  return copies.uids.flatMap(([first, last]) => Array.from({ length: num(last) - num(first) + 1 }, (_, i) => num(first) + i));
}

/**
 * Undo a move or delete: move the messages back from the selected destination, by
 * the UIDs the server gave them there, or else found by their Message-IDs.
 */
async function moveBack(client, last, box) {
  const known = last.moved && num(box.uid_validity) === num(last.moved.uid_validity);
  // A server may name one MOVE's copies in several COPYUIDs; the engine reports the first:
  // when it does not cover every message, they are looked for as without COPYUID.
  const copies = known ? copyUids(last.moved) : [];
  const uids = copies.length === last.count ? copies : await findMoved(client, last);
  if (uids.length) await client.moveMessages(uids, last.from);
  const missed = last.count - uids.length;
  const text = `Moved ${plural(uids.length, 'message')} back to ${last.fromLabel}.` +
    (missed > 0 ? ` ${plural(missed, 'message')} could not be found in ${last.toLabel}.` : '');
  return { text, isError: missed > 0 };
}

/** Undo a copy: expunge the copies, by the UIDs the server gave them, from the selected destination. */
async function removeCopies(client, { copies, toLabel }, box) {
  if (num(box.uid_validity) !== num(copies.uid_validity)) {
    return { text: `Could not undo: ${toLabel} was recreated since the copy.`, isError: true };
  }
  const uids = copyUids(copies);
  await client.store(uids, 'add', ['\\Deleted']);
  await client.expunge(uids);
  return { text: `Removed ${plural(uids.length, 'copied message')} from ${toLabel}.`, isError: false };
}

/** Undo the last move, delete or copy. */
function undo() {
  const last = state.undo;
  if (!last || state.phase !== 'mail') return Promise.resolve();
  state.undo = null;
  if (document.activeElement === ui.undo) ui.messageList.focus();
  ui.undo.hidden = true;
  // Another folder gets selected: nothing may act on the shown list until it is reloaded.
  state.loadSeq++;
  state.box = null;
  state.cacheScope = null;
  updateActions();
  const client = state.client;
  const session = state.session;
  setListStatus('Undoing…');
  return enqueue(async () => {
    if (session !== state.session) return;
    let text;
    let isError;
    try {
      const box = await selectFolder(client, last.to);
      ({ text, isError } = last.copies ? await removeCopies(client, last, box) : await moveBack(client, last, box));
    } catch (err) {
      text = `Could not undo: ${describeError(err)}`;
      isError = true;
    }
    if (session !== state.session) return;
    // Queued after this task: not awaited here.
    openMailbox(last.from, last.fromLabel).then(() => setListStatus(text, isError));
    refreshCounts(last.to);
  });
}

/** Take messages off the list; the row after the last one removed gets the focus. */
function removeRows(uids) {
  const gone = new Set(uids);
  const next = focusAfterRemoval(shownUids(), gone);
  const wasOpen = state.openUid !== null && gone.has(state.openUid);
  const keep = (u) => !gone.has(u);
  if (state.folderUids) state.folderUids = state.folderUids.filter(keep);
  state.firstUids = state.firstUids.filter(keep);
  if (state.search) state.search.uids = state.search.uids.filter(keep);
  forgetUids(uids);
  state.syncCursor = 0;
  state.sel = next === null ? emptySelection() : selectOne(next);
  showMessages();
  setSelection(state.sel);
  if (wasOpen) {
    if (next !== null) openMessage(next);
    else closeReader();
  }
}

/** The folder menu of Move to… / Copy to…. */
function chooseFolder(button, mode, uids) {
  const box = state.box;
  const entries = state.folders.map((r) => ({
    label: r.label,
    value: r.name,
    depth: r.depth,
    disabled: !r.selectable || r.name === box.name,
  }));
  openMenu(ui.menu, button, entries, (to) => moveMessages(uids, to, { copy: mode === 'copy' }));
}

/** The label menu: a label all chosen messages have is removed, any other added; or a new one. */
function chooseLabel(button, uids) {
  const box = state.box;
  const has = (label) => uids.every((u) => hasFlag(messageByUid(u)?.flags, label));
  const known = new Set(box.labels);
  for (const u of uids) for (const label of labelsOf(messageByUid(u)?.flags)) known.add(label);
  const entries = labelsOf([...known]).map((label) => ({ label: `${has(label) ? '✓ ' : ''}${label}`, value: label }));
  if (box.canLabel) entries.push({ label: 'New label…', value: '' });
  openMenu(ui.menu, button, entries, async (label) => {
    if (label) return changeFlags(uids, label, !has(label));
    const name = await askName('New label', '', labelProblem);
    if (name === null || state.box !== box) return undefined;
    if (!box.labels.includes(name)) box.labels.push(name);
    return changeFlags(uids, name, true);
  });
}

// ---------------------------------------------------------------- drag and drop

const DRAG_TYPE = 'application/x-webmail-uids';

function onDragStart(event) {
  const row = event.target instanceof Element ? event.target.closest('.msg-row[data-uid]') : null;
  if (!row || !state.box) return;
  const uid = Number(row.dataset.uid);
  if (!state.sel.uids.has(uid)) select(uid, { scroll: false });
  const uids = targets();
  event.dataTransfer.setData(DRAG_TYPE, JSON.stringify({ from: state.box.name, uids }));
  event.dataTransfer.setData('text/plain', plural(uids.length, 'message'));
  event.dataTransfer.effectAllowed = state.box.readOnly ? 'copy' : 'copyMove';
}

function dropTarget(event) {
  const item = event.target instanceof Element ? event.target.closest('.folder[data-name]') : null;
  if (!item || item.getAttribute('aria-disabled') === 'true' || !state.box) return null;
  if (item.dataset.name === state.box.name || !event.dataTransfer.types.includes(DRAG_TYPE)) return null;
  return item;
}

function onDragOver(event) {
  const item = dropTarget(event);
  if (!item) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = event.ctrlKey || state.box.readOnly ? 'copy' : 'move';
  for (const n of ui.folderList.querySelectorAll('.drop-target')) if (n !== item) n.classList.remove('drop-target');
  item.classList.add('drop-target');
}

function clearDropTargets() {
  for (const n of ui.folderList.querySelectorAll('.drop-target')) n.classList.remove('drop-target');
}

function onDrop(event) {
  const item = dropTarget(event);
  clearDropTargets();
  if (!item) return;
  event.preventDefault();
  let data;
  try {
    data = JSON.parse(event.dataTransfer.getData(DRAG_TYPE));
  } catch {
    return;
  }
  if (!data || data.from !== state.box.name || !Array.isArray(data.uids)) return;
  const uids = data.uids.map(Number).filter((u) => state.byUid.has(u));
  if (!uids.length) return;
  moveMessages(uids, item.dataset.name, { copy: event.ctrlKey || state.box.readOnly });
}

// ---------------------------------------------------------------- search

/** The search fields as typed (see ui/view.js). */
function searchFields() {
  const form = ui.searchForm.elements;
  const fields = { text: ui.searchInput.value };
  for (const name of ['from', 'to', 'subject', 'since', 'before']) fields[name] = form[name].value;
  for (const name of ['unseen', 'flagged']) fields[name] = form[name].checked;
  return fields;
}

/** Whether the list should show something other than the whole folder, newest first. */
function viewWanted() {
  return searchCriteria(searchFields()) !== null || ui.sortOrder.value in SORTS ||
    ui.threadToggle.getAttribute('aria-pressed') === 'true';
}

/** UIDs matching `criteria` (null: all), in the chosen order (server SORT / THREAD). */
async function viewUids(client, criteria) {
  const query = criteria ? criteria.query : {};
  let uids;
  let depth = null;
  if (ui.threadToggle.getAttribute('aria-pressed') === 'true') {
    ({ uids, depth } = flattenThreads(await client.threads(query)));
  } else if (ui.sortOrder.value in SORTS) {
    uids = (await client.sort(SORTS[ui.sortOrder.value], query)).map(num);
  } else {
    uids = (await client.search(query)).map(num).sort((a, b) => b - a);
  }
  uids = uids.filter((u) => u > 0);
  return { uids, depth };
}

/**
 * Show the search, sort and conversation choices; none of them: the whole folder.
 * `refresh` (after news from the server): the open message and the selection stay.
 */
function runSearch({ refresh = false } = {}) {
  const box = state.box;
  if (state.phase !== 'mail' || !box || (refresh && !state.search)) return Promise.resolve();
  if (!refresh && !viewWanted()) return clearSearch();
  // A refresh keeps the criteria last run, not what is typed in the fields meanwhile.
  const criteria = refresh ? state.search.criteria : searchCriteria(searchFields());
  const { client, stale } = guarded();
  if (!refresh) closeReader();
  ui.messagePane.setAttribute('aria-busy', 'true');
  setListStatus(criteria ? 'Searching…' : 'Loading…');

  return enqueue(async () => {
    if (stale()) return;
    try {
      const { uids, depth } = await viewUids(client, criteria);
      if (stale()) return;
      state.search = { query: criteria ? criteria.label : null, criteria, uids };
      state.depth = depth;
      state.syncCursor = 0;
      ui.searchClear.hidden = !criteria;
      if (refresh) {
        if (state.openUid !== null && !uids.includes(state.openUid)) closeReader();
        showMessages();
      } else {
        state.sel = emptySelection();
        list.scroller.scrollTop = 0;
        showMessages();
        if (uids.length) select(uids[0]);
      }
      startSync();
    } catch (err) {
      if (stale()) return;
      ui.messagePane.setAttribute('aria-busy', 'false');
      setListStatus(`${criteria ? 'Search' : 'Sorting'} failed: ${describeError(err)}`, true);
    }
  });
}

/** Empty the search fields; the sort order and conversations stay. */
function clearSearch() {
  if (state.search && state.search.query) {
    ui.searchForm.reset();
    if (viewWanted()) return runSearch();
  }
  return showFolder();
}

/** Back to the whole folder: its list is still here, nothing to fetch again. */
function showFolder() {
  ui.searchClear.hidden = true;
  if (!state.search) return Promise.resolve();
  state.search = null;
  state.depth = null;
  state.sel = emptySelection();
  state.syncCursor = 0;
  list.scroller.scrollTop = 0;
  showMessages();
  startSync();
  return state.queue;
}

// ---------------------------------------------------------------- live updates

function onMailboxChanged(ev) {
  const exists = num(ev.exists);
  if (!Number.isFinite(exists) || !state.box) return;
  state.serverExists = exists;
  if (state.syncQueued) return;
  state.syncQueued = true;
  // After whatever is running now (our own moves adjust state.exists first).
  const { client, stale } = guarded();
  enqueue(async () => {
    state.syncQueued = false;
    if (stale() || !state.box || !state.folderUids) return;
    const now = state.serverExists;
    if (now > state.exists) {
      const before = state.maxUid;
      const headers = (await client.fetchHeaders(before + 1, null)).filter((h) => num(h.uid) > before);
      if (stale()) return;
      remember(headers);
      const fresh = headers.map((h) => num(h.uid)).filter((u) => !state.folderUids.includes(u)).sort((a, b) => b - a);
      state.folderUids = [...fresh, ...state.folderUids];
      state.exists = now;
      showMessages();
      if (state.sel.focus === null && !state.search && fresh.length) select(fresh[0], { scroll: false });
      if (ui.messagePane.dataset.synced) updateOwnCount();
      if (state.search) setTimeout(() => runSearch({ refresh: true }), 0);
    } else if (now < state.exists) {
      // Another client expunged: ask which UIDs are left.
      await loadFolderUids(client, stale);
      if (state.search) setTimeout(() => runSearch({ refresh: true }), 0);
    }
  }).catch((err) => {
    if (!stale()) setListStatus(`Could not update the list: ${describeError(err)}`, true);
  });
}

function onFlagsChanged(message) {
  if (!message || !(state.box || state.opening)) return;
  const uid = num(message.uid);
  if (!Number.isFinite(uid) || !Array.isArray(message.flags)) return;
  const m = messageByUid(uid);
  if (!m) {
    state.cacheRest?.flags.set(uid, message.flags.slice());
    return;
  }
  m.flags = message.flags.slice();
  cache.put(state.cacheScope, [m]);
  if (state.openMessage && num(state.openMessage.uid) === uid) state.openMessage.flags = m.flags;
  list.refresh();
  updateActions();
  if (ui.messagePane.dataset.synced) updateOwnCount();
}

/** Cached messages a QRESYNC open or flag catch-up says are gone (`uids`: [first, last] runs). */
function onVanishedEarlier(uids) {
  if (!Array.isArray(uids) || !(state.box || state.opening)) return;
  const runs = uids.map(([first, last]) => [num(first), num(last)]);
  state.cacheRest?.vanished.push(...runs);
  forgetUids([...state.byUid.keys()].filter((u) => runs.some(([first, last]) => u >= first && u <= last)));
}

// ---------------------------------------------------------------- folder management

function currentFolderRow() {
  return state.box ? state.folders.find((r) => r.name === state.box.name) || null : null;
}

function folderDelimiter(row) {
  const d = row && row.folder ? row.folder.delimiter : null;
  if (typeof d === 'string' && d) return d;
  const any = state.folders.find((r) => r.folder && typeof r.folder.delimiter === 'string' && r.folder.delimiter);
  return any ? any.folder.delimiter : null;
}

/** The wire name of the folder above `name` (null: top level). */
function parentOf(name, delimiter) {
  const cut = delimiter ? name.lastIndexOf(delimiter) : -1;
  return cut < 0 ? null : name.slice(0, cut);
}

/** The rows of the folders directly under `parent` (null: top level). */
function childRows(parent, delimiter) {
  return state.folders.filter((r) => parentOf(r.name, delimiter) === parent);
}

/**
 * Ask for a name in the dialog; `check(name)` returns (or resolves to) a problem or null,
 * and may do the work the name is for. Resolves to the name or null.
 */
function askName(title, initial, check) {
  return new Promise((resolve) => {
    ui.nameTitle.textContent = title;
    ui.nameInput.value = initial;
    ui.nameError.textContent = '';
    ui.nameInput.removeAttribute('aria-invalid');
    const done = (value) => {
      ui.nameForm.onsubmit = null;
      ui.nameCancel.onclick = null;
      ui.nameDialog.onclose = null;
      if (ui.nameDialog.open) ui.nameDialog.close();
      resolve(value);
    };
    ui.nameForm.onsubmit = async (event) => {
      event.preventDefault();
      if (ui.nameForm.getAttribute('aria-busy') === 'true') return;
      ui.nameForm.setAttribute('aria-busy', 'true');
      const problem = await check(ui.nameInput.value);
      ui.nameForm.setAttribute('aria-busy', 'false');
      if (!ui.nameDialog.open) return;
      if (problem) {
        ui.nameError.textContent = problem;
        ui.nameInput.setAttribute('aria-invalid', 'true');
        ui.nameInput.focus();
        return;
      }
      done(ui.nameInput.value);
    };
    ui.nameCancel.onclick = () => done(null);
    ui.nameDialog.onclose = () => done(null);
    ui.nameDialog.showModal();
    ui.nameInput.focus();
    ui.nameInput.select();
  });
}

/**
 * Run a folder command, then list the folders again; `then()` after the list. `done` and
 * `attempt` say what happened and what was tried ("Created “x”", "create “x”").
 * Resolves to null, or to why the command failed (also shown in the status line).
 */
function folderCommand([done, attempt], run, then = () => {}) {
  const { client } = guarded();
  const session = state.session;
  return enqueue(async () => {
    try {
      await run(client);
      const folders = await client.listMailboxes();
      if (session !== state.session) return null;
      showFolders(folders);
      setListStatus(`${done}.`);
      then();
      return null;
    } catch (err) {
      const why = describeError(err);
      if (session === state.session) setListStatus(`Could not ${attempt}: ${why}`, true);
      return why.charAt(0).toUpperCase() + why.slice(1);
    }
  });
}

/**
 * A new folder, named by the engine from what was typed: under the open folder, or at the top of
 * the personal namespace (NAMESPACE, asked first, gives its prefix and delimiter).
 */
function createFolder(underCurrent) {
  const row = underCurrent ? currentFolderRow() : null;
  const parent = row ? row.name : null;
  const siblings = childRows(parent, folderDelimiter(row)).map((r) => r.label);
  const where = row ? ` in ${row.label}` : '';
  return askName(`New folder${where}`, '', (name) => folderNameProblem(name, { siblings }) ||
    folderCommand([`Created “${name}”`, `create “${name}”`], async (client) => {
      if (parent === null) await client.namespaces();
      await client.createChild(parent, name);
    }));
}

/** Rename the open folder's last level; the engine builds the new wire name, found again in the new list. */
function renameFolder() {
  const row = currentFolderRow();
  if (!row || row.name.toUpperCase() === 'INBOX') {
    setListStatus('INBOX cannot be renamed here.');
    return Promise.resolve();
  }
  const delimiter = folderDelimiter(row);
  const parent = parentOf(row.name, delimiter);
  const siblings = childRows(parent, delimiter).map((r) => r.label).filter((l) => l !== row.label);
  return askName(`Rename “${row.label}”`, row.label, (name) => (name === row.label ? null
    : folderNameProblem(name, { siblings }) || folderCommand(
      [`Renamed “${row.label}” to “${name}”`, `rename “${row.label}” to “${name}”`],
      (client) => client.renameLeaf(row.name, name), () => {
        const renamed = childRows(parent, delimiter).find((r) => r.label === name && r.selectable);
        if (renamed) openMailbox(renamed.name, renamed.label);
      })));
}

async function deleteFolder() {
  const row = currentFolderRow();
  if (!row || row.name.toUpperCase() === 'INBOX') {
    setListStatus('INBOX cannot be deleted.');
    return;
  }
  const answer = await askName(`Delete “${row.label}” and every message in it? Type the folder name to confirm.`, '',
    (name) => (name === row.label ? null : 'The name does not match.'));
  if (answer === null) return;
  const inbox = state.folders.find((r) => r.name.toUpperCase() === 'INBOX');
  // A folder cannot be deleted while selected on some servers: open INBOX first.
  if (inbox) await openMailbox(inbox.name, inbox.label);
  state.unseen.delete(row.name);
  await folderCommand([`Deleted “${row.label}”`, `delete “${row.label}”`], (client) => client.deleteMailbox(row.name));
}

function subscription(on) {
  const row = currentFolderRow();
  if (!row) return Promise.resolve();
  const [done, attempt] = on ? ['Subscribed to', 'subscribe to'] : ['Unsubscribed from', 'unsubscribe from'];
  return folderCommand([`${done} “${row.label}”`, `${attempt} “${row.label}”`], (client) => (on ? client.subscribe(row.name) : client.unsubscribe(row.name)));
}

function openFolderMenu() {
  if (state.phase !== 'mail') return;
  const row = currentFolderRow();
  const isInbox = !row || row.name.toUpperCase() === 'INBOX';
  const name = row ? `“${row.label}”` : 'folder';
  openMenu(ui.menu, ui.folderMenuButton, [
    { label: 'New folder…', value: 'create-top' },
    { label: `New folder in ${name}…`, value: 'create-child', disabled: !row },
    { label: `Rename ${name}…`, value: 'rename', disabled: isInbox },
    { label: `Delete ${name}…`, value: 'delete', disabled: isInbox },
    { label: `Subscribe to ${name}`, value: 'subscribe', disabled: !row },
    { label: `Unsubscribe from ${name}`, value: 'unsubscribe', disabled: !row },
  ], (value) => {
    if (value === 'create-top') createFolder(false);
    else if (value === 'create-child') createFolder(true);
    else if (value === 'rename') renameFolder();
    else if (value === 'delete') deleteFolder();
    else subscription(value === 'subscribe');
  });
}

// ---------------------------------------------------------------- folder tree

function openFolderItem(item) {
  if (!item || item.getAttribute('aria-disabled') === 'true') return;
  const row = state.folders.find((r) => r.name === item.dataset.name);
  if (!row) return;
  showPane('list');
  if (!state.box || state.box.name !== row.name || state.search) openMailbox(row.name, row.label);
}

/** Arrow keys move through the tree (roving tabindex); Enter/Space opens. */
function onTreeKey(event) {
  const items = [...ui.folderList.querySelectorAll('.folder')];
  const i = items.indexOf(document.activeElement);
  if (i < 0) return false;
  let next = null;
  switch (event.key) {
    case 'ArrowDown': next = items[Math.min(items.length - 1, i + 1)]; break;
    case 'ArrowUp': next = items[Math.max(0, i - 1)]; break;
    case 'Home': next = items[0]; break;
    case 'End': next = items[items.length - 1]; break;
    case 'Enter':
    case ' ':
      openFolderItem(items[i]);
      event.preventDefault();
      return true;
    default: return false;
  }
  for (const item of items) item.tabIndex = item === next ? 0 : -1;
  next.focus();
  event.preventDefault();
  return true;
}

// ---------------------------------------------------------------- keyboard

function isTyping(target) {
  if (!(target instanceof Element)) return false;
  return target.closest('input, textarea, select, [contenteditable="true"]') !== null;
}

function showHelp() {
  if (!ui.help.open) ui.help.showModal();
  ui.helpClose.focus();
}

/** Keys with Ctrl/⌘: only "select all" in the list. */
function onCtrlKey(event) {
  if (event.key.toLowerCase() !== 'a' || event.target !== ui.messageList) return;
  setSelection(selectAll(shownUids()), { scroll: false });
  event.preventDefault();
}

function onKey(event) {
  if (state.phase !== 'mail' || event.defaultPrevented) return;
  if (menuKey(event) || menuIsOpen()) return;
  if (ui.help.open || ui.nameDialog.open || composer.isOpen) return; // the dialogs handle Esc themselves
  if (event.ctrlKey || event.metaKey) {
    onCtrlKey(event);
    return;
  }
  if (event.altKey) return;
  if (isTyping(event.target)) {
    if (event.key === 'Escape' && event.target === ui.searchInput) {
      ui.searchInput.blur();
      event.preventDefault();
    }
    return;
  }
  if (ui.folderList.contains(event.target) && onTreeKey(event)) return;
  const onButton = event.target instanceof Element && event.target.closest('button, a, iframe, [role="treeitem"]');
  const inList = event.target === ui.messageList;
  const page = Math.max(1, list.visibleRange()[1] - list.visibleRange()[0] - 1);
  switch (event.key) {
    case 'j': moveSelection(1); break;
    case 'k': moveSelection(-1); break;
    case 'J': moveSelection(1, true); break;
    case 'K': moveSelection(-1, true); break;
    case 'ArrowDown': if (!inList) return; moveSelection(1, event.shiftKey); break;
    case 'ArrowUp': if (!inList) return; moveSelection(-1, event.shiftKey); break;
    case 'PageDown': if (!inList) return; moveSelection(page, event.shiftKey); break;
    case 'PageUp': if (!inList) return; moveSelection(-page, event.shiftKey); break;
    case 'Home': if (!inList) return; moveSelection('first', event.shiftKey); break;
    case 'End': if (!inList) return; moveSelection('last', event.shiftKey); break;
    case 'x': if (state.sel.focus !== null) setSelection(toggle(state.sel, state.sel.focus)); break;
    case ' ':
      if (!inList || state.sel.focus === null) return;
      setSelection(toggle(state.sel, state.sel.focus));
      break;
    case 'o': openMessage(state.sel.focus); break;
    case 'Enter':
      if (onButton) return; // Enter activates the focused button or link
      openMessage(state.sel.focus);
      break;
    case 'u': act('read'); break;
    case 's': act('flag'); break;
    case 'e': act('archive'); break;
    case '#': act('delete'); break;
    case 'v': act('move'); break;
    case 'C': act('copy'); break;
    case 'l': act('label'); break;
    case 'c': compose('new'); break;
    case 'r': compose('reply'); break;
    case 'a': compose('all'); break;
    case 'f': compose('forward'); break;
    case 'z': undo(); break;
    case '/': ui.searchInput.focus(); ui.searchInput.select(); break;
    case '?': showHelp(); break;
    default: return;
  }
  event.preventDefault();
}

async function signOut() {
  if (state.phase !== 'mail') return;
  state.phase = 'leaving';
  state.loadSeq++;
  stopLive();
  ui.signOut.disabled = true;
  const client = state.client;
  try {
    await withTimeout(client.logout(), LOGOUT_TIMEOUT_MS);
  } catch {
    // Leaving anyway; the connection is closed when the client is freed.
  }
  state.session++;
  state.client = null;
  state.phase = 'login';
  freeClient(client);
  hideBanner();
  let status = 'You have signed out.';
  if (ui.forgetSetting.checked) {
    ui.forgetSetting.checked = false;
    await withTimeout(cache.drop(state.account), CACHE_WAIT_MS).catch(() => {});
    status += ' The mail kept on this device was deleted.';
  }
  showLoginView({ status });
}

// ---------------------------------------------------------------- start

function listen() {
  ui.loginForm.addEventListener('submit', signIn);
  ui.signOut.addEventListener('click', signOut);
  ui.server.addEventListener('change', updateServerHint);
  ui.bannerClose.addEventListener('click', hideBanner);
  ui.messageList.addEventListener('click', onRowClick);
  ui.messageList.addEventListener('dragstart', onDragStart);
  ui.folderList.addEventListener('dragover', onDragOver);
  ui.folderList.addEventListener('dragleave', (event) => {
    if (!ui.folderList.contains(event.relatedTarget)) clearDropTargets();
  });
  ui.folderList.addEventListener('drop', onDrop);
  ui.folderList.addEventListener('click', (event) => {
    openFolderItem(event.target instanceof Element ? event.target.closest('.folder[data-name]') : null);
  });
  ui.folderMenuButton.addEventListener('click', openFolderMenu);
  ui.actions.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
    if (button && !button.disabled) act(button.dataset.action);
  });
  ui.undo.addEventListener('click', () => undo());
  ui.loadWhole.addEventListener('click', () => openMessage(state.openUid, { whole: true }));
  ui.searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    runSearch();
  });
  ui.searchClear.addEventListener('click', () => clearSearch());
  ui.sortOrder.addEventListener('change', () => runSearch());
  // "Opening marks read" is on unless this browser was told otherwise.
  // (Storage may be refused: then the choice lasts as long as the page.)
  try {
    ui.markReadSetting.checked = localStorage.getItem(MARK_READ_KEY) !== 'off';
  } catch {
    ui.markReadSetting.checked = true;
  }
  ui.markReadSetting.addEventListener('change', () => {
    try {
      localStorage.setItem(MARK_READ_KEY, ui.markReadSetting.checked ? 'on' : 'off');
    } catch {
      // kept for this page only
    }
  });
  ui.threadToggle.addEventListener('click', () => {
    const on = ui.threadToggle.getAttribute('aria-pressed') !== 'true';
    ui.threadToggle.setAttribute('aria-pressed', String(on));
    ui.sortOrder.disabled = on;
    runSearch();
  });
  $('view-text').addEventListener('click', () => setReaderView('text'));
  $('view-html').addEventListener('click', () => setReaderView('html'));
  readerEls.loadRemote.addEventListener('click', () => {
    state.remoteImages = true;
    setReaderView('html');
  });
  $('back-to-folders').addEventListener('click', () => {
    showPane('folders');
    (ui.folderList.querySelector('.folder.current') || ui.folderList.querySelector('.folder'))?.focus();
  });
  $('back-to-list').addEventListener('click', () => {
    showPane('list');
    ui.messageList.focus();
  });
  ui.helpButton.addEventListener('click', showHelp);
  $('compose-button').addEventListener('click', () => compose('new'));
  ui.helpClose.addEventListener('click', () => ui.help.close());
  document.addEventListener('keydown', onKey);
  for (const input of [ui.user, ui.password]) {
    input.addEventListener('input', () => input.removeAttribute('aria-invalid'));
  }
}

async function start() {
  list = new VirtualList({
    scroller: ui.listScroller,
    sizer: ui.messageList,
    createRow: createMessageRow,
    fillRow,
    rowHeight: () => parseFloat(getComputedStyle(ui.messageList).getPropertyValue('--row-h')) || 36,
  });
  list.onRange = () => {
    updateActivedescendant();
    if (state.box && !state.syncRunning && nextBatchPending()) startSync();
  };
  composer = new Composer({
    enqueue, inMailbox, draftsFolder, client: () => state.client, self: () => state.user,
  });
  listen();
  setLoginBusy(true);
  setLoginStatus('Loading…');

  const [engine, servers] = await Promise.allSettled([
    import('./pkg/client_wasm.js').then(async (mod) => {
      await mod.default();
      return mod.ImapClient;
    }),
    loadServers(),
  ]);

  setLoginStatus('');
  if (engine.status === 'fulfilled' && typeof engine.value === 'function') {
    ImapClient = engine.value;
  } else {
    console.error('webmail: the mail engine failed to load', engine.reason);
  }
  if (servers.status === 'fulfilled') {
    state.servers = servers.value;
  } else {
    console.error('webmail: /api/servers failed', servers.reason);
  }
  fillServers(state.servers);

  if (!ImapClient) {
    state.phase = 'broken';
    showLoginError('The mail engine could not be loaded. Reload the page to try again.');
  } else if (servers.status !== 'fulfilled') {
    state.phase = 'broken';
    showLoginError('Could not reach the bridge.');
  } else if (state.servers.length === 0) {
    state.phase = 'broken';
    showLoginError('The bridge offers no mail servers.');
  } else {
    state.phase = 'login';
  }
  setLoginBusy(false);
  if (state.phase === 'login') ui.user.focus();
}

/** True when rows on screen still lack their headers (after a scroll, or new rows). */
function nextBatchPending() {
  if (!state.folderUids && !state.search) return false;
  const uids = shownUids();
  const [first, last] = list.visibleRange();
  for (let i = first; i < Math.min(last, uids.length); i++) if (!state.byUid.has(uids[i])) return true;
  return false;
}

start();
