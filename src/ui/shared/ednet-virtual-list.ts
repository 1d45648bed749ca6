import { LitElement, type PropertyValues, type TemplateResult, html } from 'lit';
import { repeat } from 'lit/directives/repeat.js';

/** Rows rendered above and below the visible ones, so a fast scroll or a keypress finds them ready. */
const OVERSCAN = 6;
/** A row's height before any was measured (a one-line button row). */
const FIRST_GUESS_PX = 44;
/** How tall the list may grow before it scrolls on its own. */
const MAX_HEIGHT = 'min(70vh, 42rem)';

/**
 * A long list that keeps in the DOM only the rows in view (and a few around them), so a room with
 * hundreds of elections or thousands of voters renders a few dozen rows. It scrolls on its own
 * (up to `MAX_HEIGHT`); the rows outside the window are stood for by padding computed from the
 * measured average row height. Each row is an `<li>` with `aria-posinset`/`aria-setsize`, so a
 * screen reader still hears "12 of 3,000". Arrow keys, Page Up/Down, Home and End move focus from
 * row to row (Tab reaches only the rendered rows). It renders into its own light DOM, so the rows
 * are styled by the view that uses it.
 */
export class EdnetVirtualList<T = unknown> extends LitElement {
  static override properties = {
    items: { attribute: false },
    keyOf: { attribute: false },
    renderItem: { attribute: false },
    itemClass: { attribute: 'item-class' },
    label: {},
    search: {},
  };

  declare items: readonly T[];
  /** A stable key per item (its oid), so rows keep their DOM as the window moves. */
  declare keyOf: (item: T) => string;
  /** The content of one row (inside its `<li>`). */
  declare renderItem: (item: T, index: number) => TemplateResult;
  /** Class of every row's `<li>`. */
  declare itemClass: string;
  /** Accessible name of the list. */
  declare label: string;
  /** The search the items match: a new one shows its matches from the first. */
  declare search: string;
  #rowHeight = FIRST_GUESS_PX;
  #scrollTop = 0;
  #viewport = 0;
  #frame: number | undefined;
  #resize = new ResizeObserver(() => this.#schedule());
  #onScroll = (): void => this.#schedule();

