// Message list: helpers (pure) and table rendering (DOM).
import { el, clear, srOnly } from './dom.js';
import { labelsOf } from './labels.js';

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
export function newestLowUid(uidNext, count) {
  const next = num(uidNext);
  if (!Number.isFinite(next)) return 1;
  return Math.max(1, Math.floor(next) - count);
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

/**
 * The markers a row shows, in order: [class, symbol, words for screen readers].
 * `attachments`: the engine's header-only hint (a multipart/mixed message).
 */
export function rowMarkers(flags, attachments = false) {
  const marks = [];
  if (!hasFlag(flags, '\\Seen')) marks.push(['mark-unread', '●', 'Unread']);
  if (hasFlag(flags, '\\Flagged')) marks.push(['mark-flagged', '★', 'Flagged']);
  if (hasFlag(flags, '\\Answered')) marks.push(['mark-answered', '↩', 'Answered']);
  // A paperclip drawn by style.css: no emoji font needed.
  if (attachments) marks.push(['mark-attachment', '', 'Has attachments']);
  return marks;
}

/** An empty message row for the virtual list (filled by fillMessageRow). */
export function createMessageRow() {
  return el('div', { className: 'msg-row', draggable: true, attrs: { role: 'option', 'aria-selected': 'false' } },
    el('span', { className: 'col-status' }),
    el('span', { className: 'col-from' }),
    el('span', { className: 'col-subject' }),
    el('time', { className: 'col-date' }));
}

/**
 * Show message `m` (a summary, or null while its headers are still coming) at
 * position `index` of `count` in `row`.
 */
export function fillMessageRow(row, m, { index, count, selected, focused, depth = 0, now = new Date() }) {
  const [status, fromCell, subjectCell, dateCell] = row.children;
  row.setAttribute('aria-posinset', String(index + 1));
  row.setAttribute('aria-setsize', String(count));
  row.setAttribute('aria-selected', selected ? 'true' : 'false');
  row.classList.toggle('selected', selected);
  row.classList.toggle('focused', focused);
  clear(status);
  if (!m) {
    delete row.dataset.uid;
    row.removeAttribute('id');
    row.classList.add('placeholder');
    row.classList.remove('unread', 'read', 'flagged', 'answered');
    fromCell.textContent = '';
    subjectCell.textContent = 'Loading…';
    subjectCell.title = '';
    dateCell.textContent = '';
    return;
  }
  const uid = num(m.uid);
  row.dataset.uid = String(uid);
  row.id = `msg-${uid}`;
  const marks = rowMarkers(m.flags, m.has_attachments === true);
  row.classList.remove('placeholder');
  row.classList.toggle('unread', marks.some(([c]) => c === 'mark-unread'));
  row.classList.toggle('read', !row.classList.contains('unread'));
  row.classList.toggle('flagged', marks.some(([c]) => c === 'mark-flagged'));
  row.classList.toggle('answered', marks.some(([c]) => c === 'mark-answered'));
  for (const [cls, symbol] of marks) status.append(el('span', { className: cls, 'aria-hidden': 'true' }, symbol));
  if (marks.length) status.append(srOnly(`${marks.map(([, , words]) => words).join(', ')}, `));
  // Conversation view: replies are indented under their parent (and say so).
  row.classList.toggle('reply', depth > 0);
  if (depth > 0) row.style.setProperty('--depth', String(Math.min(depth, 8)));
  else row.style.removeProperty('--depth');
  if (depth > 0) status.append(srOnly('Reply, '));
  const from = senderText(m.from);
  fromCell.textContent = from;
  fromCell.title = m.from && m.from.address ? m.from.address : from;
  const subject = typeof m.subject === 'string' && m.subject.trim() !== '' ? m.subject : null;
  subjectCell.textContent = subject || '(no subject)';
  subjectCell.title = subject || '';
  subjectCell.classList.toggle('no-subject', !subject);
  for (const label of labelsOf(m.flags)) subjectCell.append(' ', srOnly('label '), el('span', { className: 'label' }, label));
  const time = messageTime(m);
  dateCell.dateTime = Number.isFinite(time) ? new Date(time).toISOString() : '';
  dateCell.title = formatFullDate(time);
  dateCell.textContent = formatListDate(time, now);
}
