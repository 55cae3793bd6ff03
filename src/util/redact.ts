/**
 * Keeps secret values out of logs, error messages and files relsign writes.
 * Stages register every value they learn is secret (passwords, tokens, stdin
 * given to signers, values of secret config settings, env values whose names
 * look secret); the logger, the CLI error printer and the metadata writer pass
 * all text through `redact`. See docs/signs.md ("Secrets in logs").
 *
 * Which environment names are secret (case-insensitive):
 *   - any name containing TOKEN, SECRET, PASSWORD, PASSWD, PASSPHRASE or
 *     CREDENTIAL (GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, COSIGN_PASSWORD);
 *   - any name with a `_`/`-`/`.`-separated component equal to PAT, PWD, PASS,
 *     AUTH, KEY, APIKEY, PRIVATEKEY or ACCESSKEY (GH_PAT, COSIGN_PWD,
 *     MY_DEPLOY_PASS, NPM_AUTH, COSIGN_KEY). Short words count only as whole
 *     components, so PATH, KEYBOARD, AUTHOR or PASSAGE are not secret;
 *   - except PWD and OLDPWD themselves, the shell's working directories.
 */
const SECRET_SUBSTRINGS = ['TOKEN', 'SECRET', 'PASSWORD', 'PASSWD', 'PASSPHRASE', 'CREDENTIAL'];
const SECRET_COMPONENTS = new Set(['PAT', 'PWD', 'PASS', 'AUTH', 'KEY', 'APIKEY', 'PRIVATEKEY', 'ACCESSKEY']);
const NOT_SECRET = new Set(['PWD', 'OLDPWD']);
const SECRET_VALUE_PREFIXES = ['ghp_', 'ghs_', 'gho_', 'ghu_', 'github_pat_', 'glpat-', 'dckr_pat_', 'sk-', 'xox'];

/**
 * Secrets shorter than this are not searched for in text: replacing every
 * "abc" would mangle ordinary output. They are still hidden where relsign
 * knows a value is secret (config.yaml fields, signer stdin).
 */
export const MIN_REDACTED_LENGTH = 4;
/**
 * Secrets shorter than this (but at least MIN_REDACTED_LENGTH) are replaced
 * only where they stand as a whole word (not between letters or digits), so
 * a short password such as `hello` does not turn "othello" into "ot[REDACTED]".
 */
export const WHOLE_WORD_BELOW = 8;

const MASK = '[REDACTED]';

export function looksLikeSecretName(name: string): boolean {
  const upper = name.toUpperCase();
  if (NOT_SECRET.has(upper)) return false;
  if (SECRET_SUBSTRINGS.some((w) => upper.includes(w))) return true;
  return upper.split(/[_.-]+/).some((c) => SECRET_COMPONENTS.has(c));
}

export function looksLikeSecretValue(value: string): boolean {
  return SECRET_VALUE_PREFIXES.some((p) => value.startsWith(p));
}

function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c > 0x7f;
}

export class Redactor {
  private readonly secrets = new Set<string>();
  /** Longest first, so a secret containing another is replaced whole; rebuilt only after add(). */
  private ordered: string[] | undefined;

  /**
   * Registers a secret value, and the forms it takes once encoded (JSON string
   * escapes, URL encoding), so that text built from it is caught too.
   */
  add(value: string | undefined | null): void {
    if (!value) return;
    const v = String(value);
    for (const form of [v, JSON.stringify(v).slice(1, -1), safeEncodeURIComponent(v)]) {
      if (form.length >= MIN_REDACTED_LENGTH && !this.secrets.has(form)) {
        this.secrets.add(form);
        this.ordered = undefined;
      }
    }
    // Also hide each line of a multi-line secret (a PEM key printed partially).
    if (v.includes('\n')) {
      for (const line of v.split(/\r?\n/)) {
        const t = line.trim();
        if (t.length >= 8 && !this.secrets.has(t)) {
          this.secrets.add(t);
          this.ordered = undefined;
        }
      }
    }
  }

  /** Registers the values of environment variables whose names or values look secret. */
  addFromEnv(env: Record<string, string | undefined>): void {
    for (const [name, value] of Object.entries(env)) this.addEnv(name, value);
  }

  /** Registers one environment entry's value if its name or value looks secret. */
  addEnv(name: string, value: string | undefined): void {
    if (!value) return;
    if (looksLikeSecretName(name) || looksLikeSecretValue(value)) this.add(value);
  }

  /** Whether `value` is a registered secret. */
  has(value: string): boolean {
    return this.secrets.has(value);
  }

  redact(text: string): string {
    if (this.secrets.size === 0 || !text) return text;
    this.ordered ??= [...this.secrets].sort((a, b) => b.length - a.length);
    let out = text;
    for (const s of this.ordered) {
      if (!out.includes(s)) continue;
      out = s.length >= WHOLE_WORD_BELOW ? out.split(s).join(MASK) : replaceWholeWords(out, s);
    }
    return out;
  }

  /** Redacts every string inside a JSON-like value (for structured log fields). */
  redactValue(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (depth > 20 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.redactValue(v, depth + 1));
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, this.redactValue(v, depth + 1)]));
  }
}

/** Replaces `s` where it is not between word characters (linear: one indexOf scan). */
function replaceWholeWords(text: string, s: string): string {
  let out = '';
  let from = 0;
  for (let i = text.indexOf(s); i >= 0; i = text.indexOf(s, i + 1)) {
    if (i < from) continue;
    const before = i > 0 && isWordChar(text.charCodeAt(i - 1)) && isWordChar(s.charCodeAt(0));
    const after = i + s.length < text.length && isWordChar(text.charCodeAt(i + s.length)) && isWordChar(s.charCodeAt(s.length - 1));
    if (before || after) continue;
    out += text.slice(from, i) + MASK;
    from = i + s.length;
  }
  return out + text.slice(from);
}

function safeEncodeURIComponent(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return v; // lone surrogate: no URL form
  }
}
