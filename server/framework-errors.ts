/**
 * What fastify and Node's HTTP parser answer by themselves, before any route or hook runs, put in
 * the relay's words: a path with a broken %-escape or an over-long parameter, and a request the
 * parser cannot read (garbage, headers over 16 KiB). Each gets an error body of the registry, the
 * security headers, and a place in the audit log's counts; nothing of fastify's own body leaks.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import type { Socket } from 'node:net';
import { EntraideError } from '../shared/errors.ts';

/** The longest path parameter the router accepts: an authority address may have 320 characters. */
export const MAX_PARAM_LENGTH = 1024;

const securityHeaders = helmet();

/** For fastify's `frameworkErrors`: a path the router cannot read. */
export function frameworkError(
  refused: (code: EntraideError['code'], what: string, source: string) => void,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    const e =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new EntraideError(
            'SCHEMA_INVALID',
            `a part of the path is longer than ${MAX_PARAM_LENGTH} characters`,
          )
        : new EntraideError('NOT_FOUND', 'the path is not a valid URL (a broken %-escape)');
    try {
      refused(e.code, `${request.method} ${request.url.split('?')[0]}`, request.ip);
    } catch {
      // The audit log's counts are best effort here: the answer matters more.
    }
    securityHeaders(request.raw, reply.raw, () => {
      void reply.code(e.status).header('content-type', 'application/json; charset=utf-8').send(e.toJSON());
    });
  };
}

/** For fastify's `clientErrorHandler`: a request Node's HTTP parser refused, answered on the raw socket. */
export function clientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new EntraideError('PAYLOAD_TOO_LARGE', 'the request’s headers are larger than 16 KiB')
      : new EntraideError('SCHEMA_INVALID', 'the request is not well-formed HTTP');
  const body = JSON.stringify(e.toJSON());
  socket.end(
    `HTTP/1.1 ${e.status} ${e.status === 413 ? 'Payload Too Large' : 'Bad Request'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n" +
      'Connection: close\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
