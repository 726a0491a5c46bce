/** The statistics calls of the node's service (client/service/routes-statistics.ts). */
import type { Breakdown } from '../../../shared/requests/statistics-breakdowns.ts';
import type { NetworkMerge } from '../../../shared/requests/statistics-merge.ts';
import type { Statistics, Tally } from '../../../shared/requests/statistics.ts';
import type { RefusalGround } from '../../../shared/requests/vocabulary.ts';
import { call, q } from './api.ts';

export type { NetworkMerge, Tally };

/** As `entraide stats --json` prints it, with the refusals by ground of requests sent and received. */
export interface OwnStatistics extends Statistics {
  refusalGround: Record<'out' | 'in', Breakdown<RefusalGround>>;
}

export const statsApi = {
  own: () => call<OwnStatistics>('GET', '/statistics'),
  exportUrl: (network?: string) => `/api/v1/statistics/export${q({ network })}`,
  merge: (body: { network?: string; includeOwn?: boolean; exports: { name: string; text: string }[] }) =>
    call<{ networks: NetworkMerge[] }>('POST', '/statistics/merge', body),
};
