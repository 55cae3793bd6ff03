/**
 * Content type of a release asset, by file name. GitHub requires a
 * Content-Type on uploads and shows it on the asset; unknown types are
 * application/octet-stream. Longest (multi-part) extensions win.
 */
const TYPES: ReadonlyArray<[string, string]> = [
  ['.tar.gz', 'application/gzip'],
  ['.tgz', 'application/gzip'],
  ['.gz', 'application/gzip'],
  ['.tar.xz', 'application/x-xz'],
  ['.xz', 'application/x-xz'],
  ['.tar.zst', 'application/zstd'],
  ['.zst', 'application/zstd'],
  ['.tar.bz2', 'application/x-bzip2'],
  ['.bz2', 'application/x-bzip2'],
  ['.tar', 'application/x-tar'],
  ['.zip', 'application/zip'],
  ['.7z', 'application/x-7z-compressed'],
  ['.deb', 'application/vnd.debian.binary-package'],
  ['.rpm', 'application/x-rpm'],
  ['.apk', 'application/vnd.android.package-archive'],
  ['.dmg', 'application/x-apple-diskimage'],
  ['.msi', 'application/x-msi'],
  ['.exe', 'application/vnd.microsoft.portable-executable'],
  ['.txt', 'text/plain'],
  ['.md', 'text/markdown'],
  ['.json', 'application/json'],
  ['.sigstore.json', 'application/vnd.dev.sigstore.bundle.v0.3+json'],
  ['.intoto.jsonl', 'application/vnd.in-toto+json'],
  ['.sbom.json', 'application/json'],
  ['.spdx.json', 'application/spdx+json'],
  ['.cdx.json', 'application/vnd.cyclonedx+json'],
  ['.yaml', 'application/yaml'],
  ['.yml', 'application/yaml'],
  ['.pem', 'application/x-pem-file'],
  ['.crt', 'application/x-pem-file'],
  ['.asc', 'application/pgp-signature'],
  ['.sig', 'application/octet-stream'],
  ['.minisig', 'text/plain'],
  ['.pub', 'text/plain'],
  ['.sha256', 'text/plain'],
  ['.sha512', 'text/plain'],
  ['.html', 'text/html'],
  ['.wasm', 'application/wasm'],
];

const SORTED = [...TYPES].sort((a, b) => b[0].length - a[0].length);

export function contentTypeFor(name: string): string {
  const lower = name.toLowerCase();
  for (const [ext, type] of SORTED) if (lower.endsWith(ext)) return type;
  return 'application/octet-stream';
}
