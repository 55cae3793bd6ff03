/**
 * A subset of Go's fmt package over template values: Sprint, Sprintln and
 * Sprintf with the verbs v s q d b o O x X c U e E f F g G t T and %%, flags
 * `+ - # 0 space`, width and precision (including `*`), argument indexes
 * `%[n]d`, and Go's error forms (%!d(string=x), %!s(MISSING), %!(EXTRA …)).
 * Not supported: %p, %x/%b on floats, %#v Go-syntax output.
 */
import { canBackquote, quote, quoteRune } from './gostrings.js';
import { isNil, kindOf, mapKeys, typeName } from './values.js';

interface Spec {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  wid: number | undefined;
  prec: number | undefined;
}

const NO_FLAGS: Spec = { plus: false, minus: false, sharp: false, space: false, zero: false, wid: undefined, prec: undefined };

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) i++;
    n++;
  }
  return n;
}

function pad(s: string, f: Spec): string {
  if (f.wid === undefined) return s;
  const n = f.wid - runeCount(s);
  if (n <= 0) return s;
  if (f.minus) return s + ' '.repeat(n);
  return (f.zero ? '0' : ' ').repeat(n) + s;
}

// --- numbers ----------------------------------------------------------------

function fmtInteger(value: bigint, base: number, verb: string, f: Spec): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  let prec = 0;
  let zeroPadded = false;
  if (f.prec !== undefined) {
    prec = f.prec;
    if (prec === 0 && value === 0n) return pad('', { ...f, zero: false });
  } else if (f.zero && !f.minus && f.wid !== undefined) {
    prec = f.wid;
    if (negative || f.plus || f.space) prec--;
    zeroPadded = true;
  }
  let digits = abs.toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
  if (f.sharp) {
    if (base === 2) digits = `0b${digits}`;
    else if (base === 8 && digits[0] !== '0') digits = `0${digits}`;
    else if (base === 16) digits = (verb === 'X' ? '0X' : '0x') + digits;
  }
  if (verb === 'O') digits = `0o${digits}`;
  if (negative) digits = `-${digits}`;
  else if (f.plus) digits = `+${digits}`;
  else if (f.space) digits = ` ${digits}`;
  return zeroPadded ? digits : pad(digits, { ...f, zero: false });
}

/** Decimal digits of |v| (no leading/trailing zeros) and decimal point position: |v| = 0.DIGITS × 10^dp. */
interface Decimal { digits: string; dp: number }

function decimalFromExponential(s: string): Decimal {
  // s like "1.2345e+6" or "5e-7"
  const [mant, exp] = s.split('e') as [string, string];
  let digits = mant.replace('.', '').replace(/^-/, '');
  digits = digits.replace(/0+$/, '');
  if (digits === '') return { digits: '', dp: 0 };
  return { digits, dp: Number(exp) + 1 };
}

function shortestDecimal(v: number): Decimal {
  if (v === 0) return { digits: '', dp: 0 };
  return decimalFromExponential(Math.abs(v).toExponential());
}

function roundedDecimal(v: number, sig: number): Decimal {
  if (v === 0) return { digits: '', dp: 0 };
  return decimalFromExponential(Math.abs(v).toExponential(Math.min(Math.max(sig - 1, 0), 100)));
}

function digitAt(d: Decimal, i: number): string {
  return i >= 0 && i < d.digits.length ? d.digits[i]! : '0';
}

/** %e: d.ddd(prec digits)e±dd */
function formatE(d: Decimal, prec: number, e: string): string {
  let s = d.digits.length === 0 ? '0' : d.digits[0]!;
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += digitAt(d, i);
  }
  const exp = d.digits.length === 0 ? 0 : d.dp - 1;
  const a = Math.abs(exp);
  return `${s}${e}${exp < 0 ? '-' : '+'}${a < 10 ? '0' : ''}${a}`;
}

/** %f from a decimal: integer part, then prec fraction digits. */
function formatF(d: Decimal, prec: number): string {
  let s = '';
  if (d.dp > 0) for (let i = 0; i < d.dp; i++) s += digitAt(d, i);
  else s = '0';
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) s += digitAt(d, d.dp + i);
  }
  return s;
}

/** Go rounds %f ties to even; JS toFixed rounds them up. Fix the (exactly representable) ties. */
function toFixedGo(v: number, prec: number): string {
  const a = Math.abs(v);
  if (a >= 1e21) {
    const int = BigInt(Math.round(a)).toString();
    return prec > 0 ? `${int}.${'0'.repeat(prec)}` : int;
  }
  const scale = 10 ** prec;
  const scaled = a * scale;
  if (prec <= 15 && scaled < 2 ** 52 && scaled / scale === a && scaled - Math.floor(scaled) === 0.5) {
    const lower = Math.floor(scaled);
    const even = lower % 2 === 0 ? lower : lower + 1;
    const s = even.toString().padStart(prec + 1, '0');
    return prec > 0 ? `${s.slice(0, -prec)}.${s.slice(-prec)}` : s;
  }
  return a.toFixed(Math.min(prec, 100));
}

