import { describe, expect, it } from 'vitest';
import { DICTS, detectLang } from '../src/i18n';

describe('i18n', () => {
  it('has every key in every language', () => {
    const keys = Object.keys(DICTS.en).sort();
    expect(Object.keys(DICTS.fa).sort()).toEqual(keys);
    expect(Object.keys(DICTS.de).sort()).toEqual(keys);
  });
  it('detects from the stored choice, then navigator languages', () => {
    expect(detectLang('de', ['fa-IR'])).toBe('de');
    expect(detectLang(null, ['fa-IR', 'en'])).toBe('fa');
    expect(detectLang(null, ['de-AT'])).toBe('de');
    expect(detectLang('xx', ['ja'])).toBe('en');
  });
});
