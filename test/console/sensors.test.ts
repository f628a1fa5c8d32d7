import type { Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineAnomalies, MINUTE, series } from '../helpers/sensor-series.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { type ConsoleSession, signIn, startConsoleSession } from './console-flow.ts';

/**
 * A sensors project in the console: sites, assets and metrics made through the forms (the API's refusals shown),
 * points sent over HTTP, the chart with its anomalies, zoom and forecast, acknowledging, maintenance, and anomalies
 * arriving over the WebSocket without a reload, also after the connection was lost.
 */
describe('a sensors project in the web console', () => {
  let session: ConsoleSession;
  let page: Page;
  let projectId: string;
  let metricId: string;
  const pageErrors: string[] = [];
  const end = Math.floor(Date.now() / MINUTE) * MINUTE;
  const history = series(900, end, [500, 700]);
  /** Points after the history, each batch with one spike or drop the detector reports once the batch is scored. */
  const batch = (from: number, n: number, size: number) =>
    Array.from({ length: n }, (_, i) => ({
      time: end + (from + i) * MINUTE,
      value: 20 + 3 * Math.sin((900 + from + i) / 40) + (i === 3 ? size : 0) + ((i * 37) % 7) / 20 - 0.15,
    }));
  const batches = [batch(0, 20, 30), batch(20, 20, -40), batch(40, 19, 120)];
  let sent: { time: number; value: number }[] = [];

  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${session.runtime.url}/api/v1/projects/${projectId}${path}`, {
      ...init,
      headers: { 'x-api-key': session.runtime.apiKey!, 'content-type': 'application/json' },
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  /** Sends points over HTTP and waits until the stream's consumer scored every one. */
  const sendPoints = async (points: { time: number; value: number }[]) => {
    const answer = await api(`/metrics/${metricId}/points`, {
      method: 'POST',
      body: JSON.stringify(points.map((p) => ({ timestamp: p.time, value: p.value }))),
    });
    expect(answer.status).toBe(202);
    sent = [...sent, ...points];
    await waitFor(
      'every point scored',
      async () =>
        (await session.runtime.services.series.getState(metricId))?.scored === sent.length ? true : undefined,
      30_000,
    );
  };
  const anomalies = async (): Promise<any[]> => (await api('/anomalies?limit=100')).body.items;
  /** The anomaly the last batch added (the service finds what the engine alone finds in the same points). */
  const newest = async (count: number) => {
    const items = await waitFor(
      `${count} anomalies`,
      async () => ((await anomalies()).length === count ? anomalies() : undefined),
      20_000,
    );
    return items[0];
  };

  beforeAll(async () => {
    session = await startConsoleSession();
    page = session.page;
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 60_000);
  afterAll(async () => {
    await session?.close();
  });

  it('creates a sensors project, a site, an asset and its metrics through the forms, with the API’s refusals shown', async () => {
    await signIn(page, session.runtime);
    await page.getByLabel('Name', { exact: true }).fill('Plant Hamburg');
    await page.getByLabel('Kind').selectOption('sensors');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'Sites', level: 1 }).waitFor();
    projectId = new URL(page.url()).pathname.split('/')[2]!;

    const siteForm = page.getByRole('form', { name: 'New site' });
    await siteForm.getByLabel('Site name').fill('Hamburg');
    await siteForm.getByLabel('Time zone').fill('Mars/Olympus');
    await siteForm.getByRole('button', { name: 'Create site' }).click();
    await expect(siteForm.getByRole('alert').textContent()).resolves.toContain('an IANA time zone');
    await siteForm.getByLabel('Time zone').fill('Europe/Berlin');
    await siteForm.getByLabel('Latitude').fill('53.55');
    await siteForm.getByLabel('Longitude').fill('9.99');
    await siteForm.getByRole('button', { name: 'Create site' }).click();
    const siteRow = page.getByRole('row', { name: /Hamburg/ });
    await expect(siteRow.textContent()).resolves.toContain('Europe/Berlin');

    await siteRow.getByRole('button', { name: 'Edit Hamburg' }).click();
    await page.getByRole('form', { name: 'Edit site Hamburg' }).getByLabel('Address (optional)').fill('Hafenstraße 1');
    await page.getByRole('button', { name: 'Save site' }).click();
    await page.getByRole('cell', { name: /^Hafenstraße 1 · 53\.5500, 9\.9900$/ }).waitFor();

    await page.getByRole('link', { name: 'Hamburg' }).click();
    await page.getByRole('heading', { name: 'Hamburg', level: 1 }).waitFor();
    for (const [name, kind] of [
      ['Pump 1', 'pump'],
      ['Spare', 'spare'],
    ]) {
      const assetForm = page.getByRole('form', { name: 'New asset' });
      await assetForm.getByLabel('Asset name').fill(name);
      await assetForm.getByLabel('Kind').fill(kind);
      await assetForm.getByLabel('Tags (comma-separated)').fill('hall 2, critical');
      await assetForm.getByRole('button', { name: 'Add asset' }).click();
      await page.getByRole('heading', { name, level: 3 }).waitFor();
    }
    await page.getByRole('button', { name: 'Delete Spare' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete asset' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Spare', level: 3 }).count()).toBe(0);

    await page.getByText('Add a metric to Pump 1').click();
    const metricForm = page.getByRole('form', { name: 'New metric' });
    await metricForm.getByLabel('Metric name').fill('bearing temperature');
    await metricForm.getByLabel('Unit').fill('°C');
    await metricForm.getByLabel('Lower limit').fill('70');
    await metricForm.getByLabel('Upper limit').fill('60');
    await metricForm.getByRole('button', { name: 'Add metric' }).click();
    await expect(metricForm.getByRole('alert').textContent()).resolves.toContain('lower must be below upper');
    await metricForm.getByLabel('Lower limit').fill('');
    await metricForm.getByRole('button', { name: 'Add metric' }).click();
    const metricRow = page.getByRole('row', { name: /bearing temperature/ });
    await expect(metricRow.textContent()).resolves.toContain('at most 60 °C');
    metricId = new URL(
      (await metricRow.getByRole('link', { name: 'bearing temperature' }).getAttribute('href'))!,
      session.runtime.url,
    ).pathname.split('/')[4]!;
    expect(metricId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('charts the points sent over HTTP with the anomalies marked in their severity’s colour, the limit line, zoom and a forecast', async () => {
    await sendPoints(history);
    const expected = engineAnomalies(history);
    const stored = await anomalies();
    expect(stored.map((a) => a.start).sort()).toEqual(expected.map((a) => a.start).sort());

    await page.getByRole('link', { name: 'bearing temperature' }).click();
    await page.getByRole('heading', { name: 'bearing temperature', level: 1 }).waitFor();
    const chart = page.locator('.metric-chart svg');
    await expect.poll(() => chart.locator('.anomaly-mark').count()).toBe(expected.length);
    for (const a of stored)
      expect(await chart.locator(`.anomaly-mark[data-anomaly-id="${a.id}"]`).getAttribute('class')).toContain(
        `severity-${a.severity}`,
      );
    await expect(chart.locator('.limit text').textContent()).resolves.toBe('upper limit 60 °C');
    // 900 points in the last day are more than the chart asks for: the API answers with time buckets
    await page.getByText(/^\d+ time buckets of/).waitFor();

    // drag across about two hours in the middle: read again, single points
    const box = (await chart.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.getByText(/^\d+ points\.$/).waitFor();
    const zoomed = Number((await page.getByText(/^\d+ points\.$/).textContent())!.split(' ')[0]);
    expect(zoomed).toBeGreaterThan(30);
    expect(zoomed).toBeLessThan(200);
    await page.getByRole('button', { name: 'Back' }).click();
    await page.getByText(/^\d+ time buckets of/).waitFor();

    await page.getByRole('combobox', { name: /^Forecast/ }).selectOption('6h');
    await chart.locator('.forecast .band-95').waitFor();
    await chart.locator('.forecast .band-80').waitFor();
    await page.getByText(/Upper limit 60 °C: (not expected to be crossed|expected to be crossed)/).waitFor();
  });

  it('acknowledges an anomaly from the chart’s list', async () => {
    const first = (await anomalies())[0];
    const row = page.locator(`tr[data-anomaly-id="${first.id}"]`);
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await row.getByText(/^Acknowledged by /).waitFor();
    expect((await api(`/anomalies?status=acknowledged`)).body.items.map((a: any) => a.id)).toEqual([first.id]);
    await expect
      .poll(() => page.locator(`.anomaly-mark[data-anomaly-id="${first.id}"]`).getAttribute('class'))
      .toContain('acknowledged');
  });

  it('extends the chart with live points and marks the anomaly they show, without reloading', async () => {
    await page.getByRole('combobox', { name: /^Forecast/ }).selectOption('');
    await page.getByRole('button', { name: 'Last hour' }).click();
    await page.getByText(/^\d+ points\.$/).waitFor();
    const marks = await page.locator('.anomaly-mark').count();
    await page.evaluate(() => ((globalThis as any).sameDocument = true));
    await page.getByText('Live', { exact: true }).waitFor();
    await sendPoints(batches[0]);
    // the window follows the newest point: the last hour up to it
    const last = batches[0][batches[0].length - 1].time;
    const shown = sent.filter((p) => p.time >= last - 60 * MINUTE && p.time <= last).length;
    await page.getByText(`${shown} points.`, { exact: true }).waitFor({ timeout: 15_000 });
    const anomaly = await newest(engineAnomalies(sent).length);
    await page.locator(`.anomaly-mark[data-anomaly-id="${anomaly.id}"]`).waitFor();
    expect(await page.locator('.anomaly-mark').count()).toBe(marks + 1);
    expect(await page.evaluate(() => (globalThis as any).sameDocument)).toBe(true);
  });

  it('lists the anomalies with filters, and a new one arrives over the WebSocket', async () => {
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Anomalies' }).click();
    await page.getByRole('heading', { name: 'Anomalies', level: 1 }).waitFor();
    const rows = page.locator('tbody tr[data-anomaly-id]');
    const all = await anomalies();
    await expect.poll(() => rows.count()).toBe(all.length);
    await page.getByRole('combobox', { name: /^Status/ }).selectOption('acknowledged');
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByRole('combobox', { name: /^Status/ }).selectOption('open');
    await expect.poll(() => rows.count()).toBe(all.length - 1);
    const severity = all[0].severity as string;
    await page.getByRole('checkbox', { name: severity, exact: true }).check();
    await expect
      .poll(() => rows.count())
      .toBe(all.filter((a) => a.severity === severity && a.status === 'open').length);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => rows.count()).toBe(all.length);
    await page.getByText('Live', { exact: true }).waitFor();

    await page.evaluate(() => ((globalThis as any).sameDocument = true));
    await sendPoints(batches[1]);
    const anomaly = await newest(engineAnomalies(sent).length);
    const row = page.locator(`tr[data-anomaly-id="${anomaly.id}"]`);
    await row.getByText('New', { exact: true }).waitFor({ timeout: 15_000 });
    expect(await rows.count()).toBe(all.length + 1);
    expect(await page.evaluate(() => (globalThis as any).sameDocument)).toBe(true);
  });

  it('after losing the connection, reconnects and asks for what it missed since the last message', async () => {
    const fromPage: string[] = [];
    const fromServer: string[] = [];
    let down = false;
    let open: WebSocketRoute | undefined;
    await page.routeWebSocket(
      (url) => url.pathname === '/ws',
      (ws) => {
        if (down) return ws.close({ code: 1011, reason: 'test: the feed is down' });
        const server = ws.connectToServer();
        ws.onMessage((m) => {
          fromPage.push(String(m));
          server.send(m);
        });
        server.onMessage((m) => {
          fromServer.push(String(m));
          ws.send(m);
        });
        open = ws;
      },
    );
    const reloadedAt = Date.now();
    await page.reload();
    await page.getByText('Live', { exact: true }).waitFor();
    const rows = page.locator('tbody tr[data-anomaly-id]');
    const count = await rows.count();

    down = true;
    await open!.close({ code: 4000, reason: 'test: connection lost' });
    await page.getByText('Live updates lost: reconnecting…').waitFor();
    await sendPoints(batches[2]);
    const anomaly = await newest(engineAnomalies(sent).length);
    const subscribesBefore = fromPage.filter((m) => JSON.parse(m).type === 'subscribe').length;
    down = false;
    await page.getByText('Live', { exact: true }).waitFor({ timeout: 30_000 });
    await page.locator(`tr[data-anomaly-id="${anomaly.id}"]`).waitFor({ timeout: 15_000 });
    expect(await rows.count()).toBe(count + 1);
    const again = fromPage.map((m) => JSON.parse(m)).filter((m) => m.type === 'subscribe')[subscribesBefore];
    expect(again).toMatchObject({ type: 'subscribe', projectId });
    // since: the newest time it had seen less a margin, early enough for what was found while it was away
    expect(again.since).toBeGreaterThanOrEqual(reloadedAt - 15 * MINUTE);
    expect(again.since).toBeLessThanOrEqual(Date.parse(anomaly.start));
    const replays = fromServer.map((m) => JSON.parse(m)).filter((m) => m.type === 'replay');
    expect(replays.at(-1).anomalies.map((a: any) => a.id)).toContain(anomaly.id);
    await page.unrouteAll();
  });

  it('shows per asset which metric is expected to cross its limit, when and how sure', async () => {
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Maintenance' }).click();
    await page.getByRole('combobox', { name: /^Asset/ }).selectOption({ label: 'Pump 1' });
    await page.getByRole('heading', { name: 'Pump 1', level: 2 }).waitFor();
    // a week of one-minute steps is more than a forecast makes: the API's reason is shown for the metric
    await page.getByRole('combobox', { name: /^Horizon/ }).selectOption('7d');
    await page.getByText(/bearing temperature: horizon "7d" is 10080 steps of this metric; at most 2000/).waitFor();
    await page.getByRole('combobox', { name: /^Horizon/ }).selectOption('24h');
    const row = page.getByRole('row', { name: /bearing temperature/ });
    await expect(row.textContent()).resolves.toContain('upper 60 °C');
    await expect(row.textContent()).resolves.toMatch(/\d+%(low|medium|high)$/);
    expect(pageErrors).toEqual([]);
  });
});
