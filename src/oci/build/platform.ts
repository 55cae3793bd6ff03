import type { Platform } from '../types.js';

/**
 * Platforms an image can be built for, as `os/arch[/variant]`, and the build
 * target (`os_arch[_arm]`) whose binary each one takes. A closed list: a typo
 * such as `linux/amd46` is caught by `relsign check`, not by a registry.
 */
const KNOWN: ReadonlyArray<{ platform: string; os: string; arch: string; variant?: string; arm?: string }> = [
  { platform: 'linux/amd64', os: 'linux', arch: 'amd64' },
  { platform: 'linux/arm64', os: 'linux', arch: 'arm64' },
  { platform: 'linux/arm64/v8', os: 'linux', arch: 'arm64', variant: 'v8' },
  { platform: 'linux/arm/v7', os: 'linux', arch: 'arm', variant: 'v7', arm: '7' },
  { platform: 'linux/arm/v6', os: 'linux', arch: 'arm', variant: 'v6', arm: '6' },
  { platform: 'linux/arm/v5', os: 'linux', arch: 'arm', variant: 'v5', arm: '5' },
  { platform: 'linux/386', os: 'linux', arch: '386' },
  { platform: 'linux/ppc64le', os: 'linux', arch: 'ppc64le' },
  { platform: 'linux/s390x', os: 'linux', arch: 's390x' },
  { platform: 'linux/riscv64', os: 'linux', arch: 'riscv64' },
  { platform: 'linux/mips64le', os: 'linux', arch: 'mips64le' },
  { platform: 'linux/loong64', os: 'linux', arch: 'loong64' },
];

export const KNOWN_PLATFORMS: readonly string[] = KNOWN.map((k) => k.platform);

export interface ImagePlatform {
  /** As written in the config, e.g. `linux/arm/v7`. */
  name: string;
  /** The OCI platform object (index descriptors, config os/architecture/variant). */
  oci: Platform;
  /** Build artifact fields it matches: os, arch, and arm version (`7`) for 32-bit ARM. */
  os: string;
  arch: string;
  arm: string;
}

/** undefined when `text` is not a known platform. */
export function parsePlatform(text: string): ImagePlatform | undefined {
  const k = KNOWN.find((p) => p.platform === text);
  if (!k) return undefined;
  return {
    name: k.platform,
    oci: { os: k.os, architecture: k.arch, ...(k.variant ? { variant: k.variant } : {}) },
    os: k.os,
    arch: k.arch,
    arm: k.arm ?? '',
  };
}

/**
 * Whether a platform from a base image's index serves `want`. A missing
 * variant on arm64 means v8 (as containerd treats it); on 32-bit ARM a
 * variant is required to match.
 */
export function platformMatches(have: Platform | undefined, want: Platform): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false;
  const norm = (p: Platform): string => p.variant ?? (p.architecture === 'arm64' ? 'v8' : '');
  return norm(have) === norm(want) || (want.variant === undefined && want.architecture !== 'arm');
}
