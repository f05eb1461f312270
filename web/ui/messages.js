// Message list: helpers (pure) and table rendering (DOM).
import { el, clear, srOnly } from './dom.js';

/** How many of the newest messages a folder shows. */
export const PAGE_SIZE = 50;

/** Numbers may arrive as BigInt from the engine; make them plain numbers. */
function num(value) {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return NaN;
}

/**
 * Lowest UID to fetch so that the newest `count` UIDs are covered: uid_next -
 * count, at least 1. Gaps in UIDs (expunged messages) mean fewer messages may
 * come back; good enough for the skeleton.
 */
export function newestLowUid(uidNext, count = PAGE_SIZE) {
  const next = num(uidNext);
  if (!Number.isFinite(next)) return 1;
  return Math.max(1, Math.floor(next) - count);
}

/** Newest first (highest UID), at most `count`. */
export function newestFirst(messages, count = PAGE_SIZE) {
  const list = Array.isArray(messages) ? messages.filter((m) => m && Number.isFinite(num(m.uid))) : [];
  list.sort((a, b) => num(b.uid) - num(a.uid));
  return list.slice(0, count);
}

/** True if `flags` contains `flag` (IMAP flags are case-insensitive). */
export function hasFlag(flags, flag) {
  if (!Array.isArray(flags)) return false;
  const want = flag.toLowerCase();
  return flags.some((f) => typeof f === 'string' && f.toLowerCase() === want);
}

/** "Alice" or "a@b" or a placeholder. */
export function senderText(from) {
  if (from && typeof from.name === 'string' && from.name.trim() !== '') return from.name.trim();
  if (from && typeof from.address === 'string' && from.address.trim() !== '') return from.address.trim();
  return '(unknown sender)';
}

/** The date to show: the Date header, else the server's internal date. */
export function messageTime(message) {
  const d = num(message && message.date);
  if (Number.isFinite(d)) return d;
  const i = num(message && message.internal_date);
  return Number.isFinite(i) ? i : NaN;
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/**
 * Format a time (ms since epoch) for the list in the user's locale: today →
 * time only, this year → day and month, else a short date.
 */
export function formatListDate(ms, now = new Date(), locale = undefined) {
  if (!Number.isFinite(ms)) return '';
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return '';
  let options;
  if (sameDay(date, now)) options = { timeStyle: 'short' };
  else if (date.getFullYear() === now.getFullYear()) options = { day: 'numeric', month: 'short' };
  else options = { year: 'numeric', month: 'short', day: 'numeric' };
  return new Intl.DateTimeFormat(locale, options).format(date);
}

/** Full date and time, for the tooltip. */
export function formatFullDate(ms, locale = undefined) {
  if (!Number.isFinite(ms)) return '';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short' }).format(new Date(ms));
}

/** "1 message", "12 messages". */
export function countText(exists) {
  const n = Number.isFinite(num(exists)) ? num(exists) : 0;
  return `${n.toLocaleString()} ${n === 1 ? 'message' : 'messages'}`;
}

/** `flags` with `flag` added (`on`) or removed, compared case-insensitively. */
export function withFlag(flags, flag, on) {
  const list = Array.isArray(flags) ? flags.filter((f) => typeof f === 'string') : [];
  const rest = list.filter((f) => f.toLowerCase() !== flag.toLowerCase());
  return on ? [...rest, flag] : rest;
}

/**
 * Merge headers fetched for new UIDs into the shown list (newest first):
 * only UIDs above `maxUid` are taken (a `UID n:*` fetch always returns the
 * last message, even below n).
 */
export function mergeNewer(shown, fetched, maxUid) {
  const fresh = (Array.isArray(fetched) ? fetched : []).filter((m) => m && num(m.uid) > maxUid);
  const known = new Set(shown.map((m) => num(m.uid)));
  const add = fresh.filter((m) => !known.has(num(m.uid)));
  add.sort((a, b) => num(b.uid) - num(a.uid));
  return { list: [...add, ...shown], added: add.length };
}

/**
 * Group UIDs into ranges to fetch, joining neighbours closer than `gap`, so a
 * search result costs few round trips without fetching much it doesn't need.
 */
export function uidRuns(uids, gap = 20) {
  const sorted = [...new Set((Array.isArray(uids) ? uids : []).map(num).filter((u) => Number.isFinite(u) && u > 0))]
    .sort((a, b) => a - b);
  const runs = [];
  for (const uid of sorted) {
    const last = runs[runs.length - 1];
    if (last && uid - last[1] <= gap) last[1] = uid;
    else runs.push([uid, uid]);
  }
  return runs;
}

/** Fill `tbody` with one row per message (already in display order). */
export function renderMessageRows(tbody, messages, now = new Date(), selectedUid = null) {
  clear(tbody);
  for (const m of messages) {
    const unread = !hasFlag(m.flags, '\\Seen');
    const flagged = hasFlag(m.flags, '\\Flagged');
    const time = messageTime(m);
    const subject = typeof m.subject === 'string' && m.subject.trim() !== '' ? m.subject : null;
    const from = senderText(m.from);
    const fromTitle = m.from && m.from.address ? m.from.address : from;

    const status = el('td', { className: 'col-status' },
      flagged ? el('span', { className: 'flag-mark', 'aria-hidden': 'true' }, '★') : null,
      flagged ? srOnly('Flagged') : null,
      unread ? srOnly(flagged ? ', unread' : 'Unread') : null);
    const selected = selectedUid !== null && num(m.uid) === selectedUid;
    const row = el('tr', {
      className: [unread ? 'unread' : 'read', flagged ? 'flagged' : '', selected ? 'selected' : '']
        .filter(Boolean).join(' '),
      dataset: { uid: num(m.uid) },
      'aria-selected': selected ? 'true' : 'false',
    },
      status,
      el('td', { className: 'col-from', title: fromTitle }, from),
      el('td', { className: subject ? 'col-subject' : 'col-subject no-subject', title: subject || '' },
        subject || '(no subject)'),
      el('td', { className: 'col-date' },
        el('time', {
          dateTime: Number.isFinite(time) ? new Date(time).toISOString() : '',
          title: formatFullDate(time),
        }, formatListDate(time, now))));
    tbody.append(row);
  }
}
