import { fail } from '../params/errors.js';

/** A parsed CSV file: its header and one record per data row, values as written (strings). */
export interface CsvTable {
  file: string;
  columns: string[];
  rows: Record<string, string>[];
}

/**
 * Parses RFC 4180 CSV (comma separators, double-quoted fields with "" escapes, CRLF or LF line ends).
 * `file` only names the source in error messages.
 */
export function parseCsv(text: string, file: string): CsvTable {
  const records = splitRecords(text, file);
  // A trailing newline leaves one empty record; blank lines carry no data either.
  const nonEmpty = records.filter((r) => !(r.length === 1 && r[0] === ''));
  if (nonEmpty.length === 0) fail('DATA', `${file}: empty CSV file (no header row)`);
  const columns = nonEmpty[0].map((c) => c.trim());
  const seen = new Set<string>();
  for (const c of columns) {
    if (c === '') fail('DATA', `${file}: header has an empty column name`);
    if (seen.has(c)) fail('DATA', `${file}: header names column "${c}" twice`);
    seen.add(c);
  }
  const rows: Record<string, string>[] = [];
  for (let i = 1; i < nonEmpty.length; i++) {
    const rec = nonEmpty[i];
    if (rec.length !== columns.length) {
      fail('DATA', `${file}: data row ${i} has ${rec.length} fields, the header has ${columns.length}`);
    }
    const row: Record<string, string> = {};
    columns.forEach((c, j) => (row[c] = rec[j]));
    rows.push(row);
  }
  return { file, columns, rows };
}

/**
 * The records of CSV text as written, for readers that want them without a header check; the record a
 * final line end leaves empty is dropped (blank lines inside stay, as one empty field).
 */
export function parseCsvRecords(text: string, file = 'CSV text'): string[][] {
  const records = splitRecords(text, file);
  const last = records[records.length - 1];
  if (last && last.length === 1 && last[0] === '') records.pop();
  return records;
}

/** Rows as objects keyed by the header row (missing trailing fields read as ''). */
export function csvObjects(text: string, file = 'CSV text'): Record<string, string>[] {
  const [header, ...rows] = parseCsvRecords(text, file);
  if (!header) return [];
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

function splitRecords(text: string, file: string): string[][] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte-order mark from spreadsheet exports
  // Fast path: results files are plain numbers and names; quoting only appears for odd labels.
  if (!text.includes('"')) return text.split(/\r?\n|\r/).map((line) => line.split(','));
  return splitQuoted(text, file);
}

/** The general RFC 4180 scanner, for files with quoted fields (which may hold commas and newlines). */
function splitQuoted(text: string, file: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += ch;
      }
    } else if (ch === '"') {
      if (field !== '') fail('DATA', `${file}: stray quote inside an unquoted field on record ${records.length + 1}`);
      quoted = true;
    } else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else {
      field += ch;
    }
  }
  if (quoted) fail('DATA', `${file}: unterminated quoted field at end of file`);
  record.push(field);
  records.push(record);
  return records;
}

/** Checks that every required column is in the header; the error names the file and the first missing column. */
export function requireColumns(table: CsvTable, required: readonly string[]): void {
  for (const c of required) {
    if (!table.columns.includes(c)) {
      fail('DATA', `${table.file}: missing required column "${c}" (header: ${table.columns.join(', ')})`);
    }
  }
}

/** A finite number from a cell, or a DATA error naming file, row and column. */
export function numberCell(table: CsvTable, rowIndex: number, column: string): number {
  const raw = table.rows[rowIndex][column]?.trim() ?? '';
  const v = raw === '' ? NaN : Number(raw);
  if (!Number.isFinite(v)) {
    fail('DATA', `${table.file}: data row ${rowIndex + 1}, column "${column}": expected a number, got "${raw}"`);
  }
  return v;
}

/** A number from a cell that may be blank or NaN (optional metrics); null then. */
export function optionalNumberCell(table: CsvTable, rowIndex: number, column: string): number | null {
  const raw = table.rows[rowIndex][column]?.trim() ?? '';
  if (raw === '' || raw === 'NaN' || raw === 'nan' || raw === '-') return null;
  const v = Number(raw);
  if (Number.isNaN(v)) {
    fail(
      'DATA',
      `${table.file}: data row ${rowIndex + 1}, column "${column}": expected a number or blank, got "${raw}"`,
    );
  }
  return v;
}
