import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from './csv';

describe('csv export', () => {
  it('quotes commas, quotes and line breaks', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line1\nline2')).toBe('"line1\nline2"');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
  });

  it('guards text cells that a spreadsheet would run as a formula', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tx')).toBe("'\tx");
    // Numbers stay numbers, negative ones included.
    expect(csvCell(-50)).toBe('-50');
    expect(csvCell(true)).toBe('true');
  });

  it('writes a header and one CRLF line a row', () => {
    const rows = [
      { name: 'Ada, Countess', points: 10 },
      { name: '=cmd', points: -5 },
    ];
    const text = toCsv(
      [
        { header: 'Name', value: (r: (typeof rows)[number]) => r.name },
        { header: 'Points', value: (r: (typeof rows)[number]) => r.points },
      ],
      rows,
    );
    expect(text).toBe('Name,Points\r\n"Ada, Countess",10\r\n\'=cmd,-5\r\n');
  });
});
