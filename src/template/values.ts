/**
 * How JS values stand in for Go values inside templates:
 *
 *   string            → string
 *   number            → int when integral, else float64
 *   bigint            → int
 *   boolean           → bool
 *   null / undefined  → nil (printed "<no value>" by an action, "<nil>" by fmt)
 *   array             → slice ([]string when every element is a string)
 *   other object      → map[string]… (a plain object; keys iterate in sorted order)
 *   function          → func
 */

export type GoKind = 'nil' | 'bool' | 'int' | 'float' | 'string' | 'slice' | 'map' | 'func';

export function kindOf(v: unknown): GoKind {
  switch (typeof v) {
    case 'string': return 'string';
    case 'number': return Number.isInteger(v) ? 'int' : 'float';
    case 'bigint': return 'int';
    case 'boolean': return 'bool';
    case 'function': return 'func';
    case 'undefined': return 'nil';
    case 'object':
      if (v === null) return 'nil';
      return Array.isArray(v) ? 'slice' : 'map';
    default: return 'nil';
  }
}

export function isNil(v: unknown): v is null | undefined {
  return v === null || v === undefined;
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A map entry, or undefined when the key is absent (an own key whose value is undefined counts as absent). */
export function mapGet(m: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(m, key) ? m[key] : undefined;
}

export function mapHas(m: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key) && m[key] !== undefined;
}

/** Keys with a defined value, in Go's sorted map order. */
export function mapKeys(m: Record<string, unknown>): string[] {
  return Object.keys(m)
    .filter((k) => m[k] !== undefined)
    .sort(compareStrings);
}

/** Byte-wise (code point) string order, as Go sorts strings. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : 1;
}

function allStrings(values: Iterable<unknown>): boolean {
  for (const v of values) if (typeof v !== 'string') return false;
  return true;
}

/** A map whose values are all strings (Go map[string]string, like .Env); empty maps count. */
export function isStringMap(m: Record<string, unknown>): boolean {
  return allStrings(mapKeys(m).map((k) => m[k]));
}

/** Go's type name of a value, for error messages and %T. */
export function typeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'nil': return '<nil>';
    case 'bool': return 'bool';
    case 'int': return 'int';
    case 'float': return 'float64';
    case 'string': return 'string';
    case 'func': return 'func';
    case 'slice': return allStrings(v as unknown[]) && (v as unknown[]).length > 0 ? '[]string' : '[]interface {}';
    case 'map': {
      const m = v as Record<string, unknown>;
      return mapKeys(m).length > 0 && isStringMap(m) ? 'map[string]string' : 'map[string]interface {}';
    }
  }
}

/** Go's truth: false, 0, "", nil, and empty slices and maps are false. */
export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'nil': return false;
    case 'bool': return v as boolean;
    case 'int':
    case 'float': return typeof v === 'bigint' ? v !== 0n : v !== 0 && !Number.isNaN(v);
    case 'string': return (v as string).length > 0;
    case 'slice': return (v as unknown[]).length > 0;
    case 'map': return mapKeys(v as Record<string, unknown>).length > 0;
    case 'func': return true;
  }
}

/** Number of UTF-8 bytes (Go's len of a string). */
export function byteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
