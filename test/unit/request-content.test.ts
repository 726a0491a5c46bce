/**
 * What a request may say before it leaves the node (shared/requests/completeness.ts, request.ts,
 * script.ts) and the handling codes that travel with it (shared/requests/handling.ts).
 */
import { describe, expect, it } from 'vitest';
import { fromUtf8 } from '../../shared/bytes.ts';
import { canonicalBytes } from '../../shared/canonical.ts';
import { check } from '../../shared/protocol/validate.ts';
import { completenessWarnings, validateDraft } from '../../shared/requests/completeness.ts';
import {
  DEFAULT_MESSAGE_HANDLING,
  DEFAULT_REQUEST_HANDLING,
  handlingProblem,
  mayForward,
  mayRead,
  stricter,
  type Handling,
} from '../../shared/requests/handling.ts';
import { RequestContent, type RequestDraft } from '../../shared/requests/request.ts';
import { inLanguageScript, scriptShare } from '../../shared/requests/script.ts';
import { entraideErrorOf } from './fixtures.ts';

const TODAY = '2026-03-02';

/** A draft a counterpart could act on: every field an expedited preservation needs. */
const complete = (): RequestDraft => ({
  title: 'Preservation of e-mail account data',
  language: 'en',
  legalBasis: [{ kind: 'untoc', reference: 'UNTOC art. 18' }],
  offence: {
    description: 'Fraud by false pretences',
    provision: 'Penal Code art. 379',
    maxPenalty: '5 years',
  },
  proceedings: { stage: 'investigation', conductingAuthority: 'Investigating judge, Dakar High Court' },
  summaryOfFacts: 'The suspect used the account to deceive investors between May and June 2025.',
  purpose: 'To identify the members of the group and prove the transfers',
  measures: [{ kind: 'other', description: 'Preserve the content and traffic data of the account' }],
  procedures: 'Do not inform the account holder',
  persons: [{ role: 'suspect', name: 'Moussa Diallo', nationality: 'SN', dateOfBirth: '1980-02-29' }],
  evidence: [
    {
      description: 'E-mail account',
      holder: 'Mail Provider Ltd',
      identifiers: 'user@example.org',
      dataCategory: 'traffic',
    },
  ],
  urgency: 'urgent',
  urgencyReason: 'The provider deletes inactive accounts after 90 days',
  deadline: '2026-04-01',
  dataRetentionUntil: '2026-03-20',
  references: { requesting: 'SN-2026-0042' },
  confidentiality: { required: true, requirements: 'Do not notify the account holder' },
  handling: { visibility: 'named', nodes: ['desk1'], forwarding: 'forbidden' },
  contact: {
    name: 'Awa Ndiaye',
    phone: '+221 33 000 00 00',
    email: 'awa@justice.example',
    available24h: true,
  },
});

const error = (value: unknown, today = TODAY) => {
  const e = entraideErrorOf(() => validateDraft(value, today));
  return { code: e.code, message: e.message };
};

const content = (over: Record<string, unknown> = {}) => ({
  type: 'request',
  id: '01950a3c-8f00-7abc-8def-0123456789ab',
  requestType: 'expedited_preservation',
  ...complete(),
  ...over,
});

const codes = (type: Parameters<typeof completenessWarnings>[0], d: RequestDraft) =>
  completenessWarnings(type, d).map((w) => w.code);

