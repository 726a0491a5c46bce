/**
 * Replies at a glance: how many participants accepted, are tentative, declined or have not
 * answered yet, and a row for each (organizer first) with their answer and their local time at
 * the meeting's start. A reply to an earlier version of the meeting says so.
 */
import { Badge, Group, Stack, Table, Text } from '@mantine/core';
import type { Meeting } from '../api.ts';
import { useCode, useT } from '../i18n.tsx';
import { useZonedTime } from '../meeting-zones.ts';

export const REPLY_KINDS = ['accept', 'tentative', 'decline', 'none'] as const;
export type ReplyKind = (typeof REPLY_KINDS)[number];

const COLOURS: Record<ReplyKind, string> = {
  accept: 'teal',
  tentative: 'yellow',
  decline: 'red',
  none: 'gray',
};
/** Yellow's own text is too pale on its light background: darker text keeps it legible. */
const textOf = (k: ReplyKind) => (k === 'tentative' ? 'gray.9' : undefined);

export function MeetingReplies({
  meeting: m,
  people,
}: {
  meeting: Meeting;
  people: { authority: string; tz: string; organizer: boolean }[];
}) {
  const t = useT();
  const code = useCode();
  const at = useZonedTime();
  const replies = m.replies ?? {};
  const start = Date.parse(m.startUtc ?? '');
  const kindOf = (a: string): ReplyKind => {
    const answer = replies[a]?.answer;
    return answer === 'accept' || answer === 'tentative' || answer === 'decline' ? answer : 'none';
  };
  const label = (k: ReplyKind) => (k === 'none' ? t('meetings.replies.none') : code('rsvp', k));
  const invited = people.filter((p) => !p.organizer);
  const counts = Object.fromEntries(
    REPLY_KINDS.map((k) => [k, invited.filter((p) => kindOf(p.authority) === k).length]),
  ) as Record<ReplyKind, number>;

  return (
    <Stack gap={6} data-testid="meeting-replies">
      <Text size="sm" fw={600} id={`replies-${m.uid}`}>
        {t('meetings.replies.title')}
      </Text>
      <Group gap={6}>
        {REPLY_KINDS.map((k) => (
          <Badge
            key={k}
            color={COLOURS[k]}
            c={textOf(k)}
            variant="light"
            data-testid={`reply-count-${k}`}
            data-count={counts[k]}
          >
            {t('meetings.replies.tally', { answer: label(k), count: counts[k] })}
          </Badge>
        ))}
      </Group>
      <Table aria-labelledby={`replies-${m.uid}`} verticalSpacing={4} fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">{t('meetings.replies.col.authority')}</Table.Th>
            <Table.Th scope="col">{t('meetings.replies.col.answer')}</Table.Th>
            <Table.Th scope="col">{t('meetings.replies.col.localTime')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {people.map((p) => {
            const k = kindOf(p.authority);
            const r = replies[p.authority];
            const earlier = r?.sequence !== undefined && m.sequence !== undefined && r.sequence < m.sequence;
            return (
              <Table.Tr
                key={p.authority}
                data-testid="reply-row"
                data-authority={p.authority}
                data-answer={p.organizer ? 'organizer' : k}
              >
                <Table.Th scope="row" fw={400}>
                  <Text span dir="ltr" inherit>
                    {p.authority}
                  </Text>
                </Table.Th>
                <Table.Td>
                  {p.organizer ? (
                    <Text size="xs" c="dimmed">
                      {t('meetings.replies.organizer')}
                    </Text>
                  ) : (
                    <Group gap={4}>
                      <Badge size="sm" color={COLOURS[k]} c={textOf(k)} variant="light">
                        {label(k)}
                      </Badge>
                      {earlier ? (
                        <Text size="xs" c="dimmed">
                          {t('meetings.replies.earlier')}
                        </Text>
                      ) : null}
                    </Group>
                  )}
                  {r?.note ? (
                    <Text size="xs" dir="auto" className="plain-text">
                      {r.note}
                    </Text>
                  ) : null}
                </Table.Td>
                <Table.Td>
                  {Number.isNaN(start) ? '' : at(start, p.tz)}{' '}
                  <Text span size="xs" c="dimmed" dir="ltr">
                    {p.tz}
                  </Text>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
