// Webmail page: login form, folder list and message list on top of the IMAP
// client engine that runs in this tab as wasm (./pkg/client_wasm.js).
//
// Untrusted data (subjects, names, folder names, server texts) only ever
// reaches the page through textContent (see ui/dom.js). The password lives in
// a local variable for the duration of a sign-in and is never logged or shown.

import { clear } from './ui/dom.js';
import { describeError, errorCode } from './ui/errors.js';
import { orderFolders, renderFolderList, markCurrentFolder, findInbox } from './ui/folders.js';
import {
  newestLowUid, newestFirst, renderMessageRows, countText, hasFlag, withFlag, mergeNewer, uidRuns,
} from './ui/messages.js';
import { renderReader, clearReader } from './ui/reader.js';

/** How long "Sign out" waits for the server's goodbye before leaving anyway. */
const LOGOUT_TIMEOUT_MS = 5000;
/** Without IDLE, ask the server for news this often. */
const POLL_MS = 30_000;
/** At most this many search results are shown (the newest). */
const SEARCH_LIMIT = 200;

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
  messagePane: $('message-pane'),
  mailboxTitle: $('mailbox-title'),
  mailboxCount: $('mailbox-count'),
  listStatus: $('list-status'),
  messageTable: $('message-list'),
  messageBody: document.querySelector('#message-list tbody'),
  listEmpty: $('list-empty'),
  searchForm: $('search-form'),
  searchInput: $('search-input'),
  searchClear: $('search-clear'),
  actions: $('actions'),
  actRead: $('act-read'),
  actFlag: $('act-flag'),
  actArchive: $('act-archive'),
  actDelete: $('act-delete'),
  reader: $('reader'),
  readerPlaceholder: $('reader-placeholder'),
  readerStatus: $('reader-status'),
  readerMessage: $('reader-message'),
  helpButton: $('help-button'),
  help: $('help'),
  helpClose: $('help-close'),
};
/** The reader's parts, for ui/reader.js. */
const readerEls = {
  subject: $('reader-subject'),
  headers: $('reader-headers'),
  viewSwitch: $('reader-view'),
  viewText: $('view-text'),
  viewHtml: $('view-html'),
  note: $('reader-note'),
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
  servers: [],
  /** Bumped per folder open; only the newest open may render. */
  loadSeq: 0,
  /** Engine calls are issued one at a time through this chain. */
  queue: Promise.resolve(),
  /** Tasks queued or running; IDLE starts only when this is 0. */
  pending: 0,
  /** Folder rows from orderFolders(), for special-use lookups. */
  folders: [],
  /** The open folder: {name, label, readOnly, specialUse}, or null. */
  box: null,
  /** Messages in the open folder as the page last knew, and as the server last said. */
  exists: 0,
  serverExists: 0,
  /** Highest UID seen in the open folder (new mail is fetched above it). */
  maxUid: 0,
  /** The rows shown, in display order (newest first). */
  messages: [],
  selectedUid: null,
  /** The message in the reader: its UID, the fetched message, and the view. */
  openUid: null,
  openMessage: null,
  readerView: 'text',
  readerSeq: 0,
  /** {query} while the list shows search results. */
  search: null,
  /** IDLE in progress, IDLE unavailable (poll instead), timers. */
  idling: false,
  noIdle: false,
  idleTimer: 0,
  pollTimer: 0,
  /** A live update (new mail / expunge) is queued. */
  syncQueued: false,
};

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
  try {
    client = await ImapClient.connect(imapUrl(), serverId);
    state.client = client;
    client.onEvent((ev) => onClientEvent(session, ev));

    setLoginStatus('Signing in…');
    await client.login(user, password);
    password = '';
    ui.password.value = '';

    setLoginStatus('Loading folders…');
    folders = await client.listMailboxes();
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
  showMailView(folders);
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

  const rows = orderFolders(folders);
  state.folders = rows;
  renderFolderList(ui.folderList, rows, (row) => openMailbox(row.name, row.label));

  const inbox = findInbox(folders);
  const inboxRow = rows.find((r) => r.name === inbox);
  openMailbox(inbox, inboxRow ? inboxRow.label : inbox);
  const current = ui.folderList.querySelector('[aria-current="true"]');
  (current || ui.signOut).focus();
}

