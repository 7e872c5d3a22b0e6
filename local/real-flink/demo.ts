/** Placeholder replaced below. */
export async function runAgainstRealFlink(_o: Record<string, unknown>): Promise<boolean> {
  throw new Error('not yet');
}
