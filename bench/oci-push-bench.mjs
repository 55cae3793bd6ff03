#!/usr/bin/env node
// Image push benchmark: pushes one image with a 100 MiB random (incompressible)
// layer to a local docker-registry (Debian's distribution 2.8, on 127.0.0.1),
// once with relsign's RegistryClient and once with
// `skopeo copy oci:DIR docker://…` of the same OCI layout, and prints wall
// time and peak RSS side by side (median of --runs).
//
//   node bench/oci-push-bench.mjs [--size-mib 100] [--runs 3] [--modes default,16,64,put]
//
// --modes lists the upload strategies to measure: `default` (one PUT up to 64 MiB, else one
// streamed PATCH), N (PATCH chunks of N MiB), `put` (one streamed PUT whatever the size).
// BENCH_TRANSPORT=fetch streams uploads through Node's fetch instead of node:http.
// Every push goes to a fresh registry, so nothing is skipped as existing or mounted.
// The TypeScript sources are compiled first (tsc, into node_modules/.cache) so
// the measured process runs plain JS, as the published CLI would.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'node_modules', '.cache', 'relsign-oci-bench');
const mod = (p) => import(pathToFileURL(join(outDir, p)).href);

function compile() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  // prettier-ignore
  execFileSync(process.execPath, [tsc,
    '--outDir', outDir, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--target', 'es2022', '--skipLibCheck', '--esModuleInterop', '--resolveJsonModule', '--types', 'node',
    '--declaration', 'false', '--sourceMap', 'false', '--noCheck',
    join(root, 'src/oci/index.ts'), join(root, 'test/helpers/registry.ts'),
  ], { stdio: 'inherit' });
}

// ---------------------------------------------------------------- child: one relsign push
if (process.argv[2] === '--push') {
  const [, , , layoutDir, host, repository, chunkMiB] = process.argv;
  const { RegistryClient, OCI_MANIFEST } = await mod('src/oci/index.js');
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8'));
  const blobPath = (d) => join(layoutDir, 'blobs', ...d.split(':'));
  const manifestDesc = index.manifests[0];
  const manifestBytes = await readFile(blobPath(manifestDesc.digest));
  const manifest = JSON.parse(manifestBytes.toString('utf8'));
  const mode = chunkMiB;
  const chunking = mode === 'default' ? {} : mode === 'put' ? { chunkSize: Number.MAX_SAFE_INTEGER } : { chunkSize: Number(mode) * 1024 * 1024 };
  // BENCH_TRANSPORT=fetch: stream uploads through Node's fetch instead (for comparison).
  const transport = process.env.BENCH_TRANSPORT === 'fetch' ? { streamFetch: globalThis.fetch } : {};
  const client = new RegistryClient({ credentials: async () => undefined, ...transport, ...chunking });
  const repo = { registry: host, repository };
  const start = performance.now();
  await Promise.all(
    [manifest.config, ...manifest.layers].map((d) =>
      client.pushBlob(repo, { digest: d.digest, size: d.size }, () => createReadStream(blobPath(d.digest), { highWaterMark: Number(process.env.BENCH_HWM ?? 1024 * 1024) })),
    ),
  );
  await client.putManifest(repo, 'bench', manifestBytes, OCI_MANIFEST);
  const ms = performance.now() - start;
  process.stdout.write(JSON.stringify({ ms, maxRss: process.resourceUsage().maxRSS * 1024 }));
  process.exit(0);
} else {
  await main();
}

/** Runs a command; returns wall ms and the peak RSS GNU time reports. */
function timed(cmd, args, env = process.env) {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '__MAXRSS_KB=%M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const ms = performance.now() - start;
      if (code !== 0) return reject(new Error(`${cmd} exited ${code}: ${err.slice(-800)}`));
      const kb = Number(/__MAXRSS_KB=(\d+)/.exec(err)?.[1]);
      resolvePromise({ ms, maxRss: kb * 1024, out });
    });
  });
}

async function writeBlob(dir, bytes) {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
  return { digest, size: bytes.length };
}

