/** Request drafts for tests and demos, in the languages of the networks in examples/networks.json. */

/** A day `days` from today, YYYY-MM-DD (UTC). */
export function dayFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** A complete urgent preservation request (English), as an officer would write request.json. */
export function preservationDraft(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'Preservation of e-mail account data — fraud ring',
    language: 'en',
    legalBasis: [{ kind: 'untoc', reference: 'UNTOC art. 18' }],
    offence: {
      description: 'Participation in an organized criminal group; advance-fee fraud',
      provision: 'Code pénal art. 265',
    },
    proceedings: { stage: 'investigation', conductingAuthority: 'Investigating judge, Dakar regional court' },
    summaryOfFacts:
      'Between March and June 2026 a group based in Dakar and Lagos defrauded 140 victims through fake investment offers.',
    purpose: 'To identify the members of the group before the data are deleted',
    measures: [
      {
        kind: 'other',
        description: 'Preserve the content and traffic data of the account named below for 90 days',
      },
    ],
    persons: [{ role: 'suspect', name: 'A. B.', nationality: 'NG' }],
    evidence: [
      {
        description: 'E-mail account used to contact the victims',
        holder: 'Example Mail Ltd, Lagos',
        identifiers: 'fraud.desk@example.ng, logins 2026-03-01 to 2026-06-30',
        dataCategory: 'traffic',
      },
    ],
    urgency: 'urgent',
    urgencyReason: 'The provider deletes traffic data after 30 days',
    dataRetentionUntil: dayFromNow(20),
    references: { requesting: 'SN-MJ-2026-0142' },
    contact: {
      name: 'Desk officer, Direction des affaires criminelles',
      phone: '+221 33 000 00 00',
      available24h: true,
    },
    ...overrides,
  };
}

/** A complete MLA request (French), used for a second request that gets withdrawn. */
export function mlaDraft(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'Audition de témoins — trafic de migrants',
    language: 'fr',
    legalBasis: [{ kind: 'untoc', reference: 'CTO art. 18' }],
    proceedings: { stage: 'investigation', conductingAuthority: 'Juge d’instruction, tribunal de Dakar' },
    offence: { description: 'Trafic illicite de migrants par voie maritime' },
    summaryOfFacts: 'Des témoins résidant à Lagos ont assisté à l’embarquement de migrants en 2025.',
    purpose: 'Établir le rôle de chacun des passeurs',
    measures: [
      { kind: 'taking_evidence', description: 'Entendre deux témoins' },
      { kind: 'providing_records', description: 'Transmettre les procès-verbaux' },
    ],
    urgency: 'routine',
    deadline: dayFromNow(60),
    references: { requesting: 'SN-MJ-2026-0150' },
    contact: { name: 'Bureau de l’entraide' },
    ...overrides,
  };
}

/** A complete extradition request (English), for the extradition track. */
export function extraditionDraft(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'Extradition of C. D. — trafficking in persons',
    language: 'en',
    legalBasis: [{ kind: 'untoc', reference: 'UNTOC art. 16' }],
    offence: {
      description: 'Trafficking in persons for forced labour',
      provision: 'Penal Code s. 171',
      maxPenalty: '20 years’ imprisonment',
    },
    proceedings: { stage: 'trial', conductingAuthority: 'Dakar Criminal Court, trial chamber' },
    summaryOfFacts:
      'Between 2024 and 2026 C. D. recruited 30 workers in Nairobi with false promises and held them in forced labour.',
    persons: [{ role: 'person_sought', name: 'C. D.', nationality: 'KE', dateOfBirth: '1980-04-12' }],
    urgency: 'urgent',
    urgencyReason: 'The person sought is about to leave the country',
    deadline: dayFromNow(90),
    references: { requesting: 'SN-MJ-2026-0301' },
    contact: { name: 'Extradition unit, Ministry of Justice', phone: '+221 33 000 00 01' },
    ...overrides,
  };
}
