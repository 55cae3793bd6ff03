import { generateKeyPair } from '../sigstore/keys.js';
import { getPassword } from '../sigstore/password.js';
import { storeActionsSecrets } from '../github/secrets.js';
import { RelsignError, UsageError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { access } from 'node:fs/promises';

const DEFAULT_API = 'https://api.github.com';

/**
 * `relsign generate-key-pair github://OWNER/REPO`, as cosign does it: the key
 * pair and its password go straight into the repository's Actions secrets
 * (COSIGN_PASSWORD, COSIGN_PRIVATE_KEY, COSIGN_PUBLIC_KEY); only the public key
 * is written locally. The private key never touches the disk.
 */
export async function runGenerateKeyPairToGitHub(
  target: string,
  flags: { outputKeyPrefix: string; force: boolean },
): Promise<void> {
  const m = /^github:\/\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)\/?$/.exec(target);
  if (!m) throw new UsageError(`generate-key-pair: expected github://OWNER/REPO, got ${JSON.stringify(target)}`);
  const [, owner, repo] = m as unknown as [string, string, string];
  const token = process.env.GITHUB_TOKEN ?? '';
  if (!token) throw new RelsignError('missing GITHUB_TOKEN: storing Actions secrets needs a token with secrets: write');
  const pubPath = `${flags.outputKeyPrefix}.pub`;
  if (!flags.force && (await access(pubPath).then(() => true, () => false))) {
    throw new RelsignError(`${pubPath} already exists; use --force to overwrite`);
  }
  const password = await getPassword({ confirm: true });
  const pems = await generateKeyPair(password);
  const apiUrl = process.env.GITHUB_API_URL || DEFAULT_API;
  const stored = await storeActionsSecrets({
    owner,
    repo,
    token,
    apiUrl,
    secrets: {
      COSIGN_PASSWORD: password,
      COSIGN_PRIVATE_KEY: pems.privateKeyPem,
      COSIGN_PUBLIC_KEY: pems.publicKeyPem,
    },
  });
  await writeFileAtomic(pubPath, pems.publicKeyPem);
  for (const name of stored) process.stderr.write(`${name} written to ${owner}/${repo} Actions secrets\n`);
  process.stderr.write(`Public key written to ${pubPath}\n`);
}
