const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Values a hostile peer likes to put where something else belongs. */
const NASTY: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  -0,
  1.5,
  2 ** 53,
  -(2 ** 53) - 2,
  1e308,
  '',
  '__proto__',
  'constructor',
  'toString',
  'x'.repeat(70),
  'ü\u0000\ud800',
  [],
  {},
  [[[[[[[[]]]]]]]],
  JSON.parse('{"__proto__":{"polluted":true}}') as unknown,
  { $deleted: true },
  { node: 'a', seq: 1 },
  { ms: 1, c: 0 },
  { ms: 4_102_444_800_000, c: 0 },
  ['a', [{ node: 'a', seq: 1 }]],
  { a: 1, b: [1, 2, 3] },
];

/** Makes random and mutated frames from a corpus of valid encoded frames. */
export class FrameMutator {
  constructor(
    private readonly corpus: readonly Uint8Array[],
    readonly random: () => number,
  ) {}

  /** One frame: mostly structural mutations of valid ones, some byte-level, some pure noise. */
  next(): Uint8Array {
    const roll = this.random();
    if (roll < 0.45) return this.mutateJson(this.pick(this.corpus));
    if (roll < 0.85) return this.mutateBytes(this.pick(this.corpus));
    if (roll < 0.95) return this.randomJson();
    return this.randomBytes(this.int(300));
  }

  /** A mutated copy of a parsed value (1–3 structural edits). */
  mutateValue(value: unknown): unknown {
    let result = structuredClone(value);
    const edits = 1 + this.int(3);
    for (let i = 0; i < edits; i++) result = this.editSomewhere(result);
    return result;
  }

  private mutateJson(frame: Uint8Array): Uint8Array {
    return encoder.encode(JSON.stringify(this.mutateValue(JSON.parse(decoder.decode(frame)))));
  }

  private editSomewhere(root: unknown): unknown {
    // Walk a random path down, then edit the container holding the last step.
    if (typeof root !== 'object' || root === null) return this.nasty();
    let container = root as Record<string, unknown>;
    for (let depth = 0; depth < 12; depth++) {
      const keys = Object.keys(container);
      if (keys.length === 0) break;
      const key = this.pick(keys);
      const child = container[key];
      if (typeof child !== 'object' || child === null || this.random() < 0.25) break;
      container = child as Record<string, unknown>;
    }
    const keys = Object.keys(container);
    const key = keys.length > 0 ? this.pick(keys) : 'x';
    const action = this.int(8);
    const current = container[key];
    if (action === 0) delete container[key];
    else if (action === 1) put(container, this.pick(['__proto__', 'constructor', 'extra', '', 'partial', 't', 'v']), this.nasty());
    else if (action === 2) put(container, key, [current]);
    else if (action === 3 && typeof current === 'number') put(container, key, current + this.pick([1, -1, 1e9, 0.5]));
    else if (action === 4 && typeof current === 'string') put(container, key, this.mutateString(current));
    else if (action === 5 && Array.isArray(container)) container.push(structuredClone(this.pick(container)));
    else if (action === 6) {
      const other = this.pick(keys.length > 0 ? keys : ['x']);
      const swapped = container[other];
      put(container, other, current);
      put(container, key, swapped);
    } else put(container, key, this.nasty());
    return root;
  }

  private mutateString(text: string): string {
    switch (this.int(4)) {
      case 0:
        return text.slice(0, this.int(text.length + 1));
      case 1:
        return text + this.pick(['!', ' ', ':', '\u0000', 'x'.repeat(200)]);
      case 2:
        return text.toUpperCase();
      default:
        return this.pick(['', 'election-2024', 'Election', 'Ballot', 'mallory', 'alice', '$deleted', 'a'.repeat(65)]);
    }
  }

  private mutateBytes(frame: Uint8Array): Uint8Array {
    let bytes: Uint8Array = frame.slice();
    const edits = 1 + this.int(4);
    for (let i = 0; i < edits; i++) {
      const at = this.int(bytes.length + 1);
      switch (this.int(6)) {
        case 0:
          if (bytes.length > 0) bytes[Math.min(at, bytes.length - 1)]! ^= 1 << this.int(8);
          break;
        case 1:
          if (bytes.length > 0) bytes[Math.min(at, bytes.length - 1)] = this.int(256);
          break;
        case 2:
          bytes = concat(bytes.subarray(0, at), this.randomBytes(1 + this.int(8)), bytes.subarray(at));
          break;
        case 3:
          bytes = concat(bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + this.int(16))));
          break;
        case 4:
          bytes = bytes.slice(0, at);
          break;
        default: {
          const other = this.pick(this.corpus);
          bytes = concat(bytes.subarray(0, at), other.subarray(this.int(other.length + 1)));
        }
      }
    }
    return bytes;
  }

  private randomJson(): Uint8Array {
    const value = { t: this.pick(['hello', 'delta', 'ack', 'version', 'info', 'error', 'x']), ...this.randomObject(3) };
    return encoder.encode(JSON.stringify(value));
  }

  private randomObject(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const keys = ['batch', 'model', 'version', 'since', 'changes', 'part', 'parts', 'node', 'protocols', 'models', 'name', 'complete', 'reason'];
    for (let i = this.int(5); i > 0; i--) {
      out[this.pick(keys)] = depth > 0 && this.random() < 0.4 ? this.randomObject(depth - 1) : this.nasty();
    }
    return out;
  }

  private randomBytes(length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = this.int(256);
    return bytes;
  }

  private nasty(): unknown {
    return structuredClone(this.pick(NASTY));
  }

  private int(below: number): number {
    return Math.floor(this.random() * below);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** Sets an own property, also one named `__proto__` (plain assignment would change the prototype). */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
