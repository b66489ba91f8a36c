/**
 * Line numbers of text offsets. Counting newlines from the start for every offset is quadratic in a
 * large file with many entries; this indexes the line starts once and binary-searches each offset.
 */

/**
 * A function from offsets in `text` to 1-based line numbers.
 *
 * @example
 * lineIndex("a\nb\nc")(2); // 2
 */
export function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return (offset) => {
    let [lo, hi] = [0, starts.length - 1];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}
