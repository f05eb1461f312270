// The page's mail cache in IndexedDB (conformance row L0001), so a folder's list shows at
// once on the next visit and only what changed is fetched. List summaries (the objects
// fetchHeaders returns) and opened messages ({message, structure}) under [account, mailbox,
// uidValidity, uid]; each mailbox's {uidValidity, highestModseq} under [account, mailbox];
// the account's folder list (names, delimiters, attributes) under [account]. A message's
// content never changes under its UID; its flags do, and are taken from the summary. Opened
// messages are kept within a byte budget, the least recently opened going first; list
// summaries are never evicted. The cache is a convenience only: when IndexedDB is missing or
// fails (private mode, quota) every call quietly does nothing and the page works from the
// server alone.

const DB_NAME = 'webmail-cache';
/** 2: opened messages' sizes and last opening (BODY_USE). */
const DB_VERSION = 2;
const SUMMARIES = 'summaries';
const MAILBOXES = 'mailboxes';
const BODIES = 'bodies';
/** Under each kept message's key: {bytes, opened}, read whole to evict without the bodies. */
const BODY_USE = 'bodyUse';
const FOLDERS = 'folders';
const STORES = [SUMMARIES, MAILBOXES, BODIES, BODY_USE, FOLDERS];

/**
 * The bytes opened messages may take. Browsers evict a site's storage whole when the disk
 * runs short (unless persist() was granted), summaries included, so the bodies, which are
 * only a shortcut for reopening, stay well below the smallest usual quota; 50 MB still keeps
 * a thousand or more messages of common size.
 */
export const BODY_BUDGET = 50 * 1024 * 1024;

/** One account on one server: the same user name on two servers is two caches. */
export function accountKey(serverId, user) {
  return JSON.stringify([serverId, user]);
}

/**
 * Bounds of every key that starts with `prefix`: an array key sorts before every longer key
 * it begins, and an array after every number or string (IndexedDB's key order).
 */
export function prefixBounds(prefix) {
  return [prefix, [...prefix, []]];
}

/** The key of one summary. */
export function summaryKey({ account, mailbox, uidValidity }, uid) {
  return [account, mailbox, uidValidity, uid];
}

/** What `client.open` gets from the cache: null when nothing is cached. */
export function openArgument(saved, uids) {
  if (!saved) return null;
  return { uid_validity: saved.uidValidity, highest_modseq: saved.highestModseq ?? null, known_uids: uids };
}

/**
 * After opening with `saved`: `drop` when UIDVALIDITY changed (the cached UIDs name other
 * messages now); else `fetchFlags` when the cached flags must be brought up to date by the
 * page, with the MODSEQ to ask changes since (null: every flag). A QRESYNC open already
 * reported the changes, and an unchanged HIGHESTMODSEQ says there are none.
 */
export function catchUp(saved, box, qresync) {
  const none = { drop: false, fetchFlags: false, changedSince: null };
  if (!saved) return none;
  if (Number(box.uid_validity) !== saved.uidValidity) return { ...none, drop: true };
  const now = box.highest_modseq == null ? null : Number(box.highest_modseq);
  const since = saved.highestModseq ?? null;
  if (since !== null && now !== null && (qresync || since === now)) return none;
  return { ...none, fetchFlags: true, changedSince: now === null ? null : since };
}

/** Up to `limit` values in `range`, highest keys first. */
function newest(store, range, limit) {
  return new Promise((resolve, reject) => {
    const out = [];
    const request = store.openCursor(range, 'prev');
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor || out.length >= limit) {
        resolve(out);
        return;
      }
      out.push(cursor.value);
      cursor.continue();
    };
    request.onerror = () => reject(request.error);
  });
}

/** Roughly the bytes `value` takes: its strings (UTF-16), binary data and numbers. */
export function sizeOf(value) {
  if (typeof value === 'string') return 2 * value.length;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value === null || typeof value !== 'object') return 8;
  let bytes = 0;
  for (const item of Object.values(value)) bytes += sizeOf(item);
  return bytes;
}

/** A request's or transaction's end as a promise. */
function done(request) {
  return new Promise((resolve, reject) => {
    if ('oncomplete' in request) request.oncomplete = () => resolve();
    else request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onabort = () => reject(request.error);
  });
}

/**
 * The cache. Writes are queued and applied in order, all queued so far in one transaction,
 * so a fetchHeaders answer or a burst of flag changes costs one write.
 */
