/**
 * Stage 3, stability: rules 8 (cooldown, in-progress, min change, scale-down delay, backlog freeze, the catch-up
 * give-back, the idle-source repair) and 9 (ineffective scale-up), then capacity: turns the plan the rules want into
 * the action taken.
 */
import { taskManagersFor } from '../config';
import { alignAtLeast, alignDivisor, alignDown, divisorAtMost, fmt } from './math';
import type { JobSnapshot } from './snapshot';
import { pct, sum, type Ctx, type Finish, type Plan } from './context';
import type { Action, Decision, Limit } from './types';

/** Rule 9: a scale-up is ineffective when it delivered less than this fraction of the expected rate increase. */
export const EFFECTIVENESS_THRESHOLD = 0.1;

/** Rule 8 and 9 (stability, effectiveness), then capacity: turns the wanted plan into an action. */
export function finish(x: Ctx, proposed: Plan, f: Finish): Decision {
  const { snap, job } = x;
  const { cur, curTMs, s } = f;
  let plan = proposed;
  const reactive = job.mode === 'reactive';
  const tmsFor = (p: number) => taskManagersFor({ ...job, slotsPerTaskManager: s }, Math.max(p, f.pinnedSlots));
  const limits = new Set<Limit>(plan.limits);
  let wanted = plan.p;
  let per = plan.perVertex;
  // reactive mode: the job takes every slot, so the decision is a TaskManager count
  if (reactive && wanted !== cur) {
    const tms = tmsFor(wanted);
    const eff = Math.min(tms * s, job.bounds.maxParallelism, ...x.snap.vertices.filter((v) => !v.pinned).map((v) => v.maxParallelism));
    x.step(`reactive mode: ${wanted} subtasks need ${tms} TaskManagers × ${s} slots${tms === curTMs ? ', which the cluster has' : `; the job will run at ${eff}`}`);
    wanted = tms === curTMs ? cur : eff;
  }
  const dirOf = (p: number, pv?: Record<string, number>): 'up' | 'down' | undefined => {
    if (pv) {
      const ups = Object.entries(pv).some(([id, q]) => q > (f.curPer[id] ?? q));
      const downs = Object.entries(pv).some(([id, q]) => q < (f.curPer[id] ?? q));
      return ups ? 'up' : downs ? 'down' : undefined;
    }
    return p > cur ? 'up' : p < cur ? 'down' : undefined;
  };
  // the catch-up give-back: a scale-up's surplus for a backlog now worked off goes, whatever the band says
  const back = giveBack(x, plan, f, dirOf(wanted, per));
  if (back) {
    plan = { ...plan, p: back.p, perVertex: back.per, rule: 'rate', why: back.why, limits: [] };
    [wanted, per] = [back.p, back.per];
  }
  x.fig('wantedParallelism', wanted);
  const direction = dirOf(wanted, per);
  const repair = plan.repair !== undefined && !f.boundsRepair;
  if (per && direction === 'up') {
    // scale-ups are immediate; the scale-downs of other vertices wait for the delay (an idle-source repair does not:
    // the subtasks it removes read nothing)
    const repaired = new Set(plan.repair ?? []);
    per = Object.fromEntries(Object.entries(per).map(([id, q]) => [id, repaired.has(id) ? q : Math.max(q, f.curPer[id] ?? q)]));
    wanted = Math.max(...Object.values(per));
  }
  // like a bounds repair, these wait for no scale-down delay: the give-back because the load did not fall, the repair
  // because no capacity is lost
  const undelayed = f.boundsRepair || back !== undefined || (repair && direction === 'down');
  const base = {
    policy: 'flink-elastic',
    currentParallelism: cur,
    currentTaskManagers: curTMs,
    wantedParallelism: wanted,
    rule: plan.rule,
  };
  const none = (reason: string, extra: Limit[] = []): Decision => {
    extra.forEach((l) => limits.add(l));
    return capacityOnly(x, f, { ...base, action: 'none', targetParallelism: cur, targetTaskManagers: curTMs, reason, limitedBy: [...limits] }, tmsFor);
  };
  const inProgress = snap.history.decisions.filter((d) => d.outcome === 'in-progress');
  const lastRescaleAt = lastChangeAt(snap);
  const cooling = lastRescaleAt !== undefined && (snap.now - lastRescaleAt) / 1000 < job.cooldownSeconds;
  if (lastRescaleAt !== undefined) x.fig('secondsSinceLastRescale', (snap.now - lastRescaleAt) / 1000);
  x.fig('cooldownSeconds', job.cooldownSeconds);
  x.fig('scaleDownDelaySeconds', job.scaleDownDelaySeconds);

  if (direction === undefined) {
    const r = plan.receding;
    if (r !== undefined && !f.backlog && job.scaleDownDelaySeconds > 0 && (cur - r) / Math.max(1, cur) >= job.policy.minChangeFraction) {
      // a receding load: the delay's clock runs inside the band too; the scale-down is made once the band is left
      const d = delayClock(x, tmsFor, r);
      return none(
        `no change at ${cur}: ${plan.why}; scale down ${cur} → ${r} wanted for ${fmt(d.waited)} s of the ${job.scaleDownDelaySeconds} s scale-down delay, made once the utilization leaves the band`,
        ['scale-down-delay'],
      );
    }
    const ib = plan.inBand;
    if (x.prev.pendingScaleDown && ib && !f.backlog && job.scaleDownDelaySeconds > 0 && wantsDown(f, job.policy.minChangeFraction, ib.p, ib.perVertex)) {
      // a reading inside the band, while a scale-down delay runs, is one more recommendation in its window (kept at
      // its highest): it does not restart the delay, so a load hovering at the band's edge is scaled down in the end
      const d = delayClock(x, tmsFor, ib.p, ib.perVertex, true);
      return none(
        `no change at ${cur}: ${plan.why}; the scale-down delay runs on (a scale-down wanted for ${fmt(d.waited)} s of the ${job.scaleDownDelaySeconds} s, highest wanted ${d.highest}, ${ib.p} now): a reading inside the band does not restart it`,
      );
    }
    if (x.prev.pendingScaleDown) x.step(`scale-down delay stopped: ${f.backlog ? 'a backlog is being worked off' : 'the load needs the current parallelism again'}`);
    delete x.next.pendingScaleDown;
    return none(`no change at ${cur}: ${plan.why}`);
  }
  // the operator's max factors: how far one rescale may go (not a bounds repair, not an idle-source repair)
  if (!f.boundsRepair && !(repair && direction === 'down')) {
    const m = maxFactor(x, f, direction, wanted, per);
    if (m) {
      [wanted, per] = [m.p, m.per];
      limits.add(m.limit);
      if (dirOf(wanted, per) === undefined) {
        delete x.next.pendingScaleDown;
        return none(`no change at ${cur}: ${m.why} (${plan.why})`);
      }
    }
  }
  const moves = per
    ? Object.entries(per)
        .filter(([id, q]) => q !== f.curPer[id])
        .map(([id, q]) => `${f.names[id] ?? id} ${f.curPer[id]} → ${q}`)
        .join(', ')
    : `${cur} → ${wanted}`;
  const change = `${direction === 'up' ? 'scale up' : 'scale down'} ${moves}`;

  // minimum change: one rescale costs a restart
  const rel = per
    ? Math.max(...Object.entries(per).map(([id, q]) => Math.abs(q - (f.curPer[id] ?? q)) / Math.max(1, f.curPer[id] ?? q)))
    : Math.abs(wanted - cur) / Math.max(1, cur);
  x.fig('changeFraction', rel);
  x.fig('minChangeFraction', job.policy.minChangeFraction);
  if (!undelayed && rel < job.policy.minChangeFraction && !(direction === 'up' && plan.urgent)) {
    delete x.next.pendingScaleDown;
    return none(`no change at ${cur}: ${change} is a ${pct(rel)} change, below the ${pct(job.policy.minChangeFraction)} minimum (${plan.why})`, ['min-change']);
  }
  if (inProgress.length > 0) return none(`${change} wanted, but a rescale is still in progress`, ['in-progress']);
  if (x.unconfirmed.length > 0 && !f.boundsRepair && direction === 'up') {
    return none(`${change} wanted, but the load just changed sharply (${x.unconfirmed.join(', ')}); waiting one more sample to size the change once`, ['smoothing']);
  }

  if (direction === 'up') {
    delete x.next.pendingScaleDown;
    // rule 9: ineffective scale-up
    const rate = processingRate(x, f);
    const last = x.prev.lastScaleUp;
    if (last && rate !== undefined && last.toParallelism === cur && !f.boundsRepair) {
      const expected = last.expectedRate - last.rateBefore;
      const actual = rate - last.rateBefore;
      x.fig('lastScaleUp.rateBefore', last.rateBefore);
      x.fig('lastScaleUp.expectedRate', last.expectedRate);
      x.fig('lastScaleUp.rateNow', rate);
      if (expected > 0 && actual / expected < EFFECTIVENESS_THRESHOLD) {
        x.step(
          `ineffective scale-up: the last scale-up ${last.fromParallelism} → ${last.toParallelism} raised the processing rate from ${fmt(last.rateBefore)} to ${fmt(rate)} rec/s, ${pct(Math.max(0, actual) / expected)} of the expected +${fmt(expected)} (< ${pct(EFFECTIVENESS_THRESHOLD)})`,
        );
        if (job.policy.effectivenessDetection) {
          return none(
            `${change} wanted, but the last scale-up ${last.fromParallelism} → ${last.toParallelism} did not raise the processing rate (${pct(Math.max(0, actual) / expected)} of the expected gain); not repeating it: look for a bottleneck outside the job's parallelism (sink, external system, skew, pinned vertex)`,
            ['ineffective-scale-up'],
          );
        }
        x.step('effectiveness detection is off (policy.effectivenessDetection false): scaling up anyway');
      }
    }
    if (cooling) return none(`${change} wanted (${plan.why}), but the last rescale was ${fmt((snap.now - lastRescaleAt!) / 1000)} s ago (cooldown ${job.cooldownSeconds} s)`, ['cooldown']);
    if (rate !== undefined) {
      x.next.lastScaleUp = { at: snap.now, fromParallelism: cur, toParallelism: wanted, rateBefore: rate, expectedRate: (rate * wanted) / Math.max(1, cur) };
    }
    // sized with catch-up capacity for a backlog: record what the level needs, to give the rest back once it is worked off
    if (!reactive && plan.level !== undefined && plan.level < wanted) {
      const level = Math.max(plan.level, cur);
      const levelPer = per && plan.levelPer ? Object.fromEntries(Object.entries(per).map(([id, q]) => [id, Math.min(q, Math.max(plan.levelPer![id] ?? q, f.curPer[id] ?? 1))])) : undefined;
      x.next.catchUpGiveBack = { at: snap.now, toParallelism: wanted, level, ...(levelPer ? { perVertex: levelPer } : {}) };
      if (level < wanted) x.step(`catch-up: the level alone needs ${level} of the ${wanted}; the rest is given back once the backlog is worked off`);
      else delete x.next.catchUpGiveBack;
    } else delete x.next.catchUpGiveBack;
    return act(x, f, { ...base, direction, targetParallelism: wanted, perVertex: per, reason: `${change}: ${plan.why}`, limitedBy: [...limits] }, tmsFor);
  }

  // direction down
  if (f.backlog && !f.boundsRepair && !repair) {
    delete x.next.pendingScaleDown;
    return none(`no change at ${cur}: ${change} wanted, but a backlog is being worked off (scale-down frozen)`, ['backlog-freeze']);
  }
  let target = wanted;
  let targetPer = per;
  if (!undelayed && job.scaleDownDelaySeconds > 0) {
    // the clock runs on while one sample of a sharp change waits for its confirmation
    const d = delayClock(x, tmsFor, wanted, per);
    if (x.unconfirmed.length > 0) {
      return none(`${change} wanted for ${fmt(d.waited)} s of the ${job.scaleDownDelaySeconds} s scale-down delay, but the load just changed sharply (${x.unconfirmed.join(', ')}); waiting one more sample`, ['smoothing']);
    }
    if (d.waited < job.scaleDownDelaySeconds) {
      return none(`no change at ${cur}: ${change} wanted for ${fmt(d.waited)} s of the ${job.scaleDownDelaySeconds} s scale-down delay (highest wanted so far ${d.highest}; ${plan.why})`, ['scale-down-delay']);
    }
    if (d.rebounded || d.inBand) {
      // the load came back within the delay (or sat inside the band in it, so the fall now may be a dip): keep what
      // it needed at its highest
      target = d.highest;
      targetPer = d.highestPer;
      if (target !== wanted) {
        limits.add('scale-down-delay');
        x.step(
          d.rebounded
            ? `scale-down delay over: the wanted parallelism fell to ${d.lowest} and rose again within the last ${fmt(d.waited)} s, so going to ${target}, the highest value wanted in it`
            : `scale-down delay over: the load was inside the band for part of the last ${fmt(d.waited)} s (not a steady decline), so going to ${target}, the highest value wanted in it`,
        );
      }
    } else if (d.highest !== wanted) {
      // a steady decline has no dip to guard against: the highest value is the oldest, most stale one
      x.step(
        `scale-down delay over: the wanted parallelism only fell in the last ${fmt(d.waited)} s (from ${d.highest} to ${wanted}, never rising ${pct(job.policy.minChangeFraction)} or more over its lowest), so going to ${wanted}, the value wanted now`,
      );
    }
  } else if (x.unconfirmed.length > 0 && !f.boundsRepair && !repair) {
    return none(`${change} wanted, but the load just changed sharply (${x.unconfirmed.join(', ')}); waiting one more sample to size the change once`, ['smoothing']);
  }
  if (cooling) return none(`${change} wanted, but the last rescale was ${fmt((snap.now - lastRescaleAt!) / 1000)} s ago (cooldown ${job.cooldownSeconds} s)`, ['cooldown']);
  delete x.next.pendingScaleDown;
  delete x.next.lastScaleUp;
  delete x.next.catchUpGiveBack;
  return act(
    x,
    f,
    { ...base, direction, targetParallelism: target, perVertex: targetPer, reason: `scale down ${
        targetPer
          ? Object.entries(targetPer)
              .filter(([id, q]) => q !== f.curPer[id])
              .map(([id, q]) => `${f.names[id] ?? id} ${f.curPer[id]} → ${q}`)
              .join(', ')
          : `${cur} → ${target}`
      }: ${plan.why}`, limitedBy: [...limits] },
    tmsFor,
  );
}

