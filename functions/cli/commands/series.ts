import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { benchSeries } from '../../engine/series/bench.ts';
import { detectSeries } from '../../engine/series/detect-series.ts';
import { DETECTOR_VARIANTS, type SeriesDetectorSettings } from '../../engine/series/detector-settings.ts';
import { evaluateForecasts } from '../../engine/series/forecast/forecast-eval.ts';
import { forecastSeries, horizonSteps } from '../../engine/series/forecast/forecast.ts';
import { limitCrossing } from '../../engine/series/forecast/limit-crossing.ts';
import { nominalInterval } from '../../engine/series/forecast/season.ts';
import { NAB_PROFILES, type NabFile, nabScore } from '../../engine/series/nab-sweep.ts';
import { listCsv, readNabCorpus } from '../../engine/series/nab-corpus.ts';
import { readSeriesFile, resultsCsv } from '../../engine/series/series-file.ts';
import { SeriesInputError } from '../../engine/series/series-error.ts';
import { InvalidOptionError } from '../../engine/errors.ts';
import { positiveInteger, printJson } from '../output.ts';
import { StageProgress } from '../progress.ts';

function detectorSettings(name: string): Partial<SeriesDetectorSettings> {
  const settings = DETECTOR_VARIANTS[name];
  if (!settings)
    throw new InvalidOptionError(
      `--detector must be one of ${Object.keys(DETECTOR_VARIANTS).join(', ')}, got "${name}"`,
      { detector: name },
    );
  return settings;
}

/** A file, or every `.csv` under a folder, as [path, path relative to the folder]. */
async function inputFiles(input: string): Promise<[string, string][]> {
  const info = await stat(input).catch(() => undefined);
  if (!info) throw new SeriesInputError(`${input}: no such file or folder`, { path: input });
  if (info.isFile()) return [[input, basename(input)]];
  const root = existsSync(join(input, 'data')) && existsSync(join(input, 'labels')) ? join(input, 'data') : input; // a NAB corpus
  return (await listCsv(root)).map((rel) => [join(root, rel), rel]);
}

/** `DIR/CATEGORY/NAME_FILE.csv`, the layout NAB's scorer reads. */
function resultsPath(out: string, rel: string, name: string): string {
  return join(out, dirname(rel), `${name}_${basename(rel)}`);
}

interface DetectFlags {
  out?: string;
  detector: string;
  name: string;
  progress: boolean;
}

interface EvalFlags {
  detector: string;
  out: string;
  progress: boolean;
}

interface ForecastFlags {
  horizon: string;
  limit?: number;
}

interface ForecastEvalFlags {
  horizon: string;
  origins: number;
  progress: boolean;
}

const MIN_EVAL_POINTS = 30; // a backtest over the last 20 % needs a few origins with history before them

const finiteNumber = (name: string) => (raw: string) => {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value))
    throw new InvalidArgumentError(`${name} must be a number, got "${raw}"`);
  return value;
};

/** Runs NAB's own scorer; resolves to the three normalised profile scores, or rejects saying what is missing. */
function runNabScorer(corpus: string, results: string, name: string): Promise<Record<string, number>> {
  const script = join(corpus, 'score.sh');
  return new Promise((resolvePromise, reject) => {
    execFile('bash', [script, results, name], { maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const scores: Record<string, number> = {};
      for (const m of stdout.matchAll(/Final score for '.*' detector on '(\w+)' profile = (-?[\d.]+)/g))
        scores[m[1]] = Number(m[2]);
      if (Object.keys(scores).length === 3) return resolvePromise(scores);
      const why = `${stdout}${stderr}`.includes('ModuleNotFoundError')
        ? 'NAB scorer needs Debian packages python3-pandas python3-simplejson python3-dateutil'
        : `NAB scorer failed: ${(error?.message ?? '').slice(0, 200)} ${`${stdout}${stderr}`.slice(-400)}`;
      reject(new SeriesInputError(why, { script }));
    });
  });
}

