/**
 * Keeps secret values out of logs and error messages. Stages register every
 * value they learn is secret (passwords, tokens, stdin given to signers, env
 * values whose names look secret); the logger and the CLI error printer pass
 * all text through `redact`.
 */
const SECRET_NAME = /(PASSWORD|PASSWD|TOKEN|SECRET|KEY|PASSPHRASE|CREDENTIAL)/i;
const SECRET_VALUE_PREFIXES = ['ghp_', 'ghs_', 'gho_', 'ghu_', 'github_pat_', 'glpat-', 'dckr_pat_', 'sk-', 'xox'];

export function looksLikeSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export class Redactor {
  private readonly secrets = new Set<string>();
  /** Longest first, so a secret containing another is replaced whole; rebuilt only after add(). */
  private ordered: string[] | undefined;

  /** Values shorter than 3 chars are not tracked: redacting them would mangle ordinary text. */
  add(value: string | undefined | null): void {
    if (!value) return;
    const v = String(value);
    if (v.length < 3) return;
    this.ordered = undefined;
    this.secrets.add(v);
    // Also hide each line of a multi-line secret (a PEM key printed partially).
    for (const line of v.split(/\r?\n/)) if (line.trim().length >= 8) this.secrets.add(line.trim());
  }

  /** Registers the values of environment variables whose names or values look secret. */
  addFromEnv(env: Record<string, string | undefined>): void {
    for (const [name, value] of Object.entries(env)) {
      if (!value) continue;
      if (looksLikeSecretName(name) || SECRET_VALUE_PREFIXES.some((p) => value.startsWith(p))) this.add(value);
    }
  }

  redact(text: string): string {
    if (this.secrets.size === 0 || !text) return text;
    this.ordered ??= [...this.secrets].sort((a, b) => b.length - a.length);
    let out = text;
    for (const s of this.ordered) if (out.includes(s)) out = out.split(s).join('[REDACTED]');
    return out;
  }
}