  constructor() {
    super();
    this.items = [];
    this.keyOf = (item) => String(item);
    this.renderItem = (item) => html`${String(item)}`;
    this.itemClass = '';
    this.label = '';
    this.search = '';
    this.addEventListener('keydown', (event) => this.#onKey(event));
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Set through the CSSOM (as the list's padding in `updated`): the app's CSP refuses style attributes.
    Object.assign(this.style, { display: 'block', overflowY: 'auto', maxHeight: MAX_HEIGHT, overscrollBehavior: 'contain' });
    this.addEventListener('scroll', this.#onScroll, { passive: true });
    this.#resize.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.removeEventListener('scroll', this.#onScroll);
    this.#resize.disconnect();
    if (this.#frame !== undefined) cancelAnimationFrame(this.#frame);
    this.#frame = undefined;
  }

  /** The first and past-the-last index of the rows in the DOM. */
  get range(): readonly [first: number, end: number] {
    const count = this.items.length;
    // Before the first layout the viewport is unknown: the largest height the list may take.
    const viewport = this.#viewport || Math.min(window.innerHeight * 0.7, 42 * 16);
    const first = Math.max(0, Math.min(count - 1, Math.floor(this.#scrollTop / this.#rowHeight)) - OVERSCAN);
    const end = Math.min(count, Math.floor(this.#scrollTop / this.#rowHeight) + Math.ceil(viewport / this.#rowHeight) + OVERSCAN + 1);
    return [first, Math.max(first, end)];
  }

  /** Scrolls the list (not the page) so the row of `index` shows; resolves with its row once it is rendered. */
  async reveal(index: number): Promise<HTMLLIElement | undefined> {
    if (index < 0 || index >= this.items.length) return undefined;
    const top = index * this.#rowHeight;
    const [first, end] = this.range;
    if (index < first + OVERSCAN || index >= end - OVERSCAN) {
      this.scrollTop = Math.max(0, top - this.clientHeight / 3);
      this.#scrollTop = this.scrollTop;
      this.requestUpdate();
      await this.updateComplete;
    }
    const row = this.#row(index);
    if (row) {
      const box = this.getBoundingClientRect();
      const rect = row.getBoundingClientRect();
      if (rect.top < box.top) this.scrollTop -= box.top - rect.top;
      else if (rect.bottom > box.bottom) this.scrollTop += rect.bottom - box.bottom;
    }
    return row;
  }

  protected override willUpdate(changed: PropertyValues): void {
    super.willUpdate(changed);
    if (changed.has('search') && changed.get('search') !== undefined) {
      this.scrollTop = 0;
      this.#scrollTop = 0;
    }
  }

  override render(): TemplateResult {
    const [first, end] = this.range;
    const count = this.items.length;
    const rows = this.items.slice(first, end);
    return html`<ul class="plain virtual" aria-label=${this.label}>
      ${repeat(
        rows,
        (item) => this.keyOf(item),
        (item, i) => html`<li class=${this.itemClass} aria-posinset=${first + i + 1} aria-setsize=${count}>${this.renderItem(item, first + i)}</li>`,
      )}
    </ul>`;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    // The rows outside the range, stood for by padding (set before the browser paints).
    const [first, end] = this.range;
    const list = this.querySelector<HTMLElement>(':scope > ul');
    if (list) Object.assign(list.style, { margin: '0', padding: `${first * this.#rowHeight}px 0 ${(this.items.length - end) * this.#rowHeight}px` });
    // The list grew (a search cleared: its padding made it tall again) or shrank: the range was
    // computed for the old height, and no scroll or resize will come to compute it again.
    if (this.clientHeight !== this.#viewport) {
      this.#viewport = this.clientHeight;
      const [nextFirst, nextEnd] = this.range;
      if (nextFirst !== first || nextEnd !== end) this.requestUpdate();
    }
    // A shorter list (a search) clamps the scroll position: the range follows it.
    if (this.scrollTop !== this.#scrollTop) {
      this.#scrollTop = this.scrollTop;
      this.requestUpdate();
    }
    const rows = this.querySelectorAll<HTMLLIElement>(':scope > ul > li');
    if (!rows.length) return;
    const height = (rows[rows.length - 1]!.getBoundingClientRect().bottom - rows[0]!.getBoundingClientRect().top) / rows.length;
    // Rows that wrap change the average; a new estimate moves the window once, then holds.
    if (height > 0 && Math.abs(height - this.#rowHeight) > 1) {
      this.#rowHeight = height;
      this.requestUpdate();
    }
  }

  #schedule(): void {
    if (this.#frame !== undefined) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = undefined;
      const [first, end] = this.range;
      this.#scrollTop = this.scrollTop;
      this.#viewport = this.clientHeight;
      const [nextFirst, nextEnd] = this.range;
      if (nextFirst !== first || nextEnd !== end) this.requestUpdate();
    });
  }

  #row(index: number): HTMLLIElement | undefined {
    return this.querySelector<HTMLLIElement>(`:scope > ul > li[aria-posinset="${index + 1}"]`) ?? undefined;
  }

  // Moves focus between rows; keys typed in a text field or a select are theirs.
  #onKey(event: KeyboardEvent): void {
    const target = event.composedPath()[0];
    if (!(target instanceof HTMLElement) || target.matches('input:not([type=checkbox]):not([type=radio]), textarea, select')) return;
    const row = target.closest('li[aria-posinset]');
    if (!row || row.parentElement?.parentElement !== this) return;
    const index = Number(row.getAttribute('aria-posinset')) - 1;
    const page = Math.max(1, Math.floor(this.clientHeight / this.#rowHeight) - 1);
    const last = this.items.length - 1;
    const next =
      event.key === 'ArrowDown' ? index + 1 : event.key === 'ArrowUp' ? index - 1 : event.key === 'PageDown' ? index + page : event.key === 'PageUp' ? index - page : event.key === 'Home' ? 0 : event.key === 'End' ? last : undefined;
    if (next === undefined) return;
    event.preventDefault();
    void this.reveal(Math.max(0, Math.min(last, next))).then((li) => li?.querySelector<HTMLElement>('button, input, a[href], [tabindex]')?.focus({ preventScroll: true }));
  }
}

customElements.define('ednet-virtual-list', EdnetVirtualList);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-virtual-list': EdnetVirtualList;
  }
}