describe('validateDraft', () => {
  it('accepts a complete draft and returns it unchanged', () => {
    const d = complete();
    expect(validateDraft(d, TODAY)).toEqual(complete());
    expect(check(RequestContent, content(), 'request').requestType).toBe('expedited_preservation');
  });

  it('refuses an unknown request type in RequestContent, naming requestType', () => {
    const e = entraideErrorOf(() => check(RequestContent, content({ requestType: 'rendition' }), 'request'));
    expect(e.code).toBe('SCHEMA_INVALID');
    expect(e.message).toContain('requestType');
  });

  it.each([
    ['missing title', { title: undefined }, 'title'],
    ['title over 300 characters', { title: 'x'.repeat(301) }, 'title'],
    ['summary over 20000 characters', { summaryOfFacts: 'a'.repeat(20_001) }, 'summaryOfFacts'],
    ['deadline that is no calendar day', { deadline: '2026-02-30' }, 'deadline'],
    ['retention date that is no calendar day', { dataRetentionUntil: '2027-04-31' }, 'dataRetentionUntil'],
    ['month 13', { deadline: '2026-13-01' }, 'deadline'],
    [
      'named visibility without nodes',
      { handling: { visibility: 'named', forwarding: 'allowed' } },
      'handling',
    ],
    [
      'authority visibility with nodes',
      { handling: { visibility: 'authority', nodes: ['desk1'], forwarding: 'allowed' } },
      'handling',
    ],
    ['unknown field', { priority: 'high' }, 'priority'],
    ['language that is no ISO 639 code', { language: 'xx' }, 'language'],
    ['language in capitals', { language: 'EN' }, 'language'],
  ])('SCHEMA_INVALID for a %s', (_what, over, field) => {
    const draft = { ...complete(), ...over };
    if ('title' in over && over.title === undefined) delete (draft as Partial<RequestDraft>).title;
    const e = error(draft);
    expect(e.code).toBe('SCHEMA_INVALID');
    expect(e.message).toContain(field);
  });

  it('a title of exactly 300 characters and a summary of exactly 20000 are accepted', () => {
    expect(() =>
      validateDraft({ ...complete(), title: 'x'.repeat(300), summaryOfFacts: 'a'.repeat(20_000) }, TODAY),
    ).not.toThrow();
  });

  // The date schema checks the format only; every date field is also checked as a real day.
  it('SCHEMA_INVALID for a date of birth that is no calendar day', () => {
    const e = error({
      ...complete(),
      persons: [{ role: 'suspect', name: 'Moussa Diallo', dateOfBirth: '1981-02-29' }],
    });
    expect(e.code).toBe('SCHEMA_INVALID');
    expect(e.message).toContain('dateOfBirth');
  });

  it('DEADLINE_PAST for a deadline or a retention date before today; today itself is accepted', () => {
    expect(error({ ...complete(), deadline: '2026-03-01' })).toMatchObject({ code: 'DEADLINE_PAST' });
    expect(error({ ...complete(), deadline: '2026-03-01' }).message).toContain('deadline');
    expect(error({ ...complete(), dataRetentionUntil: '2025-12-31' }).code).toBe('DEADLINE_PAST');
    expect(error({ ...complete(), dataRetentionUntil: '2025-12-31' }).message).toContain(
      'dataRetentionUntil',
    );
    expect(() =>
      validateDraft({ ...complete(), deadline: TODAY, dataRetentionUntil: TODAY }, TODAY),
    ).not.toThrow();
    expect(() => validateDraft({ ...complete(), deadline: '2026-02-28' }, '2026-02-28')).not.toThrow();
  });

  it('FIELD_SCRIPT_MISMATCH names the field written in the wrong script', () => {
    const ru = 'Подозреваемый перевёл средства через счета в Лагосе.';
    const ar = { ...complete(), language: 'ar', title: 'حفظ بيانات البريد الإلكتروني', summaryOfFacts: ru };
    expect(error(ar)).toEqual({
      code: 'FIELD_SCRIPT_MISMATCH',
      message: expect.stringContaining('summaryOfFacts'),
    });
    const zh = { ...complete(), language: 'zh', title: 'Preservation of data' };
    expect(error(zh)).toEqual({ code: 'FIELD_SCRIPT_MISMATCH', message: expect.stringContaining('title') });
    const measure = {
      ...complete(),
      measures: [
        { kind: 'other', description: 'Preserve the data' },
        { kind: 'providing_records', description: 'Сохранить данные' },
      ],
    };
    expect(error(measure).message).toContain('measures[1].description');
  });

  it('accepts each language in its own script, with names and acronyms in another', () => {
    const ok = (language: RequestDraft['language'], title: string, summaryOfFacts: string) => {
      const d = {
        title,
        language,
        summaryOfFacts,
        references: { requesting: 'REF-1' },
      };
      expect(() => validateDraft(d, TODAY)).not.toThrow();
    };
    ok(
      'ar',
      'طلب مساعدة قانونية متبادلة',
      'طلب بموجب المادة 18 من اتفاقية UNTOC بشأن الجريمة المنظمة عبر الوطنية',
    );
    ok('zh', '司法协助请求', '根据《联合国打击跨国有组织犯罪公约》(UNTOC) 第18条提出请求。');
    ok('ru', 'Запрос о правовой помощи', 'Подозреваемый Иванов перевёл средства через счета в банке ABC.');
    ok(
      'fr',
      'Demande d’entraide judiciaire',
      'Le prévenu a été arrêté à Dakar après l’échec d’une opération; çà et là, Noël.',
    );
    ok('en', 'MLA', 'Short'); // too few letters to judge, or Latin anyway
    // Any ISO 639 language: Uzbek in either of its scripts, Georgian, a three-letter code unchecked.
    ok('uz', 'Huquqiy yordam soʻrovi', 'Gumonlanuvchi pullarni Toshkentdagi banklar orqali oʻtkazgan.');
    ok('uz', 'Ҳуқуқий ёрдам сўрови', 'Гумонланувчи пулларни Тошкентдаги банклар орқали ўтказган.');
    ok('ka', 'სამართლებრივი დახმარების თხოვნა', 'ეჭვმიტანილმა თანხები თბილისის ბანკების გავლით გადარიცხა.');
    ok('kaa', 'Huqıqıy járdem', 'Any text: no table for three-letter codes.');
    expect(
      error({ title: 'Request in Georgian', language: 'ka', references: { requesting: 'R' } }).code,
    ).toBe('FIELD_SCRIPT_MISMATCH');
  });

  it('reads measures written as plain strings as measures of kind other', () => {
    const draft = validateDraft({ ...complete(), measures: ['Hear two witnesses'] }, TODAY);
    expect(draft.measures).toEqual([{ kind: 'other', description: 'Hear two witnesses' }]);
  });

  it('language versions: each in another language and its own script, one authoritative at most', () => {
    const fr = {
      language: 'fr',
      title: 'Conservation de données',
      summaryOfFacts: 'Le suspect a trompé des investisseurs.',
    };
    expect(() => validateDraft({ ...complete(), versions: [fr] }, TODAY)).not.toThrow();
    expect(() =>
      validateDraft({ ...complete(), versions: [{ ...fr, authoritative: true }] }, TODAY),
    ).not.toThrow();
    const twice = error({ ...complete(), versions: [fr, fr] });
    expect(twice).toEqual({
      code: 'SCHEMA_INVALID',
      message: expect.stringContaining('versions[1].language'),
    });
    expect(error({ ...complete(), versions: [{ ...fr, language: 'en' }] }).code).toBe('SCHEMA_INVALID');
    const ru = { language: 'ru', title: 'Сохранение данных', authoritative: true };
    expect(error({ ...complete(), versions: [{ ...fr, authoritative: true }, ru] }).message).toContain(
      'only one version may be authoritative',
    );
    expect(error({ ...complete(), versions: [{ ...ru, title: 'Data preservation' }] })).toEqual({
      code: 'FIELD_SCRIPT_MISMATCH',
      message: expect.stringContaining('versions[0].title'),
    });
    expect(error({ ...complete(), versions: [{ ...fr, measures: ['Un', 'Deux'] }] }).message).toContain(
      'versions[0].measures has 2 descriptions for the 1 measures',
    );
  });

  it('a pending translation has a language the request lacks and a day to come', () => {
    const pending = { language: 'fr', due: '2026-03-20' };
    expect(() => validateDraft({ ...complete(), translationPending: pending }, TODAY)).not.toThrow();
    expect(error({ ...complete(), translationPending: { ...pending, due: '2026-03-01' } }).code).toBe(
      'DEADLINE_PAST',
    );
    expect(error({ ...complete(), translationPending: { ...pending, language: 'en' } }).code).toBe(
      'SCHEMA_INVALID',
    );
  });

  it('names each related request once', () => {
    const rel = { request: '01950a3c-8f00-7abc-8def-0123456789ab', relation: 'follow_up' };
    expect(() => validateDraft({ ...complete(), relatedTo: [rel] }, TODAY)).not.toThrow();
    expect(error({ ...complete(), relatedTo: [rel, { ...rel, relation: 'same_case' }] }).code).toBe(
      'SCHEMA_INVALID',
    );
  });

  it('script shares are measured on letters only', () => {
    expect(scriptShare('UNTOC 18', 'ar')).toBe(0);
    expect(scriptShare('18 / 2026', 'ar')).toBeNull();
    expect(scriptShare('abc', 'ru')).toBeNull();
    expect(scriptShare('Иванов', 'ru')).toBe(1);
    expect(inLanguageScript('ab Иванов', 'ru')).toBe(true);
    expect(inLanguageScript('abcd Ив', 'ru')).toBe(false);
  });
});

