/** The officers' side of the local service: the node's API (messages, requests, keys, meetings). */
import type { AuthorityNode } from '../node.ts';
import { homePaths } from '../home.ts';
import type { LiveEvents } from './live-events.ts';
import type { RouteContext } from './route-context.ts';
import { keyRoutes } from './routes-keys.ts';
import { meetingChangeRoutes } from './routes-meeting-changes.ts';
import { meetingRoutes } from './routes-meetings.ts';
import { messageRoutes } from './routes-messages.ts';
import { networkRoutes } from './routes-networks.ts';
import { requestRoutes } from './routes-requests.ts';
import { statisticsRoutes } from './routes-statistics.ts';
import { StagedUploads, uploadRoutes } from './routes-uploads.ts';
import type { ServiceRole } from './service-app.ts';

export function officerRole(node: AuthorityNode, connected: () => boolean, live: LiveEvents): ServiceRole {
  return {
    kind: 'officer',
    checkPassphrase: (passphrase) => node.keystore.checkPassphrase(passphrase),
    view: () => ({
      node: { address: node.address, authority: node.authority, relay: node.config.relay.domain },
    }),
    description:
      'The officer’s API of one authority node, on this machine only (entraide serve): the CLI with the bearer token of service.json, the web app with an officer’s session cookie.',
    connected,
    routes: async (guarded, who) => {
      const ctx: RouteContext = {
        node,
        officer: who.officer,
        changed: (what, id) => live.changed(what, id),
        withMasterKey: (passphrase, operation) => node.keystore.lendMasterKey(passphrase, operation),
      };
      guarded.get('/node', async () => ({
        address: node.address,
        authority: node.authority,
        relay: node.config.relay.domain,
        connected: connected(),
      }));
      const staged = new StagedUploads(homePaths(node.home).documents);
      guarded.addHook('onClose', () => staged.clear());
      await uploadRoutes(guarded, staged);
      await messageRoutes(guarded, ctx, staged);
      await requestRoutes(guarded, ctx, staged);
      await keyRoutes(guarded, ctx);
      await meetingRoutes(guarded, ctx);
      await meetingChangeRoutes(guarded, ctx);
      await networkRoutes(guarded, ctx);
      await statisticsRoutes(guarded, ctx);
    },
  };
}
