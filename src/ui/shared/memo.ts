/**
 * Keeps the last result of `compute` and computes again only when one of its arguments changed
 * (compared with `===`). Views key what they derive from a model on `ModelController.revision`,
 * so a render caused by something else (a message, a form error, a page size) costs no scan.
 */
export class Memo<A extends readonly unknown[], T> {
  readonly #compute: (...args: A) => T;
  #args: A | undefined;
  #value: T | undefined;

  constructor(compute: (...args: A) => T) {
    this.#compute = compute;
  }

  get(...args: A): T {
    const last = this.#args;
    if (!last || last.length !== args.length || args.some((arg, i) => arg !== last[i])) {
      this.#value = this.#compute(...args);
      this.#args = args;
    }
    return this.#value as T;
  }
}
