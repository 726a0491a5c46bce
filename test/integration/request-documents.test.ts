/**
 * Documents bound into the legal record: a request sent with its letter and a translation, the
 * evidence sent back signed into the `executed` step, a supplement with a document. Each side
 * downloads, verifies and exports the other's files; each sender sees the recipient's signed
 * `downloaded` receipt naming exactly the files it sealed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorityNode } from '../../client/node.ts';
import { documentsOf, requestDocuments } from '../../client/service/desk-documents.ts';
import { enrolNode, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { preservationDraft } from '../support/requests.ts';
import { waitFor } from '../support/wait.ts';

let relay: TestRelay;
let sn: AuthorityNode;
let ke: AuthorityNode;
const dir = tempDir('entraide-request-docs-');

function file(name: string, size: number): string {
  const path = join(dir, name);
  writeFileSync(path, randomBytes(size));
  return path;
}
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('base64url');

beforeAll(async () => {
  relay = await startTestRelay();
  sn = await enrolNode(relay, 'sn.moj');
  ke = await enrolNode(relay, 'ke.ag');
});
afterAll(async () => {
  await sn?.close();
  await ke?.close();
  await relay?.close();
});

describe('documents on requests', () => {
  it('carries the request letter and its translation, the evidence of executed, and a supplement’s document', async () => {
    const letter = file('demande.pdf', 200_000);
    const translation = file('request-en.pdf', 150_000);
    const created = await sn.requests.create({
      type: 'expedited_preservation',
      to: ke.authority,
      draft: preservationDraft(),
      attachments: [
        { path: letter, role: 'request_letter', language: 'fr' },
        { path: translation, role: 'translation', language: 'en', translationOf: '#1' },
      ],
    });
    expect(created.state).toBe('sent');

    await ke.fetchInbox();
    const shown = ke.requests.show(created.id);
    const items = requestDocuments(ke, shown.story);
    expect(items).toHaveLength(1);
    const [l, t] = items[0]!.files;
    expect([l!.role, l!.language, l!.state, t!.role, t!.translationOf]).toEqual([
      'request_letter',
      'fr',
      'pending',
      'translation',
      l!.blob,
    ]);
    const out = tempDir('entraide-request-docs-out-');
    const paths = await ke.documents.exportItem(items[0]!.envelope, out);
    expect(paths.map(sha)).toEqual([sha(letter), sha(translation)]);
    expect(documentsOf(ke, items[0]!.envelope).map((d) => d.state)).toEqual(['held', 'held']);

    // Senegal learns that Kenya's node holds both, verified.
    await waitFor(async () => {
      await sn.fetchInbox();
      const mine = requestDocuments(sn, sn.requests.show(created.id).story)[0]!.files;
      return mine.every((f) => f.downloadedBy?.some((b) => b.node === ke.address));
    });

    // The evidence bundle proves which exact documents reached Kenya, and when.
    const proof = sn.receipts.evidence(sn.store.requests.request(created.id)!.envelopeId!);
    const downloaded = proof.receipts.filter((r) => r.kind === 'downloaded');
    expect(downloaded.map((r) => [r.node, r.valid])).toEqual([[ke.address, true]]);
    expect(proof.documents.map((d) => [d.name, d.sha256, d.downloadedBy.map((b) => b.node)])).toEqual([
      ['demande.pdf', sha(letter), [ke.address]],
      ['request-en.pdf', sha(translation), [ke.address]],
    ]);

    // The evidence goes back inside the signed `executed` step.
    for (const status of ['acknowledged', 'in_execution'] as const)
      await ke.requests.update(created.id, status);
    const records = file('records.csv', 300_000);
    const certificate = file('certificate.pdf', 50_000);
    const executed = await ke.requests.update(created.id, 'executed', {
      note: 'Executed; records attached.',
      attachments: [
        { path: records, role: 'execution_result' },
        { path: certificate, role: 'certificate_of_authenticity', language: 'en' },
      ],
    });
    await sn.fetchInbox();
    const story = sn.requests.show(created.id);
    expect(story.state).toBe('executed');
    const evidence = requestDocuments(sn, story.story).find((i) => i.envelope === executed.sent.id)!;
    expect(evidence.files.map((f) => f.role)).toEqual(['execution_result', 'certificate_of_authenticity']);
    const back = await sn.documents.exportItem(executed.sent.id, tempDir('entraide-request-docs-out-'));
    expect(back.map(sha)).toEqual([sha(records), sha(certificate)]);
    // The files are part of the signed update: its stored form names them with their hashes.
    const update = sn.store.requests
      .updates(created.id)
      .map((u) => JSON.parse(u.signed) as { status: string; files?: { sha256: string }[] })
      .find((u) => u.status === 'executed')!;
    expect(update.files!.map((f) => f.sha256)).toEqual([sha(records), sha(certificate)]);

    // A document from the requesting side after the fact: a supplement.
    const order = file('ordonnance.pdf', 80_000);
    const supplement = await sn.requests.attach(created.id, [
      { path: order, role: 'court_order', language: 'fr' },
    ]);
    await ke.fetchInbox();
    const again = requestDocuments(ke, ke.requests.show(created.id).story);
    expect(again.find((i) => i.envelope === supplement.id)?.files.map((f) => f.name)).toEqual([
      'ordonnance.pdf',
    ]);
  });
});
