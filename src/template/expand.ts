/**
 * Signer argument variables.
 *
 * GoReleaser (internal/pipe/sign/sign.go) expands them first and renders the
 * result as a Go template, so whatever a variable holds is evaluated as
 * template text. relsign does not: renderWithArgVariables (index.ts) parses
 * the template as written and applies this function to its literal text and
 * string constants only, so a substituted value is never parsed. This
 * function alone is also the whole story for a setting without `{{`.
 *
 * Syntax:
 *   $<name>            relsign only (GoReleaser leaves it as is). `name` is an argument
 *                      variable (artifact, signature, certificate, artifactID, digest,
 *                      artifactName) or an environment variable; an unknown name is an
 *                      error, so typos do not silently become "".
 *   ${name}, $name     Go's os.Expand: unknown names expand to "" (as in GoReleaser);
 *                      `$$`, `$1`, `$@` … are one-character names (usually ""), `${}` is
 *                      dropped, a `$` followed by anything else (or at the end) is kept.
 *
 * Argument variables take precedence over environment variables of the same name.
 */
import { TemplateError } from './errors.js';

function isShellSpecial(c: string): boolean {
  return '*#$@!?-0123456789'.includes(c);
}

function isAlphaNum(c: number): boolean {
  return c === 0x5f || (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/**
 * Go's os getShellName: the name after `$` and how many characters it takes
 * ("" with width > 0: bad syntax, eaten). `closeAt(i)` is the index of the
 * first "}" at or after i (or -1): the caller caches it, so a text with many
 * "${" is scanned once, not once per "${".
 */
function shellName(s: string, i: number, closeAt: (from: number) => number): [string, number] {
  const c = s[i]!;
  if (c === '{') {
    if (s.length - i > 2 && isShellSpecial(s[i + 1]!) && s[i + 2] === '}') return [s[i + 1]!, 3];
    const j = closeAt(i + 1);
    if (j < 0) return ['', 1]; // "${" without "}"
    if (j === i + 1) return ['', 2]; // "${}"
    return [s.slice(i + 1, j), j - i + 1];
  }
  if (isShellSpecial(c)) return [c, 1];
  let j = i;
  while (j < s.length && isAlphaNum(s.charCodeAt(j))) j++;
  return [s.slice(i, j), j - i];
}

/** Sticky: matched at a position without copying the rest of the text. */
const ANGLE_RE = /<([A-Za-z_][A-Za-z0-9_]*)>/y;

/**
 * Expands `$<name>`, `${name}` and `$name` in a signer argument (or stdin,
 * signature, certificate). `name` is the config path used in error messages.
 */
export function expandArgVariables(
  text: string,
  vars: Record<string, string>,
  env: Record<string, string | undefined>,
  name = 'argument',
): string {
  if (!text.includes('$')) return text;
  const lookup = (key: string): string | undefined => {
    if (Object.prototype.hasOwnProperty.call(vars, key) && vars[key] !== undefined) return vars[key];
    if (Object.prototype.hasOwnProperty.call(env, key)) return env[key];
    return undefined;
  };
  let close = -2; // cached result of closeAt; -2: not computed yet
  const closeAt = (from: number): number => {
    if (close === -1) return -1;
    if (close < from) close = text.indexOf('}', from);
    return close;
  };
  const angleAt = (at: number): RegExpExecArray | null => {
    ANGLE_RE.lastIndex = at;
    return ANGLE_RE.exec(text);
  };
  let out = '';
  let i = 0;
  for (let j = 0; j < text.length; j++) {
    if (text[j] !== '$' || j + 1 >= text.length) continue;
    out += text.slice(i, j);
    const angle = text[j + 1] === '<' ? angleAt(j + 1) : null;
    if (angle) {
      const key = angle[1]!;
      const value = lookup(key);
      if (value === undefined) {
        const known = Object.keys(vars)
          .filter((k) => vars[k] !== undefined)
          .sort()
          .map((k) => `$<${k}>`)
          .join(', ');
        throw new TemplateError(name, `unknown variable $<${key}>${known ? ` (argument variables: ${known})` : ''}`);
      }
      out += value;
      j += angle[0].length;
      i = j + 1;
      continue;
    }
    const [key, w] = shellName(text, j + 1, closeAt);
    if (key === '' && w > 0) {
      // bad syntax such as "${}": eaten
    } else if (key === '') {
      out += '$';
    } else {
      out += lookup(key) ?? '';
    }
    j += w;
    i = j + 1;
  }
  return out + text.slice(i);
}
