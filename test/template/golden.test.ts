import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { renderTemplate, TemplateError } from '../../src/template/index.js';
import { ALL_GOLDEN, DATA, ERRORS, NOW, TIME } from './golden.js';

for (const [group, cases] of Object.entries(ALL_GOLDEN)) {
  describe(`golden: ${group}`, () => {
    test.each(cases)('%s', (template, expected) => {
      expect(renderTemplate(template, DATA, { name: 't' })).toBe(expected);
    });
  });
}

describe('golden: time (clock frozen)', () => {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });
  afterAll(() => {
    vi.useRealTimers();
  });
  test.each(TIME)('%s', (template, expected) => {
    expect(renderTemplate(template, DATA, { name: 't' })).toBe(expected);
  });
});

describe('golden: errors', () => {
  test.each(ERRORS)('%s', (template, message) => {
    let caught: unknown;
    try {
      renderTemplate(template, DATA, { name: 't' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TemplateError);
    const err = caught as TemplateError;
    expect(err.message).toBe(message);
    expect(err.template).toBe('t');
    expect(err.message).not.toContain('\n');
  });
});