export function registerSeries(program: Command): void {
  const series = program
    .command('series')
    .description('sensor time series: online anomaly detection, NAB evaluation, forecasting, benchmark');

  series
    .command('detect')
    .description('score every point (NAB results CSVs with --out) and print the anomalies as JSON lines')
    .argument('<input>', 'a timestamp,value CSV file, or a folder of them (a NAB corpus: its data/ folder)')
    .option('-o, --out <dir>', 'write NAME_FILE.csv (timestamp,value,anomaly_score,label) mirroring the input layout')
    .option('--detector <name>', `detector variant: ${Object.keys(DETECTOR_VARIANTS).join(', ')}`, 'default')
    .option('--name <name>', 'detector name in the results file names', 'faultline')
    .option('--no-progress', 'no progress bars on stderr')
    .action(async (input: string, flags: DetectFlags) => {
      const settings = detectorSettings(flags.detector);
      const files = await inputFiles(input);
      const progress = new StageProgress(flags.progress && files.length > 1);
      let failed = false;
      for (const [k, [path, rel]] of files.entries()) {
        try {
          const file = await readSeriesFile(path);
          const result = detectSeries(file.series, { settings });
          if (flags.out) {
            const target = resultsPath(flags.out, rel, flags.name);
            await mkdir(dirname(target), { recursive: true });
            await writeFile(target, resultsCsv(file, result.scores));
          }
          for (const anomaly of result.anomalies) printJson({ file: path, ...anomaly });
          printJson({ file: path, summary: { ...file.series.counts, anomalies: result.anomalies.length } });
        } catch (error) {
          if (!(error instanceof SeriesInputError)) throw error;
          failed = true;
          printJson({ file: path, error: error.toJSON() });
        }
        progress.update('detect', k + 1, files.length);
      }
      progress.stop();
      if (failed) process.exitCode = 1;
    });

  series
    .command('eval')
    .description(
      "detect on a NAB corpus into a results folder and score it with NAB's scorer: the three profile scores",
    )
    .argument('<corpus>', 'NAB-layout folder with data/, labels/ and score.sh (e.g. ../shared/nab)')
    .option('--detector <name>', `detector variant: ${Object.keys(DETECTOR_VARIANTS).join(', ')}`, 'default')
    .option('-o, --out <dir>', 'results folder (a subfolder per detector)', join('bench-results', 'series'))
    .option('--no-progress', 'no progress bars on stderr')
    .action(async (corpus: string, flags: EvalFlags) => {
      const settings = detectorSettings(flags.detector);
      const files = await readNabCorpus(corpus);
      const name = `faultline-${flags.detector}`;
      const out = join(flags.out, name);
      const progress = new StageProgress(flags.progress);
      const scored: NabFile[] = [];
      const t0 = performance.now();
      let points = 0;
      for (const [k, file] of files.entries()) {
        const { scores } = detectSeries(file.series, { settings });
        points += scores.length;
        const target = resultsPath(out, file.relative, name);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, resultsCsv(file, scores));
        scored.push({
          timestamps: file.rows.map((r) => r.time),
          scores: Array.from(file.series.pointOfRow, (p) => (p < 0 ? 0 : scores[p])),
          windows: file.windows,
        });
        progress.update('detect', k + 1, files.length);
      }
      progress.stop();
      const seconds = (performance.now() - t0) / 1000;
      const sweep = Object.fromEntries(
        NAB_PROFILES.map((p) => [p.name, Math.round(nabScore(scored, p).normalised * 100) / 100]),
      );
      process.stderr.write(`scoring ${files.length} files with ${join(corpus, 'score.sh')}...\n`);
      const nab = await runNabScorer(corpus, out, name);
      printJson({
        detector: flags.detector,
        files: files.length,
        points,
        seconds: Math.round(seconds * 1000) / 1000,
        results: resolve(out),
        nab,
        nab_sweep_typescript: sweep,
      });
    });

  series
    .command('forecast')
    .description('forecast a series with 80/95 % intervals (model chosen by backtest); with --limit, when it crosses')
    .argument('<file>', 'a timestamp,value CSV file')
    .option('--horizon <h>', 'how far: 24h, 7d, 90m or a number of steps', '24h')
    .option(
      '--limit <value>',
      'a limit (e.g. a temperature alarm): when the forecast and its 95 % bound reach it',
      finiteNumber('--limit'),
    )
    .action(async (path: string, flags: ForecastFlags) => {
      const { series: clean } = await readSeriesFile(path);
      if (clean.value.length < 8)
        throw new SeriesInputError(`${path}: ${clean.value.length} usable points, a forecast needs at least 8`, {
          path,
        });
      const steps = horizonSteps(flags.horizon, nominalInterval(clean.time));
      if (!(steps >= 1 && steps <= 100_000))
        throw new InvalidOptionError(
          `--horizon must be like 24h, 7d, 90m or a number of steps (at most 100000), got "${flags.horizon}"`,
        );
      const t0 = performance.now();
      const forecast = forecastSeries(clean.value, clean.time, steps);
      const ms = performance.now() - t0;
      const crossing =
        flags.limit === undefined
          ? undefined
          : limitCrossing(forecast.points, clean.value[clean.value.length - 1], flags.limit);
      const r = (x: number) => Math.round(x * 10_000) / 10_000;
      printJson({
        file: path,
        model: forecast.model,
        params: forecast.params,
        season: forecast.season,
        interval_seconds: forecast.intervalMs / 1000,
        horizon: steps,
        backtest: forecast.backtest,
        ...(crossing ? { limit: crossing } : {}),
        forecast: forecast.points.map((p) => ({
          time: new Date(p.time).toISOString(),
          value: r(p.value),
          lower80: r(p.lower80),
          upper80: r(p.upper80),
          lower95: r(p.lower95),
          upper95: r(p.upper95),
        })),
        ms: r(ms),
      });
    });

  series
    .command('forecast-eval')
    .description(
      'rolling-origin backtest over the last 20 % of each series: MASE against seasonal naive, 80/95 % coverage',
    )
    .argument('<input>', 'a CSV file or a folder of them (a NAB corpus: its data/ folder)')
    .option('--horizon <h>', 'forecast horizon per origin: 24h, 7d or a number of steps', '24h')
    .option('--origins <n>', 'forecast origins per series', positiveInteger('--origins'), 10)
    .option('--no-progress', 'no progress bars on stderr')
    .action(async (input: string, flags: ForecastEvalFlags) => {
      const files = await inputFiles(input);
      const progress = new StageProgress(flags.progress);
      const results = [];
      for (const [k, [path, rel]] of files.entries()) {
        const { series: clean } = await readSeriesFile(path);
        if (clean.value.length < MIN_EVAL_POINTS) {
          printJson({
            file: rel,
            error: {
              code: 'DATASET_INVALID',
              message: `${clean.value.length} usable points, a backtest needs at least ${MIN_EVAL_POINTS}`,
            },
          });
          process.exitCode = 1;
          continue;
        }
        const steps = horizonSteps(flags.horizon, nominalInterval(clean.time));
        if (!(steps >= 1))
          throw new InvalidOptionError(`--horizon must be like 24h, 7d or a number of steps, got "${flags.horizon}"`);
        const t0 = performance.now();
        const evaluation = evaluateForecasts(clean.value, clean.time, steps, flags.origins);
        const line = { file: rel, ...evaluation, seconds: Math.round(performance.now() - t0) / 1000 };
        results.push(line);
        printJson(line);
        progress.update('forecast-eval', k + 1, files.length);
      }
      progress.stop();
      const mean = (xs: number[]) =>
        Math.round((xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)) * 10_000) / 10_000;
      const mases = results.map((r) => r.mase).sort((a, b) => a - b);
      printJson({
        summary: {
          series: results.length,
          mase_below_1: results.filter((r) => r.mase < 1).length,
          median_mase: mases[Math.floor(mases.length / 2)] ?? null,
          mean_coverage80: mean(results.map((r) => r.coverage80)),
          mean_coverage95: mean(results.map((r) => r.coverage95)),
        },
      });
    });

  series
    .command('bench')
    .description(
      'points per second of detection against a rolling mean/std baseline in the same run; forecast time of a week of hourly data',
    )
    .option('--corpus <dir>', 'NAB-layout corpus whose series are timed', join('..', 'shared', 'nab'))
    .option('--repeat <n>', 'passes over the corpus', positiveInteger('--repeat'), 3)
    .option('--no-progress', 'no progress bars on stderr')
    .action(async (flags: { corpus: string; repeat: number; progress: boolean }) => {
      const corpus = flags.corpus;
      const files = await readNabCorpus(corpus);
      const series = Array.from({ length: flags.repeat }, () =>
        files.map((f) => ({ time: f.series.time, values: f.series.value })),
      ).flat();
      const progress = new StageProgress(flags.progress);
      const report = benchSeries(series, {}, (done, total) => progress.update('bench', done, total));
      progress.stop();
      printJson({ corpus: relative('.', corpus) || '.', files: files.length, repeat: flags.repeat, ...report });
    });
}