/**
 * The operator's max factors (`policy.scaleUpMaxFactor`, `policy.scaleDownMaxFactor`): one scale-up goes to at most
 * ceil(current × factor), one scale-down to at least ceil(current × (1 − factor)), per vertex in adaptive mode; the
 * capped value is the aligned one nearest to the cap in the wanted direction when there is one, else the cap itself.
 * Undefined when the factor is unset or does not bind.
 */
function maxFactor(x: Ctx, f: Finish, direction: 'up' | 'down', p: number, per?: Record<string, number>): { p: number; per?: Record<string, number>; limit: Limit; why: string } | undefined {
  const pol = x.job.policy;
  const factor = direction === 'up' ? pol.scaleUpMaxFactor : pol.scaleDownMaxFactor;
  if (factor === undefined) return undefined;
  const divisor = pol.alignment === 'divisor';
  const units = new Map(f.measured.map((c) => [c.v.id, c.units]));
  const one = (q: number, now: number, n: number | undefined): number => {
    if (direction === 'up') {
      const cap = Math.max(now, Math.ceil(now * factor - 1e-9));
      if (q <= cap) return q;
      const a = divisor ? divisorAtMost(n, cap) : alignDown(n, cap);
      return a > now ? a : cap;
    }
    const floor = Math.min(now, Math.ceil(now * (1 - factor) - 1e-9));
    if (q >= floor) return q;
    const a = divisor ? alignDivisor(n, floor, now) : alignAtLeast(n, floor);
    return a < now ? a : floor;
  };
  const outPer = per ? Object.fromEntries(Object.entries(per).map(([id, q]) => [id, one(q, f.curPer[id] ?? q, units.get(id))])) : undefined;
  const out = outPer ? Math.max(...Object.values(outPer)) : one(p, f.cur, f.jobUnits);
  const bound = outPer ? Object.entries(outPer).some(([id, q]) => q !== per![id]) : out !== p;
  if (!bound) return undefined;
  const key = direction === 'up' ? 'scaleUpMaxFactor' : 'scaleDownMaxFactor';
  const rule = direction === 'up' ? `at most ceil(current × ${fmt(factor)})` : `at least ceil(current × (1 − ${fmt(factor)}))`;
  const why = `policy.${key} ${fmt(factor)} limits one ${direction === 'up' ? 'scale-up' : 'scale-down'} to ${rule}: ${outPer ? 'per vertex' : `${f.cur} → ${out} (wanted ${p})`}`;
  x.fig(key, factor);
  x.step(why);
  return { p: out, ...(outPer ? { per: outPer } : {}), limit: direction === 'up' ? 'scale-up-max-factor' : 'scale-down-max-factor', why };
}

