/** What a document is to the item it travels with (no schema library: the CLI's fast path loads this). */
export const FILE_ROLES = [
  'request_letter',
  'supporting_document',
  'court_order',
  'judgment',
  'translation',
  'execution_result',
  'certificate_of_authenticity',
  'chain_of_custody',
  'other',
] as const;
export type FileRole = (typeof FILE_ROLES)[number];
