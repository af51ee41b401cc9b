/**
 * Run `worker` over `items` with at most `concurrency` running at once. Rejections are the worker's to
 * handle: a worker that throws rejects the whole run, so workers turn failures into data.
 */
export async function forEachLimit<T>(items: Iterable<T>, concurrency: number, worker: (item: T) => Promise<void>): Promise<void> {
	const iterator = items[Symbol.iterator]();
	const runners: Array<Promise<void>> = [];
	const run = async (): Promise<void> => {
		for (let next = iterator.next(); !next.done; next = iterator.next()) {
			// eslint-disable-next-line no-await-in-loop -- each runner works through the shared iterator in turn
			await worker(next.value);
		}
	};

	for (let index = 0; index < Math.max(1, concurrency); index++) {
		runners.push(run());
	}

	await Promise.all(runners);
}
