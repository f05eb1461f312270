// Folder list: ordering/nesting (pure) and rendering (DOM).
import { el, clear, srOnly } from './dom.js';

/** Special-use folders come right after INBOX, in this order. */
const SPECIAL_ORDER = ['drafts', 'sent', 'archive', 'junk', 'trash'];
/** Indentation classes go up to this depth; deeper folders share the last one. */
export const MAX_DEPTH_CLASS = 6;

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

function isInboxName(name) {
  return typeof name === 'string' && name.toUpperCase() === 'INBOX';
}

function splitPath(text, delimiter) {
  if (typeof text !== 'string') return [''];
  if (!delimiter) return [text];
  return text.split(delimiter);
}

function rank(node, depth) {
  if (depth === 0 && node.inbox) return 0;
  const use = node.folder ? node.folder.special_use : null;
  const i = use ? SPECIAL_ORDER.indexOf(use) : -1;
  return i >= 0 ? 1 + i : 100;
}

function compareNodes(depth) {
  return (a, b) => rank(a, depth) - rank(b, depth) || collator.compare(a.label, b.label) ||
    (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/**
 * Order and nest the folders from `listMailboxes()`.
 *
 * Returns a flat array of rows in display order:
 *   { name, label, depth, selectable, specialUse, folder }
 * `folder` is the engine's object, or null for a parent that the server did
 * not list (shown greyed, not clickable). `name` is the wire name to pass back
 * to `select()` unchanged.
 *
 * Order among siblings: INBOX (top level) first, then the special-use folders
 * Drafts, Sent, Archive, Junk, Trash (by `special_use`), then the rest
 * alphabetically by their displayed name. Children follow their parent,
 * nested by each folder's `delimiter`.
 */
export function orderFolders(folders) {
  const root = { children: new Map() };
  for (const folder of Array.isArray(folders) ? folders : []) {
    if (!folder || typeof folder.name !== 'string') continue;
    const delimiter = typeof folder.delimiter === 'string' && folder.delimiter !== '' ? folder.delimiter : null;
    const nameParts = splitPath(folder.name, delimiter);
    const display = typeof folder.display === 'string' ? folder.display : folder.name;
    let displayParts = splitPath(display, delimiter);
    if (displayParts.length !== nameParts.length) displayParts = null;

    let parent = root;
    for (let i = 0; i < nameParts.length; i++) {
      const isLeaf = i === nameParts.length - 1;
      let segment = nameParts[i];
      const inbox = i === 0 && isInboxName(segment);
      if (inbox) segment = 'INBOX';
      let node = parent.children.get(segment);
      if (!node) {
        const key = delimiter ? nameParts.slice(0, i + 1).join(delimiter) : folder.name;
        node = {
          key,
          label: displayParts ? displayParts[i] : nameParts[i],
          inbox,
          folder: null,
          children: new Map(),
        };
        parent.children.set(segment, node);
      }
      if (isLeaf) {
        node.folder = folder;
        node.key = folder.name;
        node.label = displayParts ? displayParts[i] : display;
      }
      parent = node;
    }
  }

  const rows = [];
  const walk = (node, depth) => {
    const kids = [...node.children.values()].sort(compareNodes(depth));
    for (const kid of kids) {
      const f = kid.folder;
      rows.push({
        name: f ? f.name : kid.key,
        label: kid.label === '' ? (f ? f.name : kid.key) : kid.label,
        depth,
        selectable: Boolean(f) && f.selectable !== false,
        specialUse: f && typeof f.special_use === 'string' ? f.special_use : null,
        folder: f,
      });
      walk(kid, depth + 1);
    }
  };
  walk(root, 0);
  return rows;
}

/** The wire name of INBOX in the server's list (INBOX is case-insensitive). */
export function findInbox(folders) {
  const hit = (Array.isArray(folders) ? folders : []).find((f) => f && isInboxName(f.name));
  return hit ? hit.name : 'INBOX';
}

/**
 * Render rows from orderFolders() into the <ul role="tree"> `list`: one
 * treeitem per folder, nested by aria-level, with room for an unread count.
 */
export function renderFolderList(list, rows) {
  clear(list);
  rows.forEach((row, i) => {
    const classes = ['folder', `depth-${Math.min(row.depth, MAX_DEPTH_CLASS)}`];
    if (row.specialUse) classes.push(`special-${row.specialUse}`);
    else if (row.depth === 0 && isInboxName(row.name)) classes.push('special-inbox');
    if (!row.selectable) classes.push('noselect');
    const data = { name: row.name };
    if (row.specialUse) data.specialUse = row.specialUse;
    const attrs = { role: 'treeitem', 'aria-level': row.depth + 1, tabindex: -1, 'aria-selected': 'false' };
    if (!row.selectable) attrs['aria-disabled'] = 'true';
    if (rows[i + 1] && rows[i + 1].depth > row.depth) attrs['aria-expanded'] = 'true';
    list.append(el('li', { className: classes.join(' '), dataset: data, attrs,
      title: row.selectable ? row.label : `${row.label} (folder without messages)` },
    el('span', { className: 'folder-icon', attrs: { 'aria-hidden': 'true' } }),
    el('span', { className: 'folder-label' }, row.label),
    el('span', { className: 'folder-count' })));
  });
  const first = list.querySelector('.folder');
  if (first) first.tabIndex = 0;
}

/** Show `unseen` (a number, or null: unknown) next to the folder `name`. */
export function setFolderCount(list, name, unseen) {
  const item = [...list.querySelectorAll('.folder')].find((n) => n.dataset.name === name);
  if (!item) return;
  const cell = item.querySelector('.folder-count');
  clear(cell);
  if (Number.isFinite(unseen) && unseen > 0) cell.append(String(unseen), srOnly(' unread'));
  item.classList.toggle('has-unread', Number.isFinite(unseen) && unseen > 0);
}

/** Mark the folder named `name` as current (selected, and the tree's tab stop). */
export function markCurrentFolder(list, name) {
  for (const node of list.querySelectorAll('.folder')) {
    const current = node.dataset.name === name;
    node.classList.toggle('current', current);
    node.setAttribute('aria-selected', String(current));
    node.tabIndex = current ? 0 : -1;
  }
}
