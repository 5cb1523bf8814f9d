/**
 * The sum of every sample whose series name starts with `series` on a process's `/metrics` page (all label sets
 * together), or 0 while the page does not answer: how the start script, the benchmarks and the end-to-end tests watch
 * a service they started as a child process.
 */
export async function scrapeSum(port: number, series: string, host = '127.0.0.1'): Promise<number> {
  let text: string;
  try {
    text = await (await fetch(`http://${host}:${port}/metrics`)).text();
  } catch {
    return 0;
  }
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(series)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}