describe('Unicode survives canonical encoding', () => {
  it.each([
    ['ar', 'طلب مساعدة قانونية', 'وقائع القضية: تحويل الأموال عبر حسابات مصرفية في لاغوس.'],
    ['zh', '司法协助请求', '嫌疑人通过拉各斯的银行账户转移了资金。'],
    ['ru', 'Запрос о помощи', 'Подозреваемый перевёл средства — «срочно».'],
  ] as const)('%s text round-trips byte for byte', (language, title, summaryOfFacts) => {
    const original = check(RequestContent, content({ language, title, summaryOfFacts }), 'request');
    const bytes = canonicalBytes(original);
    const back = check(RequestContent, JSON.parse(fromUtf8(bytes)), 'request');
    expect(back.title).toBe(title);
    expect(back.summaryOfFacts).toBe(summaryOfFacts);
    expect(canonicalBytes(back)).toEqual(bytes);
    expect(fromUtf8(bytes)).toContain(summaryOfFacts); // not escaped as \uXXXX
  });
});

describe('completenessWarnings', () => {
  const bare: RequestDraft = { title: 'Request', language: 'en', references: { requesting: 'R-1' } };

  it('an empty-ish draft lacks what art. 18(15) asks for: basis, proceedings, facts, purpose, offence, measures, contact', () => {
    expect(codes('mutual_legal_assistance', bare)).toEqual([
      'legal_basis_missing',
      'proceedings_missing',
      'facts_missing',
      'purpose_missing',
      'offence_missing',
      'measures_missing',
      'contact_missing',
    ]);
    const fields = completenessWarnings('mutual_legal_assistance', bare).map((w) => w.field);
    expect(fields).toEqual([
      'legalBasis',
      'proceedings',
      'summaryOfFacts',
      'purpose',
      'offence',
      'measures',
      'contact',
    ]);
  });

  it('art. 18(15) element by element: the conducting authority, where persons are, the treaty named, the data category', () => {
    const c = complete();
    expect(codes('mutual_legal_assistance', { ...c, proceedings: { stage: 'trial' } })).toEqual([
      'conducting_authority_missing',
    ]);
    expect(
      codes('mutual_legal_assistance', { ...c, persons: [{ role: 'witness', name: 'Awa Sow' }] }),
    ).toEqual(['person_location_missing']);
    expect(
      codes('mutual_legal_assistance', {
        ...c,
        persons: [{ role: 'witness', name: 'Awa Sow', location: 'Lagos, Ikeja district' }],
      }),
    ).toEqual([]);
    expect(codes('mutual_legal_assistance', { ...c, legalBasis: [{ kind: 'bilateral_treaty' }] })).toEqual([
      'legal_basis_unnamed',
    ]);
    expect(codes('mutual_legal_assistance', { ...c, legalBasis: [{ kind: 'budapest' }] })).toEqual([]);
    const uncategorised = c.evidence!.map(({ dataCategory: _c, ...e }) => e);
    expect(codes('stored_data_production', { ...c, evidence: uncategorised })).toEqual([
      'data_category_missing',
    ]);
  });

  it('a preservation request without a deadline or retention date is flagged', () => {
    const { deadline: _d, dataRetentionUntil: _r, ...rest } = complete();
    expect(codes('expedited_preservation', rest)).toEqual(['retention_deadline_missing']);
    expect(codes('expedited_preservation', { ...rest, deadline: '2026-04-01' })).toEqual([]);
    expect(codes('expedited_preservation', { ...rest, dataRetentionUntil: '2026-04-01' })).toEqual([]);
  });

  it('preservation data must name a holder and identifiers', () => {
    expect(
      codes('stored_data_production', {
        ...complete(),
        evidence: [{ description: 'Account', dataCategory: 'subscriber' }],
      }),
    ).toEqual(['data_unidentified']);
  });

  it('an extradition request needs a person sought and a maximum penalty', () => {
    const d = { ...complete(), offence: { description: 'Fraud' } };
    expect(codes('extradition', d)).toEqual(['person_sought_missing', 'penalty_missing']);
    const sought = {
      ...complete(),
      persons: [{ role: 'person_sought' as const, name: 'Moussa Diallo', location: 'Abuja' }],
    };
    expect(codes('extradition', sought)).toEqual([]);
    expect(codes('extradition', { ...sought, measures: undefined })).toEqual([]); // no measures needed
  });

  it('urgency and confidentiality must be explained', () => {
    expect(codes('expedited_preservation', { ...complete(), urgencyReason: undefined })).toEqual([
      'urgency_reason_missing',
    ]);
    expect(codes('expedited_preservation', { ...complete(), confidentiality: { required: true } })).toEqual([
      'confidentiality_unspecified',
    ]);
  });

  it('a complete preservation draft has no warnings', () => {
    expect(completenessWarnings('expedited_preservation', complete())).toEqual([]);
  });
});

