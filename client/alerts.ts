/**
 * Waking a person when an `immediate` request arrives (CTOC/COP/2018/10: 24/7 points of contact,
 * electronic evidence that disappears within hours). The node that alerts is the on-call node its
 * authority's profile names, or any node while the profile names none; it runs the hook set in its
 * node.json (`entraide alert-hook set`): a command, given the alert in its environment, or a
 * webhook, posted the alert as JSON. The alert says that something immediate arrived, from which
 * authority, when and on which node, and nothing of its content (no title, no text, no id of a
 * person), so that a pager, an SMS gateway or a chat bot never holds what the request says.
 */
import { spawn } from 'node:child_process';
import { checkServiceUrl } from '../shared/protocol/service-url.ts';
import type { NodeConfig } from './home.ts';

export interface Alert {
  kind: 'immediate_request';
  /** The authority that sent it. */
  from: string;
  /** The node it arrived on. */
  node: string;
  /** When it arrived. */
  at: string;
}

export type AlertHook = NonNullable<NodeConfig['alerts']>;

/** How long a hook may take; the request is stored and acknowledged whatever the hook does. */
export const ALERT_TIMEOUT_MS = 10_000;

/** Whether this node alerts: it is the on-call node the profile names, or the profile names none. */
export function isOnCall(node: string, onCallNode: string | undefined): boolean {
  return onCallNode === undefined || onCallNode === node;
}

/** The webhook's URL, refused unless https:// or on this machine (INSECURE_URL). */
export function checkWebhook(url: string): string {
  return checkServiceUrl(url, 'the alert webhook').href;
}

function runCommand(command: string, alert: Alert): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, {
      shell: true,
      stdio: 'ignore',
      env: {
        ...process.env,
        ENTRAIDE_ALERT: alert.kind,
        ENTRAIDE_ALERT_FROM: alert.from,
        ENTRAIDE_ALERT_NODE: alert.node,
        ENTRAIDE_ALERT_AT: alert.at,
      },
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the alert command did not end within ${ALERT_TIMEOUT_MS / 1000} s`));
    }, ALERT_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`the alert command ended with code ${code}`));
    });
  });
}

async function postWebhook(url: string, alert: Alert): Promise<void> {
  const res = await fetch(checkWebhook(url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alert),
    signal: AbortSignal.timeout(ALERT_TIMEOUT_MS),
  });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`the alert webhook answered ${res.status}`);
}

/**
 * Runs the hook for `alert`: the command and the webhook, each given its own time. Resolves with
 * what went wrong, one line each (empty when all went well); never throws.
 */
export async function raiseAlert(hook: AlertHook, alert: Alert): Promise<string[]> {
  const runs: [string, Promise<void>][] = [];
  if (hook.command) runs.push(['command', runCommand(hook.command, alert)]);
  if (hook.webhook) runs.push(['webhook', postWebhook(hook.webhook, alert)]);
  const failed: string[] = [];
  for (const [what, run] of runs) {
    try {
      await run;
    } catch (err) {
      failed.push(`alert ${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return failed;
}

/** What deciding on an alert needs of the node. */
export interface AlertingNode {
  readonly config: Pick<NodeConfig, 'alerts' | 'node' | 'authority'>;
  /** The authority's profile in force, from its verified key events. */
  profileOf(authority: string): Promise<{ onCall?: { node?: string | undefined } | undefined } | undefined>;
}

/**
 * After an item is stored: an `immediate` request from another authority wakes the on-call
 * person through this node's hook, when this node is the one to alert. What failed is returned
 * (and said on stderr by the caller); the request stays stored and acknowledged either way.
 */
export async function alertOnArrival(
  node: AlertingNode,
  item: { direction: 'in' | 'out'; sender: string; receivedAt: string | null },
  content: { type: string; urgency?: string },
): Promise<string[]> {
  const hook = node.config.alerts;
  if (!hook || content.type !== 'request' || content.urgency !== 'immediate' || item.direction !== 'in')
    return [];
  const from = item.sender.slice(item.sender.indexOf('/') + 1);
  if (from === node.config.authority) return [];
  let onCall: string | undefined;
  try {
    onCall = (await node.profileOf(node.config.authority))?.onCall?.node;
  } catch {
    onCall = undefined; // the key log cannot be read now: better woken twice than not at all
  }
  if (!isOnCall(node.config.node, onCall)) return [];
  return raiseAlert(hook, {
    kind: 'immediate_request',
    from,
    node: node.config.node,
    at: item.receivedAt ?? new Date().toISOString(),
  });
}
