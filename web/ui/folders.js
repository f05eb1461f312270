// Folder list: ordering/nesting (pure) and rendering (DOM).
import { el, clear } from './dom.js';

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
 * Render rows from orderFolders() into the <ul> `list`. `onOpen(row)` is
 * called when a selectable folder is activated.
 */
export function renderFolderList(list, rows, onOpen) {
  clear(list);
  for (const row of rows) {
    const depthClass = `depth-${Math.min(row.depth, MAX_DEPTH_CLASS)}`;
    const classes = ['folder', depthClass];
    if (row.specialUse) classes.push(`special-${row.specialUse}`);
    const data = { name: row.name };
    if (row.specialUse) data.specialUse = row.specialUse;
    let item;
    if (row.selectable) {
      item = el('button', { type: 'button', className: classes.join(' '), dataset: data, title: row.label }, row.label);
      item.addEventListener('click', () => onOpen(row));
    } else {
      classes.push('noselect');
      item = el('span', { className: classes.join(' '), dataset: data, 'aria-disabled': 'true', title: `${row.label} (folder without messages)` }, row.label);
    }
    list.append(el('li', {}, item));
  }
}

/** Mark the folder named `name` as current in the rendered list. */
export function markCurrentFolder(list, name) {
  for (const node of list.querySelectorAll('.folder')) {
    if (node.dataset.name === name) {
      node.setAttribute('aria-current', 'true');
      node.classList.add('current');
    } else {
      node.removeAttribute('aria-current');
      node.classList.remove('current');
    }
  }
}
