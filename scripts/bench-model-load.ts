/**
 * Model load time (median wall and CPU ms) with the cell table stored in the artifact against the same model without it (as saved before the
 * table was kept: the search builds it on load), in one run, alternating so that a busy machine slows both alike.
 * Each load is Detector.load from the folder: files read and verified, sessions created, the cell table built or not.
 *
 *   npm run bench:model-load -- MODEL_DIR [--rounds 7]
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CELL_TABLE_FILE } from '../functions/engine/artifact/artifact-manifest.ts';
import { MANIFEST_FILE } from '../functions/engine/artifact/model-artifact.ts';
import { Detector } from '../functions/engine/detection/detector.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '7' } },
});
const [model] = positionals;
const rounds = Number(values.rounds);
if (!model || !Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: npm run bench:model-load -- MODEL_DIR [--rounds N]');
  process.exit(2);
}
const manifest = JSON.parse(await readFile(join(model, MANIFEST_FILE), 'utf8'));
if (!manifest.memoryBank.cells) {
  console.error(`${model} has no stored cell table: save it again with this version (faultline train)`);
  process.exit(2);
}

const older = await mkdtemp(join(tmpdir(), 'faultline-bench-model-load-'));
try {
  await cp(model, older, { recursive: true });
  await rm(join(older, CELL_TABLE_FILE));
  delete manifest.memoryBank.cells;
  await writeFile(join(older, MANIFEST_FILE), JSON.stringify(manifest));

  /** Wall and CPU ms (all threads: onnxruntime's too) of one load. */
  const load = async (dir: string) => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const detector = await Detector.load(dir);
    const used = process.cpuUsage(cpu);
    const ms = performance.now() - started;
    await detector.release();
    return { wall: ms, cpu: (used.user + used.system) / 1000 };
  };
  await load(model); // the first load in a process also pays module and backbone warm-up: not counted
  const times = { stored: [] as { wall: number; cpu: number }[], built: [] as { wall: number; cpu: number }[] };
  for (let i = 0; i < rounds; i++) {
    times.stored.push(await load(model));
    times.built.push(await load(older));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const of = (runs: { wall: number; cpu: number }[], key: 'wall' | 'cpu') => median(runs.map((r) => r[key]));
  const [stored, built] = [of(times.stored, 'wall'), of(times.built, 'wall')];
  const [storedCpu, builtCpu] = [of(times.stored, 'cpu'), of(times.built, 'cpu')];
  console.log(
    JSON.stringify(
      {
        rows: manifest.memoryBank.rows,
        rounds,
        loadAverage: Number(loadavg()[0].toFixed(1)),
        storedTableMs: Math.round(stored),
        builtTableMs: Math.round(built),
        savedMs: Math.round(built - stored),
        speedup: Number((built / stored).toFixed(2)),
        storedTableCpuMs: Math.round(storedCpu),
        builtTableCpuMs: Math.round(builtCpu),
        cpuSpeedup: Number((builtCpu / storedCpu).toFixed(2)),
      },
      null,
      2,
    ),
  );
} finally {
  await rm(older, { recursive: true, force: true });
}
