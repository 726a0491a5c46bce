/**
 * `entraide request new --interactive`: the request built by questions, one per field, with the
 * same checks as a file. Answers are read line by line from standard input, so the questions can
 * also be answered by a script. An empty answer skips an optional field.
 */
import { createInterface } from 'node:readline';
import { EntraideError } from '../../shared/errors.ts';
import { completenessWarnings, validateDraft, calendarDay } from '../../shared/requests/completeness.ts';
import {
  isRequestType,
  REQUEST_TYPE_LABELS,
  REQUEST_TYPES,
  URGENCIES,
  type RequestType,
} from '../../shared/requests/vocabulary.ts';

export interface Guided {
  type: string;
  to: string;
  draft: Record<string, unknown>;
  /** `send` (the officer saw any warnings and chose to send) or `draft`. */
  decision: 'send' | 'draft';
}

export async function guidedDraft(given: {
  type?: string | undefined;
  to?: string | undefined;
}): Promise<Guided> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (question: string, fallback = ''): Promise<string> => {
    process.stderr.write(`${question}${fallback ? ` [${fallback}]` : ''}: `);
    const next = await lines.next();
    if (next.done) throw new EntraideError('USAGE', 'the questions ended before the request was complete');
    return next.value.trim() || fallback;
  };
  const askList = async (question: string): Promise<string[]> => {
    process.stderr.write(`${question} (one per line, an empty line ends)\n`);
    const items: string[] = [];
    for (;;) {
      const item = await ask('  -');
      if (!item) return items;
      items.push(item);
    }
  };
  try {
    let type = given.type;
    if (!type) {
      process.stderr.write(
        REQUEST_TYPES.map((t, i) => `  ${i + 1}. ${t} (${REQUEST_TYPE_LABELS[t]})`).join('\n') + '\n',
      );
      const answer = await ask('Request type (number or name)');
      type = /^\d+$/.test(answer) ? (REQUEST_TYPES[Number(answer) - 1] ?? answer) : answer;
    }
    if (!isRequestType(type)) {
      throw new EntraideError(
        'REQUEST_TYPE_UNKNOWN',
        `"${type}" is not a request type; see entraide request types`,
      );
    }
    const to = given.to ?? (await ask('Requested authority (e.g. ng.moj@relay.wacap.example)'));
    const draft: Record<string, unknown> = {};
    draft.title = await ask('Title');
    draft.language = await ask('Language (an ISO 639 code: en, fr, ar, zh, ru, es, pt, uz, ka...)', 'en');
    draft.references = { requesting: await ask('Your reference number') };
    const basis = await ask('Legal basis (e.g. UNTOC art. 18, a treaty, reciprocity)');
    if (basis) {
      const kind = /untoc|convention|cto/i.test(basis)
        ? 'untoc'
        : /reciproc/i.test(basis)
          ? 'reciprocity'
          : 'treaty';
      draft.legalBasis = [{ kind, reference: basis }];
    }
    const offence = await ask('Offence');
    if (offence) draft.offence = { description: offence };
    const facts = await ask('Summary of the facts (one paragraph)');
    if (facts) draft.summaryOfFacts = facts;
    const measures = await askList('Measures requested');
    if (measures.length) draft.measures = measures;
    draft.urgency = await ask(`Urgency (${URGENCIES.join(', ')})`, 'routine');
    if (draft.urgency !== 'routine') {
      const why = await ask('Why is it urgent');
      if (why) draft.urgencyReason = why;
    }
    const deadline = await ask('Deadline (YYYY-MM-DD)');
    if (deadline) draft.deadline = deadline;
    if (['expedited_preservation', 'stored_data_production', 'real_time_traffic_collection'].includes(type)) {
      const holder = await ask('Who holds the data (provider)');
      const identifiers = await ask('Identifiers (accounts, IP addresses and times)');
      const retention = await ask('Data kept until (YYYY-MM-DD)');
      if (holder || identifiers) {
        draft.evidence = [
          {
            description: 'Data to preserve',
            ...(holder ? { holder } : {}),
            ...(identifiers ? { identifiers } : {}),
          },
        ];
      }
      if (retention) draft.dataRetentionUntil = retention;
    }
    const contact = await ask('Point of contact (name)');
    if (contact) draft.contact = { name: contact };

    // The same checks as for a file: errors stop here, warnings are shown before the choice.
    const valid = validateDraft(draft, calendarDay(Date.now()));
    const warnings = completenessWarnings(type as RequestType, valid);
    for (const w of warnings) process.stderr.write(`warning ${w.code} (${w.field}): ${w.message}\n`);
    const choice = (
      await ask(
        warnings.length
          ? 'Send anyway, keep as draft, or cancel? (send/draft/cancel)'
          : 'Send now, keep as draft, or cancel? (send/draft/cancel)',
        'draft',
      )
    ).toLowerCase();
    if (choice.startsWith('c')) throw new EntraideError('USAGE', 'cancelled: nothing was stored or sent');
    return { type, to, draft, decision: choice.startsWith('s') ? 'send' : 'draft' };
  } finally {
    rl.close();
  }
}
