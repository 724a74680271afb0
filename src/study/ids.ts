/**
 * Names that become folder and file names (a study's results/<name>, a run id's parts): letters, digits
 * and _ . : + -, and not `.` or `..` (a study named `..` wrote its CSVs into the working directory).
 */
export function isSafeId(name: string): boolean {
  return /^[A-Za-z0-9_.:+-]+$/.test(name) && !/^\.+$/.test(name);
}

/** What isSafeId accepts, for messages. */
export const SAFE_ID_RULE = 'must be letters, digits and _ . : + - (and not only dots)';