describe('handling codes', () => {
  const named: Handling = { visibility: 'named', nodes: ['desk1', 'desk2'], forwarding: 'allowed' };

  it('handlingProblem', () => {
    expect(handlingProblem(DEFAULT_REQUEST_HANDLING)).toBeNull();
    expect(handlingProblem(named)).toBeNull();
    expect(handlingProblem({ visibility: 'named', forwarding: 'allowed' })).toMatch(/needs the list/);
    expect(handlingProblem({ visibility: 'named', nodes: [], forwarding: 'allowed' })).not.toBeNull();
    expect(
      handlingProblem({ visibility: 'authority', nodes: ['desk1'], forwarding: 'allowed' }),
    ).not.toBeNull();
  });

  it('mayRead: authority visibility for every node, named only for the named', () => {
    expect(mayRead(DEFAULT_REQUEST_HANDLING, 'desk9')).toBe(true);
    expect(mayRead(named, 'desk2')).toBe(true);
    expect(mayRead(named, 'desk3')).toBe(false);
  });

  it('mayForward: allowed, with consent, or only by override', () => {
    expect(mayForward(DEFAULT_MESSAGE_HANDLING, undefined)).toEqual({ allowed: true });
    expect(mayForward(DEFAULT_REQUEST_HANDLING, undefined)).toEqual({ allowed: false, needs: 'consent' });
    expect(mayForward(DEFAULT_REQUEST_HANDLING, '')).toEqual({ allowed: false, needs: 'consent' });
    expect(mayForward(DEFAULT_REQUEST_HANDLING, 'NG-CONSENT-7')).toEqual({ allowed: true });
    expect(mayForward({ visibility: 'authority', forwarding: 'forbidden' }, 'NG-CONSENT-7')).toEqual({
      allowed: false,
      needs: 'override',
    });
  });

  it('stricter keeps the stricter forwarding, the named visibility and both conditions', () => {
    const a: Handling = { visibility: 'authority', forwarding: 'consent_required', conditions: 'speciality' };
    const b: Handling = {
      visibility: 'named',
      nodes: ['desk2'],
      forwarding: 'allowed',
      conditions: 'no copies',
    };
    expect(stricter(a, b)).toEqual({
      visibility: 'named',
      nodes: ['desk2'],
      forwarding: 'consent_required',
      conditions: 'speciality / no copies',
    });
    expect(stricter(b, a)).toEqual({
      visibility: 'named',
      nodes: ['desk2'],
      forwarding: 'consent_required',
      conditions: 'no copies / speciality',
    });
    expect(stricter(DEFAULT_MESSAGE_HANDLING, { visibility: 'authority', forwarding: 'forbidden' })).toEqual({
      visibility: 'authority',
      forwarding: 'forbidden',
    });
    expect(stricter(DEFAULT_MESSAGE_HANDLING, DEFAULT_MESSAGE_HANDLING)).toEqual(DEFAULT_MESSAGE_HANDLING);
    expect(handlingProblem(stricter(a, b))).toBeNull();
  });
});
