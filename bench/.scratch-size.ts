import {JsonStore} from '../source/store/store.ts';
const store = new JsonStore('/tmp/updock-mem/db-2000.json', {defaultHost: 'a'});
await store.load();
const gc = (globalThis as unknown as {gc: () => void}).gc;
gc(); const before = process.memoryUsage().heapUsed;
const keep = [];
for (let i = 0; i < 5; i++) keep.push(await store.load());
gc(); const after = process.memoryUsage().heapUsed;
console.log('live MB per parsed db', ((after - before) / 5 / 1e6).toFixed(2), keep.length);
