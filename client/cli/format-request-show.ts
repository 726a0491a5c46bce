/**
 * How `entraide request show` prints a request and its story. Apart from format-requests.ts because
 * describing the handling loads the schema library: the served path imports this only for `show`.
 */
import { describeHandling } from '../../shared/requests/handling.ts';
import { REQUEST_TYPE_LABELS } from '../../shared/requests/vocabulary.ts';
import type { RequestDetail } from '../requests.ts';
import type { ItemDocuments } from '../service/desk-documents.ts';
import { out, shortTime } from './fast-io.ts';
import { flagsText } from './format-requests.ts';

export function printRequestShow(d: RequestDetail & { documents?: ItemDocuments[] }): void {
  const c = d.content;
  out(`Request   ${d.id}`);
  out(`Type      ${d.requestType} (${REQUEST_TYPE_LABELS[c.requestType]})`);
  out(`From      ${d.requesting}  ref. ${d.references.requesting}`);
  out(`To        ${d.requested}${d.references.requested ? `  ref. ${d.references.requested}` : ''}`);
  out(`Status    ${d.state}${d.stateAt ? ` since ${shortTime(d.stateAt)}` : ''}${flagsText(d.flags)}`);
  out(`Urgency   ${c.urgency}${c.urgencyReason ? ` — ${c.urgencyReason}` : ''}`);
  if (c.deadline) out(`Deadline  ${c.deadline}`);
  if (c.dataRetentionUntil) out(`Data kept until ${c.dataRetentionUntil}`);
  out(`Handling  ${describeHandling(d.handling)}`);
  out(`Language  ${c.language}`);
  out(`Title     ${c.title}`);
  if (c.caseReference) out(`Case      ${c.caseReference}`);
  for (const r of c.relatedTo ?? []) out(`Related   ${r.relation} ${r.request}`);
  if (c.versions?.length)
    out(
      `Versions  ${c.versions.map((v) => `${v.language}${v.authoritative ? ' (authoritative)' : ''}`).join(', ')}`,
    );
  if (c.translationPending)
    out(`Translation into ${c.translationPending.language} to follow by ${c.translationPending.due}`);
  if (c.legalBasis?.length)
    out(
      `Legal basis: ${c.legalBasis.map((b) => [b.kind, b.reference].filter(Boolean).join(': ')).join('; ')}`,
    );
  if (c.proceedings)
    out(
      `Proceedings: ${c.proceedings.stage}${c.proceedings.conductingAuthority ? `, conducted by ${c.proceedings.conductingAuthority}` : ''}`,
    );
  if (c.offence)
    out(`Offence: ${c.offence.description}${c.offence.provision ? ` (${c.offence.provision})` : ''}`);
  if (c.summaryOfFacts) {
    out('Facts:');
    out(`  ${c.summaryOfFacts}`);
  }
  if (c.purpose) out(`Purpose: ${c.purpose}`);
  if (d.measures.length) {
    out('Measures requested (number, kind, state):');
    d.measures.forEach((m, i) => out(`  ${i}. [${m.kind}] ${m.description} — ${m.state}`));
  }
  if (c.procedures) out(`Procedures to follow: ${c.procedures}`);
  if (c.persons?.length) {
    out('Persons:');
    for (const p of c.persons)
      out(
        `  - ${p.role}: ${p.name}${p.nationality ? ` (${p.nationality})` : ''}${p.location ? `, at ${p.location}` : ''}`,
      );
  }
  if (c.evidence?.length) {
    out('Evidence and data:');
    for (const e of c.evidence)
      out(
        `  - ${e.description}${e.dataCategory ? ` [${e.dataCategory}]` : ''}${e.holder ? `; held by ${e.holder}` : ''}${e.identifiers ? `; ${e.identifiers}` : ''}`,
      );
  }
  for (const w of d.warnings) out(`warning ${w.code}: ${w.message}`);
  out('');
  out('Story:');
  for (const e of d.story) {
    out(
      `  ${shortTime(e.at)}  ${e.what.padEnd(10)} ${e.by}  ${e.text}${e.standing ? `  (${e.standing})` : ''}`,
    );
  }
  if (d.documents?.length) {
    out('');
    out('Documents:');
    for (const item of d.documents) {
      out(`  ${item.what} ${item.envelope.slice(0, 8)}  ${shortTime(item.at)}`);
      for (const f of item.files) {
        const lang = f.language ? ` ${f.language}` : '';
        out(`    ${f.name}  ${f.size} bytes  ${f.role}${lang}  ${f.state}${f.error ? ` (${f.error})` : ''}`);
        for (const by of f.downloadedBy ?? [])
          out(`      downloaded and verified by ${by.node}  ${shortTime(by.at)}`);
      }
    }
    out('  (entraide download <item> --out DIR writes an item’s documents, verified)');
  }
  out('');
  out(
    d.next.length
      ? `This side (${d.side}) may set: ${d.next.join(', ')}`
      : `Nothing for this side (${d.side}) to set.`,
  );
}
