// HTML mail: sanitized with DOMPurify (parsed once into an inert document,
// cleaned as a tree), then posted to the bridge's /frame, which returns it in
// an <iframe sandbox> (no scripts, opaque origin) under its own CSP: inline
// styles apply, nothing remote loads (images only when the reader asks).
//
// Never post-process the sanitized string with regexes: every rule below runs
// as a DOMPurify hook on the parsed tree.
// The minified UMD build, imported for its side effect: outside CommonJS and AMD it sets
// globalThis.DOMPurify (the ES build is twice the size gzipped).
import '../vendor/purify.min.js';

/** CSS that could load something: url(), image-set(), @import, or escapes that might hide them. */
const RISKY_CSS = /url\s*\(|image-set|@import|expression\s*\(|\\|&#|behavior\s*:|-moz-binding/i;

/** Attributes that load a resource when present (links are handled apart). */
const LOADING_ATTRS = ['src', 'srcset', 'background', 'poster', 'lowsrc', 'dynsrc', 'longdesc', 'data', 'action', 'formaction', 'xlink:href', 'ping'];

const FORBID_TAGS = [
  'svg', 'math', 'form', 'input', 'button', 'select', 'option', 'optgroup', 'textarea', 'fieldset',
  'legend', 'datalist', 'output', 'meter', 'progress', 'link', 'meta', 'base', 'iframe', 'frame',
  'frameset', 'object', 'embed', 'applet', 'script', 'noscript', 'template', 'slot', 'portal',
];

const purifier = globalThis.DOMPurify(window);
/** The counts of the sanitize() running now, and whether it keeps remote images. */
let report = null;

function isInlineImage(value) {
  const v = value.trim().toLowerCase();
  return /^data:image\/(png|gif|jpeg|jpg|webp|bmp);/.test(v) ||
    (report !== null && report.remoteImages && /^https?:/.test(v));
}

/** A Content-ID as `cid:` URLs and Content-ID headers both name it: no brackets, any case. */
export function cidKey(id) {
  return String(id).trim().replace(/^cid:/i, '').replace(/^<|>$/g, '').toLowerCase();
}

/** `<img src="cid:…">` becomes the inline part's data: URL, if the reader fetched it. */
function resolveCid(node) {
  const value = node.getAttribute('src') || '';
  if (node.tagName !== 'IMG' || !/^\s*cid:/i.test(value)) return;
  const url = report && report.inline.get(cidKey(value));
  if (url) node.setAttribute('src', url);
  else node.removeAttribute('src');
}

purifier.addHook('uponSanitizeElement', (node, data) => {
  if (data.tagName === 'style' && RISKY_CSS.test(node.textContent || '')) {
    node.textContent = '';
    if (report) report.removedCss += 1;
  }
});

purifier.addHook('uponSanitizeAttribute', (node, data) => {
  if (data.attrName === 'style' && RISKY_CSS.test(data.attrValue || '')) {
    data.keepAttr = false;
    if (report) report.removedCss += 1;
  }
});

purifier.addHook('afterSanitizeAttributes', (node) => {
  if (node.hasAttribute('src')) resolveCid(node);
  for (const name of LOADING_ATTRS) {
    if (!node.hasAttribute(name)) continue;
    const value = node.getAttribute(name) || '';
    if (name === 'src' && node.tagName === 'IMG' && isInlineImage(value)) continue;
    node.removeAttribute(name);
    if (report && value.trim() !== '') {
      report.blockedRemote += 1;
      if (name === 'src' && node.tagName === 'IMG') report.blockedImages += 1;
    }
  }
  if (node.hasAttribute('href')) {
    const href = node.getAttribute('href') || '';
    const isLink = node.tagName === 'A' || node.tagName === 'AREA';
    if (isLink && /^(https?:|mailto:)/i.test(href.trim())) {
      // Followed only by a click, in a new top-level tab that gets no referrer.
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    } else {
      node.removeAttribute('href');
    }
  }
});

/**
 * Sanitize untrusted HTML. Returns {html, blockedRemote, blockedImages, removedCss}:
 * `blockedRemote` counts remote loads that were removed (images etc.), `blockedImages`
 * the <img> among them. With `remoteImages`, http(s) <img src> stay (nothing else remote).
 * `inline`: cidKey → data:image URL of the message's inline parts, for `cid:` images.
 */
export function sanitizeHtml(dirty, { remoteImages = false, inline = new Map() } = {}) {
  report = { blockedRemote: 0, blockedImages: 0, removedCss: 0, remoteImages, inline };
  try {
    const html = purifier.sanitize(typeof dirty === 'string' ? dirty : '', {
      USE_PROFILES: { html: true },
      FORBID_TAGS,
      FORBID_ATTR: ['srcset', 'ping', 'action', 'formaction', 'form', 'autofocus'],
      ALLOW_DATA_ATTR: false,
      ALLOW_UNKNOWN_PROTOCOLS: false,
      // The whole document: a mail's <style> sits in its <head>.
      WHOLE_DOCUMENT: true,
      ADD_ATTR: ['target'],
    });
    const { blockedRemote, blockedImages, removedCss } = report;
    return { html, blockedRemote, blockedImages, removedCss };
  } finally {
    report = null;
  }
}
