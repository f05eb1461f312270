// Tiny DOM helper. Text is only ever set through textContent, never parsed as
// HTML, so untrusted server data (subjects, names, folder names) stays inert.

/**
 * el('td', { className: 'subject', title: s }, 'text', childNode, …)
 * Props are assigned as DOM properties, except `dataset` (object) and keys
 * starting with `aria-` / `data-` or `attrs` (object), which become attributes.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
    } else if (key === 'attrs') {
      for (const [k, v] of Object.entries(value)) node.setAttribute(k, String(v));
    } else if (key.startsWith('aria-') || key.startsWith('data-')) {
      node.setAttribute(key, String(value));
    } else {
      node[key] = value;
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.append(child);
    else node.append(document.createTextNode(String(child)));
  }
}

/** Remove all children of `node`. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** Visually hidden text for screen readers. */
export function srOnly(text) {
  return el('span', { className: 'sr-only' }, text);
}