/** strconv.FormatFloat(v, verb, prec, 64) for |v| (sign handled by the caller). */
function formatFloatAbs(v: number, verb: string, prec: number): string {
  const upper = verb === 'E' || verb === 'G';
  const e = upper ? 'E' : 'e';
  switch (verb) {
    case 'e':
    case 'E': {
      if (prec < 0) {
        const d = shortestDecimal(v);
        return formatE(d, Math.max(d.digits.length - 1, 0), e);
      }
      return formatE(roundedDecimal(v, prec + 1), prec, e);
    }
    case 'f':
    case 'F': {
      if (prec < 0) {
        const d = shortestDecimal(v);
        return formatF(d, Math.max(d.digits.length - d.dp, 0));
      }
      return toFixedGo(v, prec);
    }
    default: {
      // 'g' / 'G'
      const shortest = prec < 0;
      let p = prec;
      if (p === 0) p = 1;
      const d = shortest ? shortestDecimal(v) : roundedDecimal(v, p);
      const nd = d.digits.length;
      if (shortest) p = nd;
      let eprec = p;
      if (eprec > nd && nd >= d.dp) eprec = nd;
      if (shortest) eprec = 6;
      const exp = nd === 0 ? 0 : d.dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (p > nd) p = nd;
        return formatE(d, Math.max(p - 1, 0), e);
      }
      if (p > d.dp) p = nd;
      return formatF(d, Math.max(p - d.dp, 0));
    }
  }
}

function fmtFloat(v: number, verb: string, defaultPrec: number, f: Spec): string {
  const prec = f.prec ?? defaultPrec;
  let num: string;
  if (Number.isNaN(v)) num = '+NaN';
  else if (!Number.isFinite(v)) num = v > 0 ? '+Inf' : '-Inf';
  else num = (v < 0 || Object.is(v, -0) ? '-' : '+') + formatFloatAbs(Math.abs(v), verb, prec);
  if (f.space && num[0] === '+' && !f.plus) num = ` ${num.slice(1)}`;
  if (num[1] === 'I' || num[1] === 'N') {
    if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
    return pad(num, { ...f, zero: false });
  }
  if (f.plus || num[0] !== '+') {
    if (f.zero && !f.minus && f.wid !== undefined && f.wid > num.length) {
      return num[0] + '0'.repeat(f.wid - num.length) + num.slice(1);
    }
    return pad(num, f);
  }
  return pad(num.slice(1), f);
}

// --- strings ----------------------------------------------------------------

function truncate(s: string, f: Spec): string {
  if (f.prec === undefined) return s;
  const chars = Array.from(s);
  return chars.length > f.prec ? chars.slice(0, f.prec).join('') : s;
}

function fmtHexString(s: string, verb: string, f: Spec): string {
  let bytes = Buffer.from(s, 'utf8');
  if (f.prec !== undefined && bytes.length > f.prec) bytes = bytes.subarray(0, f.prec);
  let hex = bytes.toString('hex');
  if (verb === 'X') hex = hex.toUpperCase();
  const prefix = f.sharp ? (verb === 'X' ? '0X' : '0x') : '';
  let out: string;
  if (f.space) out = Array.from(bytes, (_, i) => prefix + hex.slice(2 * i, 2 * i + 2)).join(' ');
  else out = bytes.length ? prefix + hex : '';
  return pad(out, f);
}

function fmtString(s: string, verb: string, f: Spec): string | undefined {
  switch (verb) {
    case 'v':
    case 's':
      return pad(truncate(s, f), f);
    case 'q': {
      const t = truncate(s, f);
      return pad(f.sharp && canBackquote(t) ? `\`${t}\`` : quote(t, f.plus), f);
    }
    case 'x':
    case 'X':
      return fmtHexString(s, verb, f);
  }
  return undefined;
}

// --- dispatch ---------------------------------------------------------------