export class MailCache {
  constructor(idb = globalThis.indexedDB, storage = globalThis.navigator?.storage,
    { bodyBudget = BODY_BUDGET, now = Date.now } = {}) {
    this.idb = idb;
    this.storage = storage;
    this.bodyBudget = bodyBudget;
    this.now = now;
    this.db = null;
    this.ops = [];
    this.flushing = Promise.resolve();
    this.scheduled = false;
  }

  /** The database, opened once; null for good once that failed. */
  open() {
    if (!this.db) this.db = this.openDb().catch(() => null);
    return this.db;
  }

  async openDb() {
    if (!this.idb) return null;
    const request = this.idb.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      for (const name of STORES) {
        if (!db.objectStoreNames.contains(name)) db.createObjectStore(name);
      }
      // Bodies kept before their sizes were recorded could never be evicted.
      if (event.oldVersion < 2) request.transaction.objectStore(BODIES).clear();
    };
    const db = await done(request);
    // Another tab's newer page may need to upgrade: step aside (later calls then fail quietly).
    db.onversionchange = () => db.close();
    // Asked once per page; the browser may decline and evict under pressure.
    this.storage?.persist?.().catch(() => {});
    return db;
  }

  /** The mailbox's saved state and summaries, or null when nothing (usable) is cached. */
  load(account, mailbox) {
    return this.readMailbox(account, mailbox, (store, range) => done(store.getAll(range)));
  }

  /**
   * As `load`, with only the `limit` newest summaries (highest UIDs): what the first screen
   * shows, read in milliseconds where all of a large folder takes a second.
   */
  loadNewest(account, mailbox, limit) {
    return this.readMailbox(account, mailbox, (store, range) => newest(store, range, limit));
  }

  /** The saved state, and what `pick(store, range)` reads of the summaries under it. */
  async readMailbox(account, mailbox, pick) {
    try {
      const db = await this.open();
      if (!db) return null;
      await this.settled();
      const tx = db.transaction([SUMMARIES, MAILBOXES], 'readonly');
      const saved = await done(tx.objectStore(MAILBOXES).get([account, mailbox]));
      if (!saved || !Number.isFinite(saved.uidValidity)) return null;
      const range = IDBKeyRange.bound(...prefixBounds([account, mailbox, saved.uidValidity]));
      return { saved, summaries: await pick(tx.objectStore(SUMMARIES), range) };
    } catch {
      return null;
    }
  }

  /** Keep `summaries` of the mailbox `scope` ({account, mailbox, uidValidity}). */
  put(scope, summaries) {
    if (scope && summaries.length) this.queue({ kind: 'put', scope, summaries });
  }

  /**
   * An opened message ({message, structure}) of the mailbox `scope`, or null. Reading it is
   * opening it again: it is evicted after the messages opened before.
   */
  async body(scope, uid) {
    const kept = scope ? await this.read(BODIES, summaryKey(scope, uid)) : null;
    if (!kept || !kept.message) return null;
    this.queue({ kind: 'opened', scope, uid, bytes: sizeOf(kept), at: this.now() });
    return kept;
  }

  /** The account's folder list as last listed, or null. */
  async folders(account) {
    const kept = await this.read(FOLDERS, [account]);
    return Array.isArray(kept) && kept.length ? kept : null;
  }

  /** Keep the account's folder list. */
  putFolders(account, folders) {
    if (account) this.queue({ kind: 'folders', account, folders });
  }

  /** One value, or null (also when anything fails). */
  async read(store, key) {
    try {
      const db = await this.open();
      if (!db) return null;
      await this.settled();
      return (await done(db.transaction(store, 'readonly').objectStore(store).get(key))) ?? null;
    } catch {
      return null;
    }
  }

  /**
   * Keep an opened message of the mailbox `scope`, unless it alone would take more than half
   * the budget: keeping it would push out most others (a 25 MB text counts 50 MB).
   */
  putBody(scope, uid, body) {
    const bytes = sizeOf(body);
    if (scope && bytes <= this.bodyBudget / 2) {
      this.queue({ kind: 'body', scope, uid, body, bytes, at: this.now() });
    }
  }

  /** Forget these UIDs of the mailbox `scope`. */
  remove(scope, uids) {
    if (scope && uids.length) this.queue({ kind: 'remove', scope, uids });
  }

  /** Record what the summaries of `scope` are current to (`highestModseq` may be null). */
  saveState(scope, highestModseq) {
    if (scope) this.queue({ kind: 'state', scope, highestModseq });
  }

  /** Forget one mailbox (its UIDVALIDITY changed), or with `mailbox` null the whole account. */
  drop(account, mailbox = null) {
    this.queue({ kind: 'drop', prefix: mailbox === null ? [account] : [account, mailbox] });
    return this.settled();
  }

  /** Resolves once every write queued so far was applied (or failed). */
  settled() {
    this.flush();
    return this.flushing;
  }

  queue(op) {
    this.ops.push(op);
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => this.flush(), 0);
  }

  flush() {
    this.scheduled = false;
    const ops = this.ops;
    this.ops = [];
    if (ops.length) this.flushing = this.flushing.then(() => this.apply(ops));
  }

  async apply(ops) {
    const db = await this.open();
    if (!db) return;
    let tx = null;
    try {
      tx = db.transaction(STORES, 'readwrite');
      const stores = Object.fromEntries(STORES.map((name) => [name, tx.objectStore(name)]));
      for (const op of ops) applyOp(stores, op);
      if (ops.some((op) => op.kind === 'body')) evictBodies(stores, this.bodyBudget);
      await done(tx);
    } catch {
      // All of the batch or none of it (a value that cannot be stored throws midway).
      try {
        tx?.abort();
      } catch {
        // Already over.
      }
      await this.distrust(db, ops);
    }
  }

  /**
   * A batch was lost (quota, eviction): forget the state of the mailboxes it touched, so their
   * summaries are not trusted again, rather than show stale flags later.
   */
  async distrust(db, ops) {
    try {
      const tx = db.transaction(MAILBOXES, 'readwrite');
      for (const op of ops) {
        if (op.scope) tx.objectStore(MAILBOXES).delete([op.scope.account, op.scope.mailbox]);
      }
      await done(tx);
    } catch {
      // Nothing more to do: the next load may still find them.
    }
  }
}