async function writeLayout(dir, size) {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  // A real gzip stream (of random bytes, so it stays incompressible): skopeo would
  // otherwise compress a layer whose bytes are not gzip, and measure gzip, not the push.
  const tmp = join(dir, 'layer.tmp');
  const gzip = createGzip({ level: 1 });
  const hash = createHash('sha256');
  let written = 0;
  const out = createWriteStream(tmp);
  gzip.on('data', (d) => {
    hash.update(d);
    written += d.length;
  });
  gzip.pipe(out);
  for (let raw = 0; raw < size; ) {
    const block = randomBytes(Math.min(4 * 1024 * 1024, size - raw));
    raw += block.length;
    if (!gzip.write(block)) await new Promise((r) => gzip.once('drain', r));
  }
  gzip.end();
  await new Promise((r, j) => out.on('finish', r).on('error', j));
  size = written;
  const layer = { digest: `sha256:${hash.digest('hex')}`, size };
  await rename(tmp, join(dir, 'blobs', 'sha256', layer.digest.slice(7)));
  const config = await writeBlob(
    dir,
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } })),
  );
  const manifest = await writeBlob(
    dir,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      }),
    ),
  );
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }],
    }),
  );
  return manifest.digest;
}

function median(xs) {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}
function mb(n) {
  return `${(n / 1e6).toFixed(0)} MB`;
}
function secs(ms) {
  return `${(ms / 1000).toFixed(2)} s`;
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
  const sizeMiB = Number(opt('--size-mib', '100'));
  const runs = Number(opt('--runs', '3'));
  const chunks = opt('--modes', 'default').split(',');
  compile();
  const { startRegistry } = await mod('test/helpers/registry.js');
  const dir = await mkdtemp(join(tmpdir(), 'relsign-oci-bench-'));
  const layout = join(dir, 'layout');
  const manifestDigest = await writeLayout(layout, sizeMiB * 1024 * 1024);
  console.log(`image: one ${sizeMiB} MiB random layer (gzip stream); a fresh docker-registry 2.8 per push (filesystem storage in ${tmpdir()})`);
  const results = { skopeo: [] };
  const label = (m) => `relsign (${m === 'default' ? 'default' : m === 'put' ? 'one PUT' : `${m} MiB PATCHes`})`;
  for (const c of chunks) results[label(c)] = [];
  // skopeo remembers where it has seen a blob (blob-info-cache under $HOME) and would mount it
  // instead of uploading; a temp HOME and a fresh registry per push keep both sides uploading.
  const skopeoHome = join(dir, 'skopeo-home');
  await mkdir(skopeoHome);
  try {
    for (let run = 0; run < runs; run++) {
      // Alternate the order so page cache and machine load favour neither.
      const order = run % 2 === 0 ? ['skopeo', ...chunks] : [...chunks, 'skopeo'];
      for (const who of order) {
        const reg = await startRegistry();
        const repository = 'bench/app';
        try {
          if (who === 'skopeo') {
            const r = await timed('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:bench`, `docker://${reg.host}/${repository}:bench`], { ...process.env, HOME: skopeoHome });
            results.skopeo.push(r);
          } else {
            const r = await timed(process.execPath, [fileURLToPath(import.meta.url), '--push', layout, reg.host, repository, String(who)]);
            results[label(who)].push({ ms: r.ms, maxRss: r.maxRss, innerMs: JSON.parse(r.out).ms });
          }
          // Check what arrived: the registry must serve the same manifest digest.
          const head = await fetch(`${reg.url}/v2/${repository}/manifests/bench`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
          if (head.headers.get('docker-content-digest') !== manifestDigest) throw new Error(`${who}: registry has ${head.headers.get('docker-content-digest')}`);
        } finally {
          await reg.stop();
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const base = median(results.skopeo.map((r) => r.ms));
  console.log(`\n| what | wall time (median of ${runs}) | vs skopeo | push alone (no process start) | peak RSS |`);
  console.log('|---|---|---|---|---|');
  for (const [name, rs] of Object.entries(results)) {
    const ms = median(rs.map((r) => r.ms));
    const inner = rs[0]?.innerMs === undefined ? '' : secs(median(rs.map((r) => r.innerMs)));
    console.log(`| ${name} | ${secs(ms)} | ${(ms / base).toFixed(2)}× | ${inner} | ${mb(median(rs.map((r) => r.maxRss)))} |`);
  }
}
