// Multi-selection over an ordered list of UIDs, as file managers do it:
// a click selects one, Ctrl/⌘ toggles one, Shift selects the range from the
// anchor. Pure: the list and the selection are plain values.

/** A selection: the chosen UIDs, the anchor of Shift ranges and the focused row. */
export function emptySelection() {
  return { uids: new Set(), anchor: null, focus: null };
}

/** Only `uid` (or nothing). */
export function selectOne(uid) {
  return { uids: uid === null ? new Set() : new Set([uid]), anchor: uid, focus: uid };
}

/** `uid` added or removed; it becomes the anchor. */
export function toggle(sel, uid) {
  const uids = new Set(sel.uids);
  if (uids.has(uid)) uids.delete(uid);
  else uids.add(uid);
  return { uids, anchor: uid, focus: uid };
}

/**
 * The rows from the anchor to `uid` in `order` (display order); with `keep`
 * (Ctrl+Shift) added to what was selected, else replacing it.
 */
export function extendTo(sel, order, uid, keep = false) {
  const to = order.indexOf(uid);
  if (to < 0) return sel;
  let from = sel.anchor === null ? -1 : order.indexOf(sel.anchor);
  if (from < 0) from = to;
  const [lo, hi] = from <= to ? [from, to] : [to, from];
  const uids = keep ? new Set(sel.uids) : new Set();
  for (let i = lo; i <= hi; i++) uids.add(order[i]);
  return { uids, anchor: order[from], focus: uid };
}

/** Everything in `order`. */
export function selectAll(order) {
  const focusFirst = order.length ? order[0] : null;
  return { uids: new Set(order), anchor: focusFirst, focus: focusFirst };
}

/** The selection without UIDs that are no longer listed (`present` is a Set). */
export function prune(sel, present) {
  const uids = new Set([...sel.uids].filter((u) => present.has(u)));
  const keep = (u) => (u !== null && present.has(u) ? u : null);
  return { uids, anchor: keep(sel.anchor), focus: keep(sel.focus) };
}

/** The selected UIDs in display order. */
export function selectedInOrder(sel, order) {
  if (sel.uids.size === 0) return [];
  return order.filter((u) => sel.uids.has(u));
}

/** The row to focus once `gone` (a Set) leaves `order`: the first after the last one removed, else the last left. */
export function focusAfterRemoval(order, gone) {
  let last = -1;
  order.forEach((u, i) => {
    if (gone.has(u)) last = i;
  });
  for (let i = last + 1; i < order.length; i++) if (!gone.has(order[i])) return order[i];
  for (let i = order.length - 1; i >= 0; i--) if (!gone.has(order[i])) return order[i];
  return null;
}
