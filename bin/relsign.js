#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in lib/ (built by `npm run build`, which
// `npm ci` runs through the `prepare` script). Kept tiny so `relsign --version` is fast.
import { main } from '../lib/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // main() reports its own errors; reaching here is a bug, still keep it to one line.
    process.stderr.write(`relsign: internal error: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
