/** A JSON file an officer wrote (request.json, profile.json): read, or a typed error naming it. */
import { readFileSync } from 'node:fs';
import { EntraideError } from '../../shared/errors.ts';

export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new EntraideError('USAGE', `cannot read ${file}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new EntraideError('INVALID_JSON', `${file} is not valid JSON`);
  }
}
