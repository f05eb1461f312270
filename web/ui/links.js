// Plain-text bodies: find web links without ever interpreting the text as
// HTML. Pure (no DOM), so it can be unit-tested under Node.

// http(s) URLs and bare www. hosts, up to whitespace or a bracket/quote.
const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"'`]+/gi;
// Characters that usually end a sentence rather than a URL.
const TRAILING = /[.,;:!?'")\]}>]+$/;

/** The http(s) address for a link text, or null if it is not a safe web URL. */
export function safeHref(text) {
  const candidate = /^www\./i.test(text) ? `https://${text}` : text;
  let url;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}

/**
 * Split `text` into pieces: {text} for plain runs and {text, href} for links.
 * A closing bracket is kept in the URL only when the URL opened one.
 */
export function splitLinks(text) {
  const out = [];
  if (typeof text !== 'string' || text === '') return out;
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    let raw = match[0];
    let trail = (raw.match(TRAILING) || [''])[0];
    raw = raw.slice(0, raw.length - trail.length);
    // "(see http://x/a_(b))": keep balanced parentheses.
    while (trail.startsWith(')') && (raw.match(/\(/g) || []).length > (raw.match(/\)/g) || []).length) {
      raw += ')';
      trail = trail.slice(1);
    }
    const href = raw ? safeHref(raw) : null;
    if (!href) continue;
    if (match.index > last) out.push({ text: text.slice(last, match.index) });
    out.push({ text: raw, href });
    last = match.index + raw.length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

/** "1.2 MB", "340 KB", "12 bytes". */
export function formatSize(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1024) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** "Alice <a@example.org>", or the address alone. */
export function addressText(addr) {
  if (!addr || typeof addr !== 'object') return '';
  const name = typeof addr.name === 'string' ? addr.name.trim() : '';
  const address = typeof addr.address === 'string' ? addr.address.trim() : '';
  if (name && address && name !== address) return `${name} <${address}>`;
  return name || address;
}

/** Comma-separated list of addresses. */
export function addressList(list) {
  return (Array.isArray(list) ? list : []).map(addressText).filter(Boolean).join(', ');
}
