import {z} from 'zod';

/**
 * The parts of OSV's answers updock reads (ossf/osv-schema). Everything else in a record is ignored,
 * so a record that grows new fields still parses; a record missing what is read does not.
 */

const idText = z.string().min(1).max(256);
const severityEntry = z.object({type: z.string().max(64), score: z.string().max(1024)});
const looseObject = z.record(z.string(), z.unknown());

export const osvRecordSchema = z.object({
	id: idText,
	modified: z.string().max(64),
	withdrawn: z.string().max(64).optional(),
	summary: z.string().optional(),
	details: z.string().optional(),
	severity: z.array(severityEntry).nullish(),
	affected: z.array(z.object({
		package: z.object({ecosystem: z.string(), name: z.string()}).partial().nullish(),
		severity: z.array(severityEntry).nullish(),
		ecosystem_specific: looseObject.nullish(),
		database_specific: looseObject.nullish(),
	})).nullish(),
	database_specific: looseObject.nullish(),
});

/** An OSV vulnerability record, as much of it as updock reads. */
export type OsvRecord = z.infer<typeof osvRecordSchema>;

/** One `POST /v1/querybatch` answer: per query, in order, the ids and modified times of what affects it. */
export const queryBatchSchema = z.object({
	results: z.array(z.object({
		vulns: z.array(z.object({id: idText, modified: z.string().max(64).optional()})).nullish(),
		next_page_token: z.string().max(4096).nullish(),
	})),
});
