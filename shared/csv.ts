/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break, and never read as
 * a formula by a spreadsheet (a leading =, +, -, @, tab or carriage return is escaped with a quote).
 */
export function spreadsheetCell(value: unknown): string {
  let text =
    value === undefined || value === null ? '' : Array.isArray(value) ? value.join(' ') : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
