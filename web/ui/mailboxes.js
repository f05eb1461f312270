// Envelope addresses as the page uses them, shared by compose.js (reply fields) and
// parts.js (a large message's reader view), which must not import each other.

/** Envelope recipients (groups flattened) as {name, address}. */
export function mailboxes(list) {
  const out = [];
  for (const r of Array.isArray(list) ? list : []) {
    if (r && r.kind === 'group') out.push(...mailboxes(r.members));
    else if (r && typeof r.address === 'string' && r.address) out.push({ name: r.name || '', address: r.address });
  }
  return out;
}
