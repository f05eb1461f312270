// Reader pane: headers, plain text with clickable links (built node by node,
// never parsed as HTML), sanitized HTML in a sandboxed frame, attachments.
import { el, clear } from './dom.js';
import { splitLinks, addressText, addressList } from './links.js';
import { formatFullDate } from './messages.js';
import { sanitizeHtml, frameDocument } from './sanitize.js';

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

/** Which views a message offers, and which one to show first. */
export function availableViews(message, wanted) {
  const hasText = typeof message.text === 'string';
  const hasHtml = typeof message.html === 'string' && message.html.trim() !== '';
  let view = wanted === 'html' && hasHtml ? 'html' : 'text';
  if (!hasText && hasHtml) view = 'html';
  return { hasText, hasHtml, view };
}

/**
 * Render `message` (from fetchMessage) into the reader elements `r`; `view`
 * is 'text' or 'html'. Returns the view actually shown.
 */
export function renderReader(r, message, wanted) {
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

  const { hasText, hasHtml, view } = availableViews(message, wanted);
  r.viewSwitch.hidden = !(hasText && hasHtml);
  r.viewText.setAttribute('aria-pressed', String(view === 'text'));
  r.viewHtml.setAttribute('aria-pressed', String(view === 'html'));

  clear(r.text);
  r.note.hidden = true;
  r.note.textContent = '';
  if (view === 'html') {
    const clean = sanitizeHtml(message.html);
    r.frame.srcdoc = frameDocument(clean.html);
    r.frame.hidden = false;
    r.text.hidden = true;
    if (clean.blockedRemote > 0 || clean.removedCss > 0) {
      r.note.textContent = 'Remote content in this message was blocked.';
      r.note.hidden = false;
    }
  } else {
    r.frame.removeAttribute('srcdoc');
    r.frame.hidden = true;
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
  r.frame.removeAttribute('srcdoc');
  r.frame.hidden = true;
}
