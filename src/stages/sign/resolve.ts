import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { SignConfig } from '../../config/types.js';
import type { Artifact } from '../../pipeline/artifacts.js';
import type { Context } from '../../pipeline/context.js';
import { asUserError, templateData } from '../../pipeline/template-data.js';
import { renderWithArgVariables } from '../../template/index.js';
import { RelsignError } from '../../util/errors.js';

/**
 * Per-artifact resolution shared by both signers: each setting is a Go
 * template whose literal text may hold argument variables ($<artifact>,
 * ${artifact}, $VAR). Their values are substituted as values, never rendered
 * (GoReleaser expands them first and renders the result, so a tag holding
 * `{{ .Env.GITHUB_TOKEN }}` would be evaluated; see docs/templates.md).
 */
/** The argument variables every signer sees for an artifact (GoReleaser's names). */
export function argumentVars(artifact: Artifact): Record<string, string> {
  return {
    artifact: artifact.path,
    artifactName: artifact.name,
    artifactID: artifact.id ?? '',
    digest: typeof artifact.extra.digest === 'string' ? artifact.extra.digest : '',
  };
}

export class SignResolver {
  readonly vars: Record<string, string>;
  readonly env: Record<string, string>;

  constructor(
    private readonly ctx: Context,
    private readonly cfg: SignConfig,
    private readonly where: string,
    readonly artifact: Artifact,
  ) {
    this.vars = argumentVars(artifact);
    // The entry's env sees the whole environment and the entries before it
    // (GoReleaser only shows the earlier entries: a quirk we do not copy).
    const env: Record<string, string> = { ...ctx.env, ...this.vars };
    cfg.env.forEach((entry, i) => {
      const eq = entry.indexOf('=');
      env[entry.slice(0, eq)] = this.apply(entry.slice(eq + 1), `env[${i}]`, env);
    });
    this.env = env;
    this.vars.signature = cfg.signature ? this.distPath(this.apply(cfg.signature, 'signature'), 'signature') : '';
    this.vars.certificate = cfg.certificate ? this.distPath(this.apply(cfg.certificate, 'certificate'), 'certificate') : '';
    Object.assign(this.env, { signature: this.vars.signature, certificate: this.vars.certificate });
  }

  /** Render the Go template with argument variables substituted as values; errors name the config field. */
  apply(text: string, field: string, env: Record<string, string> = this.env, vars = this.vars): string {
    const name = `${this.where}.${field}`;
    return asUserError(() => renderWithArgVariables(text, templateData(this.ctx, { artifact: this.artifact, env }), vars, env, { name }));
  }

  /**
   * The asset name: the same template evaluated with the artifact's *name*
   * in place of its path (GoReleaser's second evaluation), so `dist/a/b`
   * signs as `b_1.0_linux_amd64.sig`, not a path.
   */
  uploadName(template: string, field: string): string {
    const vars = { ...this.vars, artifact: this.artifact.name };
    const env = { ...this.env, artifact: this.artifact.name };
    const out = this.apply(template, field, env, vars);
    return out.split(/[\\/]/).pop() ?? out;
  }

  /** Renders an output template (signature, certificate, bundle) to a path inside dist. */
  outputPath(template: string, field: string): string {
    return this.distPath(this.apply(template, field), field);
  }

  /** Relative results land in dist (GoReleaser PR #2680); nothing may escape it. */
  private distPath(rendered: string, field: string): string {
    const dist = resolve(this.ctx.distDir);
    const abs = isAbsolute(rendered) ? resolve(rendered) : resolve(this.ctx.cwd, rendered);
    const inside = (p: string) => p === dist || p.startsWith(dist + sep);
    const target = inside(abs) ? abs : resolve(join(dist, rendered));
    if (!inside(target) || target === dist) {
      throw new RelsignError(`${this.where}.${field}: ${JSON.stringify(rendered)} is outside the dist folder`);
    }
    return relative(this.ctx.cwd, target) || target;
  }
}
