/**
 * Scanner for Go text/template syntax (delimiters `{{ }}` only), following
 * the token rules of Go's text/template/parse lexer: trim markers need an
 * adjacent space (`{{- ` / ` -}}`), comments must hug the delimiters
 * (`{{/* … *\/}}`, `{{- /* … *\/ -}}`), newlines are allowed inside actions.
 *
 * A scan error becomes the last token (`error`), so the parser reports the
 * first problem in source order, as Go does.
 */
import { quote } from './gostrings.js';

export type TokenType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'field'
  | 'identifier'
  | 'variable'
  | 'dot'
  | 'string'
  | 'rawString'
  | 'number'
  | 'charConstant'
  | 'complex'
  | 'bool'
  | 'nil'
  | 'char'
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'declare'
  | 'assign'
  | 'if'
  | 'else'
  | 'end'
  | 'range'
  | 'with'
  | 'break'
  | 'continue'
  | 'define'
  | 'template'
  | 'block'
  | 'eof'
  | 'error';

export interface Token {
  readonly type: TokenType;
  /** UTF-16 offset in the template text. */
  readonly pos: number;
  readonly val: string;
}

const KEYWORDS: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ['.', 'dot'],
  ['block', 'block'],
  ['break', 'break'],
  ['continue', 'continue'],
  ['define', 'define'],
  ['else', 'else'],
  ['end', 'end'],
  ['if', 'if'],
  ['range', 'range'],
  ['nil', 'nil'],
  ['template', 'template'],
  ['with', 'with'],
]);

const KEYWORD_TYPES = new Set<TokenType>(KEYWORDS.values());

/** Go's item.String(): how a token is shown in "unexpected X in Y" messages. */
export function tokenString(t: Token): string {
  if (t.type === 'eof') return 'EOF';
  if (t.type === 'error') return t.val;
  if (KEYWORD_TYPES.has(t.type)) return `<${t.val}>`;
  const chars = Array.from(t.val);
  if (chars.length > 10) return `${quote(chars.slice(0, 10).join(''))}...`;
  return quote(t.val);
}

const LEFT = '{{';
const RIGHT = '}}';

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

const ALNUM_RE = /[\p{L}\p{Nd}_]/u;
function isAlphaNumericAt(s: string, i: number): boolean {
  if (i >= s.length) return false;
  const c = s.charCodeAt(i);
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f) return true;
  if (c < 0x80) return false;
  const cp = s.codePointAt(i)!;
  return ALNUM_RE.test(String.fromCodePoint(cp));
}
function charLen(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
}

function hasLeftTrimMarker(s: string, i: number): boolean {
  return s.charCodeAt(i) === 0x2d /* - */ && i + 1 < s.length && isSpace(s.charCodeAt(i + 1));
}
function hasRightTrimMarker(s: string, i: number): boolean {
  return i + 1 < s.length && isSpace(s.charCodeAt(i)) && s.charCodeAt(i + 1) === 0x2d;
}

function rightTrimLength(s: string): number {
  let n = s.length;
  while (n > 0 && isSpace(s.charCodeAt(n - 1))) n--;
  return s.length - n;
}

