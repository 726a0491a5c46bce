/**
 * Session authentication for the routes registered inside this plugin's context only
 * (fastify encapsulation): every request needs a valid bearer token of an active node.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EntraideError } from '../../shared/errors.ts';
import { bearerToken, type TokenService } from '../auth/tokens.ts';
import type { Budgets } from '../budgets.ts';
import type { Directory } from '../domain/directory.ts';

declare module 'fastify' {
  interface FastifyRequest {
    sessionNode: string;
  }
}

export function requireSession(
  app: FastifyInstance,
  deps: { tokens: TokenService; directory: Directory; budgets: Budgets },
): void {
  app.decorateRequest('sessionNode', '');
  app.addHook('onRequest', async (request: FastifyRequest) => {
    try {
      const session = await deps.tokens.verify(bearerToken(request.headers.authorization));
      deps.directory.requireActive(
        session.node,
        () => new EntraideError('TOKEN_INVALID', `${session.node} is not an active node of this relay`),
      );
      request.sessionNode = session.node;
    } catch (err) {
      // A caller without a valid session spends its address's budget, not a node's.
      await deps.budgets.take('anonymous', request.ip);
      throw err;
    }
    await deps.budgets.take('session', request.sessionNode);
  });
}

export const bearerSecurity = [{ session: [] as string[] }];
