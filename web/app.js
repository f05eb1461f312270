// Webmail page: login form, folder list and message list on top of the IMAP
// client engine that runs in this tab as wasm (./pkg/client_wasm.js).
//
// Untrusted data (subjects, names, folder names, server texts) only ever
// reaches the page through textContent (see ui/dom.js). The password lives in
// a local variable for the duration of a sign-in and is never logged or shown.

import { clear } from './ui/dom.js';
import { describeError, errorCode } from './ui/errors.js';
import { orderFolders, renderFolderList, markCurrentFolder, findInbox } from './ui/folders.js';
import { newestLowUid, newestFirst, renderMessageRows, countText } from './ui/messages.js';

/** How long "Sign out" waits for the server's goodbye before leaving anyway. */
const LOGOUT_TIMEOUT_MS = 5000;

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
  const run = state.queue.then(task, task);
  state.queue = run.catch(() => {});
  return run;
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
  clear(ui.messageBody);
  ui.messageTable.hidden = true;
  ui.listEmpty.hidden = true;
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
    } else if (ev.type === 'closed') {
      // While signing in, the pending call rejects and reports; while
      // signing out, the end is expected.
      if (state.phase !== 'mail') return;
      const client = state.client;
      state.session++;
      state.phase = 'login';
      state.client = null;
      state.loadSeq++;
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
  ui.messageTable.hidden = true;
  ui.listEmpty.hidden = true;
  clear(ui.messageBody);
  setListStatus('Loading…');

  return enqueue(async () => {
    if (stale()) return;
    try {
      const box = await client.select(name);
      if (stale()) return;
      const exists = num(box.exists) || 0;
      let messages = [];
      if (exists > 0) {
        const headers = await client.fetchHeaders(newestLowUid(box.uid_next), null);
        if (stale()) return;
        messages = newestFirst(headers);
      }
      showMessages(box, exists, messages);
    } catch (err) {
      if (stale()) return;
      ui.messagePane.setAttribute('aria-busy', 'false');
      setListStatus(`Could not open “${label}”: ${describeError(err)}`, true);
    }
  });
}

function showMessages(box, exists, messages) {
  let count = countText(exists);
  if (messages.length > 0 && messages.length < exists) count += ` · newest ${messages.length} shown`;
  if (box.read_only === true) count += ' · read-only';
  ui.mailboxCount.textContent = count;
  setListStatus('');

  if (messages.length === 0) {
    ui.listEmpty.textContent = exists === 0 ? 'No messages' : 'No recent messages to show.';
    ui.listEmpty.hidden = false;
    ui.messageTable.hidden = true;
  } else {
    renderMessageRows(ui.messageBody, messages);
    ui.messageTable.hidden = false;
    ui.listEmpty.hidden = true;
  }
  ui.messagePane.setAttribute('aria-busy', 'false');
}

async function signOut() {
  if (state.phase !== 'mail') return;
  state.phase = 'leaving';
  state.loadSeq++;
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
