/**
 * The directory of competent authorities on the command line:
 *   entraide authority profile set --file profile.json   sign and publish this authority's profile
 *   entraide authority profile show [AUTHORITY]           a profile as the key log holds it, with its history
 *   entraide directory search [--state KE] [--competence C] [--language fr] [--type T] [--name WORDS]
 *                             [--network ID] [--relay DOMAIN...]
 */
import type { Command } from 'commander';
import { EntraideError } from '../../shared/errors.ts';
import { profileName, type ProfileQuery } from '../../shared/keys/profile.ts';
import {
  COMPETENCE_CODES,
  COMPETENCES,
  type AuthorityProfile,
  type Competence,
} from '../../shared/protocol/profile.ts';
import { isRequestType } from '../../shared/requests/vocabulary.ts';
import { profileOf, publishProfile, searchDirectory } from '../authority-profile.ts';
import { json, out, shortTime, withNode } from './io.ts';
import type { Run } from './fast-commands.ts';
import { readJsonFile } from './read-json.ts';

function printProfile(p: AuthorityProfile, index: number | null): void {
  out(`Authority  ${p.authority}  (${p.state})`);
  for (const n of p.names) out(`Name       ${n.name} [${n.language}]`);
  out(`Languages  ${p.languages.join(', ')} (requests accepted in, UNTOC art. 18(14))`);
  out(`Competent  ${p.competences.length ? p.competences.join(', ') : '—'}`);
  if (p.requestTypes) out(`Handles    ${p.requestTypes.join(', ')}`);
  const c = p.channels;
  out(
    `Channels   electronic original ${c.electronicOriginal ? 'accepted' : 'not accepted'}; original to follow: ${c.originalToFollow}; urgent through INTERPOL: ${c.interpol ? 'yes' : 'no'}`,
  );
  if (p.onCall)
    out(
      `On call    ${[p.onCall.node, p.onCall.phone, p.onCall.email, p.onCall.hours].filter(Boolean).join('  ')}`,
    );
  if (p.requirements?.dualCriminality) out(`Dual criminality: ${p.requirements.dualCriminality}`);
  if (p.requirements?.limitsOnUse) out(`Limits on use: ${p.requirements.limitsOnUse}`);
  if (p.requirements?.other) out(`Requirements: ${p.requirements.other}`);
  for (const t of p.treaties ?? []) out(`Treaty     ${t.kind}${t.reference ? `: ${t.reference}` : ''}`);
  if (p.guide) out(`Guide      ${p.guide}`);
  out(
    `Published  ${shortTime(p.issuedAt)}${index === null ? '' : ` (key log entry ${index})`}, signed by the master key`,
  );
}

export function directoryCommands(program: Command, run: Run): void {
  const authority = program.command('authority').description('this authority’s entry in the directory');
  const profile = authority.command('profile').description('the profile counterparts read before sending');
  profile
    .command('set')
    .description(
      'sign profile.json with the master key and publish it in the key log (see README: Directory)',
    )
    .requiredOption('--file <profile.json>', 'the profile')
    .option('--json', 'machine-readable output')
    .action((o: { file: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const r = await publishProfile(node, readJsonFile(o.file));
          if (o.json) return json(r);
          out(`profile of ${r.authority} published (key log entry ${r.index})`);
        }),
      ),
    );
  profile
    .command('show [authority]')
    .description('a profile in force (this authority’s when none is named) and the history of its changes')
    .option('--json', 'machine-readable output')
    .action((name: string | undefined, o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const v = await profileOf(node, name ?? node.authority);
          if (o.json) return json(v);
          if (!v.profile) out(`${v.authority} has published no profile`);
          else printProfile(v.profile, v.index);
          if (v.history.length) out('History:');
          for (const h of v.history)
            out(
              `  ${shortTime(h.loggedAt)}  entry ${h.index}  ${h.accepted ? h.summary : `REFUSED [${h.code}] ${h.reason}`}`,
            );
        }),
      ),
    );

  program
    .command('directory')
    .description('the directory of competent authorities')
    .command('search')
    .description(
      'authorities by State, competence, language, request type, name or network, on every relay this node knows',
    )
    .option('--state <CC>', 'ISO 3166 country code, e.g. KE')
    .option('--competence <code>', `one of: ${COMPETENCE_CODES.join(', ')}`)
    .option('--language <code>', 'a language requests may be written in (ISO 639)')
    .option('--type <type>', 'a request type it handles')
    .option('--name <words>', 'words of its name')
    .option('--network <id>', 'only members of this network (a roster this node holds)')
    .option('--relay <domain...>', 'only these relays')
    .option('--json', 'machine-readable output')
    .action(
      (o: {
        state?: string;
        competence?: string;
        language?: string;
        type?: string;
        name?: string;
        network?: string;
        relay?: string[];
        json?: boolean;
      }) =>
        run(() =>
          withNode(program, async (node) => {
            if (o.competence && !(COMPETENCE_CODES as readonly string[]).includes(o.competence))
              throw new EntraideError('USAGE', `--competence is one of: ${COMPETENCE_CODES.join(', ')}`);
            if (o.type && !isRequestType(o.type))
              throw new EntraideError(
                'REQUEST_TYPE_UNKNOWN',
                `"${o.type}" is not a request type; see entraide request types`,
              );
            const query: ProfileQuery = {
              state: o.state,
              competence: o.competence as Competence | undefined,
              language: o.language,
              requestType: o.type as ProfileQuery['requestType'],
              name: o.name,
            };
            const among = o.network ? new Set(node.networks.mustHold(o.network).members) : undefined;
            const r = await searchDirectory(node, query, { relays: o.relay, among });
            if (o.json) return json(r);
            for (const u of r.unreachable)
              process.stderr.write(`entraide: relay ${u.relay} not searched: ${u.reason}\n`);
            if (r.hits.length === 0)
              out(`no authority found (searched ${r.searched.join(', ') || 'no relay'})`);
            for (const h of r.hits) {
              const p = h.profile;
              out(`${p.state}  ${h.authority}  ${profileName(p, 'en')}`);
              out(
                `    languages ${p.languages.join(', ')}; ${p.competences.map((c) => COMPETENCES[c].split(' (')[0]).join('; ')}`,
              );
              if (p.onCall?.phone)
                out(`    24/7 ${p.onCall.phone}${p.onCall.node ? `  (${p.onCall.node})` : ''}`);
            }
          }),
        ),
    );
}
