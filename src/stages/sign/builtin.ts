import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SignConfig } from '../../config/types.js';
import type { Context } from '../../pipeline/context.js';
import { templateData } from '../../pipeline/template-data.js';
import type { Signer } from '../../sigstore/index.js';
import type { SigningIdentity } from '../../sigstore/blob.js';
import type { SigstoreClient } from '../../sigstore/services.js';
import { renderTemplate, TemplateError } from '../../template/index.js';
import { abortReason, RelsignError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import type { SignOutputs } from './cmd.js';
import type { SignResolver } from './resolve.js';

/**
 * Why a key reference can never work with signer: builtin, or undefined.
 * It reads key files and `env://VAR`; KMS and Kubernetes references
 * (`k8s://`, `awskms://`, `gcpkms://`, `hashivault://`, `azurekms://`,
 * `pkcs11:`) need cosign (signer: cmd).
 */
export function unusableKeyRef(keyRef: string): string | undefined {
  if (keyRef === 'env://') return '"env://" names no environment variable (use env://VAR)';
  if (keyRef.startsWith('env://')) {
    const name = keyRef.slice('env://'.length);
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? undefined : `${JSON.stringify(keyRef)}: ${JSON.stringify(name)} is not an environment variable name`;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(keyRef) ?? /^(pkcs11):/i.exec(keyRef);
  if (scheme) {
    return `${scheme[0]!.toLowerCase()} keys are not supported by signer: builtin (use a key file or env://VAR, or signer: cmd with cosign)`;
  }
  return undefined;
}

/**
 * Loaded signers, per run: a key is decrypted (scrypt) once per pipeline,
 * however many entries and artifacts use it.
 */
const signersByRun = new WeakMap<Context, Map<string, Promise<Signer>>>();
const identitiesByRun = new WeakMap<Context, Map<string, Promise<SigningIdentity>>>();
const noticesByRun = new WeakMap<Context, Set<string>>();

export const EPHEMERAL_PUBLIC_KEY = 'relsign-ephemeral.pub';

/** The in-process, cosign-compatible signers (`signer: builtin` and `signer: keyless`). */
export class BuiltinSigners {
  private readonly cache: Map<string, Promise<Signer>>;
  private readonly identities: Map<string, Promise<SigningIdentity>>;
  private readonly notices: Set<string>;

  constructor(private readonly ctx: Context) {
    let c = signersByRun.get(ctx);
    if (!c) signersByRun.set(ctx, (c = new Map()));
    this.cache = c;
    let ids = identitiesByRun.get(ctx);
    if (!ids) identitiesByRun.set(ctx, (ids = new Map()));
    this.identities = ids;
    let n = noticesByRun.get(ctx);
    if (!n) noticesByRun.set(ctx, (n = new Set()));
    this.notices = n;
  }

  async sign(cfg: SignConfig, where: string, r: SignResolver): Promise<SignOutputs> {
    const { signBlob, bundleOf, legacyBundleOf, writePublic } = await import('../../sigstore/blob.js');
    const identity = await this.identityFor(cfg, where);
    const signed = await signBlob(identity, { file: resolve(this.ctx.cwd, r.artifact.path), signal: this.ctx.signal });
    // Interrupted while the last chunk was hashed: write nothing more.
    if (this.ctx.signal.aborted) throw abortReason(this.ctx.signal);
    const outputs: SignOutputs = {};
    if (r.vars.signature) {
      // base64 DER, exactly what `cosign sign-blob --output-signature` writes.
      await writePublic(resolve(this.ctx.cwd, r.vars.signature), signed.sig.signature.toString('base64'));
      outputs.signature = r.vars.signature;
    }
    if (r.vars.certificate && signed.certificatePem) {
      await writePublic(resolve(this.ctx.cwd, r.vars.certificate), signed.certificatePem);
      outputs.certificate = r.vars.certificate;
    }
    if (cfg.bundle) {
      const bundlePath = r.outputPath(cfg.bundle, 'bundle');
      const abs = resolve(this.ctx.cwd, bundlePath);
      await writePublic(abs, JSON.stringify(cfg.new_bundle_format ? bundleOf(signed) : legacyBundleOf(signed)));
      outputs.bundle = bundlePath;
    }
    if (!outputs.signature && !outputs.bundle) {
      throw new RelsignError(`${where}: signer: ${cfg.signer} has nothing to write; set signature: or bundle:`);
    }
    return outputs;
  }

  /**
   * How an entry signs: its key (with a Rekor client when `tlog_upload` is on,
   * the default for releases), or keyless. Cached per run, so one Fulcio
   * certificate serves every artifact while it is valid.
   */
  identityFor(cfg: SignConfig, where: string): Promise<SigningIdentity> {
    const cacheKey = `${where}\0identity`;
    let p = this.identities.get(cacheKey);
    if (!p) {
      p = this.makeIdentity(cfg, where);
      this.identities.set(cacheKey, p);
    }
    return p;
  }

  private async makeIdentity(cfg: SignConfig, where: string): Promise<SigningIdentity> {
    const snapshot = this.ctx.options.snapshot;
    if (cfg.signer === 'keyless') {
      if (snapshot) {
        // Snapshots run offline and without secrets: a throwaway key stands in for Fulcio.
        // (Shares the run's ephemeral key with builtin entries whose key is missing.)
        this.ctx.log.info(`  ${where}: signer: keyless does not contact Sigstore under --snapshot`);
        return { kind: 'key', signer: await this.signerFor({ ...cfg, key: '', password: '' }, where) };
      }
      return { kind: 'keyless', sigstore: await this.sigstoreClient(cfg, where, true) };
    }
    const signer = await this.signerFor(cfg, where);
    const upload = cfg.tlog_upload ?? !snapshot;
    if (!upload) return { kind: 'key', signer };
    if (snapshot) {
      this.ctx.log.info(`  ${where}: tlog_upload is off under --snapshot`);
      return { kind: 'key', signer };
    }
    return { kind: 'key', signer, tlog: await this.sigstoreClient(cfg, where, false) };
  }

  private async sigstoreClient(cfg: SignConfig, where: string, keyless: boolean): Promise<SigstoreClient> {
    const { SigstoreClient, checkServiceURL, resolveServiceURLs } = await import('../../sigstore/services.js');
    const { parseDuration } = await import('../../sigstore/retry.js');
    // The entry's URL, else RELSIGN_FULCIO_URL / RELSIGN_REKOR_URL / RELSIGN_TSA_URL, else the public-good config.
    const url = (field: 'fulcio_url' | 'rekor_url' | 'tsa_url') => {
      const v = cfg[field];
      const rendered = v === undefined ? '' : this.renderSetting(v, `${where}.${field}`).trim();
      if (rendered) return checkServiceURL(rendered, `${where}.${field}`);
      const envName = `RELSIGN_${field.split('_')[0]!.toUpperCase()}_URL`;
      const env = this.ctx.env[envName];
      return env ? checkServiceURL(env, envName) : undefined;
    };
    const timeoutMs = cfg.timeout !== undefined ? parseDuration(cfg.timeout, `${where}.timeout`) : undefined;
    const urls = await resolveServiceURLs(
      { fulcioURL: url('fulcio_url'), rekorURL: url('rekor_url'), tsaURL: url('tsa_url') },
      { fulcio: keyless, rekor: true },
      (line) => this.ctx.log.warn(`${where}: ${line}`),
    );
    const { getIdentityToken } = await import('../../sigstore/identity.js');
    const retry = { timeoutMs, signal: this.ctx.signal };
    let token: Promise<string> | undefined;
    if (keyless) {
      // Fetched before anything is signed, so a missing token fails the entry at once.
      token = getIdentityToken({ env: this.ctx.env, retry, onToken: (t) => this.ctx.redactor.add(t) });
      await token;
    }
    const { privacyNotice } = await import('../../sigstore/blob.js');
    // The configuration is the consent (as GoReleaser runs cosign with --yes); the notice is logged once per log.
    const noticeKey = `${keyless}\0${urls.rekorURL}`;
    if (!this.notices.has(noticeKey)) {
      this.notices.add(noticeKey);
      this.ctx.log.info(`  ${where}: ${privacyNotice(keyless, urls.rekorURL!)}`);
    }
    return new SigstoreClient({
      ...urls,
      retry,
      identityToken: token && (() => getIdentityToken({ env: this.ctx.env, retry, onToken: (t) => this.ctx.redactor.add(t) })),
    });
  }

  /** The signer for an entry: its key decrypted once per run. */
  signerFor(cfg: SignConfig, where: string): Promise<Signer> {
    const keyRef = this.renderSetting(cfg.key ?? '', `${where}.key`).trim();
    const cacheKey = `${keyRef}\0${cfg.password ?? ''}`;
    let p = this.cache.get(cacheKey);
    if (!p) {
      p = this.load(cfg, where, keyRef);
      this.cache.set(cacheKey, p);
    }
    return p;
  }

  /**
   * The signer for a key reference and a known password (a pasted cosign
   * command line run in-process): decrypted once per run per key and password.
   */
  signerForKey(keyRef: string, password: () => Promise<string>, passwordId: string, where: string): Promise<Signer> {
    const cacheKey = `cosign\0${keyRef}\0${passwordId}`;
    let p = this.cache.get(cacheKey);
    if (!p) {
      p = this.loadKey(where, keyRef, password, `${where}.args`);
      this.cache.set(cacheKey, p);
    }
    return p;
  }

  private load(cfg: SignConfig, where: string, keyRef: string): Promise<Signer> {
    return this.loadKey(where, keyRef, async () => this.renderSetting(cfg.password ?? '', `${where}.password`), `${where}.key`);
  }

  private async loadKey(where: string, keyRef: string, getPassword: () => Promise<string>, keyField: string): Promise<Signer> {
    const { Signer } = await import('../../sigstore/index.js');
    // A reference relsign cannot read is a config error, also under --snapshot: signing
    // with a throwaway key instead would hide it until the real release.
    const unusable = unusableKeyRef(keyRef);
    if (unusable) throw new RelsignError(`${keyField}: ${unusable}`);
    const missing = await this.keyMissing(keyRef);
    if (missing) {
      if (!this.ctx.options.snapshot) throw new RelsignError(`${keyField}: ${missing}`);
      return this.ephemeral(Signer, where, missing);
    }
    const password = await getPassword();
    this.ctx.redactor.add(password);
    // A relative key path is relative to the project, not to wherever relsign was started.
    const ref = keyRef.startsWith('env://') ? keyRef : resolve(this.ctx.cwd, keyRef);
    const signer = await Signer.load(ref, password, { env: this.ctx.env as NodeJS.ProcessEnv });
    this.ctx.log.info(`  ${where}: using key ${keyRef}`);
    return signer;
  }

  /** Why the key can't be read, or undefined when it can. */
  private async keyMissing(keyRef: string): Promise<string | undefined> {
    if (!keyRef) return 'no key configured';
    if (keyRef.startsWith('env://')) {
      const name = keyRef.slice('env://'.length);
      const value = this.ctx.env[name];
      if (value === undefined) return `${keyRef}: environment variable ${name} is not set`;
      return value.trim() ? undefined : `${keyRef}: environment variable ${name} is empty`;
    }
    try {
      await access(resolve(this.ctx.cwd, keyRef));
      return undefined;
    } catch {
      return `key file ${keyRef} not found`;
    }
  }

  /**
   * Snapshots must run with no secrets: sign with a throwaway key and leave its
   * public half in dist so the signatures can still be checked. The private
   * half is never written anywhere.
   */
  private async ephemeral(SignerClass: typeof Signer, where: string, why: string): Promise<Signer> {
    const signer = SignerClass.generate();
    const pub = join(this.ctx.distDir, EPHEMERAL_PUBLIC_KEY);
    await writeFileAtomic(pub, signer.publicKeyPem);
    this.ctx.log.warn(
      `${where}: ${why}; snapshot signs with an ephemeral key (public key: ${EPHEMERAL_PUBLIC_KEY} in dist; these signatures are for testing only)`,
    );
    return signer;
  }

  /** key and password are templates; a missing `.Env.X` gets a message that says which variable. */
  private renderSetting(text: string, name: string): string {
    try {
      return renderTemplate(text, templateData(this.ctx), { name });
    } catch (err) {
      if (err instanceof TemplateError) {
        const m = /map has no entry for key "([^"]+)"/.exec(err.detail);
        throw new RelsignError(m ? `${name}: environment variable ${m[1]} is not set` : err.message);
      }
      throw err;
    }
  }
}
