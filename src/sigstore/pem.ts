import { RelsignError } from '../util/errors.js';

/** One decoded PEM block, as Go's `pem.Decode` returns it. */
export interface PemBlock {
  type: string;
  /** RFC 1421 headers (e.g. `Proc-Type: 4,ENCRYPTED`); usually empty. */
  headers: Record<string, string>;
  bytes: Buffer;
}

const BEGIN = /-----BEGIN ([^-\r\n]+)-----/;
const STRICT_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes standard base64 strictly: whitespace is ignored, anything else that is
 * not in the alphabet (or wrong padding) is an error. `Buffer.from(s, 'base64')`
 * silently skips bad characters, which would turn corruption into a confusing
 * "wrong password" later.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const compact = text.replace(/[\s]+/g, '');
  if (!STRICT_B64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

/**
 * Decodes the first PEM block in `text`. `source` names the input in errors
 * (a file basename or `env://VAR`); no key material is ever put in a message.
 */
export function decodePem(text: string, source: string): PemBlock {
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