export function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let start = 0;
  let parenDepth = 0;

  const emit = (type: TokenType) => {
    tokens.push({ type, pos: start, val: input.slice(start, pos) });
    start = pos;
  };
  const fail = (message: string) => {
    tokens.push({ type: 'error', pos: start, val: message });
  };
  const atRightDelim = (): { delim: boolean; trim: boolean } => {
    if (hasRightTrimMarker(input, pos) && input.startsWith(RIGHT, pos + 2)) return { delim: true, trim: true };
    if (input.startsWith(RIGHT, pos)) return { delim: true, trim: false };
    return { delim: false, trim: false };
  };
  const atTerminator = (): boolean => {
    if (pos >= input.length) return true;
    const c = input.charCodeAt(pos);
    if (isSpace(c)) return true;
    switch (c) {
      case 0x2e: case 0x2c: case 0x7c: case 0x3a: case 0x29: case 0x28: // . , | : ) (
        return true;
      case 0x7d: // first rune of the right delimiter
        return true;
    }
    return false;
  };

  // Returns false when scanning stopped (EOF or error).
  const lexText = (): boolean => {
    const x = input.indexOf(LEFT, pos);
    if (x < 0) {
      pos = input.length;
      if (pos > start) emit('text');
      emit('eof');
      return false;
    }
    pos = x;
    let trim = 0;
    if (hasLeftTrimMarker(input, pos + LEFT.length)) trim = rightTrimLength(input.slice(start, pos));
    pos -= trim;
    if (pos > start) emit('text');
    pos += trim;
    start = pos;
    return lexLeftDelim();
  };

  const lexLeftDelim = (): boolean => {
    pos += LEFT.length;
    const trim = hasLeftTrimMarker(input, pos);
    const after = trim ? 2 : 0;
    if (input.startsWith('/*', pos + after)) {
      pos += after;
      start = pos;
      return lexComment();
    }
    emit('leftDelim');
    pos += after;
    start = pos;
    parenDepth = 0;
    return lexInsideAction();
  };

  const lexComment = (): boolean => {
    pos += 2;
    const x = input.indexOf('*/', pos);
    if (x < 0) {
      fail('unclosed comment');
      return false;
    }
    pos = x + 2;
    const { delim, trim } = atRightDelim();
    if (!delim) {
      fail('comment ends before closing delimiter');
      return false;
    }
    if (trim) pos += 2;
    pos += RIGHT.length;
    if (trim) while (pos < input.length && isSpace(input.charCodeAt(pos))) pos++;
    start = pos;
    return true;
  };

  const lexRightDelim = (trim: boolean): boolean => {
    if (trim) {
      pos += 2;
      start = pos;
    }
    pos += RIGHT.length;
    emit('rightDelim');
    if (trim) {
      while (pos < input.length && isSpace(input.charCodeAt(pos))) pos++;
      start = pos;
    }
    return true;
  };

  const lexFieldOrVariable = (type: 'field' | 'variable'): boolean => {
    if (atTerminator()) {
      emit(type === 'variable' ? 'variable' : 'dot');
      return true;
    }
    while (isAlphaNumericAt(input, pos)) pos += charLen(input, pos);
    if (!atTerminator()) {
      const bad = input.codePointAt(pos);
      fail(`bad character ${goRuneU(bad)}`);
      return false;
    }
    emit(type);
    return true;
  };

  const scanNumber = (): boolean => {
    const accept = (valid: string) => {
      if (pos < input.length && valid.includes(input[pos]!)) {
        pos++;
        return true;
      }
      return false;
    };
    const acceptRun = (valid: string) => {
      while (pos < input.length && valid.includes(input[pos]!)) pos++;
    };
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    if (isAlphaNumericAt(input, pos)) {
      pos += charLen(input, pos);
      return false;
    }
    return true;
  };

  const lexNumber = (): boolean => {
    if (!scanNumber()) {
      fail(`bad number syntax: ${quote(input.slice(start, pos))}`);
      return false;
    }
    const sign = input[pos];
    if (sign === '+' || sign === '-') {
      if (!scanNumber() || input[pos - 1] !== 'i') {
        fail(`bad number syntax: ${quote(input.slice(start, pos))}`);
        return false;
      }
      emit('complex');
    } else {
      emit('number');
    }
    return true;
  };

  const lexQuoted = (q: string, type: TokenType, what: string): boolean => {
    for (;;) {
      if (pos >= input.length) {
        fail(`unterminated ${what}`);
        return false;
      }
      const ch = input[pos++]!;
      if (ch === '\\') {
        if (pos >= input.length || input[pos] === '\n') {
          fail(`unterminated ${what}`);
          return false;
        }
        pos += charLen(input, pos);
      } else if (ch === '\n') {
        fail(`unterminated ${what}`);
        return false;
      } else if (ch === q) {
        break;
      }
    }
    emit(type);
    return true;
  };

  const lexRawQuote = (): boolean => {
    const x = input.indexOf('`', pos);
    if (x < 0) {
      fail('unterminated raw quoted string');
      return false;
    }
    pos = x + 1;
    emit('rawString');
    return true;
  };

  const lexIdentifier = (): boolean => {
    while (isAlphaNumericAt(input, pos)) pos += charLen(input, pos);
    if (!atTerminator()) {
      fail(`bad character ${goRuneU(input.codePointAt(pos))}`);
      return false;
    }
    const word = input.slice(start, pos);
    const kw = KEYWORDS.get(word);
    if (kw) emit(kw);
    else if (word === 'true' || word === 'false') emit('bool');
    else emit('identifier');
    return true;
  };

  // Scans the inside of one action, up to and including its right delimiter.
  const lexInsideAction = (): boolean => {
    for (;;) {
      const { delim, trim } = atRightDelim();
      if (delim) {
        if (parenDepth === 0) return lexRightDelim(trim);
        fail('unclosed left paren');
        return false;
      }
      if (pos >= input.length) {
        fail('unclosed action');
        return false;
      }
      const c = input.charCodeAt(pos);
      if (isSpace(c)) {
        let n = 0;
        while (pos < input.length && isSpace(input.charCodeAt(pos))) {
          pos++;
          n++;
        }
        // A trim-marked right delimiter: " -}}" — the space belongs to it.
        if (hasRightTrimMarker(input, pos - 1) && input.startsWith(RIGHT, pos + 1)) {
          pos--;
          if (n === 1) continue;
        }
        emit('space');
        continue;
      }
      const at = pos;
      pos += charLen(input, at);
      switch (c) {
        case 0x3d: // =
          emit('assign');
          continue;
        case 0x3a: // :
          if (input[pos] !== '=') {
            fail('expected :=');
            return false;
          }
          pos++;
          emit('declare');
          continue;
        case 0x7c: // |
          emit('pipe');
          continue;
        case 0x22: // "
          if (!lexQuoted('"', 'string', 'quoted string')) return false;
          continue;
        case 0x60: // `
          if (!lexRawQuote()) return false;
          continue;
        case 0x24: // $
          if (atTerminator()) {
            emit('variable');
            continue;
          }
          if (!lexFieldOrVariable('variable')) return false;
          continue;
        case 0x27: // '
          if (!lexQuoted("'", 'charConstant', 'character constant')) return false;
          continue;
        case 0x28: // (
          emit('leftParen');
          parenDepth++;
          continue;
        case 0x29: // )
          emit('rightParen');
          parenDepth--;
          if (parenDepth < 0) {
            fail(`unexpected right paren ${goRuneU(0x29)}`);
            return false;
          }
          continue;
      }
      if (c === 0x2e) {
        // ".field", or "." starting a number like .5
        const next = input.charCodeAt(pos);
        if (pos >= input.length || next < 0x30 || next > 0x39) {
          if (!lexFieldOrVariable('field')) return false;
          continue;
        }
        pos--;
        if (!lexNumber()) return false;
        continue;
      }
      if (c === 0x2b || c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        pos--;
        if (!lexNumber()) return false;
        continue;
      }
      if (isAlphaNumericAt(input, at)) {
        pos = at;
        if (!lexIdentifier()) return false;
        continue;
      }
      if (c < 0x80 && c >= 0x20 && c !== 0x7f) {
        emit('char');
        continue;
      }
      fail(`unrecognized character in action: ${goRuneU(input.codePointAt(at))}`);
      return false;
    }
  };

  while (lexText()) {
    /* next text/action */
  }
  return tokens;
}

/** Go's %#U: U+0041 'A'. */
function goRuneU(cp: number | undefined): string {
  if (cp === undefined) return 'U+FFFFFFFF';
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  const printable = cp >= 0x20 && cp !== 0x7f && !(cp >= 0x80 && cp < 0xa0);
  return printable ? `U+${hex} '${String.fromCodePoint(cp)}'` : `U+${hex}`;
}