function applyOp(stores, op) {
  const { scope } = op;
  if (op.kind === 'put') {
    for (const s of op.summaries) stores[SUMMARIES].put(s, summaryKey(scope, Number(s.uid)));
  } else if (op.kind === 'body' || op.kind === 'opened') {
    if (op.body) stores[BODIES].put(op.body, summaryKey(scope, op.uid));
    stores[BODY_USE].put({ bytes: op.bytes, opened: op.at }, summaryKey(scope, op.uid));
  } else if (op.kind === 'folders') {
    stores[FOLDERS].put(op.folders, [op.account]);
  } else if (op.kind === 'remove') {
    for (const uid of op.uids) {
      stores[SUMMARIES].delete(summaryKey(scope, uid));
      stores[BODIES].delete(summaryKey(scope, uid));
      stores[BODY_USE].delete(summaryKey(scope, uid));
    }
  } else if (op.kind === 'state') {
    const value = { uidValidity: scope.uidValidity, highestModseq: op.highestModseq };
    stores[MAILBOXES].put(value, [scope.account, scope.mailbox]);
  } else {
    const range = IDBKeyRange.bound(...prefixBounds(op.prefix));
    for (const store of Object.values(stores)) store.delete(range);
  }
}

/**
 * Within the same transaction, after the batch: deletes the least recently opened messages
 * until the kept ones fit in `budget` bytes. A size whose message is gone (removed or evicted
 * by another tab while it was being read, then recorded as opened) is dropped uncounted.
 */
function evictBodies(stores, budget) {
  const bodyKeys = stores[BODIES].getAllKeys();
  const keys = stores[BODY_USE].getAllKeys();
  const uses = stores[BODY_USE].getAll();
  uses.onsuccess = () => {
    const present = new Set(bodyKeys.result.map((key) => JSON.stringify(key)));
    const kept = [];
    uses.result.forEach((use, i) => {
      const key = keys.result[i];
      if (present.has(JSON.stringify(key))) kept.push({ ...use, key });
      else stores[BODY_USE].delete(key);
    });
    let total = kept.reduce((sum, use) => sum + use.bytes, 0);
    for (const use of kept.sort((a, b) => a.opened - b.opened)) {
      if (total <= budget) break;
      stores[BODIES].delete(use.key);
      stores[BODY_USE].delete(use.key);
      total -= use.bytes;
    }
  };
}
