import { describe, expect, it } from 'vitest';
import { keyPaths } from '@/shared/i18n';
import en from './en';
import zh from './zh-CN';

describe('mall locale tables', () => {
  it('have the same keys in English and Simplified Chinese', () => {
    expect(keyPaths(zh).sort()).toEqual(keyPaths(en).sort());
  });

  it('have no empty message', () => {
    const leaves = (table: object, prefix = ''): [string, string][] =>
      Object.entries(table).flatMap(([name, value]) =>
        typeof value === 'object' ? leaves(value, `${prefix}${name}.`) : [[`${prefix}${name}`, value as string]],
      );
    for (const [key, text] of [...leaves(en), ...leaves(zh)]) expect(text.trim(), key).not.toBe('');
  });

  it('translates the Chinese table (not English left in place)', () => {
    const get = (table: object, path: string) =>
      path.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], table) as string;
    const paths = keyPaths(en);
    const chinese = paths.filter((path) => /[\u4e00-\u9fff]/.test(get(zh, path)));
    // Only a few messages may stay without Chinese (the language names, "× {n}").
    expect(paths.length - chinese.length).toBeLessThanOrEqual(4);
  });

  it('keeps the same placeholders in both languages', () => {
    const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const get = (table: object, path: string) =>
      path.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], table) as string;
    for (const path of keyPaths(en)) {
      expect([...new Set(names(get(zh, path)))], path).toEqual([...new Set(names(get(en, path)))]);
    }
  });
});
