import type { RollingWindow } from './rolling-window.ts';

/** Normal-consistent spread of a window: the interquartile range / 1.349, an O(1) read on a sorted window. */
export function robustScale(window: RollingWindow): number {
  const iqr = (window.quantile(0.75) - window.quantile(0.25)) / 1.349;
  // Quantised sensors (integers, a few repeated levels) have IQR 0 with real spread beyond it: fall back to the
  // 5-95 % range, then to a tiny share of the level so that a constant series still yields finite z-scores.
  const wide = (window.quantile(0.95) - window.quantile(0.05)) / 3.29;
  const level = Math.abs(window.quantile(0.5));
  return Math.max(iqr, wide * 0.5, 1e-9 * (level + 1));
}

/** How many robust standard deviations `value` lies from the window's median (signed). */
export function robustZ(window: RollingWindow, value: number): number {
  if (window.size === 0) return 0;
  return (value - window.quantile(0.5)) / robustScale(window);
}

/** Upper tail of the standard normal, Q(z) = P(Z > z), by the complementary error function (Numerical Recipes erfc). */
export function normalTail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  const erfc = x >= 0 ? y : 2 - y;
  return erfc / 2;
}
