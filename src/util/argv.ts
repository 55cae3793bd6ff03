import { RelsignError } from './errors.js';

/**
 * Splits a command line into argv the way a POSIX shell would for quoting
 * ('…', "…", backslash escapes) — but nothing else: no globbing, no
 * variables, no pipes. Hooks written as strings run without a shell.
 */
export function splitArgs(line: string, where = 'command'): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) cur += line[++i];
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new RelsignError(`${where}: unterminated ${quote} quote in ${JSON.stringify(line)}`);
  if (inWord) out.push(cur);
  return out;
}
