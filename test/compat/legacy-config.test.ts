import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { legacyConfig } from '../../functions/local/legacy-config.ts';
import { loadLocalSettings } from '../../functions/local/local-settings.ts';

describe("the training backend's config.yaml and APP_ variables", () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const file = async (text: string) => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-legacy-'));
    dirs.push(dir);
    await writeFile(join(dir, 'config.yaml'), text);
    return join(dir, 'config.yaml');
  };

  it("map onto Faultline's settings, APP_ over the file, FAULTLINE_ over both; the rest is listed with why", async () => {
    const path = await file(
      'data_dir: /srv/data\nworkers: 2\nupload:\n  max_file_size_mb: 5\n  max_files: 10\ntraining:\n  epochs: 30\n  lr: 0.001\n',
    );
    const { settings, notMapped } = legacyConfig({
      FAULTLINE_LEGACY_CONFIG: path,
      APP_WORKERS: '3',
      APP_UPLOAD__MAX_FILES: '12',
      FAULTLINE_MAX_FILES: '20',
    });
    expect(settings).toEqual({
      FAULTLINE_DATA_DIR: '/srv/data',
      FAULTLINE_WORKERS: '3',
      FAULTLINE_MAX_IMAGE_BYTES: String(5 * 1024 * 1024),
    });
    expect(notMapped.map((n) => n.key).sort()).toEqual(['training__epochs', 'training__lr']);
    expect(notMapped[0]!.why).toMatch(/PatchCore/);
    // and the runtime takes them, checked as its own
    const local = loadLocalSettings({ ...settings, FAULTLINE_MAX_FILES: '20' });
    expect([local.dataDir, local.workers]).toEqual(['/srv/data', 3]);
  });

  it('refuses a file that is not a mapping, or not there, by name', async () => {
    expect(() => legacyConfig({ FAULTLINE_LEGACY_CONFIG: '/nonexistent/config.yaml' })).toThrow(
      /FAULTLINE_LEGACY_CONFIG/,
    );
    const list = await file('- a\n- b\n');
    expect(() => legacyConfig({ FAULTLINE_LEGACY_CONFIG: list })).toThrow(/not a mapping/);
    expect(legacyConfig({})).toEqual({ settings: {}, notMapped: [] });
  });
});
