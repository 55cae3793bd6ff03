import { RelsignError } from '../util/errors.js';
import { checkTextSize, MAX_KEY_BYTES } from './limits.js';

/** One decoded PEM block, as Go's `pem.Decode` returns it. */
export interface PemBlock {
  type: string;
  /** RFC 1421 headers (e.g. `Proc-Type: 4,ENCRYPTED`); usually empty. */
  headers: Record<string, string>;
  bytes: Buffer;
}

const BEGIN = /-----BEGIN ([^-\r\n]+)-----/;

/** 0–63 for the standard base64 alphabet, -1 for anything else (ASCII only). */
const B64_VALUE = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) B64_VALUE[c.charCodeAt(0)] = i;
const PAD = 0x3d; // '='

/** The characters JavaScript's `\s` matches (what earlier versions skipped), tested without a regex. */
function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/**
 * Decodes standard base64 strictly: whitespace is ignored, anything else that is
 * not in the alphabet (or wrong padding) is an error. `Buffer.from(s, 'base64')`
 * silently skips bad characters, which would turn corruption into a confusing
 * "wrong password" later.
 *
 * One pass over the text, no regex: time is linear and the stack does not grow
 * with the input, whatever its size.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  let symbols = 0;
  let padding = 0;
  let spaces = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && B64_VALUE[c]! >= 0) {
      if (padding > 0) return undefined; // data after '='
      symbols++;
    } else if (c === PAD) {
      if (++padding > 2) return undefined;
      symbols++;
    } else if (isSpace(c)) {
      spaces++;
    } else {
      return undefined;
    }
  }
  // Padded groups of four only, as Go's StdEncoding (and cosign) require.
  if (symbols % 4 !== 0) return undefined;
  const compact = spaces === 0 ? text : stripSpaces(text);
  return Buffer.from(compact, 'base64');
}

function stripSpaces(text: string): string {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (isSpace(text.charCodeAt(i))) {
      if (i > start) parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (start < text.length) parts.push(text.slice(start));
  return parts.join('');
}

/**
 * Decodes the first PEM block in `text`. `source` names the input in errors
 * (a file basename or `env://VAR`); no key material is ever put in a message.
 * Key PEMs are small: text over `maxBytes` (64 KiB by default) is refused unread.
 */
export function decodePem(text: string, source: string, maxBytes = MAX_KEY_BYTES): PemBlock {
  checkTextSize(text, maxBytes, source, 'a PEM key');
  const begin = BEGIN.exec(text);
  if (!begin) throw new RelsignError(`${source}: not a PEM file (no "-----BEGIN" line)`);
  const type = begin[1]!.trim();
  const afterBegin = begin.index + begin[0].length;
  const endMarker = `-----END ${type}-----`;
  const endAt = text.indexOf(endMarker, afterBegin);
  if (endAt < 0) throw new RelsignError(`${source}: truncated PEM: no "${endMarker}" line`);
  const lines = text.slice(afterBegin, endAt).split(/\r?\n/);
  const headers: Record<string, string> = {};
  let i = 0;
  // Headers come first, then an empty line (RFC 1421); Go accepts them without the blank line too.
  while (i < lines.length && (lines[i]!.trim() === '' || /^[A-Za-z0-9-]+:/.test(lines[i]!))) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    i++;
  }
  const body = lines.slice(i).join('');
  const bytes = decodeBase64Strict(body);
  if (!bytes) throw new RelsignError(`${source}: malformed PEM: the "${type}" block is not valid base64`);
  if (bytes.length === 0) throw new RelsignError(`${source}: malformed PEM: the "${type}" block is empty`);
  return { type, headers, bytes };
}

/** Encodes like Go's `pem.EncodeToMemory`: 64-character lines, LF, trailing newline. */
export function encodePem(type: string, bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}
