// The check a file passes before its upload starts: what the service would
// refuse once the upload completed (internal/tabular's Sniff), said at
// once, next to the file, without sending a byte. The service checks again;
// this only saves the customer the wait.

/** How much of a file's start the check reads, as the service does. */
export const SNIFF_BYTES = 1024;

interface Signature {
  magic: number[];
  what: string;
  /** Short signatures that plain text can start with count only with binary bytes after them. */
  needsBinary?: boolean;
}

const bytes = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

const SIGNATURES: Signature[] = [
  { magic: bytes('%PDF-'), what: 'a PDF document' },
  { magic: [0x89, ...bytes('PNG\r\n\x1a\n')], what: 'a PNG image' },
  { magic: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { magic: bytes('GIF87a'), what: 'a GIF image' },
  { magic: bytes('GIF89a'), what: 'a GIF image' },
  { magic: bytes('II*\x00'), what: 'a TIFF image' },
  { magic: bytes('MM\x00*'), what: 'a TIFF image' },
  { magic: [0x1f, 0x8b], what: 'a gzip-compressed file (unpack it and upload the file inside)' },
  { magic: bytes('Rar!\x1a\x07'), what: 'a RAR archive (unpack it and upload the files inside)' },
  { magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], what: 'a 7-Zip archive (unpack it and upload the files inside)' },
  { magic: bytes('BZh'), what: 'a bzip2-compressed file (unpack it and upload the file inside)', needsBinary: true },
  { magic: [0xfd, ...bytes('7zXZ\x00')], what: 'an xz-compressed file (unpack it and upload the file inside)' },
  { magic: bytes('SQLite format 3\x00'), what: 'an SQLite database' },
  { magic: [0x7f, ...bytes('ELF')], what: 'a program' },
  { magic: bytes('MZ'), what: 'a Windows program', needsBinary: true },
];

const OLE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const ZIP = bytes('PK\x03\x04');

/** File name endings that are never an export the service reads, whatever their content. */
const REFUSED_EXTENSIONS: Record<string, string> = {
  pdf: 'a PDF document',
  png: 'an image',
  jpg: 'an image',
  jpeg: 'an image',
  gif: 'an image',
  heic: 'an image',
  webp: 'an image',
  doc: 'a Word document',
  docx: 'a Word document',
  ods: 'an OpenDocument spreadsheet (save it as .xlsx or CSV)',
  numbers: 'a Numbers spreadsheet (export it as .xlsx or CSV)',
  gz: 'a compressed file (unpack it and upload the file inside)',
  rar: 'an archive (unpack it and upload the files inside)',
  '7z': 'an archive (unpack it and upload the files inside)',
};

function startsWith(head: Uint8Array, magic: number[]): boolean {
  return head.length >= magic.length && magic.every((b, i) => head[i] === b);
}

/** A NUL, or more control characters than a text export has (random bytes have about one in nine). */
function looksBinary(head: Uint8Array): boolean {
  let ctl = 0;
  for (const c of head) {
    if (c === 0) return true;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) ctl++;
  }
  return ctl > 4 && ctl * 50 > head.length;
}

/** UTF-16 text without a byte-order mark: a NUL in every other byte, as the service detects it. */
function looksUTF16(head: Uint8Array): boolean {
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return true;
  const sample = head.subarray(0, Math.min(head.length, 4096) & ~1);
  const pairs = sample.length / 2;
  if (pairs < 2) return false;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < sample.length; i += 2) {
    if (sample[i] === 0) even++;
    if (sample[i + 1] === 0) odd++;
  }
  return (odd * 10 >= pairs * 3 && even * 20 <= pairs) || (even * 10 >= pairs * 3 && odd * 20 <= pairs);
}

const notSpreadsheet = (name: string, what: string) =>
  `${name}: this is ${what}, not a spreadsheet export. Upload the export as CSV, TSV, BLM or XLSX.`;

/**
 * Why the service would refuse this file's first bytes, or null when they
 * can be an export it reads. `name` is the file's name, for the message.
 */
export function sniff(head: Uint8Array, name: string): string | null {
  if (head.length === 0) return `${name} is empty: it has no header row.`;
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  if (startsWith(head, ZIP)) {
    // The service settles a zip from its directory; a zip not named .xlsx
    // is an archive of other files in practice.
    return ext === 'xlsx' || ext === 'xlsm' ? null : `${name} is a zip archive, not an Excel workbook: unzip it and upload the CSV or XLSX files inside.`;
  }
  if (startsWith(head, OLE)) return `${name} is an old binary Excel (.xls) workbook, which cutover cannot read: save it from Excel as .xlsx or CSV.`;
  for (const s of SIGNATURES) {
    if (startsWith(head, s.magic) && (!s.needsBinary || looksBinary(head))) return notSpreadsheet(name, s.what);
  }
  if (looksUTF16(head)) return null;
  if (looksBinary(head)) return notSpreadsheet(name, 'binary data, not text');
  return null;
}

/**
 * Why this file cannot be uploaded as an export, or null when it can: its
 * name's ending first (a .pdf is refused unread), then its first
 * SNIFF_BYTES bytes, read with File.slice.
 */
export async function checkFile(file: Blob & { name: string }): Promise<string | null> {
  const ext = file.name.includes('.') ? file.name.slice(file.name.lastIndexOf('.') + 1).toLowerCase() : '';
  const refused = REFUSED_EXTENSIONS[ext];
  if (refused) return notSpreadsheet(file.name, refused);
  if (file.size === 0) return `${file.name} is empty: it has no header row.`;
  const head = new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer());
  return sniff(head, file.name);
}
