import { basename, resolve } from 'node:path';
import type { SignConfig } from '../../config/types.js';
import type { Artifact } from '../../pipeline/artifacts.js';
import type { Context } from '../../pipeline/context.js';
import type { Stage } from '../../pipeline/stage.js';
import { asUserError, templateData } from '../../pipeline/template-data.js';
import { toLower, trimSpace } from '../../template/gostrings.js';
import { renderWithArgVariables } from '../../template/index.js';
import { mapLimit } from '../../util/concurrency.js';
import { BuiltinSigners } from './builtin.js';
import { recordSignatureCheck, type SignatureVerifier } from './checks.js';
import { signWithCommand, type SignOutputs } from './cmd.js';
import { cosignInProcess, signWithCosignInProcess } from './cosign.js';
import { argumentVars, SignResolver } from './resolve.js';
import { selectArtifacts } from './select.js';

/**
 * `signs`: sign every selected artifact. Runs after checksums, so a checksum
 * file is final before it is signed; the signatures it produces are never
 * checksummed or signed themselves (the selections exclude their types).
 */
export const signStage: Stage = {
  name: 'sign',
  description: 'signing artifacts',
  skip: (ctx) =>
    ctx.options.skip.has('sign') ? '--skip sign' : ctx.config.signs.length === 0 ? 'no signs configured' : false,
  run: (ctx) => runSigns(ctx, ctx.config.signs, 'signs', false),
};

/** `docker_signs`: the same machinery for pushed images (${artifact} = reference, ${digest}). */
export const dockerSignStage: Stage = {
  name: 'docker_sign',
  description: 'signing images',
  skip: (ctx) =>
    ctx.options.skip.has('sign')
      ? '--skip sign'
      : ctx.options.skip.has('docker')
        ? '--skip docker'
        : ctx.config.docker_signs.length === 0
          ? 'no docker_signs configured'
          : false,
  run: (ctx) => runSigns(ctx, ctx.config.docker_signs, 'docker_signs', true),
};

async function runSigns(ctx: Context, entries: SignConfig[], section: string, docker: boolean): Promise<void> {
  const builtin = new BuiltinSigners(ctx);
  // Entries run one after another (their outputs are registered between them);
  // within an entry, artifacts are signed concurrently.
  for (const [i, cfg] of entries.entries()) {
    const where = `${section}[${i}]`;
    if (cfg.artifacts === 'none') {
      const raw = (ctx.rawConfig?.[section] as Array<Record<string, unknown>> | undefined)?.[i];
      if (raw && typeof raw === 'object' && raw.artifacts === undefined) {
        ctx.log.warn(`${where}: no artifacts: set, so nothing is signed (GoReleaser's default is none); set artifacts: all, checksum, archive…`);
      } else ctx.log.debug(`${where}: artifacts: none, skipped`);
      continue;
    }
    let selected = selectArtifacts(ctx, cfg, where, docker).filter((a) => passesIf(ctx, cfg, where, a));
    if (docker) {
      // Only what is in a registry can be signed there (--snapshot builds images without pushing).
      const unpushed = selected.filter((a) => a.extra.pushed === false);
      if (unpushed.length > 0) {
        ctx.log.info(`  ${where}: ${unpushed.length} image(s) not pushed, not signed: ${unpushed.map((a) => a.path).join(', ')}`);
        selected = selected.filter((a) => a.extra.pushed !== false);
        if (selected.length === 0) continue;
      }
    }
    if (selected.length === 0) {
      ctx.log.warn(`${where}: no artifacts matching artifacts: ${cfg.artifacts ?? (docker ? 'manifests or images' : 'none')}${cfg.ids.length ? ` and ids: ${cfg.ids.join(',')}` : ''}`);
      continue;
    }
    const limit = Math.max(1, Math.min(cfg.parallelism ?? ctx.options.parallelism, ctx.options.parallelism));
    const inProcess = await cosignInProcess(ctx, cfg);
    if (inProcess) {
      ctx.log.info(
        `  ${where}: ${cfg.cosign === 'builtin' ? 'cosign: builtin' : 'no cosign on PATH'}; running the cosign command in-process with relsign's built-in cosign (signer: builtin)`,
      );
    }
    const results = await mapLimit(selected, limit, async (artifact) => {
      const r = new SignResolver(ctx, cfg, where, artifact);
      if (inProcess) {
        const { image, ...outputs } = await signWithCosignInProcess(ctx, cfg, where, r, builtin, docker);
        ctx.log.info(`  signed ${docker ? `${artifact.path}@${r.vars.digest}${image ?? ''}` : `${artifact.name}${describeOutputs(outputs)}`}`);
        return { artifact, resolver: r, outputs: docker ? ({} as SignOutputs) : (outputs as SignOutputs & { publicKeyPem?: string }) };
      }
      if (docker && cfg.signer !== 'cmd') {
        const { signImageBuiltin, describeImageSignature } = await import('./image.js');
        const stored = await signImageBuiltin(ctx, cfg, where, r, builtin);
        ctx.log.info(`  signed ${artifact.path}@${r.vars.digest}${describeImageSignature(stored)}`);
        return { artifact, resolver: r, outputs: {} as SignOutputs };
      }
      const outputs = cfg.signer !== 'cmd' ? await builtin.sign(cfg, where, r) : await signWithCommand(ctx, cfg, where, r);
      ctx.log.info(`  signed ${docker ? `${artifact.path}@${r.vars.digest}` : artifact.name}${describeOutputs(outputs)}`);
      return { artifact, resolver: r, outputs };
    }, { signal: ctx.signal });
    // Registered after the whole entry, in input order: deterministic artifacts.json.
    for (const { artifact, resolver, outputs } of results) {
      const names = register(ctx, cfg, artifact, resolver, outputs);
      if (!docker) await recordChecks(ctx, cfg, where, builtin, artifact, outputs, names);
    }
  }
}