/** Whether a recommendation (job-level, or per vertex) is a scale-down worth the minimum change. */
function wantsDown(f: Finish, minChange: number, p: number, per?: Record<string, number>): boolean {
  const down = (q: number, now: number) => q < now && (now - q) / Math.max(1, now) >= minChange;
  return per ? Object.entries(per).some(([id, q]) => down(q, f.curPer[id] ?? q)) : down(p, f.cur);
}

/**
 * Rule 8, the catch-up give-back. A scale-up sized with catch-up capacity for a backlog recorded what its level
 * needed without it. Once the backlog is worked off (no backlog over the SLO, and the lag left changes no vertex's
 * wanted parallelism), the surplus is given back at once: down to the larger of that level and what the rules want
 * now, never below either (a further fall of the load is a scale-down like any other, after the delay). Once: the
 * record goes when it is given back, when anything else moved the parallelism, or when the change would be under the
 * minimum once the scale-down delay has passed since the scale-up (before that it is looked at again each decision:
 * the rates right after a backlog still carry its catch-up). Savepoint and adaptive modes (reactive mode sizes TaskManagers, not a level).
 */
function giveBack(x: Ctx, plan: Plan, f: Finish, direction: 'up' | 'down' | undefined): { p: number; per?: Record<string, number>; why: string } | undefined {
  const g = x.prev.catchUpGiveBack;
  if (!g) return undefined;
  const drop = (why?: string) => {
    if (why) x.step(`catch-up give-back: ${why}`);
    delete x.next.catchUpGiveBack;
    return undefined;
  };
  // right after a backlog is worked off the rates still carry its catch-up (Flink's meters average a minute), so a
  // give-back not worth making yet is looked at again until the scale-down delay has passed since the scale-up;
  // after that the ordinary scale-down path (and its delay) covers whatever surplus is left
  const notYet = (why: string) => {
    const age = (x.snap.now - g.at) / 1000;
    if (age < x.job.scaleDownDelaySeconds) {
      x.step(`catch-up give-back: ${why}; looked at again until ${fmt(x.job.scaleDownDelaySeconds)} s after the scale-up (${fmt(age)} s now)`);
      return undefined;
    }
    return drop(why);
  };
  if (x.job.mode === 'reactive' || f.boundsRepair) return drop();
  // the scale-up itself may still be under way (the job runs at the old parallelism until it is done)
  if (x.snap.history.decisions.some((d) => d.outcome === 'in-progress')) return undefined;
  if (g.toParallelism !== f.cur) return drop(`the parallelism is ${f.cur}, not the ${g.toParallelism} of the scale-up that carried it: nothing to give back`);
  // a new scale-up records its own level; without rates (or during a backlog) it waits
  if (direction === 'up' || plan.rule !== 'rate' || f.backlog || f.measured.length === 0) return undefined;
  const draining = f.measured.filter((c) => c.levelWant !== undefined && c.levelWant < c.want!);
  if (draining.length > 0) {
    x.step(`catch-up give-back: waiting, the lag left still needs ${draining.map((c) => `${c.key} at ${c.want} (${c.levelWant} without it)`).join(', ')}`);
    return undefined;
  }
  const tight = f.measured.reduce((a, c) => (c.want! > a.want! ? c : a));
  const needs = `${tight.key} needs ${fmt(tight.r!)} subtasks for ${fmt(tight.need!)} rec/s at ${fmt(tight.cap!)} rec/s each`;
  let p: number;
  let per: Record<string, number> | undefined;
  if (x.job.mode === 'adaptive') {
    per = { ...f.curPer };
    for (const c of f.measured) per[c.v.id] = Math.min(f.curPer[c.v.id] ?? c.v.parallelism, Math.max(c.want!, g.perVertex?.[c.v.id] ?? g.level));
    p = Math.max(...Object.values(per));
    if (!wantsDown(f, x.job.policy.minChangeFraction, p, per)) return notYet(`nothing worth the ${pct(x.job.policy.minChangeFraction)} minimum change to give back (${needs})`);
  } else {
    p = Math.min(f.cur, Math.max(tight.want!, g.level));
    if (!wantsDown(f, x.job.policy.minChangeFraction, p)) return notYet(`nothing worth the ${pct(x.job.policy.minChangeFraction)} minimum change to give back (${f.cur} → ${p}; ${needs})`);
  }
  x.step(`catch-up give-back: the scale-up to ${g.toParallelism} carried catch-up capacity for a backlog that is now worked off; the level needs ${g.level} then, ${tight.want} now → ${p}`);
  return { p, ...(per ? { per } : {}), why: `the backlog the scale-up to ${g.toParallelism} was sized for is worked off, its catch-up capacity is given back (${needs})` };
}

