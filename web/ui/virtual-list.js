// A virtual list: the scroller holds one tall sizer, and only the rows in view
// (plus a margin) exist as elements, positioned absolutely and reused as the
// list scrolls. 100,000 messages cost as many DOM nodes as 40.

/** Rows kept above and below the visible ones, so a quick scroll shows no gap. */
const OVERSCAN = 8;

/** The rows `[first, last)` to have in the DOM for a viewport, clamped to `count`. */
export function windowRange(scrollTop, viewportHeight, rowHeight, count, overscan = OVERSCAN) {
  if (!(rowHeight > 0) || count <= 0) return [0, 0];
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan);
  return [Math.min(first, last), last];
}

export class VirtualList {
  /**
   * `scroller` scrolls; `sizer` (inside it) gets the full height and holds the
   * rows. `createRow()` makes an empty row element; `fillRow(el, index)` shows
   * row `index` in it. `rowHeight()` reads the current height in pixels.
   */
  constructor({ scroller, sizer, createRow, fillRow, rowHeight }) {
    this.scroller = scroller;
    this.sizer = sizer;
    this.createRow = createRow;
    this.fillRow = fillRow;
    this.readRowHeight = rowHeight;
    this.rowHeight = rowHeight();
    this.count = 0;
    /** index → element for the rows in the DOM. */
    this.rows = new Map();
    this.spare = [];
    this.frame = 0;
    this.onRange = null;
    scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => {
      this.rowHeight = this.readRowHeight();
      this.setCount(this.count);
    }).observe(scroller);
  }

  setCount(count) {
    this.count = count;
    this.sizer.style.height = `${count * this.rowHeight}px`;
    this.render(true);
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render(false);
    });
  }

  /** The visible rows `[first, last)` without the margin. */
  visibleRange() {
    return windowRange(this.scroller.scrollTop, this.scroller.clientHeight, this.rowHeight, this.count, 0);
  }

  /** Lay out the rows in view; `refill` redraws rows that stay as well. */
  render(refill) {
    const [first, last] = windowRange(this.scroller.scrollTop, this.scroller.clientHeight, this.rowHeight, this.count);
    for (const [index, row] of this.rows) {
      if (index < first || index >= last) {
        this.rows.delete(index);
        row.remove();
        this.spare.push(row);
      }
    }
    for (let index = first; index < last; index++) {
      let row = this.rows.get(index);
      const fresh = !row;
      if (fresh) {
        row = this.spare.pop() || this.createRow();
        this.rows.set(index, row);
      }
      if (fresh || refill) {
        row.style.transform = `translateY(${index * this.rowHeight}px)`;
        this.fillRow(row, index);
      }
      if (fresh) this.sizer.append(row);
    }
    if (this.onRange) this.onRange(first, last);
  }

  /** Redraw the rows in the DOM (data changed, layout did not). */
  refresh() {
    for (const [index, row] of this.rows) this.fillRow(row, index);
  }

  rowAt(index) {
    return this.rows.get(index) || null;
  }

  /** Scroll the least needed to show row `index` whole. */
  scrollToIndex(index) {
    const top = index * this.rowHeight;
    const s = this.scroller;
    if (top < s.scrollTop) s.scrollTop = top;
    else if (top + this.rowHeight > s.scrollTop + s.clientHeight) s.scrollTop = top + this.rowHeight - s.clientHeight;
    this.render(false);
  }
}
