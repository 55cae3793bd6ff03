/**
 * GoReleaser's incmajor/incminor/incpatch: Masterminds/semver/v3 NewVersion
 * (lenient: optional leading "v", one to three numeric segments, leading
 * zeros coerced) then IncMajor/IncMinor/IncPatch, keeping a leading "v".
 */

interface Version {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string;
}

const IDENT_RE = /^[0-9A-Za-z-]+$/;

function validIdentifiers(s: string): boolean {
  return s.split('.').every((p) => p !== '' && IDENT_RE.test(p));
}

/** Masterminds/semver/v3 NewVersion (coercing); throws its error messages. */
export function parseSemver(v: string): Version {
  if (v.length > 256) throw new Error('version string is too long (max 256 bytes)');
  let s = v.startsWith('v') ? v.slice(1) : v;
  let pre = '';
  const plus = s.indexOf('+');
  if (plus >= 0) {
    const meta = s.slice(plus + 1);
    s = s.slice(0, plus);
    if (!validIdentifiers(meta)) throw new Error('invalid semantic version');
  }
  const dash = s.indexOf('-');
  if (dash >= 0) {
    pre = s.slice(dash + 1);
    s = s.slice(0, dash);
    if (!validIdentifiers(pre)) throw new Error('invalid semantic version');
  }
  const segs = s.split('.');
  if (segs.length > 3 || segs.some((x) => !/^[0-9]+$/.test(x))) throw new Error('invalid semantic version');
  const nums = segs.map((x) => BigInt(x));
  if (nums.some((n) => n > 18446744073709551615n)) throw new Error('error parsing version segment: value out of range');
  // Numeric prerelease identifiers must not have leading zeros.
  if (pre && pre.split('.').some((p) => /^[0-9]+$/.test(p) && p.length > 1 && p.startsWith('0'))) {
    throw new Error('invalid prerelease string');
  }
  return { major: nums[0]!, minor: nums[1] ?? 0n, patch: nums[2] ?? 0n, pre };
}

function prefix(v: string): string {
  return v.startsWith('v') ? 'v' : '';
}

export function incMajor(v: string): string {
  const s = parseSemver(v);
  return `${prefix(v)}${s.major + 1n}.0.0`;
}

export function incMinor(v: string): string {
  const s = parseSemver(v);
  return `${prefix(v)}${s.major}.${s.minor + 1n}.0`;
}

/** A prerelease is released as-is (1.2.3-rc.1 → 1.2.3); otherwise the patch is incremented. */
export function incPatch(v: string): string {
  const s = parseSemver(v);
  return `${prefix(v)}${s.major}.${s.minor}.${s.pre ? s.patch : s.patch + 1n}`;
}
