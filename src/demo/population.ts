// A seeded synthetic merchant population in the import file format, for the demo,
// the benchmarks and the tests. Same seed, same size, same date: the same bytes.
import fs from 'node:fs';
import { once } from 'node:events';
import { monthsBefore, type BusinessDate } from '../dates.ts';
import { formatYuan } from '../money.ts';
import type { Segment } from '../customers/types.ts';

export interface PopulationOptions {
  seed: number;
  size: number;
  /** the business date the population is "as of": flows cover the 8 months before its month */
  asOf: BusinessDate;
}

/** Exactly one import line, as JSON.stringify writes it. */
export interface PopulationLine {
  id: string;
  name: string;
  segment: Segment;
  realNameVerified: boolean;
  whitelist: { limit: string; reason: string; expiresOn: string | null } | null;
  accounts: { id: string; primary: boolean; balance: string }[];
  bankCards: { id: string; bank: string; last4: string; balance: string }[];
  monthlyFlow: Record<string, string>;
}

const HISTORY_MONTHS = 8;
const BANKS = ['CMB', 'ICBC', 'CCB', 'ABC', 'BOC', 'BOCOM', 'PSBC'] as const;
const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '胡', '朱', '高', '林', '何', '郭', '马', '罗'];
const TRADES = ['服饰', '数码', '家居', '食品', '母婴', '美妆', '茶叶', '五金', '文具', '宠物', '户外', '家电', '鞋包', '果蔬'];
const SHOP_KINDS = ['小店', '旗舰店', '专营店', '商行', '工作室', '批发部'];
const WHITELIST_REASONS = ['strategic partner', 'bank referral', 'group customer', 'pilot programme', 'offline distributor'];

/** mulberry32: tiny, fast, good enough to make a population; not for anything secret. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function* generatePopulation(opts: PopulationOptions): Generator<PopulationLine> {
  if (!Number.isSafeInteger(opts.size) || opts.size < 0) throw new RangeError(`size must be a whole number ≥ 0, got ${opts.size}`);
  const rand = mulberry32(opts.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  // Box-Muller; one normal per call is plenty here.
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const months = monthsBefore(opts.asOf, HISTORY_MONTHS);
  const asOfYear = Number(opts.asOf.slice(0, 4));
  const width = Math.max(7, String(opts.size).length);

  for (let n = 1; n <= opts.size; n++) {
    const id = `M${String(n).padStart(width, '0')}`;
    const r = rand();
    const segment: Segment = r < 0.45 ? 'open_platform' : r < 0.8 ? 'supply_chain' : 'external';

    let whitelist: PopulationLine['whitelist'] = null;
    if (rand() < 0.08) {
      const w = rand();
      // a third for ever, a sixth already expired, the rest running into the coming years
      const expiresOn = w < 1 / 3 ? null
        : w < 0.5 ? date(asOfYear - int(0, 1), int(1, 12), int(1, 28), opts.asOf, 'before')
        : date(asOfYear + int(0, 2), int(1, 12), int(1, 28), opts.asOf, 'after');
      // 50,000 to 3,000,000 CNY in whole thousands, skewed low
      const limitYuan = Math.round((50_000 + Math.pow(rand(), 2) * 2_950_000) / 1000) * 1000;
      whitelist = { limit: `${limitYuan}.00`, reason: pick(WHITELIST_REASONS), expiresOn };
    }

    // Typical shop: median ~60,000 CNY a month; 1% are very large, enough to hit any cap.
    const huge = rand() < 0.01;
    const base = huge ? 3_000_000 + rand() * 27_000_000 : Math.exp(Math.log(60_000) + 1.4 * normal());
    const shape = rand();
    const historyFrom = shape < 0.05 ? HISTORY_MONTHS - int(3, 5) : 0; // ~5%: a young shop
    const gaps = shape >= 0.05 && shape < 0.2; // ~15%: one or more empty months
    const monthlyFlow: Record<string, string> = {};
    for (let m = historyFrom; m < HISTORY_MONTHS; m++) {
      const month = months[m] as string;
      if (gaps && rand() < 0.25) {
        if (rand() < 0.5) monthlyFlow[month] = '0.00'; // else: no row at all
        continue;
      }
      const seasonal = base * Math.exp(0.25 * normal());
      const yuan = huge ? seasonal : Math.min(2_000_000, Math.max(1_000, seasonal));
      monthlyFlow[month] = formatYuan(Math.round(yuan * 100));
    }
    // a gappy shop whose dice skipped no month still gets its gap
    if (gaps && Object.keys(monthlyFlow).length === HISTORY_MONTHS - historyFrom) monthlyFlow[months[int(historyFrom, HISTORY_MONTHS - 1)] as string] = '0.00';

    const accountCount = int(1, 3);
    const primary = int(0, accountCount - 1);
    const accounts = Array.from({ length: accountCount }, (_, i) => ({
      id: `${id}-A${i + 1}`,
      primary: i === primary,
      balance: formatYuan(rand() < 0.1 ? 0 : int(0, 5_000_000)),
    }));
    const bankCards = Array.from({ length: int(0, 2) }, (_, i) => ({
      id: `${id}-K${i + 1}`,
      bank: pick(BANKS),
      last4: String(int(0, 9999)).padStart(4, '0'),
      balance: formatYuan(int(0, 20_000_000)),
    }));

    yield {
      id,
      name: `${pick(SURNAMES)}记${pick(TRADES)}${pick(SHOP_KINDS)}`,
      segment,
      realNameVerified: rand() < 0.92,
      whitelist,
      accounts,
      bankCards,
      monthlyFlow,
    };
  }
}

/** Streams the population to `path` as JSON lines, respecting backpressure. Returns the count. */
export async function writePopulationJsonl(path: string, opts: PopulationOptions): Promise<number> {
  const out = fs.createWriteStream(path, { encoding: 'utf8' });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => {});
  let n = 0;
  let buffer = '';
  try {
    for (const line of generatePopulation(opts)) {
      buffer += `${JSON.stringify(line)}\n`;
      n++;
      // write in ~64 KB pieces: one write call per line would dominate the time
      if (buffer.length >= 65_536) {
        const ok = out.write(buffer);
        buffer = '';
        if (!ok) await Promise.race([once(out, 'drain'), failed]);
      }
    }
    out.end(buffer);
    await Promise.race([once(out, 'finish'), failed]);
  } catch (e) {
    out.destroy();
    throw e;
  }
  return n;
}

/** A valid 'YYYY-MM-DD' on the requested side of asOf (expired: strictly before). */
function date(year: number, month: number, day: number, asOf: BusinessDate, side: 'before' | 'after'): string {
  let text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  if (side === 'before' && text >= asOf) text = `${Number(asOf.slice(0, 4)) - 1}${text.slice(4)}`;
  if (side === 'after' && text < asOf) text = `${Number(asOf.slice(0, 4)) + 1}${text.slice(4)}`;
  return text;
}