interface DelayClock {
  waited: number;
  highest: number;
  highestPer?: Record<string, number>;
  lowest: number;
  rebounded: boolean;
  inBand: boolean;
}

/**
 * Rule 8, the scale-down delay's clock: since when a scale-down has been wanted, the highest and lowest values
 * wanted since, whether the wanted value rebounded (rose by at least the minimum change over its lowest), and whether
 * a reading inside the band (not a receding one) was kept in the window: then it was no steady decline either.
 */
function delayClock(x: Ctx, tmsFor: (p: number) => number, wanted: number, per?: Record<string, number>, inBandReading = false): DelayClock {
  const { snap, job } = x;
  const pend = x.prev.pendingScaleDown;
  const since = pend?.since ?? snap.now;
  const highest = Math.max(pend?.parallelism ?? 0, wanted);
  const highestPer = per ? Object.fromEntries(Object.entries(per).map(([id, q]) => [id, Math.max(q, pend?.perVertex?.[id] ?? 0)])) : undefined;
  const lowest = Math.min(pend?.lowest ?? pend?.parallelism ?? wanted, wanted);
  const lowestPer = per ? Object.fromEntries(Object.entries(per).map(([id, q]) => [id, Math.min(q, pend?.lowestPerVertex?.[id] ?? q)])) : undefined;
  const rose = (q: number, low: number) => q > low && (q - low) / Math.max(1, low) >= job.policy.minChangeFraction;
  const rebounded =
    pend?.rebounded === true ||
    (pend !== undefined && (rose(wanted, pend.lowest ?? pend.parallelism) || Object.entries(per ?? {}).some(([id, q]) => rose(q, pend.lowestPerVertex?.[id] ?? q))));
  const inBand = pend?.inBand === true || inBandReading;
  x.next.pendingScaleDown = {
    since,
    parallelism: highest,
    ...(highestPer ? { perVertex: highestPer } : {}),
    taskManagers: tmsFor(highest),
    lowest,
    ...(lowestPer ? { lowestPerVertex: lowestPer } : {}),
    ...(rebounded ? { rebounded } : {}),
    ...(inBand ? { inBand } : {}),
  };
  const waited = (snap.now - since) / 1000;
  x.fig('scaleDownWantedForSeconds', waited);
  x.fig('scaleDownHighestWanted', highest);
  x.fig('scaleDownLowestWanted', lowest);
  return { waited, highest, ...(highestPer ? { highestPer } : {}), lowest, rebounded, inBand };
}

