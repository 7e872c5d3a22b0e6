/**
 * Stage 2, rules: the candidate plan by precedence (rate > lag > CPU > slots), then the bounds repair (rules 1-4, 7).
 * Sizes the change the rules want; the stability stage decides whether and when it is made.
 */
import { alignDown, alignUp, divisorAtMost, divisorFit, fmt, receding } from './math';
import { pct, type Ctx, type Finish, type Plan, type VertexCalc } from './context';
import { utilizationBand, type Evaluation } from './evaluate';
import type { Limit } from './types';

export function propose(x: Ctx, ev: Evaluation): { plan: Plan; finish: Finish } {
  const { snap, job } = x;
  const pol = job.policy;
  const sig = snap.signals;
  const { s, maxSlots, all, free, sources, measured, pinnedSlots, cur, curTMs, lagRecords, backlogSeconds, backlog, consume, produce, uMin, uMax, catchUpSec } = ev;
  const rateAvailable = measured.length > 0;
  // ---- candidates by precedence: rate > lag > cpu > slots ------------------------------------------------------
  const jobUnits = (() => {
    const keyed = free.filter((c) => c.units !== undefined);
    return keyed.length > 0 ? Math.min(...keyed.map((c) => c.units!)) : undefined;
  })();
  const jobLower = Math.min(job.bounds.minParallelism, job.bounds.maxParallelism);
  const jobUpper = Math.min(job.bounds.maxParallelism, maxSlots, ...free.map((c) => c.v.maxParallelism));
  const divisor = pol.alignment === 'divisor';
  const alignJob = (r: number): { p: number; limits: Limit[] } => {
    if (divisor) {
      const plain = Math.min(Math.max(jobLower, alignUp(undefined, r)), jobUpper);
      const p = divisorFit(jobUnits, r, jobLower, jobUpper, cur);
      return { p, limits: [...(p !== plain ? (['alignment'] as Limit[]) : []), ...(plain !== alignUp(undefined, r) ? (['bounds'] as Limit[]) : [])] };
    }
    let p = alignUp(jobUnits, r);
    const limits: Limit[] = [];
    if (jobUnits !== undefined && p !== Math.max(1, Math.ceil(r - 1e-9))) limits.push('alignment');
    if (p > jobUpper) [p, limits[limits.length]] = [Math.max(alignDown(jobUnits, jobUpper), Math.min(jobUpper, cur)), 'bounds'];
    if (p < jobLower) [p, limits[limits.length]] = [jobLower, 'bounds'];
    return { p, limits };
  };

  let plan: Plan | undefined;
  const curPer: Record<string, number> = Object.fromEntries(free.map((c) => [c.v.id, c.v.parallelism]));
  if (rateAvailable) {
    const limitsOf = (cs: VertexCalc[]): Limit[] => cs.flatMap((c) => [...(c.aligned ? (['alignment'] as Limit[]) : []), ...(c.capped ? c.upperWhy : [])]);
    // rule 6: a source over its band with more subtasks than partitions: the subtasks above them read nothing
    const idle = measured.filter((c) => c.isSource && c.partitions !== undefined && c.v.parallelism > c.partitions && c.outsideUp);
    const idleWhy = (c: VertexCalc) => `${c.key} runs ${c.v.parallelism} subtasks for ${c.partitions} partitions (${c.v.parallelism - c.partitions!} read nothing): down to ${c.partitions}, no capacity lost`;
    const needs = (c: VertexCalc) => `${c.key} needs ${fmt(c.r!)} subtasks for ${fmt(c.need!)} rec/s at ${fmt(c.cap!)} rec/s each`;
    const within = `every vertex is within the utilization band ${pct(uMin)}–${pct(uMax)}`;
    if (job.mode === 'adaptive') {
      // per vertex: a change is made when some vertex is outside its band in that direction (scale-ups first)
      const ups = measured.filter((c) => c.outsideUp && c.want! > c.v.parallelism);
      const downs = measured.filter((c) => c.outsideDown && c.want! < c.v.parallelism);
      const moving = ups.length > 0 ? measured.filter((c) => c.want! > c.v.parallelism) : downs.length > 0 ? measured.filter((c) => c.want! < c.v.parallelism) : [];
      const repairs = idle.filter((c) => !moving.includes(c));
      if (moving.length === 0 && repairs.length === 0) {
        const capped = Object.fromEntries(measured.map((c) => [c.v.id, Math.min(c.want!, c.v.parallelism)]));
        plan = { p: cur, rule: 'rate', why: within, limits: [], inBand: { p: Math.max(...Object.values({ ...curPer, ...capped })), perVertex: { ...curPer, ...capped } } };
      } else {
        const per: Record<string, number> = { ...curPer };
        for (const c of moving) per[c.v.id] = c.want!;
        for (const c of repairs) per[c.v.id] = c.partitions!;
        const driver = (ups.length > 0 ? ups : downs)[0];
        const why = [...(driver ? [`${needs(driver)}${ups.length + downs.length > 1 ? ` (${moving.length} vertices change)` : ''}`] : []), ...repairs.map(idleWhy)].join('; ');
        plan = { p: Math.max(...Object.values(per)), perVertex: per, rule: 'rate', why, limits: [...limitsOf(moving), ...(repairs.length ? (['source-partitions'] as Limit[]) : [])] };
        if (repairs.length > 0) plan.repair = repairs.map((c) => c.v.id);
        if (ups.length > 0) {
          plan.levelPer = { ...per, ...Object.fromEntries(moving.map((c) => [c.v.id, c.levelWant!])) };
          plan.level = Math.max(...Object.values(plan.levelPer));
        }
      }
    } else {
      // one job-level parallelism: the tightest vertex sets it; up when some vertex is over its band, down only when
      // the tightest vertex itself is under its band
      const b = measured.reduce((a, c) => (c.want! > a.want! ? c : a));
      const upDriver = measured.find((c) => c.outsideUp && c.want! > cur);
      if (b.want! > cur && upDriver) {
        plan = { p: b.want!, rule: 'rate', why: `${needs(b)}${upDriver !== b ? ` (${upDriver.key} is over its band)` : ''}`, limits: limitsOf([b]), level: Math.max(...measured.map((c) => c.levelWant!)) };
      } else if (b.want! < cur && idle.length > 0 && !b.outsideDown) {
        // every vertex wants less than now, and a source over its band cannot use the subtasks above its partitions
        plan = { p: b.want!, rule: 'rate', why: `${idle.map(idleWhy).join('; ')}; the tightest vertex, ${needs(b)}`, limits: ['source-partitions'], repair: ['job'] };
      } else if (b.want! < cur && b.outsideDown) {
        plan = { p: b.want!, rule: 'rate', why: `the tightest vertex, ${needs(b)}`, limits: limitsOf([b]) };
      } else if (b.want! === cur) {
        plan = { p: cur, rule: 'rate', why: `the tightest vertex, ${needs(b)} → ${cur}`, limits: [] };
      } else if (b.want! < cur && sources.length > 0 && sources.every((c) => receding(c.trend))) {
        const falls = Math.min(...sources.map((c) => c.trend!.falls ?? 0));
        plan = { p: cur, rule: 'rate', why: `${within}, but the demand fell at the last ${falls} decisions and the tightest vertex, ${needs(b)}`, limits: [], receding: b.want! };
      } else {
        plan = { p: cur, rule: 'rate', why: b.want! < cur ? `${within} (the tightest vertex, ${needs(b)})` : within, limits: [] };
      }
      if (plan.p === cur) plan.inBand = { p: Math.min(cur, b.want!) };
    }
    plan.urgent = backlog;
    // rule 10: say when the target rate was the forecast's
    if (x.forecast) plan.why += ` (${x.forecast})`;
  } else {
    // rule 2: the seed's lag rule
    if (backlog && produce !== undefined && consume !== undefined && consume > 0 && cur > 0) {
      const lagRec = lagRecords ?? 0;
      const catchUp = catchUpSec > 0 ? lagRec / catchUpSec : 0;
      const r = x.fig('lagRule.requiredParallelism', (cur * (produce + catchUp)) / consume);
      const a = alignJob(r);
      x.step(
        `lag rule (seed 001): ${fmt(cur)} × (produce ${fmt(produce)} + catch-up ${fmt(lagRec)} ÷ ${catchUpSec} s = ${fmt(catchUp)}) ÷ consume ${fmt(consume)} rec/s = ${fmt(r)} → ${a.p}`,
      );
      plan = { p: Math.max(a.p, cur), rule: 'lag', why: `backlog ${fmt(backlogSeconds!)} s > ${fmt(pol.maxBacklogSeconds)} s; produce ${fmt(produce)} ÷ consume ${fmt(consume)} rec/s`, limits: a.limits, urgent: true };
      if (a.p <= cur) plan.why += ' (the backlog is already being worked off fast enough)';
    } else if (backlog) {
      if (produce === undefined) x.missing.add('produceRate (lag rule)');
      if (consume === undefined) x.missing.add('consumeRate (lag rule)');
    } else if (produce === undefined || consume === undefined) {
      if (produce === undefined) x.missing.add('produceRate');
      if (consume === undefined) x.missing.add('consumeRate');
    }
    // rule 4: CPU
    if (!plan || plan.p === cur) {
      const cpuPlan = cpuRule(x, cur, backlog, alignJob);
      if (cpuPlan) plan = cpuPlan;
    }
  }
  // rule 3: slot rule — pressure nothing could size
  const freeRatio = snap.cluster.slotsTotal > 0 ? snap.cluster.slotsFree / snap.cluster.slotsTotal : 0;
  x.fig('slotFreeRatio', freeRatio);
  const pressure =
    backlog ||
    sig.alarms?.lagHigh === true ||
    (lagRecords !== undefined && job.lag !== undefined && job.lag.source.type !== 'cloudwatch' && lagRecords > job.lag.highThreshold) ||
    free.some((c) => (c.v.backpressureMsPerSecond ?? 0) >= 500 || (c.v.busyTimeMsPerSecond ?? 0) >= 1000 * utilizationBand(pol).max - 1e-9);
  if (!plan && pressure && freeRatio < pol.slotFreeRatioBelow) {
    const addTMs = Math.max(1, Math.ceil(curTMs * pol.slotAddFraction));
    const tms = curTMs + addTMs;
    const p = Math.min(jobUpper, Math.max(cur + 1, tms * s));
    x.step(
      `slot rule (seed 001): free ${snap.cluster.slotsFree} ÷ total ${snap.cluster.slotsTotal} slots = ${fmt(freeRatio)} < ${pol.slotFreeRatioBelow} and the job is under pressure with no figures to size it → +${pct(pol.slotAddFraction)} TaskManagers: ${curTMs} + ${addTMs} = ${tms}`,
    );
    const a = divisor ? divisorAtMost(jobUnits, p) : alignDown(jobUnits, p);
    plan = { p: a > cur ? a : p, rule: 'slots', why: `${fmt(freeRatio * 100)}% of slots free (< ${pct(pol.slotFreeRatioBelow)}) under pressure: +${pct(pol.slotAddFraction)} TaskManagers`, limits: a !== p && a > cur ? ['alignment'] : [] };
  }
  if (!plan) {
    plan = {
      p: cur,
      rule: 'none',
      why: pressure ? 'under pressure, but no rate, lag or CPU figures to size a change' : 'no rule asks for a change with the signals available',
      limits: [],
    };
  }

  // rule 7: bounds repair — a current parallelism outside the (possibly changed) bounds is brought back
  let boundsRepair = false;
  if ((cur > jobUpper && !(plan.p < cur && job.scaleDownDelaySeconds === 0)) || (cur < jobLower && plan.p <= cur)) {
    const p = Math.min(Math.max(cur, jobLower), jobUpper);
    plan = { p, rule: 'bounds', why: `parallelism ${cur} is outside the bounds ${jobLower}–${jobUpper}`, limits: ['bounds'] };
    boundsRepair = true;
  }
  return { plan, finish: { cur, curTMs, curPer, s, pinnedSlots, backlog, boundsRepair, jobUnits, measured, names: Object.fromEntries(all.map((c) => [c.v.id, c.key])) } };
}

