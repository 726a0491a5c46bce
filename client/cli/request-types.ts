/**
 * `entraide request types`: every code a request uses, with the provision it comes from: request
 * types, the kinds of measure of UNTOC art. 18(3), categories of data, stages of proceedings,
 * legal bases, relations between requests, statuses (who sets each, for which types) and grounds
 * of refusal (for which types, and the two the Convention forbids).
 */
import { ART_18_21_GROUNDS, groundsFor, PROHIBITED_GROUNDS } from '../../shared/requests/grounds.ts';
import { statusTypes, TRANSITIONS } from '../../shared/requests/lifecycle.ts';
import {
  DATA_CATEGORIES,
  LEGAL_BASES,
  MEASURE_KINDS,
  MEASURE_STATES,
  PROCEEDING_STAGES,
  REFUSAL_GROUNDS,
  RELATIONS,
  REQUEST_TYPE_LABELS,
  REQUEST_TYPE_SOURCES,
  REQUEST_TYPES,
  STATUS_SOURCES,
  STATUSES,
  type RefusalGround,
  type Status,
} from '../../shared/requests/vocabulary.ts';
import { json, out } from './io.ts';

function statusRow(s: Status) {
  const steps = TRANSITIONS.filter((t) => t.to === s);
  const by = steps.length ? steps[0]!.by : null;
  return {
    code: s,
    setBy:
      by === 'update'
        ? steps[0]!.owner
        : by === 'send'
          ? 'sending'
          : by === 'receipt'
            ? 'delivery receipt'
            : 'drafting',
    types: statusTypes(s),
    source: STATUS_SOURCES[s] ?? null,
  };
}

function groundRow(g: RefusalGround) {
  return {
    code: g,
    text: REFUSAL_GROUNDS[g],
    prohibited: Boolean(PROHIBITED_GROUNDS[g]),
    types: PROHIBITED_GROUNDS[g] ? [] : REQUEST_TYPES.filter((t) => groundsFor(t).includes(g)),
    consultationFirst: ART_18_21_GROUNDS.includes(g),
  };
}

export function requestTypesView() {
  return {
    types: REQUEST_TYPES.map((t) => ({
      code: t,
      label: REQUEST_TYPE_LABELS[t],
      source: REQUEST_TYPE_SOURCES[t],
    })),
    measures: Object.entries(MEASURE_KINDS).map(([code, text]) => ({ code, text })),
    measureStates: [...MEASURE_STATES],
    dataCategories: Object.entries(DATA_CATEGORIES).map(([code, text]) => ({ code, text })),
    proceedingStages: [...PROCEEDING_STAGES],
    legalBases: Object.entries(LEGAL_BASES).map(([code, text]) => ({ code, text })),
    relations: Object.entries(RELATIONS).map(([code, text]) => ({ code, text })),
    statuses: STATUSES.map(statusRow),
    grounds: (Object.keys(REFUSAL_GROUNDS) as RefusalGround[]).map(groundRow),
  };
}

export function printRequestTypes(asJson: boolean): void {
  const v = requestTypesView();
  if (asJson) return json(v);
  const pad = (s: string, n: number) => s.padEnd(n);
  out('Request types (--type):');
  for (const t of v.types) out(`  ${pad(t.code, 30)} ${t.label} — ${t.source}`);
  out('Measures (measures[].kind), UNTOC art. 18(3):');
  for (const m of v.measures) out(`  ${pad(m.code, 30)} ${m.text}`);
  out(`Where a measure stands (--measure N=STATE): ${v.measureStates.join(', ')}`);
  out('Categories of data (evidence[].dataCategory):');
  for (const d of v.dataCategories) out(`  ${pad(d.code, 30)} ${d.text}`);
  out(`Stages of proceedings (proceedings.stage), art. 18(15)(b): ${v.proceedingStages.join(', ')}`);
  out('Legal bases (legalBasis[].kind):');
  for (const b of v.legalBases) out(`  ${pad(b.code, 30)} ${b.text}`);
  out('Relations to an earlier request (relatedTo[].relation, --related ID=RELATION):');
  for (const r of v.relations) out(`  ${pad(r.code, 30)} ${r.text}`);
  out('Statuses (set by; types; source):');
  for (const s of v.statuses)
    out(
      `  ${pad(s.code, 36)} ${s.setBy}${s.types ? `; ${s.types.join(', ')} only` : ''}${s.source ? `; ${s.source}` : ''}`,
    );
  out('Grounds of refusal (--ground):');
  for (const g of v.grounds) {
    const scope = g.prohibited
      ? 'never a ground: refused with GROUND_PROHIBITED'
      : g.types.length === REQUEST_TYPES.length
        ? 'every type'
        : g.types.join(', ');
    out(`  ${pad(g.code, 26)} ${g.text}`);
    out(
      `  ${pad('', 26)} (${scope}${g.consultationFirst ? '; after a consultation on conditions, art. 18(26)' : ''})`,
    );
  }
}
