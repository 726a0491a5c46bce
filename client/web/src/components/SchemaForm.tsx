/**
 * A form derived from a JSON schema (the request draft's, as /requests/types sends it): strings
 * become text inputs (long ones text areas, dates date inputs), unions of literals selects with
 * translated labels, booleans checkboxes, arrays repeatable groups and objects fieldsets. A field
 * added to the draft's schema appears here without a page being rewritten.
 */
import { Button, Checkbox, Fieldset, Group, Select, Stack, Textarea, TextInput } from '@mantine/core';
import { memo, useCallback, useMemo } from 'react';
import { useIntl } from 'react-intl';
import { ISO_639_1, REQUEST_LANGUAGE_PATTERN } from '../../../../shared/requests/languages.ts';
import type { JsonSchema } from '../api.ts';
import { useCode, useLocale, useT } from '../i18n.tsx';

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** The codes catalogue's kind for an enum field, by its path without indexes. */
export const KIND_BY_PATH: Record<string, string> = {
  urgency: 'urgency',
  'legalBasis.kind': 'legalBasis',
  'persons.role': 'personRole',
  'measures.kind': 'measureKind',
  'evidence.dataCategory': 'dataCategory',
  'proceedings.stage': 'proceedingStage',
  'relatedTo.relation': 'relation',
  'offence.category': 'offenceCategory',
  'handling.visibility': 'visibility',
  'handling.forwarding': 'forwarding',
};

const TEXTAREA_FROM = 1000;

export function enumOf(s: JsonSchema): string[] | null {
  if (Array.isArray(s.enum)) return s.enum.filter((v): v is string => typeof v === 'string');
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts) && alts.length > 0 && alts.every((a) => typeof a.const === 'string'))
    return alts.map((a) => a.const as string);
  return null;
}

const typeOf = (s: JsonSchema): string | undefined => (Array.isArray(s.type) ? s.type[0] : s.type);

const isDate = (s: JsonSchema): boolean =>
  s.format === 'date' || (typeof s.pattern === 'string' && s.pattern.startsWith('^\\d{4}-(0[1-9]'));

const humanize = (key: string): string => {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/** Empty strings, lists and objects dropped; a required yes/no of a filled object is false by default. */
export function prune(schema: JsonSchema | undefined, value: Json | undefined): Json | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const items = value.map((v) => prune(schema?.items, v)).filter((v): v is Json => v !== undefined);
    return items.length ? items : undefined;
  }
  const out: Obj = {};
  const props = schema?.properties ?? {};
  for (const [k, v] of Object.entries(value)) {
    const p = prune(props[k], v);
    if (p !== undefined) out[k] = p;
  }
  if (Object.keys(out).length === 0) return undefined;
  for (const r of schema?.required ?? []) {
    if (out[r] === undefined && props[r] && typeOf(props[r]) === 'boolean') out[r] = false;
  }
  return out;
}

interface FieldProps {
  schema: JsonSchema;
  /** Property names and indexes from the draft's root. */
  path: (string | number)[];
  value: Json | undefined;
  required: boolean;
  onChange: (path: (string | number)[], value: Json | undefined) => void;
  /** Problems by field path ("persons[0].name", "title"). */
  problems: Record<string, string>;
}

