import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyPaths } from '@/shared/i18n';
import en from './en';
import zhCN from './zh-CN';

const adminDir = path.resolve(__dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.(vue|ts)$/.test(name) && !name.endsWith('.test.ts') ? [full] : [];
  });
}

describe('console locales', () => {
  it('English and Chinese have the same keys', () => {
    expect(keyPaths(zhCN).sort()).toEqual(keyPaths(en).sort());
  });

  it('every Chinese text is translated, not copied from English', () => {
    const english = new Map(keyPaths(en).map((key) => [key, key.split('.').reduce<any>((o, k) => o[k], en)]));
    const same = keyPaths(zhCN).filter((key) => {
      const text = key.split('.').reduce<any>((o, k) => o[k], zhCN);
      return text === english.get(key) && /[a-z]{3,}/.test(text) && !['language.en', 'language.zh', 'program.jsonView', 'coupons.csvText', 'access.totpUri'].includes(key);
    });
    expect(same).toEqual([]);
  });

  it('every key the sources name literally exists', () => {
    const known = new Set(keyPaths(en));
    const used = new Set<string>();
    for (const file of sources(adminDir)) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/\bt\(\s*'([A-Za-z0-9_.]+)'/g)) used.add(match[1]!);
    }
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((key) => !known.has(key))).toEqual([]);
  });
});