function badVerb(arg: unknown, verb: string, f: Spec): string {
  if (isNil(arg)) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(arg)}=${printArg(arg, 'v', f)})`;
}

function toBigInt(v: number | bigint): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

/** One operand formatted with one verb (Go's pp.printArg / printValue). */
function printArg(arg: unknown, verb: string, f: Spec, depth = 0): string {
  if (verb === 'T') return pad(typeName(arg), f);
  switch (kindOf(arg)) {
    case 'nil':
      if (depth > 0) return '<nil>';
      return verb === 'v' ? pad('<nil>', f) : badVerb(arg, verb, f);
    case 'bool':
      return verb === 't' || verb === 'v' ? pad(arg ? 'true' : 'false', f) : badVerb(arg, verb, f);
    case 'int': {
      const n = toBigInt(arg as number | bigint);
      switch (verb) {
        case 'v':
        case 'd': return fmtInteger(n, 10, verb, f);
        case 'b': return fmtInteger(n, 2, verb, f);
        case 'o':
        case 'O': return fmtInteger(n, 8, verb, f);
        case 'x':
        case 'X': return fmtInteger(n, 16, verb, f);
        case 'c': return pad(String.fromCodePoint(Number(n) >= 0 && Number(n) <= 0x10ffff ? Number(n) : 0xfffd), f);
        case 'q': return pad(quoteRune(Number(n), f.plus), f);
        case 'U': {
          const cp = Number(n);
          let s = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
          if (f.sharp && cp >= 0 && cp <= 0x10ffff) s += ` '${String.fromCodePoint(cp)}'`;
          return pad(s, f);
        }
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':
          return badVerb(arg, verb, f);
      }
      return badVerb(arg, verb, f);
    }
    case 'float': {
      const v = arg as number;
      switch (verb) {
        case 'v': return fmtFloat(v, 'g', -1, f);
        case 'g':
        case 'G': return fmtFloat(v, verb, -1, f);
        case 'e':
        case 'E':
        case 'f':
        case 'F': return fmtFloat(v, verb, 6, f);
      }
      return badVerb(arg, verb, f);
    }
    case 'string':
      return fmtString(arg as string, verb, f) ?? badVerb(arg, verb, f);
    case 'slice': {
      const items = (arg as unknown[]).map((x) => printArg(x, verb, f, depth + 1));
      return `[${items.join(' ')}]`;
    }
    case 'map': {
      const m = arg as Record<string, unknown>;
      const items = mapKeys(m).map((k) => `${printArg(k, verb, f, depth + 1)}:${printArg(m[k], verb, f, depth + 1)}`);
      return `map[${items.join(' ')}]`;
    }
    case 'func':
      return verb === 'v' ? pad('<func>', f) : badVerb(arg, verb, f);
  }
}

/** fmt.Sprint of one value with %v (how an action prints its result, minus the nil case). */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  return printArg(v, 'v', NO_FLAGS);
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += printArg(arg, 'v', NO_FLAGS);
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln: always spaces between operands, and a newline. */
export function sprintln(args: unknown[]): string {
  return `${args.map((a) => printArg(a, 'v', NO_FLAGS)).join(' ')}\n`;
}

function parseNum(format: string, i: number): [number | undefined, number] {
  let n: number | undefined;
  while (i < format.length && format[i]! >= '0' && format[i]! <= '9') {
    n = (n ?? 0) * 10 + (format.charCodeAt(i) - 48);
    if (n > 1e6) return [undefined, format.length]; // absurd width: Go reports NOVERB
    i++;
  }
  return [n, i];
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let i = 0;
  const end = format.length;

  while (i < end) {
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) out += format.slice(lasti, i);
    if (i >= end) break;
    i++; // skip %

    const f: Spec = { ...NO_FLAGS };
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#': f.sharp = true; break;
        case '0': f.zero = !f.minus; break;
        case '+': f.plus = true; break;
        case '-': f.minus = true; f.zero = false; break;
        case ' ': f.space = true; break;
        default: break flags;
      }
    }

    let goodArgNum = true;
    let afterIndex = false;
    const argIndex = () => {
      if (i >= end || format[i] !== '[') return;
      reordered = true;
      const close = format.indexOf(']', i + 1);
      if (close < 0) {
        goodArgNum = false;
        return;
      }
      const n = /^[0-9]+$/.test(format.slice(i + 1, close)) ? Number(format.slice(i + 1, close)) : NaN;
      i = close + 1;
      if (!(n >= 1 && n <= args.length)) {
        goodArgNum = false;
        return;
      }
      argNum = n - 1;
      afterIndex = true;
    };
    const intArg = (): number | undefined => {
      if (argNum >= args.length) return undefined;
      const a = args[argNum++];
      return kindOf(a) === 'int' ? Number(a) : undefined;
    };

    argIndex();
    if (i < end && format[i] === '*') {
      i++;
      const w = intArg();
      // Go's fmt refuses widths beyond ±1e6 (tooLarge) the same way.
      if (w === undefined || w > 1e6 || w < -1e6) out += '%!(BADWIDTH)';
      else if (w < 0) {
        f.minus = true;
        f.zero = false;
        f.wid = -w;
      } else f.wid = w;
      afterIndex = false;
    } else {
      [f.wid, i] = parseNum(format, i);
      if (afterIndex && f.wid !== undefined) goodArgNum = false;
    }

    if (i + 1 <= end && format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      argIndex();
      if (i < end && format[i] === '*') {
        i++;
        const p = intArg();
        if (p === undefined || p > 1e6 || p < -1e6) out += '%!(BADPREC)';
        else f.prec = p < 0 ? undefined : p;
        afterIndex = false;
      } else {
        const [p, j] = parseNum(format, i);
        f.prec = p ?? 0;
        i = j;
      }
    }
    if (!afterIndex) argIndex();

    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;

    if (verb === '%') {
      out += '%';
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argNum++];
    let spec = f;
    if (verb === 'v' && f.plus) spec = { ...f, plus: false }; // %+v: Go's plusV, same output for template values
    out += printArg(arg, verb, spec);
  }

  if (!reordered && argNum < args.length) {
    const extra = args.slice(argNum).map((a) => (isNil(a) ? '<nil>' : `${typeName(a)}=${printArg(a, 'v', NO_FLAGS)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}

