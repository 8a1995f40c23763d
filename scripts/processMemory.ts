/**
 * Resident memory of one Chromium's processes, read from /proc (Linux), for benchmarks: the browser is
 * found by a marker switch on its command line (Chromium ignores switches it does not know), and its
 * renderer processes (the page and its workers) are told apart from the GPU and utility processes.
 * Every process maps the same Chromium binary, so a sum of resident sizes counts those shared pages once a
 * process; the proportional sum (PSS) charges each shared page once in all, split between the processes
 * that map it: what the browser occupies in RAM.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface MemorySample {
  /** Resident bytes of the renderer processes: the page, its workers, their decoded images. */
  renderer: number;
  /** Private (unshared) resident bytes of the renderer processes: what the page itself costs. */
  rendererPrivate: number;
  /** Resident bytes of every process of the browser, summed (shared pages counted in each process). */
  total: number;
  /** Proportional resident bytes of every process, summed: each shared page counted once in all. */
  proportional: number;
  /** Resident bytes by process type (`browser`, `renderer`, `gpu-process`, `utility`, `zygote`…). */
  byType: Record<string, number>;
  /** Proportional resident bytes by process type. */
  proportionalByType: Record<string, number>;
  /** How many processes of each type there are (a spare renderer adds its shared pages to `total`). */
  countByType: Record<string, number>;
  /**
   * `total` split by what backs the pages (RssAnon, RssFile, RssShmem of /proc/PID/status): anonymous memory is what
   * the processes allocated (heaps, buffers, the page's own); file-backed is mostly the Chromium binary and its
   * libraries, counted once a process; shared memory is what processes hand each other (IPC buffers, discardable
   * and GPU transfer memory).
   */
  anonymous: number;
  fileBacked: number;
  sharedMemory: number;
  /** Anonymous resident bytes by process type. */
  anonymousByType: Record<string, number>;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // The process ended between listing and reading.
  }
}

interface ProcessFacts {
  pid: number;
  ppid: number;
  cmdline: string;
  rss: number;
  anonymous: number;
  fileBacked: number;
  sharedMemory: number;
}

function processes(): ProcessFacts[] {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    const status = read(`/proc/${name}/status`);
    const cmdline = read(`/proc/${name}/cmdline`);
    if (!stat || !status || cmdline === null) continue;
    // Field 4 of stat, after the parenthesised command name (which may hold spaces).
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const bytes = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    out.push({
      pid: Number(name),
      ppid,
      cmdline: cmdline.replaceAll('\0', ' '),
      rss: bytes('VmRSS'),
      anonymous: bytes('RssAnon'),
      fileBacked: bytes('RssFile'),
      sharedMemory: bytes('RssShmem'),
    });
  }
  return out;
}

/** Memory of the browser launched with `marker` among its arguments (e.g. `--bench-marker=1234`). */
export function sampleBrowserMemory(marker: string): MemorySample {
  const all = processes();
  const root = all.find((p) => p.cmdline.includes(marker) && !p.cmdline.includes('--type='));
  if (!root)
    return {
      renderer: 0,
      rendererPrivate: 0,
      total: 0,
      proportional: 0,
      byType: {},
      proportionalByType: {},
      countByType: {},
      anonymous: 0,
      fileBacked: 0,
      sharedMemory: 0,
      anonymousByType: {},
    };
  const family = new Set([root.pid]);
  // Children are listed after parents almost always; repeat until no new member joins.
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      if (!family.has(p.pid) && family.has(p.ppid)) {
        family.add(p.pid);
        grew = true;
      }
    }
  }
  let renderer = 0;
  let rendererPrivate = 0;
  let total = 0;
  let proportional = 0;
  let anonymous = 0;
  let fileBacked = 0;
  let sharedMemory = 0;
  const byType: Record<string, number> = {};
  const proportionalByType: Record<string, number> = {};
  const countByType: Record<string, number> = {};
  const anonymousByType: Record<string, number> = {};
  for (const p of all) {
    if (!family.has(p.pid)) continue;
    const rollup = read(`/proc/${p.pid}/smaps_rollup`) ?? '';
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
    const pss = field('Pss');
    total += p.rss;
    proportional += pss;
    anonymous += p.anonymous;
    fileBacked += p.fileBacked;
    sharedMemory += p.sharedMemory;
    const type = /--type=(\S+)/.exec(p.cmdline)?.[1] ?? 'browser';
    byType[type] = (byType[type] ?? 0) + p.rss;
    proportionalByType[type] = (proportionalByType[type] ?? 0) + pss;
    countByType[type] = (countByType[type] ?? 0) + 1;
    anonymousByType[type] = (anonymousByType[type] ?? 0) + p.anonymous;
    if (!p.cmdline.includes('--type=renderer')) continue;
    renderer += p.rss;
    rendererPrivate += field('Private_Clean') + field('Private_Dirty');
  }
  return {
    renderer,
    rendererPrivate,
    total,
    proportional,
    byType,
    proportionalByType,
    countByType,
    anonymous,
    fileBacked,
    sharedMemory,
    anonymousByType,
  };
}