type Partial = Omit<Decision, 'action' | 'figures' | 'steps' | 'missing' | 'targetTaskManagers' | 'direction'> & { direction: 'up' | 'down' };

/** A parallelism change: capacity follows parallelism; in reactive mode the capacity change is the rescale. */
function act(x: Ctx, f: Finish, d: Partial, tmsFor: (p: number) => number): Decision {
  const tms = tmsFor(d.targetParallelism);
  const action: Action = x.job.mode === 'reactive' ? (d.direction === 'up' ? 'scale-out-capacity' : 'scale-in-capacity') : 'rescale';
  const limitedBy = new Set(d.limitedBy);
  if (Math.ceil(Math.max(d.targetParallelism, f.pinnedSlots) / f.s) > x.job.bounds.maxTaskManagers) limitedBy.add('max-task-managers');
  x.fig('targetParallelism', d.targetParallelism);
  x.fig('targetTaskManagers', tms);
  x.step(`capacity follows parallelism: ceil(${Math.max(d.targetParallelism, f.pinnedSlots)} slots ÷ ${f.s} per TM) = ${tms} TaskManagers (bounds ${x.job.bounds.minTaskManagers}–${x.job.bounds.maxTaskManagers})`);
  const out: Decision = {
    ...d,
    action,
    targetTaskManagers: tms,
    limitedBy: [...limitedBy],
    figures: x.figures,
    steps: x.steps,
    missing: [...x.missing],
  };
  if (!d.perVertex) delete out.perVertex;
  return order(out);
}

