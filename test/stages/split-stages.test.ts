import { describe, expect, it } from 'vitest';
import { releaseStages } from '../../src/stages/index.js';
import { mergeImagesStage, splitImagesStage } from '../../src/stages/split-images.js';
import { mergePartsStage, mergeStages, splitStages } from '../../src/stages/split.js';

/** The merge runs the release list minus what splits ran; a stage added to the release list is in merges too. */
describe('merge and split stage lists', () => {
  it('merge = release minus clean, before hooks, dist, build and archive; parts merged before metadata; images assembled', () => {
    const release = releaseStages();
    const merge = mergeStages();
    const dropped = release.filter((s) => !merge.includes(s)).map((s) => s.name);
    expect(dropped.sort()).toEqual(['archive', 'before', 'build', 'clean', 'dist', 'docker'].sort());
    expect(merge.indexOf(mergePartsStage)).toBe(merge.findIndex((s) => s.name === 'metadata') - 1);
    expect(merge).toContain(mergeImagesStage);
    // Same order as the release list for every stage they share.
    const shared = merge.filter((s) => release.includes(s));
    expect(shared).toEqual(release.filter((s) => shared.includes(s)));
    expect(merge.map((s) => s.name)).toEqual(['env', 'git', 'env-git', 'preflight', 'merge', 'metadata', 'source', 'checksum', 'docker', 'sign', 'docker_sign', 'changelog', 'manifest', 'release', 'artifacts']);
  });

  it('a split builds its image platforms after archiving, before recording the part', () => {
    const split = splitStages();
    expect(split.indexOf(splitImagesStage)).toBe(split.length - 2);
    expect(split.at(-1)!.name).toBe('split');
  });
});
