/** The action behind `relsign verify-release OWNER/REPO@TAG|DIR`; the command module imports it lazily. */
import { stat } from 'node:fs/promises';
import { compileIdentityPolicy, hasIdentityPolicy } from '../sigstore/certificate-identity.js';
import { identityPolicyOf, trustedRootOption, type IdentityPolicyFlags } from '../sigstore/cli.js';
import { loadPublicKey } from '../sigstore/keys.js';
import { DEFAULT_API_URL } from '../github/client.js';
import { UsageError } from '../util/errors.js';
import { formatReport, reportJson } from './report.js';
import { collectFromDir, collectFromGitHub, type CollectedRelease } from './source.js';
import { verifyRelease } from './verify.js';

export interface VerifyReleaseFlags extends IdentityPolicyFlags {
  key?: string;
  trustedRoot?: string;
  insecureIgnoreTlog: boolean;
  rekorUrl?: string;
  githubUrl?: string;
  manifest?: string;
  json: boolean;
  allowUnsigned: boolean;
  skipImages: boolean;
  allowInsecureRegistry: boolean;
}

const REMOTE = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})@(.{1,255})$/s;

/** `OWNER/REPO@TAG`, or undefined when `target` is not of that shape. */
export function parseRemoteTarget(target: string): { owner: string; repo: string; tag: string } | undefined {
  const m = REMOTE.exec(target);
  if (!m) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(m[3]!)) throw new UsageError('verify-release: the tag contains a control character');
  return { owner: m[1]!, repo: m[2]!, tag: m[3]! };
}

export function checkGitHubUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--github-url ${JSON.stringify(url)}: not a URL`);
  }
  const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw new UsageError(`--github-url ${url}: must be https (http only for loopback)`);
  if (u.username || u.password) throw new UsageError('--github-url: must not carry credentials; use GITHUB_TOKEN');
  return u.href.replace(/\/+$/, '');
}

export async function runVerifyRelease(target: string, flags: VerifyReleaseFlags): Promise<void> {
  const policy = identityPolicyOf(flags);
  if (flags.key && hasIdentityPolicy(policy)) throw new UsageError('verify-release: use either --key or the --certificate-* flags (keyless), not both');
  if (!flags.key && !hasIdentityPolicy(policy)) {
    throw new UsageError('verify-release: give --key (the public key) or --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp] (keyless)');
  }
  const identity = flags.key ? undefined : compileIdentityPolicy(policy);
  const key = flags.key ? await loadPublicKey(flags.key) : undefined;
  if (flags.manifest !== undefined && (flags.manifest === '' || /[/\\]/.test(flags.manifest))) throw new UsageError('--manifest: give the asset name, not a path');
  const root = await trustedRootOption(flags.trustedRoot);

  let release: CollectedRelease;
  const isDir = await stat(target).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (isDir) {
    release = await collectFromDir(target);
  } else {
    const remote = parseRemoteTarget(target);
    if (!remote) throw new UsageError(`verify-release: ${JSON.stringify(target.slice(0, 200))} is neither a folder nor OWNER/REPO@TAG`);
    const token = process.env.GITHUB_TOKEN || process.env.GH_TOKEN || undefined;
    release = await collectFromGitHub({ ...remote, apiUrl: checkGitHubUrl(flags.githubUrl ?? DEFAULT_API_URL), token });
  }
  try {
    const report = await verifyRelease(release, {
      key,
      identity,
      ignoreTlog: flags.insecureIgnoreTlog,
      getTrustedRoot: root.getTrustedRoot,
      trustedRootSource: root.trustedRootSource,
      manifestName: flags.manifest,
      allowUnsigned: flags.allowUnsigned,
      skipImages: flags.skipImages,
      // Made only when the manifest lists images.
      registry: async (host) => {
        const [{ RegistryClient }, { dockerConfigCredentials }] = await Promise.all([import('../oci/client.js'), import('../oci/credentials.js')]);
        return new RegistryClient({ credentials: dockerConfigCredentials({ env: process.env }), insecureRegistries: flags.allowInsecureRegistry ? [host] : [] });
      },
    });
    process.stdout.write(flags.json ? reportJson(report) : formatReport(report));
    if (!report.ok) process.exitCode = 1;
  } finally {
    await release.cleanup();
  }
}