/** No parallelism change: still keep the TaskManager count where the current parallelism needs it. */
function capacityOnly(x: Ctx, f: Finish, d: Omit<Decision, 'figures' | 'steps' | 'missing'>, tmsFor: (p: number) => number): Decision {
  const { snap, job } = x;
  const need = tmsFor(f.cur);
  x.fig('neededTaskManagers', need);
  let out: Decision = { ...d, figures: x.figures, steps: x.steps, missing: [...x.missing] };
  if (job.mode !== 'reactive' && f.curTMs < need && !d.limitedBy.includes('in-progress')) {
    delete x.next.pendingCapacityIn;
    x.step(`slots: ${f.curTMs} TaskManagers × ${f.s} = ${f.curTMs * f.s} slots, but parallelism ${Math.max(f.cur, f.pinnedSlots)} needs ${need} TaskManagers`);
    out = {
      ...out,
      action: 'scale-out-capacity',
      direction: 'up',
      targetTaskManagers: need,
      rule: 'capacity',
      reason: `add TaskManagers ${f.curTMs} → ${need}: parallelism ${f.cur} needs ${need} × ${f.s} slots (${d.reason})`,
    };
  } else if (job.mode !== 'reactive' && f.curTMs > need && !d.limitedBy.includes('in-progress')) {
    const since = x.prev.pendingCapacityIn?.since ?? snap.now;
    x.next.pendingCapacityIn = { since, taskManagers: need };
    const waited = (snap.now - since) / 1000;
    if (waited >= job.scaleDownDelaySeconds) {
      delete x.next.pendingCapacityIn;
      out = {
        ...out,
        action: 'scale-in-capacity',
        direction: 'down',
        targetTaskManagers: need,
        rule: 'capacity',
        reason: `release TaskManagers ${f.curTMs} → ${need}: parallelism ${f.cur} needs only ${need} × ${f.s} slots (${d.reason})`,
      };
    } else {
      x.step(`slots: ${f.curTMs - need} surplus TaskManager(s) for ${fmt(waited)} s of the ${job.scaleDownDelaySeconds} s delay`);
    }
  } else {
    delete x.next.pendingCapacityIn;
  }
  if (out.action === 'none' && job.mode === 'reactive') out.targetTaskManagers = f.curTMs;
  return order(out);
}