function setListStatus(text, isError = false) {
  ui.listStatus.textContent = text;
  ui.listStatus.classList.toggle('error', isError);
}

function specialFolder(use) {
  const row = state.folders.find((r) => r.specialUse === use && r.selectable);
  return row ? row.name : null;
}

function resetList() {
  state.messages = [];
  state.selectedUid = null;
  state.search = null;
  ui.searchInput.value = '';
  ui.searchClear.hidden = true;
  closeReader();
  clear(ui.messageBody);
  ui.messageTable.hidden = true;
  ui.listEmpty.hidden = true;
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
      const box = await client.select(name);
      if (stale()) return;
      const row = state.folders.find((r) => r.name === name);
      state.box = {
        name,
        label,
        readOnly: box.read_only === true,
        specialUse: row ? row.specialUse : null,
      };
      state.exists = num(box.exists) || 0;
      state.serverExists = state.exists;
      state.maxUid = Math.max(0, (num(box.uid_next) || 1) - 1);
      await loadNewest(client, stale);
    } catch (err) {
      if (stale()) return;
      ui.messagePane.setAttribute('aria-busy', 'false');
      setListStatus(`Could not open “${label}”: ${describeError(err)}`, true);
    }
  });
}

/** Fetch and show the newest window of the open folder (inside the queue). */
async function loadNewest(client, stale) {
  let messages = [];
  if (state.exists > 0) {
    const headers = await client.fetchHeaders(newestLowUid(state.maxUid + 1), null);
    if (stale()) return;
    messages = newestFirst(headers);
  }
  for (const m of messages) state.maxUid = Math.max(state.maxUid, num(m.uid));
  state.messages = messages;
  if (state.selectedUid !== null && !messages.some((m) => num(m.uid) === state.selectedUid)) {
    state.selectedUid = null;
  }
  showMessages();
}

function showMessages() {
  const box = state.box;
  const exists = state.exists;
  const messages = state.messages;
  let count = countText(exists);
  if (state.search) {
    count = `${messages.length.toLocaleString()} ${messages.length === 1 ? 'result' : 'results'} for “${state.search.query}”`;
    if (state.search.total > messages.length) count += ` · newest ${messages.length} of ${state.search.total} shown`;
  } else if (messages.length > 0 && messages.length < exists) {
    count += ` · newest ${messages.length} shown`;
  }
  if (box && box.readOnly) count += ' · read-only';
  ui.mailboxCount.textContent = count;
  setListStatus('');

  if (messages.length === 0) {
    if (state.search) ui.listEmpty.textContent = `No messages match “${state.search.query}”.`;
    else ui.listEmpty.textContent = exists === 0 ? 'No messages' : 'No recent messages to show.';
    ui.listEmpty.hidden = false;
    ui.messageTable.hidden = true;
    clear(ui.messageBody);
  } else {
    renderRows();
    ui.messageTable.hidden = false;
    ui.listEmpty.hidden = true;
  }
  ui.messagePane.setAttribute('aria-busy', 'false');
  updateActions();
}

function renderRows() {
  renderMessageRows(ui.messageBody, state.messages, new Date(), state.selectedUid);
}

function messageByUid(uid) {
  return state.messages.find((m) => num(m.uid) === uid) || null;
}

function rowByUid(uid) {
  return ui.messageBody.querySelector(`tr[data-uid="${uid}"]`);
}

// ---------------------------------------------------------------- selection

function select(uid, { scroll = true } = {}) {
  state.selectedUid = uid;
  for (const tr of ui.messageBody.querySelectorAll('tr.selected')) {
    tr.classList.remove('selected');
    tr.setAttribute('aria-selected', 'false');
  }
  const tr = uid === null ? null : rowByUid(uid);
  if (tr) {
    tr.classList.add('selected');
    tr.setAttribute('aria-selected', 'true');
    if (scroll) tr.scrollIntoView({ block: 'nearest' });
  }
  updateActions();
}

