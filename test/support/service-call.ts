/**
 * One call to a local service (`entraide serve`, officer's or auditor's) as a page or the CLI makes
 * it: its own Origin, a bearer token or a session cookie, a JSON body. Answers the status, the
 * parsed body and the session cookie it set, if any.
 */
export interface ServiceAnswer {
  status: number;
  body: Record<string, unknown> & {
    error?: { code: string; message?: string; unverified?: { authority: string }[] };
  };
  cookie: string | undefined;
}

export async function serviceCall(
  base: string,
  path: string,
  o: { method?: string; body?: unknown; token?: string | null; cookie?: string } = {},
): Promise<ServiceAnswer> {
  const res = await fetch(`${base}${path}`, {
    method: o.method ?? 'GET',
    headers: {
      origin: base,
      ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
      ...(o.cookie ? { cookie: o.cookie } : {}),
      ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: (text ? JSON.parse(text) : {}) as ServiceAnswer['body'],
    cookie: res.headers.get('set-cookie')?.split(';')[0],
  };
}
