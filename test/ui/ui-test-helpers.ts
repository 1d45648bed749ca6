import type { AxeResults } from 'axe-core';
import type { LitElement } from 'lit';
import { MemoryElectionKeyStore } from '../../src/models/electoral/index.js';
import { useElectionKeyStore } from '../../src/ui/elections/election-keys.js';
import { themeTokens } from '../../src/ui/shared/theme.js';

// Views find the device's election keys where the composition root put them; here, in memory.
useElectionKeyStore(new MemoryElectionKeyStore());

const mounted: HTMLElement[] = [];
let tokensAdopted = false;

/** Creates `tag`, sets its properties, puts it on the page (with the theme tokens) and waits for its first render. */
export async function mount<K extends keyof HTMLElementTagNameMap>(tag: K, properties: Partial<HTMLElementTagNameMap[K]> = {}): Promise<HTMLElementTagNameMap[K]> {
  if (!tokensAdopted) {
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, themeTokens.styleSheet!];
    tokensAdopted = true;
  }
  const element = document.createElement(tag);
  Object.assign(element, properties);
  document.body.append(element);
  mounted.push(element);
  await settle();
  return element;
}

/** Removes everything `mount` put on the page (call in `afterEach`). */
export function unmountAll(): void {
  for (const element of mounted.splice(0)) element.remove();
}

/**
 * Waits until every pending Lit update has rendered. Local model notifications and Lit updates are
 * microtasks, so once a task boundary passes they have all run; changes from peers render on the
 * next animation frame.
 */
export async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve));
  await new Promise((resolve) => requestAnimationFrame(resolve));
  await new Promise((resolve) => setTimeout(resolve));
}

/** The element matching `selectors`, each one looked up in the shadow root of the previous match. */
export function find<T extends Element = HTMLElement>(host: Element, ...selectors: string[]): T {
  let current: Element = host;
  for (const selector of selectors) {
    const root = current.shadowRoot ?? current;
    const next = root.querySelector(selector);
    if (!next) throw new Error(`nothing matches ${selector} (in ${current.tagName.toLowerCase()})`);
    current = next;
  }
  return current as T;
}

/** Every match of `selector` in the shadow root of the last of `path`. */
export function findAll<T extends Element = HTMLElement>(host: Element, path: readonly string[], selector: string): T[] {
  const parent = path.length ? find(host, ...path) : host;
  return [...(parent.shadowRoot ?? parent).querySelectorAll<T>(selector)];
}

/** The rendered text of an element's shadow root (or the element), whitespace collapsed. */
export function textOf(element: Element): string {
  return collectText(element.shadowRoot ?? element)
    .replace(/\s+/g, ' ')
    .trim();
}

function collectText(node: Node): string {
  if (node.nodeType === Node.TEXT_NODE) return node.textContent ?? '';
  if (node.nodeType === Node.COMMENT_NODE) return '';
  if (node instanceof HTMLStyleElement || node instanceof HTMLTemplateElement) return '';
  let text = '';
  if (node instanceof Element && node.shadowRoot) text += collectText(node.shadowRoot);
  for (const child of node.childNodes) text += collectText(child);
  return ` ${text} `;
}

/** Types into a control the way a user does: sets the value, then fires `input` and `change`. */
export function fill(control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, value: string): void {
  control.value = value;
  control.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
  control.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
}

/** Fills named controls of a form (in `host`'s shadow tree at `path`) and submits it with its submit button. */
export async function submitForm(host: Element, path: readonly string[], formSelector: string, values: Record<string, string>): Promise<void> {
  const form = find<HTMLFormElement>(host, ...path, formSelector);
  for (const [name, value] of Object.entries(values)) {
    const control = form.elements.namedItem(name);
    if (!control) throw new Error(`no control named ${name}`);
    fill(control as HTMLInputElement, value);
  }
  form.querySelector<HTMLButtonElement>('button[type="submit"]')!.click();
  await settle();
}

/** The button whose text contains `label` (in `host`'s shadow tree at `path`). */
export function button(host: Element, path: readonly string[], label: string): HTMLButtonElement {
  const found = findAll<HTMLButtonElement>(host, path, 'button').find((candidate) => candidate.textContent!.replace(/\s+/g, ' ').includes(label));
  if (!found) throw new Error(`no button "${label}"`);
  return found;
}

/** Waits for the element and everything below it to finish rendering. */
export async function rendered(element: LitElement): Promise<void> {
  await element.updateComplete;
  await settle();
}

let axeLoaded: Promise<void> | undefined;

/** Runs axe-core on an element (shadow roots included) and returns its violations, described. */
export async function axeViolations(element: Element): Promise<string[]> {
  axeLoaded ??= new Promise<void>((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/node_modules/axe-core/axe.min.js';
    script.addEventListener('load', () => resolve());
    script.addEventListener('error', () => reject(new Error('axe-core did not load')));
    document.head.append(script);
  });
  await axeLoaded;
  const axe = (window as unknown as { axe: { run(context: Element): Promise<AxeResults> } }).axe;
  const results = await axe.run(element);
  return results.violations.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join('; ')})`);
}
