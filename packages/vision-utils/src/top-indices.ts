/**
 * The indices of a row's `k` best scores, best first, in decode_predictions' order: score
 * descending, ties by the lower index, NaN last (as -Infinity, then by index). One pass that keeps
 * the k best in a small sorted list: every image's 1000 scores are ranked on the thread that
 * feeds the engine, where a full sort of each row showed in the CLI's profile and this does not.
 * For large k a sort is as cheap, and simpler: it is used there.
 */
export function topIndices(row: ArrayLike<number>, k: number, offset = 0, length = row.length - offset): number[] {
  const score = (i: number): number => {
    const v = Number(row[offset + i]);
    return Number.isNaN(v) ? -Infinity : v;
  };
  const take = Math.min(k, length);
  if (take > 32) {
    const order = Array.from({ length }, (_, i) => i);
    order.sort((a, b) => score(b) - score(a) || a - b);
    return order.slice(0, take);
  }
  const best: number[] = [];
  const bestScores: number[] = [];
  for (let i = 0; i < length; i++) {
    const s = score(i);
    // Indices arrive in increasing order, so an equal score ranks after those already kept.
    if (best.length === take && !(s > bestScores[take - 1]!)) continue;
    let at = best.length === take ? take - 1 : best.length;
    while (at > 0 && s > bestScores[at - 1]!) {
      if (at < take) {
        best[at] = best[at - 1]!;
        bestScores[at] = bestScores[at - 1]!;
      }
      at--;
    }
    best[at] = i;
    bestScores[at] = s;
  }
  return best;
}
