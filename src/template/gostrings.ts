/**
 * Go string semantics the template functions rely on: strings.ToLower/ToUpper
 * (simple per-rune case mapping), strings.TrimSpace (unicode.IsSpace),
 * strconv.Quote, and x/text/cases.Title(language.English).
 */

const PRINT_RE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space. */
export function isPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  return PRINT_RE.test(String.fromCodePoint(cp));
}

const HEX = '0123456789abcdef';
function hexDigits(v: number, n: number): string {
  let s = '';
  for (let shift = (n - 1) * 4; shift >= 0; shift -= 4) s += HEX[Math.floor(v / 2 ** shift) & 0xf];
  return s;
}

function escapeRune(cp: number, quote: number, asciiOnly: boolean): string {
  if (cp === quote || cp === 0x5c) return `\\${String.fromCodePoint(cp)}`;
  if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) return String.fromCodePoint(cp);
  switch (cp) {
    case 0x07: return '\\a';
    case 0x08: return '\\b';
    case 0x0c: return '\\f';
    case 0x0a: return '\\n';
    case 0x0d: return '\\r';
    case 0x09: return '\\t';
    case 0x0b: return '\\v';
  }
  if (cp < 0x20 || cp === 0x7f) return `\\x${hexDigits(cp, 2)}`;
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  if (cp < 0x10000) return `\\u${hexDigits(cp, 4)}`;
  return `\\U${hexDigits(cp, 8)}`;
}

/** strconv.Quote (or QuoteToASCII). */
export function quote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += escapeRune(ch.codePointAt(0)!, 0x22, asciiOnly);
  return `${out}"`;
}

/** strconv.QuoteRune (or QuoteRuneToASCII). */
export function quoteRune(cp: number, asciiOnly = false): string {
  if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  return `'${escapeRune(cp, 0x27, asciiOnly)}'`;
}

/** strconv.CanBackquote. */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x60 || cp === 0xfeff) return false;
    if (cp < 0x20 && cp !== 0x09) return false;
    if (cp === 0x7f) return false;
  }
  return true;
}

const SPACE_RE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** strings.TrimSpace (unicode.IsSpace; unlike String.prototype.trim, keeps U+FEFF and trims U+0085). */
export function trimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && SPACE_RE.test(s[a]!)) a++;
  while (b > a && SPACE_RE.test(s[b - 1]!)) b--;
  return s.slice(a, b);
}

function simpleMap(s: string, ascii: (s: string) => string, full: (ch: string) => string): string {
  // Fast path: ASCII only.
  if (/^[\x00-\x7f]*$/.test(s)) return ascii(s);
  let out = '';
  for (const ch of s) {
    const m = full(ch);
    // Go's unicode.ToUpper/ToLower are simple 1:1 mappings; a multi-rune
    // full mapping (ß → SS, ŉ → ʼN) means "no simple mapping".
    out += m.length === ch.length || Array.from(m).length === 1 ? m : ch;
  }
  return out;
}

/** strings.ToLower. */
export function toLower(s: string): string {
  return simpleMap(s, (x) => x.toLowerCase(), (ch) => (ch === '\u0130' ? 'i' : ch.toLowerCase()));
}

/** strings.ToUpper. */
export function toUpper(s: string): string {
  return simpleMap(s, (x) => x.toUpperCase(), (ch) => ch.toUpperCase());
}

// --- cases.Title(language.English) ------------------------------------------

const CASED_RE = /^\p{Cased}$/u;
const CASE_IGNORABLE_RE = /^\p{Case_Ignorable}$/u;
/** Word-break "Letter" group of x/text/cases: ALetter, Hebrew_Letter, Numeric, ExtendNumLet, Extend (no break). */
const LETTERISH_RE = /^[\p{L}\p{N}\p{M}\p{Pc}]$/u;
/** Word-break Mid group: MidLetter, MidNumLet, Single_Quote, Format. */
const MID_RE = /^['.:\u00b7\u0387\u055f\u05f4\u2018\u2019\u2024\u2027\ufe13\ufe52\ufe55\uff07\uff0e\uff1a\p{Cf}]$/u;

function isCased(ch: string): boolean {
  return CASED_RE.test(ch);
}
function isMid(ch: string): boolean {
  return !isCased(ch) && MID_RE.test(ch) && (CASE_IGNORABLE_RE.test(ch) || ch === "'");
}
function isBreak(ch: string): boolean {
  return !isCased(ch) && !LETTERISH_RE.test(ch) && !MID_RE.test(ch);
}

const TITLE_DIGRAPHS: Record<string, string> = {
  '\u01c4': '\u01c5', '\u01c5': '\u01c5', '\u01c6': '\u01c5',
  '\u01c7': '\u01c8', '\u01c8': '\u01c8', '\u01c9': '\u01c8',
  '\u01ca': '\u01cb', '\u01cb': '\u01cb', '\u01cc': '\u01cb',
  '\u01f1': '\u01f2', '\u01f2': '\u01f2', '\u01f3': '\u01f2',
};

function titleRune(ch: string): string {
  const d = TITLE_DIGRAPHS[ch];
  if (d) return d;
  const up = ch.toUpperCase();
  const cps = Array.from(up);
  // Full title mapping of ligatures and ß: first letter upper, the rest lower (ß → Ss, ﬁ → Fi).
  return cps.length > 1 ? cps[0]! + cps.slice(1).join('').toLowerCase() : up;
}

/**
 * x/text/cases.Title(language.English).String: the first cased letter of
 * each word is title-cased and the rest of the word lower-cased. Words are
 * split the way x/text approximates Unicode word breaking: letters, digits
 * and `_` never break; `'`, `.`, `:` keep a word together unless doubled;
 * anything else (space, `-`, `/`, `,` …) starts a new word.
 */
export function title(s: string): string {
  const chars = Array.from(s);
  let out = '';
  let midWord = false;
  let prevMid = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const mid = isMid(ch);
    if (i > 0 && prevMid && mid) midWord = false;
    if (isCased(ch)) {
      if (!midWord) {
        out += titleRune(ch);
        midWord = true;
      } else if (ch === '\u03a3') {
        out += finalSigma(chars, i) ? '\u03c2' : '\u03c3';
      } else {
        out += ch.toLowerCase();
      }
    } else {
      out += ch;
      if (isBreak(ch)) midWord = false;
    }
    prevMid = mid;
  }
  return out;
}

/** Σ lowers to ς at the end of a word (no cased letter follows, skipping case-ignorables). */
function finalSigma(chars: string[], i: number): boolean {
  for (let j = i + 1; j < chars.length; j++) {
    const c = chars[j]!;
    if (isCased(c)) return false;
    if (!CASE_IGNORABLE_RE.test(c)) return true;
  }
  return true;
}
