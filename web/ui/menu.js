// One popup menu (role="menu") shared by the buttons that open it: arrow keys
// move, Enter/Space picks, Esc or a click elsewhere closes and focus returns
// to the button (WAI-ARIA menu button pattern).
import { el, clear } from './dom.js';

let open = null;

function close(returnFocus) {
  if (!open) return;
  const { menu, button, onOutside } = open;
  open = null;
  menu.hidden = true;
  clear(menu);
  button.setAttribute('aria-expanded', 'false');
  document.removeEventListener('pointerdown', onOutside, true);
  if (returnFocus) button.focus();
}

function items(menu) {
  return [...menu.querySelectorAll('[role="menuitem"]:not([aria-disabled="true"])')];
}

function moveFocus(menu, step) {
  const list = items(menu);
  if (!list.length) return;
  const i = list.indexOf(document.activeElement);
  const next = i < 0 ? 0 : (i + step + list.length) % list.length;
  list[next].focus();
}

/**
 * Open `menu` under `button` with `entries` ({label, value, disabled, depth});
 * `onPick(value)` runs when one is chosen.
 */
export function openMenu(menu, button, entries, onPick) {
  close(false);
  for (const entry of entries) {
    const attrs = { role: 'menuitem', tabindex: -1 };
    if (entry.disabled) attrs['aria-disabled'] = 'true';
    const item = el('li', { className: `menu-item depth-${Math.min(entry.depth || 0, 6)}`, attrs, dataset: { value: entry.value } },
      entry.label);
    item.addEventListener('click', () => {
      if (entry.disabled) return;
      close(true);
      onPick(entry.value);
    });
    menu.append(item);
  }
  const rect = button.getBoundingClientRect();
  menu.hidden = false;
  // Below the button, or above it when the window has no room below.
  const height = menu.offsetHeight;
  const below = rect.bottom + 4 + height <= window.innerHeight;
  menu.style.top = `${Math.round(below ? rect.bottom + 4 : Math.max(4, rect.top - height - 4))}px`;
  menu.style.left = `${Math.round(Math.max(4, Math.min(rect.left, window.innerWidth - menu.offsetWidth - 4)))}px`;
  button.setAttribute('aria-expanded', 'true');
  const onOutside = (event) => {
    if (!menu.contains(event.target) && event.target !== button) close(false);
  };
  document.addEventListener('pointerdown', onOutside, true);
  open = { menu, button, onOutside };
  moveFocus(menu, 1);
}

/** Keys inside the menu; returns true when it handled the key. */
export function menuKey(event) {
  if (!open || !open.menu.contains(event.target)) return false;
  const { menu } = open;
  switch (event.key) {
    case 'ArrowDown': moveFocus(menu, 1); break;
    case 'ArrowUp': moveFocus(menu, -1); break;
    case 'Home': items(menu)[0]?.focus(); break;
    case 'End': items(menu).at(-1)?.focus(); break;
    case 'Escape': close(true); break;
    case 'Tab': close(false); return false;
    case 'Enter':
    case ' ':
      if (event.target.getAttribute('role') === 'menuitem') event.target.click();
      break;
    default: return false;
  }
  event.preventDefault();
  return true;
}

export function menuIsOpen() {
  return open !== null;
}