function cpuRule(x: Ctx, cur: number, backlog: boolean, alignJob: (r: number) => { p: number; limits: Limit[] }): Plan | undefined {
  const { snap, job } = x;
  const raw = snap.signals.cpuPercent;
  if (raw === undefined) {
    x.missing.add('cpuPercent');
    delete x.next.cpuHighSince;
    delete x.next.cpuLowSince;
    return undefined;
  }
  const cpu = x.fig('cpuPercent', x.smooth('cpu', raw));
  const targetCpu = x.fig('cpuTargetPercent', job.policy.targetUtilization * 100);
  const window = x.fig('cpuSustainSeconds', job.cpu.alarm.periodSeconds * job.cpu.alarm.datapointsToAlarm);
  const high = raw >= job.cpu.highPercent;
  const low = raw <= job.cpu.lowPercent;
  if (high) x.next.cpuHighSince = x.prev.cpuHighSince ?? snap.now;
  if (low) x.next.cpuLowSince = x.prev.cpuLowSince ?? snap.now;
  const sustained = (alarm: boolean | undefined, since: number | undefined) =>
    alarm ?? (since !== undefined && (snap.now - since) / 1000 >= window);
  const highSustained = high && sustained(snap.signals.alarms?.cpuHigh, x.next.cpuHighSince);
  const lowSustained = low && sustained(snap.signals.alarms?.cpuLow, x.next.cpuLowSince);
  if (!highSustained && !lowSustained) {
    x.step(
      `cpu: ${fmt(raw)}% (smoothed ${fmt(cpu)}%)` +
        (high || low ? ` ${high ? '≥' : '≤'} ${high ? job.cpu.highPercent : job.cpu.lowPercent}% but not yet sustained for ${window} s` : ` within ${job.cpu.lowPercent}–${job.cpu.highPercent}%`),
    );
    return undefined;
  }
  const r = x.fig('cpuRule.requiredParallelism', (cur * cpu) / targetCpu);
  const a = alignJob(r);
  x.step(`cpu rule: ${fmt(cur)} × ${fmt(cpu)}% ÷ ${fmt(targetCpu)}% = ${fmt(r)} → ${a.p}`);
  if (highSustained) {
    return { p: Math.max(cur, a.p), rule: 'cpu', why: `CPU ${fmt(cpu)}% ≥ ${job.cpu.highPercent}% for ${window} s; sized to ${fmt(targetCpu)}%`, limits: a.limits, urgent: backlog };
  }
  return { p: Math.min(cur, a.p), rule: 'cpu', why: `CPU ${fmt(cpu)}% ≤ ${job.cpu.lowPercent}% for ${window} s; sized to ${fmt(targetCpu)}%`, limits: a.limits };
}