function passesIf(ctx: Context, cfg: SignConfig, where: string, artifact: Artifact): boolean {
  if (!cfg.if) return true;
  const name = `${where}.if`;
  const rendered = asUserError(() =>
    renderWithArgVariables(cfg.if!, templateData(ctx, { artifact }), argumentVars(artifact), ctx.env, { name }),
  );
  // GoReleaser's Template.Bool: trimmed, lower-cased, equals "true".
  const ok = trimSpace(toLower(rendered)) === 'true';
  if (!ok) ctx.log.debug(`${where}: ${artifact.name} skipped by if`);
  return ok;
}

function describeOutputs(o: SignOutputs): string {
  const files = [o.signature, o.certificate, o.bundle].filter(Boolean).map((p) => basename(p!));
  return files.length ? ` → ${files.join(', ')}` : '';
}

/** Registers an artifact's signature outputs; returns their asset names. */
function register(ctx: Context, cfg: SignConfig, artifact: Artifact, r: SignResolver, o: SignOutputs): SignOutputs {
  const common = { id: cfg.id, os: artifact.os, arch: artifact.arch, arm: artifact.arm, target: artifact.target };
  const signed = { signedArtifact: artifact.name };
  const names: SignOutputs = {};
  if (o.signature) {
    const name = (names.signature = cfg.signature ? r.uploadName(cfg.signature, 'signature') : basename(o.signature));
    ctx.artifacts.add({ ...common, type: 'signature', name, path: o.signature, extra: { ...signed } });
  }
  if (o.certificate) {
    const name = (names.certificate = cfg.certificate ? r.uploadName(cfg.certificate, 'certificate') : basename(o.certificate));
    ctx.artifacts.add({ ...common, type: 'certificate', name, path: o.certificate, extra: { ...signed } });
  }
  if (o.bundle) {
    const name = (names.bundle = cfg.bundle ? r.uploadName(cfg.bundle, 'bundle') : basename(o.bundle));
    ctx.artifacts.add({ ...common, type: 'signature', name, path: o.bundle, extra: { ...signed, bundle: true } });
  }
  return names;
}

/** Notes how each signature is verified before publishing (release.verify). */
async function recordChecks(
  ctx: Context,
  cfg: SignConfig,
  where: string,
  builtin: BuiltinSigners,
  artifact: Artifact,
  o: SignOutputs & { publicKeyPem?: string },
  names: SignOutputs,
): Promise<void> {
  let verifier: SignatureVerifier;
  const publicKeyRef = cfg.public_key ? { publicKeyRef: cfg.public_key } : {};
  if (o.publicKeyPem) verifier = { kind: 'key', where, publicKeyPem: o.publicKeyPem, ...publicKeyRef };
  else if (cfg.signer === 'cmd') verifier = { kind: 'external', where, cmd: cfg.cmd ?? '' };
  else {
    const id = await builtin.identityFor(cfg, where);
    if (id.kind === 'key') verifier = { kind: 'key', where, publicKeyPem: id.signer.publicKeyPem, ...publicKeyRef };
    else {
      const cert = await id.sigstore.certifiedKey();
      verifier = { kind: 'keyless', where, identity: cert.identity, issuer: cert.issuer };
    }
  }
  const abs = (p: string) => resolve(ctx.cwd, p);
  const signed = { signedName: artifact.name, signedPath: abs(artifact.path), verifier };
  if (o.signature && names.signature) {
    recordSignatureCheck(ctx, {
      asset: names.signature,
      path: abs(o.signature),
      format: 'signature',
      ...(o.certificate ? { certificatePath: abs(o.certificate) } : {}),
      ...signed,
    });
  }
  if (o.bundle && names.bundle) recordSignatureCheck(ctx, { asset: names.bundle, path: abs(o.bundle), format: 'bundle', ...signed });
}