function moveSelection(step) {
  if (state.messages.length === 0) return;
  const i = state.messages.findIndex((m) => num(m.uid) === state.selectedUid);
  const next = i < 0 ? 0 : Math.min(state.messages.length - 1, Math.max(0, i + step));
  select(num(state.messages[next].uid));
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
  ui.reader.setAttribute('aria-busy', 'false');
  delete ui.reader.dataset.uid;
}

function openMessage(uid) {
  if (state.phase !== 'mail' || !state.box || uid === null) return Promise.resolve();
  select(uid);
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

  return enqueue(async () => {
    if (stale()) return;
    try {
      const message = await client.fetchMessage(uid);
      if (stale()) return;
      if (!message) {
        ui.readerStatus.textContent = 'This message no longer exists.';
        ui.readerMessage.hidden = true;
        ui.reader.setAttribute('aria-busy', 'false');
        return;
      }
      state.openMessage = message;
      ui.readerPlaceholder.hidden = true;
      ui.readerStatus.textContent = '';
      state.readerView = renderReader(readerEls, message, state.readerView);
      ui.readerMessage.hidden = false;
      ui.reader.setAttribute('aria-busy', 'false');

      const row = messageByUid(uid);
      const flags = row ? row.flags : message.flags;
      if (!box.readOnly && !hasFlag(flags, '\\Seen')) {
        await client.store([uid], 'add', ['\\Seen']);
        if (stale()) return;
        setFlagLocally(uid, '\\Seen', true);
      }
    } catch (err) {
      if (stale()) return;
      ui.reader.setAttribute('aria-busy', 'false');
      ui.readerStatus.textContent = `Could not open the message: ${describeError(err)}`;
      ui.readerStatus.classList.add('error');
    }
  });
}

function setReaderView(view) {
  if (!state.openMessage) return;
  state.readerView = renderReader(readerEls, state.openMessage, view);
}

// ---------------------------------------------------------------- actions

function updateActions() {
  const box = state.box;
  const target = state.selectedUid === null ? null : messageByUid(state.selectedUid);
  const buttons = [ui.actRead, ui.actFlag, ui.actArchive, ui.actDelete];
  let why = '';
  if (!box) why = 'No folder is open.';
  else if (box.readOnly) why = 'This folder is read-only: the server does not allow changes here.';
  else if (!target) why = 'Select a message first.';
  for (const b of buttons) {
    b.disabled = Boolean(why);
    b.title = why || `${b.textContent} (${b.getAttribute('aria-keyshortcuts')})`;
  }
  if (target) {
    ui.actRead.textContent = hasFlag(target.flags, '\\Seen') ? 'Mark unread' : 'Mark read';
    ui.actFlag.textContent = hasFlag(target.flags, '\\Flagged') ? 'Unflag' : 'Flag';
  }
  if (!why) {
    for (const b of buttons) b.title = `${b.textContent} (${b.getAttribute('aria-keyshortcuts')})`;
    const archive = specialFolder('archive');
    if (!archive || box.specialUse === 'archive') {
      ui.actArchive.disabled = true;
      ui.actArchive.title = archive ? 'This is the archive folder.' : 'The server has no archive folder.';
    }
    const trash = specialFolder('trash');
    if (!trash && box.specialUse !== 'trash') {
      ui.actDelete.disabled = true;
      ui.actDelete.title = 'The server has no Trash folder.';
    } else if (box.specialUse === 'trash') {
      ui.actDelete.title = 'Delete for good (#)';
    }
  }
  ui.actions.classList.toggle('read-only', Boolean(box && box.readOnly));
}

function setFlagLocally(uid, flag, on) {
  const m = messageByUid(uid);
  if (m) m.flags = withFlag(m.flags, flag, on);
  if (state.openMessage && num(state.openMessage.uid) === uid) {
    state.openMessage.flags = withFlag(state.openMessage.flags, flag, on);
  }
  renderRows();
  updateActions();
}

