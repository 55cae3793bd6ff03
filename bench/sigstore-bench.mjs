#!/usr/bin/env node
// Benchmarks relsign's in-process signing against reference tools:
//   1. decrypting a cosign key (scrypt N=65536, r=8, p=1) vs python3 hashlib.scrypt, same parameters;
//   2. signing a 1 GiB file vs `sha256sum` of the same file.
// Usage: npm run build && node bench/sigstore-bench.mjs [--size-mib 1024] [--runs 3]
// The data file goes to bench/.data/ (gitignored) and is reused between runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, closeSync, writeSync, statSync, existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const lib = join(root, 'lib', 'sigstore', 'index.js');
if (!existsSync(lib)) {
  console.error('bench: lib/ is missing; run `npm run build` first');
  process.exit(1);
}
const { generateKeyPair, decryptPrivateKeyPem, Signer } = await import(lib);

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SIZE_MIB = arg('--size-mib', 1024);
const RUNS = arg('--runs', 3);
const PASSWORD = 'bench-password';

const ms = (t) => `${t.toFixed(0).padStart(6)} ms`;
const best = (xs) => Math.min(...xs);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timeIt(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}`);
console.log(`runs per figure: ${RUNS} (best and median shown)\n`);

// ---------------------------------------------------------------------------
// 1. Key decryption.
const pems = await generateKeyPair(PASSWORD); // N=65536, r=8, p=1: what cosign ≥ 2.2 writes
const envelope = JSON.parse(Buffer.from(pems.privateKeyPem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64').toString());
if (envelope.kdf.params.N !== 65536) throw new Error('expected N=65536');

const relsignDecrypt = [];
for (let i = 0; i < RUNS; i++) relsignDecrypt.push(await timeIt(() => decryptPrivateKeyPem(pems.privateKeyPem, PASSWORD, 'bench.key')));

const py = `
import base64, hashlib, json, sys, time
salt = base64.b64decode(sys.argv[1])
out = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    hashlib.scrypt(b'${PASSWORD}', salt=salt, n=65536, r=8, p=1, maxmem=256*1024*1024, dklen=32)
    out.append((time.perf_counter() - t) * 1000)
print(json.dumps(out))
`;
const pyInProcess = JSON.parse(execFileSync('python3', ['-c', py, envelope.kdf.salt, String(RUNS)], { encoding: 'utf8' }));
const pyWhole = [];
for (let i = 0; i < RUNS; i++) pyWhole.push(await timeIt(() => execFileSync('python3', ['-c', py, envelope.kdf.salt, '1'])));

console.log('1. decrypt a cosign key (scrypt N=65536 r=8 p=1 + secretbox + PKCS#8 parse)');
console.log(`   relsign decryptPrivateKeyPem (in-process)   best ${ms(best(relsignDecrypt))}   median ${ms(median(relsignDecrypt))}`);
console.log(`   python3 hashlib.scrypt (in-process)         best ${ms(best(pyInProcess))}   median ${ms(median(pyInProcess))}`);
console.log(`   python3 -c '...scrypt...' (whole process)    best ${ms(best(pyWhole))}   median ${ms(median(pyWhole))}`);
const ratio1 = best(relsignDecrypt) / best(pyInProcess);
console.log(`   ratio relsign / python scrypt: ${ratio1.toFixed(2)}× (goal ≤ 1.5×) ${ratio1 <= 1.5 ? 'OK' : 'MISSED'}\n`);

// ---------------------------------------------------------------------------
// 2. Signing a large file.
const dataDir = join(here, '.data');
mkdirSync(dataDir, { recursive: true });
const big = join(dataDir, `blob-${SIZE_MIB}MiB.bin`);
if (!existsSync(big) || statSync(big).size !== SIZE_MIB * 2 ** 20) {
  process.stdout.write(`writing ${big} … `);
  const fd = openSync(big, 'w');
  const chunk = randomBytes(2 ** 20);
  for (let i = 0; i < SIZE_MIB; i++) {
    chunk[0] = i & 0xff; // vary the content a little
    writeSync(fd, chunk);
  }
  closeSync(fd);
  console.log('done');
}
// Warm the page cache so both tools read from memory (the fair, repeatable case).
execFileSync('cat', [big], { stdio: ['ignore', 'ignore', 'inherit'] });

const signer = await Signer.loadPem(pems.privateKeyPem, PASSWORD, 'bench.key');
const sha = [];
const osslDgst = [];
const signIn = [];
const signCli = [];
const work = mkdtempSync(join(tmpdir(), 'relsign-bench-'));
writeFileSync(join(work, 'cosign.key'), pems.privateKeyPem, { mode: 0o600 });
let digestHex = '';
for (let i = 0; i < RUNS; i++) {
  sha.push(
    await timeIt(() => {
      const r = spawnSync('sha256sum', [big], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      digestHex = r.stdout.split(' ')[0];
    }),
  );
  osslDgst.push(
    await timeIt(() => {
      const r = spawnSync('openssl', ['dgst', '-sha256', big], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
    }),
  );
  let sig;
  signIn.push(await timeIt(async () => (sig = await signer.signFile(big))));
  if (sig.digest.toString('hex') !== digestHex) throw new Error('digest differs from sha256sum');
  signCli.push(
    await timeIt(() => {
      const r = spawnSync(process.execPath, [join(root, 'bin', 'relsign.js'), 'sign-blob', '--key', join(work, 'cosign.key'), '--tlog-upload=false', big], {
        env: { ...process.env, COSIGN_PASSWORD: PASSWORD },
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(r.stderr);
    }),
  );
}
rmSync(work, { recursive: true, force: true });
const gib = SIZE_MIB / 1024;
const rate = (t) => `${(gib / (t / 1000)).toFixed(2)} GiB/s`;
console.log(`2. sign a ${SIZE_MIB} MiB file (page cache warm), digest checked equal to sha256sum's`);
console.log(`   sha256sum                                   best ${ms(best(sha))}   median ${ms(median(sha))}   ${rate(best(sha))}`);
console.log(`   openssl dgst -sha256 (same SHA-NI code as node) best ${ms(best(osslDgst))}   median ${ms(median(osslDgst))}   ${rate(best(osslDgst))}`);
console.log(`   relsign Signer.signFile (key loaded)        best ${ms(best(signIn))}   median ${ms(median(signIn))}   ${rate(best(signIn))}`);
console.log(`   relsign sign-blob CLI (start + scrypt + sign) best ${ms(best(signCli))}   median ${ms(median(signCli))}   ${rate(best(signCli))}`);
const ratio2 = best(signIn) / best(sha);
const ratio3 = best(signCli) / best(sha);
console.log(`   ratio signFile / sha256sum: ${ratio2.toFixed(2)}×, CLI / sha256sum: ${ratio3.toFixed(2)}× (goal ≤ 1.2×) ${ratio3 <= 1.2 ? 'OK' : ratio2 <= 1.2 ? 'OK in-process' : 'MISSED'}`);
const rss = process.memoryUsage().rss / 2 ** 20;
console.log(`   bench process RSS after signing: ${rss.toFixed(0)} MiB (the file is streamed, not loaded)`);

