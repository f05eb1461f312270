// Folder names: what a person may type for a new level, and the wire form the
// engine expects (IMAP's modified UTF-7, RFC 3501 §5.1.3). Pure.

/** Why `name` cannot be a new folder level under `parent` (null: it can). */
export function folderNameProblem(name, { delimiter = null, siblings = [] } = {}) {
  if (typeof name !== 'string' || name.trim() === '') return 'Enter a name.';
  if (delimiter && name.includes(delimiter)) return `A folder name cannot contain “${delimiter}”.`;
  // Control characters cannot be typed meaningfully and servers refuse them.
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'A folder name cannot contain control characters.';
  const lower = name.toLowerCase();
  if (siblings.some((s) => typeof s === 'string' && s.toLowerCase() === lower)) {
    return `There is already a folder “${name}” here.`;
  }
  return null;
}

/** Modified base64: the standard alphabet with "," for "/", no padding. */
function modifiedBase64(units) {
  const bytes = [];
  for (const u of units) bytes.push(u >> 8, u & 0xff);
  return btoa(String.fromCharCode(...bytes)).replace(/=+$/, '').replace(/\//g, ',');
}

/** `text` in modified UTF-7: ASCII as is, "&" as "&-", the rest as &…- runs of UTF-16. */
export function encodeMailboxName(text) {
  let out = '';
  let run = [];
  const flush = () => {
    if (run.length) out += `&${modifiedBase64(run)}-`;
    run = [];
  };
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x20 && unit <= 0x7e) {
      flush();
      out += unit === 0x26 ? '&-' : text[i];
    } else {
      run.push(unit);
    }
  }
  flush();
  return out;
}

/** The wire name of a new level `label` under the folder `parent` (null: top level). */
export function childWireName(parent, delimiter, label) {
  const leaf = encodeMailboxName(label);
  return parent && delimiter ? `${parent}${delimiter}${leaf}` : leaf;
}

/** `wire` with its last level replaced by `label` (for rename). */
export function renamedWireName(wire, delimiter, label) {
  const cut = delimiter ? wire.lastIndexOf(delimiter) : -1;
  return cut < 0 ? encodeMailboxName(label) : childWireName(wire.slice(0, cut), delimiter, label);
}
