// The reader's attachment list (from fetchStructure) and downloads of one part
// each. A downloaded file never renders in the app's origin: anything outside a
// short list of inert types (HTML, SVG, XML, scripts...) becomes
// application/octet-stream, and the link always carries a file name.
import { el, clear } from './dom.js';
import { formatSize } from './links.js';

/** Types a browser shows without running anything in the page's origin. */
const SAFE_TYPES = new Set([
  'text/plain', 'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf',
  'application/zip', 'audio/mpeg', 'audio/ogg', 'video/mp4', 'video/webm',
]);

/** The Blob type a download gets for a part of type `contentType`. */
export function downloadType(contentType) {
  const type = String(contentType || '').toLowerCase();
  return SAFE_TYPES.has(type) ? type : 'application/octet-stream';
}

/** A file name without paths, control characters or a leading dot. */
export function safeFileName(name) {
  const clean = String(name || '').replace(/[\\/\x00-\x1f\x7f:*?"<>|]/g, '_').replace(/^[.\s]+/, '').trim();
  return clean.slice(0, 200) || 'attachment';
}

/** Hand `bytes` to the browser as a download of `name`. */
export function saveBytes(bytes, name, contentType) {
  const url = URL.createObjectURL(new Blob([bytes], { type: downloadType(contentType) }));
  const link = el('a', { href: url, download: safeFileName(name), hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * List `parts` (fetchStructure's attachments) in `r.attachmentList`, each with a
 * Download button that calls `download(part, button)`.
 */
export function renderAttachments(r, parts, download) {
  clear(r.attachmentList);
  for (const part of Array.isArray(parts) ? parts : []) {
    const name = typeof part.filename === 'string' && part.filename.trim() !== '' ? part.filename : '(unnamed)';
    const button = el('button', { type: 'button', className: 'attachment-download' }, 'Download');
    button.setAttribute('aria-label', `Download ${name}`);
    button.addEventListener('click', () => download(part, button));
    r.attachmentList.append(el('li', { className: 'attachment' },
      el('span', { className: 'attachment-name' }, name),
      el('span', { className: 'attachment-meta' }, [part.content_type, formatSize(part.size)].filter(Boolean).join(' · ')),
      button));
  }
  r.attachments.hidden = r.attachmentList.childElementCount === 0;
}
