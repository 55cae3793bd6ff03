import type { Command } from 'commander';
import { registerCheck } from './check.js';
import { registerContinue } from './continue.js';
import { registerGenerateKeyPair } from './generate-key-pair.js';
import { registerImportKeyPair } from './import-key-pair.js';
import { registerInit } from './init.js';
import { registerRelease } from './release.js';
import { registerSign } from './sign.js';
import { registerSignBlob } from './sign-blob.js';
import { registerVerify } from './verify.js';
import { registerVerifyBlob } from './verify-blob.js';
import { registerVerifyRelease } from './verify-release.js';

/**
 * Every subcommand registers itself here. Command modules declare their flags
 * and lazily import their implementation inside the action, so registering
 * them all costs almost nothing at start-up.
 */
export function registerCommands(program: Command): void {
  registerRelease(program);
  registerContinue(program);
  registerCheck(program);
  registerInit(program);
  registerGenerateKeyPair(program);
  registerImportKeyPair(program);
  registerSignBlob(program);
  registerVerifyBlob(program);
  registerSign(program);
  registerVerify(program);
  registerVerifyRelease(program);
}
