// What the list shows besides the whole folder: search fields, sort order and
// conversations (pure helpers; app.js runs them through the engine).

/** Sort menu values → the engine's `sort()` order (newest / largest first where that reads best). */
export const SORTS = {
  date: [{ key: 'date', reverse: true }],
  arrival: [{ key: 'arrival', reverse: true }],
  from: [{ key: 'from', reverse: false }],
  subject: [{ key: 'subject', reverse: false }],
  size: [{ key: 'size', reverse: true }],
};

const TEXT_FIELDS = ['text', 'from', 'to', 'subject'];

/** An <input type=date> value (YYYY-MM-DD), or null when unset or not one. */
function day(value) {
  return /^\d{4}-\d{2}-\d{2}$/.test(value || '') ? value : null;
}

/**
 * The search fields as `{query, label}`: `query` in the engine's SearchQuery
 * shape (the date range as SENTSINCE / SENTBEFORE days, `before` exclusive, so
 * the server filters), `label` for "results for …". Null when every field is empty.
 */
export function searchCriteria(fields) {
  const query = {};
  const words = [];
  for (const name of TEXT_FIELDS) {
    const value = typeof fields[name] === 'string' ? fields[name].trim() : '';
    if (value === '') continue;
    query[name] = value;
    words.push(name === 'text' ? value : `${name}: ${value}`);
  }
  for (const name of ['unseen', 'flagged']) {
    if (fields[name] === true) {
      query[name] = true;
      words.push(name === 'unseen' ? 'unread' : 'flagged');
    }
  }
  const since = day(fields.since);
  const before = day(fields.before);
  if (since) {
    query.sent_since = since;
    words.push(`since ${since}`);
  }
  if (before) {
    query.sent_before = before;
    words.push(`before ${before}`);
  }
  if (!words.length) return null;
  return { query, label: words.join(', ') };
}

/**
 * Threads from `threads()` ([{uid, children}], oldest thread first) as list
 * order, newest thread first, each reply after its parent: `{uids, depth}`
 * with `depth` a Map uid → nesting level. Missing parents (uid null) add no level.
 */
export function flattenThreads(nodes) {
  const uids = [];
  const depth = new Map();
  const walk = (node, level) => {
    const uid = Number(node && node.uid);
    const own = Number.isFinite(uid) && uid > 0;
    if (own && !depth.has(uid)) {
      uids.push(uid);
      depth.set(uid, level);
    }
    const children = node && Array.isArray(node.children) ? node.children : [];
    for (const child of children) walk(child, own ? level + 1 : level);
  };
  const top = Array.isArray(nodes) ? [...nodes].reverse() : [];
  for (const node of top) walk(node, 0);
  return { uids, depth };
}
