// Reader pane: headers, plain text with clickable links (built node by node,
// never parsed as HTML), sanitized HTML in a sandboxed frame, attachments.
import { el, clear } from './dom.js';
import { splitLinks, addressText, addressList } from './links.js';
import { formatFullDate } from './messages.js';
import { sanitizeHtml } from './sanitize.js';
import { labelsOf } from './labels.js';

/** The plain text as nodes: text runs and <a> for http(s) links. */
export function linkifiedNodes(text) {
  return splitLinks(text).map((piece) => (piece.href
    ? el('a', { href: piece.href, rel: 'noopener noreferrer', target: '_blank' }, piece.text)
    : document.createTextNode(piece.text)));
}

function headerRow(dl, label, value) {
  if (!value) return;
  dl.append(el('dt', {}, label), el('dd', {}, value));
}

/** The message's labels under its headers. */
export function showLabels(r, flags) {
  const labels = labelsOf(flags);
  clear(r.labels);
  r.labels.append(...labels.map((label) => el('li', { className: 'label' }, label)));
  r.labels.hidden = labels.length === 0;
}

/** Which views a message offers, and which one to show first. */
export function availableViews(message, wanted) {
  const hasText = typeof message.text === 'string';
  const hasHtml = typeof message.html === 'string' && message.html.trim() !== '';
  let view = wanted === 'html' && hasHtml ? 'html' : 'text';
  if (!hasText && hasHtml) view = 'html';
  return { hasText, hasHtml, view };
}

/**
 * A new, empty frame in place of the old one: its first navigation replaces the
 * initial about:blank, so messages shown never pile up in the tab's history.
 */
function freshFrame(r, hidden) {
  const frame = r.frame.cloneNode(false);
  frame.hidden = hidden;
  r.frame.replaceWith(frame);
  r.frame = frame;
}

/**
 * Show sanitized HTML in the sandboxed frame: the hidden form posts it to the
 * bridge's /frame, which answers with the frame's own CSP (`remote`: images may load).
 */
function showFrame(r, html, remote) {
  freshFrame(r, false);
  r.frameForm.elements.html.value = html;
  r.frameForm.elements.remote.value = remote ? '1' : '';
  r.frameForm.submit();
  r.frameForm.elements.html.value = '';
}

/**
 * Render `message` (from fetchMessage) into the reader elements `r`; `view`
 * is 'text' or 'html'; `remoteImages`: the reader chose to load this message's
 * remote images; `inline`: its `cid:` images (see sanitizeHtml). Returns the view shown.
 */
export function renderReader(r, message, wanted, remoteImages = false, inline = new Map()) {
  const subject = typeof message.subject === 'string' && message.subject.trim() !== '' ? message.subject : '(no subject)';
  r.subject.textContent = subject;
  clear(r.headers);
  headerRow(r.headers, 'From', addressText(message.from));
  headerRow(r.headers, 'To', addressList(message.to));
  headerRow(r.headers, 'Cc', addressList(message.cc));
  const date = Number(message.date);
  if (Number.isFinite(date)) {
    r.headers.append(el('dt', {}, 'Date'),
      el('dd', {}, el('time', { dateTime: new Date(date).toISOString() }, formatFullDate(date))));
  }

  showLabels(r, message.flags);
  const { hasText, hasHtml, view } = availableViews(message, wanted);
  r.viewSwitch.hidden = !(hasText && hasHtml);
  r.viewText.setAttribute('aria-pressed', String(view === 'text'));
  r.viewHtml.setAttribute('aria-pressed', String(view === 'html'));

  clear(r.text);
  r.note.hidden = true;
  r.loadRemote.hidden = true;
  r.noteText.textContent = '';
  if (view === 'html') {
    const clean = sanitizeHtml(message.html, { remoteImages, inline });
    showFrame(r, clean.html, remoteImages);
    r.text.hidden = true;
    if (clean.blockedRemote > 0 || clean.removedCss > 0) {
      r.noteText.textContent = 'Remote content in this message was blocked.';
      r.loadRemote.hidden = clean.blockedImages === 0;
      r.note.hidden = false;
    }
  } else {
    freshFrame(r, true);
    r.text.append(...linkifiedNodes(hasText ? message.text : ''));
    if (!hasText) r.text.append(el('em', {}, 'This message has no text.'));
    r.text.hidden = false;
  }

  // Filled by ui/attachments.js once the structure is known.
  clear(r.attachmentList);
  r.attachments.hidden = true;
  return view;
}

/** Empty the reader (no message open). */
export function clearReader(r) {
  r.subject.textContent = '';
  clear(r.headers);
  clear(r.text);
  clear(r.attachmentList);
  freshFrame(r, true);
}
