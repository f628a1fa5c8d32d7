/**
 * YOLO label files: one object per line, "class x_center y_center width height", all but the class normalised to
 * 0..1 by the image size; a line of more pairs is a polygon (segmentation labels), its box the polygon's bounds.
 * Blank lines are skipped. The rules are Ultralytics' own (ultralytics/data/utils.py verify_image_label).
 */
export interface LabelBox {
  /** 1-based line of the label file. */
  line: number;
  classIndex: number;
  /** Normalised width and height. */
  width: number;
  height: number;
}

export interface MalformedLine {
  line: number;
  reason: string;
}

export interface ParsedLabels {
  boxes: LabelBox[];
  malformed: MalformedLine[];
  /** Lines that repeat an earlier line of the file exactly (Ultralytics drops them with a warning). */
  duplicates: number;
}

/** Why a class index is refused when only `classCount` classes are named. */
export const classOutOfRange = (classIndex: number, classCount: number): string =>
  `class ${classIndex} is not among the ${classCount} classes named (0 to ${classCount - 1})`;

function parseLine(tokens: string[], classCount: number | undefined): Omit<LabelBox, 'line'> | string {
  const n = tokens.length;
  if (n !== 5 && (n < 7 || n % 2 === 0))
    return `expected 5 values (class x_center y_center width height) or a class and 3 or more x y pairs, got ${n}`;
  const values = tokens.map(Number);
  const bad = tokens.find((t, i) => !Number.isFinite(values[i]));
  if (bad !== undefined) return `"${bad.slice(0, 40)}" is not a number`;
  const classIndex = values[0];
  if (!Number.isInteger(classIndex) || classIndex < 0)
    return `the class must be a whole number from 0, got ${tokens[0].slice(0, 40)}`;
  if (classCount !== undefined && classIndex >= classCount) return classOutOfRange(classIndex, classCount);
  const coords = values.slice(1);
  if (coords.some((v) => v < 0 || v > 1))
    return 'coordinates must be normalised to 0..1 by the image size (pixel coordinates, or a box outside the image?)';
  if (n === 5) {
    const [, , width, height] = coords;
    if (width <= 0 || height <= 0) return 'width and height must be more than 0';
    return { classIndex, width, height };
  }
  const xs = coords.filter((_, i) => i % 2 === 0);
  const ys = coords.filter((_, i) => i % 2 === 1);
  const width = Math.max(...xs) - Math.min(...xs);
  const height = Math.max(...ys) - Math.min(...ys);
  if (width <= 0 || height <= 0) return 'the polygon encloses no area';
  return { classIndex, width, height };
}

/** Parses one label file's text; `classCount`, when the class names are known, bounds the class index. */
export function parseYoloLabels(text: string, classCount?: number): ParsedLabels {
  const boxes: LabelBox[] = [];
  const malformed: MalformedLine[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const tokens = lines[i].trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) continue;
    const canonical = tokens.join(' ');
    if (seen.has(canonical)) {
      duplicates++;
      continue;
    }
    seen.add(canonical);
    const parsed = parseLine(tokens, classCount);
    if (typeof parsed === 'string') malformed.push({ line: i + 1, reason: parsed });
    else boxes.push({ line: i + 1, ...parsed });
  }
  return { boxes, malformed, duplicates };
}
