// The pre-upload check: the same refusals as the service's sniffing, from
// a file's name and first bytes, before Uppy sends anything.

import { describe, expect, it } from 'vitest';
import { checkFile, sniff } from '../src/customer/file-check';

const enc = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));
const named = (name: string, body: Uint8Array<ArrayBuffer> | string) => new File([typeof body === 'string' ? enc(body) : body], name);

function randomBytes(n: number, seed = 7): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('checkFile', () => {
  it('refuses a PDF, an image, an archive and binary data, naming the file and what it is', async () => {
    expect(await checkFile(named('contacts.csv', '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'))).toBe(
      'contacts.csv: this is a PDF document, not a spreadsheet export. Upload the export as CSV, TSV, BLM or XLSX.',
    );
    expect(await checkFile(named('logo.dat', '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR'))).toContain('logo.dat: this is a PNG image');
    expect(await checkFile(named('photo.txt', '\xff\xd8\xff\xe0\x00\x10JFIF'))).toContain('a JPEG image');
    expect(await checkFile(named('x.csv', 'GIF89a\x01\x00'))).toContain('a GIF image');
    expect(await checkFile(named('export.csv.gz', '\x1f\x8b\x08\x00'))).toContain('export.csv.gz: this is a compressed file');
    expect(await checkFile(named('data.csv', '\x1f\x8b\x08\x00'))).toContain('data.csv: this is a gzip-compressed file');
    expect(await checkFile(named('export.zip', randomBytes(4096)))).toContain('export.zip: this is binary data, not text');
    expect(await checkFile(named('export.zip', 'PK\x03\x04\x14\x00'))).toContain('export.zip is a zip archive, not an Excel workbook');
    expect(await checkFile(named('old.xls', '\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00'))).toContain('old binary Excel (.xls)');
    expect(await checkFile(named('scan.PDF', 'Id,Name\n1,Ann\n'))).toContain('scan.PDF: this is a PDF document');
    expect(await checkFile(named('blank.csv', ''))).toBe('blank.csv is empty: it has no header row.');
  });

  it('takes what the service reads: CSV in any encoding, UTF-16, BLM and XLSX', async () => {
    expect(await checkFile(named('contacts.csv', 'Id,Name\n1,Ann\n'))).toBeNull();
    expect(await checkFile(named('cp1252.csv', 'Id,Name\n1,Ren\xe9e\n'))).toBeNull();
    expect(await checkFile(named('unicode.txt', 'I\x00d\x00,\x00N\x00a\x00m\x00e\x00\r\x00\n\x001\x00,\x00A\x00'))).toBeNull();
    expect(await checkFile(named('feed.blm', '#HEADER#\nVersion : 3\n'))).toBeNull();
    expect(await checkFile(named('book.xlsx', 'PK\x03\x04\x14\x00\x06\x00'))).toBeNull();
    expect(await checkFile(named('MZ.csv', 'MZ,Name\n1,Ann\n'))).toBeNull(); // a column named MZ is text, not a program
  });

  it('reads only the first KiB', async () => {
    const big = new Uint8Array(5 << 20);
    big.set(enc('Id,Name\n'));
    big.fill(0x41, 8);
    big[3 << 20] = 0; // a NUL far past the first KiB is the service's reader's business
    expect(await checkFile(named('big.csv', big))).toBeNull();
    expect(sniff(enc('Id\n1\n'), 'a.csv')).toBeNull();
  });
});