/** Run an action on the selected message through the queue; errors go to the status line. */
function act(name) {
  const box = state.box;
  const uid = state.selectedUid;
  if (state.phase !== 'mail' || !box || uid === null) return Promise.resolve();
  const button = { read: ui.actRead, flag: ui.actFlag, archive: ui.actArchive, delete: ui.actDelete }[name];
  if (button.disabled) {
    if (button.title) setListStatus(button.title);
    return Promise.resolve();
  }
  const m = messageByUid(uid);
  if (!m) return Promise.resolve();
  const client = state.client;
  const loadSeq = state.loadSeq;
  const session = state.session;
  const stale = () => loadSeq !== state.loadSeq || session !== state.session;

  return enqueue(async () => {
    if (stale()) return;
    try {
      if (name === 'read' || name === 'flag') {
        const flag = name === 'read' ? '\\Seen' : '\\Flagged';
        const on = !hasFlag(m.flags, flag);
        await client.store([uid], on ? 'add' : 'remove', [flag]);
        if (stale()) return;
        setFlagLocally(uid, flag, on);
        setListStatus('');
        return;
      }
      if (name === 'delete' && box.specialUse === 'trash') {
        state.exists = Math.max(0, state.exists - 1);
        await client.store([uid], 'add', ['\\Deleted']);
        await client.expunge([uid]);
      } else {
        const to = specialFolder(name === 'delete' ? 'trash' : 'archive');
        state.exists = Math.max(0, state.exists - 1);
        try {
          await client.moveMessages([uid], to);
        } catch (err) {
          if (errorCode(err) !== 'not_supported') throw err;
          await client.copy([uid], to);
          await client.store([uid], 'add', ['\\Deleted']);
          await client.expunge([uid]);
        }
      }
      if (stale()) return;
      removeRow(uid);
      const where = name === 'archive' ? 'Archived.' : box.specialUse === 'trash' ? 'Deleted for good.' : 'Moved to Trash.';
      setListStatus(where);
    } catch (err) {
      if (stale()) return;
      state.exists = state.serverExists;
      setListStatus(`Could not ${name === 'read' ? 'change' : name} the message: ${describeError(err)}`, true);
    }
  });
}

/** Take a message off the list; select (and, if it was open, open) the next one. */
function removeRow(uid) {
  const i = state.messages.findIndex((m) => num(m.uid) === uid);
  if (i < 0) return;
  const wasOpen = state.openUid === uid;
  state.messages.splice(i, 1);
  const next = state.messages[Math.min(i, state.messages.length - 1)];
  state.selectedUid = next ? num(next.uid) : null;
  if (state.search) state.search.total = Math.max(0, state.search.total - 1);
  showMessages();
  if (state.selectedUid !== null) select(state.selectedUid);
  if (wasOpen) {
    if (next) openMessage(num(next.uid));
    else closeReader();
  }
}

// ---------------------------------------------------------------- search

function runSearch(query) {
  const box = state.box;
  if (state.phase !== 'mail' || !box) return Promise.resolve();
  const text = query.trim();
  if (text === '') return clearSearch();
  const client = state.client;
  const loadSeq = ++state.loadSeq; // a search replaces the list like opening a folder
  const session = state.session;
  const stale = () => loadSeq !== state.loadSeq || session !== state.session;
  closeReader();
  ui.messagePane.setAttribute('aria-busy', 'true');
  setListStatus('Searching…');

  return enqueue(async () => {
    if (stale()) return;
    try {
      const uids = (await client.search({ text })).map(num).filter((u) => u > 0);
      if (stale()) return;
      uids.sort((a, b) => b - a);
      const wanted = new Set(uids.slice(0, SEARCH_LIMIT));
      const found = [];
      for (const [first, last] of uidRuns([...wanted])) {
        const headers = await client.fetchHeaders(first, last);
        if (stale()) return;
        for (const h of headers) if (wanted.has(num(h.uid))) found.push(h);
      }
      state.search = { query: text, total: uids.length };
      state.messages = newestFirst(found, SEARCH_LIMIT);
      state.selectedUid = state.messages.length ? num(state.messages[0].uid) : null;
      ui.searchClear.hidden = false;
      showMessages();
    } catch (err) {
      if (stale()) return;
      ui.messagePane.setAttribute('aria-busy', 'false');
      setListStatus(`Search failed: ${describeError(err)}`, true);
    }
  });
}

function clearSearch() {
  const box = state.box;
  if (!box) return Promise.resolve();
  ui.searchInput.value = '';
  if (!state.search) return Promise.resolve();
  return openMailbox(box.name, box.label);
}