/** Stable key order in the JSON output. */
function order(d: Decision): Decision {
  const o: Decision = {
    policy: d.policy,
    action: d.action,
    ...(d.direction ? { direction: d.direction } : {}),
    currentParallelism: d.currentParallelism,
    targetParallelism: d.targetParallelism,
    ...(d.perVertex ? { perVertex: d.perVertex } : {}),
    currentTaskManagers: d.currentTaskManagers,
    targetTaskManagers: d.targetTaskManagers,
    wantedParallelism: d.wantedParallelism,
    rule: d.rule,
    reason: d.reason,
    limitedBy: [...new Set(d.limitedBy)],
    missing: d.missing,
    figures: d.figures,
    steps: d.steps,
  };
  return o;
}

/** The time of the last parallelism or capacity change the snapshot knows about. */
export function lastChangeAt(snap: JobSnapshot): number | undefined {
  const changes = snap.history.decisions.filter((d) => d.action !== 'none' && d.outcome !== 'dry-run' && d.outcome !== 'skipped').map((d) => d.at);
  const all = [...changes, ...(snap.history.lastRescaleAt !== undefined ? [snap.history.lastRescaleAt] : [])];
  return all.length > 0 ? Math.max(...all) : undefined;
}

/**
 * The job's processing rate for rule 9, in source records/s: the capacity of the tightest measured vertex scaled to
 * source units (min over vertices of capacity × total demand ÷ vertex target), or the consume rate while a backlog
 * shows the job is saturated.
 */
function processingRate(x: Ctx, f: Finish): number | undefined {
  const demand = sum(f.measured.filter((c) => c.isSource && c.demand !== undefined).map((c) => c.demand!));
  const tight = f.measured
    .filter((c) => c.capacity !== undefined && c.target !== undefined && c.target > 0)
    .map((c) => (c.capacity! * (demand > 0 ? demand : c.target!)) / c.target!);
  if (tight.length > 0) return x.fig('processingRate', Math.min(...tight));
  if (f.backlog && x.snap.signals.consumeRate !== undefined) return x.fig('processingRate', x.snap.signals.consumeRate);
  return undefined;
}
