/**
 * RBAC cost by policy size, measured in this process: parsing, indexing, one uncached and
 * one cached decision with the sidecar's enforcer, and — for scale — one decision of casbin
 * walking the same policy the way Argo CD's model is evaluated (the naive design).
 */
import { withDecisionCache } from '../../proxy-server/src/rbac/decision-cache';
import { createEnforcer, RbacSubject } from '../../proxy-server/src/rbac/enforcer';
import { parseRbacConfigMap } from '../../proxy-server/src/rbac/rbac-config';
import { createCasbinEnforcer } from '../../test/helpers/casbin-reference-enforcer';

export interface PolicyCost {
  lines: number;
  parseMs: number;
  indexMs: number;
  uncachedUs: number;
  cachedUs: number;
  casbinLoadMs: number;
  casbinDecisionMs: number;
}

/**
 * A policy shaped like a large real one: most lines are about applications (which the
 * proxy never asks about), teams are roles mapped from SSO groups, some roles invoke
 * extensions; plus the line that lets `alice` invoke `bench`.
 */
export function generatePolicy(lines: number): string {
  const out = ['p, alice, extensions, invoke, bench, allow'];
  for (let i = 1; out.length < lines; i++) {
    const team = `team-${i}`;
    out.push(`p, role:${team}, applications, get, ${team}/*, allow`);
    if (out.length < lines) out.push(`p, role:${team}, applications, sync, ${team}/*, allow`);
    if (out.length < lines) out.push(`g, my-org:${team}, role:${team}`);
    if (out.length < lines && i % 4 === 0) {
      out.push(`p, role:${team}, extensions, invoke, ext-${i % 50}, allow`);
    }
    if (out.length < lines && i % 10 === 0) out.push(`p, role:${team}, logs, get, ${team}/*, deny`);
  }
  return out.join('\n');
}

function timeMs(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function timeMsAsync(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function measurePolicy(lines: number): Promise<PolicyCost> {
  const data = { 'policy.csv': generatePolicy(lines) };
  let parsed = await parseRbacConfigMap(data);
  const parseMs = await timeMsAsync(async () => {
    parsed = await parseRbacConfigMap(data);
  });
  const config = parsed.config!;
  let enforcer = await createEnforcer(config);
  const indexMs = await timeMsAsync(async () => {
    enforcer = await createEnforcer(config);
  });

  // Uncached: a new caller object each time (as after a reload or for a new session),
  // in SSO groups that map to roles.
  const callers = Array.from({ length: 2000 }, (_, i): RbacSubject => ({
    subject: `user-${i}`,
    groups: [`my-org:team-${(i % 97) + 1}`],
  }));
  for (const who of callers.slice(0, 100)) enforcer.canInvoke(who, 'ext-4');
  const uncachedUs =
    (timeMs(() => callers.forEach((who) => enforcer.canInvoke(who, 'ext-4'))) * 1000) /
    callers.length;

  const cached = withDecisionCache(enforcer, () => true);
  const alice: RbacSubject = { subject: 'alice', groups: ['my-org:team-3'] };
  cached.canInvoke(alice, 'bench');
  const rounds = 200_000;
  const cachedUs =
    (timeMs(() => {
      for (let i = 0; i < rounds; i++) cached.canInvoke(alice, 'bench');
    }) *
      1000) /
    rounds;

  let casbin = await createCasbinEnforcer(config);
  const casbinLoadMs = await timeMsAsync(async () => {
    casbin = await createCasbinEnforcer(config);
  });
  const samples = lines >= 100_000 ? 3 : 20;
  const casbinDecisionMs =
    timeMs(() => {
      for (let i = 0; i < samples; i++) casbin.canInvoke(callers[i], 'ext-4');
    }) / samples;

  return { lines, parseMs, indexMs, uncachedUs, cachedUs, casbinLoadMs, casbinDecisionMs };
}