// ---------------------------------------------------------------- live updates

function onMailboxChanged(ev) {
  const exists = num(ev.exists);
  if (!Number.isFinite(exists) || !state.box) return;
  state.serverExists = exists;
  if (state.syncQueued) return;
  state.syncQueued = true;
  // After whatever is running now (our own moves adjust state.exists first).
  const client = state.client;
  const loadSeq = state.loadSeq;
  const session = state.session;
  const stale = () => loadSeq !== state.loadSeq || session !== state.session;
  enqueue(async () => {
    state.syncQueued = false;
    if (stale() || !state.box) return;
    const now = state.serverExists;
    if (now > state.exists) {
      const headers = await client.fetchHeaders(state.maxUid + 1, null);
      if (stale()) return;
      state.exists = now;
      if (state.search) {
        for (const h of headers) state.maxUid = Math.max(state.maxUid, num(h.uid));
        showMessages();
        return;
      }
      const { list, added } = mergeNewer(state.messages, headers, state.maxUid);
      for (const h of headers) state.maxUid = Math.max(state.maxUid, num(h.uid));
      if (added > 0) state.messages = list;
      showMessages();
    } else if (now < state.exists) {
      // Another client expunged: reload what is shown.
      state.exists = now;
      if (state.search) {
        const query = state.search.query;
        setTimeout(() => runSearch(query), 0);
      } else {
        await loadNewest(client, stale);
      }
    }
  }).catch((err) => {
    if (!stale()) setListStatus(`Could not update the list: ${describeError(err)}`, true);
  });
}

function onFlagsChanged(message) {
  if (!message || !state.box) return;
  const uid = num(message.uid);
  if (!Number.isFinite(uid) || !Array.isArray(message.flags)) return;
  const m = messageByUid(uid);
  if (!m) return;
  m.flags = message.flags.slice();
  if (state.openMessage && num(state.openMessage.uid) === uid) state.openMessage.flags = m.flags;
  renderRows();
  updateActions();
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

function onKey(event) {
  if (state.phase !== 'mail' || event.defaultPrevented) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (ui.help.open) return; // the dialog handles Esc itself
  if (isTyping(event.target)) {
    if (event.key === 'Escape' && event.target === ui.searchInput) {
      ui.searchInput.blur();
      event.preventDefault();
    }
    return;
  }
  const onButton = event.target instanceof Element && event.target.closest('button, a, iframe');
  switch (event.key) {
    case 'j': moveSelection(1); break;
    case 'k': moveSelection(-1); break;
    case 'o': openMessage(state.selectedUid); break;
    case 'Enter':
      if (onButton) return; // Enter activates the focused button or link
      openMessage(state.selectedUid);
      break;
    case 'u': act('read'); break;
    case 's': act('flag'); break;
    case 'e': act('archive'); break;
    case '#': act('delete'); break;
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
  showLoginView({ status: 'You have signed out.' });
}

// ---------------------------------------------------------------- start

async function start() {
  ui.loginForm.addEventListener('submit', signIn);
  ui.signOut.addEventListener('click', signOut);
  ui.server.addEventListener('change', updateServerHint);
  ui.bannerClose.addEventListener('click', hideBanner);
  ui.messageBody.addEventListener('click', (event) => {
    const tr = event.target instanceof Element ? event.target.closest('tr[data-uid]') : null;
    if (tr) openMessage(Number(tr.dataset.uid));
  });
  ui.actions.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
    if (button && !button.disabled) act(button.dataset.action);
  });
  ui.searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    runSearch(ui.searchInput.value);
  });
  ui.searchClear.addEventListener('click', () => clearSearch());
  $('view-text').addEventListener('click', () => setReaderView('text'));
  $('view-html').addEventListener('click', () => setReaderView('html'));
  ui.helpButton.addEventListener('click', showHelp);
  ui.helpClose.addEventListener('click', () => ui.help.close());
  document.addEventListener('keydown', onKey);
  for (const input of [ui.user, ui.password]) {
    input.addEventListener('input', () => input.removeAttribute('aria-invalid'));
  }
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

start();
