// User regexes (template filter/reverseFilter, changelog.filters) run on RE2
// (re2js) for linear-time matching. This measures what that costs against
// V8's backtracking RegExp on ordinary inputs, and what it saves on a
// catastrophic pattern. Run after `npm run build`:
//
//   node bench/regex-bench.mjs        # --runs N (default 5; the median is shown)
import { RE2JS } from 're2js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;

// 10,000 commit subjects in the usual conventional-commit shapes.
const kinds = ['feat', 'fix', 'docs', 'chore', 'refactor', 'test', 'ci', 'build'];
const subjects = Array.from({ length: 10_000 }, (_, i) => {
  const kind = kinds[i % kinds.length];
  const scope = i % 3 === 0 ? `(${['cli', 'sign', 'archive'][i % 3]})` : '';
  return `${kind}${scope}: change number ${i} to the ${i % 2 ? 'widget' : 'gadget'} handling${i % 17 === 0 ? ' WIP' : ''}`;
});
const patterns = ['^docs:', '^(feat|fix)(\\(.+\\))?:', '(?i)wip', '^(chore|ci|build)\\b', 'widget|gadget'];
const jsFlags = (p) => (p.startsWith('(?i)') ? [p.slice(4), 'i'] : [p, '']);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function time(fn) {
  const ms = [];
  let result;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    result = fn();
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), result };
}

console.log(`Node ${process.version}; ${subjects.length} subjects × ${patterns.length} patterns; median of ${runs}`);
console.log('| what | RE2 (re2js) | JS RegExp | ratio |');
console.log('|---|---|---|---|');

const compileRe2 = time(() => patterns.map((p) => RE2JS.compile(p)));
const compileJs = time(() => patterns.map((p) => new RegExp(...jsFlags(p))));
console.log(`| compile ${patterns.length} patterns | ${compileRe2.ms.toFixed(2)} ms | ${compileJs.ms.toFixed(3)} ms | ${(compileRe2.ms / compileJs.ms).toFixed(0)}× |`);

const re2 = patterns.map((p) => RE2JS.compile(p));
const js = patterns.map((p) => new RegExp(...jsFlags(p)));
const matchRe2 = time(() => re2.map((re) => subjects.filter((s) => re.test(s)).length));
const matchJs = time(() => js.map((re) => subjects.filter((s) => re.test(s)).length));
if (JSON.stringify(matchRe2.result) !== JSON.stringify(matchJs.result)) throw new Error(`results differ: ${matchRe2.result} vs ${matchJs.result}`);
const per = (ms) => `${((ms * 1e6) / (subjects.length * patterns.length)).toFixed(0)} ns/test`;
console.log(`| filter 50,000 subject tests | ${matchRe2.ms.toFixed(1)} ms (${per(matchRe2.ms)}) | ${matchJs.ms.toFixed(1)} ms (${per(matchJs.ms)}) | ${(matchRe2.ms / matchJs.ms).toFixed(1)}× |`);

const notes = subjects.join('\n');
const lines = time(() => notes.split('\n').filter((l) => re2[1].test(l)).length);
console.log(`| template filter over a 10,000-line text (${(notes.length / 1024).toFixed(0)} KiB) | ${lines.ms.toFixed(1)} ms | | |`);

// Catastrophic backtracking: ^(a+)+$ against "a"×n + "!".
for (const n of [20, 24, 26]) {
  const subject = `${'a'.repeat(n)}!`;
  const r = time(() => RE2JS.compile('^(a+)+$').test(subject));
  const j = time(() => /^(a+)+$/.test(subject));
  console.log(`| ^(a+)+$ on ${n + 1} chars | ${r.ms.toFixed(2)} ms | ${j.ms.toFixed(0)} ms | 1/${(j.ms / r.ms).toFixed(0)} |`);
}
const huge = `${'a'.repeat(100_000)}!`;
const big = time(() => RE2JS.compile('^(a+)+$').test(huge));
console.log(`| ^(a+)+$ on 100,001 chars | ${big.ms.toFixed(1)} ms | (exponential: not run) | |`);
