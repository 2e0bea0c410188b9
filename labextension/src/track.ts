/** Toggling the %%cmlops_track cell magic on a cell's source (pure, so it is unit tested). */

export const TRACK_MAGIC = '%%cmlops_track';

export function isTracked(source: string): boolean {
  const first = source.replace(/^\s*\n/, '').split('\n', 1)[0].trim();
  return first === TRACK_MAGIC || first.startsWith(TRACK_MAGIC + ' ');
}

/** Adds the magic as the first line, or removes it (with its arguments) if present. */
export function toggleTrack(source: string): string {
  if (isTracked(source)) {
    const lines = source.replace(/^\s*\n/, '').split('\n');
    return lines.slice(1).join('\n');
  }
  return source ? `${TRACK_MAGIC}\n${source}` : `${TRACK_MAGIC}\n`;
}
