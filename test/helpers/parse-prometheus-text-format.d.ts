/** The package ships no types; this is the shape its parser returns. */
declare module 'parse-prometheus-text-format' {
	export interface ParsedSample {
		readonly value?: string;
		readonly labels?: Readonly<Record<string, string>>;
		readonly buckets?: Readonly<Record<string, string>>;
		readonly count?: string;
		readonly sum?: string;
	}

	export interface ParsedMetric {
		readonly name: string;
		readonly help: string;
		/** Upper case: COUNTER, GAUGE, HISTOGRAM, SUMMARY, UNTYPED. */
		readonly type: string;
		readonly metrics: readonly ParsedSample[];
	}

	export default function parsePrometheusTextFormat(text: string): ParsedMetric[];
}