export const labelPath = (path: (string | number)[]) => path.filter((p) => typeof p === 'string').join('.');
const fieldPath = (path: (string | number)[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');

export function useLabel() {
  const intl = useIntl();
  return useCallback(
    (path: (string | number)[]) => {
      const id = `field.${labelPath(path)}`;
      if (intl.messages[id] !== undefined) return intl.formatMessage({ id });
      const last = [...path].reverse().find((p) => typeof p === 'string');
      return humanize(typeof last === 'string' ? last : '');
    },
    [intl],
  );
}

function useHint() {
  const intl = useIntl();
  return (path: (string | number)[]) => {
    const id = `fieldHint.${labelPath(path)}`;
    return intl.messages[id] !== undefined ? intl.formatMessage({ id }) : undefined;
  };
}

/**
 * A request's language: any ISO 639-1 language, named in the officer's own language by the
 * browser (Intl.DisplayNames), sorted by that name; a three-letter code already in the draft
 * (ISO 639-2/3, written in request.json) stays selectable.
 */
function LanguageSelect(props: {
  label: string;
  description: string | undefined;
  required: boolean;
  value: string | null;
  onChange: (v: string | null) => void;
  error: string | undefined;
  testid: string;
}) {
  const { locale } = useLocale();
  const data = useMemo(() => {
    const names = new Intl.DisplayNames([locale], { type: 'language', fallback: 'code' });
    const codes = props.value && !ISO_639_1.includes(props.value) ? [...ISO_639_1, props.value] : ISO_639_1;
    const collator = new Intl.Collator(locale);
    return codes
      .map((c) => ({ value: c, label: `${names.of(c) ?? c} (${c})` }))
      .sort((a, b) => collator.compare(a.label, b.label));
  }, [locale, props.value]);
  return (
    <Select
      label={props.label}
      description={props.description}
      required={props.required}
      clearable={!props.required}
      searchable
      value={props.value}
      onChange={props.onChange}
      data={data}
      error={props.error}
      data-testid={props.testid}
      comboboxProps={{ withinPortal: true }}
    />
  );
}

export const SchemaField = memo(function SchemaField(props: FieldProps) {
  const { schema, path, value, required, onChange, problems } = props;
  const t = useT();
  const code = useCode();
  const label = useLabel();
  const hint = useHint();
  const name = label(path);
  const description = hint(path);
  const problem = problems[fieldPath(path)];
  const testid = `field-${fieldPath(path)}`;
  const last = path[path.length - 1];
  // An array item's label is its own: "Persons 2".
  const itemLabel = typeof last === 'number' ? t('form.item', { name, n: last + 1 }) : name;

  const options = enumOf(schema);
  if (options) {
    const kind = KIND_BY_PATH[labelPath(path)] ?? String(path[path.length - 1]);
    return (
      <Select
        label={itemLabel}
        description={description}
        required={required}
        clearable={!required}
        value={typeof value === 'string' ? value : null}
        onChange={(v) => onChange(path, v ?? undefined)}
        data={options.map((o) => ({ value: o, label: code(kind, o) }))}
        error={problem}
        data-testid={testid}
        searchable={options.length > 8}
        comboboxProps={{ withinPortal: true }}
      />
    );
  }

  if (schema.pattern === REQUEST_LANGUAGE_PATTERN)
    return (
      <LanguageSelect
        label={itemLabel}
        description={description}
        required={required}
        value={typeof value === 'string' ? value : null}
        onChange={(v) => onChange(path, v ?? undefined)}
        error={problem}
        testid={testid}
      />
    );

  const type = typeOf(schema);
  if (type === 'boolean')
    return (
      <Checkbox
        label={name}
        description={description}
        checked={value === true}
        onChange={(e) => onChange(path, e.currentTarget.checked)}
        error={problem}
        data-testid={testid}
      />
    );

  if (type === 'object') {
    const props = schema.properties ?? {};
    const req = new Set(schema.required ?? []);
    const obj = value && typeof value === 'object' && !Array.isArray(value) ? value : {};
    const fields = (
      <Stack gap="sm">
        {Object.entries(props).map(([key, sub]) => (
          <SchemaField
            key={key}
            schema={sub}
            path={[...path, key]}
            value={obj[key]}
            required={req.has(key)}
            onChange={onChange}
            problems={problems}
          />
        ))}
      </Stack>
    );
    if (path.length === 0) return fields;
    return (
      <Fieldset
        legend={required && typeof last !== 'number' ? `${itemLabel} *` : itemLabel}
        data-testid={testid}
        variant={typeof last === 'number' ? 'filled' : 'default'}
      >
        {fields}
      </Fieldset>
    );
  }

  if (type === 'array') {
    const items = Array.isArray(value) ? value : [];
    const itemSchema = schema.items ?? { type: 'string' };
    const max = schema.maxItems ?? Infinity;
    const itemIsObject = typeOf(itemSchema) === 'object';
    return (
      <Fieldset legend={name} data-testid={testid}>
        <Stack gap="sm">
          {description ? <div>{description}</div> : null}
          {items.map((item, i) => (
            <Group key={i} align="flex-end" wrap="nowrap" gap="xs">
              <div style={{ flex: 1, minWidth: 0 }}>
                <SchemaField
                  schema={itemSchema}
                  path={[...path, i]}
                  value={item}
                  required
                  onChange={onChange}
                  problems={problems}
                />
              </div>
              <Button
                variant="subtle"
                color="red"
                size="xs"
                onClick={() =>
                  onChange(
                    path,
                    items.filter((_, j) => j !== i),
                  )
                }
                aria-label={t('form.removeItem', { name, n: i + 1 })}
                data-testid={`${testid}-remove-${i}`}
              >
                {t('form.remove')}
              </Button>
            </Group>
          ))}
          {items.length < max ? (
            <Group>
              <Button
                variant="light"
                size="xs"
                onClick={() => onChange(path, [...items, itemIsObject ? {} : ''])}
                data-testid={`${testid}-add`}
              >
                {t('form.add', { name })}
              </Button>
            </Group>
          ) : null}
        </Stack>
      </Fieldset>
    );
  }

  // A string (or a number given as text).
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  const set = (v: string) => onChange(path, v);
  if (isDate(schema))
    return (
      <TextInput
        type="date"
        label={name}
        description={description}
        required={required}
        value={text}
        onChange={(e) => set(e.currentTarget.value)}
        error={problem}
        data-testid={testid}
        maw={240}
      />
    );
  if ((schema.maxLength ?? 0) >= TEXTAREA_FROM)
    return (
      <Textarea
        label={itemLabel}
        description={description}
        required={required}
        value={text}
        onChange={(e) => set(e.currentTarget.value)}
        autosize
        minRows={(schema.maxLength ?? 0) > 5000 ? 6 : 2}
        maxRows={20}
        maxLength={schema.maxLength}
        error={problem}
        data-testid={testid}
        dir="auto"
      />
    );
  return (
    <TextInput
      label={itemLabel}
      description={description}
      required={required}
      value={text}
      onChange={(e) => set(e.currentTarget.value)}
      maxLength={schema.maxLength}
      error={problem}
      data-testid={testid}
      dir="auto"
    />
  );
});

/** Sets `value` at `path` in a copy of `root`. */
export function setIn(root: Json | undefined, path: (string | number)[], value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  const [head, ...rest] = path;
  if (typeof head === 'number') {
    const arr = Array.isArray(root) ? [...root] : [];
    arr[head] = setIn(arr[head], rest, value);
    return arr;
  }
  const obj: Obj = root && typeof root === 'object' && !Array.isArray(root) ? { ...root } : {};
  if (value === undefined && rest.length === 0) delete obj[head!];
  else obj[head!] = setIn(obj[head!], rest, value);
  return obj;
}
